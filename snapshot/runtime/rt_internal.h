/* rt_internal.h -- what the runtime's own files share (never included by
 * lineiform.h).  The image loader (rt_image.c) uses the arena half of it to
 * map an image's arenas back at their recorded addresses.
 *
 * Invariants the image loader may rely on:
 *   (1) After lf_init returns in image mode, or after the first lf_freeze /
 *       lf_alloc, both arenas are reserved at RT_FROZEN_BASE / RT_PERSIST_BASE
 *       (RT_ARENA_RESERVE bytes each, or a quarter, a sixteenth... down to
 *       256 MiB where the address space is limited; PROT_NONE where not
 *       committed).
 *   (2) rt_image_load runs inside lf_init (image mode) after (1), before the
 *       interpreter sees any arena memory; whatever it maps with
 *       rt_arena_map_* becomes the arena's committed and used prefix, so
 *       later lf_alloc / lf_freeze calls continue after it.
 *   (3) Every range mapped through rt_arena_map_* is handed to the root hook
 *       (lf_set_root_hook), like any other committed arena memory.
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lineiform.h"

/* -- Arenas ------------------------------------------------------------- */

enum rt_arena_kind {
    RT_ARENA_FROZEN = 0,     /* lf_freeze: read-only view, memfd-backed */
    RT_ARENA_PERSISTENT = 1, /* lf_alloc: writable, anonymous */
    RT_ARENA__MAX
};

/* Fixed addresses, far below where the kernel places mappings (the mmap
 * base sits just under the stack near 0x7fff...). */
#define RT_FROZEN_BASE     0x7e0000000000ULL
#define RT_PERSIST_BASE    0x7e8000000000ULL
#define RT_ARENA_RESERVE   (64ULL << 30) /* bytes reserved per arena */
#define RT_PAGE            4096ULL

/* Reserve both arenas (idempotent).  fixed_required: fail with
 * LF_ERR_ADDR_TAKEN when a fixed address is already in use (snapshot and
 * image modes); otherwise fall back to a kernel-chosen address. */
enum lf_status rt_arena_reserve(int fixed_required);

/* Reserve (PROT_NONE) up to *size bytes at a kernel-chosen address,
 * settling for less where the address space is limited (ulimit -v,
 * valgrind); *size becomes what was reserved.  NULL below 256 MiB. */
void *rt_reserve_any(uint64_t *size);

/* Base address, bytes in use (rounded up to a page), whether it is sealed. */
uint64_t rt_arena_base(enum rt_arena_kind kind);
uint64_t rt_arena_used(enum rt_arena_kind kind);
uint64_t rt_arena_committed(enum rt_arena_kind kind);
int rt_arena_sealed(void);

/* Map size bytes (a page multiple) at addr, which must be the arena's base
 * plus its committed size (normally the base itself: an image maps each
 * arena once, before anything is frozen or allocated).  Copies size bytes from bytes (NULL: zero-filled), then sets
 * the protection: for the frozen arena prot must be PROT_READ (it is the
 * read-only view of the arena's memfd); for the persistent arena
 * PROT_READ|PROT_WRITE.  LF_ERR_INVALID_ARG for an address outside the
 * reservation or a bad prot, LF_ERR_STATE before rt_arena_reserve. */
enum lf_status rt_arena_map_fixed(enum rt_arena_kind kind, uint64_t addr, size_t size,
                                  int prot, const void *bytes);

/* The same from an open file at offset off (a page multiple).  The
 * persistent arena maps it MAP_PRIVATE, so the file's pages are shared
 * until written (copy-on-write).  The frozen arena reads it into its memfd
 * instead: a private file mapping could be made writable with mprotect. */
enum lf_status rt_arena_map_fd(enum rt_arena_kind kind, uint64_t addr, size_t size,
                               int prot, int fd, uint64_t off);

/* Seal the frozen arena: drop the writable alias and the read-write
 * descriptor, seal the memfd against writes and growth; lf_freeze fails
 * from then on.  LF_ERR_IO (errno set) when the kernel refused the seals. */
enum lf_status rt_arena_seal(void);

/* Record an object [addr, addr+size) of the frozen arena, for the
 * frozen-write report (lf_freeze does this; an image loader that restores
 * a dump's object index calls it per object, in address order). */
void rt_frozen_index_add(uint64_t addr, uint64_t size);
/* Number of indexed objects and the i-th one (for the dump writer). */
size_t rt_frozen_index_count(void);
void rt_frozen_index_get(size_t i, uint64_t *addr, uint64_t *size);

