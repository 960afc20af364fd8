/* comp.c -- compiling statements, blocks and functions; scopes and slots.
 *
 * Each function gets a frame of slots: parameters first, then locals, a
 * slot reused once its variable's scope closes.  When a scope closes, the
 * fixes recorded on each of its variables are applied: a captured
 * variable's accesses and declaration switch to their cell variants, and a
 * call of a variable bound once to a function literal (never assigned
 * again) becomes nc_callk with that function's proto.  Global functions
 * defined once (`function f() ... end`, no other assignment to f) get the
 * same treatment when the chunk ends.
 */
#include "comp.h"

#include <stdarg.h>
#include <stdlib.h>

struct lexer *LX;
struct fs *FS;

static int block_follow(int withuntil)
{
    switch (LX->tok) {
    case TK_ELSE: case TK_ELSEIF: case TK_END: case TK_EOS: return 1;
    case TK_UNTIL: return withuntil;
    default: return 0;
    }
}

void check(int tok)
{
    if (LX->tok != tok) {
        char b[8];
        lex_error(LX, pstr("'%s' expected", tok_name(tok, b, sizeof b)));
    }
}

void checknext(int tok)
{
    check(tok);
    lex_next(LX);
}

int testnext(int tok)
{
    if (LX->tok != tok) return 0;
    lex_next(LX);
    return 1;
}

static void check_match(int what, int who, int line)
{
    if (LX->tok == what) { lex_next(LX); return; }
    char a[8], b[8];
    if (line == LX->line) check(what);
    lex_error(LX, pstr("'%s' expected (to close '%s' at line %d)", tok_name(what, a, sizeof a),
                       tok_name(who, b, sizeof b), line));
}

const char *pstr(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t n = strlen(buf);
    char *s = lalloc_atomic(n + 1);
    memcpy(s, buf, n + 1);
    return s;
}

const struct lstr *kstr(const char *s, size_t len) { return STR(mkstr(s, len)); }

char *str_name(void)
{
    check(TK_NAME);
    char *s = strdup(LX->buf);
    lex_next(LX);
    return s;
}

void addfix(struct var *v, int kind, void *p, uint64_t bit, void *alt)
{
    if (v->nfx == v->cfx) v->fx = realloc(v->fx, (v->cfx = v->cfx ? v->cfx * 2 : 4) * sizeof *v->fx);
    v->fx[v->nfx++] = (struct fix){ kind, p, bit, alt };
}

static struct var *newvar(const char *name)
{
    if (FS->nact == MAXVARS) lex_error(LX, "too many local variables");
    struct var *v = calloc(1, sizeof *v);
    v->name = strdup(name);
    v->slot = FS->free++;
    if (FS->free > FS->maxs) FS->maxs = FS->free;
    FS->act[FS->nact++] = v;
    return v;
}

static void apply_fixes(struct var *v)
{
    for (int i = 0; i < v->nfx; i++) {
        struct fix *f = &v->fx[i];
        switch (f->kind) {
        case FX_CODE: if (v->captured) *(void **)f->p = f->alt; break;
        case FX_MASK: if (v->captured) *(uint64_t *)f->p |= f->bit; break;
        case FX_FLAG: if (v->captured) *(int32_t *)f->p = 1; break;
        case FX_KIND: if (v->captured) *(int32_t *)f->p = TG_LOCALC; break;
        case FX_CALL: {
            struct n_call *c = f->p;
            if (v->kp && !v->nassign && !v->kp->vararg) {
                c->kp = v->kp;
                c->code = (void *)nc_callk;
            }
            break;
        }
        }
    }
    free(v->fx);
    free(v->name);
    free(v);
}

static void close_scope(int nact, int freeslot)
{
    while (FS->nact > nact) apply_fixes(FS->act[--FS->nact]);
    FS->free = freeslot;
}

/* -- Global functions defined once ---------------------------------------- */

static struct gdef { char *name; const struct proto *p; int n; } *gdefs;
static int ngdefs;
static struct gcall { struct n_call *c; const struct lstr *name; } *gcalls;
static int ngcalls;

static struct gdef *gdef(const char *name)
{
    for (int i = 0; i < ngdefs; i++)
        if (!strcmp(gdefs[i].name, name)) return &gdefs[i];
    gdefs = realloc(gdefs, (ngdefs + 1) * sizeof *gdefs);
    gdefs[ngdefs] = (struct gdef){ strdup(name), NULL, 0 };
    return &gdefs[ngdefs++];
}

