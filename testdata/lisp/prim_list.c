/* prim_list.c -- pairs, lists, vectors, predicates, equality, procedures
 * (map, for-each, apply).
 *
 * Quoted constants are frozen: set-car!, set-cdr!, vector-set! and
 * vector-fill! on them are errors, never writes into frozen memory.
 */
#include "lisp.h"

#include <stdlib.h>
#include <string.h>

#include "lineiform.h"

#define PRIM(name) static value name(int argc, value *a)
#define UNUSED_ARGC (void)argc

static value pair_arg(const char *who, value v)
{
    if (!PAIRP(v)) lv_type_error(who, "a pair", v);
    return v;
}

static value list_arg(const char *who, value v)
{
    if (lv_list_length(v) < 0) lv_type_error(who, "a list", v);
    return v;
}

static void mutable_arg(const char *who, value v)
{
    if (lf_is_frozen((const void *)(v & ~(value)7)))
        lv_type_error(who, "a mutable object, not a constant", v);
}

PRIM(p_cons) { UNUSED_ARGC; return lv_cons(a[0], a[1]); }
PRIM(p_car) { UNUSED_ARGC; return CAR(pair_arg("car", a[0])); }
PRIM(p_cdr) { UNUSED_ARGC; return CDR(pair_arg("cdr", a[0])); }

#define CXR(cname, sname, expr) \
    PRIM(cname) { UNUSED_ARGC; value x = a[0]; const char *who = sname; expr; return x; }
#define A_ x = CAR(pair_arg(who, x))
#define D_ x = CDR(pair_arg(who, x))
CXR(p_caar, "caar", A_; A_)
CXR(p_cadr, "cadr", D_; A_)
CXR(p_cdar, "cdar", A_; D_)
CXR(p_cddr, "cddr", D_; D_)
CXR(p_caddr, "caddr", D_; D_; A_)
CXR(p_cdddr, "cdddr", D_; D_; D_)
CXR(p_cadddr, "cadddr", D_; D_; D_; A_)
CXR(p_caaar, "caaar", A_; A_; A_)
CXR(p_caadr, "caadr", D_; A_; A_)
CXR(p_cadar, "cadar", A_; D_; A_)
CXR(p_cdaar, "cdaar", A_; A_; D_)
CXR(p_cdadr, "cdadr", D_; A_; D_)
CXR(p_cddar, "cddar", A_; D_; D_)
CXR(p_caaaar, "caaaar", A_; A_; A_; A_)
CXR(p_caaadr, "caaadr", D_; A_; A_; A_)
CXR(p_caadar, "caadar", A_; D_; A_; A_)
CXR(p_caaddr, "caaddr", D_; D_; A_; A_)
CXR(p_cadaar, "cadaar", A_; A_; D_; A_)
CXR(p_cadadr, "cadadr", D_; A_; D_; A_)
CXR(p_caddar, "caddar", A_; D_; D_; A_)
CXR(p_cdaaar, "cdaaar", A_; A_; A_; D_)
CXR(p_cdaadr, "cdaadr", D_; A_; A_; D_)
CXR(p_cdadar, "cdadar", A_; D_; A_; D_)
CXR(p_cdaddr, "cdaddr", D_; D_; A_; D_)
CXR(p_cddaar, "cddaar", A_; A_; D_; D_)
CXR(p_cddadr, "cddadr", D_; A_; D_; D_)
CXR(p_cdddar, "cdddar", A_; D_; D_; D_)
CXR(p_cddddr, "cddddr", D_; D_; D_; D_)

PRIM(p_set_car)
{
    UNUSED_ARGC;
    pair_arg("set-car!", a[0]);
    mutable_arg("set-car!", a[0]);
    CAR(a[0]) = a[1];
    return LV_UNSPEC;
}

PRIM(p_set_cdr)
{
    UNUSED_ARGC;
    pair_arg("set-cdr!", a[0]);
    mutable_arg("set-cdr!", a[0]);
    CDR(a[0]) = a[1];
    return LV_UNSPEC;
}

