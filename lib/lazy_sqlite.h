/* SQLite (the store), loaded with dlopen on first use so that commands which never need it
 * (the OCI runtime, its shim, `minik version`) do not pay for loading and relocating it
 * and its dependency chain (see docs/runtime.md, "Start-up and footprint").
 *
 * Include this header instead of the library's own headers: it includes those first, then
 * redirects each function minik uses to a pointer resolved from libsqlite3.so.0 by
 * minik_sqlite_api(), so call sites stay ordinary library calls. A function missing
 * from MINIK_SQLITE_SYMBOLS fails to link, because the binary does not link the library. */
#ifndef MINIK_LAZY_SQLITE_H
#define MINIK_LAZY_SQLITE_H

#include <sqlite3.h>

/* cppcheck (make lint, -D__CPPCHECK__) checks the call sites as the plain library calls
 * they stand for; it cannot follow the typeof-built table. */
#ifndef __CPPCHECK__
#define MINIK_SQLITE_SONAME "libsqlite3.so.0"

#define MINIK_SQLITE_SYMBOLS(X)                                                                    \
    X(sqlite3_backup_finish)                                                                       \
    X(sqlite3_backup_init)                                                                         \
    X(sqlite3_backup_step)                                                                         \
    X(sqlite3_bind_int64)                                                                          \
    X(sqlite3_bind_text)                                                                           \
    X(sqlite3_busy_timeout)                                                                        \
    X(sqlite3_clear_bindings)                                                                      \
    X(sqlite3_close)                                                                               \
    X(sqlite3_column_bytes)                                                                        \
    X(sqlite3_column_int64)                                                                        \
    X(sqlite3_column_text)                                                                         \
    X(sqlite3_errcode)                                                                             \
    X(sqlite3_errmsg)                                                                              \
    X(sqlite3_exec)                                                                                \
    X(sqlite3_extended_errcode)                                                                    \
    X(sqlite3_extended_result_codes)                                                               \
    X(sqlite3_finalize)                                                                            \
    X(sqlite3_get_autocommit)                                                                      \
    X(sqlite3_open_v2)                                                                             \
    X(sqlite3_prepare_v2)                                                                          \
    X(sqlite3_prepare_v3)                                                                          \
    X(sqlite3_reset)                                                                               \
    X(sqlite3_sleep)                                                                               \
    X(sqlite3_step)                                                                                \
    X(sqlite3_system_errno)

typedef struct minik_sqlite_api {
#define MINIK_LAZY_MEMBER(name) __typeof__(name) *name;
    MINIK_SQLITE_SYMBOLS(MINIK_LAZY_MEMBER)
#undef MINIK_LAZY_MEMBER
} minik_sqlite_api_t;

/* The resolved functions; loads libsqlite3.so.0 on the first call (thread-safe). A library
 * that cannot be loaded is an installation error: the process reports which library and
 * why on stderr and aborts, like an allocation failure. */
const minik_sqlite_api_t *minik_sqlite_api(void);

#undef sqlite3_backup_finish
#define sqlite3_backup_finish(...) (minik_sqlite_api()->sqlite3_backup_finish(__VA_ARGS__))
#undef sqlite3_backup_init
#define sqlite3_backup_init(...) (minik_sqlite_api()->sqlite3_backup_init(__VA_ARGS__))
#undef sqlite3_backup_step
#define sqlite3_backup_step(...) (minik_sqlite_api()->sqlite3_backup_step(__VA_ARGS__))
#undef sqlite3_bind_int64
#define sqlite3_bind_int64(...) (minik_sqlite_api()->sqlite3_bind_int64(__VA_ARGS__))
#undef sqlite3_bind_text
#define sqlite3_bind_text(...) (minik_sqlite_api()->sqlite3_bind_text(__VA_ARGS__))
#undef sqlite3_busy_timeout
#define sqlite3_busy_timeout(...) (minik_sqlite_api()->sqlite3_busy_timeout(__VA_ARGS__))
#undef sqlite3_clear_bindings
#define sqlite3_clear_bindings(...) (minik_sqlite_api()->sqlite3_clear_bindings(__VA_ARGS__))
#undef sqlite3_close
#define sqlite3_close(...) (minik_sqlite_api()->sqlite3_close(__VA_ARGS__))
#undef sqlite3_column_bytes
#define sqlite3_column_bytes(...) (minik_sqlite_api()->sqlite3_column_bytes(__VA_ARGS__))
#undef sqlite3_column_int64
#define sqlite3_column_int64(...) (minik_sqlite_api()->sqlite3_column_int64(__VA_ARGS__))
#undef sqlite3_column_text
#define sqlite3_column_text(...) (minik_sqlite_api()->sqlite3_column_text(__VA_ARGS__))
#undef sqlite3_errcode
#define sqlite3_errcode(...) (minik_sqlite_api()->sqlite3_errcode(__VA_ARGS__))
#undef sqlite3_errmsg
#define sqlite3_errmsg(...) (minik_sqlite_api()->sqlite3_errmsg(__VA_ARGS__))
#undef sqlite3_exec
#define sqlite3_exec(...) (minik_sqlite_api()->sqlite3_exec(__VA_ARGS__))
#undef sqlite3_extended_errcode
#define sqlite3_extended_errcode(...) (minik_sqlite_api()->sqlite3_extended_errcode(__VA_ARGS__))
#undef sqlite3_extended_result_codes
#define sqlite3_extended_result_codes(...)                                                         \
    (minik_sqlite_api()->sqlite3_extended_result_codes(__VA_ARGS__))
#undef sqlite3_finalize
#define sqlite3_finalize(...) (minik_sqlite_api()->sqlite3_finalize(__VA_ARGS__))
#undef sqlite3_get_autocommit
#define sqlite3_get_autocommit(...) (minik_sqlite_api()->sqlite3_get_autocommit(__VA_ARGS__))
#undef sqlite3_open_v2
#define sqlite3_open_v2(...) (minik_sqlite_api()->sqlite3_open_v2(__VA_ARGS__))
#undef sqlite3_prepare_v2
#define sqlite3_prepare_v2(...) (minik_sqlite_api()->sqlite3_prepare_v2(__VA_ARGS__))
#undef sqlite3_prepare_v3
#define sqlite3_prepare_v3(...) (minik_sqlite_api()->sqlite3_prepare_v3(__VA_ARGS__))
#undef sqlite3_reset
#define sqlite3_reset(...) (minik_sqlite_api()->sqlite3_reset(__VA_ARGS__))
#undef sqlite3_sleep
#define sqlite3_sleep(...) (minik_sqlite_api()->sqlite3_sleep(__VA_ARGS__))
#undef sqlite3_step
#define sqlite3_step(...) (minik_sqlite_api()->sqlite3_step(__VA_ARGS__))
#undef sqlite3_system_errno
#define sqlite3_system_errno(...) (minik_sqlite_api()->sqlite3_system_errno(__VA_ARGS__))
#endif

#endif
