/* cli_run.c -- 'lineiform run' (not implemented yet). */
#include "cmd/cli.h"

int cli_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("run: not implemented yet");
    return CLI_EXIT_FAIL;
}
