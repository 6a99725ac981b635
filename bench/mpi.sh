#!/bin/sh
# mpi.sh [DOCS] - neardup-mpi $CMD (cluster by default; dedup, pairs) on
# 1, 2 and 4 ranks over one generated corpus
# (ndgen web preset, DOCS documents, default 200000): documents per second
# (wall and CPU), each rank's peak memory, the share of the input bytes the
# busiest rank reads, and the bytes each exchange moves per document: the
# count exchange's level sums (all ranks) and held sample, the band keys
# sent to the ranks owning them, the candidate pairs sent to the owners of
# their first documents, the states fetched for verification (requests
# and answers), the rows' data sent to rank 0 (the record counters), the
# ids of the pairs' second documents fetched by the ranks writing the rows
# of pairs (requests and answers), and the clustering by connected
# component (pairs: with --stats, as here): the label
# rounds and their bytes, the pairs and states sent to the components'
# owners, the first members and cluster numbers sent back to the
# documents' owners, and the most documents one rank clusters.  Ranks run
# with --oversubscribe on this machine's
# cores: on 2 cores, 4 ranks time-share them, so the figures say what the
# work and the exchange cost, not how a cluster of real nodes scales.
# BUILD=build by default; RUNS=3 runs each, the median printed.
set -eu
DOCS=${1:-200000}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
CMD=${CMD:-cluster}
T=$(mktemp -d /tmp/nd-mpibench-XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_plm_rsh_agent=false
"$BUILD/ndgen" --docs "$DOCS" --seed 11 --out "$T/in.jsonl"
MPI=$(cd "$BUILD" && pwd)/neardup-mpi
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "neardup-mpi $CMD, $DOCS documents"
printf '%-5s %11s %10s %9s %10s %9s %9s %9s %9s %9s %9s %9s %9s %6s %9s %9s %9s %9s\n' ranks \
    'docs/s wall' 'docs/s cpu' 'peak MB 0' 'peak MB 1-' 'read max' 'B/d sums' 'B/d held' \
    'B/d keys' 'B/d pairs' 'B/d fetch' 'B/d rows' 'B/d ids' 'rounds' 'B/d label' 'B/d comp' \
    'B/d back' 'comp max'
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
            "$T" "$MPI" "$CMD" -q --stats "$T/in.jsonl" -o "$T/out" 2>"$T/err"
        end=$(date +%s.%N)
        echo "$start $end" | awk -v d="$DOCS" '{ print d / ($2 - $1) }' >>"$T/wall"
        cat "$T"/mem.* | awk -v d="$DOCS" '{ c += $1 + $2 } END { print d / c }' >>"$T/cpu"
        cat "$T"/mem.[1-9]* 2>/dev/null |
            awk '{ if ($3 > m) m = $3 } END { print m / 1024 }' >>"$T/peak"
        awk '{ print $3 / 1024 }' "$T/mem.0" >>"$T/peak0"
        keys=$(sed -n 's/.*band keys \([0-9.]*\),.*/\1/p' "$T/err")
        pairs=$(sed -n 's/.*, pairs \([0-9.]*\),.*/\1/p' "$T/err")
        fetch=$(sed -n 's/.*states fetched \([0-9.]*\) .*/\1/p' "$T/err")
        rows=$(sed -n "s/.*the rows' data: [0-9]* bytes, \([0-9.]*\) a document.*/\1/p" "$T/err")
        ids=$(sed -n "s/.*pairs' rows by the owners.* fetched \([0-9.]*\) bytes a document.*/\1/p" "$T/err")
        rounds=$(sed -n 's/.*component: \([0-9]*\) rounds of labels.*/\1/p' "$T/err")
        labels=$(sed -n 's/.*rounds of labels, \([0-9.]*\) bytes a document.*/\1/p' "$T/err")
        comp=$(sed -n "s/.*components' owners \([0-9.]*\);.*/\1/p" "$T/err")
        back=$(sed -n 's/.*cluster numbers back \([0-9.]*\);.*/\1/p' "$T/err")
        most=$(sed -n 's/.*at most \([0-9]*\) documents clustered.*/\1/p' "$T/err")
        sums=$(sed -n 's/.*exchange: \([0-9]*\) bytes of level sums.*/\1/p' "$T/err" |
            awk -v d="$DOCS" -v n="$n" '{ printf "%.1f", $1 * n / d }')
        held=$(sed -n 's/.*sums a rank, \([0-9]*\) bytes of held.*/\1/p' "$T/err" |
            awk -v d="$DOCS" '{ printf "%.1f", $1 / d }')
        read=$(sed -n 's/.*bytes read by rank: //p' "$T/err" | tr ' ' '\n' |
            awk -v b="$(stat -c %s "$T/in.jsonl")" '{ if ($1 > m) m = $1 } END { printf "%.2f", m / b }')
    done
    printf '%-5s %11.0f %10.0f %9.0f %10.0f %9s %9s %9s %9s %9s %9s %9s %9s %6s %9s %9s %9s %9s\n' \
        "$n" "$(median <"$T/wall")" "$(median <"$T/cpu")" "$(median <"$T/peak0")" \
        "$(median <"$T/peak")" "$read" "$sums" "$held" "$keys" "$pairs" "$fetch" "$rows" \
        "${ids:--}" \
        "$rounds" "$labels" "$comp" "$back" "$most"
done
echo "(median of $RUNS runs each; $(nproc) cores here, ranks oversubscribed;"
echo " docs/s cpu: over the CPU seconds of all ranks; peak MB 1-: the largest"
echo " of ranks 1..; read max: the bytes the busiest rank reads, over the input's;"
echo " B/d: bytes a document, over all documents: the level sums all ranks send,"
echo " the held sample all send, the band keys, candidate pairs and fetched states"
echo " all ranks send each other, the rows' data rank 0 receives; ids: the pairs'"
echo " partners' ids fetched by the ranks writing their rows (pairs); rounds: of the"
echo " component labels; label: their bytes; comp: pairs and states to the"
echo " components' owners; back: first members and cluster numbers to the"
echo " documents' owners; comp max: the most documents one rank clusters)"
