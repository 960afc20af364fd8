/* tutil_insn.h -- run instruction snippets natively on a struct lift_cpu, for
 * the differential instruction tests (tests/test_lift_insn_*.c).
 *
 * One arena per process, at one address for the whole run:
 *
 *     code page (RX)   prologue | snippet | epilogue      (tu_insn_snippet())
 *     data (RW)        TU_MEM_SIZE test buffer | TU_STACK_SIZE scratch stack
 *
 * The prologue loads every GPR (rsp included), rflags (popfq) and xmm0..15
 * from the lift_cpu, the snippet runs, and the epilogue stores all of it back
 * (rflags via pushfq, after switching back to the host stack) and clears DF.
 * The data block is within +-2 GB of the snippet, so rip-relative operands
 * reach it, and the snippet runs at the address the lifter is given, so
 * rip-relative addresses, branch targets and pushed return addresses agree
 * between the native and the lifted run.
 *
 * Invariants:
 *   1. The code page is never writable and executable at once: it is
 *      rewritten only through mprotect RW -> write -> RX (tu_insn_load).
 *   2. A run that faults (SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGTRAP) returns
 *      the signal number instead of killing the test; the handler runs on
 *      its own stack, so a snippet with a wild rsp is still caught.
 *   3. Only the LIFT_* flag bits of rflags are loaded (plus the reserved
 *      bit 1); nothing else of rflags (TF, AC) can be set by a state. */
#ifndef TUTIL_INSN_H
#define TUTIL_INSN_H

#include <stddef.h>
#include <stdint.h>

#include <Zydis/Zydis.h>

#include "lifter/lift_snippet.h"

#define TU_MEM_SIZE 1024u
#define TU_STACK_SIZE 4096u
#define TU_DATA_SIZE (TU_MEM_SIZE + TU_STACK_SIZE)
#define TU_SNIPPET_MAX 256u
#define TU_FLAGS_MASK (LIFT_CF | LIFT_PF | LIFT_AF | LIFT_ZF | LIFT_SF | LIFT_DF | LIFT_OF)

/* Map the arena; 0 on success. */
int tu_insn_init(void);
/* Install (on = 1) or remove (0) the fault handlers of invariant 2.  The
 * runs install them when needed; a test harness that installs its own
 * handlers per test (cmocka does) calls tu_insn_guard(0) at the end of each
 * test and the next run takes them back.  Faults outside a run go to the
 * handlers that were there before. */
int tu_insn_guard(int on);
/* Where the snippet runs (fixed for the process). */
uint8_t *tu_insn_snippet(void);
/* The data block: test buffer at [0, TU_MEM_SIZE), stack after it. */
uint8_t *tu_insn_data(void);
static inline uint8_t *tu_insn_mem(void) { return tu_insn_data(); }
static inline uint8_t *tu_insn_stack(void) { return tu_insn_data() + TU_MEM_SIZE; }

/* A thread-local buffer for fs-relative operands: its fs offset (within
 * disp32), and its bytes (this thread's copy). */
#define TU_TLS_SIZE 64u
int64_t tu_insn_tls_off(void);
uint8_t *tu_insn_tls(void);

/* Put code[0..len) at tu_insn_snippet() between prologue and epilogue. */
int tu_insn_load(const uint8_t *code, size_t len);
/* Run the loaded snippet on cpu (in place).  0, or the signal it raised. */
int tu_insn_run_native(struct lift_cpu *cpu);
/* Call a lifted snippet on cpu (in place) under the same fault guard. */
int tu_insn_run_lifted(lift_snippet_fn fn, struct lift_cpu *cpu);

/* -- Zydis encoder shorthands -------------------------------------------- */
ZydisEncoderOperand tu_op_reg(ZydisRegister r);
ZydisEncoderOperand tu_op_mem(ZydisRegister base, ZydisRegister index, unsigned scale,
                              int64_t disp, unsigned size);
ZydisEncoderOperand tu_op_imm(int64_t v);
/* Encode one instruction at out (runtime address addr, for rip-relative and
 * branch operands given as absolute targets).  Length, 0 if not encodable. */
size_t tu_encode(uint8_t *out, uint64_t addr, ZydisMnemonic m, ZydisInstructionAttributes prefixes,
                 unsigned nops, const ZydisEncoderOperand *ops);
/* Same with an explicit branch width (ZYDIS_BRANCH_WIDTH_8/32). */
size_t tu_encode_branch(uint8_t *out, uint64_t addr, ZydisMnemonic m,
                        ZydisBranchWidth bw, uint64_t target);

/* -- Random numbers (xorshift64*, reproducible from the seed) ------------ */
void tu_rand_seed(uint64_t seed);
uint64_t tu_rand(void);
static inline unsigned tu_rand_below(unsigned n) { return (unsigned)(tu_rand() % n); }
/* A 64-bit value for an integer operand of w bits, biased to the edges
 * (0, 1, -1, the signed and unsigned limits of every width, small counts). */
uint64_t tu_rand_int(unsigned w);
/* 64 bits for one half of an xmm register or an SSE memory operand: random
 * bits, ordinary doubles, edge doubles (+-0, denormals, +-inf, quiet and
 * signalling NaNs, the limits of int32/int64 conversion), NaNs with random
 * payloads, or two floats. */
uint64_t tu_rand_fp64(void);

/* The GPR index (0..15) of a register of any width, -1 if none; for
 * ah/ch/dh/bh *high is set to 1. */
int tu_gpr_index(ZydisRegister r, int *high);
/* A random GPR of width w (8: al..bl, ah..bh, spl..dil, r8b..r15b) whose
 * index is in the mask allowed (not 0). */
ZydisRegister tu_pick_gpr(unsigned w, unsigned allowed);
/* Write v into register r of cpu with the register's width (ah..bh: bits
 * 8..15; no zero-extension: this sets a state, it does not execute). */
void tu_set_reg(struct lift_cpu *c, ZydisRegister r, uint64_t v);
/* "48 01 d8" style hex of b[0..len) into out. */
void tu_hex(char *out, size_t n, const uint8_t *b, size_t len);

/* Flags (LIFT_* bits) a shift or rotate (m: SHL SHR SAR ROL ROR SHLD SHRD)
 * of a w-bit operand by count leaves undefined; none for a zero masked
 * count, which leaves every flag alone. */
unsigned tu_shift_undef(ZydisMnemonic m, unsigned w, unsigned count);
/* Encode at out (runtime address addr) a random flag-setting instruction
 * (add sub cmp and or xor test inc dec neg shifts rotates imul adc sbb
 * ucomisd; cmp/sub half of the time) that writes neither rsp nor a GPR in
 * the index mask avoid.  Returns its length (0: try again) and the flags it
 * leaves undefined in *undef. */
size_t tu_flag_producer(uint8_t *out, uint64_t addr, unsigned avoid, unsigned *undef);

#endif
