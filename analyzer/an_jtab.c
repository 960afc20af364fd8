/* an_jtab.c -- jump tables behind an indirect jmp, as gcc and clang emit
 * them at -O2 for a dense switch:
 *
 *   PIC (both):   cmp idx, N ; ja default ; lea T, [rip+table]
 *                 movsxd v, dword [T + idx*4] ; add v, T ; jmp v
 *   non-PIC:      cmp idx, N ; ja default ; jmp qword [idx*8 + table]
 *                 (or mov v, qword [idx*8 + table] ; jmp v)
 *
 * Method: a backward slice over the current straight-line run (the ring of
 * fully decoded instructions in an_scratch) resolves the jump register to
 * "table + sign-extended int32 load from table[idx]" or "absolute load from
 * table[idx]"; the bound is the cmp idx, N feeding a ja (N+1 entries) or jae
 * (N entries), following register copies of idx.
 *
 * Invariants:
 *   1. A table is recorded only when its address was resolved exactly; its
 *      entries are read from the file bytes and every target must lie in
 *      the function's ranges.
 *   2. Without a bound check in the run, entries are read while they point
 *      into the function (at most AN_JT_MAX) and bounded = 0. */
#include "analyzer/an_code.h"

#include <string.h>

#define AN_JT_MAX 1024

enum an_vkind { V_NONE, V_ADDR, V_LOAD4, V_LOAD8, V_REL };
struct an_val { enum an_vkind kind; uint64_t table; ZydisRegister index; unsigned at; };

static ZydisRegister an_r64(ZydisRegister r)
{
    return r == ZYDIS_REGISTER_NONE ? r : ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
}

static const struct an_ring *an_at(const struct an_scratch *s, unsigned k) { return &s->ring[k % AN_RING]; }

static unsigned an_oldest(const struct an_scratch *s) { return s->ring_n > AN_RING ? s->ring_n - AN_RING : 0; }

static int an_writes_reg(const struct an_ring *e, ZydisRegister r64)
{
    for (unsigned i = 0; i < e->d.operand_count; i++) {
        const ZydisDecodedOperand *o = &e->ops[i];
        if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
            an_r64(o->reg.value) == r64)
            return 1;
    }
    return 0;
}

/* Latest instruction before position k writing r64; -1 if none in the run. */
static long an_def(const struct an_scratch *s, ZydisRegister r64, unsigned k)
{
    for (long j = (long)k - 1; j >= (long)an_oldest(s); j--)
        if (an_writes_reg(an_at(s, (unsigned)j), r64)) return j;
    return -1;
}

static struct an_val an_resolve(const struct an_scratch *s, ZydisRegister r64, unsigned k, int depth);

/* [base + index*scale + disp] with base resolved to a constant. */
static int an_mem_table(const struct an_scratch *s, const ZydisDecodedOperand *m, unsigned k, unsigned scale,
                        int depth, uint64_t *table)
{
    if (m->type != ZYDIS_OPERAND_TYPE_MEMORY || m->mem.index == ZYDIS_REGISTER_NONE ||
        m->mem.scale != scale || m->mem.segment == ZYDIS_REGISTER_FS || m->mem.segment == ZYDIS_REGISTER_GS)
        return 0;
    if (m->mem.base == ZYDIS_REGISTER_NONE) { *table = (uint64_t)m->mem.disp.value; return 1; }
    struct an_val b = an_resolve(s, an_r64(m->mem.base), k, depth + 1);
    if (b.kind != V_ADDR) return 0;
    *table = b.table + (uint64_t)m->mem.disp.value;
    return 1;
}

