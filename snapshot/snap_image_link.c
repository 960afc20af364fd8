/* snap_image_link.c -- a static linker for one relocatable object: places
 * the compiled code at its fixed run-time address and resolves everything
 * but the imports, which the image loader binds through GOT slots.
 *
 *   object (ET_REL) ──▶ classify SHF_ALLOC sections (code / rodata / data)
 *                   ──▶ collect imports (undefined symbols) and GOT users
 *                   ──▶ layout: code + import stubs | rodata | data | GOT,
 *                       each kind on its own pages from SNAP_CODE_BASE
 *                   ──▶ copy bytes, apply RELA relocations, list functions
 *
 * Invariants:
 *   (1) Code reaches an import only through its stub `jmp *slot(%rip)`; the
 *       stub's address stands for the symbol in every relocation, so code
 *       pages never need patching at load time.
 *   (2) The whole layout stays inside [SNAP_CODE_BASE, SNAP_CODE_LIMIT), so
 *       every 32-bit PC-relative reference between kinds fits.
 *   (3) .eh_frame is dropped (no unwinder registers image code); a
 *       relocation that targets a dropped section is ignored, one that
 *       refers to a symbol in a dropped section is an error.
 */
#include "snapshot/snap_image.h"

#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lk_sec {
    int placed;
    enum snap_seg_kind kind;
    uint64_t size, align, addr;
    const uint8_t *bytes;      /* NULL: SHT_NOBITS */
};

struct lk_got {                /* a GOT slot for a defined symbol */
    size_t sym;
    uint64_t slot;
};

struct lk {
    Elf *e;
    uint8_t *copy;
    size_t nsec;
    struct lk_sec *sec;
    Elf_Data *symdata;
    size_t symstr, nsyms;
    uint64_t *symval;          /* resolved address per symbol */
    struct lk_got *gots;
    size_t ngots;
    struct snap_linked *out;
    char *why;
    size_t whylen;
};

static enum lf_status lk_fail(struct lk *k, enum lf_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum lf_status lk_fail(struct lk *k, enum lf_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (k->why && k->whylen) vsnprintf(k->why, k->whylen, fmt, ap);
    va_end(ap);
    return s;
}

static uint64_t lk_align(uint64_t v, uint64_t a) { return a > 1 ? (v + a - 1) / a * a : v; }

static const char *lk_symname(struct lk *k, const GElf_Sym *s)
{
    const char *n = elf_strptr(k->e, k->symstr, s->st_name);
    return n ? n : "";
}

/* -- Sections and symbols ----------------------------------------------- */

static enum lf_status lk_sections(struct lk *k)
{
    size_t shstrndx;
    if (elf_getshdrnum(k->e, &k->nsec) != 0 || elf_getshdrstrndx(k->e, &shstrndx) != 0)
        return lk_fail(k, LF_ERR_FORMAT, "object: no section table");
    k->sec = calloc(k->nsec ? k->nsec : 1, sizeof *k->sec);
    if (!k->sec) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(k->e, scn));) {
        GElf_Shdr sh;
        size_t i = elf_ndxscn(scn);
        if (!gelf_getshdr(scn, &sh)) return lk_fail(k, LF_ERR_FORMAT, "object: bad section %zu", i);
        const char *name = elf_strptr(k->e, shstrndx, sh.sh_name);
        if (sh.sh_type == SHT_SYMTAB) {
            k->symdata = elf_getdata(scn, NULL);
            k->symstr = sh.sh_link;
            k->nsyms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        }
        if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_size == 0 || sh.sh_type == SHT_X86_64_UNWIND ||
            (name && !strcmp(name, ".eh_frame")))
            continue;
        if (sh.sh_flags & SHF_TLS)
            return lk_fail(k, LF_ERR_UNSUPPORTED, "object: thread-local section %s", name ? name : "?");
        struct lk_sec *s = &k->sec[i];
        s->placed = 1;
        s->kind = (sh.sh_flags & SHF_EXECINSTR) ? SNAP_SEG_CODE
                  : (sh.sh_flags & SHF_WRITE) ? SNAP_SEG_DATA : SNAP_SEG_RODATA;
        s->size = sh.sh_size;
        s->align = sh.sh_addralign ? sh.sh_addralign : 1;
        if (s->align > SNAP_PAGE || (s->align & (s->align - 1)))
            return lk_fail(k, LF_ERR_FORMAT, "object: section %s alignment %llu",
                           name ? name : "?", (unsigned long long)s->align);
        if (sh.sh_type != SHT_NOBITS) {
            Elf_Data *d = elf_getdata(scn, NULL);
            if (!d || !d->d_buf || d->d_size != sh.sh_size)
                return lk_fail(k, LF_ERR_FORMAT, "object: unreadable section %s", name ? name : "?");
            s->bytes = d->d_buf;
        }
    }
    if (!k->symdata) return lk_fail(k, LF_ERR_FORMAT, "object: no symbol table");
    k->symval = calloc(k->nsyms ? k->nsyms : 1, sizeof *k->symval);
    return k->symval ? LF_OK : lk_fail(k, LF_ERR_NOMEM, "out of memory");
}

