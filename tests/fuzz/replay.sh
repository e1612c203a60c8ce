#!/bin/bash
# replay.sh EXE TARGET SRCDIR: a test of the ordinary build: the fuzz
# target EXE (linked with replay.c) runs every input ever kept for it
# (tests/fuzz/crashes/TARGET/) and its seeds (seeds.sh), once each.
set -u
EXE=$1 TARGET=$2 SRC=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$SRC/tests/fuzz/seeds.sh" "$TARGET" "$SRC" "$T/seeds" || exit 1
set -- "$T/seeds"
[ -d "$SRC/tests/fuzz/crashes/$TARGET" ] && set -- "$SRC/tests/fuzz/crashes/$TARGET" "$@"
${VN_VALGRIND:-} "$EXE" "$@"
