/* stage.c -- the staging area: nodes that may point at each other.
 *
 * lf_freeze copies an object, so nodes that refer to each other in a cycle
 * (a recursive function: its body's call node points at its proto, which
 * points at the body) cannot be frozen one by one, and the compiler patches
 * nodes after building them.  So every node is built here, writable and
 * private, and stage_commit freezes the whole area with one
 * lf_freeze_with after relocating every word that points into it.
 *
 *   snew ──▶ staged (writable) ──stage_commit──▶ frozen
 *
 * Invariant: a staged word whose value lies inside the area is a pointer
 * into it.  Values cannot be mistaken for one: doubles are stored offset by
 * 2^49 and integers tagged above 2^63, both outside any user address, and
 * the other fields are small integers.
 */
#include "comp.h"

#include <sys/mman.h>

#include "lineiform.h"

#define STAGE_RESERVE ((size_t)1 << 32)

static char *base;
static size_t used;

void *snew(size_t n)
{
    if (!base) {
        base = mmap(NULL, STAGE_RESERVE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) lerror(0, "cannot reserve the staging area");
    }
    n = (n + 15) & ~(size_t)15;
    if (n > STAGE_RESERVE - used) lerror(0, "program too large");
    void *p = base + used;
    used += n;
    return p;
}

static void fill(void *dst, uintptr_t at, void *ctx)
{
    (void)ctx;
    memcpy(dst, base, used);
    uint64_t *w = dst;
    for (size_t i = 0; i < used / 8; i++)
        if (w[i] >= (uintptr_t)base && w[i] < (uintptr_t)base + used) w[i] = w[i] - (uintptr_t)base + at;
}

void *stage_commit(void *p)
{
    char *got = lf_freeze_with(used, fill, NULL);
    if (!got) lerror(0, "frozen arena exhausted");
    return got + ((char *)p - base);
}
