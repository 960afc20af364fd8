/* lift_block.c -- the partial evaluator: abstract interpretation of one
 * specialization's blocks to a fixpoint, then emission of the live ones.
 *
 * Both passes run the same semantic functions.  The analysis pass lifts
 * each block into a scratch LLVM function from its abstract entry state
 * (known registers as LLVM constants, stack addresses as sp0 + k, the rest
 * opaque), reads the abstract exit state back from the resulting values,
 * and joins it into the successors' entry states until nothing changes.
 * The emission pass lifts each reachable block once more from its final
 * entry state, with phis for the slots that are unknown there.
 *
 *      entry state --> [lift block] --> exit state --join--> successor ...
 *                         (scratch)        (worklist to a fixpoint)
 *      final states --> [lift block] --> br / phis       (the function)
 *
 * Invariants:
 *   1. Lifting is deterministic: the same block from the same entry state
 *      gives the same successors and the same abstract exit state, so the
 *      emission pass meets exactly the edges the analysis saw.  Call
 *      decisions are memoized per call site for that reason.
 *   2. A join only loses information (const/stack -> unknown; slots drop),
 *      so the fixpoint is reached in a bounded number of rounds.
 *   3. If the frame escapes during analysis, the analysis restarts with
 *      "escaped" from the start: earlier states may have forwarded slots
 *      that an escaped pointer can change.
 *   4. Flags cross blocks only where live (backward liveness over the
 *      analysis' use/def masks); dead flags enter a block as 0. */
#include "lifter/lift_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lift_code_ok(const struct lift_mod *m, uint64_t pc)
{
    for (size_t k = 0; k < m->ncode; k++)
        if (pc >= m->code[k].lo && pc < m->code[k].hi) return 1;
    return 0;
}

LLVMValueRef lift_opaque(struct lift_ctx *c, LLVMTypeRef t)
{
    return LLVMBuildFreeze(c->b, LLVMGetPoison(t), "");
}

LLVMBasicBlockRef lift_new_bb(struct lift_ctx *c, const char *name)
{
    return LLVMAppendBasicBlockInContext(c->lc, c->fn, name);
}

void lift_trap_if(struct lift_ctx *c, LLVMValueRef cond)
{
    uint64_t k;
    if (lift_is_const(cond, &k) && k == 0) return;
    LLVMBasicBlockRef trap = lift_new_bb(c, "trap"), ok = lift_new_bb(c, "go");
    LLVMBuildCondBr(c->b, cond, trap, ok);
    LLVMPositionBuilderAtEnd(c->b, trap);
    LLVMTypeRef vt = LLVMFunctionType(LLVMVoidTypeInContext(c->lc), NULL, 0, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, "llvm.trap");
    if (!fn) fn = LLVMAddFunction(c->m, "llvm.trap", vt);
    LLVMBuildCall2(c->b, vt, fn, NULL, 0, "");
    LLVMBuildUnreachable(c->b);
    LLVMPositionBuilderAtEnd(c->b, ok);
}

/* -- Blocks ------------------------------------------------------------------------ */

static unsigned blk_hash(const struct lift_job *j, uint64_t pc, int ctx, int var)
{
    uint64_t h = (pc * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)ctx * 0xc2b2ae3d27d4eb4full) ^ (uint64_t)var;
    return (unsigned)(h >> 32) & (unsigned)(j->hsize - 1);
}

/* The first block of the chain for (pc, ctx, var), -1 if none. */
static int blk_chain(const struct lift_job *j, uint64_t pc, int ctx, int var)
{
    return j->hsize ? j->hash[blk_hash(j, pc, ctx, var)] : -1;
}

static void blk_rehash(struct lift_job *j)
{
    if (j->nblk * 2 < j->hsize) return;
    free(j->hash);
    j->hsize = j->hsize ? 2 * j->hsize : 1024;
    j->hash = malloc(sizeof *j->hash * (size_t)j->hsize);
    LF_ASSERT(j->hash, "out of memory");
    for (int k = 0; k < j->hsize; k++) j->hash[k] = -1;
    for (int k = 0; k < j->nblk; k++) {
        unsigned h = blk_hash(j, j->blk[k].pc, j->blk[k].ctx, j->blk[k].var);
        j->blk[k].hnext = j->hash[h];
        j->hash[h] = k;
    }
}

static int blk_find(struct lift_job *j, uint64_t pc, int ctx, int var)
{
    for (int k = blk_chain(j, pc, ctx, var); k >= 0; k = j->blk[k].hnext)
        if (j->blk[k].pc == pc && j->blk[k].ctx == ctx && j->blk[k].var == var && !j->blk[k].poly) return k;
    return -1;
}

static int blk_new(struct lift_job *j, uint64_t pc, int ctx, int var, int poly);

static int blk_get(struct lift_job *j, uint64_t pc, int ctx, int var)
{
    int k = blk_find(j, pc, ctx, var);
    return k >= 0 ? k : blk_new(j, pc, ctx, var, 0);
}

