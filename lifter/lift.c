/* lift.c -- the lifter's driver: lf_optimize, and the stage order every
 * path shares.
 *
 *   (fn, env) --decode--> x86 insns --lift--> LLVM IR --partial-eval-->
 *      |      sem/lift_decode.c   sem/sem_*.c   pe/lift_block.c (fixpoint,
 *      |                                         pe/lift_astate.c states,
 *      |                                         pe/lift_call.c inline/specialize)
 *      +--> LLVM opt (default<O2>) --passes--> --emit--> JIT or ELF object
 *           codegen/lift_jit.c    passes/lift_*.c      codegen/lift_aot.c
 *
 * Folders follow the pipeline: sem/ (instruction semantics), pe/ (the
 * partial evaluator), passes/ (IR passes after lifting: fast exits,
 * result forwarding, calling conventions, facts), codegen/ (LLVM set-up,
 * optimization, JIT and ahead-of-time objects).
 *
 * lift_mod_run lifts the root specialization and every specialization it
 * calls (the memo table grows while lifting); a specialization that cannot
 * be lifted becomes a thunk calling the original code, so every call in the
 * module stays valid.  LF_DEBUG(1) prints per-phase timings, LF_DEBUG(1)
 * also the lifted and optimized IR (LINEIFORM_TRACE=1).
 *
 * lf_optimize invariants:
 *   1. Never NULL, never a crash on bad input: anything that cannot be
 *      specialized returns fn itself, with lf_last_report()->reason.
 *   2. The same (fn, env) returns the same code (memo table, never freed).
 *   3. One lf_optimize at a time (a process-wide lock); the report is the
 *      last call's.
 *   4. A non-NULL env must be constant (frozen, or read-only in a loaded
 *      object): otherwise fn is returned, with the reason. */
#include "lifter/lift_proc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- Lifting a module's specializations --------------------------------------------- */

/* The limits both paths (lf_optimize and images) lift a module under:
 * inline depth, blocks per specialization, the module's budget
 * (LIFT_BUDGET_JOBS, LIFT_BUDGET_BLOCKS), and frame windows on. */
void lift_mod_limits(struct lift_mod *m)
{
    m->max_depth = 16;
    m->max_blocks = 1500;
    m->max_jobs = LIFT_BUDGET_JOBS;
    m->max_total_blocks = LIFT_BUDGET_BLOCKS;
    m->windows = 1;
}

static void job_free(struct lift_job *j)
{
    lift_job_release(j);
    free(j->wcallers);
    free(j->vla_seen);
    free(j);
}

/* After a specialization with a frame window is lifted: 1 when an escaped
 * pointer may reach its copy of the window, which then would not outlive
 * it as the caller's region does.  Its key goes on the module's nowin
 * list: its callers are lifted again and call it without a window. */
static int win_escaped(struct lift_mod *m, struct lift_job *j)
{
    int bad = 0;
    for (int e = 0; j->preg >= 0 && e < j->esc.n && !bad; e++)
        bad = j->esc.r[e].lo < LIFT_WIN_OFF + 8 * LIFT_WIN && LIFT_WIN_OFF < j->esc.r[e].hi;
    if (!bad) return 0;
    if (m->nnowin == m->capnowin) {
        m->capnowin = m->capnowin ? 2 * m->capnowin : 8;
        m->nowin = realloc(m->nowin, (size_t)m->capnowin * sizeof *m->nowin);
        LF_ASSERT(m->nowin, "out of memory");
    }
    m->nowin[m->nnowin].entry = j->entry;
    m->nowin[m->nnowin++].karg0 = j->karg[0];
    LF_DEBUG(1, "lineiform: %s: its frame window escapes; its callers call it without one\n", j->name);
    return 1;
}

void lift_mod_free(struct lift_mod *m)
{
    for (int k = 0; k < m->njobs; k++) job_free(m->jobs[k]);
    free(m->jobs);
    free(m->native);
    free(m->nowin);
    free(m->noinl);
    m->noinl = NULL;
    m->nnoinl = m->capnoinl = 0;
    m->nowin = NULL;
    m->nnowin = m->capnowin = 0;
    free(m->live);
    m->live = NULL;
    free(m->fesc);
    m->fesc = NULL;
    m->nfesc = m->capfesc = 0;
    m->live_cap = m->live_n = 0;
    if (m->b) LLVMDisposeBuilder(m->b);
    m->jobs = NULL;
    m->native = NULL;
    m->b = NULL;
}

