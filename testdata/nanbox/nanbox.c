/* nanbox.c -- a closure-compiling interpreter of a small statement language
 * whose values are NaN-boxed doubles, specialized with lf_optimize.
 *
 * Its design differs from the bundled Scheme on purpose: values are 64-bit
 * words that are doubles unless their top 13 bits mark a tagged value (nil,
 * booleans, an error); statements are closures returning a status (normal,
 * return, error) and write the returned value through a pointer; every call
 * of a user function runs its body in a frame that is a run-time-sized array
 * of slots (a VLA sized by the frozen function's slot count), and a call
 * evaluates its arguments into a second VLA.  It links liblineiform.a only.
 *
 * Programs are built as frozen closure trees by C code (no parser):
 *   fib(n)        = if n < 2 then n else fib(n-1) + fib(n-2)
 *   sumsq(n)      = s = 0; i = 0; while i < n { s = s + i*i; i = i + 1 }; s
 *   collatz(n)    = steps of the 3n+1 walk from n (while, if, a helper call)
 *   poly(n)       = a call with 4 arguments, each a call: frames inside frames
 *   typeerr(n)    = n + true when n > 3: the error status travels up
 *
 * Usage: nanbox               every program, lf_optimize'd vs the closures,
 *                             over many inputs; one line per case, then
 *                             "passed: N failure(s)"; each case prints the
 *                             report's frame_private / frame_shared
 *        nanbox bench P N [R] program P (fib, sumsq, collatz, poly) on N,
 *                             N+1, ..., N+R-1 with the closures and
 *                             specialized (seconds, the same sum required)
 * Exit status 0 when every case matches. */
#include <lineiform.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

/* -- Values -------------------------------------------------------------------------- */

typedef uint64_t val;
#define TAG_SHIFT 48
#define TAG_NIL   0xfff9ull
#define TAG_BOOL  0xfffaull
#define TAG_ERR   0xfffbull
#define V_NIL     (TAG_NIL << TAG_SHIFT)
#define V_FALSE   (TAG_BOOL << TAG_SHIFT)
#define V_TRUE    ((TAG_BOOL << TAG_SHIFT) | 1)
#define V_ERR     (TAG_ERR << TAG_SHIFT)

static inline int is_num(val v) { return (v >> TAG_SHIFT) < TAG_NIL; }
static inline double num(val v) { double d; memcpy(&d, &v, sizeof d); return d; }
static inline val box(double d)
{
    val v;
    memcpy(&v, &d, sizeof v);
    return (v >> TAG_SHIFT) >= TAG_NIL ? (0x7ff8ull << TAG_SHIFT) : v;   /* one canonical NaN */
}
static inline int truthy(val v) { return v != V_NIL && v != V_FALSE; }

/* -- Closures ----------------------------------------------------------------------- */

enum status { ST_NORMAL, ST_RETURN, ST_ERROR };

typedef struct expr expr;
typedef struct stmt stmt;
typedef struct func func;
typedef val (*eval_fn)(const expr *e, val *fr);
typedef enum status (*exec_fn)(const stmt *s, val *fr, val *out);

struct expr {
    eval_fn ev;
    int slot, nargs;              /* local slot; argument count of a call */
    val k;                        /* constant */
    const expr *a, *b;            /* operands */
    const expr *const *args;      /* call arguments (frozen array) */
    const func *fn;               /* callee */
};
struct stmt {
    exec_fn ex;
    int slot, n;                  /* assigned slot; statements in a block */
    const expr *e;                /* value / condition */
    const stmt *body, *alt;       /* then / loop body, else */
    const stmt *const *list;      /* block (frozen array) */
};
struct func {
    int nparams, nslots;          /* frame: parameters first, then locals */
    const stmt *body;
};

/* A call runs the body in a frame of 1 + nslots words: slot 0 receives
 * the value of a return statement (read after the body, like a result
 * register), the parameters and locals follow, nil past the arguments. */
NOINLINE static val call_func(const func *f, const val *args)
{
    val fr[f->nslots + 1];
    fr[0] = V_NIL;
    for (int i = 0; i < f->nslots; i++) fr[i + 1] = i < f->nparams ? args[i] : V_NIL;
    enum status st = f->body->ex(f->body, fr + 1, &fr[0]);
    return st == ST_ERROR ? V_ERR : st == ST_RETURN ? fr[0] : V_NIL;
}

NOINLINE static val ev_const(const expr *e, val *fr) { (void)fr; return e->k; }
NOINLINE static val ev_local(const expr *e, val *fr) { return fr[e->slot]; }

#define ARITH(name, op)                                                           \
    NOINLINE static val name(const expr *e, val *fr)                              \
    {                                                                             \
        val x = e->a->ev(e->a, fr), y = e->b->ev(e->b, fr);                       \
        if (!is_num(x) || !is_num(y)) return V_ERR;                               \
        return box(num(x) op num(y));                                             \
    }
