#!/bin/bash
# seeds.sh TARGET SRCDIR OUTDIR: the seed inputs of one fuzz target, made
# from the golden inputs and examples in the tree, one file each in OUTDIR.
set -eu
t=$1 SRC=$2 OUT=$3
mkdir -p "$OUT"
G=$SRC/tests/golden
put() {  # NAME: stdin to OUTDIR/NAME
    cat > "$OUT/$(printf '%s' "$1" | tr '/' '_')"
}
files() {  # copy each existing file
    local f
    for f in "$@"; do
        [ -f "$f" ] && put "${f#"$SRC"/}" < "$f"
    done
    return 0
}
shopt -s nullglob
case $t in
libvirtxml)
    files "$G"/hook/*/stdin.xml "$G"/hook/*/state/network/*.xml "$G"/hook/*/run/*.xml \
          "$SRC"/tests/data/hook/*.xml "$SRC"/tests/data/bad/*.xml "$SRC"/tests/data/plan/*.xml \
          "$SRC"/xml/examples/*.xml
    ;;
hookplan)
    # a golden case's args, then its stdin
    for d in "$G"/hook/*/; do
        [ -f "$d/args" ] && [ -f "$d/stdin.xml" ] &&
            cat "$d/args" "$d/stdin.xml" | put "hook-$(basename "$d")"
    done
    # tests/data/hook/DRIVER-NAME-OP-SUBOP.xml
    for f in "$SRC"/tests/data/hook/*.xml; do
        b=$(basename "$f" .xml)
        driver=${b%%-*} rest=${b#*-}
        subop=${rest##*-} rest=${rest%-*}
        op=${rest##*-}
        case $rest in *-port-created|*-port-deleted) op=port-${op} ;; esac
        name=${rest%-"$op"}
        { echo "$driver $name $op $subop"; cat "$f"; } | put "data-$b"
    done
    ;;
json)
    files "$SRC"/xml/examples/*.json "$G"/*/*.json "$SRC"/tests/data/leases/*.status
    ;;
nest)
    files "$SRC"/xml/examples/seed-nest-l*.json "$SRC"/xml/examples/seed-wsl2.json
    ex=$SRC/xml/examples
    { cat "$ex/seed-nest-l0.json"; printf '\n--\n'; cat "$ex/seed-nest-l1.json"
      printf '\n--\n'; cat "$ex/seed-nest-l2.json"; } | put nest-seed
    { cat "$ex/seed-nest-l2.json"; printf '\n--\n'; cat "$ex/seed-nest-l0.json"; } | put nest-l2-l0
    ;;
leases)
    files "$SRC"/tests/data/leases/*.status "$G"/hook/*/leases/*.status \
          "$SRC"/xml/examples/*.leases/*.status
    ;;
state)
    files "$SRC"/tests/fuzz/seeds/state/*
    ;;
agent)
    files "$SRC"/tests/fuzz/seeds/agent/*
    ;;
bundle)
    files "$SRC"/xml/examples/seed-nest-walk.json "$SRC"/tests/fuzz/seeds/bundle/*
    ;;
config)
    files "$SRC"/data/virt-nest.conf "$G"/hook/*/virt-nest.conf
    ;;
*)
    echo "seeds.sh: no target '$t'" >&2
    exit 2
    ;;
esac
[ -n "$(ls -A "$OUT")" ] || { echo "seeds.sh: no seeds for $t" >&2; exit 1; }
