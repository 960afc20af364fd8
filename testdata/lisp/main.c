/* main.c -- `lisp FILE.scm`: read, compile to frozen closures, snapshot
 * point, run.
 *
 *   normal:   read -> compile -> freeze -> lf_snapshot (returns) -> run
 *   snapshot: read -> compile -> freeze -> lf_snapshot (writes dump, exits)
 *   image:    lf_image -> run the compiled entry with the restored roots
 *
 * Exit status: 0, or the program's (exit n); 1 for a Scheme error; 2 for a
 * usage or file error.  The C stack limit is raised to 2 GiB (by
 * re-executing once) so that non-tail recursion LV_DEPTH_MAX calls deep
 * works; deeper is an error message, not a crash, in every mode.
 */
#include "comp.h"
#include "node.h"
#include "read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lineiform.h"

#define LV_STACK_WANT ((rlim_t)2 << 30)
#define LV_STACK_MARGIN ((size_t)1 << 20)

/* Re-exec once with a 2 GiB stack soft limit when allowed. */
static void raise_stack(char **argv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) != 0) return;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < LV_STACK_WANT && !getenv("LISP_STACK_RAISED")) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > LV_STACK_WANT ? LV_STACK_WANT : rl.rlim_max;
        if (want > rl.rlim_cur) {
            rl.rlim_cur = want;
            if (setrlimit(RLIMIT_STACK, &rl) == 0) {
                setenv("LISP_STACK_RAISED", "1", 1);
                /* The resolved path first: under valgrind /proc/self/exe
                 * is the tool, while readlink gives the interpreter. */
                char self[4096];
                ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
                if (n > 0) {
                    self[n] = 0;
                    execv(self, argv);
                }
                execv("/proc/self/exe", argv);
            }
        }
    }
}

static void set_stack_limit(char *top)
{
    struct rlimit rl;
    size_t size = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0)
        size = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LV_STACK_WANT ? LV_STACK_WANT : rl.rlim_cur;
    /* Leave room below the limit for the C code that reports the error. */
    size_t reserve = size >= 4 * LV_STACK_MARGIN ? LV_STACK_MARGIN : size / 4;
    lv_stack_limit = top - size + reserve;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "lisp: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 16, n = 0, k;
    char *b = malloc(cap);
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0)
        if ((n += k) == cap) b = realloc(b, cap *= 2);
    if (!b || ferror(f)) {
        fprintf(stderr, "lisp: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = n;
    return b;
}

static void new_roots(const char *path)
{
    lv_roots = lf_alloc(sizeof *lv_roots);
    if (lv_roots) lv_roots->symtab = lf_alloc(LV_SYMTAB * sizeof(struct sym *));
    if (!lv_roots || !lv_roots->symtab) {
        fprintf(stderr, "lisp: cannot allocate persistent memory\n");
        exit(2);
    }
    lv_roots->file = lf_freeze(path, strlen(path) + 1);
}

static const struct node *compile_file(const char *path)
{
    size_t len;
    char *src = slurp(path, &len);
    struct lv_reader r;
    lv_reader_init(&r, src, len);
    value forms = LV_NIL, *hole = &forms, d;
    while (lv_read(&r, &d)) {
        value c = lv_cons(d, LV_NIL);
        *hole = c;
        hole = &CDR(c);
    }
    struct lam *top;
    struct ast *body = comp_program(forms, &top);
    const struct node *entry = emit_program(body, top);
    return fz_commit((void *)entry);
}

int main(int argc, char **argv)
{
    char top;
    raise_stack(argv);
    enum lf_mode mode = lf_init(&argc, &argv);
    lv_gc_init();
    set_stack_limit(&top);
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (mode == LF_MODE_IMAGE) {
        void *code, *entry, *roots;
        enum lf_status s = lf_image(&code, &entry, &roots);
        if (s != LF_OK) {
            fprintf(stderr, "lisp: cannot run the image: %s\n", lf_status_str(s));
            return 2;
        }
        lv_roots = roots;
        ((lv_code)code)(entry, NULL);
        lv_exit(0);
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: lisp FILE.scm\n");
        return 2;
    }
    new_roots(argv[1]);
    lv_prims_init();
    const struct node *entry = compile_file(argv[1]);
    lf_snapshot((void *)entry, lv_roots);
    EVAL(entry, NULL);
    lv_exit(0);
}
