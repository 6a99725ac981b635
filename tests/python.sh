#!/bin/sh
# python.sh BUILD - run the pytest files under python/ against BUILD's library.
# With $SAN holding -fsanitize=address (make asan), the sanitizer's runtime is
# preloaded into the interpreter, which is not built with it; Python's own
# allocations are not leak-checked.  (UBSan needs no preload.)
set -eu
BUILD=${1:-build}
if ! ls python/test_*.py >/dev/null 2>&1; then exit 0; fi
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3   # Debian's python3 has python3-pytest
case "${SAN:-}" in
*address*)
    LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so)
    export LD_PRELOAD
    export ASAN_OPTIONS=detect_leaks=0
    ;;
esac
NEARDUP_LIB="$PWD/$BUILD/libneardup.so" $PY -m pytest -q -p no:cacheprovider python
