/* an_flow.c -- backward data flow over the decoded instructions of one
 * function, for jump-table recognition (an_jtab.c): which constant a
 * register holds before an instruction on every path that reaches it
 * (a table base loaded by `lea r14, [rip+T]` at the entry, 35 instructions
 * and several blocks before the `jmp`, or spilled to the stack and
 * reloaded), and the straight-line chain of predecessors a bound check is
 * looked for on.
 *
 * Input: s->insns sorted by address (one decoding round), their kinds,
 * targets and jump tables.  Output: answers; nothing is kept.
 *
 * Invariants:
 *   1. A value is a constant only when every path back from the use ends
 *      at a definition with that same constant (lea rip-relative, mov of an
 *      immediate), through register copies, 64-bit stack slots ([rsp+d]
 *      adjusted across push/pop/sub/add rsp, [rbp+d]) and their stores.
 *      Reaching the function entry, a call clobbering a caller-saved
 *      register, any other definition, or the step budget gives unknown;
 *      "runtime" when a path reaches the entry (a value the caller passes)
 *      or a load from data: a value only the running program knows.
 *   2. Memory other than the tracked slot is assumed not to alias it (a
 *      slot's address is not taken by compiled switch code); this is the
 *      one assumption, and it only affects which table is read, never
 *      which entries are accepted (an_jtab.c checks every entry). */
#include "analyzer/an_code.h"

#include <stdlib.h>
#include <string.h>

#define AN_FLOW_BUDGET 65536 /* predecessor steps per question */
#define AN_WALK_SEEN 32768   /* states remembered (power of 2) */
#define AN_WALK_STACK 8192
#define AN_CALLER_SAVED 0x0FC7u /* rax rcx rdx rsi rdi r8-r11 */

ZydisRegister an_r64(ZydisRegister r)
{
    return r == ZYDIS_REGISTER_NONE ? r : ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
}

unsigned an_reg_bit(ZydisRegister r)
{
    r = an_r64(r);
    return r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15 ? 1u << (r - ZYDIS_REGISTER_RAX) : 0;
}

unsigned an_writes_mask(const ZydisDecodedInstruction *d, const ZydisDecodedOperand *ops)
{
    unsigned m = 0;
    for (unsigned i = 0; i < d->operand_count; i++)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
            m |= an_reg_bit(ops[i].reg.value);
    return m;
}

/* -- Predecessors ------------------------------------------------------------- */

static int an_pred_cmp(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

static int an_pred_add(struct an_scratch *s, uint64_t to, size_t from)
{
    uint64_t *p = an_vec_push(&s->preds);
    if (!p) return -1;
    p[0] = to;
    p[1] = from;
    return 0;
}

int an_flow_preds(struct an_scratch *s)
{
    const struct an_ins *ins = s->insns.data;
    const struct an_jtab_raw *jt = s->jtabs.data;
    s->preds.n = 0;
    for (size_t i = 0; i < s->insns.n; i++) {
        if ((ins[i].kind == AN_INS_JMP || ins[i].kind == AN_INS_JCC) && an_pred_add(s, ins[i].target, i) < 0)
            return -1;
        if (ins[i].kind != AN_INS_IJMP || ins[i].jtab < 0) continue;
        const uint64_t *tg = (const uint64_t *)s->jt_targets.data + jt[ins[i].jtab].first;
        for (unsigned k = 0; k < jt[ins[i].jtab].n; k++)
            if (an_pred_add(s, tg[k], i) < 0) return -1;
    }
    if (s->preds.n > 1) qsort(s->preds.data, s->preds.n, 2 * sizeof(uint64_t), an_pred_cmp);
    return 0;
}

long an_ins_index(const struct an_scratch *s, uint64_t addr)
{
    const struct an_ins *ins = s->insns.data;
    size_t lo = 0, hi = s->insns.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ins[mid].addr < addr) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->insns.n && ins[lo].addr == addr ? (long)lo : -1;
}

/* First of the branch predecessors of addr in s->preds, and how many. */
static size_t an_branch_preds(const struct an_scratch *s, uint64_t addr, size_t *n)
{
    const uint64_t (*p)[2] = s->preds.data;
    size_t lo = 0, hi = s->preds.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p[mid][0] < addr) lo = mid + 1;
        else hi = mid;
    }
    size_t k = lo;
    while (k < s->preds.n && p[k][0] == addr) k++;
    *n = k - lo;
    return lo;
}

static long an_fall_pred(const struct an_scratch *s, long i)
{
    const struct an_ins *ins = s->insns.data;
    if (i <= 0 || ins[i - 1].addr + ins[i - 1].length != ins[i].addr) return -1;
    unsigned k = ins[i - 1].kind;
    return k == AN_INS_PLAIN || k == AN_INS_CALL || k == AN_INS_ICALL || k == AN_INS_JCC ? i - 1 : -1;
}

