"""test_bench_report -- the figures runbench prints are the figures it
measured: medians, ranges and ratios computed from the runs, never from a
run that printed a wrong result.  Run by bench/smoke_test.sh (make test):
    /usr/bin/python3 -B bench/test_bench_report.py
"""

import sys

sys.dont_write_bytecode = True

import os
import tempfile
import unittest

import bench_measure as bm
import bench_report as br


def run(wall, ok=True):
    return {"wall": wall, "cpu": wall / 2, "ok": ok,
            "detail": None if ok else "printed '1\\n', expected '2\\n'"}


def cell(runs, status="ok"):
    return {"status": status, "detail": None if status == "ok" else "why",
            "runs": runs, "summary": bm.summarize(runs) if status == "ok"
            else None, "prepare": None}


def results(cells_by_prog):
    cols = [{"name": n, "label": n, "available": True, "reason": None}
            for n in ("interp", "image", "c")]
    return {"mode": "time", "date": "D", "versions": {},
            "machine": {"cpu": "x", "cores": 2, "memory": "m", "kernel": "k"},
            "settings": {"runs": 3, "metric": "wall"}, "columns": cols,
            "startup": {}, "programs": [{"name": p, "cells": c}
                                        for p, c in cells_by_prog.items()]}


class TestSummaries(unittest.TestCase):
    def test_median_of_odd_runs_is_the_middle_one(self):
        s = bm.summarize([run(3.0), run(1.0), run(2.0)])
        self.assertEqual((s["median"], s["min"], s["max"], s["n"]),
                         (2.0, 1.0, 3.0, 3))

    def test_median_of_even_runs_is_the_mean_of_the_middle_two(self):
        self.assertEqual(bm.summarize([run(4.0), run(1.0), run(2.0),
                                       run(3.0)])["median"], 2.5)

    def test_range_is_printed_in_the_median_unit(self):
        self.assertEqual(br.fmt_range(0.784, 0.7621, 0.8033),
                         "784 (762–803) ms")
        self.assertEqual(br.fmt_range(1.5, 0.98, 2.0), "1.50 (0.98–2.00) s")

    def test_failed_runs_do_not_count(self):
        self.assertEqual(bm.summarize([run(9.0, ok=False), run(1.0)])["max"],
                         1.0)
        self.assertIsNone(bm.summarize([run(9.0, ok=False)]))

    def test_cpu_metric_summarizes_user_plus_sys(self):
        self.assertEqual(bm.summarize([run(4.0)], "cpu")["median"], 2.0)


class TestTables(unittest.TestCase):
    def setUp(self):
        self.res = results({"fib": {
            "interp": cell([run(4.0), run(5.0), run(6.0)]),
            "image": cell([run(1.0), run(2.0), run(3.0)]),
            "c": cell([run(0.5)], status="wrong")}})

    def test_image_speedup_is_other_time_over_image_time(self):
        table = br._ratio_table(self.res, self.res["columns"], "image",
                                "speedup")
        self.assertIn("| fib | 2.50× | n/a |", table)

    def test_interpreter_ratio_is_interpreter_time_over_other_time(self):
        table = br._ratio_table(self.res, self.res["columns"], "interp",
                                "relative")
        self.assertIn("| fib | 2.50× | n/a |", table)

    def test_cell_shows_median_min_max_and_wrong_never_a_number(self):
        md = br.markdown(self.res)
        self.assertIn("| fib | 5.00 (4.00–6.00) s | 2.00 (1.00–3.00) s"
                      " | **WRONG** |", md)
        self.assertIn("fib, c: WRONG, why", md)

    def test_snapshot_note_counts_specializations_and_bailouts(self):
        self.assertEqual(br._compile_note(
            "  specializations  3   inlined calls 2   bailouts 1"),
            "3 specializations, 1 bailout")
        self.assertEqual(br._compile_note(
            "  entry            not compiled: the image runs the interpreter"),
            "entry not compiled")

    def test_write_all_leaves_json_and_md_and_no_temporary_files(self):
        with tempfile.TemporaryDirectory() as d:
            br.write_all(self.res, d, "latest", d)
            names = sorted(os.listdir(d))
            self.assertIn("latest.json", names)
            self.assertIn("latest.md", names)
            self.assertFalse([n for n in names if n.endswith(".tmp")])


if __name__ == "__main__":
    unittest.main(verbosity=1)
