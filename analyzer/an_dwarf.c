/* an_dwarf.c -- function prototypes from DWARF (libdwarf, old API):
 * parameter names, C types, SysV ABI classes, return type, variadic,
 * noreturn; and the names of every noreturn function DWARF declares (so a
 * call to abort@plt ends its block).
 *
 * Input: the binary's path (libdwarf reads the file itself) and the sorted
 * function list.  Output: an_func.has_proto.. fields, b->noreturn.
 *
 * Invariants:
 *   1. Every libdwarf call gets a Dwarf_Error *: with the old API a NULL
 *      error pointer and no handler means abort() inside libdwarf.  Any
 *      DW_DLV_ERROR becomes ERR_DWARF "corrupt DWARF: <libdwarf message>".
 *   2. A subprogram is tied to a function by DW_AT_low_pc == its address,
 *      or for DW_AT_ranges functions (e.g. with a .cold part) by the start
 *      of their DWARF 5 ranges (by name for DWARF 4 range lists); gcc's
 *      clones (.constprop/.isra/.part) get no prototype (an_is_clone).
 *   3. Types are resolved once per DIE offset (an_tcache), with a depth
 *      limit, so cyclic or deep (malformed) type chains terminate.
 *   4. ABI classes follow the SysV x86-64 psABI 3.2.3: scalars INTEGER/SSE,
 *      long double X87 (memory for arguments), aggregates over 16 bytes
 *      MEMORY, else per eightbyte with INTEGER winning over SSE.
 *   5. A prototype is given only where its language's convention is
 *      modelled (the CU's DW_AT_language: C, C++, Rust); in other units,
 *      and for a C function declared without a prototype (no
 *      DW_AT_prototyped and no parameter), the function stays unknown.
 *      What the source does not list but the code receives is added:
 *      a Rust closure body's environment pointer (rustc lists only the
 *      user's parameters); a C++ class passed by invisible reference
 *      (DW_AT_calling_convention) is a pointer in a register, and
 *      returned through a hidden pointer; in Rust, an aggregate over 16
 *      bytes is passed by reference and a return value whose classes are
 *      not all known (enums: variant parts) is unknown (class NONE, size
 *      > 0).  The lifter still checks every prototype against the
 *      registers the code reads at entry (lift_proc.c lift_an_args_checked):
 *      DWARF omits other hidden arguments (#[track_caller] locations). */
#include "analyzer/an_internal.h"

#include <fcntl.h>
#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unistd.h>

struct an_type {
    const char *name;
    uint64_t size;
    enum an_abi_class cls[2];
    int is_void;
    int by_ref;     /* C++ DW_CC_pass_by_reference: passed and returned by address */
    int aggregate;  /* struct, union, class or array (after typedefs and qualifiers) */
};

/* The conventions a CU's DW_AT_language selects. */
enum an_lang { AN_LANG_OTHER, AN_LANG_C, AN_LANG_CXX, AN_LANG_RUST };

struct an_dw {
    struct an_bin *b;
    Dwarf_Debug dbg;
    Dwarf_Error err;
    int failed;
    /* DIE offset -> resolved type (open addressing, power-of-two) */
    Dwarf_Off *keys;
    struct an_type **vals;
    size_t cap, n;
    enum an_lang lang;   /* of the unit being walked */
};

#define AN_DW_MAX_DEPTH 24

static int an_dw_err(struct an_dw *d, int res)
{
    if (res == DW_DLV_ERROR && !d->failed) {
        d->failed = 1;
        an_fail(d->b, LF_ERR_DWARF, "corrupt DWARF: %s", d->err ? dwarf_errmsg(d->err) : "unknown error");
    }
    return res;
}

/* -- Type cache ------------------------------------------------------------ */

