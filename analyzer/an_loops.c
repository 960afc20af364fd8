/* an_loops.c -- dominator tree and natural loops of one function's CFG.
 *
 * Input: blocks and intra-function edges (to != AN_NONE) of an
 * an_cfg_build, the entry block.  Output: blocks[].idom, blocks[].loop,
 * blocks[].loop_depth and the loops vector (struct an_loop, member lists in
 * the binary's arena).
 *
 * Method: reverse post-order by an iterative DFS from the entry; immediate
 * dominators by the iterative algorithm of Cooper, Harvey and Kennedy
 * ("A Simple, Fast Dominance Algorithm"); a back edge is u -> h with h
 * dominating u; the natural loop of header h is h plus every block that
 * reaches a back-edge source without passing through h (back edges sharing
 * a header make one loop).
 *
 * Invariants:
 *   1. Blocks unreachable from the entry keep idom = AN_NONE and are in no
 *      loop.  Irreducible cycles (no dominating header) are not loops.
 *   2. loops[] is sorted by decreasing size, so an enclosing loop comes
 *      before the loops it contains; depth(outermost) = 1. */
#include "analyzer/an_internal.h"

#include <stdlib.h>
#include <string.h>

struct an_graph {
    unsigned n;
    uint32_t *succ_off, *succ, *pred_off, *pred;
    uint32_t *rpo, *rpo_ix, n_rpo;
    uint32_t *idom;
};

static void an_graph_free(struct an_graph *g)
{
    free(g->succ_off); free(g->succ); free(g->pred_off); free(g->pred);
    free(g->rpo); free(g->rpo_ix); free(g->idom);
}

static int an_graph_build(struct an_graph *g, const struct an_cfg_build *cb)
{
    const struct an_edge *e = cb->edges.data;
    unsigned n = g->n = (unsigned)cb->blocks.n;
    size_t ne = 0;
    g->succ_off = calloc(n + 1, sizeof *g->succ_off);
    g->pred_off = calloc(n + 1, sizeof *g->pred_off);
    g->rpo = malloc((n + 1) * sizeof *g->rpo);
    g->rpo_ix = malloc((n + 1) * sizeof *g->rpo_ix);
    g->idom = malloc((n + 1) * sizeof *g->idom);
    if (!g->succ_off || !g->pred_off || !g->rpo || !g->rpo_ix || !g->idom) return -1;
    for (size_t i = 0; i < cb->edges.n; i++)
        if (e[i].to != AN_NONE) { g->succ_off[e[i].from + 1]++; g->pred_off[e[i].to + 1]++; ne++; }
    for (unsigned i = 0; i < n; i++) { g->succ_off[i + 1] += g->succ_off[i]; g->pred_off[i + 1] += g->pred_off[i]; }
    g->succ = malloc((ne + 1) * sizeof *g->succ);
    g->pred = malloc((ne + 1) * sizeof *g->pred);
    uint32_t *fs = malloc((n + 1) * sizeof *fs), *fp = malloc((n + 1) * sizeof *fp);
    if (!g->succ || !g->pred || !fs || !fp) { free(fs); free(fp); return -1; }
    memcpy(fs, g->succ_off, n * sizeof *fs);
    memcpy(fp, g->pred_off, n * sizeof *fp);
    for (size_t i = 0; i < cb->edges.n; i++)
        if (e[i].to != AN_NONE) { g->succ[fs[e[i].from]++] = e[i].to; g->pred[fp[e[i].to]++] = e[i].from; }
    free(fs);
    free(fp);
    return 0;
}

/* Iterative DFS post-order, reversed. */
static int an_rpo(struct an_graph *g, uint32_t entry)
{
    uint32_t *stack = malloc((g->n + 1) * sizeof *stack), *next = calloc(g->n + 1, sizeof *next);
    uint8_t *vis = calloc(g->n + 1, 1);
    if (!stack || !next || !vis) { free(stack); free(next); free(vis); return -1; }
    unsigned sp = 0, post = 0;
    for (unsigned i = 0; i < g->n; i++) g->rpo_ix[i] = AN_NONE;
    stack[sp++] = entry;
    vis[entry] = 1;
    while (sp) {
        uint32_t v = stack[sp - 1];
        if (g->succ_off[v] + next[v] < g->succ_off[v + 1]) {
            uint32_t w = g->succ[g->succ_off[v] + next[v]++];
            if (!vis[w]) { vis[w] = 1; stack[sp++] = w; }
        } else {
            g->rpo[post++] = v;
            sp--;
        }
    }
    for (unsigned i = 0; i < post / 2; i++) { uint32_t t = g->rpo[i]; g->rpo[i] = g->rpo[post - 1 - i]; g->rpo[post - 1 - i] = t; }
    for (unsigned i = 0; i < post; i++) g->rpo_ix[g->rpo[i]] = i;
    g->n_rpo = post;
    free(stack); free(next); free(vis);
    return 0;
}

