/* arena.h -- a bump allocator for the allocation-heavy C benchmarks.
 * The Scheme programs allocate freely and leave reclamation to the garbage
 * collector; the C versions allocate from an arena that each repetition
 * resets, which is what a C programmer would write.  Header-only so that
 * every benchmark stays one program built from one .c file. */
#ifndef BENCH_ARENA_H
#define BENCH_ARENA_H

#include <stdio.h>
#include <stdlib.h>

struct arena {
    char *base;
    size_t used, size;
};

static inline void arena_init(struct arena *a, size_t size)
{
    a->base = malloc(size);
    a->used = 0;
    a->size = size;
    if (!a->base) {
        fprintf(stderr, "arena: out of memory\n");
        exit(1);
    }
}

static inline void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (a->size - a->used < n) {
        fprintf(stderr, "arena: exhausted (%zu bytes)\n", a->size);
        exit(1);
    }
    void *p = a->base + a->used;
    a->used += n;
    return p;
}

static inline void arena_reset(struct arena *a) { a->used = 0; }

#endif
