/* test_snapshot_link.c -- snap_link_objects joins several relocatable
 * objects the way the compiler splits its code across threads: hidden
 * global functions calling one another across objects, each object with its
 * own constants, a libc call, and a default-visibility global reached
 * through the GOT.  The fixtures are compiled at test time (clang -O2
 * -fPIC -fvisibility=hidden).  The checks read the fixtures' own
 * relocations with libelf and require each patched field in the linked
 * bytes to reach what the relocation names: a function of another object
 * at its listed address, an import's stub, a constant's bytes, or a GOT
 * slot that holds one of those. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap_image.h"
#include "tests/tutil.h"

/* A calls B and C, reads C's lk_shared through the GOT, calls strlen, and
 * names lk_b_private, which B defines only as a LOCAL: it must stay an
 * import.  B holds the entry and calls back into A.  Both have a static
 * `helper` and a `tag`: LOCAL symbols of the same name, never merged. */
static const char *const fx_src[] = {
    /* A */
    "#include <string.h>\n"
    "extern long lk_shared __attribute__((visibility(\"default\")));\n"
    "long lk_b_twice(long x);\nlong lk_c_const(void);\nlong lk_b_private(long x);\n"
    "static const char tag[] = \"tag of object A\";\n"
    "__attribute__((noinline)) static long helper(long x) { return x * 3 + tag[x & 7]; }\n"
    "__attribute__((noinline)) long lk_a_inc(const char *s, long x)\n"
    "{ return x + 1 + (long)strlen(s) + helper(x); }\n"
    "long lk_a_chain(long x) { return lk_b_twice(x) + lk_c_const() + lk_shared + lk_b_private(x); }\n",
    /* B */
    "long lk_a_inc(const char *s, long x);\nlong lk_a_chain(long x);\nlong lk_c_const(void);\n"
    "static const char tag[] = \"tag of object B\";\n"
    "__attribute__((noinline)) static long helper(long x) { return x ^ tag[x & 7]; }\n"
    "__attribute__((noinline)) static long lk_b_private(long x) { return helper(x) + 2; }\n"
    "__attribute__((noinline)) long lk_b_twice(long x) { return 2 * x + lk_b_private(x); }\n"
    "long lk_entry(long x) { return lk_a_inc(tag, x) + lk_a_chain(x) + lk_c_const(); }\n",
    /* C */
    "long lk_shared __attribute__((visibility(\"default\"))) = 0x5eed1234abcdL;\n"
    "static const long tab[4] = { 11, 22, 33, 44 };\n"
    "__attribute__((noinline)) long lk_c_const(void) { return tab[lk_shared & 3] + lk_shared; }\n",
    /* W: a weak lk_c_const, which C's strong one must override */
    "__attribute__((weak)) long lk_c_const(void) { return -1; }\n",
    /* DUP: a second strong lk_b_twice */
    "long lk_b_twice(long x) { return x; }\n",
};
enum { FX_A, FX_B, FX_C, FX_W, FX_DUP, FX_N };

static uint8_t *fx_obj[FX_N];
static size_t fx_len[FX_N];
static Elf *fx_elf[FX_N];

static int fixture_setup(void **state)
{
    (void)state;
    elf_version(EV_CURRENT);
    for (int i = 0; i < FX_N; i++) {
        const char *src = tu_fmt("%s/lk%d.c", tu_tmpdir(), i), *obj = tu_fmt("%s/lk%d.o", tu_tmpdir(), i);
        if (tu_write_file(src, fx_src[i], strlen(fx_src[i])) != 0) return -1;
        if (tu_run(tu_fmt("clang -O2 -c -fPIC -fvisibility=hidden -mcmodel=small -o '%s' '%s'", obj, src),
                   NULL, NULL))
            return -1;
        if (!(fx_obj[i] = (uint8_t *)tu_read_file(obj, &fx_len[i]))) return -1;
        if (!(fx_elf[i] = elf_memory((char *)fx_obj[i], fx_len[i]))) return -1;
    }
    return 0;
}

static int fixture_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < FX_N; i++) {
        if (fx_elf[i]) elf_end(fx_elf[i]);
        free(fx_obj[i]);
    }
    return 0;
}

