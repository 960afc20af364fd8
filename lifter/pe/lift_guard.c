/* lift_guard.c -- guards on closure arguments: a call whose target the
 * lift does not know reaches the specialization of the closure it calls.
 *
 * An interpreter calls a closure as code(closure, ...): the closure in rdi,
 * the target loaded from it.  Where the closure itself is not a constant,
 * the call would run the interpreter.  Two sources often still bound it:
 *   (a) a table in frozen memory: rdi = load(K + unknown), K constant (a
 *       node's array of children walked by a loop that did not unroll).
 *       The candidates are the frozen closures in the words around K: the
 *       table's known contents.  Likewise rdi = load(p + K) with p a
 *       register that walked a table in a loop's copies before the loop
 *       went monovariant (lift_mono_walk: the table starts at its least
 *       value).
 *   (b) memory the lifter does not follow (a procedure object on the GC
 *       heap): rdi = load(X + off), X unknown.  The candidates come from
 *       the frozen addresses the lifted code itself stored into such
 *       memory or passed to native calls (lift_mod.fesc): each that is a
 *       closure (the object holds it: X is the object), and the closure at
 *       offset off of each other one (the object holds a frozen descriptor
 *       of it: X is the descriptor, loaded from the object).  That is what
 *       the heap object holds if the compiled code made it; a value from
 *       elsewhere takes the fallback.
 * The call instruction then ends its block with LIFT_T_GUARD: a switch on
 * rdi to copies of the same instruction entered with rdi = candidate k
 * (block variant 4 + k; registers computed from rdi re-evaluated, see
 * lift_eval.c), where the target is a constant again and the call inlines
 * or calls the closure's specialization, and a fallback copy (variant 3)
 * that makes the call as before.
 * Invariants:
 *   1. Emission takes a site's candidates from the analysis (lift_job.guard,
 *      per context, copy and site), never computes them: both passes see
 *      the same edges (lift_block.c invariant 1).
 *   2. A round that used lift_mod.fesc while it grew is analysed again
 *      (lift_block.c), so the last round saw every address stored so far.
 *   3. A guard only adds paths: the fallback is the unguarded call, so a
 *      value outside the candidates behaves as before. */
#include "lifter/lift_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Candidates per call site: a table of children (a) and code-made objects (b). */
enum { GUARD_MAX_TABLE = 2048, GUARD_MAX_HEAP = 32, FESC_MAX = 1 << 16 };
/* A guard with more cases makes one call through the case's
 * specialization (lift_guard_dispatch), never inlined (here or by LLVM):
 * with every case inlined, one function held a thousand top-level forms
 * and took LLVM's code generator 47 s of a 56 s snapshot (fib.scm behind
 * 1,000 defines). */
enum { GUARD_INLINE_MAX = 8 };

/* 1 when w is the address of a frozen closure: constant memory whose
 * first word points into the interpreter's code. */
static int is_closure(const struct lift_ctx *c, uint64_t w)
{
    uint64_t code;
    return w && !(w & 7) && lift_mem_read(c->mem, w, &code, 8) == 1 && lift_code_ok(c->mod, code);
}

void lift_guard_note(struct lift_ctx *c, LLVMValueRef v)
{
    struct lift_mod *m = c->mod;
    uint64_t a, w;
    if (!c->pe || !lift_is_const(v, &a) || lift_bits(v) != 64 || (a & 7) || lift_mem_read(c->mem, a, &w, 8) != 1)
        return;
    for (int k = 0; k < m->nfesc; k++)
        if (m->fesc[k] == a) return;
    if (m->nfesc >= FESC_MAX) return;
    if (m->nfesc == m->capfesc) {
        m->capfesc = m->capfesc ? 2 * m->capfesc : 64;
        m->fesc = realloc(m->fesc, (size_t)m->capfesc * sizeof *m->fesc);
        LF_ASSERT(m->fesc, "out of memory");
    }
    m->fesc[m->nfesc++] = a;
}

void lift_guard_reset(struct lift_job *j)
{
    for (int k = 0; k < j->nguard; k++) free(j->guard[k].cand);
    j->nguard = 0;
    j->guard_heap = 0;
    j->nfesc0 = j->mod->nfesc;
}