int lift_mod_eh_native(struct lift_mod *m, uint64_t target)
{
    if (!m->eh_at || !m->eh_at(m, target)) return 0;
    m->rep.eh_native++;
    if (!m->rep.reason[0])
        snprintf(m->rep.reason, sizeof m->rep.reason,
                 "0x%llx kept native: its calls have landing pads (catch handlers or cleanups) "
                 "that only the unwinder enters", (unsigned long long)target);
    return 1;
}

/* 1 when t's prototype passes an argument on the stack.  A specialization
 * takes the 14 argument registers only (and its lift refuses to read its
 * caller's frame, so it would bail out to a thunk that passes no stack
 * words): such a callee is called natively, with the guest's outgoing
 * stack words (lift_emit_call), or inlined. */
int lift_takes_stack_args(struct lift_mod *m, uint64_t t)
{
    unsigned g = 0, x = 0;
    return t && m->args_at && m->args_at(m, t, &g, &x) && (g & LIFT_ARGS_STACK);
}

/* 1 when t's prototype passes every argument in registers. */
static int regs_only(struct lift_mod *m, uint64_t t)
{
    unsigned g = 0, x = 0;
    return m->args_at && m->args_at(m, t, &g, &x) && !(g & LIFT_ARGS_STACK);
}

/* Lift jobs[0] and every job a lifted body calls; failures become thunks.
 * Returns the root's status (its reason in m->rep.reason). */
enum lf_status lift_mod_run(struct lift_mod *m)
{
    enum lf_status root = LF_OK;
    /* LINEIFORM_NATIVE=ADDR,... (hex guest addresses): never inline these
     * functions; for narrowing a miscompile down to one function's lift. */
    for (const char *e = getenv("LINEIFORM_NATIVE"); e && *e;) {
        char *end;
        unsigned long long a = strtoull(e, &end, 16);
        if (end == e) break;
        lift_mod_native_add(m, a);
        e = *end == ',' ? end + 1 : end;
    }
    int *done = NULL, *ok = NULL, cap = 0;   /* ok[k]: job k lifted (not a thunk) */
    for (int progress = 1; progress;) {
        progress = 0;
        for (int k = 0; k < m->njobs; k++) {
            if (k >= cap) {
                int nc = m->njobs + 16;
                done = realloc(done, (size_t)nc * sizeof *done);
                ok = realloc(ok, (size_t)nc * sizeof *ok);
                LF_ASSERT(done && ok, "out of memory");
                memset(done + cap, 0, (size_t)(nc - cap) * sizeof *done);
                memset(ok + cap, 0, (size_t)(nc - cap) * sizeof *ok);
                cap = nc;
            }
            struct lift_job *j = m->jobs[k];
            if (done[k] || (k > 0 && !LLVMGetFirstUse(j->fn))) continue;
            done[k] = progress = 1;
            /* The lift budget: a specialization first reached once the
             * module has lifted max_total_blocks blocks is a thunk calling
             * the original code, as one that cannot be lifted is (its
             * frame window too), counted and named.  Making its calls
             * native inside a lifted body instead would let its window
             * escape and send its callers back (win_escaped) to call a
             * window-less copy, which escapes in turn, down the whole
             * chain of specializations: each lifted again. */
            if (k > 0 && m->max_total_blocks > 0 && m->total_blocks >= m->max_total_blocks) {
                m->rep.budget_calls++;
                LF_DEBUG(2, "lineiform: %s: runs the original code: lift budget spent (%ld blocks in %d "
                         "specializations)\n", j->name, m->total_blocks, k);
                lift_emit_thunk(m, j->fn, j->entry, j->preg);
                continue;
            }
            enum lf_status st = lift_job_run(j);
            m->rep.insns_lifted += j->insns;
            m->total_blocks += j->nblk;
            if (st == LF_OK && win_escaped(m, j)) {
                /* Its callers again (not itself): they call another job. */
                lift_fn_clear_body(j->fn);
                for (int q = 0; q < j->nwcallers; q++)
                    if (j->wcallers[q] != k && j->wcallers[q] < cap) done[j->wcallers[q]] = 0;
                continue;
            }
            if (st == LF_OK) {
                m->rep.specializations++;
                ok[k] = 1;
                continue;
            }
            /* It reads its stack arguments, which a call of a specialization
             * (and so its thunk) does not pass, or it may (no prototype
             * says otherwise, and its lift stopped before it got there):
             * it becomes a native call (lift_emit_call passes the guest's
             * outgoing stack words) and every lifted specialization is
             * lifted again, as its callers may be among them.  Once per
             * function: it stays native. */
            if (k > 0 && (j->caller_frame || !regs_only(m, j->entry)) && !lift_mod_is_native(m, j->entry)) {
                lift_mod_native_add(m, j->entry);
                m->rep.stack_arg_calls++;
                LF_DEBUG(1, "lineiform: %s may read stack arguments: called natively, its callers lifted again\n",
                         j->name);
                if (!m->rep.reason[0])
                    snprintf(m->rep.reason, sizeof m->rep.reason,
                             "0x%llx kept native: %s, which its specializations are not passed",
                             (unsigned long long)j->entry,
                             j->caller_frame ? "it reads arguments on the stack" : "no prototype rules out stack arguments");
                for (int q = 0; q < cap && q < m->njobs; q++)
                    if (q != k && done[q] && ok[q]) {
                        lift_fn_clear_body(m->jobs[q]->fn);
                        m->rep.specializations--;
                        done[q] = ok[q] = 0;
                    }
            }
            LF_DEBUG(1, "lineiform: specialization %s not lifted: %s\n", j->name, j->why);
            if (!m->rep.reason[0] || k == 0)
                snprintf(m->rep.reason, sizeof m->rep.reason, "0x%llx: %s",
                         (unsigned long long)j->entry, j->why);
            m->rep.bailouts++;
            if (k == 0) { root = st; break; }
            lift_emit_thunk(m, j->fn, j->entry, j->preg);
            lift_interp_thunk(j);
            m->rep.native_calls++;
        }
        if (root != LF_OK) break;
    }
    /* Specializations nobody calls any more have no body: drop them. */
    for (int k = 1; k < m->njobs && root == LF_OK; k++)
        if ((!done[k] || LLVMIsDeclaration(m->jobs[k]->fn)) && !LLVMGetFirstUse(m->jobs[k]->fn)) {
            LLVMDeleteFunction(m->jobs[k]->fn);
            m->jobs[k]->fn = NULL;
        }
    for (int k = 1; k < m->njobs; k++) {
        if (!m->jobs[k]->fn) continue;
        LLVMSetLinkage(m->jobs[k]->fn, LLVMInternalLinkage);
        for (LLVMUseRef u = LLVMGetFirstUse(m->jobs[k]->fn); u && m->jobs[k]->preg >= 0; u = LLVMGetNextUse(u))
            m->rep.windows++;
    }
    free(done);
    free(ok);
    lift_interp_report(m, m->fn_name);
    return root;
}

