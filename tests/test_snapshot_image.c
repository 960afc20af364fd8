/* test_snapshot_image.c -- the image writer, linker, parser and loader on
 * an object made the way the lifter makes them (clang -O2, large code
 * model, no PIC: absolute R_X86_64_64 relocations to constant pools, calls
 * to libm/libc as undefined symbols), without the interpreter: the test
 * binary itself plays the interpreter (its build-id and load base). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapshot/runtime/rt_internal.h"
#include "snapshot/snap_image.h"
#include "tests/tutil.h"

static const char fixture_src[] =
    "#include <math.h>\n#include <string.h>\n"
    "struct clo { long (*code)(struct clo *, long); long k; const char *s; };\n"
    "static const long tab[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };\n"
    "__attribute__((noinline)) double fx_scale(double x) { return fmod(x, 7.0) * 1.25 + 0.5; }\n"
    "static volatile long calls = 100, zeroed;\n" /* .data and .bss: must start as written */
    "long fx_entry(struct clo *c, long n)\n"
    "{ long bad = (calls++ < 100) * 1000 + (zeroed++ < 0) * 2000;\n"
    "  return bad + c->k * n + (long)strlen(c->s) + (long)fx_scale((double)n) + tab[n & 7]; }\n";

struct clo { long (*code)(struct clo *, long); long k; const char *s; };

static long fixture_expect(long k, const char *s, long n)
{
    static const long tab[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };
    return k * n + (long)strlen(s) + (long)(fmod((double)n, 7.0) * 1.25 + 0.5) + tab[n & 7];
}

#define FX_K 5
#define FX_STR "hello, image"
#define FX_ROOT_VALUE 0x1234abcdL

static uint8_t *fx_obj;
static size_t fx_obj_len;
static uint8_t fx_frozen[2 * 4096], fx_persist[4096];

static int fixture_setup(void **state)
{
    (void)state;
    const char *src = tu_fmt("%s/fx.c", tu_tmpdir()), *obj = tu_fmt("%s/fx.o", tu_tmpdir());
    if (tu_write_file(src, fixture_src, strlen(fixture_src)) != 0) return -1;
    if (tu_run(tu_fmt("clang -O2 -c -mcmodel=large -fno-pic -o '%s' '%s'", obj, src), NULL, NULL))
        return -1;
    fx_obj = (uint8_t *)tu_read_file(obj, &fx_obj_len);
    struct clo c = { NULL, FX_K, (const char *)(uintptr_t)(RT_FROZEN_BASE + 64) };
    memcpy(fx_frozen, &c, sizeof c);
    memcpy(fx_frozen + 64, FX_STR, sizeof FX_STR);
    long root = FX_ROOT_VALUE;
    memcpy(fx_persist + 16, &root, sizeof root);
    return fx_obj ? 0 : -1;
}

static int fixture_teardown(void **state)
{
    (void)state;
    free(fx_obj);
    return 0;
}

/* Write an image of the fixture; build_id_xor != 0 makes it another build's. */
static const char *write_fixture_image(const char *name, uint8_t build_id_xor)
{
    struct snap_linked l;
    char why[256];
    uint8_t id[64];
    size_t idlen = rt_self_build_id(id, sizeof id);
    id[0] ^= build_id_xor;
    assert_int_equal(snap_link_object(fx_obj, fx_obj_len, "fx_entry", &l, why, sizeof why), LF_OK);
    struct snap_arena_in ar[2] = {
        { SNAP_SEG_FROZEN, RT_FROZEN_BASE, sizeof fx_frozen, fx_frozen },
        { SNAP_SEG_PERSIST, RT_PERSIST_BASE, sizeof fx_persist, fx_persist },
    };
    struct snap_frozen_obj objs[2] = { { RT_FROZEN_BASE, sizeof(struct clo) },
                                       { RT_FROZEN_BASE + 64, sizeof FX_STR } };
    struct snap_image_spec sp = {
        .code = &l, .arenas = ar, .narenas = 2, .frozen = objs, .nfrozen = 2,
        .interp_path = "/proc/self/exe", .build_id = id, .build_id_len = idlen,
        .interp_load_base = rt_self_load_base(), .entry_closure = RT_FROZEN_BASE,
        .roots = RT_PERSIST_BASE + 16,
    };
    const char *path = tu_fmt("%s/%s", tu_tmpdir(), name);
    enum lf_status s = snap_image_write(path, &sp, NULL, why, sizeof why);
    snap_linked_free(&l);
    if (s != LF_OK) fail_msg("snap_image_write: %s", why);
    const char *seeds = getenv("LF_IMAGE_SEED_DIR"); /* make fuzz-image */
    if (seeds) tu_run(tu_fmt("cp '%s' '%s/'", path, seeds), NULL, NULL);
    return path;
}

