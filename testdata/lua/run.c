/* run.c -- the slow paths of the operators (mixed types, string coercion,
 * metamethods, errors) and calls.  The nodes handle the common cases
 * inline and come here for the rest.
 *
 * Error messages follow lua5.4's wording; desc names the operand when the
 * compiler knows it ("local 'x'", "global 'f'", "field 'k'").
 */
#include "node.h"

#include <math.h>
#include <stdlib.h>

value rbuf[RBUF_MAX];
int nres;

static const char *const opname[] = { "__add", "__sub", "__mul", "__div", "__mod", "__pow", "__idiv" };
static const int opmm[] = { MM_ADD, MM_SUB, MM_MUL, MM_DIV, MM_MOD, MM_POW, MM_IDIV };

value getmm(value o, enum mm e)
{
    const struct table *mt = NULL;
    if (ISTAB(o)) mt = TAB(o)->meta;
    else if (ISSTR(o)) return e == MM_INDEX ? (value)(uintptr_t)R->strlib : NIL;
    if (!mt) return NIL;
    return tgetstr(mt, R->mm[e]);
}

static const char *d(const char *desc, char *buf, size_t len)
{
    if (!desc) return "";
    snprintf(buf, len, " (%s)", desc);
    return buf;
}

_Noreturn void call_error(value f, int line, const char *desc)
{
    char b[128];
    lerror(line, "attempt to call a %s value%s", typename_of(f), d(desc, b, sizeof b));
}

_Noreturn void arith_error(int op, value a, value b, int line, const char *da, const char *db)
{
    char buf[128];
    int bit = op >= OP_BAND && op <= OP_SHR;
    value n;
    /* Blame the first operand that is not a number (or string number). */
    int first_bad = bit ? !isnum(a) && !(ISSTR(a) && tonum(a, &n)) : !(isnum(a) || (ISSTR(a) && tonum(a, &n)));
    value bad = first_bad ? a : b;
    const char *ds = first_bad ? da : db;
    if (bit && isnum(a) && isnum(b))
        lerror(line, "number has no integer representation");
    if (ISSTR(bad) && bit) lerror(line, "attempt to perform bitwise operation on a string value%s", d(ds, buf, sizeof buf));
    lerror(line, "attempt to perform %s on a %s value%s", bit ? "bitwise operation" : "arithmetic",
           typename_of(bad), d(ds, buf, sizeof buf));
}

int64_t toint_or_error(value v, int line, const char *what)
{
    if (isint(v)) return ival(v);
    if (ISDBL(v)) {
        double x = dblv(v);
        if (x == floor(x) && x >= -9223372036854775808.0 && x < 9223372036854775808.0) return (int64_t)x;
        lerror(line, "number has no integer representation");
    }
    lerror(line, "%s", what);
}

static int tointx(value v, int64_t *out)
{
    if (isint(v)) { *out = ival(v); return 1; }
    if (ISDBL(v)) {
        double x = dblv(v);
        if (x == floor(x) && x >= -9223372036854775808.0 && x < 9223372036854775808.0) { *out = (int64_t)x; return 1; }
    }
    return 0;
}

static int64_t shl(int64_t a, int64_t b)
{
    if (b <= -64 || b >= 64) return 0;
    if (b >= 0) return (int64_t)((uint64_t)a << b);
    return (int64_t)((uint64_t)a >> -b);
}

static value intop(int op, int64_t x, int64_t y, int line)
{
    uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
    switch (op) {
    case OP_ADD: return intv((int64_t)(ux + uy));
    case OP_SUB: return intv((int64_t)(ux - uy));
    case OP_MUL: return intv((int64_t)(ux * uy));
    case OP_MOD:
        if (y == 0) lerror(line, "attempt to perform 'n%%0'");
        if (y == -1) return intv(0);
        { int64_t m = x % y; if (m != 0 && (m ^ y) < 0) m += y; return intv(m); }
    case OP_IDIV:
        if (y == 0) lerror(line, "attempt to divide by zero");
        if (y == -1) return intv((int64_t)(0 - ux));
        { int64_t q = x / y; if ((x % y != 0) && ((x ^ y) < 0)) q--; return intv(q); }
    case OP_BAND: return intv(x & y);
    case OP_BOR: return intv(x | y);
    case OP_BXOR: return intv(x ^ y);
    case OP_SHL: return intv(shl(x, y));
    case OP_SHR: return intv(shl(x, y == INT64_MIN ? 64 : -y));
    }
    return NIL;
}

