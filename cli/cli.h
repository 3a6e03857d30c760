/* The command table and the flag parser every subcommand shares.
 *
 * Adding a command: write cli/cmd_<name>.c with a `minik_cmd_<name>` function and a
 * static minik_cli_spec_t describing its flags, then add one row to the table in
 * cli/commands.c. Exit codes follow kubectl: 0 ok, 1 error, 2 usage. */
#ifndef MINIK_CLI_H
#define MINIK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "lib/error.h"

enum {
    MINIK_EXIT_OK = 0,
    MINIK_EXIT_ERROR = 1,
    MINIK_EXIT_USAGE = 2,
};

typedef struct minik_command {
    const char *name;
    const char *summary;               /* one line for `minik --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name; returns an exit code */
    bool hidden;                       /* internal modes (e.g. the shim) stay out of --help */
} minik_command_t;

/* NULL-terminated (name == NULL) table, defined in cli/commands.c. */
extern const minik_command_t minik_commands[];

typedef enum minik_cli_flag_kind {
    MINIK_FLAG_BOOL,   /* --verbose                   -> *(bool *)target = true        */
    MINIK_FLAG_STRING, /* --name VALUE / --name=VALUE -> *(const char **)target = VALUE */
    MINIK_FLAG_LIST,   /* -f A -f B                   -> appended to *(char ***)target  */
} minik_cli_flag_kind_t;

typedef struct minik_cli_flag {
    const char *name; /* long name without the dashes */
    char short_name;  /* 0 if none */
    minik_cli_flag_kind_t kind;
    void *target;
    const char *arg; /* placeholder shown in help ("FILE"); NULL for bool flags */
    const char *help;
} minik_cli_flag_t;

typedef struct minik_cli_spec {
    const char *usage;             /* "minik version [flags]" */
    const char *summary;           /* one line */
    const char *description;       /* optional paragraph(s) after the summary */
    const minik_cli_flag_t *flags; /* terminated by an entry with name == NULL; may be NULL */
    int min_args;                  /* positional arguments accepted */
    int max_args;                  /* -1 for no limit */
} minik_cli_spec_t;

/* Parse argv (argv[0] = command name) against spec. On success returns 0 and sets
 * *first_arg to the index of the first positional argument in the (permuted) argv.
 * `--help`/`-h` prints the help to stdout and returns MINIK_CLI_HELP; a bad flag or a wrong
 * number of arguments prints the problem and the usage to stderr and returns
 * MINIK_EXIT_USAGE. MINIK_FLAG_LIST targets are owned by the caller (minik_strv_free). */
#define MINIK_CLI_HELP (-100)
int minik_cli_parse(const minik_cli_spec_t *spec, int argc, char **argv, int *first_arg);

/* Turn the result of minik_cli_parse into an exit code for early return:
 * MINIK_CLI_HELP -> 0, anything else -> itself. */
static inline int minik_cli_parse_exit(int r)
{
    return r == MINIK_CLI_HELP ? MINIK_EXIT_OK : r;
}

void minik_cli_print_help(const minik_cli_spec_t *spec, FILE *out);

/* Print "error: <msg>" to stderr and return MINIK_EXIT_ERROR. Consumes nothing. */
int minik_cli_fail(const minik_error_t *err);
/* Print "error: <formatted>" and "Run '<cmd> --help' for usage." and return 2. */
int minik_cli_usage_error(const minik_cli_spec_t *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The entry point `main` dispatches to. */
int minik_cli_main(int argc, char **argv);

#endif
