/* test_lift_insn_forms.c -- every instruction form of analyzer/x86_forms.def,
 * at every operand width its row allows, gives the same state lifted as it
 * does on the CPU.
 *
 * The test list IS the table: this file expands LF_X86_FORM into one cmocka
 * test per row, and a row for which the generator below cannot produce an
 * encoding fails (no row can exist without its test).  For each (row, width,
 * source width) the generator encodes INSN_ENCODINGS concrete instructions
 * with the Zydis encoder (random registers incl. ah..bh and r8..r15,
 * immediates of each size, base+index*scale+disp, rsp-based, rip-relative
 * and fs-relative memory operands into the buffers of tests/tutil_insn.h),
 * checks that each
 * decodes back to exactly that row and width, lifts it with
 * lift_snippet_jit, and runs it natively and lifted from random states until
 * at least INSN_STATES states per width are done.  Compared: all 16 GPRs,
 * the flags the instruction defines (Zydis cpu_flags, refined per state for
 * shift and rotate counts), all xmm registers, and every byte of the test
 * buffer, the scratch stack and a thread-local buffer (fs-relative
 * operands).
 *
 * Snippet shapes (the contract of lift_snippet.h: every path falls off the
 * end):
 *   jcc/jmp rel       jcc L; mov ecx, imm32; L:
 *   jmp reg/mem       the same, the register or memory holding L
 *   call rel/reg/mem  call F; jmp L; F: mov eax, imm32; ret; L:
 *                     F is an ABI-conforming function (it sets the return
 *                     register), so what the SysV ABI leaves undefined after
 *                     a call is not compared: the status flags, the
 *                     caller-saved registers other than rax/rdx/xmm0/xmm1,
 *                     and the 8 bytes below the final rsp (the popped return
 *                     address).  A lifter may inline F or call it natively.
 *                     As the ABI requires, DF is clear at the call.
 *   ret               [rsp] holds the address just past the ret
 *   hlt, ud2          both sides must trap (the signal number is not
 *                     compared: hlt raises SIGSEGV, a compiled trap SIGILL)
 * State constraints, ruled out by construction rather than skipped:
 *   div/idiv          the divisor is non-zero and the quotient fits; the
 *                     divisor register never overlaps the dividend (div rdx
 *                     always raises #DE), nor does a memory operand's base
 *   shifts by cl      rcx is not used as base or index of the memory operand
 *   bt* [m], r        the bit offset is within +-128 (a register offset
 *                     addresses memory up to 2^60 bytes away) and its
 *                     register does not address m
 *   128-bit SSE memory operands are 16-byte aligned (legacy SSE faults
 *                     otherwise) except for movups/movupd/movdqu: any
 *                     address; no absolute [index*scale+disp32] operands
 *                     (the arena is not in the low 2 GB).
 * Environment: LF_INSN_STATES (default 1000 per width), LF_INSN_SEED,
 * LF_INSN_ONLY=<substring of a form name>, LF_INSN_VERBOSE=1 (print every
 * encoded snippet). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/an_forms.h"
#include "lifter/lift_snippet.h"
#include "tests/tutil.h"
#include "tests/tutil_insn.h"

#define INSN_ENCODINGS 3
#define INSN_ATTEMPTS 400

enum kind { K_PLAIN, K_SHIFT, K_DIV, K_IDIV, K_STRING, K_JCC, K_JMP_IND, K_CALL,
            K_CALL_IND, K_RET, K_TRAP, K_LEAVE, K_BITMEM, K_SYSCALL };

struct gcase {
    enum an_form form;
    const struct an_form_info *fi;
    enum kind kind;
    unsigned w, sw;               /* requested widths in bits, 0 = natural */
    uint8_t code[64];
    size_t len, insn_len;         /* snippet, and the form's own instruction */
    size_t pre_len;               /* flag producer before it (0 = none) */
    unsigned pre_undef;           /* flags the producer leaves undefined */
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
    /* the memory operand, if any */
    int has_mem, agen, mem_rip, mem_stack, mem_fs;
    ZydisRegister base, index;
    unsigned scale, msize;
    int align;                    /* legacy SSE 16-byte operand: must be aligned */
    int64_t disp;
    uint32_t rip_off;             /* rip-relative: fixed target in the data block */
    uint32_t fs_off;              /* fs-relative: fixed target in the TLS buffer */
    /* what the kind's fixup needs */
    ZydisRegister ind_reg;        /* jmp/call through this register */
    uint64_t ind_target;          /* where jmp/call reg/mem must go */
    int shift_imm;                /* shift count immediate, -1 = cl */
    int rep;
    ZydisInstructionAttributes pfx; /* extra prefixes (fs: for the stack-protector load) */
};

#define STATE_MEM (TU_DATA_SIZE + TU_TLS_SIZE)
#define STATE_TLS(st) ((st)->data + TU_DATA_SIZE)

struct gstate {                   /* one random state and where its operand is */
    struct lift_cpu cpu;
    uint8_t data[STATE_MEM];      /* the arena's data block, then the TLS buffer */
    uint64_t ea;                  /* effective address of the memory operand */
    uint8_t *eap;                 /* the operand's bytes in data[] or tls[] */
    unsigned count;               /* shift count in effect */
};

struct gstats { unsigned long states, failures, encodings; int printed; };

