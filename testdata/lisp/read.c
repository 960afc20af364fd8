/* read.c -- the reader: source text to Scheme data, with positions.
 *
 * Input: the whole file in memory.  Output: one datum per lv_read call
 * (GC-allocated), and for every pair it makes, the line and column of its
 * opening parenthesis in a side table (lv_pos_of), so the compiler can say
 * where a bad form is.  Errors are "FILE:LINE:COL: message", exit 1.
 *
 * Syntax: ( ) [ ] . ' ` , ,@ "strings" #\chars #t #f #true #false #( vectors
 * numbers symbols ; line comments, #| nested block comments |#, #; datum
 * comments.
 */
#include "lisp.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

/* -- Position side table: pair -> (line, col) ----------------------------- */

struct pos_ent { value key; struct lv_pos pos; };
static struct pos_ent *ptab;
static size_t pcap, pcount;

static void pos_put_(value k, struct lv_pos p)
{
    if (pcount * 2 >= pcap) {
        size_t ncap = pcap ? pcap * 2 : 4096;
        struct pos_ent *n = calloc(ncap, sizeof *n);
        if (!n) lv_die(lv_nopos, "out of memory");
        for (size_t i = 0; i < pcap; i++)
            if (ptab[i].key) {
                size_t j = (ptab[i].key >> 4) & (ncap - 1);
                while (n[j].key) j = (j + 1) & (ncap - 1);
                n[j] = ptab[i];
            }
        free(ptab);
        ptab = n;
        pcap = ncap;
    }
    size_t j = (k >> 4) & (pcap - 1);
    while (ptab[j].key && ptab[j].key != k) j = (j + 1) & (pcap - 1);
    if (!ptab[j].key) pcount++;
    ptab[j].key = k;
    ptab[j].pos = p;
}

/* Only source read for compiling is recorded: data a program reads at
 * run time would fill the table with pairs the GC may reuse. */
#define pos_put(k, p) do { if (!r->runtime) pos_put_((k), (p)); } while (0)

struct lv_pos lv_pos_of(value k)
{
    if (!pcap || !PAIRP(k)) return lv_nopos;
    size_t j = (k >> 4) & (pcap - 1);
    while (ptab[j].key) {
        if (ptab[j].key == k) return ptab[j].pos;
        j = (j + 1) & (pcap - 1);
    }
    return lv_nopos;
}

/* -- Character level ------------------------------------------------------ */

static int peekc(struct lv_reader *r)
{
    return r->i < r->n ? (unsigned char)r->src[r->i] : EOF;
}

static int getc_(struct lv_reader *r)
{
    if (r->i >= r->n) return EOF;
    int c = (unsigned char)r->src[r->i++];
    if (c == '\n') { r->line++; r->col = 1; }
    else r->col++;
    return c;
}

static struct lv_pos here(struct lv_reader *r)
{
    struct lv_pos p = { r->line, r->col };
    return p;
}

/* c != 0: strchr would find the terminator, so a NUL byte would end every
 * token before it started and the reader would never move past it. */
static int delimiter(int c)
{
    return c == EOF || isspace(c) || (c != 0 && strchr("()[]\";'`,", c) != NULL);
}

static void skip_block_comment(struct lv_reader *r, struct lv_pos start)
{
    int depth = 1;
    while (depth > 0) {
        int c = getc_(r);
        if (c == EOF) lv_die(start, "unterminated block comment");
        if (c == '|' && peekc(r) == '#') { getc_(r); depth--; }
        else if (c == '#' && peekc(r) == '|') { getc_(r); depth++; }
    }
}

static value read_datum(struct lv_reader *r, int depth);

/* Skip white space and comments; the next character, not consumed. */
static int skip_ws(struct lv_reader *r, int depth)
{
    for (;;) {
        int c = peekc(r);
        if (c == EOF) return c;
        if (isspace(c)) { getc_(r); continue; }
        if (c == ';') {
            while ((c = peekc(r)) != EOF && c != '\n') getc_(r);
            continue;
        }
        if (c == '#' && r->i + 1 < r->n && r->src[r->i + 1] == '|') {
            struct lv_pos p = here(r);
            getc_(r); getc_(r);
            skip_block_comment(r, p);
            continue;
        }
        if (c == '#' && r->i + 1 < r->n && r->src[r->i + 1] == ';') {
            struct lv_pos p = here(r);
            getc_(r); getc_(r);
            if (skip_ws(r, depth) == EOF) lv_die(p, "datum comment at end of file");
            read_datum(r, depth + 1);
            continue;
        }
        return c;
    }
}

