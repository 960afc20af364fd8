/* lift_frame.c -- facts about addresses inside the lifted frame.
 *
 * Inputs: i64 values of the form sp0 + k (lift_stack_off), as the
 * semantics produce them for rsp, rbp and pointers into the frame
 * (saved-register area, locals, VLAs whose size is a known constant).
 * Outputs: comparisons between such addresses folded to constants.
 *
 * Why: compiled loops over a stack buffer end on a pointer comparison
 * (`cmp r15, r12; jne` with both pointers into a VLA).  LLVM cannot fold
 * (sp0 + a) <u (sp0 + b) because sp0 is an instruction, so the branch looked
 * unknown, the analysis walked the loop past the buffer's end and its
 * imagined stores landed on the saved registers above it, which lost the
 * forwarded rbp and left `ret` with an unknown rsp.
 *
 * Invariants:
 *   1. Two addresses of one frame compare like their offsets: the frame is
 *      one object on the real stack, which never wraps around zero or the
 *      sign boundary of user space, so unsigned and signed orders agree
 *      with the order of the offsets.
 *   2. Anything else is left to LLVM (a real icmp is emitted). */
#include "lifter/lift_internal.h"

static int lift_pred_holds(LLVMIntPredicate p, int64_t a, int64_t b)
{
    switch (p) {
    case LLVMIntEQ: return a == b;
    case LLVMIntNE: return a != b;
    case LLVMIntUGT: case LLVMIntSGT: return a > b;
    case LLVMIntUGE: case LLVMIntSGE: return a >= b;
    case LLVMIntULT: case LLVMIntSLT: return a < b;
    default: return a <= b;   /* ULE, SLE */
    }
}

LLVMValueRef lift_icmp(struct lift_ctx *c, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    int64_t ka, kb;
    if (lift_bits(a) == 64 && lift_stack_off(c, a, &ka) && lift_stack_off(c, b, &kb))
        return lift_const(c, 1, (uint64_t)lift_pred_holds(p, ka, kb));
    return LLVMBuildICmp(c->b, p, a, b, "");
}

/* -- VLA areas -------------------------------------------------------------------- *
 *
 * A function that lowers rsp by a computed amount (`sub rsp, rax` for a VLA,
 * clang's `mov rsp, rax` after computing it, an `and rsp, -16` realigning
 * it) makes objects in [new rsp, old rsp), below its fixed frame.  A pointer
 * into one of them that escapes can reach at most up to the area's top,
 * not the whole frame: the spills, the saved stack pointer and the sizes
 * the function keeps in its fixed frame stay forwarded across the calls
 * that receive the buffer.
 *
 * Invariants:
 *   3. Areas are keyed by the function (entry address) and where its frame
 *      starts (sp_entry): whatever the call site, an area of that function
 *      at that depth lies below its fixed frame, so the hull of every area
 *      seen for the key never covers a fixed local.
 *   4. An address is clipped only when the innermost frame holding it is
 *      the area's own function (a callee's frame at the same depth, after
 *      the VLA's scope ended, is not clipped).
 *   5. The table is per thread and bounded; a full table clips nothing. */

#include "lifter/lift_job.h"
#include <stdio.h>
#include <stdlib.h>

#define LIFT_MAX_VLA 4096
/* Per (entry, sp_entry): the VLA area [lo, hi) (empty while lo == hi) and
 * the bottom of the saved-register area (save, sp_entry while none). */
static _Thread_local struct lift_vla { uint64_t entry; int64_t sp_entry, lo, hi, save; } lift_vla[LIFT_MAX_VLA];
static _Thread_local int lift_nvla;

static struct lift_vla *lift_vla_find(uint64_t entry, int64_t sp_entry, int add)
{
    for (int k = 0; k < lift_nvla; k++)
        if (lift_vla[k].entry == entry && lift_vla[k].sp_entry == sp_entry) return &lift_vla[k];
    if (!add || lift_nvla == LIFT_MAX_VLA) return NULL;
    struct lift_vla *v = &lift_vla[lift_nvla++];
    *v = (struct lift_vla){ entry, sp_entry, 0, 0, sp_entry };
    return v;
}