/* Forget every block (their successor lists and entry states). */
static void blk_free_all(struct lift_job *j)
{
    for (int k = 0; k < j->nblk; k++) free(j->blk[k].succ), free(j->blk[k].in.slot);
    j->nblk = 0;
}

static int blk_new(struct lift_job *j, uint64_t pc, int ctx, int var, int poly)
{
    if (j->nblk == j->capblk) {
        j->capblk = j->capblk ? 2 * j->capblk : 64;
        j->blk = realloc(j->blk, (size_t)j->capblk * sizeof *j->blk);
        LF_ASSERT(j->blk, "out of memory");
    }
    struct lift_blk *b = &j->blk[j->nblk];
    memset(b, 0, sizeof *b);
    b->pc = pc;
    b->ctx = ctx;
    b->var = var;
    b->poly = poly;
    b->hnext = -1;
    b->is_exit = j->snippet && pc == j->snip_hi;
    int k = j->nblk++;
    blk_rehash(j);
    unsigned h = blk_hash(j, pc, ctx, var);
    if (j->blk[k].hnext == -1 && j->hash[h] != k) {
        j->blk[k].hnext = j->hash[h];
        j->hash[h] = k;
    }
    return k;
}

/* -- Entering a block ------------------------------------------------------------------- */

static LLVMValueRef aval_value(struct lift_ctx *c, struct lift_aval a, LLVMValueRef phi, LLVMTypeRef t)
{
    if (a.kind == LIFT_AK_CONST) return a.k;
    if (a.kind == LIFT_AK_STACK) return lift_stack_addr(c, a.off);
    if (a.kind == LIFT_AK_SHR) return LLVMBuildLShr(c->b, lift_stack_addr(c, a.off), a.k, "");
    return phi ? phi : lift_opaque(c, t);
}

/* The analysis's opaque value for an unknown register or flag: made once
 * per round (a block's own scratch IR is deleted after it). */
static LLVMValueRef opq_get(struct lift_job *j, LLVMValueRef *slot, LLVMTypeRef t)
{
    if (!*slot) *slot = LLVMBuildFreeze(j->opq_b, LLVMGetPoison(t), "");
    return *slot;
}

static void blk_enter(struct lift_job *j, struct lift_ctx *c, struct lift_blk *b)
{
    const struct lift_astate *s = &b->in;
    for (int k = 0; k < 16; k++) {
        if (j->emitting) {
            c->gpr[k] = aval_value(c, s->gpr[k], b->phi_gpr[k], c->i64);
            c->xmm[k] = aval_value(c, s->xmm[k], b->phi_xmm[k], c->i128);
            continue;
        }
        c->gpr[k] = s->gpr[k].kind == LIFT_AK_UNKNOWN ? opq_get(j, &j->opq_gpr[k], c->i64)
                                                      : aval_value(c, s->gpr[k], NULL, c->i64);
        c->xmm[k] = s->xmm[k].kind == LIFT_AK_UNKNOWN ? opq_get(j, &j->opq_xmm[k], c->i128)
                                                      : aval_value(c, s->xmm[k], NULL, c->i128);
    }
    for (int f = 0; f < LIFT_NFLAGS; f++) {
        LLVMValueRef v;
        if (!j->emitting) v = s->flag[f].kind == LIFT_AK_UNKNOWN ? opq_get(j, &j->opq_flag[f], c->i1)
                                                                 : aval_value(c, s->flag[f], NULL, c->i1);
        else if (!((b->flive >> f) & 1)) v = lift_const(c, 1, 0);
        else v = aval_value(c, s->flag[f], b->phi_flag[f], c->i1);
        c->flag[f] = (struct lift_flagslot){ v, -1 };
    }
    c->nfsrc = 0;
    c->ngslot = s->ngslot;
    memcpy(c->gslot, s->gslot, sizeof c->gslot[0] * (size_t)s->ngslot);
    c->nslot = 0;
    for (int k = 0; k < s->nslot; k++) {
        const struct lift_aslot *a = &s->slot[k];
        c->slot[c->nslot++] = a->v.kind == LIFT_AK_TAINT
            ? (struct lift_slot){ a->off, a->bits, NULL, a->priv, a->v.off }
            : (struct lift_slot){ a->off, a->bits, aval_value(c, a->v, NULL, lift_int(c, a->bits)), a->priv, 0 };
    }
    c->flags_used = c->flags_defined = 0;
    c->term = (struct lift_term){ LIFT_T_NONE, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0 };
    c->ctx_id = b->ctx;
    c->blk_var = b->var;
    c->blk_poly = b->poly;
    c->esc = j->esc;
}

