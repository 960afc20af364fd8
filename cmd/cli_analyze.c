/* cli_analyze.c -- 'lineiform analyze' (not implemented yet). */
#include "cmd/cli.h"

int cli_analyze(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("analyze: not implemented yet");
    return CLI_EXIT_FAIL;
}
