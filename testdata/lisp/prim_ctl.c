/* prim_ctl.c -- control: multiple values, escape-only continuations
 * (call/cc), dynamic-wind, exceptions (with-exception-handler, raise,
 * raise-continuable, guard, error objects), exit, records, parameters,
 * promises, time.
 *
 * Continuations are escape-only: a continuation is valid while the call/cc
 * (or guard) that made it has not returned; calling it unwinds the
 * dynamic-wind stack to where it was made, restores the handler stack,
 * current ports and call depth, and longjmps there.  Calling one after its
 * extent is the error "continuation called after its extent ...", never a
 * jump into a dead frame.
 *
 * Invariants:
 *  (1) Every setjmp happens in a function called through a pointer kept in
 *      writable data (escape_impl), never directly from a node or builtin:
 *      lineiform cannot know its target, so an image calls it natively, and
 *      everything in the dynamic extent of a call/cc or guard (the only
 *      code a longjmp can skip) runs as the interpreter's own machine code.
 *  (2) The active escapes form a chain (top = innermost); escaping to one
 *      deactivates every escape above it, whose frames are discarded.
 *  (3) lv_handlers and lv_winds are lists in the GC heap held by static
 *      variables (GC roots); they are restored, never patched, on escape.
 */
#include "lisp.h"

#include <gc.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lineiform.h"

#define PRIM(name) static value name(int argc, value *a)
#define UNUSED_ARGC (void)argc

/* An escape: a continuation made by call/cc, or the target of a guard. */
struct cont {
    struct hdr h;
    int active, is_guard;
    jmp_buf *jb;
    struct cont *prev;            /* next outer active escape */
    value result;
    long depth;
    value winds, handlers, in, out;
};

static value lv_winds = LV_NIL;   /* ((before . after) ...), innermost first */
static value lv_handlers = LV_NIL;
static struct cont *escapes;      /* innermost active escape */

value lv_cur_in, lv_cur_out;      /* 0: standard input / output */

static void proc_arg(const char *who, value f)
{
    if (!PROCEDUREP(f)) lv_type_error(who, "a procedure", f);
}

/* -- Multiple values ------------------------------------------------------- */

value lv_values(int n, const value *v)
{
    if (n == 1) return v[0];
    struct vals *m = lv_gc_alloc(sizeof *m + (size_t)n * sizeof(value));
    m->h.type = T_VALUES;
    m->h.flags = 0;
    m->h.len = (uint32_t)n;
    memcpy(m->v, v, (size_t)n * sizeof(value));
    return (value)m;
}

PRIM(p_values) { return lv_values(argc, a); }

/* (call-with-values producer consumer): the consumer is a tail call. */
PRIM(p_call_with_values)
{
    UNUSED_ARGC;
    proc_arg("call-with-values", a[0]);
    proc_arg("call-with-values", a[1]);
    value r = lv_call(a[0], 0, NULL);
    int n = TYPEP(r, T_VALUES) ? (int)HDR(r)->len : 1;
    const value *v = TYPEP(r, T_VALUES) ? ((struct vals *)r)->v : &r;
    value *args = n <= LV_TC_MAX ? lv_tc.buf : lv_gc_alloc((size_t)n * sizeof(value));
    memmove(args, v, (size_t)n * sizeof(value));
    lv_tc.f = a[1];
    lv_tc.argc = n;
    lv_tc.argv = args;
    return LV_TAIL;
}

/* -- Escapes: call/cc and guard ---------------------------------------------- */

static void restore_params(value saved);

/* Leave every dynamic-wind (and parameterize) entered since winds,
 * innermost first.  An entry is (before . after), or (#f . saved) for a
 * parameterize: ((parameter . value to restore) ...). */
static void unwind_to(value winds)
{
    while (lv_winds != winds && PAIRP(lv_winds)) {
        value e = CAR(lv_winds);
        lv_winds = CDR(lv_winds);
        if (CAR(e) == LV_FALSE) restore_params(CDR(e));
        else lv_call(CDR(e), 0, NULL);
    }
}

void lv_unwind_all(void) { unwind_to(LV_NIL); }