/* Link the fixtures ids[0..n) in that order; assert success. */
static void link_fixtures(const int *ids, size_t n, struct snap_linked *l)
{
    const uint8_t *objs[FX_N];
    size_t lens[FX_N];
    char why[256] = "";
    for (size_t i = 0; i < n; i++) objs[i] = fx_obj[ids[i]], lens[i] = fx_len[ids[i]];
    enum lf_status s = snap_link_objects(objs, lens, n, "lk_entry", l, why, sizeof why);
    if (s != LF_OK) fail_msg("snap_link_objects: %s (%s)", lf_status_str(s), why);
}

/* -- Reading the fixtures and the linked bytes ------------------------------ */

static Elf_Scn *fx_section(int fx, const char *name, GElf_Shdr *sh)
{
    size_t shstrndx;
    assert_int_equal(elf_getshdrstrndx(fx_elf[fx], &shstrndx), 0);
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(fx_elf[fx], scn));) {
        const char *n = gelf_getshdr(scn, sh) ? elf_strptr(fx_elf[fx], shstrndx, sh->sh_name) : NULL;
        if (n && !strcmp(n, name)) return scn;
    }
    return NULL;
}

static Elf_Data *fx_symtab(int fx, size_t *strndx)
{
    GElf_Shdr sh;
    Elf_Scn *scn = fx_section(fx, ".symtab", &sh);
    assert_non_null(scn);
    *strndx = sh.sh_link;
    return elf_getdata(scn, NULL);
}

static const char *fx_symname(int fx, size_t strndx, const GElf_Sym *s)
{
    const char *n = elf_strptr(fx_elf[fx], strndx, s->st_name);
    return n ? n : "";
}

/* The listed function called name (-1: none; fails if two). */
static long linked_sym(const struct snap_linked *l, const char *name)
{
    long at = -1;
    for (size_t i = 0; i < l->nsyms; i++)
        if (!strcmp(l->syms[i].name, name)) {
            assert_true(at < 0);
            at = (long)i;
        }
    return at;
}

static const uint8_t *linked_bytes(const struct snap_linked *l, uint64_t addr, uint64_t n)
{
    for (size_t i = 0; i < l->nsegs; i++)
        if (addr >= l->segs[i].vaddr && addr + n <= l->segs[i].vaddr + l->segs[i].size)
            return l->segs[i].bytes + (addr - l->segs[i].vaddr);
    fail_msg("0x%llx is outside the linked segments", (unsigned long long)addr);
    return NULL;
}

/* Where fixture fx's .text was placed: a global function's listed address
 * less its offset in .text (clang puts every function in one .text). */
static uint64_t fx_text_addr(const struct snap_linked *l, int fx)
{
    size_t strndx;
    Elf_Data *d = fx_symtab(fx, &strndx);
    GElf_Sym s;
    for (int i = 1; gelf_getsym(d, i, &s); i++)
        if (GELF_ST_BIND(s.st_info) != STB_LOCAL && GELF_ST_TYPE(s.st_info) == STT_FUNC) {
            long at = linked_sym(l, fx_symname(fx, strndx, &s));
            assert_true(at >= 0);
            return l->syms[at].addr - s.st_value;
        }
    fail_msg("fixture %d defines no global function", fx);
    return 0;
}

/* The definition of name among the linked fixtures: strong before weak. */
static int fx_find_def(const int *ids, size_t n, const char *name, GElf_Sym *def)
{
    for (int want = STB_GLOBAL; want <= STB_WEAK; want++)
        for (size_t i = 0; i < n; i++) {
            size_t strndx;
            Elf_Data *d = fx_symtab(ids[i], &strndx);
            for (int j = 1; gelf_getsym(d, j, def); j++)
                if (GELF_ST_BIND(def->st_info) == want && def->st_shndx != SHN_UNDEF &&
                    !strcmp(fx_symname(ids[i], strndx, def), name))
                    return ids[i];
        }
    return -1;
}

/* -- What a relocated field must reach -------------------------------------- */

