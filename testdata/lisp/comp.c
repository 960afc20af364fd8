/* comp.c -- the compiler's first pass: Scheme syntax to the core AST.
 *
 * Input: the list of top-level forms (read.c).  Output: one A_SEQ for the
 * program and the "top lambda" whose frame holds top-level locals.
 *
 *   prescan (every top-level define, every set! anywhere)
 *     -> which globals are constant procedures, which builtins may inline
 *   compile (forms -> AST, scopes resolved, tail positions marked)
 *     -> named lets whose name is only ever tail-called by themselves
 *        become A_LOOP on the spot (all their references are known then)
 *   capture marking (mark_capture, as references are made relative to the
 *     real lambda each occurs in): captured variables, heap frames
 *
 * Invariants:
 *  (1) A variable is captured iff referenced from a real lambda other than
 *      the one binding it (loops are not lambdas: they run in their parent's
 *      frame); capture decisions run after loop conversion (comp_finish).
 *  (2) Errors name the form and its position: "FILE:LINE:COL: let: bad
 *      binding (x)".
 *  (3) Tail position is decided top-down and only ever inherited: a form
 *      is compiled with tail = 1 only if it is the last form of a lambda
 *      body, or a result position (body end, arm, last operand of and/or)
 *      of a form that is itself in tail position.  A call compiled as a
 *      tail call returns LV_TAIL, which only a consumer of tail calls
 *      (a non-tail call, nc_loop when not tail, nc_prim, nc_program)
 *      turns into a value.
 */
#include "comp_int.h"

#include <stdlib.h>
#include <string.h>

#include "lineiform.h"
#include "read.h"


static struct gvar *globals;
static struct ast **all_refs; /* every A_LREF / A_LSET, for comp_finish */
static size_t nrefs_all, caprefs;
value S_quote, S_quasiquote, S_unquote, S_unquote_splicing, S_lambda,
    S_define, S_set, S_if, S_let, S_letstar, S_letrec, S_letrecstar, S_do,
    S_cond, S_case, S_and, S_or, S_when, S_unless, S_begin, S_else, S_arrow,
    S_import, S_dot3, S_guard, S_case_lambda, S_define_record_type, S_let_values,
    S_letstar_values, S_define_syntax, S_let_syntax, S_letrec_syntax, S_define_values,
    S_delay, S_delay_force, S_parameterize;

void *xalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p) lv_die(lv_nopos, "out of memory");
    return p;
}

struct ast *mk(enum ast_kind k, struct lv_pos pos)
{
    struct ast *a = xalloc(sizeof *a);
    a->k = k;
    a->pos = pos;
    return a;
}

struct ast *mk_const(value v, struct lv_pos pos)
{
    struct ast *a = mk(A_CONST, pos);
    a->kval = v;
    return a;
}

struct lv_pos posof(value x, struct lv_pos dflt)
{
    struct lv_pos p = lv_pos_of(x);
    return p.line ? p : dflt;
}


long len_or_die(value x, struct lv_pos pos, const char *what)
{
    long n = lv_list_length(x);
    if (n < 0) BAD(x, pos, "%s: not a proper list", what);
    return n;
}

value nth(value l, long i)
{
    while (i-- > 0) l = CDR(l);
    return CAR(l);
}

/* -- Globals ------------------------------------------------------------- */

struct gvar *comp_globals(void) { return globals; }

static int prescanned;
static void make_cell(struct gvar *g);

static struct gvar *gvar_of(value sym)
{
    for (struct gvar *g = globals; g; g = g->next)
        if (g->name == sym) return g;
    struct gvar *g = xalloc(sizeof *g);
    g->name = sym;
    g->prim = lv_prim_lookup(sym);
    g->next = globals;
    globals = g;
    if (prescanned) make_cell(g);
    return g;
}

static int is_lambda_form(value x)
{
    return PAIRP(x) && CAR(x) == S_lambda && PAIRP(CDR(x));
}

static void arity_of(value params, int *nreq, int *rest)
{
    int n = 0;
    while (PAIRP(params)) { n++; params = CDR(params); }
    *nreq = n;
    *rest = params != LV_NIL;
}

static void prescan_sets(value x, int depth)
{
    if (depth > 10000) return;
    while (PAIRP(x)) {
        value h = CAR(x);
        if (h == S_set && PAIRP(CDR(x)) && SYMP(CAR(CDR(x))))
            gvar_of(CAR(CDR(x)))->set = 1;
        if (PAIRP(h)) prescan_sets(mac_for_scan(h), depth + 1);
        x = CDR(x);
    }
}

