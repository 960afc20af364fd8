/* comp_expr.c -- compiling expressions: variables (local, upvalue,
 * global), indexing, calls, method calls, operators by Lua 5.4 priority,
 * function and table constructors.  The result is a struct ex: the node
 * plus what an assignment to it or an error message needs.
 */
#include "comp.h"

#include <stdlib.h>

nodep mkk(value k)
{
    struct n_k *n = snew(sizeof *n);
    n->code = (void *)nc_k;
    n->k = k;
    return (nodep)n;
}

static int findup(struct fs *f, struct var *v, const char *name, int instack, int idx)
{
    for (int i = 0; i < f->nups; i++)
        if (f->ups[i].var == v) return i;
    if (f->nups == MAXUPS) lex_error(LX, "too many upvalues");
    f->ups[f->nups].var = v;
    f->ups[f->nups].instack = instack;
    f->ups[f->nups].idx = idx;
    f->ups[f->nups].name = strdup(name);
    return f->nups++;
}

/* The variable name in function f: E_LOCAL, E_UPVAL or E_GLOBAL. */
static int resolve(struct fs *f, const char *name, int *idx, struct var **var)
{
    for (int i = f->nact - 1; i >= 0; i--)
        if (!strcmp(f->act[i]->name, name)) {
            *idx = f->act[i]->slot;
            *var = f->act[i];
            return E_LOCAL;
        }
    for (int i = 0; i < f->nups; i++)
        if (!strcmp(f->ups[i].name, name)) {
            *idx = i;
            *var = f->ups[i].var;
            return E_UPVAL;
        }
    if (!f->up) return E_GLOBAL;
    int k = resolve(f->up, name, idx, var);
    if (k == E_GLOBAL) return k;
    if (k == E_LOCAL) (*var)->captured = 1;
    *idx = findup(f, *var, (*var)->name, k == E_LOCAL, *idx);
    return E_UPVAL;
}

void singlevar(const char *name, struct ex *e)
{
    memset(e, 0, sizeof *e);
    e->line = LX->line;
    e->kind = resolve(FS, name, &e->idx, &e->var);
    if (e->kind == E_GLOBAL) {
        e->name = kstr(name, strlen(name));
        e->desc = pstr("global '%s'", name);
    } else e->desc = pstr("%s '%s'", e->kind == E_LOCAL ? "local" : "upvalue", name);
}

/* The node that reads e (building it on first use). */
nodep access(struct ex *e)
{
    if (e->n) return e->n;
    switch (e->kind) {
    case E_LOCAL: {
        struct n_var *n = snew(sizeof *n);
        n->code = (void *)nc_local;
        n->idx = e->idx;
        addfix(e->var, FX_CODE, &n->code, 0, (void *)nc_localc);
        return e->n = (nodep)n;
    }
    case E_UPVAL: {
        struct n_var *n = snew(sizeof *n);
        n->code = (void *)nc_upval;
        n->idx = e->idx;
        return e->n = (nodep)n;
    }
    case E_GLOBAL: {
        struct n_global *n = snew(sizeof *n);
        n->code = (void *)nc_global;
        n->name = e->name;
        n->line = e->line;
        return e->n = (nodep)n;
    }
    default: {
        struct n_index *n = snew(sizeof *n);
        n->code = (void *)nc_index;
        n->line = e->line;
        n->o = e->o;
        n->k = e->k;
        n->desc = e->desc;
        return e->n = (nodep)n;
    }
    }
}

static void val(struct ex *e, nodep n)
{
    memset(e, 0, sizeof *e);
    e->n = n;
}

/* A field access o.name / o[k]: desc names the object for error messages. */
static void indexed(struct ex *e, nodep k, const struct lstr *kname, int line)
{
    nodep o = access(e);
    const char *odesc = e->desc;
    memset(e, 0, sizeof *e);
    e->kind = E_INDEX;
    e->o = o;
    e->k = k;
    e->line = line;
    e->desc = odesc;
    e->name = kname;
}

