/* lua.h -- values, objects and shared declarations of the closure-compiling
 * Lua 5.4 subset (build/bin/lua).
 *
 * Value representation (64-bit words, "NaN-boxing" with the double offset
 * trick, so a heap pointer is stored as a plain pointer that a conservative
 * collector recognizes):
 *
 *   0                         nil   (so zeroed memory reads as nil)
 *   1, 2                      false, true
 *   [4096, 2^48)              pointer to a heap object (struct lhdr first)
 *   [2^49, 0xFFFC<<48)        a double: its bits + 2^49 (NaNs canonical)
 *   [0xFFFC<<48, 2^64)        an integer in [-2^49, 2^49) in the low 50 bits
 *   integers outside that range are boxed (T_BIGINT object)
 *
 * Invariants:
 *  (1) Every value that is a number has exactly one representation: an
 *      integer that fits in 50 bits is never boxed, so integer equality of
 *      unboxed integers is word equality.
 *  (2) Objects created before the snapshot point (program constants, the
 *      global table, library functions) live in the persistent arena
 *      (lf_alloc), so an image finds them at the same addresses; objects
 *      made while running come from the Boehm GC heap.
 *  (3) Everything the program needs at run time that is not reachable from
 *      the frozen nodes hangs off lroots (in the persistent arena).
 */
#ifndef LUA_LUA_H
#define LUA_LUA_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t value;

#define NIL   ((value)0)
#define VFALSE ((value)1)
#define VTRUE  ((value)2)
#define DOFF  ((uint64_t)1 << 49)
#define ITAG  ((uint64_t)0xFFFC << 48)
#define IMIN  (-((int64_t)1 << 49))
#define IMAX  (((int64_t)1 << 49) - 1)

#define TRUTHY(v) ((v) > VFALSE)
#define ISSINT(v) ((v) >= ITAG)
#define ISDBL(v) ((v) >= DOFF && (v) < ITAG)
#define ISOBJ(v) ((v) >= 4096 && (v) < ((uint64_t)1 << 48))
#define OBJ(v) ((struct lhdr *)(uintptr_t)(v))
#define BOOLV(b) ((b) ? VTRUE : VFALSE)

enum ltype { T_STR = 1, T_TABLE, T_LFUNC, T_CFUNC, T_BIGINT };

struct lhdr { uint8_t type; };

struct lstr { uint8_t type; uint32_t len; uint32_t hash; char s[]; };
struct bigint { uint8_t type; int64_t i; };

struct hnode { value k, v; };
struct table {
    uint8_t type;
    struct table *meta;
    value *arr;                 /* keys 1..n at arr[0..n) */
    uint32_t n, acap;
    struct hnode *h;            /* open addressing, linear probing */
    uint32_t hmask, hused;      /* hused counts live + dead keys */
};

struct cell { value v; };
struct proto;
struct lclosure { uint8_t type; const struct proto *p; struct cell *up[]; };

typedef value (*cfn)(value *args, int n);
struct cfunc { uint8_t type; cfn fn; const char *name; };

static inline int isobj(value v, int t) { return ISOBJ(v) && OBJ(v)->type == t; }
#define ISSTR(v) isobj(v, T_STR)
#define ISTAB(v) isobj(v, T_TABLE)
#define STR(v) ((struct lstr *)(uintptr_t)(v))
#define TAB(v) ((struct table *)(uintptr_t)(v))

static inline value dbl(double d)
{
    uint64_t b;
    if (d != d) d = __builtin_nan("");
    memcpy(&b, &d, 8);
    return b + DOFF;
}
static inline double dblv(value v)
{
    double d;
    uint64_t b = v - DOFF;
    memcpy(&d, &b, 8);
    return d;
}
value box_int(int64_t i);
static inline value intv(int64_t i)
{
    if (__builtin_expect(i >= IMIN && i <= IMAX, 1)) return ((uint64_t)i & (((uint64_t)1 << 50) - 1)) | ITAG;
    return box_int(i);
}
static inline int64_t sint(value v) { return (int64_t)(v << 14) >> 14; }
static inline int isint(value v) { return ISSINT(v) || isobj(v, T_BIGINT); }
static inline int64_t ival(value v)
{
    return ISSINT(v) ? sint(v) : ((struct bigint *)(uintptr_t)v)->i;
}
static inline int isnum(value v) { return ISDBL(v) || isint(v); }
static inline double numv(value v) { return ISDBL(v) ? dblv(v) : (double)ival(v); }