static struct an_type **an_tslot(struct an_dw *d, Dwarf_Off off)
{
    if ((d->n + 1) * 2 > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        Dwarf_Off *k = calloc(cap, sizeof *k);
        struct an_type **v = calloc(cap, sizeof *v);
        if (!k || !v) { free(k); free(v); return NULL; }
        for (size_t i = 0; i < d->cap; i++) {
            if (!d->vals[i]) continue;
            size_t j = (d->keys[i] * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
            while (v[j]) j = (j + 1) & (cap - 1);
            k[j] = d->keys[i];
            v[j] = d->vals[i];
        }
        free(d->keys);
        free(d->vals);
        d->keys = k;
        d->vals = v;
        d->cap = cap;
    }
    size_t j = (off * 0x9e3779b97f4a7c15ull >> 20) & (d->cap - 1);
    while (d->vals[j] && d->keys[j] != off) j = (j + 1) & (d->cap - 1);
    if (!d->vals[j]) d->n++; /* the caller fills an empty slot at once */
    d->keys[j] = off;
    return &d->vals[j];
}

/* -- Attribute helpers ------------------------------------------------------ */

static Dwarf_Unsigned an_dw_udata(struct an_dw *d, Dwarf_Die die, Dwarf_Half at, Dwarf_Unsigned dflt)
{
    Dwarf_Attribute a;
    Dwarf_Unsigned v = dflt;
    if (an_dw_err(d, dwarf_attr(die, at, &a, &d->err)) != DW_DLV_OK) return dflt;
    if (dwarf_formudata(a, &v, &d->err) != DW_DLV_OK) v = dflt; /* other forms: not a constant */
    dwarf_dealloc(d->dbg, a, DW_DLA_ATTR);
    return v;
}

static int an_dw_flag(struct an_dw *d, Dwarf_Die die, Dwarf_Half at)
{
    Dwarf_Bool has = 0;
    if (an_dw_err(d, dwarf_hasattr(die, at, &has, &d->err)) != DW_DLV_OK) return 0;
    return has != 0;
}

/* The DIE an attribute of die refers to (DW_AT_type, abstract_origin, ...). */
static Dwarf_Die an_dw_ref(struct an_dw *d, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off_out)
{
    Dwarf_Attribute a;
    Dwarf_Off off;
    Dwarf_Die r = NULL;
    if (an_dw_err(d, dwarf_attr(die, at, &a, &d->err)) != DW_DLV_OK) return NULL;
    if (an_dw_err(d, dwarf_global_formref(a, &off, &d->err)) == DW_DLV_OK &&
        an_dw_err(d, dwarf_offdie_b(d->dbg, off, 1, &r, &d->err)) == DW_DLV_OK && off_out)
        *off_out = off;
    dwarf_dealloc(d->dbg, a, DW_DLA_ATTR);
    return r;
}

static const char *an_dw_name(struct an_dw *d, Dwarf_Die die)
{
    char *n = NULL;
    if (an_dw_err(d, dwarf_diename(die, &n, &d->err)) != DW_DLV_OK) return NULL;
    const char *s = an_strdup(&d->b->arena, n);
    dwarf_dealloc(d->dbg, n, DW_DLA_STRING);
    return s;
}

/* -- ABI classification ------------------------------------------------------ */

static enum an_abi_class an_merge(enum an_abi_class a, enum an_abi_class b)
{
    if (a == b || b == AN_ABI_NONE) return a;
    if (a == AN_ABI_NONE) return b;
    if (a == AN_ABI_MEMORY || b == AN_ABI_MEMORY) return AN_ABI_MEMORY;
    if (a == AN_ABI_INTEGER || b == AN_ABI_INTEGER) return AN_ABI_INTEGER;
    if (a == AN_ABI_X87 || b == AN_ABI_X87) return AN_ABI_MEMORY;
    return AN_ABI_SSE;
}

static struct an_type *an_dw_type(struct an_dw *d, Dwarf_Die die, int depth);

/* Merge the scalar leaves of the type of die (a member or element) at byte
 * offset base into cls[0..1]. */
static void an_classify_into(struct an_dw *d, Dwarf_Die tdie, uint64_t base,
                             enum an_abi_class cls[2], int depth);

static void an_classify_members(struct an_dw *d, Dwarf_Die sdie, uint64_t base,
                                enum an_abi_class cls[2], int depth)
{
    Dwarf_Die c = NULL, next;
    if (an_dw_err(d, dwarf_child(sdie, &c, &d->err)) != DW_DLV_OK) return;
    while (c && !d->failed) {
        Dwarf_Half tag = 0;
        dwarf_tag(c, &tag, &d->err);
        if (tag == DW_TAG_member) {
            uint64_t off = an_dw_udata(d, c, DW_AT_data_member_location, 0);
            Dwarf_Die t = an_dw_ref(d, c, DW_AT_type, NULL);
            if (t) { an_classify_into(d, t, base + off, cls, depth + 1); dwarf_dealloc_die(t); }
        }
        int r = an_dw_err(d, dwarf_siblingof_b(d->dbg, c, 1, &next, &d->err));
        dwarf_dealloc_die(c);
        c = r == DW_DLV_OK ? next : NULL;
    }
}

static uint64_t an_array_count(struct an_dw *d, Dwarf_Die adie)
{
    Dwarf_Die c = NULL;
    uint64_t n = 0;
    if (an_dw_err(d, dwarf_child(adie, &c, &d->err)) != DW_DLV_OK) return 0;
    uint64_t cnt = an_dw_udata(d, c, DW_AT_count, 0);
    uint64_t ub = an_dw_udata(d, c, DW_AT_upper_bound, UINT64_MAX);
    n = cnt ? cnt : ub != UINT64_MAX ? ub + 1 : 0;
    dwarf_dealloc_die(c);
    return n;
}

static void an_classify_into(struct an_dw *d, Dwarf_Die tdie, uint64_t base,
                             enum an_abi_class cls[2], int depth)
{
    Dwarf_Half tag = 0;
    if (depth > AN_DW_MAX_DEPTH || base >= 16 || dwarf_tag(tdie, &tag, &d->err) != DW_DLV_OK) return;
    if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type) {
        an_classify_members(d, tdie, base, cls, depth);
        return;
    }
    if (tag == DW_TAG_array_type) {
        Dwarf_Die e = an_dw_ref(d, tdie, DW_AT_type, NULL);
        if (!e) return;
        struct an_type *et = an_dw_type(d, e, depth + 1);
        uint64_t n = an_array_count(d, tdie);
        for (uint64_t i = 0; et && et->size && i < n && base + i * et->size < 16; i++)
            an_classify_into(d, e, base + i * et->size, cls, depth + 1);
        dwarf_dealloc_die(e);
        return;
    }
    struct an_type *t = an_dw_type(d, tdie, depth + 1);
    if (!t || t->is_void) return;
    if (tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
        tag == DW_TAG_atomic_type) {
        Dwarf_Die u = an_dw_ref(d, tdie, DW_AT_type, NULL);
        if (u) { an_classify_into(d, u, base, cls, depth + 1); dwarf_dealloc_die(u); }
        return;
    }
    cls[base / 8] = an_merge(cls[base / 8], t->cls[0]);
    if (t->size > 8 && base / 8 == 0) cls[1] = an_merge(cls[1], t->cls[1]);
}

