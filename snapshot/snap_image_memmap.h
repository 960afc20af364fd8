/* snap_image_memmap.h -- guest memory of a snapshot for the lifter: the
 * interpreter's ELF segments at their run-time addresses plus the heap
 * dump's arenas, as struct lift_memmap ranges (see lifter/codegen/lift_aot.h).
 * Owned resources: the interpreter's file bytes (snap_interp_close). */
#ifndef SNAP_IMAGE_MEMMAP_H
#define SNAP_IMAGE_MEMMAP_H

#include "lifter/codegen/lift_aot.h"
#include "snapshot/snap_dump.h"

#define SNAP_MAX_MAPS 32

struct snap_interp {
    uint8_t *file;
    size_t len;
    uint8_t build_id[64];
    size_t build_id_len;
    struct lift_memmap maps[SNAP_MAX_MAPS];
    size_t nmaps;
};

/* Read the interpreter at path, check its build-id against the dump's, and
 * list its PT_LOADs (moved by d->load_base) and d's arenas. */
enum lf_status snap_interp_open(const char *path, const struct snap_dump *d, struct snap_interp *in,
                                char *why, size_t whylen);
void snap_interp_close(struct snap_interp *in);

#endif
