/* lift_call.c -- calls, returns and jumps: inline, specialize, or call the
 * original code natively; plus the specialization memo table.
 *
 * A call to a known target inside liftable code is inlined (a new inline
 * context: the return address is pushed like the CPU does, and `ret` in the
 * callee pops it and continues at the call site) while the depth and block
 * budgets allow and the same (target, known args) is not already being
 * inlined further up (recursion).  Otherwise, with known argument values,
 * it calls the specialization for (target, known args) from the memo table,
 * so recursion through frozen closures becomes direct recursion.  Anything
 * else is a native call of the original address with every argument
 * register (rdi..r9, xmm0..7, al = 8) and up to six words of the guest
 * stack as stack arguments.  Invariants:
 *   1. A decision is made once per (inline context, call site): analysis and
 *      emission see the same one (lift_block.c invariant 1).
 *   2. After a native call the caller-saved registers are unknown, the
 *      flags are 0 (DF = 0 as the ABI requires), callee-saved registers and
 *      forwarded stack slots survive unless the frame escaped.
 *   3. An indirect jump is accepted only as a tail call (rsp where it was
 *      at the function's entry); any other is refused (bailout).
 * Frame windows (lift_job.h): a call to a specialization whose one frame
 * pointer argument reaches a region of at most LIFT_WIN words that no
 * escaped pointer reaches passes the region's words and stores back the
 * words the callee returns, and does not escape the region:
 *   4. The callee's copy stands for the region only while it runs: a
 *      specialization whose copy escapes is not called with a window (its
 *      callers are lifted again, lift.c win_escaped).
 *   5. Its prototype takes no stack arguments (the copy is where they
 *      would be), and a bailed-out one is a thunk that hands the original
 *      code a copy in memory and returns it. */
#include "lifter/lift_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int lift_argreg[6] = { 7, 6, 2, 1, 8, 9 };   /* rdi rsi rdx rcx r8 r9 */

/* -- The module's memo table --------------------------------------------------------- */

void lift_mod_types(struct lift_mod *m)
{
    LLVMTypeRef i64 = LLVMInt64TypeInContext(m->lc);
    LLVMTypeRef v2 = LLVMVectorType(i64, 2);
    LLVMTypeRef rt[4] = { i64, i64, v2, v2 }, p[14];
    m->rty = LLVMStructTypeInContext(m->lc, rt, 4, 0);
    for (int k = 0; k < 14; k++) p[k] = k < 6 ? i64 : v2;
    m->fty = LLVMFunctionType(m->rty, p, 14, 0);
    m->vfty = LLVMFunctionType(m->rty, p, 6, 1);
    LLVMTypeRef wp[14 + LIFT_WIN], wr[4 + LIFT_WIN];
    for (int k = 0; k < 14 + LIFT_WIN; k++) wp[k] = k < 14 ? p[k] : i64;
    for (int k = 0; k < 4 + LIFT_WIN; k++) wr[k] = k < 4 ? rt[k] : i64;
    m->wrty = LLVMStructTypeInContext(m->lc, wr, 4 + LIFT_WIN, 0);
    m->wfty = LLVMFunctionType(m->wrty, wp, 14 + LIFT_WIN, 0);
}

void lift_mod_native_add(struct lift_mod *m, uint64_t entry)
{
    if (lift_mod_is_native(m, entry)) return;
    if (m->nnative == m->capnative) {
        m->capnative = m->capnative ? 2 * m->capnative : 16;
        m->native = realloc(m->native, (size_t)m->capnative * sizeof *m->native);
        LF_ASSERT(m->native, "out of memory");
    }
    m->native[m->nnative++] = entry;
}

int lift_mod_is_native(const struct lift_mod *m, uint64_t entry)
{
    for (int k = 0; k < m->nnative; k++)
        if (m->native[k] == entry) return 1;
    return 0;
}

uint64_t lift_frame_key_of(const struct lift_job *j, int parent, uint64_t entry, uint64_t site,
                           unsigned kmask, const uint64_t *karg)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int x = parent;; x = j->fr[x].parent) {
        h = (h ^ entry) * 0x100000001b3ull;
        h = (h ^ site) * 0x100000001b3ull;
        h = (h ^ kmask) * 0x100000001b3ull;
        for (int k = 0; k < 6; k++)
            if ((kmask >> k) & 1) h = (h ^ karg[k]) * 0x100000001b3ull;
        if (x < 0 || x >= j->nfr) return h;
        entry = j->fr[x].entry, site = j->fr[x].site, kmask = j->fr[x].kmask, karg = j->fr[x].karg;
    }
}

uint64_t lift_frame_key(const struct lift_job *j, int ctx)
{
    const struct lift_frame *f = &j->fr[ctx];
    return lift_frame_key_of(j, f->parent, f->entry, f->site, f->kmask, f->karg);
}

int lift_mod_noinline(const struct lift_mod *m, uint64_t key)
{
    for (int k = 0; k < m->nnoinl; k++)
        if (m->noinl[k] == key) return 1;
    return 0;
}

int lift_mod_noinline_add(struct lift_mod *m, uint64_t key)
{
    if (lift_mod_noinline(m, key)) return 0;
    if (m->nnoinl == m->capnoinl) {
        m->capnoinl = m->capnoinl ? 2 * m->capnoinl : 8;
        m->noinl = realloc(m->noinl, (size_t)m->capnoinl * sizeof *m->noinl);
        LF_ASSERT(m->noinl, "out of memory");
    }
    m->noinl[m->nnoinl++] = key;
    return 1;
}

