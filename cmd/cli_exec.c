/* cli_exec.c -- `lineiform snapshot` in the launcher: start lineiform-snapshot.
 *
 * The snapshot command needs LLVM, whose shared library costs about 10 ms to
 * load; the launcher leaves it out and replaces itself (execv) with the
 * program that has it.  Looked up next to the launcher (the build tree), then
 * in <prefix>/libexec/lineiform/ (after make install).
 *
 * The lift allocates and frees millions of small LLVM objects: with glibc's
 * per-thread cache raised from 7 to 1,000 chunks per size, nqueens' snapshot
 * took 1.71-1.79 s against 1.80-1.87 s (three runs each).  Tunables are read
 * when a program starts, so the launcher sets them (unless the user has)
 * and lineiform-snapshot takes them out again before it starts the
 * interpreter (LINEIFORM_TUNED marks that they are the launcher's). */
#include "cmd/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_snapshot(int argc, char **argv)
{
    static const char *const where[] = { "lineiform-snapshot", "../libexec/lineiform/lineiform-snapshot", NULL };
    char path[4096];
    if (!cli_find_beside_self(where, path, sizeof path)) {
        cli_error("snapshot: lineiform-snapshot not found next to %s or in its libexec/lineiform/",
                  cli_self_path() ? cli_self_path() : "lineiform");
        return CLI_EXIT_FAIL;
    }
    (void)argc;
    argv[0] = path;
    if (!getenv("GLIBC_TUNABLES")) {
        setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=1000", 1);
        setenv("LINEIFORM_TUNED", "1", 1);
    }
    execv(path, argv);
    cli_error("snapshot: cannot start %s: %s", path, strerror(errno));
    return CLI_EXIT_FAIL;
}
