/* an_jtab.c -- jump tables behind an indirect jmp, as gcc and clang emit
 * them at -O2 for a dense switch or a computed-goto dispatch:
 *
 *   PIC (both):   cmp idx, N ; ja default ; lea T, [rip+table]
 *                 movsxd v, dword [T + idx*4] ; add v, T ; jmp v
 *   non-PIC:      cmp idx, N ; ja default ; jmp qword [idx*8 + table]
 *                 (or mov v, qword [idx*8 + table] ; jmp v)
 *   dispatch:     lea r14, [rip+table] at the entry ... and eax, 0x7f ;
 *                 mov rax, qword [r14 + rax*8] ; jmp rax   (lua5.4)
 *
 * Method, after each decoding round (an_code.c):
 *   shape  the jump register back along the straight chain of predecessors
 *          (an_flow_prev) to "base + int32 load from base[idx]" or "load
 *          from base[idx*8]";
 *   base   the base register's constant by backward data flow over every
 *          path (an_flow_const: registers, spills, blocks);
 *   bound  the index back along the chain: a cmp on it (or on a register it
 *          was copied from, before or after the cmp) feeding ja/jae (or
 *          jbe/jb taken), the immediate read unsigned at the cmp's width
 *          (cmp r15b, 0xb5 is 182 entries) -> AN_JT_GUARD; else an and-mask
 *          or a zero-extension from 8/16 bits -> AN_JT_EXTENT with that
 *          upper limit; else AN_JT_EXTENT up to AN_JT_MAX.
 *   read   a guarded table's entries must all be targets in the function
 *          (its own and its split parts' ranges) or the guard's default
 *          (gcc sends unreachable cases there, even when it is the address
 *          just past the function, as a tail edge); an extent table stops at
 *          the first entry that is not, at a word without a relocation (an
 *          absolute table of a relocated binary), at another table of the
 *          function, at the end of its section.
 *   check  once decoding is done, an entry landing mid-instruction caps an
 *          extent table there, and drops a guarded one (an_jtab_check).
 *
 * Invariants:
 *   1. A table is recorded only when its address was resolved exactly, and
 *      every entry it keeps is an instruction start of the function.
 *   2. A jmp whose target comes from an indexed load (a table shape) but
 *      whose table could not be read makes the function incomplete, with
 *      the reason; an indirect jmp of another shape (through a pointer
 *      field, a GOT slot), through a table the running program chooses (its
 *      base passed in or loaded from data), or through a table of function
 *      pointers (entry 0 starts another function) is a tail jump out of the
 *      function. */
#include "analyzer/an_code.h"

#include <stdio.h>
#include <string.h>

#define AN_JT_MAX 1024       /* entries of an extent table */
#define AN_JT_GUARD_MAX 16384
#define AN_CHAIN 64          /* instructions looked back along the chain */

struct an_shape {
    int relative;            /* 4-byte entries relative to the table */
    uint64_t table;
    ZydisRegister index;     /* 64-bit register holding the index */
    long load;               /* instruction index of the indexed load */
    int shaped;              /* an indexed load feeds the jmp */
    const char *why;         /* when not resolved */
};

/* The latest instruction before i on the chain writing r64: its index and
 * decoded form, -1 if none within AN_CHAIN. */
static long an_chain_def(struct an_scratch *s, ZydisRegister r64, long i, ZydisDecodedInstruction *d,
                         ZydisDecodedOperand *o)
{
    unsigned bit = an_reg_bit(r64);
    int taken;
    const struct an_ins *ins = s->insns.data;
    for (unsigned n = 0; n < AN_CHAIN && (i = an_flow_prev(s, i, &taken)) >= 0; n++) {
        if (!an_decode_at(s, ins[i].addr, d, o)) return -1;
        if (an_writes_mask(d, o) & bit) return i;
        if ((ins[i].kind == AN_INS_CALL || ins[i].kind == AN_INS_ICALL) && (bit & 0x0FC7u)) return -1;
    }
    return -1;
}

