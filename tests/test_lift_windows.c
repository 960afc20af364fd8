/* test_lift_windows.c -- frame windows (lifter/lift_job.h, lift_call.c): a
 * specialization called with the address of a region of its caller's
 * frame takes the region's words as parameters and returns them as it
 * leaves them.  Each function here is a closure over a frozen node that
 * calls itself through the node with a VLA of its own frame, as an
 * interpreter's argument frame is; its specialization must compute what
 * it does, its writes into the region must reach the caller, a frame
 * address among the region's words escapes with it, and a callee
 * that lets the region's address escape must be called with the region in
 * memory.  Functions specialized in this process with lf_optimize. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lineiform.h"

struct node;
typedef long (*code_t)(const struct node *, long *);
struct node { code_t code; const struct node *self; long size; };

/* fib of fr[0], each call with a frame of its own. */
__attribute__((noinline)) long n_fib(const struct node *n, long *fr)
{
    long x = fr[0];
    if (x < 2) return x;
    long a[n->size], b[n->size];
    a[0] = x - 1;
    b[0] = x - 2;
    return n->self->code(n->self, a) + n->self->code(n->self, b);
}

/* 1 + ... + fr[0] into fr[1], through the callee's write into ours. */
__attribute__((noinline)) long n_sum(const struct node *n, long *fr)
{
    long x = fr[0];
    if (x == 0) {
        fr[1] = 0;
        return 0;
    }
    long a[n->size];
    a[0] = x - 1;
    a[1] = -1;
    n->self->code(n->self, a);
    fr[1] = a[1] + x;
    return 1;
}

/* fr[1] points at a word of the caller's own frame, which the callee
 * writes: a frame address in a window's words escapes with it. */
__attribute__((noinline)) long n_chain(const struct node *n, long *fr)
{
    long x = fr[0];
    long *out = (long *)fr[1];
    if (x == 0) {
        *out = 7;
        return 0;
    }
    long a[n->size], mine = -1;
    a[0] = x - 1;
    a[1] = (long)&mine;
    n->self->code(n->self, a);
    *out = mine + x;
    return 1;
}

/* fib again, reading its frame after the first call: a[1] comes back as
 * the callee leaves it (unchanged). */
__attribute__((noinline)) long n_fibr(const struct node *n, long *fr)
{
    long x = fr[0];
    if (x < 2) return x;
    long a[n->size];
    a[0] = x - 1;
    a[1] = x;
    long r = n->self->code(n->self, a);
    a[0] = a[1] - 2;
    return r + n->self->code(n->self, a);
}

/* fib through another node: n_fibr's recursion becomes a specialization
 * of its own (internal to the module), called with windows. */
__attribute__((noinline)) long n_start(const struct node *n, long *fr)
{
    long a[n->size];
    a[0] = fr[0];
    a[1] = 0;
    return n->self->code(n->self, a);
}

/* n_sum through another node, handing back what the callee wrote. */
__attribute__((noinline)) long n_start_sum(const struct node *n, long *fr)
{
    long a[n->size];
    a[0] = fr[0];
    a[1] = -1;
    long r = n->self->code(n->self, a);
    fr[1] = a[1];
    return r;
}

/* The region's address escapes: after the call, the caller changes its
 * region and reads it back through the escaped pointer. */
long *volatile g_frame;
__attribute__((noinline)) long n_leak(const struct node *n, long *fr)
{
    long x = fr[0];
    g_frame = fr;
    if (x == 0) return 1;
    long a[n->size];
    a[0] = x - 1;
    a[1] = x;
    long r = n->self->code(n->self, a);
    a[0] = 1000 * x;
    return r + g_frame[0] + g_frame[1];
}

static void fill(void *dst, uintptr_t at, void *ctx)
{
    struct node *n = dst;
    n->code = (code_t)ctx;
    n->self = (const struct node *)at;
    n->size = 2;
}

/* code specialized for node n. */
static code_t specialize_at(code_t code, const struct node *n)
{
    code_t o = (code_t)lf_optimize((void *)code, n);
    if (o == code) fail_msg("not specialized: %s", lf_last_report()->reason);
    return o;
}