static int lk_is_got_rel(unsigned t)
{
    return t == R_X86_64_GOTPCREL || t == R_X86_64_GOTPCRELX || t == R_X86_64_REX_GOTPCRELX;
}

static enum lf_status lk_add_import(struct lk *k, const char *name)
{
    struct snap_linked *o = k->out;
    for (size_t i = 0; i < o->nimports; i++)
        if (!strcmp(o->imports[i].name, name)) return LF_OK;
    if (!*name || strlen(name) > SNAP_MAX_NAME)
        return lk_fail(k, LF_ERR_FORMAT, "object: bad undefined symbol name");
    if (o->nimports >= SNAP_MAX_IMPORTS) return lk_fail(k, LF_ERR_FORMAT, "object: too many imports");
    struct snap_limport *n = realloc(o->imports, (o->nimports + 1) * sizeof *n);
    if (!n) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    o->imports = n;
    memset(&n[o->nimports], 0, sizeof *n);
    snprintf(n[o->nimports++].name, sizeof n->name, "%s", name);
    return LF_OK;
}

static enum lf_status lk_add_got(struct lk *k, size_t sym)
{
    for (size_t i = 0; i < k->ngots; i++)
        if (k->gots[i].sym == sym) return LF_OK;
    struct lk_got *n = realloc(k->gots, (k->ngots + 1) * sizeof *n);
    if (!n) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    k->gots = n;
    n[k->ngots++] = (struct lk_got){ sym, 0 };
    return LF_OK;
}

/* Calls fn for every RELA entry that patches a placed section. */
typedef enum lf_status (*lk_rela_fn)(struct lk *k, struct lk_sec *target, const GElf_Rela *r);

static enum lf_status lk_each_rela(struct lk *k, lk_rela_fn fn)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(k->e, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL)) continue;
        if (sh.sh_info >= k->nsec || !k->sec[sh.sh_info].placed) continue;
        if (sh.sh_type == SHT_REL) return lk_fail(k, LF_ERR_UNSUPPORTED, "object: REL relocations");
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; d && i < n; i++) {
            GElf_Rela r;
            if (!gelf_getrela(d, (int)i, &r)) return lk_fail(k, LF_ERR_FORMAT, "object: bad relocation");
            if (GELF_R_SYM(r.r_info) >= k->nsyms)
                return lk_fail(k, LF_ERR_FORMAT, "object: relocation symbol out of range");
            LF_CHECK(fn(k, &k->sec[sh.sh_info], &r));
        }
    }
    return LF_OK;
}

static enum lf_status lk_collect(struct lk *k, struct lk_sec *t, const GElf_Rela *r)
{
    (void)t;
    GElf_Sym s;
    size_t si = GELF_R_SYM(r->r_info);
    if (si == 0 || !gelf_getsym(k->symdata, (int)si, &s)) return LF_OK;
    if (s.st_shndx == SHN_UNDEF) return lk_add_import(k, lk_symname(k, &s));
    if (lk_is_got_rel(GELF_R_TYPE(r->r_info))) return lk_add_got(k, si);
    return LF_OK;
}

