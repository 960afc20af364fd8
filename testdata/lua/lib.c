/* lib.c -- the base library, table, math, io.write, os.clock/os.exit, and
 * the global table they are installed in (lib_init, before compiling, so
 * all of it lives in the persistent arena and survives into an image).
 *
 * A library function is value f(args, n): it returns its first result and
 * sets nres (rbuf[1..nres) the others).  Argument errors read like
 * lua5.4's: "bad argument #1 to 'insert' (table expected, got nil)", at the
 * line of the call (cur_line).
 */
#include "lib.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

/* Called from Lua code, a function is named as the call site names it (the
 * short name) with the call's position; called from a library function
 * (pcall(string.rep)), by its qualified name and without a position, as
 * lua5.4 does. */
_Noreturn void argerror(int i, const char *fn, const char *msg)
{
    if (cur_line == 0 && cur_cf) fn = cur_cf->name;
    lerror(cur_line, "bad argument #%d to '%s' (%s)", i, fn, msg);
}

_Noreturn void typeerror(int i, const char *fn, const char *want, value *a, int n)
{
    char m[96];
    snprintf(m, sizeof m, "%s expected, got %s", want, i <= n ? typename_of(a[i - 1]) : "no value");
    argerror(i, fn, m);
}

struct table *argtable(value *a, int n, int i, const char *fn)
{
    if (i > n || !ISTAB(a[i - 1])) typeerror(i, fn, "table", a, n);
    return TAB(a[i - 1]);
}

int64_t argint(value *a, int n, int i, const char *fn)
{
    value v;
    if (i > n || !tonum(a[i - 1], &v)) typeerror(i, fn, "number", a, n);
    if (isint(v)) return ival(v);
    double d = dblv(v);
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        argerror(i, fn, "number has no integer representation");
    return (int64_t)d;
}

int64_t optint(value *a, int n, int i, const char *fn, int64_t dflt)
{
    return i > n || a[i - 1] == NIL ? dflt : argint(a, n, i, fn);
}

double argnum(value *a, int n, int i, const char *fn)
{
    value v;
    if (i > n || !tonum(a[i - 1], &v)) typeerror(i, fn, "number", a, n);
    return numv(v);
}

value argany(value *a, int n, int i, const char *fn)
{
    if (i > n) argerror(i, fn, "value expected");
    return a[i - 1];
}

/* -- Base ----------------------------------------------------------------- */

static value l_print(value *a, int n)
{
    for (int i = 0; i < n; i++) {
        if (i) putchar('\t');
        const struct lstr *s = STR(ltostring(a[i]));
        fwrite(s->s, 1, s->len, stdout);
    }
    putchar('\n');
    RET0();
}

static value l_type(value *a, int n) { RET1(mkcstr(typename_of(argany(a, n, 1, "type")))); }
static value l_tostring(value *a, int n) { RET1(ltostring(argany(a, n, 1, "tostring"))); }

static value l_tonumber(value *a, int n)
{
    value v;
    if (n >= 2 && a[1] != NIL) {
        int64_t base = argint(a, n, 2, "tonumber");
        if (!ISSTR(a[0])) typeerror(1, "tonumber", "string", a, n);
        if (base < 2 || base > 36) argerror(2, "tonumber", "base out of range");
        const char *s = STR(a[0])->s;
        while (*s == ' ' || *s == '\t' || *s == '\n') s++;
        int neg = *s == '-';
        if (neg) s++;
        int64_t r = 0;
        int any = 0;
        for (; *s; s++, any = 1) {
            int c = *s;
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : 99;
            if (d >= base) break;
            r = (int64_t)((uint64_t)r * (uint64_t)base + (uint64_t)d);
        }
        while (*s == ' ' || *s == '\t' || *s == '\n') s++;
        if (*s || !any) RET1(NIL);
        RET1(intv(neg ? (int64_t)(0 - (uint64_t)r) : r));
    }
    argany(a, n, 1, "tonumber");
    RET1(tonum(a[0], &v) ? v : NIL);
}

static value l_error(value *a, int n)
{
    value v = n ? a[0] : NIL;
    int64_t level = optint(a, n, 2, "error", 1);
    if (ISSTR(v) && level > 0 && cur_line > 0) {
        const struct lstr *s = STR(v);
        char *buf = malloc(s->len + 64);
        int k = snprintf(buf, 64, "%s:%d: ", R->file, cur_line);
        memcpy(buf + k, s->s, s->len);
        v = mkstr(buf, k + s->len);
        free(buf);
    }
    lthrow(v);
}

