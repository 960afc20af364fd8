/* rt_image.c -- the image loader stub: validates an image and maps it into
 * the running interpreter (image mode).  libc only: it runs inside every
 * interpreter that links liblineiform-rt.a.  The format is described in
 * snapshot/snap_image_fmt.h and the README ("Image format").
 *
 * Inputs: an image path (untrusted bytes).  Outputs: the compiled entry,
 * the entry closure and the roots, or a status and a one-line reason.
 *
 *   read file ──▶ rt_image_parse (ELF header, program headers, note,
 *                 checksum, address ranges)           pure, no side effects
 *             ──▶ check build-id + load base of this process
 *             ──▶ map code/rodata/GOT/data RW (MAP_FIXED_NOREPLACE), copy,
 *                 resolve imports into the GOT, mprotect to R+X / R
 *             ──▶ arenas through rt_arena_map_fixed (frozen R, persistent
 *                 RW private), frozen-object index
 *             ──▶ rt_arena_seal: no writable view or descriptor of the
 *                 frozen arena is left while the image runs
 *
 * Invariants:
 *   (1) Segment bytes are copied from the buffer that was checksummed, so
 *       what runs is what was validated (no re-read of the file).
 *   (2) No page is ever writable and executable at once: code is mapped
 *       RW, filled, then switched to R+X.
 *   (3) On failure every code-window mapping made so far is unmapped.  The
 *       arenas are mapped last, after everything else that can fail; what an
 *       arena call already mapped stays inside the runtime's reservation
 *       (lf_init exits with status 2 right after a failure anyway).
 */
#include "snapshot/runtime/rt_internal.h"
#include "snapshot/snap_image_fmt.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(struct snap_note_hdr) == 144, "note header layout");
_Static_assert(sizeof(struct snap_import) == 16, "import layout");
_Static_assert(sizeof(struct snap_frozen_obj) == 16, "frozen index layout");

/* -- Helpers ------------------------------------------------------------ */

static enum lf_status rt_img_fail(enum lf_status s, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum lf_status rt_img_fail(enum lf_status s, char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && whylen) vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return s;
}

#define RT_IMG_FAIL(s, ...) return rt_img_fail((s), why, whylen, __VA_ARGS__)

uint64_t snap_checksum(const uint8_t *buf, size_t len, uint64_t skip)
{
    const uint64_t mul = 0x9e3779b97f4a7c15ULL | 1;
    uint64_t h = 0x6c696e6569666f72ULL ^ (uint64_t)len;
    int skipping = len >= 8 && skip <= len - 8 && skip % 8 == 0;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = 0;
        size_t n = len - i < 8 ? len - i : 8;
        if (!(skipping && i == skip)) memcpy(&w, buf + i, n);
        h = (h ^ w) * mul;
        h ^= h >> 29;
    }
    return h ^ (h >> 32);
}

const char *snap_seg_kind_name(enum snap_seg_kind k)
{
    static const char *const names[SNAP_SEG__MAX] = {
        [SNAP_SEG_CODE] = "code", [SNAP_SEG_RODATA] = "rodata", [SNAP_SEG_GOT] = "got",
        [SNAP_SEG_DATA] = "data", [SNAP_SEG_FROZEN] = "frozen", [SNAP_SEG_PERSIST] = "persistent",
        [SNAP_SEG_UNWIND] = "unwind",
    };
    return (unsigned)k < SNAP_SEG__MAX && names[k] ? names[k] : "unknown";
}

/* a + b <= lim without overflow */
static int rt_img_fits(uint64_t a, uint64_t b, uint64_t lim) { return a <= lim && b <= lim - a; }

/* -- Parsing (untrusted input) ------------------------------------------ */