long an_flow_prev(const struct an_scratch *s, long i, int *taken)
{
    long j = an_fall_pred(s, i);
    *taken = 0;
    if (j >= 0) return j;
    size_t n, first = an_branch_preds(s, ((const struct an_ins *)s->insns.data)[i].addr, &n);
    if (n != 1) return -1;
    j = (long)((const uint64_t (*)[2])s->preds.data)[first][1];
    *taken = ((const struct an_ins *)s->insns.data)[j].kind == AN_INS_JCC;
    return j;
}

/* -- Constants ---------------------------------------------------------------- */

/* A location: a register, or the 8 bytes at [base + disp] (base rsp/rbp). */
struct an_loc { ZydisRegister reg, base; int64_t disp; };
struct an_state { long i; struct an_loc l; unsigned gen; };

struct an_walk {
    const struct an_scratch *s;
    struct an_state stack[AN_WALK_STACK];
    unsigned sp;
    struct an_state seen[AN_WALK_SEEN]; /* open addressing; gen != w->gen: empty */
    unsigned gen, steps;
    int have, runtime;
    uint64_t value;
};

static int an_loc_eq(struct an_loc a, struct an_loc b)
{
    return a.reg == b.reg && a.base == b.base && a.disp == b.disp;
}

/* 0 pushed, 1 already seen, -1 out of room. */
static int an_walk_push(struct an_walk *w, long i, struct an_loc l)
{
    uint64_t h = ((uint64_t)i ^ (uint64_t)l.reg * 31 ^ (uint64_t)l.base * 131 ^ (uint64_t)l.disp) * 0x9E3779B97F4A7C15ull;
    h >>= 40;
    for (unsigned k = 0; k < 64; k++) {
        struct an_state *e = &w->seen[(h + k) & (AN_WALK_SEEN - 1)];
        if (e->gen != w->gen) {
            if (w->sp == AN_WALK_STACK) return -1;
            *e = (struct an_state){ i, l, w->gen };
            w->stack[w->sp++] = *e;
            return 0;
        }
        if (e->i == i && an_loc_eq(e->l, l)) return 1;
    }
    return -1;
}

static int an_walk_const(struct an_walk *w, uint64_t v)
{
    if (w->have && w->value != v) return -1;
    w->have = 1;
    w->value = v;
    return 0;
}

static int an_mem_is_slot(const ZydisDecodedOperand *o, struct an_loc l)
{
    return o->type == ZYDIS_OPERAND_TYPE_MEMORY && an_r64(o->mem.base) == l.base &&
           o->mem.index == ZYDIS_REGISTER_NONE && o->mem.disp.value == l.disp;
}

static int an_mem_overlaps(const ZydisDecodedOperand *o, struct an_loc l)
{
    if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || an_r64(o->mem.base) != l.base) return 0;
    if (o->mem.index != ZYDIS_REGISTER_NONE) return 1;
    int64_t lo = o->mem.disp.value, hi = lo + (o->size ? o->size / 8 : 8);
    return lo < l.disp + 8 && hi > l.disp;
}

/* Instruction p (decoded) is passed backward while tracking l: 0 on with
 * *l updated (or a definition that is a copy), 1 l is defined as a
 * constant (recorded), -1 unknown. */
static int an_step_reg(struct an_walk *w, const ZydisDecodedInstruction *d, const ZydisDecodedOperand *o,
                       uint64_t pc, struct an_loc *l)
{
    unsigned bit = an_reg_bit(l->reg);
    if (!(an_writes_mask(d, o) & bit)) return 0;
    uint64_t next = pc + d->length;
    if (d->mnemonic == ZYDIS_MNEMONIC_LEA && o[1].mem.index == ZYDIS_REGISTER_NONE && o[0].size == 64) {
        if (o[1].mem.base == ZYDIS_REGISTER_RIP) return an_walk_const(w, next + (uint64_t)o[1].mem.disp.value) < 0 ? -1 : 1;
        if (o[1].mem.base == ZYDIS_REGISTER_NONE) return an_walk_const(w, (uint64_t)o[1].mem.disp.value) < 0 ? -1 : 1;
        return -1;
    }
    if (d->mnemonic != ZYDIS_MNEMONIC_MOV || o[0].type != ZYDIS_OPERAND_TYPE_REGISTER) return -1;
    if (o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        uint64_t v = o[1].imm.value.u;
        if (o[0].size == 32) v &= 0xffffffffu;
        else if (o[0].size != 64) return -1;
        return an_walk_const(w, v) < 0 ? -1 : 1;
    }
    if (o[0].size != 64) return -1;
    if (o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        *l = (struct an_loc){ an_r64(o[1].reg.value), ZYDIS_REGISTER_NONE, 0 };
        return 0;
    }
    ZydisRegister b = an_r64(o[1].mem.base);
    if (o[1].type == ZYDIS_OPERAND_TYPE_MEMORY && (b == ZYDIS_REGISTER_RSP || b == ZYDIS_REGISTER_RBP) &&
        o[1].mem.index == ZYDIS_REGISTER_NONE && o[1].mem.segment != ZYDIS_REGISTER_FS &&
        o[1].mem.segment != ZYDIS_REGISTER_GS) {
        *l = (struct an_loc){ ZYDIS_REGISTER_NONE, b, o[1].mem.disp.value };
        return 0;
    }
    if (o[1].type == ZYDIS_OPERAND_TYPE_MEMORY) w->runtime = 1; /* a pointer read from data */
    return -1;
}

