/* an_code.c -- per function: decode (Zydis, once per instruction), basic
 * blocks, edges, indirect sites, liftability; jump tables (an_jtab.c, over
 * an_flow.c's backward data flow) and dominators/loops (an_loops.c).
 *
 * Input: a function's address ranges: its own [addr, addr+size) plus those
 * of its compiler-split parts (foo.cold, or stripped parts adopted when a
 * branch lands in them: an_adopt_split), whose blocks belong to its CFG.
 * Output: f->cfg and the counters of struct an_func.
 *
 * Method: recursive descent from the entry.  A worklist of addresses; from
 * each, decode linearly until an instruction that ends the flow (ret, jmp,
 * indirect jmp, hlt/ud2, a call to a noreturn function) or an instruction
 * already decoded.  When the worklist is empty, the jump tables of the
 * indirect jmps are read (they need the predecessors of the decoded code)
 * and their targets queued: rounds until no new table.  A table found to
 * land mid-instruction is capped and decoding starts again.  Conditional
 * branch targets, jump-table targets and the instruction after a
 * conditional branch are leaders.  Then instructions are sorted by address
 * and cut into blocks at leaders, after flow ends, and at gaps.
 *
 * Invariants:
 *   1. Only bytes inside the function's ranges are decoded; a branch out of
 *      them is an edge to an outside target (to = AN_NONE: a tail call).
 *   2. Each instruction address is decoded once (seen[] map over the
 *      ranges), so the cost is one ZydisDecoderDecodeFull per instruction.
 *   3. The liftable verdict uses only reachable instructions; the first
 *      unsupported one is the lowest address among them.  A table-shaped
 *      jmp whose table was not read makes the function incomplete. */
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
    s->caps = (struct an_vec)AN_VEC(struct an_jtab_cap);
    s->preds = (struct an_vec)AN_VEC(uint64_t[2]);
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
    an_vec_free(&s->caps);
    an_vec_free(&s->preds);
    an_flow_free(s);
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

/* Size seen[] for the ranges; bytes of ranges [from, n) start at zero. */
static int an_seen_fit(struct an_scratch *s, unsigned from)
{
    const struct an_range *last = &s->ranges[s->n_ranges - 1];
    size_t total = last->base + (last->hi - last->lo);
    if (total > s->seen_cap) {
        uint8_t *p = realloc(s->seen, total);
        if (!p) return -1;
        s->seen = p;
        s->seen_cap = total;
    }
    size_t lo = s->ranges[from].base;
    memset(s->seen + lo, 0, total - lo);
    return 0;
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
    s->base_ranges = s->n_ranges;
    return an_seen_fit(s, 0) < 0 ? -1 : 1;
}

/* A branch landing in a part whose FDE starts mid-frame (a stripped .cold
 * part: no name ties it), or an entry of a guarded jump table landing in
 * code only an FDE names (the .cold part of a function without a frame
 * starts like a function; a table never leaves its function), makes that
 * part ours.  An unguarded table's entry never does: it may be reading past
 * its end. */
int an_adopt_split(struct an_bin *b, struct an_scratch *s, uint64_t addr, int from_guarded_table)
{
    struct an_func *g = (struct an_func *)an_func_at(&b->pub, addr);
    if (!g || !(g->split || (from_guarded_table && g->source == AN_SRC_EH_FRAME)) || g->addr == s->func->addr ||
        s->n_ranges == AN_MAX_RANGES || an_range_index(s, g->addr) >= 0)
        return 0;
    unsigned from = s->n_ranges;
    if (!an_add_range(b, s, g->addr, g->addr + g->size)) return 0;
    if (an_seen_fit(s, from) < 0) return -1;
    /* gcc points an unreachable default at whatever code follows, so two
     * functions may reach one part: it stays tied to the first */
    if (!g->parent_addr) g->parent_addr = s->func->addr;
    return 1;
}

/* -- Decoding ------------------------------------------------------------------ */

int an_queue(struct an_bin *b, struct an_scratch *s, uint64_t a)
{
    long i = an_range_index(s, a);
    if (i < 0) {
        int r = an_adopt_split(b, s, a, 0);
        if (r <= 0) return r;
        i = an_range_index(s, a);
    }
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
            return an_queue(b, s, in->target) < 0 ? -1 : 1;
        }
        in->kind = AN_INS_IJMP; /* its table: an_jtab_resolve, once the code is decoded */
        return 1;
    case ZYDIS_CATEGORY_COND_BR: {
        in->kind = AN_INS_JCC;
        if (an_queue(b, s, in->target) < 0) return -1;
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
        d->mnemonic == ZYDIS_MNEMONIC_UD0 || d->mnemonic == ZYDIS_MNEMONIC_UD1 || d->mnemonic == ZYDIS_MNEMONIC_INT3) {
        in->kind = AN_INS_HALT;
        return 1;
    }
    return 0;
}

