/* The function tables behind lib/lazy_<lib>.h, one line per library. */
#include <pthread.h>

#include "lib/lazy_archive.h"
#include "lib/lazy_curl.h"
#include "lib/lazy_ldns.h"
#include "lib/lazy_openssl.h"
#include "lib/lazy_sqlite.h"
#include "lib/lazylib.h"

/* cppcheck sees the library calls, not the tables (see the headers). */
#ifndef __CPPCHECK__
MINIK_LAZYLIB_DEFINE(archive, MINIK_ARCHIVE_SONAME, MINIK_ARCHIVE_SYMBOLS)
MINIK_LAZYLIB_DEFINE(curl, MINIK_CURL_SONAME, MINIK_CURL_SYMBOLS)
MINIK_LAZYLIB_DEFINE(ldns, MINIK_LDNS_SONAME, MINIK_LDNS_SYMBOLS)
MINIK_LAZYLIB_DEFINE(openssl, MINIK_OPENSSL_SONAME, MINIK_OPENSSL_SYMBOLS)
MINIK_LAZYLIB_DEFINE(sqlite, MINIK_SQLITE_SONAME, MINIK_SQLITE_SYMBOLS)
#endif
