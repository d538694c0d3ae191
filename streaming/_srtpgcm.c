/* streaming._srtpgcm: SRTP protection of outgoing RTP with AES-GCM (RFC 7714), for the fan-out.
 *
 * Protector(master, window=1024): one viewer connection's outbound SRTP context, from the
 *     master key and salt DTLS-SRTP exported (RFC 5764 §4.2; key || salt, 16 + 12 octets for
 *     AEAD_AES_128_GCM, 32 + 12 for AEAD_AES_256_GCM).
 *   .ctx, .function: the context's address and that of a C function with libsrtp's
 *     srtp_protect signature, int (*)(void *ctx, void *rtp, int *len): the compiled fan-out
 *     (streaming/_fastsend.c Port) and Egress's Python path call it where they called libsrtp.
 *   .protect(packet) -> bytes: the same, for tests.
 *
 * Why (issue 19): libsrtp spent most of its share of a busy node's CPU around the cipher, not in
 * it (perf, 400 viewers: 13 % of the server in pylibsrtp's library, 2.6 % of it AES-GCM): the
 * stream lookup, the replay bit vector (shifted at every packet), the IV set-up. Here the key
 * schedule is done once per connection (OpenSSL's EVP context keeps it), a packet costs one
 * IV set-up and one AEAD pass, and a connection's few SSRCs are a short array.
 *
 * The output is byte for byte libsrtp's with aiortc's outbound policy (ssrc_any_outbound,
 * allow_repeat_tx, window_size 1024): the same session keys (the AES-CM key derivation of
 * RFC 3711 §4.3, the GCM salt padded to 14 octets as libsrtp does), the same packet index
 * estimate (libsrtp's srtp_rdbx_estimate_index: RFC 3711 §3.3.1 with its first-packet rule),
 * the same refusals (a packet more than the window behind the highest index; a malformed
 * header). tests/streaming/test_srtp_gcm.py holds it to that.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif
#include "structmember.h"

#define TAG_LEN 16
#define SALT_LEN 12 /* RFC 7714 §12: the AEAD master salt */
#define MAX_STREAMS 256 /* SSRCs one connection may send; libsrtp has no cap, we need one */
#define SEQ_MEDIAN 0x8000
#define SEQ_MAX 0x10000

typedef struct {
    uint32_t ssrc;
    uint64_t index; /* ROC << 16 | SEQ of the highest packet protected */
} Stream;

typedef struct Protector {
    PyObject_HEAD
    EVP_CIPHER_CTX *aead;
    unsigned char salt[SALT_LEN]; /* the session salt */
    int window;
    int count;
    Stream streams[MAX_STREAMS];
} ProtectorObject;

/* RFC 3711 §4.3.1 with the AES-CM PRF: keystream of AES-CTR from (master salt XOR label at
 * octet 7) || 0x0000; the salt, 12 octets for GCM, is padded with two zero octets as libsrtp's
 * srtp_stream_init_keys does. */
static int
derive(const unsigned char *key, int keylen, const unsigned char *salt, unsigned char label,
       unsigned char *out, int outlen)
{
    unsigned char block[16] = {0}, zeros[32] = {0};
    int n = 0, ok;
    memcpy(block, salt, SALT_LEN);
    block[7] ^= label;
    EVP_CIPHER_CTX *ctr = EVP_CIPHER_CTX_new();
    if (ctr == NULL)
        return 0;
    ok = EVP_EncryptInit_ex(ctr, keylen == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr(), NULL,
                            key, block)
         && EVP_EncryptUpdate(ctr, out, &n, zeros, outlen) && n == outlen;
    EVP_CIPHER_CTX_free(ctr);
    return ok;
}

