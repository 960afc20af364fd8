/* cli_run.c -- `lineiform run IMAGE [ARGS...]`: start the interpreter the
 * image was made for, in image mode.
 *
 * The image is validated here first (the same rt_image_parse the loader
 * runs), so a damaged image is refused before anything starts, and so is
 * an image whose interpreter path now holds another file: the file's GNU
 * build-id must be the one the image records (an image without one is
 * refused), and the file checked is the file started (fexecve on the
 * descriptor that was read, so it cannot be swapped in between).  Then this
 * process becomes the interpreter (no fork): its output, exit status
 * and signals are the program's own, exactly as `BIN SCRIPT` would give.
 * The interpreter's lf_init re-executes itself without address
 * randomization, maps the image (snapshot/runtime/rt_image.c) and checks
 * the build-id and load base; it exits 2 with a one-line reason if not.
 *
 * The interpreter sees argv = { BIN, IMAGE, ARGS... }: the image stands in
 * the place of the script.  Address randomization is turned off here, before
 * the execv (the personality is inherited), which spares lf_init its own
 * re-exec.
 */
#include "cmd/cli.h"
#include "snapshot/runtime/rt_internal.h"
#include "snapshot/snap_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

extern char **environ;

static void cli_run_usage(FILE *f)
{
    fprintf(f, "usage: lineiform run [--stats] IMAGE [ARGS...]\n\n"
               "Run an image made by 'lineiform snapshot': starts the interpreter recorded\n"
               "in it, which maps the image and calls its compiled entry.  Output and exit\n"
               "status are those of running the script with the interpreter.\n"
               "--stats: at exit, print to stderr how many calls the compiled code made\n"
               "into the interpreter's own code (LINEIFORM_STATS=1 does the same).\n"
               "A damaged image, or one made for another interpreter build: exit status 2.\n");
}

static void cli_hex(char *out, size_t cap, const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i < n && 2 * i + 2 < cap; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
    out[2 * i] = 0;
}

/* Open the interpreter the image names and check its build-id; the open
 * descriptor (close-on-exec) is what gets executed.  -1 after a message. */
static int cli_run_check_interp(const char *img, const struct snap_image_info *info, const char *interp)
{
    const struct snap_note_hdr *h = info->hdr;
    if (h->build_id_len == 0) {
        cli_error("run: %s: the image records no interpreter build-id, so it cannot be checked; "
                  "make it again with 'lineiform snapshot'", img);
        return -1;
    }
    int fd = open(interp, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || access(interp, X_OK) != 0) {
        cli_error("run: %s: its interpreter %s cannot be run: %s", img, interp, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    uint8_t id[RT_SELF_BUILD_ID_MAX];
    char want[2 * SNAP_MAX_BUILD_ID + 1], have[2 * RT_SELF_BUILD_ID_MAX + 1];
    long n = rt_file_build_id(fd, id, sizeof id);
    cli_hex(want, sizeof want, h->build_id, h->build_id_len);
    cli_hex(have, sizeof have, id, n > 0 ? (size_t)n : 0);
    if (n != (long)h->build_id_len || memcmp(id, h->build_id, h->build_id_len) != 0) {
        cli_error("run: %s: made for %s with build-id %s, but that file now %s%s (rebuilt? make the image "
                  "again)", img, interp, want, n < 0 ? "is not an ELF executable" : n == 0 ? "has no build-id"
                  : "has build-id ", n > 0 ? have : "");
        close(fd);
        return -1;
    }
    return fd;
}

int cli_run(int argc, char **argv)
{
    if (argc < 2) {
        cli_run_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        cli_run_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--stats") && argc > 2) {   /* counted by the image, printed at exit */
        setenv("LINEIFORM_STATS", "1", 1);
        argv++, argc--;
    }
    const char *img = argv[1];
    if (!strcmp(img, "--") && argc > 2) img = argv[2], argv++, argc--;
    struct snap_image_file f;
    char why[512], abs[PATH_MAX], interp[PATH_MAX];
    if (snap_image_read(img, &f, why, sizeof why) != LF_OK) {
        cli_error("run: %s", why);
        return CLI_EXIT_USAGE;
    }
    snprintf(interp, sizeof interp, "%s", f.info.interp_path);
    int fd = cli_run_check_interp(img, &f.info, interp);
    snap_image_close(&f);
    if (fd < 0) return CLI_EXIT_USAGE;
    if (!realpath(img, abs)) {
        cli_error("run: %s: %s", img, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char **nargv = calloc((size_t)argc + 1, sizeof *nargv);
    if (!nargv || setenv(RT_ENV_MODE, "image", 1) || setenv(RT_ENV_IMAGE, abs, 1)) {
        cli_error("run: out of memory");
        return CLI_EXIT_FAIL;
    }
    unsetenv(RT_ENV_DUMP);
    unsetenv(RT_ENV_REEXEC);
    nargv[0] = interp;
    nargv[1] = abs;
    for (int i = 2; i < argc; i++) nargv[i] = argv[i];
    int pers = personality(0xffffffff);
    if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE)) personality((unsigned long)pers | ADDR_NO_RANDOMIZE);
    fflush(NULL);
    cli_default_signals();
    fexecve(fd, nargv, environ);
    cli_error("run: cannot start %s: %s", interp, strerror(errno));
    close(fd);
    free(nargv);
    return CLI_EXIT_USAGE;
}
