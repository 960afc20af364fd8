/* node_prim.c -- builtins called by name, inlined into their call node.
 *
 * A call of a builtin the program never redefines compiles to an n_prim
 * node.  For the hot ones with a fixed argument count there is a code
 * pointer here with the fast case written out (fixnum arithmetic with
 * overflow checks, car/cdr of a pair, vector-ref in range); anything else
 * goes to the builtin's own C function, which reports errors (with the
 * call's position).  The table below is the one list of those code
 * pointers: name, argument count, code.
 */
#include "node.h"

#include <string.h>

#include "lineiform.h"

#define N(type) const struct type *self = (const struct type *)n_
#define A0 EVAL(self->a[0], fr)
#define A1 EVAL(self->a[1], fr)

/* The general case, with the call position for messages. */
static value slow(const struct n_prim *self, int argc, value *args)
{
    lv_cur_pos = self->pos;
    value r = self->p->fn(argc, args);
    lv_cur_pos = lv_nopos;
    return r;
}

static value slow1(const struct n_prim *self, value x)
{
    value a[1] = { x };
    return slow(self, 1, a);
}

static value slow2(const struct n_prim *self, value x, value y)
{
    value a[2] = { x, y };
    return slow(self, 2, a);
}

#define BOTH_FIX(x, y) ((x) & (y) & 1)

static value k_add(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    intptr_t r;
    if (BOTH_FIX(x, y) && !__builtin_add_overflow((intptr_t)x, (intptr_t)y - 1, &r)) return (value)r;
    return slow2(self, x, y);
}

static value k_sub(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    intptr_t r;
    if (BOTH_FIX(x, y) && !__builtin_sub_overflow((intptr_t)x, (intptr_t)y - 1, &r)) return (value)r;
    return slow2(self, x, y);
}

static value k_mul(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    intptr_t r;
    if (BOTH_FIX(x, y) && !__builtin_mul_overflow(UNFIX(x), (intptr_t)y - 1, &r)) return (value)(r | 1);
    return slow2(self, x, y);
}

#define CMP(name, op)                                                        \
    static value name(nodep n_, struct frame *fr)                          \
    {                                                                      \
        N(n_prim);                                                         \
        value x = A0, y = A1;                                              \
        if (BOTH_FIX(x, y)) return BOOL((intptr_t)x op (intptr_t)y);       \
        if (FLOP(x) && FLOP(y)) return BOOL(FLO(x) op FLO(y));             \
        return slow2(self, x, y);                                          \
    }
CMP(k_lt, <)
CMP(k_gt, >)
CMP(k_le, <=)
CMP(k_ge, >=)
CMP(k_numeq, ==)

static value k_remainder(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    if (BOTH_FIX(x, y) && UNFIX(y) > 0) return FIX(UNFIX(x) % UNFIX(y));
    return slow2(self, x, y);
}

static value k_quotient(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    if (BOTH_FIX(x, y) && UNFIX(y) > 0) return FIX(UNFIX(x) / UNFIX(y));
    return slow2(self, x, y);
}

static value k_zerop(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0;
    if (FIXP(x)) return BOOL(x == FIX(0));
    return slow1(self, x);
}

static value k_car(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0;
    if (PAIRP(x)) return CAR(x);
    return slow1(self, x);
}

static value k_cdr(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0;
    if (PAIRP(x)) return CDR(x);
    return slow1(self, x);
}

static value k_cadr(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0;
    if (PAIRP(x) && PAIRP(CDR(x))) return CAR(CDR(x));
    return slow1(self, x);
}

static value k_cons(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    return lv_cons(x, y);
}

static value k_nullp(nodep n_, struct frame *fr) { N(n_prim); return BOOL(A0 == LV_NIL); }
static value k_pairp(nodep n_, struct frame *fr) { N(n_prim); return BOOL(PAIRP(A0)); }
static value k_not(nodep n_, struct frame *fr) { N(n_prim); return BOOL(A0 == LV_FALSE); }

static value k_eqp(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    return BOOL(x == y);
}

static value k_vector_ref(nodep n_, struct frame *fr)
{
    N(n_prim);
    value v = A0, k = A1;
    if (VECP(v) && FIXP(k) && (uintptr_t)UNFIX(k) < HDR(v)->len) return VEC(v)->v[UNFIX(k)];
    return slow2(self, v, k);
}

static value k_vector_set(nodep n_, struct frame *fr)
{
    N(n_prim);
    value v = A0, k = A1, x = EVAL(self->a[2], fr);
    /* Frozen (quoted) vectors are refused by the slow path. */
    if (VECP(v) && FIXP(k) && (uintptr_t)UNFIX(k) < HDR(v)->len && !lf_is_frozen((void *)v)) {
        VEC(v)->v[UNFIX(k)] = x;
        return LV_UNSPEC;
    }
    value a[3] = { v, k, x };
    return slow(self, 3, a);
}

static value k_vector_length(nodep n_, struct frame *fr)
{
    N(n_prim);
    value v = A0;
    if (VECP(v)) return FIX(HDR(v)->len);
    return slow1(self, v);
}

static value k_string_ref(nodep n_, struct frame *fr)
{
    N(n_prim);
    value s = A0, k = A1;
    if (STRP(s) && FIXP(k) && (uintptr_t)UNFIX(k) < HDR(s)->len)
        return CHR((unsigned char)STR(s)->s[UNFIX(k)]);
    return slow2(self, s, k);
}

static value k_string_length(nodep n_, struct frame *fr)
{
    N(n_prim);
    value s = A0;
    if (STRP(s)) return FIX(HDR(s)->len);
    return slow1(self, s);
}

static value k_char_eq(nodep n_, struct frame *fr)
{
    N(n_prim);
    value x = A0, y = A1;
    if (CHARP(x) && CHARP(y)) return BOOL(x == y);
    return slow2(self, x, y);
}

static const struct { const char *name; int argc; lv_code code; } fast[] = {
    { "+", 2, k_add }, { "-", 2, k_sub }, { "*", 2, k_mul },
    { "<", 2, k_lt }, { ">", 2, k_gt }, { "<=", 2, k_le }, { ">=", 2, k_ge }, { "=", 2, k_numeq },
    { "remainder", 2, k_remainder }, { "quotient", 2, k_quotient }, { "zero?", 1, k_zerop },
    { "car", 1, k_car }, { "cdr", 1, k_cdr }, { "cadr", 1, k_cadr }, { "cons", 2, k_cons },
    { "null?", 1, k_nullp }, { "pair?", 1, k_pairp }, { "not", 1, k_not }, { "eq?", 2, k_eqp },
    { "vector-ref", 2, k_vector_ref }, { "vector-set!", 3, k_vector_set },
    { "vector-length", 1, k_vector_length }, { "string-ref", 2, k_string_ref },
    { "string-length", 1, k_string_length }, { "char=?", 2, k_char_eq },
};

lv_code nc_prim_code(const struct prim *p, int argc, nodep const *args)
{
    (void)args;
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
        if (fast[i].argc == argc && strcmp(fast[i].name, p->name) == 0) return fast[i].code;
    return nc_prim;
}