PRIM(p_list) { return lv_list_n(argc, a); }

PRIM(p_length)
{
    UNUSED_ARGC;
    long n = lv_list_length(a[0]);
    if (n < 0) lv_type_error("length", "a list", a[0]);
    return FIX(n);
}

static value append2(value x, value y)
{
    list_arg("append", x);
    value head = y, *hole = &head;
    for (; PAIRP(x); x = CDR(x)) {
        value c = lv_cons(CAR(x), y);
        *hole = c;
        hole = &CDR(c);
    }
    return head;
}

PRIM(p_append)
{
    if (argc == 0) return LV_NIL;
    value r = a[argc - 1];
    for (int i = argc - 2; i >= 0; i--) r = append2(a[i], r);
    return r;
}

PRIM(p_reverse)
{
    UNUSED_ARGC;
    value r = LV_NIL;
    for (value l = list_arg("reverse", a[0]); PAIRP(l); l = CDR(l)) r = lv_cons(CAR(l), r);
    return r;
}

static value list_tail(const char *who, value l, value k)
{
    if (!FIXP(k) || UNFIX(k) < 0) lv_type_error(who, "a non-negative index", k);
    for (intptr_t i = UNFIX(k); i > 0; i--) {
        if (!PAIRP(l)) lv_die(lv_nopos, "%s: index %ld out of range", who, (long)UNFIX(k));
        l = CDR(l);
    }
    return l;
}

PRIM(p_list_tail) { UNUSED_ARGC; return list_tail("list-tail", a[0], a[1]); }

PRIM(p_list_ref)
{
    UNUSED_ARGC;
    value l = list_tail("list-ref", a[0], a[1]);
    if (!PAIRP(l)) lv_die(lv_nopos, "list-ref: index %ld out of range", (long)UNFIX(a[1]));
    return CAR(l);
}

PRIM(p_list_copy) { UNUSED_ARGC; return PAIRP(a[0]) ? append2(a[0], LV_NIL) : a[0]; }

static value mem(const char *who, value x, value l, int kind)
{
    for (; PAIRP(l); l = CDR(l)) {
        value y = CAR(l);
        if (kind == 0 ? x == y : kind == 1 ? lv_eqv(x, y) : lv_equal(x, y)) return l;
    }
    if (l != LV_NIL) lv_type_error(who, "a list", l);
    return LV_FALSE;
}

static void proc_arg(const char *who, value f);

/* member / assoc with a third argument: the equality predicate. */
static int same(value pred, value x, value y)
{
    value args[2] = { x, y };
    return lv_call(pred, 2, args) != LV_FALSE;
}

PRIM(p_memq) { UNUSED_ARGC; return mem("memq", a[0], a[1], 0); }
PRIM(p_memv) { UNUSED_ARGC; return mem("memv", a[0], a[1], 1); }

PRIM(p_member)
{
    if (argc < 3) return mem("member", a[0], a[1], 2);
    proc_arg("member", a[2]);
    value l = a[1];
    for (; PAIRP(l); l = CDR(l))
        if (same(a[2], a[0], CAR(l))) return l;
    if (l != LV_NIL) lv_type_error("member", "a list", l);
    return LV_FALSE;
}

static value ass(const char *who, value x, value l, int kind)
{
    for (; PAIRP(l); l = CDR(l)) {
        value e = CAR(l);
        if (!PAIRP(e)) lv_type_error(who, "an association list (of pairs)", e);
        value y = CAR(e);
        if (kind == 0 ? x == y : kind == 1 ? lv_eqv(x, y) : lv_equal(x, y)) return e;
    }
    if (l != LV_NIL) lv_type_error(who, "a list", l);
    return LV_FALSE;
}