/* A 64-bit load from an address in general memory: its address, else NULL. */
static LLVMValueRef load_addr(LLVMValueRef v)
{
    if (!LLVMIsALoadInst(v) || lift_bits(v) != 64) return NULL;
    LLVMValueRef p = LLVMGetOperand(v, 0);
    if (LLVMIsAInstruction(p) && LLVMGetInstructionOpcode(p) == LLVMBitCast) p = LLVMGetOperand(p, 0);
    if (!LLVMIsAInstruction(p) || LLVMGetInstructionOpcode(p) != LLVMIntToPtr) return NULL;
    if (LLVMGetPointerAddressSpace(LLVMTypeOf(p)) != 0) return NULL;
    return LLVMGetOperand(p, 0);
}

/* addr = sum of terms: the constant part into *k, the one non-constant
 * term into *rest (NULL if none); 0 when there is more than one. */
static int split_sum(LLVMValueRef a, uint64_t *k, LLVMValueRef *rest, int depth)
{
    uint64_t x;
    if (lift_is_const(a, &x)) { *k += x; return 1; }
    if (depth < 8 && LLVMIsAInstruction(a) && LLVMGetInstructionOpcode(a) == LLVMAdd)
        return split_sum(LLVMGetOperand(a, 0), k, rest, depth + 1) &&
               split_sum(LLVMGetOperand(a, 1), k, rest, depth + 1);
    if (*rest) return 0;
    *rest = a;
    return 1;
}

static int cand_add(uint64_t *out, int n, uint64_t w)
{
    for (int q = 0; q < n; q++)
        if (out[q] == w) return n;
    out[n] = w;
    return n + 1;
}

/* (a): the frozen closures in the table around k, up to max. */
static int table_cands(const struct lift_ctx *c, uint64_t k, uint64_t *out, int max)
{
    int n = 0;
    uint64_t w, lo = k & ~7ull;
    while (lo >= 8 && lift_mem_read(c->mem, lo - 8, &w, 8) == 1 && is_closure(c, w) && k - lo < 8ull * max) lo -= 8;
    for (uint64_t a = lo; n < max && lift_mem_read(c->mem, a, &w, 8) == 1 && is_closure(c, w); a += 8)
        n = cand_add(out, n, w);
    return n;
}

/* The candidates for closure value x, or 0. */
static int guard_cands(struct lift_ctx *c, LLVMValueRef x, uint64_t *out, int *heap)
{
    LLVMValueRef a = load_addr(x), rest = NULL;
    uint64_t k = 0, w;
    *heap = 0;
    if (!a || !split_sum(a, &k, &rest, 0) || !rest) return 0;
    int64_t off;
    if (lift_stack_off(c, rest, &off)) return 0;
    /* (a') a register walking a frozen table (a pointer, or an index scaled
     * by a shift) in a loop that did not unroll: from its first value */
    LLVMValueRef x0 = rest;
    unsigned sh = 0;
    if (LLVMIsAInstruction(rest) && LLVMGetInstructionOpcode(rest) == LLVMShl &&
        lift_is_const(LLVMGetOperand(rest, 1), &w) && w < 8)
        x0 = LLVMGetOperand(rest, 0), sh = (unsigned)w;
    if (LLVMIsAInstruction(rest) && LLVMGetInstructionOpcode(rest) == LLVMMul &&
        lift_is_const(LLVMGetOperand(rest, 1), &w) && w && w <= 128 && !(w & (w - 1)))
        x0 = LLVMGetOperand(rest, 0), sh = (unsigned)__builtin_ctzll(w);
    for (int r = 0; r < 16 && !c->job->emitting; r++) {
        uint64_t lo;
        if (x0 != c->job->opq_gpr[r] || !(lo = lift_mono_walk(c->job, c->ctx_id, r))) continue;
        int n = table_cands(c, (lo << sh) + k, out, GUARD_MAX_TABLE);
        if (n) return n;
    }
    /* (a) a frozen table indexed at run time */
    if (lift_mem_read(c->mem, k, &w, 8) == 1 || lift_mem_read(c->mem, k - 8, &w, 8) == 1) {
        int n = table_cands(c, k, out, GUARD_MAX_TABLE);
        if (n) return n;
    }
    /* (b) an object the lifter does not follow: rest is its address */
    if (k > 4096) return 0;
    *heap = 1;
    int n = 0;
    for (int q = 0; q < c->mod->nfesc && n < GUARD_MAX_HEAP; q++) {
        uint64_t f = c->mod->fesc[q];
        if (is_closure(c, f)) n = cand_add(out, n, f);   /* the object holds the closure */
        else if (lift_mem_read(c->mem, f + k, &w, 8) == 1 && is_closure(c, w))
            n = cand_add(out, n, w);                      /* it holds a descriptor of it */
    }
    return n;
}

