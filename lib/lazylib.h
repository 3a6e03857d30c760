/* Loading a shared library on first use (dlopen) rather than at process start.
 *
 * The minik binary links only what every command needs (libc, libuv, cJSON, libyaml,
 * libseccomp, http-parser). The heavy libraries — libcurl, libarchive, ldns, SQLite,
 * OpenSSL, with their dependency chains (gnutls, krb5, ldap, libxml2, ICU, ...) — are
 * loaded by the lib/lazy_<name>.h wrappers when a code path first calls into them, so the
 * OCI runtime, its per-container shim and `minik version` start without them. */
#ifndef MINIK_LAZYLIB_H
#define MINIK_LAZYLIB_H

#include "lib/error.h"

/* dlopen(soname) with RTLD_NOW | RTLD_GLOBAL; on failure sets *err to
 * "load <soname>: <dlerror>" and returns NULL. The handle is never closed. */
void *minik_lazylib_open(const char *soname, minik_error_t **err);

/* The address of symbol `name` in the library `handle` (or its dependencies); on failure
 * sets *err to "<soname>: symbol <name>: <dlerror>" and returns NULL. */
void *minik_lazylib_sym(void *handle, const char *soname, const char *name, minik_error_t **err);

/* As above, for the lazy_<name>.c loaders: a missing library or symbol is an installation
 * error that no caller can handle, so these print
 * "minik: <soname> is needed here and could not be loaded: ..." to stderr and abort()
 * (as the xalloc functions do on out-of-memory). */
void *minik_lazylib_open_or_die(const char *soname);
void *minik_lazylib_sym_or_die(void *handle, const char *soname, const char *name);

/* Defines minik_<lib>_api() for a lib/lazy_<lib>.h table: the table is filled from
 * SONAME, every symbol of SYMBOLS, the first time any caller asks (pthread_once). The
 * file using it includes <pthread.h> and the lazy_<lib>.h header. */
#define MINIK_LAZYLIB_RESOLVE(name)                                                                \
    api->name = (__typeof__(api->name))minik_lazylib_sym_or_die(h, soname, #name);
#define MINIK_LAZYLIB_DEFINE(lib, SONAME, SYMBOLS)                                                 \
    static minik_##lib##_api_t lib##_api;                                                          \
    static pthread_once_t lib##_once = PTHREAD_ONCE_INIT;                                          \
    static void lib##_load(void)                                                                   \
    {                                                                                              \
        minik_##lib##_api_t *api = &lib##_api;                                                     \
        const char *soname = SONAME;                                                               \
        void *h = minik_lazylib_open_or_die(soname);                                               \
        SYMBOLS(MINIK_LAZYLIB_RESOLVE)                                                             \
    }                                                                                              \
    const minik_##lib##_api_t *minik_##lib##_api(void)                                             \
    {                                                                                              \
        pthread_once(&lib##_once, lib##_load);                                                     \
        return &lib##_api;                                                                         \
    }

#endif
