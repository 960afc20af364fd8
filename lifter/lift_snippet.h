/* lift_snippet.h -- lift a straight run of machine code as a state-to-state
 * function, for the differential instruction tests (tests/test_lift_insn*.c).
 *
 * The snippet's machine code operates on a struct lift_cpu: the lifted
 * function loads every register and flag from it, runs the lifted
 * instructions (with partial evaluation OFF: nothing is known constant) and
 * stores every register and flag back.  Memory operands address real memory
 * (the test points registers into its own buffers).  Control flow inside the
 * snippet is allowed as long as every path ends by falling off the end
 * (e.g. `jz +3; mov ...`).  The native side runs the same bytes between a
 * load of the state and a store of it; the two results must be identical
 * in every register, every defined flag and every touched byte of memory. */
#ifndef LIFT_SNIPPET_H
#define LIFT_SNIPPET_H

#include <stddef.h>
#include <stdint.h>

#include "lineiform.h"

/* ORDER: gpr[] follows the x86 register encoding. */
enum lift_gpr { LIFT_RAX, LIFT_RCX, LIFT_RDX, LIFT_RBX, LIFT_RSP, LIFT_RBP, LIFT_RSI,
                LIFT_RDI, LIFT_R8, LIFT_R9, LIFT_R10, LIFT_R11, LIFT_R12, LIFT_R13,
                LIFT_R14, LIFT_R15 };

/* rflags bits the lifter models. */
enum { LIFT_CF = 1u << 0, LIFT_PF = 1u << 2, LIFT_AF = 1u << 4, LIFT_ZF = 1u << 6,
       LIFT_SF = 1u << 7, LIFT_DF = 1u << 10, LIFT_OF = 1u << 11 };

struct lift_cpu {
    uint64_t gpr[16];
    uint64_t rflags;        /* only the LIFT_* bits are read and compared */
    uint64_t pad;
    uint8_t  xmm[16][16];   /* xmm0..xmm15, little-endian lanes */
};

typedef void (*lift_snippet_fn)(struct lift_cpu *cpu);

/* Lift code[0..len) (its address for rip-relative operands and branch
 * targets is (uintptr_t)code) into a lift_snippet_fn, JIT-compiled.  On a
 * form the lifter refuses: LF_ERR_UNSUPPORTED and why names the instruction.
 * The compiled code stays valid until the process exits. */
enum lf_status lift_snippet_jit(const uint8_t *code, size_t len,
                                lift_snippet_fn *out, char *why, size_t whylen);

#endif
