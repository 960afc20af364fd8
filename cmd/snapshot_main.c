/* snapshot_main.c -- lineiform-snapshot: the `lineiform snapshot` command as
 * a program of its own, the one part of the CLI that links LLVM (see main.c).
 * Started by the launcher with the same arguments: argv[1..] are the
 * command's options. */
#include "cmd/cli.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    /* The launcher's malloc tunables (cli_exec.c) are for this process,
     * not for the interpreter it runs. */
    if (getenv("LINEIFORM_TUNED")) {
        unsetenv("GLIBC_TUNABLES");
        unsetenv("LINEIFORM_TUNED");
    }
    cli_ignore_xfsz();
    return cli_snapshot(argc, argv);
}
