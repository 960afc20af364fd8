/* an_discover.c -- functions of a binary that names none: no symbol and no
 * .eh_frame FDE in its executable segments (static Go or Free Pascal
 * programs, hand-stripped files).
 *
 * Input: the entry point and the executable PT_LOAD segments.  Output:
 * "fn_<hex>" functions (source AN_SRC_CALLS) at the entry point, at every
 * direct call target reached, and at every address of an executable
 * section a rip-relative lea or a mov immediate takes (a function pointer:
 * main handed to __libc_start_main); their sizes
 * come later from an_fill_sizes (up to the next function).
 *
 * Method: recursive descent over direct jumps and conditional branches from
 * each function found; calls add functions, they are not followed inline.
 *
 * Invariants:
 *   1. Only file-backed bytes of executable segments are decoded; each byte
 *      starts at most one decoded instruction (a seen map per segment).
 *   2. Code reached only through tables or stored pointers is not found;
 *      the analysis of the functions found reports it (incomplete, or an
 *      indirect site). */
#include "analyzer/an_internal.h"

#include <Zydis/Zydis.h>
#include <stdlib.h>
#include <string.h>

#define AN_DISCOVER_MAX 200000 /* functions; a bound on hostile input */

struct an_disc {
    struct an_bin *b;
    ZydisDecoder dec;
    const struct an_segment *seg[8];
    uint8_t *seen[8];
    unsigned nseg;
    struct an_vec work;    /* uint64_t */
    struct an_vec entries; /* uint64_t */
};

/* Segment index holding a (file-backed), -1 if none. */
static int an_disc_seg(const struct an_disc *d, uint64_t a)
{
    for (unsigned i = 0; i < d->nseg; i++)
        if (a >= d->seg[i]->vaddr && a - d->seg[i]->vaddr < d->seg[i]->filesz) return (int)i;
    return -1;
}

static int an_disc_push(struct an_vec *v, uint64_t a)
{
    uint64_t *p = an_vec_push(v);
    if (!p) return -1;
    *p = a;
    return 0;
}

/* A new function at a (once). */
static int an_disc_entry(struct an_disc *d, uint64_t a)
{
    int k = an_disc_seg(d, a);
    if (k < 0 || d->entries.n >= AN_DISCOVER_MAX) return 0;
    uint8_t *m = &d->seen[k][a - d->seg[k]->vaddr];
    if (*m & 2) return 0;
    *m |= 2;
    return an_disc_push(&d->entries, a) < 0 || an_disc_push(&d->work, a) < 0 ? -1 : 0;
}

/* A lea's target is taken for code only inside an executable section
 * (read-only data often shares the executable segment). */
static int an_disc_code(const struct an_bin *b, uint64_t a)
{
    for (unsigned i = 0; i < b->pub.n_sections; i++) {
        const struct an_section *s = &b->pub.sections[i];
        if (a >= s->addr && a - s->addr < s->size && s->addr) return (s->flags & 4 /* SHF_EXECINSTR */) != 0;
    }
    return b->pub.n_sections == 0; /* no section headers: trust the segment */
}

static int an_disc_run(struct an_disc *d, uint64_t a)
{
    ZydisDecodedInstruction in;
    ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
    for (;;) {
        int k = an_disc_seg(d, a);
        if (k < 0) return 0;
        uint64_t off = a - d->seg[k]->vaddr;
        if (d->seen[k][off] & 1) return 0;
        d->seen[k][off] |= 1;
        const uint8_t *p = d->b->map + d->seg[k]->offset + off;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d->dec, p, d->seg[k]->filesz - off, &in, o))) return 0;
        uint64_t next = a + in.length;
        int rel = in.operand_count_visible > 0 && o[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && o[0].imm.is_relative;
        uint64_t tgt = rel ? next + (uint64_t)o[0].imm.value.s : 0;
        if (in.mnemonic == ZYDIS_MNEMONIC_LEA && o[1].mem.base == ZYDIS_REGISTER_RIP &&
            an_disc_code(d->b, next + (uint64_t)o[1].mem.disp.value) &&
            an_disc_entry(d, next + (uint64_t)o[1].mem.disp.value) < 0)
            return -1;
        /* non-PIC code takes a function's address as an immediate; as any
         * constant may look like one, only a 16-byte aligned one (where
         * compilers place functions at -O2) counts */
        if (in.mnemonic == ZYDIS_MNEMONIC_MOV && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && o[0].size >= 32 &&
            o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !(o[1].imm.value.u & 15) &&
            an_disc_code(d->b, o[1].imm.value.u) &&
            an_disc_entry(d, o[1].imm.value.u) < 0)
            return -1;
        switch (in.meta.category) {
        case ZYDIS_CATEGORY_CALL:
            if (rel && an_disc_entry(d, tgt) < 0) return -1;
            break;
        case ZYDIS_CATEGORY_UNCOND_BR:
            return rel && an_disc_push(&d->work, tgt) < 0 ? -1 : 0;
        case ZYDIS_CATEGORY_COND_BR:
            if (an_disc_push(&d->work, tgt) < 0) return -1;
            break;
        case ZYDIS_CATEGORY_RET:
            return 0;
        default:
            if (in.mnemonic == ZYDIS_MNEMONIC_HLT || in.mnemonic == ZYDIS_MNEMONIC_UD2) return 0;
        }
        a = next;
    }
}

/* 1 when no function lies in an executable segment. */
static int an_disc_needed(const struct an_bin *b)
{
    const struct an_func *f = b->funcs.data;
    for (size_t i = 0; i < b->funcs.n; i++) {
        const struct an_segment *s = an_segment_at(&b->pub, f[i].addr);
        if (s && (s->flags & 1 /* PF_X */) && !f[i].is_plt) return 0;
    }
    return b->pub.entry != 0;
}

enum lf_status an_discover(struct an_bin *b)
{
    if (!an_disc_needed(b)) return LF_OK;
    size_t before = b->funcs.n;
    LF_CHECK(an_gopclntab(b));
    if (b->funcs.n > before) return LF_OK; /* Go's own table lists every function */
    struct an_disc d = { .b = b, .work = AN_VEC(uint64_t), .entries = AN_VEC(uint64_t) };
    enum lf_status st = LF_OK;
    ZydisDecoderInit(&d.dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    for (unsigned i = 0; i < b->pub.n_segments && d.nseg < 8; i++) {
        const struct an_segment *s = &b->pub.segments[i];
        if (!(s->flags & 1) || !s->filesz) continue;
        if (!(d.seen[d.nseg] = calloc(1, s->filesz))) { st = LF_ERR_NOMEM; goto out; }
        d.seg[d.nseg++] = s;
    }
    if (an_disc_entry(&d, b->pub.entry) < 0) { st = LF_ERR_NOMEM; goto out; }
    while (d.work.n)
        if (an_disc_run(&d, ((uint64_t *)d.work.data)[--d.work.n]) < 0) { st = LF_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < d.entries.n; i++) {
        uint64_t a = ((uint64_t *)d.entries.data)[i];
        char name[32];
        snprintf(name, sizeof name, "fn_%lx", (unsigned long)a);
        struct an_func *f = an_vec_push(&b->funcs);
        if (!f || !(f->name = an_strdup(&b->arena, name))) { st = LF_ERR_NOMEM; goto out; }
        f->addr = a;
        f->source = AN_SRC_CALLS;
        f->liftable = -1;
    }
out:
    for (unsigned i = 0; i < d.nseg; i++) free(d.seen[i]);
    an_vec_free(&d.work);
    an_vec_free(&d.entries);
    return st;
}