static _Noreturn void escape(struct cont *k, value result)
{
    if (!k->active)
        lv_die(lv_nopos, "continuation called after its extent: re-entering a continuation "
                         "is not supported (escape-only call/cc)");
    unwind_to(k->winds);
    for (struct cont *c = escapes; c && c != k; c = c->prev) c->active = 0;
    escapes = k;
    lv_handlers = k->handlers;
    lv_cur_in = k->in;
    lv_cur_out = k->out;
    lv_depth_left = k->depth;
    k->result = result;
    longjmp(*k->jb, 1);
}

/* Called as a procedure (lv_apply): escape with its arguments as values. */
_Noreturn void lv_throw(value k, int argc, const value *argv)
{
    escape((struct cont *)k, lv_values(argc, argv));
}

/* Run body (call/cc: f applied to the continuation; guard: the thunk with
 * the escape as innermost handler).  On an escape to it: call/cc returns
 * the values passed; guard calls handler with the condition.  Reached only
 * through escape_impl (invariant 1). */
static value escape_native(value f, value handler, int is_guard)
{
    jmp_buf jb;
    struct cont *volatile k = GC_MALLOC(sizeof *k);
    if (!k) lv_die(lv_nopos, "out of memory");
    k->h.type = T_CONT;
    k->active = 1;
    k->is_guard = is_guard;
    k->jb = &jb;
    k->prev = escapes;
    k->depth = lv_depth_left;
    k->winds = lv_winds;
    k->handlers = lv_handlers;
    k->in = lv_cur_in;
    k->out = lv_cur_out;
    escapes = k;
    if (setjmp(jb)) {
        k->active = 0;
        escapes = k->prev;
        value r = k->result;
        return is_guard ? lv_call(handler, 1, &r) : r;
    }
    value kv = (value)k, r;
    if (is_guard) {
        lv_handlers = lv_cons(kv, lv_handlers);
        r = lv_call(f, 0, NULL);
        lv_handlers = k->handlers;
    } else {
        r = lv_call(f, 1, &kv);
    }
    k->active = 0;
    escapes = k->prev;
    return r;
}

/* Writable, so its target is unknown to lineiform (invariant 1). */
static value (*volatile escape_impl)(value, value, int) = escape_native;

PRIM(p_callcc)
{
    UNUSED_ARGC;
    proc_arg("call-with-current-continuation", a[0]);
    return escape_impl(a[0], LV_FALSE, 0);
}

/* (%guard body-thunk handler): what guard expands into (comp_expand.c). */
PRIM(p_guard)
{
    UNUSED_ARGC;
    return escape_impl(a[0], a[1], 1);
}

PRIM(p_dynamic_wind)
{
    UNUSED_ARGC;
    for (int i = 0; i < 3; i++) proc_arg("dynamic-wind", a[i]);
    lv_call(a[0], 0, NULL);
    lv_winds = lv_cons(lv_cons(a[0], a[2]), lv_winds);
    value r = lv_call(a[1], 0, NULL);
    lv_winds = CDR(lv_winds);
    lv_call(a[2], 0, NULL);
    return r;
}

/* -- Exceptions ------------------------------------------------------------ */

value lv_make_error(const char *msg, value irritants)
{
    struct errobj *e = lv_gc_alloc(sizeof *e);
    e->h.type = T_ERROBJ;
    e->h.flags = 0;
    e->h.len = 0;
    e->msg = lv_str(msg, strlen(msg));
    e->irritants = irritants;
    return (value)e;
}

int lv_handlers_installed(void) { return lv_handlers != LV_NIL; }

static _Noreturn void uncaught(value obj)
{
    fflush(stdout);
    lv_stack_limit = NULL;
    fputs("error: ", stderr);
    if (TYPEP(obj, T_ERROBJ)) {
        struct errobj *e = (struct errobj *)obj;
        lv_print(stderr, e->msg, 0);
        for (value l = e->irritants; PAIRP(l); l = CDR(l)) {
            fputc(' ', stderr);
            lv_print(stderr, CAR(l), 1);
        }
    } else {
        fputs("uncaught exception: ", stderr);
        lv_print(stderr, obj, 1);
    }
    fputc('\n', stderr);
    exit(1);
}

