/* minik image pull|import|ls|rm|prune|inspect|mount|unmount: the node's local image store,
 * with no server involved. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/images/images.h"
#include "agent/images/internal.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define DEFAULT_DATA_DIR "/var/lib/minik"

static const char *data_dir = DEFAULT_DATA_DIR;
static const char *creds_file;
static const char *platform;
static const char *name;
static char **plain_http;
static bool quiet;
static bool copy_rootfs;

#define DATA_DIR_FLAG                                                                              \
    {                                                                                              \
        "data-dir", 0, MINIK_FLAG_STRING, &data_dir, "DIR",                                        \
            "node data directory (default " DEFAULT_DATA_DIR ")"                                   \
    }

static void human(uint64_t b, char *out, size_t n)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1000 && i < 4)
        v /= 1000, i++;
    if (i == 0)
        snprintf(out, n, "%lluB", (unsigned long long)b);
    else
        snprintf(out, n, "%.3g%s", v, u[i]);
}

/* Every subcommand runs on the store its flags name, opened (and closed) by minik_cmd_image
 * once the flags are parsed: args[0..nargs) are its positional arguments. Returns an exit code. */
typedef int (*image_run_fn)(minik_images_t *s, char **args, int nargs);

/* ---- pull ------------------------------------------------------------------------------ */

typedef struct progress {
    char digest[8][72];
    int64_t now[8], total[8];
    bool done[8];
    int n;
    unsigned finished;
    int64_t last_ms;
} progress_t;

