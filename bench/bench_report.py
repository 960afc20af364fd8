"""bench_report -- turn a results dict (built by runbench.py) into
latest.json, a Markdown table (printed and written to latest.md) and a PNG
bar chart drawn by gnuplot.

Inputs: the results dict (schema below) and an output directory + stem.
Outputs: <stem>.json, <stem>.md, <stem>.png in that directory.

Results schema (version 1):
  mode         "time" or "callgrind"; a cell's runs hold wall/user/sys/
               maxrss_kb (time) or instructions (callgrind)
  date, machine, versions, settings
  columns      [{name, label, available, reason}]   in table order
  startup      {column: cell}                      the empty program
  programs     [{name, expected, cells: {column: cell}}]
  cell         {status: "ok" | "wrong" | "n/a", detail, runs, summary,
                prepare}; summary = {median, min, max, n} of the ok runs

Invariants:
  1. Files are written to a temporary name and renamed, so a failed or
     interrupted report never leaves a partial file behind.
  2. Every figure printed comes from the runs in the same results dict;
     a cell without a summary prints "n/a" or "WRONG", never a number.
  3. A missing gnuplot or a gnuplot error costs only the chart.
"""

import json
import os
import re
import subprocess


def _write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def fmt_seconds(s):
    if s >= 10:
        return "%.1f s" % s
    if s >= 1:
        return "%.2f s" % s
    if s >= 0.1:
        return "%.0f ms" % (s * 1000)
    return "%.1f ms" % (s * 1000)


def fmt_range(med, lo, hi):
    """"784 ms (762–803)": median, then min–max in the median's unit."""
    text = fmt_seconds(med)
    num, unit = text.split(" ")
    scale = 1000.0 if unit == "ms" else 1.0
    digits = len(num.split(".")[1]) if "." in num else 0
    return "%s (%.*f–%.*f) %s" % (num, digits, lo * scale, digits, hi * scale,
                                  unit)


def fmt_count(n):
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return "%.3g %s" % (n / scale, unit)
    return "%d" % n


def fmt_bytes(n):
    for scale, unit in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= scale:
            return "%.1f %s" % (n / scale, unit)
    return "%d B" % n


def _median(cell):
    if cell and cell.get("status") == "ok" and cell.get("summary"):
        return cell["summary"]["median"]
    return None


def _cell_text(res, cell):
    if not cell or cell.get("status") == "n/a":
        return "n/a"
    if cell["status"] == "wrong":
        return "**WRONG**"
    s = cell["summary"]
    if res["mode"] == "callgrind":
        return fmt_count(s["median"])
    if s["n"] == 1:
        return fmt_seconds(s["median"])
    return fmt_range(s["median"], s["min"], s["max"])


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _ratio(num, den):
    if num is None or den is None or den <= 0:
        return "n/a"
    return "%.2f×" % (num / den)


def _main_table(res, cols):
    rows = []
    for p in res["programs"]:
        rows.append([p["name"]] + [_cell_text(res, p["cells"].get(c["name"]))
                                   for c in cols])
    rows.append(["start-up (empty program)"] +
                [_cell_text(res, res["startup"].get(c["name"])) for c in cols])
    return _table(["program"] + [c["label"] for c in cols], rows)


def _unavailable(res, name):
    """None if column `name` ran, else why not (one line)."""
    for c in res["columns"]:
        if c["name"] == name:
            return None if c["available"] else c["reason"]
    return "n/a (column not selected)"


def _ratio_table(res, cols, base, what):
    """base's median against every other column that ran: other / base for
    "speedup" (speed-up of base), base / other for "relative"."""
    why = _unavailable(res, base)
    if why:
        return why
    others = [c for c in cols if c["name"] != base and c["available"]]
    if not others:
        return "n/a (no other column ran)"
    rows = []
    for p in res["programs"]:
        b = _median(p["cells"].get(base))
        rows.append([p["name"]] + [
            _ratio(_median(p["cells"].get(c["name"])), b) if what == "speedup"
            else _ratio(b, _median(p["cells"].get(c["name"]))) for c in others])
    return _table(["program"] + ["vs " + c["label"] for c in others], rows)


def _compile_note(summary):
    """What `lineiform snapshot` said about compiling the entry: whether it
    was compiled and how many specializations bailed out."""
    if not summary:
        return ""
    if "not compiled" in summary:
        return "entry not compiled"
    m = re.search(r"bailouts\s+(\d+)", summary)
    s = re.search(r"specializations\s+(\d+)", summary)
    def count(match, noun):
        n = int(match.group(1))
        return "%d %s%s" % (n, noun, "" if n == 1 else "s")
    parts = []
    if s:
        parts.append(count(s, "specialization"))
    if m:
        parts.append(count(m, "bailout"))
    return ", ".join(parts)


def _snapshot_table(res):
    why = _unavailable(res, "image")
    if why:
        return why
    rows = []
    for p in res["programs"]:
        cell = p["cells"].get("image") or {}
        prep = cell.get("prepare") or {}
        if "snapshot_seconds" in prep:
            rows.append([p["name"], fmt_seconds(prep["snapshot_seconds"]),
                         fmt_bytes(prep["image_bytes"]),
                         _compile_note(prep.get("snapshot_summary"))])
        else:
            rows.append([p["name"], "n/a", "n/a", cell.get("detail") or ""])
    return _table(["program", "snapshot time", "image size", "compiled"], rows)


