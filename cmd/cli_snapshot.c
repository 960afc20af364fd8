/* cli_snapshot.c -- `lineiform snapshot SCRIPT -o IMAGE`: run the
 * interpreter to its snapshot point, compile the entry closure, write an
 * image.
 *
 *   analyze BIN into the metadata database unless it holds this build
 *   run     BIN SCRIPT with LINEIFORM_MODE=snapshot ──▶ heap dump, written
 *           into an unnamed temporary file (LINEIFORM_DUMP_FD)
 *   read    snap_dump_read_fd: arenas, entry, roots, interpreter identity
 *   lift    snap_interp_open (guest memory) ──▶ lift_aot_compile ──▶ objects
 *   link    snap_link_objects: code at SNAP_CODE_BASE, imports via GOT
 *   write   snap_image_write: ELF64 image, temp file + rename
 *
 * Exit status: 0 image written; 1 the script failed before its snapshot
 * point (its own error is on stderr), or the dump, lifting or writing
 * failed, or --timeout expired; 2 usage.  Nothing is left at IMAGE unless
 * it succeeded, and nothing anywhere when killed, even by SIGKILL: the dump
 * has no name, the image has none until it is complete (rt_atomic.c), and
 * the interpreter dies with lineiform-snapshot (cli_child.c).
 *
 * When the lifter refuses the entry as a whole, the image's entry is a stub
 * that jumps to the interpreter's own code for the entry closure: the
 * program still starts from the restored heap, without parsing, and its
 * output is the same; the summary reports it as a bailout with the reason.
 */
#define _GNU_SOURCE
#include "analyzer/an_store.h"
#include "analyzer/analyzer.h"
#include "cmd/cli.h"
#include "lifter/codegen/lift_aot.h"
#include "snapshot/runtime/rt_internal.h"
#include "snapshot/snap_dump.h"
#include "snapshot/snap_image.h"
#include "snapshot/snap_image_memmap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct snap_opts {
    const char *script, *out, *interp, *db;
    int opt_level, quiet, jobs;
    double timeout;
    char interp_buf[PATH_MAX];
};

struct snap_times { double analyze, run, lift, link, write; int cached; };

static void snap_usage(FILE *f)
{
    fprintf(f, "usage: lineiform snapshot SCRIPT -o IMAGE [--interp BIN] [--db PATH] [-O0|-O1|-O2|-O3] [-j N]\n"
               "                          [--timeout SECONDS] [-q]\n\n"
               "Runs the interpreter on SCRIPT up to its snapshot point (lf_snapshot), lifts\n"
               "and optimizes the entry closure with the frozen heap as constants, and writes\n"
               "IMAGE, which 'lineiform run IMAGE' runs.\n\n"
               "  -o IMAGE      the image to write (atomically; nothing on failure)\n"
               "  --interp BIN  the interpreter, with a GNU build-id (default: the bundled\n"
               "                Lua interpreter for a .lua SCRIPT, else the bundled Scheme\n"
               "                interpreter)\n"
               "  --db PATH     metadata database the interpreter is analyzed into unless it\n"
               "                holds this build already (default $LINEIFORM_DB, else\n"
               "                $XDG_CACHE_HOME/lineiform/metadata.db)\n"
               "  -O0..-O3      optimization level (default -O2: lineiform's LLVM pipeline;\n"
               "                -O1, -O3: LLVM's default<O1>, default<O3>; -O0: none)\n"
               "  -j N          code generation threads (default: one per processor, at most\n"
               "                %d; a large module is split into that many objects, and the\n"
               "                image's layout depends on the split: -j 1 for the same image\n"
               "                on every machine)\n"
               "  --timeout S   stop the interpreter if it has not reached its snapshot point\n"
               "                after S seconds (default: no limit)\n"
               "  -q            no summary\n", LIFT_AOT_MAX_OBJS);
}

/* The bundled interpreter for SCRIPT: the Lua one for a .lua script, else
 * the Scheme one; <dir of lineiform-snapshot>/bin/NAME in the build tree;
 * when installed, lineiform-snapshot and the interpreters are all in
 * <prefix>/libexec/lineiform/. */
static const char *snap_default_interp(const char *script, char *buf, size_t len)
{
    static const char *const lisp[] = { "bin/lisp", "lisp", "../libexec/lineiform/lisp", NULL };
    static const char *const lua[] = { "bin/lua", "lua", "../libexec/lineiform/lua", NULL };
    size_t n = strlen(script);
    int is_lua = n > 4 && !strcmp(script + n - 4, ".lua");
    return cli_find_beside_self(is_lua ? lua : lisp, buf, len);
}

