/* minik get: list or fetch objects and print them as kubectl does. */
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/printers.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static const char *output;
static const char *label_selector;
static const char *field_selector;
static bool all_namespaces;
static bool watch;
static bool no_headers;

static const minik_cli_flag_t flags[] = {
    {"output", 'o', MINIK_FLAG_STRING, &output, "FORMAT", "wide, json, yaml or name"},
    {"selector", 'l', MINIK_FLAG_STRING, &label_selector, "SEL",
     "label selector (app=web,tier in (a,b),!canary)"},
    {"field-selector", 0, MINIK_FLAG_STRING, &field_selector, "SEL",
     "field selector (spec.nodeName=n1,metadata.name!=x)"},
    {"all-namespaces", 'A', MINIK_FLAG_BOOL, &all_namespaces, NULL, "list across all namespaces"},
    {"watch", 'w', MINIK_FLAG_BOOL, &watch, NULL, "after listing, stream changes as rows"},
    {"no-headers", 0, MINIK_FLAG_BOOL, &no_headers, NULL, "omit the table header"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik get KIND[,KIND...] [NAME...] | KIND/NAME... [flags]",
    .summary = "Display one or many objects",
    .description = "Kinds take any of their names: plural, singular or short (po, deploy, svc, "
                   "cm, no, ns, ev);\n\"all\" means pods,services,deployments.\nExamples:\n  minik "
                   "get pods -o wide\n  minik get "
                   "deploy/web -o yaml\n  minik get pods,deployments -A\n  minik get pods -l "
                   "app=web -w",
    .flags = flags,
    .min_args = 1,
    .max_args = -1,
};

/* One kind's worth of results. */
typedef struct group {
    const minik_kind_t *kind;
    char **names;  /* explicit names, or NULL to list */
    cJSON *items;  /* array of objects (owned) */
    char *list_rv; /* resourceVersion of the list reply, for -w */
} group_t;

static void groups_free(group_t *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        minik_strv_free(g[i].names);
        cJSON_Delete(g[i].items);
        free(g[i].list_rv);
    }
    free(g);
}

/* Parse "pods,deploy web api" or "deploy/web pod/x" into groups. */
static int parse_targets(char **args, int nargs, group_t **out, size_t *n_out, minik_error_t **err)
{
    group_t *g = NULL;
    size_t n = 0;
    if (strchr(args[0], '/')) {
        g = xcalloc((size_t)nargs, sizeof *g);
        for (int i = 0; i < nargs; i++) {
            const char *slash = strchr(args[i], '/');
            if (!slash || !slash[1]) {
                groups_free(g, n);
                return minik_error_set(err, 0,
                                       "there is no need to specify a resource type as a "
                                       "separate argument when passing arguments in "
                                       "resource/name form (got \"%s\")",
                                       args[i]);
            }
            cleanup_free char *kname = xstrndup(args[i], (size_t)(slash - args[i]));
            const minik_kind_t *k = minik_cli_kind(kname, err);
            if (!k) {
                groups_free(g, n);
                return -1;
            }
            /* Same kind as an earlier argument: add the name there, keeping order. */
            size_t j = 0;
            while (j < n && g[j].kind != k)
                j++;
            if (j == n) {
                g[n].kind = k;
                n++;
            }
            size_t len = minik_strv_len(g[j].names);
            g[j].names = xrealloc(g[j].names, (len + 2) * sizeof(char *));
            g[j].names[len] = xstrdup(slash + 1);
            g[j].names[len + 1] = NULL;
        }
    } else {
        /* "all" is kubectl's category of the workload kinds a user usually wants to see. */
        cleanup_free char *expanded = NULL;
        cleanup_strv char **parts = minik_str_split(args[0], ",", true);
        minik_buf_t eb = MINIK_BUF_INIT;
        for (char **p = parts; *p; p++)
            minik_buf_appendf(&eb, "%s%s", eb.len ? "," : "",
                              strcmp(*p, "all") == 0 ? "pods,services,deployments" : *p);
        expanded = minik_buf_steal(&eb);
        cleanup_strv char **kinds = minik_str_split(expanded, ",", true);
        size_t nk = minik_strv_len(kinds);
        if (nk == 0)
            return minik_error_set(err, 0, "no resource type given");
        if (nk > 1 && nargs > 1)
            return minik_error_set(err, 0,
                                   "names cannot be given with several resource types; "
                                   "use KIND/NAME arguments");
        g = xcalloc(nk, sizeof *g);
        for (size_t i = 0; i < nk; i++) {
            const minik_kind_t *k = minik_cli_kind(kinds[i], err);
            if (!k) {
                groups_free(g, n);
                return -1;
            }
            g[n].kind = k;
            if (nargs > 1) {
                g[n].names = xcalloc((size_t)nargs, sizeof(char *));
                for (int a = 1; a < nargs; a++)
                    g[n].names[a - 1] = xstrdup(args[a]);
            }
            n++;
        }
    }
    *out = g;
    *n_out = n;
    return 0;
}

