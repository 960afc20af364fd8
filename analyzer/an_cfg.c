/* an_cfg.c -- basic blocks and edges from the decoded instructions of one
 * function, then loops (an_loops.c), copied into the binary's arena.
 *
 * Input: s->insns sorted by address, s->seen leader marks, s->jtabs.
 * Output: f->cfg, f->n_blocks/n_edges/n_loops/n_indirect.
 *
 * Invariants:
 *   1. A block starts at a leader, after an instruction that ends the flow
 *      or a branch, and after a gap; calls do not end blocks (their edges
 *      are CALL edges out of the block).
 *   2. Edges of a block are emitted together (edges grouped by from), in
 *      block order: calls in instruction order, then the block's exits.
 *   3. An edge whose destination is not an instruction of the function has
 *      to = AN_NONE and keeps its target address (a tail call). */
#include "analyzer/an_code.h"

#include <stdlib.h>
#include <string.h>

static int an_ends_block(const struct an_ins *in)
{
    return in->kind != AN_INS_PLAIN && in->kind != AN_INS_CALL && in->kind != AN_INS_ICALL;
}

static uint32_t an_block_of(const struct an_cfg_build *cb, uint64_t a)
{
    const struct an_block *bl = cb->blocks.data;
    size_t lo = 0, hi = cb->blocks.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bl[mid].addr < a) lo = mid + 1;
        else hi = mid;
    }
    return lo < cb->blocks.n && bl[lo].addr == a ? (uint32_t)lo : AN_NONE;
}

static enum lf_status an_cut_blocks(struct an_scratch *s, struct an_cfg_build *cb, uint32_t *ins_block)
{
    const struct an_ins *ins = s->insns.data;
    struct an_block *cur = NULL;
    for (size_t i = 0; i < s->insns.n; i++) {
        long ix = an_range_index(s, ins[i].addr);
        int start = !cur || (ix >= 0 && (s->seen[ix] & AN_SEEN_LEADER)) || an_ends_block(&ins[i - 1]) ||
                    ins[i - 1].addr + ins[i - 1].length != ins[i].addr;
        if (start) {
            if (!(cur = an_vec_push(&cb->blocks))) return LF_ERR_NOMEM;
            cur->addr = ins[i].addr;
            cur->idom = cur->loop = AN_NONE;
        }
        cur->size = ins[i].addr + ins[i].length - cur->addr;
        cur->n_insns++;
        ins_block[i] = (uint32_t)(cb->blocks.n - 1);
    }
    return LF_OK;
}

static int an_edge(struct an_cfg_build *cb, uint32_t from, uint64_t target, enum an_edge_kind k)
{
    struct an_edge *e = an_vec_push(&cb->edges);
    if (!e) return -1;
    e->from = from;
    e->to = target ? an_block_of(cb, target) : AN_NONE;
    e->target = target;
    e->kind = k;
    return 0;
}

static int an_site(struct an_scratch *s, struct an_cfg_build *cb, struct an_bin *b, const struct an_ins *in,
                   uint32_t block)
{
    struct an_indirect_site *site = an_vec_push(&cb->sites);
    if (!site) return -1;
    site->addr = in->addr;
    site->block = block;
    site->is_call = in->kind == AN_INS_ICALL;
    site->jump_table = in->jtab;
    long ix = an_range_index(s, in->addr);
    const struct an_range *r = NULL;
    for (unsigned k = 0; k < s->n_ranges; k++)
        if (in->addr >= s->ranges[k].lo && in->addr < s->ranges[k].hi) r = &s->ranges[k];
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    char buf[128] = "?";
    if (ix >= 0 && r && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&s->dec, r->bytes + (in->addr - r->lo),
                                                            r->hi - in->addr, &d, ops)))
        ZydisFormatterFormatInstruction(&s->fmt, &d, ops, d.operand_count_visible, buf, sizeof buf, in->addr, NULL);
    site->text = an_strdup(&b->arena, buf);
    return site->text ? 0 : -1;
}

/* The exits of block bi whose last instruction is in. */
static int an_exits(struct an_scratch *s, struct an_cfg_build *cb, uint32_t bi, const struct an_ins *in)
{
    uint64_t next = in->addr + in->length;
    switch (in->kind) {
    case AN_INS_JMP: return an_edge(cb, bi, in->target, AN_EDGE_BRANCH);
    case AN_INS_JCC:
        if (an_edge(cb, bi, in->target, AN_EDGE_COND) < 0) return -1;
        return an_edge(cb, bi, next, AN_EDGE_FALLTHROUGH);
    case AN_INS_IJMP:
        if (in->jtab < 0) return an_edge(cb, bi, 0, AN_EDGE_INDIRECT);
        {
            const struct an_jtab_raw *t = &((const struct an_jtab_raw *)s->jtabs.data)[in->jtab];
            const uint64_t *tg = (const uint64_t *)s->jt_targets.data + t->first;
            for (unsigned i = 0; i < t->n; i++) {
                int dup = 0;
                for (unsigned j = 0; j < i && !dup; j++) dup = tg[j] == tg[i];
                if (!dup && an_edge(cb, bi, tg[i], AN_EDGE_JUMPTABLE) < 0) return -1;
            }
        }
        return 0;
    case AN_INS_RET: case AN_INS_HALT: case AN_INS_NORET: case AN_INS_BAD:
        return 0;
    default:
        return an_range_index(s, next) >= 0 && an_block_of(cb, next) != AN_NONE
                   ? an_edge(cb, bi, next, AN_EDGE_FALLTHROUGH) : 0;
    }
}

