/* Kubernetes `Status` objects: the body of every API error.
 *
 * {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
 *  "reason":"NotFound","details":{"name":..,"kind":..,"causes":[...]},"code":404} */
#ifndef MINIK_APISERVER_STATUS_H
#define MINIK_APISERVER_STATUS_H

#include <cjson/cJSON.h>

#include "proto/status_reason.h" /* minik_status_reason */

/* The standard reason phrase for an HTTP status line ("Not Found"). Never NULL. */
const char *minik_http_reason_phrase(int code);

/* A new Failure Status. `reason` NULL picks minik_status_reason(code). `kind`/`name`
 * (may be NULL) go into details; `causes` (may be NULL, ownership taken) becomes
 * details.causes. The caller owns the result. */
cJSON *minik_status_new(int code, const char *reason, const char *message, const char *kind,
                        const char *name, cJSON *causes);

/* The Success Status DELETE returns when the object is gone. */
cJSON *minik_status_success(const char *kind, const char *name, const char *uid);

/* Serialized minik_status_new(code, NULL, message, NULL, NULL, NULL); caller frees. */
char *minik_status_json(int code, const char *message);

#endif
