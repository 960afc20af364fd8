#!/bin/sh
# demo.sh -- what `make demo` runs: analyze the bundled interpreter, snapshot
# one benchmark into an image, run it interpreted and as an image, check the
# outputs are identical, and print both times and the speed-up.
#
#   sh bench/demo.sh BUILD_DIR            (make demo passes build/)
#   DEMO_PROG=tak sh bench/demo.sh build  another testdata/lisp/bench program
#   DEMO_RUNS=5                           timed runs of each (best is shown)
#
# Times are wall-clock seconds of whole processes (start-up included), the
# best of DEMO_RUNS runs, measured here and now, one after the other.
set -eu

B=${1:-build}
PROG=${DEMO_PROG:-fib}
RUNS=${DEMO_RUNS:-3}
L=$B/lineiform
I=$B/bin/lisp
SCM=testdata/lisp/bench/$PROG.scm

die() { echo "demo: $*" >&2; exit 1; }
[ -x "$L" ] || die "$L is missing: run make first"
[ -x "$I" ] || die "$I is missing: the bundled interpreter was not built"
[ -f "$SCM" ] || die "$SCM: no such benchmark"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lineiform-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

now() { date +%s.%N; }

# best wall-clock time of $RUNS runs of "$@", stdout to $TMP/out.last
best_time() {
    best=""
    n=0
    while [ $n -lt "$RUNS" ]; do
        t0=$(now)
        "$@" >"$TMP/out.last"
        t1=$(now)
        best=$(echo "$t0 $t1 ${best:-}" | awk '{ d = $2 - $1; if ($3 == "" || d < $3) print d; else print $3 }')
        n=$((n + 1))
    done
    echo "$best"
}

echo "== 1. lineiform analyze $I"
"$L" analyze "$I"

echo
echo "== 2. lineiform snapshot $SCM -o $PROG.img"
"$L" snapshot "$SCM" -o "$TMP/$PROG.img"

echo
echo "== 3. run: interpreted vs image (best of $RUNS)"
ti=$(best_time "$I" "$SCM")
cp "$TMP/out.last" "$TMP/out.interp"
tm=$(best_time "$L" run "$TMP/$PROG.img")
cp "$TMP/out.last" "$TMP/out.image"
cmp -s "$TMP/out.interp" "$TMP/out.image" || die "outputs differ: interpreter '$(cat "$TMP/out.interp")', image '$(cat "$TMP/out.image")'"
echo "output (both):       $(head -n 1 "$TMP/out.image")"
awk -v p="$PROG" -v ti="$ti" -v tm="$tm" 'BEGIN {
    printf "%-20s %8.3f s\n", p " interpreted:", ti
    printf "%-20s %8.3f s\n", p " image:", tm
    printf "%-20s %8.2fx\n", "speed-up:", ti / tm }'
