#include "lib/lazy_ldns.h"

#include <pthread.h>

#include "lib/lazylib.h"

static minik_ldns_api_t api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = minik_lazylib_open_or_die(MINIK_LDNS_SONAME);
#define RESOLVE(name)                                                                              \
    api.name = (__typeof__(api.name))minik_lazylib_sym_or_die(h, MINIK_LDNS_SONAME, #name);
    MINIK_LDNS_SYMBOLS(RESOLVE)
#undef RESOLVE
}

const minik_ldns_api_t *minik_ldns_api(void)
{
    pthread_once(&once, load);
    return &api;
}