/* -- Types ----------------------------------------------------------------- */

static void an_base_class(struct an_type *t, Dwarf_Unsigned enc)
{
    int flt = enc == DW_ATE_float || enc == DW_ATE_complex_float;
    if (flt && t->size == 16 && enc == DW_ATE_float) { t->cls[0] = AN_ABI_X87; return; }
    if (flt) { t->cls[0] = AN_ABI_SSE; t->cls[1] = t->size > 8 ? AN_ABI_SSE : AN_ABI_NONE; return; }
    t->cls[0] = AN_ABI_INTEGER;
    t->cls[1] = t->size > 8 ? AN_ABI_INTEGER : AN_ABI_NONE;
}

static const char *an_join(struct an_dw *d, const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = an_alloc(&d->b->arena, n);
    if (s) snprintf(s, n, "%s%s", a, b);
    return s ? s : "?";
}

static void an_type_fill(struct an_dw *d, Dwarf_Die die, Dwarf_Half tag, struct an_type *t, int depth)
{
    const char *nm = an_dw_name(d, die);
    Dwarf_Die u = an_dw_ref(d, die, DW_AT_type, NULL);
    struct an_type *ut = u ? an_dw_type(d, u, depth + 1) : NULL;
    t->size = an_dw_udata(d, die, DW_AT_byte_size, 0);
    t->cls[0] = t->cls[1] = AN_ABI_NONE;
    switch (tag) {
    case DW_TAG_base_type:
        t->name = nm ? nm : "?";
        an_base_class(t, an_dw_udata(d, die, DW_AT_encoding, DW_ATE_signed));
        break;
    case DW_TAG_pointer_type: case DW_TAG_reference_type: case DW_TAG_rvalue_reference_type:
        t->name = an_join(d, ut ? ut->name : "void", " *");
        t->size = 8;
        t->cls[0] = AN_ABI_INTEGER;
        break;
    case DW_TAG_structure_type: case DW_TAG_union_type: case DW_TAG_class_type:
        t->name = an_join(d, tag == DW_TAG_union_type ? "union " : "struct ", nm ? nm : "<anonymous>");
        t->aggregate = 1;
        t->by_ref = an_dw_udata(d, die, DW_AT_calling_convention, 0) == DW_CC_pass_by_reference;
        if (t->size > 16) t->cls[0] = AN_ABI_MEMORY;
        else if (t->size) {
            an_classify_members(d, die, 0, t->cls, depth);
            if (t->size <= 8) t->cls[1] = AN_ABI_NONE;
            if (t->cls[0] == AN_ABI_MEMORY || t->cls[1] == AN_ABI_MEMORY) {
                t->cls[0] = AN_ABI_MEMORY;
                t->cls[1] = AN_ABI_NONE;
            }
        }
        break;
    case DW_TAG_enumeration_type:
        t->name = an_join(d, "enum ", nm ? nm : "<anonymous>");
        t->cls[0] = AN_ABI_INTEGER;
        break;
    case DW_TAG_typedef: case DW_TAG_const_type: case DW_TAG_volatile_type:
    case DW_TAG_restrict_type: case DW_TAG_atomic_type:
        if (tag == DW_TAG_typedef) t->name = nm ? nm : "?";
        else t->name = an_join(d, tag == DW_TAG_const_type ? "const " : tag == DW_TAG_volatile_type ? "volatile " : "",
                               ut ? ut->name : "void");
        if (tag == DW_TAG_restrict_type) t->name = an_join(d, ut ? ut->name : "void", " restrict");
        if (ut) {
            t->size = ut->size; t->cls[0] = ut->cls[0]; t->cls[1] = ut->cls[1]; t->is_void = ut->is_void;
            t->by_ref = ut->by_ref; t->aggregate = ut->aggregate;
        } else t->is_void = 1;
        break;
    case DW_TAG_array_type:
        t->name = an_join(d, ut ? ut->name : "?", "[]");
        t->cls[0] = AN_ABI_INTEGER; /* as a C parameter it decays to a pointer */
        t->aggregate = 1;
        /* Sized by its bounds (DW_AT_count or DW_AT_upper_bound): a Rust
         * array or a member array is passed by value. */
        if (!t->size && ut) t->size = an_array_count(d, die) * ut->size;
        break;
    case DW_TAG_subroutine_type:
        t->name = an_join(d, ut ? ut->name : "void", " ()");
        break;
    default:
        t->name = nm ? nm : "?";
        t->cls[0] = AN_ABI_MEMORY;
    }
    if (u) dwarf_dealloc_die(u);
}

