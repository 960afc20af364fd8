/* expr.c -- running expression nodes: constants, variables, indexing,
 * operators, function and table constructors, varargs.
 *
 * Each operator node handles the all-small-integer and all-double cases
 * inline and calls run.c for the rest (mixed kinds, boxed integers,
 * strings, metamethods, errors).
 */
#include "node.h"

#include <math.h>

#define N(type) const struct type *self = (const struct type *)n_

value nc_k(nodep n_, struct frame *fr)
{
    N(n_k);
    (void)fr;
    return self->k;
}

value nc_local(nodep n_, struct frame *fr)
{
    N(n_var);
    return fr->s[self->idx];
}

value nc_localc(nodep n_, struct frame *fr)
{
    N(n_var);
    return ((struct cell *)(uintptr_t)fr->s[self->idx])->v;
}

value nc_upval(nodep n_, struct frame *fr)
{
    N(n_var);
    return fr->cl->up[self->idx]->v;
}

value nc_global(nodep n_, struct frame *fr)
{
    N(n_global);
    (void)fr;
    value v = tgetstr(R->G, self->name);
    if (v == NIL && R->G->meta) return lindex((value)(uintptr_t)R->G, (value)(uintptr_t)self->name, self->line, NULL);
    return v;
}

value nc_index(nodep n_, struct frame *fr)
{
    N(n_index);
    value o = opnd(self->o, fr), k = opnd(self->k, fr);
    if (ISTAB(o)) {
        value v = tget(TAB(o), k);
        if (v != NIL || !TAB(o)->meta) return v;
    }
    return lindex(o, k, self->line, self->desc);
}

value nc_vararg(nodep n_, struct frame *fr)
{
    (void)n_;
    int n = fr->nva;
    nres = n;
    if (n == 0) return NIL;
    if (n > RBUF_MAX) lerror(0, "too many results");
    memcpy(rbuf + 1, fr->va + 1, (n - 1) * sizeof(value));
    return fr->va[0];
}

struct cell *newcell(value v)
{
    struct cell *c = lalloc(sizeof *c);
    c->v = v;
    return c;
}

struct lclosure *make_closure(const struct proto *p, struct frame *fr)
{
    struct lclosure *cl = lalloc(sizeof *cl + p->nups * sizeof(struct cell *));
    cl->type = T_LFUNC;
    cl->p = p;
    for (int i = 0; i < p->nups; i++)
        cl->up[i] = p->ups[i].instack ? (struct cell *)(uintptr_t)fr->s[p->ups[i].idx] : fr->cl->up[p->ups[i].idx];
    return cl;
}

value nc_func(nodep n_, struct frame *fr)
{
    N(n_func);
    return (value)(uintptr_t)make_closure(self->p, fr);
}

/* items: (key, value) pairs; a NULL key is a positional item. */
value nc_table(nodep n_, struct frame *fr)
{
    N(n_table);
    struct table *t = newtable(self->narr, self->nhash);
    int64_t pos = 0;
    int n = self->narr + self->nhash;
    for (int i = 0; i < n; i++) {
        nodep k = self->items[2 * i], v = self->items[2 * i + 1];
        if (k) {
            value kv = EV(k, fr);
            tset(t, kv, EV(v, fr), self->line);
        } else if (i == n - 1 && self->multi) {
            value first = EV(v, fr);
            int m = nres;
            if (m > 0) tsetint(t, ++pos, first);
            for (int j = 1; j < m; j++) tsetint(t, ++pos, rbuf[j]);
        } else {
            tsetint(t, ++pos, EV(v, fr));
        }
    }
    return (value)(uintptr_t)t;
}

value nc_and(nodep n_, struct frame *fr)
{
    N(n_bin);
    value a = opnd(self->a, fr);
    return TRUTHY(a) ? opnd(self->b, fr) : a;
}

value nc_or(nodep n_, struct frame *fr)
{
    N(n_bin);
    value a = opnd(self->a, fr);
    return TRUTHY(a) ? a : opnd(self->b, fr);
}

value nc_not(nodep n_, struct frame *fr)
{
    N(n_un);
    return BOOLV(!TRUTHY(opnd(self->a, fr)));
}

static value unm_slow(value a, int line, const char *desc)
{
    value n;
    if (ISSTR(a) && tonum(a, &n)) a = n;
    if (isint(a)) return intv((int64_t)(0 - (uint64_t)ival(a)));
    if (ISDBL(a)) return dbl(-dblv(a));
    value mm = getmm(a, MM_UNM);
    if (mm != NIL) {
        value args[2] = { a, a };
        return lcall(mm, args, 2, line);
    }
    arith_error(OP_SUB, a, a, line, desc, desc);
}

value nc_neg(nodep n_, struct frame *fr)
{
    N(n_un);
    value a = opnd(self->a, fr);
    if (ISSINT(a)) return intv(-sint(a));
    if (ISDBL(a)) return dbl(-dblv(a));
    return unm_slow(a, self->line, self->desc);
}

value nc_len(nodep n_, struct frame *fr)
{
    N(n_un);
    value a = opnd(self->a, fr);
    if (ISTAB(a) && !TAB(a)->meta) return intv(tlen(TAB(a)));
    if (ISSTR(a)) return intv(STR(a)->len);
    if (!ISTAB(a) && getmm(a, MM_LEN) == NIL) {
        if (self->desc) lerror(self->line, "attempt to get length of a %s value (%s)", typename_of(a), self->desc);
    }
    return llen(a, self->line);
}