static int an_step_slot(struct an_walk *w, const ZydisDecodedInstruction *d, const ZydisDecodedOperand *o,
                        struct an_loc *l)
{
    ZydisMnemonic m = d->mnemonic;
    if (l->base == ZYDIS_REGISTER_RSP) {
        /* l is [rsp_after + disp]; rsp_before = rsp_after + delta */
        if (m == ZYDIS_MNEMONIC_PUSH) {
            if (l->disp == 0) {
                if (o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && o[0].size == 64) {
                    *l = (struct an_loc){ an_r64(o[0].reg.value), ZYDIS_REGISTER_NONE, 0 };
                    return 0;
                }
                if (o[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return an_walk_const(w, o[0].imm.value.u) < 0 ? -1 : 1;
                return -1;
            }
            l->disp -= 8;
            return l->disp < 0 ? -1 : 0;
        }
        if (m == ZYDIS_MNEMONIC_POP) { l->disp += 8; return 0; }
        if ((m == ZYDIS_MNEMONIC_SUB || m == ZYDIS_MNEMONIC_ADD) && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
            o[0].reg.value == ZYDIS_REGISTER_RSP && o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            l->disp += m == ZYDIS_MNEMONIC_SUB ? -o[1].imm.value.s : o[1].imm.value.s;
            return l->disp < 0 ? -1 : 0;
        }
        if (d->meta.category != ZYDIS_CATEGORY_CALL && (an_writes_mask(d, o) & an_reg_bit(ZYDIS_REGISTER_RSP)))
            return -1;
    } else if (an_writes_mask(d, o) & an_reg_bit(l->base)) {
        return -1;
    }
    if (d->meta.category == ZYDIS_CATEGORY_CALL) return 0; /* its return address goes below rsp */
    for (unsigned i = 0; i < d->operand_count; i++) {
        if (!(o[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) || o[i].type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
        if (m == ZYDIS_MNEMONIC_MOV && i == 0 && an_mem_is_slot(&o[0], *l) && o[0].size == 64) {
            if (o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
                *l = (struct an_loc){ an_r64(o[1].reg.value), ZYDIS_REGISTER_NONE, 0 };
                return 0;
            }
            if (o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return an_walk_const(w, o[1].imm.value.u) < 0 ? -1 : 1;
            return -1;
        }
        if (an_mem_overlaps(&o[i], *l)) return -1;
    }
    return 0;
}

/* Walk back from state (i, l) into each predecessor of i. */
static int an_walk_state(struct an_walk *w, struct an_state st)
{
    const struct an_scratch *s = w->s;
    const struct an_ins *ins = s->insns.data;
    size_t n, first = an_branch_preds(s, ins[st.i].addr, &n);
    long fall = an_fall_pred(s, st.i);
    if (fall < 0 && n == 0) { /* the entry (a value the caller passes), or code reached only by a table not read */
        if (ins[st.i].addr == s->func->addr) w->runtime = 1;
        return -1;
    }
    for (size_t k = 0; k < n + (fall >= 0); k++) {
        long p = k < n ? (long)((const uint64_t (*)[2])s->preds.data)[first + k][1] : fall;
        if (++w->steps > AN_FLOW_BUDGET) return -1;
        ZydisDecodedInstruction d;
        ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
        if (!an_decode_at((struct an_scratch *)s, ins[p].addr, &d, o)) return -1;
        struct an_loc l = st.l;
        int r;
        if (l.reg != ZYDIS_REGISTER_NONE) {
            if ((ins[p].kind == AN_INS_CALL || ins[p].kind == AN_INS_ICALL) && (an_reg_bit(l.reg) & AN_CALLER_SAVED))
                return -1;
            r = an_step_reg(w, &d, o, ins[p].addr, &l);
        } else {
            r = an_step_slot(w, &d, o, &l);
        }
        if (r < 0) return -1;
        if (r == 0 && an_walk_push(w, p, l) < 0) return -1;
    }
    return 0;
}

void an_flow_free(struct an_scratch *s)
{
    free(s->walk);
    s->walk = NULL;
}

int an_flow_const(struct an_scratch *s, ZydisRegister r64, long i, uint64_t *v, int *runtime)
{
    struct an_walk *w = s->walk;
    if (!w && !(w = s->walk = calloc(1, sizeof *w))) return 0;
    w->s = s;
    w->sp = w->steps = 0;
    w->have = w->runtime = 0;
    if (++w->gen == 0) { /* wrapped: forget every state */
        memset(w->seen, 0, sizeof w->seen);
        w->gen = 1;
    }
    int ok = an_walk_push(w, i, (struct an_loc){ r64, ZYDIS_REGISTER_NONE, 0 }) == 0;
    while (ok && w->sp) ok = an_walk_state(w, w->stack[--w->sp]) == 0;
    ok = ok && w->have;
    if (ok) *v = w->value;
    if (runtime) *runtime = !ok && w->runtime;
    return ok;
}
