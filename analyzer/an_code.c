/* an_code.c -- per function: decode (Zydis, once per instruction), basic
 * blocks, edges, indirect sites, liftability; then jump tables (an_jtab.c)
 * and dominators/loops (an_loops.c).
 *
 * Input: a function's address ranges: its own [addr, addr+size) plus those
 * of its compiler-split parts (foo.cold), whose blocks belong to its CFG.
 * Output: f->cfg and the counters of struct an_func.
 *
 * Method: recursive descent from the entry.  A worklist of addresses; from
 * each, decode linearly until an instruction that ends the flow (ret, jmp,
 * indirect jmp, hlt/ud2, a call to a noreturn function) or an instruction
 * already decoded.  Conditional branch targets, jump-table targets and the
 * instruction after a conditional branch are leaders.  Then instructions
 * are sorted by address and cut into blocks at leaders, after flow ends, and
 * at gaps.
 *
 * Invariants:
 *   1. Only bytes inside the function's ranges are decoded; a branch out of
 *      them is an edge to an outside target (to = AN_NONE: a tail call).
 *   2. Each instruction address is decoded once (seen[] map over the
 *      ranges), so the cost is one ZydisDecoderDecodeFull per instruction.
 *   3. The liftable verdict uses only reachable instructions; the first
 *      unsupported one is the lowest address among them. */
#include "analyzer/an_internal.h"
#include "analyzer/an_code.h"
#include "analyzer/an_forms.h"

#include <stdlib.h>
#include <string.h>

/* -- Scratch: reused across functions --------------------------------------- */

struct an_cold { uint64_t parent, lo, hi; };

static int an_cold_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct an_cold *)a)->parent, y = ((const struct an_cold *)b)->parent;
    return x < y ? -1 : x > y;
}

void *an_code_scratch_new(struct an_bin *b)
{
    struct an_scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->insns = (struct an_vec)AN_VEC(struct an_ins);
    s->work = (struct an_vec)AN_VEC(uint64_t);
    s->colds = (struct an_vec)AN_VEC(struct an_cold);
    s->jt_targets = (struct an_vec)AN_VEC(uint64_t);
    s->jtabs = (struct an_vec)AN_VEC(struct an_jtab_raw);
    ZydisDecoderInit(&s->dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisFormatterInit(&s->fmt, ZYDIS_FORMATTER_STYLE_INTEL);
    const struct an_func *f = b->funcs.data;
    for (size_t i = 0; i < b->funcs.n; i++) {
        if (!f[i].parent_addr) continue;
        struct an_cold *c = an_vec_push(&s->colds);
        if (!c) { an_code_scratch_free(s); return NULL; }
        *c = (struct an_cold){ f[i].parent_addr, f[i].addr, f[i].addr + f[i].size };
    }
    if (s->colds.n) qsort(s->colds.data, s->colds.n, sizeof(struct an_cold), an_cold_cmp);
    return s;
}

void an_code_scratch_free(void *p)
{
    struct an_scratch *s = p;
    if (!s) return;
    an_vec_free(&s->insns);
    an_vec_free(&s->work);
    an_vec_free(&s->colds);
    an_vec_free(&s->jt_targets);
    an_vec_free(&s->jtabs);
    free(s->seen);
    free(s);
}

/* -- Ranges ------------------------------------------------------------------- */

/* Index of addr in the seen[] map, -1 when outside the function. */
long an_range_index(const struct an_scratch *s, uint64_t addr)
{
    for (unsigned i = 0; i < s->n_ranges; i++)
        if (addr >= s->ranges[i].lo && addr < s->ranges[i].hi)
            return (long)(s->ranges[i].base + (addr - s->ranges[i].lo));
    return -1;
}

static int an_add_range(struct an_bin *b, struct an_scratch *s, uint64_t lo, uint64_t hi)
{
    size_t avail;
    const uint8_t *bytes = an_bytes_at(&b->pub, lo, &avail);
    if (!bytes || s->n_ranges == AN_MAX_RANGES || hi <= lo) return 0;
    if (hi - lo > avail) hi = lo + avail;
    const struct an_segment *seg = an_segment_at(&b->pub, lo);
    if (!seg || !(seg->flags & 1 /* PF_X */)) return 0;
    size_t base = s->n_ranges ? s->ranges[s->n_ranges - 1].base +
                                (s->ranges[s->n_ranges - 1].hi - s->ranges[s->n_ranges - 1].lo) : 0;
    s->ranges[s->n_ranges++] = (struct an_range){ lo, hi, base, bytes };
    return 1;
}

static int an_setup_ranges(struct an_bin *b, struct an_scratch *s, const struct an_func *f)
{
    s->n_ranges = 0;
    if (!an_add_range(b, s, f->addr, f->addr + f->size)) return 0;
    const struct an_cold *c = s->colds.data;
    size_t lo = 0, hi = s->colds.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c[mid].parent < f->addr) lo = mid + 1;
        else hi = mid;
    }
    for (; lo < s->colds.n && c[lo].parent == f->addr; lo++) an_add_range(b, s, c[lo].lo, c[lo].hi);
    const struct an_range *last = &s->ranges[s->n_ranges - 1];
    size_t total = last->base + (last->hi - last->lo);
    if (total > s->seen_cap) {
        free(s->seen);
        s->seen = malloc(total);
        if (!s->seen) { s->seen_cap = 0; return -1; }
        s->seen_cap = total;
    }
    memset(s->seen, 0, total);
    return 1;
}

