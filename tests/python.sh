#!/bin/sh
# python.sh BUILD - run the pytest files under python/ against BUILD's library.
set -eu
BUILD=${1:-build}
if ! ls python/test_*.py >/dev/null 2>&1; then exit 0; fi
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3   # Debian's python3 has python3-pytest
NEARDUP_LIB="$PWD/$BUILD/libneardup.so" $PY -m pytest -q python