/* 1 when insn moves rsp by an amount that is not an immediate. */
static int lift_is_dynamic_sp(const struct lift_insn *i)
{
    if (!i || i->zi.operand_count < 2 || i->op[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        i->op[0].reg.value != ZYDIS_REGISTER_RSP)
        return 0;
    switch (i->zi.mnemonic) {
    case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_MOV:
        return i->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
    case ZYDIS_MNEMONIC_AND:
        return 1;
    default:
        return 0;
    }
}

void lift_frame_note_sp(struct lift_ctx *c, LLVMValueRef old, LLVMValueRef v64)
{
    int64_t o, n;
    const struct lift_job *j = c->job;
    if (!c->pe || !j || j->snippet || !lift_is_dynamic_sp(c->insn) || !lift_stack_off(c, old, &o) ||
        !lift_stack_off(c, v64, &n) || n >= o)
        return;
    const struct lift_frame *f = &j->fr[c->ctx_id];
    struct lift_vla *v = lift_vla_find(f->entry, f->sp_entry, 1);
    if (!v) return;
    if (v->lo == v->hi) { v->lo = n, v->hi = o; return; }
    if (n < v->lo) v->lo = n;
    if (o > v->hi) v->hi = o;
}

/* -- Saved registers ---------------------------------------------------------- *
 *
 * A function's prologue pushes the callee-saved registers it uses just
 * below its return address.  No C object overlaps them, so a pointer to a
 * local reaches at most up to the lowest of them: an escaped buffer (lv_print
 * handing snprintf its digits) does not cost its frame the saved registers,
 * whose pops then stay forwarded, nor the frame addresses kept in them.
 *
 * Invariant:
 *   9. The saved area of (entry, sp_entry) is the run of pushes contiguous
 *      below sp_entry; it only grows (kept in the VLA areas' table, with
 *      their bound: a full table clips nothing). */

void lift_frame_note_push(struct lift_ctx *c, LLVMValueRef slot)
{
    int64_t off;
    const struct lift_job *j = c->job;
    if (!c->pe || !j || j->snippet || !lift_stack_off(c, slot, &off)) return;
    const struct lift_frame *f = &j->fr[c->ctx_id];
    struct lift_vla *v = lift_vla_find(f->entry, f->sp_entry, 1);
    if (v && off == v->save - 8) v->save = off;
}

int64_t lift_frame_clip(const struct lift_ctx *c, int64_t k, int64_t top)
{
    const struct lift_job *j = c->job;
    for (int x = c->ctx_id; j && x >= 0; x = j->fr[x].parent) {
        if (j->fr[x].sp_entry != top) continue;
        const struct lift_vla *v = lift_vla_find(j->fr[x].entry, top, 0);
        int64_t hi = v && v->lo <= k && k < v->hi ? v->hi : top;
        return v && k < v->save && v->save < hi ? v->save : hi;
    }
    return top;
}

/* -- Scaled frame addresses ------------------------------------------------------- *
 *
 * gcc aligns a VLA-backed struct pointer with `lea rcx, [rsp+7]; shr rax, 3`
 * and then addresses it as [rax*8]: (S >> 3) * 8 is S & -8, a frame address
 * the lifter knows (lift_and), where the product would be an unknown value
 * and the store through it an unknown store that loses the frame's slots. */
int lift_stack_shr(const struct lift_ctx *c, LLVMValueRef v, int64_t *off, LLVMValueRef *k)
{
    if (!LLVMIsAInstruction(v) || LLVMGetInstructionOpcode(v) != LLVMLShr ||
        !LLVMIsAConstantInt(LLVMGetOperand(v, 1)) || !lift_stack_off(c, LLVMGetOperand(v, 0), off))
        return 0;
    *k = LLVMGetOperand(v, 1);
    return 1;
}

LLVMValueRef lift_frame_scale(struct lift_ctx *c, LLVMValueRef x, unsigned scale)
{
    LLVMValueRef k;
    int64_t off;
    if (lift_stack_shr(c, x, &off, &k)) {
        if ((1ull << LLVMConstIntGetZExtValue(k)) == scale)
            return lift_and(c, LLVMGetOperand(x, 0), lift_const(c, 64, -(uint64_t)scale));
        lift_note_escape(c, LLVMGetOperand(x, 0));   /* scaled some other way: lost */
    }
    return LLVMBuildMul(c->b, x, lift_const(c, 64, scale), "");
}

LLVMValueRef lift_frame_shl(struct lift_ctx *c, LLVMValueRef x, LLVMValueRef n)
{
    LLVMValueRef k;
    int64_t off;
    uint64_t s;
    if (!lift_is_const(n, &s) || s == 0 || s > 6 || lift_bits(x) != 64 || !lift_stack_shr(c, x, &off, &k) ||
        LLVMConstIntGetZExtValue(k) != s)
        return NULL;
    return lift_and(c, LLVMGetOperand(x, 0), lift_const(c, 64, -(1ull << s)));
}

/* -- Owners of escaped ranges ------------------------------------------------------ *
 *
 * An escaped range belongs to the frame holding it, named by the function's
 * entry and where its frame starts (stable across analysis rounds, unlike
 * inline context numbers).  A pointer into a frame is only usable while
 * that frame is live, so a store through an unknown pointer or a native
 * call can reach the range only when a frame with that name is on the
 * current inline chain; the escapes of a sibling call that already
 * returned (an lv_print inlined before this frame was entered, whose locals
 * used the same offsets) no longer cost this frame its forwarded slots.
 *
 * Invariant:
 *   6. A range whose owner is unknown (entry 0) is always live. */

uint64_t lift_frame_owner(const struct lift_ctx *c, int64_t top)
{
    const struct lift_job *j = c->job;
    for (int x = c->ctx_id; j && x >= 0; x = j->fr[x].parent)
        if (j->fr[x].sp_entry == top) return j->fr[x].entry;
    return 0;
}

int lift_frame_live(const struct lift_ctx *c, uint64_t entry, int64_t top)
{
    const struct lift_job *j = c->job;
    if (!entry || !j) return 1;
    for (int x = c->ctx_id; x >= 0; x = j->fr[x].parent)
        if (j->fr[x].entry == entry && j->fr[x].sp_entry == top) return 1;
    return 0;
}

/* -- Splitting the frame -------------------------------------------------------- *
 *
 * The frame is one alloca, and once any address into it leaves the lifted
 * code (a VLA handed to a callee) LLVM must keep every store to every byte
 * of it: spills, saved registers and return addresses of inlined calls
 * stay in memory around every call.  After emission the escape ranges of
 * the analysis name every byte a foreign pointer can reach; the accesses at
 * known offsets that touch none of them move to a second alloca whose
 * address never leaves, which SROA turns into SSA values.
 *
 * Invariants:
 *   7. Each access moves whole or not at all, and each byte ends up in one
 *      of the two allocas: an access that overlaps a shared byte makes all
 *      of its bytes shared (to a fixed point).
 *   8. Nothing moves unless every use of a frame address other than a
 *      known-offset access or a comparison is covered by an escape range
 *      (checked on the IR, not assumed): otherwise the function keeps one
 *      frame. */

struct split_acc {
    LLVMValueRef gep;
    int64_t lo, hi;             /* frame bytes */
    uint64_t entry;             /* the inline frame it belongs to */
    int64_t top;
    int shared;
};

/* Bytes [lo, hi) of the frame accessed through gep: 1, or 0 when one of
 * its uses is not a plain load or store through it. */
static int split_uses(LLVMValueRef p, int64_t off, int64_t *hi, LLVMTargetDataRef td)
{
    for (LLVMUseRef u = LLVMGetFirstUse(p); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef in = LLVMGetUser(u);
        LLVMOpcode op = LLVMGetInstructionOpcode(in);
        if (op == LLVMBitCast) {
            if (!split_uses(in, off, hi, td)) return 0;
        } else if (op == LLVMLoad) {
            int64_t e = off + (int64_t)LLVMStoreSizeOfType(td, LLVMTypeOf(in));
            if (e > *hi) *hi = e;
        } else if (op == LLVMStore && LLVMGetOperand(in, 1) == p && LLVMGetOperand(in, 0) != p) {
            int64_t e = off + (int64_t)LLVMStoreSizeOfType(td, LLVMTypeOf(LLVMGetOperand(in, 0)));
            if (e > *hi) *hi = e;
        } else {
            return 0;
        }
    }
    return 1;
}

/* 1 and *off = its byte offset when p is an alloca's byte at a constant
 * offset (a GEP as lift_ptr builds it), seen through bitcasts. */
static int split_slot_off(LLVMValueRef p, int64_t *off)
{
    while (p && LLVMIsAInstruction(p) && LLVMGetInstructionOpcode(p) == LLVMBitCast) p = LLVMGetOperand(p, 0);
    if (!p || !LLVMIsAInstruction(p) || LLVMGetInstructionOpcode(p) != LLVMGetElementPtr ||
        LLVMGetNumOperands(p) != 3 || !LLVMIsAConstantInt(LLVMGetOperand(p, 2)) ||
        !LLVMIsAAllocaInst(LLVMGetOperand(p, 0)))
        return 0;
    *off = LLVMConstIntGetSExtValue(LLVMGetOperand(p, 2));
    return 1;
}

/* The frame as the leak check sees it: bytes any escape range reaches,
 * and the accesses with their shared verdicts (split_acc_shared). */
struct split_view { const uint8_t *any; int64_t n; const struct split_acc *acc; int nacc; };

/* 1 when in stores v into a frame slot no escaped pointer reaches: the
 * lifter reads it back as the same known address.  A slot is reached when
 * its access is shared: an escape range of its own frame (or of an
 * unknown one) covers it; another frame's range at the same bytes belongs
 * to a call that has returned (lift_frame_owner). */
static int split_kept_in_slot(LLVMValueRef in, LLVMValueRef v, const struct split_view *w)
{
    int64_t slot;
    if (LLVMGetInstructionOpcode(in) != LLVMStore || LLVMGetOperand(in, 0) != v ||
        !split_slot_off(LLVMGetOperand(in, 1), &slot) || slot < 0 || slot >= w->n)
        return 0;
    LLVMValueRef g = LLVMGetOperand(in, 1);
    while (LLVMIsAInstruction(g) && LLVMGetInstructionOpcode(g) == LLVMBitCast) g = LLVMGetOperand(g, 0);
    for (int a = 0; a < w->nacc; a++)
        if (w->acc[a].gep == g) return !w->acc[a].shared;
    return !w->any[slot];
}

/* 1 when phi p feeds nothing but other such phis and frame slots: a
 * callee-saved register carrying a stale frame address into the pushes
 * that save it, or a register that is dead in a loop. */
static int split_phi_ok(LLVMValueRef p, LLVMValueRef *seen, int *nseen, const struct split_view *w)
{
    for (int k = 0; k < *nseen; k++)
        if (seen[k] == p) return 1;
    if (*nseen == 256) return 0;
    seen[(*nseen)++] = p;
    for (LLVMUseRef u = LLVMGetFirstUse(p); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef in = LLVMGetUser(u);
        if (split_kept_in_slot(in, p, w)) continue;
        if (LLVMGetInstructionOpcode(in) != LLVMPHI || !split_phi_ok(in, seen, nseen, w)) return 0;
    }
    return 1;
}

/* 1 when s, frame address a shifted right by a constant (gcc's VLA pointer,
 * LIFT_AK_SHR), goes nowhere but comparisons, phis and private slots: the
 * lifter followed every access through it (lift_frame_scale,
 * lift_frame_shl), so no address into the frame is made from it at run
 * time. */
static int split_shr_ok(LLVMValueRef s, const struct split_view *w)
{
    for (LLVMUseRef u = LLVMGetFirstUse(s); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef in = LLVMGetUser(u);
        LLVMOpcode op = LLVMIsAInstruction(in) ? LLVMGetInstructionOpcode(in) : LLVMRet;
        if (op == LLVMICmp || split_kept_in_slot(in, s, w)) continue;
        if (op == LLVMPHI) {
            LLVMValueRef seen[256];
            int nseen = 0;
            if (split_phi_ok(in, seen, &nseen, w)) continue;
        }
        return 0;
    }
    return 1;
}

/* 1 when every way frame address a (frame offset off) is used is covered:
 * a comparison, or a use that lets it go while byte off is shared. */
static int split_leak_ok(LLVMValueRef a, int64_t off, const struct split_view *w)
{
    for (LLVMUseRef u = LLVMGetFirstUse(a); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef in = LLVMGetUser(u);
        LLVMOpcode op = LLVMIsAInstruction(in) ? LLVMGetInstructionOpcode(in) : LLVMRet;
        if (op == LLVMICmp) continue;
        if (op == LLVMLShr && LLVMGetOperand(in, 0) == a && LLVMIsAConstantInt(LLVMGetOperand(in, 1)) &&
            split_shr_ok(in, w))
            continue;
        if (op == LLVMPHI) {
            LLVMValueRef seen[256];
            int nseen = 0;
            if (split_phi_ok(in, seen, &nseen, w)) continue;
        }
        /* A word of the guest stack passed as a possible stack argument
         * of a native call: like the slot forwarding across the call, this
         * takes the words the callee may read as arguments to be values,
         * not objects.  (A frame window's words are arguments.) */
        if (op == LLVMCall && LLVMGetNumArgOperands(in) > 14 &&
            LLVMIsFunctionVarArg(LLVMGetElementType(LLVMTypeOf(LLVMGetCalledValue(in))))) {
            int stackarg = 1;
            for (unsigned q = 0; q < 14 && stackarg; q++) stackarg = LLVMGetOperand(in, q) != a;
            if (stackarg) continue;
        }
        /* Kept in a frame slot (a saved rbp, a spilled pointer). */
        if (split_kept_in_slot(in, a, w)) continue;
        /* Below a frame address by a run-time amount: a VLA under the
         * known frame, reached only through run-time addresses (the shared
         * alloca); frames at known offsets down there belong to other
         * paths, which never run while it lives. */
        if (op == LLVMSub && LLVMGetOperand(in, 0) == a) continue;
        if (off < 0 || off >= w->n || !w->any[off]) return 0;
    }
    return 1;
}

static int split_acc_cmp(const void *x, const void *y)
{
    const struct split_acc *a = x, *b = y;
    if (a->entry != b->entry) return a->entry < b->entry ? -1 : 1;
    if (a->top != b->top) return a->top < b->top ? -1 : 1;
    return (a->lo > b->lo) - (a->lo < b->lo);
}

static int gown_cmp(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t)((const struct lift_gep_owner *)x)->gep;
    uintptr_t b = (uintptr_t)((const struct lift_gep_owner *)y)->gep;
    return (a > b) - (a < b);
}