static value l_assert(value *a, int n)
{
    if (n < 1) argerror(1, "assert", "value expected");
    if (TRUTHY(a[0])) {
        nres = n;
        memcpy(rbuf + 1, a + 1, (n - 1) * sizeof(value));
        return a[0];
    }
    value msg = n >= 2 ? a[1] : mkcstr("assertion failed!");
    return l_error(&msg, 1);
}

static value l_pcall(value *a, int n)
{
    argany(a, n, 1, "pcall");
    struct handler h;
    h.prev = handler;
    char *limit = stack_limit;
    int line = cur_line;
    const struct cfunc *cf = cur_cf;
    handler = &h;
    if (setjmp(h.jb) == 0) {
        value r = lcall(a[0], a + 1, n - 1, 0);
        handler = h.prev;
        int m = nres;
        if (m >= RBUF_MAX) m = RBUF_MAX - 1;
        memmove(rbuf + 2, rbuf + 1, (m > 0 ? m - 1 : 0) * sizeof(value));
        rbuf[1] = r;
        nres = m + 1;
        return VTRUE;
    }
    handler = h.prev;
    stack_limit = limit;
    cur_line = line;
    cur_cf = cf;
    rbuf[1] = h.err;
    nres = 2;
    return VFALSE;
}

static value l_select(value *a, int n)
{
    if (n >= 1 && ISSTR(a[0]) && STR(a[0])->s[0] == '#') RET1(intv(n - 1));
    int64_t i = argint(a, n, 1, "select");
    if (i < 0) i = n + i;
    else if (i == 0) argerror(1, "select", "index out of range");
    if (i < 0) argerror(1, "select", "index out of range");
    if (i >= n) RET0();
    nres = (int)(n - i);
    memcpy(rbuf + 1, a + i + 1, (nres - 1) * sizeof(value));
    return a[i];
}

static value l_next(value *a, int n)
{
    struct table *t = argtable(a, n, 1, "next");
    value k = n >= 2 ? a[1] : NIL, v;
    if (!tnext(t, &k, &v, cur_line)) RET1(NIL);
    RET2(k, v);
}

static value l_pairs(value *a, int n)
{
    value o = argany(a, n, 1, "pairs");
    if (!ISTAB(o)) typeerror(1, "pairs", "table", a, n);
    nres = 3;
    rbuf[1] = o;
    rbuf[2] = NIL;
    return R->next_fn;
}

static value l_ipairs_aux(value *a, int n)
{
    (void)n;
    int64_t i = ival(a[1]) + 1;
    value v = lindex(a[0], intv(i), cur_line, NULL);
    if (v == NIL) RET1(NIL);
    RET2(intv(i), v);
}

static value l_ipairs(value *a, int n)
{
    argany(a, n, 1, "ipairs");
    nres = 3;
    rbuf[1] = a[0];
    rbuf[2] = intv(0);
    return R->ipairs_aux;
}

static value l_rawget(value *a, int n) { RET1(tget(argtable(a, n, 1, "rawget"), argany(a, n, 2, "rawget"))); }
static value l_rawset(value *a, int n)
{
    tset(argtable(a, n, 1, "rawset"), argany(a, n, 2, "rawset"), argany(a, n, 3, "rawset"), cur_line);
    RET1(a[0]);
}
static value l_rawequal(value *a, int n)
{
    RET1(BOOLV(raw_eq(argany(a, n, 1, "rawequal"), argany(a, n, 2, "rawequal"))));
}
static value l_rawlen(value *a, int n)
{
    value v = argany(a, n, 1, "rawlen");
    if (ISTAB(v)) RET1(intv(tlen(TAB(v))));
    if (ISSTR(v)) RET1(intv(STR(v)->len));
    argerror(1, "rawlen", "table or string expected");
}

static value l_setmetatable(value *a, int n)
{
    struct table *t = argtable(a, n, 1, "setmetatable");
    if (n < 2 || (a[1] != NIL && !ISTAB(a[1]))) typeerror(2, "setmetatable", "nil or table", a, n);
    t->meta = a[1] == NIL ? NULL : TAB(a[1]);
    RET1(a[0]);
}

