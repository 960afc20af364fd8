/* emit.c -- the compiler's last pass: core AST to staged (later frozen)
 * nodes, with every variable at a fixed (depth, slot).
 *
 * Frames: each real lambda (and the top level) has a frame; a let, letrec or
 * loop whose variables are captured gets a frame of its own, made afresh
 * each time it is entered; the variables of every other let, letrec and
 * loop are flattened into extra slots of the nearest enclosing frame, so a
 * loop or a let costs no allocation.
 *
 * Invariants:
 *  (1) A frame's size is known once its body is emitted; nodes that make
 *      frames (n_let, n_loop, lambdas) are built after their bodies.
 *  (2) Depth counts only frames that exist at run time (struct fdesc chain).
 *  (3) A self tail call is emitted only for a lambda/loop that is the
 *      target of that very call, with exact arity, bound to a variable that
 *      is never assigned (constant globals by construction).
 */
#include "comp.h"
#include "node.h"

#include <stdlib.h>
#include <string.h>

#include "lineiform.h"

struct fdesc {
    struct fdesc *up;
    int32_t size;
};

static nodep emit(struct ast *a, struct fdesc *fd);

static void *node_alloc(size_t n, lv_code code)
{
    struct node *x = fz_alloc(n);
    x->code = code;
    return x;
}

static nodep mk_const(value v)
{
    struct n_const *k = node_alloc(sizeof *k, nc_const);
    k->k = v;
    return (nodep)k;
}

static int32_t depth_of(struct fdesc *from, struct fdesc *to)
{
    int32_t d = 0;
    while (from && from != to) { from = from->up; d++; }
    if (!from) lv_die(lv_nopos, "internal error: variable frame not found");
    return d;
}

static int32_t new_slot(struct fdesc *fd) { return fd->size++; }

static nodep emit_lref(struct ast *a, struct fdesc *fd)
{
    int32_t d = depth_of(fd, a->v->fd);
    struct n_local *l = node_alloc(sizeof *l, d == 0 ? nc_local0 : d == 1 ? nc_local1 : nc_localn);
    l->depth = d;
    l->idx = a->v->slot;
    return (nodep)l;
}

static nodep emit_lset(struct var *v, nodep e, struct fdesc *fd)
{
    struct n_lset *s = node_alloc(sizeof *s, nc_lset);
    s->depth = depth_of(fd, v->fd);
    s->idx = v->slot;
    s->e = e;
    return (nodep)s;
}

static nodep emit_seq(int n, nodep *xs)
{
    if (n == 1) return xs[0];
    struct n_seq *s = node_alloc(sizeof *s + (size_t)n * sizeof(nodep), nc_seq);
    s->n = n;
    memcpy(s->xs, xs, (size_t)n * sizeof(nodep));
    return (nodep)s;
}

/* -- Lambdas --------------------------------------------------------------- */

static void fill_lambda(struct lambda *out, struct lam *L, struct fdesc *outer)
{
    struct fdesc fd = { outer, 0 };
    for (int i = 0; i < L->nreq + L->rest; i++) {
        L->params[i]->fd = &fd;
        L->params[i]->slot = new_slot(&fd);
    }
    nodep body = emit(L->body, &fd);
    if (L->nselftail) {
        struct n_bodyloop *b = node_alloc(sizeof *b, nc_bodyloop);
        b->n = L->nreq;
        b->size = fd.size;
        b->heap = L->heap;
        b->mark = LV_MARK(L->id);
        b->body = body;
        body = (nodep)b;
    }
    out->nreq = L->nreq;
    out->rest = L->rest;
    out->size = fd.size;
    out->heap = L->heap;
    out->body = body;
    size_t n = strlen(L->name);
    out->name = lf_freeze(L->name, n + 1);
}

