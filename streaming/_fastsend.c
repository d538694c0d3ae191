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
 *
 * Port and fanout(): the per-viewer loop of one packet's fan-out in C (issue 19 §4); see the
 * comment above fastsend_fanout.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <stddef.h>
#include <stdint.h>
#include "structmember.h"

#define MAX_BATCH 1024 /* UIO_MAXIOV: the kernel's limit on vlen */
#define SENT 0
#define BLOCKED 1
#define REFUSED 2

/* the GIL is let go around the system call for batches at least this long, so worker threads
 * (HLS, recording) run during a long call. Measured on loopback (3 Dec 2026): letting it go
 * costs nothing visible (batches of 1, 4, 16, 200: within 0.1 µs a datagram of never letting
 * it go, run-to-run noise); a short call keeps it, as there is nothing to gain. */
#ifndef RELEASE_GIL_FROM
#define RELEASE_GIL_FROM 16
#endif

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

/* ---- the per-viewer loop in C (issue 19 §4) ------------------------------------------------
 *
 * Port: what one viewer connection (streaming/egress.py's Egress) needs to send a copy without
 * Python: its outbound libsrtp session (an srtp_t address) and libsrtp's srtp_protect (its
 * address in pylibsrtp's module, so no second libsrtp is linked), its own working buffer, the
 * socket descriptor, the socket's identity (duplicates of one socket share it: they batch
 * together) and the viewer's packed address. ``ready`` is kept by the Egress: False while it
 * has a backlog, is closed or has no address, so those copies take the Python path in order.
 *
 * fanout(subs, templates, make_template, seq, ts, size) -> (slow, failed, blocked, calls, n)
 *     For each Subscription of ``subs`` (streaming/subscription.py) that does not wait for a
 *     keyframe and whose Egress's Port is ready: the template for its ``template_key`` (from
 *     ``templates``, else ``make_template(sub)``, stored there), its sequence number and
 *     timestamp from its Forwarder's offsets (recorded as last sent, as Forwarder.map does), the
 *     copy written into the Port's buffer with the viewer's seq/ts/SSRC, protected in place
 *     (SRTP, RFC 3711), and queued; its counters moved on. All queued copies then leave in one
 *     sendmmsg per socket. Returns three lists or None: ``slow``, the Subscriptions left to the
 *     Python loop (waiting for a keyframe, no ready Port); ``failed``, those libsrtp refused;
 *     ``blocked``, (Subscription, bytes) pairs the kernel had no room for (the caller queues
 *     them as Egress.unsent does). Copies the kernel refused count as errors on their Port.
 *     ``calls`` and ``n``: the sendmmsg calls made and the copies they carried (a socket with
 *     one copy sends it with sendto, unbatched, as before).
 *
 * The Python classes stay what they are (the pure-Python loop in streaming/source.py keeps the
 * same contract): their attributes are read and written through their own __slots__
 * descriptors (Attr below), about a dozen per viewer, far less than the bytecode they replace.
 */

typedef int (*protect_fn)(void *ctx, void *rtp, int *len);

#define PORT_BUFFER (1500 + 16 + 148) /* MTU + SRTP trailer + slack, as Egress's SRTP_BUFFER */
#define MAX_TEMPLATE (PORT_BUFFER - 148) /* room for libsrtp's trailer (at most 16 + MKI) */
#define MAX_GROUPS 8 /* sockets batched in one fan-out; copies for more go at once (sendto) */

typedef struct {
    PyObject_HEAD
    protect_fn protect;
    void *ctx;
    int fd;
    long long key;
    struct sockaddr_storage dest;
    socklen_t destlen;
    char ready;
    unsigned long long call; /* the fan-out whose copy the buffer holds */
    unsigned long long sent_packets, sent_bytes, errors;
    unsigned char buf[PORT_BUFFER];
} PortObject;

