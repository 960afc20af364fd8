/* cli_exec.c -- `lineiform snapshot` in the launcher: start lineiform-snapshot.
 *
 * The snapshot command needs LLVM, whose shared library costs about 10 ms to
 * load; the launcher leaves it out and replaces itself (execv) with the
 * program that has it.  Looked up next to the launcher (the build tree), then
 * in <prefix>/libexec/lineiform/ (after make install). */
#include "cmd/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *cli_tool_path(const char *tool, char *buf, size_t len)
{
    const char *self = cli_self_path();
    if (!self) return NULL;
    const char *slash = strrchr(self, '/');
    int dir = slash ? (int)(slash - self) : 0;
    snprintf(buf, len, "%.*s/%s", dir, self, tool);
    if (access(buf, X_OK) == 0) return buf;
    snprintf(buf, len, "%.*s/../libexec/lineiform/%s", dir, self, tool);
    if (access(buf, X_OK) == 0) return buf;
    return NULL;
}

int cli_snapshot(int argc, char **argv)
{
    char path[4096];
    if (!cli_tool_path("lineiform-snapshot", path, sizeof path)) {
        cli_error("snapshot: lineiform-snapshot not found next to %s or in its libexec/lineiform/",
                  cli_self_path() ? cli_self_path() : "lineiform");
        return CLI_EXIT_FAIL;
    }
    (void)argc;
    argv[0] = path;
    execv(path, argv);
    cli_error("snapshot: cannot start %s: %s", path, strerror(errno));
    return CLI_EXIT_FAIL;
}
