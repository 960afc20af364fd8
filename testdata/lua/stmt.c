/* stmt.c -- running statement nodes.  Each returns a status: ST_NORMAL,
 * ST_BREAK (the innermost loop stops) or ST_RETURN (the function returns;
 * its first value is in frame->ret, the count in nres, the others in
 * rbuf[1..nres)).
 *
 * A local that a closure captures lives in a cell whose pointer is its
 * slot; each execution of its declaration (and each iteration of a loop
 * that declares it) makes a fresh cell, so closures made in different
 * iterations see different variables, as Lua requires.
 */
#include "node.h"

#include <alloca.h>
#include <math.h>

#define N(type) const struct type *self = (const struct type *)n_
#define CELL(fr, i) ((struct cell *)(uintptr_t)(fr)->s[i])

static void box(struct frame *fr, int32_t slot0, int n, uint64_t mask)
{
    for (int i = 0; i < n && i < 64; i++)
        if (mask >> i & 1) fr->s[slot0 + i] = (value)(uintptr_t)newcell(fr->s[slot0 + i]);
}

int sc_nop(nodep n_, struct frame *fr)
{
    (void)n_, (void)fr;
    return ST_NORMAL;
}

int sc_expr(nodep n_, struct frame *fr)
{
    N(s_expr);
    EV(self->e, fr);
    return ST_NORMAL;
}

int sc_local(nodep n_, struct frame *fr)
{
    N(s_local);
    if (self->nvars == 1 && self->nexps == 1 && !self->multi) fr->s[self->slot0] = EV(self->exps[0], fr);
    else {
        value tmp[self->nvars];
        eval_adjust(self->exps, self->nexps, self->multi, fr, tmp, self->nvars);
        memcpy(fr->s + self->slot0, tmp, sizeof tmp);
    }
    if (self->cellmask) box(fr, self->slot0, self->nvars, self->cellmask);
    return ST_NORMAL;
}

int sc_setlocal(nodep n_, struct frame *fr)
{
    N(s_set);
    fr->s[self->idx] = opnd(self->e, fr);
    return ST_NORMAL;
}

int sc_setlocalc(nodep n_, struct frame *fr)
{
    N(s_set);
    CELL(fr, self->idx)->v = opnd(self->e, fr);
    return ST_NORMAL;
}

int sc_setup(nodep n_, struct frame *fr)
{
    N(s_set);
    fr->cl->up[self->idx]->v = opnd(self->e, fr);
    return ST_NORMAL;
}

static void setglobal(const struct lstr *name, value v, int line)
{
    if (R->G->meta) lsetindex((value)(uintptr_t)R->G, (value)(uintptr_t)name, v, line, NULL);
    else tset(R->G, (value)(uintptr_t)name, v, line);
}

int sc_setglobal(nodep n_, struct frame *fr)
{
    N(s_set);
    setglobal(self->name, EV(self->e, fr), self->line);
    return ST_NORMAL;
}

static void setindex(value o, value k, value v, int line, const char *desc)
{
    if (ISTAB(o) && !TAB(o)->meta) {
        if (ISSINT(k)) tsetint(TAB(o), sint(k), v);
        else tset(TAB(o), k, v, line);
    } else lsetindex(o, k, v, line, desc);
}

int sc_setindex(nodep n_, struct frame *fr)
{
    N(s_set);
    value o = opnd(self->o, fr), k = opnd(self->k, fr);
    value v = opnd(self->e, fr);
    setindex(o, k, v, self->line, self->name ? self->name->s : NULL);
    return ST_NORMAL;
}

/* a, b.c, d[e] = ...: objects and keys left to right, then the values,
 * then the stores right to left (as lua5.4 does). */
int sc_mset(nodep n_, struct frame *fr)
{
    N(s_mset);
    value obj[self->nt], key[self->nt], v[self->nt];
    for (int i = 0; i < self->nt; i++)
        if (self->t[i].kind == TG_INDEX) {
            obj[i] = EV(self->t[i].o, fr);
            key[i] = EV(self->t[i].k, fr);
        }
    eval_adjust(self->exps, self->ne, self->multi, fr, v, self->nt);
    for (int i = self->nt - 1; i >= 0; i--) {
        const struct target *t = &self->t[i];
        switch (t->kind) {
        case TG_LOCAL: fr->s[t->idx] = v[i]; break;
        case TG_LOCALC: CELL(fr, t->idx)->v = v[i]; break;
        case TG_UPVAL: fr->cl->up[t->idx]->v = v[i]; break;
        case TG_GLOBAL: setglobal(t->name, v[i], self->line); break;
        default: setindex(obj[i], key[i], v[i], self->line, NULL); break;
        }
    }
    return ST_NORMAL;
}

