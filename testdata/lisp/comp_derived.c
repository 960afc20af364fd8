/* comp_derived.c -- the derived forms, expanded into the core AST while
 * compiling: if, and, or, cond (with else and =>), case, do (a named let),
 * quasiquote (calls of cons, list, append, list->vector that the program
 * cannot redefine), and quoted constants, which are copied into frozen
 * memory (comp_freeze_datum). */
#include "comp_int.h"

#include <stdlib.h>
#include <string.h>

#include "lineiform.h"

/* -- Conditionals ------------------------------------------------------------ */

struct ast *mk_if(struct ast *t, struct ast *a, struct ast *b, struct lv_pos pos)
{
    struct ast *x = mk(A_IF, pos);
    x->a = t;
    x->b = a;
    x->c = b;
    return x;
}

struct ast *comp_if(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    long n = len_or_die(x, pos, "if");
    if (n != 3 && n != 4) BAD(x, pos, "if: expected (if test then [else])");
    return mk_if(comp(c, nth(x, 1), 0, pos), comp(c, nth(x, 2), tail, pos),
                 n == 4 ? comp(c, nth(x, 3), tail, pos) : mk_const(LV_UNSPEC, pos), pos);
}

struct ast *comp_and_or(struct ctx *c, value args, int tail, struct lv_pos pos, int is_and)
{
    if (args == LV_NIL) return mk_const(BOOL(is_and), pos);
    if (CDR(args) == LV_NIL) return comp(c, CAR(args), tail, pos);
    struct ast *first = comp(c, CAR(args), 0, posof(args, pos));
    struct ast *rest = comp_and_or(c, CDR(args), tail, pos, is_and);
    if (is_and) return mk_if(first, rest, mk_const(LV_FALSE, pos), pos);
    /* (or a b) = (let ((t a)) (if t t b)): t is a flattened slot */
    struct bindings b = { 1, xalloc(sizeof(struct var *)), NULL, NULL };
    b.vars[0] = new_var(c, LV_UNSPEC);
    struct ctx inner = *c;
    push_scope(&inner, b.vars, 0);
    struct ast **inits = xalloc(sizeof *inits);
    inits[0] = first;
    struct ast *t1 = local_ref(&inner, b.vars[0], A_LREF, pos);
    struct ast *t2 = local_ref(&inner, b.vars[0], A_LREF, pos);
    return mk_let(A_LET, &b, inits, mk_if(t1, t2, rest, pos), pos);
}

struct ast *comp_cond_clauses(struct ctx *c, value cl, int tail, struct lv_pos pos)
{
    if (cl == LV_NIL) return mk_const(LV_UNSPEC, pos);
    value clause = CAR(cl);
    struct lv_pos cp = posof(clause, pos);
    if (!PAIRP(clause) || lv_list_length(clause) < 0) BAD(clause, cp, "cond: bad clause");
    if (CAR(clause) == S_else && is_keyword(c, S_else)) {
        if (CDR(cl) != LV_NIL) BAD(clause, cp, "cond: else clause must be last");
        return comp_seq(c, CDR(clause), tail, cp);
    }
    struct ast *rest = comp_cond_clauses(c, CDR(cl), tail, pos);
    if (CDR(clause) == LV_NIL)
        return comp_and_or(c, lv_cons(CAR(clause), lv_cons(lv_cons(S_cond, CDR(cl)), LV_NIL)),
                           tail, cp, 0);
    if (CAR(CDR(clause)) == S_arrow && is_keyword(c, S_arrow)) {
        if (lv_list_length(clause) != 3) BAD(clause, cp, "cond: bad => clause");
        struct bindings b = { 1, xalloc(sizeof(struct var *)), NULL, NULL };
        b.vars[0] = new_var(c, LV_UNSPEC);
        struct ast **inits = xalloc(sizeof *inits);
        inits[0] = comp(c, CAR(clause), 0, cp);
        struct ctx inner = *c;
        push_scope(&inner, b.vars, 0);
        struct ast *call = mk(A_CALL, cp);
        call->a = comp(&inner, nth(clause, 2), 0, cp);
        call->n = 1;
        call->xs = xalloc(sizeof *call->xs);
        call->xs[0] = local_ref(&inner, b.vars[0], A_LREF, cp);
        call->tail = tail;
        return mk_let(A_LET, &b, inits,
                      mk_if(local_ref(&inner, b.vars[0], A_LREF, cp), call, rest, cp), cp);
    }
    return mk_if(comp(c, CAR(clause), 0, cp), comp_seq(c, CDR(clause), tail, cp), rest, cp);
}

