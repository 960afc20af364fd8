#!/bin/sh
# smoke_test.sh -- what `make test` checks of `make bench`:
#   bench_quick_run_prints_expected_lines   every available column of every
#       program prints its expected line (one run each, results in a temp dir)
#   bench_wrong_result_fails_the_run       a column that prints something else
#       than the expected line makes the run exit 1 and name the cell
#   bench_bad_option_is_one_line_error     bad usage: exit 2, one stderr line
#   bench_missing_columns_are_na_not_failures   without the interpreter,
#       lineiform and the peers (a build dir holding only the C programs, an
#       empty PATH) those columns are n/a with a reason and the run passes
#   bench_report_figures_come_from_runs   bench/test_bench_report.py: medians,
#       ranges and ratios computed from the ok runs only
# Unavailable columns (no images yet, peers not installed) are n/a, not a
# failure.  Run from the source tree with LF_BUILD set (make test does).
set -u
cd "$(dirname "$0")/.." || exit 1
build=${LF_BUILD:-build}
run="/usr/bin/python3 -B bench/runbench.py --build $build --prepare-timeout 300"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

check() { # name status
    if [ "$2" = 0 ]; then echo "[ PASSED ] $1"; else echo "[ FAILED ] $1"; fail=1; fi
}

$run --quick --out "$tmp/quick" >"$tmp/quick.log" 2>&1
st=$?
[ $st = 0 ] && [ -s "$tmp/quick/latest.json" ] && [ -s "$tmp/quick/latest.md" ]
ok=$?
[ $ok = 0 ] || { grep -E 'WRONG|runbench:' "$tmp/quick.log" | head -20; echo "(exit $st)"; }
check bench_quick_run_prints_expected_lines $ok

mkdir "$tmp/expect"
cp testdata/lisp/bench/*.out "$tmp/expect/"
printf 'not the result\n' >"$tmp/expect/fib.out"
$run --quick --only fib --columns c --expect-dir "$tmp/expect" \
    --out "$tmp/wrong" >"$tmp/wrong.log" 2>&1
st=$?
[ $st = 1 ] && grep -q 'WRONG fib/c: printed' "$tmp/wrong.log"
check bench_wrong_result_fails_the_run $?

$run --columns nosuch >"$tmp/bad.out" 2>"$tmp/bad.err"
st=$?
[ $st = 2 ] && [ "$(wc -l <"$tmp/bad.err")" = 1 ] && [ ! -s "$tmp/bad.out" ]
check bench_bad_option_is_one_line_error $?

mkdir "$tmp/build"
ln -s "$(cd "$build" && pwd)/bench" "$tmp/build/bench"
PATH=/nonexistent /usr/bin/python3 -B bench/runbench.py --build "$tmp/build" \
    --quick --only fib --out "$tmp/na" >"$tmp/na.log" 2>&1
st=$?
[ $st = 0 ] && /usr/bin/python3 - "$tmp/na/latest.json" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))
cells = res["programs"][0]["cells"]
ok = cells["c"]["status"] == "ok" and all(
    cells[c]["status"] == "n/a" and cells[c]["detail"]
    for c in ("interp", "image", "lua5.4", "luajit", "guile", "chez"))
sys.exit(0 if ok else 1)
EOF
check bench_missing_columns_are_na_not_failures $?

/usr/bin/python3 -B bench/test_bench_report.py >"$tmp/unit.log" 2>&1
st=$?
[ $st = 0 ] || cat "$tmp/unit.log"
check bench_report_figures_come_from_runs $st

exit $fail
