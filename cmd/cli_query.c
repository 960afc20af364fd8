/* cli_query.c -- 'lineiform query' (not implemented yet). */
#include "cmd/cli.h"

int cli_query(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("query: not implemented yet");
    return CLI_EXIT_FAIL;
}