/* -- Decoding ------------------------------------------------------------------ */

static int an_push_work(struct an_scratch *s, uint64_t a)
{
    long i = an_range_index(s, a);
    if (i < 0) return 0;
    s->seen[i] |= AN_SEEN_LEADER;
    if (s->seen[i] & AN_SEEN_INSN) return 0;
    uint64_t *w = an_vec_push(&s->work);
    if (!w) return -1;
    *w = a;
    return 0;
}

static void an_note_unsupported(struct an_scratch *s, uint64_t a)
{
    if (!s->unsupported || a < s->unsupported) s->unsupported = a;
}

/* Classify one decoded instruction; returns 1 when the flow stops after it. */
static int an_flow(struct an_bin *b, struct an_scratch *s, struct an_ins *in,
                   const ZydisDecodedInstruction *d, const ZydisDecodedOperand *ops)
{
    int rel = d->operand_count_visible > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
              ops[0].imm.is_relative;
    uint64_t next = in->addr + in->length;
    if (rel) in->target = next + (uint64_t)ops[0].imm.value.s;
    switch (d->meta.category) {
    case ZYDIS_CATEGORY_RET:
        in->kind = AN_INS_RET;
        return 1;
    case ZYDIS_CATEGORY_UNCOND_BR:
        if (rel) {
            in->kind = AN_INS_JMP;
            return an_push_work(s, in->target) < 0 ? -1 : 1;
        }
        in->kind = AN_INS_IJMP;
        return an_jtab_find(b, s, in) < 0 ? -1 : 1;
    case ZYDIS_CATEGORY_COND_BR: {
        /* decoding goes on with the fall-through, so the run (and the
         * ring a jump-table slice walks) keeps the cmp/ja bound check */
        in->kind = AN_INS_JCC;
        if (an_push_work(s, in->target) < 0) return -1;
        long ix = an_range_index(s, next);
        if (ix >= 0) s->seen[ix] |= AN_SEEN_LEADER;
        return 0;
    }
    case ZYDIS_CATEGORY_CALL:
        if (!rel) { in->kind = AN_INS_ICALL; return 0; }
        in->kind = AN_INS_CALL;
        if (an_target_noreturn(b, in->target)) { in->kind = AN_INS_NORET; return 1; }
        return 0;
    default:
        break;
    }
    if (d->mnemonic == ZYDIS_MNEMONIC_HLT || d->mnemonic == ZYDIS_MNEMONIC_UD2 ||
        d->mnemonic == ZYDIS_MNEMONIC_UD0 || d->mnemonic == ZYDIS_MNEMONIC_UD1) {
        in->kind = AN_INS_HALT;
        return 1;
    }
    return 0;
}

