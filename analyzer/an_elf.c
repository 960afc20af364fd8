/* an_elf.c -- ELF reading: headers, segments, sections, build-id, FUNC
 * symbols, PLT stubs named after their relocation ("memcpy@plt").
 *
 * Input: the file mapped privately in b->map (the whole file).  Output:
 * b->pub.segments/sections/build_id/..., raw entries in b->funcs (not yet
 * sorted; an_funcs_finish in an_funcs.c sorts, merges and completes), and
 * the load-time relocations an_read_u64 applies (b->relocs).
 *
 * Invariants:
 *   1. Every header field used to index the file is checked against
 *      b->map_len before use (LF_NEVER): truncation is ERR_TRUNCATED.
 *   2. libelf reads from b->map (elf_memory), never from the descriptor,
 *      so the bytes analyzed are the bytes hashed. */
#include "analyzer/an_internal.h"

#include <Zydis/Zydis.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

static int an_in_file(const struct an_bin *b, uint64_t off, uint64_t size)
{
    return off <= b->map_len && size <= b->map_len - off;
}

/* -- Headers ---------------------------------------------------------------- */

static enum lf_status an_check_ident(struct an_bin *b)
{
    const uint8_t *m = b->map;
    if (b->map_len < 4 || memcmp(m, ELFMAG, SELFMAG) != 0)
        return an_fail(b, LF_ERR_NOT_ELF, "not an ELF file");
    if (b->map_len < EI_NIDENT)
        return an_fail(b, LF_ERR_TRUNCATED, "truncated ELF header");
    if (m[EI_CLASS] != ELFCLASS64)
        return an_fail(b, LF_ERR_ELF_CLASS, "%s ELF, not a 64-bit x86-64 ELF file",
                       m[EI_CLASS] == ELFCLASS32 ? "32-bit" : "unknown-class");
    if (m[EI_DATA] != ELFDATA2LSB)
        return an_fail(b, LF_ERR_ELF_CLASS, "big-endian ELF, not x86-64");
    if (b->map_len < sizeof(Elf64_Ehdr))
        return an_fail(b, LF_ERR_TRUNCATED, "truncated ELF header");
    Elf64_Ehdr eh;
    memcpy(&eh, m, sizeof eh);
    if (eh.e_machine != EM_X86_64)
        return an_fail(b, LF_ERR_ELF_CLASS, "ELF for machine %u, not x86-64", eh.e_machine);
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        return an_fail(b, LF_ERR_FORMAT, "ELF type %u is neither an executable nor a shared object",
                       eh.e_type);
    if (eh.e_phentsize && eh.e_phentsize != sizeof(Elf64_Phdr))
        return an_fail(b, LF_ERR_FORMAT, "bad program header entry size %u", eh.e_phentsize);
    if (eh.e_shentsize && eh.e_shentsize != sizeof(Elf64_Shdr))
        return an_fail(b, LF_ERR_FORMAT, "bad section header entry size %u", eh.e_shentsize);
    if (LF_NEVER(!an_in_file(b, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))))
        return an_fail(b, LF_ERR_TRUNCATED, "truncated: program headers beyond end of file");
    if (LF_NEVER(eh.e_shoff && !an_in_file(b, eh.e_shoff, (uint64_t)(eh.e_shnum ? eh.e_shnum : 1) *
                                                               sizeof(Elf64_Shdr))))
        return an_fail(b, LF_ERR_TRUNCATED, "truncated: section headers beyond end of file");
    b->pub.e_type = eh.e_type;
    b->pub.entry = eh.e_entry;
    return LF_OK;
}

/* NT_GNU_BUILD_ID from a note area [off, off+size) of the file. */
static void an_scan_notes(struct an_bin *b, uint64_t off, uint64_t size)
{
    uint64_t p = off, end = off + size;
    while (p + 12 <= end) {
        uint32_t nsz, dsz, type;
        memcpy(&nsz, b->map + p, 4);
        memcpy(&dsz, b->map + p + 4, 4);
        memcpy(&type, b->map + p + 8, 4);
        uint64_t name = p + 12, desc = name + ((nsz + 3ull) & ~3ull);
        uint64_t next = desc + ((dsz + 3ull) & ~3ull);
        if (next > end || next <= p) return;
        if (type == NT_GNU_BUILD_ID && nsz == 4 && !memcmp(b->map + name, "GNU", 4) && dsz <= 32) {
            for (uint32_t i = 0; i < dsz; i++) sprintf(b->pub.build_id + 2 * i, "%02x", b->map[desc + i]);
            return;
        }
        p = next;
    }
}