int sc_block(nodep n_, struct frame *fr)
{
    N(s_block);
    for (int32_t i = 0; i < self->n; i++) {
        int st = EX(self->s[i], fr);
        if (st) return st;
    }
    return ST_NORMAL;
}

int sc_if(nodep n_, struct frame *fr)
{
    N(s_if);
    for (int32_t i = 0; i < self->n; i++)
        if (TRUTHY(EV(self->arm[i].c, fr))) return EX(self->arm[i].b, fr);
    return self->els ? EX(self->els, fr) : ST_NORMAL;
}

int sc_while(nodep n_, struct frame *fr)
{
    N(s_loop);
    while (TRUTHY(EV(self->c, fr))) {
        int st = EX(self->b, fr);
        if (st) return st == ST_BREAK ? ST_NORMAL : st;
    }
    return ST_NORMAL;
}

int sc_repeat(nodep n_, struct frame *fr)
{
    N(s_loop);
    do {
        int st = EX(self->b, fr);
        if (st) return st == ST_BREAK ? ST_NORMAL : st;
    } while (!TRUTHY(EV(self->c, fr)));
    return ST_NORMAL;
}

__attribute__((noinline, cold)) static _Noreturn void for_error(int line, const char *what, value v)
{
    if (!what) lerror(line, "'for' step is zero");
    lerror(line, "bad 'for' %s (number expected, got %s)", what, typename_of(v));
}

__attribute__((noinline)) static int fornum_float(const struct s_fornum *self, struct frame *fr, value a, value b, value c)
{
    if (!isnum(b)) for_error(self->line, "limit", b);
    if (!isnum(c)) for_error(self->line, "step", c);
    double i = numv(a), lim = numv(b), step = numv(c);
    if (step == 0) for_error(self->line, NULL, c);
    for (; step > 0 ? i <= lim : i >= lim; i += step) {
        fr->s[self->slot] = self->cell ? (value)(uintptr_t)newcell(dbl(i)) : dbl(i);
        int st = EX(self->body, fr);
        if (st) return st == ST_BREAK ? ST_NORMAL : st;
    }
    return ST_NORMAL;
}

int sc_fornum(nodep n_, struct frame *fr)
{
    N(s_fornum);
    value a = EV(self->a, fr), b = EV(self->b, fr), c = self->c ? EV(self->c, fr) : intv(1);
    if (!isnum(a)) for_error(self->line, "initial value", a);
    if (!isint(a) || !isint(c)) return fornum_float(self, fr, a, b, c);
    int64_t i = ival(a), step = ival(c), lim;
    if (step == 0) for_error(self->line, NULL, c);
    if (isint(b)) lim = ival(b);
    else if (ISDBL(b)) {
        double d = dblv(b);
        if (d != d) return ST_NORMAL;
        d = step > 0 ? floor(d) : ceil(d);
        lim = d >= 9223372036854775808.0 ? INT64_MAX : d < -9223372036854775808.0 ? INT64_MIN : (int64_t)d;
    } else for_error(self->line, "limit", b);
    if (step > 0 ? i > lim : i < lim) return ST_NORMAL;
    /* The iteration count, computed once: no overflow at the range ends. */
    uint64_t count = step > 0 ? ((uint64_t)lim - (uint64_t)i) / (uint64_t)step
                              : ((uint64_t)i - (uint64_t)lim) / ((uint64_t)-(step + 1) + 1u);
    for (;;) {
        fr->s[self->slot] = self->cell ? (value)(uintptr_t)newcell(intv(i)) : intv(i);
        int st = EX(self->body, fr);
        if (st) return st == ST_BREAK ? ST_NORMAL : st;
        if (count-- == 0) return ST_NORMAL;
        i = (int64_t)((uint64_t)i + (uint64_t)step);
    }
}

/* One call of a generic for's iterator: its first result (nil ends the
 * loop); the second in *v2, the others in var[2..]. */