static char *list_query(const char *extra_field_selector, bool watching, const char *rv)
{
    minik_buf_t q = MINIK_BUF_INIT;
    if (label_selector && *label_selector) {
        cleanup_free char *e = minik_client_escape(label_selector);
        minik_buf_appendf(&q, "labelSelector=%s", e);
    }
    cleanup_free char *fs = NULL;
    if (field_selector && *field_selector && extra_field_selector)
        fs = xasprintf("%s,%s", field_selector, extra_field_selector);
    else if (field_selector && *field_selector)
        fs = xstrdup(field_selector);
    else if (extra_field_selector)
        fs = xstrdup(extra_field_selector);
    if (fs) {
        cleanup_free char *e = minik_client_escape(fs);
        minik_buf_appendf(&q, "%sfieldSelector=%s", q.len ? "&" : "", e);
    }
    if (watching) {
        minik_buf_appendf(&q, "%swatch=1", q.len ? "&" : "");
        if (rv && *rv) {
            cleanup_free char *e = minik_client_escape(rv);
            minik_buf_appendf(&q, "&resourceVersion=%s", e);
        }
    }
    return minik_buf_steal(&q);
}

/* Fetch what a group asks for. Missing named objects are reported on stderr and counted
 * in *missing; other errors fail. */
static int fetch(minik_client_t *c, group_t *g, const char *ns, int *missing, minik_error_t **err)
{
    const minik_kind_t *k = g->kind;
    const char *use_ns = k->namespaced && !all_namespaces ? ns : NULL;
    g->items = cJSON_CreateArray();
    if (g->names) {
        for (char **n = g->names; *n; n++) {
            cleanup_free char *path = minik_client_path(k->api_version, k->plural, k->namespaced,
                                                        k->namespaced ? ns : NULL, *n, NULL, NULL);
            cJSON *obj = NULL;
            minik_error_t *e = NULL;
            if (minik_client_json(c, "GET", path, NULL, NULL, &obj, &e) < 0) {
                if (e->code == 404) {
                    cleanup_free char *res = minik_cli_resource_name(k);
                    fprintf(stderr, "Error from server (NotFound): %s \"%s\" not found\n", res, *n);
                    minik_error_free(e);
                    (*missing)++;
                    continue;
                }
                *err = e;
                return -1;
            }
            minik_output_fill_type(obj, k->api_version, k->kind);
            cJSON_AddItemToArray(g->items, obj);
        }
        return 0;
    }
    cleanup_free char *query = list_query(NULL, false, NULL);
    cleanup_free char *path =
        minik_client_path(k->api_version, k->plural, k->namespaced, use_ns, NULL, NULL, query);
    cleanup_cjson cJSON *list = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &list, err) < 0)
        return -1;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(list, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
    if (cJSON_IsString(rv))
        g->list_rv = xstrdup(rv->valuestring);
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(list, "items");
    if (cJSON_IsArray(items)) {
        cJSON_Delete(g->items);
        g->items = items;
        cJSON *it;
        cJSON_ArrayForEach(it, g->items)
        {
            minik_output_fill_type(it, k->api_version, k->kind);
        }
    } else {
        cJSON_Delete(items);
    }
    return 0;
}

static bool show_namespace_column(const minik_kind_t *k)
{
    return all_namespaces && k->namespaced;
}

static minik_table_t *table_for(const minik_kind_t *k, bool wide)
{
    size_t ncols;
    const char *const *h = minik_printer_headers(k, wide, &ncols);
    if (!show_namespace_column(k))
        return minik_table_new(h, ncols);
    const char *hh[16];
    hh[0] = "NAMESPACE";
    for (size_t i = 0; i < ncols && i < 15; i++)
        hh[i + 1] = h[i];
    return minik_table_new(hh, ncols + 1);
}

static void add_row(minik_table_t *t, const minik_kind_t *k, const cJSON *obj, bool wide,
                    int64_t now, const char *prefix)
{
    cleanup_free char **cells = minik_printer_row(k, obj, wide, now, prefix);
    if (!show_namespace_column(k)) {
        minik_table_add_row_owned(t, cells);
        return;
    }
    cleanup_free char **all = xcalloc(t->ncols, sizeof(char *));
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(md, "namespace");
    all[0] = xstrdup(cJSON_IsString(ns) ? ns->valuestring : "");
    for (size_t i = 1; i < t->ncols; i++)
        all[i] = cells[i - 1];
    minik_table_add_row_owned(t, all);
}

