/* lift_aot.c -- ahead-of-time compilation of a snapshot's entry closure
 * into relocatable ELF objects (see lift_aot.h).
 *
 * The same pipeline as lf_optimize (lift.c), with guest memory read only
 * through the lift_memmap table the snapshot command built (interpreter
 * segments and heap-dump arenas, held anywhere in this process), and code
 * generation for a deliberate CPU (x86-64-v2), position-independent code
 * and the small code model: calls between specializations are direct and
 * constants are read PC-relative (the image is one piece of at most a few
 * MiB).  Native calls into the interpreter use its absolute
 * run-time addresses (the image runs in the same interpreter at the same
 * addresses); calls through the interpreter's PLT become undefined
 * symbols named after the function they bind to (strlen, GC_malloc, ...),
 * for the image linker to resolve at load time.  A large module's code
 * generation is split by function across threads, one object each.
 * Invariants:
 *   1. The objects together define one function symbol per specialization,
 *      named "<function>@0x<entry>"; out->entry_sym is the entry closure's.
 *      Split, every function is a hidden global (the objects call one
 *      another); whole, only the entry is.
 *   2. Nothing here reads the snapshot's memory except through in->maps. */
#include "lifter/codegen/lift_aot.h"
#include "lifter/lift_proc.h"

#include <gelf.h>
#include <libelf.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct aot {
    struct an_binary *an;
    uint64_t bias;
};

static int aot_noreturn(struct lift_mod *m, uint64_t target, uint64_t retpc)
{
    struct aot *a = m->user;
    return lift_an_noreturn(a->an, a->bias, target, retpc);
}

static int aot_args(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm)
{
    struct aot *a = m->user;
    return lift_an_args_checked(m, a->an, a->bias, target, gpr, xmm);
}

static int aot_rets(struct lift_mod *m, uint64_t target, unsigned *gpr, unsigned *xmm)
{
    struct aot *a = m->user;
    return lift_an_rets_checked(m, a->an, a->bias, target, gpr, xmm);
}

static int aot_eh(struct lift_mod *m, uint64_t target)
{
    struct aot *a = m->user;
    return lift_an_eh(a->an, a->bias, target);
}

static int aot_jump_table(struct lift_mod *m, uint64_t site, const uint64_t **targets,
                          unsigned *n, uint64_t *bias)
{
    struct aot *a = m->user;
    *bias = a->bias;
    return lift_an_jump_table(a->an, a->bias, site, targets, n);
}

static int aot_plt(struct lift_mod *m, uint64_t target, const char **name)
{
    struct aot *a = m->user;
    const struct an_func *f = a->an ? an_func_at(a->an, target - a->bias) : NULL;
    if (!f || !f->is_plt || f->addr != target - a->bias || !f->plt_target) return 0;
    *name = f->plt_target;
    return 1;
}

static const char *aot_fn_name(struct lift_mod *m, uint64_t fn)
{
    struct aot *a = m->user;
    const struct an_func *f = a->an ? an_func_at(a->an, fn - a->bias) : NULL;
    return f && f->addr == fn - a->bias ? f->name : NULL;
}

/* A PLT target is an undefined symbol of the object. */
static LLVMValueRef aot_native_ref(struct lift_ctx *c, uint64_t target)
{
    const char *name;
    if (!aot_plt(c->mod, target, &name)) return NULL;
    LLVMValueRef fn = LLVMGetNamedFunction(c->m, name);
    if (!fn) fn = LLVMAddFunction(c->m, name, c->mod->vfty);
    return LLVMConstPtrToInt(fn, c->i64);
}

static void aot_code_ranges(struct lift_mod *m, const struct aot *a, struct lift_range *r, size_t max)
{
    m->code = r;
    m->ncode = 0;
    for (unsigned k = 0; a->an && k < a->an->n_segments && m->ncode < max; k++) {
        const struct an_segment *s = &a->an->segments[k];
        if (s->flags & 1u /* PF_X */)
            r[m->ncode++] = (struct lift_range){ s->vaddr + a->bias, s->vaddr + a->bias + s->memsz };
    }
}

/* "<name>@0x<addr>" for every specialization (readable objdump output). */
static void aot_names(struct lift_mod *m, const struct aot *a)
{
    for (int k = 0; k < m->njobs; k++) {
        struct lift_job *j = m->jobs[k];
        if (!j->fn) continue;
        const struct an_func *f = a->an ? an_func_at(a->an, j->entry - a->bias) : NULL;
        char name[96];
        snprintf(name, sizeof name, "%.60s@0x%llx%s%d", f && f->addr == j->entry - a->bias ? f->name : "fn",
                 (unsigned long long)j->entry, k ? "." : "", k ? k : 0);
        if (!k) snprintf(name, sizeof name, "%.60s@0x%llx", f && f->addr == j->entry - a->bias ? f->name : "fn",
                         (unsigned long long)j->entry);
        LLVMSetValueName2(j->fn, name, strlen(name));
        /* Only the entry is called from outside: the others stay internal
         * (local symbols in the object), so LLVM may drop the arguments
         * and results of the universal signature they do not use. */
        if (!k) {
            LLVMSetLinkage(j->fn, LLVMExternalLinkage);
            LLVMSetVisibility(j->fn, LLVMHiddenVisibility);
        } else {
            LLVMSetLinkage(j->fn, LLVMInternalLinkage);
        }
    }
}

