/* lex.c -- the Lua 5.4 lexer: names, keywords, numerals (decimal, hex,
 * floats with exponents), short and long strings with every escape,
 * comments.  Errors are "FILE:LINE: message near 'token'" as luac words
 * them.
 */
#include "lex.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>

static const char *const kw[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
};

void lex_init(struct lexer *lx, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->p = src;
    lx->end = src + len;
    lx->line = 1;
    if (len && src[0] == '#')       /* a #! line */
        while (lx->p < lx->end && *lx->p != '\n') lx->p++;
    lx->buf = malloc(lx->cap = 256);
    lex_next(lx);
}

_Noreturn void lex_error(struct lexer *lx, const char *msg)
{
    const char *near = lx->tok == TK_EOS ? "<eof>" : lx->tokstart ? NULL : "";
    if (near) lerror(lx->line, "%s near %s", msg, near);
    int n = (int)(lx->p - lx->tokstart);
    if (n > 40) n = 40;
    lerror(lx->line, "%s near '%.*s'", msg, n, lx->tokstart);
}

static void put(struct lexer *lx, char c)
{
    if (lx->len + 1 >= lx->cap) lx->buf = realloc(lx->buf, lx->cap *= 2);
    lx->buf[lx->len++] = c;
}

static int cur(struct lexer *lx) { return lx->p < lx->end ? (unsigned char)*lx->p : -1; }

/* [=*[ at p: the level, or -1. */
static int long_bracket(struct lexer *lx)
{
    const char *q = lx->p + 1;
    int lvl = 0;
    while (q < lx->end && *q == '=') q++, lvl++;
    return q < lx->end && *q == '[' ? lvl : -1;
}

static void read_long(struct lexer *lx, int lvl, int keep)
{
    lx->p += lvl + 2;
    if (cur(lx) == '\r') lx->p++;
    if (cur(lx) == '\n') { lx->line++; lx->p++; }
    for (;;) {
        if (lx->p >= lx->end) lex_error(lx, keep ? "unfinished long string" : "unfinished long comment");
        char c = *lx->p;
        if (c == ']') {
            const char *q = lx->p + 1;
            int l = 0;
            while (q < lx->end && *q == '=') q++, l++;
            if (l == lvl && q < lx->end && *q == ']') { lx->p = q + 1; return; }
        }
        if (c == '\n') lx->line++;
        if (keep) put(lx, c);
        lx->p++;
    }
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void utf8(struct lexer *lx, unsigned long x)
{
    if (x < 0x80) { put(lx, (char)x); return; }
    char b[8];
    int n = 0;
    unsigned long mfb = 0x3f;
    do {
        b[7 - n++] = (char)(0x80 | (x & 0x3f));
        x >>= 6;
        mfb >>= 1;
    } while (x > mfb);
    b[7 - n] = (char)((~mfb << 1) | x);
    for (int i = 7 - n; i < 8; i++) put(lx, b[i]);
}

static void read_string(struct lexer *lx, char q)
{
    lx->p++;
    for (;;) {
        int c = cur(lx);
        if (c < 0 || c == '\n') lex_error(lx, "unfinished string");
        lx->p++;
        if (c == q) return;
        if (c != '\\') { put(lx, (char)c); continue; }
        c = cur(lx);
        lx->p++;
        switch (c) {
        case 'n': put(lx, '\n'); break;
        case 't': put(lx, '\t'); break;
        case 'r': put(lx, '\r'); break;
        case 'a': put(lx, '\a'); break;
        case 'b': put(lx, '\b'); break;
        case 'f': put(lx, '\f'); break;
        case 'v': put(lx, '\v'); break;
        case '\\': put(lx, '\\'); break;
        case '"': put(lx, '"'); break;
        case '\'': put(lx, '\''); break;
        case '\n': lx->line++; put(lx, '\n'); break;
        case 'x': {
            int h1 = hexval(cur(lx)), h2 = lx->p + 1 < lx->end ? hexval(lx->p[1]) : -1;
            if (h1 < 0 || h2 < 0) lex_error(lx, "hexadecimal digit expected");
            put(lx, (char)(h1 * 16 + h2));
            lx->p += 2;
            break;
        }
        case 'z':
            while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
                if (*lx->p == '\n') lx->line++;
                lx->p++;
            }
            break;
        case 'u': {
            if (cur(lx) != '{') lex_error(lx, "missing '{' in \\u{xxxx}");
            lx->p++;
            unsigned long x = 0;
            int h, nd = 0;
            while ((h = hexval(cur(lx))) >= 0) { x = x * 16 + (unsigned long)h; lx->p++; nd++; }
            if (!nd || cur(lx) != '}' || x > 0x7FFFFFFFul) lex_error(lx, "invalid UTF-8 escape");
            lx->p++;
            utf8(lx, x);
            break;
        }
        default:
            if (c >= '0' && c <= '9') {
                int v = c - '0';
                for (int k = 0; k < 2 && cur(lx) >= '0' && cur(lx) <= '9'; k++) v = v * 10 + (*lx->p++ - '0');
                if (v > 255) lex_error(lx, "decimal escape too large");
                put(lx, (char)v);
            } else lex_error(lx, "invalid escape sequence");
        }
    }
}

