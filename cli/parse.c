#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define LONG_ONLY_BASE 256

static size_t count_flags(const minik_cli_flag_t *flags)
{
    size_t n = 0;
    while (flags && flags[n].name)
        n++;
    return n;
}

void minik_cli_print_help(const minik_cli_spec_t *spec, FILE *out)
{
    fprintf(out, "%s\n\nUsage:\n  %s\n", spec->summary, spec->usage);
    if (spec->description)
        fprintf(out, "\n%s\n", spec->description);
    fprintf(out, "\nFlags:\n");
    size_t n = count_flags(spec->flags);
    for (size_t i = 0; i <= n; i++) {
        const minik_cli_flag_t *f = spec->flags ? &spec->flags[i] : NULL;
        const char *name = i < n ? f->name : "help";
        char shortn = i < n ? f->short_name : 'h';
        const char *arg = i < n ? f->arg : NULL;
        const char *help = i < n ? f->help : "show this help";
        cleanup_free char *left =
            xasprintf("%s%c%s--%s%s%s", shortn ? "-" : "   ", shortn ? shortn : ' ',
                      shortn ? ", " : "", name, arg ? " " : "", arg ? arg : "");
        fprintf(out, "  %-30s %s\n", left, help);
    }
}

int minik_cli_usage_error(const minik_cli_spec_t *spec, const char *fmt, ...)
{
    va_list ap;
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* The command part of the usage line is everything before the first placeholder. */
    int cmdlen = (int)strcspn(spec->usage, "[<");
    while (cmdlen > 0 && spec->usage[cmdlen - 1] == ' ')
        cmdlen--;
    fprintf(stderr, "\nUsage:\n  %s\nRun '%.*s --help' for more.\n", spec->usage, cmdlen,
            spec->usage);
    return MINIK_EXIT_USAGE;
}

int minik_cli_fail(const minik_error_t *err)
{
    fprintf(stderr, "error: %s\n", err && err->msg ? err->msg : "unknown error");
    return MINIK_EXIT_ERROR;
}

int minik_cli_parse(const minik_cli_spec_t *spec, int argc, char **argv, int *first_arg)
{
    size_t n = count_flags(spec->flags);
    cleanup_free struct option *opts = xcalloc(n + 2, sizeof *opts);
    minik_buf_t shorts = MINIK_BUF_INIT;
    /* Leading ':' makes getopt report a missing argument as ':' rather than '?'. */
    minik_buf_append_str(&shorts, ":h");

    for (size_t i = 0; i < n; i++) {
        const minik_cli_flag_t *f = &spec->flags[i];
        opts[i].name = f->name;
        opts[i].has_arg = f->kind == MINIK_FLAG_BOOL ? no_argument : required_argument;
        opts[i].val = f->short_name ? f->short_name : LONG_ONLY_BASE + (int)i;
        if (f->short_name) {
            minik_buf_append_char(&shorts, f->short_name);
            if (f->kind != MINIK_FLAG_BOOL)
                minik_buf_append_char(&shorts, ':');
        }
    }
    opts[n].name = "help";
    opts[n].val = 'h';

    int ret = 0;
    optind = 0; /* GNU: full re-initialisation, since commands may parse more than once */
    opterr = 0;
    for (;;) {
        int longidx = -1;
        int c = getopt_long(argc, argv, shorts.data, opts, &longidx);
        if (c == -1)
            break;
        if (c == 'h') {
            minik_cli_print_help(spec, stdout);
            ret = MINIK_CLI_HELP;
            goto out;
        }
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            ret = minik_cli_usage_error(
                spec, c == ':' ? "flag %s needs a value" : "unknown flag %s",
                optopt && optopt < LONG_ONLY_BASE && !strchr(bad, '=') && bad[1] != '-'
                    ? (char[]){'-', (char)optopt, 0}
                    : bad);
            goto out;
        }
        const minik_cli_flag_t *f = NULL;
        for (size_t i = 0; i < n; i++) {
            if ((spec->flags[i].short_name && spec->flags[i].short_name == c) ||
                LONG_ONLY_BASE + (int)i == c) {
                f = &spec->flags[i];
                break;
            }
        }
        if (f == NULL)
            continue;
        switch (f->kind) {
        case MINIK_FLAG_BOOL:
            *(bool *)f->target = true;
            break;
        case MINIK_FLAG_STRING:
            *(const char **)f->target = optarg;
            break;
        case MINIK_FLAG_LIST: {
            char ***list = f->target;
            size_t len = minik_strv_len(*list);
            *list = xrealloc(*list, (len + 2) * sizeof **list);
            (*list)[len] = xstrdup(optarg);
            (*list)[len + 1] = NULL;
            break;
        }
        }
    }

    int npos = argc - optind;
    if (npos < spec->min_args) {
        ret = minik_cli_usage_error(spec, "expected %s%d argument%s, got %d",
                                    spec->max_args == spec->min_args ? "" : "at least ",
                                    spec->min_args, spec->min_args == 1 ? "" : "s", npos);
        goto out;
    }
    if (spec->max_args >= 0 && npos > spec->max_args) {
        if (spec->max_args == 0)
            ret = minik_cli_usage_error(spec, "unexpected argument \"%s\"", argv[optind]);
        else
            ret = minik_cli_usage_error(spec, "expected at most %d argument%s, got %d",
                                        spec->max_args, spec->max_args == 1 ? "" : "s", npos);
        goto out;
    }
    if (first_arg)
        *first_arg = optind;
out:
    minik_buf_free(&shorts);
    return ret;
}
