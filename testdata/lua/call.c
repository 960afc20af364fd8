/* call.c -- call nodes and argument lists.
 *
 * nc_call evaluates the callee and the arguments (the last one expanded when
 * it is a call or `...`) and calls through the closure.  nc_callk is the
 * same call when the compiler knows which function the callee should be
 * (a local or global bound once to a function expression): it checks that
 * the callee's proto is the expected one, then builds the callee's frame
 * directly from the arguments and runs its frozen body, so the body is a
 * constant a lifter can inline or specialize.  If the check fails, it is
 * an ordinary call.
 */
#include "node.h"

#include <alloca.h>

#define N(type) const struct type *self = (const struct type *)n_

/* Evaluate exps into an alloca'd array (in the caller's frame: a macro). */
#define EVAL_ARGS(exps, n, multi, fr, OUT, CNT)                                   \
    do {                                                                          \
        if (!(multi)) {                                                           \
            OUT = alloca(((n) + 1) * sizeof(value));                              \
            for (int i_ = 0; i_ < (n); i_++) OUT[i_] = EV((exps)[i_], fr);        \
            CNT = (n);                                                            \
        } else {                                                                  \
            value *f_ = alloca((n) * sizeof(value));                              \
            for (int i_ = 0; i_ < (n) - 1; i_++) f_[i_] = EV((exps)[i_], fr);     \
            value l_ = EV((exps)[(n) - 1], fr);                                   \
            int m_ = nres;                                                        \
            if (m_ > RBUF_MAX) m_ = RBUF_MAX;                                     \
            CNT = (n) - 1 + m_;                                                   \
            OUT = alloca((CNT + 1) * sizeof(value));                              \
            memcpy(OUT, f_, ((n) - 1) * sizeof(value));                           \
            if (m_) {                                                             \
                OUT[(n) - 1] = l_;                                                \
                memcpy(OUT + (n), rbuf + 1, (m_ - 1) * sizeof(value));            \
            }                                                                     \
        }                                                                         \
    } while (0)

void eval_adjust(nodep const *exps, int n, int multi, struct frame *fr, value *out, int want)
{
    int i;
    for (i = 0; i < n; i++) {
        value v = EV(exps[i], fr);
        if (i == n - 1 && multi) {
            int m = nres;
            for (int j = 0; i + j < want; j++) out[i + j] = j == 0 ? (m > 0 ? v : NIL) : j < m ? rbuf[j] : NIL;
            return;
        }
        if (i < want) out[i] = v;
    }
    for (; i < want; i++) out[i] = NIL;
}

static value invoke(value f, value *args, int n, int line, const char *desc)
{
    if (ISOBJ(f)) {
        int t = OBJ(f)->type;
        if (t == T_LFUNC) {
            lstack_check(line);
            return call_lua((const struct lclosure *)(uintptr_t)f, args, n);
        }
        if (t == T_CFUNC) {
            int save = cur_line;
            const struct cfunc *scf = cur_cf;
            cur_line = line;
            cur_cf = (const struct cfunc *)(uintptr_t)f;
            value r = cur_cf->fn(args, n);
            cur_line = save;
            cur_cf = scf;
            return r;
        }
    }
    if (getmm(f, MM_CALL) == NIL) call_error(f, line, desc);
    lstack_check(line);
    return lcall(f, args, n, line);
}

value nc_call(nodep n_, struct frame *fr)
{
    N(n_call);
    value f = opnd(self->fn, fr);
    value *args;
    int n;
    EVAL_ARGS(self->args, self->nargs, self->multi, fr, args, n);
    return invoke(f, args, n, self->line, self->desc);
}

value nc_callk(nodep n_, struct frame *fr)
{
    N(n_call);
    value f = opnd(self->fn, fr);
    const struct proto *p = self->kp;
    if (!isobj(f, T_LFUNC) || ((const struct lclosure *)(uintptr_t)f)->p != p) {
        value *args;
        int n;
        EVAL_ARGS(self->args, self->nargs, self->multi, fr, args, n);
        return invoke(f, args, n, self->line, self->desc);
    }
    lstack_check(self->line);
    value buf[sizeof(struct frame) / sizeof(value) + p->nslots];
    struct frame *nf = (struct frame *)buf;
    nf->cl = (const struct lclosure *)(uintptr_t)f;
    int na = self->nargs, np = p->nparams, i;
    for (i = 0; i < na; i++) {
        value v = EV(self->args[i], fr);
        if (i < np) nf->s[i] = v;
    }
    for (i = na < np ? na : np; i < p->nslots; i++) nf->s[i] = NIL;
    if (self->multi) {      /* the last argument's other results */
        int m = nres;
        if (m == 0 && na - 1 < np) nf->s[na - 1] = NIL;
        for (i = 1; i < m && na - 1 + i < np; i++) nf->s[na - 1 + i] = rbuf[i];
    }
    for (i = 0; i < p->ncellp; i++) nf->s[p->cellp[i]] = (value)(uintptr_t)newcell(nf->s[p->cellp[i]]);
    if (EX(p->body, nf) == ST_RETURN) return nf->ret;
    nres = 0;
    return NIL;
}

/* o:name(args): fn is o, args the explicit arguments. */
value nc_method(nodep n_, struct frame *fr)
{
    N(n_call);
    value o = opnd(self->fn, fr), f;
    if (ISTAB(o) && ((f = tgetstr(TAB(o), self->name)) != NIL || !TAB(o)->meta)) {
    } else if (ISSTR(o)) {
        f = tgetstr(R->strlib, self->name);
    } else {
        f = lindex(o, (value)(uintptr_t)self->name, self->line, self->desc);
    }
    value *a, *args;
    int n;
    if (self->nargs) {
        EVAL_ARGS(self->args, self->nargs, self->multi, fr, a, n);
    } else {
        a = NULL;
        n = 0;
    }
    args = alloca((n + 1) * sizeof(value));
    args[0] = o;
    if (n) memcpy(args + 1, a, n * sizeof(value));
    if (!isobj(f, T_LFUNC) && !isobj(f, T_CFUNC) && getmm(f, MM_CALL) == NIL) {
        char desc[96];
        snprintf(desc, sizeof desc, "method '%s'", self->name->s);
        call_error(f, self->line, desc);
    }
    return invoke(f, args, n + 1, self->line, NULL);
}
