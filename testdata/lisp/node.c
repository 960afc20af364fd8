/* node.c -- running the core nodes: variables, if, sequences, closures,
 * calls, tail calls, loops.
 *
 * Calling convention: a lambda's body runs as body->code(body, frame) with
 * frame->up = the closure's environment and frame->s[0..] = its arguments
 * then its flattened locals (initialised to unspecified).  The frame of a
 * lambda that no closure can reach (lambda->heap == 0) is a VLA in the C
 * frame of the call that makes it.
 *
 * Tail calls: a call in tail position stores callee + arguments in lv_tc
 * and returns LV_TAIL; the nearest non-tail call (or loop in non-tail
 * position, or lv_call) runs lv_trampoline, so mutual tail recursion runs
 * in constant C stack.  A self tail call returns its loop's mark to the
 * loop around that loop's body (nc_bodyloop, nc_loop), a real loop in
 * machine code; inner loops in tail position pass other marks through.
 */
#include "node.h"

#include <string.h>

struct lv_tc lv_tc;
long lv_depth_left = LV_DEPTH_MAX;

#define N(type) const struct type *self = (const struct type *)n_

value nc_const(nodep n_, struct frame *fr)
{
    N(n_const);
    (void)fr;
    return self->k;
}

value nc_local0(nodep n_, struct frame *fr)
{
    N(n_local);
    return fr->s[self->idx];
}

value nc_local1(nodep n_, struct frame *fr)
{
    N(n_local);
    return fr->up->s[self->idx];
}

value nc_localn(nodep n_, struct frame *fr)
{
    N(n_local);
    for (int32_t d = self->depth; d > 0; d--) fr = fr->up;
    return fr->s[self->idx];
}

static _Noreturn void unbound(const struct gcell *c, struct lv_pos pos)
{
    lv_die(pos, "unbound variable: %s", c->name->name);
}

value nc_global(nodep n_, struct frame *fr)
{
    N(n_global);
    (void)fr;
    value v = self->cell->val;
    if (__builtin_expect(v == LV_UNBOUND, 0)) unbound(self->cell, self->pos);
    return v;
}

value nc_lset(nodep n_, struct frame *fr)
{
    N(n_lset);
    value v = lv_opnd(self->e, fr);
    for (int32_t d = self->depth; d > 0; d--) fr = fr->up;
    fr->s[self->idx] = v;
    return LV_UNSPEC;
}

value nc_gset(nodep n_, struct frame *fr)
{
    N(n_gset);
    value v = EVAL(self->e, fr);
    if (!self->def && self->cell->val == LV_UNBOUND) unbound(self->cell, self->pos);
    self->cell->val = v;
    return LV_UNSPEC;
}

value nc_if(nodep n_, struct frame *fr)
{
    N(n_if);
    if (EVAL(self->c, fr) != LV_FALSE) return EVAL(self->t, fr);
    return EVAL(self->e, fr);
}

value nc_seq(nodep n_, struct frame *fr)
{
    N(n_seq);
    int32_t i;
    for (i = 0; i < self->n - 1; i++) EVAL(self->xs[i], fr);
    return EVAL(self->xs[i], fr);
}

value nc_lambda(nodep n_, struct frame *fr)
{
    N(n_lambda);
    return lv_make_proc(self->lam, fr);
}

/* -- Applying procedures ------------------------------------------------- */

static _Noreturn void arity_error(value f, int argc)
{
    if (PRIMP(f)) {
        const struct prim *p = (const struct prim *)f;
        lv_die(lv_nopos, "%s: wrong number of arguments (%d)", p->name, argc);
    }
    const struct lambda *L = ((const struct proc *)f)->lam;
    lv_die(lv_nopos, "%s: expected %s%d argument%s, got %d",
           *L->name ? L->name : "#<procedure>", L->rest ? "at least " : "", L->nreq,
           L->nreq == 1 ? "" : "s", argc);
}

static _Noreturn void not_procedure(value f)
{
    lv_type_error("call", "a procedure", f);
}

/* Run lambda p with argc arguments (caller checked the arity). */
static value apply_lambda(const struct proc *p, int argc, const value *argv)
{
    const struct lambda *L = p->lam;
    int32_t size = L->size;
    value buf[L->heap ? 1 : size + 1];
    struct frame *f = L->heap ? lv_heap_frame((size_t)size) : (struct frame *)buf;
    LV_STACK_CHECK(buf);
    f->up = p->env;
    int i;
    for (i = 0; i < L->nreq; i++) f->s[i] = argv[i];
    if (L->rest) f->s[i++] = lv_list_n(argc - L->nreq, argv + L->nreq);
    if (!L->heap)
        for (; i < size; i++) f->s[i] = LV_UNSPEC;
    LV_DEPTH_ENTER();
    value r = EVAL(L->body, f);
    LV_DEPTH_LEAVE();
    return r;
}

