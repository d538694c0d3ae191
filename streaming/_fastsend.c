/* streaming._fastsend: the copies of one packet to many viewers in one sendmmsg(2) call.
 *
 * sendmmsg(fd, datagrams, status=None) -> int
 *     datagrams: a list of (buffer, sockaddr) pairs, sockaddr packed once per viewer by
 *     pack_address(). Sends as many as the kernel takes; a datagram the kernel refuses with an
 *     error (EINVAL, EMSGSIZE, ENETUNREACH...) is skipped and the rest go on; when the socket's
 *     buffer is full (EAGAIN) the rest are tried once more, then left. Never blocks (the
 *     caller's socket is non-blocking; MSG_DONTWAIT too). Returns how many were sent; when
 *     ``status`` (a writable buffer of len(datagrams) octets) is given, octet i says what
 *     became of datagram i: 0 sent, 1 not sent (the socket was full), 2 refused (an error).
 *     At most UIO_MAXIOV (1024) datagrams a call.
 *
 * pack_address(host, port, family) -> bytes: a struct sockaddr_in / sockaddr_in6.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define MAX_BATCH 1024 /* UIO_MAXIOV: the kernel's limit on vlen */
#define SENT 0
#define BLOCKED 1
#define REFUSED 2

/* the GIL is let go around the system call for batches at least this long, so worker threads
 * (HLS, recording) run during a long call. Measured on loopback (3 Dec 2026): letting it go
 * costs nothing visible (batches of 1, 4, 16, 200: within 0.1 µs a datagram of never letting
 * it go, run-to-run noise); a short call keeps it, as there is nothing to gain. */
#define RELEASE_GIL_FROM 16

static int
fill(PyObject *seq, Py_ssize_t n, struct mmsghdr *msgs, struct iovec *iov, Py_buffer *views)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "each datagram must be a (buffer, sockaddr) tuple");
            return (int)i;
        }
        PyObject *addr = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_Check(addr) || PyBytes_GET_SIZE(addr) < (Py_ssize_t)sizeof(sa_family_t)
            || PyBytes_GET_SIZE(addr) > (Py_ssize_t)sizeof(struct sockaddr_storage)) {
            PyErr_SetString(PyExc_TypeError, "a sockaddr must be bytes from pack_address()");
            return (int)i;
        }
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(item, 0), &views[i], PyBUF_SIMPLE) < 0)
            return (int)i;
        iov[i].iov_base = views[i].buf;
        iov[i].iov_len = (size_t)views[i].len;
        memset(&msgs[i], 0, sizeof(msgs[i]));
        msgs[i].msg_hdr.msg_name = PyBytes_AS_STRING(addr);
        msgs[i].msg_hdr.msg_namelen = (socklen_t)PyBytes_GET_SIZE(addr);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    return (int)n;
}

static int
send_from(int fd, struct mmsghdr *msgs, int n, int *err)
{
    int sent;
    if (n >= RELEASE_GIL_FROM) {
        Py_BEGIN_ALLOW_THREADS
        sent = sendmmsg(fd, msgs, (unsigned int)n, MSG_DONTWAIT);
        Py_END_ALLOW_THREADS
    } else {
        sent = sendmmsg(fd, msgs, (unsigned int)n, MSG_DONTWAIT);
    }
    *err = sent < 0 ? errno : 0;
    return sent;
}

/* Send msgs[0..n); returns the number sent, or -1 with errno in *fatal for a bad fd. */
static int
send_all(int fd, struct mmsghdr *msgs, int n, unsigned char *status, int *fatal)
{
    int done = 0, sent_total = 0, retried = 0, err = 0;
    *fatal = 0;
    while (done < n) {
        int sent = send_from(fd, msgs + done, n - done, &err);
        if (sent > 0) {
            if (status)
                memset(status + done, SENT, (size_t)sent);
            done += sent;
            sent_total += sent;
            continue;
        }
        if (err == EINTR)
            continue;
        if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
            if (!retried) {
                retried = 1;
                continue;
            }
            if (status)
                memset(status + done, BLOCKED, (size_t)(n - done));
            break;
        }
        if (err == EBADF || err == ENOTSOCK || err == EFAULT || err == ENOSYS) {
            *fatal = err;
            return -1;
        }
        if (status) /* this datagram only: the others still go */
            status[done] = REFUSED;
        done += 1;
    }
    return sent_total;
}

