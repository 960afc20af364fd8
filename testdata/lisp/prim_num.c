/* prim_num.c -- numbers: fixnums (62-bit, overflow is an error, never a
 * silent wrap) and flonums (boxed doubles).
 *
 * Exactness: an operation on fixnums gives a fixnum, except `/` whose
 * quotient is not an integer (no rationals: it gives a flonum); any flonum
 * operand makes the result a flonum.
 */
#include "lisp.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRIM(name) static value name(int argc, value *a)
#define UNUSED_ARGC (void)argc

static _Noreturn void overflow(const char *who)
{
    lv_die(lv_nopos, "%s: integer overflow (fixnums are 62-bit)", who);
}

static value fix_or_overflow(const char *who, intptr_t r)
{
    if (r > FIX_MAX || r < FIX_MIN) overflow(who);
    return FIX(r);
}

double lv_to_double(const char *who, value v)
{
    if (FIXP(v)) return (double)UNFIX(v);
    if (FLOP(v)) return FLO(v);
    lv_type_error(who, "a number", v);
}

static intptr_t to_fix(const char *who, value v)
{
    if (!FIXP(v)) lv_type_error(who, "an integer", v);
    return UNFIX(v);
}

value lv_num_add(value a, value b)
{
    intptr_t r;
    if (FIXP(a) && FIXP(b)) {
        if (__builtin_add_overflow((intptr_t)a, (intptr_t)b - 1, &r)) overflow("+");
        return (value)r;
    }
    return lv_flo(lv_to_double("+", a) + lv_to_double("+", b));
}

value lv_num_sub(value a, value b)
{
    intptr_t r;
    if (FIXP(a) && FIXP(b)) {
        if (__builtin_sub_overflow((intptr_t)a, (intptr_t)b - 1, &r)) overflow("-");
        return (value)r;
    }
    return lv_flo(lv_to_double("-", a) - lv_to_double("-", b));
}

value lv_num_mul(value a, value b)
{
    intptr_t r;
    if (FIXP(a) && FIXP(b)) {
        if (__builtin_mul_overflow(UNFIX(a), UNFIX(b), &r)) overflow("*");
        return fix_or_overflow("*", r);
    }
    return lv_flo(lv_to_double("*", a) * lv_to_double("*", b));
}

static value num_div(value a, value b)
{
    if (FIXP(a) && FIXP(b)) {
        intptr_t x = UNFIX(a), y = UNFIX(b);
        if (y == 0) lv_die(lv_nopos, "/: division by zero");
        if (x % y == 0) return fix_or_overflow("/", x / y);
        return lv_flo((double)x / (double)y);
    }
    return lv_flo(lv_to_double("/", a) / lv_to_double("/", b));
}

/* -1, 0, 1; 2 when unordered (a NaN). */
int lv_num_cmp(const char *who, value a, value b)
{
    if (FIXP(a) && FIXP(b)) return (intptr_t)a < (intptr_t)b ? -1 : a != b;
    double x = lv_to_double(who, a), y = lv_to_double(who, b);
    if (x < y) return -1;
    if (x > y) return 1;
    return x == y ? 0 : 2;
}

PRIM(p_add)
{
    value r = FIX(0);
    for (int i = 0; i < argc; i++) r = lv_num_add(r, a[i]);
    if (argc == 1) lv_to_double("+", a[0]);
    return r;
}

PRIM(p_mul)
{
    value r = FIX(1);
    for (int i = 0; i < argc; i++) r = lv_num_mul(r, a[i]);
    if (argc == 1) lv_to_double("*", a[0]);
    return r;
}

PRIM(p_sub)
{
    if (argc == 1) return FLOP(a[0]) ? lv_flo(-FLO(a[0])) : lv_num_sub(FIX(0), a[0]);
    value r = a[0];
    for (int i = 1; i < argc; i++) r = lv_num_sub(r, a[i]);
    return r;
}

PRIM(p_div)
{
    if (argc == 1) return num_div(FIX(1), a[0]);
    value r = a[0];
    for (int i = 1; i < argc; i++) r = num_div(r, a[i]);
    return r;
}

