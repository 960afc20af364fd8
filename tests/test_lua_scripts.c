/* test_lua_scripts.c -- every testdata/lua/tests/NAME.lua run through
 * build/bin/lua gives exactly NAME.out on stdout, NAME.err on stderr (empty
 * when there is no NAME.err) and the exit status in NAME.status (0 when
 * there is none); and lua5.4 agrees with those expectations: the same
 * stdout and status, and the first line of its stderr is NAME.err with
 * "lua5.4: " for "lua: " (lua5.4 adds a stack traceback after it).  Scripts
 * run from their own directory, so file names in messages are NAME.lua.
 *
 *   test_lua_scripts           run them all
 *   test_lua_scripts NAME...   run only these (without .lua)
 *   LUA_REBASE=1 ...           rewrite the expectations from build/bin/lua
 *                              (then check them against lua5.4 as usual)
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

#define TESTS_DIR "testdata/lua/tests"
#define LUA54 "/usr/bin/lua5.4"

static char *expected(const char *name, const char *ext, const char *dflt)
{
    char *s = tu_read_file(tu_src(tu_fmt(TESTS_DIR "/%s.%s", name, ext)), NULL);
    return s ? s : strdup(dflt);
}

static void rebase(const char *name, const char *ext, const char *data)
{
    const char *path = tu_src(tu_fmt(TESTS_DIR "/%s.%s", name, ext));
    if (!*data && strcmp(ext, "out") != 0) { remove(path); return; }
    tu_write_file(path, data, strlen(data));
}

/* build/bin/lua against the expectation files. */
static void interpreter_matches_expectations(const char *name)
{
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("cd '%s' && '%s' '%s.lua'", tu_src(TESTS_DIR), tu_build("bin/lua"), name), &out, &err);
    if (getenv("LUA_REBASE")) {
        rebase(name, "out", out);
        rebase(name, "err", err);
        rebase(name, "status", st ? tu_fmt("%d\n", st) : "");
    }
    char *want_out = expected(name, "out", ""), *want_err = expected(name, "err", "");
    char *want_st = expected(name, "status", "0");
    if (strcmp(out, want_out) != 0) print_error("%s: stdout differs:\n%s\n--- expected ---\n%s\n", name, out, want_out);
    assert_string_equal(out, want_out);
    assert_string_equal(err, want_err);
    assert_int_equal(st, atoi(want_st));
    free(want_out);
    free(want_err);
    free(want_st);
    free(out);
    free(err);
}

/* lua5.4 against the same expectation files. */
static void lua54_agrees(const char *name)
{
    if (access(LUA54, X_OK) != 0) fail_msg("%s missing: run make deps", LUA54);
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("cd '%s' && PATH=/usr/bin:$PATH lua5.4 '%s.lua'", tu_src(TESTS_DIR), name), &out, &err);
    char *want_out = expected(name, "out", ""), *want_err = expected(name, "err", "");
    char *want_st = expected(name, "status", "0");
    char *nl = strchr(err, '\n');
    if (nl) nl[1] = 0;
    const char *first = err;
    char *ours = NULL;
    if (!strncmp(first, "lua5.4: ", 8)) {
        ours = malloc(strlen(first) + 1);
        sprintf(ours, "lua: %s", first + 8);
        first = ours;
    }
    if (strcmp(out, want_out) != 0) print_error("%s: lua5.4's stdout differs:\n%s\n--- expected ---\n%s\n", name, out, want_out);
    assert_string_equal(out, want_out);
    assert_string_equal(first, want_err);
    assert_int_equal(st, atoi(want_st));
    free(ours);
    free(want_out);
    free(want_err);
    free(want_st);
    free(out);
    free(err);
}

static void run_script(void **state)
{
    interpreter_matches_expectations(*state);
    lua54_agrees(*state);
}

int main(int argc, char **argv)
{
    return tu_script_tests("lua_scripts", TESTS_DIR, ".lua", run_script, argc, argv);
}
