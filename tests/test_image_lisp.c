/* test_image_lisp.c -- every Scheme program in testdata/lisp/tests and
 * testdata/lisp/bench, snapshotted with `lineiform snapshot` and run with
 * `lineiform run`, gives the interpreter's stdout byte for byte and its exit
 * status (standard input: NAME.in when there is one); with the bundled
 * interpreter (gcc) and the same sources built by
 * clang.  And the compiled fib keeps no indirect call whose target is loaded
 * from memory, and its recursion calls its specialization directly
 * (disassembled with Zydis).
 *
 * Every program is compared with a live run of the same interpreter build.
 * The metadata database is kept in the build directory so each interpreter
 * build is analyzed once, not per test run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <Zydis/Zydis.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/runtime/rt_internal.h"
#include "tests/tutil.h"

static char lineiform[1024], lisp_gcc[1024], lisp_clang[1024], db[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(lineiform, sizeof lineiform, "%s", tu_build("lineiform"));
    snprintf(lisp_gcc, sizeof lisp_gcc, "%s", tu_build("bin/lisp"));
    snprintf(db, sizeof db, "%s", tu_build("tests/image-lisp-metadata.db"));
    snprintf(lisp_clang, sizeof lisp_clang, "%s", tu_build("tests/lisp-clang")); /* stable path: analysis cached */
    if (access(lineiform, X_OK) || access(lisp_gcc, X_OK)) {
        fprintf(stderr, "test_image_lisp: %s or %s missing\n", lineiform, lisp_gcc);
        return -1;
    }
    char *err = NULL;
    int rc = tu_run(tu_fmt("clang -std=gnu11 -O2 -g -I'%s' -o '%s/lisp-clang' %s/*.c '%s' -lgc -lm && "
                           "mv -f '%s/lisp-clang' '%s'", tu_src("include"), tu_tmpdir(), tu_src("testdata/lisp"),
                           tu_build("liblineiform-rt.a"), tu_tmpdir(), lisp_clang), NULL, &err);
    if (rc) fprintf(stderr, "test_image_lisp: building the interpreter with clang: %s\n", err);
    free(err);
    return rc;
}

static size_t scripts(const char *dir, glob_t *g)
{
    memset(g, 0, sizeof *g);
    if (glob(tu_fmt("%s/*.scm", tu_src(dir)), 0, NULL, g) != 0) return 0;
    return g->gl_pathc;
}

/* Snapshot scr with interp; 0 when an image was written, else the status
 * (then no image may exist). */
static int snapshot(const char *interp, const char *scr, const char *img, const char *opts, char **out)
{
    char *err = NULL;
    unlink(img);
    int rc = tu_run(tu_fmt("'%s' snapshot --db '%s' --interp '%s' %s '%s' -o '%s'", lineiform, db, interp, opts, scr,
                           img),
                    out, &err);
    if (rc != 0 && access(img, F_OK) == 0) fail_msg("%s: snapshot failed (%d) but left %s", scr, rc, img);
    if (rc != 0 && rc != 1) fail_msg("%s: snapshot exit status %d: %s", scr, rc, err);
    free(err);
    return rc;
}

/* What a script reads on standard input: NAME.in beside NAME.scm, else
 * nothing (/dev/null). */
static const char *stdin_of(const char *scr)
{
    size_t n = strlen(scr);
    const char *in = tu_fmt("%.*s.in", (int)(n > 4 ? n - 4 : n), scr);
    return access(in, R_OK) == 0 ? in : "/dev/null";
}

/* Run scr with the interpreter and as an image, both from dir: same stdout,
 * stderr and exit status.  A script that fails before its snapshot point must
 * fail when interpreted too, and leave no image. */
