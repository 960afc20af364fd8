/* err.c -- error reporting and exit.
 *
 * Every error prints one line on stderr and exits with status 1 after
 * flushing what the program wrote to stdout, in every mode (normal, image),
 * so output never depends on how the program was run.
 *   with a source position:  FILE:LINE:COL: MESSAGE
 *   without one:             error: MESSAGE
 */
#include "lisp.h"

#include <stdarg.h>
#include <stdlib.h>

#define LV_SHOW_MAX 200

const struct lv_pos lv_nopos = { 0, 0 };
struct lv_pos lv_cur_pos;
char *lv_stack_limit;

_Noreturn void lv_exit(int status)
{
    fflush(stdout);
    exit(status);
}

static void prefix(struct lv_pos pos)
{
    fflush(stdout);
    if (pos.line <= 0) pos = lv_cur_pos;
    if (pos.line > 0)
        fprintf(stderr, "%s:%d:%d: ", lv_roots && lv_roots->file ? lv_roots->file : "?",
                pos.line, pos.col);
    else
        fputs("error: ", stderr);
}

_Noreturn void lv_die(struct lv_pos pos, const char *fmt, ...)
{
    va_list ap;
    prefix(pos);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

_Noreturn void lv_type_error(const char *who, const char *what, value got)
{
    prefix(lv_nopos);
    fprintf(stderr, "%s: expected %s, got ", who, what);
    lv_stack_limit = NULL;              /* printing a deep value may recurse */
    /* At most LV_SHOW_MAX bytes of the value: the message stays readable. */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m) {
        lv_print(m, got, 1);
        fclose(m);
        if (len > LV_SHOW_MAX) fprintf(stderr, "%.*s ...", LV_SHOW_MAX, buf);
        else fputs(buf, stderr);
    }
    fputc('\n', stderr);
    exit(1);
}

_Noreturn void lv_stack_overflow(void)
{
    lv_stack_limit = NULL;
    lv_die(lv_nopos, "stack overflow (recursion too deep)");
}
