/* lift_ops.c -- guest values and operands as LLVM values.
 *
 * Inputs: a decoded instruction and the lifting context's register state.
 * Outputs: iN values for operands, register writes with x86 width rules.
 * Invariants:
 *   1. c->gpr[] always holds i64 values, c->xmm[] i128 values.
 *   2. A 32-bit GPR write zero-extends; 8/16-bit writes (including
 *      ah/ch/dh/bh) merge into the untouched bits.
 *   3. Stack addresses are exactly sp0 or `add sp0, K` (K a constant):
 *      lift_add/lift_sub/lift_and preserve that form so the partial
 *      evaluator can forward stack slots and size the frame. */
#include "lifter/lift_internal.h"
#include "lifter/lift_job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void lift_assert_fail(const char *file, int line, const char *msg)
{
    fprintf(stderr, "lineiform: internal error at %s:%d: %s\n", file, line, msg);
    abort();
}

enum lf_status lift_fail(struct lift_ctx *c, const char *fmt, ...)
{
    if (!c->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof c->why, fmt, ap);
        va_end(ap);
    }
    return LF_ERR_UNSUPPORTED;
}

/* -- Constants and widths ------------------------------------------------------ */

LLVMTypeRef lift_int(struct lift_ctx *c, unsigned bits)
{
    switch (bits) {
    case 1: return c->i1; case 8: return c->i8; case 16: return c->i16;
    case 32: return c->i32; case 64: return c->i64; case 128: return c->i128;
    default: return LLVMIntTypeInContext(c->lc, bits);
    }
}

LLVMValueRef lift_const(struct lift_ctx *c, unsigned bits, uint64_t v)
{
    return LLVMConstInt(lift_int(c, bits), v, 0);
}

int lift_is_const(LLVMValueRef v, uint64_t *out)
{
    if (!v || !LLVMIsAConstantInt(v)) return 0;
    if (LLVMGetIntTypeWidth(LLVMTypeOf(v)) > 64) return 0;
    if (out) *out = LLVMConstIntGetZExtValue(v);
    return 1;
}

unsigned lift_bits(LLVMValueRef v)
{
    return LLVMGetIntTypeWidth(LLVMTypeOf(v));
}

LLVMValueRef lift_zext(struct lift_ctx *c, LLVMValueRef v, unsigned bits)
{
    unsigned w = lift_bits(v);
    if (w == bits) return v;
    if (w > bits) return LLVMBuildTrunc(c->b, v, lift_int(c, bits), "");
    return LLVMBuildZExt(c->b, v, lift_int(c, bits), "");
}

LLVMValueRef lift_sext(struct lift_ctx *c, LLVMValueRef v, unsigned bits)
{
    unsigned w = lift_bits(v);
    if (w == bits) return v;
    if (w > bits) return LLVMBuildTrunc(c->b, v, lift_int(c, bits), "");
    return LLVMBuildSExt(c->b, v, lift_int(c, bits), "");
}

LLVMValueRef lift_trunc(struct lift_ctx *c, LLVMValueRef v, unsigned bits)
{
    return lift_zext(c, v, bits);
}

/* -- Stack addresses ------------------------------------------------------------ */

int lift_stack_off(const struct lift_ctx *c, LLVMValueRef v, int64_t *off)
{
    if (!c->sp0 || !v) return 0;
    if (v == c->sp0) { *off = 0; return 1; }
    if (!LLVMIsAInstruction(v) || LLVMGetInstructionOpcode(v) != LLVMAdd) return 0;
    if (LLVMGetOperand(v, 0) != c->sp0) return 0;
    LLVMValueRef k = LLVMGetOperand(v, 1);
    if (!LLVMIsAConstantInt(k)) return 0;
    *off = LLVMConstIntGetSExtValue(k);
    return 1;
}

LLVMValueRef lift_stack_addr(struct lift_ctx *c, int64_t off)
{
    LF_ASSERT(c->sp0, "stack address without a frame");
    if (off == 0) return c->sp0;
    return LLVMBuildAdd(c->b, c->sp0, LLVMConstInt(c->i64, (uint64_t)off, 1), "sp");
}

