/* Fuzz the OCI linux.resources parser (agent/runtime/cgroup_resources.c) and the device
 * filter builder fed by it: any JSON gives a parsed set or an error naming a field. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime/cgroup_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (j == NULL)
        return 0;
    for (int creating = 0; creating < 2; creating++) {
        cg_resources_t r;
        minik_error_t *err = NULL;
        if (cg_resources_parse(j, creating, &r, &err) == 0) {
            if (creating && !r.has_devices)
                __builtin_trap(); /* creation always gets the default allow-list */
            for (size_t i = 0; i < r.n_devices; i++) {
                char line[64];
                cg_device_rule_format(&r.devices[i], line);
                if (strlen(line) < 7)
                    __builtin_trap();
            }
            void *insns = NULL;
            size_t n = 0;
            if (r.has_devices &&
                cg_devices_bpf_build(r.devices, r.n_devices, &insns, &n, &err) == 0)
                free(insns);
            cg_resources_clear(&r);
        } else if (err == NULL || strncmp(err->msg, "resources", 9) != 0) {
            __builtin_trap(); /* errors name the field, starting at "resources" */
        }
        minik_error_free(err);
    }
    cJSON_Delete(j);
    return 0;
}
