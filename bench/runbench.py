#!/usr/bin/python3
"""runbench -- `make bench`: every testdata/lisp/bench/*.scm program run by
the interpreter, as a lineiform image, as native C, and by the other
language implementations installed, side by side.

  discover programs + expected lines ─▶ probe columns ─▶ prepare
  (snapshot images, compile peer programs) ─▶ rounds: every program ×
  every column, order rotated each round ─▶ summarize ─▶ latest.json,
  latest.md (printed), latest.png

Inputs: the source tree (this file's parent), a build directory (build/bin/
lisp, build/lineiform, build/bench/c/*), options (see --help).
Outputs: <out>/<stem>.{json,md,png}; exit 0 if every column that ran
printed the expected line each time, 1 if any printed a wrong result (or
crashed), 2 on bad usage or bad input (one line on stderr).

Invariants:
  1. A time counts only if its run printed exactly the program's expected
     output (testdata/lisp/bench/<name>.out) and exited 0.
  2. Runs of different columns are interleaved (each round visits every
     program and every column, in an order rotated per round), so drift of
     a shared machine hits all columns alike.
  3. What is unavailable (no images yet, a peer not installed, no C or Lua
     version of a program) is detected at run time and shown as n/a with
     the reason; it never fails the run.  A wrong result always does.
"""

import sys

sys.dont_write_bytecode = True

import argparse
import datetime
import glob
import hashlib
import os
import platform
import shutil
import signal
import subprocess
import tempfile

import bench_columns as bc
import bench_measure as bm
import bench_report as br

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMN_NAMES = ["interp", "image", "c", "lua5.4", "luajit", "guile", "chez"]


class UsageError(Exception):
    pass


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="runbench.py", description="lineiform benchmark table")
    ap.add_argument("--build", default=os.path.join(SRC, "build"),
                    help="build directory (default: build)")
    ap.add_argument("--out", default=None,
                    help="directory for the .json/.md/.png results (default: "
                         "bench/results, with --quick <build>/bench/quick)")
    ap.add_argument("--quick", action="store_true",
                    help="one run of each program per column (smoke check)")
    ap.add_argument("--runs", type=int, default=5,
                    help="timed runs per program and column (default 5)")
    ap.add_argument("--startup-runs", type=int, default=3,
                    help="runs of the empty program per round (default 3)")
    ap.add_argument("--metric", choices=["wall", "cpu"], default="wall",
                    help="what the table shows: wall time (default) or CPU "
                         "time (user + sys), steadier on a loaded machine; "
                         "latest.json holds both")
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions with valgrind instead of timing")
    ap.add_argument("--only", default="",
                    help="comma-separated program names (default: all)")
    ap.add_argument("--columns", default="",
                    help="comma-separated columns out of " + ",".join(COLUMN_NAMES))
    ap.add_argument("--expect-dir", default=None,
                    help="directory of <name>.out expected outputs "
                         "(default: next to the programs)")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="seconds before a run is killed (default 300)")
    ap.add_argument("--prepare-timeout", type=float, default=1800.0,
                    help="seconds before a snapshot or peer compilation is "
                         "killed (default 1800)")
    args = ap.parse_args(argv)
    if (args.runs < 1 or args.startup_runs < 1 or args.timeout <= 0
            or args.prepare_timeout <= 0):
        raise UsageError("--runs, --startup-runs and the timeouts must be positive")
    if args.quick or args.callgrind:
        args.runs, args.startup_runs = 1, 1
    wanted = [c for c in args.columns.split(",") if c]
    bad = [c for c in wanted if c not in COLUMN_NAMES]
    if bad:
        raise UsageError("unknown column %r (columns: %s)" % (
            bad[0], ", ".join(COLUMN_NAMES)))
    args.columns = wanted or COLUMN_NAMES
    args.only = [p for p in args.only.split(",") if p]
    if not os.path.isdir(args.build):
        raise UsageError("build directory %s does not exist (run make)" % args.build)
    args.build = os.path.abspath(args.build)
    if args.out is None:
        args.out = (os.path.join(args.build, "bench", "quick") if args.quick
                    else os.path.join(SRC, "bench", "results"))
    return args