value lv_raise(value obj, int continuable)
{
    if (lv_handlers == LV_NIL) uncaught(obj);
    value saved = lv_handlers, h = CAR(saved);
    if (CONTP(h)) escape((struct cont *)h, obj);      /* a guard */
    lv_handlers = CDR(saved);       /* the handler runs with the outer ones */
    value r = lv_call(h, 1, &obj);
    lv_handlers = saved;
    if (continuable) return r;
    lv_handlers = LV_NIL;
    lv_die(lv_nopos, "raise: the exception handler returned (raise is not continuable)");
}

PRIM(p_with_exception_handler)
{
    UNUSED_ARGC;
    proc_arg("with-exception-handler", a[0]);
    proc_arg("with-exception-handler", a[1]);
    value saved = lv_handlers;
    lv_handlers = lv_cons(a[0], saved);
    value r = lv_call(a[1], 0, NULL);
    lv_handlers = saved;
    return r;
}

PRIM(p_raise) { UNUSED_ARGC; return lv_raise(a[0], 0); }
PRIM(p_raise_continuable) { UNUSED_ARGC; return lv_raise(a[0], 1); }

/* (error message irritant ...): raise an error object. */
PRIM(p_error)
{
    value irritants = lv_list_n(argc - 1, a + 1);
    if (STRP(a[0])) {
        value e = lv_make_error(STR(a[0])->s, irritants);
        return lv_raise(e, 0);
    }
    /* (error 'who "msg" ...) and other non-string messages: kept whole */
    struct errobj *e = (struct errobj *)lv_make_error("", irritants);
    e->msg = a[0];
    return lv_raise((value)e, 0);
}

PRIM(p_error_objectp) { UNUSED_ARGC; return BOOL(TYPEP(a[0], T_ERROBJ)); }
PRIM(p_file_errorp) { UNUSED_ARGC; return BOOL(TYPEP(a[0], T_ERROBJ) && HDR(a[0])->flags == 1); }
PRIM(p_read_errorp) { UNUSED_ARGC; return BOOL(TYPEP(a[0], T_ERROBJ) && HDR(a[0])->flags == 2); }

static struct errobj *err_arg(const char *who, value v)
{
    if (!TYPEP(v, T_ERROBJ)) lv_type_error(who, "an error object", v);
    return (struct errobj *)v;
}

PRIM(p_error_object_message) { UNUSED_ARGC; return err_arg("error-object-message", a[0])->msg; }
PRIM(p_error_object_irritants) { UNUSED_ARGC; return err_arg("error-object-irritants", a[0])->irritants; }

/* -- exit ---------------------------------------------------------------------- */

/* (exit [obj]): no argument or #t is status 0, #f is 1, an exact integer
 * 0..255 is itself.  Anything else is an error (status 1), not a status the
 * operating system would silently take modulo 256 ((exit 256) would be a
 * success).  Pending dynamic-wind afters run first (R7RS). */
static int exit_status(value v)
{
    if (v == LV_TRUE) return 0;
    if (v == LV_FALSE) return 1;
    if (FIXP(v) && UNFIX(v) >= 0 && UNFIX(v) <= 255) return (int)UNFIX(v);
    lv_type_error("exit", "#t, #f or an exit status 0..255", v);
}

PRIM(p_exit)
{
    int status = argc > 0 ? exit_status(a[0]) : 0;
    lv_unwind_all();
    lv_exit(status);
}

PRIM(p_emergency_exit)
{
    lv_exit(argc > 0 ? exit_status(a[0]) : 0);
}

/* -- Records (define-record-type expands into these) ------------------------- */

PRIM(p_make_rtd)
{
    UNUSED_ARGC;
    struct rtd *t = lv_gc_alloc(sizeof *t);
    t->h.type = T_RTD;
    t->h.flags = 0;
    t->h.len = (uint32_t)lv_list_length(a[1]);
    t->name = a[0];
    t->fields = a[1];
    return (value)t;
}