static void image_matches_interpreter(const char *interp, const char *dir, const char *scr)
{
    char im[1024], *o1 = NULL, *o2 = NULL, *e1 = NULL, *e2 = NULL;
    snprintf(im, sizeof im, "%s/t.img", tu_tmpdir());
    char in[1024];
    snprintf(in, sizeof in, "%s", stdin_of(scr));
    int s1 = tu_run(tu_fmt("cd '%s' && '%s' '%s' < '%s'", dir, interp, scr, in), &o1, &e1);
    int rc = snapshot(interp, scr, im, "", NULL);
    if (rc == 1) {
        if (s1 == 0) fail_msg("%s: snapshot failed but the interpreter succeeds", scr);
        free(o1);
        free(e1);
        return;
    }
    int s2 = tu_run(tu_fmt("cd '%s' && '%s' run '%s' < '%s'", dir, lineiform, im, in), &o2, &e2);
    if (s1 != s2 || strcmp(o1, o2))
        fail_msg("%s (%s): interpreter status %d, image status %d (%s)\n--- interpreter\n%s--- image\n%s", scr,
                 interp, s1, s2, e2, o1, o2);
    if (strcmp(e1, e2)) /* error messages too: they name procedures and values, not modes */
        fail_msg("%s (%s): stderr differs\n--- interpreter\n%s--- image\n%s", scr, interp, e1, e2);
    free(o1);
    free(o2);
    free(e1);
    free(e2);
}

static void every_program(const char *interp, const char *rel)
{
    glob_t g;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_src(rel));
    size_t n = scripts(rel, &g);
    for (size_t i = 0; i < n; i++) image_matches_interpreter(interp, dir, g.gl_pathv[i]);
    globfree(&g);
    if (n == 0) skip(); /* no programs there yet */
}

static void test_test_programs_gcc_interpreter(void **state) { (void)state; every_program(lisp_gcc, "testdata/lisp/tests"); }
static void test_test_programs_clang_interpreter(void **state) { (void)state; every_program(lisp_clang, "testdata/lisp/tests"); }
static void test_bench_programs_gcc_interpreter(void **state) { (void)state; every_program(lisp_gcc, "testdata/lisp/bench"); }
static void test_bench_programs_clang_interpreter(void **state) { (void)state; every_program(lisp_clang, "testdata/lisp/bench"); }

/* -- The compiled fib: no indirect call through frozen memory -------------- */

/* What the lifter promises: a load from a known address in the frozen arena
 * is a constant, so no call or jump in compiled code takes its target from
 * such a load.  Calls through memory that is not frozen (values the program
 * computes at run time: procedures held in heap frames, the trampoline) may
 * stay indirect.  The check works backwards through the function's
 * instructions in address order from each indirect transfer. */

#define FROZEN_LO RT_FROZEN_BASE
#define FROZEN_HI (RT_FROZEN_BASE + RT_ARENA_RESERVE)

typedef ZydisDecodedOperand insn_ops[ZYDIS_MAX_OPERAND_COUNT];

static ZydisRegister reg64(ZydisRegister r) { return ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r); }

/* The last instruction before i that writes register r, or (size_t)-1. */
static size_t last_write(const ZydisDecodedInstruction *ins, const insn_ops *ops, size_t i, ZydisRegister r)
{
    r = reg64(r);
    while (i-- > 0)
        for (unsigned k = 0; k < ins[i].operand_count_visible; k++)
            if (ops[i][k].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                (ops[i][k].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) && reg64(ops[i][k].reg.value) == r)
                return i;
    return (size_t)-1;
}

/* 1 when register r, read by insn i, holds a constant built from immediates
 * (movabs, moved, offset by add/sub/lea with constants); the value in *v. */
static int reg_const(const ZydisDecodedInstruction *ins, const insn_ops *ops, size_t i, ZydisRegister r,
                     int depth, uint64_t *v)
{
    size_t w = last_write(ins, ops, i, r);
    if (depth > 16 || w == (size_t)-1 || ins[w].operand_count_visible < 2) return 0;
    const ZydisDecodedOperand *src = &ops[w][1];
    switch (ins[w].mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return *v = src->imm.value.u, 1;
        return src->type == ZYDIS_OPERAND_TYPE_REGISTER && reg_const(ins, ops, w, src->reg.value, depth + 1, v);
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_SUB:
        if (src->type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !reg_const(ins, ops, w, r, depth + 1, v)) return 0;
        *v += ins[w].mnemonic == ZYDIS_MNEMONIC_ADD ? src->imm.value.u : -src->imm.value.u;
        return 1;
    case ZYDIS_MNEMONIC_LEA:
        if (src->mem.index != ZYDIS_REGISTER_NONE || src->mem.base == ZYDIS_REGISTER_NONE ||
            src->mem.base == ZYDIS_REGISTER_RIP || !reg_const(ins, ops, w, src->mem.base, depth + 1, v))
            return 0;
        *v += (uint64_t)src->mem.disp.value;
        return 1;
    default:
        return 0;
    }
}