static enum lf_status rt_img_ehdr(const uint8_t *buf, size_t len, char *why, size_t whylen)
{
    Elf64_Ehdr eh;
    if (len < 4 || memcmp(buf, ELFMAG, SELFMAG) != 0)
        RT_IMG_FAIL(LF_ERR_NOT_ELF, "not an image (no ELF magic)");
    if (len < sizeof eh) RT_IMG_FAIL(LF_ERR_TRUNCATED, "truncated image (%zu bytes)", len);
    memcpy(&eh, buf, sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_X86_64)
        RT_IMG_FAIL(LF_ERR_ELF_CLASS, "not a 64-bit little-endian x86-64 image");
    if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
        RT_IMG_FAIL(LF_ERR_VERSION, "unsupported ELF version %u", (unsigned)eh.e_version);
    if (eh.e_type != ET_EXEC) RT_IMG_FAIL(LF_ERR_FORMAT, "ELF type %u is not an image", eh.e_type);
    if (eh.e_ehsize != sizeof eh || eh.e_phentsize != sizeof(Elf64_Phdr))
        RT_IMG_FAIL(LF_ERR_FORMAT, "bad ELF header or program header size");
    if (eh.e_phnum < 2 || eh.e_phnum > SNAP_MAX_SEGS + 1)
        RT_IMG_FAIL(LF_ERR_FORMAT, "bad program header count %u", eh.e_phnum);
    if (!rt_img_fits(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
        RT_IMG_FAIL(LF_ERR_TRUNCATED, "program headers beyond end of file");
    if (eh.e_phoff % 8) RT_IMG_FAIL(LF_ERR_FORMAT, "misaligned program headers");
    if (eh.e_shnum && (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum))
        RT_IMG_FAIL(LF_ERR_FORMAT, "bad section header table");
    /* Where the section headers lie is checked by rt_image_parse once the
     * note's file size has told a truncated image (they come last, so a cut
     * loses them first) from a malformed one. */
    return LF_OK;
}

/* What rt_img_phdrs would refuse by type alone, from the headers that lie
 * in the first plen bytes: so that a large ELF file that is no image is
 * refused before it is read whole. */
static enum lf_status rt_img_peek_phdrs(const uint8_t *p, size_t plen, char *why, size_t whylen)
{
    Elf64_Ehdr eh;
    memcpy(&eh, p, sizeof eh);
    int notes = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (!rt_img_fits(eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph, plen)) break;
        memcpy(&ph, p + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        if ((ph.p_type == PT_NOTE && !notes++) || ph.p_type == PT_LOAD) continue;
        RT_IMG_FAIL(LF_ERR_FORMAT, "unexpected program header %u (type %u): not an image", i, ph.p_type);
    }
    return LF_OK;
}

/* Find the lineiform note inside the PT_NOTE segment. */
static enum lf_status rt_img_note(const uint8_t *buf, size_t len, const Elf64_Phdr *ph,
                                  uint64_t *desc_off, uint64_t *desc_len, char *why, size_t whylen)
{
    if (!rt_img_fits(ph->p_offset, ph->p_filesz, len))
        RT_IMG_FAIL(LF_ERR_TRUNCATED, "note beyond end of file");
    uint64_t off = ph->p_offset, end = ph->p_offset + ph->p_filesz;
    while (off <= end && end - off >= sizeof(Elf64_Nhdr)) { /* padding may step past end */
        Elf64_Nhdr nh;
        memcpy(&nh, buf + off, sizeof nh);
        uint64_t name_off = off + sizeof nh;
        uint64_t d_off = name_off + (((uint64_t)nh.n_namesz + 3) & ~3ULL);
        uint64_t d_len = nh.n_descsz;
        if (d_off > end || !rt_img_fits(d_off, d_len, end))
            RT_IMG_FAIL(LF_ERR_FORMAT, "malformed note");
        if (nh.n_type == SNAP_NOTE_TYPE && nh.n_namesz == sizeof SNAP_NOTE_NAME &&
            !memcmp(buf + name_off, SNAP_NOTE_NAME, sizeof SNAP_NOTE_NAME)) {
            *desc_off = d_off;
            *desc_len = d_len;
            return LF_OK;
        }
        off = d_off + ((d_len + 3) & ~3ULL);
    }
    RT_IMG_FAIL(LF_ERR_FORMAT, "no lineiform note: not an image");
}

/* Check the note's tables and strings; fill info->kinds etc. */
static enum lf_status rt_img_tables(const uint8_t *d, uint64_t dlen, struct snap_image_info *info,
                                    char *why, size_t whylen)
{
    const struct snap_note_hdr *h = info->hdr;
    if (h->nsegs > SNAP_MAX_SEGS || h->nimports > SNAP_MAX_IMPORTS ||
        h->build_id_len > SNAP_MAX_BUILD_ID || h->reserved)
        RT_IMG_FAIL(LF_ERR_FORMAT, "bad note header counts");
    uint64_t off = sizeof *h;
    uint64_t kinds_len = ((uint64_t)h->nsegs * 4 + 7) & ~7ULL;
    uint64_t need = off + kinds_len + (uint64_t)h->nimports * sizeof(struct snap_import) +
                    (uint64_t)h->nfrozen * sizeof(struct snap_frozen_obj) + h->strtab_size;
    if (h->nfrozen > (dlen / sizeof(struct snap_frozen_obj)) || need != dlen)
        RT_IMG_FAIL(LF_ERR_FORMAT, "note size %llu does not match its tables",
                    (unsigned long long)dlen);
    info->kinds = (const uint32_t *)(d + off);
    off += kinds_len;
    info->imports = (const struct snap_import *)(d + off);
    off += (uint64_t)h->nimports * sizeof(struct snap_import);
    info->frozen = (const struct snap_frozen_obj *)(d + off);
    off += (uint64_t)h->nfrozen * sizeof(struct snap_frozen_obj);
    info->strtab = (const char *)(d + off);
    if (h->strtab_size == 0 || info->strtab[0] || info->strtab[h->strtab_size - 1])
        RT_IMG_FAIL(LF_ERR_FORMAT, "bad note string table");
    if (h->interp_path == 0 || h->interp_path >= h->strtab_size)
        RT_IMG_FAIL(LF_ERR_FORMAT, "bad interpreter path in note");
    info->interp_path = info->strtab + h->interp_path;
    return LF_OK;
}

static int rt_img_kind_ok(uint32_t kind, uint32_t flags)
{
    switch (kind) {
    case SNAP_SEG_CODE: return flags == (PF_R | PF_X);
    case SNAP_SEG_RODATA: case SNAP_SEG_GOT: case SNAP_SEG_FROZEN: case SNAP_SEG_UNWIND: return flags == PF_R;
    case SNAP_SEG_DATA: case SNAP_SEG_PERSIST: return flags == (PF_R | PF_W);
    default: return 0;
    }
}

/* Where a segment of this kind may live. */
static void rt_img_window(uint32_t kind, uint64_t *lo, uint64_t *hi)
{
    if (kind == SNAP_SEG_FROZEN) *lo = RT_FROZEN_BASE, *hi = RT_FROZEN_BASE + RT_ARENA_RESERVE;
    else if (kind == SNAP_SEG_PERSIST) *lo = RT_PERSIST_BASE, *hi = RT_PERSIST_BASE + RT_ARENA_RESERVE;
    else *lo = SNAP_CODE_BASE, *hi = SNAP_CODE_LIMIT;
}

static enum lf_status rt_img_seg(const uint8_t *buf, size_t len, const Elf64_Phdr *ph,
                                 uint32_t kind, struct snap_image_seg *s, char *why, size_t whylen)
{
    uint64_t lo, hi;
    if (!rt_img_kind_ok(kind, ph->p_flags))
        RT_IMG_FAIL(LF_ERR_FORMAT, "segment at 0x%llx: bad kind %u or protection %u",
                    (unsigned long long)ph->p_vaddr, kind, ph->p_flags);
    if (ph->p_vaddr % SNAP_PAGE || ph->p_offset % SNAP_PAGE || ph->p_memsz == 0 ||
        ph->p_filesz > ph->p_memsz || (kind != SNAP_SEG_DATA && ph->p_filesz != ph->p_memsz) ||
        ph->p_paddr != ph->p_vaddr)
        RT_IMG_FAIL(LF_ERR_FORMAT, "segment at 0x%llx: bad alignment or sizes",
                    (unsigned long long)ph->p_vaddr);
    if (!rt_img_fits(ph->p_offset, ph->p_filesz, len))
        RT_IMG_FAIL(LF_ERR_TRUNCATED, "truncated image: %s segment beyond end of file",
                    snap_seg_kind_name(kind));
    rt_img_window(kind, &lo, &hi);
    if (ph->p_vaddr < lo || !rt_img_fits(ph->p_vaddr, ph->p_memsz, hi))
        RT_IMG_FAIL(LF_ERR_FORMAT, "%s segment at 0x%llx outside its address window",
                    snap_seg_kind_name(kind), (unsigned long long)ph->p_vaddr);
    *s = (struct snap_image_seg){ kind, ph->p_vaddr, ph->p_memsz, ph->p_filesz, ph->p_offset,
                                  buf + ph->p_offset };
    return LF_OK;
}

static const struct snap_image_seg *rt_img_find(const struct snap_image_info *info, uint64_t addr,
                                                uint64_t size, uint32_t kind)
{
    for (size_t i = 0; i < info->nloads; i++) {
        const struct snap_image_seg *s = &info->segs[i];
        if ((kind == 0 || s->kind == kind) && addr >= s->vaddr &&
            rt_img_fits(addr - s->vaddr, size, s->memsz))
            return s;
    }
    return NULL;
}

/* Program headers: exactly one PT_NOTE; PT_LOADs sorted, disjoint. */
static enum lf_status rt_img_phdrs(const uint8_t *buf, size_t len, struct snap_image_info *info,
                                   uint64_t *note_off, uint64_t *note_len, char *why, size_t whylen)
{
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    Elf64_Phdr note, loads[SNAP_MAX_SEGS];
    int have_note = 0;
    size_t nloads = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, buf + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_NOTE && !have_note) {
            note = ph;
            have_note = 1;
        } else if (ph.p_type == PT_LOAD && nloads < SNAP_MAX_SEGS) {
            loads[nloads++] = ph;
        } else {
            RT_IMG_FAIL(LF_ERR_FORMAT, "unexpected program header %u (type %u)", i, ph.p_type);
        }
    }
    if (!have_note) RT_IMG_FAIL(LF_ERR_FORMAT, "no note segment: not an image");
    LF_CHECK(rt_img_note(buf, len, &note, note_off, note_len, why, whylen));
    if (*note_len < sizeof(struct snap_note_hdr) || *note_off % 8)
        RT_IMG_FAIL(LF_ERR_FORMAT, "note too short or misaligned");
    info->hdr = (const struct snap_note_hdr *)(buf + *note_off);
    if (info->hdr->version != SNAP_IMAGE_VERSION)
        RT_IMG_FAIL(LF_ERR_VERSION, "image format version %u, expected %u", info->hdr->version,
                    SNAP_IMAGE_VERSION);
    if (info->hdr->nsegs != nloads)
        RT_IMG_FAIL(LF_ERR_FORMAT, "note names %u segments, file has %zu", info->hdr->nsegs, nloads);
    LF_CHECK(rt_img_tables(buf + *note_off, *note_len, info, why, whylen));
    info->nloads = nloads;
    for (size_t i = 0; i < nloads; i++) {
        LF_CHECK(rt_img_seg(buf, len, &loads[i], info->kinds[i], &info->segs[i], why, whylen));
        if (i && info->segs[i].vaddr < info->segs[i - 1].vaddr + info->segs[i - 1].memsz)
            RT_IMG_FAIL(LF_ERR_FORMAT, "segments overlap or are out of order");
    }
    return LF_OK;
}