static void read_number(struct lexer *lx)
{
    const char *s = lx->p;
    int hex = s[0] == '0' && s + 1 < lx->end && (s[1] == 'x' || s[1] == 'X');
    const char *q = s + (hex ? 2 : 0);
    int isfloat = 0;
    for (; q < lx->end; q++) {
        char c = *q;
        if ((hex ? isxdigit((unsigned char)c) : isdigit((unsigned char)c))) continue;
        if (c == '.') { isfloat = 1; continue; }
        if ((hex ? (c == 'p' || c == 'P') : (c == 'e' || c == 'E'))) {
            isfloat = 1;
            if (q + 1 < lx->end && (q[1] == '+' || q[1] == '-')) q++;
            continue;
        }
        break;
    }
    if (q < lx->end && (isalnum((unsigned char)*q) || *q == '_')) {
        while (q < lx->end && (isalnum((unsigned char)*q) || *q == '_' || *q == '.')) q++;
        lx->tokstart = s;
        lx->p = q;
        lex_error(lx, "malformed number");
    }
    char buf[128];
    size_t n = (size_t)(q - s);
    if (n >= sizeof buf) { lx->tokstart = s; lx->p = q; lex_error(lx, "malformed number"); }
    memcpy(buf, s, n);
    buf[n] = 0;
    lx->p = q;
    if (hex && !isfloat) {
        uint64_t u = 0;
        for (const char *c = buf + 2; *c; c++) u = u * 16 + (uint64_t)hexval(*c);
        lx->num = intv((int64_t)u);
        return;
    }
    if (!isfloat) {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(buf, &end, 10);
        if (!errno && u <= (unsigned long long)INT64_MAX) { lx->num = intv((int64_t)u); return; }
    }
    char *end;
    double d = strtod(buf, &end);
    if (*end) { lx->tokstart = s; lex_error(lx, "malformed number"); }
    lx->num = dbl(d);
}

static int two(struct lexer *lx, char c2, int tk2, int tk1)
{
    if (lx->p + 1 < lx->end && lx->p[1] == c2) { lx->p += 2; return tk2; }
    lx->p++;
    return tk1;
}

static int scan(struct lexer *lx)
{
    for (;;) {
        int c = cur(lx);
        lx->tokstart = lx->p;
        lx->tokline = lx->line;
        switch (c) {
        case -1: return TK_EOS;
        case '\n': lx->line++; /* fallthrough */
        case ' ': case '\t': case '\r': case '\f': case '\v': lx->p++; continue;
        case '-':
            if (lx->p + 1 < lx->end && lx->p[1] == '-') {
                lx->p += 2;
                int lvl;
                if (cur(lx) == '[' && (lvl = long_bracket(lx)) >= 0) { read_long(lx, lvl, 0); continue; }
                while (lx->p < lx->end && *lx->p != '\n') lx->p++;
                continue;
            }
            lx->p++;
            return '-';
        case '[': {
            int lvl = long_bracket(lx);
            if (lvl >= 0) { lx->len = 0; read_long(lx, lvl, 1); return TK_STRING; }
            lx->p++;
            return '[';
        }
        case '=': return two(lx, '=', TK_EQ, '=');
        case '<':
            if (lx->p + 1 < lx->end && lx->p[1] == '<') { lx->p += 2; return TK_SHL; }
            return two(lx, '=', TK_LE, '<');
        case '>':
            if (lx->p + 1 < lx->end && lx->p[1] == '>') { lx->p += 2; return TK_SHR; }
            return two(lx, '=', TK_GE, '>');
        case '/': return two(lx, '/', TK_IDIV, '/');
        case '~': return two(lx, '=', TK_NE, '~');
        case ':': return two(lx, ':', TK_DBCOLON, ':');
        case '"': case '\'': lx->len = 0; read_string(lx, (char)c); return TK_STRING;
        case '.':
            if (lx->p + 1 < lx->end && lx->p[1] == '.') {
                if (lx->p + 2 < lx->end && lx->p[2] == '.') { lx->p += 3; return TK_DOTS; }
                lx->p += 2;
                return TK_CONCAT;
            }
            if (lx->p + 1 < lx->end && isdigit((unsigned char)lx->p[1])) { read_number(lx); return TK_NUMBER; }
            lx->p++;
            return '.';
        default:
            if (isdigit(c)) { read_number(lx); return TK_NUMBER; }
            if (isalpha(c) || c == '_') {
                const char *s = lx->p;
                while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_')) lx->p++;
                size_t n = (size_t)(lx->p - s);
                for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
                    if (strlen(kw[i]) == n && !memcmp(kw[i], s, n)) return TK_AND + (int)i;
                lx->len = 0;
                for (size_t i = 0; i < n; i++) put(lx, s[i]);
                return TK_NAME;
            }
            lx->p++;
            return c;
        }
    }
}

void lex_next(struct lexer *lx)
{
    if (lx->ahead) {
        lx->ahead = 0;
        lx->tok = lx->atok;
        return;
    }
    lx->tok = scan(lx);
    if (lx->tok == TK_STRING || lx->tok == TK_NAME) put(lx, 0), lx->len--;
}

const char *tok_name(int tok, char *buf, size_t len)
{
    static const char *const other[] = { "<eof>", "<number>", "<name>", "<string>", "==", "~=", "<=", ">=",
                                         "//", "..", "...", "::", "<<", ">>" };
    if (tok >= TK_AND && tok < TK_EOS) return kw[tok - TK_AND];
    if (tok >= TK_EOS) return other[tok - TK_EOS];
    snprintf(buf, len, "%c", tok);
    return buf;
}