/* The LLVM block of b with its phis (emission). */
static LLVMBasicBlockRef blk_bb(struct lift_job *j, struct lift_ctx *c, struct lift_blk *b)
{
    if (b->bb) return b->bb;
    char name[40];
    snprintf(name, sizeof name, "x%llx.%d.%d", (unsigned long long)b->pc, b->ctx, b->var);
    b->bb = LLVMAppendBasicBlockInContext(c->lc, j->fn, name);
    LLVMBuilderRef pb = LLVMCreateBuilderInContext(c->lc);
    LLVMPositionBuilderAtEnd(pb, b->bb);
    for (int k = 0; k < 16; k++) {
        if (b->in.gpr[k].kind == LIFT_AK_UNKNOWN) b->phi_gpr[k] = LLVMBuildPhi(pb, c->i64, "");
        if (b->in.xmm[k].kind == LIFT_AK_UNKNOWN) b->phi_xmm[k] = LLVMBuildPhi(pb, c->i128, "");
    }
    for (int f = 0; f < LIFT_NFLAGS; f++)
        if (((b->flive >> f) & 1) && b->in.flag[f].kind == LIFT_AK_UNKNOWN)
            b->phi_flag[f] = LLVMBuildPhi(pb, c->i1, "");
    LLVMDisposeBuilder(pb);
    return b->bb;
}

/* Add the current state as the incoming values of succ's phis. */
static void blk_incoming(struct lift_job *j, struct lift_ctx *c, struct lift_blk *s)
{
    blk_bb(j, c, s);
    LLVMBasicBlockRef pred = LLVMGetInsertBlock(c->b);
    for (int k = 0; k < 16; k++) {
        if (s->phi_gpr[k]) LLVMAddIncoming(s->phi_gpr[k], &c->gpr[k], &pred, 1);
        if (s->phi_xmm[k]) LLVMAddIncoming(s->phi_xmm[k], &c->xmm[k], &pred, 1);
    }
    for (int f = 0; f < LIFT_NFLAGS; f++)
        if (s->phi_flag[f]) LLVMAddIncoming(s->phi_flag[f], &c->flag[f].v, &pred, 1);
}

/* -- Lifting one block ------------------------------------------------------------------- */

static enum lf_status blk_body(struct lift_job *j, struct lift_ctx *c, struct lift_blk *b)
{
    uint64_t pc = b->pc;
    unsigned n = 0;
    for (;;) {
        if (j->snippet && pc == j->snip_hi) {
            c->term = (struct lift_term){ LIFT_T_JUMP, pc, 0, c->ctx_id, 0, NULL, NULL, NULL, 0, 0 };
            break;
        }
        if (j->snippet ? (pc < j->snip_lo || pc > j->snip_hi) : !lift_code_ok(j->mod, pc))
            return lift_fail(c, "control reaches 0x%llx outside liftable code", (unsigned long long)pc);
        struct lift_insn insn;
        if (lift_decode(&j->mod->mem, pc, &insn) != LF_OK)
            return lift_fail(c, "undecodable bytes at 0x%llx", (unsigned long long)pc);
        if (insn.form == AN_FORM_NONE) {
            char t[96];
            lift_insn_text(&insn, t, sizeof t);
            return lift_fail(c, "unsupported instruction `%s` at 0x%llx", t, (unsigned long long)pc);
        }
        c->insn = &insn;
        enum lf_status st = lift_sem_table[insn.form](c, &insn);
        c->insn = NULL;
        if (st != LF_OK || c->bad) return st != LF_OK ? st : LF_ERR_UNSUPPORTED;
        n++;
        if (c->term.kind != LIFT_T_NONE) break;
        pc += insn.len;
        if (n > 50000) return lift_fail(c, "block at 0x%llx too long", (unsigned long long)b->pc);
    }
    b->ninsn = n;
    return LF_OK;
}

/* Successors of the block just lifted (indices), from c->term. */
enum { MAX_SUCC = 4096, POLY_LIMIT = 24 };


/* Keyed by pc and the inline frame's identity (lift_frame_key), not the
 * context number: numbers change when the analysis restarts, and an
 * interpreter's loop ends at lift time in one closure's frame and not in
 * another's. */
static int is_mono(const struct lift_job *j, uint64_t pc, int ctx)
{
    uint64_t key = lift_frame_key(j, ctx);
    for (int k = 0; k < j->nmono; k++)
        if (j->mono[k].pc == pc && j->mono[k].key == key) return 1;
    return 0;
}

/* Make the block at pc monovariant and analyse again. */
static void blk_mono_add(struct lift_job *j, uint64_t pc, int ctx)
{
    if (j->nmono == j->capmono) {
        j->capmono = j->capmono ? 2 * j->capmono : 16;
        j->mono = realloc(j->mono, (size_t)j->capmono * sizeof *j->mono);
        LF_ASSERT(j->mono, "out of memory");
    }
    memset(&j->mono[j->nmono], 0, sizeof j->mono[0]);
    j->mono[j->nmono].pc = pc;
    j->mono[j->nmono++].key = lift_frame_key(j, ctx);
    j->poly_restart = 1;
}

/* Known registers the code at pc overwrites before reading become unknown
 * (lift_live.c): they neither key copies nor reach the block as constants.
 * A stack address is dropped only when dead even if a callee's ret were to
 * pass every register through: an unknown pointer into the frame that is
 * read later would have to be an escape (lift_join_escapes). */
