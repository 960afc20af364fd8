/* lift_proc.c -- the running process as guest memory, for lf_optimize.
 *
 * Inputs: the loaded objects (dl_iterate_phdr), the runtime's frozen arena
 * (lf_is_frozen), the analyzer's view of the object that holds the code
 * being specialized (function bounds, DWARF noreturn, PLT names).
 * Outputs: a lift_memsrc (identity-mapped: host == guest), the code ranges
 * that may be lifted, and the noreturn predicate.
 * Invariants:
 *   1. Constant: read-only PT_LOAD segments, PT_GNU_RELRO ranges (read-only
 *      once relocated), and frozen objects.  Writable segments are listed
 *      as readable but mutable, so loads from them stay real loads.
 *   2. Liftable code is the executable segments of the one object that
 *      holds fn; calls into other objects (libc, ...) stay native.
 *   3. The analysis of an object is opened once and kept for the process
 *      (an_binary is immutable after an_open). */
#define _GNU_SOURCE
#include "lifter/lift_proc.h"
#include "lifter/codegen/lift_aot.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int frozen_const(uint64_t guest, size_t n)
{
    return n > 0 && lf_is_frozen((const void *)(uintptr_t)guest) &&
           lf_is_frozen((const void *)(uintptr_t)(guest + n - 1));
}

struct scan {
    struct lift_proc *p;
    uint64_t fn;
};

static void map_add(struct lift_proc *p, uint64_t lo, uint64_t size, int constant)
{
    if (p->nmaps == p->capmaps) {
        p->capmaps = p->capmaps ? 2 * p->capmaps : 64;
        p->maps = realloc(p->maps, p->capmaps * sizeof *p->maps);
        LF_ASSERT(p->maps, "out of memory");
    }
    p->maps[p->nmaps++] = (struct lift_memmap){ lo, size, (const void *)(uintptr_t)lo, constant };
}

static int scan_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct scan *s = arg;
    struct lift_proc *p = s->p;
    int mine = 0;
    for (int k = 0; k < info->dlpi_phnum; k++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
        uint64_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && s->fn >= lo && s->fn < lo + ph->p_memsz)
            mine = 1;
        if (ph->p_type == PT_GNU_RELRO) map_add(p, lo, ph->p_memsz, 1);
    }
    for (int k = 0; k < info->dlpi_phnum; k++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R)) continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr;
        map_add(p, lo, ph->p_memsz, !(ph->p_flags & PF_W));
        if (mine && (ph->p_flags & PF_X) && p->ncode < sizeof p->code / sizeof p->code[0])
            p->code[p->ncode++] = (struct lift_range){ lo, lo + ph->p_memsz };
    }
    if (mine) {
        p->bias = info->dlpi_addr;
        const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe";
        snprintf(p->path, sizeof p->path, "%s", name);
    }
    return 0;
}

/* -- The analysis of the object, once per path ------------------------------------ */

static pthread_mutex_t an_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { char path[4096]; struct an_binary *b; } an_cache[8];

static struct an_binary *proc_analysis(const char *path)
{
    pthread_mutex_lock(&an_lock);
    struct an_binary *b = NULL;
    for (int k = 0; k < 8 && !b; k++)
        if (an_cache[k].b && strcmp(an_cache[k].path, path) == 0) b = an_cache[k].b;
    if (!b) {
        char err[256];
        if (an_open(path, 0, &b, err, sizeof err) != LF_OK) b = NULL;
        for (int k = 0; k < 8 && b; k++)
            if (!an_cache[k].b) {
                snprintf(an_cache[k].path, sizeof an_cache[k].path, "%s", path);
                an_cache[k].b = b;
                break;
            }
    }
    pthread_mutex_unlock(&an_lock);
    return b;
}

enum lf_status lift_proc_open(struct lift_proc *p, uint64_t fn)
{
    memset(p, 0, sizeof *p);
    struct scan s = { p, fn };
    dl_iterate_phdr(scan_object, &s);
    if (p->ncode == 0) return LF_ERR_INVALID_ARG;
    p->mem = (struct lift_memsrc){ p->maps, p->nmaps, frozen_const };
    p->an = proc_analysis(p->path);
    return LF_OK;
}

int lift_proc_constant(const struct lift_proc *p, uint64_t a)
{
    if (frozen_const(a, 1)) return 1;
    for (size_t k = 0; k < p->nmaps; k++)
        if (p->maps[k].constant && a >= p->maps[k].guest && a - p->maps[k].guest < p->maps[k].size) return 1;
    return 0;
}

void lift_proc_close(struct lift_proc *p)
{
    free(p->maps);
    memset(p, 0, sizeof *p);
}

/* -- noreturn ------------------------------------------------------------------------ */

