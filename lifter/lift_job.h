/* lift_job.h -- the partial evaluator's own structures, shared by the block
 * engine (lift_block.c), call handling (lift_call.c), the drivers (lift.c,
 * lift_snippet.c, lift_aot.c) and code generation (lift_jit.c).
 *
 * A module (lift_mod) holds the LLVM module being built, the guest memory
 * sources, and the memo table of specializations.  A job (lift_job) is one
 * specialization = (entry address, known argument registers); it becomes
 * one LLVM function with the universal SysV signature
 *     {rax, rdx, xmm0, xmm1} f(rdi, rsi, rdx, rcx, r8, r9, xmm0..xmm7)
 * which, register for register, is what the original code reads and
 * writes, so callers may call it as the original.
 * Blocks are keyed by (guest pc, inline context); an inline context is a
 * call site chain (lift_frame), so one callee inlined twice has two copies
 * with separate abstract states. */
#ifndef LIFT_JOB_H
#define LIFT_JOB_H

#include "lifter/codegen/lift_aot.h"
#include "lifter/lift_internal.h"

/* -- Abstract values ------------------------------------------------------------- */

enum lift_ak { LIFT_AK_BOTTOM, LIFT_AK_UNKNOWN, LIFT_AK_CONST, LIFT_AK_STACK,
               LIFT_AK_TAINT, /* slots only: unknown, may be sp0 + off (lift_slot.taint) */
               LIFT_AK_SHR    /* (sp0 + off) >> k: gcc's VLA pointer, scaled back by 8 later */ };
struct lift_aval {
    uint8_t kind;
    int64_t off;                /* LIFT_AK_STACK, LIFT_AK_SHR: sp0 + off */
    LLVMValueRef k;             /* LIFT_AK_CONST: an LLVM constant (uniqued); LIFT_AK_SHR: the shift */
};
struct lift_aslot { int64_t off; unsigned bits; struct lift_aval v; int priv; };
/* A block's entry state owns a slot array just large enough (malloc'd,
 * capslot); a temporary state points at LIFT_MAX_SLOTS slots on the stack
 * (ASTATE_TMP).  Most states hold a few slots: a block record stays small. */
struct lift_astate {
    struct lift_aval gpr[16], xmm[16], flag[LIFT_NFLAGS];
    int nslot, capslot;
    struct lift_aslot *slot;
    int ngslot;
    struct lift_gslot gslot[LIFT_MAX_GSLOTS];   /* constants only */
};

/* -- Blocks, inline frames, call decisions ------------------------------------------ */

struct lift_blk {
    uint64_t pc;
    int ctx;
    int var;                    /* 0, or 1/2: entered under a split's cond = 1/0 */
    int poly;                   /* 0, or the variant for its known registers */
    int seen;                   /* in-state valid */
    int is_exit;                /* snippet mode: the exit */
    struct lift_astate in;
    unsigned fuse, fdef, flive; /* flags: read before write, written, live in */
    int *succ, nsucc;           /* from the last analysis (malloc'd) */
    unsigned ninsn;
    LLVMBasicBlockRef bb;       /* emission */
    LLVMValueRef phi_gpr[16], phi_xmm[16], phi_flag[LIFT_NFLAGS];
    int emitted;
    int hnext;                  /* next block with the same hash (lift_block.c) */
};

struct lift_frame {
    int parent;                 /* -1 for the specialization's own frame */
    uint64_t entry, retpc, site;
    int64_t sp_entry;           /* rsp offset at the callee's first insn */
    int depth;
    uint64_t karg[6];
    unsigned kmask;
    /* Callee-saved registers at the call, known ones only: the SysV ABI
     * returns them unchanged, so the return restores them even when the
     * callee's own save slots were not forwarded. */
    LLVMValueRef saved_k[16];   /* LLVM constant, or NULL */
    int64_t saved_off[16];      /* stack offset when saved_stack bit set */
    unsigned saved_stack;
};