int lift_vla_noinline(struct lift_job *j, int ctx, uint64_t pc, int dynamic)
{
    uint64_t key = lift_frame_key(j, ctx);
    for (int k = 0; k < j->nvla_seen; k++)
        if (j->vla_seen[k].key == key && j->vla_seen[k].pc == pc) return 0;
    if (dynamic) return lift_mod_noinline_add(j->mod, key);
    if (j->nvla_seen == j->capvla_seen) {
        j->capvla_seen = j->capvla_seen ? 2 * j->capvla_seen : 8;
        j->vla_seen = realloc(j->vla_seen, (size_t)j->capvla_seen * sizeof *j->vla_seen);
        LF_ASSERT(j->vla_seen, "out of memory");
    }
    j->vla_seen[j->nvla_seen].key = key;
    j->vla_seen[j->nvla_seen++].pc = pc;
    return 0;
}

static struct lift_job *job_find(struct lift_mod *m, uint64_t entry, const uint64_t *karg, unsigned kmask,
                                 int preg)
{
    for (int k = 0; k < m->njobs; k++) {
        struct lift_job *j = m->jobs[k];
        if (j->entry != entry || j->kmask != kmask || j->preg != preg) continue;
        int same = 1;
        for (int r = 0; r < 6; r++)
            if (((kmask >> r) & 1) && j->karg[r] != karg[r]) same = 0;
        if (same) return j;
    }
    return NULL;
}

struct lift_job *lift_job_get(struct lift_mod *m, uint64_t entry, const uint64_t *karg, unsigned kmask,
                              int preg)
{
    struct lift_job *found = job_find(m, entry, karg, kmask, preg);
    if (found) return found;
    if (m->njobs == m->capjobs) {
        m->capjobs = m->capjobs ? 2 * m->capjobs : 16;
        m->jobs = realloc(m->jobs, (size_t)m->capjobs * sizeof *m->jobs);
        LF_ASSERT(m->jobs, "out of memory");
    }
    struct lift_job *j = calloc(1, sizeof *j);
    LF_ASSERT(j, "out of memory");
    j->mod = m;
    j->entry = entry;
    j->kmask = kmask;
    j->preg = preg;
    for (int r = 0; r < 6; r++) j->karg[r] = ((kmask >> r) & 1) ? karg[r] : 0;
    snprintf(j->name, sizeof j->name, "lf%u.%llx.%d", m->seq, (unsigned long long)entry, m->njobs);
    j->fn = LLVMAddFunction(m->m, j->name, preg >= 0 ? m->wfty : m->fty);
    j->capfr = 16;
    j->fr = calloc((size_t)j->capfr, sizeof *j->fr);
    LF_ASSERT(j->fr, "out of memory");
    j->fr[0].parent = -1;
    j->fr[0].entry = entry;
    j->fr[0].kmask = kmask;
    memcpy(j->fr[0].karg, j->karg, sizeof j->karg);
    j->nfr = 1;
    m->jobs[m->njobs++] = j;
    return j;
}

/* -- Context and entry state ------------------------------------------------------------- */

void lift_job_ctx_init(struct lift_job *j, struct lift_ctx *c, LLVMValueRef fn, int64_t frame_top)
{
    struct lift_mod *m = j->mod;
    c->lc = m->lc;
    c->m = m->m;
    c->b = m->b;
    c->fn = fn;
    lift_ctx_types(c);
    c->mem = &m->mem;
    c->pe = !j->snippet;
    c->job = j;
    c->mod = m;
    c->bad = 0;
    c->min_sp = 0;
    c->esc = j->esc;
    c->frame = c->sp0 = NULL;
    c->ngown = 0;
    LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->lc, fn, "entry"));
    if (!c->pe) return;
    c->frame_top = frame_top;
    int64_t win = j->preg >= 0 ? 8 * LIFT_WIN : 0;   /* the window copy above sp0 + 16 */
    c->frame = LLVMBuildAlloca(c->b, LLVMArrayType(c->i8, (unsigned)(frame_top + 16 + win)), "frame");
    LLVMSetAlignment(c->frame, j->align64 || !j->emitting ? 64 : 16);
    c->sp0 = LLVMBuildAdd(c->b, LLVMBuildPtrToInt(c->b, c->frame, c->i64, ""),
                          lift_const(c, 64, (uint64_t)frame_top), "sp0");
}

void lift_job_entry_state(struct lift_job *j, struct lift_ctx *c)
{
    c->nfsrc = c->nslot = c->ngslot = 0;
    c->ctx_id = 0;
    if (j->snippet) { lift_snippet_entry(j, c); return; }
    for (int k = 0; k < 16; k++) c->gpr[k] = lift_opaque(c, c->i64), c->xmm[k] = lift_opaque(c, c->i128);
    for (int k = 0; k < 6; k++)
        c->gpr[lift_argreg[k]] = ((j->kmask >> k) & 1) ? lift_const(c, 64, j->karg[k])
                                                       : LLVMGetParam(c->fn, (unsigned)k);
    for (int k = 0; k < 8; k++)
        c->xmm[k] = LLVMBuildBitCast(c->b, LLVMGetParam(c->fn, 6u + (unsigned)k), c->i128, "");
    c->gpr[4] = c->sp0;
    for (int f = 0; f < LIFT_NFLAGS; f++) c->flag[f] = (struct lift_flagslot){ lift_const(c, 1, 0), -1 };
    if (j->preg < 0) return;
    c->gpr[lift_argreg[j->preg]] = lift_stack_addr(c, LIFT_WIN_OFF);
    for (int w = 0; w < LIFT_WIN; w++)
        lift_store(c, lift_stack_addr(c, LIFT_WIN_OFF + 8 * w), LLVMGetParam(c->fn, 14u + (unsigned)w),
                   ZYDIS_REGISTER_NONE);
}

