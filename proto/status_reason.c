/* The reason word of a Kubernetes Status, shared by the API server (which sends it) and the CLI
 * (which prints it, kubectl-style, from the code of a failed request). */
#include "proto/status_reason.h"

const char *minik_status_reason(int code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 408:
        return "Timeout";
    case 409:
        return "Conflict";
    case 410:
        /* Kubernetes calls a too-old watch "Expired" in the body but the code is 410 Gone;
         * clients key off the code, and "Gone" is what the brief names. */
        return "Gone";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 431:
        return "RequestHeaderFieldsTooLarge";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "Timeout";
    default:
        return code >= 500 ? "InternalError" : "BadRequest";
    }
}
