/* rt_check.c -- LINEIFORM_CHECK=1: at the snapshot point, find words in the
 * arenas that point into memory an image does not restore.
 *
 * An image brings back the two arenas, and the interpreter and its shared
 * libraries load at the same addresses (randomization is off in both runs).
 * Everything else -- the malloc heap, the garbage collector's heap, thread
 * stacks, anonymous mappings -- is rebuilt from scratch in the image run, so
 * a pointer from an arena into it dangles there.  This pass reads
 * /proc/self/maps, classifies each mapping, and scans every 8-byte word of
 * both arenas (low 3 bits masked, for tagged pointers) against it.
 *
 * It is a heuristic: an integer or float that happens to look like such an
 * address is reported too.  It only prints; the dump is written either way.
 */
#define _GNU_SOURCE
#include "snapshot/runtime/rt_internal.h"

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_CHECK_MAX_MAPS 4096
#define RT_CHECK_EXAMPLES 3

struct rt_map {
    uint64_t lo, hi;
    char name[32]; /* "[heap]", "[stack]", "anonymous" */
};

struct rt_check {
    struct rt_map maps[RT_CHECK_MAX_MAPS]; /* unrestored mappings, address order */
    size_t nmaps;
    uint64_t loaded_lo[256], loaded_hi[256]; /* PT_LOAD ranges of loaded objects */
    size_t nloaded;
};

static int rt_check_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct rt_check *c = arg;
    for (int i = 0; i < info->dlpi_phnum && c->nloaded < 256; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        c->loaded_lo[c->nloaded] = info->dlpi_addr + ph->p_vaddr;
        c->loaded_hi[c->nloaded++] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    }
    return 0;
}

/* Part of a loaded object (its .bss is an anonymous mapping in maps). */
static int rt_check_loaded(const struct rt_check *c, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < c->nloaded; i++)
        if (lo < c->loaded_hi[i] && c->loaded_lo[i] < hi) return 1;
    return 0;
}

static int rt_check_in_arena(uint64_t lo)
{
    for (int k = 0; k < RT_ARENA__MAX; k++) {
        uint64_t b = rt_arena_base(k);
        if (b && lo >= b && lo < b + RT_ARENA_RESERVE) return 1;
    }
    return 0;
}

static void rt_check_read_maps(struct rt_check *c)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f) && c->nmaps < RT_CHECK_MAX_MAPS) {
        unsigned long long lo, hi;
        char path[256] = "";
        if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %255s", &lo, &hi, path) < 2) continue;
        if (path[0] == '/' || strcmp(path, "[vdso]") == 0 || strcmp(path, "[vvar]") == 0 ||
            strcmp(path, "[vsyscall]") == 0 || rt_check_in_arena(lo) || rt_check_loaded(c, lo, hi))
            continue; /* restored, or the same in every run */
        struct rt_map *m = &c->maps[c->nmaps++];
        m->lo = lo;
        m->hi = hi;
        snprintf(m->name, sizeof m->name, "%s", path[0] ? path : "anonymous");
    }
    if (f) fclose(f);
}

static const struct rt_map *rt_check_find(const struct rt_check *c, uint64_t p)
{
    size_t lo = 0, hi = c->nmaps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p < c->maps[mid].lo) hi = mid;
        else if (p >= c->maps[mid].hi) lo = mid + 1;
        else return &c->maps[mid];
    }
    return NULL;
}

static size_t rt_check_arena(const struct rt_check *c, enum rt_arena_kind k, size_t shown)
{
    static const char *const names[RT_ARENA__MAX] = { "frozen", "persistent" };
    const uint64_t *w = (const uint64_t *)rt_arena_base(k);
    size_t n = rt_arena_used(k) / 8, hits = 0;
    for (size_t i = 0; w && i < n; i++) {
        const struct rt_map *m = rt_check_find(c, w[i] & ~7ULL);
        if (!m) continue;
        if (shown + hits < RT_CHECK_EXAMPLES)
            fprintf(stderr, "lineiform: check:   %p (%s arena) holds 0x%llx, in %s 0x%llx-0x%llx\n",
                    (void *)(w + i), names[k], (unsigned long long)w[i], m->name,
                    (unsigned long long)m->lo, (unsigned long long)m->hi);
        hits++;
    }
    return hits;
}

size_t rt_check_pointers(void)
{
    struct rt_check *c = calloc(1, sizeof *c);
    if (!c) return 0;
    dl_iterate_phdr(rt_check_phdr, c);
    rt_check_read_maps(c);
    size_t hits = rt_check_arena(c, RT_ARENA_FROZEN, 0);
    hits += rt_check_arena(c, RT_ARENA_PERSISTENT, hits);
    if (hits)
        fprintf(stderr, "lineiform: check: %zu word%s in the arenas point%s into memory an image "
                "does not restore (heap, stack, anonymous mappings)\n", hits, hits == 1 ? "" : "s",
                hits == 1 ? "s" : "");
    else
        fprintf(stderr, "lineiform: check: no word in the arenas points into memory an image "
                "does not restore\n");
    free(c);
    return hits;
}