static void an_dominators(struct an_graph *g, uint32_t entry)
{
    for (unsigned i = 0; i < g->n; i++) g->idom[i] = AN_NONE;
    g->idom[entry] = entry;
    for (int changed = 1; changed;) {
        changed = 0;
        for (unsigned r = 1; r < g->n_rpo; r++) {
            uint32_t b = g->rpo[r], nd = AN_NONE;
            for (uint32_t k = g->pred_off[b]; k < g->pred_off[b + 1]; k++) {
                uint32_t p = g->pred[k];
                if (g->idom[p] == AN_NONE) continue;
                if (nd == AN_NONE) { nd = p; continue; }
                uint32_t x = p, y = nd;
                while (x != y) {
                    while (g->rpo_ix[x] > g->rpo_ix[y]) x = g->idom[x];
                    while (g->rpo_ix[y] > g->rpo_ix[x]) y = g->idom[y];
                }
                nd = x;
            }
            if (nd != g->idom[b]) { g->idom[b] = nd; changed = 1; }
        }
    }
}

static int an_dominates(const struct an_graph *g, uint32_t h, uint32_t u)
{
    if (g->idom[u] == AN_NONE) return 0;
    for (;;) {
        if (u == h) return 1;
        if (g->idom[u] == u) return 0;
        u = g->idom[u];
    }
}

/* Body of the loop headed by h into mark[] (= stamp); returns its size. */
static unsigned an_loop_body(const struct an_graph *g, uint32_t h, uint32_t *mark, uint32_t stamp,
                             uint32_t *stack, unsigned *n_back)
{
    unsigned sp = 0, size = 1;
    mark[h] = stamp;
    *n_back = 0;
    for (uint32_t k = g->pred_off[h]; k < g->pred_off[h + 1]; k++) {
        uint32_t u = g->pred[k];
        if (!an_dominates(g, h, u)) continue;
        (*n_back)++;
        if (mark[u] != stamp) { mark[u] = stamp; stack[sp++] = u; size++; }
    }
    while (sp) {
        uint32_t v = stack[--sp];
        for (uint32_t k = g->pred_off[v]; k < g->pred_off[v + 1]; k++) {
            uint32_t u = g->pred[k];
            if (mark[u] != stamp && g->idom[u] != AN_NONE) { mark[u] = stamp; stack[sp++] = u; size++; }
        }
    }
    return size;
}

static int an_loop_cmp(const void *a, const void *b)
{
    const struct an_loop *x = a, *y = b;
    if (x->n_blocks != y->n_blocks) return x->n_blocks > y->n_blocks ? -1 : 1;
    return x->header < y->header ? -1 : x->header > y->header;
}

static int an_in_loop(const struct an_loop *l, uint32_t blk)
{
    size_t lo = 0, hi = l->n_blocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->blocks[mid] < blk) lo = mid + 1;
        else hi = mid;
    }
    return lo < l->n_blocks && l->blocks[lo] == blk;
}

static enum lf_status an_find_loops(struct an_bin *b, struct an_cfg_build *cb, const struct an_graph *g)
{
    uint32_t *mark = calloc(g->n + 1, sizeof *mark), *stack = malloc((g->n + 1) * sizeof *stack);
    if (!mark || !stack) { free(mark); free(stack); return LF_ERR_NOMEM; }
    enum lf_status st = LF_OK;
    for (uint32_t h = 0; h < g->n && st == LF_OK; h++) {
        unsigned nb;
        if (g->idom[h] == AN_NONE) continue;
        unsigned size = an_loop_body(g, h, mark, h + 1, stack, &nb);
        if (!nb) continue;
        struct an_loop *l = an_vec_push(&cb->loops);
        uint32_t *bl = an_alloc(&b->arena, size * sizeof *bl);
        if (!l || !bl) { st = LF_ERR_NOMEM; break; }
        unsigned k = 0;
        for (uint32_t v = 0; v < g->n; v++) if (mark[v] == h + 1) bl[k++] = v;
        *l = (struct an_loop){ h, AN_NONE, 1, nb, k, bl };
    }
    free(mark);
    free(stack);
    return st;
}

static void an_nest(struct an_cfg_build *cb)
{
    struct an_loop *l = cb->loops.data;
    struct an_block *bl = cb->blocks.data;
    if (cb->loops.n > 1) qsort(l, cb->loops.n, sizeof *l, an_loop_cmp);
    for (size_t i = 0; i < cb->loops.n; i++) {
        for (size_t j = i; j-- > 0;)
            if (l[j].n_blocks > l[i].n_blocks && an_in_loop(&l[j], l[i].header)) {
                l[i].parent = (uint32_t)j;
                l[i].depth = l[j].depth + 1;
                break;
            }
        for (unsigned k = 0; k < l[i].n_blocks; k++) {
            bl[l[i].blocks[k]].loop = (uint32_t)i;
            bl[l[i].blocks[k]].loop_depth = l[i].depth;
        }
    }
}

enum lf_status an_loops_compute(struct an_bin *b, struct an_cfg_build *cb, uint32_t entry)
{
    if (!cb->blocks.n || entry == AN_NONE) return LF_OK;
    struct an_graph g = { 0 };
    enum lf_status st = LF_OK;
    if (an_graph_build(&g, cb) < 0 || an_rpo(&g, entry) < 0) st = LF_ERR_NOMEM;
    if (st == LF_OK) {
        an_dominators(&g, entry);
        struct an_block *bl = cb->blocks.data;
        for (unsigned i = 0; i < g.n; i++) bl[i].idom = (i == entry) ? AN_NONE : g.idom[i];
        st = an_find_loops(b, cb, &g);
    }
    if (st == LF_OK) an_nest(cb);
    an_graph_free(&g);
    return st;
}
