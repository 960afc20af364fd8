/* snap_dump.c -- the heap-dump reader (contract in snap_dump.h, format in
 * snapshot/runtime/rt_dump_format.h).
 *
 * Checks run in the order that names damage best: magic (not a dump at
 * all), version, length against the header's file_size (truncation), the
 * checksum (corruption), then every structural invariant of the format, so
 * that a hand-made file with a correct checksum is still never trusted.
 * All offsets and sizes are checked without overflow before any use.
 */
#include "snapshot/snap_dump.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static enum lf_status snap_fail(enum lf_status s, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum lf_status snap_fail(enum lf_status s, char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return s;
}

#define SNAP_FAIL(s, ...) return snap_fail((s), why, whylen, __VA_ARGS__)

/* [off, off+size) inside [0, limit) without overflow. */
static int snap_fits(uint64_t off, uint64_t size, uint64_t limit)
{
    return off <= limit && size <= limit - off;
}

/* -- Envelope: magic, version, length, checksum -------------------------- */

static enum lf_status snap_envelope(const uint8_t *b, size_t len, struct rt_dump_header *h,
                                    char *why, size_t whylen)
{
    size_t m = len < RT_DUMP_MAGIC_LEN ? len : RT_DUMP_MAGIC_LEN;
    if (memcmp(b, RT_DUMP_MAGIC, m) != 0) SNAP_FAIL(LF_ERR_FORMAT, "not a lineiform heap dump (bad magic)");
    if (len < sizeof *h)
        SNAP_FAIL(LF_ERR_TRUNCATED, "truncated heap dump: %zu bytes, shorter than its %zu-byte header",
                  len, sizeof *h);
    memcpy(h, b, sizeof *h);
    if (h->version != RT_DUMP_VERSION)
        SNAP_FAIL(LF_ERR_VERSION, "heap dump format version %u, this build reads version %u",
                  h->version, RT_DUMP_VERSION);
    if (h->file_size > len)
        SNAP_FAIL(LF_ERR_TRUNCATED, "truncated heap dump: %zu of %llu bytes", len,
                  (unsigned long long)h->file_size);
    if (h->file_size < len)
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump has %zu bytes but its header says %llu", len,
                  (unsigned long long)h->file_size);
    if (h->header_size != sizeof *h || len < sizeof *h + 8)
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump header size %u, expected %zu", h->header_size, sizeof *h);
    uint64_t stored, sum = rt_fnv1a(RT_FNV1A_INIT, b, len - 8);
    memcpy(&stored, b + len - 8, 8);
    if (stored != sum)
        SNAP_FAIL(LF_ERR_CHECKSUM, "heap dump checksum mismatch (stored %016llx, computed %016llx)",
                  (unsigned long long)stored, (unsigned long long)sum);
    return LF_OK;
}

/* -- Header fields -------------------------------------------------------- */

static enum lf_status snap_header(const uint8_t *b, const struct rt_dump_header *h,
                                  struct snap_dump *d, char *why, size_t whylen)
{
    if (h->page_size != RT_DUMP_PAGE || h->reserved[0] || h->reserved[1])
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump header: page size %u or reserved fields invalid",
                  h->page_size);
    if (h->path_len > RT_DUMP_MAX_PATH || h->build_id_len > RT_DUMP_MAX_BUILD_ID ||
        h->nsections > RT_DUMP_MAX_SECTIONS)
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump header: path (%u), build-id (%u) or section count (%u) too large",
                  h->path_len, h->build_id_len, h->nsections);
    uint64_t table = (sizeof *h + (uint64_t)h->path_len + h->build_id_len + 7) & ~7ULL;
    if (!snap_fits(table, (uint64_t)h->nsections * sizeof(struct rt_dump_section), h->file_size - 8))
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump section table runs past the end of the file");
    if (memchr(b + sizeof *h, 0, h->path_len))
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump interpreter path contains a NUL byte");
    memcpy(d->interp_path, b + sizeof *h, h->path_len);
    d->interp_path[h->path_len] = 0;
    memcpy(d->build_id, b + sizeof *h + h->path_len, h->build_id_len);
    d->build_id_len = h->build_id_len;
    d->version = h->version;
    d->load_base = h->load_base;
    d->entry = h->entry;
    d->roots = h->roots;
    return LF_OK;
}

/* -- Sections ------------------------------------------------------------- */

static const char *snap_sec_name(uint32_t kind)
{
    return kind == RT_DUMP_SEC_FROZEN ? "frozen arena"
           : kind == RT_DUMP_SEC_PERSISTENT ? "persistent arena" : "object index";
}

