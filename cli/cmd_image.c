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

static int open_store(minik_images_t **s)
{
    cleanup_error minik_error_t *err = NULL;
    if (minik_images_open(data_dir, s, &err) < 0)
        return minik_cli_fail(err);
    if (copy_rootfs)
        minik_images_set_copy_rootfs(*s, true);
    return 0;
}

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
    .usage = "minik image pull REF [flags]",
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

static int image_pull(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&pull_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *creds = NULL;
    cleanup_free char *cf = creds_file ? xstrdup(creds_file) : default_creds_file();
    if (cf && minik_file_read(cf, 1 << 20, &creds, NULL, &err) < 0)
        return minik_cli_fail(err);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    progress_t prog = {0};
    bool tty = isatty(STDERR_FILENO) && !quiet;
    minik_pull_opts_t opts = {.creds_json = creds,
                              .platform = platform,
                              .plain_http = plain_http,
                              .progress = tty ? on_progress : NULL,
                              .progress_data = &prog};
    cleanup_free char *digest = NULL;
    r = minik_images_pull(s, argv[first], &opts, &digest, &err);
    if (tty)
        fprintf(stderr, "\r\033[K");
    minik_images_close(s);
    if (r < 0)
        return minik_cli_fail(err);
    if (quiet)
        printf("%s\n", digest);
    else
        printf("Pulled %s\nDigest: %s\n", argv[first], digest);
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
    .usage = "minik image import PATH [--name NAME:TAG] [flags]",
    .summary = "Import an OCI layout, an OCI/docker archive or a rootfs tarball",
    .description = "PATH is an OCI image layout directory, a tarball of one, a docker-archive\n"
                   "(docker save, skopeo copy ... docker-archive:), or a plain root filesystem\n"
                   "tarball (gzip/zstd/xz or uncompressed), which needs --name.",
    .flags = import_flags,
    .min_args = 1,
    .max_args = 1,
};

static int image_import(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&import_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *ref = NULL;
    r = minik_images_import(s, argv[first], name, platform, &ref, &err);
    minik_images_close(s);
    if (r < 0)
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

static int image_ls(int argc, char **argv)
{
    int r = minik_cli_parse(&ls_spec, argc, argv, NULL);
    if (r != 0)
        return minik_cli_parse_exit(r);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    cleanup_error minik_error_t *err = NULL;
    minik_image_t **list = NULL;
    uint64_t bb = 0, lb = 0;
    r = minik_images_list(s, &list, &err);
    if (r == 0)
        r = minik_images_disk_usage(s, &bb, &lb, &err);
    minik_images_close(s);
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
        char sz[32];
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
    .usage = "minik image rm REF... [flags]",
    .summary = "Remove image references; data nothing else uses is freed",
    .description = "An image that a container's root filesystem uses cannot be removed.",
    .flags = dd_flags,
    .min_args = 1,
    .max_args = -1,
};

static int image_rm(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&rm_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    int rc = MINIK_EXIT_OK;
    for (int i = first; i < argc; i++) {
        cleanup_error minik_error_t *err = NULL;
        if (minik_images_remove(s, argv[i], &err) < 0)
            rc = minik_cli_fail(err);
        else
            printf("Deleted %s\n", argv[i]);
    }
    minik_images_close(s);
    return rc;
}

static const minik_cli_spec_t prune_spec = {
    .usage = "minik image prune [flags]",
    .summary = "Remove blobs, layers and leftovers no image or container uses",
    .flags = dd_flags,
    .min_args = 0,
    .max_args = 0,
};

static int image_prune(int argc, char **argv)
{
    int r = minik_cli_parse(&prune_spec, argc, argv, NULL);
    if (r != 0)
        return minik_cli_parse_exit(r);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    cleanup_error minik_error_t *err = NULL;
    uint64_t bytes = 0;
    unsigned items = 0;
    r = minik_images_gc(s, &bytes, &items, &err);
    minik_images_close(s);
    if (r < 0)
        return minik_cli_fail(err);
    char b[32];
    human(bytes, b, sizeof(b));
    printf("Removed %u unused blobs and layers, reclaimed %s\n", items, b);
    return MINIK_EXIT_OK;
}

/* ---- inspect --------------------------------------------------------------------------- */

static const minik_cli_spec_t inspect_spec = {
    .usage = "minik image inspect REF [flags]",
    .summary = "Print an image's digests, layers and config as JSON",
    .flags = dd_flags,
    .min_args = 1,
    .max_args = 1,
};

static int image_inspect(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&inspect_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    cleanup_error minik_error_t *err = NULL;
    minik_image_t *img = NULL;
    minik_image_manifest_t *m = NULL;
    cJSON *config = NULL;
    r = minik_images_resolve(s, argv[first], &img, &err);
    if (r == 0)
        r = minik_images_load_manifest(s, img->manifest_digest, &m, &err);
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
        for (size_t i = 0; i < m->n_layers; i++) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddStringToObject(l, "digest", m->layers[i].digest);
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
    minik_images_close(s);
    return r < 0 ? minik_cli_fail(err) : MINIK_EXIT_OK;
}

/* ---- mount / unmount ------------------------------------------------------------------- */

static const minik_cli_flag_t mount_flags[] = {
    DATA_DIR_FLAG,
    {"copy", 0, MINIK_FLAG_BOOL, &copy_rootfs, NULL, "copy the layers instead of using overlayfs"},
    {0},
};
static const minik_cli_spec_t mount_spec = {
    .usage = "minik image mount REF CONTAINER_ID [flags]",
    .summary = "Prepare a container root filesystem from an image and print its path",
    .description = "What the agent does before starting a container; useful to look inside an\n"
                   "image. Undo with `minik image unmount CONTAINER_ID`.",
    .flags = mount_flags,
    .min_args = 2,
    .max_args = 2,
};

static int image_mount(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&mount_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *path = NULL;
    r = minik_images_rootfs_prepare(s, argv[first], argv[first + 1], &path, &err);
    minik_images_close(s);
    if (r < 0)
        return minik_cli_fail(err);
    printf("%s\n", path);
    return MINIK_EXIT_OK;
}

static const minik_cli_spec_t unmount_spec = {
    .usage = "minik image unmount CONTAINER_ID [flags]",
    .summary = "Unmount and delete a container root filesystem",
    .flags = dd_flags,
    .min_args = 1,
    .max_args = 1,
};

static int image_unmount(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&unmount_spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    minik_images_t *s = NULL;
    if ((r = open_store(&s)) != 0)
        return r;
    cleanup_error minik_error_t *err = NULL;
    r = minik_images_rootfs_remove(s, argv[first], &err);
    minik_images_close(s);
    return r < 0 ? minik_cli_fail(err) : MINIK_EXIT_OK;
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(int, char **);
    const minik_cli_spec_t *spec;
} subs[] = {
    {"pull", image_pull, &pull_spec},    {"import", image_import, &import_spec},
    {"ls", image_ls, &ls_spec},          {"rm", image_rm, &rm_spec},
    {"prune", image_prune, &prune_spec}, {"inspect", image_inspect, &inspect_spec},
    {"mount", image_mount, &mount_spec}, {"unmount", image_unmount, &unmount_spec},
};

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
            int rc = subs[i].run(argc - 1, argv + 1);
            minik_strv_free(plain_http);
            plain_http = NULL;
            return rc;
        }
    }
    fprintf(stderr, "error: unknown image command \"%s\"\n\n", argv[1]);
    image_help(stderr);
    return MINIK_EXIT_USAGE;
}
