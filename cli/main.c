#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/log.h"

static void print_commands(FILE *out)
{
    fprintf(out, "minik - a lightweight container orchestrator\n\n"
                 "Usage:\n  minik <command> [flags] [args]\n\nCommands:\n");
    for (const minik_command_t *c = minik_commands; c->name; c++)
        if (!c->hidden)
            fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fprintf(out, "\nRun 'minik <command> --help' for a command's flags.\n"
                 "Environment: MINIK_LOG_LEVEL=debug|info|warn|error sets the log level.\n");
}

int minik_cli_main(int argc, char **argv)
{
    const char *lvl = getenv("MINIK_LOG_LEVEL");
    minik_log_level_t level;
    if (lvl && *lvl) {
        if (minik_log_level_parse(lvl, &level) < 0) {
            fprintf(stderr, "error: MINIK_LOG_LEVEL=\"%s\": use debug, info, warn or error\n", lvl);
            return MINIK_EXIT_USAGE;
        }
        minik_log_set_level(level);
    }

    if (argc < 2) {
        print_commands(stderr);
        return MINIK_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_commands(stdout);
        return MINIK_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";

    for (const minik_command_t *c = minik_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->run(argc - 1, argv + 1);

    if (name[0] == '-')
        fprintf(stderr, "error: unknown flag \"%s\"\n\n", name);
    else
        fprintf(stderr, "error: unknown command \"%s\"\n\n", name);
    print_commands(stderr);
    return MINIK_EXIT_USAGE;
}