/* Entry, roots, imports, frozen index: addresses where they must be. */
static enum lf_status rt_img_refs(const struct snap_image_info *info, char *why, size_t whylen)
{
    const struct snap_note_hdr *h = info->hdr;
    if (!rt_img_find(info, h->entry_code, 1, SNAP_SEG_CODE))
        RT_IMG_FAIL(LF_ERR_FORMAT, "entry code 0x%llx is not in a code segment",
                    (unsigned long long)h->entry_code);
    if (!rt_img_find(info, h->entry_closure, 8, SNAP_SEG_FROZEN))
        RT_IMG_FAIL(LF_ERR_FORMAT, "entry closure 0x%llx is not in frozen memory",
                    (unsigned long long)h->entry_closure);
    if (h->roots && !rt_img_find(info, h->roots, 1, SNAP_SEG_PERSIST))
        RT_IMG_FAIL(LF_ERR_FORMAT, "roots 0x%llx are not in persistent memory",
                    (unsigned long long)h->roots);
    for (uint32_t i = 0; i < h->nimports; i++) {
        const struct snap_import *im = &info->imports[i];
        if (im->slot % 8 || im->reserved || !rt_img_find(info, im->slot, 8, SNAP_SEG_GOT))
            RT_IMG_FAIL(LF_ERR_FORMAT, "import %u: slot outside the import table", i);
        if (im->name == 0 || im->name >= h->strtab_size ||
            strnlen(info->strtab + im->name, SNAP_MAX_NAME + 1) > SNAP_MAX_NAME)
            RT_IMG_FAIL(LF_ERR_FORMAT, "import %u: bad name", i);
    }
    for (uint32_t i = 0; i < h->nfrozen; i++)
        if (!rt_img_find(info, info->frozen[i].addr, info->frozen[i].size, SNAP_SEG_FROZEN) ||
            (i && info->frozen[i].addr < info->frozen[i - 1].addr + info->frozen[i - 1].size))
            RT_IMG_FAIL(LF_ERR_FORMAT, "frozen object %u outside frozen memory or out of order", i);
    return LF_OK;
}

