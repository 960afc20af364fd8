#!/usr/bin/python3
"""runbench_lua -- the Lua section of `make bench`: every bench/lua/*.lua
program run by lua5.4, by LuaJIT with its JIT off and on, by the bundled
closure-compiling Lua interpreter (build/bin/lua), as a lineiform image of
it, and as native C (bench/c/<name>.c at -O2) where there is one.

  discover programs ─▶ expected output (lua5.4's) ─▶ prepare (snapshot
  images) ─▶ rounds: every program × every column, order rotated each
  round ─▶ lua.json, lua.md (printed)

Inputs: the source tree, a build directory (build/bin/lua, build/lineiform,
build/bench/c/*), options (see --help).
Outputs: <out>/lua.{json,md}; exit 0 if every column that ran printed the
expected output each time, 1 if any printed a wrong result, 2 on bad usage.

Invariants:
  1. A time counts only if its run printed exactly what lua5.4 prints for
     the program and exited 0 (bench_measure.run_timed).
  2. Columns are interleaved per round, in an order rotated each round, so
     drift of a shared machine hits all columns alike.
  3. A column that is unavailable (not installed, no C version, a snapshot
     that fails) is shown as n/a with the reason; a wrong result fails.
"""

import sys

sys.dont_write_bytecode = True

import argparse
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import bench_measure as bm

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["lua5.4", "luajit -joff", "luajit", "interp", "image", "c"]


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="runbench_lua.py",
                                 description="lineiform Lua benchmark table")
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--out", default=None,
                    help="directory for lua.{json,md} (default bench/results, "
                         "with --quick <build>/bench/quick)")
    ap.add_argument("--quick", action="store_true", help="one run each")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--metric", choices=["wall", "cpu"], default="cpu",
                    help="CPU time (user + sys, default: steadier on a shared "
                         "machine) or wall time")
    ap.add_argument("--only", default="", help="comma-separated program names")
    ap.add_argument("--timeout", type=float, default=300.0)
    a = ap.parse_args(argv)
    if a.quick:
        a.runs = 1
    a.only = [p for p in a.only.split(",") if p]
    a.build = os.path.abspath(a.build)
    if a.out is None:
        a.out = (os.path.join(a.build, "bench", "quick") if a.quick
                 else os.path.join(SRC, "bench", "results"))
    return a


def prepare(args, work, env):
    """{program: {column: argv or 'n/a (reason)'}} and the expected outputs."""
    # Private copies: a rebuild of the build directory during the run cannot
    # mix two builds (an image is tied to its interpreter's build-id).
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir, exist_ok=True)
    for path in [os.path.join(args.build, "bin", "lua"), os.path.join(args.build, "lineiform")] + \
            sorted(glob.glob(os.path.join(args.build, "lineiform-*"))):
        if os.access(path, os.X_OK):
            shutil.copy2(path, bindir)
    interp = os.path.join(bindir, "lua")
    cli = os.path.join(bindir, "lineiform")
    progs = sorted(glob.glob(os.path.join(SRC, "bench", "lua", "*.lua")))
    progs = [p for p in progs if not args.only or
             os.path.basename(p)[:-4] in args.only]
    table, expected = {}, {}
    for path in progs:
        name = os.path.basename(path)[:-4]
        row = table[name] = {}
        ref = subprocess.run(["lua5.4", path], capture_output=True, timeout=args.timeout)
        if ref.returncode != 0:
            raise SystemExit("runbench_lua: lua5.4 fails on %s" % path)
        expected[name] = ref.stdout
        row["lua5.4"] = ["lua5.4", path]
        row["luajit -joff"] = (["luajit", "-joff", path] if shutil.which("luajit")
                               else "n/a (luajit not installed)")
        row["luajit"] = ["luajit", path] if shutil.which("luajit") else row["luajit -joff"]
        row["interp"] = [interp, path] if os.access(interp, os.X_OK) else "n/a (build/bin/lua not built)"
        img = os.path.join(work, name + ".img")
        t0 = time.time()
        snap = subprocess.run([cli, "snapshot", "-q", path, "-o", img, "--interp", interp],
                              capture_output=True, env=env, timeout=1800)
        row["image"] = ([cli, "run", img] if snap.returncode == 0 and os.path.isfile(img)
                        else "n/a (snapshot failed: %s)" % snap.stderr.decode(errors="replace").strip()[:100])
        row["snapshot_seconds"] = round(time.time() - t0, 2)
        c = os.path.join(args.build, "bench", "c", name)
        row["c"] = [c] if os.access(c, os.X_OK) else "n/a (no C version)"
        print("prepared %-10s snapshot %.1f s" % (name, row["snapshot_seconds"]), flush=True)
    return table, expected


