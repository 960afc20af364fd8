/* test_image_lua.c -- every Lua program in testdata/lua/tests and bench/lua,
 * snapshotted with `lineiform snapshot` (the interpreter picked by the .lua
 * extension for the bundled build, named with --interp for the clang build)
 * and run with `lineiform run`, gives the interpreter's stdout and stderr
 * byte for byte and its exit status; and each bench/lua program prints, when
 * interpreted, what lua5.4 prints.
 *
 * The clang build compiles the same sources (every .c in testdata/lua) against the
 * same runtime library.  The metadata database is kept in the build
 * directory so each interpreter build is analyzed once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tutil.h"

static char lineiform[1024], lua_gcc[1024], lua_clang[1024], db[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(lineiform, sizeof lineiform, "%s", tu_build("lineiform"));
    snprintf(lua_gcc, sizeof lua_gcc, "%s", tu_build("bin/lua"));
    snprintf(db, sizeof db, "%s", tu_build("tests/image-lua-metadata.db"));
    snprintf(lua_clang, sizeof lua_clang, "%s", tu_build("tests/lua-clang"));
    if (access(lineiform, X_OK) || access(lua_gcc, X_OK)) {
        fprintf(stderr, "test_image_lua: %s or %s missing\n", lineiform, lua_gcc);
        return -1;
    }
    char *err = NULL;
    int rc = tu_run(tu_fmt("clang -std=gnu11 -O2 -g -Wall -Wextra -Werror -I'%s' -o '%s/lua-clang' %s/*.c '%s' -lgc -lm && "
                           "mv -f '%s/lua-clang' '%s'", tu_src("include"), tu_tmpdir(), tu_src("testdata/lua"),
                           tu_build("liblineiform-rt.a"), tu_tmpdir(), lua_clang), NULL, &err);
    if (rc) fprintf(stderr, "test_image_lua: building the interpreter with clang: %s\n", err);
    free(err);
    return rc;
}

/* Snapshot scr (by extension when interp is NULL); 0 when an image was
 * written, else the status (then no image may exist). */
static int snapshot(const char *interp, const char *scr, const char *img)
{
    char *err = NULL;
    unlink(img);
    int rc = tu_run(tu_fmt("'%s' snapshot -q --db '%s' %s%s%s '%s' -o '%s'", lineiform, db, interp ? "--interp '" : "",
                           interp ? interp : "", interp ? "'" : "", scr, img),
                    NULL, &err);
    if (rc != 0 && access(img, F_OK) == 0) fail_msg("%s: snapshot failed (%d) but left %s", scr, rc, img);
    if (rc != 0 && rc != 1) fail_msg("%s: snapshot exit status %d: %s", scr, rc, err);
    free(err);
    return rc;
}

/* Run scr interpreted and as an image, both from dir: same stdout, stderr
 * and status.  A script that fails before its snapshot point (a syntax
 * error) must fail when interpreted too, and leave no image.  The
 * interpreter's stdout is returned (malloc'd). */
static char *image_matches_interpreter(const char *interp, int by_ext, const char *dir, const char *scr)
{
    char im[1024], *o1 = NULL, *o2 = NULL, *e1 = NULL, *e2 = NULL;
    snprintf(im, sizeof im, "%s/t.img", tu_tmpdir());
    int s1 = tu_run(tu_fmt("cd '%s' && '%s' '%s'", dir, interp, scr), &o1, &e1);
    int rc = snapshot(by_ext ? NULL : interp, scr, im);
    if (rc == 1) {
        if (s1 == 0) fail_msg("%s: snapshot failed but the interpreter succeeds", scr);
        free(e1);
        return o1;
    }
    int s2 = tu_run(tu_fmt("cd '%s' && '%s' run '%s'", dir, lineiform, im), &o2, &e2);
    if (s1 != s2 || strcmp(o1, o2))
        fail_msg("%s (%s): interpreter status %d, image status %d (%s)\n--- interpreter\n%s--- image\n%s", scr,
                 interp, s1, s2, e2, o1, o2);
    if (strcmp(e1, e2)) fail_msg("%s (%s): stderr differs\n--- interpreter\n%s--- image\n%s", scr, interp, e1, e2);
    free(o2);
    free(e1);
    free(e2);
    return o1;
}

static void every_program(const char *interp, int by_ext, const char *rel, int vs_lua54)
{
    glob_t g;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_src(rel));
    memset(&g, 0, sizeof g);
    if (glob(tu_fmt("%s/*.lua", dir), 0, NULL, &g) != 0 || g.gl_pathc == 0) fail_msg("no programs in %s", rel);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *out = image_matches_interpreter(interp, by_ext, dir, g.gl_pathv[i]);
        if (vs_lua54) {
            char *ref = NULL;
            int st = tu_run(tu_fmt("cd '%s' && PATH=/usr/bin:$PATH lua5.4 '%s'", dir, g.gl_pathv[i]), &ref, NULL);
            if (st != 0 || strcmp(out, ref))
                fail_msg("%s: lua5.4 (status %d) prints\n%s--- build/bin/lua prints\n%s", g.gl_pathv[i], st, ref, out);
            free(ref);
        }
        free(out);
    }
    globfree(&g);
}

static void test_test_programs_gcc_interpreter(void **state) { (void)state; every_program(lua_gcc, 1, "testdata/lua/tests", 0); }
static void test_test_programs_clang_interpreter(void **state) { (void)state; every_program(lua_clang, 0, "testdata/lua/tests", 0); }
static void test_bench_programs_gcc_interpreter_and_lua54(void **state) { (void)state; every_program(lua_gcc, 1, "bench/lua", 1); }
static void test_bench_programs_clang_interpreter(void **state) { (void)state; every_program(lua_clang, 0, "bench/lua", 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_test_programs_gcc_interpreter),
        cmocka_unit_test(test_test_programs_clang_interpreter),
        cmocka_unit_test(test_bench_programs_gcc_interpreter_and_lua54),
        cmocka_unit_test(test_bench_programs_clang_interpreter),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
