#include "lib/lazy_archive.h"

#include <pthread.h>

#include "lib/lazylib.h"

static minik_archive_api_t api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = minik_lazylib_open_or_die(MINIK_ARCHIVE_SONAME);
#define RESOLVE(name)                                                                              \
    api.name = (__typeof__(api.name))minik_lazylib_sym_or_die(h, MINIK_ARCHIVE_SONAME, #name);
    MINIK_ARCHIVE_SYMBOLS(RESOLVE)
#undef RESOLVE
}

const minik_archive_api_t *minik_archive_api(void)
{
    pthread_once(&once, load);
    return &api;
}
