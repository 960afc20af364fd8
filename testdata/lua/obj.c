/* obj.c -- allocation, strings, tables (array part + hash part), number
 * formatting and conversion.
 *
 * Invariants:
 *  (1) While compiling (running == 0) every object comes from the
 *      persistent arena (lf_alloc) so that it survives into an image; once
 *      the program runs, from the Boehm GC heap.  The arenas are GC roots.
 *  (2) A table's array part holds keys 1..n (some may be nil; n never
 *      shrinks, so next() can always resume from an array key); its hash
 *      part never holds the integer key n+1 (t[n+1] = v appends and pulls
 *      n+2.. over), so n is a border when arr[n-1] is not nil, else a
 *      binary search in the array part finds one.
 *  (3) Hash keys are never nil or NaN; float keys with an integer value are
 *      stored as integers.  A removed key stays with a nil value (so next
 *      keeps working during traversal) until the next rehash.
 */
#include "lua.h"

#include <errno.h>
#include <gc.h>
#include <math.h>
#include <stdlib.h>

#include "lineiform.h"

int running;
struct lroots *R;

static void add_roots(void *lo, void *hi) { GC_add_roots(lo, hi); }

void gc_init(void)
{
    GC_INIT();
    GC_set_warn_proc(GC_ignore_warn_proc);
    GC_expand_hp((size_t)32 << 20);
    lf_set_root_hook(add_roots);
}

void *lalloc(size_t n)
{
    void *p = running ? GC_MALLOC(n) : lf_alloc(n);
    if (!p) lerror(0, "not enough memory");
    return p;
}

void *lalloc_atomic(size_t n)
{
    void *p = running ? GC_MALLOC_ATOMIC(n) : lf_alloc(n);
    if (!p) lerror(0, "not enough memory");
    return p;
}

value box_int(int64_t i)
{
    struct bigint *b = lalloc_atomic(sizeof *b);
    b->type = T_BIGINT;
    b->i = i;
    return (value)(uintptr_t)b;
}

uint32_t str_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)len;
    size_t step = (len >> 5) + 1;
    for (size_t i = 0; i < len; i += step) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

value mkstr(const char *s, size_t len)
{
    if (len > 0x7fffffff) lerror(0, "string length overflow");
    struct lstr *p = lalloc_atomic(sizeof *p + len + 1);
    p->type = T_STR;
    p->len = (uint32_t)len;
    memcpy(p->s, s, len);
    p->s[len] = 0;
    p->hash = str_hash(s, len);
    return (value)(uintptr_t)p;
}

value mkcstr(const char *s) { return mkstr(s, strlen(s)); }

int str_eq(const struct lstr *a, const struct lstr *b)
{
    return a == b || (a->hash == b->hash && a->len == b->len && !memcmp(a->s, b->s, a->len));
}

int raw_eq(value a, value b)
{
    if (a == b) return 1;
    if (ISSTR(a) && ISSTR(b)) return str_eq(STR(a), STR(b));
    if (isnum(a) && isnum(b)) {
        if (isint(a) && isint(b)) return ival(a) == ival(b);
        if (isint(a) && ISDBL(b)) return (double)ival(a) == dblv(b) && (int64_t)dblv(b) == ival(a);
        if (ISDBL(a) && isint(b)) return raw_eq(b, a);
        return dblv(a) == dblv(b);
    }
    return 0;
}

value cfunc_new(cfn f, const char *name)
{
    struct cfunc *c = lalloc(sizeof *c);
    c->type = T_CFUNC;
    c->fn = f;
    c->name = name;
    return (value)(uintptr_t)c;
}

/* -- Tables ---------------------------------------------------------------- */

struct table *newtable(uint32_t na, uint32_t nh)
{
    struct table *t = lalloc(sizeof *t);
    t->type = T_TABLE;
    if (na) {
        t->arr = lalloc(na * sizeof(value));
        t->acap = na;
    }
    if (nh) {
        uint32_t c = 4;
        while (c < nh * 2) c *= 2;
        t->h = lalloc(c * sizeof *t->h);
        t->hmask = c - 1;
    }
    return t;
}

/* A key's canonical form: floats with an integer value become integers. */
static value normkey(value k)
{
    if (ISDBL(k)) {
        double d = dblv(k);
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) return intv((int64_t)d);
    }
    return k;
}

