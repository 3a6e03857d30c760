/* Shared between proto/client*.c only: not part of the client's public interface. */
#ifndef MINIK_PROTO_CLIENT_INTERNAL_H
#define MINIK_PROTO_CLIENT_INTERNAL_H

#include "proto/client.h"

/* A new easy handle with the client's URL + path, TLS settings and watch headers, no
 * timeout (watches are long-lived), TCP keep-alive on. errbuf (CURL_ERROR_SIZE) may be NULL.
 * Returns NULL when curl cannot allocate. */
void *minik_client_watch_easy_setup(minik_client_t *c, const char *path, char *errbuf);

#endif