int lift_noreturn_name(const char *name)
{
    static const char *const names[] = {
        "abort", "exit", "_exit", "_Exit", "quick_exit", "__stack_chk_fail", "__assert_fail",
        "__assert_perror_fail", "longjmp", "siglongjmp", "_longjmp", "__longjmp_chk",
        "__fortify_fail", "__chk_fail", "err", "errx", "verr", "verrx", "pthread_exit",
        "__cxa_throw", "__cxa_rethrow", "_Unwind_Resume", "__cxa_bad_cast",
    };
    if (!name) return 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(name, names[k]) == 0) return 1;
    return 0;
}

/* With the analysis of the binary (addresses at link time = run time -
 * bias): DWARF noreturn, a PLT stub of a noreturn libc function, or a call
 * that is the last instruction of its function. */
int lift_an_noreturn(const struct an_binary *b, uint64_t bias, uint64_t target, uint64_t retpc)
{
    if (!b) return 0;
    const struct an_func *f = target ? an_func_at(b, target - bias) : NULL;
    if (f && f->addr == target - bias) {
        if (f->noreturn) return 1;
        if (f->is_plt && lift_noreturn_name(f->plt_target)) return 1;
        if (!f->is_plt && lift_noreturn_name(f->name)) return 1;
    }
    if (!retpc) return 0;
    const struct an_func *cur = an_func_at(b, retpc - 1 - bias);
    if (cur && cur->size && retpc - bias == cur->addr + cur->size) return 1;
    return 0;
}

int lift_proc_noreturn(struct lift_mod *m, uint64_t target, uint64_t retpc)
{
    struct lift_proc *p = m->user;
    if (lift_an_noreturn(p->an, p->bias, target, retpc)) return 1;
    if (target && !lift_code_ok(m, target)) {
        Dl_info di;
        if (dladdr((void *)(uintptr_t)target, &di) && di.dli_saddr == (void *)(uintptr_t)target)
            return lift_noreturn_name(di.dli_sname);
    }
    return 0;
}

/* -- Argument registers ---------------------------------------------------------------- */

/* The function starting at target, if it has a DWARF prototype. */
static const struct an_func *proto_at(const struct an_binary *b, uint64_t bias, uint64_t target)
{
    const struct an_func *f = b && target ? an_func_at(b, target - bias) : NULL;
    return f && f->addr == target - bias && f->has_proto ? f : NULL;
}

/* That prototype describes the code: not a PLT stub, and not a compiler
 * clone (foo.isra.0, foo.constprop.0), which may take other arguments and
 * return other results than the prototype it inherits. */
static const struct an_func *proto_trusted(const struct an_binary *b, uint64_t bias, uint64_t target)
{
    const struct an_func *f = proto_at(b, bias, target);
    return f && !f->is_plt && f->name && !strchr(f->name, '.') ? f : NULL;
}

/* From target's DWARF prototype (not variadic): the integer and vector
 * argument registers it reads (bit k = k-th of rdi rsi rdx rcx r8 r9 /
 * xmm0-7), by the SysV classification: an argument that does not fit in
 * the registers left goes to memory whole; a returned MEMORY value takes
 * rdi for its address. */
int lift_an_args(const struct an_binary *b, uint64_t bias, uint64_t target, unsigned *gpr, unsigned *xmm)
{
    const struct an_func *f = proto_trusted(b, bias, target);
    if (!f || f->variadic) return 0;
    int gi = f->ret.cls[0] == AN_ABI_MEMORY, si = 0;
    unsigned stack = 0;
    for (int k = 0; k < f->nparams; k++) {
        const struct an_param *p = &f->params[k];
        int ni = 0, ns = 0;
        for (int e = 0; e < 2; e++) {
            ni += p->cls[e] == AN_ABI_INTEGER;
            ns += p->cls[e] == AN_ABI_SSE;
        }
        if (p->cls[0] == AN_ABI_NONE) return 0;   /* unknown or unclassified type: no answer */
        if (gi + ni <= 6 && si + ns <= 8 && p->cls[0] != AN_ABI_MEMORY) gi += ni, si += ns;
        else stack = LIFT_ARGS_STACK;
    }
    *gpr = ((1u << gi) - 1) | stack;
    *xmm = (1u << si) - 1;
    return 1;
}

/* The result registers of target's prototype: each eightbyte of an
 * INTEGER or SSE class takes the next of rax, rdx or xmm0, xmm1; MEMORY
 * returns the address in rax; void none.  0 when there is no prototype to
 * trust (as for the arguments) or the result is x87's. */
int lift_an_rets(const struct an_binary *b, uint64_t bias, uint64_t target, unsigned *gpr, unsigned *xmm)
{
    const struct an_func *f = proto_trusted(b, bias, target);
    if (!f || (f->ret.cls[0] == AN_ABI_NONE && f->ret.size)) return 0;   /* unclassified result */
    int mem = f->ret.cls[0] == AN_ABI_MEMORY, gi = mem, si = 0;
    for (int e = 0; e < 2 && !mem; e++) {
        if (f->ret.cls[e] == AN_ABI_INTEGER) gi++;
        else if (f->ret.cls[e] == AN_ABI_SSE) si++;
        else if (f->ret.cls[e] != AN_ABI_NONE) return 0;
    }
    *gpr = (1u << gi) - 1;
    *xmm = (1u << si) - 1;
    return 1;
}

