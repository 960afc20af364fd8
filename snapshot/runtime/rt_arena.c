/* rt_arena.c -- the two arenas at fixed addresses: frozen (lf_freeze) and
 * persistent (lf_alloc), their growth, sealing and GC root registration.
 *
 * Inputs: objects to freeze, sizes to allocate.  Outputs: pointers into the
 * arenas.  Owns: both address reservations, the frozen arena's memfd and its
 * writable alias, the frozen-object index (rt_fault.c reads it).
 *
 * Memory of either arena goes through these states, per page:
 *
 *                 rt_arena_reserve                rt_arena_grow
 *   (unmapped) ───────────────────▶ RESERVED ────────────────────▶ COMMITTED
 *                                   PROT_NONE     (lf_freeze,        │
 *                                                  lf_alloc,         │
 *                                                  rt_arena_map_*)   │
 *                                                                    │ rt_arena_seal
 *                                                                    ▼ (lf_snapshot)
 *                                                                 FROZEN (sealed)
 *
 *   COMMITTED, frozen arena: the fixed-address view is a PROT_READ shared
 *     mapping of a memfd opened read-only (so mprotect cannot make it
 *     writable); lf_freeze writes only through a second, writable mapping of
 *     the same memfd (the alias) at a kernel-chosen address that is never
 *     handed out.
 *   COMMITTED, persistent arena: anonymous PROT_READ|PROT_WRITE, zero-filled.
 *   FROZEN (frozen arena only): the alias is unmapped, the read-write
 *     descriptor closed and the memfd sealed against writes, growth and
 *     shrinking, so not even mprotect, pwrite or a descriptor reopened
 *     through /proc can change it; lf_freeze returns NULL from then on.
 *     lf_snapshot seals before it writes the dump; image mode seals as soon
 *     as the image's frozen arena is in place (rt_image_load).
 *
 * Invariants:
 *   (1) Each arena's pages are committed as a prefix: [base, base+committed)
 *       is mapped, the rest of the reservation is PROT_NONE; used <= committed.
 *   (2) An object is immutable from the moment lf_freeze returns: its bytes
 *       are written through the alias before the view's address escapes.
 *   (3) Memfd offset == arena offset, so both views agree byte for byte.
 *   (4) Every committed range reaches the root hook exactly once.
 *   (5) Objects are bump-allocated, 16-byte aligned, never freed, so the
 *       frozen-object index is sorted by construction.
 *   (6) After fork, only one of the processes may go on freezing (the memfd
 *       is shared); lf_alloc is private to each.
 *   (7) The memfd counts against RLIMIT_FSIZE: growth stops at the limit,
 *       and growth past it is refused (lf_freeze returns NULL, errno EFBIG,
 *       one line on stderr naming the limit) before the kernel would raise
 *       SIGXFSZ.
 *   Without /proc the read-only open falls back to the read-write fd: the
 *   view is still mapped PROT_READ, but mprotect could change that.
 */
#define _GNU_SOURCE
#include "snapshot/runtime/rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

struct rt_arena {
    uint64_t base;      /* 0 until reserved */
    uint64_t committed; /* bytes from base */
    uint64_t used;      /* bump offset */
    uint64_t reserve;   /* bytes reserved from base */
};

static struct rt_arena rt_arenas[RT_ARENA__MAX];
static const uint64_t rt_fixed_base[RT_ARENA__MAX] = { RT_FROZEN_BASE, RT_PERSIST_BASE };
static int rt_memfd = -1;    /* read-write: backs the alias */
static int rt_memfd_ro = -1; /* read-only open of the same file: backs the view */
static uint8_t *rt_alias; /* writable alias reservation of the frozen arena */
static uint64_t rt_alias_size;
static int rt_sealed;
static void (*rt_root_hook)(void *lo, void *hi);
static int rt_lock_word;

#define RT_MIN_GROW (1ULL << 20)
#define RT_MAX_GROW (1ULL << 30) /* commit charge and GC-scanned zero pages stay bounded */