/* (%record rtd field-value ...) */
PRIM(p_record)
{
    struct record *r = lv_gc_alloc(sizeof *r + (size_t)(argc - 1) * sizeof(value));
    r->h.type = T_RECORD;
    r->h.flags = 0;
    r->h.len = (uint32_t)(argc - 1);
    r->rtd = a[0];
    memcpy(r->f, a + 1, (size_t)(argc - 1) * sizeof(value));
    return (value)r;
}

PRIM(p_recordp) { UNUSED_ARGC; return BOOL(TYPEP(a[0], T_RECORD) && ((struct record *)a[0])->rtd == a[1]); }

static struct record *rec_arg(value r, value rtd, value who)
{
    if (!TYPEP(r, T_RECORD) || ((struct record *)r)->rtd != rtd) {
        char what[128];
        snprintf(what, sizeof what, "a record of type %s",
                 TYPEP(rtd, T_RTD) && SYMP(((struct rtd *)rtd)->name)
                     ? SYM(((struct rtd *)rtd)->name)->name : "?");
        lv_type_error(SYMP(who) ? SYM(who)->name : "record accessor", what, r);
    }
    return (struct record *)r;
}

/* (%record-ref obj rtd index who), (%record-set! obj rtd index value who) */
PRIM(p_record_ref) { UNUSED_ARGC; return rec_arg(a[0], a[1], a[3])->f[UNFIX(a[2])]; }
PRIM(p_record_set)
{
    UNUSED_ARGC;
    rec_arg(a[0], a[1], a[4])->f[UNFIX(a[2])] = a[3];
    return LV_UNSPEC;
}

/* -- Parameters (make-parameter, parameterize) --------------------------------- */

struct param { struct hdr h; value val, conv; };

PRIM(p_make_parameter)
{
    value v = a[0], conv = argc > 1 ? a[1] : LV_FALSE;
    if (argc > 1) {
        proc_arg("make-parameter", conv);
        v = lv_call(conv, 1, &v);
    }
    struct param *p = lv_gc_alloc(sizeof *p);
    p->h.type = T_PARAM;
    p->h.flags = 0;
    p->h.len = 0;
    p->val = v;
    p->conv = conv;
    return (value)p;
}

value lv_param_value(value p) { return ((struct param *)p)->val; }

static void restore_params(value saved)
{
    for (; PAIRP(saved); saved = CDR(saved))
        ((struct param *)CAR(CAR(saved)))->val = CDR(CAR(saved));
}

/* (%parameterize (p ...) (v ...) thunk): what parameterize expands into.
 * The new values are converted first, then set; an escape restores the
 * old ones through the wind list (unwind_to). */
PRIM(p_parameterize)
{
    UNUSED_ARGC;
    value ps = a[0], vs = a[1], nv = LV_NIL, saved = LV_NIL;
    for (value p = ps, v = vs; PAIRP(p) && PAIRP(v); p = CDR(p), v = CDR(v)) {
        if (!TYPEP(CAR(p), T_PARAM)) lv_type_error("parameterize", "a parameter", CAR(p));
        struct param *q = (struct param *)CAR(p);
        value x = CAR(v);
        if (q->conv != LV_FALSE) x = lv_call(q->conv, 1, &x);
        nv = lv_cons(lv_cons(CAR(p), x), nv);
    }
    for (value l = nv; PAIRP(l); l = CDR(l)) {
        struct param *q = (struct param *)CAR(CAR(l));
        saved = lv_cons(lv_cons(CAR(CAR(l)), q->val), saved);
        q->val = CDR(CAR(l));
    }
    lv_winds = lv_cons(lv_cons(LV_FALSE, saved), lv_winds);
    value r = lv_call(a[2], 0, NULL);
    lv_winds = CDR(lv_winds);
    restore_params(saved);
    return r;
}

/* -- Promises (delay, delay-force, make-promise, force) ---------------------- */

/* A record of the built-in type promise: done?, value or thunk, and
 * whether the thunk gives a promise to force in its place (delay-force). */
static value promise_rtd;

