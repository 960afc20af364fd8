/* err.c -- raising errors, exiting.
 *
 * An error is a value.  lerror formats a message with the source position
 * "FILE:LINE: " (no position when line is 0) and throws it; lthrow hands a
 * value to the innermost pcall (a longjmp), or, when there is none, prints
 * "lua: MESSAGE" on stderr after flushing stdout and exits with status 1,
 * in every mode, so output never depends on how the program was run.
 */
#include "lua.h"

#include <stdarg.h>
#include <stdlib.h>

struct handler *handler;
int cur_line;
const struct cfunc *cur_cf;
char *stack_limit;

_Noreturn void lexit(int status)
{
    fflush(stdout);
    exit(status);
}

_Noreturn void lthrow(value v)
{
    if (handler) {
        handler->err = v;
        longjmp(handler->jb, 1);
    }
    fflush(stdout);
    if (ISSTR(v) || isnum(v)) {
        value s = tostr(v);
        fprintf(stderr, "lua: %s\n", STR(s)->s);
    } else {
        value mm = getmm(v, MM_TOSTRING);
        if (mm != NIL) fprintf(stderr, "lua: %s\n", STR(tostr(ltostring(v)))->s);
        else fprintf(stderr, "lua: (error object is a %s value)\n", typename_of(v));
    }
    exit(1);
}

_Noreturn void lerror(int line, const char *fmt, ...)
{
    char msg[512];
    int k = 0;
    if (line > 0) k = snprintf(msg, sizeof msg, "%s:%d: ", R && R->file ? R->file : "?", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + k, sizeof msg - k, fmt, ap);
    va_end(ap);
    lthrow(mkcstr(msg));
}

void lstack_error(int line)
{
    stack_limit -= 256 << 10;   /* room for the handler that catches it */
    lerror(line, "stack overflow");
}