/* [base + index*scale + disp] with base a constant before instruction at. */
static int an_indexed(struct an_scratch *s, const ZydisDecodedOperand *m, unsigned scale, long at,
                      struct an_shape *sh)
{
    if (m->type != ZYDIS_OPERAND_TYPE_MEMORY || m->mem.index == ZYDIS_REGISTER_NONE ||
        m->mem.scale != scale || m->mem.segment == ZYDIS_REGISTER_FS || m->mem.segment == ZYDIS_REGISTER_GS)
        return 0;
    sh->shaped = 1;
    sh->index = an_r64(m->mem.index);
    sh->load = at;
    uint64_t base = 0;
    int runtime = 0;
    if (m->mem.base == ZYDIS_REGISTER_RIP) return 0;
    if (m->mem.base != ZYDIS_REGISTER_NONE && !an_flow_const(s, an_r64(m->mem.base), at, &base, &runtime)) {
        /* a table the running program chooses (V8's dispatch table, passed
         * in a register) is a jump through pointers out of the function */
        sh->shaped = !runtime;
        sh->why = "table base not resolved";
        return 0;
    }
    sh->table = base + (uint64_t)m->mem.disp.value;
    return 1;
}

/* Value of r64 before i: a constant (1, *c) or an int32 load from
 * [T + idx*4] (2, sh filled with T). */
static int an_operand(struct an_scratch *s, ZydisRegister r64, long i, uint64_t *c, struct an_shape *sh)
{
    ZydisDecodedInstruction d;
    ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
    long j = an_chain_def(s, r64, i, &d, o);
    if (j >= 0 && d.mnemonic == ZYDIS_MNEMONIC_MOVSXD) return an_indexed(s, &o[1], 4, j, sh) ? 2 : 0;
    return an_flow_const(s, r64, i, c, NULL) ? 1 : 0;
}

static int an_shape_of(struct an_scratch *s, long k, struct an_shape *sh)
{
    ZydisDecodedInstruction d;
    ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
    const struct an_ins *ins = s->insns.data;
    memset(sh, 0, sizeof *sh);
    if (!an_decode_at(s, ins[k].addr, &d, o)) return 0;
    if (o[0].type == ZYDIS_OPERAND_TYPE_MEMORY) return an_indexed(s, &o[0], 8, k, sh);
    if (o[0].type != ZYDIS_OPERAND_TYPE_REGISTER) return 0;
    ZydisRegister t = an_r64(o[0].reg.value);
    long at = k;
    for (int copies = 0; copies < 4; copies++) {
        long j = an_chain_def(s, t, at, &d, o);
        if (j < 0) return 0;
        if (d.mnemonic == ZYDIS_MNEMONIC_MOV && o[0].size == 64 && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
            t = an_r64(o[1].reg.value);
            at = j;
            continue;
        }
        if (d.mnemonic == ZYDIS_MNEMONIC_MOV && o[0].size == 64) return an_indexed(s, &o[1], 8, j, sh);
        ZydisRegister a, b;
        if (d.mnemonic == ZYDIS_MNEMONIC_ADD && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER && o[0].size == 64) {
            a = an_r64(o[0].reg.value);
            b = an_r64(o[1].reg.value);
        } else if (d.mnemonic == ZYDIS_MNEMONIC_LEA && o[1].mem.scale <= 1 && !o[1].mem.disp.value &&
                   o[1].mem.index != ZYDIS_REGISTER_NONE && o[1].mem.base != ZYDIS_REGISTER_RIP) {
            a = an_r64(o[1].mem.base);
            b = an_r64(o[1].mem.index);
        } else {
            return 0;
        }
        uint64_t ca = 0, cb = 0;
        struct an_shape la = { 0 }, lb = { 0 };
        int ka = an_operand(s, a, j, &ca, &la), kb = an_operand(s, b, j, &cb, &lb);
        sh->shaped = la.shaped || lb.shaped;
        sh->why = la.why ? la.why : lb.why;
        if (ka == 2 && kb == 1 && la.table == cb) { *sh = la; sh->relative = 1; return 1; }
        if (kb == 2 && ka == 1 && lb.table == ca) { *sh = lb; sh->relative = 1; return 1; }
        if (sh->shaped && !sh->why) sh->why = "table base not resolved";
        return 0;
    }
    return 0;
}