/* The frozen node for code (calling itself through it), and its specialization. */
static code_t specialize(code_t code, const struct node **node)
{
    *node = lf_freeze_with(sizeof(struct node), fill, (void *)code);
    assert_non_null(*node);
    return specialize_at(code, *node);
}

/* start specialized for a node of its own (*r) whose callee is inner's
 * self-calling node: inner's recursion becomes a specialization of its
 * own, internal to the module, called with windows. */
static code_t specialize_through(code_t start, code_t inner, const struct node **r)
{
    const struct node *in = lf_freeze_with(sizeof(struct node), fill, (void *)inner);
    assert_non_null(in);
    struct node r0 = { start, in, 2 };
    *r = lf_freeze(&r0, sizeof r0);
    assert_non_null(*r);
    return specialize_at(start, *r);
}

static void test_window_fib_computes_what_the_closure_does(void **state)
{
    (void)state;
    const struct node *n;
    code_t o = specialize(n_fib, &n);
    assert_true(lf_last_report()->windows > 0);
    for (long x = 0; x <= 20; x++) {
        long f1[2] = { x, 0 }, f2[2] = { x, 0 };
        assert_int_equal(o(n, f1), n_fib(n, f2));
    }
}

/* n_fibr only reads its window: the words its specialization returns are
 * its callers' own arguments, forwarded to them (lifter/passes/lift_retfwd.c). */
static void test_window_words_returned_unchanged_are_forwarded(void **state)
{
    (void)state;
    const struct node *r;
    code_t o = specialize_through(n_start, n_fibr, &r);
    assert_true(lf_last_report()->windows > 0);
    assert_true(lf_last_report()->returns_forwarded > 0);
    for (long x = 0; x <= 20; x++) {
        long f1[2] = { x, 0 }, f2[2] = { x, 0 };
        assert_int_equal(o(r, f1), n_start(r, f2));
    }
}

/* n_sum's specialization writes a word of its window: that result is not
 * its argument and must not be forwarded. */
static void test_window_words_written_are_not_forwarded(void **state)
{
    (void)state;
    const struct node *r;
    code_t o = specialize_through(n_start_sum, n_sum, &r);
    assert_true(lf_last_report()->windows > 0);
    for (long x = 0; x <= 30; x++) {
        long fr[2] = { x, -5 };
        assert_int_equal(o(r, fr), x > 0);
        assert_int_equal(fr[1], x * (x + 1) / 2);
    }
}

static void test_window_writes_reach_the_caller(void **state)
{
    (void)state;
    const struct node *n;
    code_t o = specialize(n_sum, &n);
    assert_true(lf_last_report()->windows > 0);
    for (long x = 0; x <= 30; x++) {
        long fr[2] = { x, -1 };
        assert_int_equal(o(n, fr), x > 0);
        assert_int_equal(fr[1], x * (x + 1) / 2);
    }
}

static void test_window_hands_over_the_frame_addresses_in_it(void **state)
{
    (void)state;
    const struct node *n;
    code_t o = specialize(n_chain, &n);
    for (long x = 0; x <= 20; x++) {
        long res = 0, fr[2] = { x, (long)&res };
        o(n, fr);
        assert_int_equal(res, 7 + x * (x + 1) / 2);
    }
}

static void test_window_not_used_when_the_address_escapes(void **state)
{
    (void)state;
    const struct node *n;
    code_t o = specialize(n_leak, &n);
    assert_int_equal(lf_last_report()->windows, 0);
    for (long x = 0; x <= 12; x++) {
        long f1[2] = { x, 0 }, f2[2] = { x, 0 };
        long want = n_leak(n, f2);
        assert_int_equal(o(n, f1), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_fib_computes_what_the_closure_does),
        cmocka_unit_test(test_window_words_returned_unchanged_are_forwarded),
        cmocka_unit_test(test_window_words_written_are_not_forwarded),
        cmocka_unit_test(test_window_writes_reach_the_caller),
        cmocka_unit_test(test_window_hands_over_the_frame_addresses_in_it),
        cmocka_unit_test(test_window_not_used_when_the_address_escapes),
    };
    return cmocka_run_group_tests_name("lift_windows", tests, NULL, NULL);
}
