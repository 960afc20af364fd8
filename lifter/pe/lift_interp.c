/* lift_interp.c -- what stays interpreted: the calls compiled code makes
 * into the interpreter's own code because the lift did not resolve them.
 *
 * Inputs: the call decisions of lift_call.c (a native call of a target in
 * the interpreter's text, or of an unknown target) and lift.c's thunks.
 * Outputs: per job, the list of such call sites (fn = the interpreter
 * function making the call, node = the closure it runs, why); per module,
 * lf_report.interp_calls and interp_top (lift_interp_report); in images,
 * an increment of the imported counter lf_rt_interp_calls before each such
 * call, which the runtime prints at exit when asked (LINEIFORM_STATS).
 * Invariants:
 *   1. Sites are recorded during emission only and a job's list is reset
 *      when its emission starts, so a job lifted again is not counted twice
 *      and a job dropped at the end (no caller) is not counted at all.
 *   2. Not counted: calls of C library code (PLT, targets outside the
 *      interpreter's text) and calls that never return (error paths).
 *      Everything else that leaves compiled code for interpreter code is,
 *      whatever the reason: silence would hide a program that runs
 *      interpreted. */
#include "lifter/lift_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lift_interp_target(struct lift_mod *m, uint64_t t, uint64_t retpc)
{
    const char *name;
    if (retpc && lift_is_noreturn(m, t, retpc)) return 0;
    if (!t) return 1;
    if (m->plt_at && m->plt_at(m, t, &name)) return 0;
    return lift_code_ok(m, t);
}

const char *lift_interp_why(const struct lift_ctx *c, uint64_t t, int spec, int kept)
{
    if (c->blk_var == 3) return "guard fallback: closure not among the known ones";
    if (!t) return "call to an unknown target";
    if (lift_mod_is_native(c->mod, t)) return "the lifter refused the callee";
    if (spec) return "specialization limit";
    return kept ? "closure unknown, run-time stack area" : "closure unknown, not inlined";
}

/* The closure the innermost frame with a known first argument runs. */
static uint64_t interp_node(const struct lift_job *j, int ctx)
{
    for (int x = ctx; x >= 0; x = j->fr[x].parent)
        if (j->fr[x].kmask & 1) return j->fr[x].karg[0];
    return 0;
}

void lift_interp_note(struct lift_ctx *c, uint64_t site, uint64_t t, const char *why)
{
    struct lift_job *j = c->job;
    (void)t;
    if (!j->emitting) return;
    if (j->nisite == j->capisite) {
        j->capisite = j->capisite ? 2 * j->capisite : 16;
        j->isite = realloc(j->isite, (size_t)j->capisite * sizeof *j->isite);
        LF_ASSERT(j->isite, "out of memory");
    }
    j->isite[j->nisite++] = (struct lift_isite){ site, j->fr[c->ctx_id].entry, interp_node(j, c->ctx_id), why };
    lift_interp_count(c->mod, c->b);
}

void lift_interp_count(struct lift_mod *m, LLVMBuilderRef b)
{
    if (!m->count_interp) return;
    LLVMTypeRef i64 = LLVMInt64TypeInContext(m->lc);
    LLVMValueRef g = LLVMGetNamedGlobal(m->m, "lf_rt_interp_calls");
    if (!g) {
        g = LLVMAddGlobal(m->m, i64, "lf_rt_interp_calls");
        LLVMSetLinkage(g, LLVMExternalLinkage);
    }
    LLVMValueRef n = LLVMBuildLoad2(b, i64, g, "");
    LLVMBuildStore(b, LLVMBuildAdd(b, n, LLVMConstInt(i64, 1, 0), ""), g);
}

void lift_interp_thunk(struct lift_job *j)
{
    if (j->nisite == j->capisite) {
        j->capisite = j->capisite ? 2 * j->capisite : 16;
        j->isite = realloc(j->isite, (size_t)j->capisite * sizeof *j->isite);
        LF_ASSERT(j->isite, "out of memory");
    }
    j->nisite = 0;
    j->isite[j->nisite++] = (struct lift_isite){ j->entry, j->entry, (j->kmask & 1) ? j->karg[0] : 0,
                                                 "the lifter refused the function" };
}

struct igroup { uint64_t fn, node, site; const char *why; unsigned n; };

static int igroup_cmp(const void *a, const void *b)
{
    const struct igroup *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? 1 : -1;
    return x->fn < y->fn ? -1 : x->fn > y->fn;
}

void lift_interp_report(struct lift_mod *m, const char *(*name)(struct lift_mod *m, uint64_t fn))
{
    struct igroup *g = NULL;
    int ng = 0, capg = 0;
    m->rep.interp_calls = m->rep.interp_guarded = 0;
    for (int k = 0; k < m->njobs; k++) {
        const struct lift_job *j = m->jobs[k];
        if (!j->fn || LLVMIsDeclaration(j->fn)) continue;
        for (int q = 0; q < j->nisite; q++) {
            const struct lift_isite *s = &j->isite[q];
            m->rep.interp_calls++;
            if (!strncmp(s->why, "guard fallback", 14)) m->rep.interp_guarded++;
            int x = 0;
            while (x < ng && !(g[x].fn == s->fn && !strcmp(g[x].why, s->why))) x++;
            if (x == ng) {
                if (ng == capg) {
                    capg = capg ? 2 * capg : 16;
                    g = realloc(g, (size_t)capg * sizeof *g);
                    LF_ASSERT(g, "out of memory");
                }
                g[ng++] = (struct igroup){ s->fn, s->node, s->site, s->why, 0 };
            }
            g[x].n++;
        }
    }
    if (ng) qsort(g, (size_t)ng, sizeof *g, igroup_cmp);
    memset(m->rep.interp_top, 0, sizeof m->rep.interp_top);
    for (int x = 0; x < ng && x < LF_REPORT_SITES; x++) {
        struct lf_interp_site *t = &m->rep.interp_top[x];
        t->fn = (uintptr_t)g[x].fn, t->node = (uintptr_t)g[x].node, t->site = (uintptr_t)g[x].site;
        t->sites = g[x].n;
        snprintf(t->why, sizeof t->why, "%s", g[x].why);
        const char *nm = name ? name(m, g[x].fn) : NULL;
        snprintf(t->fn_name, sizeof t->fn_name, "%s", nm ? nm : "");
    }
    free(g);
}