static void prescan_define(value x)
{
    if (!PAIRP(x)) return;
    if (CAR(x) == S_begin) {
        for (value l = CDR(x); PAIRP(l); l = CDR(l)) prescan_define(CAR(l));
        return;
    }
    if (CAR(x) != S_define || !PAIRP(CDR(x))) return;
    value target = CAR(CDR(x));
    struct gvar *g;
    if (PAIRP(target) && SYMP(CAR(target))) {
        g = gvar_of(CAR(target));
        g->is_lambda_def = 1;
        arity_of(CDR(target), &g->nreq, &g->rest);
    } else if (SYMP(target)) {
        g = gvar_of(target);
        value rest = CDR(CDR(x));
        g->is_lambda_def = PAIRP(rest) && CDR(rest) == LV_NIL && is_lambda_form(CAR(rest));
        if (g->is_lambda_def) arity_of(CAR(CDR(CAR(rest))), &g->nreq, &g->rest);
    } else {
        return;
    }
    g->ndefs++;
}

/* The run-time home of g: a frozen cell holding the procedure for a
 * constant, else a persistent mutable cell. */
static void make_cell(struct gvar *g)
{
    g->constant = g->ndefs == 1 && !g->set && g->is_lambda_def;
    g->inline_ok = g->prim && g->ndefs == 0 && !g->set;
    if (g->constant) {
        g->out = fz_alloc(sizeof *g->out);
        g->kproc = fz_alloc(sizeof *g->kproc);
        g->kproc->h.type = T_PROC;
        g->kproc->lam = g->out;
        g->cell = fz_alloc(sizeof *g->cell);
        g->cell->val = (value)g->kproc;
    } else {
        g->cell = lf_alloc(sizeof *g->cell);
        if (!g->cell) lv_die(lv_nopos, "out of memory");
        g->cell->val = g->prim && !g->ndefs ? (value)g->prim : LV_UNBOUND;
    }
    g->cell->name = SYM(g->name);
}

static void prescan(value forms)
{
    for (value l = forms; PAIRP(l); l = CDR(l)) {
        prescan_define(CAR(l));
        prescan_sets(CAR(l), 0);
    }
    for (struct gvar *g = globals; g; g = g->next) make_cell(g);
    prescanned = 1;
}

/* -- Scopes -------------------------------------------------------------- */

struct var *new_var(struct ctx *c, value name)
{
    struct var *v = xalloc(sizeof *v);
    v->name = name;
    v->owner = c->lam;
    return v;
}

struct scope *push_scope(struct ctx *c, struct var **vars, int n)
{
    struct scope *s = xalloc(sizeof *s);
    s->vars = vars;
    s->n = n;
    s->up = c->sc;
    c->sc = s;
    return s;
}

static struct var *lookup(struct ctx *c, value name)
{
    for (struct scope *s = c->sc; s; s = s->up)
        for (int i = s->n - 1; i >= 0; i--)
            if (s->vars[i]->name == name) return s->vars[i];
    return NULL;
}

static void note_ref(struct ast *a)
{
    if (nrefs_all == caprefs) {
        caprefs = caprefs ? caprefs * 2 : 1024;
        all_refs = realloc(all_refs, caprefs * sizeof *all_refs);
        if (!all_refs) lv_die(lv_nopos, "out of memory");
    }
    all_refs[nrefs_all++] = a;
}

struct ast *local_ref(struct ctx *c, struct var *v, enum ast_kind k, struct lv_pos pos)
{
    struct ast *a = mk(k, pos);
    a->v = v;
    a->in = c->lam;
    if (k == A_LREF) v->nrefs++;
    else v->assigned = 1;
    note_ref(a);
    return a;
}

int is_keyword(struct ctx *c, value sym)
{
    return SYMP(sym) && !lookup(c, sym);
}

/* -- Expressions ----------------------------------------------------------- */

struct ast *comp(struct ctx *c, value x, int tail, struct lv_pos pos);
static struct ast *comp_body(struct ctx *c, value body, int tail, struct lv_pos pos,
                             const char *who);

static struct ast *comp_symbol(struct ctx *c, value x, struct lv_pos pos)
{
    struct var *v = lookup(c, x);
    if (v) return local_ref(c, v, A_LREF, pos);
    struct gvar *g = gvar_of(x);
    if (g->constant) {
        struct ast *a = mk_const((value)g->kproc, pos);
        a->g = g;
        return a;
    }
    if (g->inline_ok) return mk_const((value)g->prim, pos);
    struct ast *a = mk(A_GREF, pos);
    a->g = g;
    return a;
}

static struct ast *mk_seq(int n, struct ast **xs, struct lv_pos pos)
{
    if (n == 1) return xs[0];
    struct ast *a = mk(A_SEQ, pos);
    a->n = n;
    a->xs = xs;
    return a;
}