static struct lift_guard *guard_find(struct lift_job *j, int ctx, int poly, uint64_t site)
{
    for (int k = 0; k < j->nguard; k++)
        if (j->guard[k].ctx == ctx && j->guard[k].poly == poly && j->guard[k].site == site) return &j->guard[k];
    return NULL;
}

int lift_guard_try(struct lift_ctx *c, LLVMValueRef target)
{
    struct lift_job *j = c->job;
    if (j->snippet || c->blk_var || !c->insn || lift_is_const(target, NULL) || lift_is_const(c->gpr[7], NULL))
        return 0;
    uint64_t site = c->insn->pc;
    struct lift_guard *g = guard_find(j, c->ctx_id, c->blk_poly, site);
    if (!g && !j->emitting) {
        uint64_t *cand = malloc(sizeof *cand * GUARD_MAX_TABLE);
        LF_ASSERT(cand, "out of memory");
        int heap, n = guard_cands(c, c->gpr[7], cand, &heap);
        if (lift_trace() >= 3) {
            char *v = LLVMPrintValueToString(c->gpr[7]);
            fprintf(stderr, "lineiform: guard at 0x%llx on rdi = %.200s: %d candidates\n", (unsigned long long)site, v, n);
            LLVMDisposeMessage(v);
            LLVMValueRef a = load_addr(c->gpr[7]);
            for (int d = 0; a && d < 4 && LLVMIsAInstruction(a); d++, a = LLVMGetOperand(a, LLVMGetNumOperands(a) - 1)) {
                v = LLVMPrintValueToString(a);
                fprintf(stderr, "   from %.200s\n", v);
                LLVMDisposeMessage(v);
            }
        }
        if (heap) j->guard_heap = 1;
        if (j->nguard == j->capguard) {
            j->capguard = j->capguard ? 2 * j->capguard : 16;
            j->guard = realloc(j->guard, (size_t)j->capguard * sizeof *j->guard);
            LF_ASSERT(j->guard, "out of memory");
        }
        g = &j->guard[j->nguard++];
        *g = (struct lift_guard){ c->ctx_id, c->blk_poly, site, n, cand };
        if (n) LF_DEBUG(2, "lineiform: %s: guard at 0x%llx: closure one of %d%s\n", j->name,
                        (unsigned long long)site, n, heap ? " stored by the code" : " in a frozen table");
    }
    if (!g || !g->n || g->n > GUARD_INLINE_MAX) return 0;   /* none, or lift_guard_dispatch's */
    c->term = (struct lift_term){ LIFT_T_GUARD, site, site, c->ctx_id, c->ctx_id, c->gpr[7], c->gpr[7],
                                  g->cand, (unsigned)g->n, 0 };
    return 1;
}

void lift_fn_noinline(LLVMValueRef fn)
{
    LLVMContextRef lc = LLVMGetTypeContext(LLVMTypeOf(fn));
    unsigned kind = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(lc, kind, 0));
}

/* A wide guard in one call: a switch on rdi picks the case's
 * specialization (a phi of functions), one call through it, and the
 * fallback's native call of target beside it; their results meet in phis.
 * One call site per guard, not one per case: LLVM's register allocation of
 * a thousand calls joining one block took most of a 1,000-form snapshot. */