static PyObject *
fastsend_sendmmsg(PyObject *self, PyObject *args)
{
    int fd;
    PyObject *datagrams, *status_obj = Py_None;
    if (!PyArg_ParseTuple(args, "iO|O:sendmmsg", &fd, &datagrams, &status_obj))
        return NULL;
    PyObject *seq = PySequence_Fast(datagrams, "datagrams must be a list of (buffer, sockaddr)");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_BATCH) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "at most %d datagrams a call", MAX_BATCH);
    }
    Py_buffer status = {0};
    int have_status = status_obj != Py_None;
    if (have_status) {
        if (PyObject_GetBuffer(status_obj, &status, PyBUF_WRITABLE) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
        if (status.len < n) {
            PyBuffer_Release(&status);
            Py_DECREF(seq);
            return PyErr_Format(PyExc_ValueError, "status must have room for %zd octets", n);
        }
    }
    /* one block for the headers (about 160 octets a datagram; too much for a thread's stack) */
    size_t each = sizeof(struct mmsghdr) + sizeof(struct iovec) + sizeof(Py_buffer);
    char *block = PyMem_Malloc(each * (size_t)(n > 0 ? n : 1));
    if (block == NULL) {
        if (have_status)
            PyBuffer_Release(&status);
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    struct mmsghdr *msgs = (struct mmsghdr *)block;
    struct iovec *iov = (struct iovec *)(msgs + n);
    Py_buffer *views = (Py_buffer *)(iov + n);
    int filled = fill(seq, n, msgs, iov, views);
    int sent = -1, fatal = 0;
    if (filled == n && n > 0)
        sent = send_all(fd, msgs, (int)n, have_status ? (unsigned char *)status.buf : NULL,
                        &fatal);
    else if (filled == n)
        sent = 0;
    for (int i = 0; i < filled; i++)
        PyBuffer_Release(&views[i]);
    PyMem_Free(block);
    if (have_status)
        PyBuffer_Release(&status);
    Py_DECREF(seq);
    if (filled != n)
        return NULL;
    if (sent < 0) {
        errno = fatal;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromLong(sent);
}

static PyObject *
fastsend_pack_address(PyObject *self, PyObject *args)
{
    const char *host;
    int port, family;
    if (!PyArg_ParseTuple(args, "sii:pack_address", &host, &port, &family))
        return NULL;
    if (port < 0 || port > 65535)
        return PyErr_Format(PyExc_ValueError, "port %d is out of range", port);
    if (family == AF_INET) {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
            return PyErr_Format(PyExc_ValueError, "not an IPv4 address: %s", host);
        return PyBytes_FromStringAndSize((const char *)&sin, sizeof(sin));
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1)
            return PyErr_Format(PyExc_ValueError, "not an IPv6 address: %s", host);
        return PyBytes_FromStringAndSize((const char *)&sin6, sizeof(sin6));
    }
    return PyErr_Format(PyExc_ValueError, "address family %d is not IPv4 or IPv6", family);
}

static PyMethodDef methods[] = {
    {"sendmmsg", fastsend_sendmmsg, METH_VARARGS,
     "sendmmsg(fd, datagrams, status=None) -> int: send (buffer, sockaddr) pairs in one call"},
    {"pack_address", fastsend_pack_address, METH_VARARGS,
     "pack_address(host, port, family) -> bytes: a sockaddr for sendmmsg"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streaming._fastsend",
    "Batched UDP send (sendmmsg) for the media plane's fan-out.", -1, methods,
};

PyMODINIT_FUNC
PyInit__fastsend(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "MAX_BATCH", MAX_BATCH) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
