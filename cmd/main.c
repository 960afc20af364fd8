/* main.c -- the lineiform program: sub-command dispatch.
 * Each sub-command lives in cmd/cli_<name>.c and parses its own options;
 * this file only picks one, and prints the overview for --help. */
#include "cmd/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct { const char *name, *help; int (*fn)(int, char **); } cli_cmds[] = {
#define CLI_ROW_(name, help) { #name, help, cli_##name },
    CLI_COMMANDS(CLI_ROW_)
#undef CLI_ROW_
};

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lineiform: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *cli_self_path(void)
{
    static char buf[4096];
    if (!buf[0]) {
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0) return NULL;
        buf[n] = 0;
    }
    return buf;
}

static void cli_usage(FILE *f)
{
    fprintf(f, "usage: lineiform <command> [options]\n\n"
               "A meta-JIT for closure-generating interpreters.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
        fprintf(f, "  %-9s %s\n", cli_cmds[i].name, cli_cmds[i].help);
    fprintf(f, "\n'lineiform <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("lineiform 0.1");
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
        if (!strcmp(argv[1], cli_cmds[i].name))
            return cli_cmds[i].fn(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'lineiform --help')", argv[1]);
    return CLI_EXIT_USAGE;
}
