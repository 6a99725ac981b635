#!/bin/sh
# run.sh BUILD - neardup-mpi against neardup: for each command and option
# set, the output of 1, 2, 3 and 4 ranks (oversubscribed, loopback only)
# must be byte-identical to the single process's, on generated corpora:
# one file of 10,000 documents cut among the ranks, 40,000 (three sampling
# levels of the boilerplate count), files of different sizes, fewer files
# than ranks, gzip (read whole by one rank), text and TSV files, records
# without ids (FILE:LINE ids across the cuts), CRLF lines, bad records
# under --skip-bad in several ranks' parts (the same warnings in the same
# order); standard output and -o through a link; --stats: no ids, pairs or
# records sent to rank 0; the candidates made and
# verified by the ranks: the same counts as one process's, with buckets
# over the cap, containment and partial pairs, and all keys on one rank;
# the clusters made by connected component on the ranks (components,
# guarded and attach, the keep policies, --memory, --exact): a giant
# component that crosses the ranks' shares, many singletons, digests, and
# the components found exactly those of one process; the rows of pairs
# written by the ranks owning their first documents (partners on other
# ranks, ranks without pairs, all pairs on the first or the last rank,
# the same counters).  Then the faults: a rank
# killed where it hands its share over, or while the ranks write their
# rows into the temporary output file, an input missing on one rank, inputs that differ between ranks: each
# fails the job, names the rank and host, and leaves no output file.
set -u
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 2
ND=$ROOT/$BUILD/neardup
MPI=$ROOT/$BUILD/neardup-mpi
if [ ! -x "$MPI" ] || ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi: skipped (no $MPI or no mpirun: Open MPI is not installed)"
    exit 0
fi
T=$(mktemp -d /tmp/nd-mpi-XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT
# Root may start ranks in a container; only the loopback transports.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_tcp_if_include=lo \
       OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_plm_rsh_agent=false
# Under AddressSanitizer: Open MPI leaves allocations of its plugins at
# exit, after unloading them (no stack to tell them by), so leaks are not
# checked here; the library's are, by the other suites running the same
# stages in neardup.  Every other error still fails the run.
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
RUN="mpirun --oversubscribe --bind-to none"
HOST=$(hostname)
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "mpi: FAIL: $1" >&2; }

"$BUILD/ndgen" --docs 10000 --seed 7 --out "$T/big.jsonl" || exit 2
# 40,000 documents: three sampling levels of the boilerplate count (every
# text to 2^14, every second to 2^15, every fourth after), where per-rank
# halving would round differently from the single process.
"$BUILD/ndgen" --docs 40000 --seed 12 --out "$T/levels.jsonl" || exit 2
"$BUILD/ndgen" --preset trunc --docs 1500 --seed 8 --out "$T/s1.jsonl" || exit 2
"$BUILD/ndgen" --preset hardneg --docs 1500 --seed 9 --out "$T/s2.jsonl" || exit 2
printf 'reuters\nap\n' >"$T/prio"
gzip -c "$T/s2.jsonl" >"$T/s2.jsonl.gz"
# No ids: each record is named FILE:LINE, also past a cut; CRLF lines.
sed 's/^{"id": "[^"]*", /{/' "$T/big.jsonl" >"$T/noid.jsonl"
sed 's/$/\r/' "$T/s1.jsonl" >"$T/crlf.jsonl"
# One document a line (text format), blank lines among them.
head -3000 "$T/big.jsonl" | sed 's/^.*"text": "//; s/", "source".*$//; 0~97s/^.*$//' >"$T/lines.txt"
# A directory: a document a file, whole to one rank.
mkdir -p "$T/dir/sub"
for i in $(seq 1 40); do sed -n "${i}p" "$T/lines.txt" >"$T/dir/f$i.txt"; done
for i in $(seq 41 60); do sed -n "${i}p" "$T/lines.txt" >"$T/dir/sub/g$i.txt"; done
cp "$T/dir/f3.txt" "$T/dir/sub/copy.txt"
# TSV: whole to one rank (its header names the columns).
{ printf 'id\ttext\n'; head -2000 "$T/s2.jsonl" |
  sed 's/^{"id": "\([^"]*\)", "text": "\(.*\)", "source".*$/\1\t\2/'; } >"$T/t.tsv"

