/* prim_table.c -- the builtin procedures as frozen objects, found by name.
 *
 * Each builtin is a frozen struct prim (its C function, name and arity),
 * made once at start-up before compiling; nodes and global cells point at
 * these objects, so they are part of the snapshot like any other constant.
 */
#include "comp.h"

#include <string.h>

#include "lineiform.h"

struct prim_ent { value sym; const struct prim *p; };
static struct prim_ent table[512];
static int ntable;

static void add_all(const struct lv_primdef *defs)
{
    for (; defs->name; defs++) {
        if (ntable == (int)(sizeof table / sizeof table[0]))
            lv_die(lv_nopos, "internal error: too many builtins");
        struct prim p;
        memset(&p, 0, sizeof p);        /* padding too: dumps are deterministic */
        p.h.type = T_PRIM;
        p.fn = defs->fn;
        p.name = defs->name;
        p.min = defs->min;
        p.max = defs->max;
        table[ntable].sym = lv_intern(defs->name);
        table[ntable].p = lf_freeze(&p, sizeof p);
        if (!table[ntable].p) lv_die(lv_nopos, "frozen arena exhausted");
        ntable++;
    }
}

void lv_prims_init(void)
{
    add_all(lv_prims_num);
    add_all(lv_prims_list);
    add_all(lv_prims_str);
    add_all(lv_prims_port);
    add_all(lv_prims_ctl);
    add_all(lv_prims_bvec);
}

const struct prim *lv_prim_lookup(value sym)
{
    for (int i = 0; i < ntable; i++)
        if (table[i].sym == sym) return table[i].p;
    return NULL;
}
