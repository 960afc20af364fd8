/* lift_live.c -- which general registers a block may read before writing.
 *
 * Polyvariance (lift_block.c) keys a block's copies on its known registers.
 * A register the code ahead overwrites before reading does not matter
 * there: a callee's stale scratch constant left in rcx must not make every
 * iteration of its caller's loop a copy of its own.  lift_live_in gives
 * the registers live at a guest address; the block drops known values of
 * the others from its key and its entry state.
 *
 * Only precision depends on this answer, never soundness: a dropped value
 * becomes a phi of the real incoming values.  So the scan is an estimate:
 * the instructions reachable from pc within a budget (calls stepped over
 * per the SysV ABI), backward dataflow over them to a fixpoint, and every
 * register live where the budget or an unknown jump ends the walk.  Each
 * explored address's answer is cached in the module.
 *
 * Two answers in one word: bits 0-15 take ret as the SysV ABI has it (the
 * caller reads rax, rdx and the callee-saved registers); bits 16-31 take
 * ret as reading every register, which stays true when the compiler keeps
 * a value in a scratch register across a call it knows does not clobber
 * it (gcc's -fipa-ra).  Known constants may use the first; stack addresses
 * need the second (dropping a live one would hide a frame pointer). */
#include "lifter/lift_internal.h"
#include "lifter/lift_job.h"

#include <stdlib.h>
#include <string.h>

enum { LIVE_BUDGET = 384, LIVE_ALL = 0xffff };

/* ORDER: Zydis GPR ids: rax rcx rdx rbx rsp rbp rsi rdi r8..r15. */
#define R(n) (1u << (n))
#define ARGS (R(7) | R(6) | R(2) | R(1) | R(8) | R(9) | R(0))        /* rdi rsi rdx rcx r8 r9, al */
#define SAVED (R(3) | R(4) | R(5) | R(12) | R(13) | R(14) | R(15))   /* rbx rsp rbp r12-r15 */
#define CLOBBER (R(0) | R(1) | R(2) | R(6) | R(7) | R(8) | R(9) | R(10) | R(11))
#define RETS (R(0) | R(2))

struct live_node {
    uint64_t pc;
    unsigned use, def, in;
    int ret;                    /* a ret: its caller reads what it reads */
    int succ[2], nsucc;         /* indices; -1: outside the walk (all live) */
};

/* -- The cache: open addressing on pc --------------------------------------- */

static unsigned live_slot(const struct lift_mod *m, uint64_t pc)
{
    return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 40) & (m->live_cap - 1);
}

static int live_cached(const struct lift_mod *m, uint64_t pc, unsigned *out)
{
    if (!m->live_cap) return 0;
    for (unsigned k = live_slot(m, pc);; k = (k + 1) & (m->live_cap - 1)) {
        if (!m->live[k].pc) return 0;
        if (m->live[k].pc == pc) { *out = m->live[k].in; return 1; }
    }
}

static void live_put(struct lift_mod *m, uint64_t pc, unsigned in)
{
    if (2 * (m->live_n + 1) > m->live_cap) {
        unsigned ncap = m->live_cap ? 2 * m->live_cap : 1024, ocap = m->live_cap;
        struct lift_live_ent *old = m->live;
        m->live = calloc(ncap, sizeof *m->live);
        LF_ASSERT(m->live, "out of memory");
        m->live_cap = ncap;
        m->live_n = 0;
        for (unsigned k = 0; k < ocap; k++)
            if (old[k].pc) live_put(m, old[k].pc, old[k].in);
        free(old);
    }
    unsigned k = live_slot(m, pc);
    while (m->live[k].pc && m->live[k].pc != pc) k = (k + 1) & (m->live_cap - 1);
    if (!m->live[k].pc) m->live_n++;
    m->live[k].pc = pc;
    m->live[k].in = in;
}

/* -- One instruction's reads and writes -------------------------------------- */

static unsigned reg_bit(ZydisRegister r)
{
    ZydisRegisterClass cl = ZydisRegisterGetClass(r);
    if (cl != ZYDIS_REGCLASS_GPR8 && cl != ZYDIS_REGCLASS_GPR16 && cl != ZYDIS_REGCLASS_GPR32 &&
        cl != ZYDIS_REGCLASS_GPR64) return 0;
    return 1u << lift_reg_index(r);
}

/* A write that replaces all 64 bits (32-bit writes zero-extend). */
static int full_write(ZydisRegister r)
{
    ZydisRegisterClass cl = ZydisRegisterGetClass(r);
    return cl == ZYDIS_REGCLASS_GPR32 || cl == ZYDIS_REGCLASS_GPR64;
}

