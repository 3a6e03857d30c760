#include "lib/lazy_sqlite.h"

#include <pthread.h>

#include "lib/lazylib.h"

static minik_sqlite_api_t api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = minik_lazylib_open_or_die(MINIK_SQLITE_SONAME);
#define RESOLVE(name)                                                                              \
    api.name = (__typeof__(api.name))minik_lazylib_sym_or_die(h, MINIK_SQLITE_SONAME, #name);
    MINIK_SQLITE_SYMBOLS(RESOLVE)
#undef RESOLVE
}

const minik_sqlite_api_t *minik_sqlite_api(void)
{
    pthread_once(&once, load);
    return &api;
}
