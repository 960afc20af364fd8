/* err.c -- error reporting and exit.
 *
 * Every error prints one line on stderr and exits with status 1 after
 * flushing what the program wrote to stdout, in every mode (normal, image),
 * so output never depends on how the program was run.
 *   with a source position:  FILE:LINE:COL: MESSAGE
 *   without one:             error: MESSAGE
 * unless the program installed an exception handler (prim_ctl.c): then a
 * run-time error is raised to it as an error object.
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

/* While a program has an exception handler installed, its run-time errors
 * are raised as error objects (message, no irritants) instead of ending the
 * program; an error while making one (out of memory) is fatal. */
static int raising;

static void raise_if_handled(const char *msg)
{
    if (raising || !lv_handlers_installed()) return;
    raising = 1;
    value e = lv_make_error(msg, LV_NIL);
    raising = 0;
    lv_raise(e, 0);
}

_Noreturn void lv_die(struct lv_pos pos, const char *fmt, ...)
{
    va_list ap;
    if (lv_handlers_installed()) {
        char msg[512];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        raise_if_handled(msg);
    }
    prefix(pos);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

_Noreturn void lv_type_error(const char *who, const char *what, value got)
{
    if (lv_handlers_installed() && !raising) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (m) {
            fprintf(m, "%s: expected %s, got ", who, what);
            lv_print(m, got, 1);
            fclose(m);
            char msg[512];
            snprintf(msg, sizeof msg, "%s", buf);
            free(buf);
            raise_if_handled(msg);
        }
    }
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

/* Never raised: there may be no stack left to run a handler on. */
_Noreturn void lv_stack_overflow(void)
{
    lv_stack_limit = NULL;
    raising = 1;
    lv_die(lv_nopos, "stack overflow (recursion too deep)");
}