void lift_mod_trace(struct lift_mod *m, const char *what)
{
    if (lift_trace() < 1) return;
    char *ir = LLVMPrintModuleToString(m->m);
    fprintf(stderr, ";; lineiform: %s IR\n%s", what, ir);
    LLVMDisposeMessage(ir);
}

/* -- lf_optimize ------------------------------------------------------------------------ */

static pthread_mutex_t opt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lf_report last_report;
static struct memo { const void *fn, *env; void *code; } *memo;
static size_t nmemo, capmemo;
static unsigned opt_seq;
static LLVMTargetMachineRef opt_tm;

const struct lf_report *lf_last_report(void) { return &last_report; }

static void *memo_find(const void *fn, const void *env)
{
    for (size_t k = 0; k < nmemo; k++)
        if (memo[k].fn == fn && memo[k].env == env) return memo[k].code;
    return NULL;
}

static void memo_add(const void *fn, const void *env, void *code)
{
    if (nmemo == capmemo) {
        size_t nc = capmemo ? 2 * capmemo : 16;
        struct memo *n = realloc(memo, nc * sizeof *n);
        if (!n) return;
        memo = n;
        capmemo = nc;
    }
    memo[nmemo++] = (struct memo){ fn, env, code };
}

static void *optimize_locked(void *fn, const void *env, struct lf_report *rep)
{
    struct lift_proc p;
    if (lift_proc_open(&p, (uint64_t)(uintptr_t)fn) != LF_OK) {
        snprintf(rep->reason, sizeof rep->reason, "%p is not code of a loaded object", fn);
        return fn;
    }
    /* Specializing on an environment the program may still write would
     * give code for its value now, right only until it changes; reading
     * it as memory gains nothing over fn itself. */
    if (env && !lift_proc_constant(&p, (uint64_t)(uintptr_t)env)) {
        snprintf(rep->reason, sizeof rep->reason,
                 "environment %p is not in frozen or read-only memory (lf_freeze it): nothing to specialize on", env);
        lift_proc_close(&p);
        return fn;
    }
    if (lift_an_eh(p.an, p.bias, (uint64_t)(uintptr_t)fn)) {
        snprintf(rep->reason, sizeof rep->reason, "%p has landing pads (catch handlers or cleanups) that "
                 "only the unwinder enters: it stays native", fn);
        rep->eh_native = 1;
        lift_proc_close(&p);
        return fn;
    }
    char why[256] = "";
    if (!opt_tm && !(opt_tm = lift_tm_create(NULL, 0, why, sizeof why))) {
        snprintf(rep->reason, sizeof rep->reason, "%s", why);
        lift_proc_close(&p);
        return fn;
    }
    double t0 = lift_now_ms();
    LLVMOrcThreadSafeContextRef ts = LLVMOrcCreateNewThreadSafeContext();
    struct lift_mod m;
    memset(&m, 0, sizeof m);
    m.lc = LLVMOrcThreadSafeContextGetContext(ts);
    LLVMContextSetDiscardValueNames(m.lc, !lift_trace());   /* names only for reading the IR */
    m.m = LLVMModuleCreateWithNameInContext("lf_optimize", m.lc);
    m.b = LLVMCreateBuilderInContext(m.lc);
    m.mem = p.mem;
    m.code = p.code;
    m.ncode = p.ncode;
    lift_mod_limits(&m);
    m.seq = ++opt_seq;
    m.noreturn_at = lift_proc_noreturn;
    m.args_at = lift_proc_args;
    m.rets_at = lift_proc_rets;
    m.plt_at = lift_proc_plt;
    m.jump_table = lift_proc_jump_table;
    m.native_ref = lift_proc_native_ref;
    m.eh_at = lift_proc_eh;
    m.user = &p;
    lift_mod_types(&m);
    /* env is fn's first declared argument: in rsi when a result returned
     * in memory takes rdi for the caller's buffer. */
    int sret = lift_an_sret(p.an, p.bias, (uint64_t)(uintptr_t)fn);
    uint64_t karg[6] = { 0 };
    karg[sret] = (uint64_t)(uintptr_t)env;
    struct lift_job *root = lift_job_get(&m, (uint64_t)(uintptr_t)fn, karg, 1u << sret, -1);
    char name[96];
    snprintf(name, sizeof name, "%s", root->name);
    enum lf_status st = lift_mod_run(&m);
    double t1 = lift_now_ms();
    lift_mod_trace(&m, "lifted");
    if (st == LF_OK) st = lift_mod_optimize(m.m, opt_tm, 2, &m.rep, why, sizeof why);
    double t2 = lift_now_ms();
    lift_mod_trace(&m, "optimized");
    *rep = m.rep;
    rep->ms_lift = t1 - t0;
    rep->ms_opt = t2 - t1;
    lift_mod_free(&m);
    lift_proc_close(&p);
    if (st != LF_OK) {
        if (!rep->reason[0] || st == LF_ERR_LLVM) snprintf(rep->reason, sizeof rep->reason, "%s", why);
        LLVMDisposeModule(m.m);
        LLVMOrcDisposeThreadSafeContext(ts);
        return fn;
    }
    uint64_t addr = 0;
    const char *names[1] = { name };
    st = lift_jit_add(ts, m.m, names, 1, &addr, &rep->code_size, why, sizeof why);
    rep->ms_codegen = lift_now_ms() - t2;
    if (st != LF_OK || !addr) {
        snprintf(rep->reason, sizeof rep->reason, "%s", why[0] ? why : "JIT lookup failed");
        return fn;
    }
    LF_DEBUG(1, "lineiform: lf_optimize %p: %u specializations, %u inlined, %u native calls, "
             "%u bailouts, %u insns; lift %.2f ms, opt %.2f ms, codegen %.2f ms\n", fn,
             rep->specializations, rep->inlined, rep->native_calls, rep->bailouts,
             rep->insns_lifted, rep->ms_lift, rep->ms_opt, rep->ms_codegen);
    return (void *)(uintptr_t)addr;
}

void *lf_optimize(void *fn, const void *env)
{
    pthread_mutex_lock(&opt_lock);
    memset(&last_report, 0, sizeof last_report);
    void *code = fn;
    if (!fn) {
        snprintf(last_report.reason, sizeof last_report.reason, "fn is NULL");
    } else if ((code = memo_find(fn, env)) != NULL) {
        snprintf(last_report.reason, sizeof last_report.reason, "cached");
    } else {
        code = optimize_locked(fn, env, &last_report);
        memo_add(fn, env, code);
    }
    pthread_mutex_unlock(&opt_lock);
    return code;
}
