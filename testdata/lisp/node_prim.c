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

/* Operand fetch: any node (E), a local of the current frame (L), a
 * constant (K).  Reading L and K through the operand node saves an
 * indirect call per operand. */
#define GET_E(i) EVAL(self->a[i], fr)
#define GET_L(i) (fr->s[((const struct n_local *)self->a[i])->idx])
#define GET_K(i) (((const struct n_const *)self->a[i])->k)

#define DEF1(name, F, BODY)                                                  \
    static value name##_##F(nodep n_, struct frame *fr)                     \
    {                                                                        \
        N(n_prim);                                                           \
        value x = GET_##F(0);                                                \
        BODY                                                                 \
    }
#define DEF2(name, F, G, BODY)                                               \
    static value name##_##F##G(nodep n_, struct frame *fr)                  \
    {                                                                        \
        N(n_prim);                                                           \
        (void)fr;                                                            \
        value x = GET_##F(0), y = GET_##G(1);                                \
        BODY                                                                 \
    }
#define UNARY(name, BODY) DEF1(name, E, BODY) DEF1(name, L, BODY)
#define BINARY(name, BODY)                                                   \
    DEF2(name, E, E, BODY) DEF2(name, E, L, BODY) DEF2(name, E, K, BODY)    \
    DEF2(name, L, E, BODY) DEF2(name, L, L, BODY) DEF2(name, L, K, BODY)    \
    DEF2(name, K, E, BODY) DEF2(name, K, L, BODY) DEF2(name, K, K, BODY)
