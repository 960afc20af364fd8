/* closures.c -- closure trees in the style of a closure-generating
 * interpreter, specialized with lf_optimize and compared with the original.
 *
 * Built at test time by tests/test_lift_closures.c with gcc and clang at
 * -O1/-O2/-O3 and linked with liblineiform.a.  `closures` runs every case:
 * for each, the specialized code must return what calling the closures
 * returns over many inputs, and (where the case says so) the returned code,
 * disassembled with Zydis, must hold no indirect call or jump whose target
 * is not a constant (i.e. nothing still goes through frozen memory).
 * `closures bench` times the 1000-node arithmetic tree instead.
 * Exit status 0 when everything holds; one line per failure otherwise. */
#include <Zydis/Zydis.h>
#include <lineiform.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct node node;
typedef long (*eval_fn)(const node *n, long x);
struct env { const struct env *up; long val; };
struct node {
    eval_fn fn;
    const node *l, *r;
    long k;
    const struct env *env;
    const char *s;
};

static int failures;
#define NOINLINE __attribute__((noinline))

/* -- Node kinds ------------------------------------------------------------------- */

NOINLINE static long ev_const(const node *n, long x) { (void)x; return n->k; }
NOINLINE static long ev_arg(const node *n, long x) { (void)n; return x; }
NOINLINE static long ev_add(const node *n, long x) { return n->l->fn(n->l, x) + n->r->fn(n->r, x); }
NOINLINE static long ev_sub(const node *n, long x) { return n->l->fn(n->l, x) - n->r->fn(n->r, x); }
NOINLINE static long ev_mul(const node *n, long x) { return n->l->fn(n->l, x) * n->r->fn(n->r, x); }
NOINLINE static long ev_div(const node *n, long x)
{
    long d = n->r->fn(n->r, x);
    return d ? n->l->fn(n->l, x) / d : 0;
}
NOINLINE static long ev_if(const node *n, long x)   /* branch on the argument */
{
    return x < n->k ? n->l->fn(n->l, x) : n->r->fn(n->r, x);
}
NOINLINE static long ev_sum(const node *n, long x)  /* loop: sum body(i), i < x */
{
    long s = 0;
    for (long i = 0; i < x; i++) s += n->l->fn(n->l, i);
    return s;
}
NOINLINE static long ev_rep(const node *n, long x)  /* loop with a frozen trip count */
{
    for (long i = 0; i < n->k; i++) x = n->l->fn(n->l, x);
    return x;
}
NOINLINE static long ev_var(const node *n, long x)  /* walk a frozen environment chain */
{
    const struct env *e = n->env;
    for (long d = n->k; d > 0; d--) e = e->up;
    return e->val + x;
}
NOINLINE static long ev_fib(const node *n, long x)  /* recursion through the node itself */
{
    if (x < n->k) return x;
    return n->fn(n, x - 1) + n->fn(n, x - 2);
}
NOINLINE static long ev_switch(const node *n, long x)
{
    switch (n->k) {
    case 0: return x + 1;
    case 1: return x * 3;
    case 2: return x - 7;
    case 3: return x ^ 0x55;
    case 4: return x << 2;
    case 5: return -x;
    case 6: return x / 3;
    default: return 0;
    }
}
NOINLINE static long ev_strlen(const node *n, long x) { return (long)strlen(n->s) + x; }
NOINLINE static long ev_spill(const node *n, long x)  /* env pointer forced to the stack */
{
    const node *volatile self = n;
    long a = self->l->fn(self->l, x);
    long b = self->r->fn(self->r, a);
    return a * b + self->k;
}

/* A buffer that escapes to libc (with arguments past the sixth, so a
 * va_list reaches the caller's stack words) while values live in the frame
 * across the calls: the frame split must keep the buffer in memory and may
 * promote the rest. */
NOINLINE static long ev_escape(const node *n, long x)
{
    char buf[48];
    long a = n->l->fn(n->l, x), b = n->r->fn(n->r, x);
    int len = snprintf(buf, sizeof buf, "%ld %ld %ld %ld %ld %ld %ld", a, b, x, n->k, a + b, a - b, a ^ b);
    long sum = 0;
    for (int i = 0; i < len && buf[i]; i++) sum = sum * 31 + buf[i];
    return sum + (long)strlen(buf) + a * b;
}

/* A VLA sized by the argument, unknown at lift time: gcc lowers rsp by a
 * register (`sub rsp, rax`); clang computes the new rsp in another
 * register and addresses the array through that register.  A native call
 * (snprintf) between filling and reading it uses the stack below rsp: the
 * array must be real stack memory above it. */
