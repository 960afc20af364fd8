/* test_runtime_arena.c -- the frozen and persistent arenas: fixed addresses,
 * immutability from the moment lf_freeze returns, sealing, the frozen-write
 * report, GC root registration, mapping an image's arenas back. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lineiform.h"
#include "snapshot/runtime/rt_internal.h"
#include "tests/tutil.h"

/* Run fn in a forked child; its stderr comes back in *err (malloc'd).
 * Returns the wait status. */
static int in_child(void (*fn)(void *), void *arg, char **err)
{
    const char *path = tu_fmt("%s/child.err", tu_tmpdir());
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(path, "w", stderr)) _exit(99);
        setvbuf(stderr, NULL, _IONBF, 0);
        signal(SIGSEGV, SIG_DFL); /* cmocka's own handler is in place */
        rt_fault_install();
        fn(arg);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (err) *err = tu_read_file(path, NULL);
    return st;
}

static int in_range(const void *p, uint64_t base)
{
    return (uint64_t)p >= base && (uint64_t)p < base + RT_ARENA_RESERVE;
}

static void test_freeze_copies_into_fixed_frozen_arena(void **state)
{
    (void)state;
    const char obj[] = "closure environment";
    char *p = lf_freeze(obj, sizeof obj);
    assert_non_null(p);
    assert_true(in_range(p, RT_FROZEN_BASE));
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_memory_equal(p, obj, sizeof obj);
    assert_true(lf_is_frozen(p));
    assert_true(lf_is_frozen(p + sizeof obj - 1));
    assert_false(lf_is_frozen(obj));
    char *q = lf_freeze(obj, 1);
    assert_true(q >= p + sizeof obj); /* never overlaps an earlier object */
}

/* Two closures that point at each other, frozen in one piece. */
struct cyc { struct cyc *other; uint64_t tag; };

static void cycle_fill(void *dst, uintptr_t at, void *ctx)
{
    struct cyc *c = dst;
    c[0] = (struct cyc){ (struct cyc *)(at + sizeof *c), 1 };
    c[1] = (struct cyc){ (struct cyc *)at, *(uint64_t *)ctx };
}

static void test_freeze_with_builds_a_frozen_cycle_at_its_final_address(void **state)
{
    (void)state;
    uint64_t tag = 2;
    struct cyc *c = lf_freeze_with(2 * sizeof *c, cycle_fill, &tag);
    assert_non_null(c);
    assert_true(lf_is_frozen(c) && lf_is_frozen(&c[1]));
    assert_ptr_equal(c[0].other, &c[1]);
    assert_ptr_equal(c[1].other, &c[0]);
    assert_ptr_equal(c->other->other, c);
    assert_int_equal(c[1].tag, 2);
    assert_int_not_equal(mprotect((void *)((uintptr_t)c & ~(uintptr_t)4095), 4096,
                                  PROT_READ | PROT_WRITE), 0);
    assert_null(lf_freeze_with(16, NULL, NULL));
}

static void test_frozen_view_cannot_be_made_writable(void **state)
{
    (void)state;
    char *p = lf_freeze("view", 5);
    uintptr_t page = (uintptr_t)p & ~(uintptr_t)4095;
    assert_int_not_equal(mprotect((void *)page, 4096, PROT_READ | PROT_WRITE), 0);
    assert_string_equal(p, "view");
}

static void test_alloc_is_zeroed_writable_and_in_persistent_arena(void **state)
{
    (void)state;
    uint64_t *a = lf_alloc(100 * sizeof *a);
    uint64_t *b = lf_alloc(8);
    assert_non_null(a);
    assert_true(in_range(a, RT_PERSIST_BASE));
    assert_int_equal((uintptr_t)a % 16, 0);
    for (int i = 0; i < 100; i++) assert_int_equal(a[i], 0);
    for (int i = 0; i < 100; i++) a[i] = (uint64_t)i * 7;
    *b = 42;
    for (int i = 0; i < 100; i++) assert_int_equal(a[i], (uint64_t)i * 7);
    assert_true(b >= a + 100);
    assert_false(lf_is_frozen(a));
}