/* -- Linking -------------------------------------------------------------- */

static void test_link_turns_externals_into_imports_and_places_pools(void **state)
{
    (void)state;
    struct snap_linked l;
    char why[256];
    assert_int_equal(snap_link_object(fx_obj, fx_obj_len, "fx_entry", &l, why, sizeof why), LF_OK);
    int have_fmod = 0, have_strlen = 0, have_scale = 0;
    for (size_t i = 0; i < l.nimports; i++) {
        have_fmod |= !strcmp(l.imports[i].name, "fmod");
        have_strlen |= !strcmp(l.imports[i].name, "strlen");
    }
    for (size_t i = 0; i < l.nsyms; i++) have_scale |= !strcmp(l.syms[i].name, "fx_scale");
    assert_true(have_fmod && have_strlen && have_scale);
    assert_true(l.entry >= SNAP_CODE_BASE && l.entry < SNAP_CODE_LIMIT);
    int kinds = 0;
    for (size_t i = 0; i < l.nsegs; i++) kinds |= 1 << l.segs[i].kind;
    assert_int_equal(kinds, (1 << SNAP_SEG_CODE) | (1 << SNAP_SEG_RODATA) | (1 << SNAP_SEG_UNWIND) |
                                (1 << SNAP_SEG_DATA) | (1 << SNAP_SEG_GOT));
    snap_linked_free(&l);
}

static void test_link_refuses_missing_entry_and_non_objects(void **state)
{
    (void)state;
    struct snap_linked l;
    char why[256] = "";
    assert_int_equal(snap_link_object(fx_obj, fx_obj_len, "nope", &l, why, sizeof why), LF_ERR_FORMAT);
    assert_non_null(strstr(why, "nope"));
    assert_int_equal(snap_link_object((const uint8_t *)"hello", 5, "fx_entry", &l, why, sizeof why),
                     LF_ERR_NOT_ELF);
}

/* -- Writing and inspecting ----------------------------------------------- */

static void test_image_parses_and_standard_tools_read_it(void **state)
{
    (void)state;
    const char *img = write_fixture_image("ok.img", 0);
    struct snap_image_file f;
    char why[256], *out = NULL;
    assert_int_equal(snap_image_read(img, &f, why, sizeof why), LF_OK);
    assert_int_equal(f.info.hdr->entry_closure, RT_FROZEN_BASE);
    assert_int_equal(f.info.hdr->nimports, 2);
    snap_image_close(&f);
    assert_int_equal(tu_run(tu_fmt("readelf -h -l -s -W '%s'", img), &out, NULL), 0);
    assert_non_null(strstr(out, "fx_entry"));
    assert_non_null(strstr(out, "EXEC"));
    assert_non_null(strstr(out, "R E"));
    free(out);
    assert_int_equal(tu_run(tu_fmt("objdump -d '%s'", img), &out, NULL), 0);
    assert_non_null(strstr(out, "<fx_entry>:"));
    assert_non_null(strstr(out, "<fmod@plt>:"));
    free(out);
}