static int
port_init(PortObject *self, PyObject *args, PyObject *kwds)
{
    unsigned long long ctx, protect;
    static char *kwlist[] = {"ctx", "protect", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "KK:Port", kwlist, &ctx, &protect))
        return -1;
    if (ctx == 0 || protect == 0) {
        PyErr_SetString(PyExc_ValueError, "a Port needs an SRTP session and srtp_protect");
        return -1;
    }
    self->ctx = (void *)(uintptr_t)ctx;
    self->protect = (protect_fn)(uintptr_t)protect;
    self->fd = -1;
    self->ready = 0;
    return 0;
}

static PyObject *
port_target(PortObject *self, PyObject *args)
{
    int fd;
    long long key;
    const char *addr;
    Py_ssize_t addrlen;
    if (!PyArg_ParseTuple(args, "iLy#:target", &fd, &key, &addr, &addrlen))
        return NULL;
    if (addrlen < (Py_ssize_t)sizeof(sa_family_t)
        || addrlen > (Py_ssize_t)sizeof(struct sockaddr_storage))
        return PyErr_Format(PyExc_ValueError, "a sockaddr must come from pack_address()");
    self->fd = fd;
    self->key = key;
    memset(&self->dest, 0, sizeof(self->dest));
    memcpy(&self->dest, addr, (size_t)addrlen);
    self->destlen = (socklen_t)addrlen;
    Py_RETURN_NONE;
}

static PyMemberDef port_members[] = {
    {"ready", T_BOOL, offsetof(PortObject, ready), 0,
     "copies may go through fanout() (no backlog, open, addressed)"},
    {"sent_packets", T_ULONGLONG, offsetof(PortObject, sent_packets), 0, "copies sent"},
    {"sent_bytes", T_ULONGLONG, offsetof(PortObject, sent_bytes), 0, "protected octets sent"},
    {"errors", T_ULONGLONG, offsetof(PortObject, errors), 0, "copies refused (SRTP, kernel)"},
    {"fd", T_INT, offsetof(PortObject, fd), READONLY, "the socket descriptor sent on"},
    {NULL},
};

