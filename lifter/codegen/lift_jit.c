/* lift_jit.c -- LLVM set-up, optimization, and the in-process JIT.
 *
 * One ORC LLJIT per process, created on first use under a lock; each
 * compiled module brings its own thread-safe context.  JIT-linked code is
 * mapped read+execute after relocation (never writable and executable at
 * once); symbols the code needs from the process (memcpy, memset,
 * __udivti3, ...) resolve through a process search generator.  Every
 * object passes a transform that counts its executable bytes
 * (lf_report.code_size). */
#include "lifter/lift_job.h"

#include <elf.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t lift_init_once = PTHREAD_ONCE_INIT;

/* Code layout.  The emitter keeps every branch (and macro-fused compare)
 * inside a 32-byte window, padding before it where needed, and every
 * function starts on 64 bytes (lift_mod_optimize); blocks are placed by
 * the ext-TSP model (chains that maximize fall-throughs and short jumps
 * by estimated frequency) instead of LLVM's default chain placement.
 * Lifted code is branch-dense, and on this machine the same instructions
 * placed differently ran up to 20% apart: ack 0.23 against 0.17 s, fib
 * 0.12 against 0.11 s with the 32-byte windows, and with ext-TSP too (and
 * lift_thread_by_bit) ack 0.14 against 0.16 s (CPU time of `lineiform run`,
 * median of fifteen; see the README's bench table).  LLVM options, so they
 * hold for the whole process. */
static void lift_llvm_init_once(void)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    LLVMInitializeNativeAsmParser();
    const char *argv[] = { "lineiform", "-x86-branches-within-32B-boundaries", "-enable-ext-tsp-block-placement" };
    LLVMParseCommandLineOptions(3, argv, NULL);
}

void lift_llvm_init(void) { pthread_once(&lift_init_once, lift_llvm_init_once); }

double lift_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int lift_trace(void)
{
    static int level = -1;
    if (level < 0) {
        const char *e = getenv("LINEIFORM_TRACE");
        level = e && *e ? atoi(e) : 0;
        if (level < 0) level = 0;
    }
    return level;
}

void lift_ctx_types(struct lift_ctx *c)
{
    c->i1 = LLVMInt1TypeInContext(c->lc);
    c->i8 = LLVMInt8TypeInContext(c->lc);
    c->i16 = LLVMInt16TypeInContext(c->lc);
    c->i32 = LLVMInt32TypeInContext(c->lc);
    c->i64 = LLVMInt64TypeInContext(c->lc);
    c->i128 = LLVMInt128TypeInContext(c->lc);
    c->f32 = LLVMFloatTypeInContext(c->lc);
    c->f64 = LLVMDoubleTypeInContext(c->lc);
    c->v2i64 = LLVMVectorType(c->i64, 2);
    c->v2f64 = LLVMVectorType(c->f64, 2);
    c->v4f32 = LLVMVectorType(c->f32, 4);
}

static void lift_take_error(LLVMErrorRef e, char *why, size_t whylen)
{
    char *msg = LLVMGetErrorMessage(e);
    snprintf(why, whylen, "%s", msg);
    LLVMDisposeErrorMessage(msg);
}