static void test_write_leaves_nothing_behind_on_failure(void **state)
{
    (void)state;
    const char *dir = tu_fmt("%s/outdir", tu_tmpdir());
    char *out = NULL;
    assert_int_equal(tu_run(tu_fmt("mkdir -p '%s/target.img'", dir), NULL, NULL), 0);
    struct snap_linked l;
    char why[256];
    assert_int_equal(snap_link_native(0x401000, "entry", &l, why, sizeof why), LF_OK);
    struct snap_arena_in ar = { SNAP_SEG_FROZEN, RT_FROZEN_BASE, sizeof fx_frozen, fx_frozen };
    struct snap_image_spec sp = { .code = &l, .arenas = &ar, .narenas = 1, .interp_path = "/x",
                                  .entry_closure = RT_FROZEN_BASE };
    /* the target is a directory: rename fails, the temporary file goes */
    assert_int_not_equal(snap_image_write(tu_fmt("%s/target.img", dir), &sp, NULL, why, sizeof why), LF_OK);
    assert_int_equal(tu_run(tu_fmt("ls -A '%s'", dir), &out, NULL), 0);
    assert_string_equal(out, "target.img\n");
    free(out);
    assert_int_not_equal(snap_image_write(tu_fmt("%s/no/such/dir.img", dir), &sp, NULL, why, sizeof why), LF_OK);
    snap_linked_free(&l);
}

/* -- Damage ----------------------------------------------------------------- */

static uint8_t *read_image(const char *path, size_t *len)
{
    uint8_t *b = (uint8_t *)tu_read_file(path, len);
    assert_non_null(b);
    return b;
}

static void test_parse_rejects_every_flipped_byte_of_headers_and_note(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = read_image(write_fixture_image("flip.img", 0), &len);
    struct snap_image_info info;
    char why[256];
    assert_int_equal(rt_image_parse(b, len, &info, why, sizeof why), LF_OK);
    uint64_t first_seg = info.segs[0].offset;
    for (size_t i = 0; i < len; i += i < first_seg ? 1 : 61) {
        b[i] ^= 0x10;
        why[0] = 0;
        if (rt_image_parse(b, len, &info, why, sizeof why) == LF_OK)
            fail_msg("flipped byte at offset %zu accepted", i);
        assert_true(why[0] && !strchr(why, '\n'));
        b[i] ^= 0x10;
    }
    free(b);
}

static void test_parse_rejects_truncation_anywhere(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = read_image(write_fixture_image("trunc.img", 0), &len);
    struct snap_image_info info;
    char why[256];
    assert_int_equal(rt_image_parse(b, len, &info, why, sizeof why), LF_OK);
    size_t cuts[] = { 0, 1, 4, 63, 64, 100, 200, 300, 4095, 4096, 4097, 8192, len / 2, len - 8, len - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        if (cuts[i] >= len) continue;
        uint8_t *t = malloc(cuts[i] + 1);
        memcpy(t, b, cuts[i]);
        why[0] = 0;
        if (rt_image_parse(t, cuts[i], &info, why, sizeof why) == LF_OK)
            fail_msg("image truncated to %zu bytes accepted", cuts[i]);
        assert_true(why[0] != 0);
        free(t);
    }
    free(b);
}

/* A foreign note whose padding steps past the end of the file must not be
 * read beyond it (ASan sees the over-read in `make test-asan`). */
static void test_parse_stops_at_the_end_of_the_last_note(void **state)
{
    (void)state;
    size_t len = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr) + 17;
    uint8_t *b = calloc(1, len);
    Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                      .e_phoff = sizeof eh, .e_ehsize = sizeof eh, .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2 };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64, eh.e_ident[EI_DATA] = ELFDATA2LSB, eh.e_ident[EI_VERSION] = EV_CURRENT;
    Elf64_Phdr ph[2] = { { .p_type = PT_NOTE, .p_offset = len - 17, .p_filesz = 17 }, { .p_type = PT_LOAD } };
    Elf64_Nhdr nh = { 4, 1, NT_GNU_BUILD_ID };
    memcpy(b, &eh, sizeof eh);
    memcpy(b + sizeof eh, ph, sizeof ph);
    memcpy(b + len - 17, &nh, sizeof nh);
    memcpy(b + len - 5, "GNU", 4);
    struct snap_image_info info;
    char why[256];
    assert_int_equal(rt_image_parse(b, len, &info, why, sizeof why), LF_ERR_FORMAT);
    assert_non_null(strstr(why, "no lineiform note"));
    free(b);
}

