/* snapshot_main.c -- lineiform-snapshot: the `lineiform snapshot` command as
 * a program of its own, the one part of the CLI that links LLVM (see main.c).
 * Started by the launcher with the same arguments: argv[1..] are the
 * command's options. */
#include "cmd/cli.h"

int main(int argc, char **argv)
{
    return cli_snapshot(argc, argv);
}
