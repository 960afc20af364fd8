/* strings: number->string, concatenation, substrings, string <-> character
 * list, character access and string equality in a loop.
 * Same algorithm and size as testdata/lisp/bench/strings.scm: strings are
 * (pointer, length) pairs allocated from an arena that each repetition
 * resets; the character list is a character array. */
#include <stdio.h>
#include <string.h>
#include "arena.h"

static volatile long repeats = 300000;

struct str {
    char *p;
    long len;
};

static struct arena heap;

static struct str str_new(long len)
{
    return (struct str){ arena_alloc(&heap, (size_t)len + 1), len };
}

static struct str number_to_string(long i)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld", i);
    struct str s = str_new(n);
    memcpy(s.p, buf, (size_t)n + 1);
    return s;
}

static struct str reverse_string(struct str s)
{
    char *chars = arena_alloc(&heap, (size_t)s.len);
    memcpy(chars, s.p, (size_t)s.len);
    struct str r = str_new(s.len);
    for (long i = 0; i < s.len; i++)
        r.p[i] = chars[s.len - 1 - i];
    r.p[s.len] = 0;
    return r;
}

static struct str append(int n, const struct str *parts)
{
    long len = 0;
    for (int i = 0; i < n; i++)
        len += parts[i].len;
    struct str s = str_new(len);
    char *w = s.p;
    for (int i = 0; i < n; i++) {
        memcpy(w, parts[i].p, (size_t)parts[i].len);
        w += parts[i].len;
    }
    *w = 0;
    return s;
}

static struct str substring(struct str s, long start, long end)
{
    struct str r = str_new(end - start);
    memcpy(r.p, s.p + start, (size_t)(end - start));
    r.p[r.len] = 0;
    return r;
}

static long count_char(char c, struct str s)
{
    long n = 0;
    for (long i = 0; i < s.len; i++)
        n += s.p[i] == c;
    return n;
}

static long string_round(long i)
{
    struct str colon = { ":", 1 };
    struct str a = number_to_string(i);
    struct str r = reverse_string(a);
    struct str b = append(5, (struct str[]){ a, colon, r, colon, a });
    struct str c = substring(b, 1, b.len);
    struct str d = append(2, (struct str[]){ c, c });
    int same = r.len == a.len && memcmp(r.p, a.p, (size_t)a.len) == 0;
    return count_char('7', d) + d.len + same;
}

int main(void)
{
    arena_init(&heap, 4096);
    long acc = 0;
    for (long i = 0; i != repeats; i++) {
        acc += string_round(i);
        arena_reset(&heap);
    }
    printf("%ld\n", acc);
    return 0;
}
