/* snap_lift_none.c -- DEFAULT lift_aot_compile for builds whose lifter/
 * does not define it yet: every snapshot is a whole-program bailout, so
 * `lineiform snapshot` writes an image that runs the interpreter's own code
 * from the restored heap (correct output, no speed-up) and says so.
 * snapshot/module.mk leaves this file out as soon as a file in lifter/ defines
 * lift_aot_compile (a weak definition would keep the linker from pulling
 * the real one out of liblifter.a, so the choice is made at build time). */
#include "lifter/codegen/lift_aot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum lf_status lift_aot_compile(const struct lift_aot_input *in, struct lift_aot_result *out,
                                char *why, size_t whylen)
{
    (void)in;
    if (out) memset(out, 0, sizeof *out);
    snprintf(why, whylen, "this build has no ahead-of-time lifter (lift_aot_compile)");
    return LF_ERR_UNSUPPORTED;
}

void lift_aot_result_free(struct lift_aot_result *r)
{
    if (!r) return;
    for (size_t k = 0; k < r->nobj; k++) free(r->obj[k]);
    free(r->syms);
    memset(r, 0, sizeof *r);
}