enum lift_call_kind { LIFT_CALL_INLINE, LIFT_CALL_SPEC, LIFT_CALL_NATIVE };
struct lift_decision {
    int ctx, var, poly;         /* the calling block's context and copy */
    uint64_t site;
    uint64_t target;            /* the known target decided for, 0 if unknown */
    uint64_t saved_hash;        /* the known callee-saved registers at the call */
    enum lift_call_kind kind;
    int callee_ctx;             /* INLINE */
    int spec;                   /* SPEC: job index */
    int kept;                   /* not INLINE because of lift_mod.noinl */
};

/* A frame window: a specialization whose caller hands it the address of
 * a region of the caller's own frame in argument register preg (an
 * interpreter's argument frame) takes the region's first LIFT_WIN words as
 * parameters instead (after the 14 register parameters) and returns them,
 * as it leaves them, after its four results.  Inside, the register holds
 * the address of a copy of the region just above its return address
 * (sp0 + 16), so the frame model forwards the words like any stack slot;
 * the caller forwards what it passes and what comes back, and the region
 * need not escape.  lift_call.c; invariants there. */
#define LIFT_WIN 8
#define LIFT_ARGS_STACK (1u << 6)
#define LIFT_WIN_OFF 16

struct lift_job {
    struct lift_mod *mod;
    uint64_t entry;
    uint64_t karg[6];           /* ORDER: rdi rsi rdx rcx r8 r9 */
    unsigned kmask;
    int preg;                   /* frame window in argument register preg (0..5), or -1 */
    int *wcallers, nwcallers, capwcallers;  /* jobs that call it with the window */
    LLVMValueRef fn;
    char name[96];
    int snippet;
    uint64_t snip_lo, snip_hi;  /* snippet: [lo, hi), hi = the exit */

    /* Analysis: one opaque value per register and flag, for the unknown
     * ones at a block's entry (in the scratch function's entry block, so
     * they outlive each block's scratch IR); NULL until first needed. */
    LLVMValueRef opq_gpr[16], opq_xmm[16], opq_flag[LIFT_NFLAGS];
    LLVMBuilderRef opq_b;

    struct lift_blk *blk;
    int nblk, capblk;
    int *hash;                  /* (pc, ctx, var) -> first block, chained by hnext */
    int hsize;
    struct lift_frame *fr;
    int nfr, capfr;
    struct lift_decision *dec;
    int ndec, capdec;

    int emitting;
    /* Blocks not to unroll (their variants never ended); lo[r]: the least
     * value register r held in every copy when it was constant in all (a
     * walk's start: lift_guard.c reads a frozen table there), else 0. */
    struct lift_mono { uint64_t pc, key, lo[16]; } *mono;
    int nmono, capmono;
    int nopoly, poly_restart;
    int64_t min_sp;
    int align64;                /* code aligns a stack address by 32 or 64 */
    struct lift_esc esc;        /* as lift_ctx.esc, for the whole job */
    unsigned insns;             /* instructions in the emitted blocks */
    int failed_ctx;             /* context of the refusal */
    int noinl_new;              /* analysis: lift_mod.noinl grew, analyse again */
    /* Recursion unrolled once: a small specialization that calls itself is
     * lifted again with its first such call inlined (the copy's own
     * recursive calls stay calls) (lift_block.c lift_job_run). */
    int self_call;              /* analysis: it calls itself */
    uint64_t self_key;          /* the inline frame (lift_frame_key) of its first such call */
    int unroll;                 /* 1: inline that call; 2: done; -1: it failed, do not */
    /* (frame key, pc): a `sub rsp, reg` of an inlined frame seen with the
     * amount known (a loop's first pass through a VLA); a later pass with it
     * unknown does not stop the inlining (lift_ops.c). */
    struct { uint64_t key, pc; } *vla_seen;
    int nvla_seen, capvla_seen;
    char why[200];
    int done, bailed;
    int caller_frame;           /* its lift read above its return address (stack arguments) */
    /* Call sites of the emitted code that call interpreter code with the
     * target or closure unresolved (lift_interp.c); reset per emission. */
    struct lift_isite { uint64_t site, fn, node; const char *why; } *isite;
    int nisite, capisite;
    /* Guards made this analysis round (lift_guard.c), reused by emission. */
    struct lift_guard { int ctx, poly; uint64_t site; int n; uint64_t *cand; } *guard;
    int nguard, capguard;
    int guard_heap;             /* a guard used lift_mod.fesc this round */
    int nfesc0;                 /* lift_mod.nfesc when the round began */
};