enum lf_status rt_image_parse(const uint8_t *buf, size_t len, struct snap_image_info *info,
                              char *why, size_t whylen)
{
    uint64_t note_off = 0, note_len = 0;
    if (!buf || !info) RT_IMG_FAIL(LF_ERR_INVALID_ARG, "no image");
    memset(info, 0, sizeof *info);
    LF_CHECK(rt_img_ehdr(buf, len, why, whylen));
    LF_CHECK(rt_img_phdrs(buf, len, info, &note_off, &note_len, why, whylen));
    if (info->hdr->file_size != len)
        RT_IMG_FAIL(len < info->hdr->file_size ? LF_ERR_TRUNCATED : LF_ERR_FORMAT,
                    "image is %zu bytes, its note says %llu%s", len,
                    (unsigned long long)info->hdr->file_size,
                    len < info->hdr->file_size ? " (truncated)" : "");
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    if (eh.e_shnum && !rt_img_fits(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len))
        RT_IMG_FAIL(LF_ERR_FORMAT, "bad section header table: beyond the end of the file");
    info->checksum_offset = note_off + offsetof(struct snap_note_hdr, checksum);
    if (snap_checksum(buf, len, info->checksum_offset) != info->hdr->checksum)
        RT_IMG_FAIL(LF_ERR_CHECKSUM, "checksum mismatch: the image is damaged");
    return rt_img_refs(info, why, whylen);
}

