/* an_internal.h -- what the analyzer's files share; never included outside
 * analyzer/ (and its tests).
 *
 * The passes, in the order an_open (an_open.c) runs them:
 *
 *   an_elf_load      headers, segments, sections, build-id    (an_elf.c)
 *   an_elf_funcs     .symtab/.dynsym FUNC symbols, PLT stubs,
 *                    .eh_frame FDEs for the rest, .cold parts (an_elf.c, an_ehframe.c)
 *   an_dwarf_load    prototypes, ABI classes, noreturn names  (an_dwarf.c)
 *   an_code_func     per function: decode, blocks, edges,
 *                    jump tables, liftability                 (an_code.c, an_jtab.c)
 *   an_loops_func    dominators, natural loops                (an_loops.c)
 *
 * Memory: everything reachable from an_binary is carved from one arena
 * (struct an_arena), freed at once by an_close. */
#ifndef AN_INTERNAL_H
#define AN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyzer/analyzer.h"

/* -- Checks (see STYLE.md) ------------------------------------------------ */
#define LF_ASSERT(c, msg) do { if (!(c)) an_assert_fail(__FILE__, __LINE__, msg); } while (0)
/* Untrusted input: true when x holds; tests see it, release builds survive. */
#define LF_NEVER(x) __builtin_expect(!!(x), 0)
void an_assert_fail(const char *file, int line, const char *msg) __attribute__((noreturn));

/* -- Arena ---------------------------------------------------------------- */
struct an_arena_chunk;
struct an_arena { struct an_arena_chunk *head; size_t used, cap; };
void *an_alloc(struct an_arena *a, size_t n);            /* zeroed, 16-aligned; NULL if out of memory */
char *an_strdup(struct an_arena *a, const char *s);
char *an_strndup(struct an_arena *a, const char *s, size_t n);
void an_arena_free(struct an_arena *a);

/* -- Growable vector of fixed-size items (malloc'd) ----------------------- */
struct an_vec { void *data; size_t n, cap, item; };
void *an_vec_push(struct an_vec *v);                     /* zeroed slot or NULL */
void an_vec_free(struct an_vec *v);
#define AN_VEC(T) { NULL, 0, 0, sizeof(T) }

/* -- String -> pointer hash (names) --------------------------------------- */
struct an_strmap { const char **keys; void **vals; size_t cap, n; };
int an_strmap_put(struct an_strmap *m, const char *key, void *val); /* key not copied; -1 OOM */
void *an_strmap_get(const struct an_strmap *m, const char *key);
void an_strmap_free(struct an_strmap *m);

uint64_t an_hash64(const void *data, size_t len);
double an_now_ms(void);

/* -- The binary under construction ---------------------------------------- */
struct an_dwarf_proto;  /* an_dwarf.c */

struct an_alias { const char *name; uint64_t addr; };
struct an_reloc { uint64_t offset, value; };

struct an_bin {
    struct an_binary pub;          /* first: an_binary * <-> an_bin * */
    struct an_arena arena;
    const uint8_t *map;            /* the whole file, private mapping */
    size_t map_len;
    unsigned flags;
    struct an_vec funcs;           /* struct an_func, sorted after an_elf_funcs */
    struct an_strmap by_name;      /* name (and alias) -> struct an_func * */
    struct an_vec aliases;         /* struct an_alias, until an_funcs_finish */
    struct an_vec relocs;          /* struct an_reloc, sorted by offset */
    struct an_strmap noreturn;     /* names DWARF marks noreturn (+ libc's) */
    uint64_t text_lo, text_hi;     /* executable PT_LOAD range */
    char *err;
    size_t errlen;
};

/* Record "path: <fmt>" in b->err and return s. */
enum lf_status an_fail(struct an_bin *b, enum lf_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

enum lf_status an_elf_load(struct an_bin *b);
enum lf_status an_elf_funcs(struct an_bin *b);
/* fn(ctx, pc_begin, pc_range, mid_frame, lsda) per FDE of .eh_frame;
 * lsda 0 when it has none. */
enum lf_status an_ehframe_walk(struct an_bin *b, void (*fn)(void *, uint64_t, uint64_t, int, uint64_t), void *ctx);
/* Call sites of an LSDA with a landing pad (-1: unreadable). */
int an_lsda_pads(const struct an_bin *b, uint64_t func, uint64_t lsda, uint64_t *first_pad);
enum lf_status an_dwarf_load(struct an_bin *b, const char *path);
/* The same in a forked child (an_dwiso.c): a libdwarf crash is an error. */
enum lf_status an_dwarf_load_isolated(struct an_bin *b, const char *path);
/* Functions from the entry point and calls when nothing names any (after
 * a Go program's .gopclntab, an_gopclntab.c, when there is one). */
enum lf_status an_discover(struct an_bin *b);
enum lf_status an_gopclntab(struct an_bin *b);
/* Sort funcs, drop aliases, build the name index, tie .cold parts. */
enum lf_status an_funcs_finish(struct an_bin *b);
/* Decode one function and build its CFG (an_code.c). */
enum lf_status an_code_func(struct an_bin *b, struct an_func *f, void *scratch);
void *an_code_scratch_new(struct an_bin *b);
void an_code_scratch_free(void *s);

/* -- Per-function CFG builder shared by an_code.c, an_jtab.c, an_loops.c -- */
struct an_cfg_build {
    struct an_vec blocks;   /* struct an_block */
    struct an_vec edges;    /* struct an_edge */
    struct an_vec loops;    /* struct an_loop */
    struct an_vec sites;    /* struct an_indirect_site */
    struct an_vec jtabs;    /* struct an_jump_table */
};

/* Dominators + natural loops over a finished block/edge list: fills
 * blocks[].idom/loop/loop_depth and the loops vector. */
enum lf_status an_loops_compute(struct an_bin *b, struct an_cfg_build *cb, uint32_t entry);

/* Is a call to this target known never to return? */
int an_target_noreturn(const struct an_bin *b, uint64_t target);

#endif