/* Append the function symbols of object k to out->syms. */
static enum lf_status aot_syms(struct lift_aot_result *out, size_t k, size_t *cap, char *why, size_t whylen)
{
    elf_version(EV_CURRENT);
    Elf *e = elf_memory((char *)out->obj[k], out->obj_len[k]);
    if (!e) return snprintf(why, whylen, "emitted object unreadable"), LF_ERR_LLVM;
    Elf_Scn *scn = NULL;
    enum lf_status st = LF_OK;
    while (st == LF_OK && (scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB) continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; d && i < n && st == LF_OK; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF)
                continue;
            if (out->nsyms == *cap) {
                size_t nc = *cap ? 2 * *cap : 16;
                struct lift_aot_sym *ns = realloc(out->syms, nc * sizeof *ns);
                if (!ns) { st = LF_ERR_NOMEM; break; }
                out->syms = ns;
                *cap = nc;
            }
            struct lift_aot_sym *o = &out->syms[out->nsyms++];
            snprintf(o->name, sizeof o->name, "%s", elf_strptr(e, sh.sh_link, s.st_name));
            o->offset = s.st_value;
            o->size = s.st_size;
        }
    }
    elf_end(e);
    return st;
}

/* -- Code generation, split across threads ------------------------------------ */

/* A module of fewer IR instructions is emitted whole: a split costs a
 * bitcode round trip and a thread, and saves little. */
enum { AOT_SPLIT_MIN = 6000 };

/* One object: the functions of part k.  Part 0 is emitted on the calling
 * thread from the module itself; the others on threads of their own, each
 * from a copy of the module read back from bitcode into its own context
 * (an LLVM context is not shared between threads). */
struct aot_part {
    int k;
    int nfn;
    char **names;              /* the module's defined functions, in order */
    int *owner;                /* the part each is emitted in */
    const char *bc;            /* the module's bitcode; NULL for part 0 */
    size_t bclen;
    LLVMModuleRef mod;
    LLVMTargetMachineRef tm;   /* given for part 0 */
    uint8_t *obj;
    size_t len;
    enum lf_status st;
    char why[256];
};

static enum lf_status aot_emit_one(LLVMModuleRef mod, LLVMTargetMachineRef tm, uint8_t **obj, size_t *len,
                                   char *why, size_t whylen)
{
    char *err = NULL;
    LLVMMemoryBufferRef buf = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &err, &buf)) {
        snprintf(why, whylen, "object emission failed: %s", err ? err : "?");
        LLVMDisposeMessage(err);
        return LF_ERR_LLVM;
    }
    *len = LLVMGetBufferSize(buf);
    *obj = malloc(*len ? *len : 1);
    if (*obj) memcpy(*obj, LLVMGetBufferStart(buf), *len);
    LLVMDisposeMemoryBuffer(buf);
    return *obj ? LF_OK : LF_ERR_NOMEM;
}

/* Keep the bodies of part k's functions; the others become declarations.
 * Every function is a hidden global, so the objects link to one another. */
static void aot_part_keep(struct aot_part *p)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(p->mod); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f)) continue;
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        int i = 0;
        while (i < p->nfn && strcmp(p->names[i], name) != 0) i++;
        if (i < p->nfn && p->owner[i] != p->k) lift_fn_clear_body(f);
        LLVMSetLinkage(f, LLVMExternalLinkage);
        LLVMSetVisibility(f, LLVMHiddenVisibility);
    }
}

static void *aot_part_run(void *arg)
{
    struct aot_part *p = arg;
    LLVMContextRef lc = NULL;
    LLVMTargetMachineRef tm = p->tm;
    if (p->bc) {
        lc = LLVMContextCreate();
        LLVMContextSetDiscardValueNames(lc, 1);
        LLVMMemoryBufferRef b = LLVMCreateMemoryBufferWithMemoryRange(p->bc, p->bclen, "lineiform_image", 0);
        if (LLVMParseBitcodeInContext2(lc, b, &p->mod)) {
            snprintf(p->why, sizeof p->why, "compiled module does not read back from bitcode");
            p->st = LF_ERR_LLVM;
        }
        LLVMDisposeMemoryBuffer(b);
        if (p->st == LF_OK && !(tm = lift_tm_create("x86-64-v2", 1, p->why, sizeof p->why))) p->st = LF_ERR_LLVM;
    }
    if (p->st == LF_OK) {
        aot_part_keep(p);
        p->st = aot_emit_one(p->mod, tm, &p->obj, &p->len, p->why, sizeof p->why);
    }
    if (p->bc) {
        if (tm) LLVMDisposeTargetMachine(tm);
        if (p->mod) LLVMDisposeModule(p->mod);
        LLVMContextDispose(lc);
    }
    return NULL;
}

