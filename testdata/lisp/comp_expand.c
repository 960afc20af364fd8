/* comp_expand.c -- R7RS syntax expanded into other Scheme forms before they
 * are compiled: guard, case-lambda, define-record-type, let-values and
 * let*-values.
 *
 * Input: a form whose head is one of these keywords (not shadowed by a
 * local).  Output: an equivalent form in the syntax comp.c compiles.
 * Builtins the expansion calls are put in as the procedure objects
 * themselves (P()), so a program that defines its own length or apply does
 * not change what case-lambda does; the record and guard primitives have
 * names (%record-ref, %guard, ...) a program does not define, so they are
 * called by name and inline like any builtin.  Temporaries have names with
 * a space, which no program can write.
 */
#include "comp_int.h"

#include <stdio.h>
#include <string.h>

static value sym(const char *s) { return lv_intern(s); }

static value P(const char *name)
{
    const struct prim *p = lv_prim_lookup(lv_intern(name));
    if (!p) lv_die(lv_nopos, "internal error: no builtin %s", name);
    return (value)p;
}

#define L(...) lv_list_n(sizeof((value[]){ __VA_ARGS__ }) / sizeof(value), (value[]){ __VA_ARGS__ })

static value quote(value d) { return L(S_quote, d); }

static value append2(value a, value b)
{
    if (a == LV_NIL) return b;
    return lv_cons(CAR(a), append2(CDR(a), b));
}

/* (guard (var clause...) body...) =>
 *   (%guard (lambda () body...)
 *           (lambda (var) (cond clause... (else (%raise-continuable var))))) */
value cx_guard(value x, struct lv_pos pos)
{
    if (lv_list_length(x) < 3 || !PAIRP(CAR(CDR(x))) || !SYMP(CAR(CAR(CDR(x)))) ||
        lv_list_length(CAR(CDR(x))) < 0)
        BAD(x, pos, "guard: expected (guard (variable clause...) body...)");
    value var = CAR(CAR(CDR(x))), clauses = CDR(CAR(CDR(x)));
    value last = LV_NIL;
    for (value l = clauses; PAIRP(l); l = CDR(l)) last = CAR(l);
    if (!(PAIRP(last) && CAR(last) == S_else))
        clauses = append2(clauses, L(L(S_else, L(sym("%raise-continuable"), var))));
    value handler = L(S_lambda, L(var), lv_cons(S_cond, clauses));
    value body = lv_cons(S_lambda, lv_cons(LV_NIL, CDR(CDR(x))));
    return L(sym("%guard"), body, handler);
}

/* (case-lambda (formals body...) ...) => a variadic lambda that applies
 * the first clause whose formals take that many arguments. */
value cx_case_lambda(value x, struct lv_pos pos)
{
    long n = len_or_die(x, pos, "case-lambda");
    value binds = LV_NIL, conds = LV_NIL, args = sym(" args"), cnt = sym(" n");
    for (long i = n - 1; i >= 1; i--) {
        value cl = nth(x, i);
        if (!PAIRP(cl) || lv_list_length(cl) < 2)
            BAD(cl, pos, "case-lambda: expected (formals body...)");
        char name[32];
        snprintf(name, sizeof name, " clause%ld", i);
        value v = sym(name), f = CAR(cl);
        long req = 0;
        for (; PAIRP(f); f = CDR(f)) req++;
        value test = L(f == LV_NIL ? P("=") : P(">="), cnt, FIX(req));
        binds = lv_cons(L(v, lv_cons(S_lambda, cl)), binds);
        conds = lv_cons(L(test, L(P("apply"), v, args)), conds);
    }
    conds = append2(conds, L(L(S_else, L(P("error"), lv_str("case-lambda: no clause takes", 27),
                                          cnt, lv_str("arguments", 9)))));
    value body = L(S_lambda, args, L(S_let, L(L(cnt, L(P("length"), args))), lv_cons(S_cond, conds)));
    return L(S_let, binds, body);
}