/* -- Emitting calls ---------------------------------------------------------------------- */

void lift_call_args(struct lift_ctx *c, LLVMValueRef args[14])
{
    for (int k = 0; k < 6; k++) args[k] = c->gpr[lift_argreg[k]];
    for (int k = 0; k < 8; k++) args[6 + k] = LLVMBuildBitCast(c->b, c->xmm[k], c->v2i64, "");
}

LLVMValueRef lift_native_addr(struct lift_ctx *c, uint64_t guest)
{
    LLVMValueRef v = c->mod->native_ref ? c->mod->native_ref(c, guest) : NULL;
    return v ? v : lift_const(c, 64, guest);
}

/* A PLT stub is never lifted: it only jumps through the GOT. */
static int is_plt(struct lift_mod *m, uint64_t t)
{
    const char *name;
    return m->plt_at && m->plt_at(m, t, &name);
}

/* Integer argument registers of C library functions the interpreter may
 * call through its PLT, from their standard prototypes (variadic ones are
 * left out: they may read all six).  None takes a floating-point argument. */
static const struct { const char *name; int nargs; } libc_nargs[] = {
    { "abort", 0 }, { "calloc", 2 }, { "exit", 1 }, { "fclose", 1 }, { "fflush", 1 },
    { "fputc", 2 }, { "fputs", 2 }, { "free", 1 }, { "fwrite", 4 }, { "GC_malloc", 1 },
    { "GC_malloc_atomic", 1 }, { "GC_malloc_many", 1 }, { "malloc", 1 }, { "memchr", 3 },
    { "memcmp", 3 }, { "memcpy", 3 }, { "memmove", 3 }, { "memset", 3 }, { "open_memstream", 2 },
    { "putc", 2 }, { "putchar", 1 }, { "puts", 1 }, { "realloc", 2 }, { "stpcpy", 2 },
    { "strchr", 2 }, { "strcmp", 2 }, { "strcpy", 2 }, { "strlen", 1 }, { "strncmp", 3 },
    { "strtod", 2 }, { "strtol", 3 }, { "strtoll", 3 }, { "vfprintf", 3 }, { "vsnprintf", 4 },
};

int lift_libc_nargs(const char *name)
{
    for (size_t k = 0; k < sizeof libc_nargs / sizeof libc_nargs[0]; k++)
        if (!strcmp(libc_nargs[k].name, name)) return libc_nargs[k].nargs;
    return -1;
}

/* The argument registers a native call to t may read: *gpr bit k =
 * lift_argreg[k], *xmm bit k = xmm k.  From t's prototype or, for a known
 * import, its standard one (then 1: the other integer registers are
 * certainly not arguments); else all for an unknown target or import, and
 * for the interpreter's own code what its entry reads before writing
 * (lift_live.c, per the ABI).  import: the function a PLT stub at t calls,
 * NULL when t is not one. */
static int call_reads(struct lift_mod *m, uint64_t t, const char *import, unsigned *gpr, unsigned *xmm)
{
    *gpr = 0x3f;
    *xmm = 0xff;
    if (!t) return 0;
    if (m->args_at && m->args_at(m, t, gpr, xmm)) return 1;
    *xmm = lift_live_xmm(m, t);
    if (import) {
        int n = lift_libc_nargs(import);
        if (n >= 0) {
            *gpr = (1u << n) - 1;
            return 1;
        }
    } else if (lift_code_ok(m, t)) {
        unsigned live = lift_live_in(m, t);
        *gpr = 0;
        for (int k = 0; k < 6; k++)
            if ((live >> lift_argreg[k]) & 1) *gpr |= 1u << k;
    }
    return 0;
}

/* Word w of a frame window at stack offset wk is one the caller has: in
 * the region the pointer reaches, and in the caller's own frame. */
static int win_word(struct lift_ctx *c, int64_t wk, int w)
{
    int64_t off = wk + 8 * w;
    return off + 8 <= lift_escape_hi(c, wk) && (off + 8 <= 8 || lift_in_window(c, off, 8));
}

