#!/usr/bin/env python3
"""analyze_system.py -- run `lineiform analyze` over the system's binaries and
report what share of their functions is liftable, the most common first
unsupported instructions, crashes, and the time against `objdump -d`.

Usage:
  bench/analyze_system.py [--db PATH] [--every N] [--objdump K] [--timeout S]
                          [--lineiform PATH] [PATH_OR_GLOB ...]

Defaults: every x86-64 ELF file of /usr/bin and /usr/lib/x86_64-linux-gnu/*.so*
(symlinks resolved, each file once), a fresh database under /tmp.  --every N
analyzes one file in N (sorted by path, a deterministic subset), --objdump K
times `objdump -d` and `lineiform analyze --force` side by side on the K
largest files analyzed.  Output: one summary on stdout (text), and the
per-file results as JSON lines into DB.jsonl beside the database.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

DEFAULT_PATHS = ["/usr/bin/*", "/usr/lib/x86_64-linux-gnu/*.so*"]


def is_x86_64_elf(path):
    try:
        with open(path, "rb") as f:
            h = f.read(20)
    except OSError:
        return False
    return len(h) == 20 and h[:4] == b"\x7fELF" and h[4] == 2 and h[18:20] == b"\x3e\x00"


def files(patterns):
    seen, out = set(), []
    for pat in patterns:
        for p in sorted(glob.glob(pat)) or [pat]:
            r = os.path.realpath(p)
            if r in seen or not os.path.isfile(r) or not is_x86_64_elf(r):
                continue
            seen.add(r)
            out.append(r)
    return sorted(out)


def analyze(lf, path, db, timeout):
    t0 = time.monotonic()
    try:
        p = subprocess.run([lf, "analyze", "--force", "--json", "--db", db, path],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"path": path, "status": "timeout", "wall": time.monotonic() - t0}
    wall = time.monotonic() - t0
    if p.returncode < 0 or p.returncode > 2:
        return {"path": path, "status": "crash", "rc": p.returncode, "stderr": p.stderr[-300:], "wall": wall}
    if p.returncode != 0:
        return {"path": path, "status": "error", "rc": p.returncode, "stderr": p.stderr.strip()[-300:], "wall": wall}
    try:
        r = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"path": path, "status": "badjson", "stdout": p.stdout[-300:], "wall": wall}
    r.update({"status": "ok", "wall": wall})
    return r


def query(lf, db, sql):
    """Rows of sql as lists of values, in column order."""
    p = subprocess.run([lf, "query", "--db", db, "--json", sql], capture_output=True, text=True)
    if p.returncode:
        sys.exit("query failed: " + p.stderr)
    return [list(r.values()) for r in json.loads(p.stdout or "[]")]


def mnemonic(text):
    """'lock xadd dword ptr [rdi], eax' -> 'lock xadd'; 'incomplete: ...' -> 'incomplete'."""
    if text.startswith("incomplete"):
        return "incomplete (jump table not read)"
    words = text.split()
    out = []
    for w in words:
        out.append(w)
        if w not in ("lock", "rep", "repe", "repne", "repz", "repnz", "notrack", "bnd", "data16"):
            break
    return " ".join(out)


def best_of(cmd, n=3):
    best = None
    for _ in range(n):
        t0 = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.monotonic() - t0
        best = t if best is None or t < best else best
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    ap.add_argument("--db", default=None)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--objdump", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--lineiform", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                         "..", "build", "lineiform"))
    a = ap.parse_args()
    db = a.db or os.path.join(tempfile.mkdtemp(prefix="lf_system_"), "metadata.db")
    os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    fl = files(a.paths)[:: a.every]
    results = []
    t0 = time.monotonic()
    with open(db + ".jsonl", "w") as log:
        for i, f in enumerate(fl):
            r = analyze(a.lineiform, f, db, a.timeout)
            results.append(r)
            log.write(json.dumps(r) + "\n")
            log.flush()
            if r["status"] != "ok":
                print(f"{r['status']}: {f}: {r.get('stderr', r.get('stdout', ''))}", file=sys.stderr)
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{len(fl)} files, {time.monotonic() - t0:.0f} s", file=sys.stderr)
    ok = [r for r in results if r["status"] == "ok"]
    nf = sum(r["functions"] for r in ok)
    nl = sum(r["liftable"] for r in ok)
    bad = {s: sum(r["status"] == s for r in results) for s in ("crash", "timeout", "error", "badjson")}
    print(f"files: {len(fl)} x86-64 ELF ({'every %d of ' % a.every if a.every > 1 else ''}{' '.join(a.paths)})")
    print(f"analyzed: {len(ok)}; " + ", ".join(f"{k} {v}" for k, v in bad.items()))
    print(f"functions: {nf}, liftable {nl} ({100.0 * nl / max(nf, 1):.2f}%)")
    inc = query(a.lineiform, db, "SELECT count(*) FROM functions WHERE unsupported LIKE 'incomplete%'")
    jt = query(a.lineiform, db, "SELECT count(*), sum(bounded), sum(n_entries) FROM jump_tables")
    print(f"incomplete (no unsupported instruction, a jump table not read): {inc[0][0]}")
    print(f"jump tables: {jt[0][0]} ({jt[0][1]} guarded), {jt[0][2]} entries")
    rows = query(a.lineiform, db, "SELECT unsupported, count(*) FROM functions WHERE liftable = 0 GROUP BY 1")
    counts = {}
    for t, n in rows:
        m = mnemonic(t or "?")
        counts[m] = counts.get(m, 0) + n
    print("top first-unsupported (functions):")
    for m, n in sorted(counts.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {n:7d}  {m}")
    total_wall = sum(r["wall"] for r in results)
    print(f"lineiform analyze wall time: {total_wall:.1f} s over {len(fl)} files")
    big = sorted(ok, key=lambda r: -os.path.getsize(r["path"]))[: a.objdump]
    for r in big:
        lf = best_of([a.lineiform, "analyze", "--force", "--db", db + ".timing", r["path"]])
        od = best_of(["objdump", "-d", r["path"]])
        print(f"  {r['path']} ({os.path.getsize(r['path']) / 1e6:.1f} MB): lineiform analyze {lf:.2f} s, "
              f"objdump -d {od:.2f} s (best of 3)")
    print(f"database: {db}")


if __name__ == "__main__":
    main()