/* -- Loading into this process ------------------------------------------ */

#define RT_IMG_PEEK 4096

enum lf_status rt_image_read_fd(int fd, uint8_t **buf, size_t *len, char *why, size_t whylen)
{
    struct stat st;
    uint8_t peek[RT_IMG_PEEK];
    *buf = NULL;
    *len = 0;
    if (fstat(fd, &st) != 0) RT_IMG_FAIL(LF_ERR_IO, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        RT_IMG_FAIL(LF_ERR_IO, "not a regular file (%s)", S_ISDIR(st.st_mode) ? "a directory"
                    : S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device"
                    : S_ISSOCK(st.st_mode) ? "a socket" : S_ISBLK(st.st_mode) ? "a block device" : "special");
    if ((uint64_t)st.st_size > SIZE_MAX) RT_IMG_FAIL(LF_ERR_NOMEM, "%llu bytes: too large",
                                                     (unsigned long long)st.st_size);
    size_t size = (size_t)st.st_size, plen = size < sizeof peek ? size : sizeof peek;
    /* The header first: a file that is no image is refused without being
     * read (a 1 GiB one took 5 s and 1 GB of memory to say "no ELF magic"). */
    ssize_t k;
    while ((k = pread(fd, peek, plen, 0)) < 0 && errno == EINTR) {}
    if (k < 0) RT_IMG_FAIL(LF_ERR_IO, "cannot read: %s", strerror(errno));
    if ((size_t)k < plen)
        RT_IMG_FAIL(LF_ERR_IO, "only %zd of %zu bytes could be read (is it being written?)", k, size);
    if (plen < sizeof(Elf64_Ehdr)) return rt_img_ehdr(peek, plen, why, whylen); /* says why */
    LF_CHECK(rt_img_ehdr(peek, size, why, whylen));
    LF_CHECK(rt_img_peek_phdrs(peek, plen, why, whylen));
    uint8_t *b = malloc(size ? size : 1);
    if (!b) RT_IMG_FAIL(LF_ERR_NOMEM, "out of memory for the image (%zu bytes)", size);
    size_t got = 0;
    while (got < size) {
        k = pread(fd, b + got, size - got, (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int e = k < 0 ? errno : 0;
            free(b);
            if (e) RT_IMG_FAIL(LF_ERR_IO, "cannot read: %s", strerror(e));
            RT_IMG_FAIL(LF_ERR_TRUNCATED, "only %zu of %zu bytes could be read (did the file shrink?)", got, size);
        }
        got += (size_t)k;
    }
    *buf = b;
    *len = size;
    return LF_OK;
}

static enum lf_status rt_img_read(const char *path, uint8_t **buf, size_t *len, char *why,
                                  size_t whylen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) RT_IMG_FAIL(LF_ERR_IO, "cannot open: %s", strerror(errno));
    enum lf_status s = rt_image_read_fd(fd, buf, len, why, whylen);
    close(fd);
    return s;
}

static void rt_img_hex(char *out, size_t cap, const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i < n && 2 * i + 2 < cap; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
    out[2 * i < cap ? 2 * i : 0] = 0;
}

/* The image must come from this very interpreter build, loaded where it was. */
static enum lf_status rt_img_check_self(const struct snap_image_info *info, char *why, size_t whylen)
{
    uint8_t id[SNAP_MAX_BUILD_ID];
    size_t n = rt_self_build_id(id, sizeof id);
    const struct snap_note_hdr *h = info->hdr;
    if (h->build_id_len == 0) /* 0 bytes equal 0 bytes: a rebuilt interpreter would pass */
        RT_IMG_FAIL(LF_ERR_MISMATCH, "the image records no interpreter build-id, so it cannot be checked; "
                    "make it again with 'lineiform snapshot'");
    if (n != h->build_id_len || memcmp(id, h->build_id, n) != 0) {
        char want[2 * SNAP_MAX_BUILD_ID + 1], have[2 * SNAP_MAX_BUILD_ID + 1];
        rt_img_hex(want, sizeof want, h->build_id, h->build_id_len);
        rt_img_hex(have, sizeof have, id, n);
        RT_IMG_FAIL(LF_ERR_MISMATCH, "made for interpreter build-id %s (%s), this is %s",
                    want[0] ? want : "(none)", info->interp_path, have[0] ? have : "(none)");
    }
    uint64_t base = rt_self_load_base();
    if (base != h->interp_load_base)
        RT_IMG_FAIL(LF_ERR_MISMATCH, "interpreter loaded at 0x%llx, the image needs 0x%llx",
                    (unsigned long long)base, (unsigned long long)h->interp_load_base);
    return LF_OK;
}

static void rt_img_unmap(const struct snap_image_info *info, size_t upto)
{
    for (size_t i = 0; i < upto; i++) {
        const struct snap_image_seg *s = &info->segs[i];
        if (s->kind != SNAP_SEG_FROZEN && s->kind != SNAP_SEG_PERSIST)
            munmap((void *)(uintptr_t)s->vaddr, s->memsz);
    }
}

/* Map one code-window segment RW at its address and fill it. */
static enum lf_status rt_img_map_seg(const struct snap_image_seg *s, char *why, size_t whylen)
{
    void *want = (void *)(uintptr_t)s->vaddr;
    void *p = mmap(want, s->memsz, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != want) {
        int e = errno;
        if (p != MAP_FAILED) munmap(p, s->memsz);
        RT_IMG_FAIL(LF_ERR_ADDR_TAKEN, "%s segment 0x%llx-0x%llx: address range already in use%s%s",
                    snap_seg_kind_name(s->kind), (unsigned long long)s->vaddr,
                    (unsigned long long)(s->vaddr + s->memsz), p == MAP_FAILED ? ": " : "",
                    p == MAP_FAILED ? strerror(e) : "");
    }
    memcpy(p, s->bytes, s->filesz);
    return LF_OK;
}

/* Images count the calls their code makes into the interpreter's own code
 * (what stays interpreted) in this word, imported by name; with
 * LINEIFORM_STATS set the count is printed to stderr at exit. */
uint64_t lf_rt_interp_calls;

static void rt_img_stats(void)
{
    fprintf(stderr, "lineiform: %llu calls from compiled code into the interpreter's code\n",
            (unsigned long long)lf_rt_interp_calls);
}

/* dlsym in the process, then in libm (interpreters need not link it). */
static void *rt_img_resolve(const char *name)
{
    if (!strcmp(name, "lf_rt_interp_calls")) return &lf_rt_interp_calls;
    void *p = dlsym(RTLD_DEFAULT, name);
    if (!p) {
        void *libm = dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
        if (!libm) libm = dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL);
        if (libm) p = dlsym(libm, name);
    }
    return p;
}