/* Edit a field, re-stamp the checksum: the structural checks must still refuse. */
static enum lf_status parse_edited(uint8_t *b, size_t len, void (*edit)(uint8_t *, struct snap_image_info *),
                                   char *why, size_t whylen)
{
    struct snap_image_info info;
    assert_int_equal(rt_image_parse(b, len, &info, why, whylen), LF_OK);
    edit(b, &info);
    uint64_t sum = snap_checksum(b, len, info.checksum_offset);
    memcpy(b + info.checksum_offset, &sum, 8);
    return rt_image_parse(b, len, &info, why, whylen);
}

#define HDR(info) ((struct snap_note_hdr *)(uintptr_t)(info)->hdr)
static void ed_version(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->version = 99; }
static void ed_entry(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->entry_code = 0x401000; }
static void ed_closure(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->entry_closure = SNAP_CODE_BASE; }
static void ed_roots(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->roots = RT_FROZEN_BASE; }
static void ed_nsegs(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->nsegs--; }
static void ed_path(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->interp_path = 1u << 30; }
static void ed_strtab(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->strtab_size += 8; }
static void ed_size(uint8_t *b, struct snap_image_info *i) { (void)b; HDR(i)->file_size += 4096; }
static void ed_slot(uint8_t *b, struct snap_image_info *i)
{
    (void)b;
    ((struct snap_import *)(uintptr_t)i->imports)[0].slot = SNAP_CODE_BASE;
}
static void ed_kind(uint8_t *b, struct snap_image_info *i) { (void)b; ((uint32_t *)(uintptr_t)i->kinds)[0] = 42; }
static Elf64_Phdr *phdr_of(uint8_t *b, int kind, struct snap_image_info *in)
{
    for (size_t k = 0; k < in->nloads; k++)
        if ((int)in->segs[k].kind == kind) {
            Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
            for (unsigned p = 0; p < eh->e_phnum; p++) {
                Elf64_Phdr *ph = (Elf64_Phdr *)(b + eh->e_phoff) + p;
                if (ph->p_type == PT_LOAD && ph->p_vaddr == in->segs[k].vaddr) return ph;
            }
        }
    fail_msg("no segment of kind %d", kind);
    return NULL;
}
static void ed_wx(uint8_t *b, struct snap_image_info *i) { phdr_of(b, SNAP_SEG_CODE, i)->p_flags |= PF_W; }
static void ed_where(uint8_t *b, struct snap_image_info *i) { phdr_of(b, SNAP_SEG_FROZEN, i)->p_vaddr = 0x400000; }
static void ed_memsz(uint8_t *b, struct snap_image_info *i) { phdr_of(b, SNAP_SEG_PERSIST, i)->p_filesz = 1ULL << 40; }
static void ed_phnum(uint8_t *b, struct snap_image_info *i) { (void)i; ((Elf64_Ehdr *)b)->e_phnum = 200; }
static void ed_type(uint8_t *b, struct snap_image_info *i) { (void)i; ((Elf64_Ehdr *)b)->e_type = ET_DYN; }
static void ed_machine(uint8_t *b, struct snap_image_info *i) { (void)i; ((Elf64_Ehdr *)b)->e_machine = EM_AARCH64; }
static void ed_class(uint8_t *b, struct snap_image_info *i) { (void)i; b[EI_CLASS] = ELFCLASS32; }
static void ed_phoff(uint8_t *b, struct snap_image_info *i) { (void)i; ((Elf64_Ehdr *)b)->e_phoff = 1ULL << 40; }
static void ed_shoff(uint8_t *b, struct snap_image_info *i) { (void)i; ((Elf64_Ehdr *)b)->e_shoff = 1ULL << 40; }

