#!/bin/sh
# install.sh BUILD - install into a scratch root and build the examples
# (with $SAN, the sanitizer flags the library was built with)
# against the installed header, library and neardup.pc, as a user would.
set -u
BUILD=${1:-build}
CC=${CC:-cc}
tmp=$(mktemp -d /tmp/nd-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "install: FAIL: $1" >&2; }

if make --no-print-directory BUILD="$BUILD" install DESTDIR="$tmp" PREFIX=/usr \
    >"$tmp/make.log" 2>&1; then ok; else ko "make install"; cat "$tmp/make.log" >&2; fi
for f in usr/include/neardup.h usr/lib/libneardup.so usr/lib/libneardup.a \
         usr/lib/pkgconfig/neardup.pc usr/bin/neardup usr/share/man/man1/neardup.1 \
         usr/share/bash-completion/completions/neardup; do
    if [ -e "$tmp/$f" ]; then ok; else ko "missing $f"; fi
done

# The man page reads and names every option of `neardup --help` and
# `neardup index --help` (as roff writes them: \- for -, \fB...\fR fonts).
man1=$tmp/usr/share/man/man1/neardup.1
nd=$tmp/usr/bin/neardup
if ! command -v man >/dev/null 2>&1 || man -l "$man1" >/dev/null 2>&1; then ok; else
    ko "man -l neardup.1"; fi
sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\[,/]//g' "$man1" >"$tmp/man.txt"
{ "$nd" --help; "$nd" index --help; } | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$tmp/opts"
missing=""
nopts=0
while read -r opt; do
    nopts=$((nopts + 1))
    grep -qF -- "$opt" "$tmp/man.txt" || missing="$missing $opt"
done <"$tmp/opts"
if [ -z "$missing" ] && [ "$nopts" -ge 30 ]; then ok; else
    ko "the man page lacks$missing ($nopts options in --help)"; fi

