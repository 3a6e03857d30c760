/* `minik restore`: replace the state database by a backup, with the server stopped. */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "store/store.h"

static const char *data_dir = "/var/lib/minik";

static const minik_cli_flag_t flags[] = {
    {"data-dir", 0, MINIK_FLAG_STRING, &data_dir, "DIR",
     "the server's data directory (default /var/lib/minik)"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik restore [--data-dir DIR] FILE",
    .summary = "Replace the cluster state (DIR/state.db) by the backup FILE",
    .description = "The server must be stopped: restore refuses while a process holds the\n"
                   "database lock. The backup's integrity and schema version are checked first;\n"
                   "a damaged backup, or one from a newer minik, is refused and the current\n"
                   "database is left as it was.",
    .flags = flags,
    .min_args = 1,
    .max_args = 1,
};

static void count_cb(const char *kind, int64_t n, void *ud)
{
    *(int64_t *)ud += n;
}

int minik_cmd_restore(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *src = argv[first];
    cleanup_free char *path = xasprintf("%s/state.db", data_dir);
    cleanup_error minik_error_t *err = NULL;
    if (minik_mkdir_p(data_dir, 0700, &err) < 0)
        return minik_cli_fail(err);
    if (minik_store_restore(src, path, &err) < 0)
        return minik_cli_fail(err);
    /* Open it once as the server would: migrates an older backup and proves it loads. */
    minik_store_t *s = NULL;
    if (minik_store_open(path, NULL, &s, &err) < 0)
        return minik_cli_fail(err);
    int64_t objects = 0;
    int64_t rv = minik_store_current_rv(s);
    r = minik_store_count_by_kind(s, count_cb, &objects, &err);
    minik_store_free(s);
    if (r < 0)
        return minik_cli_fail(err);
    printf("restored %" PRId64 " objects (resourceVersion %" PRId64 ") from %s into %s\n", objects,
           rv, src, path);
    return MINIK_EXIT_OK;
}