static value l_getmetatable(value *a, int n)
{
    value o = argany(a, n, 1, "getmetatable");
    if (ISSTR(o)) RET1((value)(uintptr_t)R->strmeta);
    RET1(ISTAB(o) && TAB(o)->meta ? (value)(uintptr_t)TAB(o)->meta : NIL);
}

/* -- table ----------------------------------------------------------------- */

static value l_tinsert(value *a, int n)
{
    struct table *t = argtable(a, n, 1, "insert");
    int64_t e = tlen(t) + 1;
    if (n == 2) { tsetint(t, e, a[1]); RET0(); }
    if (n != 3) lerror(cur_line, "wrong number of arguments to 'insert'");
    int64_t pos = argint(a, n, 2, "insert");
    if ((uint64_t)pos - 1u >= (uint64_t)e) argerror(2, "insert", "position out of bounds");
    for (int64_t i = e; i > pos; i--) tsetint(t, i, tgetint(t, i - 1));
    tsetint(t, pos, a[2]);
    RET0();
}

static value l_tremove(value *a, int n)
{
    struct table *t = argtable(a, n, 1, "remove");
    int64_t size = tlen(t), pos = optint(a, n, 2, "remove", size);
    if (pos != size && (uint64_t)pos - 1u > (uint64_t)size) argerror(2, "remove", "position out of bounds");
    value v = tgetint(t, pos);
    for (; pos < size; pos++) tsetint(t, pos, tgetint(t, pos + 1));
    tsetint(t, pos, NIL);
    RET1(v);
}

static value l_tconcat(value *a, int n)
{
    struct table *t = argtable(a, n, 1, "concat");
    const struct lstr *sep = n >= 2 && a[1] != NIL ? (ISSTR(a[1]) ? STR(a[1]) : NULL) : NULL;
    if (n >= 2 && a[1] != NIL && !sep) typeerror(2, "concat", "string", a, n);
    int64_t i = optint(a, n, 3, "concat", 1), j = n >= 4 && a[3] != NIL ? argint(a, n, 4, "concat") : tlen(t);
    size_t cap = 64, len = 0;
    char *buf = malloc(cap);
    for (int64_t k = i; k <= j; k++) {
        value v = tgetint(t, k);
        if (!ISSTR(v) && !isnum(v)) {
            free(buf);
            lerror(cur_line, "invalid value (%s) at index %lld in table for 'concat'", typename_of(v), (long long)k);
        }
        const struct lstr *s = STR(tostr(v));
        size_t need = len + s->len + (sep ? sep->len : 0);
        while (need >= cap) buf = realloc(buf, cap *= 2);
        memcpy(buf + len, s->s, s->len);
        len += s->len;
        if (sep && k < j) { memcpy(buf + len, sep->s, sep->len); len += sep->len; }
    }
    value r = mkstr(buf, len);
    free(buf);
    RET1(r);
}

static value l_tunpack(value *a, int n)
{
    argany(a, n, 1, "unpack");
    int64_t i = optint(a, n, 2, "unpack", 1);
    int64_t j = n >= 3 && a[2] != NIL ? argint(a, n, 3, "unpack") : (int64_t)ival(llen(a[0], cur_line));
    if (i > j) RET0();
    if ((uint64_t)j - (uint64_t)i >= RBUF_MAX - 1) lerror(cur_line, "too many results to unpack");
    int m = (int)(j - i + 1);
    for (int k = 1; k < m; k++) rbuf[k] = ISTAB(a[0]) ? tgetint(TAB(a[0]), i + k) : lindex(a[0], intv(i + k), cur_line, NULL);
    value first = ISTAB(a[0]) ? tgetint(TAB(a[0]), i) : lindex(a[0], intv(i), cur_line, NULL);
    nres = m;
    return first;
}

static value sort_cmp;

static int sort_lt(value x, value y)
{
    if (sort_cmp == NIL) return less_than(x, y, cur_line);
    value args[2] = { x, y };
    return TRUTHY(lcall(sort_cmp, args, 2, cur_line));
}

