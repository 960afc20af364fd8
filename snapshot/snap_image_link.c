/* snap_image_link.c -- a static linker for relocatable objects: links the
 * objects of one compilation as one, places the code at its fixed run-time
 * address and resolves everything but the imports, which the image loader
 * binds through GOT slots.
 *
 *   objects (ET_REL) ──▶ classify SHF_ALLOC sections (code / rodata / data)
 *                    ──▶ resolve names: each non-local name to its one
 *                        definition in any object (lk_resolve)
 *                    ──▶ collect imports (names no object defines) and GOT users
 *                    ──▶ layout: code + import stubs | rodata | data | GOT,
 *                        each kind on its own pages from SNAP_CODE_BASE,
 *                        within a kind in object order, then section order
 *                    ──▶ copy bytes, apply RELA relocations, list functions
 *
 * Invariants:
 *   (1) Code reaches an import only through its stub `jmp *slot(%rip)`; the
 *       stub's address stands for the symbol in every relocation, so code
 *       pages never need patching at load time.
 *   (2) The whole layout stays inside [SNAP_CODE_BASE, SNAP_CODE_LIMIT), so
 *       every 32-bit PC-relative reference between kinds fits.
 *   (3) Every object's .eh_frame goes to one unwind segment, in object
 *       order, followed by a zero terminator: the image loader registers
 *       it with the unwinder (__register_frame).  A relocation that
 *       targets a dropped section (not allocated) is ignored, one that
 *       refers to a symbol in a dropped section is an error.
 *   (4) A non-local name has at most one strong (GLOBAL) definition across
 *       the objects; it wins over WEAK ones (else the first object's WEAK
 *       one does), and every object's references to the name use it.  LOCAL
 *       symbols never leave their object.  With one object, every symbol is
 *       its own definition: linking it alone is what it always was.
 */
#include "snapshot/snap_image.h"

#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LK_NONE ((size_t)-1)

struct lk_sec {
    int placed;
    enum snap_seg_kind kind;
    uint64_t size, align, addr;
    const uint8_t *bytes;      /* NULL: SHT_NOBITS */
};

struct lk_ref {                /* a symbol: object index, symbol index */
    size_t obj, sym;           /* obj LK_NONE: defined nowhere (an import) */
};

struct lk_obj {                /* one input object */
    Elf *e;
    uint8_t *copy;             /* the object's bytes, which e reads */
    size_t nsec;
    struct lk_sec *sec;
    Elf_Data *symdata;
    size_t symstr, nsyms;
    uint64_t *symval;          /* resolved address per symbol */
    struct lk_ref *def;        /* per symbol: its definition (itself if defined here) */
};

struct lk_name {               /* a defined GLOBAL or WEAK name */
    const char *name;
    struct lk_ref at;
    int weak;
};

struct lk_got {                /* a GOT slot for a defined symbol */
    struct lk_ref sym;
    uint64_t slot;
};

struct lk {
    struct lk_obj *objs;
    size_t nobjs, cur;         /* cur: the object being read, LK_NONE between */
    struct lk_name *names;     /* by name, one (the winner) per name */
    size_t nnames;
    struct lk_got *gots;
    size_t ngots;
    struct snap_linked *out;
    char *why;
    size_t whylen;
};

/* why = [object prefix] message.  Failures about an object's contents
 * (lk_bad) say "object: "; with several objects, every failure while one
 * of them is read says which ("object K: ", K its index in objs). */
static enum lf_status lk_vfail(struct lk *k, enum lf_status s, int about_obj, const char *fmt, va_list ap)
{
    if (!k->why || !k->whylen) return s;
    int n = k->nobjs > 1 && k->cur < k->nobjs ? snprintf(k->why, k->whylen, "object %zu: ", k->cur)
            : about_obj                       ? snprintf(k->why, k->whylen, "object: ")
                                              : 0;
    if (n >= 0 && (size_t)n < k->whylen) vsnprintf(k->why + n, k->whylen - (size_t)n, fmt, ap);
    return s;
}

