/* an_gopclntab.c -- the functions of a stripped Go program from its
 * .gopclntab, the table the Go runtime itself uses for stack traces (a Go
 * binary built with -s -w keeps no .symtab and no .eh_frame).
 *
 * Input: the .gopclntab section of Go 1.18 or later (magic 0xfffffff0 or
 * 0xfffffff1, 8-byte pointers): header {magic u32, pad u16, minLC u8,
 * ptrSize u8, nfunc, nfiles, textStart, funcnameOffset, cuOffset,
 * filetabOffset, pctabOffset, pclnOffset (ptrSize each)}; at pclnOffset,
 * nfunc+1 pairs {entryOff u32, funcOff u32} (entryOff from textStart, the
 * last pair ends the text); at pclnOffset+funcOff a _func {entryOff u32,
 * nameOff i32}, the name a NUL-terminated string at funcnameOffset+nameOff.
 * Output: one function per entry (source AN_SRC_GOPCLNTAB), sized up to
 * the next entry.
 *
 * Invariants:
 *   1. Every offset is checked against the section; an older or malformed
 *      table adds nothing (an_discover then starts from the entry point).
 *   2. Only used when no symbol names a function in the executable segments. */
#include "analyzer/an_internal.h"

#include <string.h>

#define AN_GO_MAX_FUNCS 4000000

static const struct an_section *an_go_section(const struct an_bin *b)
{
    for (unsigned i = 0; i < b->pub.n_sections; i++)
        if (!strcmp(b->pub.sections[i].name, ".gopclntab") && b->pub.sections[i].type != 8 /* NOBITS */)
            return &b->pub.sections[i];
    return NULL;
}

static int an_go_u64(const uint8_t *p, uint64_t len, uint64_t off, uint64_t *v)
{
    if (off > len || len - off < 8) return 0;
    memcpy(v, p + off, 8);
    return 1;
}

static int an_go_u32(const uint8_t *p, uint64_t len, uint64_t off, uint32_t *v)
{
    if (off > len || len - off < 4) return 0;
    memcpy(v, p + off, 4);
    return 1;
}

enum lf_status an_gopclntab(struct an_bin *b)
{
    const struct an_section *s = an_go_section(b);
    if (!s || s->offset > b->map_len || s->size > b->map_len - s->offset || s->size < 72) return LF_OK;
    const uint8_t *p = b->map + s->offset;
    uint64_t len = s->size, h[8];
    uint32_t magic;
    memcpy(&magic, p, 4);
    if ((magic != 0xfffffff0u && magic != 0xfffffff1u) || p[7] != 8) return LF_OK;
    for (int k = 0; k < 8; k++) an_go_u64(p, len, 8 + 8 * (uint64_t)k, &h[k]);
    uint64_t nfunc = h[0], text = h[2], names = h[3], ftab = h[7];
    if (nfunc == 0 || nfunc > AN_GO_MAX_FUNCS || ftab > len || (len - ftab) / 8 < nfunc + 1) return LF_OK;
    for (uint64_t k = 0; k < nfunc; k++) {
        uint32_t entry, foff, next, nameoff;
        if (!an_go_u32(p, len, ftab + 8 * k, &entry) || !an_go_u32(p, len, ftab + 8 * k + 4, &foff) ||
            !an_go_u32(p, len, ftab + 8 * (k + 1), &next) || next < entry ||
            !an_go_u32(p, len, ftab + (uint64_t)foff + 4, &nameoff))
            return LF_OK;
        uint64_t at = names + (uint64_t)(int64_t)(int32_t)nameoff;
        const char *name = at < len ? (const char *)p + at : NULL;
        size_t nlen = name ? strnlen(name, (size_t)(len - at)) : 0;
        char buf[32];
        if (!name || !nlen || nlen == len - at) {
            snprintf(buf, sizeof buf, "fn_%lx", (unsigned long)(text + entry));
            name = buf;
            nlen = strlen(buf);
        }
        struct an_func *f = an_vec_push(&b->funcs);
        if (!f || !(f->name = an_strndup(&b->arena, name, nlen))) return LF_ERR_NOMEM;
        f->addr = text + entry;
        f->size = next - entry;
        f->source = AN_SRC_GOPCLNTAB;
        f->liftable = -1;
    }
    return LF_OK;
}