static void test_freeze_and_alloc_grow_past_the_first_commit(void **state)
{
    (void)state;
    size_t n = 3u << 20; /* larger than the first 1 MiB commit */
    uint8_t *src = malloc(n);
    for (size_t i = 0; i < n; i++) src[i] = (uint8_t)(i * 131 + 7);
    uint8_t *p = lf_freeze(src, n);
    assert_non_null(p);
    assert_memory_equal(p, src, n);
    uint8_t *q = lf_alloc(n);
    assert_non_null(q);
    q[n - 1] = 1;
    assert_int_equal(q[0], 0);
    free(src);
    assert_null(lf_freeze(NULL, 16));
}

static void write_frozen(void *arg)
{
    volatile uint64_t *p = arg;
    p[1] = 1;
}

static void test_write_right_after_freeze_is_reported_with_the_object(void **state)
{
    (void)state;
    uint64_t obj[4] = { 1, 2, 3, 4 };
    uint64_t *p = lf_freeze(obj, sizeof obj);
    char *err = NULL;
    int st = in_child(write_frozen, p, &err);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_string_equal(err, tu_fmt("lineiform: write to frozen memory at %p "
                                    "(object frozen at %p, 32 bytes)\n",
                                    (void *)(p + 1), (void *)p));
    assert_int_equal(p[1], 2);
    free(err);
}

static void write_padding(void *arg)
{
    volatile uint8_t *p = arg;
    p[5] = 1; /* past a 3-byte object, before the next 16-byte slot */
}

static void test_write_between_objects_is_reported_without_an_object(void **state)
{
    (void)state;
    uint8_t *p = lf_freeze("ab", 3);
    char *err = NULL;
    int st = in_child(write_padding, p, &err);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_string_equal(err, tu_fmt("lineiform: write to frozen memory at %p "
                                    "(not inside any frozen object)\n", (void *)(p + 5)));
    free(err);
}

static void wild_write(void *arg)
{
    volatile uintptr_t addr = (uintptr_t)arg; /* hide the constant from -Warray-bounds */
    *(volatile int *)addr = 1;
}

static void test_other_segfaults_keep_the_default_action(void **state)
{
    (void)state;
    lf_freeze("x", 1); /* handler installed */
    char *err = NULL;
    int st = in_child(wild_write, (void *)(uintptr_t)64, &err);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
    assert_null(strstr(err, "lineiform"));
    free(err);
}

static void seal_then_try(void *arg)
{
    char *p = arg;
    if (rt_arena_seal() != LF_OK) _exit(10);
    if (lf_freeze("y", 1) != NULL) _exit(11);
    uintptr_t page = (uintptr_t)p & ~(uintptr_t)4095;
    if (mprotect((void *)page, 4096, PROT_READ | PROT_WRITE) == 0) _exit(12);
    if (!rt_arena_sealed()) _exit(13);
    if (lf_alloc(16) == NULL) _exit(14); /* the persistent arena stays open */
    _exit(0);
}

/* In a fresh process: after fork the parent's writable alias would keep
 * the memfd from being sealed against writes. */
static void test_sealed_arena_refuses_freeze_and_mprotect(void **state)
{
    (void)state;
    char self[4096];
    assert_int_equal(rt_self_path(self, sizeof self), 0);
    assert_int_equal(tu_run(tu_fmt("'%s' --seal-child", self), NULL, NULL), 0);
}