static int
protector_init(ProtectorObject *self, PyObject *args, PyObject *kwds)
{
    Py_buffer master;
    int window = 1024;
    static char *kwlist[] = {"master", "window", NULL};
    unsigned char session_key[32];
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*|i:Protector", kwlist, &master, &window))
        return -1;
    int keylen = (int)master.len - SALT_LEN;
    if ((keylen != 16 && keylen != 32) || window < 64) {
        PyBuffer_Release(&master);
        PyErr_SetString(PyExc_ValueError,
                        "master must be a 16- or 32-octet key and a 12-octet salt; window >= 64");
        return -1;
    }
    const unsigned char *key = master.buf, *salt = key + keylen;
    int ok = derive(key, keylen, salt, 0x00, session_key, keylen)
             && derive(key, keylen, salt, 0x02, self->salt, SALT_LEN);
    PyBuffer_Release(&master);
    if (self->aead == NULL)
        self->aead = EVP_CIPHER_CTX_new();
    ok = ok && self->aead != NULL
         && EVP_EncryptInit_ex(self->aead, keylen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(),
                               NULL, session_key, NULL);
    memset(session_key, 0, sizeof(session_key));
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL refused the AES-GCM key");
        return -1;
    }
    /* libsrtp's bit vector holds the window rounded up to whole 32-bit words */
    self->window = (window + 31) / 32 * 32;
    self->count = 0;
    return 0;
}

static void
protector_dealloc(ProtectorObject *self)
{
    if (self->aead != NULL)
        EVP_CIPHER_CTX_free(self->aead);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* libsrtp's srtp_rdbx_estimate_index (RFC 3711 §3.3.1): the packet index of ``seq`` against the
 * highest so far, and how far ahead of it (negative: behind). */
static int32_t
estimate(uint64_t local, uint16_t seq, uint64_t *guess)
{
    uint32_t roc = (uint32_t)(local >> 16);
    uint16_t last = (uint16_t)local;
    if (local <= SEQ_MEDIAN) { /* libsrtp: no guess before the index passes the median */
        *guess = seq;
        return (int32_t)seq - (int32_t)last;
    }
    int32_t diff = (int32_t)seq - (int32_t)last;
    if (last < SEQ_MEDIAN) {
        if (diff > SEQ_MEDIAN) {
            roc -= 1;
            diff -= SEQ_MAX;
        }
    } else if ((int32_t)last - SEQ_MEDIAN > (int32_t)seq) {
        roc += 1;
        diff += SEQ_MAX;
    }
    *guess = ((uint64_t)roc << 16) | seq;
    return diff;
}

static Stream *
stream_of(ProtectorObject *self, uint32_t ssrc)
{
    for (int i = 0; i < self->count; i++)
        if (self->streams[i].ssrc == ssrc)
            return &self->streams[i];
    if (self->count == MAX_STREAMS)
        return NULL;
    Stream *stream = &self->streams[self->count++];
    stream->ssrc = ssrc;
    stream->index = 0; /* as libsrtp's stream cloned from the ssrc_any_outbound template */
    return stream;
}

/* The RTP header's length (RFC 3550 §5.1, §5.3.1), or -1 if it does not fit in ``len``: what
 * libsrtp's srtp_validate_rtp_header checks (not the version: neither does libsrtp). */
static int
header_length(const unsigned char *rtp, int len)
{
    if (len < 12)
        return -1;
    int header = 12 + 4 * (rtp[0] & 0x0f);
    if (rtp[0] & 0x10) {
        if (header + 4 > len)
            return -1;
        header += 4 + 4 * ((rtp[header + 2] << 8) | rtp[header + 3]);
    }
    return header > len ? -1 : header;
}

/* the GCM tag of the packet just finished. OpenSSL 3: its parameter asked for directly, not
 * through EVP_CIPHER_CTX_ctrl, which builds the same request at every call (~30 ns of ~320 a
 * packet, measured with a throwaway loop over 1,104-octet packets) */
static int
get_tag(EVP_CIPHER_CTX *aead, unsigned char *tag)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, TAG_LEN),
        OSSL_PARAM_construct_end(),
    };
    return EVP_CIPHER_CTX_get_params(aead, params);
#else
    return EVP_CIPHER_CTX_ctrl(aead, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag);
#endif
}

/* Protect ``*len`` octets of RTP in place (room for TAG_LEN more after them); 0 on success,
 * as libsrtp's srtp_protect. */