static unsigned insn_states = 1000;
static const char *insn_only;
static int insn_verbose;

/* -- Registers ------------------------------------------------------------- */

/* GPRs a kind's state fixup owns, so no register operand may use them. */
static unsigned reserved_gprs(enum kind k)
{
    switch (k) {
    case K_DIV: case K_IDIV: return 1u << 0 | 1u << 2;     /* rax, rdx */
    case K_JMP_IND: case K_CALL_IND: return 1u << 4;         /* rsp */
    default: return 0;
    }
}

/* ... and the ones a memory operand's base or index may not use: those,
 * rcx when cl is a shift count, and rsp (rsp-based operands are a mode of
 * their own, see pick_mem). */
static unsigned reserved_addr_gprs(const struct gcase *g)
{
    unsigned r = reserved_gprs(g->kind) | 1u << 4;
    if (strstr(an_shape_name(g->fi->shape), "CL")) r |= 1u << 1;
    return r;
}

static enum kind kind_of(const struct an_form_info *fi)
{
    switch (fi->mnemonic) {
    case ZYDIS_MNEMONIC_SHL: case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR:
    case ZYDIS_MNEMONIC_SHLD: case ZYDIS_MNEMONIC_SHRD: return K_SHIFT;
    case ZYDIS_MNEMONIC_DIV: return K_DIV;
    case ZYDIS_MNEMONIC_IDIV: return K_IDIV;
    case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ:
    case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSQ:
        return K_STRING;
    case ZYDIS_MNEMONIC_MOVSD: return fi->shape == AN_SH_NONE ? K_STRING : K_PLAIN;
    case ZYDIS_MNEMONIC_JMP: return fi->shape == AN_SH_REL ? K_JCC : K_JMP_IND;
    case ZYDIS_MNEMONIC_CALL: return fi->shape == AN_SH_REL ? K_CALL : K_CALL_IND;
    case ZYDIS_MNEMONIC_RET: return K_RET;
    case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_UD2: case ZYDIS_MNEMONIC_INT3: case ZYDIS_MNEMONIC_UD1:
        return K_TRAP;
    case ZYDIS_MNEMONIC_SYSCALL: return K_SYSCALL;
    case ZYDIS_MNEMONIC_LEAVE: return K_LEAVE;
    case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC:
        return fi->shape == AN_SH_M_R ? K_BITMEM : K_PLAIN;
    default: return fi->shape == AN_SH_REL ? K_JCC : K_PLAIN;
    }
}

/* -- Operands -------------------------------------------------------------- */

/* Immediate for an operand of width w, by variant: small, full-size, edge. */
static int64_t pick_imm(const struct gcase *g, unsigned w, int variant)
{
    if (g->kind == K_SHIFT) {
        static const int counts[] = { 0, 1, -1, -2, 32, 63, 255, 2 };
        int c = counts[variant % 8];
        return c == -1 ? (int64_t)w - 1 : c == -2 ? (int64_t)w : c;
    }
    if (g->fi->shape == AN_SH_X_I) { /* packed shift counts: 0, 1, lane widths -1/0/+1, > 127 */
        static const int counts[] = { 0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 127, 128, 255 };
        return tu_rand_below(4) ? counts[tu_rand_below(15)] : (int64_t)tu_rand_below(256);
    }
    switch (g->fi->mnemonic) { /* bt* r/m, imm8: offsets past the width wrap */
    case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC:
        return variant & 1 ? (int64_t)tu_rand_below(w ? w : 64) : (int64_t)tu_rand_below(128);
    default: break;
    }
    if (g->fi->mnemonic == ZYDIS_MNEMONIC_CMPSD) /* every predicate; bits 7:3 are ignored */
        return (variant & 7) | (int64_t)(tu_rand_below(2) ? tu_rand() & 0x78 : 0);
    /* only mov r64, imm64 takes a 64-bit immediate; the rest sign-extend imm32 */
    unsigned k = w > 32 && g->fi->shape != AN_SH_R_I ? 32 : (w ? w : 32);
    if (w > 32 && g->fi->mnemonic != ZYDIS_MNEMONIC_MOV) k = 32;
    uint64_t v;
    switch ((variant + tu_rand_below(2)) % 4) {
    case 0: v = tu_rand() % 256 - 128; break;
    case 1: v = tu_rand_int(k); break;
    case 2: v = (tu_rand() & 1) ? (1ull << (k - 1)) : (1ull << (k - 1)) - 1; break;
    default: v = tu_rand(); break;
    }
    if (k < 64) { /* sign-extend from k bits so the encoder accepts it */
        uint64_t m = 1ull << (k - 1);
        v &= (m << 1) - 1;
        v = (v ^ m) - m;
    }
    return (int64_t)v;
}

