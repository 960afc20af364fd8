/* rt_init.c -- modes: lf_init, lf_mode, lf_snapshot, lf_image.
 *
 * The lineiform CLI runs the interpreter with these environment variables:
 *
 *   LINEIFORM_MODE=normal|snapshot|image   absent or empty means normal
 *   LINEIFORM_DUMP=path    snapshot mode: where lf_snapshot writes the dump
 *   LINEIFORM_DUMP_FD=N    snapshot mode: or into this inherited descriptor
 *                          (what the CLI passes: an unnamed file, so a
 *                          killed snapshot leaves nothing behind)
 *   LINEIFORM_IMAGE=path   image mode: the image lf_init maps
 *   LINEIFORM_REEXEC=1     set by lf_init itself around its re-exec (below)
 *   LINEIFORM_CHECK=1      snapshot mode: before writing the dump, list arena
 *                          words that point into memory an image does not
 *                          restore (rt_check.c)
 *
 * lf_init reads and then removes them, so programs the interpreter starts do
 * not inherit the mode.
 *
 * Snapshot and image modes need the interpreter at the same addresses in
 * the run that makes the dump and the run that maps the image: when address
 * randomization is on, lf_init turns it off for the process
 * (personality(ADDR_NO_RANDOMIZE)) and re-executes itself (/proc/self/exe
 * resolved) with the same argv, once (LINEIFORM_REEXEC guards against a loop).  The load base
 * is recorded in the dump either way, so a mismatch is detected, not run.
 *
 * Failures that make the requested mode impossible print one line
 * "lineiform: ..." on stderr and exit with status 2.
 */
#define _GNU_SOURCE
#include "snapshot/runtime/rt_internal.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

static enum lf_mode rt_mode = LF_MODE_NORMAL;
static int rt_inited;
static int rt_snapshot_reached;
static int rt_check_on;
static char rt_dump_path[RT_DUMP_PATH_MAX];
static int rt_dump_fd = -1;
static void *rt_img_code, *rt_img_entry, *rt_img_roots;