int lift_guard_dispatch(struct lift_ctx *c, LLVMValueRef target, uint64_t site)
{
    struct lift_job *j = c->job;
    struct lift_mod *m = c->mod;
    const struct lift_guard *g = j->snippet || !c->insn ? NULL : guard_find(j, c->ctx_id, c->blk_poly, site);
    if (!g || g->n <= GUARD_INLINE_MAX || c->blk_var) return 0;
    LLVMValueRef *fns = malloc(sizeof *fns * (size_t)g->n);
    uint64_t *keys = malloc(sizeof *keys * (size_t)g->n);
    LF_ASSERT(fns && keys, "out of memory");
    int n = 0;
    for (int k = 0; k < g->n; k++) {
        uint64_t t;
        const char *name;
        if (lift_mem_read(c->mem, g->cand[k], &t, 8) != 1 || !lift_code_ok(m, t) || lift_mod_is_native(m, t) ||
            (m->plt_at && m->plt_at(m, t, &name)))
            continue;
        if (m->njobs >= m->max_jobs) break;
        struct lift_job *s = lift_job_get(m, t, &g->cand[k], 1, -1);
        if (s->preg >= 0) continue;
        lift_fn_noinline(s->fn);
        fns[n] = s->fn, keys[n++] = g->cand[k];
    }
    if (!n) {
        free(fns), free(keys);
        return 0;
    }
    /* keys sorted, fns beside them: a binary search at run time, a few
     * instructions of code however many cases (a switch over a thousand
     * sparse addresses became a compare tree of thousands). */
    for (int x = 1; x < n; x++)
        for (int y = x; y > 0 && keys[y - 1] > keys[y]; y--) {
            uint64_t tk = keys[y]; keys[y] = keys[y - 1]; keys[y - 1] = tk;
            LLVMValueRef tf = fns[y]; fns[y] = fns[y - 1]; fns[y - 1] = tf;
        }
    LLVMTypeRef fpt = LLVMTypeOf(fns[0]);
    LLVMValueRef *kv = malloc(sizeof *kv * (size_t)n);
    LF_ASSERT(kv, "out of memory");
    for (int k = 0; k < n; k++) kv[k] = lift_const(c, 64, keys[k]);
    LLVMValueRef gk = LLVMAddGlobal(c->m, LLVMArrayType(c->i64, (unsigned)n), "guard.keys");
    LLVMValueRef gf = LLVMAddGlobal(c->m, LLVMArrayType(fpt, (unsigned)n), "guard.fns");
    LLVMSetInitializer(gk, LLVMConstArray(c->i64, kv, (unsigned)n));
    LLVMSetInitializer(gf, LLVMConstArray(fpt, fns, (unsigned)n));
    for (int q = 0; q < 2; q++) {
        LLVMValueRef gq = q ? gf : gk;
        LLVMSetGlobalConstant(gq, 1);
        LLVMSetLinkage(gq, LLVMPrivateLinkage);
        LLVMSetUnnamedAddr(gq, 1);
    }
    free(kv);
    LLVMValueRef x = c->gpr[7];
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(c->b), loop = lift_new_bb(c, "guard.search"),
                      probe = lift_new_bb(c, "guard.probe"), step = lift_new_bb(c, "guard.step"),
                      disp = lift_new_bb(c, "guard.call"), fb = lift_new_bb(c, "guard.fallback"),
                      done = lift_new_bb(c, "guard.done");
    LLVMBuildBr(c->b, loop);
    LLVMPositionBuilderAtEnd(c->b, loop);
    LLVMValueRef lo = LLVMBuildPhi(c->b, c->i64, ""), hi = LLVMBuildPhi(c->b, c->i64, "");
    LLVMValueRef zero = lift_const(c, 64, 0), nn = lift_const(c, 64, (uint64_t)n);
    LLVMAddIncoming(lo, &zero, &entry, 1);
    LLVMAddIncoming(hi, &nn, &entry, 1);
    LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntULT, lo, hi, ""), probe, fb);
    LLVMPositionBuilderAtEnd(c->b, probe);
    LLVMValueRef mid = LLVMBuildLShr(c->b, LLVMBuildAdd(c->b, lo, hi, ""), lift_const(c, 64, 1), "");
    LLVMValueRef idx[2] = { zero, mid };
    LLVMValueRef key = LLVMBuildLoad2(c->b, c->i64, LLVMBuildInBoundsGEP2(c->b, LLVMArrayType(c->i64, (unsigned)n), gk, idx, 2, ""), "");
    LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntEQ, key, x, ""), disp, step);
    LLVMPositionBuilderAtEnd(c->b, step);
    LLVMValueRef less = LLVMBuildICmp(c->b, LLVMIntULT, key, x, "");
    LLVMValueRef lo2 = LLVMBuildSelect(c->b, less, LLVMBuildAdd(c->b, mid, lift_const(c, 64, 1), ""), lo, "");
    LLVMValueRef hi2 = LLVMBuildSelect(c->b, less, hi, mid, "");
    LLVMBuildBr(c->b, loop);
    LLVMAddIncoming(lo, &lo2, &step, 1);
    LLVMAddIncoming(hi, &hi2, &step, 1);
    LLVMPositionBuilderAtEnd(c->b, disp);
    LLVMValueRef fp = LLVMBuildLoad2(c->b, fpt, LLVMBuildInBoundsGEP2(c->b, LLVMArrayType(fpt, (unsigned)n), gf, idx, 2, ""), "");
    /* The state before the call, for the fallback. */
    LLVMValueRef gpr0[16], xmm0[16];
    memcpy(gpr0, c->gpr, sizeof gpr0);
    memcpy(xmm0, c->xmm, sizeof xmm0);
    LLVMPositionBuilderAtEnd(c->b, disp);
    lift_emit_call(c, fp, 0, 0, 0, NULL, 0);
    LLVMValueRef ga[16], xa[16];
    memcpy(ga, c->gpr, sizeof ga);
    memcpy(xa, c->xmm, sizeof xa);
    LLVMBasicBlockRef da = LLVMGetInsertBlock(c->b);
    LLVMBuildBr(c->b, done);
    LLVMPositionBuilderAtEnd(c->b, fb);
    memcpy(c->gpr, gpr0, sizeof gpr0);
    memcpy(c->xmm, xmm0, sizeof xmm0);
    lift_interp_note(c, site, 0, "guard fallback: closure not among the known ones");
    lift_emit_call(c, target, 1, 0, 0, NULL, 0);
    if (j->emitting) m->rep.native_calls++;
    LLVMBasicBlockRef db = LLVMGetInsertBlock(c->b);
    LLVMBuildBr(c->b, done);
    LLVMPositionBuilderAtEnd(c->b, done);
    for (int r = 0; r < 16; r++) {
        LLVMValueRef v[2] = { ga[r], c->gpr[r] }, x[2] = { xa[r], c->xmm[r] };
        LLVMBasicBlockRef from[2] = { da, db };
        if (v[0] != v[1]) {
            c->gpr[r] = LLVMBuildPhi(c->b, LLVMTypeOf(v[0]), "");
            LLVMAddIncoming(c->gpr[r], v, from, 2);
        }
        if (x[0] != x[1]) {
            c->xmm[r] = LLVMBuildPhi(c->b, LLVMTypeOf(x[0]), "");
            LLVMAddIncoming(c->xmm[r], x, from, 2);
        }
    }
    LF_DEBUG(2, "lineiform: %s: guard at 0x%llx: one call of %d specializations\n", j->name,
             (unsigned long long)site, n);
    return 1;
}

