/* lib_str.c -- the string library: len, sub, byte, char, rep, reverse,
 * upper, lower, format, find (plain text; a pattern with magic characters
 * is refused with an error, never matched wrongly).  Strings are also
 * indexed by this table (s:sub(...)).
 */
#include "lib.h"

#include <ctype.h>
#include <stdlib.h>

static const struct lstr *argstr(value *a, int n, int i, const char *fn)
{
    if (i > n) typeerror(i, fn, "string", a, n);
    if (isnum(a[i - 1])) a[i - 1] = tostr(a[i - 1]);
    if (!ISSTR(a[i - 1])) typeerror(i, fn, "string", a, n);
    return STR(a[i - 1]);
}

/* Lua's relative string positions: negative counts from the end. */
static int64_t posrel(int64_t pos, size_t len)
{
    if (pos >= 0) return pos;
    if ((size_t)-pos > len) return 0;
    return (int64_t)len + pos + 1;
}

static value s_len(value *a, int n) { RET1(intv(argstr(a, n, 1, "len")->len)); }

static value s_sub(value *a, int n)
{
    const struct lstr *s = argstr(a, n, 1, "sub");
    int64_t i = posrel(optint(a, n, 2, "sub", 1), s->len), j = posrel(optint(a, n, 3, "sub", -1), s->len);
    if (i < 1) i = 1;
    if (j > (int64_t)s->len) j = s->len;
    if (i > j) RET1(mkstr("", 0));
    RET1(mkstr(s->s + i - 1, (size_t)(j - i + 1)));
}

static value s_byte(value *a, int n)
{
    const struct lstr *s = argstr(a, n, 1, "byte");
    int64_t i = posrel(optint(a, n, 2, "byte", 1), s->len);
    int64_t j = posrel(optint(a, n, 3, "byte", i), s->len);
    if (i < 1) i = 1;
    if (j > (int64_t)s->len) j = s->len;
    if (i > j) RET0();
    int m = (int)(j - i + 1);
    for (int k = 1; k < m; k++) rbuf[k] = intv((uint8_t)s->s[i - 1 + k]);
    nres = m;
    return intv((uint8_t)s->s[i - 1]);
}

static value s_char(value *a, int n)
{
    char *b = malloc(n + 1);
    for (int i = 0; i < n; i++) {
        int64_t c = argint(a, n, i + 1, "char");
        if ((uint64_t)c > 255) { free(b); argerror(i + 1, "char", "value out of range"); }
        b[i] = (char)c;
    }
    value r = mkstr(b, n);
    free(b);
    RET1(r);
}

static value s_rep(value *a, int n)
{
    const struct lstr *s = argstr(a, n, 1, "rep");
    int64_t k = argint(a, n, 2, "rep");
    const struct lstr *sep = n >= 3 && a[2] != NIL ? argstr(a, n, 3, "rep") : NULL;
    if (k <= 0) RET1(mkstr("", 0));
    size_t unit = s->len + (sep ? sep->len : 0);
    if (unit && (uint64_t)k > 0x7fffffffu / unit) lerror(cur_line, "resulting string too large");
    size_t total = unit * (size_t)k - (sep ? sep->len : 0);
    char *b = malloc(total + 1), *p = b;
    for (int64_t i = 0; i < k; i++) {
        memcpy(p, s->s, s->len);
        p += s->len;
        if (sep && i + 1 < k) { memcpy(p, sep->s, sep->len); p += sep->len; }
    }
    value r = mkstr(b, total);
    free(b);
    RET1(r);
}

static value s_map(value *a, int n, const char *fn, int mode)
{
    const struct lstr *s = argstr(a, n, 1, fn);
    char *b = malloc(s->len + 1);
    for (uint32_t i = 0; i < s->len; i++)
        b[i] = mode == 0 ? s->s[s->len - 1 - i] : mode == 1 ? (char)toupper((unsigned char)s->s[i]) : (char)tolower((unsigned char)s->s[i]);
    value r = mkstr(b, s->len);
    free(b);
    RET1(r);
}
static value s_reverse(value *a, int n) { return s_map(a, n, "reverse", 0); }
static value s_upper(value *a, int n) { return s_map(a, n, "upper", 1); }
static value s_lower(value *a, int n) { return s_map(a, n, "lower", 2); }

