/* tutil_leaf.h -- the closure shape the lf_optimize tests of recursion
 * share: a function f(env, n) whose frozen env points to a frozen leaf
 * holding the recursion's bound.  Include after <cmocka.h> and
 * "lineiform.h". */
#ifndef TUTIL_LEAF_H
#define TUTIL_LEAF_H

struct leaf { long k; };
struct env { const struct leaf *leaf; };
typedef long (*leaf_fn)(const struct env *, long);

/* f specialized for a frozen env whose leaf holds k (*e: that env); fails
 * the test, with the lifter's reason, when f is not specialized. */
static inline leaf_fn specialize_leaf(void *f, long k, const struct env **e)
{
    const struct leaf l0 = { k };
    const struct leaf *l = lf_freeze(&l0, sizeof l0);
    assert_non_null(l);
    struct env e0 = { l };
    *e = lf_freeze(&e0, sizeof e0);
    assert_non_null(*e);
    leaf_fn o = (leaf_fn)lf_optimize(f, *e);
    if ((void *)o == f) fail_msg("not specialized: %s", lf_last_report()->reason);
    return o;
}

#endif
