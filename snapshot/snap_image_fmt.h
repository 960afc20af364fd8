/* snap_image_fmt.h -- the lineiform image format, shared by the writer
 * (snapshot/snap_image_write.c, in the CLI) and the reader/loader
 * (snapshot/runtime/rt_image.c, inside the interpreter).  libc only.
 *
 * An image is an ELF64 little-endian x86-64 file of type ET_EXEC:
 *
 *   ELF header | program headers | note | segment bytes (page aligned) |
 *   .symtab .strtab .shstrtab | section headers
 *
 *   PT_LOAD  one per segment, in address order; kinds[i] in the note says
 *            what the i-th PT_LOAD holds (enum snap_seg_kind).  p_offset
 *            and p_vaddr are page aligned; p_filesz == p_memsz except for
 *            SNAP_SEG_DATA (.bss tail).  Never PF_W together with PF_X.
 *   PT_NOTE  one note, name "lineiform", type SNAP_NOTE_TYPE, whose
 *            descriptor is laid out below (every field little-endian):
 *
 *     struct snap_note_hdr      fixed header (below)
 *     uint32_t kinds[nsegs]     padded to 8 bytes
 *     struct snap_import[nimports]
 *     struct snap_frozen_obj[nfrozen]
 *     char strtab[strtab_size]  NUL-terminated strings, strtab[0] == 0
 *
 * Invariants a valid image keeps (rt_image_parse checks every one):
 *   (1) file_size is the file's length; checksum is snap_checksum() of the
 *       whole file with the 8 checksum bytes read as zero.
 *   (2) Code, rodata, GOT and data segments lie in
 *       [SNAP_CODE_BASE, SNAP_CODE_LIMIT); frozen and persistent segments
 *       lie inside the runtime's arena reservations; no two overlap.
 *   (3) entry_code lies in a code segment; entry_closure in the frozen
 *       segment; roots is 0 or lies in the persistent segment.
 *   (4) Every import slot is an 8-aligned address inside the GOT segment;
 *       the loader writes the resolved address there before the GOT is made
 *       read-only.  Code reaches imports only through those slots.
 *   (5) The image is valid only for the interpreter build whose GNU
 *       build-id is build_id, loaded at interp_load_base (the interpreter
 *       runs without address randomization in snapshot and image modes).
 */
#ifndef SNAP_IMAGE_FMT_H
#define SNAP_IMAGE_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "lineiform.h"

#define SNAP_NOTE_NAME      "lineiform"
#define SNAP_NOTE_TYPE      0x4c460001u /* "LF" 1 */
#define SNAP_IMAGE_VERSION  1u

/* The code window: compiled code, its constant pools, import slots.  Just
 * below the runtime's frozen arena (0x7e0000000000), far from where the
 * kernel puts PIE binaries (0x55..), the heap, and shared libraries and the
 * stack (just under 0x7fff...). */
#define SNAP_CODE_BASE      0x7d0000000000ULL
#define SNAP_CODE_LIMIT     (SNAP_CODE_BASE + (1ULL << 30))
#define SNAP_PAGE           4096ULL

#define SNAP_MAX_SEGS       16u
#define SNAP_MAX_IMPORTS    4096u
#define SNAP_MAX_BUILD_ID   64u
#define SNAP_MAX_NAME       255u /* longest import name */

enum snap_seg_kind {
    SNAP_SEG_CODE = 1,    /* R+X: compiled code and import stubs */
    SNAP_SEG_RODATA = 2,  /* R: constant pools */
    SNAP_SEG_GOT = 3,     /* R after the loader filled the import slots */
    SNAP_SEG_DATA = 4,    /* RW: writable data of the compiled code */
    SNAP_SEG_FROZEN = 5,  /* R: the frozen arena */
    SNAP_SEG_PERSIST = 6, /* RW, private: the persistent arena */
    SNAP_SEG_UNWIND = 7,  /* R: the compiled code's .eh_frame, zero-terminated;
                             the loader registers it with the unwinder */
    SNAP_SEG__MAX
};

struct snap_note_hdr {
    uint32_t version;          /* SNAP_IMAGE_VERSION */
    uint32_t nsegs;            /* number of PT_LOAD headers == kinds[] */
    uint64_t file_size;        /* bytes in the whole file */
    uint64_t checksum;         /* see invariant (1) */
    uint64_t interp_load_base; /* interpreter's load bias at snapshot time */
    uint64_t entry_code;       /* compiled entry: code(closure, ...) */
    uint64_t entry_closure;    /* the snapshot's entry closure (frozen) */
    uint64_t roots;            /* lf_snapshot's roots (persistent) or 0 */
    uint32_t build_id_len;     /* bytes of build_id used, <= 64 */
    uint32_t nimports;
    uint8_t  build_id[SNAP_MAX_BUILD_ID];
    uint32_t interp_path;      /* strtab offset: the interpreter's path */
    uint32_t strtab_size;
    uint32_t nfrozen;          /* frozen-object index entries */
    uint32_t reserved;         /* 0 */
};

struct snap_import {
    uint64_t slot;             /* GOT address the loader fills */
    uint32_t name;             /* strtab offset of the symbol name */
    uint32_t reserved;         /* 0 */
};

/* One object of the frozen arena (for the runtime's frozen-write report). */
struct snap_frozen_obj {
    uint64_t addr, size;
};

/* A parsed, validated image (pointers into the caller's buffer). */
struct snap_image_info {
    const struct snap_note_hdr *hdr;
    const uint32_t *kinds;
    const struct snap_import *imports;
    const struct snap_frozen_obj *frozen;
    const char *strtab;
    const char *interp_path;
    size_t nloads;
    struct snap_image_seg {
        enum snap_seg_kind kind;
        uint64_t vaddr, memsz, filesz, offset;
        const uint8_t *bytes; /* filesz bytes in the buffer */
    } segs[SNAP_MAX_SEGS];
    uint64_t checksum_offset; /* file offset of hdr->checksum */
};

/* The image checksum: a 64-bit multiplicative hash over len bytes, with the
 * 8 bytes at skip (if skip + 8 <= len) read as zero.  Any change confined to
 * one 8-byte word changes the result (each step is a bijection of the
 * state); it detects damage, not deliberate forgery. */
uint64_t snap_checksum(const uint8_t *buf, size_t len, uint64_t skip);

/* Validate an image held in memory (untrusted) and describe it.  Checks the
 * ELF header, program headers, the note and every invariant above,
 * including the checksum; does not look at the running process.  On failure
 * a one-line reason in why. */
enum lf_status rt_image_parse(const uint8_t *buf, size_t len, struct snap_image_info *info,
                              char *why, size_t whylen);

/* Read the image file open at fd whole into *buf (malloc'd, *len bytes),
 * after checking it is a regular file and that its first bytes could be an
 * image's (ELF header, program header types), so that a FIFO or a large
 * file of another kind is refused without waiting or reading it.  Errors
 * name the cause (errno, "a FIFO", short read); the caller adds the path. */
enum lf_status rt_image_read_fd(int fd, uint8_t **buf, size_t *len, char *why, size_t whylen);

/* Human name of a segment kind ("code", "frozen", ...). */
const char *snap_seg_kind_name(enum snap_seg_kind k);

#endif
