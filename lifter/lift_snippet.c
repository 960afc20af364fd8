/* lift_snippet.c -- lift a run of machine code as a struct lift_cpu ->
 * struct lift_cpu function (see lift_snippet.h), for differential tests.
 *
 * The snippet is one job of the ordinary block engine with partial
 * evaluation off: its entry loads every register and flag from the
 * lift_cpu argument, its one exit (the address just past the code) stores
 * them back, and memory operands address real memory.  So the semantics
 * under test are exactly the ones lf_optimize uses. */
#include "lifter/lift_job.h"
#include "lifter/codegen/lift_aot.h"
#include "lifter/lift_snippet.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CPU_RFLAGS = 128, CPU_XMM = 144 };
static const unsigned flag_bit[LIFT_NFLAGS] = { 0, 2, 4, 6, 7, 11, 10 };  /* ORDER: enum lift_flag */

static LLVMValueRef cpu_ptr(struct lift_ctx *c, unsigned off, unsigned bits)
{
    LLVMValueRef idx = lift_const(c, 64, off);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(c->b, c->i8, LLVMGetParam(c->fn, 0), &idx, 1, "");
    return LLVMBuildBitCast(c->b, p, LLVMPointerType(lift_int(c, bits), 0), "");
}

void lift_snippet_entry(struct lift_job *j, struct lift_ctx *c)
{
    if (!j->emitting) {  /* analysis: nothing is known about the state */
        for (int k = 0; k < 16; k++) c->gpr[k] = lift_opaque(c, c->i64), c->xmm[k] = lift_opaque(c, c->i128);
        for (int f = 0; f < LIFT_NFLAGS; f++) c->flag[f] = (struct lift_flagslot){ lift_opaque(c, c->i1), -1 };
        return;
    }
    for (unsigned k = 0; k < 16; k++) {
        c->gpr[k] = LLVMBuildLoad2(c->b, c->i64, cpu_ptr(c, 8 * k, 64), "");
        LLVMValueRef x = LLVMBuildLoad2(c->b, c->i128, cpu_ptr(c, CPU_XMM + 16 * k, 128), "");
        LLVMSetAlignment(x, 8);
        c->xmm[k] = x;
    }
    LLVMValueRef fl = LLVMBuildLoad2(c->b, c->i64, cpu_ptr(c, CPU_RFLAGS, 64), "");
    for (int f = 0; f < LIFT_NFLAGS; f++) {
        LLVMValueRef bit = LLVMBuildLShr(c->b, fl, lift_const(c, 64, flag_bit[f]), "");
        c->flag[f] = (struct lift_flagslot){ lift_trunc(c, bit, 1), -1 };
    }
}

void lift_job_exit(struct lift_job *j, struct lift_ctx *c)
{
    (void)j;
    for (unsigned k = 0; k < 16; k++) {
        LLVMBuildStore(c->b, c->gpr[k], cpu_ptr(c, 8 * k, 64));
        LLVMSetAlignment(LLVMBuildStore(c->b, c->xmm[k], cpu_ptr(c, CPU_XMM + 16 * k, 128)), 8);
    }
    uint64_t mask = 0;
    LLVMValueRef p = cpu_ptr(c, CPU_RFLAGS, 64);
    LLVMValueRef fl = LLVMBuildLoad2(c->b, c->i64, p, "");
    for (int f = 0; f < LIFT_NFLAGS; f++) mask |= 1ull << flag_bit[f];
    fl = LLVMBuildAnd(c->b, fl, lift_const(c, 64, ~mask), "");
    lift_flags_materialize(c, (1u << LIFT_NFLAGS) - 1);
    for (int f = 0; f < LIFT_NFLAGS; f++)
        fl = LLVMBuildOr(c->b, fl, LLVMBuildShl(c->b, lift_zext(c, c->flag[f].v, 64),
                                                lift_const(c, 64, flag_bit[f]), ""), "");
    LLVMBuildStore(c->b, fl, p);
    LLVMBuildRetVoid(c->b);
}

static LLVMTargetMachineRef snip_tm;
static pthread_once_t snip_tm_once = PTHREAD_ONCE_INIT;
static void snip_tm_init(void)
{
    char why[128];
    snip_tm = lift_tm_create(NULL, 0, why, sizeof why);
}

static void job_free(struct lift_job *j)
{
    lift_job_release(j);
}

enum lf_status lift_snippet_jit(const uint8_t *code, size_t len,
                                lift_snippet_fn *out, char *why, size_t whylen)
{
    static unsigned seq;
    char dummy[8];
    if (!why || !whylen) why = dummy, whylen = sizeof dummy;
    why[0] = 0;
    if (!code || !len || !out) { snprintf(why, whylen, "no code"); return LF_ERR_INVALID_ARG; }
    lift_llvm_init();
    pthread_once(&snip_tm_once, snip_tm_init);
    LLVMOrcThreadSafeContextRef ts = LLVMOrcCreateNewThreadSafeContext();
    struct lift_mod m;
    memset(&m, 0, sizeof m);
    m.lc = LLVMOrcThreadSafeContextGetContext(ts);
    m.m = LLVMModuleCreateWithNameInContext("snippet", m.lc);
    m.b = LLVMCreateBuilderInContext(m.lc);
    struct lift_memmap map = { (uintptr_t)code, len, code, 1 };
    m.mem = (struct lift_memsrc){ &map, 1, NULL };
    m.max_depth = 0;
    m.max_blocks = 4096;
    lift_mod_types(&m);

    struct lift_job j;
    memset(&j, 0, sizeof j);
    j.mod = &m;
    j.snippet = 1;
    j.entry = j.snip_lo = (uintptr_t)code;
    j.snip_hi = (uintptr_t)code + len;
    snprintf(j.name, sizeof j.name, "lf.snippet.%u", __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
    LLVMTypeRef p8 = LLVMPointerType(LLVMInt8TypeInContext(m.lc), 0);
    j.fn = LLVMAddFunction(m.m, j.name, LLVMFunctionType(LLVMVoidTypeInContext(m.lc), &p8, 1, 0));
    j.capfr = 1;
    j.fr = calloc(1, sizeof *j.fr);
    j.fr[0].parent = -1;
    j.nfr = 1;

    enum lf_status st = lift_job_run(&j);
    if (st != LF_OK) snprintf(why, whylen, "%s", j.why);
    if (st == LF_OK) st = lift_mod_optimize(m.m, snip_tm, 2, NULL, why, whylen);
    LLVMDisposeBuilder(m.b);
    job_free(&j);
    free(m.native);
    if (st != LF_OK) {
        LLVMDisposeModule(m.m);
        LLVMOrcDisposeThreadSafeContext(ts);
        return st;
    }
    if (lift_trace() >= 2) {
        char *ir = LLVMPrintModuleToString(m.m);
        fprintf(stderr, "%s", ir);
        LLVMDisposeMessage(ir);
    }
    uint64_t addr = 0;
    const char *name = j.name;
    st = lift_jit_add(ts, m.m, &name, 1, &addr, NULL, why, whylen);
    if (st != LF_OK) return st;
    *out = (lift_snippet_fn)(uintptr_t)addr;
    return LF_OK;
}
