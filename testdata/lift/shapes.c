/* shapes.c -- a statement interpreter of another design than closures.c,
 * on program shapes that defeat small budgets: NaN-boxed values, statements
 * that return a status (0 go on, 1 return, 2 break), children in an array
 * walked by a loop, closures made at run time (a heap object holding a
 * frozen body and a captured value).
 *
 * Built at test time by tests/test_lift_shapes.c with gcc and clang at -O2
 * and linked with liblineiform.a.  Each shape is a frozen statement tree run
 * on a fresh frame by the interpreter and by lf_optimize's code: the frames
 * must end equal.  One line per shape:
 *     ok   NAME interp N guarded G ratio R
 * with N = lf_report.interp_calls, G = its guard fallbacks, R = interpreter
 * time / specialized time.  Exit status 0 when every shape matches. */
#include <lineiform.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t val;                       /* a double, or a boxed pointer */
#define BOX_TAG 0xfff9000000000000ull       /* a quiet NaN no arithmetic makes */
static val dv(double d) { val v; memcpy(&v, &d, 8); return v; }
static double vd(val v) { double d; memcpy(&d, &v, 8); return d; }
static val box(const void *p) { return BOX_TAG | (uint64_t)(uintptr_t)p; }
static void *unbox(val v) { return (void *)(uintptr_t)(v & 0x0000ffffffffffffull); }

struct frame { val slot[8]; val ret; };
typedef struct stmt stmt;
typedef int (*exec_fn)(const stmt *s, struct frame *f);
struct stmt { exec_fn exec; int32_t n, a, b; double k; const stmt *kids[]; };
struct clo { const stmt *body; val captured; };   /* on the heap */

#define NOINLINE __attribute__((noinline))
#define EXEC(s, f) ((s)->exec((s), (f)))

NOINLINE static int st_block(const stmt *s, struct frame *f)
{
    for (int32_t i = 0; i < s->n; i++) {
        int st = EXEC(s->kids[i], f);
        if (st) return st;
    }
    return 0;
}
NOINLINE static int st_set(const stmt *s, struct frame *f) { f->slot[s->a] = dv(s->k); return 0; }
NOINLINE static int st_addk(const stmt *s, struct frame *f) { f->slot[s->a] = dv(vd(f->slot[s->a]) + s->k); return 0; }
NOINLINE static int st_add(const stmt *s, struct frame *f)
{
    f->slot[s->a] = dv(vd(f->slot[s->a]) + vd(f->slot[s->b]));
    return 0;
}
NOINLINE static int st_mod(const stmt *s, struct frame *f) { f->slot[s->a] = dv(fmod(vd(f->slot[s->b]), s->k)); return 0; }
NOINLINE static int st_while_lt(const stmt *s, struct frame *f)   /* while slot[a] < k: kids[0] */
{
    while (vd(f->slot[s->a]) < s->k) {
        int st = EXEC(s->kids[0], f);
        if (st == 2) break;
        if (st) return st;
    }
    return 0;
}
NOINLINE static int st_switch(const stmt *s, struct frame *f)    /* the first kid i == slot[a] */
{
    double x = vd(f->slot[s->a]);
    for (int32_t i = 0; i < s->n; i++)
        if (x == (double)i) return EXEC(s->kids[i], f);
    return 0;
}
NOINLINE static int st_mkclo(const stmt *s, struct frame *f)     /* slot[a] = closure(kids[0], slot[b]) */
{
    struct clo *c = malloc(sizeof *c);
    if (!c) abort();
    c->body = s->kids[0];
    c->captured = f->slot[s->b];
    f->slot[s->a] = box(c);
    return 0;
}
NOINLINE static int st_call(const stmt *s, struct frame *f)      /* slot[b] = slot[a](slot[b]) */
{
    const struct clo *c = unbox(f->slot[s->a]);
    struct frame g = { { c->captured, f->slot[s->b] }, dv(0) };
    int st = EXEC(c->body, &g);
    if (st > 1) return st;
    f->slot[s->b] = g.ret;
    return 0;
}
NOINLINE static int st_ret(const stmt *s, struct frame *f) { f->ret = f->slot[s->a]; return 1; }

/* -- Building trees ------------------------------------------------------------------- */

static const stmt *mk(exec_fn fn, int32_t a, int32_t b, double k, int n, const stmt *const *kids)
{
    size_t size = sizeof(stmt) + (size_t)n * sizeof(stmt *);
    stmt *s = calloc(1, size);
    if (!s) abort();
    s->exec = fn, s->n = n, s->a = a, s->b = b, s->k = k;
    if (n) memcpy(s->kids, kids, (size_t)n * sizeof *kids);
    const stmt *z = lf_freeze(s, size);
    free(s);
    if (!z) { fprintf(stderr, "lf_freeze failed\n"); exit(2); }
    return z;
}
static const stmt *leaf(exec_fn fn, int32_t a, int32_t b, double k) { return mk(fn, a, b, k, 0, NULL); }
static const stmt *one(exec_fn fn, int32_t a, int32_t b, double k, const stmt *kid) { return mk(fn, a, b, k, 1, &kid); }

