/* lift_mem.c -- guest memory: constant folding, stack slots, real accesses.
 *
 * Inputs: i64 guest addresses from the semantics; the memory sources (the
 * lift_memmap table, plus a predicate for the in-process frozen arena).
 * Outputs: LLVM loads and stores, or constants in their place.
 * Invariants:
 *   1. Only bytes that never change at run time fold to constants: ranges
 *      marked constant in the table (frozen arena, read-only segments) and
 *      what the predicate vouches for.  Everything else is a real access.
 *   2. Every store is emitted, so memory stays truthful; forwarding a
 *      stack slot only saves the reload.
 *   3. A forwarded slot dies when a store overlaps it, and every slot dies
 *      on an unknown store or a native call once a stack address has
 *      escaped (it may alias the frame).
 *   4. In the top-level frame, bytes above the return-address slot (the
 *      caller's frame) are not ours: touching them refuses the lift. */
#include "lifter/lift_internal.h"
#include "lifter/codegen/lift_aot.h"
#include "lifter/lift_job.h"

#include <stdio.h>
#include <string.h>

int lift_mem_read(const struct lift_memsrc *m, uint64_t guest, void *out, size_t n)
{
    if (!m) return -1;
    for (size_t k = 0; k < m->nmaps; k++) {
        const struct lift_memmap *r = &m->maps[k];
        if (guest < r->guest || guest - r->guest > r->size || n > r->size - (guest - r->guest))
            continue;
        memcpy(out, (const uint8_t *)r->host + (guest - r->guest), n);
        return r->constant ? 1 : 0;
    }
    if (m->is_const && guest + n > guest && m->is_const(guest, n)) {
        memcpy(out, (const void *)(uintptr_t)guest, n);
        return 1;
    }
    return -1;
}

static LLVMValueRef lift_const_bytes(struct lift_ctx *c, const uint8_t *p, unsigned bits)
{
    uint64_t w[2] = { 0, 0 };
    memcpy(w, p, bits / 8);
    if (bits <= 64) return lift_const(c, bits, w[0]);
    return LLVMConstIntOfArbitraryPrecision(c->i128, 2, w);
}

/* -- Stack slots ----------------------------------------------------------------- */

static void lift_escape_range(struct lift_ctx *c, int64_t k);

/* Does slot s share a byte with [off, off+bytes)? */
static int slot_overlaps(const struct lift_slot *s, int64_t off, unsigned bytes)
{
    return s->off < off + (int64_t)bytes && off < s->off + (int64_t)(s->bits / 8);
}

static void lift_slot_kill(struct lift_ctx *c, int64_t off, unsigned bytes)
{
    int j = 0;
    for (int k = 0; k < c->nslot; k++) {
        struct lift_slot *s = &c->slot[k];
        if (slot_overlaps(s, off, bytes)) {
            /* A taint partly overwritten still holds part of the address. */
            if (!s->v && (s->off < off || s->off + (int64_t)(s->bits / 8) > off + (int64_t)bytes))
                lift_escape_range(c, s->taint);
            LF_DEBUG(6, "lineiform: slot %lld killed by store at 0x%llx ctx %d\n", (long long)s->off,
                     (unsigned long long)(c->insn ? c->insn->pc : 0), c->ctx_id);
            continue;
        }
        c->slot[j++] = *s;
    }
    c->nslot = j;
}

static void lift_slot_put(struct lift_ctx *c, int64_t off, LLVMValueRef v, int priv)
{
    unsigned bits = lift_bits(v);
    if (lift_trace() >= 7)
        for (int k = 0; k < c->nslot; k++)
            if (c->slot[k].priv && c->slot[k].off < off + (int64_t)(bits / 8) && off < c->slot[k].off + 8)
                fprintf(stderr, "lineiform: store sp%+lld/%u at 0x%llx ctx %d overwrites a saved register\n",
                        (long long)off, bits, (unsigned long long)(c->insn ? c->insn->pc : 0), c->ctx_id);
    lift_slot_kill(c, off, bits / 8);
    int64_t sp;
    if (c->nslot == LIFT_MAX_SLOTS && lift_stack_off(c, c->gpr[4], &sp)) {
        /* Bytes further below rsp than the red zone are dead: forget them first. */
        int j = 0;
        for (int k = 0; k < c->nslot; k++)
            if (c->slot[k].off >= sp - 128) c->slot[j++] = c->slot[k];
        c->nslot = j;
    }
    if (c->nslot == LIFT_MAX_SLOTS) {   /* forget the oldest spill, saved registers last */
        LF_DEBUG(3, "lineiform: slot table full at 0x%llx\n", (unsigned long long)(c->insn ? c->insn->pc : 0));
        int k = 0;
        while (k < c->nslot - 1 && c->slot[k].priv) k++;
        if (!c->slot[k].v) lift_escape_range(c, c->slot[k].taint);   /* forgetting a taint */
        memmove(c->slot + k, c->slot + k + 1, (size_t)(--c->nslot - k) * sizeof c->slot[0]);
    }
    c->slot[c->nslot++] = (struct lift_slot){ off, bits, v, priv, 0 };
}

