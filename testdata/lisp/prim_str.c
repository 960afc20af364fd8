/* prim_str.c -- strings (mutable byte strings; literals are constants),
 * characters and symbols.
 */
#include "lisp.h"

#include <ctype.h>
#include <string.h>

#include "lineiform.h"

#define PRIM(name) static value name(int argc, value *a)
#define UNUSED_ARGC (void)argc

static struct str *str_arg(const char *who, value v)
{
    if (!STRP(v)) lv_type_error(who, "a string", v);
    return STR(v);
}

static uint32_t char_arg(const char *who, value v)
{
    if (!CHARP(v)) lv_type_error(who, "a character", v);
    return UNCHR(v);
}

static size_t len_arg(const char *who, value v, size_t max)
{
    if (!FIXP(v) || UNFIX(v) < 0 || (size_t)UNFIX(v) > max)
        lv_type_error(who, "a valid length or index", v);
    return (size_t)UNFIX(v);
}

PRIM(p_make_string)
{
    size_t n = len_arg("make-string", a[0], (size_t)1 << 31);
    value s = lv_str(NULL, n);
    if (argc > 1) memset(STR(s)->s, (int)char_arg("make-string", a[1]), n);
    return s;
}

PRIM(p_string)
{
    value s = lv_str(NULL, (size_t)argc);
    for (int i = 0; i < argc; i++) STR(s)->s[i] = (char)char_arg("string", a[i]);
    return s;
}

PRIM(p_string_length) { UNUSED_ARGC; return FIX(str_arg("string-length", a[0])->h.len); }

static uint32_t str_index(const char *who, value k, uint32_t len)
{
    if (!FIXP(k)) lv_type_error(who, "an integer index", k);
    if (UNFIX(k) < 0 || UNFIX(k) >= (intptr_t)len)
        lv_die(lv_nopos, "%s: index %ld out of range [0, %u)", who, (long)UNFIX(k), len);
    return (uint32_t)UNFIX(k);
}

PRIM(p_string_ref)
{
    UNUSED_ARGC;
    struct str *s = str_arg("string-ref", a[0]);
    return CHR((unsigned char)s->s[str_index("string-ref", a[1], s->h.len)]);
}

PRIM(p_string_set)
{
    UNUSED_ARGC;
    struct str *s = str_arg("string-set!", a[0]);
    uint32_t i = str_index("string-set!", a[1], s->h.len);
    uint32_t c = char_arg("string-set!", a[2]);
    if (s->h.flags & LV_CONST) lv_type_error("string-set!", "a mutable string, not a literal", a[0]);
    if (c > 255) lv_type_error("string-set!", "a byte character", a[2]);
    s->s[i] = (char)c;
    return LV_UNSPEC;
}

PRIM(p_substring)
{
    struct str *s = str_arg("substring", a[0]);
    size_t start = len_arg("substring", a[1], s->h.len);
    size_t end = argc > 2 ? len_arg("substring", a[2], s->h.len) : s->h.len;
    if (end < start) lv_die(lv_nopos, "substring: end %zu is before start %zu", end, start);
    return lv_str(s->s + start, end - start);
}

PRIM(p_string_append)
{
    size_t n = 0;
    for (int i = 0; i < argc; i++) n += str_arg("string-append", a[i])->h.len;
    value r = lv_str(NULL, n);
    char *p = STR(r)->s;
    for (int i = 0; i < argc; i++) {
        memcpy(p, STR(a[i])->s, HDR(a[i])->len);
        p += HDR(a[i])->len;
    }
    return r;
}

PRIM(p_string_copy) { UNUSED_ARGC; struct str *s = str_arg("string-copy", a[0]); return lv_str(s->s, s->h.len); }

PRIM(p_string_to_list)
{
    UNUSED_ARGC;
    struct str *s = str_arg("string->list", a[0]);
    value r = LV_NIL;
    for (uint32_t i = s->h.len; i > 0; i--) r = lv_cons(CHR((unsigned char)s->s[i - 1]), r);
    return r;
}

