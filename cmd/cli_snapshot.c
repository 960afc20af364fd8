/* cli_snapshot.c -- 'lineiform snapshot' (not implemented yet). */
#include "cmd/cli.h"

int cli_snapshot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("snapshot: not implemented yet");
    return CLI_EXIT_FAIL;
}
