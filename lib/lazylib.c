#include "lib/lazylib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *minik_lazylib_open(const char *soname, minik_error_t **err)
{
    /* RTLD_NOW: resolve everything here, not at some later call deep in a request.
     * RTLD_GLOBAL: a test binary or tool that links the library itself gets the same copy. */
    void *h = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) {
        const char *why = dlerror();
        minik_error_set(err, 0, "load %s: %s", soname, why ? why : "unknown error");
    }
    return h;
}

void *minik_lazylib_sym(void *handle, const char *soname, const char *name, minik_error_t **err)
{
    dlerror();
    void *p = dlsym(handle, name);
    if (p == NULL) {
        const char *why = dlerror();
        minik_error_set(err, 0, "%s: symbol %s: %s", soname, name, why ? why : "is NULL");
    }
    return p;
}

static void die(const char *soname, minik_error_t *err)
{
    fprintf(stderr, "minik: %s is needed here and could not be loaded: %s\n", soname,
            err && err->msg ? err->msg : "unknown error");
    minik_error_free(err);
    abort();
}

void *minik_lazylib_open_or_die(const char *soname)
{
    minik_error_t *err = NULL;
    void *h = minik_lazylib_open(soname, &err);
    if (h == NULL)
        die(soname, err);
    return h;
}

void *minik_lazylib_sym_or_die(void *handle, const char *soname, const char *name)
{
    minik_error_t *err = NULL;
    void *p = minik_lazylib_sym(handle, soname, name, &err);
    if (p == NULL)
        die(soname, err);
    return p;
}