/* 1 when memory operand m of insn i has a known address in the frozen arena. */
static int mem_frozen(const ZydisDecodedInstruction *ins, const insn_ops *ops, size_t i, const ZydisDecodedOperand *m)
{
    uint64_t a = 0;
    if (m->mem.index != ZYDIS_REGISTER_NONE || m->mem.base == ZYDIS_REGISTER_RIP) return 0;
    if (m->mem.base != ZYDIS_REGISTER_NONE && !reg_const(ins, ops, i, m->mem.base, 0, &a)) return 0;
    a += (uint64_t)m->mem.disp.value;
    return a >= FROZEN_LO && a < FROZEN_HI;
}

/* 1 when register r, read by insn i, was loaded from frozen memory (maybe
 * moved or offset since). */
static int reg_from_frozen(const ZydisDecodedInstruction *ins, const insn_ops *ops, size_t i, ZydisRegister r, int depth)
{
    size_t w = last_write(ins, ops, i, r);
    if (depth > 16 || w == (size_t)-1 || ins[w].operand_count_visible < 2) return 0;
    const ZydisDecodedOperand *src = &ops[w][1];
    switch (ins[w].mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        if (src->type == ZYDIS_OPERAND_TYPE_MEMORY) return mem_frozen(ins, ops, w, src);
        return src->type == ZYDIS_OPERAND_TYPE_REGISTER && reg_from_frozen(ins, ops, w, src->reg.value, depth + 1);
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_SUB:
        return reg_from_frozen(ins, ops, w, r, depth + 1);
    default:
        return 0;
    }
}

/* The instructions of [code, code+len) at addr, decoded in order. */
struct insns {
    ZydisDecodedInstruction *ins;
    insn_ops *ops;
    uint64_t *at;
    size_t n;
};

static void insns_decode(struct insns *d, const uint8_t *code, size_t len, uint64_t addr)
{
    ZydisDecoder z;
    ZydisDecoderInit(&z, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    size_t cap = len + 1;
    d->ins = calloc(cap, sizeof *d->ins);
    d->ops = calloc(cap, sizeof *d->ops);
    d->at = calloc(cap, sizeof *d->at);
    assert_true(d->ins && d->ops && d->at);
    d->n = 0;
    for (size_t off = 0; off < len && d->n < cap; off += d->ins[d->n++].length) {
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&z, code + off, len - off, &d->ins[d->n], d->ops[d->n]))) break;
        d->at[d->n] = addr + off;
    }
}

static void insns_free(struct insns *d)
{
    free(d->ins);
    free(d->ops);
    free(d->at);
}

/* Number of indirect calls/jumps in [code, code+len) whose target is loaded
 * from a known frozen address; the first one's address in *where. */
static unsigned indirect_transfers(const uint8_t *code, size_t len, uint64_t addr, uint64_t *where)
{
    struct insns d;
    insns_decode(&d, code, len, addr);
    unsigned bad = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (d.ins[i].meta.category != ZYDIS_CATEGORY_CALL && d.ins[i].meta.category != ZYDIS_CATEGORY_UNCOND_BR)
            continue;
        const ZydisDecodedOperand *o = &d.ops[i][0];
        int through_frozen = (o->type == ZYDIS_OPERAND_TYPE_MEMORY && mem_frozen(d.ins, d.ops, i, o)) ||
                             (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
                              reg_from_frozen(d.ins, d.ops, i, o->reg.value, 0));
        if (through_frozen && !bad++) *where = d.at[i];
    }
    insns_free(&d);
    return bad;
}

/* Calls in [code, code+len) to one of the image's functions (starts[0..n)):
 * *direct counts the PC-relative ones, *via_reg those through a register
 * holding the function's address as a constant. */
static void calls_to_image(const uint8_t *code, size_t len, uint64_t addr, const uint64_t *starts, size_t n,
                           unsigned *direct, unsigned *via_reg)
{
    struct insns d;
    insns_decode(&d, code, len, addr);
    for (size_t i = 0; i < d.n; i++) {
        if (d.ins[i].mnemonic != ZYDIS_MNEMONIC_CALL) continue;
        const ZydisDecodedOperand *o = &d.ops[i][0];
        uint64_t t = 0;
        int rel = o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && o->imm.is_relative;
        if (rel) t = d.at[i] + d.ins[i].length + (uint64_t)o->imm.value.s;
        else if (!(o->type == ZYDIS_OPERAND_TYPE_REGISTER && reg_const(d.ins, d.ops, i, o->reg.value, 0, &t))) continue;
        for (size_t k = 0; k < n; k++)
            if (starts[k] == t) { (*(rel ? direct : via_reg))++; break; }
    }
    insns_free(&d);
}

