/* fuzz_lift.c -- libFuzzer target: random frozen closure trees, specialized
 * with lf_optimize, must compute what the closures compute.
 *
 * Input: bytes read as a preorder description of a tree over the kinds of
 * tests/fuzz/fuzz_lift_nodes.c (constants, the argument, arithmetic at
 * several widths, division, branches on the argument and on a child, loops
 * with a frozen and with an argument-dependent trip count, a child's value
 * passed to another child, a frozen environment chain, recursion through
 * the node itself, a C library call, a spilled node pointer) plus back
 * references to nodes already built (shared children).  Every node is
 * frozen with lf_freeze, so the tree is what an interpreter's compiler
 * leaves behind.  The trailing bytes give two of the inputs.
 *
 * Check: lf_optimize(root->fn, root) is called on the root; the code it
 * returns must give the closures' result on every input (12 fixed ones and
 * the two from the data), and a second lf_optimize must return the same
 * code.  A mismatch prints the tree and the input on stderr and aborts, so
 * libFuzzer saves the reproducer.  Every 2,000 trees (and at exit) one line
 * counts trees, specialized ones and ones returned as is, with the first
 * reason seen: a tree the lifter gives up on is named, not hidden.
 *
 * Bounds: at most 48 nodes and depth 8; a node whose estimated cost
 * (calls per evaluation, loops multiplied out) passes 200,000 is built as
 * a constant instead, so one input runs in milliseconds.
 *
 * Built by `make fuzz-lift` with the lifter, analyzer and runtime
 * instrumented (fuzzer coverage, ASan, UBSan); the node kinds are not. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"
#include "tests/fuzz/fuzz_lift.h"

#define FL_MAX_NODES 48
#define FL_MAX_DEPTH 8
#define FL_MAX_COST 200000.0

struct reader { const uint8_t *p, *end; };
static unsigned byte(struct reader *r) { return r->p < r->end ? *r->p++ : 0; }
static long word(struct reader *r)
{
    unsigned b = byte(r);
    if (b < 200) return (long)b - 100;                  /* small constants, mostly */
    long v = 0;
    for (int i = 0; i < 8; i++) v = (long)((unsigned long)v << 8 | byte(r));
    return v;
}

struct built { const struct fl_node *n; unsigned kind; double cost; int a, b; };
/* Past FL_MAX_NODES every new node is a leaf, but each ancestor still
 * being built (at most FL_MAX_DEPTH) may take a leaf for its second child
 * and a slot for itself. */
static struct built nodes[FL_MAX_NODES + 2 * FL_MAX_DEPTH + 2];
static int nnodes;
static const struct fl_env *chain;      /* a frozen env chain of depth 4 */

static const struct fl_node *freeze_node(const struct fl_node *n)
{
    const struct fl_node *f = lf_freeze(n, sizeof *n);
    if (!f) {
        perror("fuzz-lift: lf_freeze");
        abort();
    }
    return f;
}

/* Build one node from r; its index in nodes[]. */
static int build(struct reader *r, int depth)
{
    unsigned b = byte(r);
    if (b >= 240 && nnodes > 0) return (int)((b - 240) % (unsigned)nnodes);   /* shared child */
    unsigned kind = b % fl_nkinds;
    if (depth >= FL_MAX_DEPTH || nnodes >= FL_MAX_NODES) kind = b & 1;   /* a leaf: const or arg */
    int a = -1, c = -1;
    const struct fl_kind *k = &fl_kinds[kind];
    if (k->arity >= 1) a = build(r, depth + 1);
    if (k->arity >= 2) c = build(r, depth + 1);
    struct fl_node n = { k->fn, a >= 0 ? nodes[a].n : NULL, c >= 0 ? nodes[c].n : NULL, word(r), NULL, NULL };
    double ca = a >= 0 ? nodes[a].cost : 0, cc = c >= 0 ? nodes[c].cost : 0, cost = 1 + ca + cc;
    if (!strcmp(k->name, "sum")) cost = 1 + 15 * ca;
    if (!strcmp(k->name, "rep")) cost = 1 + 3 * ca;
    if (!strcmp(k->name, "fib")) cost = 2000;
    if (!strcmp(k->name, "var")) n.env = chain, n.k &= 7;
    if (cost > FL_MAX_COST) {   /* too slow to compare: a constant instead */
        kind = 0;
        n = (struct fl_node){ fl_kinds[0].fn, NULL, NULL, n.k, NULL, NULL };
        a = c = -1;
        cost = 1;
    }
    if (nnodes >= (int)(sizeof nodes / sizeof nodes[0])) abort();   /* the bound above is wrong */
    int i = nnodes++;
    nodes[i] = (struct built){ freeze_node(&n), kind, cost, a, c };
    return i;
}

static void print_tree(int i, int depth)
{
    const struct built *b = &nodes[i];
    fprintf(stderr, "(%s", fl_kinds[b->kind].name);
    if (b->n->k || fl_kinds[b->kind].arity < 2) fprintf(stderr, " %ld", b->n->k);
    if (depth > 20) { fprintf(stderr, " ...)"); return; }
    if (b->a >= 0) fputc(' ', stderr), print_tree(b->a, depth + 1);
    if (b->b >= 0) fputc(' ', stderr), print_tree(b->b, depth + 1);
    fputc(')', stderr);
}

static unsigned long trees, specialized, as_is;
static char first_reason[256];

static void say_counts(void)
{
    fprintf(stderr, "fuzz-lift: %lu trees, %lu specialized, %lu returned as is%s%s%s\n", trees, specialized, as_is,
            first_reason[0] ? " (first reason: " : "", first_reason, first_reason[0] ? ")" : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        ready = 1;
        struct fl_env e = { NULL, 1000 };
        chain = lf_freeze(&e, sizeof e);
        for (int d = 1; d <= 4 && chain; d++) {
            e = (struct fl_env){ chain, d * 10 };
            chain = lf_freeze(&e, sizeof e);
        }
        if (!chain) {
            perror("fuzz-lift: lf_freeze");
            abort();
        }
        atexit(say_counts);
    }
    if (size < 1) return 0;
    struct reader r = { data, data + size };
    nnodes = 0;
    int root = build(&r, 0);
    const struct fl_node *n = nodes[root].n;
    long xs[14] = { 0, 1, 2, 3, 5, 7, 15, -1, -2, -9, 100, LONG_MIN, LONG_MAX, 1L << 40 };
    if (size >= 2) xs[12] = (long)data[size - 1] - 128, xs[13] = (long)data[size - 2] * 977 - 50000;

    fl_fn opt = (fl_fn)lf_optimize((void *)n->fn, n);
    trees++;
    if (opt == n->fn) {
        as_is++;
        if (!first_reason[0]) snprintf(first_reason, sizeof first_reason, "%s", lf_last_report()->reason);
    } else {
        specialized++;
    }
    for (int k = 0; k < 14; k++) {
        long want = n->fn(n, xs[k]), got = opt(n, xs[k]);
        if (want != got) {
            fprintf(stderr, "fuzz-lift: MISMATCH at x=%ld: closures give %ld, specialized code %ld\ntree: ", xs[k],
                    want, got);
            print_tree(root, 0);
            fputc('\n', stderr);
            abort();
        }
    }
    if (lf_optimize((void *)n->fn, n) != (void *)opt) {
        fprintf(stderr, "fuzz-lift: a second lf_optimize of one tree returned other code\n");
        abort();
    }
    if (trees % 2000 == 0) say_counts();
    return 0;
}