PRIM(p_list_to_string)
{
    UNUSED_ARGC;
    long n = lv_list_length(a[0]);
    if (n < 0) lv_type_error("list->string", "a list of characters", a[0]);
    value r = lv_str(NULL, (size_t)n), l = a[0];
    for (long i = 0; i < n; i++, l = CDR(l)) STR(r)->s[i] = (char)char_arg("list->string", CAR(l));
    return r;
}

PRIM(p_string_to_symbol)
{
    UNUSED_ARGC;
    struct str *s = str_arg("string->symbol", a[0]);
    if (memchr(s->s, 0, s->h.len)) lv_type_error("string->symbol", "a string without NUL", a[0]);
    return lv_intern(s->s);
}

PRIM(p_symbol_to_string)
{
    UNUSED_ARGC;
    if (!SYMP(a[0])) lv_type_error("symbol->string", "a symbol", a[0]);
    return lv_str(SYM(a[0])->name, HDR(a[0])->len);
}

static int str_cmp(const char *who, value x, value y)
{
    struct str *s = str_arg(who, x), *t = str_arg(who, y);
    size_t n = s->h.len < t->h.len ? s->h.len : t->h.len;
    int c = memcmp(s->s, t->s, n);
    if (c) return c < 0 ? -1 : 1;
    return s->h.len < t->h.len ? -1 : s->h.len > t->h.len;
}

#define STRCMP(cname, sname, test) \
    PRIM(cname) \
    { \
        value ok = LV_TRUE; \
        if (argc == 1) str_arg(sname, a[0]); \
        for (int i = 0; i + 1 < argc; i++) { int c = str_cmp(sname, a[i], a[i + 1]); if (!(test)) ok = LV_FALSE; } \
        return ok; \
    }
STRCMP(p_string_eq, "string=?", c == 0)
STRCMP(p_string_lt, "string<?", c < 0)
STRCMP(p_string_gt, "string>?", c > 0)
STRCMP(p_string_le, "string<=?", c <= 0)
STRCMP(p_string_ge, "string>=?", c >= 0)

PRIM(p_string_for_each)
{
    UNUSED_ARGC;
    if (!PROCP(a[0]) && !PRIMP(a[0])) lv_type_error("string-for-each", "a procedure", a[0]);
    struct str *s = str_arg("string-for-each", a[1]);
    for (uint32_t i = 0; i < s->h.len; i++) {
        value c = CHR((unsigned char)s->s[i]);
        lv_call(a[0], 1, &c);
    }
    return LV_UNSPEC;
}

PRIM(p_stringp) { UNUSED_ARGC; return BOOL(STRP(a[0])); }
PRIM(p_charp) { UNUSED_ARGC; return BOOL(CHARP(a[0])); }
PRIM(p_char_to_integer) { UNUSED_ARGC; return FIX(char_arg("char->integer", a[0])); }

PRIM(p_integer_to_char)
{
    UNUSED_ARGC;
    if (!FIXP(a[0]) || UNFIX(a[0]) < 0 || UNFIX(a[0]) > 0x10ffff)
        lv_type_error("integer->char", "a code point", a[0]);
    return CHR(UNFIX(a[0]));
}

#define CHARCMP(cname, sname, op) \
    PRIM(cname) \
    { \
        value ok = LV_TRUE; \
        if (argc == 1) char_arg(sname, a[0]); \
        for (int i = 0; i + 1 < argc; i++) \
            if (!(char_arg(sname, a[i]) op char_arg(sname, a[i + 1]))) ok = LV_FALSE; \
        return ok; \
    }
CHARCMP(p_char_eq, "char=?", ==)
CHARCMP(p_char_lt, "char<?", <)
CHARCMP(p_char_gt, "char>?", >)
CHARCMP(p_char_le, "char<=?", <=)
CHARCMP(p_char_ge, "char>=?", >=)