# same CMD ARGS...: neardup-mpi on 1..4 ranks writes what neardup writes.
same() {
    cmd=$1
    shift
    "$ND" "$cmd" -q "$@" -o "$T/want" 2>"$T/want.err"
    a=$?
    if [ "$a" != 0 ] || [ ! -s "$T/want" ]; then
        ko "neardup $cmd $*: exit $a"
        cat "$T/want.err" >&2
        return
    fi
    for n in 1 2 3 4; do
        rm -f "$T/got"
        $RUN -np $n "$MPI" "$cmd" -q "$@" -o "$T/got" >"$T/got.out" 2>"$T/got.err"
        b=$?
        if [ "$b" = 0 ] && cmp -s "$T/want" "$T/got"; then
            ok
        else
            ko "$n ranks: $cmd $*: exit $b"
            cmp "$T/want" "$T/got" >&2
            head -5 "$T/got.err" >&2
        fi
    done
}

same cluster "$T/big.jsonl"
same cluster "$T/levels.jsonl"
same cluster "$T/s1.jsonl" "$T/big.jsonl" "$T/s2.jsonl"
same dedup "$T/s2.jsonl.gz" "$T/s1.jsonl"
same cluster "$T/noid.jsonl"
same dedup "$T/crlf.jsonl" "$T/s2.jsonl"
same cluster "$T/lines.txt"
# Fewer records than ranks: the ranks left without one still take part.
head -2 "$T/s1.jsonl" >"$T/two.jsonl"
same dedup "$T/two.jsonl"
same dedup "$T/t.tsv" "$T/s1.jsonl"
same dedup "$T/dir" "$T/s1.jsonl" "$T/dir/sub"
same pairs --explain "$T/noid.jsonl"
same cluster "$T/s1.jsonl" "$T/s2.jsonl"
same dedup "$T/big.jsonl"
same dedup "$T/s1.jsonl" "$T/s2.jsonl"
same pairs "$T/big.jsonl"
same pairs --explain "$T/s1.jsonl" "$T/s2.jsonl"
same cluster --memory 64K "$T/big.jsonl"
same cluster --exact "$T/s1.jsonl" "$T/big.jsonl"
same cluster --cluster components --keep longest "$T/big.jsonl"
same cluster --cluster guarded "$T/big.jsonl"
same cluster --keep earliest --time-field published --window 3d "$T/big.jsonl"
same cluster --keep source --source-priority "$T/prio" "$T/big.jsonl"
same cluster --sketch kperm --num-perm 64 --figures 0 "$T/big.jsonl"
same cluster --ngram 3 --boilerplate 0 --containment 0 "$T/big.jsonl"
same pairs --char-ngram 5 --threshold 0.6 --threads 1 "$T/s2.jsonl"

# --stats: the same document and text counters as one process.
"$ND" cluster -q --stats "$T/big.jsonl" -o "$T/want" 2>"$T/want.err"
$RUN -np 3 "$MPI" cluster -q --stats "$T/big.jsonl" -o "$T/got" 2>"$T/got.err"
if [ -s "$T/want.err" ] &&
   [ "$(sed 's/[0-9.]* s\b.*//' "$T/want.err")" = "$(grep -v '^neardup-mpi:' "$T/got.err" | sed 's/[0-9.]* s\b.*//')" ] &&
   grep -q "^neardup-mpi: 3 ranks; the shares sent to rank 0: [1-9][0-9]* bytes" "$T/got.err"; then
    ok
else
    ko "--stats on 3 ranks differs"
    cat "$T/want.err" "$T/got.err" >&2
fi

# The rows of cluster and dedup are written by the ranks that own the
# documents: rank 0 receives no ids and no records (the rows' data is the
# ranks' counters, under a byte a document), no verified pair and no
# state (the components are clustered on their owners), and sends no
# clusters back.
grep -q "the rows' data: [0-9]* bytes, 0.0 a document$" "$T/got.err" &&
    grep -q "states fetched [0-9.]* ([0-9]* states)$" "$T/got.err" &&
    grep -q "^neardup-mpi: clusters by connected component: [1-9][0-9]* rounds of labels" "$T/got.err" &&
    ! grep -q "pairs' rows" "$T/got.err" &&
    ok || { ko "--stats on 3 ranks: the rows' data"; cat "$T/got.err" >&2; }
