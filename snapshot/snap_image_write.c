/* snap_image_write.c -- writes a lineiform image (ELF64, ET_EXEC) with
 * libelf, laid out by hand (ELF_F_LAYOUT) so that every PT_LOAD's file
 * offset is page aligned like its address: the file could be mapped
 * directly, and `readelf -l` shows the run-time picture.
 *
 *   ELF header | PT_NOTE, PT_LOAD... | note | segments (page aligned) |
 *   .symtab .strtab .shstrtab | section headers
 *
 * Inputs: linked code (snap_image_link.c), the heap dump's arenas, the
 * interpreter's identity.  Output: the file at path, or nothing.
 *
 * Invariants:
 *   (1) The file appears under its name only when complete: it is written
 *       to an unnamed file in the same directory (rt_atomic.c), checksummed,
 *       fsync'd and renamed; a failure, or the process being killed, leaves
 *       nothing (a named temporary of a killed writer is removed by the next
 *       write of the same image).
 *   (2) PT_LOADs are sorted by address (rt_image_parse requires it) and the
 *       note's kinds[] follows the same order.
 */
#include "snapshot/snap_image.h"
#include "snapshot/runtime/rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct wr_seg {
    enum snap_seg_kind kind;
    uint64_t vaddr, size, offset;
    const void *bytes;
};

/* Section-building state; lives as long as the Elf handle that points into it. */
struct wr_elf {
    char shstr[256];
    size_t shstr_len;
    uint64_t off;             /* next free file offset */
    size_t nsec;
};

struct wr {
    struct wr_seg segs[SNAP_MAX_SEGS];
    size_t nsegs;
    uint8_t *desc;            /* note descriptor */
    size_t desc_len;
    uint8_t *note;            /* whole note: header + name + desc */
    size_t note_len;
    uint64_t note_off;        /* file offset of the note */
    char *strtab;             /* symbol names */
    size_t strtab_len;
    GElf_Sym *syms;
    size_t nsyms;
    struct wr_elf x;          /* libelf keeps pointers into x.shstr until elf_end */
    char *why;
    size_t whylen;
};

