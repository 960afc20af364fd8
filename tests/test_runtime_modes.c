/* test_runtime_modes.c -- lf_init's modes: normal by default and idempotent,
 * the environment it reads is removed, snapshot mode re-executes exactly
 * once with address randomization off (and not at all when it is already
 * off), lf_image answers only in image mode. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>

#include "lineiform.h"
#include "snapshot/runtime/rt_internal.h"
#include "tests/tutil.h"

/* --child: print a line before lf_init (it shows each exec), then the mode,
 * the personality and what is left of the environment. */
static int child_main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[2], "occupy") == 0) /* someone sits on the frozen arena */
        if (mmap((void *)RT_FROZEN_BASE, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0) == MAP_FAILED)
            return 30;
    printf("pre\n");
    enum lf_mode m = lf_init(&argc, &argv);
    enum lf_mode again = lf_init(&argc, &argv);
    int norandom = (personality(0xffffffff) & ADDR_NO_RANDOMIZE) != 0;
    printf("mode=%d again=%d norandom=%d env=%s,%s,%s\n", m, again, norandom,
           getenv("LINEIFORM_MODE") ? "MODE" : "-", getenv("LINEIFORM_DUMP") ? "DUMP" : "-",
           getenv("LINEIFORM_REEXEC") ? "REEXEC" : "-");
    fflush(stdout);
    void *code, *img_entry, *roots;
    if (lf_image(&code, &img_entry, &roots) != LF_ERR_STATE) return 20;
    static const char closure[16] = "entry closure";
    void *entry = lf_freeze(closure, sizeof closure);
    printf("frozen=%d\n", entry && lf_is_frozen(entry) && !memcmp(entry, closure, 16));
    fflush(stdout);
    lf_snapshot(entry, lf_alloc(8));
    return 0;
}

static const char *self_exe(void)
{
    static char self[4096];
    if (!self[0]) assert_int_equal(rt_self_path(self, sizeof self), 0);
    return self;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_default_mode_is_normal_without_reexec(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("'%s' --child", self_exe()), &out, NULL), 0);
    assert_int_equal(count(out, "pre\n"), 1);
    assert_non_null(strstr(out, "mode=0 again=0 "));
    free(out);
}

static void test_snapshot_mode_reexecs_once_without_randomization(void **state)
{
    (void)state;
    char *out = NULL;
    const char *dump = tu_fmt("%s/modes.dump", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s' '%s' --child",
                                   dump, self_exe()), &out, NULL), 0);
    /* The first run, then the re-exec (unless this test already runs with
     * randomization off, as under setarch -R). */
    int pinned = (personality(0xffffffff) & ADDR_NO_RANDOMIZE) != 0;
    assert_int_equal(count(out, "pre\n"), pinned ? 1 : 2);
    assert_non_null(strstr(out, "mode=1 again=1 norandom=1 env=-,-,-\n"));
    assert_non_null(tu_read_file(dump, NULL));
    free(out);
}

static void test_snapshot_mode_without_randomization_does_not_reexec(void **state)
{
    (void)state;
    char *out = NULL;
    const char *dump = tu_fmt("%s/modes2.dump", tu_tmpdir());
    int st = tu_run(tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s' setarch -R '%s' --child",
                           dump, self_exe()), &out, NULL);
    if (st == 127) skip(); /* no setarch */
    assert_int_equal(st, 0);
    assert_int_equal(count(out, "pre\n"), 1);
    assert_non_null(strstr(out, "mode=1 again=1 norandom=1 env=-,-,-\n"));
    free(out);
}

static void test_explicit_normal_mode_clears_the_environment(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("LINEIFORM_MODE=normal LINEIFORM_DUMP=x '%s' --child",
                                   self_exe()), &out, NULL), 0);
    assert_non_null(strstr(out, "mode=0 again=0 "));
    assert_non_null(strstr(out, " env=-,-,-\n"));
    free(out);
}

static void test_taken_arena_address_refuses_snapshot_mode_in_one_line(void **state)
{
    (void)state;
    char *err = NULL;
    const char *dump = tu_fmt("%s/taken.dump", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s' '%s' --child occupy",
                                   dump, self_exe()), NULL, &err), 2);
    assert_non_null(strstr(err, "lineiform: cannot reserve the arenas at 0x7e0000000000"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    assert_null(tu_read_file(dump, NULL));
    free(err);
}

static void test_taken_arena_address_falls_back_in_normal_mode(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("'%s' --child occupy", self_exe()), &out, NULL), 0);
    assert_non_null(strstr(out, "mode=0 again=0 "));
    assert_non_null(strstr(out, "frozen=1\n")); /* at another address, still frozen */
    free(out);
}

static void test_image_outside_image_mode_is_a_state_error(void **state)
{
    (void)state;
    void *code, *entry, *roots;
    assert_int_equal(lf_image(&code, &entry, &roots), LF_ERR_STATE);
    assert_int_equal(lf_mode(), LF_MODE_NORMAL);
    lf_snapshot(NULL, NULL); /* normal mode: returns at once */
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--child") == 0) return child_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_mode_is_normal_without_reexec),
        cmocka_unit_test(test_snapshot_mode_reexecs_once_without_randomization),
        cmocka_unit_test(test_snapshot_mode_without_randomization_does_not_reexec),
        cmocka_unit_test(test_explicit_normal_mode_clears_the_environment),
        cmocka_unit_test(test_taken_arena_address_refuses_snapshot_mode_in_one_line),
        cmocka_unit_test(test_taken_arena_address_falls_back_in_normal_mode),
        cmocka_unit_test(test_image_outside_image_mode_is_a_state_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
