/* comp.h -- shared state of the compiler (comp.c: scopes, statements;
 * comp_expr.c: expressions).  The compiler parses and emits nodes in one
 * pass; nodes are built in the staging area (stage.c) and frozen together
 * at the end, so a node can still be patched while its variables' scopes
 * are open (a local that turns out to be captured switches its accesses to
 * the cell variants when its scope closes).
 */
#ifndef LUA_COMP_H
#define LUA_COMP_H

#include "lex.h"
#include "node.h"

enum { FX_CODE, FX_MASK, FX_FLAG, FX_KIND, FX_CALL };
struct fix { int kind; void *p; uint64_t bit; void *alt; };

struct var {
    char *name;
    int slot, captured, nassign;
    const struct proto *kp;     /* bound once to this function */
    struct fix *fx;
    int nfx, cfx;
};

#define MAXVARS 200
#define MAXUPS 255
struct fs {
    struct fs *up;
    struct var *act[MAXVARS];
    int nact, free, maxs, vararg;
    struct { struct var *var; int instack, idx; char *name; } ups[MAXUPS];
    int nups;
};

enum { E_VAL, E_LOCAL, E_UPVAL, E_GLOBAL, E_INDEX };
struct ex {
    nodep n;
    int kind, multi, idx, line;
    struct var *var;
    nodep o, k;
    const struct lstr *name;    /* global name, or constant string key */
    const char *desc;
};

extern struct lexer *LX;
extern struct fs *FS;

/* stage.c */
void *snew(size_t n);
void *stage_commit(void *p);

/* comp.c */
void check(int tok);
void checknext(int tok);
int testnext(int tok);
char *str_name(void);
void addfix(struct var *v, int kind, void *p, uint64_t bit, void *alt);
const struct proto *funcbody(int line, int method, const char *name);
const char *pstr(const char *fmt, ...);
const struct lstr *kstr(const char *s, size_t len);
void note_gcall(struct n_call *c, const struct lstr *name);

/* comp_expr.c */
void expr(struct ex *e);
void suffixedexp(struct ex *e);
int explist(nodep **out, int *multi);
nodep mkk(value k);
nodep access(struct ex *e);
void singlevar(const char *name, struct ex *e);

#endif