static void insn_use_def(const struct lift_insn *i, unsigned *use, unsigned *def)
{
    *use = *def = 0;
    const ZydisDecodedInstruction *z = &i->zi;
    /* xor r, r and sub r, r: the result does not depend on r. */
    if ((z->mnemonic == ZYDIS_MNEMONIC_XOR || z->mnemonic == ZYDIS_MNEMONIC_SUB) &&
        i->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER && i->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        i->op[0].reg.value == i->op[1].reg.value) {
        if (full_write(i->op[0].reg.value)) *def = reg_bit(i->op[0].reg.value);
        return;
    }
    for (unsigned k = 0; k < z->operand_count; k++) {
        const ZydisDecodedOperand *o = &i->op[k];
        if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
            *use |= reg_bit(o->mem.base) | reg_bit(o->mem.index);
        } else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
            unsigned b = reg_bit(o->reg.value);
            if (!b) continue;
            if (o->actions & ZYDIS_OPERAND_ACTION_MASK_READ) *use |= b;
            if (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) {
                /* A conditional or partial write keeps the old value. */
                if (full_write(o->reg.value) && !(o->actions & ZYDIS_OPERAND_ACTION_CONDWRITE)) *def |= b;
                else *use |= b;
            }
        }
    }
}

/* -- The walk ---------------------------------------------------------------- */

static int walk_find(const struct live_node *n, int nn, uint64_t pc)
{
    for (int k = 0; k < nn; k++)
        if (n[k].pc == pc) return k;
    return -1;
}

/* How control leaves an instruction; a walk's insn callback turns it into
 * reads and writes (target: the direct callee, 0 when computed). */
enum walk_kind { W_NEXT, W_CALL, W_RET, W_TAIL /* direct jmp out of the code */, W_UNKNOWN, W_STOP };
typedef void walk_insn_fn(struct lift_mod *m, const struct lift_insn *i, enum walk_kind k, uint64_t target,
                          struct live_node *d, int depth);

/* The instructions reachable from pc0 within the budget into n[] (their
 * number), successors resolved; an undecodable one or one outside the
 * code reads everything, the others what insn says. */
static int walk(struct lift_mod *m, uint64_t pc0, struct live_node *n, walk_insn_fn *insn, int depth)
{
    uint64_t *todo = malloc(sizeof *todo * LIVE_BUDGET * 2), (*spc)[2] = malloc(sizeof *spc * LIVE_BUDGET);
    LF_ASSERT(todo && spc, "out of memory");
    int nn = 0, nt = 0;
    todo[nt++] = pc0;
    while (nt > 0) {
        uint64_t pc = todo[--nt];
        if (walk_find(n, nn, pc) >= 0 || nn == LIVE_BUDGET) continue;
        struct live_node *d = &n[nn];
        *d = (struct live_node){ pc, LIVE_ALL, 0, 0, 0, { -1, -1 }, 0 };
        uint64_t *s = spc[nn++];
        struct lift_insn i;
        if (!lift_code_ok(m, pc) || lift_decode(&m->mem, pc, &i) != LF_OK) continue;
        uint64_t next = pc + i.len;
        ZydisMnemonic mn = i.zi.mnemonic;
        int direct = i.op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && i.op[0].imm.is_relative;
        uint64_t target = direct ? next + (uint64_t)i.op[0].imm.value.s : 0;
        enum walk_kind k = W_NEXT;
        if (mn == ZYDIS_MNEMONIC_CALL) {
            k = W_CALL;
            s[d->nsucc++] = next;
        } else if (mn == ZYDIS_MNEMONIC_RET) {
            k = W_RET;
        } else if (mn == ZYDIS_MNEMONIC_JMP) {
            if (direct && lift_code_ok(m, target)) s[d->nsucc++] = target;
            else k = direct ? W_TAIL : W_UNKNOWN;   /* tail call out of the code; jump table or computed */
        } else if (i.zi.meta.category == ZYDIS_CATEGORY_COND_BR) {
            s[d->nsucc++] = next;
            if (direct) s[d->nsucc++] = target;
            else k = W_UNKNOWN;
        } else if (mn == ZYDIS_MNEMONIC_UD2 || mn == ZYDIS_MNEMONIC_UD1 || mn == ZYDIS_MNEMONIC_HLT ||
                   mn == ZYDIS_MNEMONIC_INT3) {
            k = W_STOP;
        } else {
            s[d->nsucc++] = next;
        }
        d->use = d->def = 0;
        insn(m, &i, k, target, d, depth);
        for (int q = d->nsucc - 1; q >= 0 && nt < 2 * LIVE_BUDGET; q--) todo[nt++] = s[q];
    }
    for (int k = 0; k < nn; k++)
        for (int q = 0; q < n[k].nsucc; q++) n[k].succ[q] = walk_find(n, nn, spc[k][q]);
    free(spc);
    free(todo);
    return nn;
}

