/* test_image_mini.c -- `lineiform snapshot` and `lineiform run` end to end
 * on a minimal closure-generating interpreter built here (by gcc and by
 * clang) against liblineiform-rt.a: same stdout and exit status as the
 * interpreter, a failing script leaves no image, and damaged images (header
 * fields, truncation, flipped bytes in code and arenas, another interpreter
 * build) end with status 2 and one line, never a signal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tutil.h"

/* fib over a frozen closure tree; recursion goes through a persistent
 * cell that holds the frozen body.  Script: one number, or "fail". */
static const char mini_src[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include \"lineiform.h\"\n"
    "struct node { long (*code)(const struct node *, long); const struct node *a, *b, *c; long k;\n"
    "              const struct node *const *cell; };\n"
    "struct root { const struct node *body; long n; };\n"
    "#ifdef OTHER_BUILD\n__attribute__((used)) static const char other_build[] = \"other\";\n#endif\n"
    "static long c_const(const struct node *n, long x) { (void)x; return n->k; }\n"
    "static long c_arg(const struct node *n, long x) { (void)n; return x; }\n"
    "static long c_add(const struct node *n, long x) { return n->a->code(n->a, x) + n->b->code(n->b, x); }\n"
    "static long c_lt(const struct node *n, long x) { return n->a->code(n->a, x) < n->b->code(n->b, x); }\n"
    "static long c_if(const struct node *n, long x)\n"
    "{ return n->a->code(n->a, x) ? n->b->code(n->b, x) : n->c->code(n->c, x); }\n"
    "static long c_call(const struct node *n, long x)\n"
    "{ const struct node *f = *n->cell; return f->code(f, n->a->code(n->a, x)); }\n"
    "static const struct node *mk(long (*code)(const struct node *, long), const struct node *a,\n"
    "                             const struct node *b, const struct node *c, long k,\n"
    "                             const struct node *const *cell)\n"
    "{ struct node t = { code, a, b, c, k, cell }; return lf_freeze(&t, sizeof t); }\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    lf_init(&argc, &argv);\n"
    "    if (lf_mode() == LF_MODE_IMAGE) {\n"
    "        void *code, *entry, *roots;\n"
    "        if (lf_image(&code, &entry, &roots) != LF_OK) return 3;\n"
    "        struct root *r = roots;\n"
    "        long v = ((long (*)(const void *, long))code)(entry, r->n);\n"
    "        printf(\"fib(%ld) = %ld\\n\", r->n, v);\n"
    "        return (int)(v % 7);\n"
    "    }\n"
    "    if (argc != 2) { fprintf(stderr, \"usage: mini SCRIPT\\n\"); return 2; }\n"
    "    FILE *f = fopen(argv[1], \"r\");\n"
    "    char word[32] = \"\";\n"
    "    if (!f || fscanf(f, \"%31s\", word) != 1) { fprintf(stderr, \"mini: cannot read %s\\n\", argv[1]); return 1; }\n"
    "    fclose(f);\n"
    "    if (!strcmp(word, \"fail\")) { fprintf(stderr, \"mini: %s:1:1: syntax error\\n\", argv[1]); return 1; }\n"
    "    struct root *r = lf_alloc(sizeof *r);\n"
    "    r->n = atol(word);\n"
    "    const struct node *x = mk(c_arg, 0, 0, 0, 0, 0);\n"
    "    const struct node *m1 = mk(c_call, mk(c_add, x, mk(c_const, 0, 0, 0, -1, 0), 0, 0, 0), 0, 0, 0, &r->body);\n"
    "    const struct node *m2 = mk(c_call, mk(c_add, x, mk(c_const, 0, 0, 0, -2, 0), 0, 0, 0), 0, 0, 0, &r->body);\n"
    "    r->body = mk(c_if, mk(c_lt, x, mk(c_const, 0, 0, 0, 2, 0), 0, 0, 0), x, mk(c_add, m1, m2, 0, 0, 0), 0, 0);\n"
    "    lf_snapshot((void *)r->body, r);\n"
    "    long v = r->body->code(r->body, r->n);\n"
    "    printf(\"fib(%ld) = %ld\\n\", r->n, v);\n"
    "    return (int)(v % 7);\n"
    "}\n";

static const char *lineiform;

/* Build the mini interpreter with cc; extra goes on the command line
 * (-DOTHER_BUILD changes the build-id).  The path stays valid (it is kept
 * per name, not in tu_fmt's rotating buffers). */
static const char *build_mini(const char *cc, const char *name, const char *extra)
{
    static char bins[8][1024];
    static unsigned next;
    const char *src = tu_fmt("%s/mini.c", tu_tmpdir());
    char *bin = bins[next++ % 8];
    char *err = NULL;
    snprintf(bin, sizeof bins[0], "%s/%s", tu_tmpdir(), name);
    assert_int_equal(tu_write_file(src, mini_src, strlen(mini_src)), 0);
    int rc = tu_run(tu_fmt("%s -O2 -g %s -I'%s' -o '%s' '%s' '%s'" TU_SAN_LIBS, cc, extra, tu_src("include"), bin, src,
                           tu_build("liblineiform-rt.a")), NULL, &err);
    if (rc != 0) fail_msg("building %s: %s", name, err);
    free(err);
    return bin;
}

static const char *script(const char *name, const char *text)
{
    const char *p = tu_fmt("%s/%s", tu_tmpdir(), name);
    assert_int_equal(tu_write_file(p, text, strlen(text)), 0);
    return p;
}

static int setup(void **state)
{
    (void)state;
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", tu_build("lineiform"));
    lineiform = buf;
    return access(lineiform, X_OK);
}

/* snapshot + run must equal the interpreter, byte for byte and status. */
static void same_as_interpreter(const char *interp_, const char *scr_, const char *img_)
{
    char *o1 = NULL, *o2 = NULL, *e = NULL, interp[1024], scr[1024], img[1024];
    snprintf(interp, sizeof interp, "%s", interp_); /* tu_fmt buffers rotate */
    snprintf(scr, sizeof scr, "%s", scr_);
    snprintf(img, sizeof img, "%s", img_);
    int s1 = tu_run(tu_fmt("'%s' '%s'", interp, scr), &o1, NULL);
    int rc = tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform, tu_tmpdir(), interp, scr, img), NULL, &e);
    if (rc != 0) fail_msg("snapshot failed (%d): %s", rc, e);
    free(e);
    int s2 = tu_run(tu_fmt("'%s' run '%s'", lineiform, img), &o2, &e);
    if (s1 != s2 || strcmp(o1, o2))
        fail_msg("interpreter: %d '%s'; image: %d '%s' (%s)", s1, o1, s2, o2, e);
    free(o1);
    free(o2);
    free(e);
}