ARITH(ev_add, +)
ARITH(ev_sub, -)
ARITH(ev_mul, *)

NOINLINE static val ev_lt(const expr *e, val *fr)
{
    val x = e->a->ev(e->a, fr), y = e->b->ev(e->b, fr);
    if (!is_num(x) || !is_num(y)) return V_ERR;
    return num(x) < num(y) ? V_TRUE : V_FALSE;
}
NOINLINE static val ev_odd(const expr *e, val *fr)   /* odd(x): the integer part of x is odd */
{
    val x = e->a->ev(e->a, fr);
    if (!is_num(x)) return V_ERR;
    long n = (long)num(x);
    return n & 1 ? V_TRUE : V_FALSE;
}

/* A call: arguments evaluated into a run-time-sized array, then the callee. */
NOINLINE static val ev_call(const expr *e, val *fr)
{
    val av[e->nargs];
    for (int i = 0; i < e->nargs; i++) {
        av[i] = e->args[i]->ev(e->args[i], fr);
        if (av[i] == V_ERR) return V_ERR;
    }
    return call_func(e->fn, av);
}

NOINLINE static enum status ex_assign(const stmt *s, val *fr, val *out)
{
    (void)out;
    val v = s->e->ev(s->e, fr);
    if (v == V_ERR) return ST_ERROR;
    fr[s->slot] = v;
    return ST_NORMAL;
}
NOINLINE static enum status ex_return(const stmt *s, val *fr, val *out)
{
    val v = s->e->ev(s->e, fr);
    if (v == V_ERR) return ST_ERROR;
    *out = v;
    return ST_RETURN;
}
NOINLINE static enum status ex_if(const stmt *s, val *fr, val *out)
{
    val c = s->e->ev(s->e, fr);
    if (c == V_ERR) return ST_ERROR;
    const stmt *t = truthy(c) ? s->body : s->alt;
    return t ? t->ex(t, fr, out) : ST_NORMAL;
}
NOINLINE static enum status ex_while(const stmt *s, val *fr, val *out)
{
    for (;;) {
        val c = s->e->ev(s->e, fr);
        if (c == V_ERR) return ST_ERROR;
        if (!truthy(c)) return ST_NORMAL;
        enum status st = s->body->ex(s->body, fr, out);
        if (st != ST_NORMAL) return st;
    }
}
NOINLINE static enum status ex_block(const stmt *s, val *fr, val *out)
{
    for (int i = 0; i < s->n; i++) {
        enum status st = s->list[i]->ex(s->list[i], fr, out);
        if (st != ST_NORMAL) return st;
    }
    return ST_NORMAL;
}

/* The entry: run f on one number (the embedding's call into the program). */
NOINLINE static double nb_run(const func *f, double x)
{
    val a = box(x);
    val r = call_func(f, &a);
    return r == V_ERR ? -1e300 : is_num(r) ? num(r) : -2e300;
}

/* -- Building frozen programs ------------------------------------------------------------ *
 *
 * A program is staged in a pool and frozen in one piece with lf_freeze_with,
 * which tells where it will live: every pointer field was recorded when it
 * was set (pool.reloc), so the copy relocates exactly those words.  Scanning
 * the words instead would move NaN-boxed constants that look like pointers.
 * Staging also lets a function call itself: its call nodes point at the
 * function's staged struct before the body exists. */

#define POOL_BYTES (1 << 16)
static struct pool {
    _Alignas(16) unsigned char buf[POOL_BYTES];
    size_t used;
    size_t reloc[4096];
    int nreloc;
} pool;

static void *palloc(size_t n)
{
    size_t at = (pool.used + 15) & ~(size_t)15;
    if (at + n > POOL_BYTES) { fprintf(stderr, "nanbox: program too large\n"); exit(2); }
    pool.used = at + n;
    memset(pool.buf + at, 0, n);
    return pool.buf + at;
}
/* *field = target, remembered for relocation. */
static void setp(const void *field, const void *target)
{
    if (pool.nreloc == 4096) { fprintf(stderr, "nanbox: too many pointers\n"); exit(2); }
    memcpy((void *)field, &target, sizeof target);
    pool.reloc[pool.nreloc++] = (size_t)((const unsigned char *)field - pool.buf);
}
static void pool_fill(void *dst, uintptr_t at, void *ctx)
{
    (void)ctx;
    memcpy(dst, pool.buf, pool.used);
    for (int i = 0; i < pool.nreloc; i++) {
        uintptr_t w;
        memcpy(&w, (unsigned char *)dst + pool.reloc[i], sizeof w);
        if (w) w = w - (uintptr_t)pool.buf + at;
        memcpy((unsigned char *)dst + pool.reloc[i], &w, sizeof w);
    }
}
/* Freeze the staged program; the frozen twin of staged object p. */
static const void *pool_freeze(const void *p)
{
    unsigned char *f = lf_freeze_with(pool.used, pool_fill, NULL);
    if (!f) { fprintf(stderr, "nanbox: lf_freeze_with failed\n"); exit(2); }
    const void *r = f + ((const unsigned char *)p - pool.buf);
    pool.used = 0, pool.nreloc = 0;
    return r;
}