static unsigned aot_fn_size(LLVMValueRef f)
{
    unsigned n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) n++;
    return n;
}

/* Split the defined functions into at most maxparts parts of about equal
 * size (largest first, each to the smallest part); returns the number of
 * parts, 1 for a module not worth splitting. */
static int aot_partition(LLVMModuleRef mod, int maxparts, struct aot_part *p)
{
    int nfn = 0, nparts = 1;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) nfn += !LLVMIsDeclaration(f);
    char **names = calloc((size_t)(nfn ? nfn : 1), sizeof *names);
    unsigned *size = calloc((size_t)(nfn ? nfn : 1), sizeof *size), total = 0;
    int *owner = calloc((size_t)(nfn ? nfn : 1), sizeof *owner);   /* -1: not placed yet */
    int ok = names && size && owner, i = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); ok && f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f)) continue;
        size_t len;
        ok = (names[i] = strdup(LLVMGetValueName2(f, &len))) != NULL;
        total += size[i] = aot_fn_size(f);
        owner[i++] = -1;
    }
    if (ok && total >= AOT_SPLIT_MIN) nparts = nfn < maxparts ? nfn : maxparts;
    unsigned load[LIFT_AOT_MAX_OBJS] = { 0 };
    for (int n = 0; nparts > 1 && n < nfn; n++) {
        int big = -1, least = 0;
        for (int q = 0; q < nfn; q++)
            if (owner[q] < 0 && (big < 0 || size[q] > size[big])) big = q;
        for (int k = 1; k < nparts; k++)
            if (load[k] < load[least]) least = k;
        owner[big] = least;
        load[least] += size[big];
    }
    free(size);
    if (nparts == 1) {
        for (int q = 0; names && q < nfn; q++) free(names[q]);
        free(names);
        free(owner);
        p[0] = (struct aot_part){ .k = 0, .st = LF_OK };
        return 1;
    }
    for (int k = 0; k < nparts; k++)
        p[k] = (struct aot_part){ .k = k, .nfn = nfn, .names = names, .owner = owner, .st = LF_OK };
    return nparts;
}

/* Emit the optimized module as one object per part, the parts on threads
 * of their own (as many as the machine has processors, at most
 * LIFT_AOT_MAX_OBJS). */
static enum lf_status aot_emit(LLVMModuleRef mod, LLVMTargetMachineRef tm, int threads,
                               struct lift_aot_result *out, char *why, size_t whylen)
{
    long ncpu = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
    int maxparts = ncpu < 1 ? 1 : ncpu > LIFT_AOT_MAX_OBJS ? LIFT_AOT_MAX_OBJS : (int)ncpu;
    struct aot_part p[LIFT_AOT_MAX_OBJS];
    int nparts = aot_partition(mod, maxparts, p);
    LLVMMemoryBufferRef bc = nparts > 1 ? LLVMWriteBitcodeToMemoryBuffer(mod) : NULL;
    pthread_t th[LIFT_AOT_MAX_OBJS];
    int started[LIFT_AOT_MAX_OBJS] = { 0 };
    for (int k = 1; k < nparts; k++) {
        p[k].bc = bc ? LLVMGetBufferStart(bc) : NULL;
        p[k].bclen = bc ? LLVMGetBufferSize(bc) : 0;
        if (!bc) p[k].st = LF_ERR_LLVM, snprintf(p[k].why, sizeof p[k].why, "cannot write the module's bitcode");
        else started[k] = pthread_create(&th[k], NULL, aot_part_run, &p[k]) == 0;
        if (bc && !started[k]) aot_part_run(&p[k]);   /* no thread: here */
    }
    p[0].mod = mod;
    p[0].tm = tm;
    if (nparts > 1) aot_part_run(&p[0]);
    else p[0].st = aot_emit_one(mod, tm, &p[0].obj, &p[0].len, p[0].why, sizeof p[0].why);
    enum lf_status st = LF_OK;
    size_t cap = 0;
    for (int k = 0; k < nparts; k++) {
        if (started[k]) pthread_join(th[k], NULL);
        out->obj[k] = p[k].obj;
        out->obj_len[k] = p[k].len;
        if (p[k].obj) out->nobj = (size_t)k + 1;
        if (st == LF_OK && p[k].st != LF_OK) st = p[k].st, snprintf(why, whylen, "%s", p[k].why);
    }
    for (int k = 0; st == LF_OK && k < nparts; k++) st = aot_syms(out, (size_t)k, &cap, why, whylen);
    if (bc) LLVMDisposeMemoryBuffer(bc);
    for (int i = 0; i < p[0].nfn; i++) free(p[0].names[i]);
    free(p[0].names);
    free(p[0].owner);
    return st;
}