/* -- Layout --------------------------------------------------------------- */

enum { LK_STUB = 8 }; /* ff 25 <rel32> cc cc */

static struct snap_lseg *lk_seg(struct lk *k, enum snap_seg_kind kind, uint64_t addr, uint64_t size)
{
    struct snap_lseg *g = &k->out->segs[k->out->nsegs++];
    g->kind = kind;
    g->vaddr = addr;
    g->size = lk_align(size, SNAP_PAGE);
    g->bytes = calloc(1, g->size);
    if (g->bytes && kind == SNAP_SEG_CODE) memset(g->bytes, 0xcc, g->size);
    return g;
}

static enum lf_status lk_layout(struct lk *k)
{
    static const enum snap_seg_kind order[] = { SNAP_SEG_CODE, SNAP_SEG_RODATA, SNAP_SEG_DATA };
    struct snap_linked *o = k->out;
    uint64_t at = SNAP_CODE_BASE, stubs = 0;
    for (size_t oi = 0; oi < sizeof order / sizeof order[0]; oi++) {
        uint64_t start = at;
        for (size_t i = 0; i < k->nsec; i++) {
            struct lk_sec *s = &k->sec[i];
            if (!s->placed || s->kind != order[oi]) continue;
            s->addr = at = lk_align(at, s->align);
            at += s->size;
        }
        if (order[oi] == SNAP_SEG_CODE) {
            o->code_bytes = at - start;
            stubs = at = lk_align(at, 16);
            at += o->nimports * LK_STUB;
            if (at == start) return lk_fail(k, LF_ERR_FORMAT, "object: no code");
        }
        if (at > start && !lk_seg(k, order[oi], start, at - start)->bytes)
            return lk_fail(k, LF_ERR_NOMEM, "out of memory");
        at = lk_align(at, SNAP_PAGE);
    }
    uint64_t got = at, nslots = o->nimports + k->ngots;
    for (size_t i = 0; i < o->nimports; i++) {
        o->imports[i].stub = stubs + i * LK_STUB;
        o->imports[i].slot = got + i * 8;
    }
    for (size_t i = 0; i < k->ngots; i++) k->gots[i].slot = got + (o->nimports + i) * 8;
    if (nslots && !lk_seg(k, SNAP_SEG_GOT, got, nslots * 8)->bytes)
        return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    if (got + nslots * 8 > SNAP_CODE_LIMIT)
        return lk_fail(k, LF_ERR_FORMAT, "compiled code too large for the code window");
    return LF_OK;
}

static uint8_t *lk_at(struct lk *k, uint64_t addr, uint64_t n)
{
    for (size_t i = 0; i < k->out->nsegs; i++) {
        struct snap_lseg *g = &k->out->segs[i];
        if (addr >= g->vaddr && addr - g->vaddr <= g->size && n <= g->size - (addr - g->vaddr))
            return g->bytes + (addr - g->vaddr);
    }
    return NULL;
}

/* Copy section bytes, write stubs, resolve symbol values. */
static enum lf_status lk_fill(struct lk *k)
{
    struct snap_linked *o = k->out;
    for (size_t i = 0; i < k->nsec; i++)
        if (k->sec[i].placed && k->sec[i].bytes)
            memcpy(lk_at(k, k->sec[i].addr, k->sec[i].size), k->sec[i].bytes, k->sec[i].size);
    for (size_t i = 0; i < o->nimports; i++) {
        uint8_t *p = lk_at(k, o->imports[i].stub, LK_STUB);
        int32_t rel = (int32_t)(int64_t)(o->imports[i].slot - (o->imports[i].stub + 6));
        p[0] = 0xff, p[1] = 0x25;
        memcpy(p + 2, &rel, 4);
    }
    for (size_t si = 1; si < k->nsyms; si++) {
        GElf_Sym s;
        if (!gelf_getsym(k->symdata, (int)si, &s)) return lk_fail(k, LF_ERR_FORMAT, "object: bad symbol");
        if (s.st_shndx == SHN_UNDEF) {
            for (size_t j = 0; j < o->nimports; j++)
                if (!strcmp(o->imports[j].name, lk_symname(k, &s))) k->symval[si] = o->imports[j].stub;
        } else if (s.st_shndx == SHN_ABS) {
            k->symval[si] = s.st_value;
        } else if (s.st_shndx < k->nsec && k->sec[s.st_shndx].placed) {
            k->symval[si] = k->sec[s.st_shndx].addr + s.st_value;
        } else {
            k->symval[si] = 0; /* dropped or special section: an error if used */
        }
    }
    for (size_t i = 0; i < k->ngots; i++)
        memcpy(lk_at(k, k->gots[i].slot, 8), &k->symval[k->gots[i].sym], 8);
    return LF_OK;
}

