/* prim_bvec.c -- bytevectors: bytevector?, make-bytevector, bytevector,
 * bytevector-length, bytevector-u8-ref, bytevector-u8-set!,
 * bytevector-copy, bytevector-copy!, bytevector-append, utf8->string,
 * string->utf8.  A bytevector is laid out like a string (struct str, type
 * T_BVEC); a literal #u8(...) is frozen (LV_CONST) and setting one of its
 * bytes is an error, never a write into frozen memory.
 */
#include "lisp.h"

#include <string.h>

#define PRIM(name) static value name(int argc, value *a)
#define UNUSED_ARGC (void)argc

value lv_bvec(const void *bytes, size_t n)
{
    value v = lv_str(bytes, n);
    HDR(v)->type = T_BVEC;
    if (!bytes) memset(STR(v)->s, 0, n);
    return v;
}

static struct str *bv_arg(const char *who, value v)
{
    if (!BVECP(v)) lv_type_error(who, "a bytevector", v);
    return STR(v);
}

static size_t index_arg(const char *who, value v, size_t max)
{
    if (!FIXP(v) || UNFIX(v) < 0 || (size_t)UNFIX(v) > max) lv_type_error(who, "a valid index", v);
    return (size_t)UNFIX(v);
}

static unsigned char byte_arg(const char *who, value v)
{
    if (!FIXP(v) || UNFIX(v) < 0 || UNFIX(v) > 255) lv_type_error(who, "a byte (0..255)", v);
    return (unsigned char)UNFIX(v);
}

/* The [start, end) range of optional arguments i, i+1 over a length, in
 * se[0], se[1].  Six arguments, all in registers: lineiform's native calls
 * pass no stack arguments (a seventh reached this function as garbage in
 * an image). */
static void range(const char *who, int argc, value *a, int i, size_t len, size_t se[2])
{
    se[0] = argc > i ? index_arg(who, a[i], len) : 0;
    se[1] = argc > i + 1 ? index_arg(who, a[i + 1], len) : len;
    if (se[1] < se[0]) lv_type_error(who, "an end index not before the start", a[i + 1]);
}

PRIM(p_bytevectorp) { UNUSED_ARGC; return BOOL(BVECP(a[0])); }

PRIM(p_make_bytevector)
{
    size_t n = index_arg("make-bytevector", a[0], (size_t)1 << 31);
    value v = lv_bvec(NULL, n);
    if (argc > 1) memset(STR(v)->s, byte_arg("make-bytevector", a[1]), n);
    return v;
}

PRIM(p_bytevector)
{
    value v = lv_bvec(NULL, (size_t)argc);
    for (int i = 0; i < argc; i++) STR(v)->s[i] = (char)byte_arg("bytevector", a[i]);
    return v;
}

PRIM(p_bytevector_length) { UNUSED_ARGC; return FIX(bv_arg("bytevector-length", a[0])->h.len); }

PRIM(p_bytevector_u8_ref)
{
    UNUSED_ARGC;
    struct str *b = bv_arg("bytevector-u8-ref", a[0]);
    if (!FIXP(a[1]) || UNFIX(a[1]) < 0 || (size_t)UNFIX(a[1]) >= b->h.len)
        lv_type_error("bytevector-u8-ref", "a valid index", a[1]);
    return FIX((unsigned char)b->s[UNFIX(a[1])]);
}

PRIM(p_bytevector_u8_set)
{
    UNUSED_ARGC;
    struct str *b = bv_arg("bytevector-u8-set!", a[0]);
    if (b->h.flags & LV_CONST) lv_type_error("bytevector-u8-set!", "a mutable bytevector, not a constant", a[0]);
    if (!FIXP(a[1]) || UNFIX(a[1]) < 0 || (size_t)UNFIX(a[1]) >= b->h.len)
        lv_type_error("bytevector-u8-set!", "a valid index", a[1]);
    b->s[UNFIX(a[1])] = (char)byte_arg("bytevector-u8-set!", a[2]);
    return LV_UNSPEC;
}

PRIM(p_bytevector_copy)
{
    struct str *b = bv_arg("bytevector-copy", a[0]);
    size_t se[2];
    range("bytevector-copy", argc, a, 1, b->h.len, se);
    return lv_bvec(b->s + se[0], se[1] - se[0]);
}

/* (bytevector-copy! to at from [start [end]]) */
PRIM(p_bytevector_copy_to)
{
    struct str *to = bv_arg("bytevector-copy!", a[0]), *from = bv_arg("bytevector-copy!", a[2]);
    if (to->h.flags & LV_CONST) lv_type_error("bytevector-copy!", "a mutable bytevector, not a constant", a[0]);
    size_t at = index_arg("bytevector-copy!", a[1], to->h.len), se[2];
    range("bytevector-copy!", argc, a, 3, from->h.len, se);
    if (se[1] - se[0] > to->h.len - at) lv_type_error("bytevector-copy!", "a range that fits", a[2]);
    memmove(to->s + at, from->s + se[0], se[1] - se[0]);
    return LV_UNSPEC;
}

PRIM(p_bytevector_append)
{
    size_t n = 0;
    for (int i = 0; i < argc; i++) n += bv_arg("bytevector-append", a[i])->h.len;
    value v = lv_bvec(NULL, n);
    n = 0;
    for (int i = 0; i < argc; i++) {
        memcpy(STR(v)->s + n, STR(a[i])->s, HDR(a[i])->len);
        n += HDR(a[i])->len;
    }
    return v;
}

/* Characters are bytes (prim_str.c), so UTF-8 conversions copy bytes. */
PRIM(p_utf8_to_string)
{
    struct str *b = bv_arg("utf8->string", a[0]);
    size_t se[2];
    range("utf8->string", argc, a, 1, b->h.len, se);
    return lv_str(b->s + se[0], se[1] - se[0]);
}

PRIM(p_string_to_utf8)
{
    if (!STRP(a[0])) lv_type_error("string->utf8", "a string", a[0]);
    size_t se[2];
    range("string->utf8", argc, a, 1, HDR(a[0])->len, se);
    return lv_bvec(STR(a[0])->s + se[0], se[1] - se[0]);
}

const struct lv_primdef lv_prims_bvec[] = {
    { "bytevector?", p_bytevectorp, 1, 1 }, { "make-bytevector", p_make_bytevector, 1, 2 },
    { "bytevector", p_bytevector, 0, -1 }, { "bytevector-length", p_bytevector_length, 1, 1 },
    { "bytevector-u8-ref", p_bytevector_u8_ref, 2, 2 },
    { "bytevector-u8-set!", p_bytevector_u8_set, 3, 3 },
    { "bytevector-copy", p_bytevector_copy, 1, 3 },
    { "bytevector-copy!", p_bytevector_copy_to, 3, 5 },
    { "bytevector-append", p_bytevector_append, 0, -1 },
    { "utf8->string", p_utf8_to_string, 1, 3 }, { "string->utf8", p_string_to_utf8, 1, 3 },
    { NULL, NULL, 0, 0 },
};