void note_gcall(struct n_call *c, const struct lstr *name)
{
    gcalls = realloc(gcalls, (ngcalls + 1) * sizeof *gcalls);
    gcalls[ngcalls++] = (struct gcall){ c, name };
}

static void note_global_calls(void)
{
    for (int i = 0; i < ngcalls; i++) {
        struct n_call *c = gcalls[i].c;
        struct gdef *g = gdef(gcalls[i].name->s);
        if (g->n == 1 && g->p && !g->p->vararg) {
            c->kp = g->p;
            c->code = (void *)nc_callk;
        }
    }
}

/* -- Statements --------------------------------------------------------------- */

static nodep block(void);

static nodep mkset(void *code, int idx, nodep e, int line)
{
    struct s_set *s = snew(sizeof *s);
    s->code = code;
    s->idx = idx;
    s->e = e;
    s->line = line;
    return (nodep)s;
}

/* Store value node e into target t (one target). */
static nodep store(struct ex *t, nodep e)
{
    switch (t->kind) {
    case E_LOCAL: {
        struct s_set *s = (struct s_set *)mkset((void *)sc_setlocal, t->idx, e, t->line);
        addfix(t->var, FX_CODE, &s->code, 0, (void *)sc_setlocalc);
        t->var->nassign++;
        return (nodep)s;
    }
    case E_UPVAL:
        t->var->nassign++;
        return mkset((void *)sc_setup, t->idx, e, t->line);
    case E_GLOBAL: {
        struct s_set *s = (struct s_set *)mkset((void *)sc_setglobal, 0, e, t->line);
        s->name = t->name;
        gdef(t->name->s)->n++;
        return (nodep)s;
    }
    default: {
        struct s_set *s = (struct s_set *)mkset((void *)sc_setindex, 0, e, t->line);
        s->o = t->o;
        s->k = t->k;
        return (nodep)s;
    }
    }
}

static nodep assignment(struct ex *first)
{
    int nt = 1, cap = 4;
    struct ex *ts = malloc(cap * sizeof *ts);
    ts[0] = *first;
    while (testnext(',')) {
        if (nt == cap) ts = realloc(ts, (cap *= 2) * sizeof *ts);
        suffixedexp(&ts[nt]);
        if (ts[nt].kind == E_VAL) lex_error(LX, "syntax error");
        nt++;
    }
    checknext('=');
    nodep *exps;
    int multi, ne = explist(&exps, &multi);
    nodep r;
    if (nt == 1 && ne == 1) {
        r = store(&ts[0], exps[0]);
    } else {
        struct s_mset *m = snew(sizeof *m + ne * sizeof(nodep));
        struct target *t = snew(nt * sizeof *t);
        m->code = (void *)sc_mset;
        m->nt = nt;
        m->ne = ne;
        m->multi = multi;
        m->line = ts[0].line;
        m->t = t;
        memcpy(m->exps, exps, ne * sizeof(nodep));
        for (int i = 0; i < nt; i++) {
            struct ex *x = &ts[i];
            t[i].idx = x->idx;
            switch (x->kind) {
            case E_LOCAL: t[i].kind = TG_LOCAL; addfix(x->var, FX_KIND, &t[i].kind, 0, NULL); x->var->nassign++; break;
            case E_UPVAL: t[i].kind = TG_UPVAL; x->var->nassign++; break;
            case E_GLOBAL: t[i].kind = TG_GLOBAL; t[i].name = x->name; gdef(x->name->s)->n++; break;
            default: t[i].kind = TG_INDEX; t[i].o = x->o; t[i].k = x->k; break;
            }
        }
        r = (nodep)m;
    }
    free(exps);
    free(ts);
    return r;
}

static nodep exprstat(void)
{
    struct ex e;
    suffixedexp(&e);
    if (LX->tok == '=' || LX->tok == ',') {
        if (e.kind == E_VAL) lex_error(LX, "syntax error");
        return assignment(&e);
    }
    if (!e.multi || e.kind != E_VAL) lex_error(LX, "syntax error");
    struct s_expr *s = snew(sizeof *s);
    s->code = (void *)sc_expr;
    s->e = e.n;
    return (nodep)s;
}

