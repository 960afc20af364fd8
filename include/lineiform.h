/* lineiform.h -- the public API for interpreter authors.
 *
 * An interpreter that evaluates programs by closure generation links
 * liblineiform-rt.a (runtime only, libc only) or liblineiform.a (runtime +
 * lifter, for in-process lf_optimize) and calls:
 *
 *   lf_init(&argc, &argv)      once, first thing in main: picks the mode
 *   lf_freeze(obj, size)       for every closure / environment it builds
 *   lf_alloc(size)             for state that must survive into an image
 *   lf_snapshot(entry, roots)  after compiling the program, before running it
 *   lf_image(...)              in image mode: the compiled entry and the roots
 *
 * A *closure* is a frozen object whose first word is its code pointer; the
 * code is called as code(closure, ...).  Frozen memory is immutable from the
 * moment lf_freeze returns, so the lifter may treat every frozen byte as a
 * constant.  Frozen and persistent arenas sit at fixed virtual addresses, so
 * pointers stored in them stay valid when an image maps them back.
 */
#ifndef LINEIFORM_H
#define LINEIFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -- Status codes ------------------------------------------------------- */

/* Each code once, with its message.  ORDER LF_STATUS: LF_OK is 0. */
#define LF_STATUS(_)                                                      \
    _(OK,              "ok")                                              \
    _(ERR_INVALID_ARG, "invalid argument")                                \
    _(ERR_NOMEM,       "out of memory")                                   \
    _(ERR_IO,          "I/O error")                                       \
    _(ERR_NOT_ELF,     "not an ELF file")                                 \
    _(ERR_ELF_CLASS,   "not a 64-bit x86-64 ELF file")                    \
    _(ERR_FORMAT,      "malformed input")                                 \
    _(ERR_TRUNCATED,   "truncated input")                                 \
    _(ERR_VERSION,     "unsupported format version")                      \
    _(ERR_CHECKSUM,    "checksum mismatch")                               \
    _(ERR_MISMATCH,    "made for another interpreter build")              \
    _(ERR_ADDR_TAKEN,  "address range already in use")                    \
    _(ERR_DWARF,       "corrupt DWARF")                                   \
    _(ERR_DB,          "database error")                                  \
    _(ERR_UNSUPPORTED, "unsupported instruction or construct")            \
    _(ERR_LLVM,        "code generation failed")                          \
    _(ERR_STATE,       "called in the wrong mode or order")

enum lf_status {
#define LF_STATUS_ENUM_(name, msg) LF_##name,
    LF_STATUS(LF_STATUS_ENUM_)
#undef LF_STATUS_ENUM_
    LF_STATUS__MAX
};

/* The message for a status code; never NULL. */
const char *lf_status_str(enum lf_status s);

/* Propagate a failing status from the enclosing function. */
#define LF_CHECK(expr)                                                    \
    do {                                                                  \
        enum lf_status lf_check_s_ = (expr);                              \
        if (lf_check_s_ != LF_OK) return lf_check_s_;                     \
    } while (0)

/* -- Runtime: modes, arenas, snapshot ----------------------------------- */

enum lf_mode {
    LF_MODE_NORMAL   = 0, /* interpret as usual; lf_snapshot returns at once */
    LF_MODE_SNAPSHOT = 1, /* lf_snapshot writes the heap dump and exits 0 */
    LF_MODE_IMAGE    = 2, /* an image is mapped: call lf_image, skip parsing */
};

