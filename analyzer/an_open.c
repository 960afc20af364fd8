/* an_open.c -- the analyzer driver: map the file, run the passes in the
 * order an_internal.h draws, hand back an immutable an_binary.
 *
 * Owned resources: the private file mapping, the arena, the function
 * vector and name maps, all released by an_close (or on any failure before
 * an_open returns, so a failed open leaks nothing). */
#include "analyzer/an_forms.h"
#include "analyzer/an_internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* lf_status_str lives in the runtime library, which the analyzer does not
 * link; the messages come from the same LF_STATUS list. */
static const char *an_status_msg(enum lf_status s)
{
    static const char *const msgs[] = {
#define AN_STATUS_MSG_(name, msg) msg,
        LF_STATUS(AN_STATUS_MSG_)
#undef AN_STATUS_MSG_
    };
    return (unsigned)s < LF_STATUS__MAX ? msgs[s] : "error";
}

static enum lf_status an_map_file(struct an_bin *b, const char *path)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
     * refused as not a regular file); no effect on a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return an_fail(b, errno == ENOENT ? LF_ERR_INVALID_ARG : LF_ERR_IO, "%s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return an_fail(b, LF_ERR_IO, "%s", strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return an_fail(b, LF_ERR_INVALID_ARG, "is a directory");
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return an_fail(b, LF_ERR_NOT_ELF, !S_ISREG(st.st_mode) ? "not a regular file"
                                                               : "empty file, not an ELF file");
    }
    /* The magic first: a 1 GiB file that is not ELF took 7.5 s (mapped and
     * read whole by the content hash) to be called so; an_elf.c checks the
     * rest of the header. */
    unsigned char magic[SELFMAG];
    if (pread(fd, magic, SELFMAG, 0) != SELFMAG || memcmp(magic, ELFMAG, SELFMAG) != 0) {
        close(fd);
        return an_fail(b, LF_ERR_NOT_ELF, "not an ELF file");
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return an_fail(b, LF_ERR_IO, "cannot map: %s", strerror(errno));
    b->map = m;
    b->map_len = (size_t)st.st_size;
    b->pub.file_size = (uint64_t)st.st_size;
    /* The form table decides the liftable columns: a lineiform with another
     * table must not take stored rows for fresh ones. */
    snprintf(b->pub.content_hash, sizeof b->pub.content_hash, "%016llx",
             (unsigned long long)(an_hash64(b->map, b->map_len) ^ an_forms_fingerprint()));
    return LF_OK;
}

static enum lf_status an_code_all(struct an_bin *b, an_progress_fn fn, void *ctx)
{
    void *scratch = an_code_scratch_new(b);
    if (!scratch) return LF_ERR_NOMEM;
    struct an_func *f = b->funcs.data;
    enum lf_status s = LF_OK;
    for (size_t i = 0; i < b->funcs.n && s == LF_OK; i++) {
        s = an_code_func(b, &f[i], scratch);
        if (fn && (i & 255) == 0) fn(ctx, (unsigned)i, (unsigned)b->funcs.n);
    }
    if (fn && s == LF_OK) fn(ctx, (unsigned)b->funcs.n, (unsigned)b->funcs.n);
    an_code_scratch_free(scratch);
    return s;
}

static enum lf_status an_run(struct an_bin *b, const char *path, an_progress_fn fn, void *ctx)
{
    double t0 = an_now_ms();
    LF_CHECK(an_map_file(b, path));
    LF_CHECK(an_elf_load(b));
    if (b->flags & AN_OPEN_IDENTIFY) return LF_OK;
    LF_CHECK(an_elf_funcs(b));
    LF_CHECK(an_funcs_finish(b));
    double t1 = an_now_ms();
    LF_CHECK((b->flags & AN_OPEN_ISOLATE) ? an_dwarf_load_isolated(b, path) : an_dwarf_load(b, path));
    double t2 = an_now_ms();
    if (!(b->flags & AN_OPEN_NO_CFG)) LF_CHECK(an_code_all(b, fn, ctx));
    double t3 = an_now_ms();
    b->pub.ms_elf = t1 - t0;
    b->pub.ms_dwarf = t2 - t1;
    b->pub.ms_code = t3 - t2;
    return LF_OK;
}

enum lf_status an_open_progress(const char *path, unsigned flags, an_progress_fn fn, void *ctx,
                                struct an_binary **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!out || !path) return LF_ERR_INVALID_ARG;
    *out = NULL;
    struct an_bin *b = calloc(1, sizeof *b);
    if (!b) return LF_ERR_NOMEM;
    b->flags = flags;
    b->err = err;
    b->errlen = errlen;
    b->funcs = (struct an_vec)AN_VEC(struct an_func);
    b->aliases = (struct an_vec)AN_VEC(struct an_alias);
    b->relocs = (struct an_vec)AN_VEC(struct an_reloc);
    b->pub.path = an_strdup(&b->arena, path);
    enum lf_status s = b->pub.path ? an_run(b, path, fn, ctx) : LF_ERR_NOMEM;
    b->err = NULL;
    b->errlen = 0;
    if (s != LF_OK) {
        if (err && errlen && !err[0]) snprintf(err, errlen, "%s: %s", path, an_status_msg(s));
        an_close(&b->pub);
        return s;
    }
    *out = &b->pub;
    return LF_OK;
}

enum lf_status an_open(const char *path, unsigned flags, struct an_binary **out, char *err, size_t errlen)
{
    return an_open_progress(path, flags, NULL, NULL, out, err, errlen);
}

void an_close(struct an_binary *pb)
{
    if (!pb) return;
    struct an_bin *b = (struct an_bin *)pb;
    if (b->map) munmap((void *)b->map, b->map_len);
    an_vec_free(&b->funcs);
    an_vec_free(&b->aliases);
    an_vec_free(&b->relocs);
    an_strmap_free(&b->by_name);
    an_strmap_free(&b->noreturn);
    an_arena_free(&b->arena);
    free(b);
}
