/* test_lift_insn_golden.c -- hand-written instruction cases in
 * testdata/insn/ *.txt (Rellume's format) hold on the CPU and in the lifter.
 *
 * One case per line:
 *     code="48 01 d8" rax=1 rbx=2 => rax=3 cf=0 zf=0
 *     code="f0 48 01 18" !
 * Left of "=>" the input state, right of it the expected outputs; a "!"
 * instead means lift_snippet_jit must refuse the code (LF_ERR_UNSUPPORTED:
 * the caller then bails out to a native call).  Names: rax..r15, cf pf af
 * zf sf df of, xmm0..xmm15 (one hex value: the low 64 bits, upper zero; or
 * lo:hi), mem[N] and stack[N] (8 bytes at offset N of the test buffer, or
 * of the initial rsp).  Register values may be numbers, mem+N, stack+N /
 * stack-N, or end (the address just past the code).  Everything unnamed
 * starts at zero, rsp at the middle of the scratch stack.
 *
 * Each case runs natively first: a line that disagrees with the CPU fails
 * as a bad golden line.  Then lifted: it must give the expected outputs and
 * agree with the native run in every GPR, xmm register and memory byte of
 * the test buffer and of the stack from the final rsp up (flags: the ones
 * the line names). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifter/lift_snippet.h"
#include "tests/tutil.h"
#include "tests/tutil_insn.h"

struct expect {                 /* what the right side names */
    uint64_t gpr_mask, flag_mask, xmm_mask;
    struct lift_cpu cpu;
    struct { int stack; int64_t off; uint64_t v; } mem[8];
    int nmem;
};

static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
static const struct { const char *n; unsigned bit; } flag_names[] = {
    { "cf", LIFT_CF }, { "pf", LIFT_PF }, { "af", LIFT_AF }, { "zf", LIFT_ZF },
    { "sf", LIFT_SF }, { "df", LIFT_DF }, { "of", LIFT_OF },
};

static uint64_t stack_base(void) { return (uint64_t)(uintptr_t)tu_insn_stack() + TU_STACK_SIZE / 2; }

/* A value: number, mem+N, stack+-N, end.  0 on a syntax error. */
static int parse_value(const char *s, size_t codelen, uint64_t *out)
{
    char *e;
    uint64_t base = 0;
    if (!strncmp(s, "mem", 3)) base = (uint64_t)(uintptr_t)tu_insn_mem(), s += 3;
    else if (!strncmp(s, "stack", 5)) base = stack_base(), s += 5;
    else if (!strncmp(s, "end", 3)) base = (uint64_t)(uintptr_t)tu_insn_snippet() + codelen, s += 3;
    if (!*s) { *out = base; return 1; }
    if (base && *s != '+' && *s != '-') return 0;
    *out = base + (s[0] == '-' ? (uint64_t)strtoll(s, &e, 0) : strtoull(s, &e, 0));
    return *e == 0;
}

/* name=value into cpu (and, for outputs, the masks of e). */
static int parse_assign(char *tok, size_t codelen, struct lift_cpu *cpu, struct expect *e, uint8_t *data)
{
    char *eq = strchr(tok, '=');
    if (!eq) return 0;
    *eq = 0;
    const char *name = tok, *val = eq + 1;
    uint64_t v;
    for (int k = 0; k < 16; k++)
        if (!strcmp(name, gpr_names[k])) {
            if (!parse_value(val, codelen, &v)) return 0;
            cpu->gpr[k] = v;
            if (e) e->gpr_mask |= 1u << k;
            return 1;
        }
    for (size_t k = 0; k < sizeof flag_names / sizeof flag_names[0]; k++)
        if (!strcmp(name, flag_names[k].n)) {
            if (strcmp(val, "0") && strcmp(val, "1")) return 0;
            cpu->rflags = (cpu->rflags & ~(uint64_t)flag_names[k].bit) | (val[0] == '1' ? flag_names[k].bit : 0);
            if (e) e->flag_mask |= flag_names[k].bit;
            return 1;
        }
    int x;
    if (sscanf(name, "xmm%d", &x) == 1 && x >= 0 && x < 16) {
        uint64_t h[2] = { 0, 0 };
        char *colon = strchr(val, ':');
        if (colon) *colon = 0;
        if (!parse_value(val, codelen, &h[0]) || (colon && !parse_value(colon + 1, codelen, &h[1]))) return 0;
        memcpy(cpu->xmm[x], h, 16);
        if (e) e->xmm_mask |= 1u << x;
        return 1;
    }
    long long off;
    int stack = !strncmp(name, "stack[", 6);
    if ((stack && sscanf(name, "stack[%lld]", &off) == 1) || sscanf(name, "mem[%lld]", &off) == 1) {
        uint64_t at = stack ? TU_MEM_SIZE + TU_STACK_SIZE / 2 + (uint64_t)off : (uint64_t)off;
        if (!parse_value(val, codelen, &v) || at > TU_DATA_SIZE - 8) return 0;
        if (e) {
            if (e->nmem == 8) return 0;
            e->mem[e->nmem].stack = stack, e->mem[e->nmem].off = off, e->mem[e->nmem++].v = v;
        } else {
            memcpy(data + at, &v, 8);
        }
        return 1;
    }
    return 0;
}