#define MOVABS_RDI_FROZEN 0x48, 0xbf, 0x00, 0x10, 0x00, 0x00, 0x00, 0x7e, 0x00, 0x00 /* movabs $0x7e0000001000,%rdi */
#define MOVABS_RDI_HEAP   0x48, 0xbf, 0x00, 0x10, 0x00, 0x00, 0x00, 0x56, 0x00, 0x00 /* movabs $0x560000001000,%rdi */

static void test_indirect_call_check_tells_frozen_from_other_targets(void **state)
{
    (void)state;
    static const uint8_t frozen_load[] = { MOVABS_RDI_FROZEN, 0x48, 0x8b, 0x07, 0xff, 0xd0, 0xc3 }; /* mov (%rdi),%rax; call *%rax */
    static const uint8_t frozen_mem[] = { MOVABS_RDI_FROZEN, 0xff, 0x57, 0x08, 0xc3 };             /* call *8(%rdi) */
    static const uint8_t frozen_tail[] = { MOVABS_RDI_FROZEN, 0x48, 0x83, 0xc7, 0x10,              /* add $16,%rdi */
                                           0x48, 0x8b, 0x47, 0x08, 0xff, 0xe0 };                   /* mov 8(%rdi),%rax; jmp *%rax */
    static const uint8_t heap_load[] = { MOVABS_RDI_HEAP, 0x48, 0x8b, 0x07, 0xff, 0xd0, 0xc3 };
    static const uint8_t arg_load[] = { 0x48, 0x8b, 0x07, 0xff, 0xd0, 0xc3 };                      /* through an argument */
    static const uint8_t direct[] = { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 0, 0, 0xff, 0xd0, 0xc3 };      /* movabs; call *%rax */
    uint64_t where = 0;
    assert_int_equal(indirect_transfers(frozen_load, sizeof frozen_load, 0x1000, &where), 1);
    assert_int_equal(where, 0x100d);
    assert_int_equal(indirect_transfers(frozen_mem, sizeof frozen_mem, 0x1000, &where), 1);
    assert_int_equal(indirect_transfers(frozen_tail, sizeof frozen_tail, 0x1000, &where), 1);
    assert_int_equal(indirect_transfers(heap_load, sizeof heap_load, 0x1000, &where), 0);
    assert_int_equal(indirect_transfers(arg_load, sizeof arg_load, 0x1000, &where), 0);
    assert_int_equal(indirect_transfers(direct, sizeof direct, 0x1000, &where), 0);
}

/* The compiled functions of bench program prog's image, snapshotted with
 * opts to file in the temporary directory; 0 if the entry was not
 * compiled.  *summary (if asked): the snapshot's summary. */
struct img_fn { char name[96]; uint64_t addr, size; const uint8_t *code; };
struct img { uint8_t *buf; struct img_fn fn[64]; size_t nfn; };

static int bench_image(struct img *im, const char *prog, const char *opts, const char *file, char **summary)
{
    char path[1024], *out = NULL;
    snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), file);
    assert_int_equal(snapshot(lisp_gcc, tu_src(tu_fmt("testdata/lisp/bench/%s.scm", prog)), path, opts, &out), 0);
    int compiled = strstr(out, "not compiled") == NULL;
    if (summary) *summary = out;
    else free(out);
    if (!compiled) return 0;
    size_t len;
    im->buf = (uint8_t *)tu_read_file(path, &len);
    im->nfn = 0;
    elf_version(EV_CURRENT);
    Elf *e = elf_memory((char *)im->buf, len);
    assert_non_null(e);
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        if (sh.sh_type != SHT_SYMTAB) continue;
        Elf_Data *sd = elf_getdata(scn, NULL);
        for (size_t i = 1; i < sh.sh_size / sizeof(Elf64_Sym); i++) {
            GElf_Sym sy;
            gelf_getsym(sd, (int)i, &sy);
            const char *name = elf_strptr(e, sh.sh_link, sy.st_name);
            if (GELF_ST_TYPE(sy.st_info) != STT_FUNC || strstr(name, "@plt")) continue;
            assert_true(im->nfn < sizeof im->fn / sizeof im->fn[0]);
            GElf_Shdr th;
            gelf_getshdr(elf_getscn(e, sy.st_shndx), &th);
            struct img_fn *f = &im->fn[im->nfn++];
            snprintf(f->name, sizeof f->name, "%s", name);
            f->addr = sy.st_value;
            f->size = sy.st_size;
            f->code = im->buf + th.sh_offset + (sy.st_value - th.sh_addr);
        }
    }
    elf_end(e);
    return 1;
}