static value compare_chain(const char *who, int argc, value *a, int want_lt, int want_eq,
                           int want_gt)
{
    value ok = LV_TRUE;
    if (argc == 1) lv_to_double(who, a[0]);
    for (int i = 0; i + 1 < argc; i++) {
        int c = lv_num_cmp(who, a[i], a[i + 1]);
        if (!((c < 0 && want_lt) || (c == 0 && want_eq) || (c == 1 && want_gt))) ok = LV_FALSE;
    }
    return ok;
}

PRIM(p_num_eq) { return compare_chain("=", argc, a, 0, 1, 0); }
PRIM(p_lt) { return compare_chain("<", argc, a, 1, 0, 0); }
PRIM(p_gt) { return compare_chain(">", argc, a, 0, 0, 1); }
PRIM(p_le) { return compare_chain("<=", argc, a, 1, 1, 0); }
PRIM(p_ge) { return compare_chain(">=", argc, a, 0, 1, 1); }

/* Integer division family: fixnums, or flonums with integral values. */
static value int_div(const char *who, value x, value y, int op)
{
    if (FIXP(x) && FIXP(y)) {
        intptr_t p = UNFIX(x), q = UNFIX(y);
        if (q == 0) lv_die(lv_nopos, "%s: division by zero", who);
        if (q == -1) return op == 0 ? fix_or_overflow(who, -p) : FIX(0);
        intptr_t r = p % q;
        if (op == 0) return FIX(p / q);
        if (op == 2 && r != 0 && ((r < 0) != (q < 0))) r += q;
        return FIX(r);
    }
    double p = lv_to_double(who, x), q = lv_to_double(who, y);
    if (p != floor(p)) lv_type_error(who, "an integer", x);
    if (q != floor(q)) lv_type_error(who, "an integer", y);
    if (q == 0) lv_die(lv_nopos, "%s: division by zero", who);
    if (op == 0) return lv_flo(trunc(p / q));
    double r = fmod(p, q);
    if (op == 2 && r != 0 && ((r < 0) != (q < 0))) r += q;
    return lv_flo(r);
}

PRIM(p_quotient) { UNUSED_ARGC; return int_div("quotient", a[0], a[1], 0); }
PRIM(p_remainder) { UNUSED_ARGC; return int_div("remainder", a[0], a[1], 1); }
PRIM(p_modulo) { UNUSED_ARGC; return int_div("modulo", a[0], a[1], 2); }

PRIM(p_zerop) { UNUSED_ARGC; return BOOL(lv_num_cmp("zero?", a[0], FIX(0)) == 0); }
PRIM(p_positivep) { UNUSED_ARGC; return BOOL(lv_num_cmp("positive?", a[0], FIX(0)) == 1); }
PRIM(p_negativep) { UNUSED_ARGC; return BOOL(lv_num_cmp("negative?", a[0], FIX(0)) == -1); }

static int is_integer(value v)
{
    return FIXP(v) || (FLOP(v) && FLO(v) == floor(FLO(v)) && !isinf(FLO(v)));
}

PRIM(p_oddp)
{
    UNUSED_ARGC;
    if (!is_integer(a[0])) lv_type_error("odd?", "an integer", a[0]);
    if (FIXP(a[0])) return BOOL(UNFIX(a[0]) & 1);
    return BOOL(fmod(FLO(a[0]), 2) != 0);
}

PRIM(p_evenp)
{
    UNUSED_ARGC;
    if (!is_integer(a[0])) lv_type_error("even?", "an integer", a[0]);
    if (FIXP(a[0])) return BOOL(!(UNFIX(a[0]) & 1));
    return BOOL(fmod(FLO(a[0]), 2) == 0);
}

PRIM(p_abs)
{
    UNUSED_ARGC;
    if (FIXP(a[0])) return UNFIX(a[0]) < 0 ? fix_or_overflow("abs", -UNFIX(a[0])) : a[0];
    return lv_flo(fabs(lv_to_double("abs", a[0])));
}