static void callargs(struct ex *e, int method, const struct lstr *mname)
{
    int line = LX->line;
    nodep *args = NULL;
    int n = 0, multi = 0;
    if (LX->tok == TK_STRING) {
        args = malloc(sizeof *args);
        args[0] = mkk(mkstr(LX->buf, LX->len));
        n = 1;
        lex_next(LX);
    } else if (LX->tok == '{') {
        struct ex t;
        expr(&t);       /* a table constructor is a simple expression */
        args = malloc(sizeof *args);
        args[0] = t.n;
        n = 1;
    } else {
        checknext('(');
        if (LX->tok != ')') n = explist(&args, &multi);
        check(')');
        lex_next(LX);
    }
    struct n_call *c = snew(sizeof *c + n * sizeof(nodep));
    c->code = (void *)(method ? nc_method : nc_call);
    c->line = line;
    c->nargs = n;
    c->multi = multi;
    c->name = mname;
    if (n) memcpy(c->args, args, n * sizeof(nodep));
    free(args);
    c->fn = access(e);
    c->desc = e->desc;
    if (!method && e->kind == E_LOCAL && e->var) addfix(e->var, FX_CALL, c, 0, NULL);
    if (!method && e->kind == E_UPVAL && e->var) addfix(e->var, FX_CALL, c, 0, NULL);
    if (!method && e->kind == E_GLOBAL) note_gcall(c, e->name);
    val(e, (nodep)c);
    e->multi = 1;
    e->line = line;
}

static void primaryexp(struct ex *e)
{
    if (LX->tok == TK_NAME) {
        singlevar(LX->buf, e);
        lex_next(LX);
    } else if (LX->tok == '(') {
        lex_next(LX);
        expr(e);
        access(e);
        checknext(')');
        e->multi = 0;       /* (f()) is one value */
        e->kind = E_VAL;
    } else lex_error(LX, "unexpected symbol");
}

void suffixedexp(struct ex *e)
{
    primaryexp(e);
    for (;;) {
        switch (LX->tok) {
        case '.': {
            int line = LX->line;
            lex_next(LX);
            check(TK_NAME);
            const struct lstr *k = kstr(LX->buf, LX->len);
            const char *fd = pstr("field '%s'", LX->buf);
            lex_next(LX);
            indexed(e, mkk((value)(uintptr_t)k), k, line);
            access(e);
            e->desc = fd;
            break;
        }
        case '[': {
            int line = LX->line;
            lex_next(LX);
            struct ex k;
            expr(&k);
            checknext(']');
            const struct lstr *kn = NULL;
            nodep kn_ = access(&k);
            if (kn_->code == (void *)nc_k && ISSTR(((const struct n_k *)kn_)->k)) kn = STR(((const struct n_k *)kn_)->k);
            indexed(e, kn_, kn, line);
            access(e);
            e->desc = kn ? pstr("field '%s'", kn->s) : NULL;
            break;
        }
        case ':': {
            lex_next(LX);
            check(TK_NAME);
            const struct lstr *m = kstr(LX->buf, LX->len);
            lex_next(LX);
            callargs(e, 1, m);
            break;
        }
        case '(': case TK_STRING: case '{':
            callargs(e, 0, NULL);
            break;
        default:
            return;
        }
    }
}

static void table_ctor(struct ex *e)
{
    int line = LX->line;
    checknext('{');
    int cap = 8, n = 0, narr = 0, multi = 0;
    nodep *it = malloc(cap * 2 * sizeof *it);
    while (LX->tok != '}') {
        if (n == cap) it = realloc(it, (cap *= 2) * 2 * sizeof *it);
        struct ex k, v;
        multi = 0;
        if (LX->tok == '[') {
            lex_next(LX);
            expr(&k);
            checknext(']');
            checknext('=');
            expr(&v);
            it[2 * n] = access(&k);
        } else if (LX->tok == TK_NAME && ({ const char *q = LX->p; while (q < LX->end && strchr(" \t\r\n", *q)) q++;
                                          q < LX->end && *q == '=' && (q + 1 >= LX->end || q[1] != '='); })) {
            it[2 * n] = mkk((value)(uintptr_t)kstr(LX->buf, LX->len));
            lex_next(LX);
            checknext('=');
            expr(&v);
        } else {
            expr(&v);
            it[2 * n] = NULL;
            narr++;
            multi = v.multi;
        }
        it[2 * n + 1] = access(&v);
        n++;
        if (!testnext(',') && !testnext(';')) break;
        if (LX->tok == '}') multi = 0;
    }
    char b[8];
    if (LX->tok != '}') lex_error(LX, pstr("'}' expected%s", line != LX->line ? pstr(" (to close '{' at line %d)", line) : ""));
    (void)b;
    lex_next(LX);
    if (n && it[2 * (n - 1)]) multi = 0;
    struct n_table *t = snew(sizeof *t + 2 * n * sizeof(nodep));
    t->code = (void *)nc_table;
    t->line = line;
    t->narr = narr;
    t->nhash = n - narr;
    t->multi = multi;
    memcpy(t->items, it, 2 * n * sizeof(nodep));
    free(it);
    val(e, (nodep)t);
}

