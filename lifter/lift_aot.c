/* lift_aot.c -- ahead-of-time compilation of a snapshot's entry closure
 * into a relocatable ELF object (see lift_aot.h).
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
 * for the image linker to resolve at load time.
 * Invariants:
 *   1. The object defines one function symbol per specialization, named
 *      "<function>@0x<entry>"; out->entry_sym is the entry closure's.
 *   2. Nothing here reads the snapshot's memory except through in->maps. */
#include "lifter/lift_aot.h"
#include "lifter/lift_proc.h"

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return lift_an_args(a->an, a->bias, target, gpr, xmm);
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

/* The function symbols of the emitted object. */
static enum lf_status aot_syms(struct lift_aot_result *out, char *why, size_t whylen)
{
    elf_version(EV_CURRENT);
    Elf *e = elf_memory((char *)out->obj, out->obj_len);
    if (!e) return snprintf(why, whylen, "emitted object unreadable"), LF_ERR_LLVM;
    Elf_Scn *scn = NULL;
    size_t cap = 16;
    out->syms = calloc(cap, sizeof *out->syms);
    while (out->syms && (scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB) continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; d && i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF)
                continue;
            if (out->nsyms == cap) {
                struct lift_aot_sym *ns = realloc(out->syms, 2 * cap * sizeof *ns);
                if (!ns) break;
                out->syms = ns;
                cap *= 2;
            }
            struct lift_aot_sym *o = &out->syms[out->nsyms++];
            snprintf(o->name, sizeof o->name, "%s", elf_strptr(e, sh.sh_link, s.st_name));
            o->offset = s.st_value;
            o->size = s.st_size;
        }
    }
    elf_end(e);
    return out->syms ? LF_OK : LF_ERR_NOMEM;
}

static enum lf_status aot_emit(LLVMModuleRef mod, LLVMTargetMachineRef tm, struct lift_aot_result *out,
                               char *why, size_t whylen)
{
    char *err = NULL;
    LLVMMemoryBufferRef buf = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &err, &buf)) {
        snprintf(why, whylen, "object emission failed: %s", err ? err : "?");
        LLVMDisposeMessage(err);
        return LF_ERR_LLVM;
    }
    out->obj_len = LLVMGetBufferSize(buf);
    out->obj = malloc(out->obj_len);
    if (out->obj) memcpy(out->obj, LLVMGetBufferStart(buf), out->obj_len);
    LLVMDisposeMemoryBuffer(buf);
    if (!out->obj) return LF_ERR_NOMEM;
    return aot_syms(out, why, whylen);
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
    m.max_depth = 16;
    m.max_blocks = 1500;
    m.max_jobs = 256;
    m.noreturn_at = aot_noreturn;
    m.args_at = aot_args;
    m.plt_at = aot_plt;
    m.jump_table = aot_jump_table;
    m.native_ref = aot_native_ref;
    m.user = a;
    lift_mod_types(&m);
    uint64_t karg[6] = { in->entry_closure };
    lift_job_get(&m, code, karg, 1);
    double t0 = lift_now_ms();
    enum lf_status st = m.ncode ? lift_mod_run(&m) : LF_ERR_UNSUPPORTED;
    if (!m.ncode) snprintf(m.rep.reason, sizeof m.rep.reason, "no executable segment in %s", in->interp_path);
    double t1 = lift_now_ms();
    if (st == LF_OK) {
        aot_names(&m, a);
        snprintf(out->entry_sym, sizeof out->entry_sym, "%s", LLVMGetValueName(m.jobs[0]->fn));
        lift_mod_trace(&m, "lifted");
        st = lift_mod_optimize(m.m, tm, in->opt_level, why, whylen);
        lift_mod_trace(&m, "optimized");
    } else {
        snprintf(why, whylen, "%s", m.rep.reason);
    }
    double t2 = lift_now_ms();
    if (st == LF_OK) st = aot_emit(m.m, tm, out, why, whylen);
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
    free(r->obj);
    free(r->syms);
    memset(r, 0, sizeof *r);
}
