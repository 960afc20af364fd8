/* lisp_opt.c -- the reference interpreter (testdata/lisp/) with its
 * top-level closure run through lf_optimize instead of being called as is.
 *
 * Linked with the interpreter's own objects and -Wl,--wrap=lf_snapshot by
 * tests/test_lift_lisp.c: at the snapshot point (after compiling the
 * program into frozen closures) this wrapper specializes the entry closure
 * in-process and runs the result exactly as image mode runs compiled code:
 * code(entry, NULL), then the interpreter's exit.  Its output must equal
 * the plain interpreter's.  LIFT_REPORT=1 prints lf_last_report and the
 * time of the run to stderr. */
#include <lineiform.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void __real_lf_snapshot(void *entry, void *roots);
_Noreturn void lv_exit(int status);

void __wrap_lf_snapshot(void *entry, void *roots)
{
    __real_lf_snapshot(entry, roots);
    void *fn = *(void **)entry;
    uintptr_t (*code)(const void *, void *) = (uintptr_t (*)(const void *, void *))lf_optimize(fn, entry);
    if (getenv("LIFT_REPORT")) {
        const struct lf_report *r = lf_last_report();
        fprintf(stderr, "lf_optimize: %s; %u specializations, %u inlined, %u native calls, %u bailouts, "
                "%u insns, lift %.1f ms, opt %.1f ms, codegen %.1f ms; %s\n",
                (void *)code == fn ? "not specialized" : "specialized", r->specializations, r->inlined,
                r->native_calls, r->bailouts, r->insns_lifted, r->ms_lift, r->ms_opt, r->ms_codegen, r->reason);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    code(entry, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("LIFT_REPORT"))
        fprintf(stderr, "run: %.1f ms\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    lv_exit(0);
}
