/* test_cli_badinput.c -- input that is not what it claims, and limits the
 * user set, each met with one line naming the file and the real cause:
 *   - `run` and `analyze` on a FIFO answer at once ("not a regular file")
 *     instead of blocking forever;
 *   - `run` on a 1 GiB file that is no image says "no ELF magic" without
 *     reading it (under a 300 MB address-space limit, which reading it
 *     whole would exceed), `analyze` "not an ELF file" without mapping it;
 *   - a truncated image says "truncated" (it said "bad section header
 *     table"); a file shorter than its size says how much could be read
 *     (it said "out of memory");
 *   - under a file size limit (ulimit -f) the image writer names the image
 *     and "File too large" (lineiform-snapshot died of SIGXFSZ or said
 *     "writing: cannot write data to file"), the database names itself and
 *     the errno, and the runtime says the frozen arena met the limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/tutil.h"
#include "tests/tutil_probe.h"

static char lineiform[4096];

/* The sanitizers' shadow memory needs more address space than the limits
 * these tests set: under them the limit goes, the rest of the test stays. */
#if defined(__SANITIZE_ADDRESS__)
#define VLIMIT ""
#else
#define VLIMIT "ulimit -v 300000; "
#endif

static int setup(void **state)
{
    (void)state;
    snprintf(lineiform, sizeof lineiform, "%s", tu_build("lineiform"));
    return access(lineiform, X_OK);
}

static void assert_one_line_with(const char *err, const char *a, const char *b)
{
    if (!err || !err[0] || strchr(err, '\n') != err + strlen(err) - 1 || !strstr(err, a) || (b && !strstr(err, b)))
        fail_msg("expected one line with '%s'%s%s, got '%s'", a, b ? " and " : "", b ? b : "", err ? err : "");
}

static const char *good_image(void)
{
    static char img[1024];
    if (!img[0]) {
        const char *probe = tu_probe("probe-bad", "");
        char bin[1024];
        snprintf(bin, sizeof bin, "%s", probe);
        snprintf(img, sizeof img, "%s/good.img", tu_tmpdir());
        assert_int_equal(tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform,
                                       tu_tmpdir(), bin, tu_script("g.txt", "12\n"), img), NULL, NULL), 0);
    }
    return img;
}

static void test_run_and_analyze_refuse_a_fifo_at_once(void **state)
{
    (void)state;
    const char *fifo = tu_fmt("%s/fifo", tu_tmpdir());
    char f[1024], *err = NULL;
    snprintf(f, sizeof f, "%s", fifo);
    assert_int_equal(tu_run(tu_fmt("mkfifo '%s'", f), NULL, NULL), 0);
    /* timeout's 124 would mean it blocked */
    assert_int_equal(tu_run(tu_fmt("timeout 20 '%s' run '%s'", lineiform, f), NULL, &err), 2);
    assert_one_line_with(err, f, "not a regular file");
    free(err);
    assert_int_equal(tu_run(tu_fmt("timeout 20 '%s' analyze --db '%s/meta.db' '%s'", lineiform, tu_tmpdir(), f),
                            NULL, &err), 1);
    assert_one_line_with(err, "fifo", "not a regular file");
    free(err);
}

static void test_run_refuses_a_huge_non_image_without_reading_it(void **state)
{
    (void)state;
    char big[1024], *err = NULL;
    snprintf(big, sizeof big, "%s/big.bin", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("printf 'hello' > '%s' && truncate -s 1G '%s'", big, big), NULL, NULL), 0);
    time_t t0 = time(NULL);
    assert_int_equal(tu_run(tu_fmt(VLIMIT "'%s' run '%s'", lineiform, big), NULL, &err), 2);
    assert_true(time(NULL) - t0 < 5);
    assert_one_line_with(err, big, "no ELF magic");
    free(err);
    /* analyze: the magic before mapping and hashing the file (7.5 s, or
     * "cannot map" under the limit, before) */
    t0 = time(NULL);
    assert_int_equal(tu_run(tu_fmt(VLIMIT "'%s' analyze --db '%s/meta.db' '%s'", lineiform, tu_tmpdir(), big), NULL,
                            &err), 1);
    assert_true(time(NULL) - t0 < 5);
    assert_one_line_with(err, big, "not an ELF file");
    free(err);
    /* an ELF file of another kind is refused from its header too */
    assert_int_equal(tu_run(tu_fmt("cp /bin/true '%s' && truncate -s 1G '%s'", big, big), NULL, NULL), 0);
    assert_int_equal(tu_run(tu_fmt(VLIMIT "'%s' run '%s'", lineiform, big), NULL, &err), 2);
    assert_one_line_with(err, big, "not an image");
    free(err);
}