struct ast *comp_case(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    if (!PAIRP(CDR(x))) BAD(x, pos, "case: missing key");
    len_or_die(x, pos, "case");
    struct bindings b = { 1, xalloc(sizeof(struct var *)), NULL, NULL };
    b.vars[0] = new_var(c, LV_UNSPEC);
    struct ast **inits = xalloc(sizeof *inits);
    inits[0] = comp(c, CAR(CDR(x)), 0, pos);
    struct ctx inner = *c;
    push_scope(&inner, b.vars, 0);
    struct ast *out = NULL, **hole = &out;
    for (value cl = CDR(CDR(x)); cl != LV_NIL; cl = CDR(cl)) {
        value clause = CAR(cl);
        struct lv_pos cp = posof(clause, pos);
        if (!PAIRP(clause) || lv_list_length(clause) < 2) BAD(clause, cp, "case: bad clause");
        value data = CAR(clause);
        struct ast *body;
        if (CAR(CDR(clause)) == S_arrow) BAD(clause, cp, "case: => clauses are not supported");
        body = comp_seq(&inner, CDR(clause), tail, cp);
        if (data == S_else) {
            if (CDR(cl) != LV_NIL) BAD(clause, cp, "case: else clause must be last");
            *hole = body;
            return mk_let(A_LET, &b, inits, out, pos);
        }
        if (lv_list_length(data) < 0) BAD(clause, cp, "case: bad datum list");
        struct ast *t = mk(A_PRIM, cp);
        t->prim = lv_prim_lookup(lv_intern("memv"));
        t->n = 2;
        t->xs = xalloc(2 * sizeof *t->xs);
        t->xs[0] = local_ref(&inner, b.vars[0], A_LREF, cp);
        t->xs[1] = mk_const(comp_freeze_datum(data), cp);
        struct ast *i = mk_if(t, body, NULL, cp);
        *hole = i;
        hole = &i->c;
    }
    *hole = mk_const(LV_UNSPEC, pos);
    return mk_let(A_LET, &b, inits, out, pos);
}

/* (do ((v init step)...) (test res...) body...) as a named let. */
struct ast *comp_do(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    if (lv_list_length(x) < 3 || lv_list_length(CAR(CDR(x))) < 0 ||
        !PAIRP(CAR(CDR(CDR(x)))))
        BAD(x, pos, "do: expected (do ((var init step)...) (test expr...) body...)");
    value loop = lv_intern(" do-loop");
    value binds = LV_NIL, steps = LV_NIL;
    for (value l = CAR(CDR(x)); l != LV_NIL; l = CDR(l)) {
        value s = CAR(l);
        long n = lv_list_length(s);
        if (n < 1 || n > 3 || !SYMP(CAR(s))) BAD(s, pos, "do: bad variable clause");
        binds = lv_cons(lv_list_n(2, (value[]){ CAR(s), n >= 2 ? nth(s, 1) : LV_UNSPEC }), binds);
        steps = lv_cons(n == 3 ? nth(s, 2) : CAR(s), steps);
    }
    value rb = LV_NIL, rs = LV_NIL;
    for (; binds != LV_NIL; binds = CDR(binds), steps = CDR(steps)) {
        rb = lv_cons(CAR(binds), rb);
        rs = lv_cons(CAR(steps), rs);
    }
    value test = CAR(CAR(CDR(CDR(x)))), res = CDR(CAR(CDR(CDR(x))));
    value again = lv_cons(loop, rs);
    value body = CDR(CDR(CDR(x)));
    value step_body = lv_cons(S_begin, body == LV_NIL ? lv_cons(again, LV_NIL) : body);
    if (body != LV_NIL) {
        value l = step_body;
        while (CDR(l) != LV_NIL) l = CDR(l);
        CDR(l) = lv_cons(again, LV_NIL);
    }
    value resform = res == LV_NIL ? lv_list_n(3, (value[]){ S_if, LV_FALSE, LV_FALSE })
                                  : lv_cons(S_begin, res);
    value ifform = lv_list_n(4, (value[]){ S_if, test, resform, step_body });
    value nl = lv_list_n(4, (value[]){ S_let, loop, rb, ifform });
    return comp_named_let(c, nl, tail, pos);
}

