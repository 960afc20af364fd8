/* node.h -- the frozen closures a Lua chunk compiles to.
 *
 * Expressions are value code(node, frame); statements are int code(node,
 * frame) returning a status: ST_NORMAL, ST_BREAK or ST_RETURN (the values
 * are then in frame->ret, nres and rbuf).  Every struct starts with its code
 * pointer and nothing in it changes once frozen, so a lifter sees constants.
 */
#ifndef LUA_NODE_H
#define LUA_NODE_H

#include "lua.h"

typedef const struct node *nodep;
struct node { void *code; };
typedef value (*ecode)(nodep, struct frame *);
typedef int (*scode)(nodep, struct frame *);
#define EV(n, fr) (((ecode)(n)->code)((n), (fr)))
#define EX(n, fr) (((scode)(n)->code)((n), (fr)))

enum { ST_NORMAL = 0, ST_BREAK = 1, ST_RETURN = 2 };
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW, OP_IDIV, OP_BAND, OP_BOR, OP_BXOR,
       OP_SHL, OP_SHR, OP_CONCAT, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_AND, OP_OR,
       OP__N };

struct proto {
    int32_t nparams, vararg, nslots, nups, line, ncellp;
    nodep body;
    const char *name;
    const int32_t *cellp;           /* parameter slots held in cells */
    struct { int32_t instack, idx; } ups[];
};

struct n_k { void *code; value k; };
struct n_var { void *code; int32_t idx; };
struct n_global { void *code; const struct lstr *name; int32_t line; };
struct n_index { void *code; int32_t line; nodep o, k; const char *desc; };
struct n_bin { void *code; int32_t line, op; nodep a, b; const char *da, *db; };
struct n_un { void *code; int32_t line, op; nodep a; const char *desc; };
struct n_call {
    void *code;
    int32_t line, nargs, multi;     /* multi: the last argument expands */
    nodep fn;
    const char *desc;
    const struct proto *kp;         /* the proto the callee is expected to have */
    const struct lstr *name;        /* method calls: o:name(...) */
    nodep args[];
};
struct n_func { void *code; const struct proto *p; };
struct n_table { void *code; int32_t line, narr, nhash, multi; nodep items[]; };

struct s_expr { void *code; nodep e; };
struct s_local { void *code; int32_t nvars, nexps, slot0, multi; uint64_t cellmask; nodep exps[]; };
struct s_set { void *code; int32_t idx, line; nodep e, o, k; const struct lstr *name; };
struct target { int32_t kind, idx; nodep o, k; const struct lstr *name; };
struct s_mset { void *code; int32_t nt, ne, multi, line; const struct target *t; nodep exps[]; };
struct s_block { void *code; int32_t n; nodep s[]; };
struct s_if { void *code; int32_t n; nodep els; struct { nodep c, b; } arm[]; };
struct s_loop { void *code; nodep c, b; };
struct s_fornum { void *code; int32_t line, slot, cell; nodep a, b, c, body; };
struct s_forin { void *code; int32_t line, slot0, nvars, nexps, multi; uint64_t cellmask; nodep body; nodep exps[]; };
struct s_ret { void *code; int32_t n, multi; nodep exps[]; };

enum { TG_LOCAL, TG_LOCALC, TG_UPVAL, TG_GLOBAL, TG_INDEX };

/* expressions (expr.c) */
value nc_k(nodep, struct frame *);
value nc_local(nodep, struct frame *);
value nc_localc(nodep, struct frame *);
value nc_upval(nodep, struct frame *);
value nc_global(nodep, struct frame *);
value nc_index(nodep, struct frame *);
value nc_vararg(nodep, struct frame *);
value nc_func(nodep, struct frame *);
value nc_table(nodep, struct frame *);
value nc_and(nodep, struct frame *);
value nc_or(nodep, struct frame *);
value nc_not(nodep, struct frame *);
value nc_neg(nodep, struct frame *);
value nc_len(nodep, struct frame *);
value nc_bnot(nodep, struct frame *);
extern const ecode bin_code[OP__N];

/* calls (call.c) */
value nc_call(nodep, struct frame *);
value nc_callk(nodep, struct frame *);
value nc_method(nodep, struct frame *);

/* statements (stmt.c) */
int sc_expr(nodep, struct frame *);
int sc_local(nodep, struct frame *);
int sc_setlocal(nodep, struct frame *);
int sc_setlocalc(nodep, struct frame *);
int sc_setup(nodep, struct frame *);
int sc_setglobal(nodep, struct frame *);
int sc_setindex(nodep, struct frame *);
int sc_mset(nodep, struct frame *);
int sc_block(nodep, struct frame *);
int sc_if(nodep, struct frame *);
int sc_while(nodep, struct frame *);
int sc_repeat(nodep, struct frame *);
int sc_fornum(nodep, struct frame *);
int sc_forin(nodep, struct frame *);
int sc_ret0(nodep, struct frame *);
int sc_ret1(nodep, struct frame *);
int sc_retm(nodep, struct frame *);
int sc_ret(nodep, struct frame *);
int sc_break(nodep, struct frame *);
int sc_localfunc(nodep, struct frame *);
int sc_localfuncc(nodep, struct frame *);
int sc_nop(nodep, struct frame *);

/* Operand fetch: locals and constants read in place instead of calling
 * their node (a test on a frozen code pointer, folded by a lifter). */
static inline value opnd(nodep a, struct frame *fr)
{
    if (a->code == (void *)nc_local) return fr->s[((const struct n_var *)a)->idx];
    if (a->code == (void *)nc_k) return ((const struct n_k *)a)->k;
    return EV(a, fr);
}

/* Evaluate exps[0..n) into out with the last one expanded when multi;
 * returns the count (out must have room for n + RBUF_MAX when multi). */
int eval_list(nodep const *exps, int n, int multi, struct frame *fr, value *out);
/* Evaluate exps into exactly want values at out (nil-padded). */
void eval_adjust(nodep const *exps, int n, int multi, struct frame *fr, value *out, int want);
struct lclosure *make_closure(const struct proto *p, struct frame *fr);
struct cell *newcell(value v);

#endif
