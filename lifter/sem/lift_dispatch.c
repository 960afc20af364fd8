/* lift_dispatch.c -- the semantic function of every instruction form.
 *
 * Expands analyzer/x86_forms.def into lift_sem_table[form]: a row whose
 * lift_sem_<NAME> is defined nowhere fails to link, so the table and the
 * semantics cannot drift apart. */
#include "lifter/lift_internal.h"

const lift_sem_fn lift_sem_table[AN_FORM__MAX] = {
    [AN_FORM_NONE] = 0,
#define LF_X86_FORM(name, mn, shape, w, sw) [AN_FORM_##name] = lift_sem_##name,
#include "analyzer/x86_forms.def"
#undef LF_X86_FORM
};
