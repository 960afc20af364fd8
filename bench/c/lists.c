/* lists: build, map, reverse, filter and append linked lists, repeated.
 * Same algorithm and size as testdata/lisp/bench/lists.scm: pairs come from
 * an arena that each repetition resets; map takes a function pointer. */
#include <stdio.h>
#include "arena.h"

static volatile long size_n = 1000, repeats = 2000;

struct pair {
    long car;
    struct pair *cdr;
};

static struct arena heap;

static struct pair *cons(long a, struct pair *d)
{
    struct pair *p = arena_alloc(&heap, sizeof *p);
    p->car = a;
    p->cdr = d;
    return p;
}

static struct pair *make_range(long n)
{
    struct pair *acc = NULL;
    for (long i = n - 1; i >= 0; i--)
        acc = cons(i, acc);
    return acc;
}

static struct pair *map(long (*f)(long), struct pair *l)
{
    if (!l)
        return NULL;
    long v = f(l->car);
    return cons(v, map(f, l->cdr));
}

static struct pair *reverse(struct pair *l)
{
    struct pair *acc = NULL;
    for (; l; l = l->cdr)
        acc = cons(l->car, acc);
    return acc;
}

static struct pair *append(struct pair *a, struct pair *b)
{
    if (!a)
        return b;
    return cons(a->car, append(a->cdr, b));
}

static long length(const struct pair *l)
{
    long n = 0;
    for (; l; l = l->cdr)
        n++;
    return n;
}

static struct pair *keep_odd(struct pair *l)
{
    if (!l)
        return NULL;
    if (l->car % 2 != 0)
        return cons(l->car, keep_odd(l->cdr));
    return keep_odd(l->cdr);
}

static long sum_list(const struct pair *l)
{
    long s = 0;
    for (; l; l = l->cdr)
        s += l->car;
    return s;
}

static long times3(long x) { return x * 3; }

static long list_round(long n)
{
    struct pair *a = make_range(n);
    struct pair *b = map(times3, a);
    struct pair *c = reverse(b);
    struct pair *d = keep_odd(c);
    struct pair *e = append(d, a);
    return length(e) + sum_list(e) % 1000;
}

int main(void)
{
    arena_init(&heap, (size_t)size_n * 8 * sizeof(struct pair));
    long acc = 0;
    for (long k = repeats; k != 0; k--) {
        acc += list_round(size_n);
        arena_reset(&heap);
    }
    printf("%ld\n", acc);
    return 0;
}
