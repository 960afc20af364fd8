/* analyzer.h -- the in-memory analysis of one x86-64 ELF binary.
 *
 * What other folders use (the lifter, the snapshot compiler, the CLI):
 *
 *   an_open(path, flags, &b, err, errlen)   read and analyze, immutable after
 *   an_func_at(b, vaddr)                    the function containing vaddr
 *   an_func_by_name(b, name)                a function by symbol name
 *   an_func_cfg(b, f)                       its blocks, edges, loops, sites
 *   an_bytes_at(b, vaddr, &len)             the file bytes mapped at vaddr
 *   an_read_u64(b, vaddr, &v)               a pointer-size word, relocations applied
 *   an_close(b)
 *
 * Inputs: an ELF64 x86-64 executable or shared object, PIE or not, stripped
 * or not.  Outputs: segments, sections, functions (symbols, .eh_frame FDEs
 * for stripped code, PLT stubs named after their relocation), DWARF
 * prototypes with their SysV ABI classes, and per function (unless
 * AN_OPEN_NO_CFG) basic blocks, edges, jump tables, dominators, natural
 * loops, indirect sites and the liftable verdict against x86_forms.def.
 *
 * Invariants:
 *   1. Addresses in this API are link-time virtual addresses (as in the ELF
 *      file).  The store keeps them as offsets from load_base.
 *   2. an_binary owns every string and array reachable from it; all of it
 *      lives until an_close.  Nothing is modified after an_open returns, so a
 *      binary may be shared by threads.
 *   3. funcs[] is sorted by address; functions never overlap except that a
 *      symbol alias (two names, one address) is kept once.
 *   4. Bad input never crashes: every file offset and size is checked
 *      against the file; errors come back as a status and one line in err.
 */
#ifndef ANALYZER_H
#define ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "lineiform.h"

/* an_open flags */
enum {
    AN_OPEN_NO_CFG   = 1u << 0, /* symbols + prototypes only: no decoding */
    AN_OPEN_NO_DWARF = 1u << 1, /* skip DWARF (prototypes unknown) */
    AN_OPEN_IDENTIFY = 1u << 2, /* headers, build-id and content hash only:
                                   no functions (for cache checks) */
    AN_OPEN_ISOLATE  = 1u << 3, /* read DWARF in a forked child, so that a
                                   libdwarf crash on hostile input is an
                                   error, not a crash (untrusted files) */
};

/* SysV x86-64 classes of a value (one per eightbyte of a struct). */
#define AN_ABI_CLASSES(_) _(NONE) _(INTEGER) _(SSE) _(MEMORY) _(X87)
enum an_abi_class {
#define AN_ABI_ENUM_(c) AN_ABI_##c,
    AN_ABI_CLASSES(AN_ABI_ENUM_)
#undef AN_ABI_ENUM_
    AN_ABI__MAX
};
const char *an_abi_class_name(enum an_abi_class c);

/* A parameter or return value.  cls[0..1] are the classes of its first and
 * second eightbyte (cls[1] = NONE for values of 8 bytes or less); a value
 * passed in memory has cls[0] = MEMORY.  For a return value, void is NONE. */
struct an_param {
    const char *name;  /* "" when DWARF gives none */
    const char *ctype; /* C spelling: "int", "double", "struct pair", "char *" */
    uint64_t size;     /* bytes, 0 when unknown */
    enum an_abi_class cls[2];
};

/* "INTEGER", "SSE", "MEMORY", "INTEGER+SSE", "NONE": the class(es) as text. */
const char *an_param_class_str(const struct an_param *p, char *buf, size_t len);

/* AN_SRC_CALLS: found from the entry point and calls (an_discover.c) in a
 * binary whose symbols and FDEs name no function; AN_SRC_GOPCLNTAB: a
 * stripped Go program's own function table (an_gopclntab.c). */
enum an_func_source { AN_SRC_SYMTAB, AN_SRC_DYNSYM, AN_SRC_EH_FRAME, AN_SRC_PLT, AN_SRC_CALLS, AN_SRC_GOPCLNTAB };

struct an_func {
    const char *name;       /* symbol, "memcpy@plt", or "fn_<hex addr>" */
    uint64_t addr, size;    /* link-time vaddr, bytes */
    enum an_func_source source;
    int is_plt;
    const char *plt_target; /* for PLT stubs: the symbol called ("memcpy") */
    uint64_t parent_addr;   /* for a compiler-split part (foo.cold): foo; else 0 */
    int split;              /* its FDE starts inside an established frame: a part
                               another function jumps into (joins that
                               function's ranges), not an entry */
    /* Call sites whose exception table (LSDA) names a landing pad: catch
     * handlers and cleanups (destructors) only the unwinder enters; a
     * .cold part's count is its parent's too.  landing_pad: the first. */
    unsigned n_landing_pads;
    uint64_t landing_pad;
    /* DWARF prototype (has_proto = 0: unknown, the rest is zero) */
    int has_proto, variadic, noreturn;
    int nparams;
    const struct an_param *params;
    struct an_param ret;    /* ret.cls[0] = NONE for void */
    /* code (zero under AN_OPEN_NO_CFG, liftable = -1 then) */
    unsigned n_blocks, n_edges, n_insns, n_loops, n_indirect;
    int liftable;              /* 1 every reachable instruction is in x86_forms.def */
    uint64_t unsupported_addr; /* first unsupported instruction, 0 if none */
    const char *unsupported_text; /* its Intel syntax, NULL if none; else the
                                     incomplete reason when there is one */
    const char *incomplete;    /* "incomplete: <why>" when reachable code was
                                  not all recovered (a jump table not read),
                                  NULL when complete; such a function is not
                                  liftable */
    const struct an_cfg *cfg;  /* NULL under AN_OPEN_NO_CFG */
};

