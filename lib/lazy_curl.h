/* libcurl (HTTP client: the API client, registry pulls, probes), loaded with dlopen on first use so
 * that commands which never need it (the OCI runtime, its shim, `minik version`) do not pay for
 * loading and relocating it and its dependency chain (see docs/runtime.md, "Start-up and
 * footprint").
 *
 * Include this header instead of the library's own headers: it includes those first, then
 * redirects each function minik uses to a pointer resolved from libcurl.so.4 by
 * minik_curl_api(), so call sites stay ordinary library calls. A function missing
 * from MINIK_CURL_SYMBOLS fails to link, because the binary does not link the library. */
#ifndef MINIK_LAZY_CURL_H
#define MINIK_LAZY_CURL_H

#include <curl/curl.h>

/* cppcheck (make lint, -D__CPPCHECK__) checks the call sites as the plain library calls
 * they stand for; it cannot follow the typeof-built table. */
#ifndef __CPPCHECK__
#define MINIK_CURL_SONAME "libcurl.so.4"

#define MINIK_CURL_SYMBOLS(X)                                                                      \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_escape)                                                                            \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_init)                                                                              \
    X(curl_easy_pause)                                                                             \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_reset)                                                                             \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_strerror)                                                                          \
    X(curl_free)                                                                                   \
    X(curl_global_init)                                                                            \
    X(curl_multi_add_handle)                                                                       \
    X(curl_multi_assign)                                                                           \
    X(curl_multi_cleanup)                                                                          \
    X(curl_multi_info_read)                                                                        \
    X(curl_multi_init)                                                                             \
    X(curl_multi_perform)                                                                          \
    X(curl_multi_poll)                                                                             \
    X(curl_multi_remove_handle)                                                                    \
    X(curl_multi_setopt)                                                                           \
    X(curl_multi_socket_action)                                                                    \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)
typedef struct minik_curl_api {
#define MINIK_LAZY_MEMBER(name) __typeof__(name) *name;
    MINIK_CURL_SYMBOLS(MINIK_LAZY_MEMBER)
#undef MINIK_LAZY_MEMBER
} minik_curl_api_t;

/* The resolved functions; loads libcurl.so.4 on the first call (thread-safe). A library
 * that cannot be loaded is an installation error: the process reports which library and
 * why on stderr and aborts, like an allocation failure. */
const minik_curl_api_t *minik_curl_api(void);

#undef curl_easy_cleanup
#define curl_easy_cleanup(...) (minik_curl_api()->curl_easy_cleanup(__VA_ARGS__))
#undef curl_easy_escape
#define curl_easy_escape(...) (minik_curl_api()->curl_easy_escape(__VA_ARGS__))
#undef curl_easy_getinfo
#define curl_easy_getinfo(...) (minik_curl_api()->curl_easy_getinfo(__VA_ARGS__))
#undef curl_easy_init
#define curl_easy_init(...) (minik_curl_api()->curl_easy_init(__VA_ARGS__))
#undef curl_easy_perform
#define curl_easy_perform(...) (minik_curl_api()->curl_easy_perform(__VA_ARGS__))
#undef curl_easy_reset
#define curl_easy_reset(...) (minik_curl_api()->curl_easy_reset(__VA_ARGS__))
#undef curl_easy_setopt
#define curl_easy_setopt(...) (minik_curl_api()->curl_easy_setopt(__VA_ARGS__))
#undef curl_easy_strerror
#define curl_easy_strerror(...) (minik_curl_api()->curl_easy_strerror(__VA_ARGS__))
#undef curl_free
#define curl_free(...) (minik_curl_api()->curl_free(__VA_ARGS__))
#undef curl_global_init
#define curl_global_init(...) (minik_curl_api()->curl_global_init(__VA_ARGS__))
#undef curl_multi_add_handle
#define curl_multi_add_handle(...) (minik_curl_api()->curl_multi_add_handle(__VA_ARGS__))
#undef curl_multi_assign
#define curl_multi_assign(...) (minik_curl_api()->curl_multi_assign(__VA_ARGS__))
#undef curl_multi_cleanup
#define curl_multi_cleanup(...) (minik_curl_api()->curl_multi_cleanup(__VA_ARGS__))
#undef curl_multi_info_read
#define curl_multi_info_read(...) (minik_curl_api()->curl_multi_info_read(__VA_ARGS__))
#undef curl_multi_init
#define curl_multi_init(...) (minik_curl_api()->curl_multi_init(__VA_ARGS__))
#undef curl_multi_perform
#define curl_multi_perform(...) (minik_curl_api()->curl_multi_perform(__VA_ARGS__))
#undef curl_multi_poll
#define curl_multi_poll(...) (minik_curl_api()->curl_multi_poll(__VA_ARGS__))
#undef curl_multi_remove_handle
#define curl_multi_remove_handle(...) (minik_curl_api()->curl_multi_remove_handle(__VA_ARGS__))
#undef curl_multi_setopt
#define curl_multi_setopt(...) (minik_curl_api()->curl_multi_setopt(__VA_ARGS__))
#undef curl_multi_socket_action
#define curl_multi_socket_action(...) (minik_curl_api()->curl_multi_socket_action(__VA_ARGS__))
#undef curl_slist_append
#define curl_slist_append(...) (minik_curl_api()->curl_slist_append(__VA_ARGS__))
#undef curl_slist_free_all
#define curl_slist_free_all(...) (minik_curl_api()->curl_slist_free_all(__VA_ARGS__))
#undef curl_easy_pause
#define curl_easy_pause(...) (minik_curl_api()->curl_easy_pause(__VA_ARGS__))
#endif

#endif