static void gpr_drop_dead(struct lift_job *j, uint64_t pc, struct lift_aval *gpr)
{
    if (j->snippet) return;
    unsigned live = lift_live_in(j->mod, pc);
    for (int r = 0; r < 16; r++)
        if ((gpr[r].kind == LIFT_AK_CONST && !((live >> r) & 1)) ||
            ((gpr[r].kind == LIFT_AK_STACK || gpr[r].kind == LIFT_AK_SHR) && r != 4 && !((live >> (16 + r)) & 1)))
            gpr[r] = (struct lift_aval){ LIFT_AK_UNKNOWN, 0, NULL };
}

/* Polyvariance: a block reached with different known registers gets one
 * copy per register vector, so a loop whose trip count is known (a walk
 * over a frozen array or list) unrolls and each iteration keeps its
 * constants.  A block whose copies exceed POLY_LIMIT is a loop that does
 * not end at lift time: it becomes monovariant and the analysis restarts. */
static int blk_poly(struct lift_job *j, uint64_t pc, int ctx, int var, const struct lift_aval *gpr_in)
{
    if (j->nopoly || j->snippet) return blk_get(j, pc, ctx, var);
    struct lift_aval gpr[16];
    memcpy(gpr, gpr_in, sizeof gpr);
    gpr_drop_dead(j, pc, gpr);
    /* An existing copy for exactly these registers first, mono or not, so
     * that emission routes every edge where the analysis did. */
    int n = 0;
    for (int k = blk_chain(j, pc, ctx, var); k >= 0; k = j->blk[k].hnext) {
        const struct lift_blk *b = &j->blk[k];
        if (b->pc != pc || b->ctx != ctx || b->var != var || !b->poly) continue;
        n++;
        int same = 1;
        for (int r = 0; r < 16 && same; r++) same = lift_aval_eq(b->in.gpr[r], gpr[r]);
        if (same) return k;
    }
    if (is_mono(j, pc, ctx)) return blk_get(j, pc, ctx, var);
    if (n < POLY_LIMIT) return blk_new(j, pc, ctx, var, n + 1);
    if (!j->emitting) {
        blk_mono_add(j, pc, ctx);
        lift_mono_walks(j, pc, ctx, var);
        LF_DEBUG(2, "lineiform: 0x%llx (context %d) does not unroll: monovariant\n", (unsigned long long)pc, ctx);
        if (lift_trace() >= 4)
            for (int k = blk_chain(j, pc, ctx, var); k >= 0; k = j->blk[k].hnext) {
                const struct lift_blk *b = &j->blk[k];
                if (b->pc != pc || b->ctx != ctx || b->var != var || !b->poly) continue;
                fprintf(stderr, "   copy %d:", b->poly);
                for (int r = 0; r < 16; r++) {
                    uint64_t v;
                    if (b->in.gpr[r].kind == LIFT_AK_CONST && lift_is_const(b->in.gpr[r].k, &v))
                        fprintf(stderr, " r%d=%llx", r, (unsigned long long)v);
                    else if (b->in.gpr[r].kind == LIFT_AK_STACK) fprintf(stderr, " r%d=sp%+lld", r, (long long)b->in.gpr[r].off);
                }
                fprintf(stderr, "\n");
            }
    }
    return blk_get(j, pc, ctx, var);
}

static int blk_succ_keys(struct lift_job *j, struct lift_ctx *c, int out[MAX_SUCC]);

/* Successors of the block just lifted, from c->term and the exit state
 * (its known registers choose the polyvariant copy). */
static int blk_succs(struct lift_job *j, struct lift_ctx *c, int out[MAX_SUCC], const struct lift_astate *exit)
{
    int n = blk_succ_keys(j, c, out);
    if (n <= 0 || j->snippet) return n;
    ASTATE_TMP(edge);
    for (int k = 0; k < n; k++) {
        const struct lift_astate *e = exit;
        if (c->term.kind == LIFT_T_SPLIT || (c->term.kind == LIFT_T_GUARD && k < (int)c->term.ncase)) {
            lift_astate_copy(&edge, exit);
            lift_edge_refine(c, &edge, k);
            e = &edge;
        }
        const struct lift_blk *b = &j->blk[out[k]];
        out[k] = blk_poly(j, b->pc, b->ctx, b->var, e->gpr);
    }
    return n;
}

