/* frames.c -- closure bodies with the stack frames interpreters build,
 * specialized with lf_optimize and compared with the original.
 *
 * Built at test time by tests/test_lift_interp.c with gcc and clang at
 * -O1/-O2/-O3 and linked with liblineiform.a.  Each case is a frozen
 * closure tree whose nodes use a frame shape the lifter must see through
 * without bailing out:
 *   - an argument buffer sized by a frozen count (a VLA: `sub rsp, rax`,
 *     then `lea rsp, [rbp-k]` in the epilogue), filled by a loop that ends
 *     on a pointer comparison inside the buffer, handed to a primitive;
 *   - the same nested, so one VLA frame is inlined inside another;
 *   - a frame of locals sized by a frozen count, escaping into the body;
 *   - a VLA in an inner scope holding a callee's frame (rsp saved and
 *     restored around it), alone and after a sibling call whose local
 *     buffer escaped to libc at the same stack offsets;
 *   - a jump table indexed by a 16-bit tag in mutable memory, whose bound
 *     check compares the memory word itself (`cmpw $6, (%rsi); ja`).
 * A case passes when the specialized code returns what the closures return
 * over many inputs, lf_optimize specialized it (did not return fn itself)
 * and the report counts no bailout.  Exit status 0 when every case passes;
 * one line per failure otherwise. */
#include <lineiform.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define MAXARG 4

typedef struct node node;
typedef long (*eval_fn)(const node *n, long *env);
typedef long (*prim_fn)(int argc, const long *argv);
struct node {
    eval_fn fn;
    int n;                      /* argument count / frame size */
    int heap;                   /* frame: allocate it elsewhere when set */
    prim_fn prim;
    const node *arg[MAXARG];    /* arguments; the body is arg[0] */
    long k;
};

static int failures;

/* -- Primitives: called with a pointer into the caller's frame ------------------------- */

NOINLINE static long p_sum(int argc, const long *argv)
{
    long s = 0;
    for (int i = 0; i < argc; i++) s += argv[i];
    return s;
}
NOINLINE static long p_poly(int argc, const long *argv)  /* argv[0] * argv[1] - argv[argc-1] */
{
    return argc < 2 ? argv[0] : argv[0] * argv[1] - argv[argc - 1];
}

/* -- Node kinds --------------------------------------------------------------------------- */

NOINLINE static long ev_const(const node *n, long *env) { (void)env; return n->k; }
NOINLINE static long ev_local(const node *n, long *env) { return env[n->k]; }
NOINLINE static long ev_prim(const node *n, long *env)   /* the VLA argument buffer */
{
    long buf[n->n > 0 ? n->n : 1];
    for (int i = 0; i < n->n; i++) buf[i] = n->arg[i]->fn(n->arg[i], env);
    return n->prim(n->n, buf);
}
NOINLINE static long ev_frame(const node *n, long *env)  /* locals sized by a frozen count */
{
    long buf[n->n + 1];
    long *f = n->heap ? malloc(sizeof(long) * (size_t)(n->n + 1)) : buf;
    f[0] = env[0];
    for (int i = 1; i <= n->n; i++) f[i] = env[0] + i;
    long r = n->arg[0]->fn(n->arg[0], f);
    if (n->heap) free(f);
    return r;
}

struct vframe { long *up; long s[]; };
NOINLINE static long ev_enter(const node *n, long *env)  /* a callee frame in a scoped VLA */
{
    long r;
    if (n->heap) return 0;
    {
        long buf[n->n + 1];
        struct vframe *nf = (struct vframe *)buf;
        nf->up = env;
        for (int i = 0; i < n->n; i++) nf->s[i] = n->arg[i + 1] ? n->arg[i + 1]->fn(n->arg[i + 1], env) : 0x1a;
        r = n->arg[0]->fn(n->arg[0], nf->s);
    }
    if (r == 50) r = n->k;
    return r;
}
NOINLINE static long ev_fmt(const node *n, long *env)  /* a local buffer escapes to libc */
{
    char text[48];
    snprintf(text, sizeof text, "%ld:%ld", env[0], n->k);
    return (long)strlen(text);
}
NOINLINE static long ev_seq(const node *n, long *env)
{
    long a = n->arg[0]->fn(n->arg[0], env);
    return a * 100 + n->arg[1]->fn(n->arg[1], env);
}

