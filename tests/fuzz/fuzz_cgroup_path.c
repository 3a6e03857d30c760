/* Fuzz minik_cgroup_path_normalize (the OCI linux.cgroupsPath of an untrusted spec): the
 * result, when there is one, must be a clean absolute path that cannot leave the root. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char *out = NULL;
    minik_error_t *err = NULL;
    if (minik_cgroup_path_normalize(s, &out, &err) == 0) {
        size_t n = strlen(out);
        if (out[0] != '/' || n < 2 || out[n - 1] == '/' || strstr(out, "//") ||
            strstr(out, "/../") || strstr(out, "/./") || (n >= 3 && !strcmp(out + n - 3, "/..")) ||
            (n >= 2 && !strcmp(out + n - 2, "/.")) || strchr(out, '\n'))
            __builtin_trap();
        free(out);
    } else if (err == NULL || strstr(err->msg, "cgroupsPath") == NULL) {
        __builtin_trap();
    }
    minik_error_free(err);
    free(s);
    return 0;
}
