/* test_snapshot_trust.c -- what an image trusts, checked end to end through the
 * CLI on testdata/probe (a minimal closure interpreter built here):
 *   - `lineiform snapshot` refuses an interpreter without a GNU build-id,
 *     with one line and status 2 (nothing else could tell it from a rebuilt
 *     one);
 *   - `lineiform run` starts only the file the image was made for: a file
 *     at the recorded path with another build-id, or no ELF at all, is
 *     refused before it runs; an image that records no build-id is refused
 *     by `run` and by the loader inside the interpreter;
 *   - in image mode no writable mapping or descriptor of the frozen arena
 *     exists, and neither pwrite nor mprotect can change frozen memory, as
 *     seen from inside the running image. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/runtime/rt_internal.h"
#include "snapshot/snap_image.h"
#include "tests/tutil.h"
#include "tests/tutil_probe.h"

static char lineiform[4096];

static int setup(void **state)
{
    (void)state;
    snprintf(lineiform, sizeof lineiform, "%s", tu_build("lineiform"));
    return access(lineiform, X_OK);
}

/* snapshot; returns its status, stderr in *err (may be NULL) */
static int snapshot(const char *interp, const char *scr, const char *img, char **err)
{
    return tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform, tu_tmpdir(),
                         interp, scr, img), NULL, err);
}

static void assert_one_line(const char *err)
{
    assert_non_null(err);
    if (!err[0] || strchr(err, '\n') != err + strlen(err) - 1) fail_msg("not one line: '%s'", err);
}

static void test_snapshot_refuses_an_interpreter_without_build_id(void **state)
{
    (void)state;
    const char *probe = tu_probe("probe-noid", "-Wl,--build-id=none");
    const char *img = tu_fmt("%s/noid.img", tu_tmpdir());
    char *err = NULL;
    assert_int_equal(snapshot(probe, tu_script("n5.txt", "5\n"), img, &err), 2);
    assert_one_line(err);
    assert_non_null(strstr(err, "build-id"));
    assert_non_null(strstr(err, "probe-noid"));
    assert_int_not_equal(access(img, F_OK), 0);
    free(err);
}

/* The case: made with one build, the interpreter relinked at the
 * same path with another build-id.  `run` names both and starts nothing. */
static void test_run_refuses_an_interpreter_rebuilt_at_the_same_path(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    const char *probe = tu_probe("probe-re", "");
    const char *img = tu_fmt("%s/re.img", tu_tmpdir());
    char img_[1024], *out = NULL, *err = NULL;
    snprintf(img_, sizeof img_, "%s", img);
    assert_int_equal(snapshot(probe, tu_script("r7.txt", "7\n"), img_, NULL), 0);
    tu_probe("probe-re", "-DREBUILT=1 -O1");
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, img_), &out, &err), 2);
    assert_string_equal(out, "");
    assert_one_line(err);
    assert_non_null(strstr(err, "now has build-id"));
    free(out);
    free(err);
}

/* Whatever sits at the recorded path is not started unless it is the
 * interpreter the image was made for: a script that would leave a mark. */
static void test_run_does_not_start_another_program_at_the_interpreter_path(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    const char *probe = tu_probe("probe-swap", "");
    char img[1024], mark[1024], *out = NULL, *err = NULL;
    snprintf(img, sizeof img, "%s/swap.img", tu_tmpdir());
    snprintf(mark, sizeof mark, "%s/swap.mark", tu_tmpdir());
    assert_int_equal(snapshot(probe, tu_script("s4.txt", "4\n"), img, NULL), 0);
    const char *sh = tu_fmt("#!/bin/sh\ntouch '%s'\necho started\n", mark);
    assert_int_equal(tu_write_file(probe, sh, strlen(sh)), 0);
    assert_int_equal(tu_run(tu_fmt("chmod +x '%s'", probe), NULL, NULL), 0);
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, img), &out, &err), 2);
    assert_string_equal(out, "");
    assert_one_line(err);
    assert_non_null(strstr(err, "probe-swap"));
    assert_int_not_equal(access(mark, F_OK), 0);
    free(out);
    free(err);
}

/* An image that records no build-id (as the interpreter linked
 * with --build-id=none gave before snapshot refused it), run against such
 * an interpreter rebuilt at the same path: 0 bytes equal 0 bytes, so only
 * refusing the missing build-id itself stops it.  Made here by editing a
 * good image's note behind a re-stamped checksum. */
static void test_image_without_build_id_is_refused_by_run_and_loader(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    const char *probe = tu_probe("probe-zero", "");
    char img[1024], bin[1024], *out = NULL, *err = NULL;
    snprintf(img, sizeof img, "%s/zero.img", tu_tmpdir());
    snprintf(bin, sizeof bin, "%s", probe);
    assert_int_equal(snapshot(bin, tu_script("z6.txt", "6\n"), img, NULL), 0);
    size_t len;
    uint8_t *b = (uint8_t *)tu_read_file(img, &len);
    struct snap_image_info info;
    char why[256];
    assert_int_equal(rt_image_parse(b, len, &info, why, sizeof why), LF_OK);
    struct snap_note_hdr *h = (struct snap_note_hdr *)(uintptr_t)info.hdr;
    h->build_id_len = 0;
    memset(h->build_id, 0, sizeof h->build_id);
    uint64_t sum = snap_checksum(b, len, info.checksum_offset);
    memcpy(b + info.checksum_offset, &sum, 8);
    assert_int_equal(tu_write_file(img, b, len), 0);
    free(b);
    tu_probe("probe-zero", "-Wl,--build-id=none -DREBUILT=1 -O1");
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, img), &out, &err), 2);
    assert_string_equal(out, "");
    assert_one_line(err);
    assert_non_null(strstr(err, "no interpreter build-id"));
    free(out);
    free(err);
    assert_int_equal(tu_run(tu_fmt("LINEIFORM_MODE=image LINEIFORM_IMAGE='%s' '%s'", img, bin), &out, &err), 2);
    assert_string_equal(out, "");
    assert_one_line(err);
    assert_non_null(strstr(err, "no interpreter build-id"));
    free(out);
    free(err);
}

/* From inside the running image: no writable mapping or descriptor of the
 * frozen arena's memfd, no pwrite through any descriptor of it (also one
 * reopened O_WRONLY through /proc/self/fd), no mprotect to writable. */
static void test_image_mode_leaves_frozen_memory_unwritable(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    const char *probe = tu_probe("probe-seal", "");
    char img[1024], *out = NULL, *err = NULL;
    snprintf(img, sizeof img, "%s/seal.img", tu_tmpdir());
    assert_int_equal(snapshot(probe, tu_script("s9.txt", "9\n"), img, NULL), 0);
    int rc = tu_run(tu_fmt("PROBE_CHECK=1 '%s' run '%s'", lineiform, img), &out, &err);
    if (!strstr(out, "frozen: maps 0 fds 0 pwrite 0 mprotect 0 poke 1\n"))
        fail_msg("status %d, stdout '%s', stderr '%s'", rc, out, err);
    assert_non_null(strstr(out, "sum 9 = 135\n"));
    assert_int_equal(rc, 135 % 7);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_refuses_an_interpreter_without_build_id),
        cmocka_unit_test(test_run_refuses_an_interpreter_rebuilt_at_the_same_path),
        cmocka_unit_test(test_run_does_not_start_another_program_at_the_interpreter_path),
        cmocka_unit_test(test_image_without_build_id_is_refused_by_run_and_loader),
        cmocka_unit_test(test_image_mode_leaves_frozen_memory_unwritable),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