struct link_case {
    const int *ids;            /* the fixtures linked, in order */
    size_t n;
    const struct snap_linked *l;
    size_t cross, imports, got, local; /* relocations seen of each kind */
    uint64_t shared_slots[4];  /* the GOT slots that reach lk_shared */
    size_t nshared;
};

static int is_import(const struct snap_linked *l, const char *name)
{
    for (size_t i = 0; i < l->nimports; i++)
        if (!strcmp(l->imports[i].name, name)) return 1;
    return 0;
}

/* Address x must be symbol s of fixture fx: an undefined name reaches its
 * definition in another fixture, else its import's stub; a symbol in .text
 * its place there; any other symbol the bytes it names. */
static void expect_symbol(struct link_case *c, int fx, const GElf_Sym *s, const char *name, uint64_t x)
{
    GElf_Sym def;
    int dfx;
    if (s->st_shndx == SHN_UNDEF && is_import(c->l, name)) {
        long at = linked_sym(c->l, tu_fmt("%s@plt", name));
        assert_true(at >= 0);
        assert_int_equal(x, c->l->syms[at].addr);
        c->imports++;
    } else if (s->st_shndx == SHN_UNDEF) {
        assert_true((dfx = fx_find_def(c->ids, c->n, name, &def)) >= 0);
        assert_int_not_equal(dfx, fx);
        c->cross++;
        expect_symbol(c, dfx, &def, name, x);
    } else {
        GElf_Shdr sh;
        assert_non_null(gelf_getshdr(elf_getscn(fx_elf[fx], s->st_shndx), &sh));
        if (sh.sh_flags & SHF_EXECINSTR) {
            assert_int_equal(x, fx_text_addr(c->l, fx) + s->st_value);
        } else {
            Elf_Data *d = elf_getdata(elf_getscn(fx_elf[fx], s->st_shndx), NULL);
            size_t n = sh.sh_size - s->st_value < 16 ? sh.sh_size - s->st_value : 16;
            assert_memory_equal(linked_bytes(c->l, x, n), (const uint8_t *)d->d_buf + s->st_value, n);
        }
        c->local++;
    }
}

static int is_got_rel(unsigned t)
{
    return t == R_X86_64_GOTPCREL || t == R_X86_64_GOTPCRELX || t == R_X86_64_REX_GOTPCRELX;
}

/* One relocation of fx's .text: recover from the linked field the address
 * it encodes (field = S + A - P) and check it against the symbol. */
static void expect_rela(struct link_case *c, int fx, const GElf_Rela *r)
{
    size_t strndx;
    Elf_Data *d = fx_symtab(fx, &strndx);
    GElf_Sym s;
    int32_t field;
    unsigned type = GELF_R_TYPE(r->r_info);
    assert_true(type == R_X86_64_PC32 || type == R_X86_64_PLT32 || is_got_rel(type));
    assert_non_null(gelf_getsym(d, (int)GELF_R_SYM(r->r_info), &s));
    const char *name = fx_symname(fx, strndx, &s);
    uint64_t P = fx_text_addr(c->l, fx) + r->r_offset;
    memcpy(&field, linked_bytes(c->l, P, 4), 4);
    uint64_t x = P + (uint64_t)(int64_t)field - (uint64_t)r->r_addend;
    if (is_got_rel(type)) {
        c->got++;
        if (!strcmp(name, "lk_shared") && c->nshared < 4) c->shared_slots[c->nshared++] = x;
        memcpy(&x, linked_bytes(c->l, x, 8), 8);
    }
    expect_symbol(c, fx, &s, name, x);
}

/* Every relocation of every linked fixture's .text. */
static void expect_all_relas(struct link_case *c)
{
    for (size_t i = 0; i < c->n; i++) {
        GElf_Shdr sh;
        Elf_Scn *scn = fx_section(c->ids[i], ".rela.text", &sh);
        if (!scn) continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        GElf_Rela r;
        for (int j = 0; gelf_getrela(d, j, &r); j++) expect_rela(c, c->ids[i], &r);
    }
}

/* -- Linking several objects -------------------------------------------- */

static const int abc[] = { FX_A, FX_B, FX_C };