static ZydisEncoderOperand pick_mem(struct gcase *g, unsigned size, int variant)
{
    unsigned allowed = 0xffffu & ~reserved_addr_gprs(g);
    g->msize = size;
    g->align = size >= 16 && g->fi->mnemonic != ZYDIS_MNEMONIC_MOVUPS &&
               g->fi->mnemonic != ZYDIS_MNEMONIC_MOVUPD && g->fi->mnemonic != ZYDIS_MNEMONIC_MOVDQU;
    g->mem_rip = g->mem_stack = g->mem_fs = 0;
    g->index = ZYDIS_REGISTER_NONE;
    g->scale = 1u << tu_rand_below(4);
    int mode = (variant + (int)tu_rand_below(3)) % 7;
    int64_t d[] = { 0, (int64_t)(tu_rand() % 255) - 127,
                    (int64_t)(int32_t)(uint32_t)tu_rand(), 8 * ((int64_t)tu_rand_below(16) - 8) };
    g->disp = d[tu_rand_below(4)];
    if (mode == 6 && !g->agen) { /* fs-relative: thread-local data */
        g->mem_fs = 1;
        g->pfx |= ZYDIS_ATTRIB_HAS_SEGMENT_FS;
        g->fs_off = tu_rand_below(TU_TLS_SIZE - 16);
        if (g->align) g->fs_off &= ~15u;
        g->base = tu_rand() & 1 ? tu_pick_gpr(64, allowed) : ZYDIS_REGISTER_NONE;
        g->disp = tu_insn_tls_off() + (g->base == ZYDIS_REGISTER_NONE ? g->fs_off : 0);
        return tu_op_mem(g->base, ZYDIS_REGISTER_NONE, 0, g->disp, size);
    }
    if (mode == 3) { /* rip-relative into the test buffer (lea: just an address) */
        g->mem_rip = 1;
        g->rip_off = 64 + tu_rand_below(TU_MEM_SIZE - 128);
        if (g->align) g->rip_off &= ~15u;
        g->base = ZYDIS_REGISTER_RIP;
        uint64_t t = (uint64_t)(uintptr_t)tu_insn_data() + g->rip_off;
        return tu_op_mem(ZYDIS_REGISTER_RIP, ZYDIS_REGISTER_NONE, 0, (int64_t)t, size);
    }
    if (mode == 4) { /* rsp-based, into the scratch stack */
        g->mem_stack = 1;
        g->base = ZYDIS_REGISTER_RSP;
        g->disp = (int64_t)tu_rand_below(256) - 128;
        if (g->align) g->disp &= ~15;
        else if (tu_rand() & 1) g->index = tu_pick_gpr(64, allowed & ~(1u << 4));
        return tu_op_mem(g->base, g->index, g->scale, g->disp, size);
    }
    g->base = tu_pick_gpr(64, g->agen ? 0xffffu : allowed);
    if (mode == 0 || mode == 5) {
        do g->index = tu_pick_gpr(64, allowed & ~(1u << 4)); while (g->index == g->base);
    }
    if (mode == 2 || mode == 5) g->disp = 0;
    return tu_op_mem(g->base, g->index, g->scale, g->disp, size);
}

static const unsigned mem_sizes[] = { 8, 4, 16, 2, 1 };

/* Fill the request operands from the row's shape; 0 if the shape has a
 * token this generator does not know. */
static int build_operands(struct gcase *g, ZydisEncoderOperand *ops, unsigned *nops, int variant)
{
    char shape[16];
    snprintf(shape, sizeof shape, "%s", an_shape_name(g->fi->shape));
    unsigned n = 0, allowed = 0xffffu & ~reserved_gprs(g->kind);
    for (char *tok = strtok(shape, "_"); tok; tok = strtok(NULL, "_")) {
        unsigned want = n == 0 ? g->w : n == 1 ? (g->sw ? g->sw : g->w) : 0;
        if (!strcmp(tok, "NONE") || !strcmp(tok, "REL")) break; /* build_snippet's job */
        if (!strcmp(tok, "R")) {
            static const unsigned ws[] = { 64, 32, 16, 8 };
            unsigned w = want ? want : ws[tu_rand_below(4)];
            ZydisRegister r = tu_pick_gpr(w, allowed);
            if (g->kind == K_JMP_IND || g->kind == K_CALL_IND || g->kind == K_BITMEM) g->ind_reg = r;
            ops[n++] = tu_op_reg(r);
        } else if (!strcmp(tok, "X")) {
            ops[n++] = tu_op_reg((ZydisRegister)(ZYDIS_REGISTER_XMM0 + tu_rand_below(16)));
        } else if (!strcmp(tok, "M")) {
            unsigned size = want && !(n == 1 && !g->sw && tu_rand_below(3) == 0)
                ? want / 8 : mem_sizes[tu_rand_below(5)];
            g->has_mem = 1;
            ops[n++] = pick_mem(g, size, variant);
        } else if (!strcmp(tok, "I")) {
            /* SSE immediates (pshufd, cmpsd) are 8-bit */
            unsigned iw = strchr(an_shape_name(g->fi->shape), 'X') ? 8 : g->w ? g->w : 32;
            ops[n++] = tu_op_imm(pick_imm(g, iw, variant));
            if (g->kind == K_SHIFT) g->shift_imm = (int)ops[n - 1].imm.s;
        } else if (!strcmp(tok, "CL")) {
            ops[n++] = tu_op_reg(ZYDIS_REGISTER_CL);
        } else {
            return 0;
        }
    }
    *nops = n;
    return 1;
}


static unsigned flags_written(const ZydisDecodedInstruction *zi)
{
    const ZydisAccessedFlags *f = zi->cpu_flags;
    return f ? (unsigned)(f->modified | f->set_0 | f->set_1 | f->undefined) : 0;
}

/* -- Encoding ---------------------------------------------------------------- */