value lv_apply(value f, int argc, value *argv)
{
    if (PROCP(f)) {
        const struct lambda *L = ((const struct proc *)f)->lam;
        if (argc != L->nreq && !(L->rest && argc > L->nreq)) arity_error(f, argc);
        lv_cur_pos = lv_nopos;
        return apply_lambda((const struct proc *)f, argc, argv);
    }
    if (PRIMP(f)) {
        const struct prim *p = (const struct prim *)f;
        if (argc < p->min || (p->max >= 0 && argc > p->max)) arity_error(f, argc);
        lv_cur_pos = lv_nopos;
        return p->fn(argc, argv);
    }
    if (CONTP(f)) lv_throw(f, argc, argv);
    if (TYPEP(f, T_PARAM)) {
        if (argc != 0) lv_die(lv_nopos, "parameter: expected 0 arguments, got %d", argc);
        return lv_param_value(f);
    }
    not_procedure(f);
}

value lv_trampoline(void)
{
    value r;
    do {
        int argc = lv_tc.argc;
        value args[argc > 0 ? argc : 1];
        memcpy(args, lv_tc.argv, (size_t)argc * sizeof(value));
        r = lv_apply(lv_tc.f, argc, args);
    } while (r == LV_TAIL);
    return r;
}

value lv_call(value f, int argc, value *argv)
{
    value r = lv_apply(f, argc, argv);
    if (r == LV_TAIL) r = lv_trampoline();
    return r;
}

/* -- Calls ------------------------------------------------------------------ */

static value call_slow(const struct n_call *c, value f, struct frame *fr)
{
    int argc = c->argc;
    value args[argc > 0 ? argc : 1];
    LV_STACK_CHECK(args);
    for (int i = 0; i < argc; i++) args[i] = EVAL(c->args[i], fr);
    lv_cur_pos = c->pos;
    return lv_call(f, argc, args);
}

/* The frame for fixed-arity lambda L, filled from the call's arguments,
 * then the body; the frame is a VLA here unless captured. */
static inline value enter(const struct n_call *c, const struct lambda *L, struct frame *env,
                          struct frame *fr)
{
    int32_t size = L->size, argc = c->argc, i;
    value r;
    LV_DEPTH_ENTER();
    if (!L->heap) {
        value buf[size + 1];
        struct frame *nf = (struct frame *)buf;
        LV_STACK_CHECK(buf);
        nf->up = env;
        for (i = 0; i < argc; i++) nf->s[i] = lv_opnd(c->args[i], fr);
        for (; i < size; i++) nf->s[i] = LV_UNSPEC;
        r = EVAL(L->body, nf);
    } else {
        value tmp[argc > 0 ? argc : 1];
        LV_STACK_CHECK(tmp);
        for (i = 0; i < argc; i++) tmp[i] = EVAL(c->args[i], fr);
        struct frame *nf = lv_heap_frame((size_t)size);
        nf->up = env;
        memcpy(nf->s, tmp, (size_t)argc * sizeof(value));
        r = EVAL(L->body, nf);
    }
    LV_DEPTH_LEAVE();
    if (__builtin_expect(r == LV_TAIL, 0)) r = lv_trampoline();
    return r;
}

value nc_call(nodep n_, struct frame *fr)
{
    N(n_call);
    value f = EVAL(self->fn, fr);
    if (PROCP(f)) {
        const struct proc *p = (const struct proc *)f;
        if (p->lam->nreq == self->argc && !p->lam->rest) return enter(self, p->lam, p->env, fr);
    }
    return call_slow(self, f, fr);
}

value nc_kcall(nodep n_, struct frame *fr)
{
    N(n_call);
    return enter(self, self->lam, NULL, fr);
}

value nc_tcall(nodep n_, struct frame *fr)
{
    N(n_call);
    int argc = self->argc;
    value f = self->kproc ? self->kproc : EVAL(self->fn, fr);
    value args[argc > 0 ? argc : 1];
    for (int i = 0; i < argc; i++) args[i] = lv_opnd(self->args[i], fr);
    lv_tc.f = f;
    lv_tc.argc = argc;
    if (argc <= LV_TC_MAX) {
        lv_tc.argv = lv_tc.buf;
    } else {
        lv_tc.argv = lv_gc_alloc((size_t)argc * sizeof(value));
    }
    memcpy(lv_tc.argv, args, (size_t)argc * sizeof(value));
    return LV_TAIL;
}

