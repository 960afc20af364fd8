/* prim_port.c -- textual ports: standard input and output, files, strings;
 * display, write, newline, write-char, write-string, read-char, peek-char,
 * read-line, read-string, read, and the file procedures.
 *
 * An input port is a byte buffer and a position: a string port copies its
 * string, a file port reads its whole file when opened, and standard input
 * is read to its end on first use (programs here read their input, they do
 * not converse).  An output port is a stdio stream: standard output, a
 * file, or open_memstream for a string port.  Characters are bytes.
 *
 * Invariants:
 *  (1) The current ports are lv_cur_in / lv_cur_out (0: standard input /
 *      output); with-input-from-file and friends set them around a call and
 *      an escape (prim_ctl.c) restores them.
 *  (2) Port objects are made at run time only (the standard ones on first
 *      use), so none is in a snapshot.
 */
#include "lisp.h"

#include <errno.h>
#include <gc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "read.h"

#define PRIM(name) static value name(int argc, value *a)
#define UNUSED_ARGC (void)argc

enum { P_IN = 1, P_OUT = 2, P_CLOSED = 4, P_STRING = 8, P_FILE = 16 };

struct port {
    struct hdr h;
    int kind;
    FILE *f;                      /* output */
    char *buf;                    /* input: the bytes, and where we are */
    size_t len, pos;
    int line, col;                /* input: for (read) */
    char *mem;                    /* string output: open_memstream's buffer */
    size_t memlen;
};

#define PORTP(v) TYPEP(v, T_PORT)
#define PORT(v) ((struct port *)(v))

static value std_in, std_out, std_err;

static value new_port(int kind)
{
    struct port *p = GC_MALLOC(sizeof *p);
    if (!p) lv_die(lv_nopos, "out of memory");
    p->h.type = T_PORT;
    p->kind = kind;
    p->line = p->col = 1;
    return (value)p;
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0, k;
    char *b = lv_gc_alloc_atomic(cap);
    while ((k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = lv_gc_alloc_atomic(cap * 2);
            memcpy(nb, b, n);
            b = nb;
            cap *= 2;
        }
    }
    *len = n;
    return b;
}

static value stdin_port(void)
{
    if (!std_in) {
        std_in = new_port(P_IN);
        PORT(std_in)->buf = read_all(stdin, &PORT(std_in)->len);
    }
    return std_in;
}

static value stdout_port(void)
{
    if (!std_out) {
        std_out = new_port(P_OUT);
        PORT(std_out)->f = stdout;
    }
    return std_out;
}

FILE *lv_out_file(void)
{
    return lv_cur_out ? PORT(lv_cur_out)->f : stdout;
}

static struct port *port_arg(const char *who, value v, int kind)
{
    if (!PORTP(v) || !(PORT(v)->kind & kind))
        lv_type_error(who, kind == P_IN ? "an input port" : "an output port", v);
    if (PORT(v)->kind & P_CLOSED) lv_type_error(who, "an open port", v);
    return PORT(v);
}

/* The port argument at index i if given, else the current one. */
static struct port *in_arg(const char *who, int argc, value *a, int i)
{
    if (argc > i) return port_arg(who, a[i], P_IN);
    return PORT(lv_cur_in ? lv_cur_in : stdin_port());
}

static FILE *out_arg(const char *who, int argc, value *a, int i)
{
    if (argc > i) return port_arg(who, a[i], P_OUT)->f;
    return lv_out_file();
}

static const char *str_arg(const char *who, value v)
{
    if (!STRP(v)) lv_type_error(who, "a string", v);
    return STR(v)->s;
}

/* -- Output ------------------------------------------------------------------ */

PRIM(p_display) { lv_print(out_arg("display", argc, a, 1), a[0], 0); return LV_UNSPEC; }
PRIM(p_write) { lv_print(out_arg("write", argc, a, 1), a[0], 1); return LV_UNSPEC; }
PRIM(p_newline) { putc('\n', out_arg("newline", argc, a, 0)); return LV_UNSPEC; }

PRIM(p_write_char)
{
    if (!CHARP(a[0])) lv_type_error("write-char", "a character", a[0]);
    lv_print(out_arg("write-char", argc, a, 1), a[0], 0);
    return LV_UNSPEC;
}

