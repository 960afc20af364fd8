/* an_forms.h -- the one list of x86-64 instruction forms lineiform lifts.
 *
 * analyzer/x86_forms.def holds one LF_X86_FORM row per form:
 *     _(NAME, MNEMONIC, SHAPE, WIDTHS, SRCWIDTHS)
 *   NAME      unique form name (AN_FORM_<NAME>, lift_sem_<NAME> in lifter/)
 *   MNEMONIC  the Zydis mnemonic without ZYDIS_MNEMONIC_
 *   SHAPE     visible operand kinds, AN_SH_<SHAPE> (R gpr, X xmm, M memory,
 *             I immediate, REL relative target, CL the cl register)
 *   WIDTHS    accepted widths of operand 0 (W8|W16|W32|W64|W128), 0 = any
 *   SRCWIDTHS accepted widths of operand 1, 0 = any
 * It expands into the lifter's dispatch (lifter/), the analyzer's liftable
 * verdict (an_form_classify), names for dumps and the store, and the
 * differential test list (tests/test_lift_insn_*.c).  A form not in the
 * table is never guessed: the lifter refuses it. */
#ifndef AN_FORMS_H
#define AN_FORMS_H

#include <Zydis/Zydis.h>

enum { W8 = 1, W16 = 2, W32 = 4, W64 = 8, W128 = 16 };

#define AN_SHAPES(_) \
    _(NONE) _(R) _(M) _(I) _(REL) _(X) \
    _(R_R) _(R_M) _(M_R) _(R_I) _(M_I) _(R_CL) _(M_CL) \
    _(R_R_I) _(R_M_I) _(R_R_CL) _(M_R_CL) _(M_R_I) \
    _(X_X) _(X_M) _(M_X) _(X_R) _(R_X) _(X_I) _(X_X_I) _(X_M_I) _(X_R_I) _(R_X_I) \
    _(X_X_X) _(X_X_M)

enum an_shape {
#define AN_SHAPE_ENUM_(s) AN_SH_##s,
    AN_SHAPES(AN_SHAPE_ENUM_)
#undef AN_SHAPE_ENUM_
    AN_SH__MAX
};

enum an_form {
    AN_FORM_NONE = 0, /* not in the table: unsupported */
#define LF_X86_FORM(name, mn, shape, w, sw) AN_FORM_##name,
#include "analyzer/x86_forms.def"
#undef LF_X86_FORM
    AN_FORM__MAX
};

struct an_form_info {
    const char *name;
    ZydisMnemonic mnemonic;
    enum an_shape shape;
    unsigned widths, srcwidths;
};

/* The row of a form (AN_FORM_NONE .. AN_FORM__MAX-1). */
const struct an_form_info *an_form_info(enum an_form f);

/* The form of a decoded instruction, or AN_FORM_NONE when the lifter does
 * not support it.  ops = the operands from ZydisDecoderDecodeFull. */
enum an_form an_form_classify(const ZydisDecodedInstruction *insn,
                              const ZydisDecodedOperand *ops);

/* The shape of an instruction's visible operands, AN_SH__MAX if none fits. */
enum an_shape an_shape_of(const ZydisDecodedInstruction *insn,
                          const ZydisDecodedOperand *ops);

const char *an_form_name(enum an_form f);

/* A 64-bit hash of every row of the table: part of the metadata cache key,
 * so analyses stored by a lineiform with another table are redone. */
uint64_t an_forms_fingerprint(void);
const char *an_shape_name(enum an_shape s);

#endif