static enum lf_status snap_arena(const uint8_t *b, const struct rt_dump_section *s,
                                 struct snap_dump_arena *a, char *why, size_t whylen)
{
    uint32_t want = s->kind == RT_DUMP_SEC_FROZEN ? PROT_READ : PROT_READ | PROT_WRITE;
    if (a->size) SNAP_FAIL(LF_ERR_FORMAT, "heap dump has two %s sections", snap_sec_name(s->kind));
    if (s->prot != want || s->addr % RT_DUMP_PAGE || s->size % RT_DUMP_PAGE || !s->size ||
        s->addr + s->size < s->addr || s->addr + s->size > (1ULL << 47))
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump %s at 0x%llx (%llu bytes, prot %u) is not a valid arena",
                  snap_sec_name(s->kind), (unsigned long long)s->addr,
                  (unsigned long long)s->size, s->prot);
    a->addr = s->addr;
    a->size = s->size;
    a->prot = s->prot;
    a->bytes = b + s->offset;
    return LF_OK;
}

static enum lf_status snap_section(const uint8_t *b, uint64_t data_lo, uint64_t data_hi,
                                   const struct rt_dump_section *s, struct snap_dump *d,
                                   uint64_t *objs_addr, char *why, size_t whylen)
{
    if (s->offset % 8 || s->offset < data_lo || !snap_fits(s->offset, s->size, data_hi) || s->reserved)
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump section at offset %llu (%llu bytes) lies outside the file",
                  (unsigned long long)s->offset, (unsigned long long)s->size);
    switch (s->kind) {
    case RT_DUMP_SEC_FROZEN: return snap_arena(b, s, &d->frozen, why, whylen);
    case RT_DUMP_SEC_PERSISTENT: return snap_arena(b, s, &d->persistent, why, whylen);
    case RT_DUMP_SEC_OBJECTS:
        if (d->objects || s->prot || s->size % sizeof(struct rt_dump_object))
            SNAP_FAIL(LF_ERR_FORMAT, "heap dump object index is malformed");
        d->objects = (const struct rt_dump_object *)(b + s->offset);
        d->nobjects = s->size / sizeof(struct rt_dump_object);
        *objs_addr = s->addr;
        return LF_OK;
    default: SNAP_FAIL(LF_ERR_FORMAT, "heap dump section of unknown kind %u", s->kind);
    }
}

static enum lf_status snap_sections(const uint8_t *b, const struct rt_dump_header *h,
                                    struct snap_dump *d, uint64_t *objs_addr, char *why,
                                    size_t whylen)
{
    uint64_t table = (sizeof *h + (uint64_t)h->path_len + h->build_id_len + 7) & ~7ULL;
    uint64_t data_lo = table + (uint64_t)h->nsections * sizeof(struct rt_dump_section);
    for (uint32_t i = 0; i < h->nsections; i++) {
        struct rt_dump_section s;
        memcpy(&s, b + table + i * sizeof s, sizeof s);
        LF_CHECK(snap_section(b, data_lo, h->file_size - 8, &s, d, objs_addr, why, whylen));
    }
    return LF_OK;
}

/* -- Cross-checks --------------------------------------------------------- */

static int snap_in(const struct snap_dump_arena *a, uint64_t addr, uint64_t len)
{
    return a->size && addr >= a->addr && snap_fits(addr - a->addr, len, a->size);
}

static enum lf_status snap_objects(const struct snap_dump *d, uint64_t objs_addr, char *why,
                                   size_t whylen)
{
    if (d->objects && objs_addr != d->frozen.addr)
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump object index is not based at the frozen arena");
    uint64_t prev_end = 0;
    for (size_t i = 0; i < d->nobjects; i++) {
        uint64_t start = (uint64_t)d->objects[i].start16 * 16, size = d->objects[i].size;
        if (start < prev_end || !snap_fits(start, size, d->frozen.size))
            SNAP_FAIL(LF_ERR_FORMAT, "heap dump frozen object %zu (offset %llu, %llu bytes) "
                      "overlaps another or leaves the frozen arena", i,
                      (unsigned long long)start, (unsigned long long)size);
        prev_end = start + (size ? size : 1);
    }
    return LF_OK;
}

static enum lf_status snap_cross(const struct snap_dump *d, uint64_t objs_addr, char *why,
                                 size_t whylen)
{
    if (!d->frozen.size) SNAP_FAIL(LF_ERR_FORMAT, "heap dump has no frozen arena");
    const struct snap_dump_arena *f = &d->frozen, *p = &d->persistent;
    if (p->size && f->addr < p->addr + p->size && p->addr < f->addr + f->size)
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump arenas overlap");
    if (!snap_in(f, d->entry, 8))
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump entry 0x%llx is not inside the frozen arena",
                  (unsigned long long)d->entry);
    if (d->roots && !snap_in(p, d->roots, 1))
        SNAP_FAIL(LF_ERR_FORMAT, "heap dump roots 0x%llx are not inside the persistent arena",
                  (unsigned long long)d->roots);
    return snap_objects(d, objs_addr, why, whylen);
}