LLVMValueRef lift_add(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b)
{
    int64_t k;
    uint64_t d;
    if (lift_bits(a) == 64) {
        if (lift_stack_off(c, a, &k) && lift_is_const(b, &d)) return lift_stack_addr(c, k + (int64_t)d);
        if (lift_stack_off(c, b, &k) && lift_is_const(a, &d)) return lift_stack_addr(c, k + (int64_t)d);
        /* A stack address plus a run-time amount: the sum is a pointer into
         * the frame the lifter cannot follow, so the bytes it may reach
         * escape (unknown stores then clobber them). */
        lift_note_escape(c, a);
        lift_note_escape(c, b);
    }
    return LLVMBuildAdd(c->b, a, b, "");
}

LLVMValueRef lift_sub(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b)
{
    int64_t k, k2;
    uint64_t d;
    if (lift_bits(a) == 64 && lift_stack_off(c, a, &k)) {
        if (lift_is_const(b, &d)) return lift_stack_addr(c, k - (int64_t)d);
        if (lift_stack_off(c, b, &k2)) return LLVMConstInt(c->i64, (uint64_t)(k - k2), 1);
    }
    return LLVMBuildSub(c->b, a, b, "");
}

LLVMValueRef lift_and(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b)
{
    int64_t k;
    uint64_t m;
    /* Aligning a stack address down by up to 64 is known at lift time: the
     * frame is 16-byte aligned, or 64 if the analysis saw a wider mask. */
    if (lift_bits(a) == 64 && lift_stack_off(c, a, &k) && lift_is_const(b, &m) &&
        (int64_t)m < 0 && (int64_t)m >= -64 && ((~m + 1) & ~m) == 0) {
        int64_t abs = c->frame_top + k;
        if ((int64_t)m < -16 && c->job) {
            LF_ASSERT(!c->job->emitting || c->job->align64, "wide stack alignment after the analysis");
            c->job->align64 = 1;
        }
        return lift_stack_addr(c, (abs & (int64_t)m) - c->frame_top);
    }
    return LLVMBuildAnd(c->b, a, b, "");
}

/* -- Registers -------------------------------------------------------------------- */

int lift_reg_index(ZydisRegister r)
{
    ZydisRegisterClass cl = ZydisRegisterGetClass(r);
    if (cl == ZYDIS_REGCLASS_XMM) return ZydisRegisterGetId(r);
    if (cl != ZYDIS_REGCLASS_GPR8 && cl != ZYDIS_REGCLASS_GPR16 &&
        cl != ZYDIS_REGCLASS_GPR32 && cl != ZYDIS_REGCLASS_GPR64) return -1;
    ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
    return ZydisRegisterGetId(big);
}

static int lift_is_high8(ZydisRegister r)
{
    return r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH ||
           r == ZYDIS_REGISTER_DH || r == ZYDIS_REGISTER_BH;
}

LLVMValueRef lift_gpr64(struct lift_ctx *c, int idx)
{
    LF_ASSERT(idx >= 0 && idx < 16, "bad gpr index");
    return c->gpr[idx];
}

/* rsp leaves the known frame downwards by an unknown amount (alloca, VLA):
 * the bytes between must be real stack memory, so allocate them. */
static LLVMValueRef lift_dynamic_alloca(struct lift_ctx *c, LLVMValueRef old, LLVMValueRef v64)
{
    LLVMValueRef n = LLVMBuildSub(c->b, old, v64, "");
    LLVMValueRef p = LLVMBuildArrayAlloca(c->b, c->i8, LLVMBuildAdd(c->b, n, lift_const(c, 64, 16), ""), "vla");
    LLVMSetAlignment(p, 16);   /* a separate object: pointers into it cannot reach the frame */
    return LLVMBuildPtrToInt(c->b, p, c->i64, "");
}