static int is_member(value x, value l)
{
    for (; PAIRP(l); l = CDR(l))
        if (CAR(l) == x) return 1;
    return 0;
}

/* (define-record-type type (ctor field...) pred (field accessor [modifier])...)
 * => (begin (define type (%make-rtd 'type '(field...)))
 *           (define (ctor field...) (%record type v0 v1 ...)) ...) */
static value record_type(value x, struct lv_pos pos)
{
    if (lv_list_length(x) < 3) BAD(x, pos, "define-record-type: expected a type, a constructor and a predicate");
    value type = nth(x, 1), ctor = nth(x, 2), pred = lv_list_length(x) > 3 ? nth(x, 3) : LV_FALSE;
    value specs = lv_list_length(x) > 4 ? CDR(CDR(CDR(CDR(x)))) : LV_NIL;
    if (!SYMP(type)) BAD(x, pos, "define-record-type: the type name must be a symbol");
    value fields = LV_NIL;
    long nf = 0;
    for (value l = specs; PAIRP(l); l = CDR(l), nf++) {
        value s = CAR(l);
        if (!PAIRP(s) || !SYMP(CAR(s)) || lv_list_length(s) < 1 || lv_list_length(s) > 3)
            BAD(x, pos, "define-record-type: bad field spec");
        fields = append2(fields, L(CAR(s)));
    }
    value out = LV_NIL;
    out = append2(out, L(L(S_define, type, L(sym("%make-rtd"), quote(type), quote(fields)))));
    if (SYMP(ctor)) ctor = lv_cons(ctor, fields);
    if (PAIRP(ctor)) {
        if (!SYMP(CAR(ctor)) || lv_list_length(ctor) < 0)
            BAD(x, pos, "define-record-type: bad constructor spec");
        value vals = LV_NIL;
        for (value f = fields; PAIRP(f); f = CDR(f)) {
            value v = LV_FALSE;
            for (value c = CDR(ctor); PAIRP(c); c = CDR(c))
                if (CAR(c) == CAR(f)) v = CAR(f);
            vals = append2(vals, L(v));
        }
        for (value c = CDR(ctor); PAIRP(c); c = CDR(c))
            if (!is_member(CAR(c), fields))
                BAD(x, pos, "define-record-type: constructor argument is not a field");
        out = append2(out, L(L(S_define, ctor, lv_cons(sym("%record"), lv_cons(type, vals)))));
    }
    value obj = sym(" obj"), val = sym(" value");
    if (SYMP(pred)) out = append2(out, L(L(S_define, L(pred, obj), L(sym("%record?"), obj, type))));
    long i = 0;
    for (value l = specs; PAIRP(l); l = CDR(l), i++) {
        value s = CAR(l);
        if (PAIRP(CDR(s)) && SYMP(CAR(CDR(s)))) {
            value acc = CAR(CDR(s));
            out = append2(out, L(L(S_define, L(acc, obj), L(sym("%record-ref"), obj, type, FIX(i), quote(acc)))));
        }
        if (PAIRP(CDR(s)) && PAIRP(CDR(CDR(s))) && SYMP(CAR(CDR(CDR(s))))) {
            value mod = CAR(CDR(CDR(s)));
            out = append2(out, L(L(S_define, L(mod, obj, val),
                                   L(sym("%record-set!"), obj, type, FIX(i), val, quote(mod)))));
        }
    }
    return lv_cons(S_begin, out);
}

/* (define-values (a b . c) expr) =>
 *   (begin (define a #f) (define b #f) (define c #f)
 *          (call-with-values (lambda () expr)
 *            (lambda (t0 t1 . t2) (set! a t0) (set! b t1) (set! c t2)))) */