LLVMTargetMachineRef lift_tm_create(const char *cpu, int aot, char *why, size_t whylen)
{
    lift_llvm_init();
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    LLVMTargetRef t;
    if (LLVMGetTargetFromTriple(triple, &t, &err)) {
        snprintf(why, whylen, "no LLVM target for %s: %s", triple, err ? err : "?");
        LLVMDisposeMessage(err);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    char *host = NULL, *feat = NULL;
    if (!cpu) host = LLVMGetHostCPUName(), feat = LLVMGetHostCPUFeatures();
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(t, triple, cpu ? cpu : host, feat ? feat : "",
        LLVMCodeGenLevelAggressive, aot ? LLVMRelocPIC : LLVMRelocDefault,
        aot ? LLVMCodeModelSmall : LLVMCodeModelJITDefault);
    LLVMDisposeMessage(triple);
    if (host) LLVMDisposeMessage(host);
    if (feat) LLVMDisposeMessage(feat);
    if (!tm) snprintf(why, whylen, "cannot create an LLVM target machine");
    return tm;
}

/* Level 2: the passes lifted code gains from, without LLVM's loop and
 * vectorization passes (its frames and calls leave them little to do).
 * First the interprocedural clean-up that shrinks a specialization's
 * fourteen register parameters to those it reads (deadargelim), then
 * scalar simplification, then inlining bottom-up with the same
 * simplification after each, and the argument clean-up again.  Against
 * default<O2> it halves optimization time on fib (43 against 74 ms) and cuts
 * it a fifth on nqueens (782 against 996 ms), and no bench image is slower
 * (ack 0.37 s against 0.43 s, fib 0.16 against 0.21 s). */
static const char lift_pipeline[] =
    "ipsccp,globalopt,deadargelim,"
    "function(sroa,early-cse<memssa>,instcombine,simplifycfg),"
    "cgscc(inline,function-attrs,function(sroa,early-cse<memssa>,instcombine,simplifycfg,jump-threading,"
    "correlated-propagation,gvn,memcpyopt,dse,adce,instcombine,simplifycfg)),"
    "deadargelim,globaldce";

/* After it, when lift_retfwd.c or lift_fast.c changed something: drop the
 * results no caller reads, inline the wrappers, clean up. */
static const char lift_fast_pipeline[] =
    "deadargelim,cgscc(inline),function(sroa,early-cse<memssa>,instcombine,simplifycfg,gvn,dse),globaldce";

/* After lift_split_struct_phis and forwarding through what it split: drop
 * the fields no caller reads any more.  Not instcombine nor simplifycfg's
 * sinking: both merge the per-field phis back into a phi of structs
 * (extractvalue of a phi), which deadargelim counts as reading every
 * field.  ack's hot specializations then return one register, not five
 * words through memory: 1.79 against 1.92 G instructions (callgrind). */
static const char lift_split_pipeline[] = "function(instsimplify,simplifycfg<no-sink-common-insts>),deadargelim,globaldce";

/* After lift_thread_by_bit: the switch cases and blocks it left dead. */
static const char lift_thread_pipeline[] = "function(instcombine,simplifycfg)";

enum lf_status lift_mod_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int level,
                                 struct lf_report *rep, char *why, size_t whylen)
{
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        snprintf(why, whylen, "lifted IR does not verify: %.180s", msg ? msg : "?");
        if (lift_trace() >= 2) {
            char *ir = LLVMPrintModuleToString(m);
            fprintf(stderr, "%s\n%s\n", ir, msg ? msg : "");
            LLVMDisposeMessage(ir);
        }
        LLVMDisposeMessage(msg);
        return LF_ERR_LLVM;
    }
    LLVMDisposeMessage(msg);
    if (level <= 0) return LF_OK;
    char pipeline[32];
    snprintf(pipeline, sizeof pipeline, "default<O%d>", level > 3 ? 3 : level);
    const char *pl = level == 2 ? lift_pipeline : pipeline;
    LLVMPassBuilderOptionsRef o = LLVMCreatePassBuilderOptions();
    LLVMErrorRef e = LLVMRunPasses(m, pl, tm, o);
    /* Returned arguments forwarded to the callers (lift_retfwd.c), fast
     * exits inlined at their calls (lift_fast.c), then clean-up; the
     * wrappers' inlined calls forwarded again once their result phis are
     * split by field. */
    unsigned fwd = !e && level >= 2 ? (unsigned)lift_forward_returns(m) : 0;
    unsigned made = !e && level >= 2 ? (unsigned)lift_fast_exits(m) : 0;
    if (made || fwd) e = LLVMRunPasses(m, lift_fast_pipeline, tm, o);
    if (!e && level >= 2 && lift_split_struct_phis(m)) {
        fwd += (unsigned)lift_forward_returns(m);   /* the calls the wrappers held */
        e = LLVMRunPasses(m, lift_split_pipeline, tm, o);
    }
    /* Marker compares a tag test decides (lift_facts.c), then clean-up. */
    unsigned tb = !e && level >= 2 ? (unsigned)lift_thread_by_bit(m) : 0;
    if (tb) e = LLVMRunPasses(m, lift_thread_pipeline, tm, o);
    /* Last: it changes no IR the passes above would look at again. */
    unsigned cc = !e && level >= 2 ? (unsigned)lift_recursion_cc(m) : 0;
    /* Every function gets unwind tables, even one LLVM proved nounwind:
     * an exception or panic thrown by a native call below it must find
     * its frame (in-process the JIT registers .eh_frame, images keep it). */
    unsigned uw = LLVMGetEnumAttributeKindForName("uwtable", 7);
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        if (!LLVMIsDeclaration(f)) {
            LLVMSetAlignment(f, 64);   /* see lift_llvm_init_once */
            LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                                    LLVMCreateEnumAttribute(LLVMGetModuleContext(m), uw, 0));
        }
    if (rep) rep->fast_exits = made, rep->returns_forwarded = fwd, rep->recursion_cc = cc, rep->tag_threaded = tb;
    LLVMDisposePassBuilderOptions(o);
    if (e) {
        lift_take_error(e, why, whylen);
        return LF_ERR_LLVM;
    }
    return LF_OK;
}