void lift_slots_dead_below(struct lift_ctx *c, int64_t sp)
{
    int j = 0;
    for (int k = 0; k < c->nslot; k++)   /* a taint stays: forgetting it is an escape */
        if (!c->slot[k].v || c->slot[k].off + (int64_t)(c->slot[k].bits / 8) > sp) c->slot[j++] = c->slot[k];
    c->nslot = j;
}

static LLVMValueRef lift_slot_get(struct lift_ctx *c, int64_t off, unsigned bits)
{
    for (int k = c->nslot - 1; k >= 0; k--) {
        struct lift_slot *s = &c->slot[k];
        if (!s->v) continue;
        if (s->off == off && s->bits == bits) return s->v;
        if (s->off == off && s->bits > bits && bits <= 64)
            return lift_trunc(c, s->v, bits);   /* little-endian low part */
    }
    return NULL;
}

/* The first escape range of a live frame that reaches [off, off+bytes), or -1. */
static int escape_at(const struct lift_ctx *c, int64_t off, unsigned bytes)
{
    for (int e = 0; e < c->esc.n; e++)
        if (off < c->esc.r[e].hi && c->esc.r[e].lo < off + (int64_t)bytes &&
            lift_frame_live(c, c->esc.r[e].entry, c->esc.r[e].top))
            return e;
    return -1;
}

int lift_escaped(const struct lift_ctx *c, int64_t off, unsigned bytes)
{
    return escape_at(c, off, bytes) >= 0;
}

void lift_gslot_kill(struct lift_ctx *c, uint64_t a, uint64_t bytes)
{
    int j = 0;
    for (int k = 0; k < c->ngslot; k++)
        if (!(c->gslot[k].addr < a + bytes && a < c->gslot[k].addr + c->gslot[k].bits / 8)) c->gslot[j++] = c->gslot[k];
    c->ngslot = j;
}

void lift_clobber_mem(struct lift_ctx *c)
{
    c->ngslot = 0;
    lift_clobber_stack(c);
}

void lift_clobber_stack(struct lift_ctx *c)
{
    int j = 0;
    for (int k = 0; k < c->nslot; k++) {
        const struct lift_slot *s = &c->slot[k];
        /* A pushed word survives, unless its own address escaped: clang
         * reserves a local with `push rax` and then passes its address. */
        int own = 0;
        for (int e = 0; e < c->esc.n && s->priv && !own; e++)
            own = c->esc.r[e].lo >= s->off && c->esc.r[e].lo < s->off + (int64_t)(s->bits / 8) &&
                  lift_frame_live(c, c->esc.r[e].entry, c->esc.r[e].top);
        int e = escape_at(c, s->off, s->bits / 8);
        if ((s->priv && !own) || e < 0) c->slot[j++] = *s;
        else LF_DEBUG(6, "lineiform: slot %lld clobbered at 0x%llx ctx %d by [%lld, %lld) of 0x%llx/%lld\n",
                      (long long)s->off, (unsigned long long)(c->insn ? c->insn->pc : 0), c->ctx_id,
                      (long long)c->esc.r[e].lo, (long long)c->esc.r[e].hi,
                      (unsigned long long)c->esc.r[e].entry, (long long)c->esc.r[e].top);
    }
    c->nslot = j;
}

/* [off, off+bytes) lies in the job's frame window (lift_job.h). */
int lift_in_window(const struct lift_ctx *c, int64_t off, unsigned bytes)
{
    return c->job && c->job->preg >= 0 && off >= LIFT_WIN_OFF &&
           off + (int64_t)bytes <= LIFT_WIN_OFF + 8 * LIFT_WIN;
}