void lift_emit_call(struct lift_ctx *c, LLVMValueRef callee, int variadic, uint64_t t, int noreturn,
                    const struct lift_job *win, int64_t wk)
{
    struct lift_mod *m = c->mod;
    LLVMValueRef args[14 + 6 + LIFT_WIN];
    unsigned n = 14, greads, xreads;
    const char *import = NULL;   /* the function a PLT stub at t calls */
    if (!t || !m->plt_at || !m->plt_at(m, t, &import)) import = NULL;
    int proto = call_reads(m, t, import, &greads, &xreads);
    lift_call_args(c, args);
    /* A callee that never returns cannot invalidate what the lifter knows
     * after it: nothing it is given escapes. */
    for (int k = 0; k < 6 && !noreturn; k++)
        if ((greads >> k) & 1 && !(win && k == win->preg)) lift_note_escape(c, args[k]), lift_guard_note(c, args[k]);
    /* The window's words instead of its address (the callee reads its
     * own copy, not this register). */
    if (win) {
        for (int w = 0; w < LIFT_WIN; w++) {
            args[14 + w] = win_word(c, wk, w) ? lift_load(c, lift_stack_addr(c, wk + 8 * w), 64, ZYDIS_REGISTER_NONE)
                                              : lift_const(c, 64, 0);
            if (!noreturn) lift_note_escape(c, args[14 + w]);   /* a frame address in it is handed over */
        }
        args[win->preg] = lift_const(c, 64, 0);
        n = 14 + LIFT_WIN;
    }
    /* Registers the callee does not read go as zero, so that a
     * specialization's parameters die when only such calls use them; an
     * integer register only by the prototype (an estimate may miss one). */
    for (int k = 0; k < 8; k++)
        if (!((xreads >> k) & 1)) args[6 + k] = LLVMConstNull(c->v2i64);
    for (int k = 0; k < 6 && proto; k++)
        if (!((greads >> k) & 1)) args[k] = lift_const(c, 64, 0);
    int64_t off;
    /* Guest stack words at [rsp, rsp+48) become the callee's stack
     * arguments; extra ones are ignored by the callee.  None for a
     * prototype that passes everything in registers. */
    if (variadic && c->pe && !(proto && !(greads & LIFT_ARGS_STACK)) && lift_stack_off(c, c->gpr[4], &off))
        for (int64_t w = 0; w < 6 && off + 8 * (w + 1) <= 0; w++)
            args[n++] = lift_load(c, lift_stack_addr(c, off + 8 * w), 64, ZYDIS_REGISTER_NONE);
    /* memcpy, memmove and memset write [rdi, rdi+rdx) only: into the frame
     * they leave globals alone, into known global bytes the others. */
    int64_t doff;
    uint64_t dst, len;
    int memfn = import && (!strcmp(import, "memcpy") || !strcmp(import, "memmove") || !strcmp(import, "memset"));
    if (noreturn)
        ;
    else if (memfn && lift_stack_off(c, c->gpr[7], &doff))
        lift_clobber_stack(c);
    else if (memfn && lift_is_const(c->gpr[7], &dst) && lift_is_const(c->gpr[2], &len) && len < (1u << 20)) {
        lift_clobber_stack(c);
        lift_gslot_kill(c, dst, len);
    } else
        lift_clobber_mem(c);
    /* What the callee leaves alone keeps its value (gcc's -fipa-ra keeps
     * caller values in such scratch registers); not a PLT stub's. */
    unsigned keep = import || noreturn ? 0 : lift_call_keeps(m, t);
    LLVMValueRef gsave[16], xsave[16];
    memcpy(gsave, c->gpr, sizeof gsave);
    memcpy(xsave, c->xmm, sizeof xsave);
    LLVMValueRef r;
    if (variadic) {
        LLVMValueRef fp = LLVMBuildIntToPtr(c->b, callee, LLVMPointerType(m->vfty, 0), "");
        r = LLVMBuildCall2(c->b, m->vfty, fp, args, n, "");
    } else {
        r = LLVMBuildCall2(c->b, win ? m->wfty : m->fty, callee, args, n, "");
    }
    static const int clobbered[] = { 1, 6, 7, 8, 9, 10, 11 };
    for (size_t k = 0; k < sizeof clobbered / sizeof clobbered[0]; k++)
        c->gpr[clobbered[k]] = lift_opaque(c, c->i64);
    for (int k = 2; k < 16; k++) c->xmm[k] = lift_opaque(c, c->i128);
    c->gpr[0] = LLVMBuildExtractValue(c->b, r, 0, "rax");
    c->gpr[2] = LLVMBuildExtractValue(c->b, r, 1, "rdx");
    c->xmm[0] = LLVMBuildBitCast(c->b, LLVMBuildExtractValue(c->b, r, 2, ""), c->i128, "");
    c->xmm[1] = LLVMBuildBitCast(c->b, LLVMBuildExtractValue(c->b, r, 3, ""), c->i128, "");
    for (int k = 0; k < 16; k++) {
        if ((keep >> k) & 1) c->gpr[k] = gsave[k];
        if ((keep >> (16 + k)) & 1) c->xmm[k] = xsave[k];
    }
    for (int f = 0; f < LIFT_NFLAGS; f++) lift_set_flag(c, (enum lift_flag)f, lift_const(c, 1, 0));
    /* The window as the callee left it. */
    for (int w = 0; win && w < LIFT_WIN; w++)
        if (win_word(c, wk, w))
            lift_store(c, lift_stack_addr(c, wk + 8 * w), LLVMBuildExtractValue(c->b, r, 4u + (unsigned)w, ""),
                       ZYDIS_REGISTER_NONE);
}

void lift_emit_thunk(struct lift_mod *m, LLVMValueRef fn, uint64_t target, int preg)
{
    LLVMBuilderRef b = LLVMCreateBuilderInContext(m->lc);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(m->lc, fn, "thunk"));
    LLVMTypeRef i64 = LLVMInt64TypeInContext(m->lc), wt = LLVMArrayType(i64, LIFT_WIN);
    LLVMValueRef args[14], buf = NULL, slot[LIFT_WIN];
    for (unsigned k = 0; k < 14; k++) args[k] = LLVMGetParam(fn, k);
    if (preg >= 0) {   /* the window in memory for the original code */
        buf = LLVMBuildAlloca(b, wt, "window");
        for (unsigned w = 0; w < LIFT_WIN; w++) {
            LLVMValueRef idx[2] = { LLVMConstInt(i64, 0, 0), LLVMConstInt(i64, w, 0) };
            slot[w] = LLVMBuildInBoundsGEP2(b, wt, buf, idx, 2, "");
            LLVMBuildStore(b, LLVMGetParam(fn, 14 + w), slot[w]);
        }
        args[preg] = LLVMBuildPtrToInt(b, buf, i64, "");
    }
    lift_interp_count(m, b);
    LLVMValueRef fp = LLVMBuildIntToPtr(b, LLVMConstInt(i64, target, 0), LLVMPointerType(m->vfty, 0), "");
    LLVMValueRef r = LLVMBuildCall2(b, m->vfty, fp, args, 14, "");
    if (preg < 0) {
        LLVMSetTailCall(r, 1);
        LLVMBuildRet(b, r);
    } else {
        LLVMValueRef wr = LLVMGetUndef(m->wrty);
        for (unsigned k = 0; k < 4; k++) wr = LLVMBuildInsertValue(b, wr, LLVMBuildExtractValue(b, r, k, ""), k, "");
        for (unsigned w = 0; w < LIFT_WIN; w++)
            wr = LLVMBuildInsertValue(b, wr, LLVMBuildLoad2(b, i64, slot[w], ""), 4 + w, "");
        LLVMBuildRet(b, wr);
    }
    LLVMDisposeBuilder(b);
}