static void test_link_objects_binds_every_text_relocation_to_its_definition(void **state)
{
    (void)state;
    struct snap_linked l;
    link_fixtures(abc, 3, &l);
    struct link_case c = { .ids = abc, .n = 3, .l = &l };
    expect_all_relas(&c);
    /* A: lk_b_twice, lk_c_const, lk_shared; B: lk_a_inc, lk_a_chain, lk_c_const */
    assert_int_equal(c.cross, 6);
    assert_int_equal(c.imports, 2); /* strlen, lk_b_private */
    assert_int_equal(c.got, 2);
    assert_true(c.local >= 3);     /* each object's constants */
    snap_linked_free(&l);
}

static void test_link_objects_imports_only_names_no_object_defines(void **state)
{
    (void)state;
    struct snap_linked l;
    link_fixtures(abc, 3, &l);
    /* lk_b_private: B's is LOCAL, so A's reference does not reach it */
    assert_int_equal(l.nimports, 2);
    assert_true(is_import(&l, "strlen") && is_import(&l, "lk_b_private"));
    snap_linked_free(&l);
}

static void test_link_objects_gives_a_global_one_got_slot_for_every_object(void **state)
{
    (void)state;
    struct snap_linked l;
    link_fixtures(abc, 3, &l);
    struct link_case c = { .ids = abc, .n = 3, .l = &l };
    expect_all_relas(&c); /* the slot holds lk_shared's address: its bytes are its value */
    assert_int_equal(c.nshared, 2); /* A's reference and C's own */
    assert_int_equal(c.shared_slots[0], c.shared_slots[1]);
    const struct snap_lseg *got = &l.segs[l.nsegs - 1];
    assert_int_equal(got->kind, SNAP_SEG_GOT);
    assert_true(c.shared_slots[0] >= got->vaddr && c.shared_slots[0] < got->vaddr + got->size);
    size_t filled = 0; /* import slots stay 0 until the loader binds them */
    for (uint64_t off = 0; off < got->size; off += 8) {
        uint64_t v;
        memcpy(&v, got->bytes + off, 8);
        filled += v != 0;
    }
    assert_int_equal(filled, 1);
    snap_linked_free(&l);
}

/* Every function each fixture defines is listed once, at its place. */
static size_t expect_functions_listed(const struct snap_linked *l, int fx)
{
    size_t strndx, nfuncs = 0;
    Elf_Data *d = fx_symtab(fx, &strndx);
    GElf_Sym s;
    uint64_t text = fx_text_addr(l, fx);
    for (int i = 1; gelf_getsym(d, i, &s); i++) {
        if (GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF) continue;
        size_t seen = 0;
        for (size_t j = 0; j < l->nsyms; j++)
            seen += l->syms[j].addr == text + s.st_value && !strcmp(l->syms[j].name, fx_symname(fx, strndx, &s));
        assert_int_equal(seen, 1);
        nfuncs++;
    }
    return nfuncs;
}

static void test_link_objects_lists_each_function_once(void **state)
{
    (void)state;
    struct snap_linked l;
    link_fixtures(abc, 3, &l);
    size_t nfuncs = 0;
    for (size_t i = 0; i < 3; i++) nfuncs += expect_functions_listed(&l, abc[i]);
    assert_int_equal(nfuncs, 8); /* A: helper, lk_a_inc, lk_a_chain; B: 4; C: 1 */
    assert_int_equal(l.nsyms, nfuncs + l.nimports);
    for (size_t i = 1; i < l.nsyms; i++) assert_true(l.syms[i - 1].addr < l.syms[i].addr);
    snap_linked_free(&l);
}

static void test_link_objects_lays_out_by_kind_then_object_order(void **state)
{
    (void)state;
    struct snap_linked l;
    link_fixtures(abc, 3, &l);
    uint64_t a = fx_text_addr(&l, FX_A), b = fx_text_addr(&l, FX_B), c = fx_text_addr(&l, FX_C);
    assert_int_equal(a, SNAP_CODE_BASE + SNAP_CODE_SKIP);
    assert_true(a < b && b < c && c < SNAP_CODE_BASE + SNAP_CODE_SKIP + l.code_bytes);
    assert_int_equal(l.nsegs, 5);
    static const enum snap_seg_kind kinds[] = { SNAP_SEG_CODE, SNAP_SEG_RODATA, SNAP_SEG_UNWIND, SNAP_SEG_DATA,
                                                SNAP_SEG_GOT };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(l.segs[i].kind, kinds[i]);
        assert_int_equal(l.segs[i].vaddr % SNAP_PAGE, 0);
    }
    assert_true(l.imports[0].stub >= SNAP_CODE_BASE + SNAP_CODE_SKIP + l.code_bytes); /* stubs follow all the code */
    snap_linked_free(&l);
}