#define V1(name) { name##_E, name##_L, name##_E }
#define V2(name)                                                             \
    { name##_EE, name##_EL, name##_EK, name##_LE, name##_LL, name##_LK,     \
      name##_KE, name##_KL, name##_KK }

BINARY(k_add, {
    intptr_t r;
    if (BOTH_FIX(x, y) && !__builtin_add_overflow((intptr_t)x, (intptr_t)y - 1, &r)) return (value)r;
    if (FLOP(x) && FLOP(y)) return lv_flo(FLO(x) + FLO(y));
    return slow2(self, x, y);
})

BINARY(k_sub, {
    intptr_t r;
    if (BOTH_FIX(x, y) && !__builtin_sub_overflow((intptr_t)x, (intptr_t)y - 1, &r)) return (value)r;
    if (FLOP(x) && FLOP(y)) return lv_flo(FLO(x) - FLO(y));
    return slow2(self, x, y);
})

BINARY(k_mul, {
    intptr_t r;
    if (BOTH_FIX(x, y) && !__builtin_mul_overflow(UNFIX(x), (intptr_t)y - 1, &r)) return (value)(r | 1);
    if (FLOP(x) && FLOP(y)) return lv_flo(FLO(x) * FLO(y));
    return slow2(self, x, y);
})

#define CMP(name, op)                                                        \
    BINARY(name, {                                                           \
        if (BOTH_FIX(x, y)) return BOOL((intptr_t)x op (intptr_t)y);         \
        if (FLOP(x) && FLOP(y)) return BOOL(FLO(x) op FLO(y));               \
        return slow2(self, x, y);                                            \
    })
CMP(k_lt, <)
CMP(k_gt, >)
CMP(k_le, <=)
CMP(k_ge, >=)
CMP(k_numeq, ==)

BINARY(k_remainder, {
    if (BOTH_FIX(x, y) && (intptr_t)y > 1) return FIX(UNFIX(x) % UNFIX(y));
    return slow2(self, x, y);
})

BINARY(k_quotient, {
    if (BOTH_FIX(x, y) && (intptr_t)y > 1) return FIX(UNFIX(x) / UNFIX(y));
    return slow2(self, x, y);
})

BINARY(k_eqp, { (void)self; return BOOL(x == y); })
BINARY(k_cons, { (void)self; return lv_cons(x, y); })

BINARY(k_vector_ref, {
    if (VECP(x) && FIXP(y) && (uintptr_t)UNFIX(y) < HDR(x)->len) return VEC(x)->v[UNFIX(y)];
    return slow2(self, x, y);
})

BINARY(k_string_ref, {
    if (STRP(x) && FIXP(y) && (uintptr_t)UNFIX(y) < HDR(x)->len)
        return CHR((unsigned char)STR(x)->s[UNFIX(y)]);
    return slow2(self, x, y);
})

BINARY(k_char_eq, {
    if (CHARP(x) && CHARP(y)) return BOOL(x == y);
    return slow2(self, x, y);
})

UNARY(k_zerop, {
    if (FIXP(x)) return BOOL(x == FIX(0));
    return slow1(self, x);
})
UNARY(k_car, {
    if (PAIRP(x)) return CAR(x);
    return slow1(self, x);
})
UNARY(k_cdr, {
    if (PAIRP(x)) return CDR(x);
    return slow1(self, x);
})
UNARY(k_cadr, {
    if (PAIRP(x) && PAIRP(CDR(x))) return CAR(CDR(x));
    return slow1(self, x);
})
UNARY(k_nullp, { (void)self; return BOOL(x == LV_NIL); })
UNARY(k_pairp, { (void)self; return BOOL(PAIRP(x)); })
UNARY(k_not, { (void)self; return BOOL(x == LV_FALSE); })
UNARY(k_vector_length, {
    if (VECP(x)) return FIX(HDR(x)->len);
    return slow1(self, x);
})
UNARY(k_string_length, {
    if (STRP(x)) return FIX(HDR(x)->len);
    return slow1(self, x);
})

static value k_vector_set(nodep n_, struct frame *fr)
{
    N(n_prim);
    value v = lv_opnd(self->a[0], fr), k = lv_opnd(self->a[1], fr), x = lv_opnd(self->a[2], fr);
    /* Constant (quoted) vectors are refused by the slow path. */
    if (VECP(v) && FIXP(k) && (uintptr_t)UNFIX(k) < HDR(v)->len && !(HDR(v)->flags & LV_CONST)) {
        VEC(v)->v[UNFIX(k)] = x;
        return LV_UNSPEC;
    }
    value a[3] = { v, k, x };
    return slow(self, 3, a);
}

/* ORDER: E L K, first operand major. */
static const struct { const char *name; int argc; lv_code code[9]; } fast[] = {
    { "+", 2, V2(k_add) }, { "-", 2, V2(k_sub) }, { "*", 2, V2(k_mul) },
    { "<", 2, V2(k_lt) }, { ">", 2, V2(k_gt) }, { "<=", 2, V2(k_le) }, { ">=", 2, V2(k_ge) },
    { "=", 2, V2(k_numeq) }, { "remainder", 2, V2(k_remainder) },
    { "quotient", 2, V2(k_quotient) }, { "eq?", 2, V2(k_eqp) }, { "cons", 2, V2(k_cons) },
    { "vector-ref", 2, V2(k_vector_ref) }, { "string-ref", 2, V2(k_string_ref) },
    { "char=?", 2, V2(k_char_eq) },
    { "zero?", 1, V1(k_zerop) }, { "car", 1, V1(k_car) }, { "cdr", 1, V1(k_cdr) },
    { "cadr", 1, V1(k_cadr) }, { "null?", 1, V1(k_nullp) }, { "pair?", 1, V1(k_pairp) },
    { "not", 1, V1(k_not) }, { "vector-length", 1, V1(k_vector_length) },
    { "string-length", 1, V1(k_string_length) },
    { "vector-set!", 3, { k_vector_set } },
};

static int operand_kind(nodep a)
{
    if (a->code == nc_local0) return 1;
    if (a->code == nc_const) return 2;
    return 0;
}

lv_code nc_prim_code(const struct prim *p, int argc, nodep const *args)
{
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++) {
        if (fast[i].argc != argc || strcmp(fast[i].name, p->name) != 0) continue;
        if (argc == 1) return fast[i].code[operand_kind(args[0])];
        if (argc == 2) return fast[i].code[operand_kind(args[0]) * 3 + operand_kind(args[1])];
        return fast[i].code[0];
    }
    return nc_prim;
}