static PyMethodDef port_methods[] = {
    {"target", (PyCFunction)port_target, METH_VARARGS,
     "target(fd, key, sockaddr): send on fd (key: the socket's identity) to sockaddr"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PortType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "streaming._fastsend.Port",
    .tp_basicsize = sizeof(PortObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Port(ctx, protect): one viewer connection's send state for fanout()",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)port_init,
    .tp_members = port_members,
    .tp_methods = port_methods,
};

/* Numbers and Counts: the C bases of streaming.forwarder.Forwarder and
 * streaming.subscription.Subscription. The loop reads and writes a viewer's sequence and
 * timestamp offsets, last numbers sent, SSRC, counters and keyframe wait in place, in one
 * object each, instead of a dozen Python ints scattered over the heap: with a few hundred
 * viewers those objects fall out of the cache between two packets, and reaching them was most
 * of the loop's own time (perf, 3 Dec 2026: the stall on the int's reference count). Python
 * sees plain int and bool attributes (PyMemberDef); without this module both classes take a
 * Python base with the same names (the fallback, streaming/forwarder.py). */
typedef struct {
    PyObject_HEAD
    unsigned long long seq_offset, ts_offset, last_seq, last_ts;
} NumbersObject;

static PyMemberDef numbers_members[] = {
    {"seq_offset", T_ULONGLONG, offsetof(NumbersObject, seq_offset), 0,
     "added to the publisher's sequence number (mod 2**16)"},
    {"ts_offset", T_ULONGLONG, offsetof(NumbersObject, ts_offset), 0,
     "added to the publisher's timestamp (mod 2**32)"},
    {"last_seq", T_ULONGLONG, offsetof(NumbersObject, last_seq), 0,
     "the last sequence number sent to the viewer"},
    {"last_ts", T_ULONGLONG, offsetof(NumbersObject, last_ts), 0,
     "the last timestamp sent to the viewer"},
    {NULL},
};

static PyTypeObject NumbersType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "streaming._fastsend.Numbers",
    .tp_basicsize = sizeof(NumbersObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A Forwarder's numbers, kept in C for fanout()",
    .tp_new = PyType_GenericNew,
    .tp_members = numbers_members,
};

typedef struct {
    PyObject_HEAD
    unsigned long long packets, octets, ssrc;
    char waiting_keyframe;
} CountsObject;

static PyMemberDef counts_members[] = {
    {"packets", T_ULONGLONG, offsetof(CountsObject, packets), 0, "RTP packets sent"},
    {"octets", T_ULONGLONG, offsetof(CountsObject, octets), 0, "payload octets sent"},
    {"ssrc", T_ULONGLONG, offsetof(CountsObject, ssrc), 0, "the viewer's SSRC of the track"},
    {"waiting_keyframe", T_BOOL, offsetof(CountsObject, waiting_keyframe), 0,
     "video skipped until the next keyframe"},
    {NULL},
};

static PyTypeObject CountsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "streaming._fastsend.Counts",
    .tp_basicsize = sizeof(CountsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A Subscription's counters, SSRC and keyframe wait, kept in C for fanout()",
    .tp_new = PyType_GenericNew,
    .tp_members = counts_members,
};

/* A Python attribute the loop reads or writes. Subscription, Forwarder and Egress keep theirs
 * in __slots__: the slot's offset is learnt once per type (its member descriptor, the very one
 * PyObject_GetAttr would use) and read straight from the object; any other attribute goes by
 * name. The learnt type is held, so its address cannot be reused by another type. */
typedef struct {
    const char *text;
    PyObject *name;
    PyTypeObject *type;
    Py_ssize_t offset; /* 0: not a plain object slot of ``type`` */
} Attr;

static Attr a_waiting = {"waiting_keyframe"}, a_egress = {"egress"}, a_port = {"port"},
            a_template_key = {"template_key"}, a_forwarder = {"forwarder"},
            a_seq_offset = {"seq_offset"}, a_ts_offset = {"ts_offset"},
            a_last_seq = {"last_seq"}, a_last_ts = {"last_ts"}, a_ssrc = {"ssrc"},
            a_packets = {"packets"}, a_octets = {"octets"};
static Attr *attrs[] = {&a_waiting, &a_egress, &a_port, &a_template_key, &a_forwarder,
                        &a_seq_offset, &a_ts_offset, &a_last_seq, &a_last_ts, &a_ssrc,
                        &a_packets, &a_octets};
static unsigned long long fanout_calls;

static void
learn(Attr *attr, PyTypeObject *type)
{
    PyObject *descr = _PyType_Lookup(type, attr->name); /* borrowed */
    Py_XSETREF(attr->type, (PyTypeObject *)Py_NewRef((PyObject *)type));
    attr->offset = 0;
    if (descr != NULL && Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX && !(member->flags & READONLY))
            attr->offset = member->offset;
    }
}

static PyObject **
slot_of(PyObject *obj, Attr *attr)
{
    PyTypeObject *type = Py_TYPE(obj);
    if (attr->type != type)
        learn(attr, type);
    return attr->offset ? (PyObject **)((char *)obj + attr->offset) : NULL;
}

/* obj.<attr>, a new reference (NULL with an exception, as PyObject_GetAttr) */
static PyObject *
attr_get(PyObject *obj, Attr *attr)
{
    PyObject **slot = slot_of(obj, attr);
    if (slot != NULL && *slot != NULL)
        return Py_NewRef(*slot);
    return PyObject_GetAttr(obj, attr->name); /* not a slot, or unset: its own error */
}

/* obj.<attr> = value, stealing ``value`` */
static int
attr_set(PyObject *obj, Attr *attr, PyObject *value)
{
    if (value == NULL)
        return -1;
    PyObject **slot = slot_of(obj, attr);
    if (slot != NULL) {
        Py_XSETREF(*slot, value);
        return 0;
    }
    int r = PyObject_SetAttr(obj, attr->name, value);
    Py_DECREF(value);
    return r;
}

typedef struct {
    PortObject *port; /* owned */
    PyObject *sub;    /* owned */
    int len;
    int group;
} Copy;

typedef struct {
    Copy *copies;
    Py_ssize_t n;
    long long keys[MAX_GROUPS];
    int fds[MAX_GROUPS];
    int counts[MAX_GROUPS];
    int groups;
    PyObject *slow, *failed, *blocked;
    long calls, datagrams; /* sendmmsg calls made, copies they carried */
} Fanout;

static int
append_to(PyObject **list, PyObject *item)
{
    if (*list == NULL && (*list = PyList_New(0)) == NULL)
        return -1;
    return PyList_Append(*list, item);
}

/* an int attribute of obj as an unsigned 64-bit value (masked by the caller) */
static int
get_ulong(PyObject *obj, Attr *name, unsigned long long *out)
{
    PyObject *v = attr_get(obj, name);
    if (v == NULL)
        return -1;
    *out = PyLong_AsUnsignedLongLongMask(v);
    Py_DECREF(v);
    return (*out == (unsigned long long)-1 && PyErr_Occurred()) ? -1 : 0;
}

static int
set_ulong(PyObject *obj, Attr *name, unsigned long long value)
{
    return attr_set(obj, name, PyLong_FromUnsignedLongLong(value));
}

static int
add_to(PyObject *obj, Attr *name, long long amount)
{
    PyObject *v = attr_get(obj, name);
    if (v == NULL)
        return -1;
    long long now = PyLong_AsLongLong(v);
    Py_DECREF(v);
    if (now == -1 && PyErr_Occurred())
        return -1;
    return attr_set(obj, name, PyLong_FromLongLong(now + amount));
}

/* the sub's Port when it may take the C path now (a new reference), else NULL (no error) */
static PortObject *
ready_port(PyObject *sub, unsigned long long call)
{
    if (PyObject_TypeCheck(sub, &CountsType)) {
        if (((CountsObject *)sub)->waiting_keyframe)
            return NULL;
    } else {
        PyObject *waiting = attr_get(sub, &a_waiting);
        if (waiting == NULL)
            return NULL;
        int wait = PyObject_IsTrue(waiting);
        Py_DECREF(waiting);
        if (wait != 0)
            return NULL;
    }
    PyObject *egress = attr_get(sub, &a_egress);
    if (egress == NULL)
        return NULL;
    PyObject *port = attr_get(egress, &a_port);
    Py_DECREF(egress);
    if (port == NULL) { /* an egress of another kind (a test's, a recorder's): Python's */
        if (PyErr_ExceptionMatches(PyExc_AttributeError))
            PyErr_Clear();
        return NULL;
    }
    if (!PyObject_TypeCheck(port, &PortType) || !((PortObject *)port)->ready
        || ((PortObject *)port)->call == call) {
        Py_DECREF(port);
        return NULL;
    }
    return (PortObject *)port;
}

/* the sub's template (borrowed from templates), made by make(sub) on first use */
static PyObject *
template_for(PyObject *sub, PyObject *templates, PyObject *make)
{
    PyObject *key = attr_get(sub, &a_template_key);
    if (key == NULL)
        return NULL;
    PyObject *template = PyDict_GetItemWithError(templates, key);
    if (template == NULL && !PyErr_Occurred()) {
        PyObject *made = PyObject_CallOneArg(make, sub);
        if (made != NULL) {
            if (PyDict_SetItem(templates, key, made) == 0)
                template = made; /* the dict keeps it alive */
            Py_DECREF(made);
        }
    }
    Py_DECREF(key);
    if (template != NULL && !PyBytes_Check(template) && !PyByteArray_Check(template)) {
        PyErr_SetString(PyExc_TypeError, "a template must be bytes or bytearray");
        return NULL;
    }
    return template;
}

static void
put_be(unsigned char *p, unsigned long long v, int octets)
{
    for (int i = octets - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xFF);
        v >>= 8;
    }
}

