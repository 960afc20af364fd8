/* cli_util.c -- helpers every sub-command shares (declared in cli.h): error
 * lines, the program's own path, the database path, option values, JSON
 * strings.  Linked into both the lineiform launcher and lineiform-snapshot. */
#include "cmd/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lineiform: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *cli_self_path(void)
{
    static char buf[4096];
    if (!buf[0]) {
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0) return NULL;
        buf[n] = 0;
    }
    return buf;
}

static int cli_mkdir_p(char *dir)
{
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int r = mkdir(dir, 0755);
        *p = '/';
        if (r < 0 && errno != EEXIST) return -1;
    }
    return mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

const char *cli_db_path(const char *opt, int create_dir, char *buf, size_t len)
{
    const char *env = getenv("LINEIFORM_DB"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (opt && *opt) { snprintf(buf, len, "%s", opt); return buf; }
    if (env && *env) { snprintf(buf, len, "%s", env); return buf; }
    if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/lineiform", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/lineiform", home);
    else {
        cli_error("no database path: set LINEIFORM_DB, XDG_CACHE_HOME or HOME, or pass --db");
        return NULL;
    }
    if (create_dir && cli_mkdir_p(dir) < 0) {
        cli_error("%s: cannot create directory: %s", dir, strerror(errno));
        return NULL;
    }
    snprintf(buf, len, "%s/metadata.db", dir);
    return buf;
}

int cli_opt_value(int *i, int argc, char **argv, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (strcmp(argv[*i], name) != 0) return 0;
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

double cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *cli_find_beside_self(const char *const *rel, char *buf, size_t len)
{
    const char *self = cli_self_path();
    if (!self) return NULL;
    const char *slash = strrchr(self, '/');
    int dir = slash ? (int)(slash - self) : 0;
    for (; *rel; rel++) {
        snprintf(buf, len, "%.*s/%s", dir, self, *rel);
        if (access(buf, X_OK) == 0) return buf;
    }
    return NULL;
}

void cli_ignore_xfsz(void) { signal(SIGXFSZ, SIG_IGN); }

void cli_default_signals(void)
{
    /* An ignored signal stays ignored across exec. */
    signal(SIGXFSZ, SIG_DFL);
}
