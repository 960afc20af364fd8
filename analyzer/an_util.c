/* an_util.c -- the analyzer's small containers: arena, vector, string map,
 * hash, clock, error reporting, enum names.
 *
 * Invariants:
 *   1. an_alloc returns zeroed 16-byte aligned memory that lives until
 *      an_arena_free; allocation failure is reported as NULL, never abort.
 *   2. an_strmap is open addressing with a power-of-two capacity kept at most
 *      half full, so a lookup always finds an empty slot. */
#include "analyzer/an_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void an_assert_fail(const char *file, int line, const char *msg)
{
    fprintf(stderr, "lineiform: internal error at %s:%d: %s\n", file, line, msg);
    abort();
}

/* -- Arena --------------------------------------------------------------- */

struct an_arena_chunk { struct an_arena_chunk *next; size_t cap; _Alignas(16) unsigned char mem[]; };

void *an_alloc(struct an_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->used + n > a->cap) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        struct an_arena_chunk *c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = a->head;
        c->cap = cap;
        a->head = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->mem + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *an_strndup(struct an_arena *a, const char *s, size_t n)
{
    char *d = an_alloc(a, n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

char *an_strdup(struct an_arena *a, const char *s) { return an_strndup(a, s, strlen(s)); }

void an_arena_free(struct an_arena *a)
{
    for (struct an_arena_chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    a->head = NULL;
    a->used = a->cap = 0;
}

/* -- Vector -------------------------------------------------------------- */

void *an_vec_push(struct an_vec *v)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *d = realloc(v->data, cap * v->item);
        if (!d) return NULL;
        v->data = d;
        v->cap = cap;
    }
    void *p = (char *)v->data + v->n++ * v->item;
    memset(p, 0, v->item);
    return p;
}

void an_vec_free(struct an_vec *v)
{
    free(v->data);
    v->data = NULL;
    v->n = v->cap = 0;
}

/* -- String map ---------------------------------------------------------- */

static uint64_t an_strhash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int an_strmap_grow(struct an_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const char **k = calloc(cap, sizeof *k);
    void **v = calloc(cap, sizeof *v);
    if (!k || !v) { free(k); free(v); return -1; }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = an_strhash(m->keys[i]) & (cap - 1);
        while (k[j]) j = (j + 1) & (cap - 1);
        k[j] = m->keys[i];
        v[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = cap;
    return 0;
}

int an_strmap_put(struct an_strmap *m, const char *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap && an_strmap_grow(m) < 0) return -1;
    size_t j = an_strhash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) { m->vals[j] = val; return 0; }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return 0;
}

void *an_strmap_get(const struct an_strmap *m, const char *key)
{
    if (!m->cap) return NULL;
    size_t j = an_strhash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

void an_strmap_free(struct an_strmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* -- Hash, clock ----------------------------------------------------------- */

/* 64-bit multiply-xorshift over 8-byte words: fast enough to hash libc in
 * about a millisecond; a content fingerprint, not a cryptographic hash. */
uint64_t an_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (; i < len; i++) h = (h ^ p[i]) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

double an_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* -- Errors, names --------------------------------------------------------- */

enum lf_status an_fail(struct an_bin *b, enum lf_status s, const char *fmt, ...)
{
    if (b->err && b->errlen) {
        int n = snprintf(b->err, b->errlen, "%s: ", b->pub.path);
        if (n >= 0 && (size_t)n < b->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(b->err + n, b->errlen - n, fmt, ap);
            va_end(ap);
        }
    }
    return s;
}

const char *an_abi_class_name(enum an_abi_class c)
{
    static const char *const names[] = {
#define AN_ABI_NAME_(c) #c,
        AN_ABI_CLASSES(AN_ABI_NAME_)
#undef AN_ABI_NAME_
    };
    return (unsigned)c < AN_ABI__MAX ? names[c] : "?";
}

const char *an_param_class_str(const struct an_param *p, char *buf, size_t len)
{
    if (p->cls[1] == AN_ABI_NONE || p->cls[0] == AN_ABI_MEMORY)
        snprintf(buf, len, "%s", an_abi_class_name(p->cls[0]));
    else
        snprintf(buf, len, "%s+%s", an_abi_class_name(p->cls[0]), an_abi_class_name(p->cls[1]));
    return buf;
}

const char *an_edge_kind_name(enum an_edge_kind k)
{
    static const char *const names[] = { "fallthrough", "branch", "cond", "call", "indirect", "jumptable" };
    _Static_assert(sizeof names / sizeof names[0] == AN_EDGE__MAX, "ORDER AN_EDGE_KINDS");
    return (unsigned)k < AN_EDGE__MAX ? names[k] : "?";
}