static struct an_type an_void_type = { "void", 0, { AN_ABI_NONE, AN_ABI_NONE }, 1, 0, 0 };
static struct an_type an_deep_type = { "?", 0, { AN_ABI_MEMORY, AN_ABI_NONE }, 0, 0, 0 };

static struct an_type *an_dw_type(struct an_dw *d, Dwarf_Die die, int depth)
{
    Dwarf_Off off;
    Dwarf_Half tag = 0;
    if (!die) return &an_void_type;
    if (depth > AN_DW_MAX_DEPTH || d->failed) return &an_deep_type;
    if (an_dw_err(d, dwarf_dieoffset(die, &off, &d->err)) != DW_DLV_OK) return &an_deep_type;
    struct an_type **slot = an_tslot(d, off);
    if (!slot) return &an_deep_type;
    if (*slot) return *slot;
    struct an_type *t = an_alloc(&d->b->arena, sizeof *t);
    if (!t) return &an_deep_type;
    *t = an_deep_type;   /* a cycle back to this DIE sees "?" / MEMORY */
    *slot = t;
    if (an_dw_err(d, dwarf_tag(die, &tag, &d->err)) != DW_DLV_OK) return t;
    an_type_fill(d, die, tag, t, depth);
    return t;
}

/* The type of the DW_AT_type of die, void when it has none. */
static struct an_type *an_dw_type_of(struct an_dw *d, Dwarf_Die die)
{
    Dwarf_Die t = an_dw_ref(d, die, DW_AT_type, NULL);
    struct an_type *r = an_dw_type(d, t, 0);
    if (t) dwarf_dealloc_die(t);
    return r;
}

/* A parameter of type t as the unit's convention passes it. */
static struct an_param an_param_of(const struct an_dw *d, const struct an_type *t, const char *name)
{
    struct an_param p = { name ? name : "", t->name, t->size, { t->cls[0], t->cls[1] } };
    if (p.cls[0] == AN_ABI_X87) p.cls[0] = AN_ABI_MEMORY; /* long double arguments go in memory */
    if ((d->lang == AN_LANG_CXX && t->by_ref) || (d->lang == AN_LANG_RUST && t->aggregate && t->size > 16)) {
        p.size = 8;   /* the address of the caller's copy */
        p.cls[0] = AN_ABI_INTEGER;
        p.cls[1] = AN_ABI_NONE;
    }
    if (d->lang == AN_LANG_RUST && t->aggregate && t->size && t->size <= 16 &&
        (p.cls[0] == AN_ABI_NONE || (t->size > 8 && p.cls[1] == AN_ABI_NONE)))
        p.cls[0] = p.cls[1] = AN_ABI_NONE;   /* not all eightbytes classified: unknown */
    return p;
}

/* The result of type t as the unit's convention returns it: through a
 * hidden pointer (MEMORY) for a C++ class passed by reference or a Rust
 * aggregate over 16 bytes; unknown (NONE, size kept) for a Rust aggregate
 * whose eightbytes are not all classified (enums with variant parts). */