static void on_progress(void *data, const char *digest, int64_t now, int64_t total, bool done)
{
    progress_t *p = data;
    int i;
    for (i = 0; i < p->n; i++)
        if (strcmp(p->digest[i], digest) == 0)
            break;
    if (i == p->n) {
        if (p->n == 8) {
            /* Only the transfers in flight are shown: reuse a finished slot. */
            for (i = 0; i < 8 && !p->done[i]; i++) {
            }
            if (i == 8)
                return;
        } else {
            p->n++;
        }
        snprintf(p->digest[i], sizeof(p->digest[i]), "%s", digest);
        p->done[i] = false;
    }
    if (done && !p->done[i])
        p->finished++;
    p->now[i] = now, p->total[i] = total, p->done[i] = done;
    /* curl reports many times a second; a terminal needs ten updates at most. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (!done && ms - p->last_ms < 100)
        return;
    p->last_ms = ms;
    int64_t a = 0, b = 0;
    for (int k = 0; k < p->n; k++)
        if (!p->done[k])
            a += p->now[k], b += p->total[k] > 0 ? p->total[k] : 0;
    char x[32], y[32];
    human((uint64_t)a, x, sizeof(x));
    human((uint64_t)b, y, sizeof(y));
    fprintf(stderr, "\r\033[K%u blobs done, downloading %s / %s", p->finished, x, y);
}

static const minik_cli_flag_t pull_flags[] = {
    DATA_DIR_FLAG,
    {"creds-file", 0, MINIK_FLAG_STRING, &creds_file, "FILE",
     "registry credentials in docker config.json format (default $DOCKER_CONFIG/config.json "
     "or ~/.docker/config.json)"},
    {"platform", 0, MINIK_FLAG_STRING, &platform, "OS/ARCH[/VARIANT]",
     "platform to pick from a multi-platform image (default: this host's)"},
    {"plain-http", 0, MINIK_FLAG_LIST, &plain_http, "HOST[:PORT]",
     "talk plain HTTP to this registry (repeatable; loopback registries always are)"},
    {"quiet", 'q', MINIK_FLAG_BOOL, &quiet, NULL, "print only the digest"},
    {0},
};
static const minik_cli_spec_t pull_spec = {
    .usage = "minik image pull [flags] REF",
    .summary = "Pull an image from a registry into the node's image store",
    .description = "REF is any reference Docker accepts: nginx, nginx:1.27, host:5000/app:v3,\n"
                   "app@sha256:<digest>. Registries other than loopback ones use HTTPS unless\n"
                   "listed with --plain-http or in <data-dir>/images/registries.json.",
    .flags = pull_flags,
    .min_args = 1,
    .max_args = 1,
};

static char *default_creds_file(void)
{
    const char *dc = getenv("DOCKER_CONFIG");
    const char *home = getenv("HOME");
    char *p = dc && *dc ? xasprintf("%s/config.json", dc)
              : home    ? xasprintf("%s/.docker/config.json", home)
                        : NULL;
    if (p && access(p, R_OK) < 0) {
        free(p);
        p = NULL;
    }
    return p;
}

static int image_pull(minik_images_t *s, char **args, int nargs)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *creds = NULL;
    cleanup_free char *cf = creds_file ? xstrdup(creds_file) : default_creds_file();
    if (cf && minik_file_read(cf, 1 << 20, &creds, NULL, &err) < 0)
        return minik_cli_fail(err);
    progress_t prog = {0};
    bool tty = isatty(STDERR_FILENO) && !quiet;
    minik_pull_opts_t opts = {.creds_json = creds,
                              .platform = platform,
                              .plain_http = plain_http,
                              .progress = tty ? on_progress : NULL,
                              .progress_data = &prog};
    cleanup_free char *digest = NULL;
    int r = minik_images_pull(s, args[0], &opts, &digest, &err);
    if (tty)
        fprintf(stderr, "\r\033[K");
    if (r < 0)
        return minik_cli_fail(err);
    if (quiet)
        printf("%s\n", digest);
    else
        printf("Pulled %s\nDigest: %s\n", args[0], digest);
    return MINIK_EXIT_OK;
}

/* ---- import ---------------------------------------------------------------------------- */

static const minik_cli_flag_t import_flags[] = {
    DATA_DIR_FLAG,
    {"name", 0, MINIK_FLAG_STRING, &name, "NAME[:TAG]", "reference to store the image under"},
    {"platform", 0, MINIK_FLAG_STRING, &platform, "OS/ARCH[/VARIANT]",
     "platform to pick from a multi-platform layout (default: this host's)"},
    {0},
};
static const minik_cli_spec_t import_spec = {
    .usage = "minik image import [flags] PATH",
    .summary = "Import an OCI layout, an OCI/docker archive or a rootfs tarball",
    .description = "PATH is an OCI image layout directory, a tarball of one, a docker-archive\n"
                   "(docker save, skopeo copy ... docker-archive:), or a plain root filesystem\n"
                   "tarball (gzip/zstd/xz or uncompressed), which needs --name.",
    .flags = import_flags,
    .min_args = 1,
    .max_args = 1,
};

static int image_import(minik_images_t *s, char **args, int nargs)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *ref = NULL;
    if (minik_images_import(s, args[0], name, platform, &ref, &err) < 0)
        return minik_cli_fail(err);
    printf("Imported %s\n", ref);
    return MINIK_EXIT_OK;
}

/* ---- ls -------------------------------------------------------------------------------- */

static const minik_cli_flag_t ls_flags[] = {
    DATA_DIR_FLAG,
    {"quiet", 'q', MINIK_FLAG_BOOL, &quiet, NULL, "print only references"},
    {0},
};
static const minik_cli_spec_t ls_spec = {
    .usage = "minik image ls [flags]",
    .summary = "List the images in the node's store, with disk usage",
    .flags = ls_flags,
    .min_args = 0,
    .max_args = 0,
};

static int image_ls(minik_images_t *s, char **args, int nargs)
{
    cleanup_error minik_error_t *err = NULL;
    minik_image_t **list = NULL;
    uint64_t bb = 0, lb = 0;
    int r = minik_images_list(s, &list, &err);
    if (r == 0)
        r = minik_images_disk_usage(s, &bb, &lb, &err);
    if (r < 0) {
        minik_image_list_free(list);
        return minik_cli_fail(err);
    }
    if (!quiet)
        printf("%-40s %-16s %-14s %s\n", "REPOSITORY", "TAG", "DIGEST", "SIZE");
    for (size_t i = 0; list[i]; i++) {
        minik_image_t *im = list[i];
        if (quiet) {
            printf("%s\n", im->ref);
            continue;
        }
        char sz[32] = "damaged";
        if (im->size >= 0)
            human((uint64_t)im->size, sz, sizeof(sz));
        printf("%-40s %-16s %-14.12s %s\n", im->name, im->tag ? im->tag : "<none>",
               im->manifest_digest + 7, sz);
    }
    if (!quiet) {
        char a[32], b[32], c[32];
        human(bb, a, sizeof(a));
        human(lb, b, sizeof(b));
        human(bb + lb, c, sizeof(c));
        printf("\nDisk usage: %s total (blobs %s, unpacked layers %s)\n", c, a, b);
    }
    minik_image_list_free(list);
    return MINIK_EXIT_OK;
}

