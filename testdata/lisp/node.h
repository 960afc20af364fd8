/* node.h -- the frozen closures a program compiles to (emit.c builds them,
 * node.c and node_prim.c run them).  Every struct starts with its code
 * pointer; every field is fixed once frozen, so the lifter sees constants.
 */
#ifndef LISP_NODE_H
#define LISP_NODE_H

#include "lisp.h"

typedef const struct node *nodep;

struct n_const { lv_code code; value k; };
struct n_local { lv_code code; int32_t depth, idx; };
struct n_global { lv_code code; struct gcell *cell; struct lv_pos pos; };
struct n_lset { lv_code code; int32_t depth, idx; nodep e; };
struct n_gset { lv_code code; struct gcell *cell; nodep e; int32_t def; struct lv_pos pos; };
struct n_if { lv_code code; nodep c, t, e; };
struct n_seq { lv_code code; int32_t n; nodep xs[]; };
struct n_lambda { lv_code code; const struct lambda *lam; };
/* A call; lam/kproc set when the callee is a constant procedure. */
struct n_call {
    lv_code code;
    struct lv_pos pos;
    int32_t argc;
    nodep fn;
    const struct lambda *lam;
    value kproc;
    nodep args[];
};
/* Self tail call: new loop arguments into slots slot0.. of the frame depth
 * levels up, or (heap) into lv_tc for the loop to put in a fresh frame. */
struct n_stail { lv_code code; int32_t n, depth, slot0, heap; value mark; nodep args[]; };
/* A let whose variables are captured: a fresh GC frame. */
struct n_let { lv_code code; int32_t n, size, rec; nodep body; nodep inits[]; };
struct n_loop {
    lv_code code;
    int32_t n, slot0, size, heap, tail;
    value mark;               /* what its self tail calls return */
    nodep body;
    nodep inits[];
};
struct n_bodyloop { lv_code code; int32_t n, size, heap; value mark; nodep body; };
struct n_prim { lv_code code; struct lv_pos pos; int32_t argc; const struct prim *p; nodep a[]; };
struct n_program { lv_code code; int32_t size, heap; nodep body; };

/* node.c: code pointers the emitter picks from */
value nc_const(nodep, struct frame *);
value nc_local0(nodep, struct frame *);

/* Evaluate an operand, reading locals of the current frame and constants
 * directly instead of calling their nodes (the test is on a frozen code
 * pointer, so a lifter folds it away). */
static inline value lv_opnd(nodep a, struct frame *fr)
{
    if (a->code == nc_local0) return fr->s[((const struct n_local *)a)->idx];
    if (a->code == nc_const) return ((const struct n_const *)a)->k;
    return a->code(a, fr);
}

value nc_local1(nodep, struct frame *);
value nc_localn(nodep, struct frame *);
value nc_global(nodep, struct frame *);
value nc_lset(nodep, struct frame *);
value nc_gset(nodep, struct frame *);
value nc_if(nodep, struct frame *);
value nc_seq(nodep, struct frame *);
value nc_lambda(nodep, struct frame *);
value nc_call(nodep, struct frame *);
value nc_kcall(nodep, struct frame *);
value nc_tcall(nodep, struct frame *);
value nc_stail(nodep, struct frame *);
value nc_stail1(nodep, struct frame *);
value nc_stail2(nodep, struct frame *);
value nc_stail3(nodep, struct frame *);
value nc_let(nodep, struct frame *);
value nc_loop(nodep, struct frame *);
value nc_bodyloop(nodep, struct frame *);
value nc_prim(nodep, struct frame *);
value nc_program(nodep, struct frame *);

/* node_prim.c: a specialized code pointer for prim p with argc arguments,
 * or nc_prim. */
lv_code nc_prim_code(const struct prim *p, int argc, nodep const *args);

#endif
