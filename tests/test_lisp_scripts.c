/* test_lisp_scripts.c -- every testdata/lisp/tests/NAME.scm run through
 * build/bin/lisp gives exactly NAME.out on stdout, NAME.err on stderr
 * (empty when there is no NAME.err) and the exit status in NAME.status
 * (0 when there is none); standard input is NAME.in when there is one,
 * else /dev/null.  Scripts run from their own directory, so the
 * file names in messages are the bare NAME.scm.  Each run is limited to
 * 120 s: a script that hangs the interpreter (a reader stuck on a byte)
 * fails with status 124 instead of stalling the suite.
 *
 *   test_lisp_scripts           run them all
 *   test_lisp_scripts NAME...   run only these (without .scm)
 *   LISP_REBASE=1 ...           rewrite the expectations from the current
 *                               output instead of comparing
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tutil.h"

#define TESTS_DIR "testdata/lisp/tests"

static char *expected(const char *name, const char *ext, const char *dflt)
{
    char *s = tu_read_file(tu_src(tu_fmt(TESTS_DIR "/%s.%s", name, ext)), NULL);
    return s ? s : strdup(dflt);
}

static void rebase(const char *name, const char *ext, const char *data, int keep_empty)
{
    const char *path = tu_src(tu_fmt(TESTS_DIR "/%s.%s", name, ext));
    if (!*data && !keep_empty) { remove(path); return; }
    tu_write_file(path, data, strlen(data));
}

/* Under ASan (make test-asan), a longjmp out of the interpreter's 1 GiB
 * stack makes the sanitizer print a three-line warning of its own on
 * stderr (its frames are too many to unpoison); it says nothing about the
 * program, so it is taken out before stderr is compared. */
static void drop_asan_no_return_warning(char *err)
{
#if defined(__SANITIZE_ADDRESS__)
    char *w = strstr(err, "WARNING: ASan is ignoring requested __asan_handle_no_return");
    char *end = w ? strstr(w, "sanitizers/issues/189\n") : NULL;
    while (w && w > err && w[-1] != '\n') w--;
    if (w && end) memmove(w, end + sizeof "sanitizers/issues/189\n" - 1, strlen(end + sizeof "sanitizers/issues/189\n" - 1) + 1);
#else
    (void)err;
#endif
}

static void run_script(void **state)
{
    const char *name = *state;
    char *out = NULL, *err = NULL;
    const char *in = tu_src(tu_fmt(TESTS_DIR "/%s.in", name));
    if (access(in, R_OK) != 0) in = "/dev/null";
    int st = tu_run(tu_fmt("cd '%s' && timeout -k 5 120 '%s' '%s.scm' < '%s'", tu_src(TESTS_DIR),
                           tu_build("bin/lisp"), name, in),
                    &out, &err);
    drop_asan_no_return_warning(err);
    if (getenv("LISP_REBASE")) {
        rebase(name, "out", out, 1);
        rebase(name, "err", err, 0);
        rebase(name, "status", st ? tu_fmt("%d\n", st) : "", 0);
    } else {
        char *want_out = expected(name, "out", ""), *want_err = expected(name, "err", "");
        char *want_st = expected(name, "status", "0");
        if (strcmp(out, want_out) != 0) print_error("%s: stdout differs:\n%s\n--- expected ---\n%s\n", name, out, want_out);
        assert_string_equal(out, want_out);
        assert_string_equal(err, want_err);
        assert_int_equal(st, atoi(want_st));
        free(want_out);
        free(want_err);
        free(want_st);
    }
    free(out);
    free(err);
}

int main(int argc, char **argv)
{
    return tu_script_tests("lisp_scripts", TESTS_DIR, ".scm", run_script, argc, argv);
}