/* Backward dataflow to a fixpoint; a successor outside the walk has
 * everything live.  What is live at the walk's first instruction. */
static unsigned dataflow(struct live_node *n, int nn)
{
    for (int k = 0; k < nn; k++) n[k].in = n[k].use;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int k = nn - 1; k >= 0; k--) {
            unsigned out = 0;
            for (int q = 0; q < n[k].nsucc; q++) out |= n[k].succ[q] >= 0 ? n[n[k].succ[q]].in : LIVE_ALL;
            unsigned in = (n[k].use | (out & ~n[k].def)) & LIVE_ALL;
            if (in != n[k].in) n[k].in = in, changed = 1;
        }
    }
    return nn ? n[0].in : LIVE_ALL;
}

static void gpr_insn(struct lift_mod *m, const struct lift_insn *i, enum walk_kind k, uint64_t target,
                     struct live_node *d, int depth)
{
    (void)m, (void)target, (void)depth;
    insn_use_def(i, &d->use, &d->def);
    switch (k) {
    case W_CALL: d->use |= ARGS; d->def = CLOBBER; break;
    case W_RET: d->use |= RETS | SAVED; d->ret = 1; break;
    case W_TAIL: d->use |= ARGS | SAVED | RETS; break;
    case W_UNKNOWN: d->use = LIVE_ALL; break;
    default:
        if (i->zi.mnemonic == ZYDIS_MNEMONIC_SYSCALL) {
            d->use |= R(0) | R(7) | R(6) | R(2) | R(10) | R(8) | R(9);
            d->def = R(0) | R(1) | R(11);
        }
        break;
    }
}

unsigned lift_live_in(struct lift_mod *m, uint64_t pc0)
{
    unsigned r;
    if (live_cached(m, pc0, &r)) return r;
    struct live_node *n = malloc(sizeof *n * LIVE_BUDGET);
    LF_ASSERT(n, "out of memory");
    int nn = walk(m, pc0, n, gpr_insn, 0);
    /* Twice: with the ABI's view of ret, then with ret reading everything. */
    r = dataflow(n, nn);
    for (int k = 0; k < nn; k++)
        if (n[k].ret) n[k].use = LIVE_ALL;
    r |= dataflow(n, nn) << 16;
    live_put(m, pc0, r);
    free(n);
    return r;
}

/* -- Vector registers read by a callee ------------------------------------------ *
 *
 * lift_live_xmm: the xmm registers (bit = number) the function at pc may
 * read before writing them, so that a native call passes only those (the
 * others as zero) and a specialization's unused vector parameters die.
 * Here an over-estimate is what is safe: a write counts only when it
 * replaces the whole register, a call reads what its callee reads (all
 * eight argument registers when unknown), ret reads xmm0 and xmm1. */

static unsigned xmm_bit(ZydisRegister r)
{
    return ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_XMM ? 1u << ZydisRegisterGetId(r) : 0;
}

/* Writes that leave no old bit of the register. */
static int xmm_full_write(const struct lift_insn *i)
{
    switch (i->zi.mnemonic) {
    case ZYDIS_MNEMONIC_MOVAPS: case ZYDIS_MNEMONIC_MOVUPS: case ZYDIS_MNEMONIC_MOVAPD:
    case ZYDIS_MNEMONIC_MOVUPD: case ZYDIS_MNEMONIC_MOVDQA: case ZYDIS_MNEMONIC_MOVDQU:
    case ZYDIS_MNEMONIC_MOVD: case ZYDIS_MNEMONIC_MOVQ:
        return 1;
    case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_MOVSS:   /* from memory: upper bits zeroed */
        return i->op[1].type == ZYDIS_OPERAND_TYPE_MEMORY;
    default:
        return 0;
    }
}

static unsigned xmm_call_reads(struct lift_mod *m, uint64_t t, int depth);