/* The forms of a list, each compiled; the last in tail position if tail. */
struct ast *comp_seq(struct ctx *c, value forms, int tail, struct lv_pos pos)
{
    long n = len_or_die(forms, pos, "begin");
    if (n == 0) return mk_const(LV_UNSPEC, pos);
    struct ast **xs = xalloc((size_t)n * sizeof *xs);
    for (long i = 0; i < n; i++, forms = CDR(forms))
        xs[i] = comp(c, CAR(forms), tail && i == n - 1, posof(forms, pos));
    return mk_seq((int)n, xs, pos);
}

static struct ast *comp_args_call(struct ctx *c, struct ast *fn, value args, int tail,
                                  struct lv_pos pos)
{
    long n = len_or_die(args, pos, "call");
    struct ast *a = mk(A_CALL, pos);
    a->a = fn;
    a->n = (int)n;
    a->xs = xalloc((size_t)(n + 1) * sizeof *a->xs);
    a->tail = tail;
    for (long i = 0; i < n; i++, args = CDR(args))
        a->xs[i] = comp(c, CAR(args), 0, posof(args, pos));
    return a;
}

/* A call in tail position of the lambda being compiled is a self tail call
 * of L when L is that lambda, or encloses it through named lets each in
 * tail position of the one outside: if those named lets all become loops,
 * the call is a jump to the top of L.  Record the call with each of them
 * (unmark_self_calls undoes it for one that stays a procedure). */
static int mark_self_call(struct ctx *c, struct lam *L, struct ast *a)
{
    if (L->rest || a->n != L->nreq) return 0;
    struct lam *M;
    for (M = c->lam; M && M != L; M = M->parent)
        if (M->loop_tail != 1) return 0;
    if (!M) return 0;
    for (M = c->lam; M != L; M = M->parent) {
        if (M->nthrough == M->capthrough) {
            M->capthrough = M->capthrough ? 2 * M->capthrough : 4;
            M->through = realloc(M->through, (size_t)M->capthrough * sizeof *M->through);
            if (!M->through) lv_die(lv_nopos, "out of memory");
        }
        M->through[M->nthrough++] = a;
    }
    a->self = L;
    return 1;
}

static void unmark_self_calls(struct lam *M)
{
    for (int i = 0; i < M->nthrough; i++) {
        struct ast *a = M->through[i];
        if (!a->self) continue;
        if (a->a->k == A_LREF) a->a->v->nself--;
        a->self = NULL;
    }
}

static struct ast *comp_call(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    value head = CAR(x);
    if (SYMP(head)) {
        struct var *v = lookup(c, head);
        if (v) {
            struct ast *a = comp_args_call(c, local_ref(c, v, A_LREF, pos), CDR(x), tail, pos);
            if (tail && v->self_lam && mark_self_call(c, v->self_lam, a)) v->nself++;
            return a;
        }
        struct gvar *g = gvar_of(head);
        if (g->inline_ok) {
            struct ast *a = comp_args_call(c, mk_const((value)g->prim, pos), CDR(x), tail, pos);
            /* apply in tail position stays a tail call (its callee runs in
             * the caller's trampoline, not a nested one). */
            int tail_apply = tail && strcmp(g->prim->name, "apply") == 0;
            if (!tail_apply && a->n >= g->prim->min && (g->prim->max < 0 || a->n <= g->prim->max)) {
                a->k = A_PRIM;
                a->prim = g->prim;
            }
            return a;
        }
        struct ast *a = comp_args_call(c, comp_symbol(c, head, pos), CDR(x), tail, pos);
        if (g->constant) {
            a->g = g;
            if (tail && g->klam) mark_self_call(c, g->klam, a);
        }
        return a;
    }
    return comp_args_call(c, comp(c, head, 0, pos), CDR(x), tail, pos);
}

/* -- lambda ---------------------------------------------------------------- */

static int nlams;

static struct lam *comp_lambda(struct ctx *c, value params, value body, struct lv_pos pos,
                               const char *name, struct var *selfvar, struct gvar *g,
                               int loop_tail)
{
    struct lam *L = xalloc(sizeof *L);
    L->id = ++nlams;
    L->loop_tail = loop_tail;
    L->parent = c->lam;
    L->name = name ? name : "";
    L->pos = pos;
    L->g = g;
    int nreq, rest;
    arity_of(params, &nreq, &rest);
    L->nreq = nreq;
    L->rest = rest;
    L->params = xalloc((size_t)(nreq + rest + 1) * sizeof *L->params);
    struct ctx inner = { c->sc, L, 0 };
    value p = params;
    for (int i = 0; i < nreq + rest; i++) {
        value name_i = i < nreq ? CAR(p) : p;
        if (!SYMP(name_i)) BAD(params, pos, "lambda: parameter is not a symbol");
        for (int j = 0; j < i; j++)
            if (L->params[j]->name == name_i)
                BAD(params, pos, "lambda: duplicate parameter %s", SYM(name_i)->name);
        L->params[i] = new_var(&inner, name_i);
        if (i < nreq) p = CDR(p);
    }
    if (selfvar) selfvar->self_lam = L;
    if (g) g->klam = L;
    push_scope(&inner, L->params, nreq + rest);
    L->body = comp_body(&inner, body, 1, pos, "lambda");
    return L;
}

