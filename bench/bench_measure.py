"""bench_measure -- run one command once and measure it.

Inputs: an argv list, an environment, a timeout, the exact output expected.
Outputs: a dict describing the run (see `run_timed`), or an instruction
count (`run_callgrind`).  Nothing here decides what to run or how often;
that is runbench.py.

Invariants:
  1. A run counts only if the command exited 0 and printed exactly the
     expected bytes on stdout; otherwise `ok` is False and `detail` says why
     in one line (exit status, signal, timeout or the wrong output).
  2. Wall time spans fork to reap; user/sys/maxrss come from wait4() of
     that one child, so runs never mix their resource usage.
  3. A run that outlives its timeout is killed with its whole process group.
"""

import errno
import os
import re
import signal
import subprocess
import tempfile
import threading
import time


def _first_line(data, limit=160):
    text = data.decode("utf-8", "replace").strip()
    line = text.splitlines()[0] if text else ""
    return line[:limit]


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _describe_failure(status, timed_out, out, err, expected):
    """One line saying why a finished run does not count (None if it does)."""
    if timed_out:
        return "timed out"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return "killed by %s" % signal.Signals(sig).name
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        msg = _first_line(err)
        return "exit %d%s" % (code, ": " + msg if msg else "")
    if out != expected:
        return "printed %r, expected %r" % (
            out.decode("utf-8", "replace")[:60],
            expected.decode("utf-8", "replace")[:60])
    return None


def spawn(cmd, env, timeout, cwd=None):
    """Run cmd with stdin from /dev/null; return (status, timed_out, stdout,
    stderr, wall seconds, rusage)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err, env=env,
                                cwd=cwd, start_new_session=True)
        fired = threading.Event()

        def expire():
            fired.set()
            _kill_group(proc)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            out = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            # Interrupted (SIGINT/SIGTERM): the child runs in its own
            # session, so it would outlive us unless killed here.
            _kill_group(proc)
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        err.seek(0)
        return status, fired.is_set(), out, err.read(), wall, usage


def spawn_retrying(cmd, env, timeout, cwd=None, tries=3):
    """spawn(), retried when the executable cannot be started for a moment
    (a shared build directory relinks it: ETXTBSY, EACCES, ENOENT)."""
    for attempt in range(tries):
        try:
            return spawn(cmd, env, timeout, cwd)
        except OSError as exc:
            if attempt + 1 == tries or exc.errno not in (
                    errno.ETXTBSY, errno.EACCES, errno.ENOENT):
                raise
            time.sleep(2.0)


def run_timed(cmd, env, timeout, expected, cwd=None):
    """One timed run.  Returns {wall, user, sys, cpu (user + sys),
    maxrss_kb, ok, detail}."""
    try:
        status, timed_out, out, err, wall, ru = spawn_retrying(cmd, env,
                                                               timeout, cwd)
    except OSError as exc:
        return {"wall": None, "user": None, "sys": None, "cpu": None,
                "maxrss_kb": None,
                "ok": False, "detail": "cannot run %s: %s" % (cmd[0], exc)}
    detail = _describe_failure(status, timed_out, out, err, expected)
    return {"wall": round(wall, 6), "user": round(ru.ru_utime, 6),
            "sys": round(ru.ru_stime, 6),
            "cpu": round(ru.ru_utime + ru.ru_stime, 6),
            "maxrss_kb": ru.ru_maxrss, "ok": detail is None, "detail": detail}


_COLLECTED = re.compile(rb"^==\d+== Collected : (\d+)", re.M)


def run_callgrind(cmd, env, timeout, expected, workdir, cwd=None):
    """Instructions executed by cmd and every process it starts, counted by
    valgrind's callgrind.  Returns {instructions, ok, detail}."""
    logdir = tempfile.mkdtemp(prefix="callgrind.", dir=workdir)
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
          "--trace-children=yes",
          "--log-file=%s/vg.%%p.log" % logdir]
    try:
        status, timed_out, out, err, _, _ = spawn_retrying(vg + cmd, env,
                                                           timeout, cwd)
        detail = _describe_failure(status, timed_out, out, err, expected)
        total, seen = 0, False
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name), "rb") as f:
                for m in _COLLECTED.finditer(f.read()):
                    total += int(m.group(1))
                    seen = True
    except OSError as exc:
        return {"instructions": None, "ok": False,
                "detail": "cannot run valgrind: %s" % exc}
    finally:
        for name in os.listdir(logdir):
            os.unlink(os.path.join(logdir, name))
        os.rmdir(logdir)
    if detail is None and not seen:
        detail = "valgrind reported no instruction count"
    return {"instructions": total if seen else None, "ok": detail is None,
            "detail": detail}


def summarize(runs, key="wall"):
    """Median, min and max of the successful runs' `key` (None if none)."""
    vals = sorted(r[key] for r in runs if r.get("ok") and r.get(key) is not None)
    if not vals:
        return None
    n = len(vals)
    mid = vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2
    return {"median": mid, "min": vals[0], "max": vals[-1], "n": n}