static value fltop(int op, double x, double y)
{
    switch (op) {
    case OP_ADD: return dbl(x + y);
    case OP_SUB: return dbl(x - y);
    case OP_MUL: return dbl(x * y);
    case OP_DIV: return dbl(x / y);
    case OP_POW: return dbl(y == 2 ? x * x : pow(x, y));
    case OP_IDIV: return dbl(floor(x / y));
    case OP_MOD: {
        double m = fmod(x, y);
        if (m != 0 && (m > 0) != (y > 0)) m += y;
        return dbl(m);
    }
    }
    return NIL;
}

value arith(int op, value a, value b, int line, const char *da, const char *db)
{
    value x, y;
    if (op >= OP_BAND && op <= OP_SHR) {
        int64_t i, j;
        if (isnum(a) && isnum(b) && tointx(a, &i) && tointx(b, &j)) return intop(op, i, j, line);
        if (tonum(a, &x) && tonum(b, &y) && tointx(x, &i) && tointx(y, &j) && (!ISSTR(a) || isnum(x)))
            return intop(op, i, j, line);
    } else if (tonum(a, &x) && tonum(b, &y)) {
        if (isint(x) && isint(y) && op != OP_DIV && op != OP_POW) return intop(op, ival(x), ival(y), line);
        return fltop(op, numv(x), numv(y));
    }
    if (op <= OP_IDIV) {
        value mm = getmm(a, opmm[op]);
        if (mm == NIL) mm = getmm(b, opmm[op]);
        if (mm != NIL) {
            value args[2] = { a, b };
            return lcall(mm, args, 2, line);
        }
    }
    (void)opname;
    arith_error(op, a, b, line, da, db);
}

