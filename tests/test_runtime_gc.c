/* test_runtime_gc.c -- with the root hook registered, Boehm GC keeps alive
 * what only the arenas point to, and still collects what nothing points to
 * (the control that shows the test can tell the difference).  libgc is
 * opened at run time so that the runtime tests link libc only. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"
#include "tests/tutil.h"

typedef void (*gc_finalizer)(void *obj, void *cd);
static struct {
    void (*init)(void);
    void *(*malloc_)(size_t);
    void (*add_roots)(void *, void *);
    void (*gcollect)(void);
    int (*invoke_finalizers)(void);
    void (*register_finalizer)(void *, gc_finalizer, void *, gc_finalizer *, void **);
} gc;

#define N_OBJS 100

static void add_roots(void *lo, void *hi) { gc.add_roots(lo, hi); }

static void count_collected(void *obj, void *cd)
{
    (void)obj;
    ++*(int *)cd;
}

/* Fill slots with fresh collectable objects whose collection bumps *counter. */
static __attribute__((noinline)) void fill(void **slots, int *counter)
{
    for (int i = 0; i < N_OBJS; i++) {
        void *p = gc.malloc_(64);
        gc.register_finalizer(p, count_collected, counter, NULL, NULL);
        slots[i] = p;
    }
}

/* Overwrite stale stack slots that might still hold object addresses. */
static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char junk[16384];
    memset((char *)junk, 0, sizeof junk);
}

static int load_gc(void)
{
    void *lib = dlopen("libgc.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) return -1;
    *(void **)&gc.init = dlsym(lib, "GC_init");
    *(void **)&gc.malloc_ = dlsym(lib, "GC_malloc");
    *(void **)&gc.add_roots = dlsym(lib, "GC_add_roots");
    *(void **)&gc.gcollect = dlsym(lib, "GC_gcollect");
    *(void **)&gc.invoke_finalizers = dlsym(lib, "GC_invoke_finalizers");
    *(void **)&gc.register_finalizer = dlsym(lib, "GC_register_finalizer");
    return gc.init && gc.malloc_ && gc.add_roots && gc.gcollect && gc.invoke_finalizers &&
                   gc.register_finalizer ? 0 : -1;
}

static void test_gc_keeps_what_the_arenas_point_to(void **state)
{
    (void)state;
    if (load_gc() != 0) skip();
    gc.init();
    lf_set_root_hook(add_roots);
    int in_persistent = 0, in_frozen = 0, in_malloc = 0;

    void **persistent = lf_alloc(N_OBJS * sizeof *persistent);
    fill(persistent, &in_persistent);

    void **tmp = calloc(N_OBJS, sizeof *tmp);
    fill(tmp, &in_frozen);
    void **frozen = lf_freeze(tmp, N_OBJS * sizeof *tmp);
    assert_non_null(frozen);
    memset(tmp, 0, N_OBJS * sizeof *tmp);

    void **unrooted = calloc(N_OBJS, sizeof *unrooted); /* malloc memory is no root */
    fill(unrooted, &in_malloc);

    scrub_stack();
    for (int i = 0; i < 3; i++) {
        gc.gcollect();
        gc.invoke_finalizers();
    }
    assert_int_equal(in_persistent, 0);
    assert_int_equal(in_frozen, 0);
    assert_true(in_malloc >= N_OBJS / 2); /* the control: unrooted ones do go */
    free(tmp);
    free(unrooted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gc_keeps_what_the_arenas_point_to),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