static struct an_param an_ret_of(const struct an_dw *d, const struct an_type *t)
{
    struct an_param p = { "", t->name, t->size, { t->cls[0], t->cls[1] } };
    if ((d->lang == AN_LANG_CXX && t->by_ref) || (d->lang == AN_LANG_RUST && t->aggregate && t->size > 16))
        p.cls[0] = AN_ABI_MEMORY, p.cls[1] = AN_ABI_NONE;
    else if (d->lang == AN_LANG_RUST && t->aggregate && t->size &&
             (p.cls[0] == AN_ABI_NONE || (t->size > 8 && p.cls[1] == AN_ABI_NONE)))
        p.cls[0] = p.cls[1] = AN_ABI_NONE;
    return p;
}

/* -- Subprograms ------------------------------------------------------------ */

/* Parameters of die (formal_parameter children); *variadic set on
 * DW_TAG_unspecified_parameters.  Returns the count, -1 on failure. */
static int an_dw_params(struct an_dw *d, Dwarf_Die die, struct an_vec *out, int *variadic)
{
    Dwarf_Die c = NULL, next;
    if (an_dw_err(d, dwarf_child(die, &c, &d->err)) == DW_DLV_ERROR) return -1;
    while (c && !d->failed) {
        Dwarf_Half tag = 0;
        an_dw_err(d, dwarf_tag(c, &tag, &d->err));
        if (tag == DW_TAG_unspecified_parameters) *variadic = 1;
        if (tag == DW_TAG_formal_parameter) {
            Dwarf_Die o = an_dw_ref(d, c, DW_AT_abstract_origin, NULL);
            Dwarf_Die src = o ? o : c;
            struct an_param *p = an_vec_push(out);
            if (!p) { dwarf_dealloc_die(c); if (o) dwarf_dealloc_die(o); return -1; }
            *p = an_param_of(d, an_dw_type_of(d, src), an_dw_name(d, src));
            if (o) dwarf_dealloc_die(o);
        }
        int r = an_dw_err(d, dwarf_siblingof_b(d->dbg, c, 1, &next, &d->err));
        dwarf_dealloc_die(c);
        c = r == DW_DLV_OK ? next : NULL;
    }
    return d->failed ? -1 : (int)out->n;
}

/* A Rust closure body ("{closure#0}", older "{{closure}}"): its first
 * argument is the environment, which rustc's DWARF does not list. */
static int an_is_rust_closure(const char *name)
{
    return name && (strncmp(name, "{closure#", 9) == 0 || strcmp(name, "{{closure}}") == 0);
}

static void an_dw_attach(struct an_dw *d, struct an_func *f, Dwarf_Die die, Dwarf_Die decl)
{
    struct an_vec params = AN_VEC(struct an_param);
    int variadic = 0;
    if (d->lang == AN_LANG_OTHER) return;   /* a convention not modelled: unknown */
    if (d->lang == AN_LANG_RUST && an_is_rust_closure(an_dw_name(d, decl ? decl : die))) {
        struct an_param *env = an_vec_push(&params);
        if (!env) goto out;
        *env = (struct an_param){ "<environment>", "closure environment *", 8, { AN_ABI_INTEGER, AN_ABI_NONE } };
    }
    size_t own = params.n;
    if (an_dw_params(d, die, &params, &variadic) < 0) goto out;
    if (params.n == own && decl && decl != die) {
        variadic = 0;
        if (an_dw_params(d, decl, &params, &variadic) < 0) goto out;
    }
    /* C without a prototype ("int f()"): the parameters are not known. */
    if (d->lang == AN_LANG_C && params.n == own && !an_dw_flag(d, die, DW_AT_prototyped) &&
        !(decl && an_dw_flag(d, decl, DW_AT_prototyped)))
        goto out;
    if (decl && decl != die) {
        int v2 = 0;
        struct an_vec tmp = AN_VEC(struct an_param);
        if (an_dw_params(d, decl, &tmp, &v2) >= 0 && v2) variadic = 1;
        an_vec_free(&tmp);
    }
    struct an_param *ps = an_alloc(&d->b->arena, (params.n + 1) * sizeof *ps);
    if (!ps) goto out;
    if (params.n) memcpy(ps, params.data, params.n * sizeof *ps);
    f->params = ps;
    f->nparams = (int)params.n;
    f->variadic = variadic;
    f->ret = an_ret_of(d, an_dw_type_of(d, decl ? decl : die));
    f->noreturn = an_dw_flag(d, die, DW_AT_noreturn) || (decl && an_dw_flag(d, decl, DW_AT_noreturn));
    f->has_proto = 1;
    d->b->pub.n_with_proto++;
out:
    an_vec_free(&params);
}

