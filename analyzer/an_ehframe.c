/* an_ehframe.c -- function ranges from .eh_frame FDEs (the only map of
 * function boundaries a stripped binary keeps), and the landing pads of
 * their language-specific data areas (LSDA, .gcc_except_table).
 *
 * Input: the .eh_frame section bytes (LSB 'z'-augmented CIEs, as gcc, clang
 * and binutils emit).  Output: (pc_begin, pc_range, mid_frame, lsda) per FDE
 * via a callback; mid_frame marks an FDE that starts inside an established
 * frame (see an_fde_mid_frame): a split-off part of another function; lsda
 * is its language-specific data area (0: none).  an_lsda_pads counts the
 * call sites of an LSDA that have a landing pad (a catch handler or a
 * cleanup: a destructor, a finally).
 * Invariants:
 *   1. Every read is bounded by the record it belongs to; a malformed record
 *      ends the walk with ERR_FORMAT, never a read outside the section.
 *   2. Pointer encodings: absptr, udata2/4/8, sdata2/4/8, uleb/sleb, with
 *      the pcrel modifier applied; other modifiers (datarel, indirect: only
 *      seen on personality pointers, whose value is not used) are read for
 *      their size and left unapplied.  An unknown size is ERR_FORMAT. */
#include "analyzer/an_internal.h"

#include <string.h>

struct an_cur { const uint8_t *p, *end; uint64_t vaddr; /* of p */ int bad; };

static uint64_t an_rd(struct an_cur *c, unsigned n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) { c->bad = 1; return 0; }
    uint64_t v = 0;
    memcpy(&v, c->p, n);
    c->p += n;
    c->vaddr += n;
    return v;
}

static uint64_t an_uleb(struct an_cur *c, int is_signed)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t byte = 0x80;
    while (byte & 0x80) {
        byte = (uint8_t)an_rd(c, 1);
        if (c->bad) return 0;
        if (shift < 64) v |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
    }
    if (is_signed && shift < 64 && (byte & 0x40)) v |= ~(uint64_t)0 << shift;
    return v;
}

static uint64_t an_encoded(struct an_cur *c, uint8_t enc)
{
    uint64_t base = (enc & 0x70) == 0x10 ? c->vaddr : 0, v;
    switch (enc & 0x0f) {
    case 0x00: v = an_rd(c, 8); break;
    case 0x01: v = an_uleb(c, 0); break;
    case 0x02: v = an_rd(c, 2); break;
    case 0x03: v = an_rd(c, 4); break;
    case 0x04: v = an_rd(c, 8); break;
    case 0x09: v = an_uleb(c, 1); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)an_rd(c, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)an_rd(c, 4); break;
    case 0x0c: v = an_rd(c, 8); break;
    default: c->bad = 1; return 0;
    }
    return base + v;
}

/* The FDE pointer encoding a CIE announces ('R'), absptr by default;
 * *zaug = 1 when FDEs carry augmentation data ('z'); *lsda_enc the LSDA
 * pointer's encoding ('L'), 0xff (omit) when FDEs have none. */
static int an_cie_encoding(struct an_cur c, uint8_t *enc, int *zaug, uint8_t *lsda_enc)
{
    *enc = 0;
    *zaug = 0;
    *lsda_enc = 0xff;
    uint8_t version = (uint8_t)an_rd(&c, 1);
    const char *aug = (const char *)c.p;
    size_t alen = strnlen(aug, (size_t)(c.end - c.p));
    if (c.bad || alen == (size_t)(c.end - c.p)) return -1;
    c.p += alen + 1;
    c.vaddr += alen + 1;
    if (strstr(aug, "eh")) an_rd(&c, 8);
    an_uleb(&c, 0);                              /* code alignment */
    an_uleb(&c, 1);                              /* data alignment */
    if (version == 1) an_rd(&c, 1); else an_uleb(&c, 0); /* return register */
    if (aug[0] != 'z') return c.bad ? -1 : 0;
    *zaug = 1;
    an_uleb(&c, 0);                              /* augmentation length */
    for (const char *a = aug + 1; *a && !c.bad; a++) {
        if (*a == 'R') *enc = (uint8_t)an_rd(&c, 1);
        else if (*a == 'P') an_encoded(&c, (uint8_t)an_rd(&c, 1));
        else if (*a == 'L') *lsda_enc = (uint8_t)an_rd(&c, 1);
        else if (*a == 'S' || *a == 'B' || *a == 'G') continue;
        else return 0; /* unknown augmentation: the rest cannot be parsed, R came first */
    }
    return c.bad ? -1 : 0;
}