static enum lf_status lk_fail(struct lk *k, enum lf_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum lf_status lk_bad(struct lk *k, enum lf_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum lf_status lk_fail(struct lk *k, enum lf_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lk_vfail(k, s, 0, fmt, ap);
    va_end(ap);
    return s;
}

static enum lf_status lk_bad(struct lk *k, enum lf_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lk_vfail(k, s, 1, fmt, ap);
    va_end(ap);
    return s;
}

static uint64_t lk_align(uint64_t v, uint64_t a) { return a > 1 ? (v + a - 1) / a * a : v; }

static const char *lk_symname(const struct lk_obj *b, const GElf_Sym *s)
{
    const char *n = elf_strptr(b->e, b->symstr, s->st_name);
    return n ? n : "";
}

static int lk_same(struct lk_ref a, struct lk_ref b) { return a.obj == b.obj && a.sym == b.sym; }

/* -- Sections and symbols ----------------------------------------------- */

static enum lf_status lk_sections(struct lk *k, struct lk_obj *b)
{
    size_t shstrndx;
    if (elf_getshdrnum(b->e, &b->nsec) != 0 || elf_getshdrstrndx(b->e, &shstrndx) != 0)
        return lk_bad(k, LF_ERR_FORMAT, "no section table");
    b->sec = calloc(b->nsec ? b->nsec : 1, sizeof *b->sec);
    if (!b->sec) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(b->e, scn));) {
        GElf_Shdr sh;
        size_t i = elf_ndxscn(scn);
        if (!gelf_getshdr(scn, &sh)) return lk_bad(k, LF_ERR_FORMAT, "bad section %zu", i);
        const char *name = elf_strptr(b->e, shstrndx, sh.sh_name);
        if (sh.sh_type == SHT_SYMTAB) {
            b->symdata = elf_getdata(scn, NULL);
            b->symstr = sh.sh_link;
            b->nsyms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        }
        int unwind = sh.sh_type == SHT_X86_64_UNWIND || (name && !strcmp(name, ".eh_frame"));
        if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_size == 0) continue;
        if (sh.sh_flags & SHF_TLS)
            return lk_bad(k, LF_ERR_UNSUPPORTED, "thread-local section %s", name ? name : "?");
        struct lk_sec *s = &b->sec[i];
        s->placed = 1;
        s->kind = unwind ? SNAP_SEG_UNWIND : (sh.sh_flags & SHF_EXECINSTR) ? SNAP_SEG_CODE
                  : (sh.sh_flags & SHF_WRITE) ? SNAP_SEG_DATA : SNAP_SEG_RODATA;
        s->size = sh.sh_size;
        s->align = sh.sh_addralign ? sh.sh_addralign : 1;
        if (s->align > SNAP_PAGE || (s->align & (s->align - 1)))
            return lk_bad(k, LF_ERR_FORMAT, "section %s alignment %llu",
                          name ? name : "?", (unsigned long long)s->align);
        if (sh.sh_type != SHT_NOBITS) {
            Elf_Data *d = elf_getdata(scn, NULL);
            if (!d || !d->d_buf || d->d_size != sh.sh_size)
                return lk_bad(k, LF_ERR_FORMAT, "unreadable section %s", name ? name : "?");
            s->bytes = d->d_buf;
        }
    }
    if (!b->symdata) return lk_bad(k, LF_ERR_FORMAT, "no symbol table");
    b->symval = calloc(b->nsyms ? b->nsyms : 1, sizeof *b->symval);
    b->def = calloc(b->nsyms ? b->nsyms : 1, sizeof *b->def);
    return b->symval && b->def ? LF_OK : lk_fail(k, LF_ERR_NOMEM, "out of memory");
}

/* Read one object: a private copy of its bytes (libelf may write to them). */
static enum lf_status lk_open(struct lk *k, struct lk_obj *b, const uint8_t *obj, size_t len)
{
    GElf_Ehdr eh;
    if (!(b->copy = malloc(len ? len : 1))) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    memcpy(b->copy, obj, len);
    b->e = elf_memory((char *)b->copy, len);
    if (!b->e || elf_kind(b->e) != ELF_K_ELF || !gelf_getehdr(b->e, &eh))
        return lk_fail(k, LF_ERR_NOT_ELF, "compiled code is not an ELF object");
    if (gelf_getclass(b->e) != ELFCLASS64 || eh.e_machine != EM_X86_64 || eh.e_type != ET_REL)
        return lk_fail(k, LF_ERR_ELF_CLASS, "compiled code is not an x86-64 relocatable object");
    return lk_sections(k, b);
}

/* A symbol that defines its name: in a placed section, or absolute. */
static int lk_is_def(const struct lk_obj *b, const GElf_Sym *s)
{
    return s->st_shndx == SHN_ABS ||
           (s->st_shndx != SHN_UNDEF && s->st_shndx < b->nsec && b->sec[s->st_shndx].placed);
}