/* -- Public --------------------------------------------------------------- */

enum lf_status snap_dump_parse(const void *buf, size_t len, struct snap_dump *d, char *why,
                               size_t whylen)
{
    if (why && whylen) why[0] = 0;
    if (!buf || !d || (uintptr_t)buf % 8)
        SNAP_FAIL(LF_ERR_INVALID_ARG, "heap dump buffer missing or not 8-byte aligned");
    memset(d, 0, sizeof *d);
    const uint8_t *b = buf;
    struct rt_dump_header h;
    uint64_t objs_addr = 0;
    LF_CHECK(snap_envelope(b, len, &h, why, whylen));
    LF_CHECK(snap_header(b, &h, d, why, whylen));
    LF_CHECK(snap_sections(b, &h, d, &objs_addr, why, whylen));
    return snap_cross(d, objs_addr, why, whylen);
}

/* The whole of the regular file open at fd, read from offset 0. */
static enum lf_status snap_slurp_fd(int fd, const char *name, uint8_t **out, size_t *outlen, char *why,
                                    size_t whylen)
{
    struct stat st;
    if (fstat(fd, &st) != 0) SNAP_FAIL(LF_ERR_IO, "%s: %s", name, strerror(errno));
    if (!S_ISREG(st.st_mode)) SNAP_FAIL(LF_ERR_IO, "%s: not a regular file", name);
    size_t len = (size_t)st.st_size, got = 0;
    uint8_t *b = malloc(len ? len : 1);
    if (!b) SNAP_FAIL(LF_ERR_NOMEM, "%s: out of memory for the heap dump (%zu bytes)", name, len);
    while (got < len) {
        ssize_t k = pread(fd, b + got, len - got, (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int e = k < 0 ? errno : 0;
            free(b);
            if (e) SNAP_FAIL(LF_ERR_IO, "%s: %s", name, strerror(e));
            SNAP_FAIL(LF_ERR_TRUNCATED, "%s: only %zu of %zu bytes could be read (did the file shrink?)", name,
                      got, len);
        }
        got += (size_t)k;
    }
    *out = b;
    *outlen = len;
    return LF_OK;
}

static enum lf_status snap_dump_take(uint8_t *b, size_t n, const char *name, struct snap_dump *d, char *why,
                                     size_t whylen)
{
    char sub[400];
    enum lf_status s = snap_dump_parse(b, n, d, sub, sizeof sub);
    if (s != LF_OK) {
        free(b);
        memset(d, 0, sizeof *d);
        SNAP_FAIL(s, "%s: %s", name, sub);
    }
    d->owned = b;
    d->owned_len = n;
    return LF_OK;
}

enum lf_status snap_dump_read_fd(int fd, const char *name, struct snap_dump *d, char *why, size_t whylen)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (fd < 0 || !name || !d) SNAP_FAIL(LF_ERR_INVALID_ARG, "no heap dump");
    memset(d, 0, sizeof *d);
    LF_CHECK(snap_slurp_fd(fd, name, &b, &n, why, whylen));
    return snap_dump_take(b, n, name, d, why, whylen);
}

enum lf_status snap_dump_read(const char *path, struct snap_dump *d, char *why, size_t whylen)
{
    if (!path || !d) SNAP_FAIL(LF_ERR_INVALID_ARG, "no heap dump path");
    /* O_NONBLOCK: a FIFO must not block the open (it is refused next) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) SNAP_FAIL(LF_ERR_IO, "%s: %s", path, strerror(errno));
    enum lf_status s = snap_dump_read_fd(fd, path, d, why, whylen);
    close(fd);
    return s;
}

void snap_dump_free(struct snap_dump *d)
{
    if (!d) return;
    free(d->owned);
    memset(d, 0, sizeof *d);
}

const void *snap_dump_ptr(const struct snap_dump *d, uint64_t addr, uint64_t len)
{
    if (snap_in(&d->frozen, addr, len)) return d->frozen.bytes + (addr - d->frozen.addr);
    if (snap_in(&d->persistent, addr, len)) return d->persistent.bytes + (addr - d->persistent.addr);
    return NULL;
}

int snap_dump_is_frozen(const struct snap_dump *d, uint64_t addr)
{
    return snap_in(&d->frozen, addr, 1);
}

void snap_dump_object(const struct snap_dump *d, size_t i, uint64_t *addr, uint64_t *size)
{
    *addr = d->frozen.addr + (uint64_t)d->objects[i].start16 * 16;
    *size = d->objects[i].size;
}

void snap_dump_build_id_hex(const struct snap_dump *d, char *out, size_t outlen)
{
    size_t o = 0;
    if (!outlen) return;
    for (size_t i = 0; i < d->build_id_len && o + 3 <= outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%02x", d->build_id[i]);
    out[o] = 0;
}