PRIM(p_assq) { UNUSED_ARGC; return ass("assq", a[0], a[1], 0); }
PRIM(p_assv) { UNUSED_ARGC; return ass("assv", a[0], a[1], 1); }
PRIM(p_assoc)
{
    if (argc < 3) return ass("assoc", a[0], a[1], 2);
    proc_arg("assoc", a[2]);
    value l = a[1];
    for (; PAIRP(l); l = CDR(l)) {
        if (!PAIRP(CAR(l))) lv_type_error("assoc", "an association list (of pairs)", CAR(l));
        if (same(a[2], a[0], CAR(CAR(l)))) return CAR(l);
    }
    if (l != LV_NIL) lv_type_error("assoc", "a list", l);
    return LV_FALSE;
}

PRIM(p_list_set)
{
    UNUSED_ARGC;
    value l = list_tail("list-set!", a[0], a[1]);
    if (!PAIRP(l)) lv_die(lv_nopos, "list-set!: index %ld out of range", (long)UNFIX(a[1]));
    mutable_arg("list-set!", l);
    CAR(l) = a[2];
    return LV_UNSPEC;
}

static void proc_arg(const char *who, value f)
{
    if (!PROCEDUREP(f)) lv_type_error(who, "a procedure", f);
}

/* map / for-each over one or more lists, stopping at the shortest. */
static value map_each(const char *who, int argc, value *a, int collect)
{
    proc_arg(who, a[0]);
    int n = argc - 1;
    value ls[n], args[n];
    for (int i = 0; i < n; i++) ls[i] = list_arg(who, a[i + 1]);
    value head = LV_NIL, *hole = &head;
    for (;;) {
        for (int i = 0; i < n; i++) {
            if (!PAIRP(ls[i])) return collect ? head : LV_UNSPEC;
            args[i] = CAR(ls[i]);
            ls[i] = CDR(ls[i]);
        }
        value r = lv_call(a[0], n, args);
        if (collect) {
            value c = lv_cons(r, LV_NIL);
            *hole = c;
            hole = &CDR(c);
        }
    }
}

PRIM(p_map) { return map_each("map", argc, a, 1); }
PRIM(p_for_each) { return map_each("for-each", argc, a, 0); }

/* (apply f a ... list): a tail call of f. */
PRIM(p_apply)
{
    proc_arg("apply", a[0]);
    value last = list_arg("apply", a[argc - 1]);
    long n = (argc - 2) + lv_list_length(last);
    value *args = n <= LV_TC_MAX ? lv_tc.buf : lv_gc_alloc((size_t)n * sizeof(value));
    int k = 0;
    for (int i = 1; i < argc - 1; i++) args[k++] = a[i];
    for (; PAIRP(last); last = CDR(last)) args[k++] = CAR(last);
    lv_tc.f = a[0];
    lv_tc.argc = (int)n;
    lv_tc.argv = args;
    return LV_TAIL;
}

PRIM(p_nullp) { UNUSED_ARGC; return BOOL(a[0] == LV_NIL); }
PRIM(p_pairp) { UNUSED_ARGC; return BOOL(PAIRP(a[0])); }
PRIM(p_listp) { UNUSED_ARGC; return BOOL(lv_list_length(a[0]) >= 0); }
PRIM(p_eqp) { UNUSED_ARGC; return BOOL(a[0] == a[1]); }
PRIM(p_eqvp) { UNUSED_ARGC; return BOOL(lv_eqv(a[0], a[1])); }
PRIM(p_equalp) { UNUSED_ARGC; return BOOL(lv_equal(a[0], a[1])); }
PRIM(p_not) { UNUSED_ARGC; return BOOL(a[0] == LV_FALSE); }
PRIM(p_booleanp) { UNUSED_ARGC; return BOOL(a[0] == LV_TRUE || a[0] == LV_FALSE); }

PRIM(p_boolean_eq)
{
    for (int i = 0; i < argc; i++)
        if (a[i] != LV_TRUE && a[i] != LV_FALSE) lv_type_error("boolean=?", "a boolean", a[i]);
    for (int i = 0; i + 1 < argc; i++)
        if (a[i] != a[i + 1]) return LV_FALSE;
    return LV_TRUE;
}
PRIM(p_symbolp) { UNUSED_ARGC; return BOOL(SYMP(a[0])); }
PRIM(p_procedurep) { UNUSED_ARGC; return BOOL(PROCEDUREP(a[0])); }
PRIM(p_vectorp) { UNUSED_ARGC; return BOOL(VECP(a[0])); }