/* the viewer's seq/ts (RFC 3550 §5.1 rewritten per viewer), recorded on its Forwarder */
static int
map_numbers(PyObject *sub, unsigned long seq, unsigned long ts, unsigned long long *out_seq,
            unsigned long long *out_ts, unsigned long long *ssrc)
{
    unsigned long long seq_offset, ts_offset;
    PyObject *fwd = attr_get(sub, &a_forwarder);
    if (fwd == NULL)
        return -1;
    if (PyObject_TypeCheck(fwd, &NumbersType) && PyObject_TypeCheck(sub, &CountsType)) {
        NumbersObject *numbers = (NumbersObject *)fwd;
        *out_seq = numbers->last_seq = (seq + numbers->seq_offset) & 0xFFFF;
        *out_ts = numbers->last_ts = (ts + numbers->ts_offset) & 0xFFFFFFFFULL;
        *ssrc = ((CountsObject *)sub)->ssrc;
        Py_DECREF(fwd);
        return 0;
    }
    int r = -1;
    if (get_ulong(fwd, &a_seq_offset, &seq_offset) == 0
        && get_ulong(fwd, &a_ts_offset, &ts_offset) == 0) {
        *out_seq = (seq + seq_offset) & 0xFFFF;
        *out_ts = (ts + ts_offset) & 0xFFFFFFFFULL;
        if (set_ulong(fwd, &a_last_seq, *out_seq) == 0 && set_ulong(fwd, &a_last_ts, *out_ts) == 0)
            r = get_ulong(sub, &a_ssrc, ssrc);
    }
    Py_DECREF(fwd);
    return r;
}