static struct an_val an_resolve(const struct an_scratch *s, ZydisRegister r64, unsigned k, int depth)
{
    struct an_val v = { V_NONE, 0, ZYDIS_REGISTER_NONE, 0 };
    long j = depth < 8 ? an_def(s, r64, k) : -1;
    if (j < 0) return v;
    const struct an_ring *e = an_at(s, (unsigned)j);
    const ZydisDecodedOperand *o = e->ops;
    uint64_t next = e->addr + e->d.length;
    switch (e->d.mnemonic) {
    case ZYDIS_MNEMONIC_LEA:
        if (o[1].mem.index != ZYDIS_REGISTER_NONE) break;
        if (o[1].mem.base == ZYDIS_REGISTER_RIP) v = (struct an_val){ V_ADDR, next + (uint64_t)o[1].mem.disp.value, 0, 0 };
        else if (o[1].mem.base == ZYDIS_REGISTER_NONE) v = (struct an_val){ V_ADDR, (uint64_t)o[1].mem.disp.value, 0, 0 };
        break;
    case ZYDIS_MNEMONIC_MOV:
        if (o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) v = (struct an_val){ V_ADDR, o[1].imm.value.u, 0, 0 };
        else if (o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) v = an_resolve(s, an_r64(o[1].reg.value), (unsigned)j, depth + 1);
        else if (o[0].size == 64 && an_mem_table(s, &o[1], (unsigned)j, 8, depth, &v.table)) {
            v.kind = V_LOAD8;
            v.index = an_r64(o[1].mem.index);
            v.at = (unsigned)j;
        }
        break;
    case ZYDIS_MNEMONIC_MOVSXD:
        if (an_mem_table(s, &o[1], (unsigned)j, 4, depth, &v.table)) {
            v.kind = V_LOAD4;
            v.index = an_r64(o[1].mem.index);
            v.at = (unsigned)j;
        }
        break;
    case ZYDIS_MNEMONIC_ADD: {
        if (o[1].type != ZYDIS_OPERAND_TYPE_REGISTER) break;
        struct an_val a = an_resolve(s, r64, (unsigned)j, depth + 1);
        struct an_val c = an_resolve(s, an_r64(o[1].reg.value), (unsigned)j, depth + 1);
        if (a.kind == V_LOAD4 && c.kind == V_ADDR) { struct an_val t = a; a = c; c = t; }
        if (a.kind == V_ADDR && c.kind == V_LOAD4 && a.table == c.table)
            v = (struct an_val){ V_REL, a.table, c.index, c.at };
        break;
    }
    default:
        break;
    }
    return v;
}

/* The same memory operand (an index loaded from the word a cmp checked). */
static int an_same_mem(const ZydisDecodedOperand *a, const ZydisDecodedOperand *b)
{
    return a->type == ZYDIS_OPERAND_TYPE_MEMORY && b->type == ZYDIS_OPERAND_TYPE_MEMORY &&
           a->size == b->size && a->mem.base == b->mem.base && a->mem.index == b->mem.index &&
           a->mem.scale == b->mem.scale && a->mem.disp.value == b->mem.disp.value &&
           a->mem.segment == b->mem.segment;
}

