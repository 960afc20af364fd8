/* comp.h -- the core AST between the compiler (comp.c, syntax -> AST) and
 * the emitter (emit.c, AST -> frozen nodes).  Compile-time only (malloc'd,
 * never freed: a program is compiled once).
 *
 * Every derived form (let*, cond, case, do, when, unless, and, or,
 * quasiquote, internal define) is already expanded into these kinds; every
 * variable is resolved to a local struct var or a global struct gvar.
 */
#ifndef LISP_COMP_H
#define LISP_COMP_H

#include "lisp.h"

enum ast_kind {
    A_CONST, A_LREF, A_GREF, A_LSET, A_GSET, A_GDEF, A_IF, A_SEQ,
    A_LAMBDA, A_CALL, A_PRIM, A_LET, A_LETREC, A_LOOP
};

struct lam;
struct fdesc;

struct var {
    value name;
    struct lam *owner;        /* lambda (or loop) whose body binds it */
    int assigned;             /* target of set! */
    int captured;             /* referenced from another (real) lambda */
    int nrefs, nself;         /* references; of those, self tail calls */
    struct lam *self_lam;     /* the lambda this variable is bound to */
    struct fdesc *fd;         /* emit: frame holding it, slot within */
    int slot;
};

struct gvar {
    value name;
    int ndefs, set;           /* top-level definitions, set! anywhere */
    int is_lambda_def;        /* its one definition is a lambda */
    int nreq, rest;           /* that lambda's arity */
    int constant;             /* bound before the snapshot, frozen */
    struct lam *klam;         /* constant: its lambda, once compiled */
    struct lambda *out;       /* constant: staged lambda descriptor */
    struct proc *kproc;       /* constant: staged procedure object */
    struct gcell *cell;       /* mutable: persistent cell */
    const struct prim *prim;  /* builtin of this name */
    int inline_ok;            /* builtin never redefined by the program */
    struct gvar *next;
};

struct lam {
    struct lam *parent;
    struct var **params;      /* nreq + rest */
    int nreq, rest;
    struct ast *body;
    const char *name;
    int is_loop;              /* a named let turned into a loop */
    int heap;                 /* its frame must be GC-allocated */
    int nselftail;            /* self tail calls inside its body */
    struct gvar *g;           /* constant global it is bound to */
    struct lv_pos pos;
    int id;                   /* its loop mark is LV_MARK(id) */
    int loop_tail;            /* named let: 1 in tail position, 0 not; -1 lambda */
    struct ast **through;     /* self calls of an outer lambda made from inside */
    int nthrough, capthrough; /* this named let: void unless it becomes a loop */
};

struct ast {
    enum ast_kind k;
    struct lv_pos pos;
    value kval;               /* A_CONST */
    struct var *v;            /* A_LREF, A_LSET */
    struct lam *in;           /* lambda a reference occurs in */
    struct gvar *g;           /* A_GREF, A_GSET, A_GDEF; A_CALL: known callee */
    struct ast *a, *b, *c;    /* if: test/then/else; set/def: a; call: a = fn */
    int n;
    struct ast **xs;          /* seq items, call/prim args, let/loop inits */
    struct lam *lam;          /* A_LAMBDA, A_LOOP */
    struct var **vars;        /* A_LET, A_LETREC */
    const struct prim *prim;  /* A_PRIM */
    int tail;                 /* A_CALL, A_LOOP: in tail position */
    struct lam *self;         /* A_CALL: self tail call of this lambda */
};

/* comp.c */
struct ast *comp_program(value forms, struct lam **toplam);
struct gvar *comp_globals(void);
value comp_freeze_datum(value d);

/* emit.c */
const struct node *emit_program(struct ast *body, struct lam *top);

/* prim_table.c */
const struct prim *lv_prim_lookup(value sym);
void lv_prims_init(void);

#endif