/* Differences between the expected outputs and cpu/data, into buf. */
static void check_expect(char *buf, size_t n, const struct expect *e, const struct lift_cpu *cpu,
                         const uint8_t *data)
{
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0; k < 16; k++)
        if ((e->gpr_mask >> k & 1) && cpu->gpr[k] != e->cpu.gpr[k] && o < n)
            o += (size_t)snprintf(buf + o, n - o, " %s=%#llx (want %#llx)", gpr_names[k],
                                  (unsigned long long)cpu->gpr[k], (unsigned long long)e->cpu.gpr[k]);
    if (((cpu->rflags ^ e->cpu.rflags) & e->flag_mask) && o < n)
        o += (size_t)snprintf(buf + o, n - o, " rflags=%#llx (want %#llx in %#llx)",
                              (unsigned long long)(cpu->rflags & TU_FLAGS_MASK),
                              (unsigned long long)e->cpu.rflags, (unsigned long long)e->flag_mask);
    for (int k = 0; k < 16; k++)
        if ((e->xmm_mask >> k & 1) && memcmp(cpu->xmm[k], e->cpu.xmm[k], 16) && o < n)
            o += (size_t)snprintf(buf + o, n - o, " xmm%d differs", k);
    for (int k = 0; k < e->nmem; k++) {
        uint64_t at = e->mem[k].stack ? TU_MEM_SIZE + TU_STACK_SIZE / 2 + (uint64_t)e->mem[k].off
                                      : (uint64_t)e->mem[k].off, v;
        memcpy(&v, data + at, 8);
        if (v != e->mem[k].v && o < n)
            o += (size_t)snprintf(buf + o, n - o, " %s[%lld]=%#llx (want %#llx)",
                                  e->mem[k].stack ? "stack" : "mem", (long long)e->mem[k].off,
                                  (unsigned long long)v, (unsigned long long)e->mem[k].v);
    }
}

/* Run one parsed case; returns 0 when it holds, else fills why. */
static int run_case(const uint8_t *code, size_t len, const struct lift_cpu *in, const uint8_t *data,
                    const struct expect *e, int refuse, char *why, size_t n)
{
    static uint8_t dn[TU_DATA_SIZE];
    lift_snippet_fn fn = NULL;
    char lw[256] = "";
    if (tu_insn_load(code, len) != 0) { snprintf(why, n, "cannot load the code"); return 1; }
    enum lf_status rc = lift_snippet_jit(tu_insn_snippet(), len, &fn, lw, sizeof lw);
    if (refuse) {
        if (rc == LF_ERR_UNSUPPORTED) return 0;
        snprintf(why, n, "must be refused, got %s", lf_status_str(rc));
        return 1;
    }
    struct lift_cpu cn = *in, cl;
    memcpy(tu_insn_data(), data, TU_DATA_SIZE);
    int sig = tu_insn_run_native(&cn);
    memcpy(dn, tu_insn_data(), TU_DATA_SIZE);
    check_expect(why, n, e, &cn, dn);
    if (sig || why[0]) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "bad golden line: the CPU gives%s (signal %d)", why, sig);
        snprintf(why, n, "%.*s", (int)n - 1, tmp);
        return 1;
    }
    if (rc != LF_OK || !fn) { snprintf(why, n, "lifter refuses: %s (%s)", lf_status_str(rc), lw); return 1; }
    cl = *in;
    cl.rflags = (cl.rflags & TU_FLAGS_MASK) | 2u;
    memcpy(tu_insn_data(), data, TU_DATA_SIZE);
    if ((sig = tu_insn_run_lifted(fn, &cl)) != 0) { snprintf(why, n, "lifted code raised signal %d", sig); return 1; }
    check_expect(why, n, e, &cl, tu_insn_data());
    if (why[0]) return 1;
    for (int k = 0; k < 16; k++)
        if (cl.gpr[k] != cn.gpr[k]) { snprintf(why, n, "%s differs from native", gpr_names[k]); return 1; }
    if (memcmp(cl.xmm, cn.xmm, sizeof cl.xmm)) { snprintf(why, n, "an xmm register differs from native"); return 1; }
    /* The stack below the final rsp is free memory: a call's popped return
     * address is there natively, a lifter that inlines or calls natively
     * need not write it. */
    uint64_t live = cn.gpr[4] - (uint64_t)(uintptr_t)tu_insn_data();
    if (live > TU_DATA_SIZE) live = TU_MEM_SIZE;
    if (memcmp(dn, tu_insn_data(), TU_MEM_SIZE) || memcmp(dn + live, tu_insn_data() + live, TU_DATA_SIZE - live)) {
        snprintf(why, n, "memory differs from native");
        return 1;
    }
    return 0;
}

