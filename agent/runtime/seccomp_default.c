/* The default seccomp profile, precompiled (see minik_seccomp_default_filter). Regenerate
 * after changing seccomp_profile.c or moving to another libseccomp:
 *     make build/tools/cgtool && build/tools/cgtool seccomp-gen \
 *         > agent/runtime/seccomp_default_x86_64.inc
 * tests/unit/test_seccomp.c fails when the embedded program differs from a fresh compile. */
#include "agent/runtime/seccomp.h"

#include <linux/filter.h>

#if defined(__x86_64__)
static const struct sock_filter default_filter[] = {
#include "agent/runtime/seccomp_default_x86_64.inc"
};
#define HAVE_DEFAULT_FILTER 1
#endif

const struct sock_filter *minik_seccomp_default_filter(size_t *n)
{
#ifdef HAVE_DEFAULT_FILTER
    *n = sizeof(default_filter) / sizeof(default_filter[0]);
    return default_filter;
#else
    *n = 0;
    return NULL;
#endif
}
