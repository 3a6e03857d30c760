/* libarchive (image layers and image archives), loaded with dlopen on first use so that commands
 * which never need it (the OCI runtime, its shim, `minik version`) do not pay for loading and
 * relocating it and its dependency chain (see docs/runtime.md, "Start-up and footprint").
 *
 * Include this header instead of the library's own headers: it includes those first, then
 * redirects each function minik uses to a pointer resolved from libarchive.so.13 by
 * minik_archive_api(), so call sites stay ordinary library calls. A function missing
 * from MINIK_ARCHIVE_SYMBOLS fails to link, because the binary does not link the library. */
#ifndef MINIK_LAZY_ARCHIVE_H
#define MINIK_LAZY_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

/* cppcheck (make lint, -D__CPPCHECK__) checks the call sites as the plain library calls
 * they stand for; it cannot follow the typeof-built table. */
#ifndef __CPPCHECK__
#define MINIK_ARCHIVE_SONAME "libarchive.so.13"

#define MINIK_ARCHIVE_SYMBOLS(X)                                                                   \
    X(archive_entry_atime)                                                                         \
    X(archive_entry_atime_is_set)                                                                  \
    X(archive_entry_atime_nsec)                                                                    \
    X(archive_entry_filetype)                                                                      \
    X(archive_entry_gid)                                                                           \
    X(archive_entry_hardlink)                                                                      \
    X(archive_entry_mtime)                                                                         \
    X(archive_entry_mtime_nsec)                                                                    \
    X(archive_entry_pathname)                                                                      \
    X(archive_entry_perm)                                                                          \
    X(archive_entry_rdevmajor)                                                                     \
    X(archive_entry_rdevminor)                                                                     \
    X(archive_entry_size)                                                                          \
    X(archive_entry_size_is_set)                                                                   \
    X(archive_entry_symlink)                                                                       \
    X(archive_entry_uid)                                                                           \
    X(archive_entry_xattr_next)                                                                    \
    X(archive_entry_xattr_reset)                                                                   \
    X(archive_error_string)                                                                        \
    X(archive_read_data_block)                                                                     \
    X(archive_read_free)                                                                           \
    X(archive_read_new)                                                                            \
    X(archive_read_next_header)                                                                    \
    X(archive_read_open2)                                                                          \
    X(archive_read_open_fd)                                                                        \
    X(archive_read_open_filename)                                                                  \
    X(archive_read_open_memory)                                                                    \
    X(archive_read_support_filter_all)                                                             \
    X(archive_read_support_format_gnutar)                                                          \
    X(archive_read_support_format_raw)                                                             \
    X(archive_read_support_format_tar)                                                             \
    X(archive_set_error)

typedef struct minik_archive_api {
#define MINIK_LAZY_MEMBER(name) __typeof__(name) *name;
    MINIK_ARCHIVE_SYMBOLS(MINIK_LAZY_MEMBER)
#undef MINIK_LAZY_MEMBER
} minik_archive_api_t;

/* The resolved functions; loads libarchive.so.13 on the first call (thread-safe). A library
 * that cannot be loaded is an installation error: the process reports which library and
 * why on stderr and aborts, like an allocation failure. */
const minik_archive_api_t *minik_archive_api(void);

#undef archive_entry_atime
#define archive_entry_atime(...) (minik_archive_api()->archive_entry_atime(__VA_ARGS__))
#undef archive_entry_atime_is_set
#define archive_entry_atime_is_set(...)                                                            \
    (minik_archive_api()->archive_entry_atime_is_set(__VA_ARGS__))
