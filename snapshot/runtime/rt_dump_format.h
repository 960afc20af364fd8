/* rt_dump_format.h -- the heap dump file format, shared by its writer
 * (snapshot/runtime/rt_dump.c, inside the interpreter at lf_snapshot) and its
 * reader (snapshot/snap_dump.c, inside the lineiform CLI).
 *
 * One file, little-endian, every multi-byte field naturally aligned:
 *
 *   offset size  field
 *   0      8     magic           "LFHDUMP\n"
 *   8      4     version         RT_DUMP_VERSION (1); a reader refuses others
 *   12     4     header_size     sizeof(struct rt_dump_header) = 80
 *   16     8     file_size       bytes in the whole file, checksum included
 *   24     8     load_base       interpreter's load bias when the dump was made
 *                                (0 for a non-PIE binary)
 *   32     8     entry           the entry closure (inside the frozen arena)
 *   40     8     roots           the roots (inside the persistent arena, or 0)
 *   48     4     nsections       entries in the section table (<= RT_DUMP_MAX_SECTIONS)
 *   52     4     path_len        bytes of the interpreter path (no NUL, <= 4096)
 *   56     4     build_id_len    bytes of its GNU build-id (<= 64; 0 = none)
 *   60     4     page_size       4096
 *   64     16    reserved        zero
 *   80     path_len        interpreter path (/proc/self/exe resolved)
 *   ..     build_id_len    build-id bytes
 *   ..     pad to 8 with zero bytes
 *   ..     nsections x 40  section table (struct rt_dump_section)
 *   ..     section data, each at its own 8-aligned offset, in table order
 *   file_size-8  8  checksum     FNV-1a 64 over bytes [0, file_size - 8)
 *
 * Sections:
 *   RT_DUMP_SEC_FROZEN      the frozen arena's used bytes: addr = arena
 *                           base, size = used bytes rounded up to a page,
 *                           prot = PROT_READ.  At most one.
 *   RT_DUMP_SEC_PERSISTENT  the persistent arena's used bytes, likewise,
 *                           prot = PROT_READ|PROT_WRITE.  At most one.
 *   RT_DUMP_SEC_OBJECTS     the frozen-object index: size/8 entries of
 *                           struct rt_dump_object in address order, each
 *                           inside the frozen section; addr = frozen base,
 *                           prot = 0.  At most one.
 *
 * Invariants a reader checks (snap_dump.c): (1) magic, version, file_size
 * and checksum first, so damage is reported as such; (2) every section lies
 * inside the file before the checksum; (3) arenas are page-aligned and do
 * not overlap; (4) entry has 8 bytes inside the frozen arena; roots is 0 or
 * inside the persistent arena; (5) objects are sorted, disjoint and inside
 * the frozen arena.
 */
#ifndef RT_DUMP_FORMAT_H
#define RT_DUMP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define RT_DUMP_MAGIC        "LFHDUMP\n"
#define RT_DUMP_MAGIC_LEN    8
#define RT_DUMP_VERSION      1u
#define RT_DUMP_MAX_PATH     4096u
#define RT_DUMP_MAX_BUILD_ID 64u
#define RT_DUMP_MAX_SECTIONS 16u
#define RT_DUMP_PAGE         4096u

struct rt_dump_header {
    char     magic[RT_DUMP_MAGIC_LEN];
    uint32_t version;
    uint32_t header_size;
    uint64_t file_size;
    uint64_t load_base;
    uint64_t entry;
    uint64_t roots;
    uint32_t nsections;
    uint32_t path_len;
    uint32_t build_id_len;
    uint32_t page_size;
    uint64_t reserved[2];
};

enum rt_dump_sec_kind {
    RT_DUMP_SEC_FROZEN = 1,
    RT_DUMP_SEC_PERSISTENT = 2,
    RT_DUMP_SEC_OBJECTS = 3,
};

struct rt_dump_section {
    uint32_t kind;   /* enum rt_dump_sec_kind */
    uint32_t prot;   /* PROT_* bits the section is mapped with at run time */
    uint64_t addr;   /* run-time address */
    uint64_t size;   /* bytes of data in the file */
    uint64_t offset; /* file offset of the data (8-aligned) */
    uint64_t reserved;
};

/* One frozen object: start = frozen base + start16 * 16. */
struct rt_dump_object {
    uint32_t start16;
    uint32_t size;
};

_Static_assert(sizeof(struct rt_dump_header) == 80, "dump header layout");
_Static_assert(sizeof(struct rt_dump_section) == 40, "dump section layout");
_Static_assert(sizeof(struct rt_dump_object) == 8, "dump object layout");

#define RT_FNV1A_INIT 0xcbf29ce484222325ULL

/* FNV-1a 64 of n bytes at p, continuing from h. */
static inline uint64_t rt_fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#endif
