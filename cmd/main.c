/* main.c -- the lineiform program: sub-command dispatch.
 * Each sub-command lives in cmd/cli_<name>.c and parses its own options;
 * this file only picks one, and prints the overview for --help.
 *
 * lineiform itself does not link LLVM, so that `lineiform run` (and analyze,
 * query) start in a few milliseconds: `snapshot` is the separate program
 * lineiform-snapshot (cmd/snapshot_main.c), which cli_exec.c starts in its
 * place with the same arguments. */
#include "cmd/cli.h"

#include <string.h>

static const struct { const char *name, *help; int (*fn)(int, char **); } cli_cmds[] = {
#define CLI_ROW_(name, help) { #name, help, cli_##name },
    CLI_COMMANDS(CLI_ROW_)
#undef CLI_ROW_
};

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
    cli_ignore_xfsz();
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

