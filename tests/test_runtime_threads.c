/* test_runtime_threads.c -- lf_freeze and lf_alloc from several threads at
 * once: every object lands intact, 16-byte aligned, and no two overlap. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"
#include "tests/tutil.h"

#define N_THREADS 4
#define N_OBJS 20000

struct worker {
    int id;
    uint64_t *frozen[N_OBJS];
    uint64_t *persistent[N_OBJS];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < N_OBJS; i++) {
        uint64_t obj[3] = { (uint64_t)w->id, (uint64_t)i, (uint64_t)w->id * 1000003u + (uint64_t)i };
        w->frozen[i] = lf_freeze(obj, sizeof obj);
        w->persistent[i] = lf_alloc(sizeof obj);
        if (w->persistent[i]) memcpy(w->persistent[i], obj, sizeof obj);
    }
    return NULL;
}

static int by_address(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void assert_disjoint(uint64_t *addrs, size_t n, size_t size)
{
    qsort(addrs, n, sizeof *addrs, by_address);
    for (size_t i = 0; i + 1 < n; i++) assert_true(addrs[i] + size <= addrs[i + 1]);
}

static void test_concurrent_freeze_and_alloc_never_overlap(void **state)
{
    (void)state;
    static struct worker w[N_THREADS];
    pthread_t t[N_THREADS];
    for (int k = 0; k < N_THREADS; k++) {
        w[k].id = k;
        assert_int_equal(pthread_create(&t[k], NULL, work, &w[k]), 0);
    }
    for (int k = 0; k < N_THREADS; k++) pthread_join(t[k], NULL);
    uint64_t *fa = malloc(sizeof *fa * N_THREADS * N_OBJS), *pa = malloc(sizeof *pa * N_THREADS * N_OBJS);
    size_t n = 0;
    for (int k = 0; k < N_THREADS; k++)
        for (int i = 0; i < N_OBJS; i++, n++) {
            uint64_t want[3] = { (uint64_t)k, (uint64_t)i, (uint64_t)k * 1000003u + (uint64_t)i };
            assert_non_null(w[k].frozen[i]);
            assert_non_null(w[k].persistent[i]);
            assert_memory_equal(w[k].frozen[i], want, sizeof want);
            assert_memory_equal(w[k].persistent[i], want, sizeof want);
            assert_int_equal((uintptr_t)w[k].frozen[i] % 16, 0);
            fa[n] = (uint64_t)w[k].frozen[i];
            pa[n] = (uint64_t)w[k].persistent[i];
        }
    assert_disjoint(fa, n, 24);
    assert_disjoint(pa, n, 24);
    free(fa);
    free(pa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_freeze_and_alloc_never_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
