/* minik apply: read manifests, validate and default them. With --dry-run=client it works
 * without a server and prints the result; otherwise each object is created or patched on
 * the server with kubectl's three-way merge (cli/apply.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apply.h"
#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/printers.h"
#include "cli/targets.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client_apply.h"
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
     "client: validate and default locally, print the result, change nothing; server: the "
     "server checks the writes (?dryRun=All) and stores nothing"},
    {"output", 'o', MINIK_FLAG_STRING, &output, "FORMAT",
     "print the objects as yaml or json, or only their names (name)"},
    {"validate", 0, MINIK_FLAG_STRING, &validate_flag, "MODE",
     "strict (default): unknown fields are errors; warn: they are warnings"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik apply -f FILE|DIR|- [-f ...] [--dry-run=client|server] [-o yaml|json|name] "
             "[--validate=strict|warn]",
    .summary = "Apply Kubernetes manifests (validated and defaulted as Kubernetes would)",
    .description = "Every problem in the manifests is reported as FILE:LINE:COL: FIELD: MESSAGE,\n"
                   "all of them at once; nothing is applied if any document is invalid.\n"
                   "Each object is created, or updated with a three-way merge against the\n"
                   "last-applied configuration (annotation " MINIK_LAST_APPLIED_ANNOTATION ")\n"
                   "so that fields removed from the file are removed from the object; an\n"
                   "unchanged file sends no write.",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

/* "deployment.apps/web" as kubectl names objects in its messages; with_verb adds
 * " created (dry run)". */
static void print_summary(const cJSON *objs, bool with_verb)
{
    for (const cJSON *o = objs->child; o; o = o->next) {
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(o, "apiVersion");
        const cJSON *kd = cJSON_GetObjectItemCaseSensitive(o, "kind");
        const minik_kind_t *k = minik_kind_lookup(av->valuestring, kd->valuestring);
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
        const cJSON *gen = cJSON_GetObjectItemCaseSensitive(meta, "generateName");
        const char *n = cJSON_IsString(name) ? name->valuestring : NULL;
        printf("%s%s%s/%s%s%s\n", k->singular, k->group[0] ? "." : "", k->group,
               n ? n : (cJSON_IsString(gen) ? gen->valuestring : ""), n ? "" : "<generated>",
               with_verb ? " created (dry run)" : "");
    }
}

/* The server path: validate everything first (nothing is sent if any document is
 * invalid), then apply object by object in file order, as kubectl does. */
static int apply_to_server(char **paths, minik_validate_mode_t mode, minik_dry_run_t dry)
{
    cleanup_error minik_error_t *err = NULL;
    minik_output_t fmt = MINIK_OUTPUT_TABLE;
    if (output && minik_output_parse(output, &fmt, &err) < 0)
        return minik_cli_fail(err);
    minik_target_list_t objs = {0};
    if (minik_targets_from_files(paths, true, (int)mode, &objs, &err) < 0) {
        fprintf(stderr, "error: %s; nothing was applied\n", err->msg);
        return MINIK_EXIT_ERROR;
    }
    cleanup_client minik_client_t *c = NULL;
    minik_apply_cache_t *cache = NULL;
    if (minik_apply_prepare(&objs, &c, &cache, &err) < 0) {
        minik_target_list_clear(&objs);
        return minik_cli_fail_api(err);
    }
    int rc = MINIK_EXIT_OK;
    const cJSON **results = xcalloc(objs.n + 1, sizeof *results);
    size_t nres = 0;
    for (size_t i = 0; i < objs.n; i++) {
        const minik_target_t *o = &objs.v[i];
        const char *verb = NULL;
        cJSON *result = NULL;
        minik_error_t *e = NULL;
        cleanup_free char *ref = minik_object_ref(o->kind, o->name);
        if (minik_apply_one(c, cache, o, dry, mode == MINIK_VALIDATE_WARN, &verb, &result, &e) <
            0) {
            /* A server that is down fails every object the same way: stop at the first. */
            bool transport = e->code == 0;
            minik_error_t shown = {.code = e->code, .errnum = e->errnum};
            shown.msg = xasprintf("%s%s%s: %s", o->where ? o->where : "", o->where ? ": " : "", ref,
                                  e->msg);
            minik_cli_fail_api(&shown);
            free(shown.msg);
            minik_error_free(e);
            rc = MINIK_EXIT_ERROR;
            if (transport)
                break;
            continue;
        }
        if (fmt == MINIK_OUTPUT_TABLE) {
            printf("%s %s%s\n", ref, verb, dry == MINIK_DRY_RUN_SERVER ? " (server dry run)" : "");
            fflush(stdout);
            cJSON_Delete(result);
        } else if (result) {
            minik_output_fill_type(result, o->kind->api_version, o->kind->kind);
            results[nres++] = result;
        }
    }
    if (fmt != MINIK_OUTPUT_TABLE && nres) {
        cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
        minik_output_objects(fmt, results, nres, nres > 1, &out);
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
    }
    for (size_t i = 0; i < nres; i++)
        cJSON_Delete((cJSON *)results[i]);
    free(results);
    minik_apply_cache_free(cache);
    minik_target_list_clear(&objs);
    return rc;
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
    bool client_dry = dry_run && strcmp(dry_run, "client") == 0;
    if (output && strcmp(output, "yaml") != 0 && strcmp(output, "json") != 0 &&
        strcmp(output, "name") != 0)
        return minik_cli_usage_error(&spec, "-o %s: use yaml, json or name", output);
    if (dry_run && strcmp(dry_run, "client") != 0 && strcmp(dry_run, "server") != 0 &&
        strcmp(dry_run, "none") != 0)
        return minik_cli_usage_error(&spec, "--dry-run=%s: use client, server or none", dry_run);
    if (!client_dry)
        return apply_to_server(paths, mode,
                               dry_run && strcmp(dry_run, "server") == 0 ? MINIK_DRY_RUN_SERVER
                                                                         : MINIK_DRY_RUN_NONE);

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

    if (output == NULL || strcmp(output, "name") == 0) {
        print_summary(objs, output == NULL);
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
