#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/version.h"

static bool short_form;

static const minik_cli_flag_t flags[] = {
    {"short", 0, MINIK_FLAG_BOOL, &short_form, NULL, "print only the version number"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik version [--short]",
    .summary = "Print the version, git commit and build date of this binary",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

int minik_cmd_version(int argc, char **argv)
{
    int r = minik_cli_parse(&spec, argc, argv, NULL);
    if (r != 0)
        return minik_cli_parse_exit(r);
    if (short_form) {
        printf("%s\n", minik_version());
        return MINIK_EXIT_OK;
    }
    printf("minik version %s\ngit commit:   %s\nbuild date:   %s\n", minik_version(),
           minik_git_commit(), minik_build_date());
    return MINIK_EXIT_OK;
}