static value make_promise(value done, value v, value is_force)
{
    if (!promise_rtd) {
        struct rtd *t = lv_gc_alloc(sizeof *t);
        t->h.type = T_RTD;
        t->h.flags = 0;
        t->h.len = 3;
        t->name = lv_intern("promise");
        t->fields = LV_NIL;
        promise_rtd = (value)t;
    }
    struct record *r = lv_gc_alloc(sizeof *r + 3 * sizeof(value));
    r->h.type = T_RECORD;
    r->h.flags = 0;
    r->h.len = 3;
    r->rtd = promise_rtd;
    r->f[0] = done;
    r->f[1] = v;
    r->f[2] = is_force;
    return (value)r;
}

#define PROMISEP(v) (TYPEP(v, T_RECORD) && promise_rtd && ((struct record *)(v))->rtd == promise_rtd)

/* (%make-promise is-force thunk): what delay and delay-force expand into. */
PRIM(p_make_lazy) { UNUSED_ARGC; return make_promise(LV_FALSE, a[1], a[0]); }
PRIM(p_make_promise) { UNUSED_ARGC; return PROMISEP(a[0]) ? a[0] : make_promise(LV_TRUE, a[0], LV_FALSE); }
PRIM(p_promisep) { UNUSED_ARGC; return BOOL(PROMISEP(a[0])); }

/* R7RS force: iterative through delay-force chains (constant stack). */
PRIM(p_force)
{
    UNUSED_ARGC;
    value p = a[0];
    if (!PROMISEP(p)) return p;
    struct record *r = (struct record *)p;
    while (r->f[0] == LV_FALSE) {
        value v = lv_call(r->f[1], 0, NULL);
        if (r->f[0] != LV_FALSE) break;             /* forced while running */
        if (r->f[2] == LV_TRUE && PROMISEP(v)) {
            struct record *q = (struct record *)v;
            r->f[0] = q->f[0];
            r->f[1] = q->f[1];
            r->f[2] = q->f[2];
        } else {
            r->f[0] = LV_TRUE;
            r->f[1] = v;
        }
    }
    return r->f[1];
}

/* -- Time ------------------------------------------------------------------------ */

PRIM(p_current_jiffy)
{
    (void)a;
    UNUSED_ARGC;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return FIX((intptr_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

PRIM(p_jiffies_per_second) { (void)a; UNUSED_ARGC; return FIX(1000000); }

PRIM(p_current_second)
{
    (void)a;
    UNUSED_ARGC;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return lv_flo((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

const struct lv_primdef lv_prims_ctl[] = {
    { "values", p_values, 0, -1 }, { "call-with-values", p_call_with_values, 2, 2 },
    { "call-with-current-continuation", p_callcc, 1, 1 }, { "call/cc", p_callcc, 1, 1 },
    { "dynamic-wind", p_dynamic_wind, 3, 3 }, { "%guard", p_guard, 2, 2 },
    { "with-exception-handler", p_with_exception_handler, 2, 2 },
    { "raise", p_raise, 1, 1 }, { "raise-continuable", p_raise_continuable, 1, 1 },
    { "%raise-continuable", p_raise_continuable, 1, 1 },
    { "error", p_error, 1, -1 }, { "error-object?", p_error_objectp, 1, 1 },
    { "error-object-message", p_error_object_message, 1, 1 },
    { "error-object-irritants", p_error_object_irritants, 1, 1 },
    { "file-error?", p_file_errorp, 1, 1 }, { "read-error?", p_read_errorp, 1, 1 },
    { "exit", p_exit, 0, 1 }, { "emergency-exit", p_emergency_exit, 0, 1 },
    { "%make-rtd", p_make_rtd, 2, 2 }, { "%record", p_record, 1, -1 },
    { "%record?", p_recordp, 2, 2 }, { "%record-ref", p_record_ref, 4, 4 },
    { "%record-set!", p_record_set, 5, 5 },
    { "%make-promise", p_make_lazy, 2, 2 }, { "make-promise", p_make_promise, 1, 1 },
    { "promise?", p_promisep, 1, 1 }, { "force", p_force, 1, 1 },
    { "make-parameter", p_make_parameter, 1, 2 }, { "%parameterize", p_parameterize, 3, 3 },
    { "current-jiffy", p_current_jiffy, 0, 0 },
    { "jiffies-per-second", p_jiffies_per_second, 0, 0 },
    { "current-second", p_current_second, 0, 0 },
    { NULL, NULL, 0, 0 },
};
