/* test_cli_signals.c -- `lineiform snapshot` ends cleanly however it ends:
 *   - --timeout stops a script that never reaches its snapshot point (one
 *     line, status 1, the interpreter gone, no image);
 *   - SIGTERM, SIGINT, SIGHUP or SIGKILL to lineiform-snapshot takes the
 *     interpreter it started along (it used to be orphaned, 4 of 4);
 *   - kill -9 at any moment leaves no temporary file or directory (the heap
 *     dump has no name, the image none until complete), and a named image
 *     temporary left by a killed writer is removed by the next snapshot of
 *     the same image, unless a live writer holds it.
 * Run on testdata/probe, whose script "loop" writes its pid to
 * $PROBE_PIDFILE and spins before the snapshot point. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/tutil.h"
#include "tests/tutil_probe.h"

static char lineiform[4096];

static int setup(void **state)
{
    (void)state;
    snprintf(lineiform, sizeof lineiform, "%s", tu_build("lineiform"));
    return access(lineiform, X_OK);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Running, not a zombie waiting for a parent that is gone. */
static int alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* Start `lineiform snapshot` with TMPDIR and PROBE_PIDFILE; output to
 * /dev/null.  Returns its pid (lineiform execs lineiform-snapshot in place). */
static pid_t start_snapshot(const char *probe, const char *scr, const char *img, const char *tmpdir,
                            const char *pidfile)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        dup2(dn, 0);
        dup2(dn, 1);
        dup2(dn, 2);
        setenv("TMPDIR", tmpdir, 1);
        if (pidfile) setenv("PROBE_PIDFILE", pidfile, 1);
        execl(lineiform, lineiform, "snapshot", "-q", "--db", tu_fmt("%s/meta.db", tu_tmpdir()), "--interp", probe,
              scr, "-o", img, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t read_pid(const char *pidfile, int wait_ms)
{
    for (int t = 0; t < wait_ms; t += 10) {
        char *s = tu_read_file(pidfile, NULL);
        long p = s ? atol(s) : 0;
        free(s);
        if (p > 0) return (pid_t)p;
        sleep_ms(10);
    }
    return 0;
}

static int dir_entries(const char *dir, char *names, size_t cap)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    names[0] = 0;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        strncat(names, e->d_name, cap - strlen(names) - 2);
        strncat(names, " ", cap - strlen(names) - 1);
    }
    if (d) closedir(d);
    return n;
}

static void test_timeout_stops_a_script_that_never_reaches_its_snapshot_point(void **state)
{
    (void)state;
    const char *probe = tu_probe("probe-to", "");
    char pf[1024], img[1024], *err = NULL;
    snprintf(pf, sizeof pf, "%s/to.pid", tu_tmpdir());
    snprintf(img, sizeof img, "%s/to.img", tu_tmpdir());
    time_t t0 = time(NULL);
    int rc = tu_run(tu_fmt("PROBE_PIDFILE='%s' '%s' snapshot -q --timeout 0.5 --db '%s/meta.db' --interp '%s' '%s' "
                           "-o '%s'", pf, lineiform, tu_tmpdir(), probe, tu_script("loop.txt", "loop\n"), img),
                    NULL, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "--timeout"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
    assert_true(time(NULL) - t0 < 30);
    pid_t child = read_pid(pf, 100);
    assert_true(child > 0);
    assert_false(alive(child));
    assert_int_not_equal(access(img, F_OK), 0);
    free(err);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot x -o y --timeout 0", lineiform), NULL, NULL), 2);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot x -o y --timeout abc", lineiform), NULL, NULL), 2);
}

static void test_a_signal_to_snapshot_takes_its_interpreter_along(void **state)
{
    (void)state;
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGKILL };
    const char *probe = tu_probe("probe-sig", "");
    char bin[1024], scr[1024];
    snprintf(bin, sizeof bin, "%s", probe);
    snprintf(scr, sizeof scr, "%s", tu_script("loop2.txt", "loop\n"));
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        char pf[1024], tmp[1024];
        snprintf(pf, sizeof pf, "%s/sig%zu.pid", tu_tmpdir(), i);
        snprintf(tmp, sizeof tmp, "%s/sigtmp%zu", tu_tmpdir(), i);
        assert_int_equal(tu_run(tu_fmt("mkdir -p '%s'", tmp), NULL, NULL), 0);
        pid_t snap = start_snapshot(bin, scr, tu_fmt("%s/sig%zu.img", tu_tmpdir(), i), tmp, pf);
        pid_t child = read_pid(pf, 20000);
        if (!child) fail_msg("signal %d: the interpreter never started", sigs[i]);
        kill(snap, sigs[i]);
        int st;
        assert_int_equal(waitpid(snap, &st, 0), snap);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i]);
        int waited = 0;
        while (alive(child) && waited < 3000) sleep_ms(10), waited += 10;
        if (alive(child)) {
            kill(child, SIGKILL);
            fail_msg("signal %d: the interpreter (pid %ld) outlived lineiform snapshot", sigs[i], (long)child);
        }
        char names[1024];
        if (dir_entries(tmp, names, sizeof names)) fail_msg("signal %d left in TMPDIR: %s", sigs[i], names);
    }
}

