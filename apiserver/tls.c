#include "apiserver/tls.h"

#include <openssl/err.h>

#include "lib/xalloc.h"

struct minik_tls {
    SSL *ssl;
    BIO *rbio; /* ciphertext in (owned by ssl) */
    BIO *wbio; /* ciphertext out (owned by ssl) */
    minik_tls_out_fn on_plain, on_cipher;
    void *ud;
    bool failed;
};

int minik_tls_error(minik_error_t **err, const char *what)
{
    char buf[256] = "unknown error";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return minik_error_set(err, 0, "%s: %s", what, buf);
}

int minik_tls_server_ctx_new(const char *cert_path, const char *key_path, SSL_CTX **out,
                             minik_error_t **err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return minik_tls_error(err, "SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Memory BIOs give partial writes no meaning; let SSL_write take whole buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        SSL_CTX_free(ctx);
        return minik_tls_error(err, "load server certificate");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return minik_tls_error(err, "load server key");
    }
    *out = ctx;
    return 0;
}

minik_tls_t *minik_tls_new(SSL_CTX *ctx, minik_tls_out_fn on_plain, minik_tls_out_fn on_cipher,
                           void *ud)
{
    minik_tls_t *t = xcalloc(1, sizeof(*t));
    t->ssl = SSL_new(ctx);
    if (!t->ssl)
        abort(); /* only fails on allocation failure, which minik treats as fatal */
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    t->on_plain = on_plain;
    t->on_cipher = on_cipher;
    t->ud = ud;
    return t;
}

void minik_tls_free(minik_tls_t *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

static void flush_cipher(minik_tls_t *t)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0)
        t->on_cipher(buf, (size_t)n, t->ud);
}

int minik_tls_feed(minik_tls_t *t, const char *data, size_t len, minik_error_t **err)
{
    if (t->failed)
        return minik_error_set(err, 0, "TLS connection already failed");
    while (len > 0) {
        int w = BIO_write(t->rbio, data, (int)(len > 1 << 30 ? 1 << 30 : len));
        if (w <= 0)
            return minik_error_set(err, 0, "TLS: BIO_write failed");
        data += w;
        len -= (size_t)w;
    }
    char buf[16384];
    for (;;) {
        int n = SSL_read(t->ssl, buf, sizeof(buf));
        if (n > 0) {
            t->on_plain(buf, (size_t)n, t->ud);
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        flush_cipher(t); /* handshake messages or alerts */
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0; /* close_notify: the transport sees EOF soon */
        t->failed = true;
        return minik_tls_error(err, "TLS");
    }
}

int minik_tls_write(minik_tls_t *t, const char *data, size_t len, minik_error_t **err)
{
    if (t->failed)
        return minik_error_set(err, 0, "TLS connection already failed");
    while (len > 0) {
        int n = SSL_write(t->ssl, data, (int)(len > 1 << 30 ? 1 << 30 : len));
        if (n <= 0) {
            flush_cipher(t);
            t->failed = true;
            return minik_tls_error(err, "TLS write");
        }
        data += n;
        len -= (size_t)n;
    }
    flush_cipher(t);
    return 0;
}

void minik_tls_shutdown(minik_tls_t *t)
{
    if (t->failed || !SSL_is_init_finished(t->ssl))
        return;
    SSL_shutdown(t->ssl);
    flush_cipher(t);
}

bool minik_tls_handshake_done(const minik_tls_t *t)
{
    return SSL_is_init_finished(t->ssl);
}
