/* lift_internal.h -- what the lifter's files share: the per-form semantic
 * function API and the helpers semantic functions build on.
 *
 * Every row _(NAME, ...) of analyzer/x86_forms.def has exactly one
 *     enum lf_status lift_sem_NAME(struct lift_ctx *c, const struct lift_insn *i);
 * in one of lifter/sem_*.c (sem_int.c integer + flags, sem_ctl.c control,
 * conditions and stack, sem_sse.c SSE2 scalar, sem_string.c string ops).
 * lift_dispatch.c expands the table into lift_sem_table[], so a row without
 * its function does not link.  A semantic function returns LF_OK, or
 * LF_ERR_UNSUPPORTED (with lift_fail(c, "...") naming why) to refuse: the
 * caller then bails out (the function is called natively instead).
 *
 * Values.  Semantic functions see guest state as LLVM SSA values: GPRs as
 * i64, xmm registers as i128, flags as i1.  Operands read with lift_get come
 * back as iN of the operand's width (N = 8/16/32/64/128; an xmm operand of
 * width < 128 is its low N bits).  A value that is an LLVM constant is a
 * *known* value: the partial evaluator folds on it (the builder folds
 * constant arithmetic by itself), so semantic code needs no special case.
 * Stack addresses are i64 values of the form `sp0 + k` (see lift_add); keep
 * address arithmetic in lift_add/lift_sub/lift_and so they stay recognized.
 *
 * Invariants semantic functions must keep:
 *   1. Read state only through lift_get / lift_gpr / lift_xmm / lift_flag /
 *      lift_cond, write it only through lift_put / lift_set_gpr /
 *      lift_set_xmm / lift_flags_* / lift_set_flag: the partial evaluator
 *      tracks known values and stack slots there.
 *   2. Guest memory only through lift_load / lift_store (or lift_get/put on
 *      a memory operand): they fold frozen and read-only memory, forward
 *      stack slots and invalidate them on stores.
 *   3. Set flags at the instruction's real width; leave flags the
 *      instruction does not write untouched (no call = unchanged).
 *   4. A semantic function may add LLVM basic blocks (lift_new_bb) for
 *      loops inside one instruction (rep prefixes), but must end with the
 *      builder positioned in a block that continues with the next
 *      instruction, and values it leaves in the state must dominate it.
 *   5. Control transfer only through lift_jump / lift_branch / lift_call /
 *      lift_ret / lift_stop; after one of them no further state change. */
#ifndef LIFT_INTERNAL_H
#define LIFT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <llvm-c/Core.h>
#include <Zydis/Zydis.h>

#include "analyzer/an_forms.h"
#include "lineiform.h"

/* -- Checks ---------------------------------------------------------------- */

void lift_assert_fail(const char *file, int line, const char *msg) __attribute__((noreturn));
#define LF_ASSERT(cond, msg) \
    do { if (!(cond)) lift_assert_fail(__FILE__, __LINE__, (msg)); } while (0)
/* Untrusted input: true when x holds (which it "never" should not). */
#define LF_NEVER(x) __builtin_expect(!!(x), 0)
#define LF_TESTCASE(x) ((void)(x))

/* -- One decoded instruction ------------------------------------------------ */

struct lift_insn {
    uint64_t pc;                 /* guest address */
    unsigned len;
    enum an_form form;
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
};

/* ORDER: rflags bit order of the modeled flags is not relied on. */
enum lift_flag { LIFT_F_CF, LIFT_F_PF, LIFT_F_AF, LIFT_F_ZF, LIFT_F_SF, LIFT_F_OF,
                 LIFT_F_DF, LIFT_NFLAGS };

/* What defined a flag, computed only when read (lazy flags). */
enum lift_fop {
    LIFT_FOP_ADD, LIFT_FOP_ADC, LIFT_FOP_SUB, LIFT_FOP_SBB, LIFT_FOP_LOGIC,
    LIFT_FOP_INC, LIFT_FOP_DEC, LIFT_FOP_NEG,
    LIFT_FOP_SHL, LIFT_FOP_SHR, LIFT_FOP_SAR, /* a = value, b = masked count != 0 */
    LIFT_FOP_MUL,                             /* cin = i1 "high half significant" */
    LIFT_FOP__MAX
};

struct lift_fsrc {              /* one lazy flag source */
    enum lift_fop op;
    unsigned w;                 /* operand width in bits */
    LLVMValueRef a, b, r, cin;  /* iw operands and result; cin i1 or NULL */
};