static uint32_t hashv(value k)
{
    if (ISSTR(k)) return STR(k)->hash;
    if (isobj(k, T_BIGINT)) k = (value)ival(k);
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

static struct hnode *hfind(const struct table *t, value k)
{
    if (!t->h) return NULL;
    uint32_t i = hashv(k) & t->hmask;
    for (;;) {
        struct hnode *n = &t->h[i];
        if (n->k == NIL) return NULL;
        if (n->k == k || raw_eq(n->k, k)) return n;
        i = (i + 1) & t->hmask;
    }
}

value tgetint(const struct table *t, int64_t k)
{
    if ((uint64_t)(k - 1) < t->n) return t->arr[k - 1];
    struct hnode *n = hfind(t, intv(k));
    return n ? n->v : NIL;
}

value tgetstr(const struct table *t, const struct lstr *k)
{
    if (!t->h) return NIL;
    uint32_t i = k->hash & t->hmask;
    for (;;) {
        struct hnode *n = &t->h[i];
        if (n->k == NIL) return NIL;
        if (ISSTR(n->k) && str_eq(STR(n->k), k)) return n->v;
        i = (i + 1) & t->hmask;
    }
}

value tget(const struct table *t, value k)
{
    if (ISSINT(k)) return tgetint(t, sint(k));
    if (ISSTR(k)) return tgetstr(t, STR(k));
    if (k == NIL) return NIL;
    k = normkey(k);
    if (ISSINT(k)) return tgetint(t, sint(k));
    struct hnode *n = hfind(t, k);
    return n ? n->v : NIL;
}

/* Put k (not present) into a hash part known to have room. */
static void hput(struct table *t, value k, value v)
{
    uint32_t i = hashv(k) & t->hmask;
    while (t->h[i].k != NIL) i = (i + 1) & t->hmask;
    t->h[i].k = k;
    t->h[i].v = v;
    t->hused++;
}

/* A hash part sized for the live keys, which are moved over (no
 * recursion through hinsert). */
static void rehash(struct table *t)
{
    uint32_t live = 0, old = t->h ? t->hmask + 1 : 0;
    for (uint32_t i = 0; i < old; i++) live += t->h[i].v != NIL;
    /* The smallest power of two >= 2 * (live + 1), at least 4, by bit
     * smearing: no loop (a partial evaluator would unroll a doubling loop
     * from its constant start) and no bsr (which the lifter lacks). */
    uint32_t c = (live + 1) * 2 - 1;
    c |= c >> 1;
    c |= c >> 2;
    c |= c >> 4;
    c |= c >> 8;
    c |= c >> 16;
    c = c + 1 < 4 ? 4 : c + 1;
    struct hnode *h = t->h;
    t->h = lalloc(c * sizeof *h);
    t->hmask = c - 1;
    t->hused = 0;
    for (uint32_t i = 0; i < old; i++)
        if (h[i].v != NIL) hput(t, h[i].k, h[i].v);
}

static void hinsert(struct table *t, value k, value v)
{
    if (!t->h || (t->hused + 1) * 4 > (t->hmask + 1) * 3) rehash(t);
    hput(t, k, v);
}

static void append(struct table *t, value v)
{
    if (t->n == t->acap) {
        uint32_t c = t->acap ? t->acap * 2 : 4;
        value *a = lalloc(c * sizeof(value));
        if (t->n) memcpy(a, t->arr, t->n * sizeof(value));
        t->arr = a;
        t->acap = c;
    }
    t->arr[t->n++] = v;
}

void tsetint(struct table *t, int64_t k, value v)
{
    if ((uint64_t)(k - 1) < t->n) {
        t->arr[k - 1] = v;
        return;
    }
    if (k == (int64_t)t->n + 1 && v != NIL) {
        append(t, v);
        struct hnode *h;     /* invariant (2): pull the following keys over */
        while (t->h && (h = hfind(t, intv((int64_t)t->n + 1))) && h->v != NIL) {
            append(t, h->v);
            h->v = NIL;
        }
        return;
    }
    value key = intv(k);
    struct hnode *n = hfind(t, key);
    if (n) n->v = v;
    else if (v != NIL) hinsert(t, key, v);
}

void tset(struct table *t, value k, value v, int line)
{
    if (ISSINT(k)) { tsetint(t, sint(k), v); return; }
    if (k == NIL) lerror(line, "table index is nil");
    if (ISDBL(k) && dblv(k) != dblv(k)) lerror(line, "table index is NaN");
    k = normkey(k);
    if (ISSINT(k)) { tsetint(t, sint(k), v); return; }
    struct hnode *n = hfind(t, k);
    if (n) n->v = v;
    else if (v != NIL) hinsert(t, k, v);
}

/* next: array part in order, then the hash part in slot order. */
int tnext(const struct table *t, value *k, value *v, int line)
{
    uint32_t i = 0;
    if (*k != NIL) {
        value key = normkey(*k);
        if (ISSINT(key) && (uint64_t)(sint(key) - 1) < t->n) i = (uint32_t)sint(key);
        else {
            struct hnode *n = hfind(t, key);
            if (!n) lerror(0, "invalid key to 'next'");
            (void)line;
            i = t->n + (uint32_t)(n - t->h) + 1;
        }
    }
    for (; i < t->n; i++)
        if (t->arr[i] != NIL) { *k = intv(i + 1); *v = t->arr[i]; return 1; }
    if (!t->h) return 0;
    for (i -= t->n; i <= t->hmask; i++)
        if (t->h[i].v != NIL) { *k = t->h[i].k; *v = t->h[i].v; return 1; }
    return 0;
}

int64_t tlen(const struct table *t)
{
    if (t->n && t->arr[t->n - 1] != NIL) return t->n;
    if (t->n) {             /* a border inside the array part */
        uint32_t lo = 0, hi = t->n;
        while (hi - lo > 1) {
            uint32_t m = (lo + hi) / 2;
            if (t->arr[m - 1] == NIL) hi = m;
            else lo = m;
        }
        return lo;
    }
    /* Keys only in the hash part: find a border by probing upwards. */
    int64_t j = 0;
    while (tgetint(t, j + 1) != NIL) j++;
    return j;
}

/* -- Conversion -------------------------------------------------------------- */

const char *typename_of(value v)
{
    if (v == NIL) return "nil";
    if (v <= VTRUE) return "boolean";
    if (isnum(v)) return "number";
    switch (OBJ(v)->type) {
    case T_STR: return "string";
    case T_TABLE: return "table";
    default: return "function";
    }
}

const struct lstr *fmt_double(double d, char *buf, size_t len)
{
    if (isinf(d)) snprintf(buf, len, d > 0 ? "inf" : "-inf");
    else if (d != d) snprintf(buf, len, signbit(d) ? "-nan" : "nan");
    else {
        snprintf(buf, len, "%.14g", d);
        if (!strpbrk(buf, ".eninf")) strcat(buf, ".0");
    }
    return NULL;
}

void fmt_num(value v, char *buf, size_t len)
{
    if (isint(v)) snprintf(buf, len, "%lld", (long long)ival(v));
    else fmt_double(dblv(v), buf, len);
}

value tostr(value v)
{
    char buf[64];
    if (ISSTR(v)) return v;
    if (isnum(v)) { fmt_num(v, buf, sizeof buf); return mkcstr(buf); }
    if (v == NIL) return mkcstr("nil");
    if (v == VTRUE) return mkcstr("true");
    if (v == VFALSE) return mkcstr("false");
    const char *t = typename_of(v);
    if (OBJ(v)->type == T_CFUNC) snprintf(buf, sizeof buf, "function: builtin: %p", (void *)(uintptr_t)v);
    else snprintf(buf, sizeof buf, "%s: %p", t, (void *)(uintptr_t)v);
    return mkcstr(buf);
}

/* String to number as Lua reads numerals (decimal, hex integers, floats). */
int tonum(value v, value *out)
{
    if (isnum(v)) { *out = v; return 1; }
    if (!ISSTR(v)) return 0;
    const char *s = STR(v)->s, *e = s + STR(v)->len;
    while (s < e && strchr(" \t\n\r\f\v", *s)) s++;
    while (e > s && strchr(" \t\n\r\f\v", e[-1])) e--;
    if (s == e) return 0;
    char buf[128];
    if ((size_t)(e - s) >= sizeof buf) return 0;
    memcpy(buf, s, e - s);
    buf[e - s] = 0;
    char *p = buf, *end;
    int neg = 0;
    if (*p == '-' || *p == '+') neg = *p++ == '-';
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && !strpbrk(p, ".pP")) {
        uint64_t u = 0;
        p += 2;
        if (!*p) return 0;
        for (; *p; p++) {
            int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                  : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
            if (d < 0) return 0;
            u = u * 16 + (uint64_t)d;
        }
        *out = intv((int64_t)(neg ? 0 - u : u));
        return 1;
    }
    if (!strpbrk(p, ".eEnNpP")) {
        errno = 0;
        unsigned long long u = strtoull(p, &end, 10);
        if (*end || end == p) return 0;
        if (errno == 0 && u <= (neg ? (1ull << 63) : (1ull << 63) - 1)) {
            *out = intv(neg ? (int64_t)(0 - u) : (int64_t)u);
            return 1;
        }
    }
    if (strpbrk(p, "nN") && !(p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))) return 0; /* inf, nan */
    double d = strtod(buf, &end);
    if (*end || end == buf) return 0;
    *out = dbl(d);
    return 1;
}