static int ascii_class(uint32_t c, int (*f)(int)) { return c < 128 && f((int)c); }
static uint32_t fold(uint32_t c) { return c < 128 ? (uint32_t)tolower((int)c) : c; }

#define CHARCICMP(cname, sname, op) \
    PRIM(cname) \
    { \
        value ok = LV_TRUE; \
        if (argc == 1) char_arg(sname, a[0]); \
        for (int i = 0; i + 1 < argc; i++) \
            if (!(fold(char_arg(sname, a[i])) op fold(char_arg(sname, a[i + 1])))) ok = LV_FALSE; \
        return ok; \
    }
CHARCICMP(p_char_ci_eq, "char-ci=?", ==)
CHARCICMP(p_char_ci_lt, "char-ci<?", <)
CHARCICMP(p_char_ci_gt, "char-ci>?", >)
CHARCICMP(p_char_ci_le, "char-ci<=?", <=)
CHARCICMP(p_char_ci_ge, "char-ci>=?", >=)

static int str_ci_cmp(const char *who, value a, value b)
{
    const struct str *s = str_arg(who, a), *t = str_arg(who, b);
    uint32_t n = s->h.len < t->h.len ? s->h.len : t->h.len;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = fold((unsigned char)s->s[i]), y = fold((unsigned char)t->s[i]);
        if (x != y) return x < y ? -1 : 1;
    }
    return s->h.len < t->h.len ? -1 : s->h.len > t->h.len;
}

#define STRCICMP(cname, sname, test) \
    PRIM(cname) \
    { \
        value ok = LV_TRUE; \
        if (argc == 1) str_arg(sname, a[0]); \
        for (int i = 0; i + 1 < argc; i++) { int c = str_ci_cmp(sname, a[i], a[i + 1]); if (!(test)) ok = LV_FALSE; } \
        return ok; \
    }
STRCICMP(p_string_ci_eq, "string-ci=?", c == 0)
STRCICMP(p_string_ci_lt, "string-ci<?", c < 0)
STRCICMP(p_string_ci_gt, "string-ci>?", c > 0)
STRCICMP(p_string_ci_le, "string-ci<=?", c <= 0)
STRCICMP(p_string_ci_ge, "string-ci>=?", c >= 0)

static value str_map(const char *who, value v, int (*f)(int))
{
    struct str *s = str_arg(who, v);
    value r = lv_str(s->s, s->h.len);
    for (uint32_t i = 0; i < s->h.len; i++) {
        unsigned char c = (unsigned char)STR(r)->s[i];
        if (c < 128) STR(r)->s[i] = (char)f(c);
    }
    return r;
}

PRIM(p_string_upcase) { UNUSED_ARGC; return str_map("string-upcase", a[0], toupper); }
PRIM(p_string_downcase) { UNUSED_ARGC; return str_map("string-downcase", a[0], tolower); }
PRIM(p_string_foldcase) { UNUSED_ARGC; return str_map("string-foldcase", a[0], tolower); }
PRIM(p_char_upper_case) { UNUSED_ARGC; return BOOL(ascii_class(char_arg("char-upper-case?", a[0]), isupper)); }
PRIM(p_char_lower_case) { UNUSED_ARGC; return BOOL(ascii_class(char_arg("char-lower-case?", a[0]), islower)); }
PRIM(p_char_foldcase) { UNUSED_ARGC; return CHR(fold(char_arg("char-foldcase", a[0]))); }

PRIM(p_digit_value)
{
    UNUSED_ARGC;
    uint32_t c = char_arg("digit-value", a[0]);
    return c >= '0' && c <= '9' ? FIX(c - '0') : LV_FALSE;
}