struct obj { uint16_t tag; long v; };
NOINLINE static long ev_tag(const node *n, long *env)  /* switch on a tag in mutable memory */
{
    const struct obj *o = (const struct obj *)env[4];
    switch (o->tag) {
    case 0: return o->v + n->k;
    case 1: return o->v * 3;
    case 2: return o->v - 7;
    case 3: return o->v ^ 0x55;
    case 4: return n->arg[0]->fn(n->arg[0], env);
    case 5: return -o->v;
    case 6: return o->v / 3;
    default: return 0;
    }
}

/* -- Building frozen trees ----------------------------------------------------------------- */

static const node *mk(eval_fn fn, int nargs, prim_fn prim, const node *a0, const node *a1,
                      const node *a2, long k)
{
    node n = { fn, nargs, 0, prim, { a0, a1, a2, NULL }, k };
    const node *f = lf_freeze(&n, sizeof n);
    if (!f) { fprintf(stderr, "lf_freeze failed\n"); exit(2); }
    return f;
}

/* -- Checking -------------------------------------------------------------------------------- */

static void check(const char *name, const node *root)
{
    eval_fn opt = (eval_fn)lf_optimize((void *)root->fn, root);
    const struct lf_report *r = lf_last_report();
    int bad = 0;
    for (long x = -50; x <= 50 && bad < 3; x++) {
        struct obj o = { (uint16_t)((x + 50) % 9), x };
        long env[8] = { x, x * 3, -x, 7, (long)&o };
        long want = root->fn(root, env), got = opt(root, env);
        if (want != got) {
            printf("FAIL %s: x=%ld: closures give %ld, specialized %ld\n", name, x, want, got);
            bad++;
        }
    }
    if (!bad && (void *)opt == (void *)root->fn) {
        printf("FAIL %s: not specialized: %s\n", name, r->reason);
        bad++;
    } else if (!bad && r->bailouts) {
        printf("FAIL %s: %u bailout(s): %s\n", name, r->bailouts, r->reason);
        bad++;
    }
    failures += bad;
    if (!bad) printf("ok   %s\n", name);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const node *x = mk(ev_local, 0, NULL, NULL, NULL, NULL, 0);
    const node *y = mk(ev_local, 0, NULL, NULL, NULL, NULL, 1);
    const node *five = mk(ev_const, 0, NULL, NULL, NULL, NULL, 5);

    check("VLA argument buffer filled by a loop", mk(ev_prim, 3, p_sum, x, y, five, 0));
    const node *inner = mk(ev_prim, 2, p_poly, x, five, NULL, 0);
    check("VLA frame inlined inside a VLA frame", mk(ev_prim, 3, p_sum, inner, y, inner, 0));
    const node *body = mk(ev_prim, 3, p_poly, mk(ev_local, 0, NULL, NULL, NULL, NULL, 2),
                          mk(ev_local, 0, NULL, NULL, NULL, NULL, 3), x, 0);
    check("frame of locals sized by a frozen count", mk(ev_frame, 3, NULL, body, NULL, NULL, 0));
    const node *callee = mk(ev_prim, 2, p_poly, x, y, NULL, 0);
    const node *enter1 = mk(ev_enter, 2, NULL, callee, x, five, 9);
    check("scoped VLA frame of a callee", enter1);
    check("a sibling's escaped buffer, then a VLA frame",
          mk(ev_seq, 0, NULL, mk(ev_fmt, 0, NULL, NULL, NULL, NULL, 77), mk(ev_enter, 2, NULL, enter1, y, x, 3), NULL, 0));
    check("switch on a 16-bit tag the bound check reads from memory", mk(ev_tag, 0, NULL, body, NULL, NULL, 2));
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
