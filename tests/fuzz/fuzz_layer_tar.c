/* libFuzzer target: a layer tarball (any compression) unpacked into a fresh temp
 * directory, as the store does with layers from registries. Beyond memory errors it checks
 * the one promise that matters: nothing is ever written outside the layer directory. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"

static char *top;

static void remove_top(void)
{
    minik_rm_rf(top, NULL);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!top) {
        top = xstrdup("/tmp/minik-fuzz-layer-XXXXXX");
        if (!mkdtemp(top))
            abort();
        atexit(remove_top);
    }
    cleanup_free char *layer = xasprintf("%s/layer", top);
    if (mkdir(layer, 0755) < 0)
        abort();
    static const minik_unpack_limits_t lim = {16 << 20, 10000};
    cleanup_error minik_error_t *err = NULL;
    minik_unpack_layer_mem(data, size, layer, &lim, &err);
    /* The sandbox holds only the layer dir: anything else escaped. */
    if (count_entries(top) != 1)
        abort();
    if (minik_rm_rf(layer, NULL) < 0)
        abort();
    return 0;
}