/* Every object's .eh_frame lands in the unwind segment, relocated: each
 * FDE's pc_begin (pcrel sdata4, as the CIEs of gcc and LLVM say) lies in
 * the linked code, one FDE per function, and a zero word ends the list
 * for __register_frame. */
static void test_link_objects_keeps_eh_frame_relocated_and_terminated(void **state)
{
    (void)state;
    struct snap_linked l;
    link_fixtures(abc, 3, &l);
    const struct snap_lseg *u = NULL;
    for (size_t i = 0; i < l.nsegs; i++)
        if (l.segs[i].kind == SNAP_SEG_UNWIND) u = &l.segs[i];
    assert_non_null(u);
    size_t off = 0, fdes = 0;
    uint32_t len;
    for (;;) {
        assert_true(off + 4 <= u->size);
        memcpy(&len, u->bytes + off, 4);
        if (len == 0) break;
        uint32_t id;
        memcpy(&id, u->bytes + off + 4, 4);
        if (id != 0) {
            int32_t rel;
            memcpy(&rel, u->bytes + off + 8, 4);
            uint64_t pc = u->vaddr + off + 8 + (uint64_t)(int64_t)rel;
            assert_true(pc >= SNAP_CODE_BASE + SNAP_CODE_SKIP && pc < SNAP_CODE_BASE + SNAP_CODE_SKIP + l.code_bytes);
            assert_true((uint32_t)pc != 0);   /* libgcc skips such an FDE */
            fdes++;
        } else {
            assert_string_equal((const char *)u->bytes + off + 9, "zR");
        }
        off += 4 + len;
    }
    assert_int_equal(fdes, 8);   /* the fixtures' functions */
    snap_linked_free(&l);
}

static void test_link_objects_finds_the_entry_in_a_later_object(void **state)
{
    (void)state;
    struct snap_linked l;
    link_fixtures(abc, 3, &l);
    long at = linked_sym(&l, "lk_entry");
    assert_true(at >= 0);
    assert_int_equal(l.entry, l.syms[at].addr);
    assert_true(l.entry >= fx_text_addr(&l, FX_B) && l.entry < fx_text_addr(&l, FX_C));
    snap_linked_free(&l);
}

static void test_link_objects_prefers_a_strong_definition_to_a_weak_one(void **state)
{
    (void)state;
    static const int wabc[] = { FX_W, FX_A, FX_B, FX_C };
    struct snap_linked l;
    link_fixtures(wabc, 4, &l); /* the weak one first: C's still wins */
    struct link_case c = { .ids = wabc, .n = 4, .l = &l };
    expect_all_relas(&c); /* fx_find_def: strong before weak */
    assert_int_equal(c.cross, 6);
    long at = linked_sym(&l, "lk_c_const"); /* listed once: W's is not */
    assert_true(at >= 0);
    assert_int_equal(l.syms[at].addr, fx_text_addr(&l, FX_C));
    snap_linked_free(&l);
}

/* -- Refusals ---------------------------------------------------------------- */

static void test_link_objects_refuses_a_global_defined_twice(void **state)
{
    (void)state;
    const uint8_t *objs[] = { fx_obj[FX_A], fx_obj[FX_B], fx_obj[FX_C], fx_obj[FX_DUP] };
    size_t lens[] = { fx_len[FX_A], fx_len[FX_B], fx_len[FX_C], fx_len[FX_DUP] };
    struct snap_linked l;
    char why[256] = "";
    assert_int_equal(snap_link_objects(objs, lens, 4, "lk_entry", &l, why, sizeof why), LF_ERR_FORMAT);
    assert_non_null(strstr(why, "symbol lk_b_twice defined twice"));
    assert_non_null(strstr(why, "object 3:"));
    assert_null(strchr(why, '\n'));
    assert_int_equal(l.nsegs, 0);
    assert_null(l.syms);
}

