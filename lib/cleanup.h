/* Scope-bound ownership, as in crun and systemd.
 *
 *     cleanup_free char *path = xasprintf("%s/config.json", dir);
 *     cleanup_close int fd = open(path, O_RDONLY);
 *     ...
 *     return steal_pointer(&path);   // hand ownership to the caller
 *
 * Every helper tolerates the "empty" value (NULL, or -1 for fds), so a variable can be
 * declared early and left unset on error paths. */
#ifndef MINIK_CLEANUP_H
#define MINIK_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>

#include <cjson/cJSON.h>

#include "error.h"

void minik_cleanup_freep(void *p);
void minik_cleanup_closep(int *fd);
void minik_cleanup_fclosep(FILE **f);
void minik_cleanup_closedirp(DIR **d);
void minik_cleanup_cjsonp(cJSON **j);
void minik_cleanup_errorp(minik_error_t **e);
void minik_cleanup_strvp(char ***v);

#define cleanup_free     __attribute__((cleanup(minik_cleanup_freep)))
#define cleanup_close    __attribute__((cleanup(minik_cleanup_closep)))
#define cleanup_fclose   __attribute__((cleanup(minik_cleanup_fclosep)))
#define cleanup_closedir __attribute__((cleanup(minik_cleanup_closedirp)))
#define cleanup_cjson    __attribute__((cleanup(minik_cleanup_cjsonp)))
#define cleanup_error    __attribute__((cleanup(minik_cleanup_errorp)))
/* A NULL-terminated array of owned strings (see minik_strv_free). */
#define cleanup_strv __attribute__((cleanup(minik_cleanup_strvp)))

/* Return *pp and set it to NULL, so a cleanup attribute no longer frees it. */
#define steal_pointer(pp)                                                                          \
    ({                                                                                             \
        __typeof__(*(pp)) steal_tmp_ = *(pp);                                                      \
        *(pp) = NULL;                                                                              \
        steal_tmp_;                                                                                \
    })

/* Return *fdp and set it to -1, so cleanup_close no longer closes it. */
#define steal_fd(fdp)                                                                              \
    ({                                                                                             \
        int steal_fd_tmp_ = *(fdp);                                                                \
        *(fdp) = -1;                                                                               \
        steal_fd_tmp_;                                                                             \
    })

#endif