void lift_set_gpr64(struct lift_ctx *c, int idx, LLVMValueRef v64)
{
    LF_ASSERT(idx >= 0 && idx < 16 && lift_bits(v64) == 64, "bad gpr write");
    int64_t k, old;
    if (idx == 4 && lift_stack_off(c, v64, &k) && k < c->min_sp) c->min_sp = k;
    /* rsp lowered by a register (a VLA: gcc's `sub rsp, rax`, clang's `mov
     * rsp, rbx` after computing rbx): 1 by an amount the lift does not
     * know, 0 by a known one, -1 not a VLA. */
    int vla = -1;
    if (idx == 4 && lift_stack_off(c, c->gpr[4], &old)) {
        if (c->frame && !lift_stack_off(c, v64, &k) && LLVMIsAInstruction(v64) &&
            LLVMGetInstructionOpcode(v64) == LLVMSub) {
            /* clang uses the register it computed the new rsp in as the
             * VLA's address: it, and every copy, is the allocation too. */
            LLVMValueRef raw = v64;
            v64 = lift_dynamic_alloca(c, c->gpr[4], v64);
            for (int r = 0; r < 16; r++)
                if (r != 4 && c->gpr[r] == raw) c->gpr[r] = v64;
            vla = 1;
        } else if (lift_stack_off(c, v64, &k) && k < old && c->insn &&
                   (c->insn->zi.mnemonic == ZYDIS_MNEMONIC_SUB || c->insn->zi.mnemonic == ZYDIS_MNEMONIC_MOV) &&
                   c->insn->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
            vla = 0;
        }
    }
    /* In an inlined callee, a VLA whose first pass does not know the
     * amount: call the callee instead (lift_mod.noinl). */
    if (vla >= 0 && c->job && !c->job->emitting && c->ctx_id > 0 && c->insn &&
        lift_vla_noinline(c->job, c->ctx_id, c->insn->pc, vla)) {
        LF_DEBUG(1, "lineiform: %s: not inlining 0x%llx at 0x%llx: it lowers rsp by a run-time amount\n",
                 c->job->name, (unsigned long long)c->job->fr[c->ctx_id].entry,
                 (unsigned long long)c->job->fr[c->ctx_id].site);
        c->job->noinl_new = 1;
    }
    if (idx == 4) lift_frame_note_sp(c, c->gpr[4], v64);
    c->gpr[idx] = v64;
}

LLVMValueRef lift_gpr(struct lift_ctx *c, ZydisRegister r)
{
    int idx = lift_reg_index(r);
    LF_ASSERT(idx >= 0, "not a gpr");
    unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
    LLVMValueRef v = c->gpr[idx];
    if (lift_is_high8(r)) v = LLVMBuildLShr(c->b, v, lift_const(c, 64, 8), "");
    return lift_zext(c, v, w);
}

void lift_set_gpr(struct lift_ctx *c, ZydisRegister r, LLVMValueRef v)
{
    int idx = lift_reg_index(r);
    LF_ASSERT(idx >= 0, "not a gpr");
    unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
    LF_ASSERT(lift_bits(v) == w, "gpr write width mismatch");
    if (w == 64) { lift_set_gpr64(c, idx, v); return; }
    if (w == 32) { lift_set_gpr64(c, idx, lift_zext(c, v, 64)); return; }
    unsigned sh = lift_is_high8(r) ? 8 : 0;
    uint64_t mask = (w == 16 ? 0xffffull : 0xffull) << sh;
    LLVMValueRef keep = LLVMBuildAnd(c->b, c->gpr[idx], lift_const(c, 64, ~mask), "");
    LLVMValueRef nv = lift_zext(c, v, 64);
    if (sh) nv = LLVMBuildShl(c->b, nv, lift_const(c, 64, sh), "");
    lift_set_gpr64(c, idx, LLVMBuildOr(c->b, keep, nv, ""));
}

LLVMValueRef lift_xmm(struct lift_ctx *c, unsigned idx)
{
    LF_ASSERT(idx < 16, "bad xmm index");
    return c->xmm[idx];
}