/* Pick the mode from the environment the lineiform CLI sets, reserve the
 * arenas at their fixed addresses and, in image mode, map the image.  Call
 * it first thing in main with main's own argc/argv.
 *
 *   LINEIFORM_MODE   normal (or unset) | snapshot | image
 *   LINEIFORM_DUMP   snapshot mode: the heap dump lf_snapshot writes
 *   LINEIFORM_IMAGE  image mode: the image to map
 *   LINEIFORM_CHECK  1: at lf_snapshot, list arena words that point into
 *                    memory an image does not restore (heap, stacks)
 *
 * The variables are removed from the environment once read, so programs the
 * interpreter starts run normally.  In snapshot and image modes the
 * interpreter must sit at the same addresses in every run: if address
 * randomization is on, lf_init turns it off for this process and re-executes
 * /proc/self/exe with the same argv (once; LINEIFORM_REEXEC marks the second
 * run), so code before lf_init may run twice.  It may remove
 * runtime-private arguments from argc/argv (none today).  On a failure that
 * makes the requested mode impossible (unknown mode, missing path, bad or
 * mismatched image, arena address range taken) it prints one line
 * "lineiform: <reason>" to stderr and exits with status 2.  Calling it again
 * returns the mode chosen the first time. */
enum lf_mode lf_init(int *argc, char ***argv);

/* The current mode (LF_MODE_NORMAL before lf_init). */
enum lf_mode lf_mode(void);

/* Copy size bytes at obj into the frozen arena and return the copy
 * (16-byte aligned, never overlapping another object).  The copy is
 * read-only from the moment it is returned: its page is mapped read-only
 * and cannot be made writable with mprotect, so every frozen byte may be
 * treated as a constant.  A write into it prints
 *   lineiform: write to frozen memory at 0x... (object frozen at 0x..., N bytes)
 * on stderr and aborts.  Works without lf_init; thread-safe.  Returns NULL
 * when obj is NULL (with size > 0), size exceeds 4 GiB, the arena (64 GiB)
 * is exhausted, the arena is sealed, or its backing memfd would pass the
 * file size limit (RLIMIT_FSIZE, ulimit -f; the runtime then says so once
 * on stderr); errno tells which: EINVAL, ENOMEM, EPERM, EFBIG.  An
 * interpreter that reports the failure should print strerror(errno).
 * size 0 gives a distinct address. */
void *lf_freeze(const void *obj, size_t size);

/* Freeze size bytes that fill writes, for objects that must know their own
 * frozen address: a group of closures that point at each other in a cycle
 * (a recursive procedure and its body) is built in private memory, then
 * frozen in one piece with its inner pointers relocated.  fill(dst, at, ctx)
 * writes the size bytes at dst; they will be read at address at.  fill runs
 * with the arena locked: it must not call lf_* functions.  Immutable and
 * NULL cases as for lf_freeze. */
void *lf_freeze_with(size_t size, void (*fill)(void *dst, uintptr_t at, void *ctx), void *ctx);

/* True when p points into the used part of the frozen arena. */
int lf_is_frozen(const void *p);

/* Seal the frozen arena: from now on nothing, not even the runtime, can
 * write it, and lf_freeze returns NULL.  lf_snapshot seals by itself, and
 * so does lf_init in image mode (an interpreter freezes nothing while an
 * image runs); an in-process user may seal once its program is built.
 * Idempotent.  LF_ERR_IO when the kernel refused the memfd seals. */
enum lf_status lf_seal(void);

/* size bytes of zeroed, writable memory in the persistent arena (captured by
 * the snapshot, restored copy-on-write in image mode).  16-byte aligned,
 * never freed.  Works without lf_init; thread-safe.  NULL when the arena
 * (64 GiB) is exhausted. */
void *lf_alloc(size_t size);

/* The snapshot point.  entry is a closure (frozen, first word = code
 * pointer); roots is NULL or a pointer into the persistent arena from which
 * everything else the program needs at run time is reachable (pointers from
 * the arenas into the garbage-collected heap do not survive into an image).
 * In snapshot mode: seal the frozen arena, write the heap dump atomically
 * (a temporary file renamed into place), exit 0; on an entry that is not
 * frozen, roots outside the persistent arena or a write error, print one
 * line and exit 2 without leaving a file.  Otherwise: return at once. */
void lf_snapshot(void *entry, void *roots);

/* In image mode: the compiled entry (same signature as the entry closure's
 * code), the entry closure to pass as its first argument, and the restored
 * roots.  LF_ERR_STATE in any other mode, LF_ERR_INVALID_ARG for a NULL
 * pointer. */