NOINLINE static long ev_vla(const node *n, long x)
{
    long m = (x & 7) + 1;
    long a[m];
    for (long i = 0; i < m; i++) a[i] = n->l->fn(n->l, x + i);
    char buf[24];
    long s = snprintf(buf, sizeof buf, "%ld", x);
    for (long i = 0; i < m; i++) s += a[i] * (i + 1);
    return s + buf[0];
}

typedef double (*deval_fn)(const void *n, double x);
struct dnode { deval_fn fn; const struct dnode *l, *r; double k; };
NOINLINE static double dv_const(const void *p, double x) { (void)x; return ((const struct dnode *)p)->k; }
NOINLINE static double dv_arg(const void *p, double x) { (void)p; return x; }
NOINLINE static double dv_add(const void *p, double x)
{
    const struct dnode *n = p;
    return n->l->fn(n->l, x) + n->r->fn(n->r, x);
}
NOINLINE static double dv_mul(const void *p, double x)
{
    const struct dnode *n = p;
    return n->l->fn(n->l, x) * n->r->fn(n->r, x);
}

/* -- Building frozen trees -------------------------------------------------------------- */

static const node *mk(eval_fn fn, const node *l, const node *r, long k)
{
    node n = { fn, l, r, k, NULL, NULL };
    const node *f = lf_freeze(&n, sizeof n);
    if (!f) { fprintf(stderr, "lf_freeze failed\n"); exit(2); }
    return f;
}

static unsigned long rng = 88172645463325252ull;
static unsigned long rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* A random arithmetic tree of exactly n nodes (n odd: binary nodes + leaves). */
static const node *tree(int n)
{
    if (n <= 1) return rnd() % 3 ? mk(ev_arg, NULL, NULL, 0) : mk(ev_const, NULL, NULL, (long)(rnd() % 17) - 8);
    int left = 1 + 2 * (int)(rnd() % (unsigned)((n - 1) / 2));
    int right = n - 1 - left;
    if (right < 1) right = 1, left = n - 2;
    static const eval_fn ops[] = { ev_add, ev_sub, ev_mul, ev_add };
    return mk(ops[rnd() % 4], tree(left), tree(right), 0);
}

/* -- Checking ----------------------------------------------------------------------------- */

/* Every indirect call/jmp in the code reachable from entry must take its
 * target from a register loaded with a constant on the path walked to it
 * (a register loaded before a branch keeps it at the branch's target:
 * two calls of one function may share the load). */
static int only_direct(const void *entry, char *why, size_t whylen)
{
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    const uint8_t *todo[4096];
    uint64_t todo_konst[4096];   /* konst where the branch to it was taken */
    const uint8_t *seen[16384];
    int ntodo = 0, nseen = 0;
    todo_konst[ntodo] = 0;
    todo[ntodo++] = entry;
    while (ntodo > 0 && nseen < 16000) {
        const uint8_t *p = todo[--ntodo];
        uint64_t konst = todo_konst[ntodo];   /* 64-bit registers (bit = Zydis id) holding an immediate */
        for (int steps = 0; steps < 100000; steps++) {
            int dup = 0;
            for (int k = 0; k < nseen && !dup; k++) dup = seen[k] == p;
            if (dup || nseen >= 16000) break;
            seen[nseen++] = p;
            ZydisDecodedInstruction in;
            ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
            if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, p, 15, &in, op))) break;
            int is_jmp = in.meta.category == ZYDIS_CATEGORY_UNCOND_BR;
            int is_call = in.meta.category == ZYDIS_CATEGORY_CALL;
            int is_cond = in.meta.category == ZYDIS_CATEGORY_COND_BR;
            if ((is_jmp || is_call) && op[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
                snprintf(why, whylen, "indirect %s through memory at %p", is_call ? "call" : "jmp", (const void *)p);
                return 0;
            }
            if ((is_jmp || is_call) && op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                !((konst >> ZydisRegisterGetId(op[0].reg.value)) & 1)) {
                snprintf(why, whylen, "indirect %s through a computed register at %p",
                         is_call ? "call" : "jmp", (const void *)p);
                return 0;
            }
            for (unsigned k = 0; k < in.operand_count; k++) {
                if (op[k].type != ZYDIS_OPERAND_TYPE_REGISTER || !(op[k].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
                    continue;
                ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, op[k].reg.value);
                if (ZydisRegisterGetClass(big) != ZYDIS_REGCLASS_GPR64) continue;
                konst &= ~(1ull << ZydisRegisterGetId(big));
                if (k == 0 && in.mnemonic == ZYDIS_MNEMONIC_MOV && op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                    op[0].size >= 32)
                    konst |= 1ull << ZydisRegisterGetId(big);
            }
            const uint8_t *next = p + in.length;
            if ((is_cond || is_call || is_jmp) && op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ntodo < 4096) {
                todo_konst[ntodo] = is_call ? 0 : konst;   /* a callee starts afresh */
                todo[ntodo++] = next + op[0].imm.value.s;
            }
            if (in.mnemonic == ZYDIS_MNEMONIC_RET || is_jmp || in.mnemonic == ZYDIS_MNEMONIC_UD2) break;
            p = next;
        }
    }
    return 1;
}