static struct ast *lambda_ast(struct lam *L, struct lv_pos pos)
{
    struct ast *a = mk(A_LAMBDA, pos);
    a->lam = L;
    return a;
}

static struct ast *comp_lambda_form(struct ctx *c, value x, struct lv_pos pos)
{
    if (!PAIRP(CDR(x)) || CDR(CDR(x)) == LV_NIL) BAD(x, pos, "lambda: needs parameters and a body");
    return lambda_ast(comp_lambda(c, CAR(CDR(x)), CDR(CDR(x)), pos, NULL, NULL, NULL, -1), pos);
}

/* -- Bindings: let, let*, letrec, named let, bodies with defines ----------- */


static struct bindings parse_bindings(struct ctx *c, value bl, struct lv_pos pos, const char *who)
{
    struct bindings b;
    long n = len_or_die(bl, pos, who);
    b.n = (int)n;
    b.vars = xalloc((size_t)(n + 1) * sizeof *b.vars);
    b.inits = xalloc((size_t)(n + 1) * sizeof *b.inits);
    b.pos = xalloc((size_t)(n + 1) * sizeof *b.pos);
    for (long i = 0; i < n; i++, bl = CDR(bl)) {
        value e = CAR(bl);
        struct lv_pos ep = posof(bl, pos);
        if (!PAIRP(e) || !SYMP(CAR(e)) || !(CDR(e) == LV_NIL ||
            (PAIRP(CDR(e)) && CDR(CDR(e)) == LV_NIL)))
            BAD(e, ep, "%s: bad binding", who);
        b.vars[i] = new_var(c, CAR(e));
        b.inits[i] = CDR(e) == LV_NIL ? LV_UNSPEC : CAR(CDR(e));
        b.pos[i] = posof(e, ep);
    }
    return b;
}

struct ast *mk_let(enum ast_kind k, struct bindings *b, struct ast **inits,
                          struct ast *body, struct lv_pos pos)
{
    struct ast *a = mk(k, pos);
    a->n = b->n;
    a->vars = b->vars;
    a->xs = inits;
    a->b = body;
    return a;
}

static struct ast *comp_init(struct ctx *c, value init, struct var *v, struct lv_pos pos)
{
    if (is_lambda_form(init) && is_keyword(c, S_lambda))
        return lambda_ast(comp_lambda(c, CAR(CDR(init)), CDR(CDR(init)), pos,
                                      SYM(v->name)->name, v, NULL, -1), pos);
    return comp(c, init, 0, pos);
}

struct ast *comp_named_let(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    value name = CAR(CDR(x));
    if (!PAIRP(CDR(CDR(x)))) BAD(x, pos, "let: missing bindings");
    struct bindings b = parse_bindings(c, CAR(CDR(CDR(x))), pos, "let");
    struct ast **inits = xalloc((size_t)(b.n + 1) * sizeof *inits);
    for (int i = 0; i < b.n; i++) inits[i] = comp(c, b.inits[i], 0, b.pos[i]);
    struct var *lv = new_var(c, name);
    push_scope(c, &lv, 1);
    value params = LV_NIL;
    for (int i = b.n - 1; i >= 0; i--) params = lv_cons(b.vars[i]->name, params);
    struct lam *L = comp_lambda(c, params, CDR(CDR(CDR(x))), pos, SYM(name)->name, lv, NULL,
                                tail ? 1 : 0);
    c->sc = c->sc->up;
    if (lv->assigned || lv->nrefs != lv->nself) unmark_self_calls(L);
    if (!lv->assigned && lv->nrefs == lv->nself) {
        L->is_loop = 1;
        for (int i = 0; i < L->nreq; i++) L->params[i]->owner = L;
        struct ast *a = mk(A_LOOP, pos);
        a->lam = L;
        a->n = b.n;
        a->xs = inits;
        a->tail = tail;
        return a;
    }
    /* A real procedure: (letrec ((name (lambda ...))) (name init...)) */
    struct ast *call = mk(A_CALL, pos);
    struct ctx inner = *c;
    push_scope(&inner, &lv, 1);
    call->a = local_ref(&inner, lv, A_LREF, pos);
    call->n = b.n;
    call->xs = inits;
    call->tail = tail;
    struct bindings rb = { 1, xalloc(sizeof(struct var *)), NULL, NULL };
    rb.vars[0] = lv;
    struct ast **ri = xalloc(sizeof *ri);
    ri[0] = lambda_ast(L, pos);
    return mk_let(A_LETREC, &rb, ri, call, pos);
}