static void map_back_from_file(void *arg)
{
    const char *path = arg;
    int fd = open(path, O_RDONLY);
    uint64_t fb = rt_arena_base(RT_ARENA_FROZEN), pb = rt_arena_base(RT_ARENA_PERSISTENT);
    uint64_t fc = rt_arena_committed(RT_ARENA_FROZEN), pc = rt_arena_committed(RT_ARENA_PERSISTENT);
    if (fd < 0) _exit(10);
    if (rt_arena_map_fd(RT_ARENA_PERSISTENT, pb + pc, 4096, PROT_READ | PROT_WRITE, fd, 100) != LF_ERR_INVALID_ARG) _exit(11);
    if (rt_arena_map_fd(RT_ARENA_PERSISTENT, pb + pc, 4096, PROT_READ | PROT_WRITE, fd, 4096) != LF_OK) _exit(12);
    if (rt_arena_map_fd(RT_ARENA_FROZEN, fb + fc, 4096, PROT_READ, fd, 0) != LF_OK) _exit(13);
    uint8_t *pp = (uint8_t *)(pb + pc), *fp = (uint8_t *)(fb + fc);
    if (pp[0] != 2 || fp[0] != 1) _exit(14);
    pp[0] = 9; /* copy-on-write: the file keeps its byte */
    uint8_t back = 0;
    if (pread(fd, &back, 1, 4096) != 1 || back != 2) _exit(15);
    uint8_t *f2 = lf_freeze("after", 6); /* freezing continues past the file's pages */
    if (!f2 || (uint64_t)f2 < fb + fc + 4096 || strcmp((char *)f2, "after")) _exit(16);
    if (mprotect(fp, 4096, PROT_READ | PROT_WRITE) == 0) _exit(17);
    _exit(0);
}

