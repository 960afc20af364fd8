/* equal.c -- equal?: structural equality that terminates on circular data
 * and takes time linear in the size of shared (DAG) data.
 *
 * Two passes (after Adams and Dybvig, "Efficient nondestructive equality
 * checking for trees and graphs", ICFP 2008):
 *   1. a plain recursive comparison with a budget of LV_EQUAL_BUDGET pairs
 *      and vector elements: what almost every call needs, no allocation;
 *   2. when the budget runs out, the comparison starts again with a
 *      union-find over the pairs, vectors and strings met: a pair of
 *      objects already joined is taken as equal (so a cycle, or a shared
 *      subtree compared once already, ends there), else they are joined and
 *      compared.  Joining only ever asserts what is being checked, so a
 *      difference found anywhere still makes the answer false.
 * Input: two values.  Output: 1 if equal?.  The union-find table is
 * malloc'd for the call and freed.
 */
#include "lisp.h"

#include <stdlib.h>
#include <string.h>

#define LV_EQUAL_BUDGET 100000

static int leaf_equal(value a, value b, int *done)
{
    *done = 1;
    if (lv_eqv(a, b)) return 1;
    if ((STRP(a) && STRP(b)) || (BVECP(a) && BVECP(b)))
        return HDR(a)->len == HDR(b)->len && memcmp(STR(a)->s, STR(b)->s, HDR(a)->len) == 0;
    if ((PAIRP(a) && PAIRP(b)) || (VECP(a) && VECP(b) && HDR(a)->len == HDR(b)->len)) {
        *done = 0;
        return 0;
    }
    return 0;
}

/* Pass 1: 1 equal, 0 not, -1 budget exhausted. */
static int bounded(value a, value b, long *budget)
{
    char here;
    LV_STACK_CHECK(&here);
    for (;;) {
        int done, r = leaf_equal(a, b, &done);
        if (done) return r;
        if (--*budget < 0) return -1;
        if (PAIRP(a)) {
            int c = bounded(CAR(a), CAR(b), budget);
            if (c != 1) return c;
            a = CDR(a);
            b = CDR(b);
            continue;
        }
        uint32_t n = HDR(a)->len;
        for (uint32_t i = 0; i < n; i++) {
            int c = bounded(VEC(a)->v[i], VEC(b)->v[i], budget);
            if (c != 1) return c;
        }
        return 1;
    }
}

/* -- Pass 2: union-find keyed by object address ------------------------------ */

struct uf_ent { value key; size_t parent; };
struct uf { struct uf_ent *t; size_t cap, n; };

static size_t uf_slot(struct uf *u, value k);

static void uf_grow(struct uf *u)
{
    struct uf old = *u;
    u->cap = old.cap ? old.cap * 2 : 1024;
    u->t = calloc(u->cap, sizeof *u->t);
    if (!u->t) lv_die(lv_nopos, "equal?: out of memory");
    u->n = 0;
    /* Parents are slot numbers: re-insert keys, then map the parents. */
    size_t *map = malloc((old.cap ? old.cap : 1) * sizeof *map);
    if (!map) lv_die(lv_nopos, "equal?: out of memory");
    for (size_t i = 0; i < old.cap; i++)
        if (old.t[i].key) map[i] = uf_slot(u, old.t[i].key);
    for (size_t i = 0; i < old.cap; i++)
        if (old.t[i].key) u->t[map[i]].parent = map[old.t[i].parent];
    free(map);
    free(old.t);
}

/* The slot of k, made (its own root) if new. */
static size_t uf_slot(struct uf *u, value k)
{
    if (2 * (u->n + 1) > u->cap) uf_grow(u);
    size_t i = (size_t)((k >> 3) * 0x9E3779B97F4A7C15u) & (u->cap - 1);
    while (u->t[i].key && u->t[i].key != k) i = (i + 1) & (u->cap - 1);
    if (!u->t[i].key) {
        u->t[i].key = k;
        u->t[i].parent = i;
        u->n++;
    }
    return i;
}

static size_t uf_find(struct uf *u, size_t i)
{
    while (u->t[i].parent != i) {
        u->t[i].parent = u->t[u->t[i].parent].parent;     /* path halving */
        i = u->t[i].parent;
    }
    return i;
}

/* 1 if a and b are already joined; else joins them and returns 0. */
static int uf_union(struct uf *u, value a, value b)
{
    if (2 * (u->n + 2) > u->cap) uf_grow(u);       /* no slot moves below */
    size_t ia = uf_find(u, uf_slot(u, a)), ib = uf_find(u, uf_slot(u, b));
    if (ia == ib) return 1;
    u->t[ia].parent = ib;
    return 0;
}

static int with_uf(struct uf *u, value a, value b)
{
    char here;
    LV_STACK_CHECK(&here);
    for (;;) {
        int done, r = leaf_equal(a, b, &done);
        if (done) return r;
        if (uf_union(u, a, b)) return 1;
        if (PAIRP(a)) {
            if (!with_uf(u, CAR(a), CAR(b))) return 0;
            a = CDR(a);
            b = CDR(b);
            continue;
        }
        uint32_t n = HDR(a)->len;
        for (uint32_t i = 0; i < n; i++)
            if (!with_uf(u, VEC(a)->v[i], VEC(b)->v[i])) return 0;
        return 1;
    }
}

int lv_equal(value a, value b)
{
    long budget = LV_EQUAL_BUDGET;
    int r = bounded(a, b, &budget);
    if (r >= 0) return r;
    struct uf u = { NULL, 0, 0 };
    r = with_uf(&u, a, b);
    free(u.t);
    return r;
}
