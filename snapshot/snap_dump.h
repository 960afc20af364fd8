/* snap_dump.h -- reading a heap dump (written by lf_snapshot; format in
 * snapshot/runtime/rt_dump_format.h) in the lineiform CLI.
 *
 * A dump that passes snap_dump_parse is safe to use as is: every pointer in
 * struct snap_dump points inside the caller's buffer (or the file bytes the
 * reader owns), every arena is page-aligned and disjoint from the others,
 * entry has 8 bytes in the frozen arena, roots is 0 or in the persistent
 * arena, and the object index is sorted and inside the frozen arena.  A dump
 * that fails gets a status (LF_ERR_TRUNCATED, LF_ERR_CHECKSUM, LF_ERR_VERSION,
 * LF_ERR_FORMAT, LF_ERR_IO) and a one-line reason without a newline.
 */
#ifndef SNAP_DUMP_H
#define SNAP_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "lineiform.h"
#include "snapshot/runtime/rt_dump_format.h"

struct snap_dump_arena {
    uint64_t addr;        /* run-time address */
    uint64_t size;        /* bytes (a page multiple) */
    uint32_t prot;        /* PROT_READ, or PROT_READ|PROT_WRITE */
    const uint8_t *bytes; /* its contents */
};

struct snap_dump {
    uint32_t version;
    char interp_path[RT_DUMP_MAX_PATH + 1]; /* NUL-terminated */
    uint8_t build_id[RT_DUMP_MAX_BUILD_ID];
    size_t build_id_len;
    uint64_t load_base;
    uint64_t entry, roots;
    struct snap_dump_arena frozen;     /* size 0 when absent (never, if valid) */
    struct snap_dump_arena persistent; /* size 0 when the program allocated none */
    const struct rt_dump_object *objects; /* frozen objects, address order */
    size_t nobjects;
    uint8_t *owned; /* file bytes read by snap_dump_read, else NULL */
    size_t owned_len;
};

/* Parse len bytes at buf (kept by reference: buf must outlive d). */
enum lf_status snap_dump_parse(const void *buf, size_t len, struct snap_dump *d, char *why,
                               size_t whylen);

/* Read and parse the file at path; d owns the bytes (snap_dump_free). */
enum lf_status snap_dump_read(const char *path, struct snap_dump *d, char *why, size_t whylen);
/* The same from the regular file open at fd (read from offset 0, the
 * offset untouched); name is for messages. */
enum lf_status snap_dump_read_fd(int fd, const char *name, struct snap_dump *d, char *why, size_t whylen);

void snap_dump_free(struct snap_dump *d);

/* Host address of [addr, addr+len) of either arena, or NULL when the range
 * is not wholly inside one. */
const void *snap_dump_ptr(const struct snap_dump *d, uint64_t addr, uint64_t len);

/* 1 when addr lies in the frozen arena. */
int snap_dump_is_frozen(const struct snap_dump *d, uint64_t addr);

/* The i-th frozen object's address and size. */
void snap_dump_object(const struct snap_dump *d, size_t i, uint64_t *addr, uint64_t *size);

/* Build-id as lowercase hex into out (at least 2*RT_DUMP_MAX_BUILD_ID+1). */
void snap_dump_build_id_hex(const struct snap_dump *d, char *out, size_t outlen);

#endif
