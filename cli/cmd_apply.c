/* minik apply: read manifests, validate and default them. With --dry-run=client it works
 * without a server and prints the result; sending objects to the API server is added by
 * the API client work (it calls the same minik_manifest_load). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/encode.h"
#include "proto/kinds.h"
#include "proto/load.h"

static char **files;
static const char *dry_run;
static const char *output;
static const char *validate_flag;

static const minik_cli_flag_t flags[] = {
    {"filename", 'f', MINIK_FLAG_LIST, &files, "FILE",
     "manifest file, directory (*.yaml, *.yml, *.json) or - for stdin; repeatable"},
    {"dry-run", 0, MINIK_FLAG_STRING, &dry_run, "MODE",
     "client: validate and default locally, print the result, change nothing"},
    {"output", 'o', MINIK_FLAG_STRING, &output, "FORMAT", "print the objects as yaml or json"},
    {"validate", 0, MINIK_FLAG_STRING, &validate_flag, "MODE",
     "strict (default): unknown fields are errors; warn: they are warnings"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik apply -f FILE|DIR|- [-f ...] [--dry-run=client] [-o yaml|json] "
             "[--validate=strict|warn]",
    .summary = "Apply Kubernetes manifests (validated and defaulted as Kubernetes would)",
    .description = "Every problem in the manifests is reported as FILE:LINE:COL: FIELD: MESSAGE,\n"
                   "all of them at once; nothing is applied if any document is invalid.",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

/* "deployment.apps/web" as kubectl names objects in its messages. */
static void print_summary(const cJSON *objs)
{
    for (const cJSON *o = objs->child; o; o = o->next) {
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(o, "apiVersion");
        const cJSON *kd = cJSON_GetObjectItemCaseSensitive(o, "kind");
        const minik_kind_t *k = minik_kind_lookup(av->valuestring, kd->valuestring);
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
        const cJSON *gen = cJSON_GetObjectItemCaseSensitive(meta, "generateName");
        const char *n = cJSON_IsString(name) ? name->valuestring : NULL;
        printf("%s%s%s/%s%s created (dry run)\n", k->singular, k->group[0] ? "." : "", k->group,
               n ? n : (cJSON_IsString(gen) ? gen->valuestring : ""), n ? "" : "<generated>");
    }
}

int minik_cmd_apply(int argc, char **argv)
{
    files = NULL;
    dry_run = output = validate_flag = NULL;
    int r = minik_cli_parse(&spec, argc, argv, NULL);
    cleanup_strv char **paths = files;
    files = NULL;
    if (r != 0)
        return minik_cli_parse_exit(r);
    if (paths == NULL)
        return minik_cli_usage_error(&spec, "must specify at least one -f FILE|DIR|-");

    minik_validate_mode_t mode = MINIK_VALIDATE_STRICT;
    if (validate_flag && minik_validate_mode_parse(validate_flag, &mode) < 0)
        return minik_cli_usage_error(
            &spec, "--validate=%s: use strict or warn (minik never drops unknown fields silently)",
            validate_flag);
    if (output && strcmp(output, "yaml") != 0 && strcmp(output, "json") != 0)
        return minik_cli_usage_error(&spec, "-o %s: use yaml or json", output);
    if (dry_run && strcmp(dry_run, "client") != 0 && strcmp(dry_run, "server") != 0 &&
        strcmp(dry_run, "none") != 0)
        return minik_cli_usage_error(&spec, "--dry-run=%s: use client, server or none", dry_run);
    if (dry_run == NULL || strcmp(dry_run, "client") != 0) {
        fprintf(stderr, "error: talking to a minik server is not available yet in this build; "
                        "use --dry-run=client to validate manifests locally\n");
        return MINIK_EXIT_ERROR;
    }

    cleanup_diags minik_diags_t diags = MINIK_DIAGS_INIT;
    cleanup_cjson cJSON *objs = NULL;
    r = minik_manifest_load(paths, mode, &objs, &diags);
    cleanup_buf minik_buf_t msg = MINIK_BUF_INIT;
    minik_diags_format(&diags, &msg);
    if (msg.len)
        fputs(msg.data, stderr);
    if (r < 0) {
        fprintf(stderr, "error: %zu error%s in the manifests; nothing was applied\n",
                diags.n_errors, diags.n_errors == 1 ? "" : "s");
        return MINIK_EXIT_ERROR;
    }

    if (output == NULL) {
        print_summary(objs);
        return MINIK_EXIT_OK;
    }
    size_t n = (size_t)cJSON_GetArraySize(objs);
    cleanup_free const cJSON **arr = xcalloc(n ? n : 1, sizeof *arr);
    size_t i = 0;
    for (const cJSON *o = objs->child; o; o = o->next)
        arr[i++] = o;
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    if (strcmp(output, "yaml") == 0) {
        minik_encode_yaml_stream(arr, n, &out);
    } else if (n == 1) {
        minik_encode_json(arr[0], true, &out);
        minik_buf_append_char(&out, '\n');
    } else {
        minik_encode_json_list(arr, n, &out);
        minik_buf_append_char(&out, '\n');
    }
    fwrite(out.data, 1, out.len, stdout);
    return MINIK_EXIT_OK;
}
