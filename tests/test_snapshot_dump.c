/* test_snapshot_dump.c -- the heap dump end to end: this binary, run in
 * snapshot mode through the environment the CLI sets, writes a dump that
 * the reader gives back intact; every damaged variant of that dump is
 * refused with the status that names the damage and a one-line reason. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineiform.h"
#include "snapshot/runtime/rt_internal.h"
#include "snapshot/snap_dump.h"
#include "tests/tutil.h"

/* -- The snapshot program (this binary with --child MODE) ---------------- */

struct closure {
    long (*code)(struct closure *self, long x);
    long k;
};

static long add_k(struct closure *self, long x) { return x + self->k; }

static int child_main(int argc, char **argv)
{
    const char *what = argv[2];
    lf_init(&argc, &argv);
    struct closure c = { add_k, 41 };
    struct closure *entry = lf_freeze(&c, sizeof c);
    void **roots = lf_alloc(4 * sizeof *roots);
    roots[0] = entry;
    roots[1] = (void *)(uintptr_t)0x1234;
    printf("%p %p %d\n", (void *)entry, (void *)roots, lf_mode());
    fflush(stdout);
    if (strcmp(what, "bad-entry") == 0) lf_snapshot(&c, roots);
    if (strcmp(what, "bad-roots") == 0) lf_snapshot(entry, &c);
    if (strcmp(what, "no-snapshot") == 0) return 0;
    if (strcmp(what, "fails-early") == 0) return 1;
    if (strcmp(what, "big") == 0) memset(lf_alloc(8 << 20), 1, 8 << 20);
    if (strcmp(what, "foreign") == 0) roots[2] = malloc(64); /* dangles in an image */
    lf_snapshot(entry, roots);
    printf("after snapshot %ld\n", entry->code(entry, 1));
    return 0;
}

/* -- Helpers -------------------------------------------------------------- */

static const char *self_exe(void)
{
    static char self[4096];
    if (!self[0]) assert_int_equal(rt_self_path(self, sizeof self), 0);
    return self;
}

static int run_child(const char *env, const char *what, char **out, char **err)
{
    return tu_run(tu_fmt("%s '%s' --child %s", env, self_exe(), what), out, err);
}

static const char *dump_path(const char *name) { return tu_fmt("%s/%s", tu_tmpdir(), name); }

/* Files in the temp dir whose name starts with prefix. */
static int files_starting(const char *prefix)
{
    int n = 0;
    DIR *dir = opendir(tu_tmpdir());
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (dir) closedir(dir);
    return n;
}

static void assert_one_line(const char *why)
{
    assert_true(why[0] != 0);
    assert_null(strchr(why, '\n'));
}

static uint8_t *good;     /* a valid dump, 8-aligned */
static size_t good_len;
static uint64_t good_entry, good_roots;

