#!/bin/sh
# accounting.sh BUILD - the accounting check (tests/accounting.py) on
# generated corpora, and the check itself: it must catch a record lost,
# repeated or out of place, a cluster with two representatives, and a dedup
# that drops a representative.
# Prints each failure and "accounting: N passed, M failed" last.
set -u
B=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 -S $HERE/accounting.py"
ND=$B/neardup
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
cd "$W" || exit 2

# ok NAME ARGS...: the run is checked (ACCOUNTING_LOG grows) and exits 0.
export ACCOUNTING_LOG=$W/log
: > "$ACCOUNTING_LOG"
ok() {
    name=$1
    shift
    before=$(wc -l < "$ACCOUNTING_LOG")
    if $CHECK "$ND" "$@" > "$W/out" 2> "$W/err"; then
        if [ "$(wc -l < "$ACCOUNTING_LOG")" = $((before + 1)) ]; then
            pass=$((pass + 1))
        else
            echo "FAIL $name: not checked"
            fail=$((fail + 1))
        fi
    else
        echo "FAIL $name: exit $?"
        sed -n '1,5p' "$W/err"
        fail=$((fail + 1))
    fi
}

gen() { "$B/ndgen" --base "$HERE/../datasets/base-stories.txt" "$@"; }

# -------------------------------------------------- generated corpora
for preset in web ocr trunc wire hardneg pages digest; do
    gen --preset $preset --docs 400 --seed 2 > $preset.jsonl
    ok "cluster $preset" cluster -q $preset.jsonl
    ok "dedup $preset" dedup -q $preset.jsonl
done
gen --preset web --docs 3000 --seed 5 > big.jsonl
ok "cluster, 2 threads" cluster -q --threads 2 big.jsonl
ok "dedup, 1 thread, --memory 64K" dedup -q --threads 1 --memory 64K --tmpdir "$W" big.jsonl
ok "cluster --keep longest --cluster components" cluster -q --keep longest --cluster components big.jsonl
ok "dedup --cluster guarded --exact" dedup -q --cluster guarded --exact wire.jsonl
ok "dedup of standard input" dedup -q - < big.jsonl
gzip -c big.jsonl > big.jsonl.gz
ok "dedup of a gzip file and standard input" dedup -q big.jsonl.gz - < web.jsonl
# TSV with an id column, and text (one document a line)
python3 -c '
import json, sys
esc = lambda s: s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
print("id\ttext")
for l in open(sys.argv[1]):
    r = json.loads(l)
    print(esc(r["id"]) + "\t" + esc(r["text"]))
' wire.jsonl > wire.tsv
ok "cluster TSV" cluster -q wire.tsv
ok "dedup TSV twice" dedup -q wire.tsv wire.tsv
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["text"].replace("\n", " "))
' trunc.jsonl > trunc.txt
ok "dedup text" dedup -q trunc.txt
# a directory: hidden and binary files are not documents
mkdir -p docs/a docs/b
split -l 1 -a 3 trunc.txt docs/a/t
cp docs/a/taa* docs/b/
printf 'hidden' > docs/.hidden
printf 'bin\000ary' > docs/b/zz.bin
ok "dedup a directory" dedup docs
# bad records skipped with a warning: malformed JSON, no text, invalid
# UTF-8 under --strict
{ head -100 web.jsonl; echo '{"id": "broken", "text": '; sed -n '101,200p' web.jsonl
  echo '{"id": "notext"}'; printf '{"id": "utf", "text": "bad \377 byte"}\n'
  sed -n '201,400p' web.jsonl; } > bad.jsonl
ok "cluster --skip-bad --strict" cluster --skip-bad --strict bad.jsonl
ok "dedup --skip-bad --strict, 2 threads" dedup --skip-bad --strict --threads 2 bad.jsonl

# ------------------------------------------------- the check catches
# fake: a neardup whose output of command ONLY is spoiled as MODE says.
cat > fake <<EOS
#!/bin/sh
"$ND" "\$@" > "$W/real.out" || exit
[ "\$1" = "\$ONLY" ] || { cat "$W/real.out"; exit; }
case \$MODE in
drop) sed 3d "$W/real.out" ;;
repeat) sed 3p "$W/real.out" ;;
swap) sed -n '1h; 2{p; x; p}; 3,\$p' "$W/real.out" ;;
tworeps) sed '0,/"rep": false/s//"rep": true/' "$W/real.out" ;;
*) cat "$W/real.out" ;;
esac
EOS
chmod +x fake
for mode in drop repeat swap tworeps; do
    for cmd in cluster dedup; do
        [ $mode = tworeps ] && [ $cmd = dedup ] && continue
        ONLY=$cmd MODE=$mode $CHECK ./fake $cmd -q wire.jsonl > /dev/null 2> err
        code=$?
        if [ $code = 70 ] && grep -q '^accounting: ' err; then
            pass=$((pass + 1))
        else
            echo "FAIL the check passes a $cmd that does '$mode' (exit $code)"
            fail=$((fail + 1))
        fi
    done
done
ONLY=cluster MODE=none $CHECK ./fake cluster -q wire.jsonl > /dev/null 2> err &&
    ONLY=dedup MODE=none $CHECK ./fake dedup -q wire.jsonl > /dev/null 2>> err
code=$?
if [ $code = 0 ]; then pass=$((pass + 1)); else echo "FAIL the check refuses a faithful run"; cat err; fail=$((fail + 1)); fi

echo "accounting: $pass passed, $fail failed"
[ $fail = 0 ]
