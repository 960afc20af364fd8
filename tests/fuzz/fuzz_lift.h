/* fuzz_lift.h -- what tests/fuzz/fuzz_lift.c (the driver, instrumented)
 * and tests/fuzz/fuzz_lift_nodes.c (the closure kinds, not instrumented)
 * share: the node layout and the table of kinds. */
#ifndef FUZZ_LIFT_H
#define FUZZ_LIFT_H

struct fl_node;
typedef long (*fl_fn)(const struct fl_node *n, long x);
struct fl_env { const struct fl_env *up; long val; };
struct fl_node {
    fl_fn fn;                       /* first word: the closure's code */
    const struct fl_node *l, *r;    /* children (frozen), NULL when unused */
    long k;                         /* constant, tag, trip count or depth */
    const struct fl_env *env;       /* fl_var: a frozen environment chain */
    const char *s;                  /* fl_strlen: a frozen string */
};

struct fl_kind {
    const char *name;
    fl_fn fn;
    int arity;                      /* children read: 0, 1 (l) or 2 (l, r) */
};
extern const struct fl_kind fl_kinds[];
extern const unsigned fl_nkinds;

#endif