/* 1 when e may change the memory operand m (a store, or a new base/index). */
static int an_clobbers_mem(const struct an_ring *e, const ZydisDecodedOperand *m)
{
    for (unsigned i = 0; i < e->d.operand_count; i++)
        if (e->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && (e->ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
            return 1;
    return (m->mem.base != ZYDIS_REGISTER_NONE && an_writes_reg(e, an_r64(m->mem.base))) ||
           (m->mem.index != ZYDIS_REGISTER_NONE && an_writes_reg(e, an_r64(m->mem.index)));
}

/* Entries from the cmp/ja guarding index idx before position k; 0 unknown.
 * The index may be loaded (mov/movzx) from a word the cmp checked in
 * memory (`cmpw $6, (%rsi); ja; movzwl (%rsi), %eax`). */
static uint64_t an_bound(const struct an_scratch *s, ZydisRegister idx, unsigned k)
{
    int pending = 0; /* 1 ja seen, 2 jae seen */
    const ZydisDecodedOperand *mem = NULL;  /* idx was loaded from here */
    for (long j = (long)k - 1; j >= (long)an_oldest(s); j--) {
        const struct an_ring *e = an_at(s, (unsigned)j);
        ZydisMnemonic m = e->d.mnemonic;
        if (m == ZYDIS_MNEMONIC_JNBE) { pending = 1; continue; }
        if (m == ZYDIS_MNEMONIC_JNB) { pending = 2; continue; }
        if (mem && m == ZYDIS_MNEMONIC_CMP && an_same_mem(&e->ops[0], mem) &&
            e->ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && pending)
            return pending == 1 ? e->ops[1].imm.value.u + 1 : e->ops[1].imm.value.u;
        if (mem) {
            if (an_clobbers_mem(e, mem)) return 0;
            continue;
        }
        if (m == ZYDIS_MNEMONIC_CMP && e->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
            an_r64(e->ops[0].reg.value) == idx && e->ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && pending)
            return pending == 1 ? e->ops[1].imm.value.u + 1 : e->ops[1].imm.value.u;
        if (!an_writes_reg(e, idx)) continue;
        if ((m == ZYDIS_MNEMONIC_MOV || m == ZYDIS_MNEMONIC_MOVZX) &&
            e->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
            idx = an_r64(e->ops[1].reg.value); /* a copy (mov eax, eax zero-extends) */
            continue;
        }
        if ((m == ZYDIS_MNEMONIC_MOV || m == ZYDIS_MNEMONIC_MOVZX) &&
            e->ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY && e->ops[1].mem.base != ZYDIS_REGISTER_RIP) {
            mem = &e->ops[1];
            continue;
        }
        return 0;
    }
    return 0;
}

static int an_entry(const struct an_bin *b, const struct an_jtab_raw *t, uint64_t i, uint64_t *target)
{
    size_t avail;
    const uint8_t *p = an_bytes_at(&b->pub, t->table + i * t->entry_size, &avail);
    if (!p || avail < t->entry_size) return 0;
    if (t->relative) {
        int32_t e;
        memcpy(&e, p, 4);
        *target = t->table + (uint64_t)(int64_t)e;
        return 1;
    }
    /* absolute entries of a PIE are written by RELATIVE relocations */
    return an_read_u64(&b->pub, t->table + i * 8, target);
}

static int an_jtab_record(struct an_bin *b, struct an_scratch *s, struct an_ins *in, struct an_jtab_raw *t,
                          uint64_t bound)
{
    uint64_t n = bound ? bound : AN_JT_MAX, tgt;
    if (n > AN_JT_MAX) return 0;
    t->first = s->jt_targets.n;
    t->bounded = bound != 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!an_entry(b, t, i, &tgt) || an_range_index(s, tgt) < 0) {
            if (bound) { s->jt_targets.n = t->first; return 0; } /* not a table after all */
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
    in->jtab = (int32_t)(s->jtabs.n - 1);
    for (unsigned i = 0; i < t->n; i++) {
        uint64_t a = ((uint64_t *)s->jt_targets.data)[t->first + i];
        long ix = an_range_index(s, a);
        s->seen[ix] |= AN_SEEN_LEADER;
        if (!(s->seen[ix] & AN_SEEN_INSN)) {
            uint64_t *w = an_vec_push(&s->work);
            if (!w) return -1;
            *w = a;
        }
    }
    return 1;
}

int an_jtab_find(struct an_bin *b, struct an_scratch *s, struct an_ins *in)
{
    if (!s->ring_n) return 0;
    unsigned k = s->ring_n - 1;
    const struct an_ring *e = an_at(s, k);
    struct an_jtab_raw t = { .site = in->addr };
    struct an_val v = { V_NONE, 0, ZYDIS_REGISTER_NONE, 0 };
    if (e->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        v = an_resolve(s, an_r64(e->ops[0].reg.value), k, 0);
    } else if (an_mem_table(s, &e->ops[0], k, 8, 0, &v.table)) {
        v.kind = V_LOAD8;
        v.index = an_r64(e->ops[0].mem.index);
        v.at = k;
    }
    if (v.kind == V_REL) { t.relative = 1; t.entry_size = 4; }
    else if (v.kind == V_LOAD8) { t.relative = 0; t.entry_size = 8; }
    else return 0;
    t.table = v.table;
    return an_jtab_record(b, s, in, &t, an_bound(s, v.index, v.at)) < 0 ? -1 : 0;
}