static void test_gcc_built_interpreter_and_its_image_agree(void **state)
{
    (void)state;
    const char *mini = build_mini("gcc", "mini-gcc", "");
    same_as_interpreter(mini, script("f20.txt", "20\n"), tu_fmt("%s/f20.img", tu_tmpdir()));
    same_as_interpreter(mini, script("f1.txt", "1\n"), tu_fmt("%s/f1.img", tu_tmpdir()));
}

static void test_non_pie_interpreter_and_its_image_agree(void **state)
{
    (void)state;
    const char *mini = build_mini("gcc", "mini-nopie", "-no-pie -fno-pie");
    same_as_interpreter(mini, script("f22.txt", "22\n"), tu_fmt("%s/nopie.img", tu_tmpdir()));
}

static void test_every_optimization_level_gives_the_same_output(void **state)
{
    (void)state;
    const char *mini = build_mini("gcc", "mini-gcc", "");
    const char *scr = script("f18.txt", "18\n");
    char *o1 = NULL, m[1024], sc[1024];
    snprintf(m, sizeof m, "%s", mini);
    snprintf(sc, sizeof sc, "%s", scr);
    int s1 = tu_run(tu_fmt("'%s' '%s'", m, sc), &o1, NULL);
    for (int level = 0; level <= 3; level++) {
        char *o2 = NULL, *e = NULL;
        const char *img = tu_fmt("%s/o%d.img", tu_tmpdir(), level);
        int rc = tu_run(tu_fmt("'%s' snapshot -q -O%d --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform, level,
                               tu_tmpdir(), m, sc, img), NULL, &e);
        if (rc != 0) fail_msg("-O%d: snapshot failed (%d): %s", level, rc, e);
        free(e);
        int s2 = tu_run(tu_fmt("'%s' run '%s/o%d.img'", lineiform, tu_tmpdir(), level), &o2, NULL);
        if (s1 != s2 || strcmp(o1, o2)) fail_msg("-O%d: interpreter %d '%s', image %d '%s'", level, s1, o1, s2, o2);
        free(o2);
    }
    free(o1);
}