static value define_values(value x, struct lv_pos pos)
{
    if (lv_list_length(x) != 3) BAD(x, pos, "define-values: expected (define-values formals expression)");
    value formals = CAR(CDR(x)), defs = LV_NIL, sets = LV_NIL, temps = LV_NIL, *hole = &temps;
    int i = 0;
    for (value f = formals;; f = CDR(f), i++) {
        value v = PAIRP(f) ? CAR(f) : f;
        if (v == LV_NIL) break;
        if (!SYMP(v)) BAD(x, pos, "define-values: formals must be symbols");
        char name[32];
        snprintf(name, sizeof name, " value%d", i);
        value t = sym(name);
        defs = append2(defs, L(L(S_define, v, LV_FALSE)));
        sets = append2(sets, L(L(sym("set!"), v, t)));
        if (!PAIRP(f)) { *hole = t; break; }
        *hole = lv_cons(t, LV_NIL);
        hole = &CDR(*hole);
    }
    value cwv = L(P("call-with-values"), L(S_lambda, LV_NIL, nth(x, 2)),
                  lv_cons(S_lambda, lv_cons(temps, append2(sets, L(LV_UNSPEC)))));
    return lv_cons(S_begin, append2(defs, L(cwv)));
}

/* (parameterize ((p v) ...) body...) =>
 *   (%parameterize (list p ...) (list v ...) (lambda () body...)) */
value cx_parameterize(value x, struct lv_pos pos)
{
    if (lv_list_length(x) < 3 || lv_list_length(CAR(CDR(x))) < 0)
        BAD(x, pos, "parameterize: expected (parameterize ((parameter value) ...) body...)");
    value ps = LV_NIL, vs = LV_NIL;
    for (value l = CAR(CDR(x)); PAIRP(l); l = CDR(l)) {
        if (lv_list_length(CAR(l)) != 2) BAD(x, pos, "parameterize: bad binding");
        ps = append2(ps, L(CAR(CAR(l))));
        vs = append2(vs, L(CAR(CDR(CAR(l)))));
    }
    return L(sym("%parameterize"), lv_cons(P("list"), ps), lv_cons(P("list"), vs),
             lv_cons(S_lambda, lv_cons(LV_NIL, CDR(CDR(x)))));
}

/* (delay e) => (%make-promise #f (lambda () e)); (delay-force e) is the
 * same promise marked to force the promise e gives (prim_ctl.c). */
value cx_delay(value x, int is_force, struct lv_pos pos)
{
    if (lv_list_length(x) != 2) BAD(x, pos, "%s: expected one expression", is_force ? "delay-force" : "delay");
    return L(sym("%make-promise"), is_force ? LV_TRUE : LV_FALSE, L(S_lambda, LV_NIL, nth(x, 1)));
}

/* A definition form that expands into definitions, expanded (also inside
 * top-level begins), so prescan and bodies see the defines; else x. */
value cx_definitions(value x)
{
    if (!PAIRP(x) || lv_list_length(x) < 0) return x;
    if (CAR(x) == S_define_record_type) return record_type(x, posof(x, lv_nopos));
    if (CAR(x) == S_define_values) return define_values(x, posof(x, lv_nopos));
    if (CAR(x) == S_begin)
        for (value l = CDR(x); PAIRP(l); l = CDR(l)) CAR(l) = cx_definitions(CAR(l));
    return x;
}

/* (let-values (((formals) expr) ...) body...) => nested call-with-values;
 * each expression sees the variables bound before it (as let*-values). */
value cx_let_values(value x, struct lv_pos pos)
{
    if (lv_list_length(x) < 3 || lv_list_length(CAR(CDR(x))) < 0)
        BAD(x, pos, "let-values: expected (let-values (((formals) expression) ...) body...)");
    value binds = CAR(CDR(x));
    if (binds == LV_NIL) return lv_cons(S_let, lv_cons(LV_NIL, CDR(CDR(x))));
    value b = CAR(binds);
    if (!PAIRP(b) || lv_list_length(b) != 2) BAD(x, pos, "let-values: bad binding");
    value rest = lv_cons(CAR(x), lv_cons(CDR(binds), CDR(CDR(x))));
    return L(P("call-with-values"), L(S_lambda, LV_NIL, nth(b, 1)), L(S_lambda, CAR(b), rest));
}