static enum lf_status an_load_segments(struct an_bin *b, Elf *elf)
{
    size_t n;
    if (elf_getphdrnum(elf, &n) != 0) return an_fail(b, LF_ERR_FORMAT, "bad program headers: %s", elf_errmsg(-1));
    struct an_segment *segs = an_alloc(&b->arena, (n + 1) * sizeof *segs);
    if (!segs) return LF_ERR_NOMEM;
    unsigned k = 0;
    uint64_t lo = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph)) return an_fail(b, LF_ERR_FORMAT, "bad program header %zu", i);
        if (ph.p_type == PT_INTERP) b->pub.pie = (b->pub.e_type == ET_DYN);
        if (ph.p_type == PT_NOTE && !b->pub.build_id[0] && an_in_file(b, ph.p_offset, ph.p_filesz))
            an_scan_notes(b, ph.p_offset, ph.p_filesz);
        if (ph.p_type != PT_LOAD) continue;
        if (LF_NEVER(!an_in_file(b, ph.p_offset, ph.p_filesz)))
            return an_fail(b, LF_ERR_TRUNCATED, "truncated: segment %zu extends beyond end of file", i);
        if (LF_NEVER(ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr))
            return an_fail(b, LF_ERR_FORMAT, "malformed segment %zu", i);
        segs[k++] = (struct an_segment){ ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_flags };
        if (ph.p_vaddr < lo) lo = ph.p_vaddr;
        if (ph.p_flags & PF_X) {
            if (!b->text_hi || ph.p_vaddr < b->text_lo) b->text_lo = ph.p_vaddr;
            if (ph.p_vaddr + ph.p_filesz > b->text_hi) b->text_hi = ph.p_vaddr + ph.p_filesz;
        }
    }
    if (!k) return an_fail(b, LF_ERR_FORMAT, "no loadable segments");
    b->pub.segments = segs;
    b->pub.n_segments = k;
    b->pub.load_base = lo & ~(uint64_t)0xfff;
    return LF_OK;
}

static enum lf_status an_load_sections(struct an_bin *b, Elf *elf)
{
    size_t n, shstr;
    if (elf_getshdrnum(elf, &n) != 0 || elf_getshdrstrndx(elf, &shstr) != 0)
        return an_fail(b, LF_ERR_FORMAT, "bad section headers: %s", elf_errmsg(-1));
    struct an_section *secs = an_alloc(&b->arena, (n + 1) * sizeof *secs);
    if (!secs) return LF_ERR_NOMEM;
    unsigned k = 0;
    for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(s, &sh)) return an_fail(b, LF_ERR_FORMAT, "bad section header");
        if (sh.sh_type != SHT_NOBITS && LF_NEVER(!an_in_file(b, sh.sh_offset, sh.sh_size)))
            return an_fail(b, LF_ERR_TRUNCATED, "truncated: section %zu extends beyond end of file",
                           elf_ndxscn(s));
        const char *name = elf_strptr(elf, shstr, sh.sh_name);
        struct an_section *sec = &secs[k++];
        sec->name = an_strdup(&b->arena, name ? name : "");
        if (!sec->name) return LF_ERR_NOMEM;
        sec->addr = sh.sh_addr;
        sec->size = sh.sh_size;
        sec->offset = sh.sh_offset;
        sec->type = sh.sh_type;
        sec->flags = sh.sh_flags;
        if (sh.sh_type == SHT_NOTE && !b->pub.build_id[0]) an_scan_notes(b, sh.sh_offset, sh.sh_size);
        if (!strcmp(sec->name, ".debug_info") || !strcmp(sec->name, ".zdebug_info")) b->pub.has_dwarf = 1;
        if (sh.sh_type == SHT_SYMTAB) b->pub.stripped = 0;
    }
    b->pub.sections = secs;
    b->pub.n_sections = k;
    return LF_OK;
}

