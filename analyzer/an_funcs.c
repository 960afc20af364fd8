/* an_funcs.c -- the function list: symbols and PLT stubs from an_elf.c,
 * completed with .eh_frame FDEs, sorted, de-aliased, sized, tied to their
 * compiler-split parts, indexed by name; and the lookups of analyzer.h.
 *
 * Invariants (after an_funcs_finish):
 *   1. b->funcs is sorted by address with one entry per address: among
 *      aliases, .symtab before .dynsym, global before weak before local,
 *      fewer leading underscores, then the name that sorts first
 *      (deterministic).  Every alias name still finds it (an_func_by_name).
 *   2. An FDE whose start lies in no symbol's range becomes "fn_<hex>".
 *   3. A zero-size symbol takes the size of the FDE starting at it, else
 *      extends to the next function (within its executable segment); an
 *      FDE-only function ends where the next function starts.
 *   4. "foo.cold" / "foo.cold.N" (and ".part"-less gcc split names) get
 *      parent_addr = foo's address when foo exists. */
#include "analyzer/an_internal.h"

#include <stdlib.h>
#include <string.h>

struct an_fde { uint64_t lo, size, lsda; int mid; };

static void an_fde_collect(void *ctx, uint64_t lo, uint64_t size, int mid, uint64_t lsda)
{
    struct an_fde *f = an_vec_push(ctx);
    if (f) { f->lo = lo; f->size = size; f->lsda = lsda; f->mid = mid; }
}

/* Each FDE's landing pads go to the function it starts, and a split-off
 * part's (foo.cold) to its parent too: lifting either would skip them
 * (the unwinder, not a branch, enters a landing pad).  An LSDA that
 * cannot be read counts as one pad. */
static void an_tie_pads(struct an_bin *b, const struct an_vec *fdes)
{
    const struct an_fde *fd = fdes->data;
    for (size_t i = 0; i < fdes->n; i++) {
        if (!fd[i].lsda) continue;
        struct an_func *f = (struct an_func *)an_func_at(&b->pub, fd[i].lo);
        if (!f || f->addr != fd[i].lo) continue;
        uint64_t pad = 0;
        int n = an_lsda_pads(b, fd[i].lo, fd[i].lsda, &pad);
        if (n == 0) continue;
        if (n < 0) n = 1, pad = 0;
        f->n_landing_pads += (unsigned)n;
        if (!f->landing_pad) f->landing_pad = pad;
        struct an_func *p = f->parent_addr ? (struct an_func *)an_func_at(&b->pub, f->parent_addr) : NULL;
        if (p && p->addr == f->parent_addr) {
            p->n_landing_pads += (unsigned)n;
            if (!p->landing_pad) p->landing_pad = pad;
        }
    }
}

static int an_fde_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct an_fde *)a)->lo, y = ((const struct an_fde *)b)->lo;
    return x < y ? -1 : x > y;
}

static int an_func_cmp(const void *pa, const void *pb)
{
    const struct an_func *a = pa, *b = pb;
    if (a->addr != b->addr) return a->addr < b->addr ? -1 : 1;
    if (a->source != b->source) return a->source < b->source ? -1 : 1;
    if (a->n_loops != b->n_loops) return a->n_loops < b->n_loops ? -1 : 1; /* alias rank */
    if ((a->size == 0) != (b->size == 0)) return a->size == 0 ? 1 : -1;
    size_t ua = strspn(a->name, "_"), ub = strspn(b->name, "_");
    if (ua != ub) return ua < ub ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void an_sort_dedup(struct an_bin *b)
{
    struct an_func *f = b->funcs.data;
    if (b->funcs.n) qsort(f, b->funcs.n, sizeof *f, an_func_cmp);
    size_t k = 0;
    for (size_t i = 0; i < b->funcs.n; i++) {
        if (k && f[k - 1].addr == f[i].addr) {
            if (!f[k - 1].size) f[k - 1].size = f[i].size;
            struct an_alias *al = an_vec_push(&b->aliases);
            if (al) { al->name = f[i].name; al->addr = f[i].addr; }
            continue;
        }
        f[k++] = f[i];
    }
    b->funcs.n = k;
}

/* Index of the last function with addr <= a, or -1. */
static long an_func_floor(const struct an_func *f, size_t n, uint64_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f[mid].addr <= a) lo = mid + 1;
        else hi = mid;
    }
    return (long)lo - 1;
}

static enum lf_status an_add_fde_funcs(struct an_bin *b, struct an_vec *fdes)
{
    struct an_fde *e = fdes->data;
    size_t nsym = b->funcs.n;
    for (size_t i = 0; i < fdes->n; i++) {
        struct an_func *f = b->funcs.data;
        long j = an_func_floor(f, nsym, e[i].lo);
        if (j >= 0 && f[j].addr == e[i].lo) {
            if (!f[j].size) f[j].size = e[i].size;
            f[j].split = e[i].mid;
            continue;
        }
        if (j >= 0 && e[i].lo < f[j].addr + f[j].size) continue;
        if (i && e[i - 1].lo == e[i].lo) continue;
        char name[32];
        snprintf(name, sizeof name, "fn_%lx", (unsigned long)e[i].lo);
        struct an_func *nf = an_vec_push(&b->funcs);
        if (!nf || !(nf->name = an_strdup(&b->arena, name))) return LF_ERR_NOMEM;
        nf->addr = e[i].lo;
        nf->size = e[i].size;
        nf->source = AN_SRC_EH_FRAME;
        nf->split = e[i].mid;
        nf->liftable = -1;
    }
    return LF_OK;
}