static void check(const char *name, const node *root, const long *xs, int nx, int want_direct)
{
    eval_fn opt = (eval_fn)lf_optimize((void *)root->fn, root);
    const struct lf_report *r = lf_last_report();
    int bad = 0;
    for (int k = 0; k < nx && bad < 3; k++) {
        long want = root->fn(root, xs[k]), got = opt(root, xs[k]);
        if (want != got) {
            printf("FAIL %s: x=%ld: closures give %ld, specialized %ld\n", name, xs[k], want, got);
            bad++;
        }
    }
    char why[160] = "";
    if (!bad && want_direct && (void *)opt == (void *)root->fn) {
        printf("FAIL %s: not specialized: %s\n", name, r->reason);
        bad++;
    } else if (!bad && want_direct && !only_direct((const void *)opt, why, sizeof why)) {
        printf("FAIL %s: %s\n", name, why);
        bad++;
    }
    if (lf_optimize((void *)root->fn, root) != (void *)opt) {
        printf("FAIL %s: a second lf_optimize returned other code\n", name);
        bad++;
    }
    failures += bad;
    if (!bad) printf("ok   %s\n", name);
}

static void check_double(void)
{
    struct dnode c = { dv_const, NULL, NULL, 1.5 }, a = { dv_arg, NULL, NULL, 0 };
    const struct dnode *fc = lf_freeze(&c, sizeof c), *fa = lf_freeze(&a, sizeof a);
    struct dnode m = { dv_mul, fa, fa, 0 };
    const struct dnode *fm = lf_freeze(&m, sizeof m);
    struct dnode s = { dv_add, fm, fc, 0 };
    const struct dnode *root = lf_freeze(&s, sizeof s);
    deval_fn opt = (deval_fn)lf_optimize((void *)root->fn, root);
    for (int k = -20; k <= 20; k++) {
        double x = k * 0.37, want = root->fn(root, x), got = opt(root, x);
        if (memcmp(&want, &got, sizeof want) != 0) {
            printf("FAIL doubles: x=%g: %g vs %g\n", x, want, got);
            failures++;
            return;
        }
    }
    printf("ok   doubles (%s)\n", (void *)opt == (void *)root->fn ? "not specialized" : "specialized");
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int bench(void)
{
    const node *root = tree(1001);
    eval_fn opt = (eval_fn)lf_optimize((void *)root->fn, root);
    const struct lf_report *r = lf_last_report();
    printf("specialize: lift %.1f ms, opt %.1f ms, codegen %.1f ms; %u specializations, "
           "%u insns lifted, %u inlined, %u native calls, %u bailouts\n",
           r->ms_lift, r->ms_opt, r->ms_codegen, r->specializations, r->insns_lifted, r->inlined,
           r->native_calls, r->bailouts);
    /* CPU time of this thread, best of five alternating rounds: on a shared
     * machine a round can lose its core for longer than it runs. */
    long acc1 = 0, acc2 = 0;
    int iters = 20000;
    double best1 = 1e30, best2 = 1e30;
    for (int round = 0; round < 5; round++) {
        acc1 = acc2 = 0;
        double t0 = now_s();
        for (int k = 0; k < iters; k++) acc1 += root->fn(root, k & 63);
        double t1 = now_s();
        for (int k = 0; k < iters; k++) acc2 += opt(root, k & 63);
        double t2 = now_s();
        if (t1 - t0 < best1) best1 = t1 - t0;
        if (t2 - t1 < best2) best2 = t2 - t1;
    }
    double t0 = 0, t1 = best1, t2 = best1 + best2;
    printf("closures %.1f ns/call, specialized %.1f ns/call, ratio %.1fx (%s)\n",
           (t1 - t0) / iters * 1e9, (t2 - t1) / iters * 1e9, (t1 - t0) / (t2 - t1),
           acc1 == acc2 ? "same results" : "RESULTS DIFFER");
    return acc1 == acc2 ? 0 : 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "bench") == 0) return bench();
    long xs[201];
    for (int k = 0; k < 201; k++) xs[k] = k - 100;
    long small[25];
    for (int k = 0; k < 25; k++) small[k] = k;

    const node *arg = mk(ev_arg, NULL, NULL, 0), *seven = mk(ev_const, NULL, NULL, 7);
    check("constant", seven, xs, 201, 1);
    check("argument", arg, xs, 201, 1);
    check("add", mk(ev_add, arg, seven, 0), xs, 201, 1);
    check("div by a closure", mk(ev_div, mk(ev_mul, arg, arg, 0), mk(ev_sub, arg, seven, 0), 0), xs, 201, 1);
    check("deep tree (1000 nodes)", tree(1001), xs, 201, 1);
    check("branch on the argument", mk(ev_if, mk(ev_mul, arg, arg, 0), mk(ev_add, arg, seven, 0), 3), xs, 201, 1);
    check("loop sum 0..n", mk(ev_sum, mk(ev_mul, arg, mk(ev_const, NULL, NULL, 3), 0), NULL, 0), xs, 201, 1);
    check("loop with frozen trip count", mk(ev_rep, mk(ev_add, arg, arg, 0), NULL, 5), xs, 201, 1);
    struct env e0 = { NULL, 1000 };
    const struct env *fe = lf_freeze(&e0, sizeof e0);
    for (int d = 1; d <= 4; d++) {
        struct env e = { fe, d };
        fe = lf_freeze(&e, sizeof e);
    }
    node v = { ev_var, NULL, NULL, 4, fe, NULL };
    check("variable lookup in a frozen env chain", lf_freeze(&v, sizeof v), xs, 201, 1);
    check("recursion (fib)", mk(ev_fib, NULL, NULL, 2), small, 25, 1);
    for (long tag = 0; tag < 7; tag++) {
        char name[64];
        snprintf(name, sizeof name, "switch on frozen tag %ld", tag);
        check(name, mk(ev_switch, NULL, NULL, tag), xs, 201, 1);
    }
    static const char text[] = "closure generation";
    const char *ftext = lf_freeze(text, sizeof text);
    node sl = { ev_strlen, NULL, NULL, 0, NULL, ftext };
    check("libc call (strlen)", lf_freeze(&sl, sizeof sl), xs, 201, 1);
    check("env pointer spilled to the stack", mk(ev_spill, mk(ev_add, arg, seven, 0), mk(ev_mul, arg, arg, 0), 5),
          xs, 201, 1);
    check("VLA of run-time size", mk(ev_vla, mk(ev_mul, arg, seven, 0), NULL, 0), xs, 201, 0);
    const node *esc = mk(ev_escape, mk(ev_add, arg, seven, 0), mk(ev_mul, arg, arg, 0), 11);
    check("buffer escaping to snprintf", esc, xs, 201, 0);   /* snprintf is called natively */
    const node *esc2 = mk(ev_escape, mk(ev_add, arg, seven, 0), mk(ev_mul, arg, arg, 0), 12);
    lf_optimize((void *)esc2->fn, esc2);   /* a fresh lift (check's report is the cached one) */
    if (lf_last_report()->frame_private == 0) {
        printf("FAIL buffer escaping to snprintf: no frame access promoted (%u kept in memory)\n",
               lf_last_report()->frame_shared);
        failures++;
    }
    check_double();
    void *same = lf_optimize((void *)ev_add, NULL);
    if (lf_optimize(NULL, NULL) != NULL || !same) { printf("FAIL NULL handling\n"); failures++; }
    /* Not code of any object, or code the lifter refuses: fn itself, with a reason. */
    void *junk = (void *)(uintptr_t)0x1234;
    if (lf_optimize(junk, NULL) != junk || !lf_last_report()->reason[0]) {
        printf("FAIL a non-code pointer is not returned as is\n");
        failures++;
    }
    size_t (*len)(const char *) = (size_t (*)(const char *))lf_optimize((void *)strlen, ftext);
    if (len(ftext) != strlen(ftext)) { printf("FAIL libc's strlen through lf_optimize\n"); failures++; }
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