struct lift_flagslot {
    LLVMValueRef v;             /* i1 once computed, else NULL */
    int src;                    /* index into lift_ctx.fsrc, -1 if none */
};

/* A store forwarded at lift time: bytes [off, off+bits/8) of the frame. */
struct lift_slot {
    int64_t off;
    unsigned bits;
    LLVMValueRef v;             /* NULL: a taint, see below */
    int priv;                   /* written by push: no C pointer reaches it */
    /* v == NULL: the bytes are not known but may hold the stack address
     * sp0 + taint (paths that joined disagreed).  Loading them makes that
     * address escape; overwriting them forgets it (lift_mem.c). */
    int64_t taint;
};
#define LIFT_MAX_SLOTS 160
#define LIFT_MAX_GSLOTS 8
#define LIFT_MAX_FSRC 256

/* Frame bytes a pointer that left the lifted code may reach: from the
 * escaped address up to the top of the (inline) frame holding it, since a
 * C object extends upwards from its address and never past its frame. */
#define LIFT_MAX_ESC 64
struct lift_esc {
    int n;
    struct {
        int64_t lo, hi;
        uint64_t entry;         /* owner frame: its function (0: any frame) ... */
        int64_t top;            /* ... and its sp_entry (lift_frame.c) */
    } r[LIFT_MAX_ESC];
};

/* How the current block ends (set by lift_jump & co.). */
enum lift_term_kind { LIFT_T_NONE, LIFT_T_JUMP, LIFT_T_BRANCH, LIFT_T_RET,
                      LIFT_T_STOP, LIFT_T_TAIL,
                      LIFT_T_SPLIT, /* branch on cond to this insn under cond=1 / cond=0 */
                      LIFT_T_SWITCH, /* jump table: dyn is one of ncase targets */
                      LIFT_T_GUARD   /* this insn again with dyn (== cond) = each of cases[0..ncase), or none */ };
struct lift_term {
    enum lift_term_kind kind;
    uint64_t target, fall;      /* guest addresses */
    int target_ctx, fall_ctx;   /* inline contexts of the successors */
    LLVMValueRef cond;          /* LIFT_T_BRANCH: i1 */
    LLVMValueRef dyn;           /* LIFT_T_TAIL, LIFT_T_SWITCH: unknown target (i64) */
    const uint64_t *cases;      /* LIFT_T_SWITCH: targets (+ case_bias) */
    unsigned ncase;
    uint64_t case_bias;
};

struct lift_job;                /* one specialization being lifted (lift_block.c) */
struct lift_mod;                /* one LLVM module being built (lift.c) */

/* -- The lifting context ---------------------------------------------------- */

struct lift_ctx {
    /* LLVM: semantic functions may use these directly. */
    LLVMContextRef lc;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMTypeRef i1, i8, i16, i32, i64, i128, f32, f64, v2i64, v2f64, v4f32;

    /* Guest state at the current point (private: use the accessors). */
    LLVMValueRef gpr[16];       /* ORDER: enum lift_gpr of lift_snippet.h */
    LLVMValueRef xmm[16];
    struct lift_flagslot flag[LIFT_NFLAGS];
    struct lift_fsrc fsrc[LIFT_MAX_FSRC];
    int nfsrc;
    struct lift_slot slot[LIFT_MAX_SLOTS];
    int nslot;
    /* Constants the lifted code stored at constant (global) addresses:
     * forwarded to loads until a store or native call that may reach them. */
    struct lift_gslot { uint64_t addr; unsigned bits; LLVMValueRef v; } gslot[LIFT_MAX_GSLOTS];
    int ngslot;
    unsigned flags_used, flags_defined; /* this block: read before written / written */

    /* Partial evaluation (lift_block.c, lift_mem.c). */
    int pe;                     /* 0 = snippet mode: nothing known, no frame */
    const struct lift_memsrc *mem;
    LLVMValueRef frame;         /* the frame alloca (i8 array), NULL without pe */
    LLVMValueRef sp0;           /* i64: rsp at the specialization's entry */
    int64_t frame_top;          /* byte offset of sp0 inside frame */
    struct lift_esc esc;        /* frame ranges reachable through escaped addresses */
    int64_t min_sp;             /* lowest rsp offset seen (frame sizing) */