static value min_max(const char *who, int argc, value *a, int want)
{
    value r = a[0];
    int inexact = FLOP(a[0]);
    lv_to_double(who, a[0]);
    for (int i = 1; i < argc; i++) {
        inexact |= FLOP(a[i]);
        if (lv_num_cmp(who, a[i], r) == want) r = a[i];
    }
    return inexact && FIXP(r) ? lv_flo((double)UNFIX(r)) : r;
}

PRIM(p_min) { return min_max("min", argc, a, -1); }
PRIM(p_max) { return min_max("max", argc, a, 1); }

PRIM(p_inexact) { UNUSED_ARGC; return FLOP(a[0]) ? a[0] : lv_flo(lv_to_double("inexact", a[0])); }

PRIM(p_exact)
{
    UNUSED_ARGC;
    if (FIXP(a[0])) return a[0];
    double d = lv_to_double("exact", a[0]);
    if (d != floor(d) || isinf(d) || fabs(d) > 4.6e18)
        lv_type_error("exact", "a number with an exact integer value", a[0]);
    return fix_or_overflow("exact", (intptr_t)d);
}

static value rounding(const char *who, value v, double (*f)(double))
{
    if (FIXP(v)) return v;
    return lv_flo(f(lv_to_double(who, v)));
}

PRIM(p_floor) { UNUSED_ARGC; return rounding("floor", a[0], floor); }
PRIM(p_ceiling) { UNUSED_ARGC; return rounding("ceiling", a[0], ceil); }
PRIM(p_round) { UNUSED_ARGC; return rounding("round", a[0], rint); }
PRIM(p_truncate) { UNUSED_ARGC; return rounding("truncate", a[0], trunc); }

PRIM(p_sqrt)
{
    UNUSED_ARGC;
    double d = lv_to_double("sqrt", a[0]);
    if (d < 0) lv_type_error("sqrt", "a non-negative number", a[0]);
    double r = sqrt(d);
    if (FIXP(a[0]) && r == floor(r) && (intptr_t)r * (intptr_t)r == UNFIX(a[0]))
        return FIX((intptr_t)r);
    return lv_flo(r);
}

PRIM(p_expt)
{
    UNUSED_ARGC;
    if (FIXP(a[0]) && FIXP(a[1]) && UNFIX(a[1]) >= 0) {
        intptr_t b = UNFIX(a[0]), e = UNFIX(a[1]), r = 1;
        while (e > 0) {
            if (e & 1 && __builtin_mul_overflow(r, b, &r)) overflow("expt");
            e >>= 1;
            if (e && __builtin_mul_overflow(b, b, &b)) overflow("expt");
        }
        return fix_or_overflow("expt", r);
    }
    return lv_flo(pow(lv_to_double("expt", a[0]), lv_to_double("expt", a[1])));
}

#define FLOFN(cname, sname, fn) \
    PRIM(cname) { UNUSED_ARGC; return lv_flo(fn(lv_to_double(sname, a[0]))); }
FLOFN(p_exp, "exp", exp)
FLOFN(p_sin, "sin", sin)
FLOFN(p_cos, "cos", cos)
FLOFN(p_tan, "tan", tan)
FLOFN(p_asin, "asin", asin)
FLOFN(p_acos, "acos", acos)

/* (exact-integer-sqrt k): s and k - s*s, s the largest with s*s <= k. */
PRIM(p_exact_integer_sqrt)
{
    UNUSED_ARGC;
    if (!FIXP(a[0]) || UNFIX(a[0]) < 0)
        lv_type_error("exact-integer-sqrt", "a non-negative exact integer", a[0]);
    intptr_t k = UNFIX(a[0]), s = (intptr_t)sqrt((double)k);
    while (s > 0 && s * s > k) s--;
    while ((s + 1) * (s + 1) <= k) s++;
    value v[2] = { FIX(s), FIX(k - s * s) };
    return lv_values(2, v);
}

/* floor/ and truncate/: quotient and remainder as two values. */
PRIM(p_floor_div)
{
    UNUSED_ARGC;
    value r = int_div("floor/", a[0], a[1], 2);
    value q = int_div("floor/", lv_num_sub(a[0], r), a[1], 0);
    value v[2] = { q, r };
    return lv_values(2, v);
}