/* Install the SIGSEGV handler behind the frozen-write report, chaining to
 * the one in place; does nothing when ours is already installed.  The first
 * reservation and lf_init call it. */
void rt_fault_install(void);

/* -- The running interpreter -------------------------------------------- */

/* Load bias of the main program (0 for a non-PIE binary). */
uint64_t rt_self_load_base(void);
#define RT_SELF_BUILD_ID_MAX 64
/* Its GNU build-id from the PT_NOTE segment in memory; returns the length
 * (0 when it has none), copying at most cap bytes. */
size_t rt_self_build_id(uint8_t *out, size_t cap);
/* The GNU build-id of the ELF file open at fd (read with pread, so the
 * file offset is untouched): its length (0 when the file has none, which
 * lineiform refuses: nothing else tells a rebuilt interpreter from the
 * one an image was made for), at most cap bytes copied; -1 when fd is not
 * a readable 64-bit ELF file. */
long rt_file_build_id(int fd, uint8_t *out, size_t cap);
/* /proc/self/exe resolved; 0 on success. */
int rt_self_path(char *out, size_t cap);

/* -- Heap dump (rt_dump.c; format in rt_dump_format.h) ---------------- */

/* Write the heap dump of both arenas (seal the frozen arena first) with
 * entry and roots to path, atomically (rt_atomic_*).  On failure nothing is
 * left at path and why says what went wrong. */
enum lf_status rt_dump_write(const char *path, void *entry, void *roots, char *why, size_t whylen);
/* The same into the open file fd (from offset 0, truncated first): the
 * CLI's unnamed temporary file (LINEIFORM_DUMP_FD), which nothing can leave
 * behind.  name is for messages. */
enum lf_status rt_dump_write_fd(int fd, const char *name, void *entry, void *roots, char *why,
                                size_t whylen);

/* -- Atomic files (rt_atomic.c) ----------------------------------------- */

#define RT_DUMP_PATH_MAX 4096

/* A file written under a temporary identity and renamed over path when
 * complete.  Functions return 0, or -1 with errno set. */
struct rt_atomic {
    int fd;                          /* write here */
    char path[RT_DUMP_PATH_MAX];     /* the target */
    char tmp[RT_DUMP_PATH_MAX + 16]; /* current temporary name, "" if unnamed */
};
int rt_atomic_open(const char *path, struct rt_atomic *a);
/* fsync (when do_fsync), name, rename over the target, close. */
int rt_atomic_commit(struct rt_atomic *a, int do_fsync);
/* Close and remove whatever name the temporary has; safe to repeat. */
void rt_atomic_abort(struct rt_atomic *a);
/* Remove leftover path.tmpXXXXXX files of killed writers; how many. */
unsigned rt_atomic_clean(const char *path);

/* -- Snapshot checks (rt_check.c) -------------------------------------- */

/* Report on stderr the words of both arenas that point (low 3 bits masked)
 * into mappings an image does not restore: heap, stacks, anonymous memory
 * other than the arenas and the loaded objects' segments.  Returns how many;
 * a heuristic (numbers can look like addresses), it only prints. */
size_t rt_check_pointers(void);

/* -- Environment the CLI sets (see lf_init in rt_init.c) ---------------- */

#define RT_ENV_MODE    "LINEIFORM_MODE"    /* normal | snapshot | image */
#define RT_ENV_DUMP    "LINEIFORM_DUMP"    /* snapshot mode: heap dump path */
#define RT_ENV_DUMP_FD "LINEIFORM_DUMP_FD" /* snapshot mode: or an open file */
#define RT_ENV_IMAGE   "LINEIFORM_IMAGE"   /* image mode: image path */
#define RT_ENV_REEXEC  "LINEIFORM_REEXEC"  /* set by lf_init before re-exec */
#define RT_ENV_CHECK   "LINEIFORM_CHECK"   /* 1: lf_snapshot runs rt_check_pointers */

/* -- Image loading (implemented in rt_image.c) -------------------------- */

/* Map the image at path: its code and arenas at their recorded addresses
 * (arenas through rt_arena_map_*), check it was made for this interpreter
 * build, resolve its imports.  On success *code is the compiled entry,
 * *entry the entry closure, *roots the restored roots; on failure a
 * one-line reason in why (no trailing newline) and nothing left mapped
 * that the interpreter could see.  Called by lf_init in image mode. */
enum lf_status rt_image_load(const char *path, void **code, void **entry, void **roots,
                             char *why, size_t whylen);

#endif