static nodep localstat(void)
{
    if (testnext(TK_FUNCTION)) {
        char *name = str_name();
        struct var *v = newvar(name);
        struct n_func *f = snew(sizeof *f);
        f->code = (void *)nc_func;
        int line = LX->line;
        f->p = funcbody(line, 0, name);
        v->kp = f->p;
        free(name);
        struct s_set *s = (struct s_set *)mkset((void *)sc_localfunc, v->slot, (nodep)f, line);
        addfix(v, FX_CODE, &s->code, 0, (void *)sc_localfuncc);
        return (nodep)s;
    }
    char *names[MAXVARS];
    int nv = 0;
    do {
        if (nv == MAXVARS) lex_error(LX, "too many local variables");
        names[nv++] = str_name();
        if (testnext('<')) {    /* <const> / <close>: accepted, not enforced */
            free(str_name());
            checknext('>');
        }
    } while (testnext(','));
    nodep *exps = NULL;
    int multi = 0, ne = 0;
    if (testnext('=')) ne = explist(&exps, &multi);
    struct s_local *s = snew(sizeof *s + ne * sizeof(nodep));
    s->code = (void *)sc_local;
    s->nvars = nv;
    s->nexps = ne;
    s->multi = multi;
    if (ne) memcpy(s->exps, exps, ne * sizeof(nodep));
    /* The variables come into scope after the expressions. */
    for (int i = 0; i < nv; i++) {
        struct var *v = newvar(names[i]);
        if (i == 0) s->slot0 = v->slot;
        if (i < 64) addfix(v, FX_MASK, &s->cellmask, (uint64_t)1 << i, NULL);
        else v->captured = 0;
        if (ne == nv && !multi && exps[i]->code == (void *)nc_func) v->kp = ((const struct n_func *)exps[i])->p;
        free(names[i]);
    }
    free(exps);
    return (nodep)s;
}

static nodep ifstat(int line)
{
    int n = 0;
    nodep cs[256], bs[256], els = NULL;
    do {
        if (n == 256) lex_error(LX, "too many elseif branches");
        lex_next(LX);   /* if / elseif */
        struct ex c;
        expr(&c);
        cs[n] = access(&c);
        checknext(TK_THEN);
        bs[n++] = block();
    } while (LX->tok == TK_ELSEIF);
    if (testnext(TK_ELSE)) els = block();
    check_match(TK_END, TK_IF, line);
    struct s_if *s = snew(sizeof *s + n * sizeof s->arm[0]);
    s->code = (void *)sc_if;
    s->n = n;
    s->els = els;
    for (int i = 0; i < n; i++) s->arm[i].c = cs[i], s->arm[i].b = bs[i];
    return (nodep)s;
}

static nodep forbody(void)
{
    checknext(TK_DO);
    return block();
}

static nodep forstat(int line)
{
    lex_next(LX);
    int nact = FS->nact, freeslot = FS->free;
    char *n1 = str_name();
    nodep r;
    if (LX->tok == '=') {
        lex_next(LX);
        struct ex a, b, c;
        expr(&a);
        checknext(',');
        expr(&b);
        struct s_fornum *s = snew(sizeof *s);
        s->a = access(&a);
        s->b = access(&b);
        if (testnext(',')) { expr(&c); s->c = access(&c); }
        s->code = (void *)sc_fornum;
        s->line = line;
        struct var *v = newvar(n1);
        s->slot = v->slot;
        addfix(v, FX_FLAG, &s->cell, 0, NULL);
        s->body = forbody();
        r = (nodep)s;
    } else {
        char *names[64];
        int nv = 0;
        names[nv++] = n1;
        n1 = NULL;
        while (testnext(',')) {
            if (nv == 64) lex_error(LX, "too many variables in 'for'");
            names[nv++] = str_name();
        }
        checknext(TK_IN);
        nodep *exps;
        int multi, ne = explist(&exps, &multi);
        struct s_forin *s = snew(sizeof *s + ne * sizeof(nodep));
        s->code = (void *)sc_forin;
        s->line = line;
        s->nexps = ne;
        s->multi = multi;
        s->nvars = nv;
        memcpy(s->exps, exps, ne * sizeof(nodep));
        free(exps);
        s->slot0 = FS->free;
        FS->free += 3;      /* iterator, state, control */
        if (FS->free > FS->maxs) FS->maxs = FS->free;
        for (int i = 0; i < nv; i++) {
            struct var *v = newvar(names[i]);
            addfix(v, FX_MASK, &s->cellmask, (uint64_t)1 << i, NULL);
            free(names[i]);
        }
        s->body = forbody();
        r = (nodep)s;
    }
    free(n1);
    check_match(TK_END, TK_FOR, line);
    close_scope(nact, freeslot);
    return r;
}