/* -- Vectors ------------------------------------------------------------- */

static struct vec *vec_arg(const char *who, value v)
{
    if (!VECP(v)) lv_type_error(who, "a vector", v);
    return VEC(v);
}

static uint32_t index_arg(const char *who, value k, uint32_t len)
{
    if (!FIXP(k)) lv_type_error(who, "an integer index", k);
    if (UNFIX(k) < 0 || UNFIX(k) >= (intptr_t)len)
        lv_die(lv_nopos, "%s: index %ld out of range [0, %u)", who, (long)UNFIX(k), len);
    return (uint32_t)UNFIX(k);
}

PRIM(p_vector)
{
    value v = lv_vec((size_t)argc, LV_FALSE);
    memcpy(VEC(v)->v, a, (size_t)argc * sizeof(value));
    return v;
}

PRIM(p_make_vector)
{
    if (!FIXP(a[0]) || UNFIX(a[0]) < 0 || UNFIX(a[0]) > (1L << 31))
        lv_type_error("make-vector", "a non-negative length", a[0]);
    return lv_vec((size_t)UNFIX(a[0]), argc > 1 ? a[1] : LV_FALSE);
}

PRIM(p_vector_ref)
{
    UNUSED_ARGC;
    struct vec *v = vec_arg("vector-ref", a[0]);
    return v->v[index_arg("vector-ref", a[1], v->h.len)];
}

PRIM(p_vector_set)
{
    UNUSED_ARGC;
    struct vec *v = vec_arg("vector-set!", a[0]);
    uint32_t i = index_arg("vector-set!", a[1], v->h.len);
    if (v->h.flags & LV_CONST) lv_type_error("vector-set!", "a mutable vector, not a constant", a[0]);
    v->v[i] = a[2];
    return LV_UNSPEC;
}

PRIM(p_vector_length) { UNUSED_ARGC; return FIX(vec_arg("vector-length", a[0])->h.len); }

PRIM(p_vector_to_list)
{
    UNUSED_ARGC;
    struct vec *v = vec_arg("vector->list", a[0]);
    return lv_list_n((int)v->h.len, v->v);
}

PRIM(p_list_to_vector)
{
    UNUSED_ARGC;
    long n = lv_list_length(a[0]);
    if (n < 0) lv_type_error("list->vector", "a list", a[0]);
    value v = lv_vec((size_t)n, LV_FALSE), l = a[0];
    for (long i = 0; i < n; i++, l = CDR(l)) VEC(v)->v[i] = CAR(l);
    return v;
}

/* vector-map / vector-for-each over one or more vectors (shortest wins). */
static value vec_each(const char *who, int argc, value *a, int collect)
{
    proc_arg(who, a[0]);
    int n = argc - 1;
    uint32_t len = UINT32_MAX;
    for (int i = 0; i < n; i++) {
        struct vec *v = vec_arg(who, a[i + 1]);
        if (v->h.len < len) len = v->h.len;
    }
    value r = collect ? lv_vec(len, LV_FALSE) : LV_UNSPEC, args[n];
    for (uint32_t k = 0; k < len; k++) {
        for (int i = 0; i < n; i++) args[i] = VEC(a[i + 1])->v[k];
        value x = lv_call(a[0], n, args);
        if (collect) VEC(r)->v[k] = x;
    }
    return r;
}

PRIM(p_vector_map) { return vec_each("vector-map", argc, a, 1); }
PRIM(p_vector_for_each) { return vec_each("vector-for-each", argc, a, 0); }

PRIM(p_vector_fill)
{
    UNUSED_ARGC;
    struct vec *v = vec_arg("vector-fill!", a[0]);
    if (v->h.flags & LV_CONST) lv_type_error("vector-fill!", "a mutable vector, not a constant", a[0]);
    for (uint32_t i = 0; i < v->h.len; i++) v->v[i] = a[1];
    return LV_UNSPEC;
}