static const struct an_range *an_range_of(const struct an_scratch *s, uint64_t a)
{
    for (unsigned k = 0; k < s->n_ranges; k++)
        if (a >= s->ranges[k].lo && a < s->ranges[k].hi) return &s->ranges[k];
    return NULL;
}

int an_decode_at(struct an_scratch *s, uint64_t a, ZydisDecodedInstruction *d, ZydisDecodedOperand *ops)
{
    const struct an_range *r = an_range_of(s, a);
    return r && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&s->dec, r->bytes + (a - r->lo), r->hi - a, d, ops));
}

static int an_decode_from(struct an_bin *b, struct an_scratch *s, uint64_t a)
{
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    for (;;) {
        long i = an_range_index(s, a);
        if (i < 0 || (s->seen[i] & AN_SEEN_INSN)) return 0;
        struct an_ins *in = an_vec_push(&s->insns);
        if (!in) return -1;
        in->addr = a;
        in->jtab = -1;
        s->seen[i] |= AN_SEEN_INSN;
        if (!an_decode_at(s, a, &d, ops)) {
            in->length = 1;
            in->kind = AN_INS_BAD;
            an_note_unsupported(s, a);
            return 0;
        }
        in->length = d.length;
        const struct an_range *r = an_range_of(s, a);
        for (unsigned k = 1; k < d.length && a + k < r->hi; k++) s->seen[i + k] |= AN_SEEN_BODY;
        if (an_form_classify(&d, ops) == AN_FORM_NONE) an_note_unsupported(s, a);
        int stop = an_flow(b, s, in, &d, ops);
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
    f->liftable = !s->unsupported && !s->incomplete;
    f->unsupported_addr = s->unsupported ? s->unsupported : s->incomplete;
    if (s->incomplete) {
        char why[160];
        snprintf(why, sizeof why, "incomplete: %s", s->incomplete_why);
        if (!(f->incomplete = an_strdup(&b->arena, why))) return LF_ERR_NOMEM;
    }
    if (!s->unsupported) {
        f->unsupported_text = f->incomplete;
        return LF_OK;
    }
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    char buf[128] = "(bad)";
    if (an_decode_at(s, s->unsupported, &d, ops))
        ZydisFormatterFormatInstruction(&s->fmt, &d, ops, d.operand_count_visible, buf, sizeof buf,
                                        s->unsupported, NULL);
    f->unsupported_text = an_strdup(&b->arena, buf);
    return f->unsupported_text ? LF_OK : LF_ERR_NOMEM;
}

/* Decode from the queued addresses, then let the jump tables found in what
 * was decoded queue more, until a round finds no new table. */
static int an_decode_all(struct an_bin *b, struct an_scratch *s)
{
    for (;;) {
        while (s->work.n) {
            uint64_t a = ((uint64_t *)s->work.data)[--s->work.n];
            if (an_decode_from(b, s, a) < 0) return -1;
        }
        if (s->insns.n > 1) qsort(s->insns.data, s->insns.n, sizeof(struct an_ins), an_ins_cmp);
        int r = an_jtab_resolve(b, s);
        if (r <= 0) return r;
    }
}

enum lf_status an_code_func(struct an_bin *b, struct an_func *f, void *scratch)
{
    struct an_scratch *s = scratch;
    s->func = f;
    s->caps.n = 0;
    /* a table capped by an_jtab_check queued targets that must not be
     * decoded: start again with the cap (each round lowers one cap) */
    for (unsigned attempt = 0;; attempt++) {
        int r = f->size ? an_setup_ranges(b, s, f) : 0;
        if (r < 0) return LF_ERR_NOMEM;
        if (r == 0) return LF_OK; /* no code bytes: liftable stays -1 (unknown) */
        s->insns.n = s->work.n = 0;
        s->unsupported = s->incomplete = 0;
        s->incomplete_why = NULL;
        s->jtabs.n = 0;
        s->jt_targets.n = 0;
        if (an_queue(b, s, f->addr) < 0 || an_decode_all(b, s) < 0) return LF_ERR_NOMEM;
        r = attempt < 8 ? an_jtab_check(b, s) : 0;
        if (r < 0) return LF_ERR_NOMEM;
        if (r == 0) break;
    }
    f->n_insns = (unsigned)s->insns.n;
    LF_CHECK(an_unsupported_text(b, s, f));
    return an_cfg_build(b, s, f);
}