/* kill -9 at spread-out moments of a snapshot (run, lift, write): nothing
 * left in TMPDIR, and beside the image at most what the next snapshot of
 * the same image removes. */
static void test_kill_9_leaves_no_temporaries(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    const char *probe = tu_probe("probe-k9", "");
    char bin[1024], scr[1024], out[1024], tmp[1024], img[1200], names[4096];
    snprintf(bin, sizeof bin, "%s", probe);
    snprintf(scr, sizeof scr, "%s", tu_script("k9.txt", "30\n"));
    snprintf(out, sizeof out, "%s/k9out", tu_tmpdir());
    snprintf(tmp, sizeof tmp, "%s/k9tmp", tu_tmpdir());
    snprintf(img, sizeof img, "%s/k9.img", out);
    assert_int_equal(tu_run(tu_fmt("mkdir -p '%s' '%s'", out, tmp), NULL, NULL), 0);
    /* how long a whole snapshot takes here, to spread the kills over it */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t p = start_snapshot(bin, scr, img, tmp, NULL);
    int st;
    assert_int_equal(waitpid(p, &st, 0), p);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long total = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    for (int i = 0; i < 20; i++) {
        p = start_snapshot(bin, scr, img, tmp, NULL);
        sleep_ms(total * i / 20);
        kill(p, SIGKILL);
        assert_int_equal(waitpid(p, &st, 0), p);
    }
    sleep_ms(200); /* the interpreters die with their parent */
    if (dir_entries(tmp, names, sizeof names)) fail_msg("left in TMPDIR: %s", names);
    p = start_snapshot(bin, scr, img, tmp, NULL);
    assert_int_equal(waitpid(p, &st, 0), p);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(dir_entries(out, names, sizeof names), 1); /* k9.img */
    assert_string_equal(names, "k9.img ");
}

/* A writer killed between naming its temporary and the rename leaves
 * IMAGE.tmpXXXXXX: the next snapshot of IMAGE removes it, but not one a
 * live writer holds (its flock). */
static void test_next_snapshot_removes_a_dead_writers_temporary(void **state)
{
    (void)state;
    if (!tu_lift_works()) skip();
    const char *probe = tu_probe("probe-stale", "");
    char bin[1024], img[1024], dead[1100], live[1100], other[1100];
    snprintf(bin, sizeof bin, "%s", probe);
    snprintf(img, sizeof img, "%s/stale.img", tu_tmpdir());
    snprintf(dead, sizeof dead, "%s.tmpAbC123", img);
    snprintf(live, sizeof live, "%s.tmpLiVe99", img);
    snprintf(other, sizeof other, "%s/stale.imgx.tmpAbC123", tu_tmpdir());
    assert_int_equal(tu_write_file(dead, "\177ELF partial", 12), 0);
    assert_int_equal(tu_write_file(live, "\177ELF partial", 12), 0);
    assert_int_equal(tu_write_file(other, "not ours", 8), 0);
    int lf = open(live, O_RDONLY);
    assert_int_equal(flock(lf, LOCK_EX), 0);
    assert_int_equal(tu_run(tu_fmt("'%s' snapshot -q --db '%s/meta.db' --interp '%s' '%s' -o '%s'", lineiform,
                                   tu_tmpdir(), bin, tu_script("st.txt", "3\n"), img), NULL, NULL), 0);
    assert_int_equal(access(img, F_OK), 0);
    assert_int_not_equal(access(dead, F_OK), 0);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
    close(lf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_stops_a_script_that_never_reaches_its_snapshot_point),
        cmocka_unit_test(test_a_signal_to_snapshot_takes_its_interpreter_along),
        cmocka_unit_test(test_kill_9_leaves_no_temporaries),
        cmocka_unit_test(test_next_snapshot_removes_a_dead_writers_temporary),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
