#include "cleanup.h"

#include <errno.h>
#include <unistd.h>

#include "str.h"

void minik_cleanup_freep(void *p)
{
    void **pp = p;
    free(*pp);
    *pp = NULL;
}

void minik_cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        /* Preserve errno: cleanups run on error paths whose errno the caller reports. */
        int saved = errno;
        close(*fd);
        errno = saved;
    }
    *fd = -1;
}

void minik_cleanup_fclosep(FILE **f)
{
    if (*f) {
        int saved = errno;
        fclose(*f);
        errno = saved;
    }
    *f = NULL;
}

void minik_cleanup_closedirp(DIR **d)
{
    if (*d) {
        int saved = errno;
        closedir(*d);
        errno = saved;
    }
    *d = NULL;
}

void minik_cleanup_cjsonp(cJSON **j)
{
    cJSON_Delete(*j);
    *j = NULL;
}

void minik_cleanup_errorp(minik_error_t **e)
{
    minik_error_free(*e);
    *e = NULL;
}

void minik_cleanup_strvp(char ***v)
{
    minik_strv_free(*v);
    *v = NULL;
}
