/* probe.c -- a minimal closure interpreter that looks at its own process,
 * for the hardening tests (tests/test_snapshot_trust.c, test_cli_signals.c).
 * Built by the tests with cc against liblineiform-rt.a only, as an outside
 * author would.
 *
 * Script (one word):
 *   N      sum 1..N through a frozen closure tree: a loop closure calling a
 *          frozen leaf; prints "sum N = S", exit status S % 7.
 *   loop   writes its pid to $PROBE_PIDFILE and spins forever before the
 *          snapshot point (for --timeout and the signal tests).
 *   fail   "probe: SCRIPT:1:1: syntax error", exit 1.
 *
 * In image mode, with PROBE_CHECK=1, before running the program it prints
 * one line about the frozen arena as seen from inside the process:
 *   "frozen: maps W fds F pwrite P mprotect M poke K"
 * W writable mappings of the arena's memfd in /proc/self/maps, F open
 * descriptors of it that allow writing (/proc/self/fdinfo flags), P pwrites
 * through any descriptor of it that succeeded, M whether mprotect made the
 * entry closure's page writable, K whether the entry closure's first field
 * still holds its frozen value.  A sealed arena prints 0 0 0 0 1. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <dirent.h>

#include "lineiform.h"

#ifdef REBUILT
__attribute__((used)) static const char rebuilt[] = "rebuilt";
#endif

struct node { long (*code)(const struct node *, long); const struct node *a; long k; };

static long c_leaf(const struct node *n, long x) { return x * n->k; }
static long c_sum(const struct node *n, long x)
{
    long s = 0;
    for (long i = 1; i <= x; i++) s += n->a->code(n->a, i);
    return s;
}

static const struct node *mk(long (*code)(const struct node *, long), const struct node *a, long k)
{
    struct node t = { code, a, k };
    const struct node *n = lf_freeze(&t, sizeof t);
    if (!n) {
        fprintf(stderr, "probe: frozen arena exhausted\n");
        exit(1);
    }
    return n;
}

static int is_frozen_memfd(const char *target) { return strstr(target, "lineiform-frozen") != NULL; }

static void check_frozen(const struct node *entry)
{
    int maps = 0, fds = 0, pw = 0, mp = 0;
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f)) {
        char perms[8] = "";
        if (sscanf(line, "%*s %7s", perms) == 1 && strchr(perms, 'w') && is_frozen_memfd(line)) maps++;
    }
    if (f) fclose(f);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], target[512];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = 0;
        if (!is_frozen_memfd(target)) continue;
        int fd = atoi(e->d_name);
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0 && (fl & O_ACCMODE) != O_RDONLY) fds++;
        char byte = 'X';
        if (pwrite(fd, &byte, 1, 0) == 1) pw++;
        /* a descriptor reopened for writing through /proc, as an attacker would */
        int w = open(path, O_WRONLY);
        if (w >= 0) {
            if (pwrite(w, &byte, 1, 0) == 1) pw++;
            close(w);
        }
    }
    if (d) closedir(d);
    long pg = sysconf(_SC_PAGESIZE);
    void *page = (void *)((unsigned long)entry & ~(unsigned long)(pg - 1));
    if (mprotect(page, (size_t)pg, PROT_READ | PROT_WRITE) == 0) mp = 1;
    printf("frozen: maps %d fds %d pwrite %d mprotect %d poke %d\n", maps, fds, pw, mp,
           entry->code == c_sum && entry->a->code == c_leaf);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    lf_init(&argc, &argv);
    if (lf_mode() == LF_MODE_IMAGE) {
        void *code, *entry, *roots;
        if (lf_image(&code, &entry, &roots) != LF_OK) return 3;
        const char *chk = getenv("PROBE_CHECK");
        if (chk && !strcmp(chk, "1")) check_frozen(entry);
        long n = *(long *)roots;
        long v = ((long (*)(const void *, long))code)(entry, n);
        printf("sum %ld = %ld\n", n, v);
        return (int)(v % 7);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: probe SCRIPT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    char word[32] = "";
    if (!f || fscanf(f, "%31s", word) != 1) {
        fprintf(stderr, "probe: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    if (!strcmp(word, "fail")) {
        fprintf(stderr, "probe: %s:1:1: syntax error\n", argv[1]);
        return 1;
    }
    if (!strcmp(word, "loop")) {
        const char *pf = getenv("PROBE_PIDFILE");
        FILE *p = pf ? fopen(pf, "w") : NULL;
        if (p) {
            fprintf(p, "%ld\n", (long)getpid());
            fclose(p);
        }
        for (volatile int spin = 1; spin;) {}
    }
    long *root = lf_alloc(sizeof *root);
    if (!root) {
        fprintf(stderr, "probe: persistent arena exhausted\n");
        return 1;
    }
    *root = atol(word);
    const struct node *entry = mk(c_sum, mk(c_leaf, NULL, 3), 0);
    lf_snapshot((void *)entry, root);
    long v = entry->code(entry, *root);
    printf("sum %ld = %ld\n", *root, v);
    return (int)(v % 7);
}