static const expr *E(eval_fn ev, int slot, val k, const expr *a, const expr *b)
{
    expr *e = palloc(sizeof *e);
    e->ev = ev, e->slot = slot, e->k = k;
    if (a) setp(&e->a, a);
    if (b) setp(&e->b, b);
    return e;
}
static const expr *K(double d) { return E(ev_const, 0, box(d), NULL, NULL); }
static const expr *L(int slot) { return E(ev_local, slot, 0, NULL, NULL); }
#define BIN(ev, a, b) E(ev, 0, 0, a, b)
static const expr *CALL(const func *f, int nargs, ...)
{
    expr *e = palloc(sizeof *e);
    const expr **args = palloc(sizeof *args * (size_t)nargs);
    va_list ap;
    va_start(ap, nargs);
    for (int i = 0; i < nargs; i++) setp(&args[i], va_arg(ap, const expr *));
    va_end(ap);
    e->ev = ev_call, e->nargs = nargs;
    setp(&e->args, args);
    setp(&e->fn, f);
    return e;
}
static const stmt *S(exec_fn ex, int slot, const expr *e, const stmt *body, const stmt *alt)
{
    stmt *s = palloc(sizeof *s);
    s->ex = ex, s->slot = slot;
    if (e) setp(&s->e, e);
    if (body) setp(&s->body, body);
    if (alt) setp(&s->alt, alt);
    return s;
}
#define ASSIGN(slot, e) S(ex_assign, slot, e, NULL, NULL)
#define RETURN(e) S(ex_return, 0, e, NULL, NULL)
#define IF(c, t, f) S(ex_if, 0, c, t, f)
#define WHILE(c, b) S(ex_while, 0, c, b, NULL)
static const stmt *BLOCK(int n, ...)
{
    stmt *s = palloc(sizeof *s);
    const stmt **list = palloc(sizeof *list * (size_t)n);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) setp(&list[i], va_arg(ap, const stmt *));
    va_end(ap);
    s->ex = ex_block, s->n = n;
    setp(&s->list, list);
    return s;
}
static func *FUNC(int nparams, int nslots)
{
    func *f = palloc(sizeof *f);
    f->nparams = nparams, f->nslots = nslots;
    return f;
}
static void BODY(func *f, const stmt *body) { setp(&f->body, body); }

static const func *prog_fib(void)
{
    func *fib = FUNC(1, 1);
    const expr *n = L(0);
    BODY(fib, IF(BIN(ev_lt, n, K(2)), RETURN(n),
                 RETURN(BIN(ev_add, CALL(fib, 1, BIN(ev_sub, n, K(1))), CALL(fib, 1, BIN(ev_sub, n, K(2)))))));
    return pool_freeze(fib);
}

static const func *prog_sumsq(void)   /* slots: n, s, i */
{
    func *f = FUNC(1, 3);
    BODY(f, BLOCK(4, ASSIGN(1, K(0)), ASSIGN(2, K(0)),
                  WHILE(BIN(ev_lt, L(2), L(0)),
                        BLOCK(2, ASSIGN(1, BIN(ev_add, L(1), BIN(ev_mul, L(2), L(2)))),
                              ASSIGN(2, BIN(ev_add, L(2), K(1))))),
                  RETURN(L(1))));
    return pool_freeze(f);
}

static const func *prog_collatz(void)   /* slots: n, steps; step(n) is a helper */
{
    func *step = FUNC(1, 1);
    BODY(step, IF(E(ev_odd, 0, 0, L(0), NULL), RETURN(BIN(ev_add, BIN(ev_mul, L(0), K(3)), K(1))),
                  RETURN(BIN(ev_mul, L(0), K(0.5)))));
    func *f = FUNC(1, 2);
    BODY(f, BLOCK(3, ASSIGN(1, K(0)),
                  WHILE(BIN(ev_lt, K(1), L(0)),
                        BLOCK(2, ASSIGN(0, CALL(step, 1, L(0))), ASSIGN(1, BIN(ev_add, L(1), K(1))))),
                  RETURN(L(1))));
    return pool_freeze(f);
}

