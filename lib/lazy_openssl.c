#include "lib/lazy_openssl.h"

#include <pthread.h>

#include "lib/lazylib.h"

static minik_openssl_api_t api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = minik_lazylib_open_or_die(MINIK_OPENSSL_SONAME);
#define RESOLVE(name)                                                                              \
    api.name = (__typeof__(api.name))minik_lazylib_sym_or_die(h, MINIK_OPENSSL_SONAME, #name);
    MINIK_OPENSSL_SYMBOLS(RESOLVE)
#undef RESOLVE
}

const minik_openssl_api_t *minik_openssl_api(void)
{
    pthread_once(&once, load);
    return &api;
}
