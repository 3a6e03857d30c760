#include "apiserver/status.h"

#include "lib/xalloc.h"

const char *minik_http_reason_phrase(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return code < 400 ? "OK" : code < 500 ? "Bad Request" : "Internal Server Error";
    }
}

cJSON *minik_status_new(int code, const char *reason, const char *message, const char *kind,
                        const char *name, cJSON *causes)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddItemToObject(st, "metadata", cJSON_CreateObject());
    cJSON_AddStringToObject(st, "status", "Failure");
    cJSON_AddStringToObject(st, "message", message ? message : "");
    if (!reason)
        reason = minik_status_reason(code);
    cJSON_AddStringToObject(st, "reason", reason);
    if (kind || name || causes) {
        cJSON *d = cJSON_AddObjectToObject(st, "details");
        if (name)
            cJSON_AddStringToObject(d, "name", name);
        if (kind)
            cJSON_AddStringToObject(d, "kind", kind);
        if (causes)
            cJSON_AddItemToObject(d, "causes", causes);
    }
    cJSON_AddNumberToObject(st, "code", code);
    return st;
}

cJSON *minik_status_success(const char *kind, const char *name, const char *uid)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddItemToObject(st, "metadata", cJSON_CreateObject());
    cJSON_AddStringToObject(st, "status", "Success");
    cJSON *d = cJSON_AddObjectToObject(st, "details");
    if (name)
        cJSON_AddStringToObject(d, "name", name);
    if (kind)
        cJSON_AddStringToObject(d, "kind", kind);
    if (uid)
        cJSON_AddStringToObject(d, "uid", uid);
    return st;
}

char *minik_status_json(int code, const char *message)
{
    cJSON *st = minik_status_new(code, NULL, message, NULL, NULL, NULL);
    char *s = cJSON_PrintUnformatted(st);
    cJSON_Delete(st);
    return s;
}