/* ---- rm / prune ------------------------------------------------------------------------ */

static const minik_cli_flag_t dd_flags[] = {DATA_DIR_FLAG, {0}};
static const minik_cli_spec_t rm_spec = {
    .usage = "minik image rm [flags] REF...",
    .summary = "Remove image references; data nothing else uses is freed",
    .description = "An image that a container's root filesystem uses cannot be removed.",
    .flags = dd_flags,
    .min_args = 1,
    .max_args = -1,
};

static int image_rm(minik_images_t *s, char **args, int nargs)
{
    int rc = MINIK_EXIT_OK;
    for (int i = 0; i < nargs; i++) {
        cleanup_error minik_error_t *err = NULL;
        if (minik_images_remove(s, args[i], &err) < 0)
            rc = minik_cli_fail(err);
        else
            printf("Deleted %s\n", args[i]);
    }
    return rc;
}

static const minik_cli_spec_t prune_spec = {
    .usage = "minik image prune [flags]",
    .summary = "Remove blobs, layers and leftovers no image or container uses",
    .flags = dd_flags,
    .min_args = 0,
    .max_args = 0,
};

static int image_prune(minik_images_t *s, char **args, int nargs)
{
    cleanup_error minik_error_t *err = NULL;
    uint64_t bytes = 0;
    unsigned items = 0;
    if (minik_images_gc(s, &bytes, &items, &err) < 0)
        return minik_cli_fail(err);
    char b[32];
    human(bytes, b, sizeof(b));
    printf("Removed %u unused blobs and layers, reclaimed %s\n", items, b);
    return MINIK_EXIT_OK;
}

/* ---- inspect --------------------------------------------------------------------------- */

static const minik_cli_spec_t inspect_spec = {
    .usage = "minik image inspect [flags] REF",
    .summary = "Print an image's digests, layers and config as JSON",
    .flags = dd_flags,
    .min_args = 1,
    .max_args = 1,
};

static int image_inspect(minik_images_t *s, char **args, int nargs)
{
    cleanup_error minik_error_t *err = NULL;
    minik_image_t *img = NULL;
    minik_image_manifest_t *m = NULL;
    cJSON *config = NULL;
    int r = minik_images_resolve(s, args[0], &img, &err);
    if (r == 0 && minik_images_load_manifest(s, img->manifest_digest, &m, &err) < 0)
        r = minik_error_wrap(&err, "image %s", img->ref);
    if (r == 0)
        r = minik_images_config(s, img->manifest_digest, &config, &err);
    if (r == 0) {
        cleanup_cjson cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "ref", img->ref);
        cJSON_AddStringToObject(j, "name", img->name);
        if (img->tag)
            cJSON_AddStringToObject(j, "tag", img->tag);
        cJSON_AddStringToObject(j, "digest", img->manifest_digest);
        if (img->index_digest)
            cJSON_AddStringToObject(j, "indexDigest", img->index_digest);
        cJSON_AddStringToObject(j, "mediaType", m->media_type);
        cJSON_AddStringToObject(j, "configDigest", img->config_digest);
        cJSON_AddNumberToObject(j, "size", (double)img->size);
        cJSON *ls = cJSON_AddArrayToObject(j, "layers");
        cleanup_strv char **ids = NULL;
        cleanup_error minik_error_t *ierr = NULL;
        minik_images_diff_ids(s, m, &ids, &ierr); /* shown when the config has them */
        for (size_t i = 0; i < m->n_layers; i++) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddStringToObject(l, "digest", m->layers[i].digest);
            if (ids)
                cJSON_AddStringToObject(l, "diffID", ids[i]);
            cJSON_AddStringToObject(l, "mediaType", m->layers[i].media_type);
            cJSON_AddNumberToObject(l, "size", (double)m->layers[i].size);
            cJSON_AddItemToArray(ls, l);
        }
        cJSON_AddItemToObject(j, "config", steal_pointer(&config));
        cleanup_free char *text = cJSON_Print(j);
        printf("%s\n", text);
    }
    cJSON_Delete(config);
    minik_image_manifest_free(m);
    minik_image_free(img);
    return r < 0 ? minik_cli_fail(err) : MINIK_EXIT_OK;
}

