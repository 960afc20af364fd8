/* an_forms.c -- classify decoded instructions against x86_forms.def.
 *
 * Input: a Zydis-decoded instruction.  Output: its form (a row of the table)
 * or AN_FORM_NONE.  The shape is computed from the visible operands only;
 * hidden operands (flags, rsp of push/pop, rax:rdx of mul) are implied by
 * the form.  Invariants:
 *   1. A form is returned only if mnemonic, shape and widths all match a row.
 *   2. Prefixes the lifter does not model (segment overrides other than fs
 *      on a load/store) make the instruction unsupported; a lock prefix
 *      selects the LOCK_<form> rows, and only them. */
#include "analyzer/an_forms.h"

#include <pthread.h>
#include <string.h>

static const struct an_form_info an_forms[AN_FORM__MAX] = {
    [AN_FORM_NONE] = { "(unsupported)", ZYDIS_MNEMONIC_INVALID, AN_SH_NONE, 0, 0 },
#define LF_X86_FORM(nm, mn, sh, w, sw) \
    [AN_FORM_##nm] = { #nm, ZYDIS_MNEMONIC_##mn, AN_SH_##sh, (w), (sw) },
#include "analyzer/x86_forms.def"
#undef LF_X86_FORM
};

static const char *const an_shape_names[AN_SH__MAX] = {
#define AN_SHAPE_NAME_(s) #s,
    AN_SHAPES(AN_SHAPE_NAME_)
#undef AN_SHAPE_NAME_
};

const struct an_form_info *an_form_info(enum an_form f)
{
    return (unsigned)f < AN_FORM__MAX ? &an_forms[f] : &an_forms[0];
}

const char *an_form_name(enum an_form f) { return an_form_info(f)->name; }

const char *an_shape_name(enum an_shape s)
{
    return (unsigned)s < AN_SH__MAX ? an_shape_names[s] : "?";
}

/* One letter per visible operand: R gpr, X xmm, C cl, M memory, I imm, L rel. */
static char an_operand_kind(const ZydisDecodedOperand *op, int cl_is_count)
{
    switch (op->type) {
    case ZYDIS_OPERAND_TYPE_REGISTER: {
        ZydisRegisterClass c = ZydisRegisterGetClass(op->reg.value);
        if (c == ZYDIS_REGCLASS_XMM) return 'X';
        if (cl_is_count && op->reg.value == ZYDIS_REGISTER_CL) return 'C';
        if (c == ZYDIS_REGCLASS_GPR8 || c == ZYDIS_REGCLASS_GPR16 ||
            c == ZYDIS_REGCLASS_GPR32 || c == ZYDIS_REGCLASS_GPR64) return 'R';
        return '?';
    }
    case ZYDIS_OPERAND_TYPE_MEMORY:
        return op->mem.type == ZYDIS_MEMOP_TYPE_MEM || op->mem.type == ZYDIS_MEMOP_TYPE_AGEN ? 'M' : '?';
    case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        return op->imm.is_relative ? 'L' : 'I';
    default:
        return '?';
    }
}

/* cl_is_count: a last operand cl is a shift count (R_CL), else a plain R. */
static enum an_shape an_shape_cl(const ZydisDecodedInstruction *insn,
                                 const ZydisDecodedOperand *ops, int cl_is_count)
{
    char k[4] = { 0 };
    unsigned n = insn->operand_count_visible;
    if (n > 3) return AN_SH__MAX;
    for (unsigned i = 0; i < n; i++) k[i] = an_operand_kind(&ops[i], cl_is_count && i > 0 && i == n - 1);
    static const struct { const char *k; enum an_shape s; } map[] = {
        { "", AN_SH_NONE }, { "R", AN_SH_R }, { "M", AN_SH_M }, { "I", AN_SH_I },
        { "L", AN_SH_REL }, { "X", AN_SH_X }, { "RR", AN_SH_R_R }, { "RM", AN_SH_R_M },
        { "MR", AN_SH_M_R }, { "RI", AN_SH_R_I }, { "MI", AN_SH_M_I },
        { "RC", AN_SH_R_CL }, { "MC", AN_SH_M_CL }, { "RRI", AN_SH_R_R_I },
        { "RMI", AN_SH_R_M_I }, { "RRC", AN_SH_R_R_CL }, { "MRC", AN_SH_M_R_CL },
        { "MRI", AN_SH_M_R_I }, { "XX", AN_SH_X_X }, { "XM", AN_SH_X_M },
        { "MX", AN_SH_M_X }, { "XR", AN_SH_X_R }, { "RX", AN_SH_R_X },
        { "XI", AN_SH_X_I }, { "XXI", AN_SH_X_X_I }, { "XMI", AN_SH_X_M_I },
        { "XRI", AN_SH_X_R_I }, { "RXI", AN_SH_R_X_I }, { "XXX", AN_SH_X_X_X }, { "XXM", AN_SH_X_X_M },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].k, k) == 0) return map[i].s;
    return AN_SH__MAX;
}