static void an_fill_sizes(struct an_bin *b)
{
    struct an_func *f = b->funcs.data;
    for (size_t i = 0; i < b->funcs.n; i++) {
        f[i].n_loops = 0; /* alias rank no longer needed */
        /* an FDE can cover several functions (one FDE for all of .plt) */
        if (f[i].source == AN_SRC_EH_FRAME && i + 1 < b->funcs.n && f[i].addr + f[i].size > f[i + 1].addr)
            f[i].size = f[i + 1].addr - f[i].addr;
        if (f[i].size) continue;
        const struct an_segment *seg = an_segment_at(&b->pub, f[i].addr);
        if (!seg || !(seg->flags & 1 /* PF_X */)) continue;
        uint64_t end = seg->vaddr + seg->filesz;
        if (i + 1 < b->funcs.n && f[i + 1].addr < end) end = f[i + 1].addr;
        if (end > f[i].addr) f[i].size = end - f[i].addr;
    }
}

static void an_tie_cold(struct an_bin *b)
{
    struct an_func *f = b->funcs.data;
    for (size_t i = 0; i < b->funcs.n; i++) {
        const char *dot = strstr(f[i].name, ".cold");
        if (!dot || f[i].is_plt) continue;
        char parent[512];
        size_t n = (size_t)(dot - f[i].name);
        if (n == 0 || n >= sizeof parent) continue;
        memcpy(parent, f[i].name, n);
        parent[n] = 0;
        const struct an_func *p = an_strmap_get(&b->by_name, parent);
        if (p && p != &f[i]) f[i].parent_addr = p->addr;
    }
}

enum lf_status an_funcs_finish(struct an_bin *b)
{
    struct an_vec fdes = AN_VEC(struct an_fde);
    enum lf_status s = an_ehframe_walk(b, an_fde_collect, &fdes);
    if (s == LF_OK && fdes.n) qsort(fdes.data, fdes.n, sizeof(struct an_fde), an_fde_cmp);
    an_sort_dedup(b);
    if (s == LF_OK) s = an_add_fde_funcs(b, &fdes);
    if (s == LF_OK) s = an_discover(b);
    if (s != LF_OK) { an_vec_free(&fdes); return s; }
    an_sort_dedup(b);
    an_fill_sizes(b);
    struct an_func *f = b->funcs.data;
    for (size_t i = 0; i < b->funcs.n; i++)
        if (!an_strmap_get(&b->by_name, f[i].name) && an_strmap_put(&b->by_name, f[i].name, &f[i]) < 0)
            return LF_ERR_NOMEM;
    b->pub.funcs = f;
    b->pub.n_funcs = (unsigned)b->funcs.n;
    const struct an_alias *al = b->aliases.data;
    for (size_t i = 0; i < b->aliases.n; i++) {
        const struct an_func *t = an_func_at(&b->pub, al[i].addr);
        if (t && !an_strmap_get(&b->by_name, al[i].name) &&
            an_strmap_put(&b->by_name, al[i].name, (void *)t) < 0)
            return LF_ERR_NOMEM;
    }
    an_vec_free(&b->aliases);
    an_tie_cold(b);
    an_tie_pads(b, &fdes);
    an_vec_free(&fdes);
    return LF_OK;
}

/* -- Lookups ----------------------------------------------------------------- */

const struct an_func *an_func_at(const struct an_binary *pb, uint64_t vaddr)
{
    if (!pb) return NULL;
    long j = an_func_floor(pb->funcs, pb->n_funcs, vaddr);
    if (j < 0) return NULL;
    const struct an_func *f = &pb->funcs[j];
    return vaddr < f->addr + f->size || vaddr == f->addr ? f : NULL;
}

const struct an_func *an_func_by_name(const struct an_binary *pb, const char *name)
{
    if (!pb || !name) return NULL;
    const struct an_bin *b = (const struct an_bin *)pb;
    return an_strmap_get(&b->by_name, name);
}

const struct an_segment *an_segment_at(const struct an_binary *b, uint64_t vaddr)
{
    for (unsigned i = 0; b && i < b->n_segments; i++)
        if (vaddr >= b->segments[i].vaddr && vaddr - b->segments[i].vaddr < b->segments[i].memsz)
            return &b->segments[i];
    return NULL;
}

const uint8_t *an_bytes_at(const struct an_binary *pb, uint64_t vaddr, size_t *len)
{
    const struct an_segment *s = an_segment_at(pb, vaddr);
    if (!s || vaddr - s->vaddr >= s->filesz) { if (len) *len = 0; return NULL; }
    const struct an_bin *b = (const struct an_bin *)pb;
    if (len) *len = (size_t)(s->filesz - (vaddr - s->vaddr));
    return b->map + s->offset + (vaddr - s->vaddr);
}

int an_read_u64(const struct an_binary *pb, uint64_t vaddr, uint64_t *out)
{
    const struct an_bin *b = (const struct an_bin *)pb;
    const struct an_reloc *r = b ? b->relocs.data : NULL;
    size_t lo = 0, hi = b ? b->relocs.n : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r[mid].offset < vaddr) lo = mid + 1;
        else hi = mid;
    }
    if (b && lo < b->relocs.n && r[lo].offset == vaddr) { *out = r[lo].value; return 1; }
    const struct an_segment *s = an_segment_at(pb, vaddr);
    if (!s || vaddr + 8 > s->vaddr + s->memsz || vaddr + 8 < vaddr) return 0;
    size_t len;
    const uint8_t *p = an_bytes_at(pb, vaddr, &len);
    *out = 0;
    if (p) memcpy(out, p, len < 8 ? len : 8); /* the rest of a partly file-backed word is .bss: zero */
    return 1;
}