static int blk_succ_keys(struct lift_job *j, struct lift_ctx *c, int out[MAX_SUCC])
{
    const struct lift_term *t = &c->term;
    uint64_t k = 0;
    LF_DEBUG(3, "lineiform: block ends: kind %d target 0x%llx fall 0x%llx ctx %d->%d\n", (int)t->kind,
             (unsigned long long)t->target, (unsigned long long)t->fall, c->ctx_id, t->target_ctx);
    switch (t->kind) {
    case LIFT_T_JUMP: out[0] = blk_get(j, t->target, t->target_ctx, 0); return 1;
    case LIFT_T_BRANCH:
        if (lift_is_const(t->cond, &k)) {
            out[0] = k ? blk_get(j, t->target, t->target_ctx, 0) : blk_get(j, t->fall, t->fall_ctx, 0);
            return 1;
        }
        out[0] = blk_get(j, t->target, t->target_ctx, 0);
        out[1] = blk_get(j, t->fall, t->fall_ctx, 0);
        return out[0] == out[1] ? 1 : 2;
    case LIFT_T_SPLIT:
        out[0] = blk_get(j, t->target, c->ctx_id, 1);
        out[1] = blk_get(j, t->target, c->ctx_id, 2);
        return 2;
    case LIFT_T_GUARD: {
        unsigned n = t->ncase < MAX_SUCC - 1 ? t->ncase : MAX_SUCC - 1;
        for (unsigned q = 0; q < n; q++) out[q] = blk_get(j, t->target, c->ctx_id, 4 + (int)q);
        out[n] = blk_get(j, t->target, c->ctx_id, 3);
        return (int)n + 1;
    }
    case LIFT_T_SWITCH: {
        int n = 0;
        LF_DEBUG(3, "lineiform: switch: %u cases, bias 0x%llx, first 0x%llx\n", t->ncase,
                 (unsigned long long)t->case_bias, (unsigned long long)(t->ncase ? t->cases[0] : 0));
        for (unsigned q = 0; q < t->ncase && n < MAX_SUCC; q++) {
            int s = blk_get(j, t->cases[q] + t->case_bias, c->ctx_id, 0), dup = 0;
            for (int r = 0; r < n && !dup; r++) dup = out[r] == s;
            if (!dup) out[n++] = s;
        }
        return n;
    }
    default: return 0;
    }
}


void lift_branch(struct lift_ctx *c, LLVMValueRef cond, uint64_t taken, uint64_t fall)
{
    c->term = (struct lift_term){ LIFT_T_BRANCH, taken, fall, c->ctx_id, c->ctx_id, cond, NULL, NULL, 0, 0 };
}

void lift_stop(struct lift_ctx *c)
{
    LLVMTypeRef vt = LLVMFunctionType(LLVMVoidTypeInContext(c->lc), NULL, 0, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, "llvm.trap");
    if (!fn) fn = LLVMAddFunction(c->m, "llvm.trap", vt);
    LLVMBuildCall2(c->b, vt, fn, NULL, 0, "");
    LLVMBuildUnreachable(c->b);
    c->term.kind = LIFT_T_STOP;
}

/* -- The two passes ----------------------------------------------------------------------- */

/* Erase bb's instructions, last to first (a value used in another block
 * becomes undef there). */
static void bb_empty(LLVMBasicBlockRef bb)
{
    LLVMValueRef in;
    while ((in = LLVMGetLastInstruction(bb)) != NULL) {
        if (LLVMGetFirstUse(in)) LLVMReplaceAllUsesWith(in, LLVMGetUndef(LLVMTypeOf(in)));
        LLVMInstructionEraseFromParent(in);
    }
}

/* Delete the blocks from first to the end of the function: first their
 * instructions, then the blocks, so that no block goes while a branch
 * still names it (LLVM would leave the branch's use dangling). */
static void bb_delete_from(LLVMBasicBlockRef first)
{
    for (LLVMBasicBlockRef bb = first; bb; bb = LLVMGetNextBasicBlock(bb)) bb_empty(bb);
    while (first) {
        LLVMBasicBlockRef next = LLVMGetNextBasicBlock(first);
        LLVMDeleteBasicBlock(first);
        first = next;
    }
}

void lift_fn_clear_body(LLVMValueRef fn)
{
    bb_delete_from(LLVMGetFirstBasicBlock(fn));
}

/* Delete every block of the scratch function but its entry (the frame). */
static void scratch_clear(LLVMValueRef fn)
{
    bb_delete_from(LLVMGetNextBasicBlock(LLVMGetFirstBasicBlock(fn)));
}