/* -- Names across objects (invariant 4) ------------------------------------ */

static int lk_name_cmp(const void *pa, const void *pb) /* by name, strong first, then where */
{
    const struct lk_name *x = pa, *y = pb;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    if (x->weak != y->weak) return x->weak - y->weak;
    if (x->at.obj != y->at.obj) return x->at.obj < y->at.obj ? -1 : 1;
    return (x->at.sym > y->at.sym) - (x->at.sym < y->at.sym);
}

static int lk_name_find(const void *key, const void *elem)
{
    return strcmp(key, ((const struct lk_name *)elem)->name);
}

/* Every object's defined GLOBAL and WEAK names into k->names, sorted. */
static enum lf_status lk_gather_names(struct lk *k)
{
    for (size_t oi = 0; oi < k->nobjs; oi++) {
        struct lk_obj *b = &k->objs[oi];
        for (size_t si = 1; si < b->nsyms; si++) {
            GElf_Sym s;
            if (!gelf_getsym(b->symdata, (int)si, &s)) continue; /* lk_fill_obj refuses it */
            unsigned bind = GELF_ST_BIND(s.st_info);
            const char *name = lk_symname(b, &s);
            if ((bind != STB_GLOBAL && bind != STB_WEAK) || !*name || !lk_is_def(b, &s)) continue;
            struct lk_name *n = realloc(k->names, (k->nnames + 1) * sizeof *n);
            if (!n) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
            k->names = n;
            n[k->nnames++] = (struct lk_name){ name, { oi, si }, bind == STB_WEAK };
        }
    }
    if (k->nnames) qsort(k->names, k->nnames, sizeof *k->names, lk_name_cmp);
    return LF_OK;
}

/* Keep one definition per name (the first: strong before weak, then the
 * lowest object); two strong ones are an error.  Then point every symbol
 * at its definition: itself, the name's winner, or nothing (an import). */
static enum lf_status lk_resolve(struct lk *k)
{
    LF_CHECK(lk_gather_names(k));
    size_t kept = 0;
    for (size_t i = 0; i < k->nnames; i++) {
        struct lk_name *n = &k->names[i];
        if (kept && !strcmp(k->names[kept - 1].name, n->name)) {
            struct lk_name *w = &k->names[kept - 1];
            if (w->weak || n->weak) continue;
            k->cur = n->at.obj;
            if (k->nobjs == 1) return lk_bad(k, LF_ERR_FORMAT, "symbol %s defined twice", n->name);
            return lk_bad(k, LF_ERR_FORMAT, "symbol %s defined twice (first in object %zu)",
                          n->name, w->at.obj);
        }
        k->names[kept++] = *n;
    }
    k->nnames = kept;
    for (size_t oi = 0; oi < k->nobjs; oi++) {
        struct lk_obj *b = &k->objs[oi];
        for (size_t si = 0; si < b->nsyms; si++) {
            GElf_Sym s;
            if (!gelf_getsym(b->symdata, (int)si, &s)) continue; /* lk_fill_obj refuses it */
            b->def[si] = s.st_shndx == SHN_UNDEF ? (struct lk_ref){ LK_NONE, 0 } : (struct lk_ref){ oi, si };
            if (si == 0 || GELF_ST_BIND(s.st_info) == STB_LOCAL || !k->nnames) continue;
            const struct lk_name *w =
                bsearch(lk_symname(b, &s), k->names, k->nnames, sizeof *k->names, lk_name_find);
            if (w) b->def[si] = w->at;
        }
    }
    return LF_OK;
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
        return lk_bad(k, LF_ERR_FORMAT, "bad undefined symbol name");
    if (o->nimports >= SNAP_MAX_IMPORTS) return lk_bad(k, LF_ERR_FORMAT, "too many imports");
    struct snap_limport *n = realloc(o->imports, (o->nimports + 1) * sizeof *n);
    if (!n) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    o->imports = n;
    memset(&n[o->nimports], 0, sizeof *n);
    snprintf(n[o->nimports++].name, sizeof n->name, "%s", name);
    return LF_OK;
}

static enum lf_status lk_add_got(struct lk *k, struct lk_ref sym)
{
    for (size_t i = 0; i < k->ngots; i++)
        if (lk_same(k->gots[i].sym, sym)) return LF_OK;
    struct lk_got *n = realloc(k->gots, (k->ngots + 1) * sizeof *n);
    if (!n) return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    k->gots = n;
    n[k->ngots++] = (struct lk_got){ sym, 0 };
    return LF_OK;
}