/* The frame holding offset k: the innermost inline frame whose return
 * address lies above k (lift_frame.sp_entry). */

static int64_t lift_frame_top(const struct lift_ctx *c, int64_t k)
{
    const struct lift_job *j = c->job;
    for (int x = c->ctx_id; j && x >= 0; x = j->fr[x].parent)
        if (k < j->fr[x].sp_entry) return j->fr[x].sp_entry;
    if (lift_in_window(c, k, 1)) return LIFT_WIN_OFF + 8 * LIFT_WIN;   /* the window copy is one object */
    return 8;
}

int64_t lift_escape_hi(const struct lift_ctx *c, int64_t k)
{
    return lift_frame_clip(c, k, lift_frame_top(c, k));
}

static void lift_escape_range(struct lift_ctx *c, int64_t k)
{
    int64_t top = lift_frame_top(c, k), hi = lift_frame_clip(c, k, top);
    uint64_t owner = lift_frame_owner(c, top);
    struct lift_esc *e = &c->esc;
    for (int q = 0; q < e->n; q++)
        if (e->r[q].lo <= k && hi <= e->r[q].hi &&
            (!e->r[q].entry || (e->r[q].entry == owner && e->r[q].top == top)))
            return;                                        /* already covered */
    if (e->n == LIFT_MAX_ESC) {                           /* merge into one hull */
        for (int q = 1; q < e->n; q++) {
            if (e->r[q].lo < e->r[0].lo) e->r[0].lo = e->r[q].lo;
            if (e->r[q].hi > e->r[0].hi) e->r[0].hi = e->r[q].hi;
        }
        e->r[0].entry = 0;
        e->n = 1;
    }
    if (c->job && c->job->emitting && lift_trace() >= 2)
        fprintf(stderr, "lineiform: %s: escape [%lld, %lld) first seen while emitting\n", c->job->name,
                (long long)k, (long long)hi);
    LF_DEBUG(3, "lineiform: escape [%lld, %lld) of 0x%llx at 0x%llx ctx %d\n", (long long)k, (long long)hi,
             (unsigned long long)owner, (unsigned long long)(c->insn ? c->insn->pc : 0), c->ctx_id);
    e->r[e->n].lo = k;
    e->r[e->n].entry = owner;
    e->r[e->n].top = top;
    e->r[e->n++].hi = hi;
    /* What the range holds escapes with it: a va_list points to the
     * register save area and to the caller's stack arguments. */
    for (int q = 0; q < c->nslot; q++) {
        int64_t a;
        if (c->slot[q].off < k || c->slot[q].off >= hi || c->slot[q].bits != 64) continue;
        if (c->slot[q].v ? lift_stack_off(c, c->slot[q].v, &a) && a != k : (a = c->slot[q].taint) != k)
            lift_escape_range(c, a);
    }
}

void lift_note_escape(struct lift_ctx *c, LLVMValueRef v)
{
    int64_t k;
    /* A frame address shifted right (lift_block.c LIFT_AK_SHR) is one too. */
    if (lift_bits(v) == 64 && LLVMIsAInstruction(v) && LLVMGetInstructionOpcode(v) == LLVMLShr)
        v = LLVMGetOperand(v, 0);
    if (lift_bits(v) != 64 || !lift_stack_off(c, v, &k)) return;
    lift_escape_range(c, k);
}

/* -- Accesses -------------------------------------------------------------------- */

static int lift_stack_check(struct lift_ctx *c, int64_t off, unsigned bytes)
{
    if (off < c->min_sp) c->min_sp = off;
    if (off + (int64_t)bytes > 8 && !lift_in_window(c, off, bytes) && !c->bad) {
        c->bad = 1;
        lift_fail(c, "access to the caller's stack frame (sp%+lld)", (long long)off);
    }
    return !c->bad;
}