static enum lf_status job_analyze(struct lift_job *j, struct lift_ctx *c)
{
    int *work = NULL, nwork = 0, capwork = 0, *succ = malloc(sizeof *succ * MAX_SUCC);
    enum lf_status st = LF_OK;
    LF_ASSERT(succ, "out of memory");
    LLVMValueRef scratch = LLVMAddFunction(j->mod->m, "lift.scratch", j->preg >= 0 ? j->mod->wfty : j->mod->fty);
    lift_job_ctx_init(j, c, scratch, 56);
    LLVMBasicBlockRef entry = LLVMGetFirstBasicBlock(scratch);
    j->opq_b = LLVMCreateBuilderInContext(c->lc);
    LLVMPositionBuilder(j->opq_b, entry, LLVMGetFirstInstruction(entry));
    memset(j->opq_gpr, 0, sizeof j->opq_gpr);
    memset(j->opq_xmm, 0, sizeof j->opq_xmm);
    memset(j->opq_flag, 0, sizeof j->opq_flag);
    lift_job_entry_state(j, c);
    ASTATE_TMP(s0);
    lift_astate_of(c, &s0, (1u << LIFT_NFLAGS) - 1);
    int b0 = blk_get(j, j->entry, 0, 0);
    lift_astate_join(c, &j->blk[b0], &s0);
    work = malloc(sizeof *work * (capwork = 64));
    work[nwork++] = b0;
    struct lift_esc esc0 = j->esc;
    while (nwork > 0 && st == LF_OK) {
        int bi = work[--nwork];
        struct lift_blk *b = &j->blk[bi];
        if (b->is_exit) continue;
        LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->lc, scratch, "a"));
        blk_enter(j, c, b);
        st = blk_body(j, c, b);
        if (st != LF_OK && !j->nopoly && (j->poly_restart || (b->poly >= 1 && !is_mono(j, b->pc, b->ctx)))) {
            /* A copy of an unrolled loop went where the run does not (e.g.
             * a pointer walking past the frame): that loop does not unroll,
             * rather than the function not inlining.  Once a loop stopped
             * unrolling this round, refusals wait for the next round. */
            LF_DEBUG(2, "lineiform: 0x%llx (context %d) does not unroll: %s\n", (unsigned long long)b->pc, b->ctx, c->why);
            if (b->poly >= 1 && !is_mono(j, b->pc, b->ctx)) blk_mono_add(j, b->pc, b->ctx);
            c->bad = 0;
            c->why[0] = 0;
            st = LF_OK;
            continue;
        }
        if (st != LF_OK) { j->failed_ctx = b->ctx; break; }
        b = &j->blk[bi];
        b->fuse = c->flags_used;
        b->fdef = c->flags_defined;
        ASTATE_TMP(out);
        ASTATE_TMP(edge);
        lift_astate_of(c, &out, (1u << LIFT_NFLAGS) - 1);
        LF_DEBUG(4, "lineiform: blk 0x%llx ctx %d var %d poly %d: rbp in %d/%lld out %d, rsp in %d out %d, slots in %d esc %d\n",
                 (unsigned long long)b->pc, b->ctx, b->var, b->poly, b->in.gpr[5].kind, (long long)b->in.gpr[5].off, out.gpr[5].kind,
                 b->in.gpr[4].kind, out.gpr[4].kind, b->in.nslot, c->esc.n);
        if (lift_trace() >= 5)
            for (int q = 0; q < b->in.nslot; q++)
                fprintf(stderr, "   slot %lld/%u kind %d priv %d\n", (long long)b->in.slot[q].off, b->in.slot[q].bits,
                        b->in.slot[q].v.kind, b->in.slot[q].priv);
        int nsucc = blk_succs(j, c, succ, &out);   /* may move j->blk */
        b = &j->blk[bi];
        b->nsucc = nsucc;
        free(b->succ);
        b->succ = malloc(sizeof *succ * (size_t)(nsucc ? nsucc : 1));
        LF_ASSERT(b->succ, "out of memory");
        memcpy(b->succ, succ, sizeof *succ * (size_t)nsucc);
        for (int k = 0; k < b->nsucc; k++) {
            lift_astate_copy(&edge, &out);
            lift_edge_refine(c, &edge, k);
            gpr_drop_dead(j, j->blk[succ[k]].pc, edge.gpr);
            lift_join_escapes(c, &j->blk[succ[k]], &edge);
            if (!lift_astate_join(c, &j->blk[succ[k]], &edge)) continue;
            if (nwork == capwork) work = realloc(work, sizeof *work * (capwork *= 2));
            work[nwork++] = succ[k];
        }
        /* A new escape (from the block or its joins) invalidates what earlier
         * blocks forwarded: finish the round (collecting the other escapes
         * too), then restart. */
        if (memcmp(&c->esc, &j->esc, sizeof j->esc) != 0) j->esc = c->esc;
        /* The block's IR served only to compute its exit state: drop it, so
         * a round's garbage does not pile up in the scratch function. */
        scratch_clear(scratch);
        if (j->nblk > j->mod->max_blocks * 4) {
            if (!j->nopoly) {
                LF_DEBUG(2, "lineiform: %d blocks: polyvariance off\n", j->nblk);
                j->nopoly = 1;
                j->poly_restart = 1;
                break;
            }
            st = lift_fail(c, "more than %d blocks", j->mod->max_blocks * 4);
            j->failed_ctx = 0;
        }
    }
    free(work);
    free(succ);
    lift_fn_clear_body(scratch);
    LLVMDeleteFunction(scratch);
    LLVMDisposeBuilder(j->opq_b);
    j->opq_b = NULL;
    if (st == LF_OK && j->noinl_new)   /* lift_job_run analyses again */
        return lift_fail(c, "a callee's stack area of run-time size");
    /* A round that stopped a loop unrolling ran copies that the next round
     * will not: what they made escape is forgotten (the rest is found again). */
    if (st == LF_OK && j->poly_restart) j->esc = esc0;
    if (st == LF_OK && (memcmp(&j->esc, &esc0, sizeof esc0) != 0 || j->poly_restart))
        return LF_ERR_STATE;  /* restart */
    if (st == LF_OK && j->guard_heap && j->mod->nfesc != j->nfesc0)
        return LF_ERR_STATE;  /* a guard's candidates grew (lift_guard.c invariant 2) */
    j->min_sp = c->min_sp;
    return st;
}

