/* tutil_insn.c -- native snippet harness (see tutil_insn.h).
 *
 * The harness around a snippet is itself encoded with the Zydis encoder.
 * The prologue uses rdi (the lift_cpu pointer) as its base until the very
 * end; the epilogue has no free register, so it parks rax at an absolute
 * address first (mov moffs64, rax) and fetches the cpu pointer from another
 * one.  Host rsp and the cpu pointer live in tu_slots, outside the arena. */
#include "tests/tutil_insn.h"

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TU_CODE_SIZE 4096u

static struct {
    uint64_t host_rsp, cpu, rax;
} tu_slots;

static uint8_t *tu_code;      /* the code page */
static uint8_t *tu_data;      /* TU_DATA_SIZE bytes after it */
static size_t tu_prologue_len;

static sigjmp_buf tu_jb;
static volatile sig_atomic_t tu_guard;

/* -- Encoder shorthands ---------------------------------------------------- */

ZydisEncoderOperand tu_op_reg(ZydisRegister r)
{
    ZydisEncoderOperand o;
    memset(&o, 0, sizeof o);
    o.type = ZYDIS_OPERAND_TYPE_REGISTER;
    o.reg.value = r;
    return o;
}

ZydisEncoderOperand tu_op_mem(ZydisRegister base, ZydisRegister index, unsigned scale,
                              int64_t disp, unsigned size)
{
    ZydisEncoderOperand o;
    memset(&o, 0, sizeof o);
    o.type = ZYDIS_OPERAND_TYPE_MEMORY;
    o.mem.base = base;
    o.mem.index = index;
    o.mem.scale = (ZyanU8)(index == ZYDIS_REGISTER_NONE ? 0 : scale);
    o.mem.displacement = disp;
    o.mem.size = (ZyanU16)size;
    return o;
}

ZydisEncoderOperand tu_op_imm(int64_t v)
{
    ZydisEncoderOperand o;
    memset(&o, 0, sizeof o);
    o.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    o.imm.s = v;
    return o;
}

static size_t tu_encode_req(uint8_t *out, uint64_t addr, ZydisEncoderRequest *req)
{
    ZyanUSize len = ZYDIS_MAX_INSTRUCTION_LENGTH;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(req, out, &len, addr))) return 0;
    return len;
}

size_t tu_encode(uint8_t *out, uint64_t addr, ZydisMnemonic m, ZydisInstructionAttributes prefixes,
                 unsigned nops, const ZydisEncoderOperand *ops)
{
    ZydisEncoderRequest req;
    memset(&req, 0, sizeof req);
    req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    /* VEX for the VEX-only mnemonics (vpxor, vmovd); legacy mnemonics have no VEX form */
    req.allowed_encodings = ZYDIS_ENCODABLE_ENCODING_LEGACY | ZYDIS_ENCODABLE_ENCODING_VEX;
    req.mnemonic = m;
    req.prefixes = prefixes;
    req.operand_count = (ZyanU8)nops;
    for (unsigned i = 0; i < nops; i++) req.operands[i] = ops[i];
    return tu_encode_req(out, addr, &req);
}

size_t tu_encode_branch(uint8_t *out, uint64_t addr, ZydisMnemonic m,
                        ZydisBranchWidth bw, uint64_t target)
{
    ZydisEncoderRequest req;
    memset(&req, 0, sizeof req);
    req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    req.allowed_encodings = ZYDIS_ENCODABLE_ENCODING_LEGACY;
    req.mnemonic = m;
    req.branch_type = bw == ZYDIS_BRANCH_WIDTH_8 ? ZYDIS_BRANCH_TYPE_SHORT : ZYDIS_BRANCH_TYPE_NEAR;
    req.branch_width = bw;
    req.operand_count = 1;
    req.operands[0] = tu_op_imm((int64_t)target);
    return tu_encode_req(out, addr, &req);
}

/* -- Harness code ---------------------------------------------------------- */

#define R(x) tu_op_reg(ZYDIS_REGISTER_##x)
#define M(b, d, s) tu_op_mem(ZYDIS_REGISTER_##b, ZYDIS_REGISTER_NONE, 0, (d), (s))
#define ABS(a) tu_op_mem(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, (int64_t)(uintptr_t)(a), 8)

/* Emit one instruction at *p; abort the process on an encoder refusal (the
 * harness is fixed code: a refusal is a bug here, not in the lifter). */
