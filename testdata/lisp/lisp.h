/* lisp.h -- the reference Scheme interpreter: values, objects, nodes.
 *
 * A program is read into Scheme data (read.c), translated to a small core
 * AST with every variable resolved (comp.c), analysed (which variables a
 * lambda captures, which named lets are loops), then emitted as a tree of
 * frozen closures (emit.c): every node is an object whose first word is its
 * code pointer, run as n->code(n, frame) (node.c, prim_*.c).
 *
 * Invariants:
 *  (1) Nodes, lambda descriptors, quoted constants and the procedure objects
 *      and cells of constant top-level procedures are built in the staging
 *      area (fz.c) and frozen in one piece before the snapshot; nothing
 *      frozen or persistent points into the GC heap at snapshot time.
 *  (2) Data built while running (pairs, closures, captured frames, strings,
 *      vectors, flonums) lives in the GC heap; the arenas are GC roots.
 *  (3) A frame that no closure can reach lives on the C stack of the call
 *      that made it; frames a closure captures are GC-allocated.
 *  (4) A node returns LV_TAIL after storing a pending call in lv_tc (a tail
 *      call), or the mark of a loop (LV_MARK(id), one per loop or lambda)
 *      after storing that loop's next arguments (a self tail call, also
 *      from inside an inner loop in tail position); only the loop or call
 *      that owns the mark or position consumes it.
 */
#ifndef LISP_H
#define LISP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uintptr_t value;

/* -- Tagging: low 3 bits ------------------------------------------------- */
/* xx1 fixnum (62-bit), 000 object with header, 010 immediate, 100 pair,
 * 110 character. */
#define FIXP(v)      ((v) & 1)
#define FIX(n)       ((value)(((uintptr_t)(intptr_t)(n) << 1) | 1))
#define UNFIX(v)     ((intptr_t)(v) >> 1)
#define FIX_MAX      ((intptr_t)(INTPTR_MAX >> 1))
#define FIX_MIN      ((intptr_t)(INTPTR_MIN >> 1))
#define IMM(k)       ((value)(((k) << 3) | 2))
#define LV_NIL       IMM(0)
#define LV_FALSE     IMM(1)
#define LV_TRUE      IMM(2)
#define LV_UNSPEC    IMM(3)
#define LV_EOF       IMM(4)
#define LV_UNBOUND   IMM(5)
#define LV_TAIL      IMM(6)
#define LV_SELF      IMM(7)       /* marks from LV_SELF up: one per loop */
#define LV_MARK(id)  IMM(7 + (value)(id))
#define BOOL(c)      ((c) ? LV_TRUE : LV_FALSE)
#define PAIRP(v)     (((v) & 7) == 4)
#define CHARP(v)     (((v) & 7) == 6)
#define CHR(c)       ((value)(((value)(uint32_t)(c) << 3) | 6))
#define UNCHR(v)     ((uint32_t)((v) >> 3))
#define OBJP(v)      ((((v) & 7) == 0) && (v) != 0)
#define CAR(v)       (((value *)((v) - 4))[0])
#define CDR(v)       (((value *)((v) - 4))[1])

enum lv_type {
    T_FLO = 1, T_STR, T_SYM, T_VEC, T_PROC, T_PRIM,
    T_PORT, T_VALUES, T_CONT, T_ERROBJ, T_RECORD, T_RTD, T_BVEC, T_PARAM
};

/* flags: LV_CONST for a frozen (quoted) vector or string. */
struct hdr { uint16_t type, flags; uint32_t len; };
#define LV_CONST 1
struct flo { struct hdr h; double d; };
struct str { struct hdr h; char s[]; };          /* len bytes + NUL */
struct sym { struct hdr h; struct sym *next; char name[]; };
struct vec { struct hdr h; value v[]; };

#define HDR(v)       ((struct hdr *)(v))
#define TYPEP(v, t)  (OBJP(v) && HDR(v)->type == (t))
#define FLOP(v)      TYPEP(v, T_FLO)
#define FLO(v)       (((struct flo *)(v))->d)
#define STRP(v)      TYPEP(v, T_STR)
#define STR(v)       ((struct str *)(v))
#define SYMP(v)      TYPEP(v, T_SYM)
#define SYM(v)       ((struct sym *)(v))
#define VECP(v)      TYPEP(v, T_VEC)
#define BVECP(v)     TYPEP(v, T_BVEC)   /* laid out as struct str */
#define VEC(v)       ((struct vec *)(v))

/* -- Frames and nodes ----------------------------------------------------- */

struct frame { struct frame *up; value s[]; };
struct node;
typedef value (*lv_code)(const struct node *self, struct frame *fr);
struct node { lv_code code; };
#define EVAL(n, fr)  ((n)->code((n), (fr)))

/* What a lambda expression compiles to (frozen). */
struct lambda {
    int32_t nreq, rest;      /* required parameters; 1 if a rest list */
    int32_t size;            /* frame slots (parameters + flattened locals) */
    int32_t heap;            /* frame must be GC-allocated (captured) */
    const struct node *body;
    const char *name;        /* for messages; "" when anonymous */
};

struct proc { struct hdr h; const struct lambda *lam; struct frame *env; };
typedef value (*lv_prim_fn)(int argc, value *argv);
struct prim { struct hdr h; lv_prim_fn fn; const char *name; int16_t min, max; };
#define PROCP(v)     TYPEP(v, T_PROC)
#define PRIMP(v)     TYPEP(v, T_PRIM)
#define CONTP(v)     TYPEP(v, T_CONT)
#define PROCEDUREP(v) (PROCP(v) || PRIMP(v) || CONTP(v) || TYPEP(v, T_PARAM))