static enum lf_status aot_run(const struct lift_aot_input *in, struct lift_aot_result *out,
                              struct aot *a, char *why, size_t whylen)
{
    struct lift_memsrc mem = { in->maps, in->nmaps, NULL };
    uint64_t code = 0;
    if (lift_mem_read(&mem, in->entry_closure, &code, 8) < 0)
        return snprintf(why, whylen, "entry closure 0x%llx is not in the snapshot",
                        (unsigned long long)in->entry_closure), LF_ERR_INVALID_ARG;
    LLVMTargetMachineRef tm = lift_tm_create("x86-64-v2", 1, why, whylen);
    if (!tm) return LF_ERR_LLVM;
    struct lift_range ranges[8];
    struct lift_mod m;
    memset(&m, 0, sizeof m);
    m.lc = LLVMContextCreate();
    LLVMContextSetDiscardValueNames(m.lc, !lift_trace());   /* names only for reading the IR */
    m.m = LLVMModuleCreateWithNameInContext("lineiform_image", m.lc);
    m.b = LLVMCreateBuilderInContext(m.lc);
    m.mem = mem;
    aot_code_ranges(&m, a, ranges, 8);
    lift_mod_limits(&m);
    m.noreturn_at = aot_noreturn;
    m.args_at = aot_args;
    m.rets_at = aot_rets;
    m.plt_at = aot_plt;
    m.jump_table = aot_jump_table;
    m.native_ref = aot_native_ref;
    m.fn_name = aot_fn_name;
    m.count_interp = 1;
    m.eh_at = aot_eh;
    m.user = a;
    lift_mod_types(&m);
    uint64_t karg[6] = { in->entry_closure };
    lift_job_get(&m, code, karg, 1, -1);
    double t0 = lift_now_ms();
    enum lf_status st = m.ncode ? lift_mod_run(&m) : LF_ERR_UNSUPPORTED;
    if (!m.ncode) snprintf(m.rep.reason, sizeof m.rep.reason, "no executable segment in %s", in->interp_path);
    double t1 = lift_now_ms();
    if (st == LF_OK) {
        aot_names(&m, a);
        snprintf(out->entry_sym, sizeof out->entry_sym, "%s", LLVMGetValueName(m.jobs[0]->fn));
        lift_mod_trace(&m, "lifted");
        st = lift_mod_optimize(m.m, tm, in->opt_level, &m.rep, why, whylen);
        lift_mod_trace(&m, "optimized");
    } else {
        snprintf(why, whylen, "%s", m.rep.reason);
    }
    double t2 = lift_now_ms();
    if (st == LF_OK) st = aot_emit(m.m, tm, in->threads, out, why, whylen);
    out->report = m.rep;
    out->report.ms_lift = t1 - t0;
    out->report.ms_opt = t2 - t1;
    out->report.ms_codegen = lift_now_ms() - t2;
    for (size_t k = 0; k < out->nsyms; k++) out->report.code_size += out->syms[k].size;
    lift_mod_free(&m);
    LLVMDisposeModule(m.m);
    LLVMContextDispose(m.lc);
    LLVMDisposeTargetMachine(tm);
    return st;
}

enum lf_status lift_aot_compile(const struct lift_aot_input *in, struct lift_aot_result *out,
                                char *why, size_t whylen)
{
    char dummy[8];
    if (!why || !whylen) why = dummy, whylen = sizeof dummy;
    why[0] = 0;
    if (!out) return LF_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!in || !in->maps || !in->nmaps || !in->interp_path)
        return snprintf(why, whylen, "no guest memory or interpreter"), LF_ERR_INVALID_ARG;
    struct aot a = { NULL, in->load_bias };
    char err[256];
    if (an_open(in->interp_path, 0, &a.an, err, sizeof err) != LF_OK)
        return snprintf(why, whylen, "%s", err), LF_ERR_FORMAT;
    enum lf_status st = aot_run(in, out, &a, why, whylen);
    an_close(a.an);
    if (st != LF_OK) {
        struct lf_report keep = out->report;
        lift_aot_result_free(out);
        out->report = keep;
    }
    return st;
}

void lift_aot_result_free(struct lift_aot_result *r)
{
    if (!r) return;
    for (size_t k = 0; k < r->nobj; k++) free(r->obj[k]);
    free(r->syms);
    memset(r, 0, sizeof *r);
}