/* -- Tokens --------------------------------------------------------------- */

static size_t read_token(struct lv_reader *r, char *buf, size_t cap, struct lv_pos p)
{
    size_t n = 0;
    while (!delimiter(peekc(r))) {
        if (n + 1 >= cap) lv_die(p, "token too long");
        if (peekc(r) == 0) lv_die(here(r), "NUL byte in source (outside a string or comment)");
        buf[n++] = (char)getc_(r);
    }
    buf[n] = 0;
    return n;
}

static value read_char(struct lv_reader *r, struct lv_pos p)
{
    char buf[64];
    int c = getc_(r);
    if (c == EOF) lv_die(p, "end of file in character");
    buf[0] = (char)c;
    size_t n = 1;
    while (!delimiter(peekc(r)) && n < sizeof buf - 1) buf[n++] = (char)getc_(r);
    buf[n] = 0;
    if (n == 1) return CHR((unsigned char)buf[0]);
    static const struct { const char *name; int c; } names[] = {
        { "space", ' ' }, { "newline", '\n' }, { "tab", '\t' }, { "nul", 0 },
        { "null", 0 }, { "return", '\r' }, { "linefeed", '\n' }, { "alarm", 7 },
        { "backspace", 8 }, { "delete", 127 }, { "escape", 27 },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(buf, names[i].name) == 0) return CHR(names[i].c);
    if (buf[0] == 'x') {
        char *end;
        errno = 0;
        long v = strtol(buf + 1, &end, 16);
        if (!*end && !errno && v >= 0 && v <= 0x10ffff) return CHR(v);
    }
    lv_die(p, "unknown character name #\\%s", buf);
}

static int string_escape(struct lv_reader *r, struct lv_pos p)
{
    int c = getc_(r);
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'a': return 7;
    case 'b': return 8;
    case '0': return 0;
    case '\\': return '\\';
    case '"': return '"';
    case 'x': {
        int v = 0, k = 0;
        while ((c = getc_(r)) != ';') {
            if (c == EOF || !isxdigit(c) || ++k > 6) lv_die(p, "bad \\x escape in string");
            v = v * 16 + (isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
        }
        if (v > 255) lv_die(p, "string escape \\x%x; is not a byte", v);
        return v;
    }
    case '\n':                          /* line continuation */
        while (peekc(r) == ' ' || peekc(r) == '\t') getc_(r);
        return -1;
    default:
        if (c == EOF) lv_die(p, "unterminated string");
        lv_die(p, "unknown escape \\%c in string", c);
    }
}

static value read_string(struct lv_reader *r, struct lv_pos p)
{
    size_t cap = 64, n = 0;
    char *b = malloc(cap);
    for (;;) {
        int c = getc_(r);
        if (c == EOF) lv_die(p, "unterminated string");
        if (c == '"') break;
        if (c == '\\' && (c = string_escape(r, p)) < 0) continue;
        if (n + 1 >= cap) b = realloc(b, cap *= 2);
        if (!b) lv_die(p, "out of memory");
        b[n++] = (char)c;
    }
    value s = lv_str(b, n);
    free(b);
    return s;
}

static value read_atom(struct lv_reader *r, struct lv_pos p)
{
    char buf[1024];
    read_token(r, buf, sizeof buf, p);
    value num = lv_string_to_number(buf, 10);
    if (num != LV_FALSE) return num;
    if (isdigit((unsigned char)buf[0]) ||
        ((buf[0] == '-' || buf[0] == '+' || buf[0] == '.') && isdigit((unsigned char)buf[1]))) {
        char *end;
        errno = 0;
        strtoll(buf, &end, 10);
        if (!*end && errno == ERANGE) lv_die(p, "integer literal %s is too large", buf);
        lv_die(p, "bad number %s", buf);
    }
    if (strcmp(buf, ".") == 0) lv_die(p, "unexpected '.'");
    return lv_intern(buf);
}

