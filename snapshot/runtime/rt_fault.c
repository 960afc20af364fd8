/* rt_fault.c -- the frozen-write report: a SIGSEGV handler that recognizes
 * a write into committed frozen memory and prints
 *
 *   lineiform: write to frozen memory at 0x... (object frozen at 0x..., N bytes)
 *
 * then aborts.  Any other SIGSEGV goes to the handler that was installed
 * before ours, or takes the default action.
 *
 * Owns: the frozen-object index, a compact sorted array of (offset/16, size)
 * pairs in its own reservation (committed as it grows, never moved, so the
 * handler can read it without locks).
 *
 * Invariants:
 *   (1) The handler is async-signal-safe: no stdio, no allocation; it formats
 *       with its own hex printer and write(2).
 *   (2) An entry is complete before the count that publishes it (release
 *       store; the handler loads the count with acquire).
 */
#define _GNU_SOURCE
#include "snapshot/runtime/rt_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "snapshot/runtime/rt_dump_format.h"

#define RT_INDEX_RESERVE (4ULL << 30) /* 512 Mi objects */
#define RT_INDEX_GROW    (64ULL << 10)

static struct rt_dump_object *rt_index;
static uint64_t rt_index_committed; /* bytes */
static uint64_t rt_index_reserve;   /* bytes */
static size_t rt_index_count;

/* -- The frozen-object index -------------------------------------------- */

static int rt_index_room(size_t n)
{
    if (!rt_index) {
        uint64_t size = RT_INDEX_RESERVE;
        void *p = rt_reserve_any(&size);
        if (!p) return 0;
        rt_index = p;
        rt_index_reserve = size;
    }
    uint64_t need = (uint64_t)n * sizeof *rt_index;
    if (need <= rt_index_committed) return 1;
    if (need > rt_index_reserve) return 0;
    uint64_t grow = rt_index_committed < RT_INDEX_GROW ? RT_INDEX_GROW : rt_index_committed;
    if (grow > rt_index_reserve - rt_index_committed) grow = rt_index_reserve - rt_index_committed;
    if (mprotect((char *)rt_index + rt_index_committed, grow, PROT_READ | PROT_WRITE) != 0)
        return 0;
    rt_index_committed += grow;
    return 1;
}

void rt_frozen_index_add(uint64_t addr, uint64_t size)
{
    uint64_t base = rt_arena_base(RT_ARENA_FROZEN);
    /* An object the index cannot hold is simply not named in a report. */
    if (addr < base || (addr - base) % 16 || (addr - base) / 16 > UINT32_MAX || size > UINT32_MAX)
        return;
    if (!rt_index_room(rt_index_count + 1)) return;
    rt_index[rt_index_count].start16 = (uint32_t)((addr - base) / 16);
    rt_index[rt_index_count].size = (uint32_t)size;
    __atomic_store_n(&rt_index_count, rt_index_count + 1, __ATOMIC_RELEASE);
}

size_t rt_frozen_index_count(void) { return __atomic_load_n(&rt_index_count, __ATOMIC_ACQUIRE); }

void rt_frozen_index_get(size_t i, uint64_t *addr, uint64_t *size)
{
    *addr = rt_arena_base(RT_ARENA_FROZEN) + (uint64_t)rt_index[i].start16 * 16;
    *size = rt_index[i].size;
}

/* The object containing arena offset off, or -1. */
static long rt_index_find(uint64_t off)
{
    size_t lo = 0, hi = rt_frozen_index_count();
    while (lo < hi) { /* first entry starting after off */
        size_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)rt_index[mid].start16 * 16 <= off) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return -1;
    const struct rt_dump_object *o = &rt_index[lo - 1];
    uint64_t start = (uint64_t)o->start16 * 16;
    return off < start + (o->size ? o->size : 1) ? (long)(lo - 1) : -1;
}

/* -- The report --------------------------------------------------------- */

static char *rt_put_str(char *p, const char *s)
{
    while (*s) *p++ = *s++;
    return p;
}

static char *rt_put_num(char *p, uint64_t v, unsigned radix)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % radix];
        v /= radix;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static void rt_report(uint64_t addr)
{
    char buf[200], *p = buf;
    uint64_t base = rt_arena_base(RT_ARENA_FROZEN);
    long i = rt_index_find(addr - base);
    p = rt_put_str(p, "lineiform: write to frozen memory at 0x");
    p = rt_put_num(p, addr, 16);
    if (i >= 0) {
        p = rt_put_str(p, " (object frozen at 0x");
        p = rt_put_num(p, base + (uint64_t)rt_index[i].start16 * 16, 16);
        p = rt_put_str(p, ", ");
        p = rt_put_num(p, rt_index[i].size, 10);
        p = rt_put_str(p, " bytes)\n");
    } else {
        p = rt_put_str(p, " (not inside any frozen object)\n");
    }
    ssize_t w = write(STDERR_FILENO, buf, (size_t)(p - buf));
    (void)w;
}

/* -- The handler -------------------------------------------------------- */

static struct sigaction rt_old_segv;

static int rt_fault_is_write(const void *uctx)
{
#if defined(__x86_64__) && defined(REG_ERR)
    const ucontext_t *uc = uctx;
    return (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0; /* page-fault error code: W bit */
#else
    (void)uctx;
    return 1; /* reads of committed frozen memory never fault */
#endif
}

static void rt_segv(int sig, siginfo_t *si, void *uctx)
{
    uint64_t a = (uint64_t)si->si_addr;
    uint64_t base = rt_arena_base(RT_ARENA_FROZEN);
    uint64_t end = base + rt_arena_committed(RT_ARENA_FROZEN);
    if (si->si_code == SEGV_ACCERR && base && a >= base && a < end && rt_fault_is_write(uctx)) {
        rt_report(a);
        abort();
    }
    if (rt_old_segv.sa_flags & SA_SIGINFO) {
        rt_old_segv.sa_sigaction(sig, si, uctx);
    } else if (rt_old_segv.sa_handler != SIG_DFL && rt_old_segv.sa_handler != SIG_IGN) {
        rt_old_segv.sa_handler(sig);
    } else {
        /* Default action: for a fault, returning re-executes the access and
         * the kernel kills us; for a sent signal, the raise does. */
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
}

void rt_fault_install(void)
{
    struct sigaction sa;
    /* Someone may have replaced ours since (a test harness, the host's own
     * handler that restores what it found): install again, chaining to it. */
    if (sigaction(SIGSEGV, NULL, &sa) == 0 && (sa.sa_flags & SA_SIGINFO) &&
        sa.sa_sigaction == rt_segv)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = rt_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGSEGV, &sa, &rt_old_segv);
}