/* -- The module ------------------------------------------------------------------------ */

struct lift_range { uint64_t lo, hi; };
struct lift_live_ent { uint64_t pc; unsigned in; };

struct lift_mod {
    LLVMContextRef lc;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    struct lift_memsrc mem;
    struct lift_range *code;    /* code that may be lifted (the interpreter's text) */
    size_t ncode;
    uint64_t *native;           /* entries never to lift (bailed out) */
    int nnative, capnative;
    struct lift_job **jobs;
    int njobs, capjobs;
    int aot;                    /* native targets relative to the run-time bias */
    uint64_t load_bias;
    LLVMTypeRef fty, vfty, rty; /* universal, universal variadic, return struct */
    LLVMTypeRef wfty, wrty;     /* with a frame window (LIFT_WIN more words each way) */
    int windows;                /* make frame windows */
    struct { uint64_t entry, karg0; } *nowin;   /* never with a window (it escaped) */
    int nnowin, capnowin;
    /* Inline frames (lift_frame_key) never to make: that callee lowered rsp
     * there by an amount the lift does not know (a VLA sized by run-time
     * data).  Inlined, it would give the caller a dynamic frame (a frame
     * pointer, every callee-saved register spilled) on every path for the
     * sake of one; called, it keeps it to itself: a specialization when its
     * closure is known, else a native call.  LLVM's inliner has the same
     * rule.  Keyed by the whole inline chain: the same call elsewhere, with
     * the size known (a tail call's arguments stored just before), inlines. */
    uint64_t *noinl;
    int nnoinl, capnoinl;
    int max_depth, max_blocks, max_jobs;
    /* The lift budget of the whole module: a specialization first reached
     * once those lifted so far hold max_total_blocks blocks (0: no limit)
     * is not lifted but calls the original code (lift.c lift_mod_run,
     * lf_report.budget_calls). */
    long max_total_blocks, total_blocks;
    unsigned seq;               /* unique names */
    struct lf_report rep;
    /* Images: each call into the interpreter's code also adds 1 to the
     * imported counter lf_rt_interp_calls (lift_interp.c). */
    int count_interp;
    /* Frozen addresses the lifted code stored into memory it does not
     * follow or passed to a native call (lift_guard.c). */
    uint64_t *fesc;
    int nfesc, capfesc;
    /* The symbol of the function at guest address fn, or NULL (reports). */
    const char *(*fn_name)(struct lift_mod *m, uint64_t fn);
    /* 1 when a call to target whose return address is retpc never returns
     * (from the analyzer's noreturn, or retpc ending its function). */
    int (*noreturn_at)(struct lift_mod *m, uint64_t target, uint64_t retpc);
    /* The jump table of the indirect jmp at site: 1, its targets (link-time
     * addresses, add *bias) and their number. */
    int (*jump_table)(struct lift_mod *m, uint64_t site, const uint64_t **targets,
                      unsigned *n, uint64_t *bias);
    /* From target's prototype: 1, and the argument registers it reads
     * (bit k: k-th of rdi rsi rdx rcx r8 r9; xmm0-7), with LIFT_ARGS_STACK
     * in *gpr when some argument is passed on the stack. */
    int (*args_at)(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm);
    /* From target's prototype: 1, and the registers its result is in (bit
     * 0/1: rax/rdx; xmm0/xmm1); the others are garbage to its callers. */
    int (*rets_at)(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm);
    /* For a PLT stub at target: 1, and *name = the function it calls. */
    int (*plt_at)(struct lift_mod *m, uint64_t target, const char **name);
    /* The address (i64) a native call to guest address target uses: NULL
     * for target itself (in-process), else e.g. an external symbol (AOT). */
    LLVMValueRef (*native_ref)(struct lift_ctx *c, uint64_t target);
    /* 1 when the function at target has call sites with landing pads
     * (catch handlers, cleanups) in its exception table: only the unwinder
     * enters them, so a lift would skip them; it stays native. */
    int (*eh_at)(struct lift_mod *m, uint64_t target);
    void *user;
    struct lift_live_ent *live;   /* lift_live.c's cache: pc -> live registers */
    unsigned live_cap, live_n;
};