static void job_liveness(struct lift_job *j)
{
    for (int k = 0; k < j->nblk; k++)
        j->blk[k].flive = j->blk[k].is_exit ? (1u << LIFT_NFLAGS) - 1 : j->blk[k].fuse;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int k = j->nblk - 1; k >= 0; k--) {
            struct lift_blk *b = &j->blk[k];
            unsigned out = 0;
            for (int s = 0; s < b->nsucc; s++) out |= j->blk[b->succ[s]].flive;
            unsigned in = b->flive | (out & ~b->fdef);
            if (in != b->flive) b->flive = in, changed = 1;
        }
    }
}

/* A jump table: switch on the target address; anything else traps (the
 * code's own bound check keeps the index inside the table). */
static void emit_switch(struct lift_job *j, struct lift_ctx *c, const int *succ, int n)
{
    LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(c->lc, j->fn, "badcase");
    LLVMValueRef sw = LLVMBuildSwitch(c->b, c->term.dyn, bad, (unsigned)n);
    for (int k = 0; k < n; k++)
        LLVMAddCase(sw, lift_const(c, 64, j->blk[succ[k]].pc), blk_bb(j, c, &j->blk[succ[k]]));
    LLVMBasicBlockRef here = LLVMGetInsertBlock(c->b);
    LLVMPositionBuilderAtEnd(c->b, bad);
    lift_stop(c);
    LLVMPositionBuilderAtEnd(c->b, here);
    c->term.kind = LIFT_T_SWITCH;
}

/* A guard: switch on the closure to each case's copy, else the fallback. */
static void emit_guard(struct lift_job *j, struct lift_ctx *c, const int *succ, int n)
{
    LLVMValueRef sw = LLVMBuildSwitch(c->b, c->term.dyn, blk_bb(j, c, &j->blk[succ[n - 1]]), (unsigned)n - 1);
    for (int k = 0; k < n - 1; k++)
        LLVMAddCase(sw, lift_const(c, 64, c->term.cases[k]), blk_bb(j, c, &j->blk[succ[k]]));
}

static enum lf_status job_emit(struct lift_job *j, struct lift_ctx *c)
{
    /* sp0 = 56 mod 64 in the analysis; here the same modulo the frame's
     * alignment (16 unless the code aligns the stack wider). */
    int64_t al = j->align64 ? 64 : 16;
    int64_t top = ((-j->min_sp + al - 1) / al) * al + 56 % al;
    j->emitting = 1;
    lift_job_ctx_init(j, c, j->fn, top);
    lift_job_entry_state(j, c);
    int b0 = blk_find(j, j->entry, 0, 0);
    LF_ASSERT(b0 >= 0, "entry block missing");
    lift_flags_materialize(c, j->blk[b0].flive);
    blk_incoming(j, c, &j->blk[b0]);
    LLVMBuildBr(c->b, blk_bb(j, c, &j->blk[b0]));
    int *work = malloc(sizeof *work * (size_t)(j->nblk + 1)), nwork = 0;
    int *succ = malloc(sizeof *succ * MAX_SUCC);
    LF_ASSERT(work && succ, "out of memory");
    work[nwork++] = b0;
    j->blk[b0].emitted = 1;
    enum lf_status st = LF_OK;
    while (nwork > 0 && st == LF_OK) {
        struct lift_blk *b = &j->blk[work[--nwork]];
        LLVMPositionBuilderAtEnd(c->b, blk_bb(j, c, b));
        blk_enter(j, c, b);
        if (b->is_exit) { lift_job_exit(j, c); continue; }
        st = blk_body(j, c, b);
        if (st != LF_OK) { j->failed_ctx = b->ctx; break; }
        j->insns += b->ninsn;
        ASTATE_TMP(out);
        lift_astate_of(c, &out, 0);
        int nb = j->nblk, n = blk_succs(j, c, succ, &out);
        if (j->nblk != nb) { st = lift_fail(c, "emission left the analysed blocks"); break; }
        if (lift_trace() >= 4)
            for (int k = 0; k < n; k++)
                fprintf(stderr, "lineiform: emit 0x%llx ctx %d poly %d -> 0x%llx ctx %d poly %d\n",
                        (unsigned long long)b->pc, b->ctx, b->poly, (unsigned long long)j->blk[succ[k]].pc,
                        j->blk[succ[k]].ctx, j->blk[succ[k]].poly);
        if (n == 0) continue;
        unsigned live = 0;
        for (int k = 0; k < n; k++) live |= j->blk[succ[k]].flive;
        lift_flags_materialize(c, live);
        if (c->term.kind == LIFT_T_SWITCH) emit_switch(j, c, succ, n);
        else if (c->term.kind == LIFT_T_GUARD) emit_guard(j, c, succ, n);
        else if (n == 1) LLVMBuildBr(c->b, blk_bb(j, c, &j->blk[succ[0]]));
        else LLVMBuildCondBr(c->b, c->term.cond, blk_bb(j, c, &j->blk[succ[0]]),
                             blk_bb(j, c, &j->blk[succ[1]]));
        for (int k = 0; k < n; k++) {
            struct lift_blk *s = &j->blk[succ[k]];
            blk_incoming(j, c, s);
            if (!s->emitted) s->emitted = 1, work[nwork++] = succ[k];
        }
    }
    free(work);
    free(succ);
    return st;
}

