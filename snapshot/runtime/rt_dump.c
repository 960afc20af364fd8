/* rt_dump.c -- writes the heap dump at lf_snapshot (format: rt_dump_format.h).
 *
 * Input: the arenas, the frozen-object index, entry and roots.  Output: one
 * file, written unnamed beside the target, fsync'ed and renamed over it
 * (rt_atomic.c), so the target is either absent or complete, and a killed
 * interpreter leaves nothing; or written into a descriptor the CLI passed
 * (LINEIFORM_DUMP_FD), an unnamed file only the CLI can read.  The checksum is computed while
 * writing; nothing is buffered beyond a small block.
 */
#define _GNU_SOURCE
#include "snapshot/runtime/rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/runtime/rt_dump_format.h"

struct rt_out {
    int fd;
    uint64_t hash;
    uint64_t off;
    int err; /* errno of the first failure */
};

static void rt_out_write(struct rt_out *o, const void *p, size_t n)
{
    const char *b = p;
    o->hash = rt_fnv1a(o->hash, p, n);
    o->off += n;
    while (n && !o->err) {
        ssize_t w = write(o->fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            o->err = w < 0 ? errno : EIO;
            break;
        }
        b += w;
        n -= (size_t)w;
    }
}

static void rt_out_pad8(struct rt_out *o)
{
    static const uint8_t zero[8];
    if (o->off % 8) rt_out_write(o, zero, 8 - o->off % 8);
}

struct rt_dump_plan {
    struct rt_dump_header h;
    struct rt_dump_section sec[3];
    char path[RT_DUMP_MAX_PATH + 1];
    uint8_t build_id[RT_DUMP_MAX_BUILD_ID];
};

