/* tutil.c -- test helpers (see tutil.h). */
#include "tests/tutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LF_BUILD_DIR
#define LF_BUILD_DIR "build"
#endif
#ifndef LF_SRC_DIR
#define LF_SRC_DIR "."
#endif

const char *tu_fmt(const char *fmt, ...)
{
    static char bufs[8][4096];
    static unsigned next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

const char *tu_build(const char *rel)
{
    const char *env = getenv("LF_BUILD");
    return tu_fmt("%s/%s", env && *env ? env : LF_BUILD_DIR, rel);
}

const char *tu_src(const char *rel) { return tu_fmt("%s/%s", LF_SRC_DIR, rel); }

static char tu_tmp[256];

static void tu_rm_tmp(void)
{
    if (tu_tmp[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_tmp);
        if (system(cmd) != 0) fprintf(stderr, "tutil: could not remove %s\n", tu_tmp);
    }
}

const char *tu_tmpdir(void)
{
    if (!tu_tmp[0]) {
        snprintf(tu_tmp, sizeof tu_tmp, "/tmp/lftest.XXXXXX");
        if (!mkdtemp(tu_tmp)) { perror("mkdtemp"); exit(1); }
        atexit(tu_rm_tmp);
    }
    return tu_tmp;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(b, (cap *= 2) + 1);
            if (!nb) { free(b); b = NULL; }
            else b = nb;
        }
    }
    fclose(f);
    if (!b) return NULL;
    b[n] = 0;
    if (len) *len = n;
    return b;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

int tu_run(const char *cmd, char **out, char **err)
{
    static unsigned seq;
    const char *dir = tu_tmpdir();
    char o[320], e[320];
    snprintf(o, sizeof o, "%s/run%u.out", dir, seq);
    snprintf(e, sizeof e, "%s/run%u.err", dir, seq++);
    char *full = malloc(strlen(cmd) + 700);
    sprintf(full, "( %s ) </dev/null >'%s' 2>'%s'", cmd, o, e);
    int st = system(full);
    free(full);
    if (out) *out = tu_read_file(o, NULL);
    if (err) *err = tu_read_file(e, NULL);
    unlink(o);
    unlink(e);
    if (st == -1) return -1;
    if (WIFEXITED(st)) {
        int code = WEXITSTATUS(st);
        return code; /* sh reports a killed child as 128+signal */
    }
    return 128 + WTERMSIG(st);
}
