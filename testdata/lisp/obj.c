/* obj.c -- object allocation (Boehm GC), interned symbols, printing and
 * equality.
 *
 * Invariants:
 *  (1) Run-time objects come from the GC heap; 16-byte objects (pairs,
 *      flonums, small frames) from a free list refilled by GC_malloc_many.
 *  (2) Symbols live in the persistent arena (lf_alloc), chained from the
 *      table in lv_roots, so they survive into an image and stay eq?.
 */
#include "lisp.h"

#include <gc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"

struct lv_roots *lv_roots;

static void *fl16;

static _Noreturn void oom(void)
{
    lv_die(lv_nopos, "out of memory");
}

static void add_roots(void *lo, void *hi) { GC_add_roots(lo, hi); }

void lv_gc_init(void)
{
    GC_INIT();
    GC_set_warn_proc(GC_ignore_warn_proc);
    /* Every collection scans the arenas (megabytes of roots): start with a
     * heap large enough that short-lived garbage does not trigger one every
     * few hundred kilobytes. */
    GC_expand_hp((size_t)32 << 20);
    lf_set_root_hook(add_roots);
}

static inline void *alloc16(void)
{
    void *p = fl16;
    if (__builtin_expect(!p, 0)) {
        p = GC_malloc_many(16);
        if (!p) oom();
    }
    fl16 = GC_NEXT(p);
    GC_NEXT(p) = NULL;
    return p;
}

void *lv_gc_alloc(size_t n)
{
    void *p = n <= 16 ? alloc16() : GC_MALLOC(n);
    if (!p) oom();
    return p;
}

void *lv_gc_alloc_atomic(size_t n)
{
    void *p = GC_MALLOC_ATOMIC(n);
    if (!p) oom();
    return p;
}

value lv_cons(value a, value d)
{
    value *p = alloc16();
    p[0] = a;
    p[1] = d;
    return (value)p + 4;
}

value lv_flo(double d)
{
    struct flo *f = alloc16();
    f->h.type = T_FLO;
    f->h.flags = 0;
    f->d = d;
    return (value)f;
}

value lv_str(const char *s, size_t n)
{
    if (n > UINT32_MAX - 1) lv_die(lv_nopos, "string too long");
    struct str *p = lv_gc_alloc_atomic(sizeof *p + n + 1);
    p->h.type = T_STR;
    p->h.flags = 0;
    p->h.len = (uint32_t)n;
    if (s) memcpy(p->s, s, n);
    else memset(p->s, ' ', n);
    p->s[n] = 0;
    return (value)p;
}

value lv_vec(size_t n, value fill)
{
    if (n > UINT32_MAX) lv_die(lv_nopos, "vector too long");
    struct vec *v = lv_gc_alloc(sizeof *v + n * sizeof(value));
    v->h.type = T_VEC;
    v->h.flags = 0;
    v->h.len = (uint32_t)n;
    for (size_t i = 0; i < n; i++) v->v[i] = fill;
    return (value)v;
}

struct frame *lv_heap_frame(size_t slots)
{
    struct frame *f = lv_gc_alloc(sizeof *f + slots * sizeof(value));
    for (size_t i = 0; i < slots; i++) f->s[i] = LV_UNSPEC;
    return f;
}

value lv_make_proc(const struct lambda *lam, struct frame *env)
{
    struct proc *p = GC_MALLOC(sizeof *p);
    if (!p) oom();
    p->h.type = T_PROC;
    p->lam = lam;
    p->env = env;
    return (value)p;
}

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

value lv_intern(const char *name)
{
    uint32_t h = hash_name(name) % LV_SYMTAB;
    for (struct sym *s = lv_roots->symtab[h]; s; s = s->next)
        if (strcmp(s->name, name) == 0) return (value)s;
    size_t n = strlen(name);
    struct sym *s = lf_alloc(sizeof *s + n + 1);
    if (!s) oom();
    s->h.type = T_SYM;
    s->h.len = (uint32_t)n;
    memcpy(s->name, name, n + 1);
    s->next = lv_roots->symtab[h];
    lv_roots->symtab[h] = s;
    return (value)s;
}

long lv_list_length(value l)
{
    long n = 0;
    value slow = l;
    while (PAIRP(l)) {
        l = CDR(l);
        n++;
        if (!(n & 1)) {
            slow = CDR(slow);
            if (slow == l && PAIRP(l)) return -1;   /* circular */
        }
    }
    return l == LV_NIL ? n : -1;
}

value lv_list_n(int n, const value *v)
{
    value r = LV_NIL;
    while (n-- > 0) r = lv_cons(v[n], r);
    return r;
}

/* -- Printing ------------------------------------------------------------- */

void lv_flo_format(char *out, double d)
{
    if (isnan(d)) { strcpy(out, "+nan.0"); return; }
    if (isinf(d)) { strcpy(out, d > 0 ? "+inf.0" : "-inf.0"); return; }
    char b[48];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, d);
        if (strtod(b, NULL) == d) break;
    }
    /* "1e+21" -> "1e21", "1e-07" -> "1e-7"; "24157817" -> "24157817.0" */
    char *o = out, *e = strchr(b, 'e');
    if (!e) {
        strcpy(out, b);
        if (!strchr(out, '.')) strcat(out, ".0");
    } else {
        memcpy(o, b, (size_t)(e - b));
        o += e - b;
        *o++ = 'e';
        e++;
        if (*e == '+') e++;
        else if (*e == '-') *o++ = *e++;
        while (*e == '0' && e[1]) e++;
        strcpy(o, e);
    }
}

static void print_flo(FILE *f, double d)
{
    char out[64];
    lv_flo_format(out, d);
    fputs(out, f);
}