__attribute__((noinline)) static value forin_call(const struct s_forin *self, value f, value state, value ctl,
                                                  value *var, value *v2)
{
    value args[2] = { state, ctl };
    if (!isobj(f, T_LFUNC) && !isobj(f, T_CFUNC) && getmm(f, MM_CALL) == NIL)
        lerror(self->line, "attempt to call a %s value", typename_of(f));
    value v1 = lcall(f, args, 2, self->line);
    int m = nres;
    if (m < 1) return NIL;
    for (int j = 2; j < self->nvars; j++) var[j] = j < m ? rbuf[j] : NIL;
    *v2 = m > 1 ? rbuf[1] : NIL;
    return v1;
}

/* Generic for: slots slot0..slot0+2 hold the iterator function, state and
 * control; the variables follow.  next (pairs) and ipairs' iterator are
 * run in place instead of being called. */
int sc_forin(nodep n_, struct frame *fr)
{
    N(s_forin);
    value *s = fr->s + self->slot0;
    eval_adjust(self->exps, self->nexps, self->multi, fr, s, 3);
    value f = s[0], state = s[1], ctl = s[2];
    int nv = self->nvars;
    value *var = s + 3;
    for (;;) {
        value v1, v2 = NIL;
        if (f == R->next_fn && ISTAB(state)) {
            if (!tnext(TAB(state), &ctl, &v2, self->line)) return ST_NORMAL;
            v1 = ctl;
        } else if (f == R->ipairs_aux && isint(ctl)) {
            int64_t i = ival(ctl) + 1;
            v2 = ISTAB(state) && !TAB(state)->meta ? tgetint(TAB(state), i) : lindex(state, intv(i), self->line, NULL);
            if (v2 == NIL) return ST_NORMAL;
            v1 = ctl = intv(i);
        } else {
            v1 = forin_call(self, f, state, ctl, var, &v2);
            if (v1 == NIL) return ST_NORMAL;
            ctl = v1;
        }
        var[0] = v1;
        if (nv > 1) var[1] = v2;
        if (self->cellmask) box(fr, self->slot0 + 3, nv, self->cellmask);
        int st = EX(self->body, fr);
        if (st) return st == ST_BREAK ? ST_NORMAL : st;
    }
}

int sc_ret0(nodep n_, struct frame *fr)
{
    (void)n_;
    fr->ret = NIL;
    nres = 0;
    return ST_RETURN;
}

int sc_ret1(nodep n_, struct frame *fr)
{
    N(s_ret);
    fr->ret = opnd(self->exps[0], fr);
    nres = 1;
    return ST_RETURN;
}

int sc_retm(nodep n_, struct frame *fr)
{
    N(s_ret);
    fr->ret = EV(self->exps[0], fr);
    return ST_RETURN;
}

int sc_ret(nodep n_, struct frame *fr)
{
    N(s_ret);
    int n = self->n;
    value fixed[n];
    for (int i = 0; i < n - 1; i++) fixed[i] = EV(self->exps[i], fr);
    value last = EV(self->exps[n - 1], fr);
    int m = self->multi ? nres : 1;
    if (n - 1 + m > RBUF_MAX) lerror(0, "too many results");
    if (m > 0) memmove(rbuf + n, rbuf + 1, (m - 1) * sizeof(value));
    rbuf[n - 1] = last;
    for (int i = 1; i < n - 1; i++) rbuf[i] = fixed[i];
    fr->ret = n > 1 ? fixed[0] : m > 0 ? last : NIL;
    nres = n - 1 + m;
    return ST_RETURN;
}

int sc_break(nodep n_, struct frame *fr)
{
    (void)n_, (void)fr;
    return ST_BREAK;
}

int sc_localfunc(nodep n_, struct frame *fr)
{
    N(s_set);
    fr->s[self->idx] = (value)(uintptr_t)make_closure(((const struct n_func *)self->e)->p, fr);
    return ST_NORMAL;
}

/* A recursive local function: its cell exists before the closure that
 * captures it. */
int sc_localfuncc(nodep n_, struct frame *fr)
{
    N(s_set);
    struct cell *c = newcell(NIL);
    fr->s[self->idx] = (value)(uintptr_t)c;
    c->v = (value)(uintptr_t)make_closure(((const struct n_func *)self->e)->p, fr);
    return ST_NORMAL;
}
