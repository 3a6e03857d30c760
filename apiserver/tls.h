/* Server-side TLS over any byte stream, with OpenSSL memory BIOs: ciphertext from the
 * socket goes in with minik_tls_feed, plaintext comes out through a callback, and every
 * ciphertext byte OpenSSL wants to send comes out through another. The libuv stream
 * (http_server.c) stays in charge of the socket, so nothing here blocks. */
#ifndef MINIK_APISERVER_TLS_H
#define MINIK_APISERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "lib/error.h"

typedef struct minik_tls minik_tls_t;

typedef void (*minik_tls_out_fn)(const char *data, size_t len, void *ud);

/* Set *err to "<what>: <OpenSSL's oldest queued error>" ("unknown error" when the queue is
 * empty), clear OpenSSL's error queue, and return -1. For every OpenSSL call in apiserver/. */
int minik_tls_error(minik_error_t **err, const char *what);

/* A server context for the PEM certificate chain and private key at the given paths.
 * TLS 1.2 minimum. The caller owns *out (SSL_CTX_free). */
int minik_tls_server_ctx_new(const char *cert_path, const char *key_path, SSL_CTX **out,
                             minik_error_t **err);

/* One connection. `on_plain` receives decrypted application bytes; `on_cipher` receives
 * bytes to send to the peer. Both are borrowed callbacks with `ud`. */
minik_tls_t *minik_tls_new(SSL_CTX *ctx, minik_tls_out_fn on_plain, minik_tls_out_fn on_cipher,
                           void *ud);
void minik_tls_free(minik_tls_t *t);

/* Ciphertext from the peer. Returns < 0 on a fatal TLS error (handshake failure, bad
 * record): the connection should be closed. */
int minik_tls_feed(minik_tls_t *t, const char *data, size_t len, minik_error_t **err);
/* Encrypt and send application bytes. Returns < 0 on failure. */
int minik_tls_write(minik_tls_t *t, const char *data, size_t len, minik_error_t **err);
/* Queue a close_notify alert. */
void minik_tls_shutdown(minik_tls_t *t);
bool minik_tls_handshake_done(const minik_tls_t *t);

#endif