/* ---- mount / unmount ------------------------------------------------------------------- */

static const minik_cli_flag_t mount_flags[] = {
    DATA_DIR_FLAG,
    {"copy", 0, MINIK_FLAG_BOOL, &copy_rootfs, NULL, "copy the layers instead of using overlayfs"},
    {0},
};
static const minik_cli_spec_t mount_spec = {
    .usage = "minik image mount [flags] REF CONTAINER_ID",
    .summary = "Prepare a container root filesystem from an image and print its path",
    .description = "What the agent does before starting a container; useful to look inside an\n"
                   "image. Undo with `minik image unmount CONTAINER_ID`.",
    .flags = mount_flags,
    .min_args = 2,
    .max_args = 2,
};

static int image_mount(minik_images_t *s, char **args, int nargs)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *path = NULL;
    if (minik_images_rootfs_prepare(s, args[0], args[1], &path, &err) < 0)
        return minik_cli_fail(err);
    printf("%s\n", path);
    return MINIK_EXIT_OK;
}

static const minik_cli_spec_t unmount_spec = {
    .usage = "minik image unmount [flags] CONTAINER_ID",
    .summary = "Unmount and delete a container root filesystem",
    .flags = dd_flags,
    .min_args = 1,
    .max_args = 1,
};

static int image_unmount(minik_images_t *s, char **args, int nargs)
{
    cleanup_error minik_error_t *err = NULL;
    if (minik_images_rootfs_remove(s, args[0], &err) < 0)
        return minik_cli_fail(err);
    return MINIK_EXIT_OK;
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct {
    const char *name;
    image_run_fn run;
    const minik_cli_spec_t *spec;
} subs[] = {
    {"pull", image_pull, &pull_spec},    {"import", image_import, &import_spec},
    {"ls", image_ls, &ls_spec},          {"rm", image_rm, &rm_spec},
    {"prune", image_prune, &prune_spec}, {"inspect", image_inspect, &inspect_spec},
    {"mount", image_mount, &mount_spec}, {"unmount", image_unmount, &unmount_spec},
};

/* Parse the subcommand's flags, open the store they name, run it, close the store. */
static int run_sub(image_run_fn run, const minik_cli_spec_t *spec, int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    minik_images_t *s = NULL;
    if (minik_images_open(data_dir, &s, &err) < 0)
        return minik_cli_fail(err);
    if (copy_rootfs)
        minik_images_set_copy_rootfs(s, true);
    r = run(s, argv + first, argc - first);
    minik_images_close(s);
    return r;
}

static void image_help(FILE *out)
{
    fprintf(out, "Manage the node's local image store\n\nUsage:\n  minik image <command> "
                 "[flags]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        fprintf(out, "  %-10s %s\n", subs[i].name, subs[i].spec->summary);
    fprintf(out, "\nRun 'minik image <command> --help' for its flags.\n");
}

int minik_cmd_image(int argc, char **argv)
{
    if (argc < 2) {
        image_help(stderr);
        return MINIK_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        image_help(stdout);
        return MINIK_EXIT_OK;
    }
    const char *sub = strcmp(argv[1], "list") == 0     ? "ls"
                      : strcmp(argv[1], "remove") == 0 ? "rm"
                                                       : argv[1];
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(subs[i].name, sub) == 0) {
            int rc = run_sub(subs[i].run, subs[i].spec, argc - 1, argv + 1);
            minik_strv_free(plain_http);
            plain_http = NULL;
            return rc;
        }
    }
    fprintf(stderr, "error: unknown image command \"%s\"\n\n", argv[1]);
    image_help(stderr);
    return MINIK_EXIT_USAGE;
}