static void xmm_insn(struct lift_mod *m, const struct lift_insn *i, enum walk_kind k, uint64_t target,
                     struct live_node *d, int depth)
{
    ZydisMnemonic mn = i->zi.mnemonic;
    int zero = (mn == ZYDIS_MNEMONIC_PXOR || mn == ZYDIS_MNEMONIC_XORPS || mn == ZYDIS_MNEMONIC_XORPD) &&
               i->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER && i->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
               i->op[0].reg.value == i->op[1].reg.value;
    for (unsigned q = 0; q < i->zi.operand_count && !zero; q++) {
        const ZydisDecodedOperand *o = &i->op[q];
        unsigned b = o->type == ZYDIS_OPERAND_TYPE_REGISTER ? xmm_bit(o->reg.value) : 0;
        if (!b) continue;
        if (o->actions & ZYDIS_OPERAND_ACTION_MASK_READ) d->use |= b;
        if (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) {
            if (q == 0 && xmm_full_write(i)) d->def |= b;
            else d->use |= b;
        }
    }
    if (zero) d->def = xmm_bit(i->op[0].reg.value);
    switch (k) {
    case W_CALL: d->use |= target ? xmm_call_reads(m, target, depth + 1) : 0xff; d->def = 0xffff; break;
    case W_RET: d->use |= 0x3; break;
    case W_TAIL: d->use |= xmm_call_reads(m, target, depth + 1) | 0x3; break;
    case W_UNKNOWN: d->use = 0xffff; break;
    default: break;
    }
}

static unsigned xmm_walk(struct lift_mod *m, uint64_t pc0, int depth)
{
    struct live_node *n = malloc(sizeof *n * LIVE_BUDGET);
    LF_ASSERT(n, "out of memory");
    unsigned r = dataflow(n, walk(m, pc0, n, xmm_insn, depth));
    free(n);
    return r;
}

/* The cache holds these under the pc with bit 63 set (guest code is below). */
#define XMM_KEY(pc) ((pc) | (1ull << 63))

unsigned lift_live_xmm(struct lift_mod *m, uint64_t pc)
{
    return xmm_call_reads(m, pc, 0) & 0xff;
}

static unsigned xmm_call_reads(struct lift_mod *m, uint64_t t, int depth)
{
    unsigned r;
    const char *name;
    unsigned g;
    if (m->plt_at && m->plt_at(m, t, &name)) return lift_libc_nargs(name) >= 0 ? 0 : 0xff;
    if (m->args_at && m->args_at(m, t, &g, &r)) return r;
    if (!lift_code_ok(m, t) || depth > 8) return 0xff;
    if (live_cached(m, XMM_KEY(t), &r)) return r;
    live_put(m, XMM_KEY(t), 0xff);   /* recursion: assume the argument registers */
    r = xmm_walk(m, t, depth) & 0xff;
    live_put(m, XMM_KEY(t), r);
    return r;
}

/* -- Registers a callee may write -------------------------------------------- *
 *
 * lift_call_keeps: the caller-saved registers (bits 0-15 general, 16-31
 * xmm) that the function at t never writes, itself or through the calls
 * it makes.  gcc keeps a caller's values in such registers across a call
 * of a function in the same unit (-fipa-ra, on at -O2), so after a lifted
 * call they must hold what they held before it.  Here an under-estimate is
 * what is safe: any write counts, partial or conditional; a call counts
 * its callee's writes (the ABI's scratch registers when the callee is not
 * in the code, computed, or reached again through a cycle other than
 * direct self-recursion); a jump the walk does not follow, an instruction
 * it cannot decode, or the walk's budget reached counts as writing every
 * register. */

#define WRITES_KEY(pc) ((pc) | (1ull << 62))
#define WRITES_ALL 0xffffffffu
#define XMM_ALL (0xffffu << 16)

static _Thread_local uint64_t writes_entry;   /* the function being walked */

static unsigned call_writes(struct lift_mod *m, uint64_t t, int depth);