static nodep emit_lambda(struct ast *a, struct fdesc *fd)
{
    struct lambda *out = fz_alloc(sizeof *out);
    fill_lambda(out, a->lam, fd);
    struct n_lambda *l = node_alloc(sizeof *l, nc_lambda);
    l->lam = out;
    return (nodep)l;
}

/* -- Calls ------------------------------------------------------------------- */

static int self_call_ok(struct ast *a)
{
    struct lam *L = a->self;
    if (!L || L->rest || a->n != L->nreq || a->n > LV_TC_MAX) return 0;
    if (a->a->k == A_LREF && a->a->v->assigned) return 0;
    return 1;
}

static nodep emit_stail(struct ast *a, struct fdesc *fd)
{
    struct lam *L = a->self;
    lv_code code = nc_stail;
    if (!L->heap && a->n >= 1 && a->n <= 3)
        code = a->n == 1 ? nc_stail1 : a->n == 2 ? nc_stail2 : nc_stail3;
    struct n_stail *s = node_alloc(sizeof *s + (size_t)a->n * sizeof(nodep), code);
    s->n = a->n;
    s->heap = L->heap;
    s->mark = LV_MARK(L->id);
    if (a->n > 0) {
        s->depth = depth_of(fd, L->params[0]->fd);
        s->slot0 = L->params[0]->slot;
    }
    for (int i = 0; i < a->n; i++) s->args[i] = emit(a->xs[i], fd);
    L->nselftail++;
    return (nodep)s;
}

static nodep emit_call(struct ast *a, struct fdesc *fd)
{
    if (self_call_ok(a)) return emit_stail(a, fd);
    struct gvar *g = a->g;
    int known = g && g->constant && !g->rest && a->n == g->nreq;
    lv_code code = a->tail ? nc_tcall : known ? nc_kcall : nc_call;
    struct n_call *c = node_alloc(sizeof *c + (size_t)a->n * sizeof(nodep), code);
    c->pos = a->pos;
    c->argc = a->n;
    if (known) {
        c->lam = g->out;
        c->kproc = (value)g->kproc;
    } else {
        c->fn = emit(a->a, fd);
    }
    for (int i = 0; i < a->n; i++) c->args[i] = emit(a->xs[i], fd);
    return (nodep)c;
}

static nodep emit_prim(struct ast *a, struct fdesc *fd)
{
    nodep args[a->n > 0 ? a->n : 1];
    for (int i = 0; i < a->n; i++) args[i] = emit(a->xs[i], fd);
    struct n_prim *p = node_alloc(sizeof *p + (size_t)a->n * sizeof(nodep),
                                  nc_prim_code(a->prim, a->n, args));
    p->pos = a->pos;
    p->argc = a->n;
    p->p = a->prim;
    memcpy(p->a, args, (size_t)a->n * sizeof(nodep));
    return (nodep)p;
}

/* -- Binding forms --------------------------------------------------------------- */

static int any_captured(struct var **vars, int n)
{
    for (int i = 0; i < n; i++)
        if (vars[i]->captured) return 1;
    return 0;
}

static nodep emit_let(struct ast *a, struct fdesc *fd)
{
    int rec = a->k == A_LETREC, n = a->n;
    if (!any_captured(a->vars, n)) {
        /* Flattened: sets into fresh slots, then the body. */
        nodep xs[n + 1];
        for (int i = 0; i < n; i++) {
            a->vars[i]->fd = fd;
            a->vars[i]->slot = new_slot(fd);
        }
        for (int i = 0; i < n; i++) xs[i] = emit_lset(a->vars[i], emit(a->xs[i], fd), fd);
        xs[n] = emit(a->b, fd);
        return emit_seq(n + 1, xs);
    }
    struct fdesc inner = { fd, 0 };
    for (int i = 0; i < n; i++) {
        a->vars[i]->fd = &inner;
        a->vars[i]->slot = new_slot(&inner);
    }
    nodep inits[n + 1];
    for (int i = 0; i < n; i++) inits[i] = emit(a->xs[i], rec ? &inner : fd);
    nodep body = emit(a->b, &inner);
    struct n_let *l = node_alloc(sizeof *l + (size_t)n * sizeof(nodep), nc_let);
    l->n = n;
    l->size = inner.size;
    l->rec = rec;
    l->body = body;
    memcpy(l->inits, inits, (size_t)n * sizeof(nodep));
    return (nodep)l;
}