/* (write-string s [port [start [end]]]) */
PRIM(p_write_string)
{
    str_arg("write-string", a[0]);
    FILE *f = out_arg("write-string", argc, a, 1);
    size_t len = HDR(a[0])->len, start = 0, end = len;
    if (argc > 2) {
        if (!FIXP(a[2]) || UNFIX(a[2]) < 0 || (size_t)UNFIX(a[2]) > len)
            lv_type_error("write-string", "a valid start index", a[2]);
        start = (size_t)UNFIX(a[2]);
    }
    if (argc > 3) {
        if (!FIXP(a[3]) || UNFIX(a[3]) < (intptr_t)start || (size_t)UNFIX(a[3]) > len)
            lv_type_error("write-string", "a valid end index", a[3]);
        end = (size_t)UNFIX(a[3]);
    }
    fwrite(STR(a[0])->s + start, 1, end - start, f);
    return LV_UNSPEC;
}

PRIM(p_flush_output_port) { fflush(out_arg("flush-output-port", argc, a, 0)); return LV_UNSPEC; }

/* -- Input ---------------------------------------------------------------------- */

static void advance(struct port *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p->buf[p->pos + i] == '\n') { p->line++; p->col = 1; }
        else p->col++;
    }
    p->pos += n;
}

PRIM(p_read_char)
{
    struct port *p = in_arg("read-char", argc, a, 0);
    if (p->pos >= p->len) return LV_EOF;
    value c = CHR((unsigned char)p->buf[p->pos]);
    advance(p, 1);
    return c;
}

PRIM(p_peek_char)
{
    struct port *p = in_arg("peek-char", argc, a, 0);
    return p->pos >= p->len ? LV_EOF : CHR((unsigned char)p->buf[p->pos]);
}

PRIM(p_char_readyp) { in_arg("char-ready?", argc, a, 0); return LV_TRUE; }

PRIM(p_read_line)
{
    struct port *p = in_arg("read-line", argc, a, 0);
    if (p->pos >= p->len) return LV_EOF;
    const char *s = p->buf + p->pos, *nl = memchr(s, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
    value r = lv_str(s, n);
    advance(p, n + (nl != NULL));
    return r;
}

PRIM(p_read_string)
{
    if (!FIXP(a[0]) || UNFIX(a[0]) < 0) lv_type_error("read-string", "a length", a[0]);
    struct port *p = in_arg("read-string", argc, a, 1);
    if (p->pos >= p->len && UNFIX(a[0]) > 0) return LV_EOF;
    size_t n = p->len - p->pos;
    if ((size_t)UNFIX(a[0]) < n) n = (size_t)UNFIX(a[0]);
    value r = lv_str(p->buf + p->pos, n);
    advance(p, n);
    return r;
}

PRIM(p_read)
{
    struct port *p = in_arg("read", argc, a, 0);
    struct lv_reader r;
    lv_reader_init(&r, p->buf, p->len);
    r.i = p->pos;
    r.line = p->line;
    r.col = p->col;
    r.runtime = 1;
    value d;
    if (!lv_read(&r, &d)) d = LV_EOF;
    p->pos = r.i;
    p->line = r.line;
    p->col = r.col;
    return d;
}

PRIM(p_eof_object) { (void)a; UNUSED_ARGC; return LV_EOF; }
PRIM(p_eof_objectp) { UNUSED_ARGC; return BOOL(a[0] == LV_EOF); }

/* -- Opening and closing ------------------------------------------------------- */

PRIM(p_open_input_string)
{
    UNUSED_ARGC;
    str_arg("open-input-string", a[0]);
    value v = new_port(P_IN | P_STRING);
    size_t n = HDR(a[0])->len;
    PORT(v)->buf = lv_gc_alloc_atomic(n + 1);
    memcpy(PORT(v)->buf, STR(a[0])->s, n);
    PORT(v)->len = n;
    return v;
}

PRIM(p_open_output_string)
{
    (void)a;
    UNUSED_ARGC;
    value v = new_port(P_OUT | P_STRING);
    PORT(v)->f = open_memstream(&PORT(v)->mem, &PORT(v)->memlen);
    if (!PORT(v)->f) lv_die(lv_nopos, "open-output-string: out of memory");
    return v;
}

PRIM(p_get_output_string)
{
    UNUSED_ARGC;
    if (!PORTP(a[0]) || PORT(a[0])->kind != (P_OUT | P_STRING))
        lv_type_error("get-output-string", "an open string output port", a[0]);
    fflush(PORT(a[0])->f);
    return lv_str(PORT(a[0])->mem, PORT(a[0])->memlen);
}

static _Noreturn void file_error(const char *who, const char *name)
{
    int e = errno;
    if (lv_handlers_installed()) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: cannot open %s: %s", who, name, strerror(e));
        value err = lv_make_error(msg, LV_NIL);
        HDR(err)->flags = 1;           /* file-error? */
        lv_raise(err, 0);
    }
    lv_die(lv_nopos, "%s: cannot open %s: %s", who, name, strerror(e));
}