/* -- Bound ------------------------------------------------------------------------ */

struct an_cand { unsigned reg, same, written; uint64_t n; }; /* a guard on another register */

static int an_same_mem(const ZydisDecodedOperand *a, const ZydisDecodedOperand *b)
{
    return a->type == ZYDIS_OPERAND_TYPE_MEMORY && b->type == ZYDIS_OPERAND_TYPE_MEMORY &&
           a->size == b->size && a->mem.base == b->mem.base && a->mem.index == b->mem.index &&
           a->mem.scale == b->mem.scale && a->mem.disp.value == b->mem.disp.value &&
           a->mem.segment == b->mem.segment;
}

/* Two accesses off the same base and index whose bytes do not overlap. */
static int an_disjoint(const ZydisDecodedOperand *a, const ZydisDecodedOperand *b)
{
    if (a->mem.base != b->mem.base || a->mem.index != b->mem.index || a->mem.scale != b->mem.scale ||
        a->mem.segment != b->mem.segment)
        return 0;
    int64_t x = a->mem.disp.value, y = b->mem.disp.value;
    return x + a->size / 8 <= y || y + b->size / 8 <= x;
}

static uint64_t an_imm_at_width(const ZydisDecodedOperand *imm, unsigned bits)
{
    uint64_t v = imm->imm.value.u;
    return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

/* The jcc at j reached from the next chain element: 1 "idx <= N" (ja
 * falls through, jbe taken), 2 "idx < N" (jae falls through, jb taken). */
static int an_guard_kind(ZydisMnemonic m, int taken)
{
    if (!taken) return m == ZYDIS_MNEMONIC_JNBE ? 1 : m == ZYDIS_MNEMONIC_JNB ? 2 : 0;
    return m == ZYDIS_MNEMONIC_JBE ? 1 : m == ZYDIS_MNEMONIC_JB ? 2 : 0;
}

/* Entries of the table indexed by idx at instruction load: *guard = 1 for
 * a cmp bound, 0 for a mask/extension limit; 0 when nothing bounds it. */
static uint64_t an_bound(struct an_scratch *s, ZydisRegister idx, long load, int *guard, uint64_t *dflt)
{
    ZydisDecodedInstruction d;
    ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT], mem;
    memset(&mem, 0, sizeof mem);
    const struct an_ins *ins = s->insns.data;
    unsigned same = an_reg_bit(idx);    /* registers equal to the index here */
    int pending = 0, have_mem = 0, taken;
    uint64_t limit = 0;
    struct an_cand cand[4];
    unsigned nc = 0;
    long i = load;
    *guard = 0;
    *dflt = 0;
    for (unsigned step = 0; step < AN_CHAIN && (i = an_flow_prev(s, i, &taken)) >= 0; step++) {
        if (!an_decode_at(s, ins[i].addr, &d, o)) break;
        ZydisMnemonic m = d.mnemonic;
        if (ins[i].kind == AN_INS_JCC) {
            pending = an_guard_kind(m, taken);
            /* the default: where the guard goes when the index is too big */
            *dflt = taken ? ins[i].addr + ins[i].length : ins[i].target;
            continue;
        }
        if (m == ZYDIS_MNEMONIC_CMP && o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            uint64_t n = an_imm_at_width(&o[1], o[0].size) + (pending == 1);
            if (pending && have_mem && an_same_mem(&o[0], &mem)) { *guard = 1; return n; }
            if (pending && !have_mem && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
                unsigned r = an_reg_bit(o[0].reg.value);
                if (r & same) { *guard = 1; return n; }
                if (nc < 4) cand[nc++] = (struct an_cand){ r, same, 0, n };
            }
            pending = 0;
            continue;
        }
        unsigned w = an_writes_mask(&d, o);
        if (d.attributes & ZYDIS_ATTRIB_CPUFLAG_ACCESS && d.cpu_flags && d.cpu_flags->modified) pending = 0;
        if (have_mem) {
            int clobber = (an_reg_bit(mem.mem.base) | an_reg_bit(mem.mem.index)) & w;
            for (unsigned k = 0; k < d.operand_count; k++)
                clobber |= o[k].type == ZYDIS_OPERAND_TYPE_MEMORY && (o[k].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
                            !an_disjoint(&o[k], &mem);
            if (clobber) break;
            continue;
        }
        int copy = (m == ZYDIS_MNEMONIC_MOV || m == ZYDIS_MNEMONIC_MOVZX) && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER;
        if (copy && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
            unsigned a = an_reg_bit(o[0].reg.value), b = an_reg_bit(o[1].reg.value);
            for (unsigned c = 0; c < nc; c++) /* cmp src after the copy, neither changed since */
                if (cand[c].reg == b && (cand[c].same & a) && !(cand[c].written & (a | b))) { *guard = 1; return cand[c].n; }
            if (a & same) {
                if (m == ZYDIS_MNEMONIC_MOVZX && !limit) limit = 1ull << o[1].size;
                same = (same & ~a) | b;
            }
        } else if (copy && o[1].type == ZYDIS_OPERAND_TYPE_MEMORY && (an_reg_bit(o[0].reg.value) & same) &&
                   o[1].mem.base != ZYDIS_REGISTER_RIP) {
            if (m == ZYDIS_MNEMONIC_MOVZX && !limit) limit = 1ull << o[1].size;
            mem = o[1];
            have_mem = 1;
            continue;
        } else if (m == ZYDIS_MNEMONIC_AND && o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                   o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && (an_reg_bit(o[0].reg.value) & same)) {
            uint64_t n = an_imm_at_width(&o[1], o[0].size) + 1;
            return !limit || n < limit ? n : limit;
        } else {
            same &= ~w;
        }
        for (unsigned c = 0; c < nc; c++) cand[c].written |= w;
        if (!same) break;
    }
    return limit;
}

/* -- Reading the entries ------------------------------------------------------------ */

static int an_has_reloc(const struct an_bin *b, uint64_t vaddr)
{
    const struct an_reloc *r = b->relocs.data;
    size_t lo = 0, hi = b->relocs.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r[mid].offset < vaddr) lo = mid + 1;
        else hi = mid;
    }
    return lo < b->relocs.n && r[lo].offset == vaddr;
}