static value s_find(value *a, int n)
{
    const struct lstr *s = argstr(a, n, 1, "find"), *p = argstr(a, n, 2, "find");
    int64_t init = posrel(optint(a, n, 3, "find", 1), s->len);
    if (init < 1) init = 1;
    if (init > (int64_t)s->len + 1) RET1(NIL);
    int plain = n >= 4 && TRUTHY(a[3]);
    if (!plain && strpbrk(p->s, "^$*+?.([%-")) lerror(cur_line, "string.find: patterns are not supported (pass plain = true)");
    for (size_t i = (size_t)init - 1; i + p->len <= s->len; i++)
        if (!memcmp(s->s + i, p->s, p->len)) RET2(intv((int64_t)i + 1), intv((int64_t)(i + p->len)));
    RET1(NIL);
}

/* string.format: %d %i %u %c %x %X %o %e %E %f %g %G %a %s %q-less, flags
 * and width/precision as C's, checked as lua5.4 checks them. */
static value s_format(value *a, int n)
{
    const struct lstr *f = argstr(a, n, 1, "format");
    size_t cap = 128, len = 0;
    char *out = malloc(cap);
    int arg = 1;
    for (uint32_t i = 0; i < f->len; i++) {
        char piece[512], spec[32];
        const char *add = piece;
        size_t addlen;
        if (f->s[i] != '%') { piece[0] = f->s[i]; addlen = 1; }
        else if (f->s[++i] == '%') { piece[0] = '%'; addlen = 1; }
        else {
            uint32_t st = i;
            while (i < f->len && strchr("-+ #0", f->s[i])) i++;
            while (i < f->len && isdigit((unsigned char)f->s[i])) i++;
            if (i < f->len && f->s[i] == '.') { i++; while (i < f->len && isdigit((unsigned char)f->s[i])) i++; }
            if (i >= f->len || i - st > 20) { free(out); lerror(cur_line, "invalid conversion '%%%.*s' to 'format'", (int)(i - st + (i < f->len)), f->s + st); }
            char c = f->s[i];
            spec[0] = '%';
            memcpy(spec + 1, f->s + st, i - st);
            spec[i - st + 1] = 0;
            arg++;
            if (arg > n && c != '%') { free(out); argerror(arg, "format", "no value"); }
            switch (c) {
            case 'd': case 'i': case 'x': case 'X': case 'o': case 'c': case 'u': {
                int64_t v = argint(a, n, arg, "format");
                strcat(spec, c == 'c' ? "c" : "ll");
                if (c != 'c') { size_t k = strlen(spec); spec[k] = c == 'i' ? 'd' : c; spec[k + 1] = 0; }
                addlen = c == 'c' ? (size_t)snprintf(piece, sizeof piece, spec, (int)v) : (size_t)snprintf(piece, sizeof piece, spec, (long long)v);
                break;
            }
            case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A': {
                double v = argnum(a, n, arg, "format");
                size_t k = strlen(spec);
                spec[k] = c;
                spec[k + 1] = 0;
                addlen = (size_t)snprintf(piece, sizeof piece, spec, v);
                if (addlen >= sizeof piece) addlen = sizeof piece - 1;
                break;
            }
            case 's': {
                const struct lstr *s = STR(ltostring(a[arg - 1]));
                if (!strchr(spec, '.') && spec[1] == 0) { add = s->s; addlen = s->len; }
                else {
                    strcat(spec, "s");
                    addlen = (size_t)snprintf(piece, sizeof piece, spec, s->s);
                    if (addlen >= sizeof piece) addlen = sizeof piece - 1;
                }
                break;
            }
            default:
                free(out);
                lerror(cur_line, "invalid conversion '%%%.*s' to 'format'", (int)(i - st + 1), f->s + st);
            }
        }
        while (len + addlen + 1 > cap) out = realloc(out, cap *= 2);
        memcpy(out + len, add, addlen);
        len += addlen;
    }
    value r = mkstr(out, len);
    free(out);
    RET1(r);
}

void strlib_init(struct table *t)
{
    reg(t, "len", s_len);
    reg(t, "sub", s_sub);
    reg(t, "byte", s_byte);
    reg(t, "char", s_char);
    reg(t, "rep", s_rep);
    reg(t, "reverse", s_reverse);
    reg(t, "upper", s_upper);
    reg(t, "lower", s_lower);
    reg(t, "find", s_find);
    reg(t, "format", s_format);
}