    /* Current instruction, block and job. */
    const struct lift_insn *insn;
    int ctx_id;                 /* inline context of the current block */
    int blk_var;                /* 0; 1/2: block entered under split cond = 1/0; 3: a guard's
                                 * fallback; 4 + k: under the guard's case k */
    int blk_poly;               /* the block's polyvariant copy (lift_block.c) */
    struct lift_term term;
    struct lift_job *job;
    struct lift_mod *mod;
    char why[160];              /* first refusal */
    int bad;                    /* a helper refused: why says what */

    /* Emission: the inline frame each frame access belongs to (lift_frame.c
     * splits the frame by it). */
    struct lift_gep_owner { LLVMValueRef gep; uint64_t entry; int64_t top; } *gown;
    int ngown, capgown;
};

/* -- Semantic function table ------------------------------------------------ */

typedef enum lf_status (*lift_sem_fn)(struct lift_ctx *c, const struct lift_insn *i);
#define LF_X86_FORM(name, mn, shape, w, sw) \
    enum lf_status lift_sem_##name(struct lift_ctx *c, const struct lift_insn *i);
#include "analyzer/x86_forms.def"
#undef LF_X86_FORM
extern const lift_sem_fn lift_sem_table[AN_FORM__MAX];

/* -- Decoding (lift_decode.c) ------------------------------------------------ */

/* Decode the instruction at guest pc through the memory sources; i->form is
 * AN_FORM_NONE when the table does not list it.  LF_ERR_FORMAT when the
 * bytes are unreadable or undecodable. */
enum lf_status lift_decode(const struct lift_memsrc *mem, uint64_t pc, struct lift_insn *i);
/* "add rax, rbx" style text of i into buf. */
void lift_insn_text(const struct lift_insn *i, char *buf, size_t len);

/* -- Values and operands (lift_ops.c) --------------------------------------- */

LLVMValueRef lift_const(struct lift_ctx *c, unsigned bits, uint64_t v);
LLVMTypeRef lift_int(struct lift_ctx *c, unsigned bits);
int lift_is_const(LLVMValueRef v, uint64_t *out);  /* i1..i64 constants */
unsigned lift_bits(LLVMValueRef v);                 /* width of an integer value */
LLVMValueRef lift_zext(struct lift_ctx *c, LLVMValueRef v, unsigned bits); /* or trunc */
LLVMValueRef lift_sext(struct lift_ctx *c, LLVMValueRef v, unsigned bits); /* or trunc */
LLVMValueRef lift_trunc(struct lift_ctx *c, LLVMValueRef v, unsigned bits);

/* Width in bits of operand n (8..128). */
unsigned lift_width(const struct lift_insn *i, unsigned n);
/* Read operand n: register, memory or immediate (sign-extended to the
 * operand width), as iN with N = lift_width(i, n). */
LLVMValueRef lift_get(struct lift_ctx *c, const struct lift_insn *i, unsigned n);
/* Write operand n (register or memory) with an iN value.  A 32-bit GPR
 * write zero-extends to 64; 8/16-bit writes merge; an xmm write narrower
 * than 128 merges into the low bits (use lift_set_xmm to zero the rest). */
void lift_put(struct lift_ctx *c, const struct lift_insn *i, unsigned n, LLVMValueRef v);
/* Effective address of memory operand n as i64 (segment not applied). */
LLVMValueRef lift_ea(struct lift_ctx *c, const struct lift_insn *i, unsigned n);

/* Whole registers. */
LLVMValueRef lift_gpr(struct lift_ctx *c, ZydisRegister r);      /* iN of r's width */
void lift_set_gpr(struct lift_ctx *c, ZydisRegister r, LLVMValueRef v);
LLVMValueRef lift_gpr64(struct lift_ctx *c, int idx);                 /* i64 */
void lift_set_gpr64(struct lift_ctx *c, int idx, LLVMValueRef v64);
LLVMValueRef lift_xmm(struct lift_ctx *c, unsigned idx);         /* i128 */
void lift_set_xmm(struct lift_ctx *c, unsigned idx, LLVMValueRef v128);
/* Index 0..15 of a GPR or xmm register of any width, -1 if none. */
int lift_reg_index(ZydisRegister r);