static void rt_lock(void)
{
    while (__atomic_test_and_set(&rt_lock_word, __ATOMIC_ACQUIRE))
        ;
}

static void rt_unlock(void) { __atomic_clear(&rt_lock_word, __ATOMIC_RELEASE); }

static uint64_t rt_round_page(uint64_t n) { return (n + RT_PAGE - 1) & ~(RT_PAGE - 1); }

/* -- Reservation -------------------------------------------------------- */

static void *rt_reserve_at(uint64_t want, uint64_t size)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    void *p = mmap((void *)want, size, PROT_NONE, want ? flags | MAP_FIXED_NOREPLACE : flags, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (want && (uint64_t)p != want) { /* a kernel that ignores NOREPLACE */
        munmap(p, size);
        return NULL;
    }
    return p;
}

/* Reserve up to *size bytes at want (0: anywhere), settling for less when
 * the address space is limited (ulimit -v, valgrind): quarter the request
 * down to 256 MiB.  *size is set to what was reserved. */
static void *rt_reserve_down(uint64_t want, uint64_t *size)
{
    for (uint64_t n = *size; n >= (256ULL << 20); n /= 4) {
        void *p = rt_reserve_at(want, n);
        if (p) {
            *size = n;
            return p;
        }
    }
    return NULL;
}

void *rt_reserve_any(uint64_t *size) { return rt_reserve_down(0, size); }

static enum lf_status rt_reserve_one(enum rt_arena_kind k, int fixed_required)
{
    struct rt_arena *a = &rt_arenas[k];
    if (a->base)
        return a->base == rt_fixed_base[k] || !fixed_required ? LF_OK : LF_ERR_ADDR_TAKEN;
    uint64_t size = RT_ARENA_RESERVE;
    void *p = rt_reserve_down(rt_fixed_base[k], &size);
    if (!p && fixed_required) return LF_ERR_ADDR_TAKEN;
    if (!p) {
        size = RT_ARENA_RESERVE;
        p = rt_reserve_any(&size);
    }
    if (!p) return LF_ERR_NOMEM;
    a->base = (uint64_t)p;
    a->reserve = size;
    return LF_OK;
}

static enum lf_status rt_frozen_backing(void)
{
    if (rt_memfd >= 0) return LF_OK;
    int fd = memfd_create("lineiform-frozen", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return LF_ERR_NOMEM;
    uint64_t alias_size = rt_arenas[RT_ARENA_FROZEN].reserve;
    uint8_t *alias = rt_reserve_any(&alias_size);
    if (!alias) {
        close(fd);
        return LF_ERR_NOMEM;
    }
    /* A view mapped from a read-only open lacks VM_MAYWRITE: mprotect can
     * never make it writable, and it does not count as a writable mapping
     * when rt_arena_seal adds F_SEAL_WRITE. */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int ro = open(self, O_RDONLY | O_CLOEXEC);
    rt_memfd = fd;
    rt_memfd_ro = ro >= 0 ? ro : fd;
    rt_alias = alias;
    rt_alias_size = alias_size;
    rt_arenas[RT_ARENA_FROZEN].reserve = alias_size; /* the view cannot outgrow its alias */
    return LF_OK;
}

static enum lf_status rt_reserve_locked(int fixed_required)
{
    LF_CHECK(rt_reserve_one(RT_ARENA_FROZEN, fixed_required));
    LF_CHECK(rt_reserve_one(RT_ARENA_PERSISTENT, fixed_required));
    if (rt_memfd < 0) { /* first reservation: also the frozen-write report */
        LF_CHECK(rt_frozen_backing());
        rt_fault_install();
    }
    return LF_OK;
}

enum lf_status rt_arena_reserve(int fixed_required)
{
    rt_lock();
    enum lf_status s = rt_reserve_locked(fixed_required);
    rt_unlock();
    return s;
}

uint64_t rt_arena_base(enum rt_arena_kind kind)
{
    return (unsigned)kind < RT_ARENA__MAX ? rt_arenas[kind].base : 0;
}

uint64_t rt_arena_used(enum rt_arena_kind kind)
{
    return (unsigned)kind < RT_ARENA__MAX ? rt_round_page(rt_arenas[kind].used) : 0;
}

uint64_t rt_arena_committed(enum rt_arena_kind kind)
{
    return (unsigned)kind < RT_ARENA__MAX
               ? __atomic_load_n(&rt_arenas[kind].committed, __ATOMIC_ACQUIRE)
               : 0;
}

int rt_arena_sealed(void) { return rt_sealed; }

/* -- Growth ------------------------------------------------------------- */

static void rt_announce(uint64_t lo, uint64_t hi)
{
    if (rt_root_hook && lo < hi) rt_root_hook((void *)lo, (void *)hi);
}

/* Map [off, off+len) of the frozen arena: read-only view + writable alias. */
/* RLIMIT_FSIZE (ulimit -f), which the memfd counts against; UINT64_MAX
 * when unlimited. */
static uint64_t rt_fsize_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
    return (uint64_t)rl.rlim_cur;
}