static void tu_emit(uint8_t **p, ZydisMnemonic m, unsigned n,
                    ZydisEncoderOperand a, ZydisEncoderOperand b)
{
    ZydisEncoderOperand ops[2] = { a, b };
    size_t len = tu_encode(*p, (uint64_t)(uintptr_t)*p, m, 0, n, ops);
    if (!len) {
        fprintf(stderr, "tutil_insn: harness instruction %s not encodable\n",
                ZydisMnemonicGetString(m));
        abort();
    }
    *p += len;
}
#define E0(m) tu_emit(&p, ZYDIS_MNEMONIC_##m, 0, R(NONE), R(NONE))
#define E1(m, a) tu_emit(&p, ZYDIS_MNEMONIC_##m, 1, a, R(NONE))
#define E2(m, a, b) tu_emit(&p, ZYDIS_MNEMONIC_##m, 2, a, b)

static const ZydisRegister tu_gpr64[16] = {
    ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
    ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
    ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
    ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
};
static const ZydisRegister tu_saved[6] = {
    ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_R12,
    ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
};
#define OFF_GPR(k) ((int64_t)offsetof(struct lift_cpu, gpr) + 8 * (k))
#define OFF_FLAGS ((int64_t)offsetof(struct lift_cpu, rflags))
#define OFF_XMM(k) ((int64_t)offsetof(struct lift_cpu, xmm) + 16 * (k))

static uint8_t *tu_emit_prologue(uint8_t *p)
{
    for (int i = 0; i < 6; i++) E1(PUSH, tu_op_reg(tu_saved[i]));
    E2(MOV, R(RAX), tu_op_imm((int64_t)(uintptr_t)&tu_slots.host_rsp));
    E2(MOV, M(RAX, 0, 8), R(RSP));
    E2(MOV, R(RAX), tu_op_imm((int64_t)(uintptr_t)&tu_slots.cpu));
    E2(MOV, M(RAX, 0, 8), R(RDI));
    E1(PUSH, M(RDI, OFF_FLAGS, 8));
    E0(POPFQ);
    for (int k = 0; k < 16; k++)
        E2(MOVDQU, tu_op_reg((ZydisRegister)(ZYDIS_REGISTER_XMM0 + k)), M(RDI, OFF_XMM(k), 16));
    for (int k = 1; k < 16; k++)
        if (k != 7) E2(MOV, tu_op_reg(tu_gpr64[k]), M(RDI, OFF_GPR(k), 8));
    E2(MOV, R(RAX), M(RDI, OFF_GPR(0), 8));
    E2(MOV, R(RDI), M(RDI, OFF_GPR(7), 8));
    return p;
}

static uint8_t *tu_emit_epilogue(uint8_t *p)
{
    E2(MOV, ABS(&tu_slots.rax), R(RAX));
    E2(MOV, R(RAX), ABS(&tu_slots.cpu));
    for (int k = 1; k < 16; k++) E2(MOV, M(RAX, OFF_GPR(k), 8), tu_op_reg(tu_gpr64[k]));
    /* mov leaves the flags alone: they are still the snippet's here. */
    E2(MOV, R(RCX), tu_op_imm((int64_t)(uintptr_t)&tu_slots.host_rsp));
    E2(MOV, R(RSP), M(RCX, 0, 8));
    E0(PUSHFQ);
    E1(POP, M(RAX, OFF_FLAGS, 8));
    E2(MOV, R(RCX), R(RAX));
    E2(MOV, R(RAX), ABS(&tu_slots.rax));
    E2(MOV, M(RCX, OFF_GPR(0), 8), R(RAX));
    for (int k = 0; k < 16; k++)
        E2(MOVDQU, M(RCX, OFF_XMM(k), 16), tu_op_reg((ZydisRegister)(ZYDIS_REGISTER_XMM0 + k)));
    E0(CLD);
    for (int i = 5; i >= 0; i--) E1(POP, tu_op_reg(tu_saved[i]));
    E0(RET);
    return p;
}

/* -- Fault guard ------------------------------------------------------------- */

static const int tu_sigs[] = { SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGTRAP };
#define TU_NSIGS (sizeof tu_sigs / sizeof tu_sigs[0])
static struct sigaction tu_old[TU_NSIGS];
static int tu_guarding;

static void tu_on_fault(int sig)
{
    if (tu_guard) {
        tu_guard = 0;
        siglongjmp(tu_jb, sig);
    }
    /* Not from a snippet: hand it to whoever had the signal before. */
    for (size_t i = 0; i < TU_NSIGS; i++)
        if (tu_sigs[i] == sig) sigaction(sig, &tu_old[i], NULL);
    raise(sig);
}