static void rt_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void rt_die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("lineiform: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static enum lf_mode rt_parse_mode(const char *m)
{
    if (!m || !*m || strcmp(m, "normal") == 0) return LF_MODE_NORMAL;
    if (strcmp(m, "snapshot") == 0) return LF_MODE_SNAPSHOT;
    if (strcmp(m, "image") == 0) return LF_MODE_IMAGE;
    rt_die("%s=%s: unknown mode (normal, snapshot, image)", RT_ENV_MODE, m);
}

/* Re-exec once with address randomization off; returns if not needed or
 * not possible (the dump's recorded load base then tells the truth). */
static void rt_pin_addresses(char **argv)
{
    int pers = personality(0xffffffff);
    if (pers == -1 || (pers & ADDR_NO_RANDOMIZE) || !argv || !argv[0]) return;
    if (getenv(RT_ENV_REEXEC)) return; /* already tried: personality did not stick */
    if (personality((unsigned long)pers | ADDR_NO_RANDOMIZE) == -1) return;
    setenv(RT_ENV_REEXEC, "1", 1);
    fflush(NULL);
    /* The resolved path first: under valgrind /proc/self/exe is the tool,
     * while readlink gives the interpreter (which then runs natively unless
     * --trace-children=yes).  /proc/self/exe when the file is gone. */
    char self[RT_DUMP_PATH_MAX];
    if (rt_self_path(self, sizeof self) == 0) execv(self, argv);
    execv("/proc/self/exe", argv);
    personality((unsigned long)pers);
    unsetenv(RT_ENV_REEXEC);
}

/* A program that fails has said why already; one that succeeds without
 * reaching the snapshot point would otherwise leave no trace. */
static void rt_snapshot_missed(int status, void *arg)
{
    (void)arg;
    if (status == 0 && rt_mode == LF_MODE_SNAPSHOT && !rt_snapshot_reached)
        fprintf(stderr, "lineiform: snapshot: the program ended before reaching lf_snapshot\n");
}

/* LINEIFORM_DUMP_FD=N: an inherited descriptor open for writing; it is
 * made close-on-exec so that programs the interpreter starts do not get it. */
static int rt_dump_fd_env(void)
{
    const char *v = getenv(RT_ENV_DUMP_FD);
    if (!v || !*v) return -1;
    char *end;
    long fd = strtol(v, &end, 10);
    int fl = *end || fd < 0 || fd > 1 << 20 ? -1 : fcntl((int)fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
        rt_die("%s=%s: not a descriptor open for writing", RT_ENV_DUMP_FD, v);
    fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    return (int)fd;
}

static void rt_init_snapshot(void)
{
    const char *check = getenv(RT_ENV_CHECK);
    rt_check_on = check && strcmp(check, "1") == 0;
    on_exit(rt_snapshot_missed, NULL);
    if ((rt_dump_fd = rt_dump_fd_env()) >= 0) {
        snprintf(rt_dump_path, sizeof rt_dump_path, "the heap dump (descriptor %d)", rt_dump_fd);
        return;
    }
    const char *p = getenv(RT_ENV_DUMP);
    if (!p || !*p) rt_die("snapshot mode needs %s (the heap dump path)", RT_ENV_DUMP);
    if (strlen(p) >= sizeof rt_dump_path) rt_die("%s: path too long", RT_ENV_DUMP);
    strcpy(rt_dump_path, p);
}

static void rt_init_image(void)
{
    char why[512];
    const char *p = getenv(RT_ENV_IMAGE);
    if (!p || !*p) rt_die("image mode needs %s (the image path)", RT_ENV_IMAGE);
    enum lf_status s = rt_image_load(p, &rt_img_code, &rt_img_entry, &rt_img_roots, why, sizeof why);
    if (s != LF_OK) rt_die("%s", why[0] ? why : lf_status_str(s));
}

enum lf_mode lf_init(int *argc, char ***argv)
{
    (void)argc; /* no runtime-private arguments (yet) */
    if (rt_inited) return rt_mode;
    rt_inited = 1;
    enum lf_mode mode = rt_parse_mode(getenv(RT_ENV_MODE));
    if (mode != LF_MODE_NORMAL) rt_pin_addresses(argv ? *argv : NULL);
    enum lf_status s = rt_arena_reserve(mode != LF_MODE_NORMAL);
    if (s != LF_OK && mode != LF_MODE_NORMAL)
        rt_die("cannot reserve the arenas at 0x%llx and 0x%llx: %s",
               (unsigned long long)RT_FROZEN_BASE, (unsigned long long)RT_PERSIST_BASE,
               lf_status_str(s));
    rt_fault_install();
    rt_mode = mode;
    if (mode == LF_MODE_SNAPSHOT) rt_init_snapshot();
    if (mode == LF_MODE_IMAGE) rt_init_image();
    unsetenv(RT_ENV_MODE);
    unsetenv(RT_ENV_DUMP);
    unsetenv(RT_ENV_DUMP_FD);
    unsetenv(RT_ENV_IMAGE);
    unsetenv(RT_ENV_REEXEC);
    unsetenv(RT_ENV_CHECK);
    return rt_mode;
}

enum lf_mode lf_mode(void) { return rt_mode; }

static int rt_inside(enum rt_arena_kind k, const void *p, size_t n)
{
    uint64_t base = rt_arena_base(k), x = (uint64_t)p;
    return base && x >= base && x - base <= rt_arena_used(k) && rt_arena_used(k) - (x - base) >= n;
}

void lf_snapshot(void *entry, void *roots)
{
    char why[512];
    if (rt_mode != LF_MODE_SNAPSHOT) return;
    rt_snapshot_reached = 1;
    if (!lf_is_frozen(entry) || !rt_inside(RT_ARENA_FROZEN, entry, sizeof(void *)))
        rt_die("snapshot: entry %p is not a frozen closure (lf_freeze it)", entry);
    if (roots && !rt_inside(RT_ARENA_PERSISTENT, roots, 1))
        rt_die("snapshot: roots %p is not in the persistent arena (lf_alloc it)", roots);
    if (rt_check_on) rt_check_pointers();
    rt_arena_seal();
    enum lf_status s = rt_dump_fd >= 0 ? rt_dump_write_fd(rt_dump_fd, rt_dump_path, entry, roots, why, sizeof why)
                                        : rt_dump_write(rt_dump_path, entry, roots, why, sizeof why);
    if (s != LF_OK) rt_die("snapshot: %s", why);
    fflush(NULL);
    exit(0);
}

enum lf_status lf_image(void **code, void **entry, void **roots)
{
    if (rt_mode != LF_MODE_IMAGE) return LF_ERR_STATE;
    if (!code || !entry || !roots) return LF_ERR_INVALID_ARG;
    *code = rt_img_code;
    *entry = rt_img_entry;
    *roots = rt_img_roots;
    return LF_OK;
}
