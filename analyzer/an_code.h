/* an_code.h -- the decoder state an_code.c (decoding), an_jtab.c (jump
 * tables) and an_cfg.c (blocks, edges) share while one function is analyzed.
 * Internal to analyzer/. */
#ifndef AN_CODE_H
#define AN_CODE_H

#include <Zydis/Zydis.h>

#include "analyzer/an_internal.h"

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

/* A jump table found at an indirect jmp; targets in jt_targets[first..). */
struct an_jtab_raw {
    uint64_t site, table;
    unsigned entry_size, n, bounded, relative;
    size_t first;
};

/* The last AN_RING instructions of the current straight-line run, fully
 * decoded, for the backward slices of jump-table recognition. */
#define AN_RING 24
struct an_ring {
    uint64_t addr;
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

#define AN_MAX_RANGES 8
struct an_range { uint64_t lo, hi; size_t base; const uint8_t *bytes; };

enum { AN_SEEN_INSN = 1, AN_SEEN_LEADER = 2 };

struct an_scratch {
    ZydisDecoder dec;
    ZydisFormatter fmt;
    struct an_range ranges[AN_MAX_RANGES];
    unsigned n_ranges;
    uint8_t *seen;        /* AN_SEEN_* per byte of the ranges */
    size_t seen_cap;
    struct an_vec insns;  /* struct an_ins */
    struct an_vec work;   /* uint64_t addresses still to decode */
    struct an_vec colds;  /* (parent, lo, hi) of compiler-split parts */
    struct an_vec jtabs;  /* struct an_jtab_raw */
    struct an_vec jt_targets; /* uint64_t */
    struct an_ring ring[AN_RING];
    unsigned ring_n;      /* instructions decoded in the current run */
    uint64_t unsupported; /* lowest unsupported address, 0 none */
};

long an_range_index(const struct an_scratch *s, uint64_t addr);
/* Recognize a jump table at the indirect jmp in (the last ring entry);
 * records it, sets in->jtab and queues its targets.  -1 only on OOM. */
int an_jtab_find(struct an_bin *b, struct an_scratch *s, struct an_ins *in);
/* Blocks, edges, sites, loops from the sorted instructions -> f->cfg. */
enum lf_status an_cfg_build(struct an_bin *b, struct an_scratch *s, struct an_func *f);

#endif