/* -- The process-wide JIT --------------------------------------------------------- */

static pthread_mutex_t lift_jit_lock = PTHREAD_MUTEX_INITIALIZER;
static LLVMOrcLLJITRef lift_jit;
static size_t lift_jit_code;   /* executable bytes of the objects linked so far */

/* The bytes of the executable sections of an ELF64 object (0 when it is
 * not one the checks accept): what lf_report.code_size counts. */
static size_t elf_code_bytes(const unsigned char *p, size_t n)
{
    Elf64_Ehdr eh;
    if (n < sizeof eh || memcmp(p, ELFMAG, SELFMAG) != 0 || p[EI_CLASS] != ELFCLASS64) return 0;
    memcpy(&eh, p, sizeof eh);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > n || eh.e_shnum > (n - eh.e_shoff) / sizeof(Elf64_Shdr))
        return 0;
    size_t sum = 0;
    for (unsigned k = 0; k < eh.e_shnum; k++) {
        Elf64_Shdr sh;
        memcpy(&sh, p + eh.e_shoff + k * sizeof sh, sizeof sh);
        if ((sh.sh_flags & SHF_EXECINSTR) && (sh.sh_flags & SHF_ALLOC)) sum += sh.sh_size;
    }
    return sum;
}

/* Every object goes through here on its way to the linker. */
static LLVMErrorRef count_code(void *ctx, LLVMMemoryBufferRef *obj)
{
    *(size_t *)ctx += elf_code_bytes((const unsigned char *)LLVMGetBufferStart(*obj), LLVMGetBufferSize(*obj));
    return NULL;
}

static enum lf_status lift_jit_get(char *why, size_t whylen)
{
    if (lift_jit) return LF_OK;
    lift_llvm_init();
    LLVMOrcLLJITRef j;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j, NULL);
    if (e) { lift_take_error(e, why, whylen); return LF_ERR_LLVM; }
    LLVMOrcDefinitionGeneratorRef g;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&g, LLVMOrcLLJITGetGlobalPrefix(j), NULL, NULL);
    if (e) { lift_take_error(e, why, whylen); LLVMOrcDisposeLLJIT(j); return LF_ERR_LLVM; }
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j), g);
    LLVMOrcObjectTransformLayerSetTransform(LLVMOrcLLJITGetObjTransformLayer(j), count_code, &lift_jit_code);
    lift_jit = j;
    return LF_OK;
}

enum lf_status lift_jit_add(LLVMOrcThreadSafeContextRef ts, LLVMModuleRef m,
                            const char *const *names, int n, uint64_t *addrs,
                            size_t *code_size, char *why, size_t whylen)
{
    pthread_mutex_lock(&lift_jit_lock);
    enum lf_status st = lift_jit_get(why, whylen);
    if (st != LF_OK) {
        LLVMDisposeModule(m);
        LLVMOrcDisposeThreadSafeContext(ts);
        pthread_mutex_unlock(&lift_jit_lock);
        return st;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, ts);
    LLVMOrcDisposeThreadSafeContext(ts);
    LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(lift_jit, LLVMOrcLLJITGetMainJITDylib(lift_jit), tsm);
    if (e) {
        lift_take_error(e, why, whylen);
        LLVMOrcDisposeThreadSafeModule(tsm);
        pthread_mutex_unlock(&lift_jit_lock);
        return LF_ERR_LLVM;
    }
    size_t before = lift_jit_code;
    for (int k = 0; k < n && st == LF_OK; k++) {
        LLVMOrcExecutorAddress a = 0;
        e = LLVMOrcLLJITLookup(lift_jit, &a, names[k]);
        if (e) { lift_take_error(e, why, whylen); st = LF_ERR_LLVM; }
        addrs[k] = a;
    }
    if (code_size) *code_size = lift_jit_code - before;   /* the lookups materialized the module */
    pthread_mutex_unlock(&lift_jit_lock);
    return st;
}
