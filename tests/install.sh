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
         usr/lib/pkgconfig/neardup.pc usr/bin/neardup; do
    if [ -e "$tmp/$f" ]; then ok; else ko "missing $f"; fi
done

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

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