static void simpleexp(struct ex *e)
{
    switch (LX->tok) {
    case TK_NUMBER: val(e, mkk(LX->num)); break;
    case TK_STRING: val(e, mkk(mkstr(LX->buf, LX->len))); break;
    case TK_NIL: val(e, mkk(NIL)); break;
    case TK_TRUE: val(e, mkk(VTRUE)); break;
    case TK_FALSE: val(e, mkk(VFALSE)); break;
    case TK_DOTS: {
        if (!FS->vararg) lex_error(LX, "cannot use '...' outside a vararg function");
        struct node *n = snew(sizeof *n);
        n->code = (void *)nc_vararg;
        val(e, n);
        e->multi = 1;
        break;
    }
    case '{': table_ctor(e); return;
    case TK_FUNCTION: {
        int line = LX->line;
        lex_next(LX);
        struct n_func *f = snew(sizeof *f);
        f->code = (void *)nc_func;
        f->p = funcbody(line, 0, "anonymous");
        val(e, (nodep)f);
        return;
    }
    default: suffixedexp(e); return;
    }
    lex_next(LX);
}

static const struct { int tok, op; uint8_t left, right; } binops[] = {
    { '+', OP_ADD, 10, 10 }, { '-', OP_SUB, 10, 10 }, { '*', OP_MUL, 11, 11 }, { '/', OP_DIV, 11, 11 },
    { '%', OP_MOD, 11, 11 }, { TK_IDIV, OP_IDIV, 11, 11 }, { '^', OP_POW, 14, 13 },
    { TK_CONCAT, OP_CONCAT, 9, 8 }, { TK_SHL, OP_SHL, 7, 7 }, { TK_SHR, OP_SHR, 7, 7 },
    { '&', OP_BAND, 6, 6 }, { '~', OP_BXOR, 5, 5 }, { '|', OP_BOR, 4, 4 },
    { TK_EQ, OP_EQ, 3, 3 }, { TK_NE, OP_NE, 3, 3 }, { '<', OP_LT, 3, 3 }, { TK_LE, OP_LE, 3, 3 },
    { '>', OP_GT, 3, 3 }, { TK_GE, OP_GE, 3, 3 }, { TK_AND, OP_AND, 2, 2 }, { TK_OR, OP_OR, 1, 1 },
};
#define UNARY_PRI 12

static nodep mkun(void *code, nodep a, int line, const char *desc)
{
    struct n_un *u = snew(sizeof *u);
    u->code = code;
    u->a = a;
    u->line = line;
    u->desc = desc;
    return (nodep)u;
}

static int subexpr(struct ex *e, int limit)
{
    int tok = LX->tok;
    if (tok == TK_NOT || tok == '-' || tok == '#' || tok == '~') {
        int line = LX->line;
        lex_next(LX);
        subexpr(e, UNARY_PRI);
        nodep a = access(e);
        const char *d = e->desc;
        if (tok == '-' && a->code == (void *)nc_k && isnum(((const struct n_k *)a)->k)) {
            value k = ((const struct n_k *)a)->k;   /* fold a negative numeral */
            val(e, mkk(isint(k) ? intv((int64_t)(0 - (uint64_t)ival(k))) : dbl(-dblv(k))));
        } else {
            void *code = tok == TK_NOT ? (void *)nc_not : tok == '-' ? (void *)nc_neg : tok == '#' ? (void *)nc_len : (void *)nc_bnot;
            val(e, mkun(code, a, line, d));
        }
    } else simpleexp(e);
    for (;;) {
        size_t i;
        for (i = 0; i < sizeof binops / sizeof *binops; i++)
            if (binops[i].tok == LX->tok) break;
        if (i == sizeof binops / sizeof *binops || binops[i].left <= limit) return 0;
        int line = LX->line;
        lex_next(LX);
        nodep a = access(e);
        const char *da = e->desc;
        struct ex r;
        subexpr(&r, binops[i].right);
        struct n_bin *b = snew(sizeof *b);
        b->code = (void *)bin_code[binops[i].op];
        b->op = binops[i].op;
        b->line = line;
        b->a = a;
        b->b = access(&r);
        b->da = da;
        b->db = r.desc;
        val(e, (nodep)b);
    }
}

void expr(struct ex *e) { subexpr(e, 0); }

/* exp {',' exp}: the nodes in a malloc'd array; multi when the last one
 * is a call or '...'. */
int explist(nodep **out, int *multi)
{
    int n = 0, cap = 4;
    nodep *v = malloc(cap * sizeof *v);
    for (;;) {
        struct ex e;
        expr(&e);
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = access(&e);
        *multi = e.multi;
        if (!testnext(',')) break;
    }
    *out = v;
    return n;
}