enum an_shape an_shape_of(const ZydisDecodedInstruction *insn,
                          const ZydisDecodedOperand *ops)
{
    return an_shape_cl(insn, ops, 0);
}

static unsigned an_width_bit(unsigned bits)
{
    switch (bits) {
    case 8: return W8; case 16: return W16; case 32: return W32;
    case 64: return W64; case 128: return W128; default: return 0;
    }
}

static int an_prefixes_ok(const ZydisDecodedInstruction *insn,
                          const ZydisDecodedOperand *ops)
{
    for (unsigned i = 0; i < insn->operand_count_visible; i++) {
        if (ops[i].type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
        ZydisRegister seg = ops[i].mem.segment;
        /* fs: thread-local data and the stack protector's canary, which
         * gcc also reads with sub/xor/cmp r, fs:0x28 (invariant 2) */
        if (seg == ZYDIS_REGISTER_FS) continue;
        if (seg != ZYDIS_REGISTER_NONE && seg != ZYDIS_REGISTER_DS &&
            seg != ZYDIS_REGISTER_SS && seg != ZYDIS_REGISTER_ES) return 0;
    }
    return 1;
}

/* Candidate rows per mnemonic, built once; an_locked: the row is a
 * LOCK_<form>, which a lock prefix selects (and only it). */
static enum an_form an_first[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static enum an_form an_next[AN_FORM__MAX];
static unsigned char an_locked[AN_FORM__MAX];
static int an_index_built;

static void an_build_index(void)
{
    for (int f = AN_FORM__MAX - 1; f > 0; f--) {
        an_locked[f] = !strncmp(an_forms[f].name, "LOCK_", 5);
        ZydisMnemonic m = an_forms[f].mnemonic;
        an_next[f] = an_first[m];
        an_first[m] = (enum an_form)f;
    }
    __atomic_store_n(&an_index_built, 1, __ATOMIC_RELEASE);
}

enum an_form an_form_classify(const ZydisDecodedInstruction *insn,
                              const ZydisDecodedOperand *ops)
{
    if (!__atomic_load_n(&an_index_built, __ATOMIC_ACQUIRE)) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, an_build_index);
    }
    if (!an_prefixes_ok(insn, ops)) return AN_FORM_NONE;
    unsigned n = insn->operand_count_visible;
    unsigned w0 = n > 0 ? an_width_bit(ops[0].size) : 0;
    unsigned w1 = n > 1 ? an_width_bit(ops[1].size) : 0;
    unsigned char locked = (insn->attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0;
    for (int cl_is_count = 1; cl_is_count >= 0; cl_is_count--) {
        enum an_shape shape = an_shape_cl(insn, ops, cl_is_count);
        if (shape == AN_SH__MAX) continue;
        for (enum an_form f = an_first[insn->mnemonic]; f; f = an_next[f]) {
            const struct an_form_info *fi = &an_forms[f];
            if (fi->shape != shape || an_locked[f] != locked) continue;
            if (fi->widths && !(fi->widths & w0)) continue;
            if (fi->srcwidths && !(fi->srcwidths & w1)) continue;
            return f;
        }
    }
    return AN_FORM_NONE;
}

uint64_t an_forms_fingerprint(void)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (int f = 1; f < AN_FORM__MAX; f++) {
        const struct an_form_info *fi = &an_forms[f];
        uint64_t words[4] = { fi->mnemonic, fi->shape, fi->widths, fi->srcwidths };
        for (const char *c = fi->name; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
        for (int i = 0; i < 4; i++) h = (h ^ words[i]) * 0x100000001b3ULL;
    }
    return h;
}