/* slot[1] += slot[0]; slot[0] += 1 while slot[0] < trips */
static const stmt *hot_loop(int32_t trips)
{
    const stmt *body[2] = { leaf(st_add, 1, 0, 0), leaf(st_addk, 0, 0, 1) };
    return one(st_while_lt, 0, 0, trips, mk(st_block, 0, 0, 0, 2, body));
}

/* n statements, one of them (in the middle) the hot loop */
static const stmt *sequence(int n, int32_t trips)
{
    const stmt **k = malloc(sizeof *k * (size_t)n);
    for (int i = 0; i < n; i++) k[i] = i == n / 2 ? hot_loop(trips) : leaf(st_addk, 2 + i % 5, 0, i);
    const stmt *s = mk(st_block, 0, 0, 0, n, k);
    free(k);
    return s;
}

/* for slot[0] < trips: slot[2] = slot[0] mod n; switch slot[2] (each case adds to slot[3]) */
static const stmt *big_switch(int n, int32_t trips)
{
    const stmt **k = malloc(sizeof *k * (size_t)n);
    for (int i = 0; i < n; i++) k[i] = leaf(st_addk, 3, 0, 3 * i + 1);
    const stmt *body[3] = { leaf(st_mod, 2, 0, n), mk(st_switch, 2, 0, 0, n, k), leaf(st_addk, 0, 0, 1) };
    free(k);
    return one(st_while_lt, 0, 0, trips, mk(st_block, 0, 0, 0, 3, body));
}

/* slot[5] = closure(x -> captured + x) over slot[6] = 7; loop: slot[1] = f(slot[1]) */
static const stmt *closures(int32_t trips)
{
    const stmt *fb[2] = { leaf(st_add, 0, 1, 0), leaf(st_ret, 0, 0, 0) };
    const stmt *loop[2] = { leaf(st_call, 5, 1, 0), leaf(st_addk, 0, 0, 1) };
    const stmt *top[3] = { leaf(st_set, 6, 0, 7), one(st_mkclo, 5, 6, 0, mk(st_block, 0, 0, 0, 2, fb)),
                           one(st_while_lt, 0, 0, trips, mk(st_block, 0, 0, 0, 2, loop)) };
    return mk(st_block, 0, 0, 0, 3, top);
}

/* -- Running ----------------------------------------------------------------------------- */

static int failures;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double run(exec_fn fn, const stmt *root, struct frame *f)
{
    memset(f, 0, sizeof *f);
    double t0 = now_s();
    fn(root, f);
    return now_s() - t0;
}

static void shape(const char *name, const stmt *root)
{
    exec_fn opt = (exec_fn)lf_optimize((void *)root->exec, root);
    const struct lf_report *r = lf_last_report();
    struct frame want, got;
    double ti = run(root->exec, root, &want), tc = run(opt, root, &got);
    for (int k = 0; k < 8; k++)
        if (want.slot[k] != got.slot[k] && !(k == 5)) {   /* slot 5 holds a fresh heap address */
            printf("FAIL %s: slot %d: interpreter %g, specialized %g\n", name, k, vd(want.slot[k]), vd(got.slot[k]));
            failures++;
            return;
        }
    if ((void *)opt == (void *)root->exec) {
        printf("FAIL %s: not specialized: %s\n", name, r->reason);
        failures++;
        return;
    }
    printf("ok   %s interp %u guarded %u ratio %.1f\n", name, r->interp_calls, r->interp_guarded,
           ti / (tc > 0 ? tc : 1e-9));
    for (int k = 0; k < LF_REPORT_SITES && r->interp_top[k].sites; k++)
        printf("     %u in %s 0x%llx: %s\n", r->interp_top[k].sites, r->interp_top[k].fn_name,
               (unsigned long long)r->interp_top[k].fn, r->interp_top[k].why);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";
#define SHAPE(name, tree) if (!*only || !strcmp(only, name)) shape(name, tree)
    SHAPE("sequence_1000", sequence(1000, 2000000));
    SHAPE("sequence_5", sequence(5, 2000000));
    SHAPE("body_50", sequence(50, 2000000));
    SHAPE("switch_200", big_switch(200, 200000));
    SHAPE("switch_5", big_switch(5, 200000));
    SHAPE("closures_at_run_time", closures(2000000));
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
    return failures != 0;
}