static const struct an_section *an_section_at(const struct an_bin *b, uint64_t vaddr)
{
    for (unsigned i = 0; i < b->pub.n_sections; i++) {
        const struct an_section *x = &b->pub.sections[i];
        if (x->addr && vaddr >= x->addr && vaddr - x->addr < x->size) return x;
    }
    return NULL;
}

static int an_entry(const struct an_bin *b, const struct an_jtab_raw *t, uint64_t i, uint64_t *target)
{
    uint64_t at = t->table + i * t->entry_size;
    size_t avail;
    const uint8_t *p = an_bytes_at(&b->pub, at, &avail);
    if (!p || avail < t->entry_size) return 0;
    if (t->relative) {
        int32_t e;
        memcpy(&e, p, 4);
        *target = t->table + (uint64_t)(int64_t)e;
        return 1;
    }
    /* absolute entries of a position-independent binary are written by
     * relocations (an executable's are in its file bytes, relocations or not) */
    if (b->pub.e_type == 3 /* ET_DYN */ && b->relocs.n && !an_has_reloc(b, at)) return 0;
    return an_read_u64(&b->pub, at, target);
}

static unsigned an_cap_of(const struct an_scratch *s, uint64_t table)
{
    const struct an_jtab_cap *c = s->caps.data;
    for (size_t i = 0; i < s->caps.n; i++)
        if (c[i].table == table) return c[i].n;
    return UINT32_MAX;
}

