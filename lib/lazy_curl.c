#include "lib/lazy_curl.h"

#include <pthread.h>

#include "lib/lazylib.h"

static minik_curl_api_t api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = minik_lazylib_open_or_die(MINIK_CURL_SONAME);
#define RESOLVE(name)                                                                              \
    api.name = (__typeof__(api.name))minik_lazylib_sym_or_die(h, MINIK_CURL_SONAME, #name);
    MINIK_CURL_SYMBOLS(RESOLVE)
#undef RESOLVE
}

const minik_curl_api_t *minik_curl_api(void)
{
    pthread_once(&once, load);
    return &api;
}