static int decode_first(struct gcase *g)
{
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, g->code + g->pre_len, g->len - g->pre_len,
                                             &g->zi, g->zo))) return 0;
    g->insn_len = g->zi.length;
    if (an_form_classify(&g->zi, g->zo) != g->form) return 0;
    if (g->w && g->zo[0].size != g->w) return 0;
    if (g->sw && g->zo[1].size != g->sw) return 0;
    return 1;
}

/* Append "mov r32, 0x5a5a5a5a" (what a taken branch skips, or a callee's
 * body). */
static size_t put_marker(uint8_t *p, uint64_t addr, ZydisRegister r)
{
    ZydisEncoderOperand ops[2] = { tu_op_reg(r), tu_op_imm(0x5a5a5a5a) };
    return tu_encode(p, addr, ZYDIS_MNEMONIC_MOV, 0, 2, ops);
}

/* The snippet around the form's own instruction, per kind (see the top). */
static int build_snippet(struct gcase *g, const ZydisEncoderOperand *ops, unsigned nops, int variant)
{
    /* the form's instruction goes after the flag producer, if any */
    uint8_t *o = g->code + g->pre_len;
    uint64_t s = (uint64_t)(uintptr_t)tu_insn_snippet() + g->pre_len;
    uint8_t mark[16];
    int call = g->kind == K_CALL || g->kind == K_CALL_IND;
    size_t ml = put_marker(mark, 0, call ? ZYDIS_REGISTER_EAX : ZYDIS_REGISTER_ECX), l0, n;
    ZydisMnemonic m = g->fi->mnemonic;
    switch (g->kind) {
    case K_JCC: {
        ZydisBranchWidth bw = variant & 2 ? ZYDIS_BRANCH_WIDTH_32 : ZYDIS_BRANCH_WIDTH_8;
        l0 = tu_encode_branch(o, s, m, bw, s + 16);
        if (!l0 || tu_encode_branch(o, s, m, bw, s + l0 + ml) != l0) return 0;
        memcpy(o + l0, mark, ml);
        n = l0 + ml;
        break;
    }
    case K_CALL: case K_CALL_IND: {
        l0 = g->kind == K_CALL ? tu_encode_branch(o, s, m, ZYDIS_BRANCH_WIDTH_32, s + 16)
                               : tu_encode(o, s, m, 0, nops, ops);
        if (!l0) return 0;
        uint64_t f = s + l0 + 2, end = f + ml + 1;
        if (g->kind == K_CALL && !tu_encode_branch(o, s, m, ZYDIS_BRANCH_WIDTH_32, f)) return 0;
        if (tu_encode_branch(o + l0, s + l0, ZYDIS_MNEMONIC_JMP, ZYDIS_BRANCH_WIDTH_8, end) != 2)
            return 0;
        memcpy(o + l0 + 2, mark, ml);
        o[l0 + 2 + ml] = 0xc3; /* ret: no operands, nothing to encode */
        n = l0 + 2 + ml + 1;
        g->ind_target = f;
        break;
    }
    default: {
        ZydisInstructionAttributes rep = g->kind == K_STRING && (variant & 1) ? ZYDIS_ATTRIB_HAS_REP : 0;
        g->rep = rep != 0;
        l0 = tu_encode(o, s, m, g->pfx | rep, nops, ops);
        if (!l0) return 0;
        n = l0;
        if (g->kind == K_JMP_IND || g->kind == K_TRAP) {
            memcpy(o + l0, mark, ml);
            n += ml;
        }
        break;
    }
    }
    g->len = g->pre_len + n;
    if (g->kind == K_JMP_IND || g->kind == K_TRAP || g->kind == K_RET)
        g->ind_target = (uint64_t)(uintptr_t)tu_insn_snippet() + g->len;
    return 1;
}

/* Forms that read flags (cc forms, adc, sbb): half their encodings put a
 * flag-setting instruction before them, so the lifter's flag sources (not
 * just flags loaded from the state) feed the condition. */
static int reads_flags(const struct an_form_info *fi)
{
    const char *n = fi->name;
    return fi->mnemonic == ZYDIS_MNEMONIC_ADC || fi->mnemonic == ZYDIS_MNEMONIC_SBB ||
           !strncmp(n, "SET", 3) || !strncmp(n, "CMOV", 4) ||
           (fi->shape == AN_SH_REL && fi->mnemonic != ZYDIS_MNEMONIC_JMP &&
            fi->mnemonic != ZYDIS_MNEMONIC_CALL);
}

/* A random flag producer at the snippet's start (tu_flag_producer), one
 * of the table's forms, writing no register in avoid; sets pre_len and
 * pre_undef. */
static int put_producer(struct gcase *g, unsigned avoid)
{
    unsigned undef;
    size_t len = tu_flag_producer(g->code, (uint64_t)(uintptr_t)tu_insn_snippet(), avoid, &undef);
    ZydisDecoder d;
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    if (!len || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, g->code, len, &zi, zo)) ||
        !an_form_classify(&zi, zo)) return 0;
    g->pre_len = len;
    g->pre_undef = undef;
    return 1;
}