int tu_insn_guard(int on)
{
    if (on == tu_guarding) return 0;
    if (!on) {
        for (size_t i = 0; i < TU_NSIGS; i++) sigaction(tu_sigs[i], &tu_old[i], NULL);
        tu_guarding = 0;
        return 0;
    }
    static uint8_t altstack[1 << 16];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tu_on_fault;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < TU_NSIGS; i++)
        if (sigaction(tu_sigs[i], &sa, &tu_old[i]) != 0) return -1;
    tu_guarding = 1;
    return 0;
}

/* -- Arena --------------------------------------------------------------------- */

int tu_insn_init(void)
{
    if (tu_code) return 0;
    size_t data_pages = (TU_DATA_SIZE + 4095u) & ~4095u;
    uint8_t *a = mmap(NULL, TU_CODE_SIZE + data_pages, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) return -1;
    tu_code = a;
    tu_data = a + TU_CODE_SIZE;
    tu_prologue_len = (size_t)(tu_emit_prologue(tu_code) - tu_code);
    return mprotect(tu_code, TU_CODE_SIZE, PROT_READ | PROT_EXEC) != 0 ? -1 : 0;
}

static __thread uint8_t tu_tls[TU_TLS_SIZE] __attribute__((aligned(16)));

uint8_t *tu_insn_tls(void) { return tu_tls; }

int64_t tu_insn_tls_off(void)
{
    uint64_t fs0;
    __asm__("movq %%fs:0, %0" : "=r"(fs0)); /* the TCB points at itself */
    return (int64_t)((uint64_t)(uintptr_t)tu_tls - fs0);
}

uint8_t *tu_insn_snippet(void) { return tu_code + tu_prologue_len; }
uint8_t *tu_insn_data(void) { return tu_data; }

int tu_insn_load(const uint8_t *code, size_t len)
{
    if (len > TU_SNIPPET_MAX) return -1;
    if (mprotect(tu_code, TU_CODE_SIZE, PROT_READ | PROT_WRITE) != 0) return -1;
    uint8_t *p = tu_emit_prologue(tu_code);
    memcpy(p, code, len);
    p = tu_emit_epilogue(p + len);
    if ((size_t)(p - tu_code) > TU_CODE_SIZE) abort();
    return mprotect(tu_code, TU_CODE_SIZE, PROT_READ | PROT_EXEC) != 0 ? -1 : 0;
}

int tu_insn_run_native(struct lift_cpu *cpu)
{
    if (!tu_guarding && tu_insn_guard(1) != 0) abort();
    void (*fn)(struct lift_cpu *) = (void (*)(struct lift_cpu *))(uintptr_t)tu_code;
    cpu->rflags = (cpu->rflags & TU_FLAGS_MASK) | 2u;
    int sig = sigsetjmp(tu_jb, 0); /* SA_NODEFER: no mask to restore */
    if (sig) return sig;
    tu_guard = 1;
    fn(cpu);
    tu_guard = 0;
    return 0;
}

int tu_insn_run_lifted(lift_snippet_fn fn, struct lift_cpu *cpu)
{
    if (!tu_guarding && tu_insn_guard(1) != 0) abort();
    int sig = sigsetjmp(tu_jb, 0); /* SA_NODEFER: no mask to restore */
    if (sig) return sig;
    tu_guard = 1;
    fn(cpu);
    tu_guard = 0;
    return 0;
}

/* -- Random numbers and registers ----------------------------------------------- */

static uint64_t tu_state = 0x9e3779b97f4a7c15ull;

void tu_rand_seed(uint64_t seed) { tu_state = seed ? seed : 0x9e3779b97f4a7c15ull; }

uint64_t tu_rand(void)
{
    tu_state ^= tu_state >> 12;
    tu_state ^= tu_state << 25;
    tu_state ^= tu_state >> 27;
    return tu_state * 0x2545f4914f6cdd1dull;
}

int tu_gpr_index(ZydisRegister r, int *high)
{
    if (high) *high = 0;
    switch (r) {
    case ZYDIS_REGISTER_AH: case ZYDIS_REGISTER_CH:
    case ZYDIS_REGISTER_DH: case ZYDIS_REGISTER_BH:
        if (high) *high = 1;
        return (int)(r - ZYDIS_REGISTER_AH);
    default: break;
    }
    ZydisRegister r64 = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
    for (int k = 0; k < 16; k++)
        if (tu_gpr64[k] == r64) return k;
    return -1;
}

uint64_t tu_rand_int(unsigned w)
{
    static const uint64_t edge[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
        0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
        ~0ull, ~0ull - 1, 31, 32, 63, 64,
    };
    uint64_t r = tu_rand();
    switch (r % 8) {
    case 0: case 1: return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    case 2: { /* an edge value at width w, random bits above it */
        uint64_t e = edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
        uint64_t m = w >= 64 ? ~0ull : (1ull << w) - 1;
        return (tu_rand() & ~m) | (e & m);
    }
    case 3: return (r >> 16) & 0xff;
    case 4: return -(uint64_t)((r >> 16) & 0xff);
    default: return tu_rand();
    }
}

