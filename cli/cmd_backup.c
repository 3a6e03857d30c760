/* `minik backup`: a consistent copy of the state database, taken while the server runs. */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "store/store.h"

static const char *data_dir = "/var/lib/minik";

static const minik_cli_flag_t flags[] = {
    {"data-dir", 0, MINIK_FLAG_STRING, &data_dir, "DIR",
     "the server's data directory (default /var/lib/minik)"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik backup [--data-dir DIR] FILE",
    .summary = "Copy the cluster state (DIR/state.db) to FILE",
    .description = "Uses SQLite's online backup API through a read-only connection, so it is safe\n"
                   "while `minik server` is running and writing. FILE is written beside itself\n"
                   "and renamed into place, so it is either the old file or a complete backup.\n"
                   "Restore it with `minik restore`.",
    .flags = flags,
    .min_args = 1,
    .max_args = 1,
};

static void count_cb(const char *kind, int64_t n, void *ud)
{
    *(int64_t *)ud += n;
}

int minik_cmd_backup(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *dest = argv[first];
    cleanup_free char *path = xasprintf("%s/state.db", data_dir);
    cleanup_error minik_error_t *err = NULL;
    minik_store_options_t opts = {.read_only = true};
    minik_store_t *s = NULL;
    if (minik_store_open(path, &opts, &s, &err) < 0)
        return minik_cli_fail(err);
    int64_t objects = 0;
    int64_t rv = minik_store_current_rv(s);
    r = minik_store_count_by_kind(s, count_cb, &objects, &err);
    if (r == 0)
        r = minik_store_backup(s, dest, &err);
    minik_store_free(s);
    if (r < 0)
        return minik_cli_fail(err);
    printf("backed up %" PRId64 " objects (resourceVersion %" PRId64 ") from %s to %s\n", objects,
           rv, path, dest);
    return MINIK_EXIT_OK;
}