/* Several values (values), h.len of them; one value is never wrapped. */
struct vals { struct hdr h; value v[]; };
/* An error object (error, and the interpreter's own errors when a handler
 * is installed): message string and list of irritants. */
struct errobj { struct hdr h; value msg, irritants; };
/* A record of a define-record-type type (h.len fields) and its type. */
struct rtd { struct hdr h; value name, fields; };
struct record { struct hdr h; value rtd; value f[]; };

/* A global variable: mutable ones in the persistent arena, constant
 * procedures' cells frozen. */
struct gcell { value val; struct sym *name; };

/* The pending tail call (LV_TAIL) or the next self-loop arguments. */
#define LV_TC_MAX 64
struct lv_tc { value f; int argc; value *argv; value buf[LV_TC_MAX]; };
extern struct lv_tc lv_tc;

/* Interpreter state that must survive into an image (persistent arena). */
struct lv_roots {
    struct sym **symtab;     /* interned symbols, LV_SYMTAB buckets */
    const char *file;        /* the script's name, for messages */
};
#define LV_SYMTAB 4096
extern struct lv_roots *lv_roots;

/* -- obj.c: allocation, symbols, printing, equality ---------------------- */
void lv_gc_init(void);
value lv_cons(value a, value d);
value lv_flo(double d);
value lv_str(const char *s, size_t n);
value lv_vec(size_t n, value fill);
value lv_intern(const char *name);
value lv_make_proc(const struct lambda *lam, struct frame *env);
struct frame *lv_heap_frame(size_t slots);
void *lv_gc_alloc(size_t n);
void *lv_gc_alloc_atomic(size_t n);
void lv_print(FILE *f, value v, int write);
void lv_flo_format(char *out, double d);          /* out: 64 bytes */
int lv_eqv(value a, value b);
int lv_equal(value a, value b);
const char *lv_type_name(value v);
long lv_list_length(value l);         /* -1 if not a proper list */
value lv_list_n(int n, const value *v);

/* -- prim_ctl.c: continuations, dynamic-wind, exceptions ----------------- */
/* Raise obj (the interpreter's errors come here as error objects when a
 * handler is installed); returns only for raise-continuable. */
value lv_raise(value obj, int continuable);
int lv_handlers_installed(void);
_Noreturn void lv_throw(value k, int argc, const value *argv);   /* call a continuation */
value lv_param_value(value p);        /* a parameter object's current value */
extern value lv_cur_in, lv_cur_out;   /* current ports; 0: stdin / stdout */
void lv_unwind_all(void);             /* run every pending dynamic-wind after */
value lv_make_error(const char *msg, value irritants);
value lv_values(int n, const value *v);   /* (values v...): v[0] when n == 1 */

/* -- prim_port.c: ports ------------------------------------------------------ */
FILE *lv_out_file(void);               /* the current output port's stream */

/* -- err.c: messages, exit ------------------------------------------------ */
struct lv_pos { int32_t line, col; };
_Noreturn void lv_die(struct lv_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
_Noreturn void lv_type_error(const char *who, const char *what, value got);
_Noreturn void lv_exit(int status);
extern char *lv_stack_limit;
_Noreturn void lv_stack_overflow(void);
#define LV_STACK_CHECK(p) \
    do { if (__builtin_expect((char *)(p) < lv_stack_limit, 0)) lv_stack_overflow(); } while (0)
/* Procedure calls in progress (not counting tail calls, which replace
 * their caller).  The depth limit, not the bytes of C stack, is what ends
 * a deep recursion, so the interpreter and an image (whose compiled frames
 * are smaller or larger than the interpreter's) stop at the same call:
 * LV_DEPTH_MAX calls deep at most, within the C stack main.c reserves for
 * them (LV_STACK_WANT / LV_DEPTH_MAX bytes a level). */
#define LV_DEPTH_MAX 4000000L
extern long lv_depth_left;            /* LV_DEPTH_MAX - calls in progress */
#define LV_DEPTH_ENTER() \
    do { if (__builtin_expect(--lv_depth_left < 0, 0)) lv_stack_overflow(); } while (0)
#define LV_DEPTH_LEAVE() (lv_depth_left++)
extern const struct lv_pos lv_nopos;
/* Where the builtin being run was called from, for its error messages
 * (set only on slow paths; line 0 when unknown). */
extern struct lv_pos lv_cur_pos;

/* -- node.c: calling -------------------------------------------------------- */
value lv_apply(value f, int argc, value *argv);   /* may return LV_TAIL */
value lv_call(value f, int argc, value *argv);    /* never returns LV_TAIL */
value lv_trampoline(void);

/* -- fz.c: staging area frozen in one piece --------------------------------- */
void *fz_alloc(size_t n);              /* zeroed, 16-aligned, writable */
void *fz_commit(void *p);              /* freeze everything; p's final address */
int fz_staged(const void *p);

/* -- prim_*.c ------------------------------------------------------------- */
struct lv_primdef { const char *name; lv_prim_fn fn; int16_t min, max; };
extern const struct lv_primdef lv_prims_num[], lv_prims_list[], lv_prims_str[],
    lv_prims_port[], lv_prims_ctl[], lv_prims_bvec[];
value lv_bvec(const void *bytes, size_t n);       /* zeroed when bytes is NULL */
value lv_num_add(value a, value b);
value lv_num_sub(value a, value b);
value lv_num_mul(value a, value b);
int lv_num_cmp(const char *who, value a, value b);   /* -1, 0, 1 */
double lv_to_double(const char *who, value v);
value lv_number_to_string(value v, int radix);
value lv_string_to_number(const char *s, int radix);
void lv_check_args(const struct prim *p, int argc);

#endif