def fmt(s):
    return "n/a" if s is None else ("%.3f" % s if s < 10 else "%.2f" % s)


def markdown(res, metric):
    lines = ["Lua programs (bench/lua), %s time in seconds, median of %d runs; "
             "ratios are lua5.4's time / the column's (higher is faster)." % (metric, res["runs"]), "",
             "| program | " + " | ".join(COLUMNS) + " | interp/lua5.4 | image vs interp | image vs lua5.4 | image vs luajit |",
             "|---" * (len(COLUMNS) + 5) + "|"]
    for name, cells in res["programs"].items():
        med = {c: (cells[c]["median"] if isinstance(cells[c], dict) else None) for c in COLUMNS}

        def ratio(a, b):
            return "%.2fx" % (med[a] / med[b]) if med[a] and med[b] else "n/a"
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            name, " | ".join(fmt(med[c]) for c in COLUMNS),
            "%.2f" % (med["interp"] / med["lua5.4"]) if med["interp"] and med["lua5.4"] else "n/a",
            ratio("interp", "image"), ratio("lua5.4", "image"), ratio("luajit", "image")))
    notes = sorted({"%s: %s" % (c, v) for cells in res["programs"].values()
                    for c, v in cells.items() if isinstance(v, str) and v.startswith("n/a")})
    return "\n".join(lines + ([""] + ["- " + n for n in notes] if notes else [])) + "\n"


def main(argv):
    args = parse_args(argv)
    work = tempfile.mkdtemp(prefix="lua.", dir=os.path.join(args.build, "bench")
                            if os.path.isdir(os.path.join(args.build, "bench")) else None)
    env = dict(os.environ)
    env["LINEIFORM_DB"] = os.path.join(args.build, "bench", "metadata.db")
    wrong = []
    try:
        table, expected = prepare(args, work, env)
        runs = {n: {c: [] for c in COLUMNS} for n in table}
        for r in range(args.runs):
            for i, name in enumerate(table):
                k = (r + i) % len(COLUMNS)
                texts = []
                for col in COLUMNS[k:] + COLUMNS[:k]:
                    cmd = table[name][col]
                    if isinstance(cmd, str) or (runs[name][col] and not runs[name][col][-1]["ok"]):
                        continue
                    run = bm.run_timed(cmd, env, args.timeout, expected[name])
                    runs[name][col].append(run)
                    if not run["ok"]:
                        wrong.append("%s/%s: %s" % (name, col, run["detail"]))
                    texts.append("%s %s" % (col, fmt(run[args.metric]) if run["ok"] else "WRONG"))
                print("[%d/%d] %-10s %s" % (r + 1, args.runs, name, "  ".join(texts)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {"metric": args.metric, "runs": args.runs, "programs": {}}
    for name in table:
        cells = res["programs"][name] = {}
        for col in COLUMNS:
            cmd = table[name][col]
            cells[col] = cmd if isinstance(cmd, str) else bm.summarize(runs[name][col], args.metric)
        cells["snapshot_seconds"] = table[name]["snapshot_seconds"]
    os.makedirs(args.out, exist_ok=True)
    text = markdown(res, args.metric)
    with open(os.path.join(args.out, "lua.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(args.out, "lua.md"), "w") as f:
        f.write(text)
    print()
    print(text)
    print("runbench_lua: results in %s/lua.{json,md}" % args.out)
    for w in wrong:
        print("runbench_lua: WRONG %s" % w, file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