/* Is access a shared: its bytes overlap a byte shared by every frame, or
 * an escape range of its own frame (or of an unknown one)? */
static int split_acc_shared(const struct split_acc *a, const uint8_t *gshared, int64_t n,
                            const struct lift_esc *esc, int64_t top)
{
    for (int64_t b = a->lo; b < a->hi; b++)
        if (b < 0 || b >= n || gshared[b]) return 1;
    for (int e = 0; e < esc->n; e++) {
        if (esc->r[e].entry && (esc->r[e].entry != a->entry || esc->r[e].top != a->top)) continue;
        if (esc->r[e].lo + top < a->hi && a->lo < esc->r[e].hi + top) return 1;
    }
    return 0;
}

/* 1 unless in takes a run-time amount from frame address a for an address
 * below the frame: a - x used only as (a - (a - x)), a VLA's size as the
 * lifter computes it for its alloca, is no address. */
static int split_sub_ok(LLVMValueRef a, LLVMValueRef in)
{
    if (LLVMGetInstructionOpcode(in) != LLVMSub || LLVMGetOperand(in, 0) != a) return 1;
    LLVMValueRef y = LLVMGetOperand(in, 1);   /* a - (a - x): the size x itself */
    if (LLVMIsAInstruction(y) && LLVMGetInstructionOpcode(y) == LLVMSub && LLVMGetOperand(y, 0) == a) return 1;
    for (LLVMUseRef u = LLVMGetFirstUse(in); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef w = LLVMGetUser(u);
        if (LLVMGetInstructionOpcode(w) != LLVMSub || LLVMGetOperand(w, 0) != a || LLVMGetOperand(w, 1) != in)
            return 0;
    }
    return 1;
}

