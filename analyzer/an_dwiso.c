/* an_dwiso.c -- the DWARF pass in a child process (AN_OPEN_ISOLATE).
 *
 * libdwarf 20210528 is not robust against hostile input (fuzzing the
 * analyzer found a double free in its .debug_rnglists loader within
 * seconds).  For untrusted binaries (`lineiform analyze`) the DWARF pass
 * runs in a forked child that sends back the prototypes over a pipe; if
 * the child dies, the binary gets a one-line "corrupt DWARF" error and the
 * caller never crashes.
 *
 * Wire format (host byte order, child -> parent):
 *   u32 status, str message
 *   per function with a prototype: u32 index, u8 variadic, u8 noreturn,
 *     u32 nparams, param ret, param[nparams]
 *   u32 0xffffffff, u32 n, str name[n]   (noreturn names)
 *   u32 n, (u32 index, u64 parent_addr)[n] (.cold parts tied by DWARF ranges)
 *   u32 n, (u32 index, str name)[n]       (FDE-only functions DWARF names)
 *   param = str name, str ctype, u64 size, u8 cls0, u8 cls1;  str = u32 len, bytes
 * Invariants:
 *   1. The child leaves with _exit: no atexit handler or stdio buffer of
 *      the parent runs twice.
 *   2. The parent trusts nothing it reads: every length is checked against
 *      the bytes received, every index against n_funcs. */
#define _GNU_SOURCE /* pipe2 */
#include "analyzer/an_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define AN_WIRE_END 0xffffffffu

static void an_w32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void an_wstr(FILE *f, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0;
    an_w32(f, n);
    fwrite(s ? s : "", 1, n, f);
}
static void an_wparam(FILE *f, const struct an_param *p)
{
    an_wstr(f, p->name);
    an_wstr(f, p->ctype);
    fwrite(&p->size, 8, 1, f);
    uint8_t c[2] = { (uint8_t)p->cls[0], (uint8_t)p->cls[1] };
    fwrite(c, 1, 2, f);
}

static void an_child(struct an_bin *b, const char *path, int fd)
{
    char err[512] = "";
    int dn = open("/dev/null", O_WRONLY);
    if (dn >= 0) dup2(dn, 2);
    b->err = err;
    b->errlen = sizeof err;
    enum lf_status s = an_dwarf_load(b, path);
    FILE *f = fdopen(fd, "w");
    if (!f) _exit(3);
    an_w32(f, (uint32_t)s);
    an_wstr(f, err);
    const struct an_func *fn = b->funcs.data;
    for (size_t i = 0; s == LF_OK && i < b->funcs.n; i++) {
        if (!fn[i].has_proto) continue;
        an_w32(f, (uint32_t)i);
        uint8_t fl[2] = { (uint8_t)fn[i].variadic, (uint8_t)fn[i].noreturn };
        fwrite(fl, 1, 2, f);
        an_w32(f, (uint32_t)fn[i].nparams);
        an_wparam(f, &fn[i].ret);
        for (int k = 0; k < fn[i].nparams; k++) an_wparam(f, &fn[i].params[k]);
    }
    an_w32(f, AN_WIRE_END);
    an_w32(f, (uint32_t)b->noreturn.n);
    for (size_t i = 0; i < b->noreturn.cap; i++)
        if (b->noreturn.keys && b->noreturn.keys[i]) an_wstr(f, b->noreturn.keys[i]);
    uint32_t ties = 0;
    for (size_t i = 0; i < b->funcs.n; i++) ties += fn[i].parent_addr != 0;
    an_w32(f, ties);
    for (size_t i = 0; i < b->funcs.n; i++) {
        if (!fn[i].parent_addr) continue;
        an_w32(f, (uint32_t)i);
        fwrite(&fn[i].parent_addr, 8, 1, f);
    }
    uint32_t named = 0;
    for (size_t i = 0; i < b->funcs.n; i++) named += fn[i].source == AN_SRC_EH_FRAME && strncmp(fn[i].name, "fn_", 3);
    an_w32(f, named);
    for (size_t i = 0; i < b->funcs.n; i++) {
        if (fn[i].source != AN_SRC_EH_FRAME || !strncmp(fn[i].name, "fn_", 3)) continue;
        an_w32(f, (uint32_t)i);
        an_wstr(f, fn[i].name);
    }
    _exit(fclose(f) == 0 ? 0 : 3);
}

/* -- Parent: read back ------------------------------------------------------- */

struct an_rd { const uint8_t *p, *end; int bad; };

static uint64_t an_get(struct an_rd *r, unsigned n)
{
    uint64_t v = 0;
    if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return 0; }
    memcpy(&v, r->p, n);
    r->p += n;
    return v;
}

static const char *an_getstr(struct an_bin *b, struct an_rd *r)
{
    uint32_t n = (uint32_t)an_get(r, 4);
    if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return ""; }
    const char *s = an_strndup(&b->arena, (const char *)r->p, n);
    r->p += n;
    if (!s) r->bad = 1;
    return s ? s : "";
}