static void
refuse(Copy *copy)
{
    copy->port->errors += 1;
    copy->port->sent_packets -= 1;
    copy->port->sent_bytes -= (unsigned long long)copy->len;
}

/* one copy by sendto: SENT, BLOCKED (no room) or REFUSED (an error for it alone) */
static unsigned char
send_one(Copy *copy)
{
    PortObject *port = copy->port;
    ssize_t r;
    do {
        r = sendto(port->fd, port->buf, (size_t)copy->len, MSG_DONTWAIT,
                   (struct sockaddr *)&port->dest, port->destlen);
    } while (r < 0 && errno == EINTR);
    if (r >= 0)
        return SENT;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) ? BLOCKED : REFUSED;
}

static int settle(Fanout *f, Copy *copy, unsigned char code);

static int
group_of(Fanout *f, PortObject *port)
{
    for (int g = 0; g < f->groups; g++)
        if (f->keys[g] == port->key)
            return g;
    if (f->groups == MAX_GROUPS)
        return -1;
    f->keys[f->groups] = port->key;
    f->fds[f->groups] = port->fd;
    f->counts[f->groups] = 0;
    return f->groups++;
}

/* one viewer's copy: 0 done (queued, slow or failed), -1 a Python error */
static int
one_copy(Fanout *f, PyObject *sub, PyObject *templates, PyObject *make, unsigned long seq,
         unsigned long ts, long long size, unsigned long long call)
{
    PortObject *port = ready_port(sub, call);
    if (port == NULL)
        return PyErr_Occurred() ? -1 : append_to(&f->slow, sub);
    PyObject *template = template_for(sub, templates, make);
    unsigned long long out_seq, out_ts, ssrc;
    if (template == NULL || map_numbers(sub, seq, ts, &out_seq, &out_ts, &ssrc) < 0) {
        Py_DECREF(port);
        return -1;
    }
    const char *src = PyBytes_Check(template) ? PyBytes_AS_STRING(template)
                                              : PyByteArray_AS_STRING(template);
    Py_ssize_t n = PyBytes_Check(template) ? PyBytes_GET_SIZE(template)
                                           : PyByteArray_GET_SIZE(template);
    if (n < 12 || n > MAX_TEMPLATE) { /* not RTP, or past the buffer: the Python path says */
        Py_DECREF(port);
        return append_to(&f->slow, sub);
    }
    int len = (int)n;
    memcpy(port->buf, src, (size_t)n);
    put_be(port->buf + 2, out_seq, 2);
    put_be(port->buf + 4, out_ts, 4);
    put_be(port->buf + 8, ssrc, 4);
    if (port->protect(port->ctx, port->buf, &len) != 0) {
        port->errors += 1;
        Py_DECREF(port);
        return append_to(&f->failed, sub);
    }
    port->call = call;
    port->sent_packets += 1;
    port->sent_bytes += (unsigned long long)len;
    if (PyObject_TypeCheck(sub, &CountsType)) {
        ((CountsObject *)sub)->packets += 1;
        ((CountsObject *)sub)->octets += (unsigned long long)size;
    } else if (add_to(sub, &a_packets, 1) < 0 || add_to(sub, &a_octets, size) < 0) {
        Py_DECREF(port);
        return -1;
    }
    Copy *copy = &f->copies[f->n++];
    copy->port = port;
    copy->sub = Py_NewRef(sub);
    copy->len = len;
    copy->group = group_of(f, port);
    if (copy->group < 0) /* more sockets than groups: this copy leaves at once */
        return settle(f, copy, send_one(copy));
    f->counts[copy->group] += 1;
    return 0;
}