static struct ast *comp_let(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    if (!PAIRP(CDR(x))) BAD(x, pos, "let: missing bindings");
    if (SYMP(CAR(CDR(x)))) return comp_named_let(c, x, tail, pos);
    struct bindings b = parse_bindings(c, CAR(CDR(x)), pos, "let");
    for (int i = 0; i < b.n; i++)
        for (int j = 0; j < i; j++)
            if (b.vars[i]->name == b.vars[j]->name)
                BAD(x, pos, "let: duplicate variable %s", SYM(b.vars[i]->name)->name);
    struct ast **inits = xalloc((size_t)(b.n + 1) * sizeof *inits);
    for (int i = 0; i < b.n; i++) inits[i] = comp_init(c, b.inits[i], b.vars[i], b.pos[i]);
    struct ctx inner = *c;
    inner.top = 0;
    push_scope(&inner, b.vars, b.n);
    struct ast *body = comp_body(&inner, CDR(CDR(x)), tail, pos, "let");
    return mk_let(A_LET, &b, inits, body, pos);
}

static struct ast *comp_letstar(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    if (!PAIRP(CDR(x))) BAD(x, pos, "let*: missing bindings");
    struct bindings b = parse_bindings(c, CAR(CDR(x)), pos, "let*");
    struct ctx inner = *c;
    inner.top = 0;
    struct ast **inits = xalloc((size_t)(b.n + 1) * sizeof *inits);
    /* One scope per binding, each seeing the ones before; as one A_LET
     * each would cost a frame when captured, so emit nested lets. */
    struct ast *outer = NULL, **hole = &outer;
    for (int i = 0; i < b.n; i++) {
        inits[i] = comp_init(&inner, b.inits[i], b.vars[i], b.pos[i]);
        struct bindings one = { 1, &b.vars[i], NULL, NULL };
        struct ast *l = mk_let(A_LET, &one, &inits[i], NULL, pos);
        *hole = l;
        hole = &l->b;
        push_scope(&inner, &b.vars[i], 1);
    }
    *hole = comp_body(&inner, CDR(CDR(x)), tail, pos, "let*");
    return outer;
}

static struct ast *comp_letrec(struct ctx *c, value x, int tail, struct lv_pos pos,
                               const char *who)
{
    if (!PAIRP(CDR(x))) BAD(x, pos, "%s: missing bindings", who);
    struct bindings b = parse_bindings(c, CAR(CDR(x)), pos, who);
    struct ctx inner = *c;
    inner.top = 0;
    push_scope(&inner, b.vars, b.n);
    struct ast **inits = xalloc((size_t)(b.n + 1) * sizeof *inits);
    for (int i = 0; i < b.n; i++) inits[i] = comp_init(&inner, b.inits[i], b.vars[i], b.pos[i]);
    struct ast *body = comp_body(&inner, CDR(CDR(x)), tail, pos, who);
    return mk_let(A_LETREC, &b, inits, body, pos);
}

/* (define (f . params) body...) or (define x e): name, value form. */
static value define_parts(value x, struct lv_pos pos, value *val)
{
    if (!PAIRP(CDR(x))) BAD(x, pos, "define: missing name");
    value t = CAR(CDR(x));
    if (PAIRP(t)) {
        if (!SYMP(CAR(t))) BAD(x, pos, "define: bad procedure name");
        if (CDR(CDR(x)) == LV_NIL) BAD(x, pos, "define: missing body");
        *val = lv_cons(S_lambda, lv_cons(CDR(t), CDR(CDR(x))));
        return CAR(t);
    }
    if (!SYMP(t)) BAD(x, pos, "define: bad name");
    value rest = CDR(CDR(x));
    if (rest == LV_NIL) *val = LV_UNSPEC;
    else if (PAIRP(rest) && CDR(rest) == LV_NIL) *val = CAR(rest);
    else BAD(x, pos, "define: too many forms");
    return t;
}

/* Splice (begin ...) at body level; collect the names of defines. */
static void flatten_body(struct ctx *c, value body, value *out, long *n, int depth)
{
    for (; PAIRP(body); body = CDR(body)) {
        value f = CAR(body);
        if (depth < 100 && PAIRP(f) && CAR(f) == S_begin && is_keyword(c, S_begin)) {
            flatten_body(c, CDR(f), out, n, depth + 1);
            continue;
        }
        out[(*n)++] = f;
    }
}

static long count_forms(value body, int depth)
{
    long n = 0;
    for (; PAIRP(body); body = CDR(body)) {
        value f = CAR(body);
        if (depth < 100 && PAIRP(f) && CAR(f) == S_begin) n += count_forms(CDR(f), depth + 1);
        else n++;
    }
    return n;
}