#define AN_EDGE_KINDS(_) _(FALLTHROUGH) _(BRANCH) _(COND) _(CALL) _(INDIRECT) _(JUMPTABLE)
enum an_edge_kind {
#define AN_EDGE_ENUM_(k) AN_EDGE_##k,
    AN_EDGE_KINDS(AN_EDGE_ENUM_)
#undef AN_EDGE_ENUM_
    AN_EDGE__MAX
};
const char *an_edge_kind_name(enum an_edge_kind k); /* "fallthrough", ... */

#define AN_NONE UINT32_MAX /* "no block / no loop" index */

struct an_block {
    uint64_t addr, size;
    unsigned n_insns;
    uint32_t idom;       /* immediate dominator (block index), AN_NONE for entry/unreachable */
    uint32_t loop;       /* innermost loop (index in loops), AN_NONE if none */
    unsigned loop_depth; /* 0 outside loops */
};

/* to = AN_NONE when the target is outside the function (calls, tail jumps)
 * or unknown (target = 0 for an unresolved indirect jump or call). */
struct an_edge {
    uint32_t from, to;
    uint64_t target;
    enum an_edge_kind kind;
};

struct an_loop {
    uint32_t header;        /* block index */
    uint32_t parent;        /* enclosing loop index, AN_NONE at top level */
    unsigned depth;         /* 1 for an outermost loop */
    unsigned n_back_edges;
    unsigned n_blocks;
    const uint32_t *blocks; /* sorted block indexes, header included */
};

struct an_jump_table {
    uint64_t site;          /* address of the indirect jmp */
    uint64_t table;         /* address of the table in .rodata (or .text) */
    unsigned entry_size;    /* 4 (relative to table) or 8 (absolute) */
    int relative;
    unsigned n_entries;
    int bounded;            /* 1 n_entries comes from a cmp/ja bound check */
    const uint64_t *targets;
};

struct an_indirect_site {
    uint64_t addr;
    uint32_t block;
    int is_call;            /* 1 call, 0 jmp */
    int jump_table;         /* index in jump_tables, -1 if none */
    const char *text;       /* Intel syntax */
};

struct an_cfg {
    unsigned n_blocks, n_edges, n_loops, n_sites, n_jump_tables;
    uint32_t entry;                 /* index of the entry block */
    const struct an_block *blocks;  /* sorted by address (a .cold part may come first) */
    const struct an_edge *edges;    /* grouped by from */
    const struct an_loop *loops;    /* outer loops before inner ones */
    const struct an_indirect_site *sites;
    const struct an_jump_table *jump_tables;
};

struct an_segment {
    uint64_t vaddr, memsz, offset, filesz;
    unsigned flags; /* PF_R | PF_W | PF_X */
};

struct an_section {
    const char *name;
    uint64_t addr, size, offset;
    unsigned type;  /* SHT_* */
    uint64_t flags; /* SHF_* */
};

struct an_binary {
    const char *path;
    char build_id[80];     /* hex, "" when there is no NT_GNU_BUILD_ID note */
    char content_hash[17]; /* hex of a 64-bit hash of the whole file, mixed
                              with an_forms_fingerprint() (the cache key) */
    uint64_t file_size;
    unsigned e_type;       /* ET_EXEC or ET_DYN */
    int pie;               /* ET_DYN with an interpreter or DF_1_PIE */
    uint64_t load_base;    /* lowest PT_LOAD vaddr, page-aligned down */
    uint64_t entry;
    int has_dwarf, stripped;  /* stripped: no .symtab */
    unsigned n_segments, n_sections, n_funcs;
    unsigned n_fdes;             /* FDEs in .eh_frame */
    const struct an_segment *segments;
    const struct an_section *sections;
    const struct an_func *funcs; /* sorted by addr */
    unsigned n_with_proto;       /* functions with a DWARF prototype */
    double ms_elf, ms_dwarf, ms_code;
};

/* Open and analyze path.  On failure *out is NULL and err holds one line
 * naming the file and the problem ("x: not an ELF file").  flags: AN_OPEN_*. */
enum lf_status an_open(const char *path, unsigned flags, struct an_binary **out,
                       char *err, size_t errlen);

/* Called now and then while code is analyzed (done of total functions). */
typedef void (*an_progress_fn)(void *ctx, unsigned done, unsigned total);
enum lf_status an_open_progress(const char *path, unsigned flags, an_progress_fn fn,
                                void *ctx, struct an_binary **out, char *err,
                                size_t errlen);

void an_close(struct an_binary *b);

/* The function whose [addr, addr+size) contains vaddr (a zero-size function
 * matches its own address only), NULL if none. */
const struct an_func *an_func_at(const struct an_binary *b, uint64_t vaddr);
const struct an_func *an_func_by_name(const struct an_binary *b, const char *name);

/* The file bytes at vaddr: *len is how many are mapped contiguously (from
 * the same PT_LOAD segment's file image), NULL if vaddr is not file-backed. */
const uint8_t *an_bytes_at(const struct an_binary *b, uint64_t vaddr, size_t *len);

/* The 8 bytes at vaddr as the program sees them when it starts: the
 * link-time value a load-time relocation writes there (RELATIVE, or a
 * defined symbol for R_X86_64_64/GLOB_DAT: function pointer tables in
 * .data.rel.ro of a PIE), else the file bytes (zero in .bss).  Add the load
 * bias to get a runtime pointer.  0 when vaddr..vaddr+8 is not mapped. */
int an_read_u64(const struct an_binary *b, uint64_t vaddr, uint64_t *out);

/* The PT_LOAD segment containing vaddr, NULL if none. */
const struct an_segment *an_segment_at(const struct an_binary *b, uint64_t vaddr);

#endif
