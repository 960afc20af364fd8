/* lift_astate.c -- abstract values and states of the partial evaluator:
 * what a block's entry knows about registers, flags and stack slots, and
 * the join that merges the states of a block's predecessors.
 *
 * Inputs: LLVM values of a block lifted from its entry state (lift_block.c).
 * Outputs: struct lift_astate, compared and joined per successor.
 *
 * Invariant: a join only loses information (const/stack -> unknown; slots
 * drop), so the fixpoint of lift_block.c's analysis is reached in a
 * bounded number of rounds. */
#include "lifter/lift_job.h"

#include <stdlib.h>
#include <string.h>

/* -- Abstract values ------------------------------------------------------------------ */

static struct lift_aval aval_of(const struct lift_ctx *c, LLVMValueRef v)
{
    struct lift_aval a = { LIFT_AK_UNKNOWN, 0, NULL };
    int64_t off;
    LLVMValueRef k;
    if (LLVMIsAConstantInt(v)) a.kind = LIFT_AK_CONST, a.k = v;
    else if (lift_stack_off(c, v, &off)) a.kind = LIFT_AK_STACK, a.off = off;
    else if (lift_stack_shr(c, v, &off, &k)) a.kind = LIFT_AK_SHR, a.off = off, a.k = k;
    return a;
}

int lift_aval_eq(struct lift_aval a, struct lift_aval b)
{
    if (a.kind != b.kind) return 0;
    if (a.kind == LIFT_AK_CONST) return a.k == b.k;
    if (a.kind == LIFT_AK_STACK || a.kind == LIFT_AK_TAINT) return a.off == b.off;
    if (a.kind == LIFT_AK_SHR) return a.off == b.off && a.k == b.k;
    return 1;
}

/* Join b into *a; 1 when *a changed. */
static int aval_join(struct lift_aval *a, struct lift_aval b)
{
    if (a->kind == LIFT_AK_BOTTOM) { *a = b; return 1; }
    if (lift_aval_eq(*a, b) || a->kind == LIFT_AK_UNKNOWN) return 0;
    *a = (struct lift_aval){ LIFT_AK_UNKNOWN, 0, NULL };
    return 1;
}

void lift_astate_of(struct lift_ctx *c, struct lift_astate *s, unsigned fmask)
{
    for (int k = 0; k < 16; k++) s->gpr[k] = aval_of(c, c->gpr[k]), s->xmm[k] = aval_of(c, c->xmm[k]);
    lift_flags_materialize(c, fmask);
    for (int f = 0; f < LIFT_NFLAGS; f++)
        s->flag[f] = (fmask >> f) & 1 ? aval_of(c, c->flag[f].v)
                                      : (struct lift_aval){ LIFT_AK_UNKNOWN, 0, NULL };
    s->ngslot = c->ngslot;
    memcpy(s->gslot, c->gslot, sizeof c->gslot[0] * (size_t)c->ngslot);
    s->nslot = 0;
    for (int k = 0; k < c->nslot; k++) {
        struct lift_aval v = c->slot[k].v ? aval_of(c, c->slot[k].v)
                                          : (struct lift_aval){ LIFT_AK_TAINT, c->slot[k].taint, NULL };
        if (v.kind == LIFT_AK_UNKNOWN) continue;
        s->slot[s->nslot++] = (struct lift_aslot){ c->slot[k].off, c->slot[k].bits, v, c->slot[k].priv };
    }
}

/* The exit state along a split's edge: values that become constant once
 * the split condition is val. */
void lift_astate_refine(struct lift_ctx *c, struct lift_astate *s, uint64_t val)
{
    LLVMValueRef cond = c->term.cond;
    uint64_t k;
    for (int r = 0; r < 16; r++)
        if (s->gpr[r].kind == LIFT_AK_UNKNOWN && lift_eval(c, c->gpr[r], cond, val, &k))
            s->gpr[r] = (struct lift_aval){ LIFT_AK_CONST, 0, lift_const(c, 64, k) };
    for (int f = 0; f < LIFT_NFLAGS; f++)
        if (s->flag[f].kind == LIFT_AK_UNKNOWN && c->flag[f].v && lift_eval(c, c->flag[f].v, cond, val, &k))
            s->flag[f] = (struct lift_aval){ LIFT_AK_CONST, 0, lift_const(c, 1, k) };
    for (int q = 0; q < c->nslot && s->nslot < LIFT_MAX_SLOTS; q++) {
        const struct lift_slot *sl = &c->slot[q];
        if (!sl->v || sl->bits > 64 || aval_of(c, sl->v).kind != LIFT_AK_UNKNOWN) continue;
        if (lift_eval(c, sl->v, cond, val, &k))
            s->slot[s->nslot++] = (struct lift_aslot){ sl->off, sl->bits,
                { LIFT_AK_CONST, 0, lift_const(c, sl->bits, k) }, sl->priv };
    }
}

/* A stack address that a join turns into an unknown register (it merges
 * with something else) becomes a pointer the lifter cannot follow: the
 * frame bytes it reaches escape.  rsp is exempt (an unknown rsp refuses
 * the lift where it matters).  Slots are lift_astate_join's. */
void lift_join_escapes(struct lift_ctx *c, const struct lift_blk *b, const struct lift_astate *s)
{
    if (!b->seen || c->job->snippet) return;
    for (int r = 0; r < 16; r++) {
        struct lift_aval a = b->in.gpr[r], e = s->gpr[r];
        if (r == 4 || lift_aval_eq(a, e)) continue;
        if (e.kind == LIFT_AK_STACK || e.kind == LIFT_AK_SHR) lift_note_escape(c, lift_stack_addr(c, e.off));
        if (a.kind == LIFT_AK_STACK || a.kind == LIFT_AK_SHR) lift_note_escape(c, lift_stack_addr(c, a.off));
    }
}