static int is_define(struct ctx *c, value f)
{
    return PAIRP(f) && CAR(f) == S_define && is_keyword(c, S_define);
}

/* A body: its last form is in tail position only when the body itself is
 * (a lambda's always; a let's when the let is). */
static struct ast *comp_body(struct ctx *c, value body, int tail, struct lv_pos pos,
                             const char *who)
{
    len_or_die(body, pos, who);
    if (body == LV_NIL) BAD(body, pos, "%s: empty body", who);
    for (value l = body; PAIRP(l); l = CDR(l)) {
        value f = CAR(l);
        if (!PAIRP(f) || !SYMP(CAR(f)) || !is_keyword(c, CAR(f))) continue;
        if (CAR(f) == S_define_syntax || mac_lookup(CAR(f)) != LV_FALSE) {
            int d;
            f = mac_definitions(f, &d);
            CAR(l) = d ? lv_cons(S_begin, LV_NIL) : f;
        }
        if (PAIRP(CAR(l)) && (CAR(CAR(l)) == S_define_record_type || CAR(CAR(l)) == S_define_values))
            CAR(l) = cx_definitions(CAR(l));
    }
    value *forms = xalloc((size_t)(count_forms(body, 0) + 1) * sizeof *forms);
    long n = 0, ndef = 0, lastdef = -1;
    flatten_body(c, body, forms, &n, 0);
    for (long i = 0; i < n; i++)
        if (is_define(c, forms[i])) { ndef++; lastdef = i; }
    if (ndef == 0) {
        struct ast **xs = xalloc((size_t)n * sizeof *xs);
        for (long i = 0; i < n; i++)
            xs[i] = comp(c, forms[i], tail && i == n - 1, posof(forms[i], pos));
        return mk_seq((int)n, xs, pos);
    }
    if (lastdef == n - 1) BAD(forms[lastdef], pos, "%s: body ends with a definition", who);
    /* letrec* of the defines; a define after an expression is an assignment */
    struct bindings b = { (int)ndef, xalloc((size_t)ndef * sizeof(struct var *)), NULL, NULL };
    value *vals = xalloc((size_t)ndef * sizeof *vals);
    long k = 0, prefix = 0;
    while (prefix < n && is_define(c, forms[prefix])) prefix++;
    for (long i = 0; i < n; i++)
        if (is_define(c, forms[i])) {
            b.vars[k] = new_var(c, define_parts(forms[i], posof(forms[i], pos), &vals[k]));
            k++;
        }
    struct ctx inner = *c;
    push_scope(&inner, b.vars, b.n);
    struct ast **inits = xalloc((size_t)ndef * sizeof *inits);
    struct ast **xs = xalloc((size_t)n * sizeof *xs);
    long nx = 0;
    k = 0;
    for (long i = 0; i < n; i++) {
        struct lv_pos fp = posof(forms[i], pos);
        if (!is_define(c, forms[i])) {
            xs[nx++] = comp(&inner, forms[i], tail && i == n - 1, fp);
        } else if (i < prefix) {
            inits[k] = comp_init(&inner, vals[k], b.vars[k], fp);
            k++;
        } else {
            inits[k] = mk_const(LV_UNSPEC, fp);
            struct ast *s = local_ref(&inner, b.vars[k], A_LSET, fp);
            s->a = comp_init(&inner, vals[k], b.vars[k], fp);
            xs[nx++] = s;
            k++;
        }
    }
    return mk_let(A_LETREC, &b, inits, mk_seq((int)nx, xs, pos), pos);
}

/* -- define, set! ------------------------------------------------------------ */

static struct ast *comp_define(struct ctx *c, value x, struct lv_pos pos)
{
    value val;
    value name = define_parts(x, pos, &val);
    if (!c->top) BAD(x, pos, "define: not allowed here");
    c->top = 0;
    struct gvar *g = gvar_of(name);
    if (g->constant) {
        comp_lambda(c, CAR(CDR(val)), CDR(CDR(val)), pos, SYM(name)->name, NULL, g, -1);
        return mk_const(LV_UNSPEC, pos);
    }
    struct ast *a = mk(A_GDEF, pos);
    a->g = g;
    if (is_lambda_form(val))
        a->a = lambda_ast(comp_lambda(c, CAR(CDR(val)), CDR(CDR(val)), pos, SYM(name)->name,
                                      NULL, NULL, -1), pos);
    else
        a->a = comp(c, val, 0, pos);
    return a;
}

