/* snap_image_memmap.c -- the lifter's view of guest memory for an image:
 * the interpreter's loadable segments (from its ELF file, moved by the
 * dump's load base) and the heap dump's arenas.
 *
 * Constant ranges: read-only and executable segments of the interpreter
 * (their file bytes are what runs: nothing relocates them) and the frozen
 * arena.  Writable segments (.data, .got, RELRO, whose file bytes are not
 * their run-time values in a PIE) and the persistent arena are mapped but
 * not constant, so the lifter emits real loads for them.
 *
 * Invariant: the interpreter file's GNU build-id equals the dump's, so the
 * bytes lifted are the bytes that ran when the dump was made.
 */
#include "snapshot/snap_image.h"
#include "snapshot/snap_image_memmap.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum lf_status mm_fail(char *why, size_t whylen, enum lf_status s, const char *msg,
                              const char *path)
{
    snprintf(why, whylen, "%s: %s", path, msg);
    return s;
}

/* The GNU build-id from the file's PT_NOTE segments; length or 0. */
static size_t mm_build_id(Elf *e, size_t nph, uint8_t *out, size_t cap)
{
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE) continue;
        Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
        size_t off = 0, name_off, desc_off;
        GElf_Nhdr nh;
        while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                !memcmp((char *)d->d_buf + name_off, "GNU", 4) && nh.n_descsz <= cap) {
                memcpy(out, (char *)d->d_buf + desc_off, nh.n_descsz);
                return nh.n_descsz;
            }
        }
    }
    return 0;
}

static enum lf_status mm_segments(struct snap_interp *in, Elf *e, size_t nph, uint64_t load_base,
                                  char *why, size_t whylen, const char *path)
{
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph)) return mm_fail(why, whylen, LF_ERR_FORMAT, "bad program header", path);
        if (ph.p_type != PT_LOAD || ph.p_filesz == 0) continue;
        if (ph.p_offset > in->len || ph.p_filesz > in->len - ph.p_offset)
            return mm_fail(why, whylen, LF_ERR_TRUNCATED, "segment beyond end of file", path);
        if (in->nmaps >= SNAP_MAX_MAPS) return mm_fail(why, whylen, LF_ERR_FORMAT, "too many segments", path);
        in->maps[in->nmaps++] = (struct lift_memmap){
            .guest = ph.p_vaddr + load_base, .size = ph.p_filesz,
            .host = in->file + ph.p_offset, .constant = !(ph.p_flags & PF_W),
        };
    }
    return LF_OK;
}

static void mm_add_arena(struct snap_interp *in, const struct snap_dump_arena *a, int constant)
{
    if (a->size && in->nmaps < SNAP_MAX_MAPS)
        in->maps[in->nmaps++] = (struct lift_memmap){ a->addr, a->size, a->bytes, constant };
}

static enum lf_status mm_read(const char *path, struct snap_interp *in, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return LF_ERR_IO;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    in->len = n > 0 ? (size_t)n : 0;
    in->file = malloc(in->len ? in->len : 1);
    size_t got = in->file ? fread(in->file, 1, in->len, f) : 0;
    fclose(f);
    if (!in->file || got != in->len) return mm_fail(why, whylen, LF_ERR_IO, "read error", path);
    return LF_OK;
}

enum lf_status snap_interp_open(const char *path, const struct snap_dump *d, struct snap_interp *in,
                                char *why, size_t whylen)
{
    memset(in, 0, sizeof *in);
    LF_CHECK(mm_read(path, in, why, whylen));
    elf_version(EV_CURRENT);
    Elf *e = elf_memory((char *)in->file, in->len);
    size_t nph = 0;
    GElf_Ehdr eh;
    enum lf_status s = LF_OK;
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &nph) != 0)
        s = mm_fail(why, whylen, LF_ERR_NOT_ELF, "not an ELF file", path);
    else if (gelf_getclass(e) != ELFCLASS64 || eh.e_machine != EM_X86_64)
        s = mm_fail(why, whylen, LF_ERR_ELF_CLASS, "not a 64-bit x86-64 ELF file", path);
    if (s == LF_OK) {
        in->build_id_len = mm_build_id(e, nph, in->build_id, sizeof in->build_id);
        if (in->build_id_len != d->build_id_len || memcmp(in->build_id, d->build_id, d->build_id_len))
            s = mm_fail(why, whylen, LF_ERR_MISMATCH,
                        "build-id differs from the one that made the heap dump (rebuilt meanwhile?)", path);
    }
    if (s == LF_OK) s = mm_segments(in, e, nph, d->load_base, why, whylen, path);
    if (e) elf_end(e);
    if (s != LF_OK) {
        snap_interp_close(in);
        return s;
    }
    mm_add_arena(in, &d->frozen, 1);
    mm_add_arena(in, &d->persistent, 0);
    return LF_OK;
}

void snap_interp_close(struct snap_interp *in)
{
    free(in->file);
    memset(in, 0, sizeof *in);
}
