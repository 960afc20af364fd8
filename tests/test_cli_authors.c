/* test_cli_authors.c -- what the README promises an interpreter author:
 *   - its runtime example, built with its compile line (run from the source
 *     tree, as written), prints 42 (the line lacked -Iinclude and -o ex);
 *   - `pkg-config lineiform-rt` gives the runtime alone: an interpreter
 *     built with it does not load libLLVM, and snapshots and runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"
#include "tests/tutil_probe.h"

/* The README's fenced C block after "## Runtime API", and the compile line
 * "`cc ... ex.c ...`" that follows it. */
static void readme_example(char **code, char **line)
{
    char *r = tu_read_file(tu_src("README.md"), NULL);
    assert_non_null(r);
    char *api = strstr(r, "## Runtime API");
    assert_non_null(api);
    char *b = strstr(api, "```c\n");
    assert_non_null(b);
    b += 5;
    char *e = strstr(b, "```");
    assert_non_null(e);
    *code = strndup(b, (size_t)(e - b));
    char *l = strstr(e, "`cc ");
    assert_non_null(l);
    l++;
    char *le = strchr(l, '`');
    assert_non_null(le);
    *line = strndup(l, (size_t)(le - l));
    free(r);
}

static void test_readme_runtime_example_builds_with_its_own_line(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* the line links build/'s runtime, which is instrumented here */
#endif
    char *code, *line, *err = NULL, *out = NULL;
    readme_example(&code, &line);
    const char *dir = tu_fmt("%s/readme", tu_tmpdir());
    char d[1024];
    snprintf(d, sizeof d, "%s", dir);
    assert_int_equal(tu_run(tu_fmt("mkdir -p '%s'", d), NULL, NULL), 0);
    assert_int_equal(tu_write_file(tu_fmt("%s/ex.c", d), code, strlen(code)), 0);
    /* the line as written, run from the source tree; only ex.c and ex
     * are placed in d */
    char fixed[4096];
    snprintf(fixed, sizeof fixed, "cd '%s' &&", tu_src(""));
    for (char *t = strtok(line, " "); t; t = strtok(NULL, " ")) {
        const char *w = !strcmp(t, "ex.c") ? tu_fmt("'%s/ex.c'", d) : !strcmp(t, "ex") ? tu_fmt("'%s/ex'", d) : t;
        strncat(fixed, " ", sizeof fixed - strlen(fixed) - 1);
        strncat(fixed, w, sizeof fixed - strlen(fixed) - 1);
    }
    int rc = tu_run(fixed, NULL, &err);
    if (rc != 0) fail_msg("README line failed (%s): %s", fixed, err);
    assert_int_equal(tu_run(tu_fmt("'%s/ex'", d), &out, NULL), 0);
    assert_string_equal(out, "42\n");
    free(out);
    free(err);
    free(code);
    free(line);
}

static void test_pkg_config_lineiform_rt_is_the_runtime_alone(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip();
#endif
    char *flags = NULL, *out = NULL, *err = NULL, bin[1024];
    assert_int_equal(tu_run(tu_fmt("PKG_CONFIG_PATH='%s' pkg-config --cflags --libs lineiform-rt", tu_build("")),
                            &flags, NULL), 0);
    assert_null(strstr(flags, "LLVM"));
    flags[strcspn(flags, "\n")] = 0;
    snprintf(bin, sizeof bin, "%s/probe-pc", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("cc -O2 -g -o '%s' '%s' %s", bin, tu_src("testdata/probe/probe.c"), flags), NULL,
                            &err), 0);
    free(err);
    assert_int_equal(tu_run(tu_fmt("ldd '%s'", bin), &out, NULL), 0);
    assert_null(strstr(out, "libLLVM"));
    free(out);
    const char *img = tu_fmt("%s/pc.img", tu_tmpdir());
    char im[1024];
    snprintf(im, sizeof im, "%s", img);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot -q --db '%s/m.db' --interp '%s' '%s' -o '%s'", tu_build("lineiform"),
                                   tu_tmpdir(), bin, tu_script("pc.txt", "4\n"), im), NULL, NULL), 0);
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", tu_build("lineiform"), im), &out, NULL), 30 % 7);
    assert_string_equal(out, "sum 4 = 30\n");
    free(out);
    free(flags);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_runtime_example_builds_with_its_own_line),
        cmocka_unit_test(test_pkg_config_lineiform_rt_is_the_runtime_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
