/* fuzz_dump.c -- libFuzzer target for the heap-dump reader (snap_dump_parse).
 *
 * Input: one flag byte, then a candidate dump.  With bit 0 of the flag set
 * the checksum is recomputed first, so that mutations reach the structural
 * checks behind it instead of all stopping at the checksum.  A dump that
 * parses is then walked the way the CLI walks it (entry, roots, every
 * object), so an invariant the reader promises but does not check shows up
 * as an out-of-bounds read under ASan.
 *
 *   make fuzz-dump FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap_dump.h"

static volatile uint8_t fuzz_sink;

static void fuzz_touch(const void *p, uint64_t n)
{
    const uint8_t *b = p;
    for (uint64_t i = 0; b && i < n; i += 512) fuzz_sink ^= b[i];
    if (b && n) fuzz_sink ^= b[n - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t len = size - 1;
    uint8_t *buf = aligned_alloc(8, len ? (len + 7) & ~(size_t)7 : 8);
    if (!buf) return 0;
    memcpy(buf, data + 1, len);
    if ((data[0] & 1) && len >= 8) {
        uint64_t sum = rt_fnv1a(RT_FNV1A_INIT, buf, len - 8);
        memcpy(buf + len - 8, &sum, 8);
    }
    struct snap_dump d;
    char why[256];
    if (snap_dump_parse(buf, len, &d, why, sizeof why) == LF_OK) {
        fuzz_touch(snap_dump_ptr(&d, d.entry, 8), 8);
        if (d.roots) fuzz_touch(snap_dump_ptr(&d, d.roots, 1), 1);
        fuzz_touch(d.frozen.bytes, d.frozen.size);
        fuzz_touch(d.persistent.bytes, d.persistent.size);
        for (size_t i = 0; i < d.nobjects; i++) {
            uint64_t a, s;
            snap_dump_object(&d, i, &a, &s);
            fuzz_touch(snap_dump_ptr(&d, a, s), s);
        }
    } else if (!why[0] || strchr(why, '\n')) {
        abort(); /* every refusal carries a one-line reason */
    }
    free(buf);
    return 0;
}