/* -- Relocation ----------------------------------------------------------- */

static enum lf_status lk_apply(struct lk *k, struct lk_sec *t, const GElf_Rela *r)
{
    size_t si = GELF_R_SYM(r->r_info);
    unsigned type = GELF_R_TYPE(r->r_info);
    uint64_t P = t->addr + r->r_offset, S = k->symval[si], A = (uint64_t)r->r_addend, v;
    unsigned width = 4;
    if (type == R_X86_64_NONE) return LF_OK;
    if (si && S == 0) return lk_fail(k, LF_ERR_FORMAT, "object: relocation against a dropped section");
    if (r->r_offset > t->size) return lk_fail(k, LF_ERR_FORMAT, "object: relocation outside its section");
    if (lk_is_got_rel(type)) {
        S = 0;
        for (size_t i = 0; i < k->ngots; i++)
            if (k->gots[i].sym == si) S = k->gots[i].slot;
        for (size_t i = 0; !S && i < k->out->nimports; i++)
            if (k->out->imports[i].stub == k->symval[si]) S = k->out->imports[i].slot;
    }
    switch (type) {
    case R_X86_64_64: v = S + A, width = 8; break;
    case R_X86_64_PC64: v = S + A - P, width = 8; break;
    case R_X86_64_PC32: case R_X86_64_PLT32: case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX: case R_X86_64_REX_GOTPCRELX:
        v = S + A - P;
        if ((int64_t)v != (int32_t)v) return lk_fail(k, LF_ERR_FORMAT, "object: PC-relative overflow");
        break;
    case R_X86_64_32: v = S + A;
        if (v > UINT32_MAX) return lk_fail(k, LF_ERR_FORMAT, "object: R_X86_64_32 overflow");
        break;
    case R_X86_64_32S: v = S + A;
        if ((int64_t)v != (int32_t)v) return lk_fail(k, LF_ERR_FORMAT, "object: R_X86_64_32S overflow");
        break;
    default:
        return lk_fail(k, LF_ERR_UNSUPPORTED, "object: relocation type %u not supported", type);
    }
    if (r->r_offset + width > t->size) return lk_fail(k, LF_ERR_FORMAT, "object: relocation outside its section");
    uint8_t *p = lk_at(k, P, width);
    if (!p || !t->bytes) return lk_fail(k, LF_ERR_FORMAT, "object: relocation in an empty section");
    memcpy(p, &v, width); /* little-endian: the low bytes */
    return LF_OK;
}

/* -- Functions ------------------------------------------------------------ */