int lift_is_noreturn(struct lift_mod *m, uint64_t target, uint64_t retpc)
{
    return m->noreturn_at ? m->noreturn_at(m, target, retpc) : 0;
}

/* -- Decisions --------------------------------------------------------------------------- */

static unsigned known_args(struct lift_ctx *c, uint64_t karg[6])
{
    unsigned mask = 0;
    for (int k = 0; k < 6; k++) {
        karg[k] = 0;
        if (lift_is_const(c->gpr[lift_argreg[k]], &karg[k])) mask |= 1u << k;
    }
    return mask;
}

/* The same entry with the same first argument (a closure calls code(closure,
 * ...)) further up the inline chain: recursion.  Other argument registers
 * are not compared: without a prototype they may hold unrelated constants
 * that differ at every level and would inline a recursion to the depth
 * limit (fib: 2^depth copies).  A job that unrolls (lift_job.unroll)
 * inlines its first call of itself, made from its own body (the inline
 * frame the lift before recorded), once. */
static int is_recursion(struct lift_job *j, int ctx, uint64_t t, uint64_t key, const uint64_t *karg,
                        unsigned kmask)
{
    int n = 0, root = 0;
    for (int x = ctx; x >= 0; x = j->fr[x].parent)
        if (j->fr[x].entry == t && (j->fr[x].kmask & 1) == (kmask & 1) &&
            (!(kmask & 1) || j->fr[x].karg[0] == karg[0])) n++, root = x == 0;
    if (!(n == 1 && root)) return n > 0;
    if (!j->self_call && !j->unroll) j->self_call = 1, j->self_key = key;
    return !(j->unroll >= 1 && key == j->self_key);
}

/* ORDER: rbx rbp r12 r13 r14 r15, the SysV callee-saved GPRs besides rsp. */
static const int lift_callee_saved[6] = { 3, 5, 12, 13, 14, 15 };

/* A hash of the known callee-saved registers (frames differ when they do). */
static uint64_t saved_hash(const struct lift_ctx *c)
{
    uint64_t h = 1469598103934665603ull, v;
    int64_t off;
    for (int k = 0; k < 6; k++) {
        LLVMValueRef r = c->gpr[lift_callee_saved[k]];
        uint64_t x = 0;
        if (lift_is_const(r, &v)) x = v * 2 + 1;
        else if (lift_stack_off(c, r, &off)) x = (uint64_t)off * 4 + 2;
        h = (h ^ x) * 1099511628211ull;
    }
    return h;
}

static void frame_save(const struct lift_ctx *c, struct lift_frame *f)
{
    int64_t off;
    f->saved_stack = 0;
    for (int k = 0; k < 6; k++) {
        int r = lift_callee_saved[k];
        f->saved_k[r] = LLVMIsAConstantInt(c->gpr[r]) ? c->gpr[r] : NULL;
        if (lift_stack_off(c, c->gpr[r], &off)) f->saved_stack |= 1u << r, f->saved_off[r] = off;
    }
}

/* The callee-saved registers the return restores are exactly c's: an
 * inline context is shared only by calls that return to the same state. */
static int frame_saved_eq(const struct lift_ctx *c, const struct lift_frame *f)
{
    int64_t off;
    for (int k = 0; k < 6; k++) {
        int r = lift_callee_saved[k];
        LLVMValueRef kv = LLVMIsAConstantInt(c->gpr[r]) ? c->gpr[r] : NULL;
        int st = lift_stack_off(c, c->gpr[r], &off);
        if (kv != f->saved_k[r] || st != (int)((f->saved_stack >> r) & 1) || (st && off != f->saved_off[r]))
            return 0;
    }
    return 1;
}

static int frame_new(struct lift_job *j, int parent, uint64_t t, uint64_t retpc, uint64_t site,
                     int64_t sp_entry, const uint64_t *karg, unsigned kmask)
{
    if (j->nfr == j->capfr) {
        j->capfr *= 2;
        j->fr = realloc(j->fr, (size_t)j->capfr * sizeof *j->fr);
        LF_ASSERT(j->fr, "out of memory");
    }
    struct lift_frame *f = &j->fr[j->nfr];
    memset(f, 0, sizeof *f);
    f->parent = parent, f->entry = t, f->retpc = retpc, f->site = site, f->sp_entry = sp_entry;
    f->depth = j->fr[parent].depth + 1, f->kmask = kmask;
    memcpy(f->karg, karg, sizeof f->karg);
    return j->nfr++;
}