static const char *char_name(uint32_t c)
{
    switch (c) {
    case ' ': return "space";
    case '\n': return "newline";
    case '\t': return "tab";
    case '\r': return "return";
    case 0: return "null";
    case 127: return "delete";
    case 27: return "escape";
    case 7: return "alarm";
    case 8: return "backspace";
    default: return NULL;
    }
}

static void print_char(FILE *f, uint32_t c, int write)
{
    if (!write) {
        if (c < 0x80) fputc((int)c, f);
        else fputc('?', f);
        return;
    }
    const char *n = char_name(c);
    if (n) fprintf(f, "#\\%s", n);
    else if (c > 32 && c < 127) fprintf(f, "#\\%c", (int)c);
    else fprintf(f, "#\\x%x", c);
}

static void print_string(FILE *f, const struct str *s, int write)
{
    if (!write) { fwrite(s->s, 1, s->h.len, f); return; }
    fputc('"', f);
    for (uint32_t i = 0; i < s->h.len; i++) {
        unsigned char c = (unsigned char)s->s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (c < 32 || c == 127) fprintf(f, "\\x%x;", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

static void print_list(FILE *f, value v, int write)
{
    fputc('(', f);
    lv_print(f, CAR(v), write);
    for (v = CDR(v); PAIRP(v); v = CDR(v)) {
        fputc(' ', f);
        lv_print(f, CAR(v), write);
    }
    if (v != LV_NIL) {
        fputs(" . ", f);
        lv_print(f, v, write);
    }
    fputc(')', f);
}

static void print_imm(FILE *f, value v)
{
    switch (v) {
    case LV_NIL: fputs("()", f); break;
    case LV_TRUE: fputs("#t", f); break;
    case LV_FALSE: fputs("#f", f); break;
    case LV_EOF: fputs("#<eof>", f); break;
    case LV_UNSPEC: break;
    default: fputs("#<unspecified>", f); break;
    }
}

void lv_print(FILE *f, value v, int write)
{
    char here;
    LV_STACK_CHECK(&here);
    if (FIXP(v)) { fprintf(f, "%ld", (long)UNFIX(v)); return; }
    if (PAIRP(v)) { print_list(f, v, write); return; }
    if (CHARP(v)) { print_char(f, UNCHR(v), write); return; }
    if (!OBJP(v)) { print_imm(f, v); return; }
    switch (HDR(v)->type) {
    case T_FLO: print_flo(f, FLO(v)); break;
    case T_STR: print_string(f, STR(v), write); break;
    case T_SYM: fputs(SYM(v)->name, f); break;
    case T_VEC:
        fputs("#(", f);
        for (uint32_t i = 0; i < HDR(v)->len; i++) {
            if (i) fputc(' ', f);
            lv_print(f, VEC(v)->v[i], write);
        }
        fputc(')', f);
        break;
    case T_PROC: {
        const char *n = ((struct proc *)v)->lam->name;
        if (n && *n) fprintf(f, "#<procedure %s>", n);
        else fputs("#<procedure>", f);
        break;
    }
    case T_PRIM: fprintf(f, "#<procedure %s>", ((struct prim *)v)->name); break;
    case T_CONT: fputs("#<continuation>", f); break;
    case T_PARAM: fputs("#<parameter>", f); break;
    case T_BVEC:
        fputs("#u8(", f);
        for (uint32_t i = 0; i < HDR(v)->len; i++) fprintf(f, i ? " %u" : "%u", (unsigned char)STR(v)->s[i]);
        fputc(')', f);
        break;
    case T_PORT: fputs("#<port>", f); break;
    case T_VALUES:
        for (uint32_t i = 0; i < HDR(v)->len; i++) {
            if (i) fputc(' ', f);
            lv_print(f, ((struct vals *)v)->v[i], write);
        }
        break;
    case T_ERROBJ:
        fputs("#<error ", f);
        lv_print(f, ((struct errobj *)v)->msg, 1);
        for (value l = ((struct errobj *)v)->irritants; PAIRP(l); l = CDR(l)) {
            fputc(' ', f);
            lv_print(f, CAR(l), 1);
        }
        fputc('>', f);
        break;
    case T_RECORD: {
        const struct rtd *t = (const struct rtd *)((struct record *)v)->rtd;
        fputs("#<", f);
        lv_print(f, t->name, 0);
        for (uint32_t i = 0; i < HDR(v)->len; i++) {
            fputc(' ', f);
            lv_print(f, ((struct record *)v)->f[i], write);
        }
        fputc('>', f);
        break;
    }
    case T_RTD: fputs("#<record-type ", f); lv_print(f, ((struct rtd *)v)->name, 0); fputc('>', f); break;
    default: fputs("#<object>", f); break;
    }
}

/* -- Equality ------------------------------------------------------------- */

int lv_eqv(value a, value b)
{
    if (a == b) return 1;
    if (FLOP(a) && FLOP(b)) return FLO(a) == FLO(b) || (isnan(FLO(a)) && isnan(FLO(b)));
    return 0;
}

const char *lv_type_name(value v)
{
    if (FIXP(v)) return "integer";
    if (PAIRP(v)) return "pair";
    if (CHARP(v)) return "character";
    if (v == LV_NIL) return "empty list";
    if (v == LV_TRUE || v == LV_FALSE) return "boolean";
    if (!OBJP(v)) return "unspecified";
    switch (HDR(v)->type) {
    case T_FLO: return "real";
    case T_STR: return "string";
    case T_SYM: return "symbol";
    case T_VEC: return "vector";
    case T_PORT: return "port";
    case T_BVEC: return "bytevector";
    case T_VALUES: return "multiple values";
    case T_ERROBJ: return "error object";
    case T_RECORD: return "record";
    case T_RTD: return "record type";
    default: return "procedure";
    }
}