static nodep funcstat(int line)
{
    lex_next(LX);
    struct ex e;
    char *name = str_name();
    singlevar(name, &e);
    int method = 0;
    const char *fname = name;
    char *gname = e.kind == E_GLOBAL ? strdup(name) : NULL;
    while (LX->tok == '.' || LX->tok == ':') {
        method = LX->tok == ':';
        lex_next(LX);
        check(TK_NAME);
        const struct lstr *k = kstr(LX->buf, LX->len);
        fname = pstr("%s", LX->buf);
        lex_next(LX);
        nodep o = access(&e);
        memset(&e, 0, sizeof e);
        e.kind = E_INDEX;
        e.o = o;
        e.k = mkk((value)(uintptr_t)k);
        e.line = line;
        free(gname);
        gname = NULL;
        if (method) break;
    }
    struct n_func *f = snew(sizeof *f);
    f->code = (void *)nc_func;
    f->p = funcbody(line, method, fname);
    e.line = line;
    nodep s = store(&e, (nodep)f);
    if (gname) gdef(gname)->p = f->p;
    free(gname);
    free(name);
    return s;
}

static nodep retstat(void)
{
    nodep *exps = NULL;
    int multi = 0, n = 0;
    if (!block_follow(1) && LX->tok != ';') n = explist(&exps, &multi);
    testnext(';');
    struct s_ret *r = snew(sizeof *r + n * sizeof(nodep));
    r->n = n;
    r->multi = multi;
    if (n) memcpy(r->exps, exps, n * sizeof(nodep));
    free(exps);
    r->code = n == 0 ? (void *)sc_ret0 : n == 1 ? (multi ? (void *)sc_retm : (void *)sc_ret1) : (void *)sc_ret;
    return (nodep)r;
}

static nodep statement(void)
{
    int line = LX->line;
    struct node *n;
    switch (LX->tok) {
    case ';':
        lex_next(LX);
        return NULL;
    case TK_IF: return ifstat(line);
    case TK_WHILE: {
        lex_next(LX);
        struct ex c;
        expr(&c);
        struct s_loop *s = snew(sizeof *s);
        s->code = (void *)sc_while;
        s->c = access(&c);
        checknext(TK_DO);
        s->b = block();
        check_match(TK_END, TK_WHILE, line);
        return (nodep)s;
    }
    case TK_DO: {
        lex_next(LX);
        nodep b = block();
        check_match(TK_END, TK_DO, line);
        return b;
    }
    case TK_FOR: return forstat(line);
    case TK_REPEAT: {
        lex_next(LX);
        struct s_loop *s = snew(sizeof *s);
        s->code = (void *)sc_repeat;
        int nact = FS->nact, freeslot = FS->free;
        /* The condition sees the body's locals: one scope for both. */
        int cap = 16, k = 0;
        nodep *st = malloc(cap * sizeof *st);
        while (!block_follow(1)) {
            if (LX->tok == TK_RETURN) {
                lex_next(LX);
                if (k == cap) st = realloc(st, (cap *= 2) * sizeof *st);
                st[k++] = retstat();
                break;
            }
            nodep x = statement();
            if (!x) continue;
            if (k == cap) st = realloc(st, (cap *= 2) * sizeof *st);
            st[k++] = x;
        }
        struct s_block *b = snew(sizeof *b + k * sizeof(nodep));
        b->code = (void *)sc_block;
        b->n = k;
        memcpy(b->s, st, k * sizeof(nodep));
        free(st);
        s->b = (nodep)b;
        check_match(TK_UNTIL, TK_REPEAT, line);
        struct ex c;
        expr(&c);
        s->c = access(&c);
        close_scope(nact, freeslot);
        return (nodep)s;
    }
    case TK_FUNCTION: return funcstat(line);
    case TK_LOCAL:
        lex_next(LX);
        return localstat();
    case TK_RETURN:
        lex_next(LX);
        return retstat();
    case TK_BREAK:
        lex_next(LX);
        n = snew(sizeof *n);
        n->code = (void *)sc_break;
        return n;
    case TK_GOTO: case TK_DBCOLON:
        lex_error(LX, "goto and labels are not supported");
    default:
        return exprstat();
    }
}

