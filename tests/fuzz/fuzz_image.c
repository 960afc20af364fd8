/* fuzz_image.c -- libFuzzer target for the image reader (rt_image_parse,
 * the validation both `lineiform run` and the loader stub run first).
 *
 * Input: one flag byte, then a candidate image.  With bit 0 of the flag set,
 * an input refused only for its checksum is re-stamped and parsed again, so
 * mutations reach the structural checks behind the checksum.  An image that
 * parses is walked the way the loader walks it (every segment's bytes,
 * import names, the frozen-object index, entry/roots lookups), so an
 * invariant the parser promises but does not check shows up under ASan.
 *
 *   make fuzz-image FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap_image_fmt.h"

static volatile uint8_t fuzz_sink;

static void fuzz_touch(const void *p, uint64_t n)
{
    const uint8_t *b = p;
    for (uint64_t i = 0; b && i < n; i += 512) fuzz_sink ^= b[i];
    if (b && n) fuzz_sink ^= b[n - 1];
}

static void fuzz_walk(const struct snap_image_info *in)
{
    for (size_t i = 0; i < in->nloads; i++) fuzz_touch(in->segs[i].bytes, in->segs[i].filesz);
    for (uint32_t i = 0; i < in->hdr->nimports; i++) {
        const char *n = in->strtab + in->imports[i].name;
        fuzz_touch(n, strlen(n) + 1);
    }
    for (uint32_t i = 0; i < in->hdr->nfrozen; i++) fuzz_sink ^= (uint8_t)in->frozen[i].size;
    fuzz_touch(in->interp_path, strlen(in->interp_path) + 1);
    fuzz_touch(in->hdr->build_id, in->hdr->build_id_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1); /* exact size: ASan sees any over-read; 16-aligned */
    if (!buf) return 0;
    memcpy(buf, data + 1, len);
    struct snap_image_info info;
    char why[256];
    enum lf_status s = rt_image_parse(buf, len, &info, why, sizeof why);
    if (s == LF_ERR_CHECKSUM && (data[0] & 1)) {
        uint64_t sum = snap_checksum(buf, len, info.checksum_offset);
        memcpy(buf + info.checksum_offset, &sum, 8);
        s = rt_image_parse(buf, len, &info, why, sizeof why);
    }
    if (s == LF_OK) fuzz_walk(&info);
    else if (!why[0] || strchr(why, '\n')) abort(); /* a reason, one line */
    free(buf);
    return 0;
}