static int an_decode_from(struct an_bin *b, struct an_scratch *s, uint64_t a)
{
    s->ring_n = 0;
    for (;;) {
        long i = an_range_index(s, a);
        if (i < 0 || (s->seen[i] & AN_SEEN_INSN)) return 0;
        const struct an_range *r = NULL;
        for (unsigned k = 0; k < s->n_ranges; k++)
            if (a >= s->ranges[k].lo && a < s->ranges[k].hi) r = &s->ranges[k];
        struct an_ring *slot = &s->ring[s->ring_n % AN_RING];
        struct an_ins *in = an_vec_push(&s->insns);
        if (!in) return -1;
        in->addr = a;
        in->jtab = -1;
        slot->addr = a;
        s->seen[i] |= AN_SEEN_INSN;
        ZyanStatus st = ZydisDecoderDecodeFull(&s->dec, r->bytes + (a - r->lo), r->hi - a,
                                               &slot->d, slot->ops);
        if (!ZYAN_SUCCESS(st)) {
            in->length = 1;
            in->kind = AN_INS_BAD;
            an_note_unsupported(s, a);
            return 0;
        }
        s->ring_n++;
        in->length = slot->d.length;
        if (an_form_classify(&slot->d, slot->ops) == AN_FORM_NONE) an_note_unsupported(s, a);
        int stop = an_flow(b, s, in, &slot->d, slot->ops);
        if (stop) return stop < 0 ? -1 : 0;
        a += in->length;
    }
}

int an_target_noreturn(const struct an_bin *b, uint64_t target)
{
    const struct an_func *f = an_func_at(&b->pub, target);
    if (!f || f->addr != target) return 0;
    if (f->noreturn) return 1;
    const char *n = f->is_plt ? f->plt_target : f->name;
    return n && an_strmap_get(&b->noreturn, n) != NULL;
}

/* -- Driver ------------------------------------------------------------------- */

static int an_ins_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct an_ins *)a)->addr, y = ((const struct an_ins *)b)->addr;
    return x < y ? -1 : x > y;
}

static enum lf_status an_unsupported_text(struct an_bin *b, struct an_scratch *s, struct an_func *f)
{
    f->liftable = s->unsupported == 0;
    f->unsupported_addr = s->unsupported;
    if (!s->unsupported) return LF_OK;
    size_t avail;
    const uint8_t *p = an_bytes_at(&b->pub, s->unsupported, &avail);
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    char buf[128] = "(bad)";
    if (p && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&s->dec, p, avail, &d, ops)))
        ZydisFormatterFormatInstruction(&s->fmt, &d, ops, d.operand_count_visible, buf, sizeof buf,
                                        s->unsupported, NULL);
    f->unsupported_text = an_strdup(&b->arena, buf);
    return f->unsupported_text ? LF_OK : LF_ERR_NOMEM;
}

enum lf_status an_code_func(struct an_bin *b, struct an_func *f, void *scratch)
{
    struct an_scratch *s = scratch;
    int r = f->size ? an_setup_ranges(b, s, f) : 0;
    if (r < 0) return LF_ERR_NOMEM;
    if (r == 0) return LF_OK; /* no code bytes: liftable stays -1 (unknown) */
    s->insns.n = s->work.n = 0;
    s->unsupported = 0;
    s->jtabs.n = 0;
    s->jt_targets.n = 0;
    if (an_push_work(s, f->addr) < 0) return LF_ERR_NOMEM;
    while (s->work.n) {
        uint64_t a = ((uint64_t *)s->work.data)[--s->work.n];
        if (an_decode_from(b, s, a) < 0) return LF_ERR_NOMEM;
    }
    if (s->insns.n > 1) qsort(s->insns.data, s->insns.n, sizeof(struct an_ins), an_ins_cmp);
    f->n_insns = (unsigned)s->insns.n;
    LF_CHECK(an_unsupported_text(b, s, f));
    return an_cfg_build(b, s, f);
}