static value open_in(const char *who, value name)
{
    const char *path = str_arg(who, name);
    FILE *f = fopen(path, "rb");
    if (!f) file_error(who, path);
    value v = new_port(P_IN | P_FILE);
    PORT(v)->buf = read_all(f, &PORT(v)->len);
    fclose(f);
    return v;
}

static value open_out(const char *who, value name)
{
    const char *path = str_arg(who, name);
    FILE *f = fopen(path, "w");
    if (!f) file_error(who, path);
    value v = new_port(P_OUT | P_FILE);
    PORT(v)->f = f;
    return v;
}

static void close_port(value v)
{
    struct port *p = PORT(v);
    if (p->kind & P_CLOSED) return;
    if ((p->kind & P_OUT) && (p->kind & P_FILE)) fclose(p->f);
    else if (p->kind & P_OUT) fflush(p->f);
    p->kind |= P_CLOSED;
}

PRIM(p_open_input_file) { UNUSED_ARGC; return open_in("open-input-file", a[0]); }
PRIM(p_open_output_file) { UNUSED_ARGC; return open_out("open-output-file", a[0]); }

PRIM(p_close_port)
{
    UNUSED_ARGC;
    if (!PORTP(a[0])) lv_type_error("close-port", "a port", a[0]);
    close_port(a[0]);
    return LV_UNSPEC;
}

static value call_with(value port, value proc)
{
    value r = lv_call(proc, 1, &port);
    close_port(port);
    return r;
}

PRIM(p_call_with_output_file) { UNUSED_ARGC; return call_with(open_out("call-with-output-file", a[0]), a[1]); }
PRIM(p_call_with_input_file) { UNUSED_ARGC; return call_with(open_in("call-with-input-file", a[0]), a[1]); }

PRIM(p_call_with_port)
{
    UNUSED_ARGC;
    if (!PORTP(a[0])) lv_type_error("call-with-port", "a port", a[0]);
    return call_with(a[0], a[1]);
}

/* with-input-from-file / with-output-to-file: the current port around a
 * thunk (an escape restores it, prim_ctl.c). */
static value with_port(value *cur, value port, value thunk)
{
    value saved = *cur;
    *cur = port;
    value r = lv_call(thunk, 0, NULL);
    *cur = saved;
    close_port(port);
    return r;
}

PRIM(p_with_input_from_file) { UNUSED_ARGC; return with_port(&lv_cur_in, open_in("with-input-from-file", a[0]), a[1]); }
PRIM(p_with_output_to_file) { UNUSED_ARGC; return with_port(&lv_cur_out, open_out("with-output-to-file", a[0]), a[1]); }

PRIM(p_file_existsp) { UNUSED_ARGC; return BOOL(access(str_arg("file-exists?", a[0]), F_OK) == 0); }

PRIM(p_delete_file)
{
    UNUSED_ARGC;
    const char *path = str_arg("delete-file", a[0]);
    if (unlink(path) != 0) {
        int e = errno;
        if (lv_handlers_installed()) {
            char msg[512];
            snprintf(msg, sizeof msg, "delete-file: cannot delete %s: %s", path, strerror(e));
            value err = lv_make_error(msg, LV_NIL);
            HDR(err)->flags = 1;
            lv_raise(err, 0);
        }
        lv_die(lv_nopos, "delete-file: cannot delete %s: %s", path, strerror(e));
    }
    return LV_UNSPEC;
}