static char *name_prefix(const minik_kind_t *k, bool several)
{
    if (!several)
        return NULL;
    cleanup_free char *ref = minik_object_ref(k, "");
    return steal_pointer(&ref); /* "deployment.apps/" */
}

/* Column widths of the printed table, so watch rows line up under it. */
static void print_row_aligned(const minik_table_t *t, size_t *widths, minik_buf_t *out)
{
    size_t r = t->nrows - 1;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *cell = t->cells[r * t->ncols + c];
        size_t n = strlen(cell);
        if (n > widths[c])
            widths[c] = n;
        if (c + 1 < t->ncols)
            minik_buf_appendf(out, "%-*s", (int)(widths[c] + 3), cell);
        else
            minik_buf_append_str(out, cell);
    }
    minik_buf_append_char(out, '\n');
}

typedef struct watch_state {
    const minik_kind_t *kind;
    minik_output_t fmt;
    minik_table_t *table;
    size_t *widths;
    size_t printed;
    bool gone;       /* the server said 410 Gone: our resourceVersion is too old */
    char *error_msg; /* an ERROR event's Status message */
} watch_state_t;

static int on_event(const char *type, const cJSON *object, void *ud)
{
    watch_state_t *w = ud;
    if (strcmp(type, "BOOKMARK") == 0)
        return 0;
    if (strcmp(type, "ERROR") == 0) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(object, "code");
        if (cJSON_IsNumber(code) && code->valueint == 410) {
            w->gone = true;
            return 1;
        }
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(object, "message");
        w->error_msg =
            xstrdup(cJSON_IsString(msg) ? msg->valuestring : "the server ended the watch");
        return 1;
    }
    minik_buf_t out = MINIK_BUF_INIT;
    cleanup_cjson cJSON *copy = cJSON_Duplicate(object, true);
    minik_output_fill_type(copy, w->kind->api_version, w->kind->kind);
    if (w->fmt == MINIK_OUTPUT_TABLE || w->fmt == MINIK_OUTPUT_WIDE) {
        add_row(w->table, w->kind, copy, w->fmt == MINIK_OUTPUT_WIDE, (int64_t)time(NULL), NULL);
        print_row_aligned(w->table, w->widths, &out);
    } else {
        if (w->fmt == MINIK_OUTPUT_YAML && w->printed)
            minik_buf_append_str(&out, "---\n");
        const cJSON *one = copy;
        minik_output_objects(w->fmt, &one, 1, false, &out);
    }
    w->printed++;
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    fflush(stdout);
    minik_buf_free(&out);
    return 0;
}

static int run_watch(minik_client_t *c, group_t *g, const char *ns, minik_output_t fmt,
                     minik_table_t *table, size_t already_printed, minik_error_t **err)
{
    const minik_kind_t *k = g->kind;
    cleanup_free char *name_fs = NULL;
    if (g->names) {
        if (minik_strv_len(g->names) != 1)
            return minik_error_set(err, 0, "watch is only supported on one name at a time");
        name_fs = xasprintf("metadata.name=%s", g->names[0]);
    }
    const char *rv = g->list_rv;
    if (!rv && g->names && cJSON_GetArraySize(g->items) == 1) {
        const cJSON *md =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(g->items, 0), "metadata");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
        rv = cJSON_IsString(r) ? r->valuestring : NULL;
    }
    watch_state_t w = {.kind = k, .fmt = fmt, .table = table, .printed = already_printed};
    w.widths = xcalloc(table->ncols, sizeof(size_t));
    for (size_t r = 0; r < table->nrows; r++)
        for (size_t col = 0; col < table->ncols; col++) {
            size_t n = strlen(table->cells[r * table->ncols + col]);
            if (n > w.widths[col])
                w.widths[col] = n;
        }
    cleanup_free char *fresh_rv = NULL;
    int ret;
    for (;;) {
        cleanup_free char *query = list_query(name_fs, true, rv);
        cleanup_free char *path =
            minik_client_path(k->api_version, k->plural, k->namespaced,
                              k->namespaced && !all_namespaces ? ns : NULL, NULL, NULL, query);
        w.gone = false;
        ret = minik_client_watch(c, path, on_event, &w, err);
        if (ret < 0 || !w.gone)
            break;
        /* Too old to resume from: list again for a current resourceVersion (the rows of
         * objects already shown are not repeated) and watch from there. */
        group_t again = {.kind = k, .names = NULL};
        int missing = 0;
        ret = fetch(c, &again, ns, &missing, err);
        cJSON_Delete(again.items);
        if (ret < 0)
            break;
        free(fresh_rv);
        fresh_rv = again.list_rv;
        rv = fresh_rv;
    }
    free(w.widths);
    if (ret == 0 && w.error_msg)
        ret = minik_error_set(err, 0, "watch: %s", w.error_msg);
    free(w.error_msg);
    return ret;
}