/* Calls fn for every RELA entry that patches a placed section, object by
 * object (k->cur names the object). */
typedef enum lf_status (*lk_rela_fn)(struct lk *k, struct lk_obj *b, struct lk_sec *target,
                                     const GElf_Rela *r);

static enum lf_status lk_each_rela_of(struct lk *k, struct lk_obj *b, lk_rela_fn fn)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(b->e, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL)) continue;
        if (sh.sh_info >= b->nsec || !b->sec[sh.sh_info].placed) continue;
        if (sh.sh_type == SHT_REL) return lk_bad(k, LF_ERR_UNSUPPORTED, "REL relocations");
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; d && i < n; i++) {
            GElf_Rela r;
            if (!gelf_getrela(d, (int)i, &r)) return lk_bad(k, LF_ERR_FORMAT, "bad relocation");
            if (GELF_R_SYM(r.r_info) >= b->nsyms)
                return lk_bad(k, LF_ERR_FORMAT, "relocation symbol out of range");
            LF_CHECK(fn(k, b, &b->sec[sh.sh_info], &r));
        }
    }
    return LF_OK;
}

static enum lf_status lk_each_rela(struct lk *k, lk_rela_fn fn)
{
    for (k->cur = 0; k->cur < k->nobjs; k->cur++) LF_CHECK(lk_each_rela_of(k, &k->objs[k->cur], fn));
    k->cur = LK_NONE;
    return LF_OK;
}