static struct ast *comp_set(struct ctx *c, value x, struct lv_pos pos)
{
    if (len_or_die(x, pos, "set!") != 3 || !SYMP(CAR(CDR(x))))
        BAD(x, pos, "set!: expected (set! variable expression)");
    value name = CAR(CDR(x));
    struct ast *e = comp(c, CAR(CDR(CDR(x))), 0, pos);
    struct var *v = lookup(c, name);
    struct ast *a;
    if (v) {
        a = local_ref(c, v, A_LSET, pos);
    } else {
        a = mk(A_GSET, pos);
        a->g = gvar_of(name);
        if (a->g->constant)
            BAD(x, pos, "set!: %s is a top-level procedure the program was not seen to assign "
                        "(a set! made by a macro defined in a body)", SYM(name)->name);
    }
    a->a = e;
    return a;
}

/* -- Dispatch ------------------------------------------------------------------ */

static int one_arg(value x)
{
    return PAIRP(CDR(x)) && CDR(CDR(x)) == LV_NIL;
}

static struct ast *comp_special(struct ctx *c, value x, int tail, struct lv_pos pos, int *done)
{
    value h = CAR(x);
    *done = 1;
    if (h == S_quote) {
        if (!one_arg(x)) BAD(x, pos, "quote: expected one datum");
        return mk_const(comp_freeze_datum(CAR(CDR(x))), pos);
    }
    if (h == S_quasiquote) {
        if (!one_arg(x)) BAD(x, pos, "quasiquote: expected one template");
        return comp_qq(c, CAR(CDR(x)), 0, pos);
    }
    if (h == S_unquote || h == S_unquote_splicing) BAD(x, pos, "%s: outside quasiquote", SYM(h)->name);
    if (h == S_lambda) return comp_lambda_form(c, x, pos);
    if (h == S_define) return comp_define(c, x, pos);
    if (h == S_set) return comp_set(c, x, pos);
    if (h == S_if) return comp_if(c, x, tail, pos);
    if (h == S_let) return comp_let(c, x, tail, pos);
    if (h == S_letstar) return comp_letstar(c, x, tail, pos);
    if (h == S_letrec) return comp_letrec(c, x, tail, pos, "letrec");
    if (h == S_letrecstar) return comp_letrec(c, x, tail, pos, "letrec*");
    if (h == S_do) return comp_do(c, x, tail, pos);
    if (h == S_cond) { len_or_die(x, pos, "cond"); return comp_cond_clauses(c, CDR(x), tail, pos); }
    if (h == S_case) return comp_case(c, x, tail, pos);
    if (h == S_and || h == S_or) {
        len_or_die(x, pos, SYM(h)->name);
        return comp_and_or(c, CDR(x), tail, pos, h == S_and);
    }
    if (h == S_when || h == S_unless) {
        if (lv_list_length(x) < 3) BAD(x, pos, "%s: expected a test and a body", SYM(h)->name);
        struct ast *t = comp(c, CAR(CDR(x)), 0, pos), *body = comp_seq(c, CDR(CDR(x)), tail, pos);
        struct ast *u = mk_const(LV_UNSPEC, pos);
        return h == S_when ? mk_if(t, body, u, pos) : mk_if(t, u, body, pos);
    }
    if (h == S_begin) {
        if (c->top) return comp_seq(c, CDR(x), tail, pos);
        if (CDR(x) == LV_NIL) BAD(x, pos, "begin: empty");
        return comp_seq(c, CDR(x), tail, pos);
    }
    if (h == S_import) {
        if (!c->top) BAD(x, pos, "import: only allowed at top level");
        return mk_const(LV_UNSPEC, pos);
    }
    if (h == S_guard) return comp(c, cx_guard(x, pos), tail, pos);
    if (h == S_case_lambda) return comp(c, cx_case_lambda(x, pos), tail, pos);
    if (h == S_let_values || h == S_letstar_values) return comp(c, cx_let_values(x, pos), tail, pos);
    if (h == S_define_record_type || h == S_define_values) BAD(x, pos, "%s: not allowed here", SYM(h)->name);
    if (h == S_parameterize) return comp(c, cx_parameterize(x, pos), tail, pos);
    if (h == S_delay || h == S_delay_force) return comp(c, cx_delay(x, h == S_delay_force, pos), tail, pos);
    if (h == S_define_syntax) {
        int d;
        mac_definitions(x, &d);
        return mk_const(LV_UNSPEC, pos);
    }
    if (h == S_let_syntax || h == S_letrec_syntax) {
        if (lv_list_length(x) < 3 || lv_list_length(CAR(CDR(x))) < 0)
            BAD(x, pos, "%s: expected ((keyword transformer) ...) and a body", SYM(h)->name);
        for (value l = CAR(CDR(x)); PAIRP(l); l = CDR(l)) {
            if (lv_list_length(CAR(l)) != 2) BAD(x, pos, "%s: bad binding", SYM(h)->name);
            mac_define(CAR(CAR(l)), CAR(CDR(CAR(l))), pos);
        }
        return comp(c, lv_cons(S_let, lv_cons(LV_NIL, CDR(CDR(x)))), tail, pos);
    }
    if (h == S_else || h == S_arrow || h == S_dot3) BAD(x, pos, "%s: not allowed here", SYM(h)->name);
    *done = 0;
    return NULL;
}