/* DF_1_PIE makes a PIE; an interpreter alone does not when the object has
 * a DT_SONAME: libc.so.6 and ld.so run as programs but are libraries. */
static void an_check_pie_flag(struct an_bin *b, Elf *elf)
{
    int flag = 0, soname = 0;
    for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_DYNAMIC) continue;
        Elf_Data *d = elf_getdata(s, NULL);
        for (size_t i = 0; d && i < d->d_size / sizeof(Elf64_Dyn); i++) {
            GElf_Dyn dy;
            if (!gelf_getdyn(d, (int)i, &dy)) continue;
            flag |= dy.d_tag == DT_FLAGS_1 && (dy.d_un.d_val & DF_1_PIE);
            soname |= dy.d_tag == DT_SONAME;
        }
    }
    if (flag) b->pub.pie = 1;
    else if (soname) b->pub.pie = 0;
}

enum lf_status an_elf_load(struct an_bin *b)
{
    LF_CHECK(an_check_ident(b));
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)b->map, b->map_len);
    if (!elf) return an_fail(b, LF_ERR_FORMAT, "cannot read ELF: %s", elf_errmsg(-1));
    b->pub.stripped = 1;
    enum lf_status s = an_load_segments(b, elf);
    if (s == LF_OK) s = an_load_sections(b, elf);
    if (s == LF_OK) an_check_pie_flag(b, elf);
    elf_end(elf);
    return s;
}

/* -- Symbols ------------------------------------------------------------- */

static struct an_func *an_add_func(struct an_bin *b, const char *name, uint64_t addr,
                                   uint64_t size, enum an_func_source src)
{
    struct an_func *f = an_vec_push(&b->funcs);
    if (!f) return NULL;
    f->name = an_strdup(&b->arena, name);
    if (!f->name) return NULL;
    f->addr = addr;
    f->size = size;
    f->source = src;
    f->liftable = -1;
    return f;
}

static enum lf_status an_load_symtab(struct an_bin *b, Elf *elf, Elf_Scn *s, const GElf_Shdr *sh)
{
    Elf_Data *d = elf_getdata(s, NULL);
    if (!d || !sh->sh_entsize) return LF_OK;
    size_t n = d->d_size / sizeof(Elf64_Sym);
    enum an_func_source src = sh->sh_type == SHT_SYMTAB ? AN_SRC_SYMTAB : AN_SRC_DYNSYM;
    for (size_t i = 1; i < n; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym)) continue;
        int t = GELF_ST_TYPE(sym.st_info);
        if ((t != STT_FUNC && t != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF || !sym.st_value) continue;
        const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
        if (!name || !*name) continue;
        struct an_func *f = an_add_func(b, name, sym.st_value, sym.st_size, src);
        if (!f) return LF_ERR_NOMEM;
        /* alias rank, global before weak before local; an_funcs_finish reads
         * it from n_loops and clears it before any code analysis */
        f->n_loops = GELF_ST_BIND(sym.st_info) == STB_GLOBAL ? 0 : GELF_ST_BIND(sym.st_info) == STB_WEAK ? 1 : 2;
    }
    return LF_OK;
}

/* -- PLT ----------------------------------------------------------------- */

struct an_slot { uint64_t addr; const char *name; };

static int an_slot_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct an_slot *)a)->addr, y = ((const struct an_slot *)b)->addr;
    return x < y ? -1 : x > y;
}