value nc_stail(nodep n_, struct frame *fr)
{
    N(n_stail);
    int32_t n = self->n;
    value tmp[n > 0 ? n : 1];
    for (int32_t i = 0; i < n; i++) tmp[i] = lv_opnd(self->args[i], fr);
    if (self->heap) {
        memcpy(lv_tc.buf, tmp, (size_t)n * sizeof(value));
        return self->mark;
    }
    for (int32_t d = self->depth; d > 0; d--) fr = fr->up;
    memcpy(fr->s + self->slot0, tmp, (size_t)n * sizeof(value));
    return self->mark;
}

/* Self tail calls of one to three arguments into a stack frame. */
#define STAIL_FRAME(self, fr) \
    for (int32_t d = self->depth; d > 0; d--) fr = fr->up

value nc_stail1(nodep n_, struct frame *fr)
{
    N(n_stail);
    value a = lv_opnd(self->args[0], fr);
    STAIL_FRAME(self, fr);
    fr->s[self->slot0] = a;
    return self->mark;
}

value nc_stail2(nodep n_, struct frame *fr)
{
    N(n_stail);
    value a = lv_opnd(self->args[0], fr), b = lv_opnd(self->args[1], fr);
    STAIL_FRAME(self, fr);
    fr->s[self->slot0] = a;
    fr->s[self->slot0 + 1] = b;
    return self->mark;
}

value nc_stail3(nodep n_, struct frame *fr)
{
    N(n_stail);
    value a = lv_opnd(self->args[0], fr), b = lv_opnd(self->args[1], fr);
    value c = lv_opnd(self->args[2], fr);
    STAIL_FRAME(self, fr);
    fr->s[self->slot0] = a;
    fr->s[self->slot0 + 1] = b;
    fr->s[self->slot0 + 2] = c;
    return self->mark;
}

/* -- Binding forms and loops ---------------------------------------------------- */

value nc_let(nodep n_, struct frame *fr)
{
    N(n_let);
    struct frame *nf = lv_heap_frame((size_t)self->size);
    nf->up = fr;
    for (int32_t i = 0; i < self->n; i++)
        nf->s[i] = EVAL(self->inits[i], self->rec ? nf : fr);
    return EVAL(self->body, nf);
}

static struct frame *loop_frame(int32_t size, int32_t n, struct frame *up, const value *args)
{
    struct frame *nf = lv_heap_frame((size_t)size);
    nf->up = up;
    memcpy(nf->s, args, (size_t)n * sizeof(value));
    return nf;
}

value nc_loop(nodep n_, struct frame *fr)
{
    N(n_loop);
    int32_t n = self->n;
    value r;
    if (!self->heap) {
        for (int32_t i = 0; i < n; i++) fr->s[self->slot0 + i] = EVAL(self->inits[i], fr);
        while ((r = EVAL(self->body, fr)) == self->mark) {}
    } else {
        value tmp[n > 0 ? n : 1];
        for (int32_t i = 0; i < n; i++) tmp[i] = EVAL(self->inits[i], fr);
        struct frame *nf = loop_frame(self->size, n, fr, tmp);
        while ((r = EVAL(self->body, nf)) == self->mark) nf = loop_frame(self->size, n, fr, lv_tc.buf);
    }
    if (r == LV_TAIL && !self->tail) r = lv_trampoline();
    return r;
}

value nc_bodyloop(nodep n_, struct frame *fr)
{
    N(n_bodyloop);
    value r;
    while ((r = EVAL(self->body, fr)) == self->mark) {
        if (self->heap) fr = loop_frame(self->size, self->n, fr->up, lv_tc.buf);
    }
    return r;
}

value nc_prim(nodep n_, struct frame *fr)
{
    N(n_prim);
    int argc = self->argc;
    value args[argc > 0 ? argc : 1];
    for (int i = 0; i < argc; i++) args[i] = EVAL(self->a[i], fr);
    lv_cur_pos = self->pos;
    value r = self->p->fn(argc, args);
    lv_cur_pos = lv_nopos;
    if (r == LV_TAIL) r = lv_trampoline();
    return r;
}

value nc_program(nodep n_, struct frame *fr)
{
    N(n_program);
    (void)fr;
    int32_t size = self->size;
    value buf[size + 1];
    struct frame *f = self->heap ? lv_heap_frame((size_t)size) : (struct frame *)buf;
    f->up = NULL;
    for (int32_t i = 0; i < size; i++) f->s[i] = LV_UNSPEC;
    value r = EVAL(self->body, f);
    if (r == LV_TAIL) r = lv_trampoline();
    return r;
}