static int encode_case(struct gcase *g, int variant)
{
    for (int attempt = 0; attempt < INSN_ATTEMPTS; attempt++) {
        ZydisEncoderOperand ops[4];
        unsigned nops = 0;
        g->has_mem = 0;
        g->pfx = 0;
        g->ind_reg = ZYDIS_REGISTER_NONE;
        g->shift_imm = -1;
        g->agen = g->fi->mnemonic == ZYDIS_MNEMONIC_LEA || g->fi->mnemonic == ZYDIS_MNEMONIC_NOP;
        if (!strncmp(g->fi->name, "LOCK_", 5)) g->pfx = ZYDIS_ATTRIB_HAS_LOCK; /* the row's prefix */
        if (!build_operands(g, ops, &nops, variant)) return 0;
        if (g->form == AN_FORM_MOV_R_M && variant % 8 == 7) {
            /* mov r, fs:[0x28] / fs:[0]: the stack protector's canary and
             * the thread pointer; the lifted code runs in the same thread. */
            g->pfx = ZYDIS_ATTRIB_HAS_SEGMENT_FS;
            g->has_mem = 0;
            ops[1] = tu_op_mem(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, attempt & 1 ? 0 : 0x28, g->w / 8);
        }
        g->pre_len = 0;
        g->pre_undef = 0;
        if ((variant & 1) && reads_flags(g->fi)) {
            unsigned avoid = 0;
            if (g->has_mem && tu_gpr_index(g->base, NULL) >= 0) avoid |= 1u << tu_gpr_index(g->base, NULL);
            if (g->has_mem && g->index != ZYDIS_REGISTER_NONE) avoid |= 1u << tu_gpr_index(g->index, NULL);
            if (!put_producer(g, avoid)) continue;
        }
        /* bt [m], r: the bit offset register must not also address m */
        if (g->kind == K_BITMEM && g->has_mem && (tu_gpr_index(g->ind_reg, NULL) == tu_gpr_index(g->base, NULL) ||
                                                  tu_gpr_index(g->ind_reg, NULL) == tu_gpr_index(g->index, NULL)))
            continue;
        if (!build_snippet(g, ops, nops, variant) || !decode_first(g)) continue;
        /* the form must not read a flag the producer left undefined */
        if (g->zi.cpu_flags && (g->pre_undef & g->zi.cpu_flags->tested)) continue;
        return 1;
    }
    return 0;
}

/* -- States ------------------------------------------------------------------ */

static uint64_t mask_w(unsigned w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }

static void random_state(struct gstate *st)
{
    for (int k = 0; k < 16; k++) st->cpu.gpr[k] = tu_rand_int(64);
    st->cpu.gpr[4] = (uint64_t)(uintptr_t)tu_insn_stack() + 2048 - 16 * tu_rand_below(8);
    st->cpu.rflags = tu_rand() & TU_FLAGS_MASK;
    for (int k = 0; k < 16; k++) {
        uint64_t h[2] = { tu_rand_fp64(), tu_rand_fp64() };
        memcpy(st->cpu.xmm[k], h, 16);
    }
    for (size_t i = 0; i < STATE_MEM; i += 8) {
        uint64_t v = tu_rand();
        memcpy(st->data + i, &v, 8);
    }
}

static int64_t sext(uint64_t v, unsigned w)
{
    if (w >= 64) return (int64_t)v;
    uint64_t m = 1ull << (w - 1);
    v &= mask_w(w);
    return (int64_t)((v ^ m) - m);
}

static uint8_t *data_at(struct gstate *st, uint64_t ea)
{
    uint64_t base = (uint64_t)(uintptr_t)tu_insn_data();
    return ea - base <= TU_DATA_SIZE - 16 ? st->data + (ea - base) : NULL;
}

/* An edge value (integer or floating-point, by the form) into 16 bytes at p. */
static void put_value(const struct gcase *g, uint8_t *p)
{
    int sse = strchr(an_shape_name(g->fi->shape), 'X') != NULL;
    uint64_t v[2] = { sse ? tu_rand_fp64() : tu_rand_int(g->msize * 8),
                      sse ? tu_rand_fp64() : tu_rand_int(64) };
    memcpy(p, v, 16);
}

/* Point the memory operand at the test buffer, the stack or the TLS buffer
 * and put an edge value there. */
static void place_mem(const struct gcase *g, struct gstate *st)
{
    if (!g->has_mem || g->agen) return;
    uint64_t data = (uint64_t)(uintptr_t)tu_insn_data(), iv = 0, ea;
    if (g->mem_fs) {
        if (g->base != ZYDIS_REGISTER_NONE) st->cpu.gpr[tu_gpr_index(g->base, NULL)] = g->fs_off;
        st->ea = (uint64_t)(uintptr_t)tu_insn_tls() + g->fs_off;
        st->eap = STATE_TLS(st) + g->fs_off;
        put_value(g, st->eap);
        return;
    }
    if (g->mem_rip) {
        ea = data + g->rip_off;
    } else if (g->mem_stack) {
        if (g->index != ZYDIS_REGISTER_NONE) iv = (uint64_t)((int64_t)tu_rand_below(17) - 8);
        ea = st->cpu.gpr[4] + iv * g->scale + (uint64_t)g->disp;
    } else {
        unsigned t = 64 + tu_rand_below(TU_MEM_SIZE - 160);
        if (g->align) t &= ~15u;
        ea = data + t;
        if (g->index != ZYDIS_REGISTER_NONE) iv = tu_rand_below(4) ? tu_rand_int(64) : tu_rand_below(64);
        st->cpu.gpr[tu_gpr_index(g->base, NULL)] = ea - iv * g->scale - (uint64_t)g->disp;
    }
    if (g->index != ZYDIS_REGISTER_NONE) st->cpu.gpr[tu_gpr_index(g->index, NULL)] = iv;
    st->ea = ea;
    st->eap = data_at(st, ea);
    if (!st->eap) fail_msg("memory operand outside the arena (generator bug)");
    put_value(g, st->eap);
}