static void test_compiled_fib_has_no_indirect_call_through_frozen_memory(void **state)
{
    (void)state;
    struct img im;
    if (!bench_image(&im, "fib", "", "fib.img", NULL)) skip(); /* whole-entry bailout (no lifter): nothing compiled to inspect */
    for (size_t k = 0; k < im.nfn; k++) {
        uint64_t where = 0;
        unsigned bad = indirect_transfers(im.fn[k].code, im.fn[k].size, im.fn[k].addr, &where);
        if (bad) fail_msg("%s: %u indirect call/jump(s) through frozen memory, first at 0x%llx", im.fn[k].name, bad,
                          (unsigned long long)where);
    }
    assert_true(im.nfn > 0);
    free(im.buf);
}

/* The recursion of fib runs through direct calls between the image's own
 * functions (PC-relative `call`), not through a register loaded with their
 * address. */
static void test_compiled_fib_calls_its_specializations_directly(void **state)
{
    (void)state;
    struct img im;
    if (!bench_image(&im, "fib", "", "fibd.img", NULL)) skip();
    uint64_t starts[64];
    for (size_t k = 0; k < im.nfn; k++) starts[k] = im.fn[k].addr;
    unsigned direct = 0, via_reg = 0;
    for (size_t k = 0; k < im.nfn; k++)
        calls_to_image(im.fn[k].code, im.fn[k].size, im.fn[k].addr, starts, im.nfn, &direct, &via_reg);
    assert_true(im.nfn >= 2);    /* the program and fib's recursive specialization */
    assert_true(direct >= 2);    /* the call into fib and its recursion */
    assert_int_equal(via_reg, 0);
    free(im.buf);
}

/* Among a function's first 16 instructions, the first `mn reg0, x` whose
 * second operand has type t1 (and is reg1 when a register): 1 and its
 * immediate in *imm (when t1 is one), or 0. */
static int prologue_has(const uint8_t *code, size_t len, ZydisMnemonic mn, ZydisRegister reg0,
                        ZydisOperandType t1, ZydisRegister reg1, long *imm)
{
    ZydisDecoder z;
    ZydisDecoderInit(&z, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedInstruction ins;
    insn_ops ops;
    size_t at = 0;
    for (int k = 0; k < 16 && at < len && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&z, code + at, len - at, &ins, ops));
         k++, at += ins.length) {
        if (ins.mnemonic != mn || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].reg.value != reg0 ||
            ops[1].type != t1 || (t1 == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].reg.value != reg1))
            continue;
        if (imm) *imm = (long)ops[1].imm.value.s;
        return 1;
    }
    return 0;
}

/* The stack a function reserves in its prologue (`sub rsp, imm`), or -1. */
static long prologue_stack(const uint8_t *code, size_t len)
{
    long imm;
    return prologue_has(code, len, ZYDIS_MNEMONIC_SUB, ZYDIS_REGISTER_RSP, ZYDIS_OPERAND_TYPE_IMMEDIATE,
                        ZYDIS_REGISTER_NONE, &imm) ? imm : -1;
}

/* 1 when a function's prologue sets up a frame pointer (`mov rbp, rsp`). */
static int prologue_frame_pointer(const uint8_t *code, size_t len)
{
    return prologue_has(code, len, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_RBP, ZYDIS_OPERAND_TYPE_REGISTER,
                        ZYDIS_REGISTER_RSP, NULL);
}

/* The count after label in a snapshot's summary ("frame windows 8 ..."). */
static unsigned summary_count(const char *sum, const char *label)
{
    const char *p = strstr(sum, label);
    unsigned v = 0;
    assert_non_null(p);
    assert_int_equal(sscanf(p + strlen(label), " %u", &v), 1);
    return v;
}

