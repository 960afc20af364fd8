/* main.c -- `lua FILE.lua`: compile the whole chunk to frozen closures,
 * snapshot point, run.
 *
 *   normal:   libraries -> compile -> freeze -> lf_snapshot (returns) -> run
 *   snapshot: libraries -> compile -> freeze -> lf_snapshot (dump, exit 0)
 *   image:    lf_image -> run the compiled entry with the restored roots
 *
 * Exit status: 0, or os.exit's; 1 for a Lua error (message on stderr as
 * "lua: FILE:LINE: message"); 2 for a usage or file error.  The C stack
 * soft limit is raised to 1 GiB (re-executing once) so that deep recursion
 * works; running past it is a "stack overflow" error, not a crash.
 */
#include "lua.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lineiform.h"

#define STACK_WANT ((rlim_t)1 << 30)
#define STACK_MARGIN ((size_t)1 << 20)

static void raise_stack(char **argv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) != 0 || getenv("LUA_STACK_RAISED")) return;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= STACK_WANT) return;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > STACK_WANT ? STACK_WANT : rl.rlim_max;
    if (want <= rl.rlim_cur) return;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_STACK, &rl) != 0) return;
    setenv("LUA_STACK_RAISED", "1", 1);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        execv(self, argv);
    }
}

static void set_stack_limit(char *top)
{
    struct rlimit rl;
    size_t size = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0)
        size = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > STACK_WANT ? STACK_WANT : rl.rlim_cur;
    size_t reserve = size >= 4 * STACK_MARGIN ? STACK_MARGIN : size / 4;
    stack_limit = top - size + reserve;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "lua: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 16, n = 0, k;
    char *b = malloc(cap);
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0)
        if ((n += k) == cap) b = realloc(b, cap *= 2);
    if (!b || ferror(f)) {
        fprintf(stderr, "lua: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = n;
    return b;
}

typedef value (*entry_code)(const void *, struct frame *);

int main(int argc, char **argv)
{
    char top;
    raise_stack(argv);
    enum lf_mode mode = lf_init(&argc, &argv);
    gc_init();
    set_stack_limit(&top);
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (mode == LF_MODE_IMAGE) {
        void *code, *entry, *roots;
        enum lf_status s = lf_image(&code, &entry, &roots);
        if (s != LF_OK) {
            fprintf(stderr, "lua: cannot run the image: %s\n", lf_status_str(s));
            return 2;
        }
        R = roots;
        running = 1;
        ((entry_code)code)(entry, NULL);
        lexit(0);
    }
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: lua FILE.lua\nRuns a Lua 5.4 program (a subset: see testdata/lua/README.md).\n");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: lua FILE.lua\n");
        return 2;
    }
    size_t len;
    char *src = slurp(argv[1], &len);
    R = lf_alloc(sizeof *R);
    if (!R) {
        fprintf(stderr, "lua: cannot allocate persistent memory\n");
        return 2;
    }
    R->file = lalloc_atomic(strlen(argv[1]) + 1);
    strcpy((char *)R->file, argv[1]);
    lib_init();
    struct table *arg = newtable(0, 2);     /* arg[0]: the script, as lua5.4 sets it */
    tset(arg, intv(0), mkcstr(argv[1]), 0);
    tset(R->G, mkcstr("arg"), (value)(uintptr_t)arg, 0);
    const void *entry = compile_chunk(src, len);
    free(src);
    running = 1;
    lf_snapshot((void *)entry, R);
    ((entry_code)*(void *const *)entry)(entry, NULL);
    lexit(0);
}