/* Address arithmetic that keeps stack addresses (sp0 + k) recognizable. */
LLVMValueRef lift_add(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef lift_sub(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef lift_and(struct lift_ctx *c, LLVMValueRef a, LLVMValueRef b);
/* 1 and *off = k when v is the stack address sp0 + k. */
int lift_stack_off(const struct lift_ctx *c, LLVMValueRef v, int64_t *off);
LLVMValueRef lift_stack_addr(struct lift_ctx *c, int64_t off);
/* icmp p a, b, folded when both are addresses in the frame (lift_frame.c). */
LLVMValueRef lift_icmp(struct lift_ctx *c, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b);
/* rsp goes from old to v64: note a VLA area of the current frame (lift_frame.c). */
void lift_frame_note_sp(struct lift_ctx *c, LLVMValueRef old, LLVMValueRef v64);
/* 1, *off and *k when v is (sp0 + off) >> k, k a constant (gcc's VLA
 * pointer before it is scaled back, lift_block.c LIFT_AK_SHR). */
int lift_stack_shr(const struct lift_ctx *c, LLVMValueRef v, int64_t *off, LLVMValueRef *k);
/* A push to stack address slot: the function's saved-register area grows. */
void lift_frame_note_push(struct lift_ctx *c, LLVMValueRef slot);
/* The top of what an escaped frame address k can reach, given top, the top
 * of the frame holding it: the top of k's VLA area when it lies in one. */
int64_t lift_frame_clip(const struct lift_ctx *c, int64_t k, int64_t top);
/* lift_mem.c: the end of what a pointer to stack offset k may reach (its
 * frame's top, or its VLA area's); 1 when [off, off+bytes) lies in the
 * job's frame window (lift_job.h). */
int64_t lift_escape_hi(const struct lift_ctx *c, int64_t k);
int lift_in_window(const struct lift_ctx *c, int64_t off, unsigned bytes);
/* x * scale for an index register; (S >> log2 scale) * scale of a frame address S is S & -scale. */
LLVMValueRef lift_frame_scale(struct lift_ctx *c, LLVMValueRef x, unsigned scale);
/* (sp0 + k) >> s shifted left by s again (`shl rbx, 3` re-basing gcc's
 * VLA pointer): the frame address (sp0 + k) & -(1 << s); NULL otherwise. */
LLVMValueRef lift_frame_shl(struct lift_ctx *c, LLVMValueRef x, LLVMValueRef n);
/* After emission: frame accesses no escaped address reaches move to an
 * alloca of their own, which LLVM promotes (lift_frame.c). */
void lift_frame_split(struct lift_ctx *c, const struct lift_esc *esc);
/* The function of the inline frame on the current chain starting at top (0 if none). */
uint64_t lift_frame_owner(const struct lift_ctx *c, int64_t top);
/* 1 when the frame (entry, top) is on the current inline chain, or entry is 0. */
int lift_frame_live(const struct lift_ctx *c, uint64_t entry, int64_t top);

/* -- Memory (lift_mem.c) ------------------------------------------------------ */

/* Guest memory as seen by the lifter: the lift_memmap table of lift_aot.h
 * plus an optional predicate for memory that is constant but not listed
 * (in-process: the frozen arena, lf_is_frozen). */
struct lift_memmap;
struct lift_memsrc {
    const struct lift_memmap *maps;
    size_t nmaps;
    int (*is_const)(uint64_t guest, size_t n);   /* may be NULL */
};
/* Copy n guest bytes; returns 1 when every byte is constant, 0 when
 * readable but mutable, -1 when not readable. */
int lift_mem_read(const struct lift_memsrc *m, uint64_t guest, void *out, size_t n);

/* Load bits (8..128) from an i64 guest address; seg = ZYDIS_REGISTER_FS for
 * fs-relative, else ZYDIS_REGISTER_NONE.  Folds constant memory and
 * forwarded stack slots. */
LLVMValueRef lift_load(struct lift_ctx *c, LLVMValueRef addr, unsigned bits, ZydisRegister seg);
void lift_store(struct lift_ctx *c, LLVMValueRef addr, LLVMValueRef v, ZydisRegister seg);
/* A push: like lift_store, but the slot survives unknown stores and calls
 * even once the frame escaped (saved registers and return addresses are
 * not objects a C pointer may reach). */
void lift_store_private(struct lift_ctx *c, LLVMValueRef addr, LLVMValueRef v);
/* A call pushed its return address at stack offset sp: the bytes below
 * are the callee's to clobber, so what was forwarded there is forgotten
 * (a callee reading its uninitialized locals sees no stale frame address). */
void lift_slots_dead_below(struct lift_ctx *c, int64_t sp);
/* A pointer to bits-wide guest memory at addr (for memset/memcpy and
 * intrinsics); stores through it must be followed by lift_clobber_mem. */
LLVMValueRef lift_ptr(struct lift_ctx *c, LLVMValueRef addr, unsigned bits, ZydisRegister seg);
/* Forget forwarded memory that an unknown write (or call) may change. */
void lift_clobber_mem(struct lift_ctx *c);
/* Note that v (an i64) leaves the lifted code: a stack address escapes. */
void lift_note_escape(struct lift_ctx *c, LLVMValueRef v);
/* What a store the lifter does not follow may change: lift_clobber_stack,
 * the forwarded stack slots an escaped pointer reaches; lift_clobber_mem,
 * those and every forwarded global; lift_gslot_kill, the forwarded globals
 * overlapping [a, a+bytes). */
void lift_clobber_stack(struct lift_ctx *c);
void lift_gslot_kill(struct lift_ctx *c, uint64_t a, uint64_t bytes);
/* 1 when an escaped pointer may reach frame bytes [off, off+bytes). */
int lift_escaped(const struct lift_ctx *c, int64_t off, unsigned bytes);

/* -- Flags (lift_flags.c) ------------------------------------------------------ */

/* Define the flags op writes (per op: ADD/ADC/SUB/SBB/NEG all six, LOGIC
 * all six with CF=OF=0, AF=0, INC/DEC all but CF, shifts CF/OF/SF/ZF/PF
 * (AF=0) only when count != 0 (b = count, may be unknown), MUL CF/OF =
 * cin, SF/ZF/PF from r).  a, b, r are iw. */
void lift_flags_op(struct lift_ctx *c, enum lift_fop op, unsigned w,
                   LLVMValueRef a, LLVMValueRef b, LLVMValueRef r, LLVMValueRef cin);
LLVMValueRef lift_flag(struct lift_ctx *c, enum lift_flag f);          /* i1 */
void lift_set_flag(struct lift_ctx *c, enum lift_flag f, LLVMValueRef v1);
/* The condition cc (x86 encoding order: O NO B NB Z NZ BE NBE S NS P NP L
 * NL LE NLE = 0..15) as i1, straight from the flag source when it can. */
LLVMValueRef lift_cond(struct lift_ctx *c, unsigned cc);
/* Condition code of a SETcc/CMOVcc/Jcc mnemonic, -1 if none. */
int lift_cc_of(ZydisMnemonic m);
/* Compute every flag still lazy (before its sources go out of scope). */
void lift_flags_materialize(struct lift_ctx *c, unsigned mask);

/* -- Control (lift_block.c, lift_call.c) --------------------------------------- */

void lift_jump(struct lift_ctx *c, LLVMValueRef target);      /* i64, any */
void lift_branch(struct lift_ctx *c, LLVMValueRef cond, uint64_t taken, uint64_t fall);
/* A call to target (i64) with the return address i->pc + i->len. */
enum lf_status lift_call(struct lift_ctx *c, const struct lift_insn *i, LLVMValueRef target);
/* ret (imm = bytes popped after the return address). */
enum lf_status lift_ret(struct lift_ctx *c, uint64_t imm);
/* Code that traps (ud2, hlt) or a noreturn call: the path ends here. */
void lift_stop(struct lift_ctx *c);
/* A fresh LLVM block in the current function (for loops inside one
 * instruction). */
LLVMBasicBlockRef lift_new_bb(struct lift_ctx *c, const char *name);
/* Branch to llvm.trap when cond holds (a #DE, a snippet's stray jump) and go
 * on building where it does not; nothing when cond is the constant 0. */
void lift_trap_if(struct lift_ctx *c, LLVMValueRef cond);

/* Refuse: record why (first one wins) and return LF_ERR_UNSUPPORTED. */
enum lf_status lift_fail(struct lift_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* -- Shared LLVM set-up (lift_jit.c) ------------------------------------------- */

/* Initialize LLVM's native target once (thread-safe). */
void lift_llvm_init(void);
/* Fill the type fields of c from c->lc. */
void lift_ctx_types(struct lift_ctx *c);
/* Trace level from LINEIFORM_TRACE (0 = off). */
int lift_trace(void);
#define LF_DEBUG(level, ...) \
    do { if (lift_trace() >= (level)) fprintf(stderr, __VA_ARGS__); } while (0)

#endif