static void sort_rec(value *v, int64_t lo, int64_t hi)
{
    while (hi - lo > 12) {          /* quicksort, median of three */
        int64_t mid = lo + (hi - lo) / 2;
        if (sort_lt(v[mid], v[lo])) { value t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
        if (sort_lt(v[hi], v[mid])) {
            value t = v[hi]; v[hi] = v[mid]; v[mid] = t;
            if (sort_lt(v[mid], v[lo])) { t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
        }
        value p = v[mid];
        int64_t i = lo, j = hi;
        for (;;) {
            while (sort_lt(v[i], p)) if (++i > hi) lerror(cur_line, "invalid order function for sorting");
            while (sort_lt(p, v[j])) if (--j < lo) lerror(cur_line, "invalid order function for sorting");
            if (i >= j) break;
            value t = v[i]; v[i] = v[j]; v[j] = t;
            i++, j--;
        }
        if (j - lo < hi - j) { sort_rec(v, lo, j); lo = j + 1; }
        else { sort_rec(v, j + 1, hi); hi = j; }
    }
    for (int64_t i = lo + 1; i <= hi; i++) {
        value x = v[i];
        int64_t j = i - 1;
        while (j >= lo && sort_lt(x, v[j])) { v[j + 1] = v[j]; j--; }
        v[j + 1] = x;
    }
}

static value l_tsort(value *a, int n)
{
    struct table *t = argtable(a, n, 1, "sort");
    if (n >= 2 && a[1] != NIL && !isobj(a[1], T_LFUNC) && !isobj(a[1], T_CFUNC)) typeerror(2, "sort", "function", a, n);
    int64_t len = tlen(t);
    if (len < 2) RET0();
    value *v = lalloc(len * sizeof(value));
    for (int64_t i = 0; i < len; i++) v[i] = tgetint(t, i + 1);
    value save = sort_cmp;
    sort_cmp = n >= 2 ? a[1] : NIL;
    sort_rec(v, 0, len - 1);
    sort_cmp = save;
    for (int64_t i = 0; i < len; i++) tsetint(t, i + 1, v[i]);
    RET0();
}

/* -- math, io, os ------------------------------------------------------------- */

static value l_floor(value *a, int n)
{
    double d = argnum(a, n, 1, "floor");
    if (isint(a[0])) RET1(a[0]);
    d = floor(d);
    RET1(d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? intv((int64_t)d) : dbl(d));
}

static value l_ceil(value *a, int n)
{
    double d = argnum(a, n, 1, "ceil");
    if (isint(a[0])) RET1(a[0]);
    d = ceil(d);
    RET1(d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? intv((int64_t)d) : dbl(d));
}

static value l_abs(value *a, int n)
{
    argnum(a, n, 1, "abs");
    if (isint(a[0])) RET1(intv(ival(a[0]) < 0 ? (int64_t)(0 - (uint64_t)ival(a[0])) : ival(a[0])));
    RET1(dbl(fabs(argnum(a, n, 1, "abs"))));
}

static value minmax(value *a, int n, int max, const char *fn)
{
    argnum(a, n, 1, fn);
    value best = a[0];
    for (int i = 1; i < n; i++) {
        argnum(a, n, i + 1, fn);
        if (max ? less_than(best, a[i], cur_line) : less_than(a[i], best, cur_line)) best = a[i];
    }
    RET1(best);
}
static value l_max(value *a, int n) { return minmax(a, n, 1, "max"); }
static value l_min(value *a, int n) { return minmax(a, n, 0, "min"); }
static value l_sqrt(value *a, int n) { RET1(dbl(sqrt(argnum(a, n, 1, "sqrt")))); }
static value l_fmod(value *a, int n)
{
    if (n >= 2 && isint(a[0]) && isint(a[1])) {
        int64_t x = ival(a[0]), y = ival(a[1]);
        if (y == 0) argerror(2, "fmod", "zero");
        RET1(intv(y == -1 ? 0 : x % y));
    }
    RET1(dbl(fmod(argnum(a, n, 1, "fmod"), argnum(a, n, 2, "fmod"))));
}
static value l_tointeger(value *a, int n)
{
    value v = argany(a, n, 1, "tointeger");
    if (isint(v)) RET1(v);
    if (ISDBL(v)) {
        double d = dblv(v);
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) RET1(intv((int64_t)d));
    }
    RET1(NIL);
}
static value l_mtype(value *a, int n)
{
    value v = argany(a, n, 1, "type");
    RET1(isint(v) ? mkcstr("integer") : ISDBL(v) ? mkcstr("float") : NIL);
}

static value l_write(value *a, int n)
{
    for (int i = 0; i < n; i++) {
        if (!ISSTR(a[i]) && !isnum(a[i])) typeerror(i + 1, "write", "string", a, n);
        if (ISDBL(a[i])) printf("%.14g", dblv(a[i]));
        else {
            const struct lstr *s = STR(tostr(a[i]));
            fwrite(s->s, 1, s->len, stdout);
        }
    }
    RET0();
}

static value l_clock(value *a, int n)
{
    (void)a, (void)n;
    RET1(dbl((double)clock() / CLOCKS_PER_SEC));
}

static value l_exit(value *a, int n)
{
    int st = n < 1 || a[0] == VTRUE ? 0 : a[0] == VFALSE ? 1 : (int)argint(a, n, 1, "exit");
    lexit(st);
}

static const char *libname = "";

/* t.name = f, f's qualified name "lib.name" (libname). */
void reg(struct table *t, const char *name, cfn f)
{
    char q[64];
    snprintf(q, sizeof q, "%s%s%s", libname, *libname ? "." : "", name);
    size_t n = strlen(q);
    char *s = lalloc_atomic(n + 1);
    memcpy(s, q, n + 1);
    tset(t, mkcstr(name), cfunc_new(f, s), 0);
}

static struct table *lib(const char *name)
{
    struct table *t = newtable(0, 16);
    tset(R->G, mkcstr(name), (value)(uintptr_t)t, 0);
    libname = name;
    return t;
}

void lib_init(void)
{
    static const char *const mm[] = { "__index", "__newindex", "__call", "__add", "__sub", "__mul", "__div",
                                      "__mod", "__pow", "__unm", "__idiv", "__eq", "__lt", "__le", "__len",
                                      "__concat", "__tostring" };
    for (int i = 0; i < MM__N; i++) R->mm[i] = STR(mkcstr(mm[i]));
    struct table *G = R->G = newtable(0, 64);
    tset(G, mkcstr("_G"), (value)(uintptr_t)G, 0);
    tset(G, mkcstr("_VERSION"), mkcstr("Lua 5.4"), 0);
    static const struct { const char *n; cfn f; } base[] = {
        { "print", l_print }, { "type", l_type }, { "tostring", l_tostring }, { "tonumber", l_tonumber },
        { "error", l_error }, { "assert", l_assert }, { "pcall", l_pcall }, { "select", l_select },
        { "ipairs", l_ipairs }, { "pairs", l_pairs }, { "rawget", l_rawget },
        { "rawset", l_rawset }, { "rawequal", l_rawequal }, { "rawlen", l_rawlen },
        { "setmetatable", l_setmetatable }, { "getmetatable", l_getmetatable },
    };
    for (size_t i = 0; i < sizeof base / sizeof *base; i++) reg(G, base[i].n, base[i].f);
    R->next_fn = cfunc_new(l_next, "next");
    tset(G, mkcstr("next"), R->next_fn, 0);
    R->ipairs_aux = cfunc_new(l_ipairs_aux, "ipairs_aux");
    struct table *t = lib("table");
    reg(t, "insert", l_tinsert);
    reg(t, "remove", l_tremove);
    reg(t, "concat", l_tconcat);
    reg(t, "unpack", l_tunpack);
    reg(t, "sort", l_tsort);
    struct table *m = lib("math");
    reg(m, "floor", l_floor);
    reg(m, "ceil", l_ceil);
    reg(m, "abs", l_abs);
    reg(m, "max", l_max);
    reg(m, "min", l_min);
    reg(m, "sqrt", l_sqrt);
    reg(m, "fmod", l_fmod);
    reg(m, "tointeger", l_tointeger);
    reg(m, "type", l_mtype);
    tset(m, mkcstr("huge"), dbl(HUGE_VAL), 0);
    tset(m, mkcstr("pi"), dbl(3.141592653589793), 0);
    tset(m, mkcstr("maxinteger"), intv(INT64_MAX), 0);
    tset(m, mkcstr("mininteger"), intv(INT64_MIN), 0);
    reg(lib("io"), "write", l_write);
    struct table *os = lib("os");
    reg(os, "clock", l_clock);
    reg(os, "exit", l_exit);
    R->strlib = lib("string");
    strlib_init(R->strlib);
    R->strmeta = newtable(0, 2);
    tset(R->strmeta, mkcstr("__index"), (value)(uintptr_t)R->strlib, 0);
}
