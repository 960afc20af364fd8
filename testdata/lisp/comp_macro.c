/* comp_macro.c -- define-syntax / let-syntax / letrec-syntax with
 * syntax-rules, expanded while compiling.
 *
 * Input: (define-syntax name (syntax-rules (literal...) (pattern template)...))
 * (also with a custom ellipsis: (syntax-rules ellipsis (literal...) ...)),
 * and every later form whose head is name.  Output: the template of the
 * first rule whose pattern matches, with the pattern variables replaced;
 * comp.c compiles that instead.
 *
 * Patterns: _ , literals, pattern variables, lists and vectors with one
 * ellipsis per level followed by more patterns and a dotted tail (R7RS
 * 4.3.2), other data compared with equal?.  Templates: ellipsis after a
 * subtemplate (also x ... ..., flattening), (... ...) for a literal
 * ellipsis.
 *
 * Not hygienic: symbols a template introduces are inserted as they are, so
 * a template's temporary can capture a variable of the same name at the
 * use, and a free identifier of the template means what that name means
 * where the macro is used.  Macros are global to the program from their
 * definition on, also when defined in a body or by let-syntax.
 *
 * Invariants:
 *  (1) The table of macros is a Scheme list held by a static variable, so
 *      the GC sees the rules (the forms that defined them are dropped).
 *  (2) An ellipsis variable is bound to (ELL v1 v2 ...), one value (or
 *      nested ELL) per repetition; ELL is a symbol no program can write.
 */
#include "comp_int.h"

#include <string.h>

static value macros = LV_NIL;       /* ((name ellipsis literals rule...) ...) */
static value S_ell, S_underscore, S_syntax_rules;

static void init_syms(void)
{
    if (S_ell) return;
    S_ell = lv_intern(" ellipsis-match");
    S_underscore = lv_intern("_");
    S_syntax_rules = lv_intern("syntax-rules");
}

static value assq_(value k, value l)
{
    for (; PAIRP(l); l = CDR(l))
        if (CAR(CAR(l)) == k) return CAR(l);
    return LV_FALSE;
}

static int memq_(value k, value l)
{
    for (; PAIRP(l); l = CDR(l))
        if (CAR(l) == k) return 1;
    return 0;
}

value mac_lookup(value sym)
{
    if (!SYMP(sym)) return LV_FALSE;
    value m = assq_(sym, macros);
    return m == LV_FALSE ? m : CDR(m);
}

/* (define-syntax name spec) and the pairs of let-syntax: register. */
void mac_define(value name, value spec, struct lv_pos pos)
{
    init_syms();
    if (!SYMP(name)) BAD(spec, pos, "define-syntax: the keyword must be a symbol");
    if (!PAIRP(spec) || CAR(spec) != S_syntax_rules || lv_list_length(spec) < 2)
        BAD(spec, pos, "define-syntax: only syntax-rules transformers are supported");
    value ell = S_dot3, rest = CDR(spec);
    if (SYMP(CAR(rest))) {
        ell = CAR(rest);
        rest = CDR(rest);
        if (!PAIRP(rest)) BAD(spec, pos, "syntax-rules: missing literals");
    }
    value lits = CAR(rest), rules = CDR(rest);
    if (lv_list_length(lits) < 0) BAD(spec, pos, "syntax-rules: literals must be a list");
    for (value r = rules; PAIRP(r); r = CDR(r))
        if (lv_list_length(CAR(r)) != 2 || !PAIRP(CAR(CAR(r))))
            BAD(spec, pos, "syntax-rules: a rule is (pattern template)");
    macros = lv_cons(lv_cons(name, lv_cons(ell, lv_cons(lits, rules))), macros);
}

/* -- Matching --------------------------------------------------------------- */

struct mctx { value ell, lits; };

static void pattern_vars(struct mctx *m, value p, value *out)
{
    if (SYMP(p)) {
        if (p != m->ell && p != S_underscore && !memq_(p, m->lits)) *out = lv_cons(p, *out);
    } else if (PAIRP(p)) {
        pattern_vars(m, CAR(p), out);
        pattern_vars(m, CDR(p), out);
    } else if (VECP(p)) {
        for (uint32_t i = 0; i < HDR(p)->len; i++) pattern_vars(m, VEC(p)->v[i], out);
    }
}