static struct lift_decision *decide(struct lift_ctx *c, uint64_t site, uint64_t retpc, LLVMValueRef target)
{
    struct lift_job *j = c->job;
    struct lift_mod *m = j->mod;
    uint64_t t = 0, karg[6], sh = saved_hash(c);
    lift_is_const(target, &t);
    /* Keyed by the target too: a later, less precise state may no longer
     * know the target the first decision was made for. */
    for (int k = 0; k < j->ndec; k++)
        if (j->dec[k].ctx == c->ctx_id && j->dec[k].var == c->blk_var && j->dec[k].poly == c->blk_poly &&
            j->dec[k].site == site && j->dec[k].target == t && j->dec[k].saved_hash == sh &&
            (j->dec[k].kind != LIFT_CALL_INLINE || frame_saved_eq(c, &j->fr[j->dec[k].callee_ctx])))
            return &j->dec[k];
    if (j->ndec == j->capdec) {
        j->capdec = j->capdec ? 2 * j->capdec : 32;
        j->dec = realloc(j->dec, (size_t)j->capdec * sizeof *j->dec);
        LF_ASSERT(j->dec, "out of memory");
    }
    struct lift_decision *d = &j->dec[j->ndec++];
    /* One inline context per calling copy: an unrolled iteration's callee
     * keeps that iteration's constants (saved registers included). */
    *d = (struct lift_decision){ c->ctx_id, c->blk_var, c->blk_poly, site, t, sh, LIFT_CALL_NATIVE, -1, -1, 0 };
    int64_t off;
    /* A call that never returns is an error path: called, not lifted, so
     * that cold code costs neither lift time nor the hot path's frame. */
    if (!lift_is_const(target, &t) || !lift_code_ok(m, t) || lift_mod_is_native(m, t) || is_plt(m, t) ||
        lift_is_noreturn(m, t, retpc) || lift_mod_eh_native(m, t))
        return d;
    unsigned kmask = known_args(c, karg);
    int depth = j->fr[c->ctx_id].depth;
    /* The inline frame this call would make (lift_frame_key). */
    uint64_t key = lift_frame_key_of(j, c->ctx_id, t, site, kmask, karg);
    d->kept = lift_mod_noinline(m, key);
    if (!is_recursion(j, c->ctx_id, t, key, karg, kmask) && depth < m->max_depth && !d->kept &&
        j->nblk < m->max_blocks && lift_stack_off(c, c->gpr[4], &off)) {
        d->kind = LIFT_CALL_INLINE;
        d->callee_ctx = frame_new(j, c->ctx_id, t, retpc, site, off - 8, karg, kmask);
        frame_save(c, &j->fr[d->callee_ctx]);
    } else if (kmask & 1) {
        d->kind = LIFT_CALL_SPEC;
    }
    return d;
}

/* -- The control semantics' entry points ------------------------------------------------- */

/* An unknown target that is one of two constants: split on its condition
 * (lift_eval.c).  Only once per instruction: a split's copies do not split. */
static int try_split(struct lift_ctx *c, LLVMValueRef target)
{
    if (c->job->snippet || c->blk_var || lift_is_const(target, NULL) || !c->insn) return 0;
    LLVMValueRef cond = lift_split_cond(c, target);
    if (!cond) return 0;
    c->term = (struct lift_term){ LIFT_T_SPLIT, c->insn->pc, c->insn->pc, c->ctx_id, c->ctx_id, cond, NULL, NULL, 0, 0 };
    return 1;
}

static void push_ret(struct lift_ctx *c, uint64_t retpc)
{
    LLVMValueRef sp = lift_sub(c, c->gpr[4], lift_const(c, 64, 8));
    lift_set_gpr64(c, 4, sp);
    lift_store_private(c, sp, lift_const(c, 64, retpc));
    int64_t off;
    if (lift_stack_off(c, sp, &off)) lift_slots_dead_below(c, off);
}

static enum lf_status call_out(struct lift_ctx *c, LLVMValueRef callee, int variadic,
                               uint64_t t, uint64_t retpc, const struct lift_job *win, int64_t wk)
{
    struct lift_mod *m = c->mod;
    int noreturn = lift_is_noreturn(m, t, retpc);
    lift_emit_call(c, callee, variadic, t, noreturn, win, wk);
    if (c->job->emitting) m->rep.native_calls += variadic;
    if (c->job->emitting && variadic && lift_trace() >= 2) {
        fprintf(stderr, "lineiform: %s: native call at 0x%llx to %s0x%llx, inlined in",
                c->job->name, (unsigned long long)(retpc ? retpc : (c->insn ? c->insn->pc : 0)),
                t ? "" : "unknown ", (unsigned long long)t);
        for (int x = c->ctx_id; x >= 0; x = c->job->fr[x].parent)
            fprintf(stderr, " 0x%llx(%llx)", (unsigned long long)c->job->fr[x].entry,
                    (unsigned long long)((c->job->fr[x].kmask & 1) ? c->job->fr[x].karg[0] : 0));
        fputc('\n', stderr);
    }
    if (noreturn) {
        LLVMBuildUnreachable(c->b);
        c->term.kind = LIFT_T_STOP;
    }
    return LF_OK;
}

/* The argument register to hand specialization (t, closure k0) as a
 * frame window, with *wk its stack offset, or -1.  It must be the only
 * argument that points into the frame (another could reach the region
 * too), the region it reaches must fit the window and be reachable by no
 * escaped pointer, and t's prototype must take nothing on the stack (its
 * words above the return address are the window's copy in the callee). */