def read_expected(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError("cannot read expected output %s: %s" % (
            path, exc.strerror))


def discover(args):
    """The benchmark programs, sorted by name, and the empty program."""
    bench_dir = os.path.join(SRC, "testdata", "lisp", "bench")
    expect_dir = args.expect_dir or bench_dir
    progs = []
    for scm in sorted(glob.glob(os.path.join(bench_dir, "*.scm"))):
        name = os.path.basename(scm)[:-len(".scm")]
        if args.only and name not in args.only:
            continue
        progs.append(bc.Program(
            name, scm, read_expected(os.path.join(expect_dir, name + ".out")),
            os.path.join(args.build, "bench", "c", name),
            os.path.join(SRC, "bench", "lua", name + ".lua")))
    missing = set(args.only) - {p.name for p in progs}
    if missing:
        raise UsageError("no benchmark program %r in %s" % (
            sorted(missing)[0], bench_dir))
    if not progs:
        raise UsageError("no benchmark programs in %s" % bench_dir)
    startup = os.path.join(SRC, "bench", "startup")
    empty = bc.Program("empty", os.path.join(startup, "empty.scm"), b"",
                       os.path.join(args.build, "bench", "startup", "empty"),
                       os.path.join(startup, "empty.lua"))
    return progs, empty


def machine_info(load_at_start):
    cpu, mem = platform.processor() or "unknown CPU", "unknown memory"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB RAM" % (kb / (1 << 20))
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count() or 0, "memory": mem,
            "kernel": "%s %s %s" % (platform.system(), platform.release(),
                                    platform.machine()),
            "loadavg_at_start": load_at_start, "loadavg_at_end": loadavg()}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


def file_digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError:
        return None