static enum lf_status rt_img_map_code(const struct snap_image_info *info, char *why, size_t whylen)
{
    size_t i;
    enum lf_status s = LF_OK;
    for (i = 0; i < info->nloads && s == LF_OK; i++)
        if (info->segs[i].kind != SNAP_SEG_FROZEN && info->segs[i].kind != SNAP_SEG_PERSIST)
            s = rt_img_map_seg(&info->segs[i], why, whylen);
    if (s != LF_OK) {
        rt_img_unmap(info, i - 1);
        return s;
    }
    static int stats_once;
    if (!stats_once++ && getenv("LINEIFORM_STATS")) atexit(rt_img_stats);
    for (uint32_t k = 0; k < info->hdr->nimports; k++) {
        const char *name = info->strtab + info->imports[k].name;
        void *addr = rt_img_resolve(name);
        if (!addr) {
            rt_img_unmap(info, info->nloads);
            RT_IMG_FAIL(LF_ERR_FORMAT, "cannot resolve imported symbol '%s'", name);
        }
        memcpy((void *)(uintptr_t)info->imports[k].slot, &addr, sizeof addr);
    }
    for (i = 0; i < info->nloads; i++) {
        const struct snap_image_seg *sg = &info->segs[i];
        int prot = sg->kind == SNAP_SEG_CODE ? PROT_READ | PROT_EXEC
                   : sg->kind == SNAP_SEG_DATA ? PROT_READ | PROT_WRITE : PROT_READ;
        if (sg->kind == SNAP_SEG_FROZEN || sg->kind == SNAP_SEG_PERSIST) continue;
        if (mprotect((void *)(uintptr_t)sg->vaddr, sg->memsz, prot) != 0) {
            rt_img_unmap(info, info->nloads);
            RT_IMG_FAIL(LF_ERR_IO, "mprotect: %s", strerror(errno));
        }
    }
    /* The unwinder learns the compiled code's frames, so that a C++
     * exception or a Rust panic thrown below compiled code reaches the
     * program's handlers (libgcc's __register_frame: present in every
     * process that can throw; a process without it cannot unwind anyway). */
    void (*reg)(const void *) = (void (*)(const void *))dlsym(RTLD_DEFAULT, "__register_frame");
    for (i = 0; reg && i < info->nloads; i++)
        if (info->segs[i].kind == SNAP_SEG_UNWIND) reg((const void *)(uintptr_t)info->segs[i].vaddr);
    return LF_OK;
}

