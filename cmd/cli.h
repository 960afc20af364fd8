/* cli.h -- what the lineiform sub-commands share.
 * Exit codes: 0 success, 1 failure of the job (bad input, bad SQL, script
 * error), 2 usage error or an image/dump that cannot be used. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>
#include <sys/types.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* Sub-commands: each parses its own options (argv[0] is its name). */
#define CLI_COMMANDS(_) \
    _(analyze,  "ELF/DWARF/disassembly of an interpreter -> metadata database") \
    _(snapshot, "run a script to its snapshot point, lift + optimize, write an image") \
    _(run,      "map an image and run its compiled code") \
    _(query,    "read-only SQL over the metadata database")

#define CLI_DECL_(name, help) int cli_##name(int argc, char **argv);
CLI_COMMANDS(CLI_DECL_)
#undef CLI_DECL_

/* "lineiform: <fmt>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The program's own path (/proc/self/exe), for finding build/bin/lisp. */
const char *cli_self_path(void);

/* The first of rel[] (NULL-terminated, relative to the directory of the
 * program itself) that is an executable file, written to buf; NULL if none. */
const char *cli_find_beside_self(const char *const *rel, char *buf, size_t len);

/* The metadata database path: opt (--db) if given, else $LINEIFORM_DB, else
 * $XDG_CACHE_HOME/lineiform/metadata.db, else ~/.cache/lineiform/metadata.db.
 * With create_dir, the default directory is created (mkdir -p).  Returns
 * buf, or NULL after printing a one-line error. */
const char *cli_db_path(const char *opt, int create_dir, char *buf, size_t len);

/* Option parsing: when argv[*i] is name ("--db"), take the next argument as
 * *val (advancing *i) and return 1; also accepts "--db=VALUE".  Returns -1
 * (after an error message) when the value is missing, 0 when no match. */
int cli_opt_value(int *i, int argc, char **argv, const char *name, const char **val);

/* Past a file size limit (ulimit -f) a write must fail with EFBIG, which
 * the writer reports with the file's name, rather than SIGXFSZ kill the
 * process without a word: both programs ignore SIGXFSZ from the start, and
 * cli_default_signals restores it (and whatever else a program started by
 * lineiform must see as usual) right before an exec. */
void cli_ignore_xfsz(void);
void cli_default_signals(void);

/* The interpreter lineiform snapshot runs (cli_child.c): started with
 * argv (in_child runs in the child before exec), it dies with its parent
 * (PR_SET_PDEATHSIG) and, where it has its own process group, takes the
 * group along.  cli_child_wait reaps it, killing it past timeout_s (> 0). */
pid_t cli_child_start(char *const argv[], void (*in_child)(void *), void *ctx);
int cli_child_wait(double timeout_s, int *status, int *timed_out);
void cli_child_kill(void);

/* Monotonic clock in milliseconds, for the phase timings of summaries. */
double cli_now_ms(void);

/* s as a JSON string literal (quotes and escapes). */
void cli_json_str(FILE *f, const char *s);

#endif
