/* lift_proc.h -- the running process as guest memory (lift_proc.c), and the
 * noreturn rules lf_optimize and lift_aot_compile share. */
#ifndef LIFT_PROC_H
#define LIFT_PROC_H

#include "analyzer/analyzer.h"
#include "lifter/lift_job.h"

struct lift_proc {
    struct lift_memmap *maps;
    size_t nmaps, capmaps;
    struct lift_memsrc mem;
    struct lift_range code[8];      /* executable segments of fn's object */
    size_t ncode;
    uint64_t bias;                  /* run-time minus link-time addresses */
    char path[4096];                /* the object's file */
    struct an_binary *an;           /* its analysis (cached), NULL if none */
};

/* Describe the process for specializing code at fn.  LF_ERR_INVALID_ARG
 * when fn is not inside any loaded object's code. */
enum lf_status lift_proc_open(struct lift_proc *p, uint64_t fn);
void lift_proc_close(struct lift_proc *p);
/* 1 when the byte at a is constant for the lifter: frozen, or in a
 * read-only segment or RELRO range of a loaded object. */
int lift_proc_constant(const struct lift_proc *p, uint64_t a);
/* lift_mod.noreturn_at for in-process modules (m->user = the lift_proc). */
int lift_proc_noreturn(struct lift_mod *m, uint64_t target, uint64_t retpc);
/* lift_mod.plt_at and .native_ref for in-process modules. */
int lift_proc_plt(struct lift_mod *m, uint64_t target, const char **name);
LLVMValueRef lift_proc_native_ref(struct lift_ctx *c, uint64_t target);
/* lift_mod.jump_table for in-process modules, and the rule itself: the
 * analyzer's bounded jump table at site (run-time = link-time + bias). */
int lift_proc_jump_table(struct lift_mod *m, uint64_t site, const uint64_t **targets,
                         unsigned *n, uint64_t *bias);
int lift_an_jump_table(const struct an_binary *b, uint64_t bias, uint64_t site,
                       const uint64_t **targets, unsigned *n);
/* The rules themselves: a libc name that never returns; the analyzer's
 * verdict for target / the call before retpc (run-time = link + bias). */
int lift_noreturn_name(const char *name);
int lift_an_noreturn(const struct an_binary *b, uint64_t bias, uint64_t target, uint64_t retpc);
/* lift_mod.args_at for in-process modules, and the rule itself. */
int lift_proc_args(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm);
int lift_an_args(const struct an_binary *b, uint64_t bias, uint64_t target, unsigned *gpr, unsigned *xmm);
/* 1 when target's prototype returns its result in memory: the caller's
 * buffer comes first (rdi), the declared arguments after it. */
int lift_an_sret(const struct an_binary *b, uint64_t bias, uint64_t target);
/* lift_mod.rets_at for in-process modules, and the rule itself. */
int lift_proc_rets(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm);
int lift_an_rets(const struct an_binary *b, uint64_t bias, uint64_t target, unsigned *gpr, unsigned *xmm);
/* The same, only where the code agrees with the prototype: every argument
 * register target reads before writing it (lift_entry_reads) is one the
 * prototype lists.  DWARF omits arguments the compiler adds (a Rust
 * #[track_caller] location, an environment); such a function, and one
 * whose code cannot be followed, is unknown (0): its callers pass every
 * argument register and keep every result register. */
/* lift_mod.eh_at for in-process modules, and the rule itself: the
 * function starting at target has landing pads (an_func.n_landing_pads). */
int lift_proc_eh(struct lift_mod *m, uint64_t target);
int lift_an_eh(const struct an_binary *b, uint64_t bias, uint64_t target);
int lift_an_args_checked(struct lift_mod *m, const struct an_binary *b, uint64_t bias, uint64_t target,
                         unsigned *gpr, unsigned *xmm);
int lift_an_rets_checked(struct lift_mod *m, const struct an_binary *b, uint64_t bias, uint64_t target,
                         unsigned *gpr, unsigned *xmm);

#endif