static enum lf_status rt_img_map_arenas(const struct snap_image_info *info, char *why, size_t whylen)
{
    for (size_t i = 0; i < info->nloads; i++) {
        const struct snap_image_seg *s = &info->segs[i];
        if (s->kind != SNAP_SEG_FROZEN && s->kind != SNAP_SEG_PERSIST) continue;
        enum rt_arena_kind k = s->kind == SNAP_SEG_FROZEN ? RT_ARENA_FROZEN : RT_ARENA_PERSISTENT;
        int prot = s->kind == SNAP_SEG_FROZEN ? PROT_READ : PROT_READ | PROT_WRITE;
        enum lf_status st = rt_arena_map_fixed(k, s->vaddr, s->memsz, prot, s->bytes);
        if (st != LF_OK)
            RT_IMG_FAIL(st == LF_ERR_INVALID_ARG ? LF_ERR_ADDR_TAKEN : st,
                        "%s arena at 0x%llx (%llu bytes): %s", snap_seg_kind_name(s->kind),
                        (unsigned long long)s->vaddr, (unsigned long long)s->memsz,
                        lf_status_str(st));
    }
    for (uint32_t i = 0; i < info->hdr->nfrozen; i++)
        rt_frozen_index_add(info->frozen[i].addr, info->frozen[i].size);
    return LF_OK;
}