/* lift_block.c */
enum lf_status lift_job_run(struct lift_job *j);
void lift_job_release(struct lift_job *j);     /* its arrays, not j */

/* A temporary state with room for every slot. */
#define ASTATE_TMP(name)                                          \
    struct lift_aslot name##_slots[LIFT_MAX_SLOTS];               \
    struct lift_astate name = { .slot = name##_slots, .capslot = LIFT_MAX_SLOTS }

/* pe/lift_astate.c: abstract values and block entry states. */
int lift_aval_eq(struct lift_aval a, struct lift_aval b);
void lift_astate_of(struct lift_ctx *c, struct lift_astate *s, unsigned fmask);
/* The registers, flags and slots that c->term.cond decides, when it equals val. */
void lift_astate_refine(struct lift_ctx *c, struct lift_astate *s, uint64_t val);
void lift_join_escapes(struct lift_ctx *c, const struct lift_blk *b, const struct lift_astate *s);
void lift_astate_copy(struct lift_astate *d, const struct lift_astate *s);
int lift_astate_join(struct lift_ctx *c, struct lift_blk *b, const struct lift_astate *s);

/* pe/lift_phis.c: tidy an emitted function before optimization. */
void lift_job_phis(LLVMValueRef fn);
void lift_job_sweep(LLVMValueRef fn, LLVMValueRef keep);
int lift_code_ok(const struct lift_mod *m, uint64_t pc);
LLVMValueRef lift_opaque(struct lift_ctx *c, LLVMTypeRef t);

/* lift.c: lift jobs[0] and every specialization it calls (failures become
 * thunks to the original code); the root's status. */
enum lf_status lift_mod_run(struct lift_mod *m);
void lift_mod_free(struct lift_mod *m);        /* jobs and builder, not the module */
void lift_mod_trace(struct lift_mod *m, const char *what);

/* lift_eval.c: v's constant value when cond = val (no IR emitted). */
int lift_eval(const struct lift_ctx *c, LLVMValueRef v, LLVMValueRef cond, uint64_t val, uint64_t *out);
/* An i1 that v depends on such that v is constant under both of its values. */
LLVMValueRef lift_split_cond(const struct lift_ctx *c, LLVMValueRef v);

/* lift_call.c */
struct lift_job *lift_job_get(struct lift_mod *m, uint64_t entry, const uint64_t *karg,
                              unsigned kmask, int preg);
void lift_mod_types(struct lift_mod *m);
/* lift.c: the limits every module is lifted under. */
void lift_mod_limits(struct lift_mod *m);
/* The args of the universal signature from the current state. */
void lift_call_args(struct lift_ctx *c, LLVMValueRef args[14]);
/* Call fnptr (an LLVM function or i64 address; guest function t, 0 if
 * unknown) with the state, write back the results and clobber what the
 * ABI lets a callee clobber (nothing escapes into a noreturn callee).
 * win: a specialization with a frame window, whose region is at stack
 * offset wk (its words are passed and written back), else NULL. */
void lift_emit_call(struct lift_ctx *c, LLVMValueRef callee, int variadic, uint64_t t, int noreturn,
                    const struct lift_job *win, int64_t wk);
/* A function body that calls the original code natively (bailout); for
 * a frame window, with the register pointing at a copy of it. */
int lift_takes_stack_args(struct lift_mod *m, uint64_t t);
void lift_emit_thunk(struct lift_mod *m, LLVMValueRef fn, uint64_t target, int preg);
LLVMValueRef lift_native_addr(struct lift_ctx *c, uint64_t guest);
int lift_is_noreturn(struct lift_mod *m, uint64_t target, uint64_t retpc);
/* Set up c for lifting into fn: types, memory, and (with partial
 * evaluation) the frame alloca with sp0 at byte frame_top of it. */
void lift_job_ctx_init(struct lift_job *j, struct lift_ctx *c, LLVMValueRef fn, int64_t frame_top);
/* The guest state at the function's entry (params, known args, sp0). */
void lift_job_entry_state(struct lift_job *j, struct lift_ctx *c);
/* lift_snippet.c: the snippet's entry loads and exit stores. */
void lift_snippet_entry(struct lift_job *j, struct lift_ctx *c);
void lift_job_exit(struct lift_job *j, struct lift_ctx *c);
void lift_mod_native_add(struct lift_mod *m, uint64_t entry);
int lift_mod_is_native(const struct lift_mod *m, uint64_t entry);
/* m->eh_at says target has landing pads: counted (rep.eh_native) and
 * named in rep.reason when it is the first thing left native. */
int lift_mod_eh_native(struct lift_mod *m, uint64_t target);
/* The identity of an inline frame: its function, call site and known
 * arguments up the chain (the one a call to entry from context parent
 * would make), stable across analysis rounds. */
uint64_t lift_frame_key(const struct lift_job *j, int ctx);
uint64_t lift_frame_key_of(const struct lift_job *j, int parent, uint64_t entry, uint64_t site,
                           unsigned kmask, const uint64_t *karg);
/* A `sub rsp, reg` in inlined context ctx left rsp unknown (dynamic) or
 * known: 1 when the call that made ctx must not be inlined (lift_mod.noinl). */
int lift_vla_noinline(struct lift_job *j, int ctx, uint64_t pc, int dynamic);
/* lift_mod.noinl: add key (1 if new), look it up. */
int lift_mod_noinline_add(struct lift_mod *m, uint64_t key);
int lift_mod_noinline(const struct lift_mod *m, uint64_t key);
/* lift_live.c: the general registers (bit = Zydis id) code at pc may read
 * before writing them: bits 0-15 with ret per the ABI, bits 16-31 with ret
 * reading all; an estimate, for polyvariance keys and joins only. */
unsigned lift_live_in(struct lift_mod *m, uint64_t pc);
/* The xmm argument registers (bit = number, 0-7) the function at pc may
 * read: an over-estimate, so that unread ones need not be passed. */
unsigned lift_live_xmm(struct lift_mod *m, uint64_t pc);
/* The argument registers (gpr bit k = k-th of rdi rsi rdx rcx r8 r9, xmm bit = number)
 * the function at pc reads in its own instructions before writing them
 * (calls read nothing; code it cannot follow reads all): what a prototype
 * must list for the code to agree with it. */
void lift_entry_reads(struct lift_mod *m, uint64_t pc, unsigned *gpr, unsigned *xmm);
/* The caller-saved registers (bits 0-15 general, 16-31 xmm) that the
 * function at t never writes, itself or in its calls: a call of it leaves
 * them as they were (gcc's -fipa-ra relies on it).  0 for t = 0. */
unsigned lift_call_keeps(struct lift_mod *m, uint64_t t);
/* lift_guard.c: a call whose target is unknown, with the closure
 * argument (rdi) one of the frozen closures a table holds or the code
 * stored: 1 and c->term a LIFT_T_GUARD over them. */
int lift_guard_try(struct lift_ctx *c, LLVMValueRef target);
/* The table start a monovariant loop's register r walked in context ctx, or 0. */
uint64_t lift_mono_walk(const struct lift_job *j, int ctx, int r);
/* v (i64) leaves for memory the lifter does not follow: a frozen address
 * in it is a closure code may load back (lift_mod.fesc). */
void lift_guard_note(struct lift_ctx *c, LLVMValueRef v);
void lift_guard_reset(struct lift_job *j);   /* a new analysis round */
/* A guard too wide for copies (lift_guard_try said no): the call at site
 * made through the chosen case's specialization, or the fallback's native
 * call of target; 1 when made (c holds the state after it). */
int lift_guard_dispatch(struct lift_ctx *c, LLVMValueRef target, uint64_t site);
void lift_fn_noinline(LLVMValueRef fn);
/* The monovariant blocks' register walks (lift_job.mono lo[]) at (pc, ctx, var). */
void lift_mono_walks(struct lift_job *j, uint64_t pc, int ctx, int var);
/* The state on edge k of a split or guard (lift_block.c's successors). */
void lift_edge_refine(struct lift_ctx *c, struct lift_astate *s, int k);
/* lift_interp.c: a call the emitted code makes at site to interpreter
 * code t (0: unknown) that the lift did not resolve, for why; counted in
 * the job (emission only) and, with count_interp, at run time. */
void lift_interp_note(struct lift_ctx *c, uint64_t site, uint64_t t, const char *why);
/* Why a native call of t (0: unknown) from here is not resolved. */
const char *lift_interp_why(const struct lift_ctx *c, uint64_t t, int spec, int kept);
/* The run-time count of one such call (images: count_interp), at b. */
void lift_interp_count(struct lift_mod *m, LLVMBuilderRef b);
/* j became a thunk to the original code: that is its one site. */
void lift_interp_thunk(struct lift_job *j);
/* 1 when a native call to t counts as a call into the interpreter. */
int lift_interp_target(struct lift_mod *m, uint64_t t, uint64_t retpc);
/* Sum the live jobs' sites into m->rep (interp_calls, interp_top);
 * name(fn) gives a function's symbol, may be NULL. */
void lift_interp_report(struct lift_mod *m, const char *(*name)(struct lift_mod *m, uint64_t fn));
/* lift_block.c: delete every block of fn (it becomes a declaration). */
void lift_fn_clear_body(LLVMValueRef fn);
/* lift_call.c: integer arguments of a known C library function, or -1. */
int lift_libc_nargs(const char *name);


/* lift_jit.c: code generation */
#include <llvm-c/Orc.h>
#include <llvm-c/TargetMachine.h>
/* A target machine: cpu NULL = the host's; aot: PIC, small code model. */
LLVMTargetMachineRef lift_tm_create(const char *cpu, int aot, char *why, size_t whylen);
/* Verify and optimize (level 0..3) the module. */
enum lf_status lift_mod_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int level,
                                 struct lf_report *rep, char *why, size_t whylen);