static nodep emit_loop(struct ast *a, struct fdesc *fd)
{
    struct lam *L = a->lam;
    int n = a->n;
    int heap = any_captured(L->params, n);
    L->heap = heap;
    nodep inits[n + 1];
    for (int i = 0; i < n; i++) inits[i] = emit(a->xs[i], fd);
    struct fdesc inner = { fd, 0 }, *where = heap ? &inner : fd;
    int32_t slot0 = where->size;
    for (int i = 0; i < n; i++) {
        L->params[i]->fd = where;
        L->params[i]->slot = new_slot(where);
    }
    nodep body = emit(L->body, where);
    struct n_loop *l = node_alloc(sizeof *l + (size_t)n * sizeof(nodep), nc_loop);
    l->n = n;
    l->slot0 = slot0;
    l->size = inner.size;
    l->heap = heap;
    l->tail = a->tail;
    l->mark = LV_MARK(L->id);
    l->body = body;
    memcpy(l->inits, inits, (size_t)n * sizeof(nodep));
    return (nodep)l;
}

static nodep emit_gset(struct ast *a, struct fdesc *fd, int def)
{
    struct n_gset *s = node_alloc(sizeof *s, nc_gset);
    s->cell = a->g->cell;
    s->e = emit(a->a, fd);
    s->def = def;
    s->pos = a->pos;
    return (nodep)s;
}

static nodep emit(struct ast *a, struct fdesc *fd)
{
    char here;
    LV_STACK_CHECK(&here);
    switch (a->k) {
    case A_CONST: return mk_const(a->kval);
    case A_LREF: return emit_lref(a, fd);
    case A_GREF: {
        struct n_global *g = node_alloc(sizeof *g, nc_global);
        g->cell = a->g->cell;
        g->pos = a->pos;
        return (nodep)g;
    }
    case A_LSET: return emit_lset(a->v, emit(a->a, fd), fd);
    case A_GSET: return emit_gset(a, fd, 0);
    case A_GDEF: return emit_gset(a, fd, 1);
    case A_IF: {
        struct n_if *i = node_alloc(sizeof *i, nc_if);
        i->c = emit(a->a, fd);
        i->t = emit(a->b, fd);
        i->e = emit(a->c, fd);
        return (nodep)i;
    }
    case A_SEQ: {
        nodep xs[a->n > 0 ? a->n : 1];
        if (a->n == 0) return mk_const(LV_UNSPEC);
        for (int i = 0; i < a->n; i++) xs[i] = emit(a->xs[i], fd);
        return emit_seq(a->n, xs);
    }
    case A_LAMBDA: return emit_lambda(a, fd);
    case A_CALL: return emit_call(a, fd);
    case A_PRIM: return emit_prim(a, fd);
    case A_LET: case A_LETREC: return emit_let(a, fd);
    case A_LOOP: return emit_loop(a, fd);
    }
    lv_die(lv_nopos, "internal error: bad AST kind %d", (int)a->k);
}

const struct node *emit_program(struct ast *body, struct lam *top)
{
    struct fdesc fd = { NULL, 0 };
    /* Constant procedures first: their descriptors are already staged. */
    for (struct gvar *g = comp_globals(); g; g = g->next)
        if (g->constant && g->klam) fill_lambda(g->out, g->klam, NULL);
    nodep b = emit(body, &fd);
    struct n_program *p = node_alloc(sizeof *p, nc_program);
    p->size = fd.size;
    p->heap = top->heap;
    p->body = b;
    return (nodep)p;
}