static void rt_plan_section(struct rt_dump_plan *pl, uint32_t kind, uint32_t prot, uint64_t addr,
                            uint64_t size)
{
    if (!size) return;
    struct rt_dump_section *s = &pl->sec[pl->h.nsections++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->prot = prot;
    s->addr = addr;
    s->size = size;
}

static void rt_plan(struct rt_dump_plan *pl, uint64_t entry, uint64_t roots)
{
    memset(pl, 0, sizeof *pl);
    memcpy(pl->h.magic, RT_DUMP_MAGIC, RT_DUMP_MAGIC_LEN);
    pl->h.version = RT_DUMP_VERSION;
    pl->h.header_size = sizeof pl->h;
    pl->h.load_base = rt_self_load_base();
    pl->h.entry = entry;
    pl->h.roots = roots;
    pl->h.page_size = RT_DUMP_PAGE;
    if (rt_self_path(pl->path, sizeof pl->path) == 0) pl->h.path_len = (uint32_t)strlen(pl->path);
    pl->h.build_id_len = (uint32_t)rt_self_build_id(pl->build_id, sizeof pl->build_id);
    if (pl->h.build_id_len > RT_DUMP_MAX_BUILD_ID) pl->h.build_id_len = RT_DUMP_MAX_BUILD_ID;
    uint64_t fb = rt_arena_base(RT_ARENA_FROZEN);
    rt_plan_section(pl, RT_DUMP_SEC_FROZEN, PROT_READ, fb, rt_arena_used(RT_ARENA_FROZEN));
    rt_plan_section(pl, RT_DUMP_SEC_PERSISTENT, PROT_READ | PROT_WRITE,
                    rt_arena_base(RT_ARENA_PERSISTENT), rt_arena_used(RT_ARENA_PERSISTENT));
    rt_plan_section(pl, RT_DUMP_SEC_OBJECTS, 0, fb,
                    rt_frozen_index_count() * sizeof(struct rt_dump_object));
    uint64_t off = sizeof pl->h + pl->h.path_len + pl->h.build_id_len;
    off = (off + 7) & ~7ULL;
    off += pl->h.nsections * sizeof pl->sec[0];
    for (uint32_t i = 0; i < pl->h.nsections; i++) {
        pl->sec[i].offset = off;
        off = (off + pl->sec[i].size + 7) & ~7ULL;
    }
    pl->h.file_size = off + 8;
}

static void rt_write_objects(struct rt_out *o)
{
    struct rt_dump_object blk[512];
    size_t n = rt_frozen_index_count(), k = 0;
    uint64_t fb = rt_arena_base(RT_ARENA_FROZEN);
    for (size_t i = 0; i < n; i++) {
        uint64_t a, s;
        rt_frozen_index_get(i, &a, &s);
        blk[k].start16 = (uint32_t)((a - fb) / 16);
        blk[k].size = (uint32_t)s;
        if (++k == sizeof blk / sizeof blk[0] || i + 1 == n) {
            rt_out_write(o, blk, k * sizeof blk[0]);
            k = 0;
        }
    }
}

static void rt_write_all(struct rt_out *o, const struct rt_dump_plan *pl)
{
    rt_out_write(o, &pl->h, sizeof pl->h);
    rt_out_write(o, pl->path, pl->h.path_len);
    rt_out_write(o, pl->build_id, pl->h.build_id_len);
    rt_out_pad8(o);
    rt_out_write(o, pl->sec, pl->h.nsections * sizeof pl->sec[0]);
    for (uint32_t i = 0; i < pl->h.nsections; i++) {
        const struct rt_dump_section *s = &pl->sec[i];
        if (s->kind == RT_DUMP_SEC_OBJECTS) rt_write_objects(o);
        else rt_out_write(o, (const void *)s->addr, s->size);
        rt_out_pad8(o);
    }
    uint64_t sum = o->hash;
    rt_out_write(o, &sum, sizeof sum);
}

/* Write the whole dump to o->fd; o->err holds the first errno. */
static void rt_dump_emit(struct rt_out *o, const struct rt_dump_plan *pl)
{
    /* Past RLIMIT_FSIZE, write must fail with EFBIG (and the temporary be
     * removed) rather than SIGXFSZ kill the process mid-file. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_xfsz;
    sigaction(SIGXFSZ, &ign, &old_xfsz);
    rt_write_all(o, pl);
    sigaction(SIGXFSZ, &old_xfsz, NULL);
    if (!o->err && o->off != pl->h.file_size) o->err = EIO;
}

enum lf_status rt_dump_write(const char *path, void *entry, void *roots, char *why, size_t whylen)
{
    static struct rt_dump_plan pl; /* large: keep it off the interpreter's stack */
    static struct rt_atomic at;
    rt_plan(&pl, (uint64_t)entry, (uint64_t)roots);
    if (rt_atomic_open(path, &at) != 0) {
        snprintf(why, whylen, "%s: cannot create: %s", path, strerror(errno));
        return LF_ERR_IO;
    }
    rt_atomic_clean(path); /* leftovers of a writer killed before */
    struct rt_out o = { .fd = at.fd, .hash = RT_FNV1A_INIT };
    rt_dump_emit(&o, &pl);
    if (!o.err && rt_atomic_commit(&at, 1) != 0) o.err = errno;
    if (o.err) {
        rt_atomic_abort(&at);
        snprintf(why, whylen, "%s: %s", path, strerror(o.err));
        return LF_ERR_IO;
    }
    return LF_OK;
}

enum lf_status rt_dump_write_fd(int fd, const char *name, void *entry, void *roots, char *why,
                                size_t whylen)
{
    static struct rt_dump_plan pl;
    rt_plan(&pl, (uint64_t)entry, (uint64_t)roots);
    struct rt_out o = { .fd = fd, .hash = RT_FNV1A_INIT };
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) o.err = errno;
    if (!o.err) rt_dump_emit(&o, &pl);
    if (o.err) {
        snprintf(why, whylen, "%s: %s", name, strerror(o.err));
        return LF_ERR_IO;
    }
    return LF_OK;
}