int lift_an_sret(const struct an_binary *b, uint64_t bias, uint64_t target)
{
    const struct an_func *f = proto_at(b, bias, target);
    return f && f->ret.cls[0] == AN_ABI_MEMORY;
}

/* Code the lifter cannot read (another object) is taken at its word. */
static int code_agrees(struct lift_mod *m, uint64_t target, unsigned gpr, unsigned xmm)
{
    unsigned g, x;
    if (!lift_code_ok(m, target)) return 1;
    lift_entry_reads(m, target, &g, &x);
    if (!(g & ~gpr & 0x3f) && !(x & ~xmm & 0xff)) return 1;
    LF_DEBUG(1, "lineiform: prototype at %#llx distrusted: code reads argument registers %#x/%#x, "
             "prototype lists %#x/%#x\n", (unsigned long long)target, g, x, gpr & 0x3f, xmm);
    return 0;
}

int lift_an_args_checked(struct lift_mod *m, const struct an_binary *b, uint64_t bias, uint64_t target,
                         unsigned *gpr, unsigned *xmm)
{
    unsigned g, x;
    if (!lift_an_args(b, bias, target, &g, &x) || !code_agrees(m, target, g, x)) return 0;
    *gpr = g;
    *xmm = x;
    return 1;
}

int lift_an_rets_checked(struct lift_mod *m, const struct an_binary *b, uint64_t bias, uint64_t target,
                         unsigned *gpr, unsigned *xmm)
{
    unsigned g, x;
    if (!lift_an_args(b, bias, target, &g, &x) || !code_agrees(m, target, g, x)) return 0;
    return lift_an_rets(b, bias, target, gpr, xmm);
}

int lift_proc_rets(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm)
{
    struct lift_proc *p = m->user;
    return lift_an_rets_checked(m, p->an, p->bias, target, gpr, xmm);
}

int lift_proc_args(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm)
{
    struct lift_proc *p = m->user;
    return lift_an_args_checked(m, p->an, p->bias, target, gpr, xmm);
}

/* -- PLT stubs ----------------------------------------------------------------------- */

int lift_proc_plt(struct lift_mod *m, uint64_t target, const char **name)
{
    struct lift_proc *p = m->user;
    const struct an_func *f = p->an ? an_func_at(p->an, target - p->bias) : NULL;
    if (!f || !f->is_plt || f->addr != target - p->bias || !f->plt_target) return 0;
    *name = f->plt_target;
    return 1;
}

/* A PLT stub is called at the function it binds to (dlsym), so the call
 * does not go through the GOT; without a symbol, at the stub itself. */
LLVMValueRef lift_proc_native_ref(struct lift_ctx *c, uint64_t target)
{
    const char *name;
    if (!lift_proc_plt(c->mod, target, &name)) return NULL;
    void *a = dlsym(RTLD_DEFAULT, name);
    return a ? lift_const(c, 64, (uint64_t)(uintptr_t)a) : NULL;
}

/* -- Jump tables ------------------------------------------------------------------------ */

int lift_an_jump_table(const struct an_binary *b, uint64_t bias, uint64_t site,
                       const uint64_t **targets, unsigned *n)
{
    const struct an_func *f = b ? an_func_at(b, site - bias) : NULL;
    if (!f || !f->cfg) return 0;
    for (unsigned k = 0; k < f->cfg->n_jump_tables; k++) {
        const struct an_jump_table *t = &f->cfg->jump_tables[k];
        if (t->site != site - bias || !t->n_entries) continue;
        /* Without a recognized bound check, keep the entries that land in
         * this function (or its .cold part): extra ones are only dead
         * cases, an entry elsewhere ends the table. */
        unsigned m = t->n_entries;
        for (unsigned e = 0; !t->bounded && e < t->n_entries; e++) {
            const struct an_func *g = an_func_at(b, t->targets[e]);
            if (!g || (g != f && g->parent_addr != f->addr && f->parent_addr != g->addr)) { m = e; break; }
        }
        if (!m) return 0;
        *targets = t->targets;
        *n = m;
        return 1;
    }
    return 0;
}

int lift_proc_jump_table(struct lift_mod *m, uint64_t site, const uint64_t **targets,
                         unsigned *n, uint64_t *bias)
{
    struct lift_proc *p = m->user;
    *bias = p->bias;
    return lift_an_jump_table(p->an, p->bias, site, targets, n);
}

/* -- Exception tables ------------------------------------------------------------------ */

int lift_an_eh(const struct an_binary *b, uint64_t bias, uint64_t target)
{
    const struct an_func *f = b && target ? an_func_at(b, target - bias) : NULL;
    return f && f->addr == target - bias && f->n_landing_pads > 0;
}

int lift_proc_eh(struct lift_mod *m, uint64_t target)
{
    struct lift_proc *p = m->user;
    return lift_an_eh(p->an, p->bias, target);
}