static void an_dw_noreturn_name(struct an_dw *d, Dwarf_Die die)
{
    if (!an_dw_flag(d, die, DW_AT_noreturn)) return;
    const char *n = an_dw_name(d, die);
    if (n && !an_strmap_get(&d->b->noreturn, n)) an_strmap_put(&d->b->noreturn, n, (void *)n);
}

/* gcc's clones (foo.constprop.0, foo.isra.0, foo.part.0) take other
 * arguments than the source function their DWARF describes: no prototype
 * is better than a wrong one for a native call. */
static int an_is_clone(const char *name)
{
    return strstr(name, ".constprop.") || strstr(name, ".isra.") || strstr(name, ".part.") ||
           strstr(name, ".cold");
}

/* The function a DWARF 5 DW_AT_ranges subprogram starts: the first range
 * whose start is a function's address and not a split-off part; the other
 * ranges that start a ".cold" function make it a part of that function
 * (exact where two static functions share a name).  NULL when the ranges
 * cannot be read (DWARF 4 .debug_ranges: matched by name). */
static struct an_func *an_dw_ranges_func(struct an_dw *d, Dwarf_Die die)
{
    Dwarf_Attribute a;
    Dwarf_Half form = 0;
    Dwarf_Unsigned val = 0, count = 0, goff = 0;
    Dwarf_Off off = 0;
    Dwarf_Rnglists_Head head = NULL;
    struct an_func *f = NULL, *cold[4];
    unsigned n_cold = 0;
    if (dwarf_attr(die, DW_AT_ranges, &a, &d->err) != DW_DLV_OK) return NULL;
    int ok = dwarf_whatform(a, &form, &d->err) == DW_DLV_OK;
    if (ok && form == DW_FORM_sec_offset) { ok = dwarf_global_formref(a, &off, &d->err) == DW_DLV_OK; val = off; }
    else if (ok && form == DW_FORM_rnglistx) ok = dwarf_formudata(a, &val, &d->err) == DW_DLV_OK;
    else ok = 0;
    if (ok && dwarf_rnglists_get_rle_head(a, form, val, &head, &count, &goff, &d->err) == DW_DLV_OK) {
        for (Dwarf_Unsigned i = 0; i < count; i++) {
            unsigned len = 0, code = 0;
            Dwarf_Unsigned r1, r2, lo = 0, hi = 0;
            Dwarf_Bool unavailable = 0;
            if (dwarf_get_rnglists_entry_fields_a(head, i, &len, &code, &r1, &r2, &unavailable, &lo, &hi,
                                                  &d->err) != DW_DLV_OK || unavailable)
                continue;
            if (code != DW_RLE_offset_pair && code != DW_RLE_start_end && code != DW_RLE_start_length &&
                code != DW_RLE_startx_endx && code != DW_RLE_startx_length)
                continue;
            const struct an_func *c = an_func_at(&d->b->pub, lo);
            if (!c || c->addr != lo) continue;
            if (strstr(c->name, ".cold")) { if (n_cold < 4) cold[n_cold++] = (struct an_func *)c; }
            else if (!f) f = (struct an_func *)c;
        }
        dwarf_dealloc_rnglists_head(head);
    }
    dwarf_dealloc(d->dbg, a, DW_DLA_ATTR);
    for (unsigned i = 0; f && i < n_cold; i++) cold[i]->parent_addr = f->addr;
    return f;
}

/* A function only an FDE named (fn_<hex>: no symbol, e.g. .symtab removed
 * but DWARF kept) takes its DWARF name; the fn_ name still finds it. */
static void an_dw_rename(struct an_dw *d, struct an_func *f, Dwarf_Die decl)
{
    if (f->source != AN_SRC_EH_FRAME || strncmp(f->name, "fn_", 3)) return;
    const char *n = an_dw_name(d, decl);
    if (!n || !*n || an_strmap_get(&d->b->by_name, n)) return;
    if (an_strmap_put(&d->b->by_name, n, f) < 0) { d->failed = 1; return; }
    f->name = n;
}

static void an_dw_subprogram(struct an_dw *d, Dwarf_Die die)
{
    Dwarf_Die origin = an_dw_ref(d, die, DW_AT_abstract_origin, NULL);
    if (!origin) origin = an_dw_ref(d, die, DW_AT_specification, NULL);
    Dwarf_Die decl = origin ? origin : die;
    Dwarf_Addr lo = 0;
    int r = an_dw_err(d, dwarf_lowpc(die, &lo, &d->err));
    struct an_func *f = NULL;
    if (r == DW_DLV_OK) {
        const struct an_func *cf = an_func_at(&d->b->pub, lo);
        if (cf && cf->addr == lo) f = (struct an_func *)cf;
    } else if (r == DW_DLV_NO_ENTRY && an_dw_flag(d, die, DW_AT_ranges)) {
        f = an_dw_ranges_func(d, die);
        const char *n = f ? NULL : an_dw_name(d, decl);
        if (n) f = an_strmap_get(&d->b->by_name, n);
    }
    an_dw_noreturn_name(d, decl);
    if (f) an_dw_rename(d, f, decl);
    if (f && !f->has_proto && !f->is_plt && !an_is_clone(f->name)) an_dw_attach(d, f, die, decl);
    if (origin) dwarf_dealloc_die(origin);
}

