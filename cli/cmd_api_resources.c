/* minik api-resources: the kinds this minik serves, from the same table the server routes
 * with (proto/kinds.c), so the list cannot drift from what the API accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/printers.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/kinds.h"

static bool no_headers;
static const char *output;

static const minik_cli_flag_t flags[] = {
    {"no-headers", 0, MINIK_FLAG_BOOL, &no_headers, NULL, "omit the table header"},
    {"output", 'o', MINIK_FLAG_STRING, &output, "FORMAT", "name: print only resource names"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik api-resources [--no-headers] [-o name]",
    .summary = "Print the supported API resources",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

int minik_cmd_api_resources(int argc, char **argv)
{
    int r = minik_cli_parse(&spec, argc, argv, NULL);
    if (r != 0)
        return minik_cli_parse_exit(r);
    bool names_only = output && strcmp(output, "name") == 0;
    if (output && !names_only)
        return minik_cli_usage_error(&spec, "-o %s: only -o name is supported", output);
    static const char *const headers[] = {"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"};
    minik_table_t *t = minik_table_new(headers, 5);
    minik_buf_t out = MINIK_BUF_INIT;
    for (const minik_kind_t *k = minik_kinds; k->kind; k++) {
        if (names_only) {
            if (k->group && *k->group)
                minik_buf_appendf(&out, "%s.%s\n", k->plural, k->group);
            else
                minik_buf_appendf(&out, "%s\n", k->plural);
            continue;
        }
        char **cells = xcalloc(5, sizeof(char *));
        cells[0] = xstrdup(k->plural);
        cells[1] = minik_strv_join((char *const *)k->short_names, ",");
        cells[2] = xstrdup(k->api_version);
        cells[3] = xstrdup(k->namespaced ? "true" : "false");
        cells[4] = xstrdup(k->kind);
        minik_table_add_row_owned(t, cells);
        free(cells);
    }
    if (!names_only)
        minik_table_render(t, no_headers, &out);
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    minik_buf_free(&out);
    minik_table_free(t);
    return MINIK_EXIT_OK;
}
