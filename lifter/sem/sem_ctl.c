/* sem_ctl.c -- control and stack semantics: jcc/setcc/cmovcc, jmp, call,
 * ret, push/pop/leave, nops and trapping instructions.
 *
 * Control transfer goes through lift_jump/lift_branch/lift_call/lift_ret/
 * lift_stop (lift_block.c, lift_call.c), which decide whether a target is
 * inlined, specialized, called natively or left as a block edge.  The
 * condition of every cc form comes from lift_cond, so a known flag source
 * gives a known condition and only the live side of a branch is lifted. */
#include "lifter/lift_internal.h"

/* ORDER: x86 condition-code encoding, as lift_cond expects. */
#define CONDS_(_) _(O, 0) _(NO, 1) _(B, 2) _(NB, 3) _(Z, 4) _(NZ, 5) _(BE, 6) _(NBE, 7) \
                  _(S, 8) _(NS, 9) _(P, 10) _(NP, 11) _(L, 12) _(NL, 13) _(LE, 14) _(NLE, 15)

static enum lf_status setcc(struct lift_ctx *c, const struct lift_insn *i, unsigned cc)
{
    lift_put(c, i, 0, lift_zext(c, lift_cond(c, cc), 8));
    return LF_OK;
}

static enum lf_status cmovcc(struct lift_ctx *c, const struct lift_insn *i, unsigned cc)
{
    LLVMValueRef cond = lift_cond(c, cc);
    LLVMValueRef src = lift_get(c, i, 1), dst = lift_get(c, i, 0);
    lift_put(c, i, 0, LLVMBuildSelect(c->b, cond, src, dst, ""));  /* 32-bit: zero-extends either way */
    return LF_OK;
}

static enum lf_status jcc(struct lift_ctx *c, const struct lift_insn *i, unsigned cc)
{
    uint64_t target;
    LLVMValueRef t = lift_get(c, i, 0);
    LF_ASSERT(lift_is_const(t, &target), "relative target not constant");
    lift_branch(c, lift_cond(c, cc), target, i->pc + i->len);
    return LF_OK;
}

#define CC_ROWS_(cc, n) \
    enum lf_status lift_sem_SET##cc##_R(struct lift_ctx *c, const struct lift_insn *i) { return setcc(c, i, n); } \
    enum lf_status lift_sem_SET##cc##_M(struct lift_ctx *c, const struct lift_insn *i) { return setcc(c, i, n); } \
    enum lf_status lift_sem_CMOV##cc##_R_R(struct lift_ctx *c, const struct lift_insn *i) { return cmovcc(c, i, n); } \
    enum lf_status lift_sem_CMOV##cc##_R_M(struct lift_ctx *c, const struct lift_insn *i) { return cmovcc(c, i, n); } \
    enum lf_status lift_sem_J##cc(struct lift_ctx *c, const struct lift_insn *i) { return jcc(c, i, n); }
CONDS_(CC_ROWS_)

/* -- stack ----------------------------------------------------------------------- */

static void push64(struct lift_ctx *c, LLVMValueRef v)
{
    LLVMValueRef sp = lift_sub(c, lift_gpr64(c, 4), lift_const(c, 64, 8));
    lift_set_gpr64(c, 4, sp);
    lift_frame_note_push(c, sp);
    lift_store_private(c, sp, v);
}

static LLVMValueRef pop64(struct lift_ctx *c)
{
    LLVMValueRef sp = lift_gpr64(c, 4);
    LLVMValueRef v = lift_load(c, sp, 64, ZYDIS_REGISTER_NONE);
    lift_set_gpr64(c, 4, lift_add(c, sp, lift_const(c, 64, 8)));
    return v;
}