def _notes(res, cols):
    """One line per distinct reason a cell is n/a or wrong."""
    seen, lines = set(), []
    for c in res["columns"]:
        if not c["available"]:
            lines.append("- %s: %s" % (c["label"], c["reason"]))
            seen.add(c["name"])
    cells = [(p["name"], p["cells"]) for p in res["programs"]]
    cells.append(("start-up", res["startup"]))
    for name, row in cells:
        for c in cols:
            cell = row.get(c["name"])
            if c["name"] in seen or not cell or cell["status"] == "ok":
                continue
            lines.append("- %s, %s: %s%s" % (
                name, c["label"], "WRONG, " if cell["status"] == "wrong" else "",
                cell.get("detail") or "n/a"))
    return lines


def markdown(res, chart_name=None):
    cols = res["columns"]
    st = res["settings"]
    m = res["machine"]
    metric = ("CPU time (user + sys)" if st.get("metric") == "cpu"
              else "wall time")
    unit = ("instructions counted by valgrind --tool=callgrind (one run)"
            if res["mode"] == "callgrind" else
            metric + " of one run" if st["runs"] == 1 else
            "%s, median of %d runs (min–max), runs of all columns "
            "interleaved" % (metric, st["runs"]))
    out = ["# lineiform benchmarks", "",
           "%s · %s · %d cores · %s · %s · load average %s at start, %s "
           "at end" % (res["date"], m["cpu"], m["cores"], m["memory"],
                       m["kernel"], m.get("loadavg_at_start"),
                       m.get("loadavg_at_end")),
           "", "Each cell: %s; a result counts only if the program printed "
           "its expected line." % unit, "", _main_table(res, cols), ""]
    what = "instruction count" if res["mode"] == "callgrind" else "time"
    out += ["Speed-up of the image over each other column (its %s ÷ the "
            "image's; above 1× the image is faster):" % what, "",
            _ratio_table(res, cols, "image", "speedup"), "",
            "The interpreter relative to each other column (the "
            "interpreter's %s ÷ its; above 1× the interpreter is slower):"
            % what, "", _ratio_table(res, cols, "interp", "relative"), "",
            "Snapshot (`lineiform snapshot`, once per program) and image "
            "size:", "", _snapshot_table(res), ""]
    notes = _notes(res, cols)
    if notes:
        out += ["Notes:", ""] + notes + [""]
    if chart_name:
        out += ["![speed-up over the baseline](%s)" % chart_name, ""]
    out += ["Versions: " + "; ".join("%s: %s" % kv for kv in
                                     sorted(res["versions"].items())), ""]
    return "\n".join(out)


def _chart_data(res):
    """Rows of (program, [speed-up per column]) over the baseline column:
    the interpreter, else the first column that has times."""
    cols = [c for c in res["columns"] if c["available"]]
    names = [c["name"] for c in cols]
    base = "interp" if "interp" in names else (names[0] if names else None)
    others = [c for c in cols if c["name"] != base]
    rows = []
    for p in res["programs"]:
        b = _median(p["cells"].get(base))
        vals = []
        for c in others:
            v = _median(p["cells"].get(c["name"]))
            vals.append(b / v if b and v else None)
        rows.append((p["name"], vals))
    return base, others, rows


def chart(res, path, workdir):
    """Clustered bar chart, log scale, of speed-ups over the baseline.
    Returns None on success or a one-line reason."""
    base, others, rows = _chart_data(res)
    if not base or not others or not any(v for _, vs in rows for v in vs):
        return "no two columns with times to compare"
    label = {c["name"]: c["label"] for c in res["columns"]}
    data = os.path.join(workdir, "chart.dat")
    with open(data, "w") as f:
        for name, vals in rows:
            f.write(name + " " + " ".join(
                "%.6g" % v if v else "NaN" for v in vals) + "\n")
    tmp = path + ".tmp"
    plots = ", ".join("'%s' using %d%s title '%s'" % (
        data if i == 0 else "", i + 2, ":xtic(1)" if i == 0 else "",
        label[c["name"]]) for i, c in enumerate(others))
    script = "\n".join([
        "set terminal pngcairo size 1200,600 font 'sans,10'",
        "set output '%s'" % tmp,
        "set datafile missing 'NaN'",
        "set style data histograms",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set logscale y 10", "set grid ytics",
        "set xtics rotate by -30", "set key outside right top",
        "set title 'Speed-up over %s (its time / column time; log scale)"
        " - %s'" % ("the interpreter" if base == "interp" else label[base],
                    res["date"]),
        "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2",
        "set ylabel 'speed-up (x)'",
        "plot " + plots, ""])
    try:
        proc = subprocess.run(["gnuplot"], input=script.encode(),
                              capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "gnuplot: %s" % exc
    if proc.returncode != 0 or not os.path.isfile(tmp):
        if os.path.exists(tmp):
            os.unlink(tmp)
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return "gnuplot failed: %s" % (err[-1] if err else proc.returncode)
    os.replace(tmp, path)
    return None


def write_all(res, outdir, stem, workdir):
    """Write <stem>.json, <stem>.png (time mode) and <stem>.md; return the
    Markdown text and the chart's failure reason (None if drawn)."""
    os.makedirs(outdir, exist_ok=True)
    png_reason = "no chart in callgrind mode"
    if res["mode"] == "time":
        png_reason = chart(res, os.path.join(outdir, stem + ".png"), workdir)
    text = markdown(res, stem + ".png" if png_reason is None else None)
    _write_atomic(os.path.join(outdir, stem + ".json"),
                  json.dumps(res, indent=1, sort_keys=False) + "\n")
    _write_atomic(os.path.join(outdir, stem + ".md"), text)
    return text, png_reason
