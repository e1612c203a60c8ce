#!/bin/bash
# run.sh --targets: the names of the targets.
# run.sh FUZZBUILD SRCDIR [SECONDS]: run every libFuzzer target of a
# -Dfuzzing=true build for SECONDS each (default 12), from its seeds
# (seeds.sh) and what earlier runs in FUZZBUILD found (FUZZBUILD/
# tests/fuzz/corpus/TARGET). A crash, a leak, a sanitizer report, a
# timeout (10 s for one input) or running out of memory fails the run;
# each input that did is copied to SRCDIR/tests/fuzz/crashes/TARGET/
# (commit it: the ordinary build replays it as a test) and printed in
# base64, so that a CI log is enough to get it back.
set -u
if [ "${1:-}" = --targets ]; then  # the targets' names, one a line
    for f in "$(dirname "$0")"/fuzz-*.c; do f=${f##*/fuzz-}; echo "${f%.c}"; done
    exit 0
fi
B=$(realpath "$1")
SRC=$(realpath "$2")
S=${3:-12}
F=$SRC/tests/fuzz
# every tests/fuzz/fuzz-TARGET.c (tests/fuzz/meson.build builds each)
TARGETS=()
for f in "$F"/fuzz-*.c; do f=${f##*/fuzz-}; TARGETS+=("${f%.c}"); done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
for t in "${TARGETS[@]}"; do
    exe=$B/tests/fuzz/fuzz-$t
    [ -x "$exe" ] || { echo "FAIL: no $exe (meson compile -C $B fuzz-$t)"; fail=1; continue; }
    corpus=$B/tests/fuzz/corpus/$t
    art=$T/artifacts-$t
    mkdir -p "$corpus" "$art"
    "$F/seeds.sh" "$t" "$SRC" "$T/seeds-$t" || { fail=1; continue; }
    dict=
    case $t in
    libvirtxml|hookplan) dict=-dict=$F/xml.dict ;;
    json|nest|leases|bundle) dict=-dict=$F/json.dict ;;
    esac
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$exe" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$art/" -print_final_stats=1 $dict \
            "$corpus" "$T/seeds-$t" > "$T/log-$t" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/log-$t")
    if [ $rc = 0 ] && [ -z "$(ls -A "$art")" ]; then
        echo "ok - fuzz-$t: ${runs:-?} runs in ${S} s, corpus $(ls "$corpus" | wc -l) inputs"
        continue
    fi
    fail=1
    echo "FAIL - fuzz-$t: exit $rc after ${runs:-?} runs"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*fuzz check failed|ALARM|==[0-9]+== ERROR: libFuzzer)' \
        "$T/log-$t" | head -20 | sed 's/^/  # /'
    grep -E '^ +#[0-9]+ ' "$T/log-$t" | head -25 | sed 's/^/  # /'
    mkdir -p "$F/crashes/$t"
    for a in "$art"/*; do
        [ -f "$a" ] || continue
        cp "$a" "$F/crashes/$t/"
        echo "  # kept as tests/fuzz/crashes/$t/$(basename "$a"); base64:"
        base64 -w 76 "$a" | sed 's/^/  #   /'
    done
done
[ $fail = 0 ] && echo "# fuzzing: PASS (${#TARGETS[@]} targets, $S s each)" ||
    echo "# fuzzing: FAIL (inputs kept under tests/fuzz/crashes/; commit them)"
exit $fail
