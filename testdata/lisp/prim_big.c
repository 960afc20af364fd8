/* prim_big.c -- exact integers beyond fixnums (GMP).
 *
 * An exact integer is a fixnum when it fits in 62 bits, else a bignum (a
 * GC object holding an mpz_t); every result goes through norm(), so a value
 * that fits is always a fixnum and eqv? on bignums can compare values.
 * prim_num.c calls these on the slow paths only: fixnum overflow, or an
 * operand that is a bignum; fixnum arithmetic is unchanged.
 *
 * Invariants:
 *  (1) GMP allocates its limbs from the GC heap (atomic blocks) and never
 *      frees them itself: a bignum is alive exactly as long as the GC sees
 *      it, and its limbs with it.
 *  (2) A bignum is never changed after it is made; quoted bignums are
 *      frozen (lv_big_freeze) with their limbs.
 */
#include "lisp.h"

#include <gc.h>
#include <gmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"

struct big { struct hdr h; mpz_t z; };
#define BIG(v) (((struct big *)(v))->z)

static void *gmp_alloc(size_t n) { return lv_gc_alloc_atomic(n); }
static void *gmp_realloc(void *p, size_t old, size_t n)
{
    void *q = lv_gc_alloc_atomic(n);
    memcpy(q, p, old < n ? old : n);
    return q;
}
static void gmp_free(void *p, size_t n) { (void)p; (void)n; }

void lv_big_init(void) { mp_set_memory_functions(gmp_alloc, gmp_realloc, gmp_free); }

/* z as a value: a fixnum when it fits. */
static value norm(const mpz_t z)
{
    if (mpz_fits_slong_p(z)) {
        long n = mpz_get_si(z);
        if (n >= FIX_MIN && n <= FIX_MAX) return FIX(n);
    }
    struct big *b = lv_gc_alloc(sizeof *b);
    b->h.type = T_BIG;
    b->h.flags = 0;
    b->h.len = 0;
    mpz_init_set(b->z, z);
    return (value)b;
}

/* An exact integer operand into the caller's z (initialized here). */
static void get(mpz_t z, value v)
{
    if (FIXP(v)) mpz_init_set_si(z, (long)UNFIX(v));
    else mpz_init_set(z, BIG(v));
}

value lv_big_from_si(intptr_t n)
{
    mpz_t z;
    mpz_init_set_si(z, (long)n);
    return norm(z);
}

value lv_big_arith(int op, value a, value b)
{
    mpz_t x, y, r;
    get(x, a);
    get(y, b);
    mpz_init(r);
    if (op == '+') mpz_add(r, x, y);
    else if (op == '-') mpz_sub(r, x, y);
    else mpz_mul(r, x, y);
    return norm(r);
}

int lv_big_cmp(value a, value b)
{
    mpz_t x, y;
    get(x, a);
    get(y, b);
    int c = mpz_cmp(x, y);
    return c < 0 ? -1 : c > 0;
}

/* Rounded to nearest (mpz_get_d truncates): through the decimal digits,
 * which strtod rounds correctly. */
double lv_big_to_double(value v)
{
    char *s = mpz_get_str(NULL, 10, BIG(v));
    return strtod(s, NULL);
}

/* quotient (op 0), remainder (1), modulo (2); b is not zero. */
value lv_big_div(value a, value b, int op)
{
    mpz_t x, y, r;
    get(x, a);
    get(y, b);
    mpz_init(r);
    if (op == 0) mpz_tdiv_q(r, x, y);
    else if (op == 1) mpz_tdiv_r(r, x, y);
    else mpz_fdiv_r(r, x, y);
    return norm(r);
}

/* a / b when exact, else LV_FALSE; b is not zero. */
value lv_big_exact_div(value a, value b)
{
    mpz_t x, y, r;
    get(x, a);
    get(y, b);
    if (!mpz_divisible_p(x, y)) return LV_FALSE;
    mpz_init(r);
    mpz_divexact(r, x, y);
    return norm(r);
}

value lv_big_expt(value base, unsigned long e)
{
    mpz_t x, r;
    get(x, base);
    mpz_init(r);
    mpz_pow_ui(r, x, e);
    return norm(r);
}

value lv_big_abs(value v)
{
    mpz_t x;
    get(x, v);
    mpz_abs(x, x);
    return norm(x);
}

value lv_big_gcd(value a, value b)
{
    mpz_t x, y;
    get(x, a);
    get(y, b);
    mpz_gcd(x, x, y);
    return norm(x);
}

int lv_big_odd(value v) { return mpz_odd_p(BIG(v)); }
int lv_big_sign(value v) { return mpz_sgn(BIG(v)); }

/* s and k - s*s for exact-integer-sqrt; *exact: k is a perfect square. */
value lv_big_sqrtrem(value k, value *rem)
{
    mpz_t x, s, r;
    get(x, k);
    mpz_init(s);
    mpz_init(r);
    mpz_sqrtrem(s, r, x);
    *rem = norm(r);
    return norm(s);
}

/* d (integral, finite) as an exact integer. */
value lv_big_from_double(double d)
{
    mpz_t z;
    mpz_init_set_d(z, d);
    return norm(z);
}

/* An integer literal in radix (optional sign, digits only), or LV_FALSE. */
value lv_big_from_string(const char *s, int radix)
{
    const char *d = s + (*s == '+' || *s == '-');
    if (!*d) return LV_FALSE;
    mpz_t z;
    if (mpz_init_set_str(z, *s == '+' ? s + 1 : s, radix) != 0) return LV_FALSE;
    return norm(z);
}

value lv_big_to_string(value v, int radix)
{
    char *s = mpz_get_str(NULL, radix, BIG(v));
    return lv_str(s, strlen(s));
}

void lv_big_print(FILE *f, value v) { mpz_out_str(f, 10, BIG(v)); }

int lv_big_eqv(value a, value b) { return mpz_cmp(BIG(a), BIG(b)) == 0; }

/* A quoted bignum, frozen with its limbs: raw words, so both are frozen
 * directly (lf_freeze), never staged (fz.c invariant 1). */
value lv_big_freeze(value v)
{
    size_t n = mpz_size(BIG(v));
    const mp_limb_t *limbs = lf_freeze(mpz_limbs_read(BIG(v)), n * sizeof(mp_limb_t));
    struct big b;
    memset(&b, 0, sizeof b);
    b.h = *HDR(v);
    b.z[0]._mp_alloc = (int)n;
    b.z[0]._mp_size = BIG(v)[0]._mp_size;
    b.z[0]._mp_d = (mp_limb_t *)limbs;
    value r = (value)lf_freeze(&b, sizeof b);
    if (!limbs || !r) lv_die(lv_nopos, "frozen arena exhausted");
    return r;
}