/* The real cause of a refused growth, once per process: an interpreter
 * can only say "frozen arena exhausted", which names none. */
static void rt_fsize_report(uint64_t want, uint64_t limit)
{
    static int said;
    if (said++) return;
    char line[200];
    int n = snprintf(line, sizeof line,
                     "lineiform: the frozen arena cannot grow to %llu bytes: its memory file is limited to "
                     "%llu bytes by the file size limit (ulimit -f)\n",
                     (unsigned long long)want, (unsigned long long)limit);
    if (n > 0) (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static enum lf_status rt_frozen_map(uint64_t off, uint64_t len)
{
    /* Growing a file past RLIMIT_FSIZE raises SIGXFSZ, which would kill
     * the interpreter: refuse instead, saying why (errno EFBIG). */
    uint64_t limit = rt_fsize_limit();
    if (off + len > limit) {
        rt_fsize_report(off + len, limit);
        errno = EFBIG;
        return LF_ERR_NOMEM;
    }
    if (ftruncate(rt_memfd, (off_t)(off + len)) != 0) return LF_ERR_NOMEM;
    void *v = mmap((void *)(rt_arenas[RT_ARENA_FROZEN].base + off), len, PROT_READ,
                   MAP_SHARED | MAP_FIXED, rt_memfd_ro, (off_t)off);
    if (v == MAP_FAILED) return LF_ERR_NOMEM;
    v = mmap(rt_alias + off, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, rt_memfd,
             (off_t)off);
    return v == MAP_FAILED ? LF_ERR_NOMEM : LF_OK;
}

static enum lf_status rt_commit(enum rt_arena_kind k, uint64_t off, uint64_t len)
{
    struct rt_arena *a = &rt_arenas[k];
    if (k == RT_ARENA_FROZEN) return rt_frozen_map(off, len);
    if (mprotect((void *)(a->base + off), len, PROT_READ | PROT_WRITE) != 0) return LF_ERR_NOMEM;
    return LF_OK;
}

static void rt_set_committed(struct rt_arena *a, uint64_t committed)
{
    uint64_t old = a->committed;
    __atomic_store_n(&a->committed, committed, __ATOMIC_RELEASE);
    rt_announce(a->base + old, a->base + committed);
}

/* Make [0, need) of the arena committed, growing geometrically (up to
 * 1 GiB at a time) so that few ranges reach the root hook. */
static enum lf_status rt_arena_grow(enum rt_arena_kind k, uint64_t need)
{
    struct rt_arena *a = &rt_arenas[k];
    if (need <= a->committed) return LF_OK;
    if (need > a->reserve) return errno = ENOMEM, LF_ERR_NOMEM;
    uint64_t target = a->committed + (a->committed < RT_MAX_GROW ? a->committed : RT_MAX_GROW);
    if (target < RT_MIN_GROW) target = RT_MIN_GROW;
    if (target < need) target = rt_round_page(need);
    if (target > a->reserve) target = a->reserve;
    /* Under a file size limit the memfd grows no further than it allows
     * (invariant 7), so a small program still fits under a small limit. */
    uint64_t limit = k == RT_ARENA_FROZEN ? rt_fsize_limit() & ~(RT_PAGE - 1) : UINT64_MAX;
    if (target > limit) target = rt_round_page(need) <= limit ? limit : rt_round_page(need);
    LF_CHECK(rt_commit(k, a->committed, target - a->committed));
    rt_set_committed(a, target);
    return LF_OK;
}

/* Bump-allocate size bytes (16-aligned); returns the offset or UINT64_MAX. */
static uint64_t rt_bump(enum rt_arena_kind k, size_t size)
{
    struct rt_arena *a = &rt_arenas[k];
    uint64_t off = (a->used + 15) & ~15ULL;
    if (size == 0) size = 1; /* distinct objects get distinct addresses */
    if (off > a->reserve || size > a->reserve - off) return errno = ENOMEM, UINT64_MAX;
    if (rt_arena_grow(k, off + size) != LF_OK) return UINT64_MAX;
    a->used = off + size;
    return off;
}

/* -- Public allocation -------------------------------------------------- */

void *lf_freeze_with(size_t size, void (*fill)(void *dst, uintptr_t at, void *ctx), void *ctx)
{
    if (!fill || size > UINT32_MAX) return errno = EINVAL, NULL;
    void *res = NULL;
    rt_lock();
    if (rt_sealed) errno = EPERM;
    else if (rt_reserve_locked(0) == LF_OK) {
        uint64_t off = rt_bump(RT_ARENA_FROZEN, size);
        if (off != UINT64_MAX) {
            res = (void *)(rt_arenas[RT_ARENA_FROZEN].base + off);
            if (size) fill(rt_alias + off, (uintptr_t)res, ctx);
            rt_frozen_index_add((uint64_t)res, size);
        }
    }
    rt_unlock();
    return res;
}

struct rt_copy { const void *obj; size_t size; };

static void rt_copy_fill(void *dst, uintptr_t at, void *ctx)
{
    const struct rt_copy *c = ctx;
    (void)at;
    memcpy(dst, c->obj, c->size);
}

void *lf_freeze(const void *obj, size_t size)
{
    if ((!obj && size) || size > UINT32_MAX) return errno = EINVAL, NULL;
    struct rt_copy c = { obj, size };
    return lf_freeze_with(size, rt_copy_fill, &c);
}

int lf_is_frozen(const void *p)
{
    const struct rt_arena *a = &rt_arenas[RT_ARENA_FROZEN];
    uint64_t x = (uint64_t)p;
    return a->base && x >= a->base && x < a->base + a->used;
}

void *lf_alloc(size_t size)
{
    void *res = NULL;
    rt_lock();
    if (rt_reserve_locked(0) == LF_OK) {
        uint64_t off = rt_bump(RT_ARENA_PERSISTENT, size);
        if (off != UINT64_MAX) res = (void *)(rt_arenas[RT_ARENA_PERSISTENT].base + off);
    }
    rt_unlock();
    return res;
}

void lf_set_root_hook(void (*add_roots)(void *lo, void *hi))
{
    rt_lock();
    rt_root_hook = add_roots;
    for (int k = 0; k < RT_ARENA__MAX; k++)
        rt_announce(rt_arenas[k].base, rt_arenas[k].base + rt_arenas[k].committed);
    rt_unlock();
}

/* -- Sealing ------------------------------------------------------------ */

enum lf_status rt_arena_seal(void)
{
    enum lf_status s = LF_OK;
    rt_lock();
    if (!rt_sealed && rt_alias) {
        munmap(rt_alias, rt_alias_size);
        rt_alias = NULL;
        /* No writable mapping of the memfd is left, so F_SEAL_WRITE holds
         * (it fails with EBUSY while one exists, e.g. in a forked child).
         * Sealed, the memfd refuses write and pwrite, also through a
         * descriptor reopened from /proc/self/fd, and writable mappings. */
        int e = 0;
        if (fcntl(rt_memfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
            s = LF_ERR_IO, e = errno;
        /* The read-write descriptor has no use left: only the read-only
         * one (which maps the view) stays open. */
        if (rt_memfd_ro != rt_memfd) {
            close(rt_memfd);
            rt_memfd = rt_memfd_ro;
        }
        if (e) errno = e; /* the seal's, for the caller's message */
    }
    rt_sealed = 1;
    rt_unlock();
    return s;
}

enum lf_status lf_seal(void) { return rt_arena_seal(); }

/* -- Mapping an image's arenas back ------------------------------------- */

static enum lf_status rt_map_check(enum rt_arena_kind k, uint64_t addr, size_t size, int prot)
{
    if ((unsigned)k >= RT_ARENA__MAX) return LF_ERR_INVALID_ARG;
    struct rt_arena *a = &rt_arenas[k];
    if (!a->base) return LF_ERR_STATE;
    int want = k == RT_ARENA_FROZEN ? PROT_READ : PROT_READ | PROT_WRITE;
    if (prot != want || size == 0 || size % RT_PAGE) return LF_ERR_INVALID_ARG;
    if (addr != a->base + a->committed || size > a->reserve - a->committed)
        return LF_ERR_INVALID_ARG;
    if (k == RT_ARENA_FROZEN && rt_sealed) return LF_ERR_STATE;
    return LF_OK;
}

static void rt_map_done(enum rt_arena_kind k, size_t size)
{
    struct rt_arena *a = &rt_arenas[k];
    a->used = a->committed + size;
    rt_set_committed(a, a->committed + size);
}

enum lf_status rt_arena_map_fixed(enum rt_arena_kind kind, uint64_t addr, size_t size, int prot,
                                  const void *bytes)
{
    rt_lock();
    enum lf_status s = rt_map_check(kind, addr, size, prot);
    uint64_t off = s == LF_OK ? addr - rt_arenas[kind].base : 0;
    if (s == LF_OK) s = rt_commit(kind, off, size);
    if (s == LF_OK && bytes) {
        uint8_t *dst = kind == RT_ARENA_FROZEN ? rt_alias + off : (uint8_t *)addr;
        memcpy(dst, bytes, size);
    }
    if (s == LF_OK) rt_map_done(kind, size);
    rt_unlock();
    return s;
}

/* Read size bytes of fd at off into the frozen arena's alias at arena
 * offset aoff. */
static enum lf_status rt_frozen_pread(int fd, uint64_t off, uint64_t aoff, size_t size)
{
    while (size) {
        ssize_t n = pread(fd, rt_alias + aoff, size, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return LF_ERR_IO;
        off += (uint64_t)n;
        aoff += (uint64_t)n;
        size -= (size_t)n;
    }
    return LF_OK;
}

enum lf_status rt_arena_map_fd(enum rt_arena_kind kind, uint64_t addr, size_t size, int prot,
                               int fd, uint64_t off)
{
    rt_lock();
    enum lf_status s = rt_map_check(kind, addr, size, prot);
    if (s == LF_OK && off % RT_PAGE) s = LF_ERR_INVALID_ARG;
    if (s == LF_OK && kind == RT_ARENA_FROZEN) {
        /* Copied into the memfd, not mapped from the file: a private file
         * mapping could be made writable with mprotect. */
        uint64_t aoff = addr - rt_arenas[kind].base;
        s = rt_commit(kind, aoff, size);
        if (s == LF_OK) s = rt_frozen_pread(fd, off, aoff, size);
    } else if (s == LF_OK) {
        void *p = mmap((void *)addr, size, prot, MAP_PRIVATE | MAP_FIXED, fd, (off_t)off);
        if (p == MAP_FAILED) s = errno == ENOMEM ? LF_ERR_NOMEM : LF_ERR_IO;
    }
    if (s == LF_OK) rt_map_done(kind, size);
    rt_unlock();
    return s;
}