static void test_map_fd_restores_arenas_copy_on_write(void **state)
{
    (void)state;
    static uint8_t pages[8192];
    memset(pages, 1, 4096);
    memset(pages + 4096, 2, 4096);
    const char *path = tu_fmt("%s/arenas.bin", tu_tmpdir());
    assert_int_equal(tu_write_file(path, pages, sizeof pages), 0);
    lf_freeze("x", 1);
    int st = in_child(map_back_from_file, (void *)path, NULL);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* Under ulimit -v the arenas still sit at their fixed addresses, smaller. */
static int limited_child(void)
{
    char obj[64] = "limited";
    char *p = lf_freeze(obj, sizeof obj);
    char *q = lf_alloc(1 << 20);
    if (!p || (uint64_t)p != RT_FROZEN_BASE || strcmp(p, "limited")) return 10;
    if (!q || (uint64_t)q != RT_PERSIST_BASE) return 11;
    q[(1 << 20) - 1] = 1;
    return 0;
}

/* Under ulimit -f the frozen arena's memfd grows up to the limit and no
 * further: what fits is frozen (before, the first 1 MiB step was refused,
 * so a 4 KiB limit froze nothing), what does not fails cleanly (no SIGXFSZ)
 * with errno EFBIG; lf_alloc (anonymous memory) still works. */
static int fsize_child(void)
{
    if (lf_freeze("x", 2) == NULL) return 10;
    static char big[8192];
    errno = 0;
    if (lf_freeze(big, sizeof big) != NULL || errno != EFBIG) return 12;
    char *q = lf_alloc(64);
    if (!q) return 11;
    q[63] = 1;
    return 0;
}

static void test_freeze_fails_cleanly_when_its_memfd_cannot_grow(void **state)
{
    (void)state;
    char self[4096], *err = NULL;
    assert_int_equal(rt_self_path(self, sizeof self), 0);
    /* sh counts 512-byte blocks: 4 KiB, one page */
    assert_int_equal(tu_run(tu_fmt("ulimit -f 8; '%s' --fsize-child", self), NULL, &err), 0);
    assert_non_null(strstr(err, "file size limit (ulimit -f)")); /* the runtime names the cause once */
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    free(err);
}

static void test_arenas_stay_fixed_when_address_space_is_limited(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* the sanitizer's shadow memory needs more than the limit */
#endif
    char self[4096];
    assert_int_equal(rt_self_path(self, sizeof self), 0);
    assert_int_equal(tu_run(tu_fmt("ulimit -v 3000000; '%s' --limited-child", self), NULL, NULL), 0);
}

static struct { uint64_t lo[64], hi[64]; int n; } roots_seen;

static void record_roots(void *lo, void *hi)
{
    if (roots_seen.n < 64) {
        roots_seen.lo[roots_seen.n] = (uint64_t)lo;
        roots_seen.hi[roots_seen.n++] = (uint64_t)hi;
    }
}

static int roots_cover(uint64_t lo, uint64_t hi)
{
    for (uint64_t at = lo; at < hi;) {
        int found = 0;
        for (int i = 0; i < roots_seen.n; i++)
            if (roots_seen.lo[i] <= at && at < roots_seen.hi[i]) {
                at = roots_seen.hi[i];
                found = 1;
            }
        if (!found) return 0;
    }
    return 1;
}

static void test_root_hook_sees_every_committed_range(void **state)
{
    (void)state;
    lf_freeze("z", 1);
    lf_alloc(1);
    lf_set_root_hook(record_roots);
    for (int k = 0; k < RT_ARENA__MAX; k++)
        assert_true(roots_cover(rt_arena_base(k), rt_arena_base(k) + rt_arena_committed(k)));
    void *big = lf_alloc(rt_arena_committed(RT_ARENA_PERSISTENT) + 4096);
    assert_non_null(big);
    assert_true(roots_cover(RT_PERSIST_BASE, RT_PERSIST_BASE + rt_arena_committed(RT_ARENA_PERSISTENT)));
    lf_set_root_hook(NULL);
}

static void map_back(void *arg)
{
    (void)arg;
    uint64_t fb = rt_arena_base(RT_ARENA_FROZEN), pb = rt_arena_base(RT_ARENA_PERSISTENT);
    uint64_t fc = rt_arena_committed(RT_ARENA_FROZEN), pc = rt_arena_committed(RT_ARENA_PERSISTENT);
    static uint8_t page[4096];
    memset(page, 0x5a, sizeof page);
    if (rt_arena_map_fixed(RT_ARENA_FROZEN, fb + fc + 4096, 4096, PROT_READ, page) != LF_ERR_INVALID_ARG) _exit(10);
    if (rt_arena_map_fixed(RT_ARENA_FROZEN, fb + fc, 4096, PROT_READ | PROT_WRITE, page) != LF_ERR_INVALID_ARG) _exit(11);
    if (rt_arena_map_fixed(RT_ARENA_FROZEN, fb + fc, 4096, PROT_READ, page) != LF_OK) _exit(12);
    if (rt_arena_map_fixed(RT_ARENA_PERSISTENT, pb + pc, 4096, PROT_READ | PROT_WRITE, page) != LF_OK) _exit(13);
    if (memcmp((void *)(fb + fc), page, 4096) || memcmp((void *)(pb + pc), page, 4096)) _exit(14);
    uint8_t *next = lf_alloc(1); /* continues after the mapped range */
    if ((uint64_t)next < pb + pc + 4096) _exit(15);
    ((uint8_t *)(pb + pc))[0] = 1; /* persistent stays writable */
    rt_frozen_index_add(fb + fc, 4096);
    write_frozen((void *)(fb + fc)); /* reported as the restored object */
}

static void test_map_fixed_restores_arenas_and_index(void **state)
{
    (void)state;
    char *err = NULL;
    int st = in_child(map_back, NULL, &err);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(err, "bytes)\n"));
    assert_non_null(strstr(err, ", 4096 bytes)"));
    free(err);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--seal-child") == 0)
        seal_then_try(lf_freeze("sealed", 7));
    if (argc > 1 && strcmp(argv[1], "--limited-child") == 0) return limited_child();
    if (argc > 1 && strcmp(argv[1], "--fsize-child") == 0) return fsize_child();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_freeze_copies_into_fixed_frozen_arena),
        cmocka_unit_test(test_frozen_view_cannot_be_made_writable),
        cmocka_unit_test(test_freeze_with_builds_a_frozen_cycle_at_its_final_address),
        cmocka_unit_test(test_alloc_is_zeroed_writable_and_in_persistent_arena),
        cmocka_unit_test(test_freeze_and_alloc_grow_past_the_first_commit),
        cmocka_unit_test(test_write_right_after_freeze_is_reported_with_the_object),
        cmocka_unit_test(test_write_between_objects_is_reported_without_an_object),
        cmocka_unit_test(test_other_segfaults_keep_the_default_action),
        cmocka_unit_test(test_sealed_arena_refuses_freeze_and_mprotect),
        cmocka_unit_test(test_arenas_stay_fixed_when_address_space_is_limited),
        cmocka_unit_test(test_freeze_fails_cleanly_when_its_memfd_cannot_grow),
        cmocka_unit_test(test_root_hook_sees_every_committed_range),
        cmocka_unit_test(test_map_fixed_restores_arenas_and_index),
        cmocka_unit_test(test_map_fd_restores_arenas_copy_on_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