static value vec_to_list(value v)
{
    value l = LV_NIL;
    for (long i = (long)HDR(v)->len - 1; i >= 0; i--) l = lv_cons(VEC(v)->v[i], l);
    return l;
}

static int match(struct mctx *m, value p, value f, value *b);

/* (p ellipsis after...) against f. */
static int match_ellipsis(struct mctx *m, value p, value after, value f, value *b)
{
    long nafter = 0, nf = 0;
    for (value a = after; PAIRP(a); a = CDR(a)) nafter++;
    for (value g = f; PAIRP(g); g = CDR(g)) nf++;
    long reps = nf - nafter;
    if (reps < 0) return 0;
    value vars = LV_NIL;
    pattern_vars(m, p, &vars);
    value per = LV_NIL;                 /* binding lists, last repetition first */
    for (long i = 0; i < reps; i++, f = CDR(f)) {
        value bi = LV_NIL;
        if (!match(m, p, CAR(f), &bi)) return 0;
        per = lv_cons(bi, per);
    }
    for (value v = vars; PAIRP(v); v = CDR(v)) {
        value vals = LV_NIL;
        for (value q = per; PAIRP(q); q = CDR(q)) vals = lv_cons(CDR(assq_(CAR(v), CAR(q))), vals);
        *b = lv_cons(lv_cons(CAR(v), lv_cons(S_ell, vals)), *b);
    }
    return match(m, after, f, b);
}

static int match(struct mctx *m, value p, value f, value *b)
{
    char here;
    LV_STACK_CHECK(&here);
    if (SYMP(p)) {
        if (p == S_underscore) return 1;
        if (memq_(p, m->lits)) return f == p;
        *b = lv_cons(lv_cons(p, f), *b);
        return 1;
    }
    if (PAIRP(p)) {
        if (PAIRP(CDR(p)) && CAR(CDR(p)) == m->ell) return match_ellipsis(m, CAR(p), CDR(CDR(p)), f, b);
        return PAIRP(f) && match(m, CAR(p), CAR(f), b) && match(m, CDR(p), CDR(f), b);
    }
    if (VECP(p)) return VECP(f) && match(m, vec_to_list(p), vec_to_list(f), b);
    if (p == LV_NIL) return f == LV_NIL;
    return lv_equal(p, f);
}

/* -- Templates ---------------------------------------------------------------- */

static value append2(value a, value b)
{
    if (a == LV_NIL) return b;
    return lv_cons(CAR(a), append2(CDR(a), b));
}

static int is_ell_binding(value v) { return PAIRP(v) && CAR(v) == S_ell; }

/* The variables of t bound to repetitions in b. */
static void ell_vars(struct mctx *m, value t, value b, value *out)
{
    if (SYMP(t)) {
        value e = assq_(t, b);
        if (e != LV_FALSE && is_ell_binding(CDR(e)) && !memq_(t, *out)) *out = lv_cons(t, *out);
    } else if (PAIRP(t)) {
        ell_vars(m, CAR(t), b, out);
        ell_vars(m, CDR(t), b, out);
    } else if (VECP(t)) {
        for (uint32_t i = 0; i < HDR(t)->len; i++) ell_vars(m, VEC(t)->v[i], b, out);
    }
}

static value expand(struct mctx *m, value t, value b, int escaped, struct lv_pos pos);

/* sub followed by k ellipses: its expansions, one per repetition of the
 * variables it uses at this level, each level flattened into the list. */
static value repeat(struct mctx *m, value sub, int k, value b, struct lv_pos pos)
{
    if (k == 0) return lv_cons(expand(m, sub, b, 0, pos), LV_NIL);
    value vars = LV_NIL;
    ell_vars(m, sub, b, &vars);
    if (vars == LV_NIL) lv_die(pos, "syntax-rules: no pattern variable repeats where the template has an ellipsis");
    long n = -1;
    for (value v = vars; PAIRP(v); v = CDR(v)) {
        long c = lv_list_length(CDR(CDR(assq_(CAR(v), b))));
        if (n >= 0 && c != n) lv_die(pos, "syntax-rules: ellipsis variables repeat different numbers of times");
        n = c;
    }
    value out = LV_NIL;
    for (long i = n - 1; i >= 0; i--) {
        value bi = b;
        for (value v = vars; PAIRP(v); v = CDR(v))
            bi = lv_cons(lv_cons(CAR(v), nth(CDR(CDR(assq_(CAR(v), b))), i)), bi);
        out = append2(repeat(m, sub, k - 1, bi, pos), out);
    }
    return out;
}