# Bash completion, as bash runs it: commands, options, choices, files.
comp() { # comp WORD...: what the completion offers for the last word ("" is _)
    (cd "$tmp/compdir" && PATH="$tmp/usr/bin:$PATH" bash -c '
        . "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
        [ "${COMP_WORDS[COMP_CWORD]}" = _ ] && COMP_WORDS[COMP_CWORD]=""
        _neardup; for w in "${COMPREPLY[@]}"; do echo "$w"; done' sh \
        "$tmp/usr/share/bash-completion/completions/neardup" "$@" | sort | tr '\n' ' ')
}
mkdir -p "$tmp/compdir/news.d" && : >"$tmp/compdir/news.jsonl"
while IFS='|' read -r words want; do
    # shellcheck disable=SC2086 # words is a list of words
    got=$(comp $words)
    if [ "$got" = "$want" ]; then ok; else
        ko "completion of '$words': '$got', want '$want'"; fi
done <<'CASES'
neardup cl|cluster 
neardup index e|evict 
neardup cluster --clu|--cluster 
neardup cluster --thre|--threads --threshold 
neardup dedup --cluster a|attach 
neardup dedup --cluster=c|components 
neardup pairs --keep l|longest 
neardup cluster --format _|jsonl text tsv 
neardup cluster --sketch c|cminhash 
neardup index add --sync|--sync-every 
neardup cluster --threshold 0|
neardup cluster ne|news.d news.jsonl 
neardup cluster --tmpdir ne|news.d 
CASES

# pkg-config paths from the .pc, relocated into the scratch root
export PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$tmp"
flags=$(pkg-config --cflags --libs neardup) || flags=""
if [ -n "$flags" ]; then ok; else ko "pkg-config --cflags --libs neardup"; fi
for ex in stream_dedup index_threads cluster; do
    # shellcheck disable=SC2086
    if $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror ${SAN:-} -o "$tmp/$ex" \
        "examples/$ex.c" $flags -lpthread -Wl,-rpath,"$tmp/usr/lib" \
        2>"$tmp/$ex.log"; then ok; else ko "compile $ex"; cat "$tmp/$ex.log" >&2; fi
done

# the examples link the installed library, not the build tree
if ldd "$tmp/stream_dedup" 2>/dev/null | grep -q "$tmp/usr/lib/libneardup.so"; then
    ok; else ko "stream_dedup does not use the installed library"; fi

cat >"$tmp/in.jsonl" <<'JSON'
{"id": "a", "text": "The Senate passed the bill late on Tuesday after a long debate over spending and taxes"}
{"id": 2, "text": "the senate passed the bill late on tuesday after a long debate over spending and taxes."}
{"id": "c", "text": "Heavy rain flooded several streets in the old town and the river rose above its banks"}
{"id": "d", "text": "HEAVY RAIN flooded several streets in the old town, and the river rose above its banks!"}
{"id": "e", "text": "An unrelated note about a chess tournament held in a small village library"}
JSON
cat >"$tmp/want1" <<'OUT'
{"id": "a", "duplicate_of": null}
{"id": 2, "duplicate_of": "a", "jaccard": 1.0000}
{"id": "c", "duplicate_of": null}
{"id": "d", "duplicate_of": "c", "jaccard": 1.0000}
{"id": "e", "duplicate_of": null}
OUT
if "$tmp/stream_dedup" <"$tmp/in.jsonl" >"$tmp/got1" 2>/dev/null &&
    cmp -s "$tmp/got1" "$tmp/want1"; then ok; else
    ko "stream_dedup output"; diff "$tmp/want1" "$tmp/got1" >&2; fi

# the library's reader: a .gz file given by name reads as the stream did
gzip -c "$tmp/in.jsonl" >"$tmp/in.jsonl.gz"
if "$tmp/stream_dedup" "$tmp/in.jsonl.gz" >"$tmp/got1z" 2>/dev/null &&
    cmp -s "$tmp/got1z" "$tmp/want1"; then ok; else
    ko "stream_dedup FILE.gz"; diff "$tmp/want1" "$tmp/got1z" >&2; fi

# bad records are named by file and line, skipped and counted: exit 65
cat >"$tmp/bad.jsonl" <<'JSON'
{"id": "a", "text": "The Senate passed the bill late on Tuesday after a long debate over spending and taxes"}
{"id": "b", "text": "the senate passed the bill late on tuesday after a long debate over spending and taxes."
{"id": "a", "text": "Heavy rain flooded several streets in the old town and the river rose above its banks"}
{"text": "the senate passed the bill late on tuesday after a long debate over spending and taxes"}
JSON
cat >"$tmp/want3" <<OUT
{"id": "a", "duplicate_of": null}
{"id": "$tmp/bad.jsonl:4", "duplicate_of": "a", "jaccard": 1.0000}
OUT
"$tmp/stream_dedup" "$tmp/bad.jsonl" >"$tmp/got3" 2>"$tmp/err3"
code=$?
if [ "$code" = 65 ] && cmp -s "$tmp/got3" "$tmp/want3" &&
    grep -q "^stream_dedup: $tmp/bad.jsonl:2: " "$tmp/err3" &&
    grep -qx "stream_dedup: $tmp/bad.jsonl:3: id \"a\" is already indexed" "$tmp/err3" &&
    grep -qx "stream_dedup: 4 records: 2 tagged (1 duplicates), 2 bad" "$tmp/err3"; then ok; else
    ko "stream_dedup bad records (exit $code)"; cat "$tmp/got3" "$tmp/err3" >&2; fi

# a persistent index: a second run with new ids finds the first run's
sed 's/"id": "\([a-z]\)"/"id": "\1\1"/; s/"id": 2,/"id": 22,/' "$tmp/in.jsonl" >"$tmp/in2.jsonl"
cat >"$tmp/want2" <<'OUT'
{"id": "aa", "duplicate_of": "a", "jaccard": 1.0000}
{"id": 22, "duplicate_of": "a", "jaccard": 1.0000}
{"id": "cc", "duplicate_of": "c", "jaccard": 1.0000}
{"id": "dd", "duplicate_of": "c", "jaccard": 1.0000}
{"id": "ee", "duplicate_of": "e", "jaccard": 1.0000}
OUT
"$tmp/stream_dedup" -d "$tmp/idx" <"$tmp/in.jsonl" >/dev/null 2>&1
if "$tmp/stream_dedup" -d "$tmp/idx" <"$tmp/in2.jsonl" >"$tmp/got2" 2>/dev/null &&
    cmp -s "$tmp/got2" "$tmp/want2"; then ok; else
    ko "stream_dedup -d across runs"; diff "$tmp/want2" "$tmp/got2" >&2; fi

if "$tmp/index_threads" 2 >/dev/null; then ok; else ko "index_threads"; fi

make --no-print-directory BUILD="$BUILD" uninstall DESTDIR="$tmp" PREFIX=/usr >"$tmp/make.log" 2>&1
left=$(find "$tmp/usr" -type f -o -type l)
if [ -z "$left" ]; then ok; else ko "make uninstall left $left"; fi

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