def git_version():
    try:
        rev = subprocess.run(["git", "-C", SRC, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=20)
        return rev.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def new_cell():
    return {"status": "ok", "detail": None, "runs": [], "summary": None,
            "prepare": None}


def prepare_cells(cols, progs, empty):
    """Prepare every (program, column); returns {prog name: {col: (cell,
    Prepared or None)}}, including the empty program."""
    table = {}
    for prog in progs + [empty]:
        row = table[prog.name] = {}
        for col in cols:
            cell = new_cell()
            prep = None
            try:
                prep = col.prepare(prog)
                cell["prepare"] = prep.info or None
            except bc.Skip as exc:
                cell["status"], cell["detail"] = "n/a", str(exc)
            except (bc.PrepareFailed, OSError) as exc:
                cell["status"], cell["detail"] = "wrong", str(exc)
            row[col.name] = (cell, prep)
        print("prepared %-10s %s" % (prog.name, " ".join(
            "%s:%s" % (c.name, row[c.name][0]["status"]) for c in cols)),
            flush=True)
    return table


def measure(cell, prep, prog, ctx, args):
    """One run of one cell: timed, or in callgrind mode a plain run that
    checks the result and then the counted run.  Marks the cell wrong on a
    bad result.  Returns a short text for the progress line."""
    if cell["status"] != "ok":
        return "-"
    run = bm.run_timed(prep.cmd, ctx.env, args.timeout, prog.expected)
    if not run["ok"]:
        cell["runs"].append(run)
        cell["status"], cell["detail"] = "wrong", run["detail"]
        return "WRONG"
    if not args.callgrind:
        cell["runs"].append(run)
        return br.fmt_seconds(run[args.metric])
    # The plain run above proved the result; a command that then fails
    # under valgrind (e.g. an image that needs its interpreter at a fixed
    # load address) has no count, which is not a wrong result.
    cell["check_run"] = run
    run = bm.run_callgrind(prep.cmd, ctx.env, args.timeout * 50,
                           prog.expected, ctx.work)
    cell["runs"].append(run)
    if not run["ok"]:
        cell["status"] = "n/a"
        cell["detail"] = "n/a (fails under valgrind: %s)" % run["detail"]
        return "n/a"
    return br.fmt_count(run["instructions"])


def run_rounds(cols, progs, empty, table, ctx, args):
    if not cols:
        print("runbench: no column available to run", flush=True)
        return
    for r in range(args.runs):
        for i, prog in enumerate(progs + [empty]):
            k = (r + i) % len(cols)
            order = cols[k:] + cols[:k]
            reps = args.startup_runs if prog is empty else 1
            texts = {}
            for _ in range(reps):
                for col in order:
                    cell, prep = table[prog.name][col.name]
                    texts[col.name] = measure(cell, prep, prog, ctx, args)
            print("[%d/%d] %-10s %s" % (r + 1, args.runs, prog.name, "  ".join(
                "%s %s" % (c.name, texts[c.name]) for c in cols)), flush=True)


def finish_cell(cell, mode, metric):
    key = "instructions" if mode == "callgrind" else metric
    if cell["status"] == "ok":
        cell["summary"] = bm.summarize(cell["runs"], key)
    return cell


def build_results(args, ctx, allcols, cols, progs, empty, table):
    mode = "callgrind" if args.callgrind else "time"
    versions = {c.name: c.version() for c in cols}
    versions["lineiform"] = git_version()
    versions["interpreter sha256"] = file_digest(ctx.interp)
    versions["python"] = platform.python_version()
    image = next((c for c in cols if c.name == "image"), None)
    res = {
        "schema": 1, "mode": mode, "quick": args.quick,
        "date": args.start_date,
        "machine": machine_info(args.load_at_start),
        "versions": {k: v for k, v in versions.items() if v},
        "settings": {"runs": args.runs, "metric": args.metric, "startup_runs_per_round":
                     args.startup_runs, "timeout_seconds": args.timeout,
                     "prepare_timeout_seconds": args.prepare_timeout,
                     "analyze_seconds": image.analyze_seconds if image else None},
        "columns": [{"name": c.name, "label": c.label,
                     "available": c in cols, "reason": c.probe_reason}
                    for c in allcols],
        "startup": {},
        "programs": [],
    }
    unavailable = {c.name: c.probe_reason for c in allcols if c not in cols}
    for prog in progs + [empty]:
        cells = {c.name: finish_cell(table[prog.name][c.name][0], mode,
                                     args.metric)
                 for c in cols}
        for name, reason in unavailable.items():
            cells[name] = {"status": "n/a", "detail": reason, "runs": [],
                           "summary": None, "prepare": None}
        if prog is empty:
            res["startup"] = cells
        else:
            res["programs"].append({"name": prog.name, "expected":
                                    prog.expected.decode("utf-8", "replace"),
                                    "cells": cells})
    return res


def wrong_cells(res):
    out = []
    for p in res["programs"] + [{"name": "start-up", "cells": res["startup"]}]:
        for col, cell in p["cells"].items():
            if cell["status"] == "wrong":
                out.append("%s/%s: %s" % (p["name"], col, cell["detail"]))
    return out


def main(argv):
    # SIGTERM unwinds like SIGINT: the running child is killed and the work
    # directory removed, and no partial result file is written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        args = parse_args(argv)
        progs, empty = discover(args)
    except UsageError as exc:
        print("runbench: %s" % exc, file=sys.stderr)
        return 2
    work = os.path.join(args.build, "bench", "work")
    os.makedirs(work, exist_ok=True)
    workdir = tempfile.mkdtemp(dir=work)
    args.load_at_start = loadavg()
    args.start_date = (datetime.datetime.now(datetime.timezone.utc)
                       .strftime("%Y-%m-%d %H:%M UTC"))
    try:
        ctx = bc.Context(SRC, args.build, workdir, args.timeout,
                         args.prepare_timeout)
        allcols = [c for c in bc.all_columns(ctx, empty.scm)
                   if c.name in args.columns]
        for c in allcols:
            c.probe_reason = c.probe()
            print("column %-7s %s" % (c.name, c.probe_reason or "available"),
                  flush=True)
        cols = [c for c in allcols if c.probe_reason is None]
        table = prepare_cells(cols, progs, empty)
        run_rounds(cols, progs, empty, table, ctx, args)
        res = build_results(args, ctx, allcols, cols, progs, empty, table)
        stem = "callgrind" if args.callgrind else "latest"
        text, chart_reason = br.write_all(res, args.out, stem, workdir)
    except OSError as exc:
        print("runbench: %s" % exc, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(text)
    if chart_reason and not args.callgrind:
        print("runbench: no chart: %s" % chart_reason, file=sys.stderr)
    print("runbench: results in %s/%s.{json,md%s}" % (
        args.out, stem, "" if chart_reason else ",png"))
    wrong = wrong_cells(res)
    for w in wrong:
        print("runbench: WRONG %s" % w, file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