/* what became of a copy: blocked ones go back to Python, refused ones count as errors */
static int
settle(Fanout *f, Copy *copy, unsigned char code)
{
    if (code == SENT)
        return 0;
    if (code == BLOCKED) {
        PyObject *pair = Py_BuildValue("(Oy#)", copy->sub, copy->port->buf,
                                       (Py_ssize_t)copy->len);
        int failed = pair == NULL || append_to(&f->blocked, pair) < 0;
        Py_XDECREF(pair);
        return failed ? -1 : 0;
    }
    refuse(copy);
    return 0;
}

/* every queued copy, one sendmmsg per socket (counting sort by group) */
static int
flush(Fanout *f)
{
    Py_ssize_t batched = 0;
    for (int g = 0; g < f->groups; g++)
        batched += f->counts[g];
    if (batched == 0)
        return 0;
    size_t each = sizeof(struct mmsghdr) + sizeof(struct iovec) + sizeof(Copy *) + 1;
    char *block = PyMem_Malloc(each * (size_t)batched);
    if (block == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    struct mmsghdr *msgs = (struct mmsghdr *)block;
    struct iovec *iov = (struct iovec *)(msgs + batched);
    Copy **order = (Copy **)(iov + batched);
    unsigned char *status = (unsigned char *)(order + batched);
    int start[MAX_GROUPS], at[MAX_GROUPS];
    for (int g = 0, s = 0; g < f->groups; s += f->counts[g], g++)
        start[g] = at[g] = s;
    for (Py_ssize_t i = 0; i < f->n; i++) {
        Copy *copy = &f->copies[i];
        if (copy->group < 0)
            continue;
        int k = at[copy->group]++;
        order[k] = copy;
        iov[k].iov_base = copy->port->buf;
        iov[k].iov_len = (size_t)copy->len;
        memset(&msgs[k], 0, sizeof(msgs[k]));
        msgs[k].msg_hdr.msg_name = &copy->port->dest;
        msgs[k].msg_hdr.msg_namelen = copy->port->destlen;
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
    }
    int result = 0;
    for (int g = 0; g < f->groups; g++) {
        int fatal = 0, n = f->counts[g];
        if (n == 1) { /* a socket only one viewer uses: its copy leaves at once, as before */
            status[start[g]] = send_one(order[start[g]]);
            continue;
        }
        for (int done = 0; done < n; done += MAX_BATCH) {
            int part = n - done < MAX_BATCH ? n - done : MAX_BATCH;
            f->calls += 1;
            f->datagrams += part;
            if (send_all(f->fds[g], msgs + start[g] + done, part, status + start[g] + done,
                         &fatal) < 0)
                memset(status + start[g] + done, REFUSED, (size_t)part); /* a dead socket */
        }
    }
    for (Py_ssize_t k = 0; k < batched && result == 0; k++)
        result = settle(f, order[k], status[k]);
    PyMem_Free(block);
    return result;
}

static PyObject *
fastsend_fanout(PyObject *self, PyObject *args)
{
    PyObject *subs, *templates, *make;
    unsigned long seq, ts;
    long long size;
    if (!PyArg_ParseTuple(args, "O!O!OkkL:fanout", &PyList_Type, &subs, &PyDict_Type,
                          &templates, &make, &seq, &ts, &size))
        return NULL;
    PyObject *snapshot = PyList_GetSlice(subs, 0, PyList_GET_SIZE(subs)); /* make() may edit */
    if (snapshot == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(snapshot);
    Fanout f = {0};
    f.copies = PyMem_Malloc(sizeof(Copy) * (size_t)(n > 0 ? n : 1));
    if (f.copies == NULL) {
        Py_DECREF(snapshot);
        return PyErr_NoMemory();
    }
    unsigned long long call = ++fanout_calls;
    int ok = 0;
    for (Py_ssize_t i = 0; i < n && ok == 0; i++)
        ok = one_copy(&f, PyList_GET_ITEM(snapshot, i), templates, make, seq, ts, size, call);
    /* what was protected goes out even after an error: libsrtp's packet index moved on */
    PyObject *exc_type, *exc, *exc_tb;
    PyErr_Fetch(&exc_type, &exc, &exc_tb);
    int flushed = flush(&f);
    for (Py_ssize_t i = 0; i < f.n; i++) {
        Py_DECREF(f.copies[i].port);
        Py_DECREF(f.copies[i].sub);
    }
    PyMem_Free(f.copies);
    Py_DECREF(snapshot);
    if (exc_type != NULL || flushed < 0) {
        if (exc_type != NULL) {
            PyErr_Clear(); /* the first error is the one to tell */
            PyErr_Restore(exc_type, exc, exc_tb);
        }
        Py_XDECREF(f.slow);
        Py_XDECREF(f.failed);
        Py_XDECREF(f.blocked);
        return NULL;
    }
    return Py_BuildValue("(NNNll)", f.slow ? f.slow : Py_NewRef(Py_None),
                         f.failed ? f.failed : Py_NewRef(Py_None),
                         f.blocked ? f.blocked : Py_NewRef(Py_None), f.calls, f.datagrams);
}

static int
intern_names(void)
{
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if ((attrs[i]->name = PyUnicode_InternFromString(attrs[i]->text)) == NULL)
            return -1;
    return 0;
}

static PyMethodDef methods[] = {
    {"sendmmsg", fastsend_sendmmsg, METH_VARARGS,
     "sendmmsg(fd, datagrams, status=None) -> int: send (buffer, sockaddr) pairs in one call"},
    {"fanout", fastsend_fanout, METH_VARARGS,
     "fanout(subs, templates, make_template, seq, ts, size) -> (slow, failed, blocked, calls, n)"},
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
    if (PyType_Ready(&PortType) < 0 || PyType_Ready(&NumbersType) < 0
        || PyType_Ready(&CountsType) < 0 || intern_names() < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "MAX_BATCH", MAX_BATCH) < 0
        || PyModule_AddObjectRef(m, "Port", (PyObject *)&PortType) < 0
        || PyModule_AddObjectRef(m, "Numbers", (PyObject *)&NumbersType) < 0
        || PyModule_AddObjectRef(m, "Counts", (PyObject *)&CountsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