/* A block: its own scope.  A return must be its last statement. */
static nodep block(void)
{
    int nact = FS->nact, freeslot = FS->free;
    int cap = 16, n = 0;
    nodep *st = malloc(cap * sizeof *st);
    while (!block_follow(1)) {
        int ret = LX->tok == TK_RETURN;
        nodep s = statement();
        if (s) {
            if (n == cap) st = realloc(st, (cap *= 2) * sizeof *st);
            st[n++] = s;
        }
        if (ret) break;
    }
    close_scope(nact, freeslot);
    if (n == 1) {
        nodep s = st[0];
        free(st);
        return s;
    }
    struct s_block *b = snew(sizeof *b + n * sizeof(nodep));
    b->code = n ? (void *)sc_block : (void *)sc_nop;
    b->n = n;
    memcpy(b->s, st, n * sizeof(nodep));
    free(st);
    return (nodep)b;
}

/* -- Functions ----------------------------------------------------------------- */

static struct proto *finish(struct fs *f, nodep body, int nparams, int line, const char *name)
{
    struct proto *p = snew(sizeof *p + f->nups * sizeof p->ups[0]);
    p->nparams = nparams;
    p->vararg = f->vararg;
    p->nslots = f->maxs;
    p->nups = f->nups;
    p->line = line;
    p->body = body;
    p->name = pstr("%s", name);
    for (int i = 0; i < f->nups; i++) p->ups[i].instack = f->ups[i].instack, p->ups[i].idx = f->ups[i].idx;
    return p;
}

static void close_params(struct fs *f, struct proto *p, int np)
{
    int32_t *cellp = snew((np + 1) * sizeof *cellp);
    for (int i = 0; i < np; i++)
        if (f->act[i]->captured) cellp[p->ncellp++] = f->act[i]->slot;
    p->cellp = cellp;
    close_scope(0, 0);
}

const struct proto *funcbody(int line, int method, const char *name)
{
    struct fs *f = calloc(1, sizeof *f);
    f->up = FS;
    FS = f;
    int np = 0;
    if (method) { newvar("self"); np++; }
    checknext('(');
    if (LX->tok != ')') {
        do {
            if (LX->tok == TK_DOTS) { lex_next(LX); f->vararg = 1; break; }
            char *n = str_name();
            newvar(n);
            free(n);
            np++;
        } while (testnext(','));
    }
    checknext(')');
    nodep body = block();
    check_match(TK_END, TK_FUNCTION, line);
    struct proto *p = finish(f, body, np, line, name);
    close_params(f, p, np);
    for (int i = 0; i < f->nups; i++) free(f->ups[i].name);
    FS = f->up;
    free(f);
    return p;
}

/* The entry closure: runs the main chunk (a vararg function without
 * arguments).  Its Lua closure is frozen with it, and its frame, which
 * exists once since the chunk runs once, is allocated in the persistent
 * arena at compile time: the main chunk's locals sit at fixed addresses. */
struct n_main { void *code; const struct lclosure *cl; struct frame *fr; };
static value run_main(nodep n_, struct frame *fr)
{
    (void)fr;
    const struct n_main *self = (const struct n_main *)n_;
    struct frame *nf = self->fr;
    nf->cl = self->cl;
    if (EX(self->cl->p->body, nf) == ST_RETURN) return nf->ret;
    return NIL;
}

const void *compile_chunk(const char *src, size_t len)
{
    struct lexer lx;
    LX = &lx;
    lex_init(&lx, src, len);
    struct fs *f = calloc(1, sizeof *f);
    f->vararg = 1;
    FS = f;
    nodep body = block();
    if (lx.tok != TK_EOS) lex_error(LX, "'<eof>' expected");
    struct proto *p = finish(f, body, 0, 0, "main chunk");
    close_params(f, p, 0);
    note_global_calls();
    struct n_main *m = snew(sizeof *m);
    struct lclosure *cl = snew(sizeof *cl);
    cl->type = T_LFUNC;
    cl->p = p;
    m->code = (void *)run_main;
    m->cl = cl;
    m->fr = lalloc(sizeof(struct frame) + p->nslots * sizeof(value));
    FS = NULL;
    free(f);
    return stage_commit(m);
}