static void test_clang_built_interpreter_and_its_image_agree(void **state)
{
    (void)state;
    const char *mini = build_mini("clang", "mini-clang", "");
    same_as_interpreter(mini, script("f24.txt", "24\n"), tu_fmt("%s/f24.img", tu_tmpdir()));
}

static void test_failing_script_gives_its_error_and_no_image(void **state)
{
    (void)state;
    const char *mini = build_mini("gcc", "mini-gcc", "");
    const char *img = tu_fmt("%s/fail.img", tu_tmpdir());
    char *err = NULL;
    int rc = tu_run(tu_fmt("'%s' snapshot --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform, tu_tmpdir(), mini,
                           script("bad.txt", "fail\n"), img), NULL, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "syntax error"));
    assert_int_not_equal(access(img, F_OK), 0);
    free(err);
    char *ls = NULL;
    assert_int_equal(tu_run(tu_fmt("ls -A '%s' | grep -c tmp || true", tu_tmpdir()), &ls, NULL), 0);
    assert_string_equal(ls, "0\n");
    free(ls);
}

static void test_summary_names_every_phase_and_count(void **state)
{
    (void)state;
    const char *mini = build_mini("gcc", "mini-gcc", "");
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot --db '%s/meta.db' --interp '%s' '%s' -o '%s/sum.img'", lineiform,
                                   tu_tmpdir(), mini, script("f3.txt", "3\n"), tu_tmpdir()), &out, NULL), 0);
    static const char *const words[] = { "specializations", "inlined calls", "native calls", "bailouts",
                                          "code", "imports", "frozen", "persistent", "analyze", "run",
                                          "lift", "link", "write", "build-id" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strstr(out, words[i])) fail_msg("summary lacks '%s':\n%s", words[i], out);
    free(out);
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    char *err = NULL;
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot", lineiform), NULL, NULL), 2);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot x.scm", lineiform), NULL, NULL), 2);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot x.scm -o y --bogus", lineiform), NULL, NULL), 2);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot x.scm -o y -j 0", lineiform), NULL, NULL), 2);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot x.scm -o y -j5", lineiform), NULL, &err), 2);
    assert_non_null(strstr(err, "thread count"));
    free(err);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot x.scm -o y -j", lineiform), NULL, NULL), 2);
    assert_int_equal(tu_run(tu_fmt("'%s' run", lineiform), NULL, NULL), 2);
    assert_int_equal(tu_run(tu_fmt("'%s' run /nonexistent.img", lineiform), NULL, &err), 2);
    assert_non_null(strstr(err, "lineiform: "));
    free(err);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot --help", lineiform), NULL, NULL), 0);
    assert_int_equal(tu_run(tu_fmt("'%s' run --help", lineiform), NULL, NULL), 0);
}

/* -- Damaged images through the CLI ---------------------------------------- */

static const char *good_image(void)
{
    static char path[4096];
    if (!path[0]) {
        const char *mini = build_mini("gcc", "mini-dmg", "");
        snprintf(path, sizeof path, "%s/good.img", tu_tmpdir());
        assert_int_equal(tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform, tu_tmpdir(), mini,
                                       script("f15.txt", "15\n"), path), NULL, NULL), 0);
    }
    return path;
}

/* Run a damaged copy: status 2, exactly one line on stderr, no output. */
static void run_refused(const char *what, const uint8_t *img, size_t len)
{
    const char *p = tu_fmt("%s/damaged.img", tu_tmpdir());
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_write_file(p, img, len), 0);
    int rc = tu_run(tu_fmt("'%s' run '%s'", lineiform, p), &out, &err);
    if (rc != 2 || out[0] || !err[0] || strchr(err, '\n') != err + strlen(err) - 1)
        fail_msg("%s: status %d, stdout '%s', stderr '%s'", what, rc, out, err);
    free(out);
    free(err);
}