enum lf_status lf_image(void **code, void **entry, void **roots);

/* Called with every range of arena memory that holds pointers, as it is
 * committed (and at once for ranges committed before the call), so that a
 * garbage collector can scan it: with Boehm GC, after GC_INIT(),
 *   static void add(void *lo, void *hi) { GC_add_roots(lo, hi); }
 *   lf_set_root_hook(add);
 * Both arenas are handed over (frozen objects may point to collected
 * objects too).  Ranges grow geometrically, so there are few of them. */
void lf_set_root_hook(void (*add_roots)(void *lo, void *hi));

/* -- In-process specialization (liblineiform.a) ------------------------- */

/* Code with fn's own signature that behaves exactly like fn when its first
 * argument is env (a pointer into frozen memory).  Never NULL: where nothing
 * can be specialized it returns fn itself and lf_last_report says why; so
 * does an env outside frozen memory and the read-only segments of loaded
 * objects (the program could still change it).  The
 * same (fn, env) asked twice returns the same code.  "First argument" is
 * the first declared one: for a function whose DWARF prototype returns a
 * struct in memory, the caller's buffer comes before it (rdi) and env is
 * in rsi; without DWARF, env is taken to be in rdi. */
void *lf_optimize(void *fn, const void *env);

/* What the last lf_optimize (or image build) did. */
#define LF_REPORT_SITES 5
struct lf_report {
    unsigned specializations; /* LLVM functions made */
    unsigned inlined;         /* calls inlined */
    unsigned native_calls;    /* calls left as calls to original code */
    unsigned bailouts;        /* functions that could not be lifted */
    unsigned insns_lifted;    /* x86 instructions lifted */
    unsigned frame_private;   /* frame accesses no escaped pointer reaches (promoted) */
    unsigned frame_shared;    /* frame accesses kept in memory */
    unsigned windows;         /* calls passing a frame region's words, not its address */
    unsigned kept_calls;      /* calls not inlined: the callee's stack area has a run-time size */
    unsigned fast_exits;      /* functions whose early return is inlined at their calls */
    unsigned returns_forwarded; /* call results replaced by the argument the callee returns */
    unsigned recursion_cc;    /* recursive functions whose calls save no callee-saved register */
    unsigned tag_threaded;    /* edges sent past a marker compare their tag test decides */
    unsigned unrolled;        /* small recursive specializations with one self call inlined */
    unsigned budget_calls;    /* specializations (or calls making one) left to the original
                                 code: the lift budget (blocks lifted, specializations per
                                 module) ran out */
    unsigned eh_native;       /* calls kept native: the callee has landing pads (catch, cleanup) */
    size_t   code_size;       /* bytes of machine code emitted (in-process: the JIT's objects) */
    double   ms_lift, ms_opt, ms_codegen;
    char     reason[256];     /* first bailout / why fn was returned as is */
    /* Calls from compiled code into the interpreter's own code whose target
     * or closure the lift did not resolve: there the program runs
     * interpreted.  Counted once per call site of the emitted code; calls
     * to C library functions and to error paths that never return are not
     * counted.  interp_top: the most frequent (function, reason) pairs,
     * most sites first; fn_name is "" when no symbol names fn. */
    unsigned interp_calls;
    unsigned interp_guarded;  /* of interp_calls: a guard's fallback, taken only by a closure
                                 that is none of the known ones the guard tests */
    struct lf_interp_site {
        uintptr_t fn;         /* interpreter function that makes the call */
        uintptr_t node;       /* closure it was running (0: not known) */
        uintptr_t site;       /* one call instruction of the group */
        unsigned  sites;      /* call sites with this function and reason */
        char      why[48];
        char      fn_name[48];
    } interp_top[LF_REPORT_SITES];
};
const struct lf_report *lf_last_report(void);

#ifdef __cplusplus
}
#endif
#endif /* LINEIFORM_H */
