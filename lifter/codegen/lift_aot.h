/* lift_aot.h -- ahead-of-time compilation of a snapshot's entry closure into
 * a relocatable ELF object, for `lineiform snapshot` (snapshot/ writes the
 * image from it).  Contract between lifter/ and snapshot/.
 *
 * The lifter reads guest memory only through a table of ranges, so the same
 * code serves in-process specialization (identity map of live memory) and
 * AOT (the interpreter's ELF segments and the heap dump's arenas, held
 * anywhere in the CLI's memory). */
#ifndef LIFT_AOT_H
#define LIFT_AOT_H

#include <stddef.h>
#include <stdint.h>

#include "lineiform.h"

/* One range of guest memory.  constant: its bytes never change at run time
 * (frozen arena; read-only or executable PT_LOAD of the interpreter), so
 * loads from it fold to constants.  Other ranges are readable only for
 * decoding nothing; loads from them are emitted as real loads. */
struct lift_memmap {
    uint64_t guest;     /* run-time address */
    uint64_t size;
    const void *host;   /* where its bytes are now */
    int constant;
};

/* Code generation of a large module runs on several threads, one object
 * each; the objects together define the specializations and reference one
 * another's (hidden global symbols), for the image linker to join. */
#define LIFT_AOT_MAX_OBJS 4

/* The lift budget of one module (lift_mod.max_total_blocks, max_jobs): a
 * specialization first reached once the module has lifted this many
 * analysis blocks is a thunk calling the original code, counted in
 * lf_report.budget_calls.  A 1,000-deep nested expression of the reference
 * interpreter lifts about 90,000 blocks in 60 specializations, within it
 * (8.5 to 18 s of snapshot here, by the machine's load); 10,000 deep lifted
 * 256 specializations in 767 analysis rounds without it (194 s, 1.30 GB
 * peak, loaded machine), 68 with it (33 s, 430 MB). */
#define LIFT_BUDGET_BLOCKS 100000L
#define LIFT_BUDGET_JOBS 4096  /* specializations per module (lift_mod.max_jobs) */

struct lift_aot_input {
    const struct lift_memmap *maps;
    size_t nmaps;
    const char *interp_path; /* ELF of the interpreter: function bounds, DWARF */
    uint64_t load_bias;      /* interpreter run-time base minus link-time base */
    uint64_t entry_closure;  /* guest address; its first word is the code pointer */
    int opt_level;           /* 0..3 */
    int threads;             /* code generation threads, 1..LIFT_AOT_MAX_OBJS; 0: one
                              * per processor (at most LIFT_AOT_MAX_OBJS) */
};

struct lift_aot_sym {
    char name[96];           /* e.g. "eval_call@0x7f0000001230" */
    uint64_t offset, size;   /* within its object's .text */
};

struct lift_aot_result {
    uint8_t *obj[LIFT_AOT_MAX_OBJS]; /* ELF64 relocatable objects (malloc'd) */
    size_t obj_len[LIFT_AOT_MAX_OBJS];
    size_t nobj;             /* 0: nothing compiled */
    char entry_sym[96];      /* symbol of the compiled entry (code(closure, ...)) */
    struct lift_aot_sym *syms; /* one per specialization, every object (malloc'd) */
    size_t nsyms;
    struct lf_report report;
};

/* Lift, inline and optimize the closure at in->entry_closure; emit ELF
 * relocatable objects whose code calls interpreter functions it did not
 * inline at their absolute run-time addresses, and external functions (libm,
 * libc, LLVM's memcpy/memset) as undefined symbols to resolve at load time. */
enum lf_status lift_aot_compile(const struct lift_aot_input *in,
                                struct lift_aot_result *out, char *why, size_t whylen);
void lift_aot_result_free(struct lift_aot_result *r);

#endif
