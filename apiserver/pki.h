/* The cluster's TLS material, created on the server's first start:
 *   DIR/tls/ca.crt, ca.key         cluster CA (EC P-256, 10 years)
 *   DIR/tls/server.crt, server.key server certificate signed by the CA (EC P-256,
 *                                  10 years) with SANs: the hostname, localhost,
 *                                  127.0.0.1, ::1 and every --tls-san extra
 * Keys are written mode 0600, atomically. An existing CA is kept; the server certificate
 * is re-issued when it lacks a requested SAN, so adding --tls-san later just works. */
#ifndef MINIK_APISERVER_PKI_H
#define MINIK_APISERVER_PKI_H

#include <openssl/ssl.h>

#include "lib/error.h"

typedef struct minik_pki_paths {
    char *ca_cert, *ca_key, *server_cert, *server_key;
} minik_pki_paths_t;

/* Ensure the files exist under data_dir/tls and fill *paths (free with
 * minik_pki_paths_free). `sans` is a NULL-terminated list of extra DNS names or IP
 * addresses (may be NULL). */
int minik_pki_ensure(const char *data_dir, char *const *sans, minik_pki_paths_t *paths,
                     minik_error_t **err);
void minik_pki_paths_free(minik_pki_paths_t *p);

/* A fresh EC P-256 key and a self-signed certificate for `cn`, held only in memory, as a
 * TLS server context (TLS 1.2 minimum; the caller owns *ctx) — the node agent's endpoint.
 * *pin receives the base64 SHA-256 of the key's DER SubjectPublicKeyInfo, the form curl's
 * CURLOPT_PINNEDPUBLICKEY takes after "sha256//" (caller frees). */
int minik_pki_self_signed_ctx(const char *cn, SSL_CTX **ctx, char **pin, minik_error_t **err);

#endif
