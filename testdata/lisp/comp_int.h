/* comp_int.h -- what comp.c (scopes, bindings, lambdas, bodies, dispatch)
 * and comp_derived.c (cond, case, do, and, or, quasiquote, quoted
 * constants) share.  Internal to the compiler. */
#ifndef LISP_COMP_INT_H
#define LISP_COMP_INT_H

#include "comp.h"

struct scope {
    struct var **vars;
    int n;
    struct scope *up;
};

struct ctx {
    struct scope *sc;
    struct lam *lam;
    int top;                  /* at top level (defines are global) */
};

struct bindings { int n; struct var **vars; value *inits; struct lv_pos *pos; };

extern value S_quote, S_quasiquote, S_unquote, S_unquote_splicing, S_lambda,
    S_define, S_set, S_if, S_let, S_letstar, S_letrec, S_letrecstar, S_do,
    S_cond, S_case, S_and, S_or, S_when, S_unless, S_begin, S_else, S_arrow,
    S_import, S_dot3, S_guard, S_case_lambda, S_define_record_type, S_let_values,
    S_letstar_values, S_define_syntax, S_let_syntax, S_letrec_syntax, S_define_values,
    S_delay, S_delay_force, S_parameterize;

#define BAD(x, pos, ...) lv_die(posof((x), (pos)), __VA_ARGS__)

void *xalloc(size_t n);
struct ast *mk(enum ast_kind k, struct lv_pos pos);
struct ast *mk_const(value v, struct lv_pos pos);
struct ast *mk_let(enum ast_kind k, struct bindings *b, struct ast **inits,
                   struct ast *body, struct lv_pos pos);
struct ast *mk_if(struct ast *t, struct ast *a, struct ast *b, struct lv_pos pos);
struct lv_pos posof(value x, struct lv_pos dflt);
long len_or_die(value x, struct lv_pos pos, const char *what);
value nth(value l, long i);
struct var *new_var(struct ctx *c, value name);
struct scope *push_scope(struct ctx *c, struct var **vars, int n);
struct ast *local_ref(struct ctx *c, struct var *v, enum ast_kind k, struct lv_pos pos);
int is_keyword(struct ctx *c, value sym);
struct ast *comp(struct ctx *c, value x, int tail, struct lv_pos pos);
struct ast *comp_seq(struct ctx *c, value forms, int tail, struct lv_pos pos);
struct ast *comp_named_let(struct ctx *c, value x, int tail, struct lv_pos pos);

/* comp_derived.c */
struct ast *comp_if(struct ctx *c, value x, int tail, struct lv_pos pos);
struct ast *comp_and_or(struct ctx *c, value args, int tail, struct lv_pos pos, int is_and);
struct ast *comp_cond_clauses(struct ctx *c, value cl, int tail, struct lv_pos pos);
struct ast *comp_case(struct ctx *c, value x, int tail, struct lv_pos pos);
struct ast *comp_do(struct ctx *c, value x, int tail, struct lv_pos pos);
struct ast *comp_qq(struct ctx *c, value x, int depth, struct lv_pos pos);

/* comp_expand.c */
value cx_guard(value x, struct lv_pos pos);
value cx_case_lambda(value x, struct lv_pos pos);
value cx_definitions(value x);
value cx_let_values(value x, struct lv_pos pos);
value cx_delay(value x, int is_force, struct lv_pos pos);
value cx_parameterize(value x, struct lv_pos pos);

/* comp_macro.c */
value mac_lookup(value sym);                 /* LV_FALSE unless a macro */
void mac_define(value name, value spec, struct lv_pos pos);
value mac_expand(value spec, value x, struct lv_pos pos);
value mac_definitions(value x, int *is_syntax_def);
value mac_top_form(value f);
value mac_for_scan(value x);

#endif
