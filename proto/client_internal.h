/* Shared between proto/client*.c only: not part of the client's public interface. */
#ifndef MINIK_PROTO_CLIENT_INTERNAL_H
#define MINIK_PROTO_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
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

/* "cannot reach the minik server at URL: why" for a transfer on `easy` that got no HTTP
 * response (rc a CURLcode): why is the OS error when there is one, else errbuf when filled
 * (may be NULL), else curl's text for rc. Returns < 0. */
int minik_client_unreachable(const minik_client_t *c, void *easy, int rc, const char *errbuf,
                             minik_error_t **err);

/* The start of a watch's curl write callback: read the response code into *status once; when
 * it is an error (>= 300), keep the first 64 KiB of the body in error_body (the Status to
 * report when the transfer ends) and return true: those bytes are not events. */
bool minik_client_watch_error_body(void *easy, long *status, minik_buf_t *error_body,
                                   const char *ptr, size_t n);

#endif