int minik_cmd_get(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    minik_output_t fmt;
    if (minik_output_parse(output, &fmt, &err) < 0)
        return minik_cli_fail_api(err);
    cleanup_client minik_client_t *c = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&c, &ns, &err) < 0)
        return minik_cli_fail_api(err);
    minik_cli_set_discovery(c);
    group_t *groups = NULL;
    size_t ng = 0;
    if (parse_targets(argv + first, argc - first, &groups, &ng, &err) < 0)
        return minik_cli_fail_api(err);
    if (watch && ng != 1) {
        groups_free(groups, ng);
        fprintf(stderr, "error: you may only specify a single resource type with --watch\n");
        return MINIK_EXIT_USAGE;
    }

    int missing = 0;
    size_t total = 0;
    bool single_object = ng == 1 && groups[0].names && minik_strv_len(groups[0].names) == 1;
    for (size_t i = 0; i < ng; i++) {
        if (fetch(c, &groups[i], ns, &missing, &err) < 0) {
            groups_free(groups, ng);
            return minik_cli_fail_api(err);
        }
        total += (size_t)cJSON_GetArraySize(groups[i].items);
    }

    minik_buf_t out = MINIK_BUF_INIT;
    int64_t now = (int64_t)time(NULL);
    minik_table_t *last_table = NULL;
    bool wide = fmt == MINIK_OUTPUT_WIDE;
    if (fmt == MINIK_OUTPUT_TABLE || wide) {
        bool printed_any = false;
        for (size_t i = 0; i < ng; i++) {
            const minik_kind_t *k = groups[i].kind;
            minik_table_t *t = table_for(k, wide);
            cleanup_free char *prefix = name_prefix(k, ng > 1);
            const cJSON *it;
            cJSON_ArrayForEach(it, groups[i].items)
            {
                add_row(t, k, it, wide, now, prefix);
            }
            if (t->nrows > 1) {
                if (printed_any)
                    minik_buf_append_char(&out, '\n');
                minik_table_render(t, no_headers, &out);
                printed_any = true;
            }
            if (watch && i == ng - 1) {
                if (t->nrows == 1 && !no_headers)
                    minik_table_render(t, false, &out); /* header before the first event */
                last_table = t;
            } else {
                minik_table_free(t);
            }
        }
    } else {
        size_t n = 0;
        const cJSON **objs = xcalloc(total + 1, sizeof *objs);
        for (size_t i = 0; i < ng; i++) {
            const cJSON *it;
            cJSON_ArrayForEach(it, groups[i].items)
            {
                objs[n++] = it;
            }
        }
        if (watch && fmt != MINIK_OUTPUT_NAME) {
            /* A watch prints objects one by one, the listed ones included, as kubectl -w. */
            for (size_t i = 0; i < n; i++) {
                if (fmt == MINIK_OUTPUT_YAML && i > 0)
                    minik_buf_append_str(&out, "---\n");
                minik_output_objects(fmt, &objs[i], 1, false, &out);
            }
        } else if (n > 0 || !single_object) {
            minik_output_objects(fmt, objs, n, !single_object, &out);
        }
        free(objs);
    }
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    fflush(stdout);
    minik_buf_free(&out);

    if (total == 0 && missing == 0 && !watch &&
        (fmt == MINIK_OUTPUT_TABLE || wide || fmt == MINIK_OUTPUT_NAME)) {
        bool any_namespaced = false;
        for (size_t i = 0; i < ng; i++)
            any_namespaced |= groups[i].kind->namespaced;
        if (any_namespaced && !all_namespaces)
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
        else
            fprintf(stderr, "No resources found\n");
    }

    int rc = missing ? MINIK_EXIT_ERROR : MINIK_EXIT_OK;
    if (watch && !missing) {
        if (!last_table)
            last_table = table_for(groups[0].kind, wide);
        if (run_watch(c, &groups[0], ns, fmt, last_table, total, &err) < 0)
            rc = minik_cli_fail_api(err);
    }
    minik_table_free(last_table);
    groups_free(groups, ng);
    return rc;
}