static void test_damaged_images_exit_2_with_one_line(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = (uint8_t *)tu_read_file(good_image(), &len);
    assert_non_null(b);
    /* every ELF header field, the program headers, the note header */
    static const size_t offs[] = { 0, 4, 5, 6, 7, 16, 18, 20, 24, 32, 40, 48, 52, 54, 56, 58, 60, 62,
                                   64, 68, 72, 80, 88, 96, 104, 112, 120 };
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        b[offs[i]] ^= 0x41;
        run_refused(tu_fmt("header byte %zu", offs[i]), b, len);
        b[offs[i]] ^= 0x41;
    }
    uint16_t phnum;
    memcpy(&phnum, b + 56, 2);
    size_t note = 64 + (size_t)phnum * 56;
    for (size_t off = note; off < note + 200; off += 8) { /* the note */
        b[off] ^= 0x01;
        run_refused(tu_fmt("note byte %zu", off), b, len);
        b[off] ^= 0x01;
    }
    size_t cuts[] = { 0, 10, 64, 300, 4096, 4100, len / 2, len - 100, len - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        run_refused(tu_fmt("truncated to %zu", cuts[i]), b, cuts[i]);
    free(b);
}

static void test_flipped_code_and_arena_bytes_exit_2(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = (uint8_t *)tu_read_file(good_image(), &len);
    char *out = NULL;
    /* file offsets of the code and arena segments, from readelf */
    assert_int_equal(tu_run(tu_fmt("readelf -lW '%s' | awk '$1==\"LOAD\"{print $2}'", good_image()), &out, NULL), 0);
    int n = 0;
    for (char *t = strtok(out, "\n"); t; t = strtok(NULL, "\n"), n++) {
        size_t off = strtoul(t, NULL, 16);
        b[off + 5] ^= 0x80;
        run_refused(tu_fmt("segment at file offset 0x%zx", off), b, len);
        b[off + 5] ^= 0x80;
    }
    assert_true(n >= 2); /* code and the frozen arena at least */
    free(out);
    free(b);
}

static void test_image_of_another_interpreter_build_is_refused(void **state)
{
    (void)state;
    const char *mini = build_mini("gcc", "mini-rebuilt", "");
    const char *img = tu_fmt("%s/rebuilt.img", tu_tmpdir());
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform, tu_tmpdir(), mini,
                                   script("f10.txt", "10\n"), img), NULL, NULL), 0);
    build_mini("gcc", "mini-rebuilt", "-DOTHER_BUILD=1"); /* same path, new build-id */
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, img), &out, &err), 2);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "build-id"));
    free(out);
    free(err);
}

static void test_image_whose_interpreter_is_gone_is_refused(void **state)
{
    (void)state;
    const char *mini = build_mini("gcc", "mini-gone", "");
    const char *img = tu_fmt("%s/gone.img", tu_tmpdir());
    char *out = NULL, *err = NULL;
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform,
                                   tu_tmpdir(), mini, script("f5.txt", "5\n"), img), NULL, NULL), 0);
    assert_int_equal(unlink(mini), 0);
    assert_int_equal(tu_run(tu_fmt("'%s' run '%s'", lineiform, img), &out, &err), 2);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "mini-gone"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcc_built_interpreter_and_its_image_agree),
        cmocka_unit_test(test_clang_built_interpreter_and_its_image_agree),
        cmocka_unit_test(test_non_pie_interpreter_and_its_image_agree),
        cmocka_unit_test(test_every_optimization_level_gives_the_same_output),
        cmocka_unit_test(test_failing_script_gives_its_error_and_no_image),
        cmocka_unit_test(test_summary_names_every_phase_and_count),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_damaged_images_exit_2_with_one_line),
        cmocka_unit_test(test_flipped_code_and_arena_bytes_exit_2),
        cmocka_unit_test(test_image_of_another_interpreter_build_is_refused),
        cmocka_unit_test(test_image_whose_interpreter_is_gone_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
