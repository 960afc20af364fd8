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
 * arenas at their fixed addresses and, in image mode, map the image.  May
 * remove runtime-private arguments from argc/argv.  On a failure that makes
 * the requested mode impossible (bad image, address range taken) it prints a
 * one-line reason to stderr and exits with status 2. */
enum lf_mode lf_init(int *argc, char ***argv);

/* The current mode (LF_MODE_NORMAL before lf_init). */
enum lf_mode lf_mode(void);

/* Copy size bytes at obj into the frozen arena and return the read-only
 * copy (16-byte aligned).  Works without lf_init.  Returns NULL only when the
 * arena is exhausted. */
void *lf_freeze(const void *obj, size_t size);

/* True when p points into the frozen arena. */
int lf_is_frozen(const void *p);

/* size bytes of zeroed, writable memory in the persistent arena (captured by
 * the snapshot, restored copy-on-write in image mode).  16-byte aligned. */
void *lf_alloc(size_t size);

/* The snapshot point.  entry is a closure (frozen, first word = code
 * pointer); roots is a pointer into the persistent arena from which
 * everything else the program needs at run time is reachable.  In snapshot
 * mode: seal the frozen arena, write the heap dump, exit 0.  Otherwise:
 * return at once. */
void lf_snapshot(void *entry, void *roots);

/* In image mode: the compiled entry (same signature as the entry closure's
 * code), the entry closure to pass as its first argument, and the restored
 * roots.  LF_ERR_STATE in any other mode. */
enum lf_status lf_image(void **code, void **entry, void **roots);

/* Called with every range of arena memory that holds pointers, as it is
 * committed (and at once for ranges committed before the call), so that a
 * garbage collector can scan it: e.g. GC_add_roots. */
void lf_set_root_hook(void (*add_roots)(void *lo, void *hi));

/* -- In-process specialization (liblineiform.a) ------------------------- */

/* Code with fn's own signature that behaves exactly like fn when its first
 * argument is env (a pointer into frozen memory).  Never NULL: where nothing
 * can be specialized it returns fn itself and lf_last_report says why.  The
 * same (fn, env) asked twice returns the same code. */
void *lf_optimize(void *fn, const void *env);

/* What the last lf_optimize (or image build) did. */
struct lf_report {
    unsigned specializations; /* LLVM functions made */
    unsigned inlined;         /* calls inlined */
    unsigned native_calls;    /* calls left as calls to original code */
    unsigned bailouts;        /* functions that could not be lifted */
    unsigned insns_lifted;    /* x86 instructions lifted */
    size_t   code_size;       /* bytes of machine code emitted */
    double   ms_lift, ms_opt, ms_codegen;
    char     reason[256];     /* first bailout / why fn was returned as is */
};
const struct lf_report *lf_last_report(void);

#ifdef __cplusplus
}
#endif
#endif /* LINEIFORM_H */
