/* lib.h -- helpers shared by the library files (lib.c, lib_str.c). */
#ifndef LUA_LIB_H
#define LUA_LIB_H

#include "lua.h"

#define RET0() do { nres = 0; return NIL; } while (0)
#define RET1(v) do { value r1_ = (v); nres = 1; return r1_; } while (0)
#define RET2(a, b) do { value r1_ = (a); rbuf[1] = (b); nres = 2; return r1_; } while (0)

_Noreturn void argerror(int i, const char *fn, const char *msg);
_Noreturn void typeerror(int i, const char *fn, const char *want, value *a, int n);
struct table *argtable(value *a, int n, int i, const char *fn);
int64_t argint(value *a, int n, int i, const char *fn);
int64_t optint(value *a, int n, int i, const char *fn, int64_t dflt);
double argnum(value *a, int n, int i, const char *fn);
value argany(value *a, int n, int i, const char *fn);
void reg(struct table *t, const char *name, cfn f);
void strlib_init(struct table *t);

#endif