static unsigned insn_writes(const struct lift_insn *i)
{
    unsigned w = 0;
    for (unsigned q = 0; q < i->zi.operand_count; q++) {
        const ZydisDecodedOperand *o = &i->op[q];
        if (o->type != ZYDIS_OPERAND_TYPE_REGISTER || !(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) continue;
        ZydisRegisterClass cl = ZydisRegisterGetClass(o->reg.value);
        if (cl == ZYDIS_REGCLASS_XMM || cl == ZYDIS_REGCLASS_YMM || cl == ZYDIS_REGCLASS_ZMM)
            w |= 1u << (16 + (ZydisRegisterGetId(o->reg.value) & 15));
        else
            w |= reg_bit(o->reg.value);
    }
    if (i->zi.mnemonic == ZYDIS_MNEMONIC_SYSCALL) w |= R(0) | R(1) | R(11);
    return w;
}

static void writes_insn(struct lift_mod *m, const struct lift_insn *i, enum walk_kind k, uint64_t target,
                        struct live_node *d, int depth)
{
    d->in = 1;   /* decoded: the walk's other nodes are unknown code */
    d->def = insn_writes(i);
    if (k == W_CALL) d->def |= !target ? WRITES_ALL : target == writes_entry ? 0 : call_writes(m, target, depth + 1);
    else if (k == W_TAIL || k == W_UNKNOWN) d->def = WRITES_ALL;
}

static unsigned call_writes(struct lift_mod *m, uint64_t t, int depth)
{
    const char *name;
    unsigned r;
    if ((m->plt_at && m->plt_at(m, t, &name)) || !lift_code_ok(m, t) || depth > 8) return CLOBBER | XMM_ALL;
    if (live_cached(m, WRITES_KEY(t), &r)) return r;
    live_put(m, WRITES_KEY(t), WRITES_ALL);   /* a cycle through t: everything */
    struct live_node *n = malloc(sizeof *n * LIVE_BUDGET);
    LF_ASSERT(n, "out of memory");
    uint64_t outer = writes_entry;
    writes_entry = t;
    int nn = walk(m, t, n, writes_insn, depth);
    writes_entry = outer;
    r = nn == LIVE_BUDGET ? WRITES_ALL : 0;
    for (int k = 0; k < nn; k++) {
        r |= n[k].in ? n[k].def : WRITES_ALL;
        for (int q = 0; q < n[k].nsucc; q++)
            if (n[k].succ[q] < 0) r = WRITES_ALL;
    }
    free(n);
    live_put(m, WRITES_KEY(t), r);
    return r;
}

unsigned lift_call_keeps(struct lift_mod *m, uint64_t t)
{
    if (!t) return 0;
    return ~call_writes(m, t, 0) & (CLOBBER | XMM_ALL);
}

/* -- Arguments the code itself reads ------------------------------------------ *
 *
 * lift_entry_reads: the registers the function at pc reads before writing
 * them in its own instructions, to check a prototype against: a call
 * reads nothing and clobbers the scratch registers (what it reads is its
 * own prototype's business), a ret reads nothing; a tail jump, a computed
 * jump, undecodable code and the end of the budget read everything, so
 * that where the code cannot be followed the prototype is not trusted. */

#define OWN_KEY(pc) ((pc) | (1ull << 61))      /* beside XMM_KEY and WRITES_KEY */
#define OWN_XMM_KEY(pc) ((pc) | (1ull << 60))

static void own_gpr_insn(struct lift_mod *m, const struct lift_insn *i, enum walk_kind k, uint64_t target,
                         struct live_node *d, int depth)
{
    (void)m, (void)target, (void)depth;
    insn_use_def(i, &d->use, &d->def);
    if (k == W_CALL) d->def |= CLOBBER;
    else if (k == W_TAIL || k == W_UNKNOWN) d->use = LIVE_ALL;
}

static void own_xmm_insn(struct lift_mod *m, const struct lift_insn *i, enum walk_kind k, uint64_t target,
                         struct live_node *d, int depth)
{
    (void)m, (void)target, (void)depth;
    for (unsigned q = 0; q < i->zi.operand_count; q++) {
        const ZydisDecodedOperand *o = &i->op[q];
        unsigned b = o->type == ZYDIS_OPERAND_TYPE_REGISTER ? xmm_bit(o->reg.value) : 0;
        if (o->actions & ZYDIS_OPERAND_ACTION_MASK_READ) d->use |= b;
        if ((o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) && q == 0 && xmm_full_write(i)) d->def |= b;
        else if (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) d->use |= b;
    }
    if (k == W_CALL) d->def = 0xffff;
    else if (k == W_TAIL || k == W_UNKNOWN) d->use = 0xffff;
}

static unsigned own_reads(struct lift_mod *m, uint64_t key, uint64_t pc, walk_insn_fn *insn)
{
    unsigned r;
    if (live_cached(m, key, &r)) return r;
    struct live_node *n = malloc(sizeof *n * LIVE_BUDGET);
    LF_ASSERT(n, "out of memory");
    r = dataflow(n, walk(m, pc, n, insn, 0));
    free(n);
    live_put(m, key, r);
    return r;
}

void lift_entry_reads(struct lift_mod *m, uint64_t pc, unsigned *gpr, unsigned *xmm)
{
    unsigned live = own_reads(m, OWN_KEY(pc), pc, own_gpr_insn);
    static const int argreg[6] = { 7, 6, 2, 1, 8, 9 };   /* ORDER: rdi rsi rdx rcx r8 r9 */
    *gpr = 0;
    for (int k = 0; k < 6; k++)
        if ((live >> argreg[k]) & 1) *gpr |= 1u << k;
    *xmm = own_reads(m, OWN_XMM_KEY(pc), pc, own_xmm_insn) & 0xff;
}