LLVMValueRef lift_ptr(struct lift_ctx *c, LLVMValueRef addr, unsigned bits, ZydisRegister seg)
{
    LLVMTypeRef t = lift_int(c, bits);
    int64_t k;
    if (seg == ZYDIS_REGISTER_FS)
        return LLVMBuildIntToPtr(c->b, addr, LLVMPointerType(t, 257), "");
    if (c->frame && lift_stack_off(c, addr, &k)) {
        LLVMValueRef idx[2] = { lift_const(c, 64, 0),
                                LLVMConstInt(c->i64, (uint64_t)(c->frame_top + k), 1) };
        LLVMValueRef p = LLVMBuildInBoundsGEP2(c->b, LLVMGetAllocatedType(c->frame),
                                               c->frame, idx, 2, "");
        if (c->job && c->job->emitting) {
            if (c->ngown == c->capgown) {
                c->capgown = c->capgown ? 2 * c->capgown : 256;
                c->gown = realloc(c->gown, sizeof *c->gown * (size_t)c->capgown);
                LF_ASSERT(c->gown, "out of memory");
            }
            int64_t top = lift_frame_top(c, k);
            c->gown[c->ngown++] = (struct lift_gep_owner){ p, lift_frame_owner(c, top), top };
        }
        return LLVMBuildBitCast(c->b, p, LLVMPointerType(t, 0), "");
    }
    return LLVMBuildIntToPtr(c->b, addr, LLVMPointerType(t, 0), "");
}

LLVMValueRef lift_load(struct lift_ctx *c, LLVMValueRef addr, unsigned bits, ZydisRegister seg)
{
    uint64_t a;
    int64_t k;
    if (c->pe && seg != ZYDIS_REGISTER_FS) {
        if (lift_is_const(addr, &a)) {
            uint8_t buf[16];
            if (lift_mem_read(c->mem, a, buf, bits / 8) == 1) return lift_const_bytes(c, buf, bits);
            for (int k = 0; k < c->ngslot; k++)
                if (c->gslot[k].addr == a && c->gslot[k].bits == bits) return c->gslot[k].v;
        } else if (lift_stack_off(c, addr, &k)) {
            if (!lift_stack_check(c, k, bits / 8)) return LLVMGetUndef(lift_int(c, bits));
            /* Loading a taint: the stack address it may hold is now an
             * unknown value, so the bytes it reaches escape. */
            for (int q = 0; q < c->nslot; q++)
                if (!c->slot[q].v && slot_overlaps(&c->slot[q], k, bits / 8)) lift_escape_range(c, c->slot[q].taint);
            LLVMValueRef v = lift_slot_get(c, k, bits);
            if (v) return v;
        }
    }
    LLVMValueRef ld = LLVMBuildLoad2(c->b, lift_int(c, bits), lift_ptr(c, addr, bits, seg), "");
    LLVMSetAlignment(ld, 1);
    return ld;
}

static void lift_store_(struct lift_ctx *c, LLVMValueRef addr, LLVMValueRef v, ZydisRegister seg, int priv)
{
    unsigned bits = lift_bits(v);
    int64_t k;
    uint64_t a;
    if (c->pe && seg != ZYDIS_REGISTER_FS && lift_stack_off(c, addr, &k)) {
        if (!lift_stack_check(c, k, bits / 8)) return;
        /* A stack address stored where an escaped pointer reaches escapes too. */
        if (bits == 64 && lift_escaped(c, k, 8)) lift_note_escape(c, v);
        lift_slot_put(c, k, v, priv);
    } else if (c->pe && seg != ZYDIS_REGISTER_FS && lift_is_const(addr, &a)) {
        /* A constant address is global memory: it cannot reach the frame. */
        lift_note_escape(c, v);
        lift_guard_note(c, v);
        lift_gslot_kill(c, a, bits / 8);
        if (LLVMIsAConstantInt(v) && bits <= 64) {
            if (c->ngslot == LIFT_MAX_GSLOTS) memmove(c->gslot, c->gslot + 1, sizeof c->gslot[0] * (size_t)--c->ngslot);
            c->gslot[c->ngslot++] = (struct lift_gslot){ a, bits, v };
        }
    } else if (c->pe) {
        lift_note_escape(c, v);
        lift_guard_note(c, v);   /* a closure the code may call back (lift_guard.c) */
        lift_clobber_mem(c);
    }
    LLVMValueRef st = LLVMBuildStore(c->b, v, lift_ptr(c, addr, bits, seg));
    LLVMSetAlignment(st, 1);
}

void lift_store(struct lift_ctx *c, LLVMValueRef addr, LLVMValueRef v, ZydisRegister seg)
{
    lift_store_(c, addr, v, seg, 0);
}

void lift_store_private(struct lift_ctx *c, LLVMValueRef addr, LLVMValueRef v)
{
    lift_store_(c, addr, v, ZYDIS_REGISTER_NONE, 1);
}
