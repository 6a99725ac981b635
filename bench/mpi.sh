#!/bin/sh
# mpi.sh [DOCS] - neardup-mpi on 1, 2 and 4 ranks over one generated corpus
# (ndgen web preset, DOCS documents, default 200000): documents per second
# (wall and CPU), each rank's peak memory, and the bytes each rank sends to
# rank 0 per document.  Ranks run with --oversubscribe on this machine's
# cores: on 2 cores, 4 ranks time-share them, so the figures say what the
# work and the exchange cost, not how a cluster of real nodes scales.
# BUILD=build by default; RUNS=3 runs each, the median printed.
set -eu
DOCS=${1:-200000}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
T=$(mktemp -d /tmp/nd-mpibench-XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_plm_rsh_agent=false
"$BUILD/ndgen" --docs "$DOCS" --seed 11 --out "$T/in.jsonl"
MPI=$(cd "$BUILD" && pwd)/neardup-mpi
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-6s %12s %12s %15s %18s %15s\n' ranks 'docs/s wall' 'docs/s cpu' 'peak MB rank 0' 'peak MB the others' 'bytes/doc sent'
for n in 1 2 4; do
    : >"$T/wall"
    : >"$T/cpu"
    : >"$T/peak"
    : >"$T/peak0"
    for i in $(seq "$RUNS"); do
        rm -f "$T"/mem.* "$T/out"
        # Each rank under time(1): its own CPU seconds and peak resident set.
        start=$(date +%s.%N)
        mpirun --oversubscribe --bind-to none -np "$n" sh -c \
            'exec /usr/bin/time -f "%U %S %M" -o "$0/mem.$OMPI_COMM_WORLD_RANK" "$@"' \
            "$T" "$MPI" cluster -q --stats "$T/in.jsonl" -o "$T/out" 2>"$T/err"
        end=$(date +%s.%N)
        echo "$start $end" | awk -v d="$DOCS" '{ print d / ($2 - $1) }' >>"$T/wall"
        cat "$T"/mem.* | awk -v d="$DOCS" '{ c += $1 + $2 } END { print d / c }' >>"$T/cpu"
        cat "$T"/mem.[1-9]* 2>/dev/null |
            awk '{ if ($3 > m) m = $3 } END { print m / 1024 }' >>"$T/peak"
        awk '{ print $3 / 1024 }' "$T/mem.0" >>"$T/peak0"
        sent=$(sed -n 's/.*rank 0: [0-9]* bytes, \([0-9.]*\) a document.*/\1/p' "$T/err")
    done
    printf '%-6s %12.0f %12.0f %15.0f %18.0f %15s\n' "$n" "$(median <"$T/wall")" \
        "$(median <"$T/cpu")" "$(median <"$T/peak0")" "$(median <"$T/peak")" "$sent"
done
echo "(median of $RUNS runs each; $(nproc) cores here, ranks oversubscribed;"
echo " docs/s cpu: over the CPU seconds of all ranks; peak MB the others: the"
echo " largest of ranks 1..; bytes/doc sent: the shares rank 0 receives, over"
echo " all documents)"