PRIM(p_truncate_div)
{
    UNUSED_ARGC;
    value v[2] = { int_div("truncate/", a[0], a[1], 0), int_div("truncate/", a[0], a[1], 1) };
    return lv_values(2, v);
}

PRIM(p_floor_quotient)
{
    UNUSED_ARGC;
    value r = int_div("floor-quotient", a[0], a[1], 2);
    return int_div("floor-quotient", lv_num_sub(a[0], r), a[1], 0);
}

PRIM(p_log)
{
    UNUSED_ARGC;
    double d = lv_to_double("log", a[0]);
    if (d <= 0 && !(d == 0)) lv_type_error("log", "a positive number", a[0]);
    return lv_flo(log(d));
}

PRIM(p_atan)
{
    if (argc == 2) return lv_flo(atan2(lv_to_double("atan", a[0]), lv_to_double("atan", a[1])));
    return lv_flo(atan(lv_to_double("atan", a[0])));
}

PRIM(p_numberp) { UNUSED_ARGC; return BOOL(FIXP(a[0]) || FLOP(a[0])); }
PRIM(p_integerp) { UNUSED_ARGC; return BOOL(is_integer(a[0])); }
PRIM(p_exactp) { UNUSED_ARGC; lv_to_double("exact?", a[0]); return BOOL(FIXP(a[0])); }
PRIM(p_inexactp) { UNUSED_ARGC; lv_to_double("inexact?", a[0]); return BOOL(FLOP(a[0])); }
PRIM(p_exact_integerp) { UNUSED_ARGC; return BOOL(FIXP(a[0])); }

static intptr_t gcd2(intptr_t x, intptr_t y)
{
    if (x < 0) x = -x;
    if (y < 0) y = -y;
    while (y) { intptr_t t = x % y; x = y; y = t; }
    return x;
}

PRIM(p_gcd)
{
    intptr_t r = 0;
    for (int i = 0; i < argc; i++) r = gcd2(r, to_fix("gcd", a[i]));
    return FIX(r);
}

PRIM(p_lcm)
{
    intptr_t r = 1;
    for (int i = 0; i < argc; i++) {
        intptr_t x = to_fix("lcm", a[i]);
        if (x == 0) return FIX(0);
        intptr_t g = gcd2(r, x);
        if (__builtin_mul_overflow(r / g, x < 0 ? -x : x, &r)) overflow("lcm");
    }
    return fix_or_overflow("lcm", r);
}

PRIM(p_square) { UNUSED_ARGC; return lv_num_mul(a[0], a[0]); }

value lv_number_to_string(value v, int radix)
{
    char buf[80];
    if (FLOP(v)) {
        if (radix != 10) lv_die(lv_nopos, "number->string: flonums only in radix 10");
        lv_flo_format(buf, FLO(v));
        return lv_str(buf, strlen(buf));
    }
    intptr_t n = to_fix("number->string", v);
    uintptr_t u = n < 0 ? -(uintptr_t)n : (uintptr_t)n;
    char *p = buf + sizeof buf;
    *--p = 0;
    do { *--p = "0123456789abcdefghijklmnopqrstuvwxyz"[u % (unsigned)radix]; u /= (unsigned)radix; } while (u);
    if (n < 0) *--p = '-';
    return lv_str(p, strlen(p));
}

static int radix_arg(const char *who, int argc, value *a)
{
    if (argc < 2) return 10;
    intptr_t r = to_fix(who, a[1]);
    if (r != 2 && r != 8 && r != 10 && r != 16) lv_type_error(who, "a radix (2, 8, 10 or 16)", a[1]);
    return (int)r;
}

PRIM(p_number_to_string)
{
    return lv_number_to_string(a[0], radix_arg("number->string", argc, a));
}