# The rows of pairs are written by the ranks owning their first documents,
# which fetch the ids of the partners held elsewhere: rank 0 receives the
# counters only (80 bytes a rank: under a byte a document), and the
# counters (clusters too) are one process's.
for m in components guarded attach; do
    "$ND" pairs -q --stats --cluster $m "$T/s1.jsonl" -o "$T/want" 2>"$T/want.err"
    $RUN -np 3 "$MPI" pairs -q --stats --cluster $m "$T/s1.jsonl" -o "$T/got" 2>"$T/got.err"
    if cmp -s "$T/want" "$T/got" &&
       [ "$(sed 's/[0-9.]* s$//' "$T/want.err")" = "$(grep -v '^neardup-mpi:' "$T/got.err" | sed 's/[0-9.]* s$//')" ] &&
       grep -q "the rows' data: [0-9]* bytes, 0\.[0-9] a document$" "$T/got.err" &&
       grep -q "^neardup-mpi: the pairs' rows by the owners of their first documents: the partners' ids fetched [1-9][0-9.]* bytes a document ([1-9][0-9]* documents)$" "$T/got.err"; then
        ok
    else
        ko "--stats of pairs on 3 ranks, --cluster $m"
        diff "$T/want.err" "$T/got.err" >&2
    fi
done
# Candidates and verification shared among the ranks (band keys sent to
# the rank owning the key, pairs to the rank owning their first document,
# states fetched from their owners): the same candidate, edge, refused
# and capped counts as one process (--stats) and the same rows, for 1 to
# 4 ranks, on truncated copies (containment pairs), digests (attach's
# partial pairs), a corpus whose buckets exceed the cap (copies of one
# text and of its first third), and copies alone (each band's keys all
# equal, so all on one rank).
line1=$(head -1 "$T/big.jsonl" | sed 's/^{"id": "[^"]*", "text": "\([^"]*\)".*$/\1/')
third=$(printf '%s' "$line1" | cut -c1-$((${#line1} / 3)))
third=${third% *}
{
    for i in $(seq 1 200); do printf '{"id": "c%d", "text": "%s"}\n' "$i" "$line1"; done
    for i in $(seq 1 100); do printf '{"id": "t%d", "text": "%s"}\n' "$i" "$third"; done
    head -500 "$T/s1.jsonl"
} >"$T/capped.jsonl"
for i in $(seq 1 300); do printf '{"id": "s%d", "text": "%s"}\n' "$i" "$line1"; done >"$T/copies.jsonl"
"$BUILD/ndgen" --preset digest --docs 1500 --seed 10 --out "$T/digest.jsonl" || exit 2
counts() {
    grep '^neardup:' "$1" | sed 's/[0-9.]* s$//'
}
for f in s1 digest capped copies; do
    "$ND" cluster -q --stats "$T/$f.jsonl" -o "$T/want" 2>"$T/want.err"
    counts "$T/want.err" >"$T/want.txt"
    case $f in
    capped | copies) grep -q ' [1-9][0-9]* capped buckets' "$T/want.txt" ||
        ko "$f: no capped bucket in one process" ;;
    esac
    for n in 1 2 3 4; do
        $RUN -np $n "$MPI" cluster -q --stats "$T/$f.jsonl" -o "$T/got" 2>"$T/got.err"
        counts "$T/got.err" >"$T/got.txt"
        if cmp -s "$T/want" "$T/got" && cmp -s "$T/want.txt" "$T/got.txt" &&
           grep -q ' [1-9][0-9]* candidate pairs, [1-9][0-9]* edges' "$T/got.txt"; then
            ok
        else
            ko "shared candidates, $f, $n ranks"
            diff "$T/want.txt" "$T/got.txt" >&2
            cmp "$T/want" "$T/got" >&2
        fi
    done
done
same pairs "$T/capped.jsonl"
same cluster --exact --cluster guarded "$T/capped.jsonl"
same dedup --memory 64K --keep longest "$T/digest.jsonl"

# The clusters are made by connected component, each on one rank (a hash
# of its smallest document).  A chain of 600 texts, each a 200-word
# window of one word stream 5 words on from the last (a neighbour alike,
# a text 40 away sharing nothing), shuffled (stride 233) and spread among
# 2,400 other documents: one giant component under components that
# crosses the ranks' shares back and forth, split by guarded and attach.
head -400 "$T/big.jsonl" | sed 's/^{"id": "[^"]*", "text": "\([^"]*\)".*$/\1/; s/\\n/ /g; s/\\//g' |
    tr -s ' ' '\n' | grep -v '^$' >"$T/words"
awk -v N=600 '{ w[n++] = $0 } END {
    for (p = 0; p < N; p++) {
        i = (p * 233) % N
        t = w[i * 5]
        for (k = 1; k < 200; k++) t = t " " w[i * 5 + k]
        printf "{\"id\": \"z%d\", \"text\": \"%s\"}\n", i, t
    }
}' "$T/words" >"$T/chainonly.jsonl"
head -2400 "$T/levels.jsonl" |
    awk 'NR == FNR { c[NR] = $0; n = NR; next } { print } FNR % 4 == 0 && k < n { print c[++k] }' \
        "$T/chainonly.jsonl" - >"$T/chain.jsonl"
# Many singletons: 3,000 texts of 150 words drawn at random, every 100th
# copied at the end (pairs from the first rank's share to the last's).
awk 'BEGIN { srand(5) } { w[n++] = $0 } END {
    for (d = 0; d < 3000; d++) {
        t = w[int(rand() * n)]
        for (k = 1; k < 150; k++) t = t " " w[int(rand() * n)]
        printf "{\"id\": \"r%d\", \"text\": \"%s\"}\n", d, t
    }
}' "$T/words" >"$T/singles.jsonl"
awk 'NR % 100 == 1 { sub(/"id": "r/, "\"id\": \"copy"); print }' "$T/singles.jsonl" >"$T/rcopies"
cat "$T/rcopies" >>"$T/singles.jsonl"
# The corpora are what they say: one cluster of 600 or more under
# components, none under guarded; 30 pairs among singletons.
"$ND" cluster -q --cluster components "$T/chain.jsonl" -o "$T/want"
big=$(sed 's/.*"cluster": \([0-9]*\).*/\1/' "$T/want" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
"$ND" cluster -q --cluster guarded "$T/chain.jsonl" -o "$T/want"
bigg=$(sed 's/.*"cluster": \([0-9]*\).*/\1/' "$T/want" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
"$ND" dedup -q "$T/singles.jsonl" -o "$T/want"
if [ "$big" -ge 600 ] && [ "$bigg" -lt 600 ] && [ "$(wc -l <"$T/want")" = 3000 ]; then
    ok
else
    ko "the chain and singletons corpora: largest clusters $big and $bigg, $(wc -l <"$T/want") kept"
fi
for m in components guarded attach; do
    same cluster --cluster $m "$T/chain.jsonl"
    same dedup --cluster $m "$T/singles.jsonl" "$T/chain.jsonl"
done
# pairs: the copies at the end pair with documents of the first ranks
# (their ids, and texts for --explain, fetched from there); the chain's
# pairs cross the shares back and forth.
same pairs "$T/singles.jsonl" "$T/chain.jsonl"
same pairs --explain "$T/singles.jsonl"
same pairs --memory 64K --cluster guarded "$T/chain.jsonl"
# All pairs among the first documents, the other ranks with none (and the
# reverse: all on the last rank, none on the others).  The 300 paired
# texts are under a quarter of the bytes, so on 2 to 4 ranks every rank
# but one holds no first document of a pair.
head -3000 "$T/singles.jsonl" >"$T/alone.jsonl"
head -300 "$T/s1.jsonl" >"$T/few.jsonl"
cat "$T/few.jsonl" "$T/alone.jsonl" >"$T/pfirst.jsonl"
cat "$T/alone.jsonl" "$T/few.jsonl" >"$T/plast.jsonl"
"$ND" pairs -q "$T/pfirst.jsonl" -o "$T/want"
if [ $(($(wc -c <"$T/few.jsonl") * 4)) -lt "$(wc -c <"$T/pfirst.jsonl")" ] &&
   [ "$(wc -l <"$T/want")" -gt 100 ] && ! grep -q '"r[0-9]' "$T/want"; then
    ok
else
    ko "the corpora of pairs on one rank: $(wc -l <"$T/want") pairs"
fi
same pairs "$T/pfirst.jsonl"
same pairs --stats "$T/plast.jsonl"
same pairs --explain "$T/plast.jsonl"
same cluster --cluster guarded "$T/digest.jsonl"
same cluster --keep longest "$T/chain.jsonl" "$T/singles.jsonl"
same dedup --keep earliest --time-field published "$T/chain.jsonl"
same cluster --cluster components --keep source --source-priority "$T/prio" "$T/singles.jsonl" "$T/chain.jsonl"
same cluster --cluster components --memory 64K "$T/chain.jsonl"
same dedup --exact "$T/chain.jsonl"
# The giant component crosses the ranks: its pairs and states go to the
# rank that clusters it, the labels take rounds, and one rank clusters it;
# the counters are one process's, and the components found are exactly
# the clusters of two documents or more of --cluster components (the
# output alone would not tell: clustering two components together gives
# the same clusters).
"$ND" cluster -q --stats --cluster components "$T/chain.jsonl" -o "$T/want" 2>"$T/want.err"
counts "$T/want.err" >"$T/want.txt"
ncomp=$(sed 's/.*"cluster": \([0-9]*\).*/\1/' "$T/want" | sort | uniq -c | awk '$1 > 1' | wc -l)
ndocs=$(sed 's/.*"cluster": \([0-9]*\).*/\1/' "$T/want" | sort | uniq -c | awk '$1 > 1 { s += $1 } END { print s }')
for n in 1 2 3 4; do
    $RUN -np $n "$MPI" cluster -q --stats --cluster components "$T/chain.jsonl" -o "$T/got" 2>"$T/got.err"
    counts "$T/got.err" >"$T/got.txt"
    if cmp -s "$T/want" "$T/got" && cmp -s "$T/want.txt" "$T/got.txt" &&
       grep -q "^neardup-mpi: clusters by connected component: [2-9][0-9]* rounds of labels, [0-9.]* bytes a document; pairs and states to the components' owners [0-9.]*; first members and cluster numbers back [0-9.]*; $ncomp components of $ndocs documents, at most \([6-9][0-9][0-9]\|[1-9][0-9][0-9][0-9]\) documents clustered on one rank" "$T/got.err" &&
       { [ $n = 1 ] || grep -q "components' owners [1-9][0-9.]*;" "$T/got.err"; }; then
        ok
    else
        ko "the giant component on $n ranks ($ncomp components of $ndocs documents)"
        diff "$T/want.txt" "$T/got.txt" >&2
        grep '^neardup-mpi:' "$T/got.err" >&2
    fi
done
# The same on the 10,000 documents (attach: the partners of partial pairs
# go along, read, not clustered).
"$ND" cluster -q --cluster components "$T/big.jsonl" -o "$T/want"
ncomp=$(sed 's/.*"cluster": \([0-9]*\).*/\1/' "$T/want" | sort | uniq -c | awk '$1 > 1' | wc -l)
"$ND" cluster -q "$T/big.jsonl" -o "$T/want"
$RUN -np 3 "$MPI" cluster -q --stats "$T/big.jsonl" -o "$T/got" 2>"$T/got.err"
if cmp -s "$T/want" "$T/got" && grep -q " $ncomp components of " "$T/got.err"; then
    ok
else
    ko "the components of the 10,000 documents on 3 ranks ($ncomp)"
    grep '^neardup-mpi:' "$T/got.err" >&2
fi

# Standard output: the ranks' rows in order through rank 0.
for n in 1 3; do
    "$ND" cluster -q "$T/big.jsonl" >"$T/want"
    $RUN -np $n "$MPI" cluster -q "$T/big.jsonl" >"$T/got" 2>"$T/got.err"
    b=$?
    "$ND" dedup -q "$T/s1.jsonl" "$T/t.tsv" "$T/s2.jsonl" >"$T/want2"
    $RUN -np $n "$MPI" dedup -q "$T/s1.jsonl" "$T/t.tsv" "$T/s2.jsonl" >"$T/got2" 2>>"$T/got.err"
    c=$?
    "$ND" pairs -q "$T/s1.jsonl" >"$T/want3"
    $RUN -np $n "$MPI" pairs -q "$T/s1.jsonl" >"$T/got3" 2>>"$T/got.err"
    d=$?
    if [ "$b" = 0 ] && [ "$c" = 0 ] && [ "$d" = 0 ] && cmp -s "$T/want" "$T/got" &&
       cmp -s "$T/want2" "$T/got2" && cmp -s "$T/want3" "$T/got3"; then
        ok
    else
        ko "stdout on $n ranks"
        cat "$T/got.err" >&2
    fi
done
# -o through a symbolic link: the file it names is replaced, the link stays.
"$ND" dedup -q "$T/s2.jsonl" -o "$T/want"
: >"$T/real"
ln -sf "$T/real" "$T/link"
$RUN -np 3 "$MPI" dedup -q "$T/s2.jsonl" -o "$T/link" 2>"$T/got.err"
if [ -L "$T/link" ] && cmp -s "$T/want" "$T/real"; then
    ok
else
    ko "-o through a link on 3 ranks"
    cat "$T/got.err" >&2
fi

# --skip-bad: the warning once, with its file and line, and the same rows.
{ head -100 "$T/s1.jsonl"; echo '{"id": "bad", "text": }'; tail -n +101 "$T/s1.jsonl"; } >"$T/bad.jsonl"
"$ND" cluster --skip-bad "$T/bad.jsonl" -o "$T/want" 2>"$T/want.err"
$RUN -np 2 "$MPI" cluster --skip-bad "$T/bad.jsonl" -o "$T/got" 2>"$T/got.err"
if cmp -s "$T/want" "$T/got" && cmp -s "$T/want.err" "$T/got.err" &&
   grep -q "bad.jsonl:101:" "$T/got.err"; then
    ok
else
    ko "--skip-bad on 2 ranks"
    cat "$T/want.err" "$T/got.err" >&2
fi
# Bad records in several ranks' parts: each warned about once, in input
# order, exactly as neardup words them, and the same rows.
awk 'NR % 1300 == 7 { print "{\"id\": \"bad" NR "\", \"text\": }" } { print }' \
    "$T/big.jsonl" >"$T/bads.jsonl"
"$ND" dedup --skip-bad "$T/bads.jsonl" -o "$T/want" 2>"$T/want.err"
for n in 1 2 3 4; do
    $RUN -np $n "$MPI" dedup --skip-bad "$T/bads.jsonl" -o "$T/got" 2>"$T/got.err"
    if cmp -s "$T/want" "$T/got" && cmp -s "$T/want.err" "$T/got.err" &&
       [ "$(grep -c 'record skipped' "$T/got.err")" = 8 ]; then
        ok
    else
        ko "--skip-bad, bad records in every part, $n ranks"
        diff "$T/want.err" "$T/got.err" >&2
    fi
done
# Invalid UTF-8 under --strict --skip-bad in several parts: the same rows,
# warnings and counters (--stats, its time left out).
awk 'NR % 2900 == 5 { sub(/"text": "/, "\"text\": \"bad \377 byte ") } { print }' \
    "$T/big.jsonl" >"$T/u8.jsonl"
"$ND" dedup --strict --skip-bad --stats "$T/u8.jsonl" -o "$T/want" 2>"$T/want.err"
sed 's/[0-9.]* s$//' "$T/want.err" >"$T/want.txt"
for n in 2 4; do
    $RUN -np $n "$MPI" dedup --strict --skip-bad --stats "$T/u8.jsonl" -o "$T/got" 2>"$T/got.err"
    grep -v '^neardup-mpi:' "$T/got.err" | sed 's/[0-9.]* s$//' >"$T/got.txt"
    if cmp -s "$T/want" "$T/got" && cmp -s "$T/want.txt" "$T/got.txt" &&
       [ "$(grep -c 'invalid UTF-8 (--strict)' "$T/got.txt")" = 4 ]; then
        ok
    else
        ko "--strict --skip-bad, $n ranks"
        diff "$T/want.txt" "$T/got.txt" >&2
    fi
done
# Without it: exit 65, the record named, no output.
$RUN -np 2 "$MPI" cluster "$T/bad.jsonl" -o "$T/none" 2>"$T/got.err"
b=$?
if [ "$b" = 65 ] && [ ! -e "$T/none" ] && grep -q "bad.jsonl:101:" "$T/got.err"; then
    ok
else
    ko "a bad record on 2 ranks: exit $b"
    cat "$T/got.err" >&2
fi

# no_output DIR: nothing but what the test put there.
no_output() {
    [ "$(ls -A "$1" | grep -v '^in\.jsonl$' | wc -l)" = 0 ]
}

# A rank killed where it would hand its share over: the job fails, mpirun
# names the rank, the host and the signal, and no output is left.
for r in 0 1 2; do
    mkdir -p "$T/kill$r"
    NEARDUP_MPI_DIE=$r $RUN -np 3 "$MPI" cluster -q "$T/big.jsonl" -o "$T/kill$r/out" \
        >/dev/null 2>"$T/got.err"
    b=$?
    if [ "$b" != 0 ] && no_output "$T/kill$r" && grep -q "rank $r" "$T/got.err" &&
       grep -q "$HOST" "$T/got.err" && grep -qi "signal 9\|killed" "$T/got.err"; then
        ok
    else
        ko "rank $r killed: exit $b"
        ls -A "$T/kill$r" >&2
        cat "$T/got.err" >&2
    fi
done

# A rank killed while the ranks write their rows into the temporary file
# beside -o: the job fails, no output and no temporary file are left
# (dedup, and pairs on rank 1).
for r in 0 1 2 p1; do
    cmd=dedup
    case $r in p*) cmd=pairs r=${r#p} ;; esac
    mkdir -p "$T/rows$cmd$r"
    NEARDUP_MPI_DIE=$r:rows $RUN -np 3 "$MPI" $cmd -q "$T/big.jsonl" -o "$T/rows$cmd$r/out" \
        >/dev/null 2>"$T/got.err"
    b=$?
    if [ "$b" != 0 ] && no_output "$T/rows$cmd$r" && grep -q "rank $r" "$T/got.err" &&
       grep -qi "signal 9\|killed" "$T/got.err"; then
        ok
    else
        ko "rank $r killed writing the rows of $cmd: exit $b"
        ls -A "$T/rows$cmd$r" >&2
        cat "$T/got.err" >&2
    fi
done

# An input missing on one rank (node-local input, one node without it):
# the rank names itself, its host and the file; exit 2, no output.
mkdir -p "$T/d0" "$T/d1" "$T/o"
cp "$T/s1.jsonl" "$T/d0/in.jsonl"
$RUN -np 1 -wdir "$T/d0" "$MPI" cluster -q in.jsonl -o "$T/o/out" : \
     -np 1 -wdir "$T/d1" "$MPI" cluster -q in.jsonl -o "$T/o/out" 2>"$T/got.err"
b=$?
if [ "$b" = 2 ] && [ -z "$(ls -A "$T/o")" ] &&
   grep -q "neardup-mpi: rank 1 on $HOST: .*in.jsonl" "$T/got.err"; then
    ok
else
    ko "an input missing on rank 1: exit $b"
    ls -A "$T/o" >&2
    cat "$T/got.err" >&2
fi
# Inputs that differ between the ranks: exit 65, no output.
head -1000 "$T/s1.jsonl" >"$T/d1/in.jsonl"
$RUN -np 1 -wdir "$T/d0" "$MPI" cluster -q in.jsonl -o "$T/o/out" : \
     -np 1 -wdir "$T/d1" "$MPI" cluster -q in.jsonl -o "$T/o/out" 2>"$T/got.err"
b=$?
if [ "$b" = 65 ] && [ -z "$(ls -A "$T/o")" ] &&
   grep -q "rank 1 on $HOST: in.jsonl is [0-9]* bytes here and [0-9]* on rank 0" "$T/got.err"; then
    ok
else
    ko "inputs that differ: exit $b"
    cat "$T/got.err" >&2
fi
# Standard input reaches one rank only: refused.
$RUN -np 2 "$MPI" cluster -q </dev/null >/dev/null 2>"$T/got.err"
b=$?
if [ "$b" = 1 ] && grep -q "standard input" "$T/got.err"; then
    ok
else
    ko "stdin: exit $b"
    cat "$T/got.err" >&2
fi

echo "mpi: $pass passed, $fail failed"
[ "$fail" = 0 ]
