/* The `reason` of a Kubernetes Status object for an HTTP code. */
#ifndef MINIK_PROTO_STATUS_REASON_H
#define MINIK_PROTO_STATUS_REASON_H

/* The Kubernetes reason for an HTTP status code ("NotFound" for 404, "Gone" for 410, ...):
 * what the API server puts in a Status and what `Error from server (...)` shows. Codes it
 * does not know give "InternalError" (5xx) or "BadRequest". Never NULL; static storage. */
const char *minik_status_reason(int code);

#endif