enum lf_status rt_image_load(const char *path, void **code, void **entry, void **roots,
                             char *why, size_t whylen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct snap_image_info info;
    char sub[384];
    if (!path || !code || !entry || !roots) RT_IMG_FAIL(LF_ERR_INVALID_ARG, "no image path");
    enum lf_status s = rt_img_read(path, &buf, &len, sub, sizeof sub);
    if (s == LF_OK) s = rt_image_parse(buf, len, &info, sub, sizeof sub);
    if (s == LF_OK) s = rt_img_check_self(&info, sub, sizeof sub);
    if (s == LF_OK) s = rt_img_map_code(&info, sub, sizeof sub);
    if (s == LF_OK && (s = rt_img_map_arenas(&info, sub, sizeof sub)) != LF_OK)
        rt_img_unmap(&info, info.nloads); /* the arenas stay reserved, as before */
    /* Frozen memory must stay frozen while the image runs: its compiled
     * code has the values folded in, so a write would make the image and
     * the heap disagree.  Nothing freezes in image mode. */
    if (s == LF_OK && (s = rt_arena_seal()) != LF_OK)
        snprintf(sub, sizeof sub, "cannot seal the frozen arena: %s", strerror(errno));
    if (s == LF_OK) {
        *code = (void *)(uintptr_t)info.hdr->entry_code;
        *entry = (void *)(uintptr_t)info.hdr->entry_closure;
        *roots = (void *)(uintptr_t)info.hdr->roots;
    }
    free(buf);
    if (s != LF_OK) RT_IMG_FAIL(s, "%s: %s", path, sub);
    return LF_OK;
}