/* A specialization that calls itself and whose lift has at most this many
 * blocks is lifted again with its first call of itself inlined (fib's: 583
 * blocks; tak's and ack's hot ones, about 1,600, are not).  Measured
 * (lineiform run, median of five): fib 0.10 against 0.12 s; inlining every
 * self call instead of the first made fib slower (0.15 s); 800 took in two
 * of ack's (728 and 736 blocks) and made ack slower (0.26 against 0.22 s). */
enum { LIFT_UNROLL_BLOCKS = 700 };

/* One attempt: analysis (restarted once the frame escapes), then emission. */
static enum lf_status job_try(struct lift_job *j, struct lift_ctx *c)
{
    enum lf_status st;
    for (int round = 0;; round++) {
        blk_free_all(j);
        for (int k = 0; k < j->hsize; k++) j->hash[k] = -1;
        j->nfr = 1;
        j->ndec = 0;
        j->emitting = 0;
        j->failed_ctx = 0;
        j->noinl_new = 0;
        j->poly_restart = 0;
        lift_guard_reset(j);
        if (round == 10) {
            LF_DEBUG(2, "lineiform: %d analysis rounds: polyvariance off\n", round);
            j->nopoly = 1;
        }
        if (round == 12) {  /* stop refining: every frame byte may be reached */
            j->esc.n = 1;
            j->esc.r[0].lo = INT64_MIN / 4;
            j->esc.r[0].hi = INT64_MAX / 4;
            j->esc.r[0].entry = 0;
        }
        st = job_analyze(j, c);
        LF_DEBUG(2, "lineiform: %s: analysis round %d: %d blocks, %d escape ranges, %d monovariant%s\n", j->name,
                 round, j->nblk, j->esc.n, j->nmono, st == LF_ERR_STATE ? ", again" : "");
        if (st != LF_ERR_STATE || round > 14) break;
    }
    if (st != LF_OK) return st;
    job_liveness(j);
    j->insns = 0;
    j->nisite = 0;
    return job_emit(j, c);
}

/* Lift job j into j->fn.  A refusal inside an inlined callee marks that
 * callee native (it is then called, not inlined) and tries again; a
 * refusal in the job's own frame leaves the failure to the caller, which
 * makes j->fn a thunk to the original code. */
enum lf_status lift_job_run(struct lift_job *j)
{
    struct lift_ctx *c = calloc(1, sizeof *c);
    LF_ASSERT(c, "out of memory");
    enum lf_status st = LF_ERR_UNSUPPORTED;
    for (int attempt = 0; attempt < 64; attempt++) {
        c->why[0] = 0;
        lift_fn_clear_body(j->fn);
        st = job_try(j, c);
        if (st != LF_OK && j->noinl_new) continue;   /* not a refusal: those calls are made */
        if (st != LF_OK && j->unroll > 0) {   /* the unrolled copy failed: lift it as it was */
            j->unroll = -1;
            continue;
        }
        if (st == LF_OK && !j->unroll && j->self_call && !j->snippet && j->nblk <= LIFT_UNROLL_BLOCKS) {
            LF_DEBUG(1, "lineiform: %s: %d blocks, calls itself: its recursion unrolled once\n", j->name, j->nblk);
            j->unroll = 1;
            continue;
        }
        if (st == LF_OK && j->unroll == 1) {
            j->unroll = 2;   /* done: a later lift (its callers') does not count it again */
            j->mod->rep.unrolled++;
        }
        if (st == LF_OK || j->failed_ctx <= 0 || j->failed_ctx >= j->nfr) break;
        LF_DEBUG(1, "lineiform: not inlining 0x%llx: %s\n",
                 (unsigned long long)j->fr[j->failed_ctx].entry, c->why);
        if (!j->mod->rep.reason[0])
            snprintf(j->mod->rep.reason, sizeof j->mod->rep.reason, "0x%llx: %s",
                     (unsigned long long)j->fr[j->failed_ctx].entry, c->why);
        lift_mod_native_add(j->mod, j->fr[j->failed_ctx].entry);
        j->mod->rep.bailouts++;
    }
    if (st == LF_OK) {
        lift_job_phis(j->fn);
        lift_job_sweep(j->fn, c->sp0);
        lift_frame_split(c, &j->esc);
    } else {
        snprintf(j->why, sizeof j->why, "%s", c->why[0] ? c->why : lf_status_str(st));
        lift_fn_clear_body(j->fn);
    }
    free(c->gown);
    free(c);
    return st;
}

void lift_job_release(struct lift_job *j)
{
    blk_free_all(j);
    free(j->blk);
    free(j->fr);
    free(j->dec);
    free(j->mono);
    free(j->hash);
    free(j->isite);
    j->isite = NULL;
    lift_guard_reset(j);
    free(j->guard);
    j->guard = NULL;
    j->capguard = 0;
    j->nisite = j->capisite = 0;
    j->hash = NULL;
    j->hsize = 0;
    j->mono = NULL;
    j->nmono = j->capmono = 0;
    j->blk = NULL;
    j->fr = NULL;
    j->dec = NULL;
    j->nblk = j->nfr = j->ndec = 0;
}