static void test_link_objects_refuses_no_objects_and_names_a_bad_one(void **state)
{
    (void)state;
    const uint8_t *objs[] = { fx_obj[FX_A], (const uint8_t *)"hello" };
    size_t lens[] = { fx_len[FX_A], 5 };
    struct snap_linked l;
    char why[256] = "";
    assert_int_equal(snap_link_objects(objs, lens, 0, "lk_entry", &l, why, sizeof why), LF_ERR_INVALID_ARG);
    assert_int_equal(snap_link_objects(NULL, lens, 1, "lk_entry", &l, why, sizeof why), LF_ERR_INVALID_ARG);
    assert_int_equal(snap_link_objects(objs, lens, 2, "lk_entry", NULL, why, sizeof why), LF_ERR_INVALID_ARG);
    assert_int_equal(snap_link_objects(objs, lens, 2, "lk_entry", &l, why, sizeof why), LF_ERR_NOT_ELF);
    assert_non_null(strstr(why, "object 1: "));
    assert_int_equal(snap_link_objects(objs, lens, 1, "lk_entry", &l, why, sizeof why), LF_ERR_FORMAT);
    assert_string_equal(why, "object: entry symbol 'lk_entry' not defined");
}

/* -- One object ----------------------------------------------------------- */

static void test_link_object_is_link_objects_of_one(void **state)
{
    (void)state;
    struct snap_linked one, many;
    char why[256];
    const uint8_t *objs[] = { fx_obj[FX_A] };
    assert_int_equal(snap_link_object(fx_obj[FX_A], fx_len[FX_A], "lk_a_chain", &one, why, sizeof why), LF_OK);
    assert_int_equal(snap_link_objects(objs, &fx_len[FX_A], 1, "lk_a_chain", &many, why, sizeof why), LF_OK);
    assert_int_equal(one.nsegs, many.nsegs);
    for (size_t i = 0; i < one.nsegs; i++) {
        assert_memory_equal(&one.segs[i], &many.segs[i], offsetof(struct snap_lseg, bytes));
        assert_memory_equal(one.segs[i].bytes, many.segs[i].bytes, one.segs[i].size);
    }
    assert_int_equal(one.nsyms, many.nsyms);
    for (size_t i = 0; i < one.nsyms; i++) { /* names: the bytes past the NUL are not set */
        assert_string_equal(one.syms[i].name, many.syms[i].name);
        assert_int_equal(one.syms[i].addr, many.syms[i].addr);
        assert_int_equal(one.syms[i].size, many.syms[i].size);
    }
    assert_int_equal(one.nimports, many.nimports);
    assert_memory_equal(one.imports, many.imports, one.nimports * sizeof *one.imports);
    assert_int_equal(one.entry, many.entry);
    assert_int_equal(one.code_bytes, many.code_bytes);
    /* alone, A's calls into B and C have nothing to bind to */
    assert_true(is_import(&one, "lk_b_twice") && is_import(&one, "lk_c_const"));
    snap_linked_free(&one);
    snap_linked_free(&many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_objects_binds_every_text_relocation_to_its_definition),
        cmocka_unit_test(test_link_objects_imports_only_names_no_object_defines),
        cmocka_unit_test(test_link_objects_gives_a_global_one_got_slot_for_every_object),
        cmocka_unit_test(test_link_objects_lists_each_function_once),
        cmocka_unit_test(test_link_objects_lays_out_by_kind_then_object_order),
        cmocka_unit_test(test_link_objects_finds_the_entry_in_a_later_object),
        cmocka_unit_test(test_link_objects_keeps_eh_frame_relocated_and_terminated),
        cmocka_unit_test(test_link_objects_prefers_a_strong_definition_to_a_weak_one),
        cmocka_unit_test(test_link_objects_refuses_a_global_defined_twice),
        cmocka_unit_test(test_link_objects_refuses_no_objects_and_names_a_bad_one),
        cmocka_unit_test(test_link_object_is_link_objects_of_one),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
