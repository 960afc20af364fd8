/* snap_image.h -- writing and reading lineiform images (the CLI side).
 *
 *   snap_link_objects  ELF relocatable objects (lift_aot_compile's output)
 *                      ──▶ linked as one: sections placed in the code window,
 *                      names resolved across objects, relocations applied,
 *                      an import stub + GOT slot per external
 *   snap_link_object   the same for one object
 *   snap_link_native   no compiled code: an entry stub that jumps to the
 *                      interpreter's own code (whole-program bailout)
 *   snap_image_write   linked code + arenas + metadata ──▶ ELF64 image,
 *                      written atomically (temp file + rename)
 *   snap_image_read    file ──▶ validated snap_image_info (rt_image_parse)
 *
 * The format itself is in snap_image_fmt.h.  Owned resources: a
 * snap_linked owns its buffers (snap_linked_free); snap_image_file owns the
 * file bytes the info points into (snap_image_close).
 */
#ifndef SNAP_IMAGE_H
#define SNAP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lineiform.h"
#include "snapshot/snap_image_fmt.h"

/* -- Linking ------------------------------------------------------------ */

struct snap_lseg {
    enum snap_seg_kind kind;   /* CODE, RODATA, DATA or GOT */
    uint64_t vaddr, size;      /* size: a page multiple */
    uint8_t *bytes;            /* size bytes */
};

struct snap_lsym {
    char name[128];
    uint64_t addr, size;
};

struct snap_limport {
    char name[SNAP_MAX_NAME + 1];
    uint64_t stub, slot;       /* jmp *slot(%rip) at stub; slot in the GOT */
};

/* Linked code starts this far into the code window (int3 before it):
 * libgcc's unwinder skips an FDE whose pc_begin has its low 32 bits zero
 * (a discarded link-once function, it assumes), and SNAP_CODE_BASE has. */
#define SNAP_CODE_SKIP 64u

struct snap_linked {
    struct snap_lseg segs[8];   /* code, rodata, unwind, data, GOT */
    size_t nsegs;
    struct snap_lsym *syms;    /* functions (specializations, stubs) by address */
    size_t nsyms;
    struct snap_limport *imports;
    size_t nimports;
    uint64_t entry;            /* address of the entry symbol */
    uint64_t code_bytes;       /* bytes of code from SNAP_CODE_BASE + SNAP_CODE_SKIP (without page padding) */
};

/* Link the nobjs (>= 1) objects objs[i] (lens[i] bytes) as one: place
 * their allocatable sections at SNAP_CODE_BASE by kind (every object's code
 * in object order, then the import stubs; then rodata, data and the GOT,
 * each kind on its own pages), resolve their symbols, apply their RELA
 * relocations (R_X86_64_64, PC32, PLT32, 32, 32S, PC64, GOTPCREL*).
 *
 * A reference to an undefined name binds to the object that defines it
 * (GLOBAL, else WEAK); only a name no object defines becomes an import.
 * LOCAL symbols stay in their object.  A GLOBAL name defined in two
 * objects is LF_ERR_FORMAT ("symbol NAME defined twice").  out->syms lists
 * every object's functions once, plus the stubs; entry_sym must be defined
 * in one of the objects.  With several objects, why starts "object K: "
 * (K the index in objs) when the failure is in one of them.
 * LF_ERR_UNSUPPORTED names an unknown relocation or section kind. */
enum lf_status snap_link_objects(const uint8_t *const *objs, const size_t *lens, size_t nobjs,
                                 const char *entry_sym, struct snap_linked *out, char *why,
                                 size_t whylen);

/* snap_link_objects of the one object obj. */
enum lf_status snap_link_object(const uint8_t *obj, size_t obj_len, const char *entry_sym,
                                struct snap_linked *out, char *why, size_t whylen);

/* An entry stub `movabs $target, %rax; jmp *%rax`: the image runs the
 * interpreter's own code for target (the entry closure's code pointer). */
enum lf_status snap_link_native(uint64_t target, const char *name, struct snap_linked *out,
                                char *why, size_t whylen);

void snap_linked_free(struct snap_linked *l);

/* -- Writing ------------------------------------------------------------ */

struct snap_arena_in {
    enum snap_seg_kind kind;   /* SNAP_SEG_FROZEN or SNAP_SEG_PERSIST */
    uint64_t addr, size;       /* page aligned, size a page multiple */
    const void *bytes;         /* size bytes */
};

struct snap_image_spec {
    const struct snap_linked *code;
    const struct snap_arena_in *arenas;
    size_t narenas;
    const struct snap_frozen_obj *frozen; /* frozen-object index, by address */
    size_t nfrozen;
    const char *interp_path;
    const uint8_t *build_id;
    size_t build_id_len;
    uint64_t interp_load_base;
    uint64_t entry_closure, roots;
};

/* Write the image to path atomically: a temporary file beside it, renamed
 * over path only when complete; on failure nothing is left.  *file_size
 * (optional) gets the image's size. */
enum lf_status snap_image_write(const char *path, const struct snap_image_spec *spec,
                                uint64_t *file_size, char *why, size_t whylen);

/* Remove the temporary file of a write in progress, if any: for a signal
 * handler (async-signal-safe: one unlink), so an interrupted snapshot leaves
 * nothing behind. */
void snap_image_abandon(void);

/* -- Reading ------------------------------------------------------------ */

struct snap_image_file {
    uint8_t *buf;
    size_t len;
    struct snap_image_info info;
};

/* Read and validate the image at path (see rt_image_parse). */
enum lf_status snap_image_read(const char *path, struct snap_image_file *f, char *why,
                               size_t whylen);
void snap_image_close(struct snap_image_file *f);

#endif