/* GOT slot address -> symbol, from JUMP_SLOT and GLOB_DAT relocations. */
static enum lf_status an_got_slots(Elf *elf, struct an_vec *slots)
{
    for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
        GElf_Shdr sh, symsh;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_RELA) continue;
        Elf_Scn *symscn = elf_getscn(elf, sh.sh_link);
        if (!symscn || !gelf_getshdr(symscn, &symsh)) continue;
        Elf_Data *d = elf_getdata(s, NULL), *sd = elf_getdata(symscn, NULL);
        if (!d || !sd) continue;
        for (size_t i = 0; i < d->d_size / sizeof(Elf64_Rela); i++) {
            GElf_Rela r;
            GElf_Sym sym;
            if (!gelf_getrela(d, (int)i, &r)) continue;
            unsigned t = GELF_R_TYPE(r.r_info);
            if (t != R_X86_64_JUMP_SLOT && t != R_X86_64_GLOB_DAT) continue;
            if (!gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &sym)) continue;
            const char *name = elf_strptr(elf, symsh.sh_link, sym.st_name);
            if (!name || !*name) continue;
            struct an_slot *sl = an_vec_push(slots);
            if (!sl) return LF_ERR_NOMEM;
            sl->addr = r.r_offset;
            sl->name = name;
        }
    }
    if (slots->n) qsort(slots->data, slots->n, sizeof(struct an_slot), an_slot_cmp);
    return LF_OK;
}

static const char *an_slot_name(const struct an_vec *slots, uint64_t addr)
{
    size_t lo = 0, hi = slots->n;
    const struct an_slot *s = slots->data;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s[mid].addr < addr) lo = mid + 1;
        else hi = mid;
    }
    return lo < slots->n && s[lo].addr == addr ? s[lo].name : NULL;
}

/* The GOT slot an entry jumps through: the first `jmp [rip+d]` in it. */
static uint64_t an_plt_slot(const uint8_t *code, size_t len, uint64_t addr)
{
    ZydisDecoder d;
    ZydisDecodedInstruction in;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    for (size_t off = 0; off < len;) {
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, code + off, len - off, &in, ops))) return 0;
        if (in.mnemonic == ZYDIS_MNEMONIC_JMP && ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
            ops[0].mem.base == ZYDIS_REGISTER_RIP && ops[0].mem.index == ZYDIS_REGISTER_NONE)
            return addr + off + in.length + (uint64_t)ops[0].mem.disp.value;
        off += in.length;
    }
    return 0;
}

static enum lf_status an_load_plt(struct an_bin *b, const struct an_vec *slots)
{
    for (unsigned i = 0; i < b->pub.n_sections; i++) {
        const struct an_section *s = &b->pub.sections[i];
        if (strcmp(s->name, ".plt") && strcmp(s->name, ".plt.sec") && strcmp(s->name, ".plt.got")) continue;
        if (s->type == SHT_NOBITS) continue;
        uint64_t ent = !strcmp(s->name, ".plt.got") ? 8 : 16;
        /* .plt.got entries are 8 bytes without IBT, 16 with an endbr64 */
        if (ent == 8 && s->size >= 4 && !memcmp(b->map + s->offset, "\xf3\x0f\x1e\xfa", 4)) ent = 16;
        for (uint64_t off = 0; off + ent <= s->size; off += ent) {
            uint64_t slot = an_plt_slot(b->map + s->offset + off, ent, s->addr + off);
            const char *name = slot ? an_slot_name(slots, slot) : NULL;
            if (!name) continue;
            char buf[512];
            snprintf(buf, sizeof buf, "%s@plt", name);
            struct an_func *f = an_add_func(b, buf, s->addr + off, ent, AN_SRC_PLT);
            if (!f) return LF_ERR_NOMEM;
            f->is_plt = 1;
            f->plt_target = an_strdup(&b->arena, name);
            if (!f->plt_target) return LF_ERR_NOMEM;
        }
    }
    return LF_OK;
}

/* -- Load-time relocations ------------------------------------------------- */

static int an_reloc_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct an_reloc *)a)->offset, y = ((const struct an_reloc *)b)->offset;
    return x < y ? -1 : x > y;
}

/* What the dynamic loader writes into the image, as link-time values: a
 * RELATIVE relocation's addend (RELA or RELR), a defined symbol's address (+ addend) for
 * R_X86_64_64 and GLOB_DAT.  Imports and IRELATIVE are left out: their
 * value is not known before the program runs. */
