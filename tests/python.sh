#!/bin/sh
# python.sh BUILD - run the pytest files under python/ against BUILD's library.
set -eu
BUILD=${1:-build}
if ! ls python/test_*.py >/dev/null 2>&1; then exit 0; fi
NEARDUP_LIB="$PWD/$BUILD/libneardup.so" python3 -m pytest -q python