static value read_hash(struct lv_reader *r, struct lv_pos p, int depth)
{
    getc_(r);                           /* '#' */
    int c = peekc(r);
    if (c == '\\') { getc_(r); return read_char(r, p); }
    if (c == '(') {
        value l = read_datum(r, depth + 1);
        long n = lv_list_length(l);
        if (n < 0) lv_die(p, "bad vector syntax");
        value v = lv_vec((size_t)n, LV_FALSE);
        for (long i = 0; i < n; i++, l = CDR(l)) VEC(v)->v[i] = CAR(l);
        return v;
    }
    char buf[64];
    read_token(r, buf, sizeof buf, p);
    if (!strcmp(buf, "u8") && peekc(r) == '(') {        /* #u8(byte ...) */
        value l = read_datum(r, depth + 1);
        long n = lv_list_length(l);
        if (n < 0) lv_die(p, "bad bytevector syntax");
        value v = lv_bvec(NULL, (size_t)n);
        for (long i = 0; i < n; i++, l = CDR(l)) {
            if (!FIXP(CAR(l)) || UNFIX(CAR(l)) < 0 || UNFIX(CAR(l)) > 255)
                lv_die(p, "bytevector element is not a byte (0..255)");
            STR(v)->s[i] = (char)UNFIX(CAR(l));
        }
        return v;
    }
    if (!strcmp(buf, "t") || !strcmp(buf, "true")) return LV_TRUE;
    if (!strcmp(buf, "f") || !strcmp(buf, "false")) return LV_FALSE;
    if ((buf[0] == 'x' || buf[0] == 'b' || buf[0] == 'o' || buf[0] == 'd') && buf[1]) {
        int radix = buf[0] == 'x' ? 16 : buf[0] == 'b' ? 2 : buf[0] == 'o' ? 8 : 10;
        value v = lv_string_to_number(buf + 1, radix);
        if (v != LV_FALSE) return v;
    }
    lv_die(p, "unknown syntax #%s", buf);
}

static value read_list(struct lv_reader *r, struct lv_pos p, int close, int depth)
{
    value head = LV_NIL, tail = LV_NIL;
    for (;;) {
        int c = skip_ws(r, depth);
        if (c == EOF) lv_die(p, "missing '%c' (list starts here)", close);
        if (c == ')' || c == ']') {
            struct lv_pos q = here(r);
            getc_(r);
            if (c != close) lv_die(q, "'%c' closes a list opened with '%c'", c,
                                   close == ')' ? '(' : '[');
            return head;
        }
        if (c == '.' && r->i + 1 <= r->n && delimiter(r->i + 1 < r->n ? (unsigned char)r->src[r->i + 1] : EOF)) {
            struct lv_pos q = here(r);
            getc_(r);
            if (head == LV_NIL) lv_die(q, "'.' with nothing before it");
            CDR(tail) = read_datum(r, depth + 1);
            c = skip_ws(r, depth);
            if (c != close) lv_die(here(r), "expected '%c' after the datum following '.'", close);
            getc_(r);
            return head;
        }
        struct lv_pos ep = here(r);
        value cell = lv_cons(read_datum(r, depth + 1), LV_NIL);
        if (head == LV_NIL) {
            head = cell;
            pos_put(cell, p);
        } else {
            CDR(tail) = cell;
            pos_put(cell, ep);
        }
        tail = cell;
    }
}

static value read_datum(struct lv_reader *r, int depth)
{
    char here_;
    if (depth > 1000000) lv_die(here(r), "nesting too deep");
    LV_STACK_CHECK(&here_);
    int c = skip_ws(r, depth);
    struct lv_pos p = here(r);
    if (c == EOF) lv_die(p, "unexpected end of file");
    switch (c) {
    case '(': getc_(r); return read_list(r, p, ')', depth);
    case '[': getc_(r); return read_list(r, p, ']', depth);
    case ')': case ']': lv_die(p, "unexpected '%c'", c);
    case '"': getc_(r); return read_string(r, p);
    case '#': return read_hash(r, p, depth);
    case '\'': case '`': case ',': {
        getc_(r);
        const char *name = c == '\'' ? "quote" : c == '`' ? "quasiquote" : "unquote";
        if (c == ',' && peekc(r) == '@') { getc_(r); name = "unquote-splicing"; }
        if (skip_ws(r, depth) == EOF) lv_die(p, "end of file after %s", name);
        value d = read_datum(r, depth + 1);
        value l = lv_cons(lv_intern(name), lv_cons(d, LV_NIL));
        pos_put(l, p);
        return l;
    }
    default: return read_atom(r, p);
    }
}

void lv_reader_init(struct lv_reader *r, const char *src, size_t n)
{
    r->src = src;
    r->n = n;
    r->i = 0;
    r->line = 1;
    r->col = 1;
    r->runtime = 0;
}

int lv_read(struct lv_reader *r, value *out)
{
    if (skip_ws(r, 0) == EOF) return 0;
    *out = read_datum(r, 0);
    return 1;
}