/* -- quasiquote -------------------------------------------------------------- */

static struct ast *prim_call(const char *name, int n, struct ast **xs, struct lv_pos pos)
{
    struct ast *a = mk(A_PRIM, pos);
    a->prim = lv_prim_lookup(lv_intern(name));
    a->n = n;
    a->xs = xs;
    return a;
}

struct ast *comp_qq(struct ctx *c, value x, int depth, struct lv_pos pos)
{
    if (VECP(x)) {
        value l = LV_NIL;
        for (long i = (long)HDR(x)->len - 1; i >= 0; i--) l = lv_cons(VEC(x)->v[i], l);
        struct ast **xs = xalloc(sizeof *xs);
        xs[0] = comp_qq(c, l, depth, pos);
        return prim_call("list->vector", 1, xs, pos);
    }
    if (!PAIRP(x)) return mk_const(comp_freeze_datum(x), pos);
    struct lv_pos p = posof(x, pos);
    value h = CAR(x);
    if ((h == S_unquote || h == S_quasiquote) && lv_list_length(x) == 2) {
        if (h == S_unquote && depth == 0) return comp(c, nth(x, 1), 0, p);
        struct ast **xs = xalloc(2 * sizeof *xs);
        xs[0] = mk_const(h, p);
        xs[1] = comp_qq(c, nth(x, 1), depth + (h == S_unquote ? -1 : 1), p);
        return prim_call("list", 2, xs, p);
    }
    if (PAIRP(h) && CAR(h) == S_unquote_splicing && lv_list_length(h) == 2 && depth == 0) {
        struct ast **xs = xalloc(2 * sizeof *xs);
        xs[0] = comp(c, nth(h, 1), 0, p);
        xs[1] = comp_qq(c, CDR(x), depth, p);
        return prim_call("append", 2, xs, p);
    }
    struct ast **xs = xalloc(2 * sizeof *xs);
    xs[0] = comp_qq(c, h, depth, p);
    xs[1] = comp_qq(c, CDR(x), depth, p);
    return prim_call("cons", 2, xs, p);
}

/* -- Quoted constants --------------------------------------------------------- */

value comp_freeze_datum(value d)
{
    char here;
    LV_STACK_CHECK(&here);
    if (FLOP(d)) {
        struct flo f = { { T_FLO, 0, 0 }, FLO(d) };
        return (value)lf_freeze(&f, sizeof f);
    }
    if (STRP(d) || BVECP(d)) {
        size_t n = sizeof(struct str) + HDR(d)->len + 1;
        struct str *s = malloc(n);
        if (!s) lv_die(lv_nopos, "out of memory");
        memcpy(s, STR(d), n);
        s->h.flags |= LV_CONST;
        value r = (value)lf_freeze(s, n);
        free(s);
        return r;
    }
    if (VECP(d)) {
        struct vec *v = fz_alloc(sizeof *v + HDR(d)->len * sizeof(value));
        v->h = *HDR(d);
        v->h.flags |= LV_CONST;
        for (uint32_t i = 0; i < HDR(d)->len; i++) v->v[i] = comp_freeze_datum(VEC(d)->v[i]);
        return (value)v;
    }
    if (!PAIRP(d)) return d;
    value head = 0, *hole = &head;
    for (; PAIRP(d); d = CDR(d)) {
        value *p = fz_alloc(16);
        p[0] = comp_freeze_datum(CAR(d));
        *hole = (value)p + 4;
        hole = &p[1];
    }
    *hole = comp_freeze_datum(d);
    return head;
}