static const struct an_section *an_find_section(const struct an_bin *b, const char *name)
{
    for (unsigned i = 0; i < b->pub.n_sections; i++)
        if (!strcmp(b->pub.sections[i].name, name) && b->pub.sections[i].type != 8 /* SHT_NOBITS */)
            return &b->pub.sections[i];
    return NULL;
}

/* 1 when the FDE's rules before its first advance_loc describe a frame
 * already set up (CFA other than rsp+8, or saved registers besides the
 * return address): code that is entered from the middle of another
 * function's frame (a gcc .cold part), not a function entry.  Unknown
 * opcodes end the scan with 0. */
static int an_fde_mid_frame(struct an_cur c)
{
    while (!c.bad && c.p < c.end) {
        uint8_t op = (uint8_t)an_rd(&c, 1);
        uint64_t r, v;
        if ((op & 0xc0) == 0x40 || op == 0x02 || op == 0x03 || op == 0x04) return 0; /* advance */
        if ((op & 0xc0) == 0x80) { an_uleb(&c, 0); if ((op & 0x3f) != 16) return 1; continue; }
        switch (op) {
        case 0x00: break;                                                  /* nop */
        case 0x0c: r = an_uleb(&c, 0); v = an_uleb(&c, 0); if (r != 7 || v != 8) return !c.bad; break;
        case 0x0d: if (an_uleb(&c, 0) != 7) return !c.bad; break;          /* def_cfa_register */
        case 0x0e: if (an_uleb(&c, 0) != 8) return !c.bad; break;          /* def_cfa_offset */
        case 0x05: case 0x11:                                              /* offset_extended(_sf) */
            r = an_uleb(&c, 0); an_uleb(&c, op == 0x11);
            if (r != 16) return !c.bad;
            break;
        case 0x0f: case 0x10: return 1;                                    /* cfa/reg expression */
        case 0x2e: an_uleb(&c, 0); break;                                  /* GNU_args_size */
        default: return 0;
        }
    }
    return 0;
}