static void test_a_truncated_image_says_truncated(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    size_t len;
    char *b = tu_read_file(good_image(), &len), *err = NULL;
    const char *cut = tu_fmt("%s/cut.img", tu_tmpdir());
    char c[1024];
    snprintf(c, sizeof c, "%s", cut);
    static const size_t less[] = { 1, 10, 64, 200 };
    for (size_t i = 0; i < sizeof less / sizeof less[0]; i++) {
        assert_int_equal(tu_write_file(c, b, len - less[i]), 0);
        assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, c), NULL, &err), 2);
        assert_one_line_with(err, c, "truncated");
        free(err);
    }
    free(b);
}

/* /sys files claim 4096 bytes and hold fewer: the short read is named. */
static void test_a_short_read_says_how_much_was_read(void **state)
{
    (void)state;
    const char *f = "/sys/kernel/mm/transparent_hugepage/enabled";
    char *err = NULL;
    if (access(f, R_OK) != 0) skip();
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, f), NULL, &err), 2);
    assert_one_line_with(err, f, "bytes could be read");
    free(err);
}

static void test_file_size_limit_is_named_by_every_writer(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    const char *probe = tu_probe("probe-fsz", "");
    char bin[1024], scr[1024], img[1024], *err = NULL;
    snprintf(bin, sizeof bin, "%s", probe);
    snprintf(scr, sizeof scr, "%s", tu_script("fsz.txt", "12\n"));
    snprintf(img, sizeof img, "%s/fsz.img", tu_tmpdir());
    /* sh's ulimit -f counts 512-byte blocks: 15 KiB holds the heap dump and
     * the frozen arena, not the 20 KiB image, nor a new database */
    int rc = tu_run(tu_fmt("ulimit -f 30; '%s' snapshot -q --db '%s/fsz.db' --interp '%s' '%s' -o '%s'", lineiform,
                           tu_tmpdir(), bin, scr, img), NULL, &err);
    assert_int_equal(rc, 1);
    assert_one_line_with(err, "fsz.db", "File too large");
    free(err);
    assert_int_equal(tu_run(tu_fmt("'%s' analyze --db '%s/fsz.db' '%s'", lineiform, tu_tmpdir(), bin), NULL, NULL), 0);
    rc = tu_run(tu_fmt("ulimit -f 30; '%s' snapshot -q --db '%s/fsz.db' --interp '%s' '%s' -o '%s'", lineiform,
                       tu_tmpdir(), bin, scr, img), NULL, &err);
    assert_int_equal(rc, 1);
    assert_one_line_with(err, img, "File too large");
    assert_int_not_equal(access(img, F_OK), 0);
    free(err);
    /* the interpreter itself: the runtime names the limit */
    rc = tu_run(tu_fmt("ulimit -f 4; '%s' '%s'", bin, scr), NULL, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "file size limit (ulimit -f)"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_and_analyze_refuse_a_fifo_at_once),
        cmocka_unit_test(test_run_refuses_a_huge_non_image_without_reading_it),
        cmocka_unit_test(test_a_truncated_image_says_truncated),
        cmocka_unit_test(test_a_short_read_says_how_much_was_read),
        cmocka_unit_test(test_file_size_limit_is_named_by_every_writer),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