/* Parse and run one line; -1 when it is blank or a comment. */
static int run_line(char *line, char *why, size_t n)
{
    char *p = line + strspn(line, " \t");
    if (!*p || *p == '#' || *p == '\n') return -1;
    if (strncmp(p, "code=\"", 6)) { snprintf(why, n, "line does not start with code=\"...\""); return 1; }
    p += 6;
    char *q = strchr(p, '"');
    if (!q) { snprintf(why, n, "unterminated code string"); return 1; }
    *q = 0;
    uint8_t code[TU_SNIPPET_MAX];
    size_t len = 0;
    for (char *t = strtok(p, " "); t; t = strtok(NULL, " ")) {
        if (len == sizeof code) { snprintf(why, n, "code too long"); return 1; }
        code[len++] = (uint8_t)strtoul(t, NULL, 16);
    }
    struct lift_cpu in;
    static uint8_t data[TU_DATA_SIZE];
    struct expect e;
    memset(&in, 0, sizeof in), memset(&e, 0, sizeof e), memset(data, 0, sizeof data);
    in.gpr[4] = stack_base();
    int refuse = 0, right = 0;
    for (char *t = strtok(q + 1, " \t\n"); t; t = strtok(NULL, " \t\n")) {
        if (!strcmp(t, "!")) { refuse = 1; continue; }
        if (!strcmp(t, "=>")) { right = 1; e.cpu = in; continue; }
        if (!parse_assign(t, len, right ? &e.cpu : &in, right ? &e : NULL, data)) {
            snprintf(why, n, "cannot parse \"%s\"", t);
            return 1;
        }
    }
    return run_case(code, len, &in, data, &e, refuse, why, n);
}

static void test_golden_cases_hold_natively_and_lifted(void **state)
{
    (void)state;
    const char *dir = tu_src("testdata/insn");
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned cases = 0, failures = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".txt")) continue;
        FILE *f = fopen(tu_fmt("%s/%s", dir, de->d_name), "r");
        assert_non_null(f);
        char line[1024], why[600];
        for (unsigned ln = 1; fgets(line, sizeof line, f); ln++) {
            char copy[1024];
            snprintf(copy, sizeof copy, "%s", line);
            int r = run_line(line, why, sizeof why);
            if (r < 0) continue;
            cases++;
            if (r) {
                failures++;
                print_message("  %s:%u: %s\n    %s", de->d_name, ln, why, copy);
            }
        }
        fclose(f);
    }
    closedir(d);
    tu_insn_guard(0);
    print_message("  %u golden cases, %u failures\n", cases, failures);
    assert_true(cases > 0);
    assert_int_equal(failures, 0);
}

int main(void)
{
    if (tu_insn_init() != 0) {
        fprintf(stderr, "test_lift_insn_golden: cannot map the snippet arena\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_cases_hold_natively_and_lifted),
    };
    return cmocka_run_group_tests_name("lift_insn_golden", tests, NULL, NULL);
}