/* -- What the block engine asks (lift_block.c) ------------------------------------ */

/* What the copies of the block at (pc, ctx, var) held in each register, as
 * the block goes monovariant (its last lift_job.mono entry). */
void lift_mono_walks(struct lift_job *j, uint64_t pc, int ctx, int var)
{
    struct lift_mono *mo = &j->mono[j->nmono - 1];
    for (int r = 0; r < 16; r++) {
        uint64_t lo = UINT64_MAX, v;
        int all = 1, any = 0;
        for (int k = 0; k < j->nblk && all; k++) {
            const struct lift_blk *b = &j->blk[k];
            if (b->pc != pc || b->ctx != ctx || b->var != var || !b->poly) continue;
            any = 1;
            if (b->in.gpr[r].kind != LIFT_AK_CONST || !lift_is_const(b->in.gpr[r].k, &v)) all = 0;
            else if (v < lo) lo = v;
        }
        mo->lo[r] = all && any ? lo : 0;
    }
}

uint64_t lift_mono_walk(const struct lift_job *j, int ctx, int r)
{
    uint64_t key = lift_frame_key(j, ctx);
    for (int k = 0; k < j->nmono; k++)
        if (j->mono[k].key == key && j->mono[k].lo[r]) return j->mono[k].lo[r];
    return 0;
}

/* The state on the k-th edge of a split (cond = 1, 0) or a guard (rdi =
 * case k; the fallback, last, is not refined). */
void lift_edge_refine(struct lift_ctx *c, struct lift_astate *s, int k)
{
    if (c->term.kind == LIFT_T_SPLIT) lift_astate_refine(c, s, k == 0);
    if (c->term.kind != LIFT_T_GUARD || k >= (int)c->term.ncase) return;
    lift_astate_refine(c, s, c->term.cases[k]);
    s->gpr[7] = (struct lift_aval){ LIFT_AK_CONST, 0, lift_const(c, 64, c->term.cases[k]) };
}