static void test_parse_checks_every_field_behind_the_checksum(void **state)
{
    (void)state;
    static const struct { const char *what; void (*edit)(uint8_t *, struct snap_image_info *);
                          enum lf_status want; } cases[] = {
        { "version", ed_version, LF_ERR_VERSION }, { "entry code", ed_entry, LF_ERR_FORMAT },
        { "entry closure", ed_closure, LF_ERR_FORMAT }, { "roots", ed_roots, LF_ERR_FORMAT },
        { "segment count", ed_nsegs, LF_ERR_FORMAT }, { "interp path", ed_path, LF_ERR_FORMAT },
        { "strtab size", ed_strtab, LF_ERR_FORMAT }, { "file size", ed_size, LF_ERR_TRUNCATED },
        { "import slot", ed_slot, LF_ERR_FORMAT }, { "segment kind", ed_kind, LF_ERR_FORMAT },
        { "W+X code", ed_wx, LF_ERR_FORMAT }, { "arena address", ed_where, LF_ERR_FORMAT },
        { "segment size", ed_memsz, LF_ERR_FORMAT }, { "phnum", ed_phnum, LF_ERR_FORMAT },
        { "e_type", ed_type, LF_ERR_FORMAT }, { "e_machine", ed_machine, LF_ERR_ELF_CLASS },
        { "ei_class", ed_class, LF_ERR_ELF_CLASS }, { "e_phoff", ed_phoff, LF_ERR_TRUNCATED },
        { "e_shoff", ed_shoff, LF_ERR_FORMAT },
    };
    size_t len;
    uint8_t *orig = read_image(write_fixture_image("fields.img", 0), &len);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t *b = malloc(len);
        char why[256] = "";
        memcpy(b, orig, len);
        enum lf_status s = parse_edited(b, len, cases[c].edit, why, sizeof why);
        if (s != cases[c].want)
            fail_msg("%s: got %s (%s), want %s", cases[c].what, lf_status_str(s), why,
                     lf_status_str(cases[c].want));
        free(b);
    }
    free(orig);
}

/* -- Loading (in a child: it maps fixed addresses) ----------------------- */

static int in_child(int (*fn)(const char *), const char *img)
{
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) _exit(fn(img));
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int maps_perm(uint64_t addr, char perm[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) == 3 && addr >= lo && addr < hi) found = 1;
    }
    if (f) fclose(f);
    return found;
}

/* No mapping in the code window is writable and executable at once. */
static int code_window_never_wx(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512], perm[5];
    int n = 0, ok = 1;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) != 3 || lo < SNAP_CODE_BASE || lo >= SNAP_CODE_LIMIT)
            continue;
        n++;
        if (perm[1] == 'w' && perm[2] == 'x') ok = 0;
    }
    if (f) fclose(f);
    return ok && n >= 3; /* code, rodata, data (+ GOT) */
}

static int child_load_and_run(const char *img)
{
    void *code, *entry, *roots;
    char why[512], perm[5];
    if (rt_arena_reserve(1) != LF_OK) return 10;
    if (rt_image_load(img, &code, &entry, &roots, why, sizeof why) != LF_OK) {
        fprintf(stderr, "load: %s\n", why);
        return 11;
    }
    long (*fn)(void *, long) = (long (*)(void *, long))code;
    for (long n = -20; n <= 20; n++)
        if (fn(entry, n) != fixture_expect(FX_K, FX_STR, n)) return 12;
    if (*(long *)roots != FX_ROOT_VALUE) return 13;
    *(long *)roots = 7; /* persistent: writable */
    if (!maps_perm((uint64_t)(uintptr_t)code, perm) || strcmp(perm, "r-xp")) return 14;
    if (!maps_perm((uint64_t)(uintptr_t)entry, perm) || perm[1] != '-') return 15;
    if (!lf_is_frozen(entry)) return 16;
    if (!code_window_never_wx()) return 17;
    return 0;
}