static unsigned an_cap_bad(const struct an_scratch *s, uint64_t table)
{
    const struct an_jtab_cap *c = s->caps.data;
    for (size_t i = 0; i < s->caps.n; i++)
        if (c[i].table == table) return c[i].bad;
    return 0;
}

/* 1 recorded, 0 not a table (t->n = the entry that failed), -1 OOM. */
static int an_jtab_record(struct an_bin *b, struct an_scratch *s, long k, struct an_jtab_raw *t, uint64_t n)
{
    const struct an_section *sec = an_section_at(b, t->table);
    const struct an_jtab_raw *other = s->jtabs.data;
    unsigned cap = an_cap_of(s, t->table);
    t->first = s->jt_targets.n;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t tgt, at = t->table + i * t->entry_size;
        int ok = i < cap && an_entry(b, t, i, &tgt) && (!sec || at + t->entry_size <= sec->addr + sec->size);
        for (size_t j = 0; ok && i && j < s->jtabs.n; j++) ok = other[j].table != at;
        if (ok && an_range_index(s, tgt) < 0 && tgt != t->dflt) {
            int r = an_adopt_split(b, s, tgt, t->bounded == AN_JT_GUARD);
            if (r < 0) return -1;
            ok = r > 0;
        }
        if (!ok) {
            if (t->bounded == AN_JT_GUARD) { s->jt_targets.n = t->first; t->n = (unsigned)i; return 0; }
            break;
        }
        uint64_t *slot = an_vec_push(&s->jt_targets);
        if (!slot) return -1;
        *slot = tgt;
    }
    t->n = (unsigned)(s->jt_targets.n - t->first);
    if (!t->n) return 0;
    struct an_jtab_raw *rec = an_vec_push(&s->jtabs);
    if (!rec) return -1;
    *rec = *t;
    ((struct an_ins *)s->insns.data)[k].jtab = (int32_t)(s->jtabs.n - 1);
    for (unsigned i = 0; i < t->n; i++) {
        uint64_t a = ((uint64_t *)s->jt_targets.data)[t->first + i];
        if ((a != t->dflt || an_range_index(s, a) >= 0) && an_queue(b, s, a) < 0) return -1;
    }
    return 1;
}

/* An absolute table whose first entry starts another function: a table of
 * function pointers the jmp tail-calls through, not a switch. */
static int an_fn_pointers(const struct an_bin *b, const struct an_scratch *s, const struct an_jtab_raw *t)
{
    uint64_t tgt;
    if (t->relative || t->n != 0 || !an_entry(b, t, 0, &tgt)) return 0;
    const struct an_func *g = an_func_at(&b->pub, tgt);
    return g && g->addr == tgt && g->addr != s->func->addr && !g->split && !g->parent_addr;
}

static void an_incomplete(struct an_scratch *s, uint64_t site, const char *fmt, uint64_t a, uint64_t b)
{
    if (s->incomplete && s->incomplete <= site) return;
    s->incomplete = site;
    int n = snprintf(s->why, sizeof s->why, "jmp at 0x%llx: ", (unsigned long long)site);
    snprintf(s->why + n, sizeof s->why - (size_t)n, fmt, (unsigned long long)a, (unsigned long long)b);
    s->incomplete_why = s->why;
}