static const func *prog_poly(void)   /* mix(a,b,c,d) = a*b - c + d*d, each argument a call */
{
    func *sq = FUNC(1, 2);   /* one spare local slot */
    BODY(sq, BLOCK(2, ASSIGN(1, BIN(ev_mul, L(0), L(0))), RETURN(L(1))));
    func *mix = FUNC(4, 6);
    BODY(mix, BLOCK(3, ASSIGN(4, BIN(ev_mul, L(0), L(1))), ASSIGN(5, BIN(ev_sub, L(4), L(2))),
                    RETURN(BIN(ev_add, L(5), CALL(sq, 1, L(3))))));
    func *f = FUNC(1, 1);
    const expr *n = L(0);
    BODY(f, RETURN(CALL(mix, 4, CALL(sq, 1, n), CALL(sq, 1, BIN(ev_add, n, K(1))),
                        CALL(sq, 1, BIN(ev_sub, n, K(3))), CALL(sq, 1, BIN(ev_mul, n, K(0.25))))));
    return pool_freeze(f);
}

static const func *prog_typeerr(void)   /* n + true when 3 < n: an error status */
{
    func *f = FUNC(1, 1);
    expr *t = (expr *)K(0);
    t->k = V_TRUE;
    BODY(f, IF(BIN(ev_lt, K(3), L(0)), RETURN(BIN(ev_add, L(0), t)), RETURN(BIN(ev_mul, L(0), L(0)))));
    return pool_freeze(f);
}

/* -- Checking ----------------------------------------------------------------------------- */

typedef double (*run_fn)(const func *f, double x);
static int failures;

static void check(const char *name, const func *f, const double *xs, int nx)
{
    run_fn opt = (run_fn)lf_optimize((void *)nb_run, f);
    const struct lf_report *r = lf_last_report();
    unsigned priv = r->frame_private, shared = r->frame_shared, bail = r->bailouts;
    int bad = 0;
    if ((void *)opt == (void *)nb_run) {
        printf("FAIL %s: not specialized: %s\n", name, r->reason);
        bad++;
    }
    for (int k = 0; k < nx && bad < 3; k++) {
        double want = nb_run(f, xs[k]), got = opt(f, xs[k]);
        if (memcmp(&want, &got, sizeof want) != 0) {
            printf("FAIL %s: x=%g: closures give %.17g, specialized %.17g\n", name, xs[k], want, got);
            bad++;
        }
    }
    failures += bad;
    printf("%s %s: frame accesses %u private, %u shared; %u bailouts\n", bad ? "bad " : "ok  ", name, priv,
           shared, bail);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Program `name` run on n, n+1, ..., n+reps-1 with the closures and
 * specialized; the sums of the results must agree. */
static int bench(const char *name, double n, int reps)
{
    const func *f = !strcmp(name, "fib") ? prog_fib() : !strcmp(name, "sumsq") ? prog_sumsq()
                  : !strcmp(name, "collatz") ? prog_collatz() : !strcmp(name, "poly") ? prog_poly() : NULL;
    if (!f || reps < 1) { fprintf(stderr, "nanbox: bench fib|sumsq|collatz|poly N [REPS]\n"); return 2; }
    run_fn opt = (run_fn)lf_optimize((void *)nb_run, f);
    const struct lf_report *r = lf_last_report();
    printf("specialized: frame accesses %u private, %u shared; lift %.1f ms\n", r->frame_private,
           r->frame_shared, r->ms_lift);
    double a = 0, b = 0, t0 = now_s();
    for (int k = 0; k < reps; k++) a += nb_run(f, n + k);
    double t1 = now_s();
    for (int k = 0; k < reps; k++) b += opt(f, n + k);
    double t2 = now_s();
    printf("%s(%g) x%d: closures %.3f s, specialized %.3f s, ratio %.2fx (%s)\n", name, n, reps, t1 - t0,
           t2 - t1, (t1 - t0) / (t2 - t1), a == b ? "same results" : "RESULTS DIFFER");
    return a == b ? 0 : 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 3 && strcmp(argv[1], "bench") == 0) return bench(argv[2], atof(argv[3]), argc > 4 ? atoi(argv[4]) : 1);
    double xs[160];
    for (int k = 0; k < 160; k++) xs[k] = k < 120 ? k - 20 : (k - 120) * 0.375 - 3;
    double small[22];
    for (int k = 0; k < 22; k++) small[k] = k < 20 ? k : k == 20 ? 7.5 : -1;
    check("fib", prog_fib(), small, 22);
    check("sum of squares (while)", prog_sumsq(), xs, 160);
    double cz[60];
    for (int k = 0; k < 60; k++) cz[k] = k + 1;
    check("collatz (helper call in a loop)", prog_collatz(), cz, 60);
    check("calls as arguments of a call", prog_poly(), xs, 160);
    check("type error status", prog_typeerr(), xs, 160);
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
