#!/bin/sh
# run.sh BUILD_DIR SECONDS [TARGET...] - run each libFuzzer target (default:
# every BUILD_DIR/fuzz_*) for SECONDS from its seed corpus, one after
# another.  With FUZZ_RUNS=N in the environment each target instead runs N
# inputs from a fixed random seed (SECONDS stays a bound): the same inputs
# on every run, so a failure is never a matter of luck (CI).  New inputs go to BUILD_DIR/corpus/<target>/ (the committed seeds
# in tests/fuzz/corpus/ are only read); a crash or a broken property leaves
# its input in BUILD_DIR/findings/ and fails the run.  Prints, per target,
# the executions and libFuzzer's final coverage line.
set -u
build=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    for f in "$build"/fuzz_*; do
        [ -f "$f" ] && [ -x "$f" ] && set -- "$@" "${f##*/}"
    done
fi
targets=$*
[ -n "$targets" ] || { echo "run.sh: no fuzz targets in $build" >&2; exit 2; }
mkdir -p "$build/findings" "$build/logs"
failed=0
for t in $targets; do
    work=$build/corpus/$t
    mkdir -p "$work"
    set -- -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/findings/$t-"
    [ -n "${FUZZ_RUNS:-}" ] && set -- "$@" -seed=1 -runs="$FUZZ_RUNS"
    case $t in
    fuzz_jsonscan|fuzz_reader|fuzz_compress) set -- "$@" -dict="$here/json.dict" ;;
    fuzz_options) set -- "$@" -dict="$here/options.dict" ;;
    esac
    log=$build/logs/$t.log
    if "$build/$t" "$@" "$work" "$here/corpus/$t" >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    printf '%-16s %s  %s executions  %s\n' "$t" "$status" "${execs:-?}" "${cov:-cov: ?}"
    [ $status = ok ] || tail -40 "$log" >&2
done
exit $failed