value nc_bnot(nodep n_, struct frame *fr)
{
    N(n_un);
    value a = opnd(self->a, fr);
    if (ISSINT(a)) return intv(~sint(a));
    return arith(OP_BXOR, a, intv(-1), self->line, self->desc, self->desc);
}

/* -- Binary operators ---------------------------------------------------- */

#define ARITH(name, OP, IEXPR, DEXPR)                                           \
    static value name(nodep n_, struct frame *fr)                               \
    {                                                                           \
        N(n_bin);                                                               \
        value a = opnd(self->a, fr), b = opnd(self->b, fr);                     \
        if (ISSINT(a) && ISSINT(b)) {                                           \
            int64_t x = sint(a), y = sint(b);                                   \
            (void)x, (void)y;                                                   \
            IEXPR;                                                              \
        }                                                                       \
        if (ISDBL(a) && ISDBL(b)) {                                             \
            double x = dblv(a), y = dblv(b);(void)x, (void)y;                                  \
            return DEXPR;                                                       \
        }                                                                       \
        return arith(OP, a, b, self->line, self->da, self->db);                 \
    }

ARITH(b_add, OP_ADD, return intv(x + y), dbl(x + y))
ARITH(b_sub, OP_SUB, return intv(x - y), dbl(x - y))
ARITH(b_mul, OP_MUL, return intv((int64_t)((uint64_t)x * (uint64_t)y)), dbl(x * y))
ARITH(b_div, OP_DIV, return dbl((double)x / (double)y), dbl(x / y))
ARITH(b_pow, OP_POW, return dbl(pow((double)x, (double)y)), dbl(y == 2 ? x * x : pow(x, y)))
ARITH(b_mod, OP_MOD, if (y > 0) { int64_t m = x % y; return intv(m < 0 ? m + y : m); },
      arith(OP_MOD, a, b, self->line, self->da, self->db))
ARITH(b_idiv, OP_IDIV, if (y > 0) { int64_t q = x / y; return intv(q * y > x ? q - 1 : q); },
      dbl(floor(x / y)))
ARITH(b_band, OP_BAND, return intv(x & y), arith(OP_BAND, a, b, self->line, self->da, self->db))
ARITH(b_bor, OP_BOR, return intv(x | y), arith(OP_BOR, a, b, self->line, self->da, self->db))
ARITH(b_bxor, OP_BXOR, return intv(x ^ y), arith(OP_BXOR, a, b, self->line, self->da, self->db))
ARITH(b_shl, OP_SHL, if (y >= 0 && y < 64) return intv((int64_t)((uint64_t)x << y)),
      arith(OP_SHL, a, b, self->line, self->da, self->db))
ARITH(b_shr, OP_SHR, if (y >= 0 && y < 64) return intv((int64_t)((uint64_t)x >> y)),
      arith(OP_SHR, a, b, self->line, self->da, self->db))

static value b_concat(nodep n_, struct frame *fr)
{
    N(n_bin);
    value a = opnd(self->a, fr), b = opnd(self->b, fr);
    return lconcat(a, b, self->line, self->da, self->db);
}

static value b_eq(nodep n_, struct frame *fr)
{
    N(n_bin);
    value a = opnd(self->a, fr), b = opnd(self->b, fr);
    if (a == b) return VTRUE;
    if (ISSINT(a) && ISSINT(b)) return VFALSE;
    return BOOLV(equal(a, b));
}

static value b_ne(nodep n_, struct frame *fr)
{
    N(n_bin);
    value a = opnd(self->a, fr), b = opnd(self->b, fr);
    if (a == b) return VFALSE;
    if (ISSINT(a) && ISSINT(b)) return VTRUE;
    return BOOLV(!equal(a, b));
}

#define CMP(name, EXPR, SLOW)                                                   \
    static value name(nodep n_, struct frame *fr)                               \
    {                                                                           \
        N(n_bin);                                                               \
        value a = opnd(self->a, fr), b = opnd(self->b, fr);                     \
        if (ISSINT(a) && ISSINT(b)) {                                           \
            int64_t x = sint(a), y = sint(b);                                   \
            return BOOLV(EXPR);                                                 \
        }                                                                       \
        if (ISDBL(a) && ISDBL(b)) {                                             \
            double x = dblv(a), y = dblv(b);                                    \
            return BOOLV(EXPR);                                                 \
        }                                                                       \
        return BOOLV(SLOW);                                                     \
    }

CMP(b_lt, x < y, less_than(a, b, self->line))
CMP(b_le, x <= y, less_equal(a, b, self->line))
CMP(b_gt, x > y, less_than(b, a, self->line))
CMP(b_ge, x >= y, less_equal(b, a, self->line))

/* ORDER OP: indexed by the OP_ enum in node.h. */
const ecode bin_code[OP__N] = {
    b_add, b_sub, b_mul, b_div, b_mod, b_pow, b_idiv, b_band, b_bor, b_bxor,
    b_shl, b_shr, b_concat, b_eq, b_ne, b_lt, b_le, b_gt, b_ge, nc_and, nc_or,
};