struct ast *comp(struct ctx *c, value x, int tail, struct lv_pos pos)
{
    char here;
    LV_STACK_CHECK(&here);
    if (SYMP(x)) return comp_symbol(c, x, pos);
    if (!PAIRP(x)) {
        if (x == LV_NIL) lv_die(pos, "missing procedure in ()");
        return mk_const(comp_freeze_datum(x), pos);
    }
    pos = posof(x, pos);
    if (lv_list_length(x) < 0) BAD(x, pos, "bad syntax: not a proper list");
    if (SYMP(CAR(x)) && is_keyword(c, CAR(x)) && mac_lookup(CAR(x)) != LV_FALSE)
        return comp(c, mac_expand(mac_lookup(CAR(x)), x, pos), tail, pos);
    if (SYMP(CAR(x)) && is_keyword(c, CAR(x))) {
        int top = c->top;
        if (CAR(x) != S_begin && CAR(x) != S_define && CAR(x) != S_import) c->top = 0;
        int done;
        struct ast *a = comp_special(c, x, tail, pos, &done);
        c->top = top;
        if (done) return a;
    }
    int top = c->top;
    c->top = 0;
    struct ast *a = comp_call(c, x, tail, pos);
    c->top = top;
    return a;
}

/* -- Capture analysis ----------------------------------------------------------- */

static struct lam *real(struct lam *L)
{
    while (L && L->is_loop) L = L->parent;
    return L;
}

static void comp_finish(void)
{
    for (size_t i = 0; i < nrefs_all; i++) {
        struct ast *a = all_refs[i];
        struct lam *from = real(a->in), *owner = real(a->v->owner);
        if (from == owner) continue;
        a->v->captured = 1;
        /* Every real lambda from the referring one up to (not including)
         * the owner holds the chain to the owner's frame in its closures. */
        for (struct lam *L = real(from->parent); L && L != owner; L = real(L->parent))
            L->heap = 1;
    }
    for (size_t i = 0; i < nrefs_all; i++) {
        struct var *v = all_refs[i]->v;
        if (v->captured && v->owner && !v->owner->is_loop) {
            /* params of a real lambda: its own frame */
            struct lam *o = v->owner;
            for (int k = 0; k < o->nreq + o->rest; k++)
                if (o->params[k] == v) o->heap = 1;
        }
    }
}

#define SYMS(_) \
    _(quote, "quote") _(quasiquote, "quasiquote") _(unquote, "unquote")          \
    _(unquote_splicing, "unquote-splicing") _(lambda, "lambda") _(define, "define") \
    _(set, "set!") _(if, "if") _(let, "let") _(letstar, "let*") _(letrec, "letrec") \
    _(letrecstar, "letrec*") _(do, "do") _(cond, "cond") _(case, "case") _(and, "and") \
    _(or, "or") _(when, "when") _(unless, "unless") _(begin, "begin") _(else, "else") \
    _(arrow, "=>") _(import, "import") _(dot3, "...") _(guard, "guard")                \
    _(case_lambda, "case-lambda") _(define_record_type, "define-record-type")          \
    _(let_values, "let-values") _(letstar_values, "let*-values")                       \
    _(define_syntax, "define-syntax") _(let_syntax, "let-syntax")                      \
    _(letrec_syntax, "letrec-syntax") _(define_values, "define-values")                \
    _(delay, "delay") _(delay_force, "delay-force") _(parameterize, "parameterize")

struct ast *comp_program(value forms, struct lam **toplam)
{
#define INIT_SYM(c, s) S_##c = lv_intern(s);
    SYMS(INIT_SYM)
#undef INIT_SYM
    for (value l = forms; PAIRP(l); l = CDR(l)) CAR(l) = mac_top_form(CAR(l));
    prescan(forms);
    struct lam *top = xalloc(sizeof *top);
    top->loop_tail = -1;
    top->name = "top level";
    struct ctx c = { NULL, top, 1 };
    long n = lv_list_length(forms);
    struct ast **xs = xalloc((size_t)(n + 1) * sizeof *xs);
    for (long i = 0; i < n; i++, forms = CDR(forms))
        xs[i] = comp(&c, CAR(forms), 0, posof(CAR(forms), lv_nopos));
    comp_finish();
    *toplam = top;
    struct ast *seq = mk(A_SEQ, lv_nopos);
    seq->n = (int)n;
    seq->xs = xs;
    return seq;
}
