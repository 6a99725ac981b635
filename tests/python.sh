#!/bin/sh
# python.sh BUILD - install the Python package (python/) into a virtual
# environment under BUILD, offline, as a user would (pip builds libneardup
# into it), and run the tests it ships against the command of BUILD.
# With $SAN set (make asan, make ubsan) the package ships BUILD's
# sanitized library instead of building its own; for AddressSanitizer its
# runtime is preloaded into the interpreter, which is not built with it
# (Python's own allocations are not leak-checked).
set -eu
BUILD=${1:-build}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3   # Debian's, with python3-pytest
VENV=$BUILD/pyenv
rm -rf "$VENV"
$PY -m venv --system-site-packages "$VENV"
if [ -n "${SAN:-}" ]; then
    NEARDUP_PREBUILT="$PWD/$BUILD/libneardup.so.0"
    export NEARDUP_PREBUILT
fi
"$VENV/bin/python" -m pip install -q --no-build-isolation --no-index \
    --disable-pip-version-check ./python >"$VENV.log" 2>&1 || {
    cat "$VENV.log" >&2
    echo "python.sh: pip install ./python failed" >&2
    exit 1
}
unset NEARDUP_LIB
case "${SAN:-}" in
*address*)
    LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so)
    export LD_PRELOAD
    export ASAN_OPTIONS=detect_leaks=0
    ;;
esac
NEARDUP_CLI="$PWD/$BUILD/neardup" NEARDUP_NDGEN="$PWD/$BUILD/ndgen" \
NEARDUP_ROOT="$PWD" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider --pyargs neardup.tests \
    --rootdir "$VENV"