static void fix_div(const struct gcase *g, struct gstate *st)
{
    unsigned w = g->w;
    uint64_t d, lo, hi;
    if (g->kind == K_DIV) {
        do d = tu_rand_int(w) & mask_w(w); while (!d);
        hi = tu_rand_int(w) % d;
        lo = tu_rand_int(w);
    } else {
        int64_t sd, q, r;
        do sd = sext(tu_rand_int(w), w); while (!sd);
        q = sext(tu_rand_int(w), w);
        __int128 ad = sd < 0 ? -(__int128)sd : sd;
        r = (int64_t)((__int128)(tu_rand() & 0x7fffffffffffffffull) % ad);
        __int128 prod = (__int128)q * sd;
        if (prod < 0 || (prod == 0 && (tu_rand() & 1))) r = -r;
        __int128 n = prod + r;
        d = (uint64_t)sd;
        lo = (uint64_t)n;
        hi = (uint64_t)(n >> w);
    }
    if (w == 8) {
        st->cpu.gpr[0] = (st->cpu.gpr[0] & ~0xffffull) | (hi & 0xff) << 8 | (lo & 0xff);
    } else {
        st->cpu.gpr[0] = (st->cpu.gpr[0] & ~mask_w(w)) | (lo & mask_w(w));
        st->cpu.gpr[2] = (st->cpu.gpr[2] & ~mask_w(w)) | (hi & mask_w(w));
    }
    if (g->zo[0].type == ZYDIS_OPERAND_TYPE_REGISTER) tu_set_reg(&st->cpu, g->zo[0].reg.value, d);
    else memcpy(st->eap, &d, w / 8);
}

/* State constraints of the form's kind (see the top of the file). */
static void fix_kind(const struct gcase *g, struct gstate *st)
{
    uint64_t rsp = st->cpu.gpr[4], mem = (uint64_t)(uintptr_t)tu_insn_mem();
    switch (g->kind) {
    case K_SHIFT:
        if (g->shift_imm >= 0) {
            st->count = (unsigned)g->shift_imm;
        } else {
            static const unsigned cl[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };
            st->count = tu_rand_below(4) ? cl[tu_rand_below(16)] : tu_rand_below(256);
            tu_set_reg(&st->cpu, ZYDIS_REGISTER_CL, st->count);
        }
        break;
    case K_DIV: case K_IDIV:
        fix_div(g, st);
        break;
    case K_STRING:
        st->cpu.gpr[7] = mem + 256 + tu_rand_below(TU_MEM_SIZE - 512);
        st->cpu.gpr[6] = mem + 256 + tu_rand_below(TU_MEM_SIZE - 512);
        if (g->rep) st->cpu.gpr[1] = tu_rand_below(3) ? tu_rand_below(24) : tu_rand_below(2);
        break;
    case K_CALL:
        st->cpu.rflags &= ~(uint64_t)LIFT_DF;   /* the ABI: DF is clear at a call */
        break;
    case K_JMP_IND: case K_CALL_IND:
        if (g->kind == K_CALL_IND) st->cpu.rflags &= ~(uint64_t)LIFT_DF;
        if (g->ind_reg != ZYDIS_REGISTER_NONE) tu_set_reg(&st->cpu, g->ind_reg, g->ind_target);
        else memcpy(st->eap, &g->ind_target, 8);
        break;
    case K_RET:
        memcpy(data_at(st, rsp), &g->ind_target, 8);
        break;
    case K_LEAVE:
        st->cpu.gpr[5] = rsp + 8 * tu_rand_below(32);
        break;
    case K_SYSCALL: /* a number no kernel has (-ENOSYS, nothing done), TF and AC clear */
        st->cpu.gpr[0] = 1000 + tu_rand_below(1000);
        break;
    case K_BITMEM: /* a bit offset within 16 bytes of the operand either way */
        tu_set_reg(&st->cpu, g->ind_reg, (uint64_t)((int64_t)tu_rand_below(256) - 128));
        break;
    default:
        break;
    }
}

/* Flags undefined after the snippet in this state: the form's own, and the
 * producer's that the form does not overwrite. */
static unsigned undefined_flags(const struct gcase *g, const struct gstate *st)
{
    unsigned u = g->zi.cpu_flags ? (unsigned)g->zi.cpu_flags->undefined : 0;
    if (g->kind == K_CALL || g->kind == K_CALL_IND) return TU_FLAGS_MASK & ~LIFT_DF;
    if (g->kind == K_SHIFT) u = tu_shift_undef(g->fi->mnemonic, g->zo[0].size, st->count);
    return u | (g->pre_undef & ~flags_written(&g->zi));
}

/* -- Comparison -------------------------------------------------------------------- */

static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