/* An interpreter without a GNU build-id is refused: the image records the
 * build-id, and `lineiform run` and the loader compare it with the file
 * and the running process; without one a rebuilt interpreter at the same
 * path would run the old image's code against new addresses.  A file that
 * is not ELF (a wrapper script) is let through here; its process's own
 * build-id is checked in the heap dump. */
static int snap_check_build_id(const char *interp)
{
    int fd = open(interp, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    uint8_t id[RT_SELF_BUILD_ID_MAX];
    long n = fd >= 0 ? rt_file_build_id(fd, id, sizeof id) : -1;
    if (fd >= 0) close(fd);
    if (n != 0) return 0;
    cli_error("snapshot: %s has no GNU build-id, so an image could not tell it from a rebuilt one; "
              "link it with -Wl,--build-id", interp);
    return -1;
}

static int snap_parse_args(int argc, char **argv, struct snap_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return snap_usage(stdout), -1;
        if ((!strcmp(a, "-o") || !strcmp(a, "--interp") || !strcmp(a, "--db") || !strcmp(a, "-j") ||
             !strcmp(a, "--timeout")) && i + 1 >= argc) {
            cli_error("snapshot: %s needs an argument", a);
            return CLI_EXIT_USAGE;
        }
        if (!strcmp(a, "-o")) o->out = argv[++i];
        else if (!strcmp(a, "--interp")) o->interp = argv[++i];
        else if (!strcmp(a, "--db")) o->db = argv[++i];
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        else if (!strcmp(a, "--timeout")) {
            const char *v = argv[++i];
            char *end;
            double t = strtod(v, &end);
            if (*end || end == v || !(t > 0) || t > 1e9) {
                cli_error("snapshot: --timeout wants a positive number of seconds, not '%s'", v);
                return CLI_EXIT_USAGE;
            }
            o->timeout = t;
        }
        else if (!strncmp(a, "-j", 2)) {     /* -j N or -jN */
            const char *v = a[2] ? a + 2 : argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || end == v || n < 1 || n > LIFT_AOT_MAX_OBJS) {
                cli_error("snapshot: -j wants a thread count from 1 to %d, not '%s'", LIFT_AOT_MAX_OBJS, v);
                return CLI_EXIT_USAGE;
            }
            o->jobs = (int)n;
        }
        else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) o->opt_level = a[2] - '0';
        else if (a[0] == '-' && a[1]) {
            cli_error("snapshot: unknown option '%s' (try 'lineiform snapshot --help')", a);
            return CLI_EXIT_USAGE;
        } else if (!o->script) o->script = a;
        else {
            cli_error("snapshot: more than one script ('%s', '%s')", o->script, a);
            return CLI_EXIT_USAGE;
        }
    }
    if (!o->script || !o->out) {
        cli_error("snapshot: %s (try 'lineiform snapshot --help')", !o->script ? "no SCRIPT" : "no -o IMAGE");
        return CLI_EXIT_USAGE;
    }
    if (!o->interp && !(o->interp = snap_default_interp(o->script, o->interp_buf, sizeof o->interp_buf))) {
        cli_error("snapshot: no bundled interpreter next to lineiform; name one with --interp BIN");
        return CLI_EXIT_USAGE;
    }
    if (access(o->interp, X_OK) != 0) {
        cli_error("snapshot: %s: cannot be run: %s", o->interp, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (snap_check_build_id(o->interp) != 0) return CLI_EXIT_USAGE;
    if (access(o->script, R_OK) != 0) {
        cli_error("snapshot: %s: %s", o->script, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    char dir[PATH_MAX];
    const char *slash = strrchr(o->out, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - o->out) + 1 : 1, slash ? o->out : ".");
    if (access(dir, W_OK) != 0) { /* fail before the work, not after it */
        cli_error("snapshot: %s: cannot write in %s: %s", o->out, dir, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* Analyze the interpreter into the database unless it is stored with the
 * same build-id and content hash (the cache `lineiform analyze` uses). */
static int snap_analyze(const struct snap_opts *o, struct snap_times *t)
{
    char abspath[PATH_MAX], err[1024], dbbuf[4096];
    struct an_binary *id = NULL, *b = NULL;
    struct an_db *db = NULL;
    struct an_db_summary sum;
    int rc = CLI_EXIT_FAIL;
    double t0 = cli_now_ms();
    if (!realpath(o->interp, abspath)) {
        cli_error("snapshot: %s: %s", o->interp, strerror(errno));
        return rc;
    }
    const char *dbpath = cli_db_path(o->db, 1, dbbuf, sizeof dbbuf);
    if (!dbpath) return rc;
    if (an_open(abspath, AN_OPEN_IDENTIFY, &id, err, sizeof err) != LF_OK ||
        an_db_open(dbpath, 0, &db, err, sizeof err) != LF_OK) {
        cli_error("snapshot: analyze: %s", err);
        goto out;
    }
    int hit = an_db_lookup(db, abspath, id->build_id, id->content_hash, &sum, err, sizeof err);
    if (hit < 0 || (!hit && (an_open(abspath, 0, &b, err, sizeof err) != LF_OK ||
                             an_db_store(db, abspath, b, cli_now_ms() - t0, err, sizeof err) != LF_OK))) {
        cli_error("snapshot: analyze: %s", err);
        goto out;
    }
    t->cached = hit;
    rc = 0;
out:
    t->analyze = cli_now_ms() - t0;
    an_db_close(db);
    an_close(b);
    an_close(id);
    return rc;
}

/* The environment of the interpreter: snapshot mode, the dump descriptor
 * (inherited: its close-on-exec flag is cleared here, in the child). */
static void snap_child_env(void *ctx)
{
    int fd = *(const int *)ctx;
    char v[16];
    snprintf(v, sizeof v, "%d", fd);
    fcntl(fd, F_SETFD, 0);
    setenv(RT_ENV_MODE, "snapshot", 1);
    setenv(RT_ENV_DUMP_FD, v, 1);
    unsetenv(RT_ENV_DUMP);
    unsetenv(RT_ENV_IMAGE);
    unsetenv(RT_ENV_REEXEC);
    int pers = personality(0xffffffff); /* inherited: lf_init need not re-exec */
    if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE)) personality((unsigned long)pers | ADDR_NO_RANDOMIZE);
}

/* Run BIN SCRIPT in snapshot mode; 0 when the dump was written to dump_fd. */
static int snap_run_interp(const struct snap_opts *o, int dump_fd)
{
    char *args[] = { (char *)o->interp, (char *)o->script, NULL };
    if (cli_child_start(args, snap_child_env, &dump_fd) < 0) {
        cli_error("snapshot: fork: %s", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    int st = 0, expired = 0;
    if (cli_child_wait(o->timeout, &st, &expired) != 0) {
        cli_error("snapshot: waiting for %s: %s", o->interp, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (expired) {
        cli_error("snapshot: %s did not reach its snapshot point within %g s (--timeout); stopped it, "
                  "no image written", o->script, o->timeout);
        return CLI_EXIT_FAIL;
    }
    if (WIFSIGNALED(st)) {
        cli_error("snapshot: %s was killed by signal %d (%s) before the snapshot point", o->interp,
                  WTERMSIG(st), strsignal(WTERMSIG(st)));
        return CLI_EXIT_FAIL;
    }
    if (WEXITSTATUS(st) != 0) {
        cli_error("snapshot: %s failed before the snapshot point (exit status %d); no image written",
                  o->script, WEXITSTATUS(st));
        return CLI_EXIT_FAIL;
    }
    struct stat sb;
    if (fstat(dump_fd, &sb) != 0 || sb.st_size == 0) {
        cli_error("snapshot: %s ended without reaching its snapshot point (lf_snapshot); no image written",
                  o->script);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* Lift the entry closure; on a whole-entry bailout, link the native stub. */
static enum lf_status snap_compile(const struct snap_opts *o, const struct snap_dump *d,
                                   struct lift_aot_result *res, struct snap_linked *code,
                                   struct snap_times *t, char *why, size_t whylen)
{
    struct snap_interp in;
    LF_CHECK(snap_interp_open(d->interp_path, d, &in, why, whylen));
    struct lift_aot_input li = { in.maps, in.nmaps, d->interp_path, d->load_base, d->entry, o->opt_level, o->jobs };
    char lwhy[sizeof res->report.reason] = "";
    double t0 = cli_now_ms();
    enum lf_status s = lift_aot_compile(&li, res, lwhy, sizeof lwhy);
    t->lift = cli_now_ms() - t0;
    if (s != LF_OK && lwhy[0]) snprintf(res->report.reason, sizeof res->report.reason, "%s", lwhy);
    snap_interp_close(&in);
    t0 = cli_now_ms();
    if (s == LF_OK) {
        s = snap_link_objects((const uint8_t *const *)res->obj, res->obj_len, res->nobj, res->entry_sym, code,
                              why, whylen);
    } else {
        uint64_t target;
        memcpy(&target, snap_dump_ptr(d, d->entry, 8), 8);
        res->report.bailouts = res->report.bailouts ? res->report.bailouts : 1;
        s = snap_link_native(target, "entry.native", code, why, whylen);
    }
    t->link = cli_now_ms() - t0;
    return s;
}

static enum lf_status snap_write(const struct snap_opts *o, const struct snap_dump *d,
                                 const struct snap_linked *code, uint64_t *size, char *why, size_t whylen)
{
    struct snap_arena_in ar[2];
    size_t nar = 0;
    if (d->frozen.size) ar[nar++] = (struct snap_arena_in){ SNAP_SEG_FROZEN, d->frozen.addr, d->frozen.size, d->frozen.bytes };
    if (d->persistent.size)
        ar[nar++] = (struct snap_arena_in){ SNAP_SEG_PERSIST, d->persistent.addr, d->persistent.size, d->persistent.bytes };
    struct snap_frozen_obj *objs = calloc(d->nobjects ? d->nobjects : 1, sizeof *objs);
    if (!objs) return snprintf(why, whylen, "out of memory"), LF_ERR_NOMEM;
    for (size_t i = 0; i < d->nobjects; i++) snap_dump_object(d, i, &objs[i].addr, &objs[i].size);
    struct snap_image_spec sp = {
        .code = code, .arenas = ar, .narenas = nar, .frozen = objs, .nfrozen = d->nobjects,
        .interp_path = d->interp_path, .build_id = d->build_id, .build_id_len = d->build_id_len,
        .interp_load_base = d->load_base, .entry_closure = d->entry, .roots = d->roots,
    };
    enum lf_status s = snap_image_write(o->out, &sp, size, why, whylen);
    free(objs);
    return s;
}

static void snap_summary(const struct snap_opts *o, const struct snap_dump *d, const struct lift_aot_result *r,
                         const struct snap_linked *c, const struct snap_times *t, uint64_t size)
{
    const struct lf_report *rp = &r->report;
    char id[2 * RT_DUMP_MAX_BUILD_ID + 1];
    snap_dump_build_id_hex(d, id, sizeof id);
    printf("lineiform snapshot: %s -> %s (%llu bytes)\n", o->script, o->out, (unsigned long long)size);
    printf("  interpreter      %s (build-id %s, load base 0x%llx)\n", d->interp_path, id[0] ? id : "none",
           (unsigned long long)d->load_base);
    printf("  heap             frozen %llu KiB (%zu objects), persistent %llu KiB\n",
           (unsigned long long)d->frozen.size / 1024, d->nobjects, (unsigned long long)d->persistent.size / 1024);
    printf("  specializations  %u   inlined calls %u   native calls %u   bailouts %u\n", rp->specializations,
           rp->inlined, rp->native_calls, rp->bailouts);
    if (rp->reason[0]) printf("  bailout reason   %s\n", rp->reason);
    /* What stays interpreted, first and loud: a program that runs mostly
     * in the interpreter must show it here. */
    printf("  interpreted      %u calls into the interpreter's code not resolved, %u of them guard fallbacks%s\n",
           rp->interp_calls, rp->interp_guarded, rp->interp_calls ? " (run-time count: lineiform run --stats)" : "");
    for (int k = 0; k < LF_REPORT_SITES && rp->interp_top[k].sites; k++) {
        const struct lf_interp_site *is = &rp->interp_top[k];
        printf("    %4u  in %s%s0x%llx (node 0x%llx, e.g. at 0x%llx): %s\n", is->sites, is->fn_name,
               is->fn_name[0] ? "@" : "", (unsigned long long)is->fn, (unsigned long long)is->node,
               (unsigned long long)is->site, is->why);
    }
    printf("  frame accesses   %u in registers, %u in memory (reachable by escaped pointers)\n",
           rp->frame_private, rp->frame_shared);
    printf("  frame windows    %u calls pass an argument frame's words, not its address\n", rp->windows);
    printf("  kept calls       %u calls not inlined: the callee's stack area has a run-time size\n", rp->kept_calls);
    printf("  fast exits       %u functions return early at their calls, without a call\n", rp->fast_exits);
    printf("  results          %u call results are the caller's own argument, returned unchanged\n",
           rp->returns_forwarded);
    printf("  recursion        %u recursive functions save no registers at entry; their callers keep what lives across\n",
           rp->recursion_cc);
    printf("  tag tests        %u paths skip a marker compare their fixnum test decides\n", rp->tag_threaded);
    printf("  unrolled         %u recursive specializations inline their first call of themselves\n", rp->unrolled);
    printf("  lift budget      %u specializations or calls run interpreted: the budget (%ld lifted blocks, "
           "%d specializations) ran out\n", rp->budget_calls, LIFT_BUDGET_BLOCKS, LIFT_BUDGET_JOBS);
    printf("  eh native        %u calls kept native: the callee has landing pads (catch, cleanup)\n", rp->eh_native);
    if (!r->nobj) printf("  entry            not compiled: the image runs the interpreter's own code\n");
    printf("  code             %llu bytes, %zu functions, %zu imports", (unsigned long long)c->code_bytes,
           c->nsyms - c->nimports, c->nimports);
    for (size_t i = 0; i < c->nimports; i++) printf("%s%s", i ? ", " : " (", c->imports[i].name);
    printf("%s\n", c->nimports ? ")" : "");
    char threads[48] = "";
    if (r->nobj > 1) snprintf(threads, sizeof threads, " on %zu threads", r->nobj);
    printf("  time (ms)        analyze %.1f%s  run %.1f  lift %.1f (opt %.1f, codegen %.1f%s)  link %.1f  write %.1f\n",
           t->analyze, t->cached ? " (cached)" : "", t->run, t->lift, rp->ms_opt, rp->ms_codegen, threads, t->link,
           t->write);
}

/* Everything after the dump exists: read, compile, link, write. */
static int snap_build(const struct snap_opts *o, int dump_fd, struct snap_times *t)
{
    struct snap_dump d;
    struct lift_aot_result res;
    struct snap_linked code;
    char why[512];
    uint64_t size = 0;
    memset(&res, 0, sizeof res);
    memset(&code, 0, sizeof code);
    if (snap_dump_read_fd(dump_fd, "heap dump", &d, why, sizeof why) != LF_OK) {
        cli_error("snapshot: heap dump: %s", why);
        return CLI_EXIT_FAIL;
    }
    if (d.build_id_len == 0) {
        cli_error("snapshot: %s has no GNU build-id, so an image could not tell it from a rebuilt one; "
                  "link it with -Wl,--build-id", d.interp_path);
        snap_dump_free(&d);
        return CLI_EXIT_USAGE;
    }
    enum lf_status s = snap_compile(o, &d, &res, &code, t, why, sizeof why);
    double t0 = cli_now_ms();
    if (s == LF_OK) s = snap_write(o, &d, &code, &size, why, sizeof why);
    t->write = cli_now_ms() - t0;
    if (s == LF_OK && !o->quiet) snap_summary(o, &d, &res, &code, t, size);
    if (s != LF_OK) cli_error("snapshot: %s", why);
    snap_linked_free(&code);
    lift_aot_result_free(&res);
    snap_dump_free(&d);
    return s == LF_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* Interrupted: the interpreter goes, and a named image temporary. */
static void snap_on_signal(int sig)
{
    cli_child_kill();
    snap_image_abandon();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* An unnamed file for the heap dump in $TMPDIR (else /tmp): nothing to
 * remove afterwards, whatever ends the process.  Where the file system
 * lacks O_TMPFILE, a named one is unlinked at once. */
static int snap_dump_file(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], path[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s", tmp && *tmp ? tmp : "/tmp");
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) {
        if (fd < 0) cli_error("snapshot: %s: cannot create the heap dump's temporary file: %s", dir, strerror(errno));
        return fd;
    }
    snprintf(path, sizeof path, "%s/lineiform-dump.XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) cli_error("snapshot: %s: cannot create the heap dump's temporary file: %s", dir, strerror(errno));
    else unlink(path);
    return fd;
}

int cli_snapshot(int argc, char **argv)
{
    struct snap_opts o = { .opt_level = 2 };
    int rc = snap_parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    struct snap_times t = { 0 };
    if ((rc = snap_analyze(&o, &t)) != 0) return rc;
    int dump = snap_dump_file();
    if (dump < 0) return CLI_EXIT_FAIL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = snap_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    double t0 = cli_now_ms();
    rc = snap_run_interp(&o, dump);
    t.run = cli_now_ms() - t0;
    if (rc == 0) rc = snap_build(&o, dump, &t);
    close(dump);
    return rc;
}