static int slot_ptr(const struct lift_aslot *a, int64_t *k)
{
    if (a->v.kind != LIFT_AK_STACK && a->v.kind != LIFT_AK_TAINT) return 0;
    *k = a->v.off;
    return 1;
}

static const struct lift_aslot *slot_at(const struct lift_astate *s, int64_t off)
{
    for (int q = 0; q < s->nslot; q++)
        if (s->slot[q].off == off) return &s->slot[q];
    return NULL;
}

static int aslot_eq(const struct lift_aslot *a, const struct lift_aslot *b)
{
    return a->off == b->off && a->bits == b->bits && lift_aval_eq(a->v, b->v) && a->priv == b->priv;
}

/* Room for n slots in a block's state. */
static void astate_room(struct lift_astate *d, int n)
{
    if (n <= d->capslot) return;
    int cap = d->capslot ? 2 * d->capslot : 8;
    while (cap < n) cap *= 2;
    if (cap > LIFT_MAX_SLOTS) cap = LIFT_MAX_SLOTS;
    d->slot = realloc(d->slot, sizeof *d->slot * (size_t)cap);
    LF_ASSERT(d->slot, "out of memory");
    d->capslot = cap;
}

/* *d = *s, copying only the slots in use. */
void lift_astate_copy(struct lift_astate *d, const struct lift_astate *s)
{
    astate_room(d, s->nslot);
    memcpy(d->gpr, s->gpr, sizeof d->gpr);
    memcpy(d->xmm, s->xmm, sizeof d->xmm);
    memcpy(d->flag, s->flag, sizeof d->flag);
    d->nslot = s->nslot;
    if (s->nslot) memcpy(d->slot, s->slot, sizeof d->slot[0] * (size_t)s->nslot);
    d->ngslot = s->ngslot;
    if (s->ngslot) memcpy(d->gslot, s->gslot, sizeof d->gslot[0] * (size_t)s->ngslot);
}

/* Join s into b's entry state; 1 when it changed.  A slot both sides agree
 * on stays; one where a side holds a stack address becomes a taint of it
 * (lift_slot.taint: it escapes only if loaded); two different stack
 * addresses escape.  Bytes far below both rsps belong to returned callees
 * and are forgotten, as are escaped bytes (what a store put there escaped
 * with the store). */
int lift_astate_join(struct lift_ctx *c, struct lift_blk *b, const struct lift_astate *s)
{
    if (!b->seen) { lift_astate_copy(&b->in, s); b->seen = 1; return 1; }
    int ch = 0;
    for (int k = 0; k < 16; k++) ch |= aval_join(&b->in.gpr[k], s->gpr[k]) | aval_join(&b->in.xmm[k], s->xmm[k]);
    for (int f = 0; f < LIFT_NFLAGS; f++) ch |= aval_join(&b->in.flag[f], s->flag[f]);
    int ng = 0;
    for (int k = 0; k < b->in.ngslot; k++) {
        int keep = 0;
        for (int q = 0; q < s->ngslot && !keep; q++)
            keep = s->gslot[q].addr == b->in.gslot[k].addr && s->gslot[q].bits == b->in.gslot[k].bits &&
                   s->gslot[q].v == b->in.gslot[k].v;
        if (keep) b->in.gslot[ng++] = b->in.gslot[k];
    }
    ch |= ng != b->in.ngslot;
    b->in.ngslot = ng;
    int64_t low = INT64_MIN;
    if (b->in.gpr[4].kind == LIFT_AK_STACK && s->gpr[4].kind == LIFT_AK_STACK)
        low = b->in.gpr[4].off < s->gpr[4].off ? b->in.gpr[4].off : s->gpr[4].off;
    int64_t dead = low == INT64_MIN ? INT64_MIN : low - 128;
    static _Thread_local struct lift_aslot out[LIFT_MAX_SLOTS];
    int n = 0;
    for (int k = 0; k < b->in.nslot; k++) {
        const struct lift_aslot *a = &b->in.slot[k], *e = slot_at(s, a->off);
        if (a->off < dead) continue;
        if (e && aslot_eq(a, e)) { out[n++] = *a; continue; }
        if (lift_escaped(c, a->off, a->bits / 8)) continue;
        int64_t ka = 0, ke = 0;
        int pa = slot_ptr(a, &ka), pe = e && slot_ptr(e, &ke);
        if (pa && pe && ka != ke) {
            if (a->off >= low) {
                lift_note_escape(c, lift_stack_addr(c, ka));
                lift_note_escape(c, lift_stack_addr(c, ke));
            }
            continue;
        }
        if (pa || pe)
            out[n++] = (struct lift_aslot){ a->off, a->bits, { LIFT_AK_TAINT, pa ? ka : ke, NULL }, a->priv };
    }
    for (int q = 0; q < s->nslot && n < LIFT_MAX_SLOTS; q++) {
        const struct lift_aslot *e = &s->slot[q];
        int64_t ke;
        if (slot_at(&b->in, e->off) || e->off < dead || !slot_ptr(e, &ke) || lift_escaped(c, e->off, e->bits / 8))
            continue;
        out[n++] = (struct lift_aslot){ e->off, e->bits, { LIFT_AK_TAINT, ke, NULL }, e->priv };
    }
    ch |= n != b->in.nslot;
    for (int k = 0; k < n && !ch; k++) ch = !aslot_eq(&out[k], &b->in.slot[k]);
    astate_room(&b->in, n);
    if (n) memcpy(b->in.slot, out, sizeof out[0] * (size_t)n);
    b->in.nslot = n;
    return ch;
}