/* Describe differences into buf (empty when equal). */
static void diff_state(char *buf, size_t n, const struct gcase *g, const struct gstate *in,
                       const struct lift_cpu *a, const uint8_t *da,
                       const struct lift_cpu *b, const uint8_t *db, unsigned undef)
{
    size_t o = 0;
    buf[0] = 0;
#define ADD(...) do { if (o < n) o += (size_t)snprintf(buf + o, n - o, __VA_ARGS__); } while (0)
    /* after a call: rcx rsi rdi r8-r11 and xmm2-15 are the ABI's scratch */
    int call = g->kind == K_CALL || g->kind == K_CALL_IND;
    unsigned skip_gpr = call ? 0x0fc2u : 0, skip_xmm = call ? 0xfffcu : 0;
    for (int k = 0; k < 16; k++)
        if (a->gpr[k] != b->gpr[k] && !(skip_gpr >> k & 1))
            ADD(" %s: in %#llx native %#llx lifted %#llx;", gpr_names[k],
                (unsigned long long)in->cpu.gpr[k], (unsigned long long)a->gpr[k],
                (unsigned long long)b->gpr[k]);
    unsigned fm = TU_FLAGS_MASK & ~undef;
    if ((a->rflags ^ b->rflags) & fm)
        ADD(" rflags: in %#llx native %#llx lifted %#llx (compared %#x);",
            (unsigned long long)in->cpu.rflags, (unsigned long long)(a->rflags & TU_FLAGS_MASK),
            (unsigned long long)(b->rflags & TU_FLAGS_MASK), fm);
    for (int k = 0; k < 16; k++)
        if (memcmp(a->xmm[k], b->xmm[k], 16) && !(skip_xmm >> k & 1)) {
            uint64_t x[2], y[2], z[2];
            memcpy(x, in->cpu.xmm[k], 16), memcpy(y, a->xmm[k], 16), memcpy(z, b->xmm[k], 16);
            ADD(" xmm%d: in %016llx:%016llx native %016llx:%016llx lifted %016llx:%016llx;", k,
                (unsigned long long)x[1], (unsigned long long)x[0], (unsigned long long)y[1],
                (unsigned long long)y[0], (unsigned long long)z[1], (unsigned long long)z[0]);
        }
    size_t skip_lo = 0, skip_hi = 0;
    if (call) {
        skip_hi = (size_t)(in->cpu.gpr[4] - (uint64_t)(uintptr_t)tu_insn_data());
        skip_lo = skip_hi - 8;
    }
    if (!memcmp(da, db, STATE_MEM)) return;
    for (size_t i = 0; i < STATE_MEM; i++)
        if (da[i] != db[i] && (i < skip_lo || i >= skip_hi)) {
            const char *where = i < TU_MEM_SIZE ? "buf" : i < TU_DATA_SIZE ? "stack" : "tls";
            size_t at = i < TU_MEM_SIZE ? i : i < TU_DATA_SIZE ? i - TU_MEM_SIZE : i - TU_DATA_SIZE;
            ADD(" memory[%s+%zu]: in %02x native %02x lifted %02x;", where, at, in->data[i], da[i], db[i]);
            break;
        }
#undef ADD
}

static void report(struct gstats *s, const struct gcase *g, const char *what)
{
    s->failures++;
    if (s->printed++ >= 3) return;
    char hex[200];
    tu_hex(hex, sizeof hex, g->code, g->len);
    print_message("  %s w=%u sw=%u code \"%s\":%s\n", an_form_name(g->form), g->w, g->sw, hex, what);
}

/* Run one state natively and lifted; count a failure on any difference. */
static void run_state(struct gstats *s, const struct gcase *g, lift_snippet_fn fn, struct gstate *st)
{
    static uint8_t dn[STATE_MEM], dl[STATE_MEM];
    struct lift_cpu cn = st->cpu, cl;
    memcpy(tu_insn_data(), st->data, TU_DATA_SIZE);
    memcpy(tu_insn_tls(), STATE_TLS(st), TU_TLS_SIZE);
    int sn = tu_insn_run_native(&cn);
    memcpy(dn, tu_insn_data(), TU_DATA_SIZE);
    memcpy(dn + TU_DATA_SIZE, tu_insn_tls(), TU_TLS_SIZE);
    cl = st->cpu;
    cl.rflags = (cl.rflags & TU_FLAGS_MASK) | 2u;
    memcpy(tu_insn_data(), st->data, TU_DATA_SIZE);
    memcpy(tu_insn_tls(), STATE_TLS(st), TU_TLS_SIZE);
    int sl = tu_insn_run_lifted(fn, &cl);
    memcpy(dl, tu_insn_data(), TU_DATA_SIZE);
    memcpy(dl + TU_DATA_SIZE, tu_insn_tls(), TU_TLS_SIZE);
    s->states++;
    char buf[1024];
    if (g->kind == K_TRAP) {
        if (!sn || !sl) {
            snprintf(buf, sizeof buf, " native signal %d, lifted signal %d (both must trap)", sn, sl);
            report(s, g, buf);
        }
        return;
    }
    if (sn || sl) {
        snprintf(buf, sizeof buf, " native signal %d, lifted signal %d", sn, sl);
        report(s, g, buf);
        return;
    }
    diff_state(buf, sizeof buf, g, st, &cn, dn, &cl, dl, undefined_flags(g, st));
    if (buf[0]) report(s, g, buf);
}

/* -- Driver ---------------------------------------------------------------------- */