static struct an_param an_getparam(struct an_bin *b, struct an_rd *r)
{
    struct an_param p;
    p.name = an_getstr(b, r);
    p.ctype = an_getstr(b, r);
    p.size = an_get(r, 8);
    p.cls[0] = (enum an_abi_class)(an_get(r, 1) % AN_ABI__MAX);
    p.cls[1] = (enum an_abi_class)(an_get(r, 1) % AN_ABI__MAX);
    return p;
}

static enum lf_status an_apply(struct an_bin *b, struct an_rd *r)
{
    enum lf_status s = (enum lf_status)an_get(r, 4);
    const char *msg = an_getstr(b, r);
    if (r->bad) return LF_ERR_DWARF;
    if (s != LF_OK) return an_fail(b, s, "%s", strchr(msg, ':') ? strchr(msg, ':') + 2 : msg);
    struct an_func *fn = b->funcs.data;
    for (;;) {
        uint32_t i = (uint32_t)an_get(r, 4);
        if (r->bad || i == AN_WIRE_END) break;
        if (i >= b->funcs.n) { r->bad = 1; break; }
        struct an_func *f = &fn[i];
        f->variadic = (int)an_get(r, 1);
        f->noreturn = (int)an_get(r, 1);
        uint32_t np = (uint32_t)an_get(r, 4);
        if (np > (size_t)(r->end - r->p)) { r->bad = 1; break; }
        f->ret = an_getparam(b, r);
        struct an_param *ps = an_alloc(&b->arena, (np + 1) * sizeof *ps);
        if (!ps) return LF_ERR_NOMEM;
        for (uint32_t k = 0; k < np; k++) ps[k] = an_getparam(b, r);
        f->params = ps;
        f->nparams = (int)np;
        f->has_proto = 1;
        b->pub.n_with_proto++;
    }
    uint32_t n = (uint32_t)an_get(r, 4);
    for (uint32_t k = 0; k < n && !r->bad; k++) {
        const char *name = an_getstr(b, r);
        if (!r->bad && !an_strmap_get(&b->noreturn, name) && an_strmap_put(&b->noreturn, name, (void *)name) < 0)
            return LF_ERR_NOMEM;
    }
    uint32_t ties = (uint32_t)an_get(r, 4);
    for (uint32_t k = 0; k < ties && !r->bad; k++) {
        uint32_t i = (uint32_t)an_get(r, 4);
        uint64_t parent = an_get(r, 8);
        if (!r->bad && i < b->funcs.n) fn[i].parent_addr = parent;
    }
    uint32_t named = (uint32_t)an_get(r, 4);
    for (uint32_t k = 0; k < named && !r->bad; k++) {
        uint32_t i = (uint32_t)an_get(r, 4);
        const char *name = an_getstr(b, r);
        if (r->bad || i >= b->funcs.n || fn[i].source != AN_SRC_EH_FRAME || !*name ||
            an_strmap_get(&b->by_name, name))
            continue;
        if (an_strmap_put(&b->by_name, name, &fn[i]) < 0) return LF_ERR_NOMEM;
        fn[i].name = name;
    }
    return r->bad ? an_fail(b, LF_ERR_DWARF, "corrupt DWARF: reader output truncated") : LF_OK;
}

static enum lf_status an_read_all(int fd, uint8_t **buf, size_t *len)
{
    size_t cap = 1 << 16;
    *len = 0;
    *buf = malloc(cap);
    if (!*buf) return LF_ERR_NOMEM;
    for (;;) {
        if (*len == cap) {
            uint8_t *nb = realloc(*buf, cap *= 2);
            if (!nb) return LF_ERR_NOMEM;
            *buf = nb;
        }
        ssize_t k = read(fd, *buf + *len, cap - *len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return LF_OK;
        *len += (size_t)k;
    }
}

enum lf_status an_dwarf_load_isolated(struct an_bin *b, const char *path)
{
    if ((b->flags & AN_OPEN_NO_DWARF) || !b->pub.has_dwarf) return an_dwarf_load(b, path);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return an_fail(b, LF_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return an_fail(b, LF_ERR_IO, "cannot fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(p[0]);
        an_child(b, path, p[1]);
    }
    close(p[1]);
    uint8_t *buf = NULL;
    size_t len = 0;
    enum lf_status s = an_read_all(p[0], &buf, &len);
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) continue;
    if (s == LF_OK && WIFSIGNALED(st))
        s = an_fail(b, LF_ERR_DWARF, "corrupt DWARF: the DWARF reader died (%s)", strsignal(WTERMSIG(st)));
    else if (s == LF_OK && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
        s = an_fail(b, LF_ERR_DWARF, "corrupt DWARF: the DWARF reader failed (exit %d)", WEXITSTATUS(st));
    if (s == LF_OK) {
        struct an_rd r = { buf, buf + len, 0 };
        s = an_apply(b, &r);
    }
    free(buf);
    return s;
}
