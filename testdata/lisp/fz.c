/* fz.c -- the staging area: frozen objects that may point at each other.
 *
 * lf_freeze copies an object, so a group of frozen objects that refer to
 * each other in a cycle (a recursive procedure: its body's call node points
 * at the procedure, which points at its body) cannot be frozen one by one.
 * The compiler builds all of them here instead, then fz_commit freezes the
 * whole area with one lf_freeze call after relocating every word that points
 * into it to the address the copy will have.
 *
 *   fz_alloc ──▶ staged (writable, private) ──fz_commit──▶ frozen (lf_freeze)
 *
 * Invariants:
 *  (1) Staged objects hold only pointers, small integers, tagged immediates,
 *      fixnums (odd, so never mistaken for a pointer) and code pointers;
 *      raw bytes (string data, doubles) are frozen directly by their makers,
 *      so every word in [base, base+used) masked to 8 bytes is a pointer.
 *  (2) fz_commit freezes with lf_freeze_with, which tells the fill where
 *      the copy will live before it is published, so pointers are relocated
 *      to the final address exactly once.
 */
#include "lisp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lineiform.h"

#define FZ_RESERVE ((size_t)1 << 32)

static char *base;
static size_t used;
static intptr_t delta;

void *fz_alloc(size_t n)
{
    if (!base) {
        base = mmap(NULL, FZ_RESERVE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) lv_die(lv_nopos, "cannot reserve the staging area");
    }
    n = (n + 15) & ~(size_t)15;
    if (n > FZ_RESERVE - used) lv_die(lv_nopos, "program too large");
    void *p = base + used;
    used += n;
    return p;
}

int fz_staged(const void *p)
{
    return base && (const char *)p >= base && (const char *)p < base + used;
}

/* lf_freeze_with's fill: copy the staged area to dst, relocating every word
 * that points into it to the frozen address at. */
static void fz_fill(void *dst, uintptr_t at, void *ctx)
{
    (void)ctx;
    memcpy(dst, base, used);
    uint64_t *w = (uint64_t *)dst;
    for (size_t i = 0; i < used / 8; i++) {
        uintptr_t a = w[i] & ~(uintptr_t)7;
        if (a >= (uintptr_t)base && a < (uintptr_t)base + used)
            w[i] = w[i] - (uintptr_t)base + at;
    }
}

void *fz_commit(void *p)
{
    if (!used) return p;
    char *got = lf_freeze_with(used, fz_fill, NULL);
    /* the runtime sets errno (EFBIG under ulimit -f, ENOMEM when the
     * arena's reservation is full): say that, not a guess */
    if (!got) lv_die(lv_nopos, "cannot freeze %zu bytes: %s", used, strerror(errno));
    delta = (intptr_t)((uintptr_t)got - (uintptr_t)base);
    return (char *)p + delta;
}
