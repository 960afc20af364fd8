/* rt_image_none.c -- DEFAULT rt_image_load for builds without an image
 * loader: image mode is refused with LF_ERR_UNSUPPORTED.  module.mk leaves
 * this file out as soon as snapshot/runtime/rt_image.c exists (a weak
 * definition alone would not make the linker pull rt_image.o out of the
 * archive, so the choice is made at build time). */
#include "snapshot/runtime/rt_internal.h"

#include <stdio.h>

__attribute__((weak)) enum lf_status rt_image_load(const char *path, void **code, void **entry,
                                                   void **roots, char *why, size_t whylen)
{
    (void)code;
    (void)entry;
    (void)roots;
    snprintf(why, whylen, "%s: this runtime was built without an image loader", path);
    return LF_ERR_UNSUPPORTED;
}