/* fib's calls hand the callee the words of their argument frame (frame
 * windows, lifter/lift_job.h), and the frames stay in registers: gcc
 * addresses enter()'s argument frame through its address shifted right by
 * 3 (a VLA's alignment) in one block and scaled back in the next, which
 * the lifter follows (lift_block.c LIFT_AK_SHR); lost, the frame escapes
 * and every access goes to memory.  With nothing of the frame left in
 * memory, the recursive specialization reserves a few words of stack, not
 * the frame's 360 bytes (lift_frame.c split_only_address). */
static void test_compiled_fib_passes_frame_windows(void **state)
{
    (void)state;
    struct img im;
    char *sum = NULL;
    if (!bench_image(&im, "fib", "", "fibw.img", &sum)) skip();
    const char *r = strstr(sum, "frame accesses");
    assert_non_null(r);
    unsigned regs = 0, mem = 0;
    assert_int_equal(sscanf(r, "frame accesses %u in registers, %u in memory", &regs, &mem), 2);
    assert_true(summary_count(sum, "frame windows") >= 2);   /* the two calls of fib's body */
    /* fib's frame is split, and so is its program's: lv_print's buffer
     * escapes, but a frame address kept in a slot that a returned call's
     * escape range covered is no leak (lift_frame.c split_kept_in_slot). */
    assert_true(regs > mem);
    int seen = 0;
    for (size_t k = 0; k < im.nfn; k++) {
        if (!strstr(im.fn[k].name, "nc_if@")) continue;
        long st = prologue_stack(im.fn[k].code, im.fn[k].size);
        assert_true(st >= 0 && st < 128);
        seen = 1;
    }
    assert_true(seen);
    free(sum);
    free(im.buf);
}

/* enter()'s trampoline (lv_trampoline) copies a pending tail call's
 * arguments into a VLA sized by lv_tc.argc, which fib's body does not
 * know after a call returned LV_TAIL: it stays a call (lift_mod.noinl),
 * so fib's specialization has a fixed frame, without a frame pointer. */
static void test_compiled_fib_keeps_a_run_time_sized_frame_out(void **state)
{
    (void)state;
    struct img im;
    char *sum = NULL;
    if (!bench_image(&im, "fib", "", "fibk.img", &sum)) skip();
    assert_true(summary_count(sum, "kept calls") >= 1);
    int seen = 0;
    for (size_t f = 0; f < im.nfn; f++) {
        if (!strstr(im.fn[f].name, "nc_if@")) continue;
        assert_false(prologue_frame_pointer(im.fn[f].code, im.fn[f].size));
        seen = 1;
    }
    assert_true(seen);
    free(sum);
    free(im.buf);
}

/* fib's leaf (n < 2) is its specialization's early return: it is inlined
 * at each call (lifter/passes/lift_fast.c), so a leaf costs no call. */
static void test_compiled_fib_returns_its_leaves_without_a_call(void **state)
{
    (void)state;
    struct img im;
    char *sum = NULL;
    if (!bench_image(&im, "fib", "", "fibf.img", &sum)) skip();
    assert_true(summary_count(sum, "fast exits") >= 1);
    /* fib's specialization: its first call of itself inlined */
    assert_int_equal(summary_count(sum, "unrolled"), 1);
    free(sum);
    free(im.buf);
}

/* tak's leaf (y >= x) lies past its body loop's header, seven blocks
 * from its specialization's entry: within the fast region's limits
 * (lifter/passes/lift_fast.c), so it is inlined at the calls too (1 fast exit
 * with 6 blocks at most, 4 with 10). */
static void test_compiled_tak_returns_its_leaves_without_a_call(void **state)
{
    (void)state;
    struct img im;
    char *sum = NULL;
    if (!bench_image(&im, "tak", "", "takf.img", &sum)) skip();
    assert_true(summary_count(sum, "fast exits") >= 2);
    free(sum);
    free(im.buf);
}

/* The pushes among a function's first eight instructions. */
static int prologue_pushes(const uint8_t *code, size_t len)
{
    ZydisDecoder z;
    ZydisDecoderInit(&z, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedInstruction ins;
    insn_ops ops;
    size_t at = 0;
    int n = 0;
    for (int k = 0; k < 8 && at < len && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&z, code + at, len - at, &ins, ops));
         k++, at += ins.length)
        n += ins.mnemonic == ZYDIS_MNEMONIC_PUSH;
    return n;
}

