/* test_lift_fuzz.c -- random C functions, compiled by gcc and clang at -O2,
 * specialized with lf_optimize on a frozen environment and compared with
 * the native code on random inputs.
 *
 * The generator writes N functions `long fK(const struct env *e, long a,
 * long b)` built from integer expressions at every width (char, short,
 * int, long, unsigned), divisions, shifts, comparisons, if/else, switch,
 * loops with a frozen trip count and with one taken from the argument, and
 * calls through frozen closure pointers.  A driver in the same file runs
 * each function natively and specialized on 300 random inputs and prints
 * every mismatch.  Deterministic seeds: a failure reproduces. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"

static unsigned long rs;
static unsigned rnd(unsigned n) { rs = rs * 6364136223846793005ull + 1442695040888963407ull; return (unsigned)(rs >> 33) % n; }

static const char *const vars[] = { "a", "b", "x", "y", "(long)e->k[0]", "(long)e->k[1]", "(long)e->k[2]" };
static const char *const casts[] = { "(long)", "(int)", "(short)", "(signed char)", "(unsigned char)",
                                     "(unsigned)", "(unsigned short)" };

static void expr(FILE *f, int depth)
{
    if (depth <= 0 || rnd(4) == 0) {
        if (rnd(3) == 0) fprintf(f, "%ldL", (long)rnd(200) - 100);
        else fprintf(f, "%s", vars[rnd(sizeof vars / sizeof vars[0])]);
        return;
    }
    switch (rnd(9)) {
    case 0: fprintf(f, "%s(", casts[rnd(7)]); expr(f, depth - 1); fprintf(f, ")"); break;
    case 1: fprintf(f, "("); expr(f, depth - 1); fprintf(f, " / ((("); expr(f, depth - 1); fprintf(f, ") & 1023) | 1))"); break;
    case 2: fprintf(f, "("); expr(f, depth - 1); fprintf(f, " %% ((("); expr(f, depth - 1); fprintf(f, ") & 1023) | 9))"); break;
    case 3: fprintf(f, "((unsigned long)("); expr(f, depth - 1); fprintf(f, ") >> (%u))", rnd(63)); break;
    case 4: fprintf(f, "(("); expr(f, depth - 1); fprintf(f, ") < ("); expr(f, depth - 1); fprintf(f, ") ? ");
            expr(f, depth - 1); fprintf(f, " : "); expr(f, depth - 1); fprintf(f, ")"); break;
    case 5: fprintf(f, "e->f[%u](e, ", rnd(2)); expr(f, depth - 1); fprintf(f, ")"); break;
    default: {
        static const char *const ops[] = { "+", "-", "*", "&", "|", "^", "==", "<" };
        fprintf(f, "("); expr(f, depth - 1); fprintf(f, " %s ", ops[rnd(8)]); expr(f, depth - 1); fprintf(f, ")");
    }
    }
}

static void stmt(FILE *f, int depth)
{
    switch (depth > 0 ? rnd(6) : 0) {
    case 0: fprintf(f, "    %s = ", rnd(2) ? "x" : "y"); expr(f, 3); fprintf(f, ";\n"); break;
    case 1: fprintf(f, "    if ("); expr(f, 2); fprintf(f, ") {\n"); stmt(f, depth - 1);
            fprintf(f, "    } else {\n"); stmt(f, depth - 1); fprintf(f, "    }\n"); break;
    case 2: fprintf(f, "    for (long i = 0; i < (e->k[%u] & 7); i++) {\n", rnd(3)); stmt(f, depth - 1);
            fprintf(f, "        x += i;\n    }\n"); break;
    case 3: fprintf(f, "    for (long i = 0; i < (a & 7); i++) {\n"); stmt(f, depth - 1); fprintf(f, "    }\n"); break;
    case 4: fprintf(f, "    switch (e->k[%u] & 7) {\n", rnd(3));
            for (int c = 0; c < 6; c++) { fprintf(f, "    case %d: ", c); stmt(f, 0); fprintf(f, "        break;\n"); }
            fprintf(f, "    default: y ^= 5;\n    }\n"); break;
    default: stmt(f, depth - 1); stmt(f, depth - 1); break;
    }
}

static void gen(FILE *f, int nfn)
{
    fprintf(f, "#include <lineiform.h>\n#include <stdio.h>\n#include <string.h>\n"
               "struct env { long k[3]; long (*f[2])(const struct env *, long); };\n"
               "__attribute__((noinline)) static long h0(const struct env *e, long v) { return v * 3 + e->k[0]; }\n"
               "__attribute__((noinline)) static long h1(const struct env *e, long v) { return v < e->k[1] ? v ^ 7 : v - e->k[2]; }\n");
    for (int k = 0; k < nfn; k++) {
        fprintf(f, "__attribute__((noinline)) long f%d(const struct env *e, long a, long b)\n{\n    long x = a, y = b;\n", k);
        for (int s = 0; s < 3; s++) stmt(f, 2);
        fprintf(f, "    return x ^ (y << 1);\n}\n");
    }
    fprintf(f, "typedef long (*fn_t)(const struct env *, long, long);\nstatic const fn_t fns[] = {");
    for (int k = 0; k < nfn; k++) fprintf(f, "f%d,", k);
    fprintf(f, "};\n"
               "int main(void)\n{\n"
               "    struct env e0 = { { %ld, %ld, %ld }, { h0, h1 } };\n"
               "    const struct env *e = lf_freeze(&e0, sizeof e0);\n"
               "    unsigned long r = 12345; int bad = 0, spec = 0;\n"
               "    for (unsigned k = 0; k < sizeof fns / sizeof fns[0]; k++) {\n"
               "        fn_t o = (fn_t)lf_optimize((void *)fns[k], e);\n"
               "        spec += o != fns[k];\n"
               "        if (o == fns[k]) printf(\"note f%%u not specialized: %%s\\n\", k, lf_last_report()->reason);\n"
               "        for (int t = 0; t < 300; t++) {\n"
               "            r = r * 6364136223846793005ull + 1; long a = (long)(r >> 20) %% 2000 - 1000;\n"
               "            r = r * 6364136223846793005ull + 1; long b = (long)(r >> 7);\n"
               "            if (t & 1) b %%= 300;\n"
               "            long w = fns[k](e, a, b), g = o(e, a, b);\n"
               "            if (w != g) { if (bad++ < 5) printf(\"FAIL f%%u(%%ld, %%ld): native %%ld, specialized %%ld\\n\", k, a, b, w, g); }\n"
               "        }\n"
               "    }\n"
               "    printf(\"%%d functions, %%d specialized, %%d mismatches\\n\", (int)(sizeof fns / sizeof fns[0]), spec, bad);\n"
               "    return bad ? 1 : 0;\n}\n",
            (long)rnd(50), (long)rnd(50) - 25, (long)rnd(9));
}

static void run_seed(const char *cc, unsigned long seed, int nfn)
{
    rs = seed;
    const char *src = tu_fmt("%s/fuzz_%lu.c", tu_tmpdir(), seed);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    gen(f, nfn);
    fclose(f);
    const char *exe = tu_fmt("%s/fuzz_%s_%lu", tu_tmpdir(), cc, seed);
    char *out = NULL, *err = NULL;
    int st = tu_run(tu_fmt("%s -O2 -w -I%s %s %s -o %s " TU_SAN_LIBS "$(llvm-config-14 --ldflags) -lLLVM-14 -lZydis -lZycore "
                           "-ldwarf -lelf -lz -lsqlite3 -lm -lpthread -ldl", cc, tu_src("include"), src,
                           tu_build("liblineiform.a"), exe), NULL, &err);
    if (st != 0) fail_msg("%s: %s", cc, err ? err : "");
    free(err);
    st = tu_run(exe, &out, &err);
    if (st != 0) fprintf(stderr, "%s seed %lu (%s):\n%s%s", cc, seed, src, out ? out : "", err ? err : "");
    else fprintf(stderr, "%s seed %lu:\n%s", cc, seed, out);
    assert_int_equal(st, 0);
    free(out);
    free(err);
}

static void test_lift_random_functions_match_native_gcc(void **s)
{
    (void)s;
    for (unsigned long seed = 1; seed <= 3; seed++) run_seed("gcc", seed, 40);
}

static void test_lift_random_functions_match_native_clang(void **s)
{
    (void)s;
    for (unsigned long seed = 11; seed <= 13; seed++) run_seed("clang", seed, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lift_random_functions_match_native_gcc),
        cmocka_unit_test(test_lift_random_functions_match_native_clang),
    };
    return cmocka_run_group_tests_name("lift_fuzz", tests, NULL, NULL);
}