/* Walk die and its siblings, descending into everything but subprograms'
 * bodies (C has no nested functions; namespaces and CUs are descended). */
static void an_dw_walk(struct an_dw *d, Dwarf_Die die, int depth)
{
    while (die && !d->failed) {
        Dwarf_Half tag = 0;
        Dwarf_Die child = NULL, next = NULL;
        an_dw_err(d, dwarf_tag(die, &tag, &d->err));
        if (tag == DW_TAG_subprogram) an_dw_subprogram(d, die);
        else if ((tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit || tag == DW_TAG_namespace ||
                  tag == DW_TAG_module) && depth < AN_DW_MAX_DEPTH &&
                 an_dw_err(d, dwarf_child(die, &child, &d->err)) == DW_DLV_OK)
            an_dw_walk(d, child, depth + 1);
        int r = depth ? an_dw_err(d, dwarf_siblingof_b(d->dbg, die, 1, &next, &d->err)) : DW_DLV_NO_ENTRY;
        dwarf_dealloc_die(die);
        die = r == DW_DLV_OK ? next : NULL;
    }
}

static enum an_lang an_lang_of(Dwarf_Unsigned l)
{
    switch (l) {
    case 0x01: case 0x02: case 0x0c: case 0x1d: case 0x2c:   /* C89, C, C99, C11, C17 */
        return AN_LANG_C;
    case 0x04: case 0x19: case 0x1a: case 0x21: case 0x2a: case 0x2b:   /* C++, 03, 11, 14, 17, 20 */
        return AN_LANG_CXX;
    case 0x1c:   /* Rust */
        return AN_LANG_RUST;
    default:
        return AN_LANG_OTHER;
    }
}

static void an_dw_units(struct an_dw *d)
{
    for (;;) {
        Dwarf_Unsigned hlen, aoff_u, toff, next_off;
        Dwarf_Off aoff;
        Dwarf_Half ver, asz, lsz, esz, ctype;
        Dwarf_Sig8 sig;
        int r = an_dw_err(d, dwarf_next_cu_header_d(d->dbg, 1, &hlen, &ver, &aoff, &asz, &lsz, &esz,
                                                    &sig, &toff, &next_off, &ctype, &d->err));
        (void)aoff_u;
        if (r != DW_DLV_OK) return;
        Dwarf_Die cu = NULL;
        if (an_dw_err(d, dwarf_siblingof_b(d->dbg, NULL, 1, &cu, &d->err)) != DW_DLV_OK) return;
        d->lang = an_lang_of(an_dw_udata(d, cu, DW_AT_language, 0));
        an_dw_walk(d, cu, 0);
    }
}

/* What libc documents as never returning: callees a binary without DWARF
 * for them (PLT calls, stripped code) still must not fall through. */
static const char *const an_libc_noreturn[] = {
    "abort", "exit", "_exit", "_Exit", "quick_exit", "__assert_fail", "__assert_perror_fail",
    "__stack_chk_fail", "__chk_fail", "__fortify_fail", "longjmp", "siglongjmp", "_longjmp",
    "__longjmp_chk", "err", "errx", "verr", "verrx", "pthread_exit", "thrd_exit",
    "__cxa_throw", "__cxa_rethrow", "_Unwind_Resume", "__libc_fatal",
};

/* The bytes of a debug section as DWARF readers see them: a compressed
 * section (SHF_COMPRESSED, gcc -gz: an Elf64_Chdr then a zlib stream; or
 * the older .zdebug_* form: "ZLIB", a big-endian size, a zlib stream) is
 * inflated into a malloc'd buffer (*owned).  0 when absent, -1 when the
 * compressed form is corrupt. */
