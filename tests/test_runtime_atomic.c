/* test_runtime_atomic.c -- rt_atomic.c: a file appears under its name only
 * complete, a failed or abandoned write leaves nothing, a killed writer's
 * named temporary is removed by the next writer of the same target unless
 * a live writer holds its lock, and nothing else is touched. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "snapshot/runtime/rt_internal.h"
#include "tests/tutil.h"

static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

static const char *fresh_dir(const char *name)
{
    const char *d = tu_fmt("%s/%s", tu_tmpdir(), name);
    assert_int_equal(tu_run(tu_fmt("mkdir -p '%s'", d), NULL, NULL), 0);
    return d;
}

static void test_file_appears_only_when_committed(void **state)
{
    (void)state;
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s", fresh_dir("commit"));
    snprintf(path, sizeof path, "%s/out.bin", dir);
    struct rt_atomic a;
    assert_int_equal(rt_atomic_open(path, &a), 0);
    assert_int_equal(write(a.fd, "hello", 5), 5);
    assert_int_equal(entries(dir), 0); /* unnamed while written */
    assert_int_equal(rt_atomic_commit(&a, 1), 0);
    assert_int_equal(entries(dir), 1);
    size_t len;
    char *got = tu_read_file(path, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(got, "hello", 5);
    free(got);
    /* replacing an existing file */
    assert_int_equal(rt_atomic_open(path, &a), 0);
    assert_int_equal(write(a.fd, "bye", 3), 3);
    assert_int_equal(rt_atomic_commit(&a, 0), 0);
    got = tu_read_file(path, &len);
    assert_int_equal(len, 3);
    free(got);
    assert_int_equal(entries(dir), 1);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s", fresh_dir("abort"));
    snprintf(path, sizeof path, "%s/out.bin", dir);
    struct rt_atomic a;
    assert_int_equal(rt_atomic_open(path, &a), 0);
    assert_int_equal(write(a.fd, "x", 1), 1);
    rt_atomic_abort(&a);
    rt_atomic_abort(&a); /* safe to repeat */
    assert_int_equal(entries(dir), 0);
}

static void test_clean_removes_only_unlocked_temporaries_of_the_target(void **state)
{
    (void)state;
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s", fresh_dir("clean"));
    snprintf(path, sizeof path, "%s/img", dir);
    static const char *const names[] = { "img.tmpAAAAAA", "img.tmpLOCKED", "img.tmpSHORT", "imgx.tmpAAAAAA",
                                         "img", "other.tmpAAAAAA" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(tu_write_file(tu_fmt("%s/%s", dir, names[i]), "x", 1), 0);
    int held = open(tu_fmt("%s/img.tmpLOCKED", dir), O_RDONLY);
    assert_int_equal(flock(held, LOCK_EX), 0);
    assert_int_equal(rt_atomic_clean(path), 1); /* img.tmpAAAAAA only */
    assert_int_not_equal(access(tu_fmt("%s/img.tmpAAAAAA", dir), F_OK), 0);
    assert_int_equal(access(tu_fmt("%s/img.tmpLOCKED", dir), F_OK), 0);
    assert_int_equal(access(tu_fmt("%s/img.tmpSHORT", dir), F_OK), 0);
    assert_int_equal(access(tu_fmt("%s/imgx.tmpAAAAAA", dir), F_OK), 0);
    assert_int_equal(access(tu_fmt("%s/img", dir), F_OK), 0);
    assert_int_equal(access(tu_fmt("%s/other.tmpAAAAAA", dir), F_OK), 0);
    close(held);
    assert_int_equal(rt_atomic_clean(path), 1); /* now nobody holds it */
}

/* A writer holds its lock until the rename: a cleaner never removes the
 * file of a writer that is alive, even once it has a name. */
static void test_a_live_writers_file_is_never_cleaned(void **state)
{
    (void)state;
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s", fresh_dir("live"));
    snprintf(path, sizeof path, "%s/img", dir);
    struct rt_atomic a;
    assert_int_equal(rt_atomic_open(path, &a), 0);
    assert_int_equal(write(a.fd, "data", 4), 4);
    assert_int_equal(rt_atomic_clean(path), 0);
    assert_int_equal(rt_atomic_commit(&a, 0), 0);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(entries(dir), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_appears_only_when_committed),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_clean_removes_only_unlocked_temporaries_of_the_target),
        cmocka_unit_test(test_a_live_writers_file_is_never_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