const struct lv_primdef lv_prims_list[] = {
    { "cons", p_cons, 2, 2 }, { "car", p_car, 1, 1 }, { "cdr", p_cdr, 1, 1 },
    { "caar", p_caar, 1, 1 }, { "cadr", p_cadr, 1, 1 }, { "cdar", p_cdar, 1, 1 },
    { "cddr", p_cddr, 1, 1 }, { "caddr", p_caddr, 1, 1 }, { "cdddr", p_cdddr, 1, 1 },
    { "cadddr", p_cadddr, 1, 1 },
    { "caaar", p_caaar, 1, 1 }, { "caadr", p_caadr, 1, 1 }, { "cadar", p_cadar, 1, 1 },
    { "cdaar", p_cdaar, 1, 1 }, { "cdadr", p_cdadr, 1, 1 }, { "cddar", p_cddar, 1, 1 },
    { "caaaar", p_caaaar, 1, 1 }, { "caaadr", p_caaadr, 1, 1 }, { "caadar", p_caadar, 1, 1 },
    { "caaddr", p_caaddr, 1, 1 }, { "cadaar", p_cadaar, 1, 1 }, { "cadadr", p_cadadr, 1, 1 },
    { "caddar", p_caddar, 1, 1 }, { "cdaaar", p_cdaaar, 1, 1 }, { "cdaadr", p_cdaadr, 1, 1 },
    { "cdadar", p_cdadar, 1, 1 }, { "cdaddr", p_cdaddr, 1, 1 }, { "cddaar", p_cddaar, 1, 1 },
    { "cddadr", p_cddadr, 1, 1 }, { "cdddar", p_cdddar, 1, 1 }, { "cddddr", p_cddddr, 1, 1 },
    { "set-car!", p_set_car, 2, 2 }, { "set-cdr!", p_set_cdr, 2, 2 },
    { "list", p_list, 0, -1 }, { "length", p_length, 1, 1 }, { "append", p_append, 0, -1 },
    { "reverse", p_reverse, 1, 1 }, { "list-tail", p_list_tail, 2, 2 },
    { "list-ref", p_list_ref, 2, 2 }, { "list-copy", p_list_copy, 1, 1 },
    { "memq", p_memq, 2, 2 }, { "memv", p_memv, 2, 2 }, { "member", p_member, 2, 3 },
    { "assq", p_assq, 2, 2 }, { "assv", p_assv, 2, 2 }, { "assoc", p_assoc, 2, 3 },
    { "list-set!", p_list_set, 3, 3 }, { "boolean=?", p_boolean_eq, 2, -1 },
    { "vector-map", p_vector_map, 2, -1 }, { "vector-for-each", p_vector_for_each, 2, -1 },
    { "map", p_map, 2, -1 }, { "for-each", p_for_each, 2, -1 }, { "apply", p_apply, 2, -1 },
    { "null?", p_nullp, 1, 1 }, { "pair?", p_pairp, 1, 1 }, { "list?", p_listp, 1, 1 },
    { "eq?", p_eqp, 2, 2 }, { "eqv?", p_eqvp, 2, 2 }, { "equal?", p_equalp, 2, 2 },
    { "not", p_not, 1, 1 }, { "boolean?", p_booleanp, 1, 1 }, { "symbol?", p_symbolp, 1, 1 },
    { "procedure?", p_procedurep, 1, 1 }, { "vector?", p_vectorp, 1, 1 },
    { "vector", p_vector, 0, -1 }, { "make-vector", p_make_vector, 1, 2 },
    { "vector-ref", p_vector_ref, 2, 2 }, { "vector-set!", p_vector_set, 3, 3 },
    { "vector-length", p_vector_length, 1, 1 }, { "vector->list", p_vector_to_list, 1, 1 },
    { "list->vector", p_list_to_vector, 1, 1 }, { "vector-fill!", p_vector_fill, 2, 2 },
    { NULL, NULL, 0, 0 },
};