uint64_t tu_rand_fp64(void)
{
    static const uint64_t edge[] = {
        0x0000000000000000ull, 0x8000000000000000ull, /* +0 -0 */
        0x3ff0000000000000ull, 0xbff0000000000000ull, /* 1 -1 */
        0x3fe0000000000000ull, 0x4004000000000000ull, /* 0.5 2.5 */
        0xc004000000000000ull, 0x3ff8000000000000ull, /* -2.5 1.5 */
        0x7fefffffffffffffull, 0x0010000000000000ull, /* max, min normal */
        0x0000000000000001ull, 0x800fffffffffffffull, /* denormals */
        0x7ff0000000000000ull, 0xfff0000000000000ull, /* +-inf */
        0x7ff8000000000000ull, 0xfff8000000000000ull, /* quiet NaNs */
        0x7ff0000000000001ull, 0x7ff4000000000123ull, /* signalling NaNs */
        0x41dfffffffc00000ull, 0x41e0000000000000ull, /* 2^31-1, 2^31 */
        0xc1e0000000000000ull, 0xc1e0000000200000ull, /* -2^31, -2^31-1 */
        0x43e0000000000000ull, 0xc3e0000000000000ull, /* 2^63, -2^63 */
        0x43dfffffffffffffull, 0x43f0000000000000ull, /* < 2^63, 2^64 */
    };
    static const uint32_t fedge[] = {
        0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x7f7fffffu, 0x00000001u,
        0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0x4f000000u, 0xcf000000u,
        0x3f000000u, 0x40200000u,
    };
    uint64_t r = tu_rand();
    switch (r % 8) {
    case 0: return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    case 1: /* a NaN: either sign, quiet or signalling, random payload */
        return (r & 0x8000000000000000ull) | 0x7ff0000000000000ull | ((tu_rand() & 0xfffffffffffffull) | 1);
    case 2: case 3: { /* an ordinary double: small integer ratio */
        double d = (double)(int64_t)((tu_rand() % 2000001) - 1000000) / (double)(1 + tu_rand() % 1000);
        uint64_t u;
        memcpy(&u, &d, 8);
        return u;
    }
    case 4: { /* two floats, edge or ordinary */
        float f = (float)(int32_t)((tu_rand() % 20001) - 10000) / 7.0f;
        uint32_t hi, lo;
        memcpy(&hi, &f, 4);
        switch ((r >> 8) % 4) {
        case 0: lo = fedge[(r >> 16) % (sizeof fedge / sizeof fedge[0])]; break;
        case 3: lo = ((uint32_t)r & 0x80000000u) | 0x7f800000u | (((uint32_t)tu_rand() & 0x7fffffu) | 1); break;
        case 1: f = (float)(int32_t)((tu_rand() % 20001) - 10000) / 3.0f; memcpy(&lo, &f, 4); break;
        default: lo = (uint32_t)tu_rand(); break;
        }
        return (uint64_t)hi << 32 | lo;
    }
    default: return tu_rand();
    }
}

/* -- Registers and states -------------------------------------------------------- */

static const ZydisRegister tu_gpr8[] = {
    ZYDIS_REGISTER_AL, ZYDIS_REGISTER_CL, ZYDIS_REGISTER_DL, ZYDIS_REGISTER_BL,
    ZYDIS_REGISTER_AH, ZYDIS_REGISTER_CH, ZYDIS_REGISTER_DH, ZYDIS_REGISTER_BH,
    ZYDIS_REGISTER_SPL, ZYDIS_REGISTER_BPL, ZYDIS_REGISTER_SIL, ZYDIS_REGISTER_DIL,
    ZYDIS_REGISTER_R8B, ZYDIS_REGISTER_R9B, ZYDIS_REGISTER_R10B, ZYDIS_REGISTER_R11B,
    ZYDIS_REGISTER_R12B, ZYDIS_REGISTER_R13B, ZYDIS_REGISTER_R14B, ZYDIS_REGISTER_R15B,
};

static ZydisRegister tu_gpr_of(unsigned idx, unsigned w)
{
    static const ZydisRegister base[] = { ZYDIS_REGISTER_AX, ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_RAX };
    if (w == 8) return idx < 4 ? tu_gpr8[idx] : tu_gpr8[idx + 4];
    return (ZydisRegister)(base[w == 16 ? 0 : w == 32 ? 1 : 2] + idx);
}