static void test_loader_maps_code_rx_and_runs_it(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_load_and_run, write_fixture_image("run.img", 0)), 0);
}

static int child_taken(const char *img)
{
    void *code, *entry, *roots;
    char why[512];
    if (rt_arena_reserve(1) != LF_OK) return 10;
    if (mmap((void *)(uintptr_t)SNAP_CODE_BASE, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0) == MAP_FAILED)
        return 11;
    enum lf_status s = rt_image_load(img, &code, &entry, &roots, why, sizeof why);
    return s == LF_ERR_ADDR_TAKEN && strstr(why, "already in use") ? 0 : 12;
}

static void test_loader_refuses_a_taken_address_range(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_taken, write_fixture_image("taken.img", 0)), 0);
}

static int child_mismatch(const char *img)
{
    void *code, *entry, *roots;
    char why[512];
    if (rt_arena_reserve(1) != LF_OK) return 10;
    enum lf_status s = rt_image_load(img, &code, &entry, &roots, why, sizeof why);
    if (s != LF_ERR_MISMATCH || !strstr(why, "build-id")) return 12;
    char perm[5];
    return maps_perm(SNAP_CODE_BASE, perm) ? 13 : 0; /* nothing left mapped */
}

static void test_loader_refuses_another_interpreter_build(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_mismatch, write_fixture_image("other.img", 0x5a)), 0);
}

static long native_target(void *closure, long n) { return n * 3 + (closure != NULL); }

static int child_native(const char *img)
{
    void *code, *entry, *roots;
    char why[512];
    if (rt_arena_reserve(1) != LF_OK) return 10;
    if (rt_image_load(img, &code, &entry, &roots, why, sizeof why) != LF_OK) return 11;
    return ((long (*)(void *, long))code)(entry, 14) == 43 ? 0 : 12;
}

static void test_native_entry_stub_jumps_to_the_interpreters_code(void **state)
{
    (void)state;
    struct snap_linked l;
    char why[256];
    uint8_t id[64];
    size_t idlen = rt_self_build_id(id, sizeof id);
    assert_int_equal(snap_link_native((uint64_t)(uintptr_t)native_target, "native", &l, why, sizeof why), LF_OK);
    struct snap_arena_in ar = { SNAP_SEG_FROZEN, RT_FROZEN_BASE, sizeof fx_frozen, fx_frozen };
    struct snap_image_spec sp = { .code = &l, .arenas = &ar, .narenas = 1, .interp_path = "/x",
                                  .build_id = id, .build_id_len = idlen,
                                  .interp_load_base = rt_self_load_base(), .entry_closure = RT_FROZEN_BASE };
    const char *img = tu_fmt("%s/native.img", tu_tmpdir());
    assert_int_equal(snap_image_write(img, &sp, NULL, why, sizeof why), LF_OK);
    snap_linked_free(&l);
    assert_int_equal(in_child(child_native, img), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_turns_externals_into_imports_and_places_pools),
        cmocka_unit_test(test_link_refuses_missing_entry_and_non_objects),
        cmocka_unit_test(test_image_parses_and_standard_tools_read_it),
        cmocka_unit_test(test_write_leaves_nothing_behind_on_failure),
        cmocka_unit_test(test_parse_rejects_every_flipped_byte_of_headers_and_note),
        cmocka_unit_test(test_parse_rejects_truncation_anywhere),
        cmocka_unit_test(test_parse_checks_every_field_behind_the_checksum),
        cmocka_unit_test(test_parse_stops_at_the_end_of_the_last_note),
        cmocka_unit_test(test_loader_maps_code_rx_and_runs_it),
        cmocka_unit_test(test_loader_refuses_a_taken_address_range),
        cmocka_unit_test(test_loader_refuses_another_interpreter_build),
        cmocka_unit_test(test_native_entry_stub_jumps_to_the_interpreters_code),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