static void new_state(const struct gcase *g, struct gstate *st)
{
    random_state(st);
    st->ea = 0;
    st->count = 0;
    place_mem(g, st);
    fix_kind(g, st);
}

/* One (row, width, source width): INSN_ENCODINGS encodings (twice that for
 * flag readers), insn_states states in all.  Returns 0 when no encoding could be generated. */
static int run_widths(struct gstats *s, enum an_form f, unsigned w, unsigned sw, unsigned ncombos)
{
    struct gcase g;
    static struct gstate st;
    /* Each encoding costs one JIT compile, the bulk of the run time: rows
     * with three or more width combinations get 2 per width (they still get
     * 6 to 8 in all), flag readers twice that (half with a producer), SSE
     * forms whose immediate picks the operation (cmpsd's predicate, pshufd's
     * lanes) 8. */
    const char *shape = an_shape_name(an_form_info(f)->shape);
    int base = ncombos >= 3 ? 2 : INSN_ENCODINGS;
    int ne = reads_flags(an_form_info(f)) ? 2 * base
           : strchr(shape, 'X') && strchr(shape, 'I') ? 8 : base;
    unsigned per = (insn_states + (unsigned)ne - 1) / (unsigned)ne;
    for (int e = 0; e < ne; e++) {
        memset(&g, 0, sizeof g);
        g.form = f;
        g.fi = an_form_info(f);
        g.kind = kind_of(g.fi);
        g.w = w;
        g.sw = sw;
        if (!encode_case(&g, (int)s->encodings)) return 0;
        s->encodings++;
        if (insn_verbose) {
            char hex[200];
            tu_hex(hex, sizeof hex, g.code, g.len);
            print_message("    w=%u sw=%u \"%s\"\n", w, sw, hex);
        }
        if (tu_insn_load(g.code, g.len) != 0) fail_msg("cannot load the snippet");
        lift_snippet_fn fn = NULL;
        char why[256] = "";
        enum lf_status rc = lift_snippet_jit(tu_insn_snippet(), g.len, &fn, why, sizeof why);
        if (rc != LF_OK || !fn) {
            char msg[400];
            snprintf(msg, sizeof msg, " the lifter refuses a form of its table: %s (%s)",
                     lf_status_str(rc), why);
            s->states += per;
            report(s, &g, msg);
            s->failures += per - 1;
            continue;
        }
        for (unsigned i = 0; i < per; i++) {
            new_state(&g, &st);
            run_state(s, &g, fn, &st);
        }
    }
    return 1;
}

static unsigned width_bits(unsigned mask, unsigned *out)
{
    static const unsigned bits[] = { 8, 16, 32, 64 };
    unsigned n = 0;
    if (!mask || (mask & W128)) { out[n++] = 0; return n; }
    for (int i = 0; i < 4; i++)
        if (mask & (1u << i)) out[n++] = bits[i];
    return n;
}

static void test_form_matches_native(void **state)
{
    enum an_form f = (enum an_form)(uintptr_t)*state;
    const struct an_form_info *fi = an_form_info(f);
    unsigned ws[4], sws[4], nw = width_bits(fi->widths, ws), nsw = width_bits(fi->srcwidths, sws);
    struct gstats s = { 0, 0, 0, 0 };
    char missing[128] = "";
    for (unsigned a = 0; a < nw; a++)
        for (unsigned b = 0; b < nsw; b++)
            if (!run_widths(&s, f, ws[a], sws[b], nw * nsw) && !missing[0])
                snprintf(missing, sizeof missing, "w=%u sw=%u", ws[a], sws[b]);
    tu_insn_guard(0);
    print_message("  %-16s %3lu encodings %6lu states %5lu failures\n", fi->name,
                  s.encodings, s.states, s.failures);
    if (missing[0]) fail_msg("%s: the generator has no case for %s (every row needs one)", fi->name, missing);
    if (s.failures) fail_msg("%s: %lu of %lu states differ from the CPU", fi->name, s.failures, s.states);
}

int main(void)
{
    const char *e = getenv("LF_INSN_STATES");
    if (e && atoi(e) > 0) insn_states = (unsigned)atoi(e);
    insn_only = getenv("LF_INSN_ONLY");
    insn_verbose = getenv("LF_INSN_VERBOSE") != NULL;
    e = getenv("LF_INSN_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 0) : 0x6c696e65696f726dull;
    tu_rand_seed(seed);
    if (tu_insn_init() != 0) {
        fprintf(stderr, "test_lift_insn_forms: cannot map the snippet arena\n");
        return 1;
    }
    print_message("differential instruction tests: seed %#llx, %u states per width\n",
                  (unsigned long long)seed, insn_states);
    static struct CMUnitTest tests[AN_FORM__MAX];
    size_t n = 0;
    for (int f = 1; f < AN_FORM__MAX; f++) {
        const char *name = an_form_name((enum an_form)f);
        if (insn_only && !strstr(name, insn_only)) continue;
        char *tn = malloc(strlen(name) + 24);
        sprintf(tn, "%s_matches_native", name);
        tests[n].name = tn;
        tests[n].test_func = test_form_matches_native;
        tests[n].initial_state = (void *)(uintptr_t)f;
        n++;
    }
    return _cmocka_run_group_tests("lift_insn_forms", tests, n, NULL, NULL);
}