static enum lf_status lk_collect(struct lk *k, struct lk_obj *b, struct lk_sec *t, const GElf_Rela *r)
{
    (void)t;
    GElf_Sym s;
    size_t si = GELF_R_SYM(r->r_info);
    if (si == 0 || !gelf_getsym(b->symdata, (int)si, &s)) return LF_OK;
    if (b->def[si].obj == LK_NONE) return lk_add_import(k, lk_symname(b, &s));
    if (lk_is_got_rel(GELF_R_TYPE(r->r_info))) return lk_add_got(k, b->def[si]);
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

/* Every object's sections of one kind from at, object order then section order. */
static uint64_t lk_place(struct lk *k, enum snap_seg_kind kind, uint64_t at)
{
    for (size_t oi = 0; oi < k->nobjs; oi++) {
        struct lk_obj *b = &k->objs[oi];
        for (size_t i = 0; i < b->nsec; i++) {
            struct lk_sec *s = &b->sec[i];
            if (!s->placed || s->kind != kind) continue;
            s->addr = at = lk_align(at, s->align);
            at += s->size;
        }
    }
    return at;
}

static enum lf_status lk_layout(struct lk *k)
{
    static const enum snap_seg_kind order[] = { SNAP_SEG_CODE, SNAP_SEG_RODATA, SNAP_SEG_UNWIND, SNAP_SEG_DATA };
    struct snap_linked *o = k->out;
    uint64_t at = SNAP_CODE_BASE + SNAP_CODE_SKIP, stubs = 0;
    for (size_t oi = 0; oi < sizeof order / sizeof order[0]; oi++) {
        uint64_t start = oi == 0 ? SNAP_CODE_BASE : at;
        at = lk_place(k, order[oi], at);
        if (order[oi] == SNAP_SEG_CODE) {
            o->code_bytes = at - start - SNAP_CODE_SKIP;
            stubs = at = lk_align(at, 16);
            at += o->nimports * LK_STUB;
            if (at == start) return lk_bad(k, LF_ERR_FORMAT, "no code");
        }
        if (order[oi] == SNAP_SEG_UNWIND && at > start) at += 4;   /* the zero terminator (calloc'd) */
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

/* The address of each symbol that defines itself (0: dropped or special
 * section, an error if used); sections' bytes copied. */
static enum lf_status lk_fill_obj(struct lk *k, struct lk_obj *b)
{
    for (size_t i = 0; i < b->nsec; i++)
        if (b->sec[i].placed && b->sec[i].bytes)
            memcpy(lk_at(k, b->sec[i].addr, b->sec[i].size), b->sec[i].bytes, b->sec[i].size);
    for (size_t si = 1; si < b->nsyms; si++) {
        GElf_Sym s;
        if (!gelf_getsym(b->symdata, (int)si, &s)) return lk_bad(k, LF_ERR_FORMAT, "bad symbol");
        if (lk_is_def(b, &s))
            b->symval[si] = s.st_shndx == SHN_ABS ? s.st_value : b->sec[s.st_shndx].addr + s.st_value;
    }
    return LF_OK;
}

/* The address of each reference: its definition's, or its import's stub. */
static void lk_bind_obj(struct lk *k, struct lk_obj *b)
{
    struct snap_linked *o = k->out;
    for (size_t si = 1; si < b->nsyms; si++) {
        struct lk_ref d = b->def[si];
        GElf_Sym s;
        if (d.obj != LK_NONE) {
            b->symval[si] = k->objs[d.obj].symval[d.sym];
        } else if (gelf_getsym(b->symdata, (int)si, &s)) {
            for (size_t j = 0; j < o->nimports; j++)
                if (!strcmp(o->imports[j].name, lk_symname(b, &s))) b->symval[si] = o->imports[j].stub;
        }
    }
}

/* Copy section bytes, write stubs, resolve symbol values, fill GOT slots. */
static enum lf_status lk_fill(struct lk *k)
{
    struct snap_linked *o = k->out;
    for (size_t i = 0; i < o->nimports; i++) {
        uint8_t *p = lk_at(k, o->imports[i].stub, LK_STUB);
        int32_t rel = (int32_t)(int64_t)(o->imports[i].slot - (o->imports[i].stub + 6));
        p[0] = 0xff, p[1] = 0x25;
        memcpy(p + 2, &rel, 4);
    }
    for (k->cur = 0; k->cur < k->nobjs; k->cur++) LF_CHECK(lk_fill_obj(k, &k->objs[k->cur]));
    k->cur = LK_NONE;
    for (size_t oi = 0; oi < k->nobjs; oi++) lk_bind_obj(k, &k->objs[oi]);
    for (size_t i = 0; i < k->ngots; i++)
        memcpy(lk_at(k, k->gots[i].slot, 8), &k->objs[k->gots[i].sym.obj].symval[k->gots[i].sym.sym], 8);
    return LF_OK;
}

/* -- Relocation ----------------------------------------------------------- */

static enum lf_status lk_apply(struct lk *k, struct lk_obj *b, struct lk_sec *t, const GElf_Rela *r)
{
    size_t si = GELF_R_SYM(r->r_info);
    unsigned type = GELF_R_TYPE(r->r_info);
    uint64_t P = t->addr + r->r_offset, S = b->symval[si], A = (uint64_t)r->r_addend, v;
    unsigned width = 4;
    if (type == R_X86_64_NONE) return LF_OK;
    if (si && S == 0) return lk_bad(k, LF_ERR_FORMAT, "relocation against a dropped section");
    if (r->r_offset > t->size) return lk_bad(k, LF_ERR_FORMAT, "relocation outside its section");
    if (lk_is_got_rel(type)) {
        S = 0;
        for (size_t i = 0; i < k->ngots; i++)
            if (lk_same(k->gots[i].sym, b->def[si])) S = k->gots[i].slot;
        for (size_t i = 0; !S && i < k->out->nimports; i++)
            if (k->out->imports[i].stub == b->symval[si]) S = k->out->imports[i].slot;
    }
    switch (type) {
    case R_X86_64_64: v = S + A, width = 8; break;
    case R_X86_64_PC64: v = S + A - P, width = 8; break;
    case R_X86_64_PC32: case R_X86_64_PLT32: case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX: case R_X86_64_REX_GOTPCRELX:
        v = S + A - P;
        if ((int64_t)v != (int32_t)v) return lk_bad(k, LF_ERR_FORMAT, "PC-relative overflow");
        break;
    case R_X86_64_32: v = S + A;
        if (v > UINT32_MAX) return lk_bad(k, LF_ERR_FORMAT, "R_X86_64_32 overflow");
        break;
    case R_X86_64_32S: v = S + A;
        if ((int64_t)v != (int32_t)v) return lk_bad(k, LF_ERR_FORMAT, "R_X86_64_32S overflow");
        break;
    default:
        return lk_bad(k, LF_ERR_UNSUPPORTED, "relocation type %u not supported", type);
    }
    if (r->r_offset + width > t->size) return lk_bad(k, LF_ERR_FORMAT, "relocation outside its section");
    uint8_t *p = lk_at(k, P, width);
    if (!p || !t->bytes) return lk_bad(k, LF_ERR_FORMAT, "relocation in an empty section");
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

/* One object's functions (each name's definition only) and the entry. */
static enum lf_status lk_functions_of(struct lk *k, size_t oi, const char *entry_sym, int *have_entry)
{
    struct lk_obj *b = &k->objs[oi];
    struct snap_linked *o = k->out;
    for (size_t si = 1; si < b->nsyms; si++) {
        GElf_Sym s;
        gelf_getsym(b->symdata, (int)si, &s);
        const char *name = lk_symname(b, &s);
        int defined = s.st_shndx != SHN_UNDEF && b->symval[si] && lk_same(b->def[si], (struct lk_ref){ oi, si });
        if (defined && !strcmp(name, entry_sym)) o->entry = b->symval[si], *have_entry = 1;
        if (defined && GELF_ST_TYPE(s.st_info) == STT_FUNC && s.st_shndx < b->nsec &&
            b->sec[s.st_shndx].kind == SNAP_SEG_CODE)
            if (lk_add_sym(o, name, b->symval[si], s.st_size) != LF_OK)
                return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    }
    return LF_OK;
}

static enum lf_status lk_functions(struct lk *k, const char *entry_sym)
{
    struct snap_linked *o = k->out;
    int have_entry = 0;
    for (size_t oi = 0; oi < k->nobjs; oi++) LF_CHECK(lk_functions_of(k, oi, entry_sym, &have_entry));
    for (size_t i = 0; i < o->nimports; i++) {
        char n[SNAP_MAX_NAME + 8];
        snprintf(n, sizeof n, "%s@plt", o->imports[i].name);
        if (lk_add_sym(o, n, o->imports[i].stub, LK_STUB) != LF_OK)
            return lk_fail(k, LF_ERR_NOMEM, "out of memory");
    }
    qsort(o->syms, o->nsyms, sizeof *o->syms, lk_sym_cmp);
    if (!have_entry) return lk_bad(k, LF_ERR_FORMAT, "entry symbol '%s' not defined", entry_sym);
    return LF_OK;
}

/* -- Entry points ----------------------------------------------------------- */

static enum lf_status lk_run(struct lk *k, const uint8_t *const *objs, const size_t *lens,
                             const char *entry_sym)
{
    elf_version(EV_CURRENT);
    for (k->cur = 0; k->cur < k->nobjs; k->cur++)
        LF_CHECK(lk_open(k, &k->objs[k->cur], objs[k->cur], lens[k->cur]));
    k->cur = LK_NONE;
    LF_CHECK(lk_resolve(k));
    LF_CHECK(lk_each_rela(k, lk_collect));
    LF_CHECK(lk_layout(k));
    LF_CHECK(lk_fill(k));
    LF_CHECK(lk_each_rela(k, lk_apply));
    return lk_functions(k, entry_sym);
}

static void lk_free(struct lk *k)
{
    for (size_t i = 0; k->objs && i < k->nobjs; i++) {
        struct lk_obj *b = &k->objs[i];
        if (b->e) elf_end(b->e);
        free(b->copy);
        free(b->sec);
        free(b->symval);
        free(b->def);
    }
    free(k->objs);
    free(k->names);
    free(k->gots);
}

enum lf_status snap_link_objects(const uint8_t *const *objs, const size_t *lens, size_t nobjs,
                                 const char *entry_sym, struct snap_linked *out, char *why, size_t whylen)
{
    struct lk k = { .cur = LK_NONE, .out = out, .why = why, .whylen = whylen };
    if (!out) return LF_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    int given = objs && lens && nobjs && entry_sym;
    for (size_t i = 0; given && i < nobjs; i++) given = objs[i] != NULL;
    if (!given) return lk_fail(&k, LF_ERR_INVALID_ARG, "no object or entry symbol");
    if (!(k.objs = calloc(nobjs, sizeof *k.objs))) return lk_fail(&k, LF_ERR_NOMEM, "out of memory");
    k.nobjs = nobjs;
    enum lf_status s = lk_run(&k, objs, lens, entry_sym);
    lk_free(&k);
    if (s != LF_OK) snap_linked_free(out);
    return s;
}

enum lf_status snap_link_object(const uint8_t *obj, size_t obj_len, const char *entry_sym,
                                struct snap_linked *out, char *why, size_t whylen)
{
    return snap_link_objects(&obj, &obj_len, 1, entry_sym, out, why, whylen);
}

enum lf_status snap_link_native(uint64_t target, const char *name, struct snap_linked *out,
                                char *why, size_t whylen)
{
    struct lk k = { .cur = LK_NONE, .out = out, .why = why, .whylen = whylen };
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
