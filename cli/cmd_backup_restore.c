/* `minik backup` and `minik restore`: the two halves of one feature, sharing the data-dir flag,
 * the state database's path and the summary line both print.
 *
 * backup: a consistent copy of the state database, taken while the server runs.
 * restore: replace the state database by a backup, with the server stopped. */
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

static const minik_cli_spec_t backup_spec = {
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

static const minik_cli_spec_t restore_spec = {
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

/* How many objects the database at `path` holds and its resourceVersion, for the summary line;
 * `copy_to`, when set, is where a backup of it goes while it is open read-only. */
static int summarize(const char *path, const char *copy_to, int64_t *objects, int64_t *rv,
                     minik_error_t **err)
{
    minik_store_options_t ro = {.read_only = true};
    minik_store_t *s = NULL;
    /* Restore opens read-write, as the server would: that migrates an older backup and proves
     * it loads. */
    if (minik_store_open(path, copy_to ? &ro : NULL, &s, err) < 0)
        return -1;
    *objects = 0;
    *rv = minik_store_current_rv(s);
    int r = minik_store_count_by_kind(s, count_cb, objects, err);
    if (r == 0 && copy_to)
        r = minik_store_backup(s, copy_to, err);
    minik_store_free(s);
    return r;
}

int minik_cmd_backup(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&backup_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *dest = argv[first];
    cleanup_free char *path = xasprintf("%s/state.db", data_dir);
    cleanup_error minik_error_t *err = NULL;
    int64_t objects, rv;
    if (summarize(path, dest, &objects, &rv, &err) < 0)
        return minik_cli_fail(err);
    printf("backed up %" PRId64 " objects (resourceVersion %" PRId64 ") from %s to %s\n", objects,
           rv, path, dest);
    return MINIK_EXIT_OK;
}

int minik_cmd_restore(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&restore_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *src = argv[first];
    cleanup_free char *path = xasprintf("%s/state.db", data_dir);
    cleanup_error minik_error_t *err = NULL;
    if (minik_mkdir_p(data_dir, 0700, &err) < 0)
        return minik_cli_fail(err);
    if (minik_store_restore(src, path, &err) < 0)
        return minik_cli_fail(err);
    int64_t objects, rv;
    if (summarize(path, NULL, &objects, &rv, &err) < 0)
        return minik_cli_fail(err);
    printf("restored %" PRId64 " objects (resourceVersion %" PRId64 ") from %s into %s\n", objects,
           rv, src, path);
    return MINIK_EXIT_OK;
}