static int strcmp_l(const struct lstr *a, const struct lstr *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static _Noreturn void cmp_error(value a, value b, int line)
{
    const char *ta = typename_of(a), *tb = typename_of(b);
    if (!strcmp(ta, tb)) lerror(line, "attempt to compare two %s values", ta);
    lerror(line, "attempt to compare %s with %s", ta, tb);
}

/* a < b (le == 0) or a <= b (le == 1) for numbers of mixed kinds. */
static int numcmp(value a, value b, int le)
{
    if (isint(a) && isint(b)) return le ? ival(a) <= ival(b) : ival(a) < ival(b);
    double x = numv(a), y = numv(b);
    /* Exact for integers beyond 2^53: compare as integers when the float
     * is integral and in range. */
    if (isint(a) && y == floor(y) && fabs(y) < 9.2e18) return le ? ival(a) <= (int64_t)y : ival(a) < (int64_t)y;
    if (isint(b) && x == floor(x) && fabs(x) < 9.2e18) return le ? (int64_t)x <= ival(b) : (int64_t)x < ival(b);
    return le ? x <= y : x < y;
}

static int order(value a, value b, int le, int line)
{
    if (isnum(a) && isnum(b)) return numcmp(a, b, le);
    if (ISSTR(a) && ISSTR(b)) return le ? strcmp_l(STR(a), STR(b)) <= 0 : strcmp_l(STR(a), STR(b)) < 0;
    value mm = getmm(a, le ? MM_LE : MM_LT);
    if (mm == NIL) mm = getmm(b, le ? MM_LE : MM_LT);
    if (mm == NIL) cmp_error(a, b, line);
    value args[2] = { a, b };
    return TRUTHY(lcall(mm, args, 2, line));
}

int less_than(value a, value b, int line) { return order(a, b, 0, line); }
int less_equal(value a, value b, int line) { return order(a, b, 1, line); }

int equal(value a, value b)
{
    if (raw_eq(a, b)) return 1;
    if (!ISTAB(a) || !ISTAB(b)) return 0;
    value mm = getmm(a, MM_EQ);
    if (mm == NIL) mm = getmm(b, MM_EQ);
    if (mm == NIL) return 0;
    value args[2] = { a, b };
    return TRUTHY(lcall(mm, args, 2, cur_line));
}

/* The longest __index/__newindex chain followed.  A variable, not a
 * constant: the loops below then do not look unrollable to a partial
 * evaluator that propagates constants through loop counters. */
int tagloop_max = 100;

value lindex(value o, value k, int line, const char *desc)
{
    for (int loop = tagloop_max; loop > 0; loop--) {
        value mm;
        if (ISTAB(o)) {
            value v = tget(TAB(o), k);
            if (v != NIL || !TAB(o)->meta || (mm = getmm(o, MM_INDEX)) == NIL) return v;
        } else if ((mm = getmm(o, MM_INDEX)) == NIL) {
            char b[128];
            lerror(line, "attempt to index a %s value%s", typename_of(o), d(desc, b, sizeof b));
        }
        if (isobj(mm, T_LFUNC) || isobj(mm, T_CFUNC)) {
            value args[2] = { o, k };
            return lcall(mm, args, 2, line);
        }
        o = mm;
        desc = NULL;
    }
    lerror(line, "'__index' chain too long; possible loop");
}

void lsetindex(value o, value k, value v, int line, const char *desc)
{
    for (int loop = tagloop_max; loop > 0; loop--) {
        value mm;
        if (ISTAB(o)) {
            struct table *t = TAB(o);
            if (!t->meta || (mm = getmm(o, MM_NEWINDEX)) == NIL || tget(t, k) != NIL) {
                tset(t, k, v, line);
                return;
            }
        } else if ((mm = getmm(o, MM_NEWINDEX)) == NIL) {
            char b[128];
            lerror(line, "attempt to index a %s value%s", typename_of(o), d(desc, b, sizeof b));
        }
        if (isobj(mm, T_LFUNC) || isobj(mm, T_CFUNC)) {
            value args[3] = { o, k, v };
            lcall(mm, args, 3, line);
            return;
        }
        o = mm;
        desc = NULL;
    }
    lerror(line, "'__newindex' chain too long; possible loop");
}

value llen(value v, int line)
{
    if (ISSTR(v)) return intv(STR(v)->len);
    value mm = getmm(v, MM_LEN);
    if (mm != NIL) {
        value args[1] = { v };
        return lcall(mm, args, 1, line);
    }
    if (ISTAB(v)) return intv(tlen(TAB(v)));
    lerror(line, "attempt to get length of a %s value", typename_of(v));
}

value lconcat(value a, value b, int line, const char *da, const char *db)
{
    if ((ISSTR(a) || isnum(a)) && (ISSTR(b) || isnum(b))) {
        const struct lstr *x = STR(tostr(a)), *y = STR(tostr(b));
        size_t n = (size_t)x->len + y->len;
        if (n > 0x7fffffff) lerror(line, "string length overflow");
        char *buf = n < 4096 ? alloca(n + 1) : malloc(n + 1);
        memcpy(buf, x->s, x->len);
        memcpy(buf + x->len, y->s, y->len);
        value r = mkstr(buf, n);
        if (n >= 4096) free(buf);
        return r;
    }
    value mm = getmm(a, MM_CONCAT);
    if (mm == NIL) mm = getmm(b, MM_CONCAT);
    if (mm != NIL) {
        value args[2] = { a, b };
        return lcall(mm, args, 2, line);
    }
    char buf[128];
    int bad_a = !(ISSTR(a) || isnum(a));
    lerror(line, "attempt to concatenate a %s value%s", typename_of(bad_a ? a : b),
           d(bad_a ? da : db, buf, sizeof buf));
}

value ltostring(value v)
{
    value mm = getmm(v, MM_TOSTRING);
    if (mm != NIL) {
        value r = lcall(mm, &v, 1, cur_line);
        if (isnum(r)) r = tostr(r);
        if (!ISSTR(r)) lerror(cur_line, "'__tostring' must return a string");
        return r;
    }
    return tostr(v);
}

/* -- Calls ------------------------------------------------------------------ */

value call_lua(const struct lclosure *cl, value *args, int n)
{
    const struct proto *p = cl->p;
    lstack_check(cur_line);     /* calls from C (metamethods, pcall, sort) too */
    int np = p->nparams;
    value buf[sizeof(struct frame) / sizeof(value) + p->nslots];
    struct frame *fr = (struct frame *)buf;
    fr->cl = cl;
    int k = n < np ? n : np;
    memcpy(fr->s, args, k * sizeof(value));
    memset(fr->s + k, 0, (p->nslots - k) * sizeof(value));
    if (p->vararg) {
        fr->va = args + np;
        fr->nva = n > np ? n - np : 0;
    }
    for (int i = 0; i < p->ncellp; i++) fr->s[p->cellp[i]] = (value)(uintptr_t)newcell(fr->s[p->cellp[i]]);
    if (EX(p->body, fr) == ST_RETURN) return fr->ret;
    nres = 0;
    return NIL;
}

value lcall(value f, value *args, int n, int line)
{
    if (ISOBJ(f)) {
        int t = OBJ(f)->type;
        if (t == T_LFUNC) return call_lua((const struct lclosure *)(uintptr_t)f, args, n);
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
    value mm = getmm(f, MM_CALL);
    if (mm == NIL) call_error(f, line, NULL);
    value *a = alloca((n + 1) * sizeof(value));
    a[0] = f;
    memcpy(a + 1, args, n * sizeof(value));
    return lcall(mm, a, n + 1, line);
}