/* A number, or #f when s is not one (also for an integer too large). */
value lv_string_to_number(const char *s, int radix)
{
    if (!strcmp(s, "+inf.0")) return lv_flo(INFINITY);
    if (!strcmp(s, "-inf.0")) return lv_flo(-INFINITY);
    if (!strcmp(s, "+nan.0") || !strcmp(s, "-nan.0")) return lv_flo(NAN);
    const char *d = s + (*s == '+' || *s == '-');
    if (!*d) return LV_FALSE;
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, radix);
    if (end != s && !*end && isalnum((unsigned char)*d)) {
        if (errno == ERANGE || n > FIX_MAX || n < FIX_MIN) return LV_FALSE;
        return FIX(n);
    }
    if (radix != 10) return LV_FALSE;
    int digits = 0;
    for (const char *p = d; *p; p++) {
        if (isdigit((unsigned char)*p)) digits++;
        else if (!strchr(".eE+-", *p)) return LV_FALSE;
    }
    if (!digits) return LV_FALSE;
    double x = strtod(s, &end);
    if (*end || end == s) return LV_FALSE;
    return lv_flo(x);
}

PRIM(p_string_to_number)
{
    if (!STRP(a[0])) lv_type_error("string->number", "a string", a[0]);
    return lv_string_to_number(STR(a[0])->s, radix_arg("string->number", argc, a));
}

const struct lv_primdef lv_prims_num[] = {
    { "+", p_add, 0, -1 }, { "-", p_sub, 1, -1 }, { "*", p_mul, 0, -1 }, { "/", p_div, 1, -1 },
    { "=", p_num_eq, 1, -1 }, { "<", p_lt, 1, -1 }, { ">", p_gt, 1, -1 },
    { "<=", p_le, 1, -1 }, { ">=", p_ge, 1, -1 },
    { "quotient", p_quotient, 2, 2 }, { "remainder", p_remainder, 2, 2 },
    { "modulo", p_modulo, 2, 2 }, { "zero?", p_zerop, 1, 1 },
    { "positive?", p_positivep, 1, 1 }, { "negative?", p_negativep, 1, 1 },
    { "odd?", p_oddp, 1, 1 }, { "even?", p_evenp, 1, 1 }, { "abs", p_abs, 1, 1 },
    { "min", p_min, 1, -1 }, { "max", p_max, 1, -1 },
    { "exact->inexact", p_inexact, 1, 1 }, { "inexact->exact", p_exact, 1, 1 },
    { "inexact", p_inexact, 1, 1 }, { "exact", p_exact, 1, 1 },
    { "floor", p_floor, 1, 1 }, { "ceiling", p_ceiling, 1, 1 }, { "round", p_round, 1, 1 },
    { "truncate", p_truncate, 1, 1 }, { "sqrt", p_sqrt, 1, 1 }, { "expt", p_expt, 2, 2 },
    { "exp", p_exp, 1, 1 }, { "log", p_log, 1, 1 }, { "sin", p_sin, 1, 1 },
    { "cos", p_cos, 1, 1 }, { "tan", p_tan, 1, 1 }, { "atan", p_atan, 1, 2 },
    { "asin", p_asin, 1, 1 }, { "acos", p_acos, 1, 1 },
    { "exact-integer-sqrt", p_exact_integer_sqrt, 1, 1 },
    { "floor/", p_floor_div, 2, 2 }, { "truncate/", p_truncate_div, 2, 2 },
    { "floor-quotient", p_floor_quotient, 2, 2 }, { "floor-remainder", p_modulo, 2, 2 },
    { "truncate-quotient", p_quotient, 2, 2 }, { "truncate-remainder", p_remainder, 2, 2 },
    { "number?", p_numberp, 1, 1 }, { "integer?", p_integerp, 1, 1 },
    { "real?", p_numberp, 1, 1 }, { "exact?", p_exactp, 1, 1 },
    { "inexact?", p_inexactp, 1, 1 }, { "exact-integer?", p_exact_integerp, 1, 1 },
    { "gcd", p_gcd, 0, -1 }, { "lcm", p_lcm, 0, -1 }, { "square", p_square, 1, 1 },
    { "number->string", p_number_to_string, 1, 2 },
    { "string->number", p_string_to_number, 1, 2 },
    { NULL, NULL, 0, 0 },
};