/* -- Frames and the calling convention ------------------------------------
 * A Lua function runs its body with a frame on the C stack: s[0..nparams)
 * its parameters, then its other locals; a captured local's slot holds a
 * struct cell * instead of the value.  A call returns its first result;
 * nres is how many there were and rbuf[1..nres) holds the others. */
struct frame {
    const struct lclosure *cl;
    value *va;
    int32_t nva;
    value ret;
    value s[];
};

#define RBUF_MAX (1 << 16)
extern value rbuf[RBUF_MAX];
extern int nres;

struct lroots {
    struct table *G;
    struct table *strlib;       /* the string library: strings' __index */
    struct table *strmeta;      /* strings' metatable */
    const char *file;
    struct lstr *mm[17];        /* metamethod names, enum mm order */
    value next_fn, ipairs_aux;  /* recognized by generic for */
};
extern struct lroots *R;

enum mm { MM_INDEX, MM_NEWINDEX, MM_CALL, MM_ADD, MM_SUB, MM_MUL, MM_DIV, MM_MOD, MM_POW,
          MM_UNM, MM_IDIV, MM_EQ, MM_LT, MM_LE, MM_LEN, MM_CONCAT, MM_TOSTRING, MM__N };

/* obj.c */
extern int running;             /* 0 while compiling: allocations persist */
void gc_init(void);
void *lalloc(size_t n);         /* scanned */
void *lalloc_atomic(size_t n);
value mkstr(const char *s, size_t len);
value mkcstr(const char *s);
struct table *newtable(uint32_t na, uint32_t nh);
value tget(const struct table *t, value k);
value tgetstr(const struct table *t, const struct lstr *k);
value tgetint(const struct table *t, int64_t k);
void tset(struct table *t, value k, value v, int line);
void tsetint(struct table *t, int64_t k, value v);
int tnext(const struct table *t, value *k, value *v, int line);
int64_t tlen(const struct table *t);
value cfunc_new(cfn f, const char *name);
int str_eq(const struct lstr *a, const struct lstr *b);
uint32_t str_hash(const char *s, size_t len);
const char *typename_of(value v);
value tostr(value v);           /* tostring without metamethods */
int tonum(value v, value *out); /* string -> number conversion */
int raw_eq(value a, value b);
void fmt_num(value v, char *buf, size_t len);
const struct lstr *fmt_double(double d, char *buf, size_t len);

extern char *stack_limit;

/* err.c: pcall pushes a handler; an error longjmps to the innermost. */
#include <setjmp.h>
struct handler { jmp_buf jb; struct handler *prev; value err; };
extern struct handler *handler;
extern int cur_line;            /* line of the latest call into C, 0 from C */
extern const struct cfunc *cur_cf; /* the library function running */
_Noreturn void lerror(int line, const char *fmt, ...);
_Noreturn void lthrow(value v);
_Noreturn void lexit(int status);
_Noreturn void lstack_error(int line);
static inline void lstack_check(int line)
{
    char here;
    if (__builtin_expect(&here < stack_limit, 0)) lstack_error(line);
}

/* run.c: operations with metamethods, calls */
value lcall(value f, value *args, int n, int line);
value call_lua(const struct lclosure *cl, value *args, int n);
value arith(int op, value a, value b, int line, const char *da, const char *db);
int less_than(value a, value b, int line);
int less_equal(value a, value b, int line);
int equal(value a, value b);
value lindex(value o, value k, int line, const char *desc);
_Noreturn void call_error(value f, int line, const char *desc);
_Noreturn void arith_error(int op, value a, value b, int line, const char *da, const char *db);
void lsetindex(value o, value k, value v, int line, const char *desc);
value llen(value v, int line);
value lconcat(value a, value b, int line, const char *da, const char *db);
int64_t toint_or_error(value v, int line, const char *what);
value getmm(value o, enum mm e);
value ltostring(value v);

/* lib*.c */
void lib_init(void);

/* compile.c */
const void *compile_chunk(const char *src, size_t len);

#endif