enum lf_status an_ehframe_walk(struct an_bin *b, void (*fn)(void *, uint64_t, uint64_t, int, uint64_t), void *ctx)
{
    const struct an_section *s = an_find_section(b, ".eh_frame");
    if (!s) return LF_OK;
    const uint8_t *base = b->map + s->offset, *end = base + s->size;
    const uint8_t *p = base;
    while ((size_t)(end - p) >= 4) {
        struct an_cur c = { p, end, s->addr + (uint64_t)(p - base), 0 };
        uint64_t len = an_rd(&c, 4);
        if (len == 0) break;                       /* terminator */
        if (len == 0xffffffffu) len = an_rd(&c, 8);
        if (c.bad || len > (uint64_t)(end - c.p) || len < 4)
            return an_fail(b, LF_ERR_FORMAT, "malformed .eh_frame record at offset %#lx",
                           (unsigned long)(p - base));
        const uint8_t *rec_end = c.p + len;
        c.end = rec_end;
        const uint8_t *id_at = c.p;
        uint32_t id = (uint32_t)an_rd(&c, 4);
        if (id != 0) {                             /* FDE: id = distance back to its CIE */
            if (id > (uint64_t)(id_at - base))
                return an_fail(b, LF_ERR_FORMAT, "FDE at offset %#lx points outside .eh_frame",
                               (unsigned long)(p - base));
            const uint8_t *cie = id_at - id;
            struct an_cur cc = { cie, end, 0, 0 };
            uint64_t clen = an_rd(&cc, 4);
            if (clen == 0xffffffffu) clen = an_rd(&cc, 8);
            uint8_t enc, lenc;
            int zaug;
            if (cc.bad || clen > (uint64_t)(end - cc.p) || an_rd(&cc, 4) != 0) goto bad;
            cc.end = cc.p - 4 + clen;
            if (an_cie_encoding(cc, &enc, &zaug, &lenc) < 0) goto bad;
            uint64_t lo = an_encoded(&c, enc);
            uint64_t range = an_encoded(&c, enc & 0x0f);
            uint64_t lsda = 0;
            if (c.bad) goto bad;
            if (zaug) {
                uint64_t alen = an_uleb(&c, 0);
                if (c.bad || alen > (uint64_t)(c.end - c.p)) goto bad;
                if (lenc != 0xff && alen) {   /* 'L': augmentation data holds the LSDA pointer */
                    struct an_cur lc = c;
                    lc.end = c.p + alen;
                    lsda = an_encoded(&lc, lenc);
                    if (lc.bad) lsda = 0;   /* an unreadable LSDA pointer: no LSDA, the range stands */
                }
                c.p += alen;
                c.vaddr += alen;
            }
            b->pub.n_fdes++;
            if (lo && range) fn(ctx, lo, range, an_fde_mid_frame(c), lsda);
        }
        p = rec_end;
        continue;
    bad:
        return an_fail(b, LF_ERR_FORMAT, "malformed .eh_frame FDE at offset %#lx",
                       (unsigned long)(p - base));
    }
    return LF_OK;
}

/* -- Language-specific data (LSDA) ------------------------------------------ */

/* The bytes at vaddr a up to the end of the allocated section holding it. */
static int an_at(const struct an_bin *b, uint64_t a, struct an_cur *c)
{
    for (unsigned i = 0; i < b->pub.n_sections; i++) {
        const struct an_section *s = &b->pub.sections[i];
        if (s->type == 8 /* SHT_NOBITS */ || !s->addr || a < s->addr || a - s->addr >= s->size) continue;
        if (s->offset > b->map_len || s->size > b->map_len - s->offset) return -1;
        *c = (struct an_cur){ b->map + s->offset + (a - s->addr), b->map + s->offset + s->size, a, 0 };
        return 0;
    }
    return -1;
}

/* The LSDA at lsda of the function starting at func (the gcc/LLVM
 * layout: LPStart, TType, call-site table): the call sites with a landing
 * pad, *first_pad the first pad's address.  -1 when it cannot be read
 * (the caller then treats the function as having pads). */
int an_lsda_pads(const struct an_bin *b, uint64_t func, uint64_t lsda, uint64_t *first_pad)
{
    struct an_cur c;
    *first_pad = 0;
    if (an_at(b, lsda, &c) < 0) return -1;
    uint8_t lpenc = (uint8_t)an_rd(&c, 1);
    uint64_t lpstart = lpenc == 0xff ? func : an_encoded(&c, lpenc);
    uint8_t ttenc = (uint8_t)an_rd(&c, 1);
    if (ttenc != 0xff) an_uleb(&c, 0);
    uint8_t csenc = (uint8_t)an_rd(&c, 1);
    uint64_t cslen = an_uleb(&c, 0);
    if (c.bad || cslen > (uint64_t)(c.end - c.p)) return -1;
    c.end = c.p + cslen;
    int n = 0;
    while (c.p < c.end) {
        an_encoded(&c, csenc & 0x0f);   /* start, relative to the function */
        an_encoded(&c, csenc & 0x0f);   /* length */
        uint64_t lp = an_encoded(&c, csenc & 0x0f);
        an_uleb(&c, 0);                 /* action */
        if (c.bad) return -1;
        if (lp) {
            if (!n) *first_pad = lpstart + lp;
            n++;
        }
    }
    return n;
}