static enum lf_status wr_fail(struct wr *w, enum lf_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum lf_status wr_fail(struct wr *w, enum lf_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (w->why && w->whylen) vsnprintf(w->why, w->whylen, fmt, ap);
    va_end(ap);
    return s;
}

static uint64_t wr_align(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static int wr_seg_cmp(const void *a, const void *b)
{
    const struct wr_seg *x = a, *y = b;
    return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static enum lf_status wr_segments(struct wr *w, const struct snap_image_spec *sp)
{
    const struct snap_linked *c = sp->code;
    if (c->nsegs + sp->narenas > SNAP_MAX_SEGS) return wr_fail(w, LF_ERR_INVALID_ARG, "too many segments");
    for (size_t i = 0; i < c->nsegs; i++)
        w->segs[w->nsegs++] = (struct wr_seg){ c->segs[i].kind, c->segs[i].vaddr, c->segs[i].size, 0,
                                               c->segs[i].bytes };
    for (size_t i = 0; i < sp->narenas; i++) {
        const struct snap_arena_in *a = &sp->arenas[i];
        if ((a->kind != SNAP_SEG_FROZEN && a->kind != SNAP_SEG_PERSIST) || a->addr % SNAP_PAGE ||
            a->size % SNAP_PAGE || !a->size || !a->bytes)
            return wr_fail(w, LF_ERR_INVALID_ARG, "arena at 0x%llx: bad kind, address or size",
                           (unsigned long long)a->addr);
        w->segs[w->nsegs++] = (struct wr_seg){ a->kind, a->addr, a->size, 0, a->bytes };
    }
    qsort(w->segs, w->nsegs, sizeof w->segs[0], wr_seg_cmp);
    for (size_t i = 1; i < w->nsegs; i++)
        if (w->segs[i].vaddr < w->segs[i - 1].vaddr + w->segs[i - 1].size)
            return wr_fail(w, LF_ERR_INVALID_ARG, "segments overlap at 0x%llx",
                           (unsigned long long)w->segs[i].vaddr);
    return LF_OK;
}

/* -- The note ------------------------------------------------------------- */

static size_t wr_str(char *tab, size_t *len, const char *s)
{
    size_t at = *len, n = strlen(s) + 1;
    if (tab) memcpy(tab + at, s, n);
    *len += n;
    return at;
}

static enum lf_status wr_build_note(struct wr *w, const struct snap_image_spec *sp)
{
    const struct snap_linked *c = sp->code;
    size_t strsz = 1 + strlen(sp->interp_path) + 1;
    for (size_t i = 0; i < c->nimports; i++) strsz += strlen(c->imports[i].name) + 1;
    size_t kinds_len = wr_align(w->nsegs * 4, 8);
    w->desc_len = sizeof(struct snap_note_hdr) + kinds_len + c->nimports * sizeof(struct snap_import) +
                  sp->nfrozen * sizeof(struct snap_frozen_obj) + strsz;
    w->note_len = sizeof(Elf64_Nhdr) + wr_align(sizeof SNAP_NOTE_NAME, 4) + wr_align(w->desc_len, 4);
    if (!(w->note = calloc(1, w->note_len))) return wr_fail(w, LF_ERR_NOMEM, "out of memory");
    Elf64_Nhdr nh = { sizeof SNAP_NOTE_NAME, (Elf64_Word)w->desc_len, SNAP_NOTE_TYPE };
    memcpy(w->note, &nh, sizeof nh);
    memcpy(w->note + sizeof nh, SNAP_NOTE_NAME, sizeof SNAP_NOTE_NAME);
    w->desc = w->note + sizeof nh + wr_align(sizeof SNAP_NOTE_NAME, 4);

    struct snap_note_hdr h = {
        .version = SNAP_IMAGE_VERSION, .nsegs = (uint32_t)w->nsegs,
        .interp_load_base = sp->interp_load_base, .entry_code = c->entry,
        .entry_closure = sp->entry_closure, .roots = sp->roots,
        .build_id_len = (uint32_t)sp->build_id_len, .nimports = (uint32_t)c->nimports,
        .strtab_size = (uint32_t)strsz, .nfrozen = (uint32_t)sp->nfrozen,
    };
    if (sp->build_id_len) memcpy(h.build_id, sp->build_id, sp->build_id_len);
    uint8_t *p = w->desc + sizeof h;
    for (size_t i = 0; i < w->nsegs; i++) memcpy(p + 4 * i, &(uint32_t){ w->segs[i].kind }, 4);
    p += kinds_len;
    char *tab = (char *)w->desc + w->desc_len - strsz;
    size_t tlen = 1;
    h.interp_path = (uint32_t)wr_str(tab, &tlen, sp->interp_path);
    for (size_t i = 0; i < c->nimports; i++, p += sizeof(struct snap_import)) {
        struct snap_import im = { c->imports[i].slot, (uint32_t)wr_str(tab, &tlen, c->imports[i].name), 0 };
        memcpy(p, &im, sizeof im);
    }
    if (sp->nfrozen) memcpy(p, sp->frozen, sp->nfrozen * sizeof(struct snap_frozen_obj));
    memcpy(w->desc, &h, sizeof h);
    return LF_OK;
}

/* -- Symbols -------------------------------------------------------------- */

static enum lf_status wr_build_syms(struct wr *w, const struct snap_linked *c, size_t code_shndx)
{
    size_t len = 1;
    for (size_t i = 0; i < c->nsyms; i++) len += strlen(c->syms[i].name) + 1;
    w->strtab = calloc(1, len);
    w->syms = calloc(c->nsyms + 1, sizeof *w->syms);
    if (!w->strtab || !w->syms) return wr_fail(w, LF_ERR_NOMEM, "out of memory");
    w->strtab_len = 1;
    w->nsyms = 1;
    for (size_t i = 0; i < c->nsyms; i++) {
        GElf_Sym *s = &w->syms[w->nsyms++];
        s->st_name = (Elf64_Word)wr_str(w->strtab, &w->strtab_len, c->syms[i].name);
        s->st_info = GELF_ST_INFO(STB_GLOBAL, STT_FUNC);
        s->st_shndx = (Elf64_Section)code_shndx;
        s->st_value = c->syms[i].addr;
        s->st_size = c->syms[i].size;
    }
    return LF_OK;
}

/* -- libelf --------------------------------------------------------------- */

static const char *wr_sec_name(enum snap_seg_kind k)
{
    switch (k) {
    case SNAP_SEG_CODE: return ".text";
    case SNAP_SEG_RODATA: return ".rodata";
    case SNAP_SEG_GOT: return ".got";
    case SNAP_SEG_DATA: return ".data";
    case SNAP_SEG_FROZEN: return ".lf.frozen";
    case SNAP_SEG_UNWIND: return ".eh_frame";
    default: return ".lf.persistent";
    }
}

static Elf_Scn *wr_scn(Elf *e, size_t name_off, GElf_Shdr *sh, const void *bytes, size_t size,
                       size_t align)
{
    Elf_Scn *scn = elf_newscn(e);
    Elf_Data *d = scn ? elf_newdata(scn) : NULL;
    if (!d) return NULL;
    d->d_buf = (void *)bytes;
    d->d_size = size;
    d->d_align = align;
    d->d_type = ELF_T_BYTE;
    d->d_off = 0;
    sh->sh_name = (Elf64_Word)name_off;
    sh->sh_size = size;
    sh->sh_addralign = align;
    return gelf_update_shdr(scn, sh) ? scn : NULL;
}



static size_t wr_add_scn(Elf *e, struct wr_elf *x, const char *name, GElf_Shdr sh,
                         const void *bytes, size_t size, size_t align)
{
    size_t name_off = wr_str(x->shstr, &x->shstr_len, name);
    x->off = wr_align(x->off, align);
    sh.sh_offset = x->off;
    x->off += size;
    if (!wr_scn(e, name_off, &sh, bytes, size, align)) return 0;
    return ++x->nsec;
}

/* Every section, at file offsets chosen here; *shstr_idx gets the index of
 * the section-name table. */
static enum lf_status wr_sections(struct wr *w, Elf *e, const struct snap_image_spec *sp, size_t *shstr_idx)
{
    struct wr_elf *x = &w->x;
    *x = (struct wr_elf){ .shstr_len = 1 };
    size_t code_shndx = 0;
    x->off = sizeof(Elf64_Ehdr) + (w->nsegs + 1) * sizeof(Elf64_Phdr);
    size_t note_idx = wr_add_scn(e, x, ".note.lineiform", (GElf_Shdr){ .sh_type = SHT_NOTE },
                                 w->note, w->note_len, 4); /* 4: gABI note padding */
    w->note_off = x->off - w->note_len; /* 8-aligned: the headers before it are */
    for (size_t i = 0; i < w->nsegs; i++) {
        struct wr_seg *s = &w->segs[i];
        GElf_Shdr sh = { .sh_type = SHT_PROGBITS, .sh_addr = s->vaddr,
                         .sh_flags = SHF_ALLOC | (s->kind == SNAP_SEG_CODE ? SHF_EXECINSTR : 0) |
                                     (s->kind == SNAP_SEG_DATA || s->kind == SNAP_SEG_PERSIST ? SHF_WRITE : 0) };
        size_t idx = wr_add_scn(e, x, wr_sec_name(s->kind), sh, s->bytes, s->size, SNAP_PAGE);
        s->offset = x->off - s->size;
        if (s->kind == SNAP_SEG_CODE && !code_shndx) code_shndx = idx;
        if (!idx) note_idx = 0;
    }
    LF_CHECK(wr_build_syms(w, sp->code, code_shndx));
    size_t strtab_idx = x->nsec + 2;
    size_t sym_idx = wr_add_scn(e, x, ".symtab",
                                (GElf_Shdr){ .sh_type = SHT_SYMTAB, .sh_link = (Elf64_Word)strtab_idx,
                                             .sh_info = 1, .sh_entsize = sizeof(Elf64_Sym) },
                                NULL, w->nsyms * sizeof(Elf64_Sym), 8);
    wr_add_scn(e, x, ".strtab", (GElf_Shdr){ .sh_type = SHT_STRTAB }, w->strtab, w->strtab_len, 1);
    *shstr_idx = x->nsec + 1;
    wr_str(x->shstr, &x->shstr_len, ".shstrtab");
    size_t shstr_name = x->shstr_len - sizeof ".shstrtab";
    if (!note_idx || !sym_idx || !wr_scn(e, shstr_name, &(GElf_Shdr){ .sh_type = SHT_STRTAB,
                                             .sh_offset = x->off }, x->shstr, x->shstr_len, 1))
        return wr_fail(w, LF_ERR_IO, "libelf: %s", elf_errmsg(-1));
    x->off += x->shstr_len;
    x->nsec++;

    /* The symbol table's data: libelf converts GElf_Sym via gelf_update_sym. */
    Elf_Data *sd = elf_getdata(elf_getscn(e, sym_idx), NULL);
    sd->d_type = ELF_T_SYM;
    sd->d_buf = calloc(w->nsyms, sizeof(Elf64_Sym));
    if (!sd->d_buf) return wr_fail(w, LF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < w->nsyms; i++) gelf_update_sym(sd, (int)i, &w->syms[i]);
    return LF_OK;
}

/* ELF header and program headers, after wr_sections placed everything. */
static enum lf_status wr_headers(struct wr *w, Elf *e, const struct snap_image_spec *sp, size_t shstr_idx,
                                 uint64_t *file_size)
{
    struct wr_elf *x = &w->x;
    GElf_Ehdr eh;
    if (!gelf_getehdr(e, &eh)) return wr_fail(w, LF_ERR_IO, "libelf: %s", elf_errmsg(-1));
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = sp->code->entry;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_shoff = wr_align(x->off, 8);
    eh.e_shstrndx = (Elf64_Half)shstr_idx;
    *file_size = eh.e_shoff + (x->nsec + 1) * sizeof(Elf64_Shdr);

    GElf_Phdr ph = { .p_type = PT_NOTE, .p_offset = w->note_off, .p_filesz = w->note_len,
                     .p_memsz = 0, .p_flags = PF_R, .p_align = 4 };
    if (!gelf_update_ehdr(e, &eh) || !gelf_update_phdr(e, 0, &ph))
        return wr_fail(w, LF_ERR_IO, "libelf: %s", elf_errmsg(-1));
    for (size_t i = 0; i < w->nsegs; i++) {
        struct wr_seg *s = &w->segs[i];
        int fl = s->kind == SNAP_SEG_CODE ? PF_R | PF_X
                 : s->kind == SNAP_SEG_DATA || s->kind == SNAP_SEG_PERSIST ? PF_R | PF_W : PF_R;
        ph = (GElf_Phdr){ .p_type = PT_LOAD, .p_offset = s->offset, .p_vaddr = s->vaddr,
                          .p_paddr = s->vaddr, .p_filesz = s->size, .p_memsz = s->size,
                          .p_flags = (Elf64_Word)fl, .p_align = SNAP_PAGE };
        if (!gelf_update_phdr(e, (int)i + 1, &ph)) return wr_fail(w, LF_ERR_IO, "libelf: %s", elf_errmsg(-1));
    }
    return LF_OK;
}

/* Write through libelf into fd, then stamp size and checksum. */
static enum lf_status wr_emit(struct wr *w, int fd, const struct snap_image_spec *sp, uint64_t *size,
                              const char *path)
{
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
    if (!e) return wr_fail(w, LF_ERR_IO, "libelf: %s", elf_errmsg(-1));
    elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
    size_t shstr_idx = 0;
    enum lf_status s = gelf_newehdr(e, ELFCLASS64) && gelf_newphdr(e, w->nsegs + 1) ? LF_OK
                       : wr_fail(w, LF_ERR_IO, "libelf: %s", elf_errmsg(-1));
    if (s == LF_OK) s = wr_sections(w, e, sp, &shstr_idx);
    if (s == LF_OK) s = wr_headers(w, e, sp, shstr_idx, size);
    if (s == LF_OK) {
        struct snap_note_hdr *h = (struct snap_note_hdr *)w->desc;
        h->file_size = *size;
        errno = 0;
        off_t n = elf_update(e, ELF_C_WRITE);
        int e_no = errno;
        /* libelf says only "cannot write data to file"; the cause is the
         * write's errno (ENOSPC, EFBIG past ulimit -f, EIO...). */
        if (n < 0 || (uint64_t)n != *size)
            s = wr_fail(w, LF_ERR_IO, "%s: writing the image: %s", path,
                        e_no ? strerror(e_no) : elf_errmsg(-1));
    }
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        Elf_Data *d = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB ? elf_getdata(scn, NULL) : NULL;
        if (d) free(d->d_buf);
    }
    elf_end(e);
    return s;
}

static enum lf_status wr_checksum(struct wr *w, int fd, uint64_t size, uint64_t desc_off, const char *path)
{
    uint8_t *buf = malloc(size);
    if (!buf) return wr_fail(w, LF_ERR_NOMEM, "%s: out of memory for the checksum (%llu bytes)", path,
                             (unsigned long long)size);
    enum lf_status s = LF_OK;
    errno = EIO; /* a short read sets none */
    if (pread(fd, buf, size, 0) != (ssize_t)size) {
        s = wr_fail(w, LF_ERR_IO, "%s: reading the image back: %s", path, strerror(errno));
    } else {
        uint64_t at = desc_off + offsetof(struct snap_note_hdr, checksum);
        uint64_t sum = snap_checksum(buf, size, at);
        errno = EIO;
        if (pwrite(fd, &sum, 8, (off_t)at) != 8)
            s = wr_fail(w, LF_ERR_IO, "%s: writing the checksum: %s", path, strerror(errno));
    }
    free(buf);
    return s;
}

/* The write in progress, for snap_image_abandon (a signal handler). */
static struct rt_atomic snap_image_at = { .fd = -1 };

void snap_image_abandon(void)
{
    if (snap_image_at.tmp[0]) unlink(snap_image_at.tmp);
}

static enum lf_status wr_file(struct wr *w, const char *path, const struct snap_image_spec *sp,
                              uint64_t *size)
{
    struct rt_atomic *at = &snap_image_at;
    if (rt_atomic_open(path, at) != 0)
        return wr_fail(w, LF_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    rt_atomic_clean(path); /* leftovers of a snapshot killed while writing */
    enum lf_status s = wr_emit(w, at->fd, sp, size, path);
    if (s == LF_OK) s = wr_checksum(w, at->fd, *size, w->note_off + (uint64_t)(w->desc - w->note), path);
    if (s == LF_OK && rt_atomic_commit(at, 1) != 0)
        s = wr_fail(w, LF_ERR_IO, "%s: %s", path, strerror(errno));
    if (s != LF_OK) rt_atomic_abort(at);
    return s;
}

enum lf_status snap_image_write(const char *path, const struct snap_image_spec *sp,
                                uint64_t *file_size, char *why, size_t whylen)
{
    struct wr w = { .why = why, .whylen = whylen };
    uint64_t size = 0;
    if (!path || !sp || !sp->code || !sp->interp_path || sp->build_id_len > SNAP_MAX_BUILD_ID ||
        (sp->build_id_len && !sp->build_id))
        return wr_fail(&w, LF_ERR_INVALID_ARG, "image: missing or bad arguments");
    enum lf_status s = wr_segments(&w, sp);
    if (s == LF_OK) s = wr_build_note(&w, sp);
    if (s == LF_OK) s = wr_file(&w, path, sp, &size);
    if (s == LF_OK && file_size) *file_size = size;
    free(w.note);
    free(w.strtab);
    free(w.syms);
    return s;
}