/* ack's calls read their caller's frame only.  The words of its frame
 * windows include padding below a callee's locals, which once held a
 * frame address of an earlier callee: forgotten when a call pushes its
 * return address (lift_slots_dead_below), it no longer makes the windows
 * escape (18 window calls before, 54 after).  The words come back
 * unchanged, so the callers use their own (lifter/passes/lift_retfwd.c). */
static void test_compiled_ack_passes_frame_windows_it_gets_back(void **state)
{
    (void)state;
    struct img im;
    char *sum = NULL;
    if (!bench_image(&im, "ack", "", "ackw.img", &sum)) skip();
    assert_true(summary_count(sum, "frame windows") >= 40);
    assert_true(summary_count(sum, "results") > 0);
    /* Its call node calls itself: under the GHC convention it saves no
     * register on entry (lifter/passes/lift_cc.c); six pushes under the C one. */
    assert_true(summary_count(sum, "recursion") >= 1);
    int bare = 0;
    for (size_t k = 0; k < im.nfn; k++)
        if (strstr(im.fn[k].name, "nc_kcall@") && prologue_pushes(im.fn[k].code, im.fn[k].size) == 0) bare = 1;
    assert_true(bare);
    free(sum);
    free(im.buf);
}

/* -- Code generation split across threads ----------------------------------- */

/* Run image path; its stdout must be bench program prog's expected output. */
static void image_prints_expected(const char *path, const char *prog)
{
    char *out = NULL, *err = NULL;
    size_t len;
    char *want = tu_read_file(tu_src(tu_fmt("testdata/lisp/bench/%s.out", prog)), &len);
    assert_non_null(want);
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, path), &out, &err), 0);
    assert_string_equal(out, want);
    free(out);
    free(err);
    free(want);
}

/* sieve's module is large enough to split: with -j 3 its code is generated
 * as three objects, which the image linker joins (calls between them
 * resolved: the image runs and prints what it should), with the same
 * functions as from one thread (-j 1, one object). */
static void test_split_code_generation_links_into_one_image(void **state)
{
    (void)state;
    struct img one, three;
    char *s1 = NULL, *s3 = NULL;
    if (!bench_image(&one, "sieve", "-j 1", "sieve1.img", &s1)) skip();
    assert_int_equal(bench_image(&three, "sieve", "-j 3", "sieve3.img", &s3), 1);
    assert_null(strstr(s1, " threads)"));
    if (!strstr(s3, "on 3 threads)")) fail_msg("no split code generation:\n%s", s3);
    assert_true(one.nfn >= 3);
    assert_int_equal(three.nfn, one.nfn);
    for (size_t k = 0; k < one.nfn; k++) {
        size_t q = 0;
        while (q < three.nfn && strcmp(three.fn[q].name, one.fn[k].name)) q++;
        if (q == three.nfn) fail_msg("%s is missing from the split image", one.fn[k].name);
    }
    image_prints_expected(tu_fmt("%s/sieve1.img", tu_tmpdir()), "sieve");
    image_prints_expected(tu_fmt("%s/sieve3.img", tu_tmpdir()), "sieve");
    free(s1);
    free(s3);
    free(one.buf);
    free(three.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_test_programs_gcc_interpreter),
        cmocka_unit_test(test_test_programs_clang_interpreter),
        cmocka_unit_test(test_bench_programs_gcc_interpreter),
        cmocka_unit_test(test_bench_programs_clang_interpreter),
        cmocka_unit_test(test_indirect_call_check_tells_frozen_from_other_targets),
        cmocka_unit_test(test_compiled_fib_has_no_indirect_call_through_frozen_memory),
        cmocka_unit_test(test_compiled_fib_calls_its_specializations_directly),
        cmocka_unit_test(test_compiled_fib_passes_frame_windows),
        cmocka_unit_test(test_compiled_fib_keeps_a_run_time_sized_frame_out),
        cmocka_unit_test(test_compiled_fib_returns_its_leaves_without_a_call),
        cmocka_unit_test(test_compiled_ack_passes_frame_windows_it_gets_back),
        cmocka_unit_test(test_compiled_tak_returns_its_leaves_without_a_call),
        cmocka_unit_test(test_split_code_generation_links_into_one_image),
    };
    if (getenv("LF_TEST_FILTER")) cmocka_set_test_filter(getenv("LF_TEST_FILTER")); /* e.g. "*fib*" */
    return cmocka_run_group_tests(tests, setup, NULL);
}