static int lk_sym_cmp(const void *a, const void *b)
{
    const struct snap_lsym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static enum lf_status lk_add_sym(struct snap_linked *o, const char *name, uint64_t addr, uint64_t size)
{
    struct snap_lsym *n = realloc(o->syms, (o->nsyms + 1) * sizeof *n);
    if (!n) return LF_ERR_NOMEM;
    o->syms = n;
    snprintf(n[o->nsyms].name, sizeof n->name, "%s", name);
    n[o->nsyms].addr = addr;
    n[o->nsyms++].size = size;
    return LF_OK;
}

static enum lf_status lk_functions(struct lk *k, const char *entry_sym)
{
    struct snap_linked *o = k->out;
    int have_entry = 0;
    for (size_t si = 1; si < k->nsyms; si++) {
        GElf_Sym s;
        gelf_getsym(k->symdata, (int)si, &s);
        const char *name = lk_symname(k, &s);
        int defined = s.st_shndx != SHN_UNDEF && k->symval[si];
        if (defined && !strcmp(name, entry_sym)) o->entry = k->symval[si], have_entry = 1;
        if (defined && GELF_ST_TYPE(s.st_info) == STT_FUNC && s.st_shndx < k->nsec &&
            k->sec[s.st_shndx].kind == SNAP_SEG_CODE)
            if (lk_add_sym(o, name, k->symval[si], s.st_size) != LF_OK)
                return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < o->nimports; i++) {
        char n[SNAP_MAX_NAME + 8];
        snprintf(n, sizeof n, "%s@plt", o->imports[i].name);
        if (lk_add_sym(o, n, o->imports[i].stub, LK_STUB) != LF_OK)
            return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    }
    qsort(o->syms, o->nsyms, sizeof *o->syms, lk_sym_cmp);
    if (!have_entry) return lk_fail(k, LF_ERR_FORMAT, "object: entry symbol '%s' not defined", entry_sym);
    return LF_OK;
}

/* -- Entry points ----------------------------------------------------------- */

static enum lf_status lk_run(struct lk *k, const uint8_t *obj, size_t len, const char *entry_sym)
{
    GElf_Ehdr eh;
    elf_version(EV_CURRENT);
    if (!(k->copy = malloc(len ? len : 1))) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    memcpy(k->copy, obj, len);
    k->e = elf_memory((char *)k->copy, len);
    if (!k->e || elf_kind(k->e) != ELF_K_ELF || !gelf_getehdr(k->e, &eh))
        return lk_fail(k, LF_ERR_NOT_ELF, "compiled code is not an ELF object");
    if (gelf_getclass(k->e) != ELFCLASS64 || eh.e_machine != EM_X86_64 || eh.e_type != ET_REL)
        return lk_fail(k, LF_ERR_ELF_CLASS, "compiled code is not an x86-64 relocatable object");
    LF_CHECK(lk_sections(k));
    LF_CHECK(lk_each_rela(k, lk_collect));
    LF_CHECK(lk_layout(k));
    LF_CHECK(lk_fill(k));
    LF_CHECK(lk_each_rela(k, lk_apply));
    return lk_functions(k, entry_sym);
}

enum lf_status snap_link_object(const uint8_t *obj, size_t obj_len, const char *entry_sym,
                                struct snap_linked *out, char *why, size_t whylen)
{
    struct lk k = { .out = out, .why = why, .whylen = whylen };
    if (!out) return LF_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!obj || !entry_sym) return lk_fail(&k, LF_ERR_INVALID_ARG, "no object or entry symbol");
    enum lf_status s = lk_run(&k, obj, obj_len, entry_sym);
    if (k.e) elf_end(k.e);
    free(k.copy);
    free(k.sec);
    free(k.symval);
    free(k.gots);
    if (s != LF_OK) snap_linked_free(out);
    return s;
}

enum lf_status snap_link_native(uint64_t target, const char *name, struct snap_linked *out,
                                char *why, size_t whylen)
{
    struct lk k = { .out = out, .why = why, .whylen = whylen };
    if (!out) return LF_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    struct snap_lseg *g = lk_seg(&k, SNAP_SEG_CODE, SNAP_CODE_BASE, 12);
    if (!g->bytes || lk_add_sym(out, name ? name : "entry", SNAP_CODE_BASE, 12) != LF_OK) {
        snap_linked_free(out);
        return lk_fail(&k, LF_ERR_NOMEM, "out of memory");
    }
    g->bytes[0] = 0x48, g->bytes[1] = 0xb8; /* movabs $target, %rax */
    memcpy(g->bytes + 2, &target, 8);
    g->bytes[10] = 0xff, g->bytes[11] = 0xe0; /* jmp *%rax */
    out->entry = SNAP_CODE_BASE;
    out->code_bytes = 12;
    return LF_OK;
}

void snap_linked_free(struct snap_linked *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->nsegs; i++) free(l->segs[i].bytes);
    free(l->syms);
    free(l->imports);
    memset(l, 0, sizeof *l);
}