PRIM(p_current_input_port) { (void)a; UNUSED_ARGC; return lv_cur_in ? lv_cur_in : stdin_port(); }
PRIM(p_current_output_port) { (void)a; UNUSED_ARGC; return lv_cur_out ? lv_cur_out : stdout_port(); }

PRIM(p_current_error_port)
{
    (void)a;
    UNUSED_ARGC;
    if (!std_err) {
        std_err = new_port(P_OUT);
        PORT(std_err)->f = stderr;
    }
    return std_err;
}

PRIM(p_portp) { UNUSED_ARGC; return BOOL(PORTP(a[0])); }
PRIM(p_input_portp) { UNUSED_ARGC; return BOOL(PORTP(a[0]) && (PORT(a[0])->kind & P_IN)); }
PRIM(p_output_portp) { UNUSED_ARGC; return BOOL(PORTP(a[0]) && (PORT(a[0])->kind & P_OUT)); }
PRIM(p_binary_portp) { UNUSED_ARGC; (void)a; return LV_FALSE; }

PRIM(p_input_port_openp)
{
    UNUSED_ARGC;
    if (!PORTP(a[0])) lv_type_error("input-port-open?", "a port", a[0]);
    return BOOL((PORT(a[0])->kind & (P_IN | P_CLOSED)) == P_IN);
}

PRIM(p_output_port_openp)
{
    UNUSED_ARGC;
    if (!PORTP(a[0])) lv_type_error("output-port-open?", "a port", a[0]);
    return BOOL((PORT(a[0])->kind & (P_OUT | P_CLOSED)) == P_OUT);
}

const struct lv_primdef lv_prims_port[] = {
    { "display", p_display, 1, 2 }, { "write", p_write, 1, 2 }, { "newline", p_newline, 0, 1 },
    { "write-shared", p_write, 1, 2 }, { "write-simple", p_write, 1, 2 },
    { "write-char", p_write_char, 1, 2 }, { "write-string", p_write_string, 1, 4 },
    { "flush-output-port", p_flush_output_port, 0, 1 },
    { "read-char", p_read_char, 0, 1 }, { "peek-char", p_peek_char, 0, 1 },
    { "char-ready?", p_char_readyp, 0, 1 }, { "read-line", p_read_line, 0, 1 },
    { "read-string", p_read_string, 1, 2 }, { "read", p_read, 0, 1 },
    { "eof-object", p_eof_object, 0, 0 }, { "eof-object?", p_eof_objectp, 1, 1 },
    { "open-input-string", p_open_input_string, 1, 1 },
    { "open-output-string", p_open_output_string, 0, 0 },
    { "get-output-string", p_get_output_string, 1, 1 },
    { "open-input-file", p_open_input_file, 1, 1 },
    { "open-output-file", p_open_output_file, 1, 1 },
    { "close-port", p_close_port, 1, 1 }, { "close-input-port", p_close_port, 1, 1 },
    { "close-output-port", p_close_port, 1, 1 },
    { "call-with-output-file", p_call_with_output_file, 2, 2 },
    { "call-with-input-file", p_call_with_input_file, 2, 2 },
    { "call-with-port", p_call_with_port, 2, 2 },
    { "with-input-from-file", p_with_input_from_file, 2, 2 },
    { "with-output-to-file", p_with_output_to_file, 2, 2 },
    { "file-exists?", p_file_existsp, 1, 1 }, { "delete-file", p_delete_file, 1, 1 },
    { "current-input-port", p_current_input_port, 0, 0 },
    { "current-output-port", p_current_output_port, 0, 0 },
    { "current-error-port", p_current_error_port, 0, 0 },
    { "port?", p_portp, 1, 1 }, { "input-port?", p_input_portp, 1, 1 },
    { "output-port?", p_output_portp, 1, 1 }, { "textual-port?", p_portp, 1, 1 },
    { "binary-port?", p_binary_portp, 1, 1 },
    { "input-port-open?", p_input_port_openp, 1, 1 },
    { "output-port-open?", p_output_port_openp, 1, 1 },
    { NULL, NULL, 0, 0 },
};