static int an_relr_add(struct an_bin *b, uint64_t where)
{
    size_t len;
    const uint8_t *p = an_bytes_at(&b->pub, where, &len);
    if (!p || len < 8) return 0; /* outside the file image: ignore, never read */
    struct an_reloc *rl = an_vec_push(&b->relocs);
    if (!rl) return -1;
    rl->offset = where;
    memcpy(&rl->value, p, 8); /* RELR keeps the addend in place */
    return 0;
}

/* SHT_RELR (19, glibc 2.36's packed RELATIVE relocations): an even word is
 * an address to relocate, an odd one a bitmap of the 63 words after it. */
static enum lf_status an_load_relr(struct an_bin *b, Elf_Scn *s)
{
    Elf_Data *d = elf_getdata(s, NULL);
    const uint64_t *w = d && d->d_buf ? d->d_buf : NULL;
    uint64_t where = 0;
    for (size_t i = 0; w && i < d->d_size / 8; i++) {
        if (!(w[i] & 1)) {
            where = w[i];
            if (an_relr_add(b, where) < 0) return LF_ERR_NOMEM;
            where += 8;
            continue;
        }
        for (unsigned k = 1; k < 64; k++)
            if (((w[i] >> k) & 1) && an_relr_add(b, where + (k - 1) * 8) < 0) return LF_ERR_NOMEM;
        where += 63 * 8;
    }
    return LF_OK;
}

static enum lf_status an_load_relocs(struct an_bin *b, Elf *elf)
{
    for (Elf_Scn *s = elf_nextscn(elf, NULL); s; s = elf_nextscn(elf, s)) {
        GElf_Shdr sh, symsh;
        if (gelf_getshdr(s, &sh) && sh.sh_type == 19 /* SHT_RELR */ && (sh.sh_flags & SHF_ALLOC)) {
            LF_CHECK(an_load_relr(b, s));
            continue;
        }
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC)) continue;
        Elf_Data *d = elf_getdata(s, NULL), *sd = NULL;
        Elf_Scn *symscn = sh.sh_link ? elf_getscn(elf, sh.sh_link) : NULL;
        if (symscn && gelf_getshdr(symscn, &symsh)) sd = elf_getdata(symscn, NULL);
        for (size_t i = 0; d && i < d->d_size / sizeof(Elf64_Rela); i++) {
            GElf_Rela r;
            GElf_Sym sym;
            if (!gelf_getrela(d, (int)i, &r)) continue;
            unsigned t = GELF_R_TYPE(r.r_info);
            uint64_t v;
            if (t == R_X86_64_RELATIVE) v = (uint64_t)r.r_addend;
            else if ((t == R_X86_64_64 || t == R_X86_64_GLOB_DAT) && sd &&
                     gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &sym) && sym.st_shndx != SHN_UNDEF)
                v = sym.st_value + (uint64_t)r.r_addend;
            else continue;
            struct an_reloc *rl = an_vec_push(&b->relocs);
            if (!rl) return LF_ERR_NOMEM;
            rl->offset = r.r_offset;
            rl->value = v;
        }
    }
    if (b->relocs.n) qsort(b->relocs.data, b->relocs.n, sizeof(struct an_reloc), an_reloc_cmp);
    return LF_OK;
}

enum lf_status an_elf_funcs(struct an_bin *b)
{
    Elf *elf = elf_memory((char *)b->map, b->map_len);
    if (!elf) return an_fail(b, LF_ERR_FORMAT, "cannot read ELF: %s", elf_errmsg(-1));
    enum lf_status s = LF_OK;
    for (Elf_Scn *sc = elf_nextscn(elf, NULL); sc && s == LF_OK; sc = elf_nextscn(elf, sc)) {
        GElf_Shdr sh;
        if (gelf_getshdr(sc, &sh) && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
            s = an_load_symtab(b, elf, sc, &sh);
    }
    struct an_vec slots = AN_VEC(struct an_slot);
    if (s == LF_OK) s = an_got_slots(elf, &slots);
    if (s == LF_OK) s = an_load_plt(b, &slots);
    if (s == LF_OK) s = an_load_relocs(b, elf);
    an_vec_free(&slots);
    elf_end(elf);
    return s;
}
