/* an_code.h -- the decoder state an_code.c (decoding), an_jtab.c (jump
 * tables) and an_cfg.c (blocks, edges) share while one function is analyzed.
 * Internal to analyzer/. */
#ifndef AN_CODE_H
#define AN_CODE_H

#include <Zydis/Zydis.h>

#include "analyzer/an_internal.h"

struct an_walk;

enum an_ins_kind {
    AN_INS_PLAIN = 0, AN_INS_RET, AN_INS_JMP, AN_INS_JCC, AN_INS_CALL, AN_INS_ICALL,
    AN_INS_IJMP, AN_INS_HALT, AN_INS_NORET, AN_INS_BAD
};

/* One reachable instruction (decoded once; kept small, not the Zydis form). */
struct an_ins {
    uint64_t addr, target; /* target: direct branch/call destination */
    uint8_t length, kind;  /* enum an_ins_kind */
    int32_t jtab;          /* jump-table index for AN_INS_IJMP, -1 none */
};

/* A jump table found at an indirect jmp; targets in jt_targets[first..).
 * bounded: AN_JT_GUARD (n from a cmp/ja on the index: every entry must be
 * a target of the function), AN_JT_EXTENT (n from a mask or zero-extension
 * of the index, or none: entries are read while they are targets and the
 * table has not run into a gap, another table or the section's end). */
enum { AN_JT_EXTENT = 0, AN_JT_GUARD = 1 };
struct an_jtab_raw {
    uint64_t site, table;
    uint64_t dflt;             /* a guard's default target (gcc points unreachable
                                  cases there, even past the function's end), 0 */
    unsigned entry_size, n, bounded, relative;
    size_t first;
};

/* A cap on a table's entries found by checking its targets against the
 * decoded code (an entry landing mid-instruction); decoding restarts. */
struct an_jtab_cap { uint64_t table; unsigned n, bad; };

#define AN_MAX_RANGES 8
struct an_range { uint64_t lo, hi; size_t base; const uint8_t *bytes; };

enum { AN_SEEN_INSN = 1, AN_SEEN_LEADER = 2, AN_SEEN_BODY = 4 };

struct an_scratch {
    ZydisDecoder dec;
    ZydisFormatter fmt;
    struct an_range ranges[AN_MAX_RANGES];
    unsigned n_ranges, base_ranges; /* base_ranges: symbol-given (own + named .cold) */
    uint8_t *seen;        /* AN_SEEN_* per byte of the ranges */
    size_t seen_cap;
    struct an_vec insns;  /* struct an_ins */
    struct an_vec work;   /* uint64_t addresses still to decode */
    struct an_vec colds;  /* (parent, lo, hi) of compiler-split parts */
    struct an_vec jtabs;  /* struct an_jtab_raw */
    struct an_vec jt_targets; /* uint64_t */
    struct an_vec caps;   /* struct an_jtab_cap, per function */
    struct an_vec preds;  /* (to, from index) pairs of an_flow.c */
    uint64_t unsupported; /* lowest unsupported address, 0 none */
    uint64_t incomplete;  /* lowest unresolved jump-table-shaped jmp, 0 none */
    const char *incomplete_why;
    char why[160];
    struct an_walk *walk;  /* an_flow.c's search state, kept between questions */
    struct an_func *func;  /* the function being analyzed */
};

/* -- Registers (an_flow.c) -- */
ZydisRegister an_r64(ZydisRegister r);
unsigned an_reg_bit(ZydisRegister r);  /* 1 << (r64 - rax) for a GPR, else 0 */
unsigned an_writes_mask(const ZydisDecodedInstruction *d, const ZydisDecodedOperand *ops);

/* -- Backward flow over s->insns sorted by address (an_flow.c) -- */
int an_flow_preds(struct an_scratch *s);              /* branch predecessors; -1 OOM */
long an_ins_index(const struct an_scratch *s, uint64_t addr);
/* The instruction before i on the straight chain: the fall-through
 * predecessor, else the only branch predecessor (*taken = 1 when that is a
 * jcc jumping to i); -1 none. */
long an_flow_prev(const struct an_scratch *s, long i, int *taken);
/* 1 and *v when r64 holds the same constant before i on every path; on 0,
 * *runtime (if not NULL) = 1 when a path shows a value only the running
 * program knows (passed in by the caller, or loaded from data). */
int an_flow_const(struct an_scratch *s, ZydisRegister r64, long i, uint64_t *v, int *runtime);
void an_flow_free(struct an_scratch *s);

/* Mark addr a leader and queue it for decoding (adopting a split part it
 * lands in); -1 OOM. */
int an_queue(struct an_bin *b, struct an_scratch *s, uint64_t addr);

/* Decode the instruction at addr (inside the ranges); 0 if it does not decode. */
int an_decode_at(struct an_scratch *s, uint64_t addr, ZydisDecodedInstruction *d, ZydisDecodedOperand *ops);
/* Add the split part holding addr to the function's ranges (an_code.c):
 * 1 added, 0 not a part of ours, -1 OOM. */
int an_adopt_split(struct an_bin *b, struct an_scratch *s, uint64_t addr, int from_guarded_table);
long an_range_index(const struct an_scratch *s, uint64_t addr);
/* After a decoding round (s->insns sorted): recognize the jump tables of
 * the indirect jmps still without one, record them, queue their targets.
 * Returns the number of tables added, -1 on OOM. */
int an_jtab_resolve(struct an_bin *b, struct an_scratch *s);
/* After the last round: entries landing mid-instruction cap their table
 * (s->caps); 1 when a cap changed (decode again), 0 stable, -1 OOM. */
int an_jtab_check(struct an_bin *b, struct an_scratch *s);
/* Blocks, edges, sites, loops from the sorted instructions -> f->cfg. */
enum lf_status an_cfg_build(struct an_bin *b, struct an_scratch *s, struct an_func *f);

#endif