int an_jtab_resolve(struct an_bin *b, struct an_scratch *s)
{
    s->incomplete = 0;
    s->incomplete_why = NULL;
    size_t open = 0;
    for (size_t k = 0; k < s->insns.n; k++) {
        const struct an_ins *in = &((const struct an_ins *)s->insns.data)[k];
        open += in->kind == AN_INS_IJMP && in->jtab < 0;
    }
    if (!open) return 0; /* most functions: no predecessor map needed */
    if (an_flow_preds(s) < 0) return -1;
    int added = 0;
    for (size_t k = 0; k < s->insns.n; k++) {
        const struct an_ins *in = &((const struct an_ins *)s->insns.data)[k];
        if (in->kind != AN_INS_IJMP || in->jtab >= 0) continue;
        uint64_t site = in->addr;
        struct an_shape sh;
        if (!an_shape_of(s, (long)k, &sh)) {
            if (sh.shaped) an_incomplete(s, site, sh.why ? sh.why : "jump table not recognized", 0, 0);
            continue;
        }
        int guard;
        uint64_t dflt;
        uint64_t n = an_bound(s, sh.index, sh.load, &guard, &dflt);
        struct an_jtab_raw t = { .site = site, .table = sh.table, .relative = (unsigned)sh.relative,
                                 .entry_size = sh.relative ? 4 : 8, .bounded = guard ? AN_JT_GUARD : AN_JT_EXTENT,
                                 .dflt = guard ? dflt : 0 };
        if (guard && n > AN_JT_GUARD_MAX) {
            an_incomplete(s, site, "table at 0x%llx: bound %llu too large", t.table, n);
            continue;
        }
        if (!guard && (!n || n > AN_JT_MAX)) n = AN_JT_MAX;
        if (an_cap_of(s, t.table) == 0) {
            an_incomplete(s, site, "table at 0x%llx: entry %llu lands mid-instruction", t.table, an_cap_bad(s, t.table));
            continue;
        }
        int r = an_jtab_record(b, s, (long)k, &t, n);
        if (r < 0) return -1;
        if (r == 0 && !an_fn_pointers(b, s, &t))
            an_incomplete(s, site, "table at 0x%llx: entry %llu is not code of the function", t.table, t.n);
        if (r == 0) continue;
        added++;
    }
    return added;
}

/* An entry target that is not the start of a decoded instruction, or whose
 * instruction overlaps the next one. */
static int an_target_bad(const struct an_scratch *s, uint64_t a)
{
    long ix = an_range_index(s, a), k = an_ins_index(s, a);
    if (ix < 0 || k < 0 || !(s->seen[ix] & AN_SEEN_INSN) || (s->seen[ix] & AN_SEEN_BODY)) return 1;
    const struct an_ins *in = &((const struct an_ins *)s->insns.data)[k];
    for (unsigned b = 1; b < in->length; b++) {
        long j = an_range_index(s, a + b);
        if (j >= 0 && (s->seen[j] & AN_SEEN_INSN)) return 1;
    }
    return 0;
}

static int an_set_cap(struct an_scratch *s, uint64_t table, unsigned n, unsigned bad)
{
    struct an_jtab_cap *c = s->caps.data;
    for (size_t i = 0; i < s->caps.n; i++)
        if (c[i].table == table) { c[i].n = n; c[i].bad = bad; return 0; }
    c = an_vec_push(&s->caps);
    if (!c) return -1;
    *c = (struct an_jtab_cap){ table, n, bad };
    return 0;
}

int an_jtab_check(struct an_bin *b, struct an_scratch *s)
{
    (void)b;
    const struct an_jtab_raw *t = s->jtabs.data;
    const uint64_t *tg = s->jt_targets.data;
    /* extent tables first: their stray entries may overlap good code */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->jtabs.n; i++) {
            if ((t[i].bounded == AN_JT_GUARD) != pass) continue;
            for (unsigned e = 0; e < t[i].n; e++) {
                uint64_t a = tg[t[i].first + e];
                if ((a == t[i].dflt && an_range_index(s, a) < 0) || !an_target_bad(s, a)) continue;
                return an_set_cap(s, t[i].table, pass ? 0 : e, e) < 0 ? -1 : 1;
            }
        }
    return 0;
}
