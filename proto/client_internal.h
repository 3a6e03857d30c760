/* Shared between proto/client*.c only: not part of the client's public interface. */
#ifndef MINIK_PROTO_CLIENT_INTERNAL_H
#define MINIK_PROTO_CLIENT_INTERNAL_H

#include "proto/client.h"

/* A new easy handle with the client's URL + path, TLS settings and watch headers, no
 * timeout (watches are long-lived), TCP keep-alive on. errbuf (CURL_ERROR_SIZE) may be NULL.
 * Returns NULL when curl cannot allocate. */
void *minik_client_watch_easy_setup(minik_client_t *c, const char *path, char *errbuf);

/* A new easy handle for an ordinary request on an event loop: like the watch handle, plus
 * the client's whole-request timeout. The caller sets method, body and headers. */
void *minik_client_request_easy_setup(minik_client_t *c, const char *path, char *errbuf);

/* The headers every request carries (Authorization, Accept); owned by the client. */
const void *minik_client_base_headers(const minik_client_t *c);

/* Turn an HTTP error reply into *err (code = status): the Status message, with kubectl's
 * wording for 401. Returns < 0. */
int minik_client_http_error(long status, const char *body, size_t len, minik_error_t **err);

#endif