PRIM(p_char_alphabetic) { UNUSED_ARGC; return BOOL(ascii_class(char_arg("char-alphabetic?", a[0]), isalpha)); }
PRIM(p_char_numeric) { UNUSED_ARGC; return BOOL(ascii_class(char_arg("char-numeric?", a[0]), isdigit)); }
PRIM(p_char_whitespace) { UNUSED_ARGC; return BOOL(ascii_class(char_arg("char-whitespace?", a[0]), isspace)); }

PRIM(p_char_upcase)
{
    UNUSED_ARGC;
    uint32_t c = char_arg("char-upcase", a[0]);
    return CHR(c < 128 ? (uint32_t)toupper((int)c) : c);
}

PRIM(p_char_downcase)
{
    UNUSED_ARGC;
    uint32_t c = char_arg("char-downcase", a[0]);
    return CHR(c < 128 ? (uint32_t)tolower((int)c) : c);
}

const struct lv_primdef lv_prims_str[] = {
    { "make-string", p_make_string, 1, 2 }, { "string", p_string, 0, -1 },
    { "string-length", p_string_length, 1, 1 }, { "string-ref", p_string_ref, 2, 2 },
    { "string-set!", p_string_set, 3, 3 }, { "substring", p_substring, 2, 3 },
    { "string-append", p_string_append, 0, -1 }, { "string-copy", p_string_copy, 1, 1 },
    { "string->list", p_string_to_list, 1, 1 }, { "list->string", p_list_to_string, 1, 1 },
    { "string->symbol", p_string_to_symbol, 1, 1 },
    { "symbol->string", p_symbol_to_string, 1, 1 },
    { "string=?", p_string_eq, 1, -1 }, { "string<?", p_string_lt, 1, -1 },
    { "string>?", p_string_gt, 1, -1 }, { "string<=?", p_string_le, 1, -1 },
    { "string>=?", p_string_ge, 1, -1 }, { "string?", p_stringp, 1, 1 },
    { "string-for-each", p_string_for_each, 2, 2 },
    { "char?", p_charp, 1, 1 }, { "char->integer", p_char_to_integer, 1, 1 },
    { "integer->char", p_integer_to_char, 1, 1 },
    { "char=?", p_char_eq, 1, -1 }, { "char<?", p_char_lt, 1, -1 },
    { "char>?", p_char_gt, 1, -1 }, { "char<=?", p_char_le, 1, -1 },
    { "char>=?", p_char_ge, 1, -1 },
    { "char-alphabetic?", p_char_alphabetic, 1, 1 },
    { "char-numeric?", p_char_numeric, 1, 1 },
    { "char-whitespace?", p_char_whitespace, 1, 1 },
    { "char-upcase", p_char_upcase, 1, 1 }, { "char-downcase", p_char_downcase, 1, 1 },
    { "char-foldcase", p_char_foldcase, 1, 1 }, { "digit-value", p_digit_value, 1, 1 },
    { "char-upper-case?", p_char_upper_case, 1, 1 },
    { "char-lower-case?", p_char_lower_case, 1, 1 },
    { "char-ci=?", p_char_ci_eq, 1, -1 }, { "char-ci<?", p_char_ci_lt, 1, -1 },
    { "char-ci>?", p_char_ci_gt, 1, -1 }, { "char-ci<=?", p_char_ci_le, 1, -1 },
    { "char-ci>=?", p_char_ci_ge, 1, -1 },
    { "string-ci=?", p_string_ci_eq, 1, -1 }, { "string-ci<?", p_string_ci_lt, 1, -1 },
    { "string-ci>?", p_string_ci_gt, 1, -1 }, { "string-ci<=?", p_string_ci_le, 1, -1 },
    { "string-ci>=?", p_string_ci_ge, 1, -1 },
    { "string-upcase", p_string_upcase, 1, 1 }, { "string-downcase", p_string_downcase, 1, 1 },
    { "string-foldcase", p_string_foldcase, 1, 1 },
    { NULL, NULL, 0, 0 },
};