static value expand(struct mctx *m, value t, value b, int escaped, struct lv_pos pos)
{
    char here;
    LV_STACK_CHECK(&here);
    if (SYMP(t)) {
        value e = assq_(t, b);
        if (e == LV_FALSE) return t;
        if (is_ell_binding(CDR(e))) lv_die(pos, "syntax-rules: %s is used without its ellipsis", SYM(t)->name);
        return CDR(e);
    }
    if (VECP(t)) {
        value l = expand(m, vec_to_list(t), b, escaped, pos);
        long n = lv_list_length(l);
        value v = lv_vec((size_t)n, LV_FALSE);
        for (long i = 0; i < n; i++, l = CDR(l)) VEC(v)->v[i] = CAR(l);
        return v;
    }
    if (!PAIRP(t)) return t;
    if (!escaped && CAR(t) == m->ell && PAIRP(CDR(t))) return expand(m, CAR(CDR(t)), b, 1, pos);
    if (!escaped && PAIRP(CDR(t)) && CAR(CDR(t)) == m->ell) {
        value rest = CDR(CDR(t));
        int k = 1;
        for (; PAIRP(rest) && CAR(rest) == m->ell; rest = CDR(rest)) k++;   /* x ... ... */
        return append2(repeat(m, CAR(t), k, b, pos), expand(m, rest, b, 0, pos));
    }
    return lv_cons(expand(m, CAR(t), b, escaped, pos), expand(m, CDR(t), b, escaped, pos));
}

/* The expansion of macro use x (spec from mac_lookup) in *out: 1, or 0
 * when no rule matches. */
static int try_expand(value spec, value x, struct lv_pos pos, value *out)
{
    struct mctx m = { CAR(spec), CAR(CDR(spec)) };
    for (value r = CDR(CDR(spec)); PAIRP(r); r = CDR(r)) {
        value b = LV_NIL, pat = CAR(CAR(r));
        /* the keyword position matches anything */
        if (match(&m, CDR(pat), CDR(x), &b)) {
            *out = expand(&m, CAR(CDR(CAR(r))), b, 0, pos);
            return 1;
        }
    }
    return 0;
}

value mac_expand(value spec, value x, struct lv_pos pos)
{
    value r;
    if (!try_expand(spec, x, pos, &r)) lv_die(pos, "%s: no syntax-rules pattern matches this use", SYM(CAR(x))->name);
    return r;
}

/* A top-level or body form: define-syntax registered (nothing left), a
 * macro use expanded until it is not one; else x. */
value mac_definitions(value x, int *is_syntax_def)
{
    init_syms();
    *is_syntax_def = 0;
    for (int i = 0; i < 10000 && PAIRP(x) && SYMP(CAR(x)); i++) {
        if (CAR(x) == S_define_syntax) {
            if (lv_list_length(x) != 3) BAD(x, lv_nopos, "define-syntax: expected (define-syntax keyword transformer)");
            mac_define(CAR(CDR(x)), CAR(CDR(CDR(x))), posof(x, lv_nopos));
            *is_syntax_def = 1;
            return x;
        }
        value spec = mac_lookup(CAR(x));
        if (spec == LV_FALSE) return x;
        x = mac_expand(spec, x, posof(x, lv_nopos));
    }
    return x;
}

/* A top-level form before prescan: define-syntax registered (an empty
 * begin is left), macro uses expanded, begins entered, record types
 * expanded, so prescan sees every top-level definition. */
value mac_top_form(value f)
{
    int d;
    f = mac_definitions(f, &d);
    if (d) return lv_cons(S_begin, LV_NIL);
    if (PAIRP(f) && CAR(f) == S_begin) {
        for (value l = CDR(f); PAIRP(l); l = CDR(l)) CAR(l) = mac_top_form(CAR(l));
        return f;
    }
    return cx_definitions(f);
}

/* For prescan: x with its macro uses expanded where they match (never an
 * error here; compiling reports it), or x. */
value mac_for_scan(value x)
{
    value spec = PAIRP(x) ? mac_lookup(CAR(x)) : LV_FALSE;
    if (spec == LV_FALSE) return x;
    value r;
    return try_expand(spec, x, lv_nopos, &r) ? r : x;
}
