/* cli_child.c -- the interpreter `lineiform snapshot` starts, kept on a
 * leash: it never outlives lineiform-snapshot, and a deadline bounds it.
 *
 *   cli_child_start  fork; in the child: its own process group (unless
 *                    lineiform runs in the foreground of a terminal, where
 *                    the terminal's group already takes Ctrl-C and the
 *                    interpreter may read the terminal), PR_SET_PDEATHSIG
 *                    SIGKILL (a parent killed even by SIGKILL takes it
 *                    along), default signal dispositions, then exec
 *   cli_child_wait   waitpid, with an optional deadline (--timeout): past
 *                    it, the child's group is killed and *timed_out set
 *   cli_child_kill   SIGKILL to the child's group (or the child): for the
 *                    SIGINT/SIGTERM/SIGHUP handler; async-signal-safe
 *
 * Invariant: between cli_child_start and the end of cli_child_wait, the
 * child is reachable through cli_child_kill; after it, nothing is left of
 * it (its pid was reaped).
 */
#include "cmd/cli.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t cli_child_pid;   /* 0: none running */
static volatile int cli_child_group;   /* it leads its own process group */
static volatile sig_atomic_t cli_child_expired;

void cli_child_kill(void)
{
    pid_t p = cli_child_pid;
    if (p > 0) kill(cli_child_group ? -p : p, SIGKILL);
}

static void cli_child_alarm(int sig)
{
    (void)sig;
    cli_child_expired = 1;
    cli_child_kill();
}

pid_t cli_child_start(char *const argv[], void (*in_child)(void *), void *ctx)
{
    pid_t parent = getpid();
    int group = !(isatty(0) && tcgetpgrp(0) == getpgrp());
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (group) setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127); /* the parent died before prctl */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        cli_default_signals();
        if (in_child) in_child(ctx);
        execv(argv[0], argv);
        cli_error("snapshot: cannot start %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    if (group) setpgid(pid, pid); /* also here: no window where a kill of -pid misses */
    cli_child_group = group;
    cli_child_pid = pid;
    return pid;
}

int cli_child_wait(double timeout_s, int *status, int *timed_out)
{
    struct sigaction sa, old;
    struct itimerval it = { { 0, 0 }, { 0, 0 } };
    *timed_out = 0;
    cli_child_expired = 0;
    if (timeout_s > 0) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = cli_child_alarm; /* no SA_RESTART: waitpid returns EINTR */
        sigaction(SIGALRM, &sa, &old);
        it.it_value.tv_sec = (time_t)timeout_s;
        it.it_value.tv_usec = (suseconds_t)((timeout_s - (double)it.it_value.tv_sec) * 1e6);
        if (!it.it_value.tv_sec && !it.it_value.tv_usec) it.it_value.tv_usec = 1;
        setitimer(ITIMER_REAL, &it, NULL);
    }
    int r;
    while ((r = waitpid(cli_child_pid, status, 0)) < 0 && errno == EINTR) {}
    if (timeout_s > 0) {
        memset(&it, 0, sizeof it);
        setitimer(ITIMER_REAL, &it, NULL);
        sigaction(SIGALRM, &old, NULL);
    }
    /* Whatever the interpreter left in its group goes with it. */
    if (cli_child_group) kill(-cli_child_pid, SIGKILL);
    cli_child_pid = 0;
    *timed_out = cli_child_expired;
    return r < 0 ? -1 : 0;
}
