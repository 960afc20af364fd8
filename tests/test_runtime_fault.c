/* test_runtime_fault.c -- the frozen-write report coexists with a host's
 * own SIGSEGV handler: faults that are not frozen writes reach the handler
 * that was installed before ours, frozen writes are still reported. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lineiform.h"
#include "snapshot/runtime/rt_internal.h"
#include "tests/tutil.h"

static void host_siginfo(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    _exit((uintptr_t)si->si_addr == 64 ? 42 : 43);
}

static void host_plain(int sig)
{
    (void)sig;
    _exit(44);
}

/* In a child: install the host handler, then ours (as lf_init would), then
 * fault at addr.  Returns the wait status. */
static int fault_with_host(int siginfo, uintptr_t addr)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(98);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        if (siginfo) {
            sa.sa_sigaction = host_siginfo;
            sa.sa_flags = SA_SIGINFO;
        } else {
            sa.sa_handler = host_plain;
        }
        sigaction(SIGSEGV, &sa, NULL);
        rt_fault_install();
        volatile uintptr_t a = addr;
        *(volatile int *)a = 1;
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void test_other_faults_reach_the_hosts_siginfo_handler(void **state)
{
    (void)state;
    lf_freeze("x", 1);
    int st = fault_with_host(1, 64);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 42);
}

static void test_other_faults_reach_the_hosts_plain_handler(void **state)
{
    (void)state;
    int st = fault_with_host(0, 64);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 44);
}

static void test_frozen_writes_are_reported_before_the_host_handler(void **state)
{
    (void)state;
    uint64_t *p = lf_freeze((uint64_t[2]){ 1, 2 }, 16);
    int st = fault_with_host(1, (uintptr_t)p);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_faults_reach_the_hosts_siginfo_handler),
        cmocka_unit_test(test_other_faults_reach_the_hosts_plain_handler),
        cmocka_unit_test(test_frozen_writes_are_reported_before_the_host_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
