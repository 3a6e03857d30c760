/* Unit tests for the shared flag parser in cli/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/cleanup.h"
#include "lib/str.h"

static bool verbose;
static const char *name;
static char **files;

static const minik_cli_flag_t flags[] = {
    {"verbose", 'v', MINIK_FLAG_BOOL, &verbose, NULL, "talk more"},
    {"name", 0, MINIK_FLAG_STRING, &name, "NAME", "a name"},
    {"filename", 'f', MINIK_FLAG_LIST, &files, "FILE", "files"},
    {0},
};
static const minik_cli_spec_t spec = {
    .usage = "minik thing [flags] ARG...",
    .summary = "Do a thing",
    .flags = flags,
    .min_args = 1,
    .max_args = 2,
};

static int reset(void **state)
{
    verbose = false;
    name = NULL;
    minik_strv_free(files);
    files = NULL;
    return 0;
}

/* Run the parser with stderr sent to /dev/null so expected usage errors stay quiet. */
static int parse_quiet(int argc, char **argv, int *first)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *null = freopen("/dev/null", "w", stderr);
    (void)null;
    int r = minik_cli_parse(&spec, argc, argv, first);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    return r;
}

static void parses_flags_anywhere_and_positionals(void **state)
{
    char *argv[] = {"thing", "a", "-v", "--name=x", "-f", "one", "--filename", "two", "b", NULL};
    int first = -1;
    assert_int_equal(minik_cli_parse(&spec, 9, argv, &first), 0);
    assert_true(verbose);
    assert_string_equal(name, "x");
    assert_int_equal(minik_strv_len(files), 2);
    assert_string_equal(files[1], "two");
    assert_int_equal(9 - first, 2);
    assert_string_equal(argv[first], "a");
    assert_string_equal(argv[first + 1], "b");
}

static void double_dash_ends_flags(void **state)
{
    char *argv[] = {"thing", "pod", "--", "-v", NULL};
    int first = -1;
    assert_int_equal(minik_cli_parse(&spec, 4, argv, &first), 0);
    assert_false(verbose);
    assert_string_equal(argv[first + 1], "-v");
}

static void usage_errors_return_2(void **state)
{
    char *unknown[] = {"thing", "--bogus", "a", NULL};
    assert_int_equal(parse_quiet(3, unknown, NULL), MINIK_EXIT_USAGE);
    char *missing[] = {"thing", "a", "--name", NULL};
    assert_int_equal(parse_quiet(3, missing, NULL), MINIK_EXIT_USAGE);
    char *none[] = {"thing", NULL};
    assert_int_equal(parse_quiet(1, none, NULL), MINIK_EXIT_USAGE);
    char *many[] = {"thing", "a", "b", "c", NULL};
    assert_int_equal(parse_quiet(4, many, NULL), MINIK_EXIT_USAGE);
}

static void help_is_reported(void **state)
{
    char *argv[] = {"thing", "--help", NULL};
    fflush(stdout);
    int saved = dup(1);
    FILE *null = freopen("/dev/null", "w", stdout);
    (void)null;
    int r = minik_cli_parse(&spec, 2, argv, NULL);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    assert_int_equal(r, MINIK_CLI_HELP);
    assert_int_equal(minik_cli_parse_exit(r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(parses_flags_anywhere_and_positionals, reset, reset),
        cmocka_unit_test_setup_teardown(double_dash_ends_flags, reset, reset),
        cmocka_unit_test_setup_teardown(usage_errors_return_2, reset, reset),
        cmocka_unit_test_setup_teardown(help_is_reported, reset, reset),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