void lift_set_xmm(struct lift_ctx *c, unsigned idx, LLVMValueRef v128)
{
    LF_ASSERT(idx < 16 && lift_bits(v128) == 128, "bad xmm write");
    c->xmm[idx] = v128;
}

/* -- Operands -------------------------------------------------------------------- */

unsigned lift_width(const struct lift_insn *i, unsigned n)
{
    return i->op[n].size;
}

LLVMValueRef lift_ea(struct lift_ctx *c, const struct lift_insn *i, unsigned n)
{
    const ZydisDecodedOperand *o = &i->op[n];
    LF_ASSERT(o->type == ZYDIS_OPERAND_TYPE_MEMORY, "not a memory operand");
    LLVMValueRef a = lift_const(c, 64, (uint64_t)o->mem.disp.value);
    if (o->mem.base == ZYDIS_REGISTER_RIP) {
        a = lift_const(c, 64, i->pc + i->len + (uint64_t)o->mem.disp.value);
    } else if (o->mem.base != ZYDIS_REGISTER_NONE) {
        a = lift_add(c, lift_zext(c, lift_gpr(c, o->mem.base), 64), a);
    }
    if (o->mem.index != ZYDIS_REGISTER_NONE) {
        LLVMValueRef x = lift_zext(c, lift_gpr(c, o->mem.index), 64);
        if (o->mem.scale > 1) x = lift_frame_scale(c, x, o->mem.scale);
        a = lift_add(c, a, x);
    }
    if (i->zi.address_width == 32) a = lift_zext(c, lift_trunc(c, a, 32), 64);
    return a;
}

static ZydisRegister lift_seg(const ZydisDecodedOperand *o)
{
    return o->mem.segment == ZYDIS_REGISTER_FS ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_NONE;
}

LLVMValueRef lift_get(struct lift_ctx *c, const struct lift_insn *i, unsigned n)
{
    const ZydisDecodedOperand *o = &i->op[n];
    switch (o->type) {
    case ZYDIS_OPERAND_TYPE_REGISTER: {
        int idx = lift_reg_index(o->reg.value);
        LF_ASSERT(idx >= 0, "operand register not modeled");
        if (ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_XMM)
            return lift_zext(c, c->xmm[idx], o->size ? o->size : 128);
        return lift_gpr(c, o->reg.value);
    }
    case ZYDIS_OPERAND_TYPE_MEMORY:
        if (o->mem.type == ZYDIS_MEMOP_TYPE_AGEN) return lift_ea(c, i, n);
        return lift_load(c, lift_ea(c, i, n), o->size, lift_seg(o));
    case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        if (o->imm.is_relative)
            return lift_const(c, 64, i->pc + i->len + o->imm.value.u);
        return lift_const(c, o->size, o->imm.is_signed ? (uint64_t)o->imm.value.s : o->imm.value.u);
    default:
        LF_ASSERT(0, "operand kind not modeled");
    }
}

void lift_put(struct lift_ctx *c, const struct lift_insn *i, unsigned n, LLVMValueRef v)
{
    const ZydisDecodedOperand *o = &i->op[n];
    if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
        lift_store(c, lift_ea(c, i, n), v, lift_seg(o));
        return;
    }
    LF_ASSERT(o->type == ZYDIS_OPERAND_TYPE_REGISTER, "write to a non-register");
    if (ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_XMM) {
        unsigned idx = (unsigned)lift_reg_index(o->reg.value);
        unsigned w = lift_bits(v);
        if (w == 128) { c->xmm[idx] = v; return; }
        LLVMValueRef hi = LLVMBuildAnd(c->b, c->xmm[idx],
            LLVMConstNot(lift_zext(c, LLVMConstAllOnes(lift_int(c, w)), 128)), "");
        c->xmm[idx] = LLVMBuildOr(c->b, hi, lift_zext(c, v, 128), "");
        return;
    }
    lift_set_gpr(c, o->reg.value, v);
}