static int
gcm_protect(void *ctx, void *packet, int *len)
{
    ProtectorObject *self = ctx;
    unsigned char *rtp = packet, iv[12];
    int header = header_length(rtp, *len), n = 0;
    if (header < 0)
        return 2; /* srtp_err_status_bad_param */
    uint32_t ssrc = ((uint32_t)rtp[8] << 24) | (rtp[9] << 16) | (rtp[10] << 8) | rtp[11];
    uint16_t seq = (uint16_t)((rtp[2] << 8) | rtp[3]);
    Stream *stream = stream_of(self, ssrc);
    if (stream == NULL)
        return 3; /* srtp_err_status_alloc_fail */
    uint64_t index;
    int32_t delta = estimate(stream->index, seq, &index);
    if (delta > 0)
        stream->index = index;
    else if (self->window - 1 + delta < 0)
        return 10; /* srtp_err_status_replay_old: beyond libsrtp's window */
    /* RFC 7714 §8.1: 00 00 || SSRC || ROC || SEQ, XOR the session salt */
    uint32_t roc = (uint32_t)(index >> 16);
    iv[0] = iv[1] = 0;
    memcpy(iv + 2, rtp + 8, 4);
    iv[6] = roc >> 24, iv[7] = roc >> 16, iv[8] = roc >> 8, iv[9] = roc;
    iv[10] = rtp[2], iv[11] = rtp[3];
    for (int i = 0; i < 12; i++)
        iv[i] ^= self->salt[i];
    int body = *len - header;
    if (!EVP_EncryptInit_ex(self->aead, NULL, NULL, NULL, iv)
        || !EVP_EncryptUpdate(self->aead, NULL, &n, rtp, header)
        || !EVP_EncryptUpdate(self->aead, rtp + header, &n, rtp + header, body)
        || !EVP_EncryptFinal_ex(self->aead, rtp + header + n, &n)
        || !get_tag(self->aead, rtp + *len))
        return 8; /* srtp_err_status_cipher_fail */
    *len += TAG_LEN;
    return 0;
}

static PyObject *
protector_protect(ProtectorObject *self, PyObject *arg)
{
    Py_buffer in;
    if (PyObject_GetBuffer(arg, &in, PyBUF_SIMPLE) < 0)
        return NULL;
    if (in.len > 0x10000) {
        PyBuffer_Release(&in);
        return PyErr_Format(PyExc_ValueError, "an RTP packet is at most 65535 octets");
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, in.len + TAG_LEN);
    if (out == NULL) {
        PyBuffer_Release(&in);
        return NULL;
    }
    memcpy(PyBytes_AS_STRING(out), in.buf, in.len);
    int len = (int)in.len, status = gcm_protect(self, PyBytes_AS_STRING(out), &len);
    PyBuffer_Release(&in);
    if (status != 0) {
        Py_DECREF(out);
        return PyErr_Format(PyExc_ValueError, "SRTP protect failed (libsrtp status %d)", status);
    }
    return out;
}

static PyObject *
protector_ctx(ProtectorObject *self, void *closure)
{
    return PyLong_FromVoidPtr(self);
}

static PyObject *
protector_function(ProtectorObject *self, void *closure)
{
    return PyLong_FromVoidPtr((void *)(uintptr_t)gcm_protect);
}

static PyGetSetDef protector_getset[] = {
    {"ctx", (getter)protector_ctx, NULL, "this context's address (the first argument)", NULL},
    {"function", (getter)protector_function, NULL,
     "the protect function's address: int (*)(void *ctx, void *rtp, int *len)", NULL},
    {NULL},
};

static PyMethodDef protector_methods[] = {
    {"protect", (PyCFunction)protector_protect, METH_O,
     "protect(rtp) -> bytes: the SRTP packet (the RTP header, the ciphertext, the tag)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProtectorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "streaming._srtpgcm.Protector",
    .tp_basicsize = sizeof(ProtectorObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Protector(master, window=1024): outbound SRTP with AES-GCM (RFC 7714)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)protector_init,
    .tp_dealloc = (destructor)protector_dealloc,
    .tp_getset = protector_getset,
    .tp_methods = protector_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streaming._srtpgcm",
    "Outbound SRTP with AES-GCM for the fan-out (RFC 7714), byte for byte libsrtp's.", -1, NULL,
};

PyMODINIT_FUNC
PyInit__srtpgcm(void)
{
    if (PyType_Ready(&ProtectorType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ProtectorType);
    if (PyModule_AddObject(m, "Protector", (PyObject *)&ProtectorType) < 0) {
        Py_DECREF(&ProtectorType);
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddIntConstant(m, "TAG_LEN", TAG_LEN);
    return m;
}
