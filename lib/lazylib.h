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

#endif