static int make_good_dump(void **state)
{
    (void)state;
    char *out = NULL;
    const char *p = dump_path("good.dump");
    int st = run_child(tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s'", p), "ok", &out, NULL);
    if (st != 0 || !out) return -1;
    void *e, *r;
    if (sscanf(out, "%p %p", &e, &r) != 2) return -1;
    good_entry = (uint64_t)e;
    good_roots = (uint64_t)r;
    free(out);
    char *b = tu_read_file(p, &good_len);
    if (!b) return -1;
    good = aligned_alloc(8, (good_len + 7) & ~(size_t)7);
    memcpy(good, b, good_len);
    free(b);
    return 0;
}

/* Parse a copy of buf (in aligned memory), returning the status. */
static enum lf_status parse_copy(const uint8_t *buf, size_t len, char *why, size_t whylen)
{
    uint8_t *c = aligned_alloc(8, len ? (len + 7) & ~(size_t)7 : 8);
    memcpy(c, buf, len);
    struct snap_dump d;
    enum lf_status s = snap_dump_parse(c, len, &d, why, whylen);
    free(c);
    return s;
}

static void reseal(uint8_t *b, size_t len)
{
    uint64_t sum = rt_fnv1a(RT_FNV1A_INIT, b, len - 8);
    memcpy(b + len - 8, &sum, 8);
}

/* -- Round trip ---------------------------------------------------------- */

static void test_dump_round_trip_preserves_arenas_entry_and_roots(void **state)
{
    (void)state;
    struct snap_dump d;
    char why[512];
    assert_int_equal(snap_dump_read(dump_path("good.dump"), &d, why, sizeof why), LF_OK);
    assert_int_equal(d.entry, good_entry);
    assert_int_equal(d.roots, good_roots);
    assert_int_equal(d.frozen.addr, RT_FROZEN_BASE);
    assert_int_equal(d.persistent.addr, RT_PERSIST_BASE);
    const struct closure *c = snap_dump_ptr(&d, d.entry, sizeof *c);
    assert_non_null(c);
    assert_int_equal(c->k, 41);
    /* The code pointer is add_k of the child's run, relative to its base. */
    assert_int_equal((uint64_t)(uintptr_t)c->code - d.load_base,
                     (uint64_t)(uintptr_t)add_k - rt_self_load_base());
    const uint64_t *roots = snap_dump_ptr(&d, d.roots, 2 * sizeof *roots);
    assert_non_null(roots);
    assert_int_equal(roots[0], d.entry);
    assert_int_equal(roots[1], 0x1234);
    assert_true(snap_dump_is_frozen(&d, d.entry));
    assert_false(snap_dump_is_frozen(&d, d.roots));
    assert_int_equal(d.nobjects, 1);
    uint64_t oa, os;
    snap_dump_object(&d, 0, &oa, &os);
    assert_int_equal(oa, d.entry);
    assert_int_equal(os, sizeof(struct closure));
    assert_string_equal(d.interp_path, self_exe());
    uint8_t id[RT_SELF_BUILD_ID_MAX];
    size_t idn = rt_self_build_id(id, sizeof id);
    assert_true(idn > 0);
    assert_int_equal(d.build_id_len, idn);
    assert_memory_equal(d.build_id, id, idn);
    assert_int_equal(d.load_base % 4096, 0);
    snap_dump_free(&d);
    assert_int_equal(files_starting("good.dump."), 0); /* no temporary left */
}

static void test_snapshot_mode_runs_without_address_randomization(void **state)
{
    (void)state;
    struct snap_dump a, b;
    char why[512];
    const char *p = dump_path("again.dump");
    assert_int_equal(run_child(tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s'", p), "ok",
                               NULL, NULL), 0);
    assert_int_equal(snap_dump_read(p, &a, why, sizeof why), LF_OK);
    assert_int_equal(snap_dump_read(dump_path("good.dump"), &b, why, sizeof why), LF_OK);
    assert_int_equal(a.load_base, b.load_base); /* the same addresses every run */
    const struct closure *ca = snap_dump_ptr(&a, a.entry, sizeof *ca);
    const struct closure *cb = snap_dump_ptr(&b, b.entry, sizeof *cb);
    assert_ptr_equal((void *)ca->code, (void *)cb->code);
    snap_dump_free(&a);
    snap_dump_free(&b);
}

static void test_normal_mode_snapshot_returns_and_writes_nothing(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(run_child("", "ok", &out, NULL), 0);
    assert_non_null(strstr(out, " 0\nafter snapshot 42\n"));
    free(out);
}

/* -- Mode errors: one line, exit 2, no file ---------------------------- */

static void expect_refusal(const char *env, const char *what, const char *needle)
{
    char *err = NULL;
    assert_int_equal(run_child(env, what, NULL, &err), 2);
    assert_non_null(strstr(err, needle));
    assert_int_equal(strncmp(err, "lineiform: ", 11), 0);
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    free(err);
}

static void test_bad_modes_and_paths_are_refused_in_one_line(void **state)
{
    (void)state;
    expect_refusal("LINEIFORM_MODE=bogus", "ok", "unknown mode");
    expect_refusal("LINEIFORM_MODE=snapshot", "ok", "LINEIFORM_DUMP");
    expect_refusal("LINEIFORM_MODE=snapshot LINEIFORM_DUMP=/nonexistent/dir/x.dump", "ok",
                   "/nonexistent/dir/x.dump");
    expect_refusal("LINEIFORM_MODE=image", "ok", "LINEIFORM_IMAGE");
    expect_refusal(tu_fmt("LINEIFORM_MODE=image LINEIFORM_IMAGE='%s'", dump_path("none.img")),
                   "ok", "none.img");
}

static void test_snapshot_of_unfrozen_entry_or_foreign_roots_is_refused(void **state)
{
    (void)state;
    const char *env = tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s'", dump_path("bad.dump"));
    expect_refusal(env, "bad-entry", "is not a frozen closure");
    expect_refusal(env, "bad-roots", "not in the persistent arena");
    assert_int_equal(files_starting("bad.dump"), 0);
}

static void test_check_reports_arena_pointers_an_image_would_not_restore(void **state)
{
    (void)state;
    char *err = NULL;
    const char *env = tu_fmt("LINEIFORM_CHECK=1 LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s'",
                             dump_path("check.dump"));
    assert_int_equal(run_child(env, "ok", NULL, &err), 0);
    assert_non_null(strstr(err, "lineiform: check: no word in the arenas points"));
    free(err);
    assert_int_equal(run_child(env, "foreign", NULL, &err), 0);
    assert_non_null(strstr(err, "(persistent arena) holds 0x"));
    assert_non_null(strstr(err, "lineiform: check: 1 word in the arenas points into memory"));
    free(err);
}

/* The file system refuses the write half-way: RLIMIT_FSIZE (2 or 4 MiB,
 * depending on the shell's unit) is above the frozen arena's memfd (which
 * it limits too) and below the 8 MiB dump.  The writer must turn SIGXFSZ
 * into an EFBIG it can clean up after. */
static void test_dump_write_failure_leaves_no_file(void **state)
{
    (void)state;
    char *err = NULL;
    const char *env = tu_fmt("ulimit -f 4096; LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s'",
                             dump_path("full.dump"));
    assert_int_equal(run_child(env, "big", NULL, &err), 2);
    assert_non_null(strstr(err, "lineiform: snapshot: "));
    assert_non_null(strstr(err, "full.dump: File too large"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    assert_int_equal(files_starting("full.dump"), 0);
    free(err);
}

static void test_program_ending_before_the_snapshot_is_reported(void **state)
{
    (void)state;
    char *err = NULL;
    const char *env = tu_fmt("LINEIFORM_MODE=snapshot LINEIFORM_DUMP='%s'", dump_path("never.dump"));
    assert_int_equal(run_child(env, "no-snapshot", NULL, &err), 0);
    assert_non_null(strstr(err, "ended before reaching lf_snapshot"));
    assert_int_equal(files_starting("never.dump"), 0);
    free(err);
    /* A failing program has given its own reason: nothing is added. */
    assert_int_equal(run_child(env, "fails-early", NULL, &err), 1);
    assert_string_equal(err, "");
    free(err);
}

/* -- Damage ---------------------------------------------------------------- */

static void test_dump_truncated_anywhere_is_rejected_as_truncated(void **state)
{
    (void)state;
    char why[512];
    for (size_t n = 0; n < good_len; n++) {
        enum lf_status s = parse_copy(good, n, why, sizeof why);
        if (s != LF_ERR_TRUNCATED) fail_msg("length %zu: %s (%s)", n, lf_status_str(s), why);
        assert_one_line(why);
    }
    assert_int_equal(parse_copy(good, good_len, why, sizeof why), LF_OK);
}

/* The status a flipped byte at offset i must produce. */
static enum lf_status expected_for_flip(size_t i)
{
    if (i < 8) return LF_ERR_FORMAT;    /* magic */
    if (i < 12) return LF_ERR_VERSION;  /* version */
    if (i < 16) return LF_ERR_FORMAT;   /* header_size */
    if (i < 24) return LF_STATUS__MAX;  /* file_size: truncated or too long */
    return LF_ERR_CHECKSUM;             /* everything else, checksum included */
}

static void test_dump_flipped_byte_anywhere_is_rejected(void **state)
{
    (void)state;
    char why[512];
    uint8_t *b = aligned_alloc(8, (good_len + 7) & ~(size_t)7);
    for (size_t i = 0; i < good_len; i++) {
        memcpy(b, good, good_len);
        b[i] ^= (uint8_t)(1u << (i % 8));
        struct snap_dump d;
        enum lf_status s = snap_dump_parse(b, good_len, &d, why, sizeof why);
        enum lf_status want = expected_for_flip(i);
        if (want == LF_STATUS__MAX ? s != LF_ERR_TRUNCATED && s != LF_ERR_FORMAT : s != want)
            fail_msg("byte %zu: %s (%s)", i, lf_status_str(s), why);
        assert_one_line(why);
    }
    free(b);
}

static void test_dump_wrong_magic_version_or_checksum_names_the_damage(void **state)
{
    (void)state;
    char why[512];
    uint8_t *b = aligned_alloc(8, (good_len + 7) & ~(size_t)7);
    memcpy(b, good, good_len);
    b[0] = 'X';
    assert_int_equal(parse_copy(b, good_len, why, sizeof why), LF_ERR_FORMAT);
    assert_non_null(strstr(why, "not a lineiform heap dump"));
    memcpy(b, good, good_len);
    uint32_t v = 2;
    memcpy(b + 8, &v, 4);
    reseal(b, good_len);
    assert_int_equal(parse_copy(b, good_len, why, sizeof why), LF_ERR_VERSION);
    assert_non_null(strstr(why, "version 2"));
    memcpy(b, good, good_len);
    b[good_len - 1] ^= 0xff;
    assert_int_equal(parse_copy(b, good_len, why, sizeof why), LF_ERR_CHECKSUM);
    assert_non_null(strstr(why, "checksum"));
    free(b);
    uint8_t *longer = aligned_alloc(8, good_len + 8);
    memcpy(longer, good, good_len);
    memset(longer + good_len, 0, 8);
    assert_int_equal(parse_copy(longer, good_len + 8, why, sizeof why), LF_ERR_FORMAT);
    free(longer);
}

/* Resealed structural damage: the checksum is right, the content is not. */
static size_t table_off(const uint8_t *b)
{
    struct rt_dump_header h;
    memcpy(&h, b, sizeof h);
    return (sizeof h + h.path_len + h.build_id_len + 7) & ~(size_t)7;
}

static enum lf_status damage(size_t off, const void *val, size_t n, char *why, size_t whylen)
{
    uint8_t *b = aligned_alloc(8, (good_len + 7) & ~(size_t)7);
    memcpy(b, good, good_len);
    memcpy(b + off, val, n);
    reseal(b, good_len);
    enum lf_status s = parse_copy(b, good_len, why, whylen);
    free(b);
    return s;
}

static void test_dump_structural_damage_with_valid_checksum_is_rejected(void **state)
{
    (void)state;
    char why[512];
    size_t t = table_off(good);
    size_t sec = sizeof(struct rt_dump_section);
    uint64_t far = 0x10, twelve = 12, huge = UINT64_MAX - 8, odd = RT_FROZEN_BASE + 8;
    uint32_t big = 100000, kind9 = 9, kind1 = RT_DUMP_SEC_FROZEN, prot7 = 7;
    struct { size_t off; const void *val; size_t n; const char *what; } cases[] = {
        { offsetof(struct rt_dump_header, entry), &far, 8, "entry outside the frozen arena" },
        { offsetof(struct rt_dump_header, roots), &far, 8, "roots outside the persistent arena" },
        { offsetof(struct rt_dump_header, path_len), &big, 4, "path too long" },
        { offsetof(struct rt_dump_header, nsections), &big, 4, "too many sections" },
        { offsetof(struct rt_dump_header, page_size), &big, 4, "page size" },
        { t + offsetof(struct rt_dump_section, offset), &huge, 8, "section offset past the end" },
        { t + offsetof(struct rt_dump_section, size), &huge, 8, "section size past the end" },
        { t + offsetof(struct rt_dump_section, addr), &odd, 8, "unaligned arena" },
        { t + offsetof(struct rt_dump_section, kind), &kind9, 4, "unknown section kind" },
        { t + offsetof(struct rt_dump_section, prot), &prot7, 4, "writable+exec frozen arena" },
        { t + sec + offsetof(struct rt_dump_section, kind), &kind1, 4, "two frozen arenas" },
        { t + 2 * sec + offsetof(struct rt_dump_section, size), &twelve, 8, "index of partial entries" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum lf_status s = damage(cases[i].off, cases[i].val, cases[i].n, why, sizeof why);
        if (s != LF_ERR_FORMAT) fail_msg("%s: %s (%s)", cases[i].what, lf_status_str(s), why);
        assert_one_line(why);
    }
}

static void test_dump_overlapping_frozen_objects_are_rejected(void **state)
{
    (void)state;
    /* Point the one object past the end of the frozen arena. */
    char why[512];
    size_t t = table_off(good);
    struct rt_dump_section s;
    memcpy(&s, good + t + 2 * sizeof s, sizeof s);
    assert_int_equal(s.kind, RT_DUMP_SEC_OBJECTS);
    struct rt_dump_object o = { .start16 = UINT32_MAX, .size = 16 };
    assert_int_equal(damage(s.offset, &o, sizeof o, why, sizeof why), LF_ERR_FORMAT);
    assert_non_null(strstr(why, "frozen object"));
}

static void test_dump_read_of_missing_file_or_directory_is_io_error(void **state)
{
    (void)state;
    struct snap_dump d;
    char why[512];
    assert_int_equal(snap_dump_read(dump_path("missing.dump"), &d, why, sizeof why), LF_ERR_IO);
    assert_non_null(strstr(why, "missing.dump"));
    assert_int_equal(snap_dump_read(tu_tmpdir(), &d, why, sizeof why), LF_ERR_IO);
    assert_one_line(why);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--child") == 0) return child_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_round_trip_preserves_arenas_entry_and_roots),
        cmocka_unit_test(test_snapshot_mode_runs_without_address_randomization),
        cmocka_unit_test(test_normal_mode_snapshot_returns_and_writes_nothing),
        cmocka_unit_test(test_bad_modes_and_paths_are_refused_in_one_line),
        cmocka_unit_test(test_snapshot_of_unfrozen_entry_or_foreign_roots_is_refused),
        cmocka_unit_test(test_check_reports_arena_pointers_an_image_would_not_restore),
        cmocka_unit_test(test_dump_write_failure_leaves_no_file),
        cmocka_unit_test(test_program_ending_before_the_snapshot_is_reported),
        cmocka_unit_test(test_dump_truncated_anywhere_is_rejected_as_truncated),
        cmocka_unit_test(test_dump_flipped_byte_anywhere_is_rejected),
        cmocka_unit_test(test_dump_wrong_magic_version_or_checksum_names_the_damage),
        cmocka_unit_test(test_dump_structural_damage_with_valid_checksum_is_rejected),
        cmocka_unit_test(test_dump_overlapping_frozen_objects_are_rejected),
        cmocka_unit_test(test_dump_read_of_missing_file_or_directory_is_io_error),
    };
    return cmocka_run_group_tests(tests, make_good_dump, NULL);
}