/* 1 when no escape range reaches the frame and no run-time amount is
 * taken from a frame address (a VLA below it, lift_frame.c split_leak_ok):
 * nothing reads or writes the frame's bytes but its own accesses. */
static int split_only_address(const struct lift_ctx *c, const uint8_t *any, int64_t n)
{
    for (int64_t b = 0; b < n; b++)
        if (any[b]) return 0;
    for (LLVMUseRef u = LLVMGetFirstUse(c->sp0); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef in = LLVMGetUser(u);
        if (!split_sub_ok(c->sp0, in)) return 0;
        for (LLVMUseRef v = LLVMGetFirstUse(in); v; v = LLVMGetNextUse(v))
            if (!split_sub_ok(in, LLVMGetUser(v))) return 0;
    }
    return 1;
}

void lift_frame_split(struct lift_ctx *c, const struct lift_esc *esc)
{
    LLVMValueRef fr = c->frame;
    if (!fr || !c->sp0) return;
    int64_t n = (int64_t)LLVMGetArrayLength(LLVMGetAllocatedType(fr)), top = c->frame_top;
    uint8_t *any = calloc((size_t)n, 2), *gshared = any + n;   /* any escape / every frame */
    struct split_acc *acc = malloc(sizeof *acc * 64);
    int nacc = 0, capacc = 64, ok = any && acc;
    LLVMTargetDataRef td = LLVMGetModuleDataLayout(c->m);
    for (int e = 0; ok && e < esc->n; e++) {
        int64_t lo = esc->r[e].lo + top, hi = esc->r[e].hi + top;
        if (esc->r[e].lo < -n || esc->r[e].hi > n) lo = 0, hi = n;
        for (int64_t b = lo < 0 ? 0 : lo; b < hi && b < n; b++) {
            any[b] = 1;
            if (!esc->r[e].entry) gshared[b] = 1;
        }
    }
    if (ok && c->ngown) qsort(c->gown, (size_t)c->ngown, sizeof *c->gown, gown_cmp);
    /* The frame's uses: known-offset GEPs, and the one ptrtoint behind sp0. */
    for (LLVMUseRef u = ok ? LLVMGetFirstUse(fr) : NULL; ok && u; u = LLVMGetNextUse(u)) {
        LLVMValueRef in = LLVMGetUser(u);
        LLVMOpcode op = LLVMGetInstructionOpcode(in);
        if (op == LLVMPtrToInt) {
            for (LLVMUseRef v = LLVMGetFirstUse(in); ok && v; v = LLVMGetNextUse(v))
                ok = LLVMGetUser(v) == c->sp0;
            continue;
        }
        int64_t lo = 0;
        ok = split_slot_off(in, &lo);
        if (!ok) break;
        int64_t hi = lo;
        struct lift_gep_owner key = { in, 0, 0 }, *o =
            c->ngown ? bsearch(&key, c->gown, (size_t)c->ngown, sizeof *c->gown, gown_cmp) : NULL;
        int whole = !split_uses(in, lo, &hi, td);
        if (whole) {        /* passes it on: the rest of its frame, or of all */
            hi = o && o->top + top <= n ? o->top + top : n;
            for (int64_t b = lo < 0 ? 0 : lo; b < hi; b++) any[b] = 1, gshared[b] |= !o;
        }
        if (nacc == capacc) acc = realloc(acc, sizeof *acc * (size_t)(capacc *= 2));
        ok = acc != NULL;
        if (ok) acc[nacc++] = (struct split_acc){ in, lo, hi, o ? o->entry : 0, o ? o->top : 0, !o || whole };
    }
    /* Shared accesses by frame, then invariant 7 within each frame. */
    for (int a = 0; ok && a < nacc; a++)
        acc[a].shared = acc[a].shared || split_acc_shared(&acc[a], gshared, n, esc, top);
    if (ok) qsort(acc, (size_t)nacc, sizeof *acc, split_acc_cmp);
    for (int g = 0, h; ok && g < nacc; g = h) {
        for (h = g + 1; h < nacc && acc[h].entry == acc[g].entry && acc[h].top == acc[g].top; h++) {}
        for (int changed = 1; changed;) {
            changed = 0;
            for (int a = g; a < h; a++) {
                if (acc[a].shared) continue;
                for (int b = g; b < h && !acc[a].shared; b++)
                    if (acc[b].shared && acc[b].lo < acc[a].hi && acc[a].lo < acc[b].hi)
                        acc[a].shared = 1, changed = 1;
            }
        }
    }
    /* sp0 and sp0 + K: where they go besides comparisons (invariant 8). */
    struct split_view view = { any, n, acc, nacc };
    for (LLVMUseRef u = ok ? LLVMGetFirstUse(c->sp0) : NULL; ok && u; u = LLVMGetNextUse(u)) {
        LLVMValueRef in = LLVMGetUser(u);
        int64_t k = 0;
        if (lift_stack_off(c, in, &k) && in != c->sp0) ok = split_leak_ok(in, top + k, &view);
        else if (!(LLVMIsAInstruction(in) && LLVMGetInstructionOpcode(in) == LLVMICmp))
            ok = top >= 0 && top < n && any[top];
        if (!ok && lift_trace() >= 3) {
            char *t = LLVMPrintValueToString(in);
            fprintf(stderr, "lineiform: frame split: %.200s leaks (frame byte %lld of %lld)\n", t,
                    (long long)(top + k), (long long)n);
            LLVMDisposeMessage(t);
        }
    }
    int moved = 0;
    if (ok) {
        LLVMValueRef priv = NULL;
        for (int a = 0; a < nacc; a++) {
            if (acc[a].shared || acc[a].lo >= acc[a].hi) continue;
            if (!priv) {
                LLVMPositionBuilderBefore(c->b, fr);
                priv = LLVMBuildAlloca(c->b, LLVMGetAllocatedType(fr), "frame.priv");
                LLVMSetAlignment(priv, 16);
            }
            LLVMSetOperand(acc[a].gep, 0, priv);
            moved++;
        }
    }
    if (ok && moved == nacc && split_only_address(c, any, n)) {
        /* Only the frame's address is left (stack-limit comparisons, frame
         * addresses kept in private slots): no byte of it is reached, so
         * one word stands for it and its stack space goes, which deep
         * recursion feels as memory traffic. */
        LLVMPositionBuilderBefore(c->b, fr);
        LLVMValueRef word = LLVMBuildAlloca(c->b, LLVMArrayType(c->i8, 16), "frame.addr");
        LLVMSetAlignment(word, LLVMGetAlignment(fr));
        LLVMReplaceAllUsesWith(fr, LLVMBuildBitCast(c->b, word, LLVMTypeOf(fr), ""));
        LLVMInstructionEraseFromParent(fr);
        c->frame = NULL;
    }
    if (c->mod) {
        c->mod->rep.frame_private += (unsigned)moved;
        c->mod->rep.frame_shared += (unsigned)(nacc - moved);
    }
    LF_DEBUG(2, "lineiform: %s: frame split %s, %d of %d accesses private\n", c->job ? c->job->name : "?",
             ok ? "done" : "refused", moved, nacc);
    if (lift_trace() >= 3) {
        for (int e = 0; e < esc->n; e++)
            fprintf(stderr, "  escape [%lld, %lld) of 0x%llx/%lld\n", (long long)esc->r[e].lo,
                    (long long)esc->r[e].hi, (unsigned long long)esc->r[e].entry, (long long)esc->r[e].top);
        for (int g = 0, h; g < nacc; g = h) {
            int sh = 0;
            for (h = g; h < nacc && acc[h].entry == acc[g].entry && acc[h].top == acc[g].top; h++) sh += acc[h].shared;
            fprintf(stderr, "  frame 0x%llx/%lld: %d accesses, %d shared\n", (unsigned long long)acc[g].entry,
                    (long long)acc[g].top, h - g, sh);
        }
    }
    free(any);
    free(acc);
}
