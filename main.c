/* minik: one binary, many subcommands. Everything lives in the component libraries;
 * this file only hands over to the command dispatcher. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return minik_cli_main(argc, argv);
}