static int win_reg(struct lift_ctx *c, uint64_t t, uint64_t k0, int64_t *wk)
{
    struct lift_mod *m = c->mod;
    unsigned g = 0, x = 0;
    int reg = -1;
    if (!m->windows || !c->pe || !m->args_at || !m->args_at(m, t, &g, &x) || (g & LIFT_ARGS_STACK)) return -1;
    for (int q = 0; q < m->nnowin; q++)
        if (m->nowin[q].entry == t && m->nowin[q].karg0 == k0) return -1;
    for (int k = 0; k < 6; k++) {
        int64_t off;
        if (!((g >> k) & 1) || !lift_stack_off(c, c->gpr[lift_argreg[k]], &off)) continue;
        if (reg >= 0) return -1;
        reg = k, *wk = off;
    }
    if (reg < 0) return -1;
    int64_t hi = lift_escape_hi(c, *wk);
    if (hi <= *wk || hi - *wk > 8 * LIFT_WIN || lift_escaped(c, *wk, (unsigned)(hi - *wk))) return -1;
    return reg;
}

static void win_caller(struct lift_job *s, const struct lift_job *j)
{
    int k = 0;
    while (k < j->mod->njobs && j->mod->jobs[k] != j) k++;
    for (int q = 0; q < s->nwcallers; q++)
        if (s->wcallers[q] == k) return;
    if (s->nwcallers == s->capwcallers) {
        s->capwcallers = s->capwcallers ? 2 * s->capwcallers : 8;
        s->wcallers = realloc(s->wcallers, (size_t)s->capwcallers * sizeof *s->wcallers);
        LF_ASSERT(s->wcallers, "out of memory");
    }
    s->wcallers[s->nwcallers++] = k;
}

enum lf_status lift_call(struct lift_ctx *c, const struct lift_insn *i, LLVMValueRef target)
{
    struct lift_job *j = c->job;
    struct lift_mod *m = j->mod;
    uint64_t retpc = i->pc + i->len, t = 0, karg[6];
    int known = lift_is_const(target, &t);
    /* A snippet has no frame to inline into: its calls, even to code inside
     * it (real code at its real address), are native calls. */
    if (j->snippet) return call_out(c, known ? lift_native_addr(c, t) : target, 1, t, retpc, NULL, 0);
    if (try_split(c, target) || lift_guard_try(c, target)) return LF_OK;
    struct lift_decision *d = decide(c, i->pc, retpc, target);
    if (j->emitting && d->kept) m->rep.kept_calls++;
    if (d->kind == LIFT_CALL_INLINE) {
        push_ret(c, retpc);
        c->term = (struct lift_term){ LIFT_T_JUMP, t, 0, d->callee_ctx, 0, NULL, NULL, NULL, 0, 0 };
        if (j->emitting) m->rep.inlined++;
        return LF_OK;
    }
    if (d->kind == LIFT_CALL_SPEC) {
        unsigned kmask = known_args(c, karg) & 1;   /* keyed by the closure (see is_recursion) */
        int64_t wk = 0;
        int preg = kmask ? win_reg(c, t, karg[0], &wk) : -1;
        struct lift_job *s = kmask ? job_find(m, t, karg, kmask, preg) : NULL;
        if (!s && kmask && m->njobs < m->max_jobs) s = lift_job_get(m, t, karg, kmask, preg);
        if (s && preg >= 0 && j->emitting) win_caller(s, j);
        if (s) return call_out(c, s->fn, 0, t, retpc, preg >= 0 ? s : NULL, wk);
        if (kmask && j->emitting) m->rep.budget_calls++;   /* max_jobs reached: counted with the lift budget */
    }
    if (!known && lift_guard_dispatch(c, target, i->pc)) return LF_OK;
    if (lift_interp_target(m, t, retpc))
        lift_interp_note(c, i->pc, t, lift_interp_why(c, t, d->kind == LIFT_CALL_SPEC, d->kept));
    return call_out(c, known ? lift_native_addr(c, t) : target, 1, t, retpc, NULL, 0);
}