ZydisRegister tu_pick_gpr(unsigned w, unsigned allowed)
{
    if (!(allowed & 0xffffu)) abort();
    for (;;) {
        if (w == 8) {
            ZydisRegister r = tu_gpr8[tu_rand_below(20)];
            if (allowed & (1u << tu_gpr_index(r, NULL))) return r;
        } else {
            unsigned k = tu_rand_below(16);
            if (allowed & (1u << k)) return tu_gpr_of(k, w);
        }
    }
}

void tu_set_reg(struct lift_cpu *c, ZydisRegister r, uint64_t v)
{
    int hi, k = tu_gpr_index(r, &hi);
    unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
    uint64_t m = w >= 64 ? ~0ull : (1ull << w) - 1;
    if (hi) c->gpr[k] = (c->gpr[k] & ~0xff00ull) | (v & 0xff) << 8;
    else c->gpr[k] = (c->gpr[k] & ~m) | (v & m);
}

void tu_hex(char *out, size_t n, const uint8_t *b, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < n; i++) o += (size_t)snprintf(out + o, n - o, "%02x ", b[i]);
    if (o) out[o - 1] = 0; else if (n) out[0] = 0;
}

/* -- Flag producers ------------------------------------------------------------------ */

unsigned tu_shift_undef(ZydisMnemonic m, unsigned w, unsigned count)
{
    unsigned c = count & (w == 64 ? 63 : 31);
    if (c == 0) return 0;
    unsigned u = c != 1 ? LIFT_OF : 0;
    if (m == ZYDIS_MNEMONIC_ROL || m == ZYDIS_MNEMONIC_ROR) return u;
    u |= LIFT_AF;
    if (m != ZYDIS_MNEMONIC_SAR && c >= w) u |= LIFT_CF;
    return u;
}

size_t tu_flag_producer(uint8_t *out, uint64_t addr, unsigned avoid, unsigned *undef)
{
    static const ZydisMnemonic prod[] = {
        ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_CMP, ZYDIS_MNEMONIC_AND,
        ZYDIS_MNEMONIC_OR, ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_INC,
        ZYDIS_MNEMONIC_DEC, ZYDIS_MNEMONIC_NEG, ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR,
        ZYDIS_MNEMONIC_SAR, ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_IMUL,
        ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB, ZYDIS_MNEMONIC_UCOMISD,
    };
    static const unsigned ws[] = { 8, 16, 32, 64 };
    /* cmp/sub first: compilers pair them with a condition, and lifters
     * turn that pair into one compare */
    ZydisMnemonic m = prod[tu_rand_below(2) ? tu_rand_below(3) : tu_rand_below(sizeof prod / sizeof prod[0])];
    unsigned w = ws[tu_rand_below(4)], n = 2, count = 0;
    int shift = m == ZYDIS_MNEMONIC_SHL || m == ZYDIS_MNEMONIC_SHR || m == ZYDIS_MNEMONIC_SAR ||
                m == ZYDIS_MNEMONIC_ROL || m == ZYDIS_MNEMONIC_ROR;
    ZydisEncoderOperand ops[2];
    ops[0] = tu_op_reg(tu_pick_gpr(w, 0xffffu & ~avoid & ~(1u << 4)));
    if (m == ZYDIS_MNEMONIC_UCOMISD) {
        ops[0] = tu_op_reg((ZydisRegister)(ZYDIS_REGISTER_XMM0 + tu_rand_below(16)));
        ops[1] = tu_op_reg((ZydisRegister)(ZYDIS_REGISTER_XMM0 + tu_rand_below(16)));
    } else if (m == ZYDIS_MNEMONIC_INC || m == ZYDIS_MNEMONIC_DEC || m == ZYDIS_MNEMONIC_NEG) {
        n = 1;
    } else if (shift) {
        static const unsigned counts[] = { 0, 1, 2, 7, 8, 31, 63 };
        count = counts[tu_rand_below(7)];
        ops[1] = tu_op_imm(count);
    } else if (tu_rand() & 1 || m == ZYDIS_MNEMONIC_IMUL) {
        ops[1] = tu_op_reg(tu_pick_gpr(w, 0xffffu));
    } else {
        ops[1] = tu_op_imm((int64_t)(int8_t)tu_rand_int(8));
    }
    size_t len = tu_encode(out, addr, m, 0, n, ops);
    if (!len) return 0;
    ZydisDecoder d;
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, out, len, &zi, zo))) return 0;
    *undef = shift ? tu_shift_undef(m, zo[0].size, count)
                   : zi.cpu_flags ? (unsigned)zi.cpu_flags->undefined : 0;
    return len;
}