static int an_debug_bytes(struct an_bin *b, const struct an_section *s, const uint8_t **p, uint64_t *len,
                          uint8_t **owned)
{
    const uint8_t *raw = b->map + s->offset;
    uint64_t size = 0, hdr = 0;
    *owned = NULL;
    if (s->offset > b->map_len || s->size > b->map_len - s->offset) return -1;
    if (s->flags & 0x800 /* SHF_COMPRESSED */) {
        uint32_t type;
        if (s->size < 24) return -1;
        memcpy(&type, raw, 4);
        memcpy(&size, raw + 8, 8);
        if (type != 1 /* ELFCOMPRESS_ZLIB */) return -1;
        hdr = 24;
    } else if (!strncmp(s->name, ".zdebug", 7)) {
        if (s->size < 12 || memcmp(raw, "ZLIB", 4)) return -1;
        for (int i = 0; i < 8; i++) size = size << 8 | raw[4 + i];
        hdr = 12;
    } else {
        *p = raw;
        *len = s->size;
        return 1;
    }
    if (size > (uint64_t)1 << 32 || !(*owned = malloc(size ? size : 1))) return -1;
    uLongf out = (uLongf)size;
    if (uncompress(*owned, &out, raw + hdr, (uLong)(s->size - hdr)) != Z_OK || out != size) {
        free(*owned);
        *owned = NULL;
        return -1;
    }
    *p = *owned;
    *len = size;
    return 1;
}

/* libdwarf 20210528 frees twice when a .debug_rnglists (or .debug_loclists)
 * unit header is malformed (found by tests/fuzz/fuzz_elf.c), so the unit
 * headers are checked here first: DWARF 5, 8-byte addresses, no segment
 * selector, an offset table inside its unit, units tiling the section.
 * Compressed sections are checked once inflated. */
static enum lf_status an_check_lists(struct an_bin *b, const char *name)
{
    for (unsigned i = 0; i < b->pub.n_sections; i++) {
        const struct an_section *sec = &b->pub.sections[i];
        if (sec->type == 8 /* SHT_NOBITS */) continue;
        if (strcmp(sec->name, name) != 0 && !(sec->name[0] == '.' && sec->name[1] == 'z' &&
                                               !strcmp(sec->name + 2, name + 1)))
            continue;
        const uint8_t *p;
        uint8_t *owned;
        uint64_t size;
        if (an_debug_bytes(b, sec, &p, &size, &owned) < 0)
            return an_fail(b, LF_ERR_DWARF, "corrupt DWARF: %s does not decompress", sec->name);
        struct { uint64_t size; } sz = { size }, *s = &sz;
        uint64_t off = 0;
        while (off < s->size) {
            uint32_t l32;
            uint64_t len, hdr = 4, osz = 4;
            if (s->size - off < 12) goto bad;
            memcpy(&l32, p + off, 4);
            len = l32;
            if (l32 == 0xffffffffu) {
                if (s->size - off < 20) goto bad;
                memcpy(&len, p + off + 4, 8);
                hdr = 12;
                osz = 8;
            }
            if (len < 8 || len > s->size - off - hdr) goto bad;
            const uint8_t *u = p + off + hdr;
            uint16_t ver;
            uint32_t count;
            memcpy(&ver, u, 2);
            memcpy(&count, u + 4, 4);
            if (ver != 5 || u[2] != 8 || u[3] != 0 || (uint64_t)count * osz > len - 8) goto bad;
            off += hdr + len;
            continue;
        bad:
            free(owned);
            return an_fail(b, LF_ERR_DWARF, "corrupt DWARF: malformed %s unit at offset %#lx", name,
                           (unsigned long)off);
        }
        free(owned);
    }
    return LF_OK;
}

enum lf_status an_dwarf_load(struct an_bin *b, const char *path)
{
    for (size_t i = 0; i < sizeof an_libc_noreturn / sizeof an_libc_noreturn[0]; i++)
        if (an_strmap_put(&b->noreturn, an_libc_noreturn[i], (void *)an_libc_noreturn[i]) < 0)
            return LF_ERR_NOMEM;
    if ((b->flags & AN_OPEN_NO_DWARF) || !b->pub.has_dwarf) return LF_OK;
    LF_CHECK(an_check_lists(b, ".debug_rnglists"));
    LF_CHECK(an_check_lists(b, ".debug_loclists"));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return an_fail(b, LF_ERR_IO, "cannot open for DWARF");
    struct an_dw d = { .b = b };
    int r = dwarf_init_b(fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &d.dbg, &d.err);
    if (r == DW_DLV_ERROR) {
        an_dw_err(&d, r);
        dwarf_dealloc(NULL, d.err, DW_DLA_ERROR); /* an error without a Dwarf_Debug is ours to free */
        close(fd);
        return LF_ERR_DWARF;
    }
    if (r == DW_DLV_OK) {
        an_dw_units(&d);
        dwarf_finish(d.dbg, &d.err);
    }
    close(fd);
    free(d.keys);
    free(d.vals);
    return d.failed ? LF_ERR_DWARF : LF_OK;
}