enum lf_status lift_ret(struct lift_ctx *c, uint64_t imm)
{
    struct lift_job *j = c->job;
    const struct lift_frame *f = &j->fr[c->ctx_id];
    int64_t off;
    if (j->snippet) {  /* pop the return address and go there (lift_jump checks it) */
        LLVMValueRef ra = lift_load(c, c->gpr[4], 64, ZYDIS_REGISTER_NONE);
        lift_set_gpr64(c, 4, lift_add(c, c->gpr[4], lift_const(c, 64, 8 + imm)));
        lift_jump(c, ra);
        return c->bad ? LF_ERR_UNSUPPORTED : LF_OK;
    }
    if (!lift_stack_off(c, c->gpr[4], &off) || off != f->sp_entry) {
        if (lift_trace() >= 3) {
            char *v = LLVMPrintValueToString(c->gpr[4]);
            fprintf(stderr, "lineiform: unknown rsp = %.300s\n", v);
            LLVMDisposeMessage(v);
            v = LLVMPrintValueToString(c->gpr[5]);
            fprintf(stderr, "lineiform: rbp = %.300s\n", v);
            LLVMDisposeMessage(v);
        }
        if (!lift_stack_off(c, c->gpr[4], &off))
            return lift_fail(c, "ret at 0x%llx with an unknown rsp", (unsigned long long)(c->insn ? c->insn->pc : 0));
        return lift_fail(c, "ret at 0x%llx with rsp at sp%+lld, not sp%+lld", (unsigned long long)(c->insn ? c->insn->pc : 0),
                         (long long)off, (long long)f->sp_entry);
    }
    LLVMValueRef ra = lift_load(c, c->gpr[4], 64, ZYDIS_REGISTER_NONE);
    lift_set_gpr64(c, 4, lift_stack_addr(c, off + 8 + (int64_t)imm));
    if (f->parent >= 0) {
        /* The slot holds the return address pushed at the inlined call (if
         * forwarding lost it, e.g. after an escaped store, it still does). */
        uint64_t r;
        if (lift_is_const(ra, &r) && r != f->retpc)
            return lift_fail(c, "return address overwritten in inlined 0x%llx", (unsigned long long)f->entry);
        for (int k = 0; k < 6; k++) {
            int r = lift_callee_saved[k];
            if (f->saved_k[r]) c->gpr[r] = f->saved_k[r];
            else if ((f->saved_stack >> r) & 1) c->gpr[r] = lift_stack_addr(c, f->saved_off[r]);
        }
        c->term = (struct lift_term){ LIFT_T_JUMP, f->retpc, 0, f->parent, 0, NULL, NULL, NULL, 0, 0 };
        return LF_OK;
    }
    /* Registers the prototype says carry no result go as zero: callers do
     * not read them, and LLVM then drops them from the signature. */
    unsigned rg = 3, rx = 3;
    if (c->mod->rets_at && !c->mod->rets_at(c->mod, c->job->entry, &rg, &rx)) rg = rx = 3;
    LLVMValueRef z64 = lift_const(c, 64, 0), z128 = LLVMConstNull(c->v2i64);
    LLVMValueRef r = LLVMGetUndef(j->preg >= 0 ? c->mod->wrty : c->mod->rty);
    r = LLVMBuildInsertValue(c->b, r, rg & 1 ? c->gpr[0] : z64, 0, "");
    r = LLVMBuildInsertValue(c->b, r, rg & 2 ? c->gpr[2] : z64, 1, "");
    r = LLVMBuildInsertValue(c->b, r, rx & 1 ? LLVMBuildBitCast(c->b, c->xmm[0], c->v2i64, "") : z128, 2, "");
    r = LLVMBuildInsertValue(c->b, r, rx & 2 ? LLVMBuildBitCast(c->b, c->xmm[1], c->v2i64, "") : z128, 3, "");
    for (int w = 0; j->preg >= 0 && w < LIFT_WIN; w++)
        r = LLVMBuildInsertValue(c->b, r, lift_load(c, lift_stack_addr(c, LIFT_WIN_OFF + 8 * w), 64, ZYDIS_REGISTER_NONE),
                                 4u + (unsigned)w, "");
    LLVMBuildRet(c->b, r);
    c->term.kind = LIFT_T_RET;
    return LF_OK;
}

/* An indirect jump, or a jump out of liftable code: a tail call. */
static void tail_call(struct lift_ctx *c, LLVMValueRef target)
{
    const struct lift_frame *f = &c->job->fr[c->ctx_id];
    uint64_t t = 0;
    int64_t off;
    int known = lift_is_const(target, &t);
    const uint64_t *cases;
    unsigned ncase;
    uint64_t bias;
    if (!known && c->insn && c->mod->jump_table &&
        c->mod->jump_table(c->mod, c->insn->pc, &cases, &ncase, &bias) && ncase > 0) {
        c->term = (struct lift_term){ LIFT_T_SWITCH, 0, 0, c->ctx_id, 0, NULL, target, cases, ncase, bias };
        return;
    }
    if (!lift_stack_off(c, c->gpr[4], &off) || off != f->sp_entry) {
        c->bad = 1;
        lift_fail(c, "indirect jump that is not a tail call at 0x%llx (jump table?)",
                  (unsigned long long)(c->insn ? c->insn->pc : 0));
        return;
    }
    if (!known && c->insn && lift_guard_dispatch(c, target, c->insn->pc)) {
        if (lift_ret(c, 0) != LF_OK) c->bad = 1;
        return;
    }
    if (lift_interp_target(c->mod, t, 0))
        lift_interp_note(c, c->insn ? c->insn->pc : 0, t, lift_interp_why(c, t, 0, 0));
    call_out(c, known ? lift_native_addr(c, t) : target, 1, t, 0, NULL, 0);
    if (c->term.kind == LIFT_T_STOP) return;
    /* The callee returned to our return address: pop it like its ret did. */
    if (lift_ret(c, 0) != LF_OK) c->bad = 1;
}

void lift_jump(struct lift_ctx *c, LLVMValueRef target)
{
    struct lift_job *j = c->job;
    uint64_t t;
    if (lift_is_const(target, &t)) {
        int ok = j->snippet ? (t >= j->snip_lo && t <= j->snip_hi)
                            : (lift_code_ok(j->mod, t) && !lift_mod_is_native(j->mod, t) &&
                               !is_plt(j->mod, t) && !lift_mod_eh_native(j->mod, t));
        if (ok) {
            c->term = (struct lift_term){ LIFT_T_JUMP, t, 0, c->ctx_id, 0, NULL, NULL, NULL, 0, 0 };
            return;
        }
    }
    if (j->snippet) {
        /* Every path leaves a snippet by falling off its end (lift_snippet.h),
         * so a computed target must be the end: check it, trap otherwise. */
        if (!lift_is_const(target, &t)) {
            lift_trap_if(c, LLVMBuildICmp(c->b, LLVMIntNE, target, lift_const(c, 64, j->snip_hi), ""));
            c->term = (struct lift_term){ LIFT_T_JUMP, j->snip_hi, 0, c->ctx_id, 0, NULL, NULL, NULL, 0, 0 };
            return;
        }
        c->bad = 1;
        lift_fail(c, "jump out of the snippet");
        return;
    }
    if (try_split(c, target) || lift_guard_try(c, target)) return;
    tail_call(c, target);
}
