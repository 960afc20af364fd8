/* closures: higher-order functions and closures created in a loop.
 * Same algorithm and size as testdata/lisp/bench/closures.scm.  A closure
 * is a code pointer plus captured values, allocated from an arena that each
 * repetition resets; the counter's captured variable is a heap box, as a
 * set! variable is in Scheme. */
#include <stdio.h>
#include "arena.h"

static volatile long repeats = 600000;

struct closure;
typedef long (*code_fn)(struct closure *self, long x);
struct closure {
    code_fn code;
    long k, m;
    struct closure *f, *g;
    long *box;
};

static struct arena heap;

static struct closure *closure_new(code_fn code)
{
    struct closure *c = arena_alloc(&heap, sizeof *c);
    *c = (struct closure){ .code = code };
    return c;
}

static long call(struct closure *c, long x) { return c->code(c, x); }

static long adder_code(struct closure *s, long x) { return x + s->k; }
static long scaler_code(struct closure *s, long x) { return x * s->k % s->m; }
static long compose_code(struct closure *s, long x) { return call(s->f, call(s->g, x)); }
static long counter_code(struct closure *s, long x) { (void)x; return ++*s->box; }
static long uses_counter_code(struct closure *s, long x)
{
    call(s->f, 0);
    return x + call(s->f, 0);
}

static struct closure *make_adder(long k)
{
    struct closure *c = closure_new(adder_code);
    c->k = k;
    return c;
}

static struct closure *make_scaler(long k, long m)
{
    struct closure *c = closure_new(scaler_code);
    c->k = k;
    c->m = m;
    return c;
}

static struct closure *compose(struct closure *f, struct closure *g)
{
    struct closure *c = closure_new(compose_code);
    c->f = f;
    c->g = g;
    return c;
}

static struct closure *twice(struct closure *f) { return compose(f, f); }

static struct closure *make_counter(void)
{
    struct closure *c = closure_new(counter_code);
    c->box = arena_alloc(&heap, sizeof(long));
    *c->box = 0;
    return c;
}

enum { NFNS = 5 };

static long closure_round(long i)
{
    struct closure *count = make_counter();
    struct closure *uses = closure_new(uses_counter_code);
    uses->f = count;
    struct closure *fs[NFNS] = {
        make_adder(i), twice(make_adder(1)), make_scaler(7, 10007),
        compose(make_adder(3), make_adder(-3)), uses,
    };
    for (int j = 0; j < NFNS; j++)
        call(count, 0);
    long x = i;
    for (int j = 0; j < NFNS; j++)
        x = call(fs[j], x);
    return x + call(count, 0);
}

int main(void)
{
    arena_init(&heap, 64 * sizeof(struct closure));
    long acc = 0;
    for (long i = 0; i != repeats; i++) {
        acc = (acc + closure_round(i)) % 1000003;
        arena_reset(&heap);
    }
    printf("%ld\n", acc);
    return 0;
}