enum lf_status lift_sem_PUSH_R(struct lift_ctx *c, const struct lift_insn *i) { push64(c, lift_get(c, i, 0)); return LF_OK; }
enum lf_status lift_sem_PUSH_M(struct lift_ctx *c, const struct lift_insn *i) { push64(c, lift_get(c, i, 0)); return LF_OK; }
enum lf_status lift_sem_PUSH_I(struct lift_ctx *c, const struct lift_insn *i)
{
    /* The row matches the immediate's width; 66 6a/68 pushes only 2 bytes. */
    if (i->zi.operand_width != 64) return lift_fail(c, "push of a %u-bit immediate", i->zi.operand_width);
    push64(c, lift_sext(c, lift_get(c, i, 0), 64));
    return LF_OK;
}

enum lf_status lift_sem_POP_R(struct lift_ctx *c, const struct lift_insn *i)
{
    LLVMValueRef v = pop64(c);
    lift_put(c, i, 0, v);
    return LF_OK;
}

enum lf_status lift_sem_LEAVE(struct lift_ctx *c, const struct lift_insn *i)
{
    (void)i;
    lift_set_gpr64(c, 4, lift_gpr64(c, 5));
    lift_set_gpr64(c, 5, pop64(c));
    return LF_OK;
}

/* -- control -------------------------------------------------------------------- */

enum lf_status lift_sem_JMP_REL(struct lift_ctx *c, const struct lift_insn *i) { lift_jump(c, lift_get(c, i, 0)); return LF_OK; }
enum lf_status lift_sem_JMP_R(struct lift_ctx *c, const struct lift_insn *i) { lift_jump(c, lift_get(c, i, 0)); return LF_OK; }
enum lf_status lift_sem_JMP_M(struct lift_ctx *c, const struct lift_insn *i) { lift_jump(c, lift_get(c, i, 0)); return LF_OK; }
enum lf_status lift_sem_CALL_REL(struct lift_ctx *c, const struct lift_insn *i) { return lift_call(c, i, lift_get(c, i, 0)); }
enum lf_status lift_sem_CALL_R(struct lift_ctx *c, const struct lift_insn *i) { return lift_call(c, i, lift_get(c, i, 0)); }
enum lf_status lift_sem_CALL_M(struct lift_ctx *c, const struct lift_insn *i) { return lift_call(c, i, lift_get(c, i, 0)); }
enum lf_status lift_sem_RET(struct lift_ctx *c, const struct lift_insn *i) { (void)i; return lift_ret(c, 0); }

enum lf_status lift_sem_NOP(struct lift_ctx *c, const struct lift_insn *i) { (void)c; (void)i; return LF_OK; }
enum lf_status lift_sem_NOP_M(struct lift_ctx *c, const struct lift_insn *i) { (void)c; (void)i; return LF_OK; }
enum lf_status lift_sem_NOP_R(struct lift_ctx *c, const struct lift_insn *i) { (void)c; (void)i; return LF_OK; }
enum lf_status lift_sem_NOP_M_R(struct lift_ctx *c, const struct lift_insn *i) { (void)c; (void)i; return LF_OK; }
enum lf_status lift_sem_ENDBR64(struct lift_ctx *c, const struct lift_insn *i) { (void)c; (void)i; return LF_OK; }
enum lf_status lift_sem_HLT(struct lift_ctx *c, const struct lift_insn *i) { (void)i; lift_stop(c); return LF_OK; }
enum lf_status lift_sem_UD2(struct lift_ctx *c, const struct lift_insn *i) { (void)i; lift_stop(c); return LF_OK; }
/* int3 in compiled code marks what must not be reached (after a call that
 * does not return, __debugbreak): it ends the flow like ud2. */
enum lf_status lift_sem_INT3(struct lift_ctx *c, const struct lift_insn *i) { (void)i; lift_stop(c); return LF_OK; }
/* ud1 r, r/m: ud2 with operands (its memory operand is never accessed) */
enum lf_status lift_sem_UD1_R_R(struct lift_ctx *c, const struct lift_insn *i) { (void)i; lift_stop(c); return LF_OK; }
enum lf_status lift_sem_UD1_R_M(struct lift_ctx *c, const struct lift_insn *i) { (void)i; lift_stop(c); return LF_OK; }