static enum lf_status an_link(struct an_bin *b, struct an_scratch *s, struct an_cfg_build *cb,
                              const uint32_t *ins_block)
{
    const struct an_ins *ins = s->insns.data;
    for (size_t i = 0; i < s->insns.n; i++) {
        uint32_t bi = ins_block[i];
        if (ins[i].kind == AN_INS_CALL || ins[i].kind == AN_INS_NORET) {
            if (an_edge(cb, bi, ins[i].target, AN_EDGE_CALL) < 0) return LF_ERR_NOMEM;
            ((struct an_edge *)cb->edges.data)[cb->edges.n - 1].to = AN_NONE;
        }
        if (ins[i].kind == AN_INS_ICALL &&
            (an_edge(cb, bi, 0, AN_EDGE_INDIRECT) < 0 || an_site(s, cb, b, &ins[i], bi) < 0))
            return LF_ERR_NOMEM;
        if (ins[i].kind == AN_INS_IJMP && an_site(s, cb, b, &ins[i], bi) < 0) return LF_ERR_NOMEM;
        if (i + 1 == s->insns.n || ins_block[i + 1] != bi)
            if (an_exits(s, cb, bi, &ins[i]) < 0) return LF_ERR_NOMEM;
    }
    return LF_OK;
}

static void *an_copy(struct an_bin *b, const struct an_vec *v)
{
    if (!v->n) return NULL;
    void *p = an_alloc(&b->arena, v->n * v->item);
    if (p) memcpy(p, v->data, v->n * v->item);
    return p;
}

static enum lf_status an_copy_jtabs(struct an_bin *b, struct an_scratch *s, struct an_jump_table *out)
{
    const struct an_jtab_raw *t = s->jtabs.data;
    for (size_t i = 0; i < s->jtabs.n; i++) {
        uint64_t *tg = an_alloc(&b->arena, t[i].n * sizeof *tg);
        if (!tg) return LF_ERR_NOMEM;
        memcpy(tg, (const uint64_t *)s->jt_targets.data + t[i].first, t[i].n * sizeof *tg);
        out[i] = (struct an_jump_table){ t[i].site, t[i].table, t[i].entry_size, (int)t[i].relative,
                                         t[i].n, (int)t[i].bounded, tg };
    }
    return LF_OK;
}

static enum lf_status an_publish(struct an_bin *b, struct an_scratch *s, struct an_cfg_build *cb,
                                 struct an_func *f)
{
    struct an_cfg *cfg = an_alloc(&b->arena, sizeof *cfg);
    struct an_jump_table *jt = s->jtabs.n ? an_alloc(&b->arena, s->jtabs.n * sizeof *jt) : NULL;
    if (!cfg || (s->jtabs.n && !jt)) return LF_ERR_NOMEM;
    LF_CHECK(an_copy_jtabs(b, s, jt));
    cfg->n_blocks = (unsigned)cb->blocks.n;
    cfg->n_edges = (unsigned)cb->edges.n;
    cfg->n_loops = (unsigned)cb->loops.n;
    cfg->n_sites = (unsigned)cb->sites.n;
    cfg->n_jump_tables = (unsigned)s->jtabs.n;
    cfg->entry = an_block_of(cb, f->addr);
    cfg->blocks = an_copy(b, &cb->blocks);
    cfg->edges = an_copy(b, &cb->edges);
    cfg->loops = an_copy(b, &cb->loops);
    cfg->sites = an_copy(b, &cb->sites);
    cfg->jump_tables = jt;
    if ((cb->blocks.n && !cfg->blocks) || (cb->edges.n && !cfg->edges) || (cb->loops.n && !cfg->loops) ||
        (cb->sites.n && !cfg->sites))
        return LF_ERR_NOMEM;
    f->cfg = cfg;
    f->n_blocks = cfg->n_blocks;
    f->n_edges = cfg->n_edges;
    f->n_loops = cfg->n_loops;
    f->n_indirect = cfg->n_sites;
    return LF_OK;
}

enum lf_status an_cfg_build(struct an_bin *b, struct an_scratch *s, struct an_func *f)
{
    struct an_cfg_build cb = { AN_VEC(struct an_block), AN_VEC(struct an_edge), AN_VEC(struct an_loop),
                               AN_VEC(struct an_indirect_site), AN_VEC(struct an_jump_table) };
    uint32_t *ins_block = malloc((s->insns.n + 1) * sizeof *ins_block);
    enum lf_status st = ins_block ? LF_OK : LF_ERR_NOMEM;
    if (st == LF_OK) st = an_cut_blocks(s, &cb, ins_block);
    if (st == LF_OK) st = an_link(b, s, &cb, ins_block);
    if (st == LF_OK) st = an_loops_compute(b, &cb, an_block_of(&cb, f->addr));
    if (st == LF_OK) st = an_publish(b, s, &cb, f);
    free(ins_block);
    an_vec_free(&cb.blocks);
    an_vec_free(&cb.edges);
    an_vec_free(&cb.loops);
    an_vec_free(&cb.sites);
    an_vec_free(&cb.jtabs);
    return st;
}