/* lift_fast.c: give each internal function with an early return a wrapper
 * holding it, always inlined, that calls the function otherwise; point
 * its calls at the wrapper.  Returns the number of wrappers made. */
int lift_fast_exits(LLVMModuleRef m);
/* lift_retfwd.c: where every return of an internal function gives one of
 * its parameters (or one constant) in a field of its result, its callers
 * use their argument instead of that field.  Returns the fields replaced. */
int lift_forward_returns(LLVMModuleRef m);
/* lift_retfwd.c: every use of fn is a direct call of it (fn is not
 * passed as an argument or stored). */
int lift_only_called(LLVMValueRef fn);
/* lift_retfwd.c: split each phi of structs whose uses each extract one
 * field into a phi per field read.  Returns the phis split. */
int lift_split_struct_phis(LLVMModuleRef m);
/* lift_cc.c: give the self-recursive internal functions that allow it the
 * GHC convention (no callee-saved register).  Returns how many. */
int lift_recursion_cc(LLVMModuleRef m);
/* lift_facts.c: send each edge that proves a value odd past a switch (or
 * an equality branch) on it that compares it with even values only.
 * Returns the edges moved. */
int lift_thread_by_bit(LLVMModuleRef m);
/* Hand m (built in ts's context) to the process-wide JIT and look up
 * n symbols; the module and ts are consumed.  *code_size (if not NULL):
 * the executable bytes the module became. */
enum lf_status lift_jit_add(LLVMOrcThreadSafeContextRef ts, LLVMModuleRef m,
                            const char *const *names, int n, uint64_t *addrs,
                            size_t *code_size, char *why, size_t whylen);
double lift_now_ms(void);

#endif