#undef archive_entry_atime_nsec
#define archive_entry_atime_nsec(...) (minik_archive_api()->archive_entry_atime_nsec(__VA_ARGS__))
#undef archive_entry_filetype
#define archive_entry_filetype(...) (minik_archive_api()->archive_entry_filetype(__VA_ARGS__))
#undef archive_entry_gid
#define archive_entry_gid(...) (minik_archive_api()->archive_entry_gid(__VA_ARGS__))
#undef archive_entry_hardlink
#define archive_entry_hardlink(...) (minik_archive_api()->archive_entry_hardlink(__VA_ARGS__))
#undef archive_entry_mtime
#define archive_entry_mtime(...) (minik_archive_api()->archive_entry_mtime(__VA_ARGS__))
#undef archive_entry_mtime_nsec
#define archive_entry_mtime_nsec(...) (minik_archive_api()->archive_entry_mtime_nsec(__VA_ARGS__))
#undef archive_entry_pathname
#define archive_entry_pathname(...) (minik_archive_api()->archive_entry_pathname(__VA_ARGS__))
#undef archive_entry_perm
#define archive_entry_perm(...) (minik_archive_api()->archive_entry_perm(__VA_ARGS__))
#undef archive_entry_rdevmajor
#define archive_entry_rdevmajor(...) (minik_archive_api()->archive_entry_rdevmajor(__VA_ARGS__))
#undef archive_entry_rdevminor
#define archive_entry_rdevminor(...) (minik_archive_api()->archive_entry_rdevminor(__VA_ARGS__))
#undef archive_entry_size
#define archive_entry_size(...) (minik_archive_api()->archive_entry_size(__VA_ARGS__))
#undef archive_entry_size_is_set
#define archive_entry_size_is_set(...) (minik_archive_api()->archive_entry_size_is_set(__VA_ARGS__))
#undef archive_entry_symlink
#define archive_entry_symlink(...) (minik_archive_api()->archive_entry_symlink(__VA_ARGS__))
#undef archive_entry_uid
#define archive_entry_uid(...) (minik_archive_api()->archive_entry_uid(__VA_ARGS__))
#undef archive_entry_xattr_next
#define archive_entry_xattr_next(...) (minik_archive_api()->archive_entry_xattr_next(__VA_ARGS__))
#undef archive_entry_xattr_reset
#define archive_entry_xattr_reset(...) (minik_archive_api()->archive_entry_xattr_reset(__VA_ARGS__))
#undef archive_error_string
#define archive_error_string(...) (minik_archive_api()->archive_error_string(__VA_ARGS__))
#undef archive_read_data_block
#define archive_read_data_block(...) (minik_archive_api()->archive_read_data_block(__VA_ARGS__))
#undef archive_read_free
#define archive_read_free(...) (minik_archive_api()->archive_read_free(__VA_ARGS__))
#undef archive_read_new
#define archive_read_new(...) (minik_archive_api()->archive_read_new(__VA_ARGS__))
#undef archive_read_next_header
#define archive_read_next_header(...) (minik_archive_api()->archive_read_next_header(__VA_ARGS__))
#undef archive_read_open2
#define archive_read_open2(...) (minik_archive_api()->archive_read_open2(__VA_ARGS__))
#undef archive_read_open_fd
#define archive_read_open_fd(...) (minik_archive_api()->archive_read_open_fd(__VA_ARGS__))
#undef archive_read_open_filename
#define archive_read_open_filename(...)                                                            \
    (minik_archive_api()->archive_read_open_filename(__VA_ARGS__))
#undef archive_read_open_memory
#define archive_read_open_memory(...) (minik_archive_api()->archive_read_open_memory(__VA_ARGS__))
#undef archive_read_support_filter_all
#define archive_read_support_filter_all(...)                                                       \
    (minik_archive_api()->archive_read_support_filter_all(__VA_ARGS__))
#undef archive_read_support_format_gnutar
#define archive_read_support_format_gnutar(...)                                                    \
    (minik_archive_api()->archive_read_support_format_gnutar(__VA_ARGS__))
#undef archive_read_support_format_raw
#define archive_read_support_format_raw(...)                                                       \
    (minik_archive_api()->archive_read_support_format_raw(__VA_ARGS__))
#undef archive_read_support_format_tar
#define archive_read_support_format_tar(...)                                                       \
    (minik_archive_api()->archive_read_support_format_tar(__VA_ARGS__))
#undef archive_set_error
#define archive_set_error(...) (minik_archive_api()->archive_set_error(__VA_ARGS__))
#endif

#endif
