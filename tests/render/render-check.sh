#!/bin/bash
# Do the Mermaid and Graphviz outputs of `virt-nest status` really render?
#
# Usage: render-check.sh VIRT_NEST SRCDIR [OUTDIR]
#        render-check.sh --self-test
#
# For every layer that has a golden status diagram (tests/golden/status/
# LAYER.mermaid / LAYER.dot, i.e. the seed examples), this runs
# `VIRT_NEST status -c test://SRCDIR/xml/examples/LAYER.xml --mermaid|--dot`
# and renders the result with the real tools:
#
#  - Mermaid: the real mermaid.js (npm package `mermaid`, the self-contained
#    browser bundle dist/mermaid.min.js) in headless Chromium.  A local HTML
#    page, loaded from file://, runs mermaid.parse() and mermaid.render() on
#    each diagram and writes one result line per diagram into the DOM, which
#    `chromium --dump-dom` hands back.  A diagram fails on any parse/render
#    error (printed), on mermaid's own "Syntax error" picture, on an SVG that
#    draws nothing once placed in the page, or when the number of nodes/edges
#    drawn differs from the number declared in the source.
#  - Graphviz: `dot -Tsvg`; any non-zero exit or any output on stderr
#    (errors and warnings alike) fails, and so does a node/edge count that
#    differs from the source.
#
# `virt-nest graph` on every bundled nest (xml/examples/*nest-l0.json and
# its -l1, -l2, ...), with doctor's verdict drawn on the seed before the
# fixes and with the route only, and on a four-level nest made from the
# seed's snapshots (deeper-l2.jq, deeper-l3.jq) also has its layout
# checked from what each renderer drew (geometry.py: the SVG's coordinates,
# the DOM boxes in Chromium), and its PNGs kept in OUTDIR (default: the
# temp dir) as NAME.dot.png and NAME.mermaid.png; the log names OUTDIR.
#
# Every run also renders known-bad "canary" diagrams (a Mermaid syntax error,
# a dot syntax error, a dot warning, and a nest with its NAT edges turned
# back so that L1's uplink sits below its bridge, which the geometry check
# must catch in both renderers) and fails unless they are reported as
# failures, so a harness that silently passes everything cannot go unnoticed.
# --self-test renders only built-in samples (one good diagram of each kind
# plus the canaries); it needs no virt-nest build.
#
# Exit status: 0 all rendered; 1 a diagram failed (or the harness is broken);
# 77 skipped, only when a tool cannot be had: chromium/graphviz missing and
# not installable with apt-get (tried only as root), npm missing, or the npm
# registry unreachable while mermaid.js is not cached yet.
#
# Network: only package registries (apt-get for Debian packages, `npm pack`
# for mermaid.js, and only on a cold cache).  The page loads mermaid.js from a
# local file, its Content-Security-Policy allows nothing remote, and Chromium
# runs with a fresh profile, its background services off, a host resolver
# that resolves no name at all and, when unshare(1) is allowed (root), in a
# network namespace of its own that has no network.
#
# Environment:
#   VN_RENDER_CACHE   cache dir for mermaid.js
#                     (default $XDG_CACHE_HOME/virt-nest-render, else
#                     /var/tmp/virt-nest-render); never inside the repo
#   VN_MERMAID_SPEC   npm package spec (default mermaid@11)
#   VN_RENDER_KEEP=1  keep the temp dir (HTML page, SVGs, logs) for debugging
#   VN_NO_INSTALL=1   never call apt-get
set -u

SKIP=77
MODE=check
if [ "${1:-}" = --self-test ]; then
    MODE=self
    shift
elif [ $# -ne 2 ] && [ $# -ne 3 ]; then
    echo "usage: $0 VIRT_NEST SRCDIR [OUTDIR] | $0 --self-test" >&2
    exit 2
fi
VN=${1:-}
SRC=${2:-}
# where the PNGs of the nests' pictures are kept for people to look at
OUT=${3:-}
# no node of a picture is taller (VN_PIC_MAX_LINES, src/view/picture.h)
MAX_LINES=6
graphs=()
pngs=()

if [ -n "${VN_RENDER_CACHE:-}" ]; then
    CACHE=$VN_RENDER_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
    CACHE=$XDG_CACHE_HOME/virt-nest-render
else
    CACHE=/var/tmp/virt-nest-render
fi
MERMAID_SPEC=${VN_MERMAID_SPEC:-mermaid@11}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vn-render.XXXXXX") || exit 1
CHROME_PID=
NONET=()

cleanup() {
    # Chromium runs in its own session/process group (setsid); end that group
    # by the id of the process we started, never by name.
    if [ -n "$CHROME_PID" ]; then
        kill -TERM -- "-$CHROME_PID" 2>/dev/null
        sleep 0.2
        kill -KILL -- "-$CHROME_PID" 2>/dev/null
    fi
    if [ "${VN_RENDER_KEEP:-0}" = 1 ]; then
        echo "kept $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

die() { echo "FAIL: $*"; exit 1; }
# unavailable MESSAGE: a tool cannot be had; the caller returns 1 (skip).
unavailable() { echo "SKIP: $*"; }

# ---------------------------------------------------------------- tools

# need_pkg COMMAND DEBIAN-PACKAGE: have COMMAND, or install the package;
# returns 1 when it cannot be had.
need_pkg() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null && return 0
    if [ "${VN_NO_INSTALL:-0}" = 1 ] || [ "$(id -u)" != 0 ] ||
       ! command -v apt-get >/dev/null; then
        unavailable "$cmd not found; install the Debian package '$pkg'"
        return 1
    fi
    echo "# $cmd not found: apt-get install $pkg"
    local apt=(apt-get -q -y -o DPkg::Lock::Timeout=120
               -o Acquire::http::Timeout=30 -o Acquire::Retries=1)
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 600 "${apt[@]}" install --no-install-recommends "$pkg" \
            >"$TMP/apt.log" 2>&1; then
        # The package lists may be missing or stale: refresh once, retry.
        timeout 180 "${apt[@]}" update >>"$TMP/apt.log" 2>&1
        timeout 600 "${apt[@]}" install --no-install-recommends "$pkg" \
            >>"$TMP/apt.log" 2>&1
    fi
    command -v "$cmd" >/dev/null && return 0
    tail -n 5 "$TMP/apt.log" | sed 's/^/#   /'
    unavailable "$cmd not found and apt-get could not install '$pkg'"
    return 1
}

# fetch_mermaid: set MERMAID_JS to a cached dist/mermaid.min.js, fetching the
# package tarball with `npm pack` on a cold cache (the bundle is
# self-contained: the package's dependencies are not needed).  Returns 1 when
# it cannot be had (skip), 2 when what the registry gave is unusable (fail).
fetch_mermaid() {
    local dir=$CACHE/$(printf '%s' "$MERMAID_SPEC" | tr -c 'A-Za-z0-9.@_-' _)
    MERMAID_JS=$dir/mermaid.min.js
    if [ -s "$MERMAID_JS" ]; then
        MERMAID_VERSION=$(cat "$dir/VERSION" 2>/dev/null)
        return 0
    fi
    if ! command -v npm >/dev/null; then
        unavailable "npm not found (needed once to fetch $MERMAID_SPEC)"
        return 1
    fi
    local work
    if ! mkdir -p "$CACHE" || ! work=$(mktemp -d "$CACHE/.fetch.XXXXXX"); then
        unavailable "cannot write to the cache dir $CACHE"
        return 1
    fi
    echo "# fetching $MERMAID_SPEC into $dir"
    if ! (cd "$work" && timeout 180 npm pack "$MERMAID_SPEC" \
              --cache "$work/npm-cache" --ignore-scripts \
              --fetch-timeout=30000 --fetch-retries=1 \
              --fetch-retry-mintimeout=1000 --fetch-retry-maxtimeout=3000 \
              --no-audit --no-fund --no-update-notifier --loglevel=error \
              ) >"$work/npm.log" 2>&1; then
        grep -v -e '^npm warn' -e '^npm error  *at ' "$work/npm.log" |
            head -n 4 | sed 's/^/#   /'
        rm -rf "$work"
        unavailable "could not fetch $MERMAID_SPEC from the npm registry"
        return 1
    fi
    local tgz
    tgz=$(ls "$work"/mermaid-*.tgz 2>/dev/null | head -n 1)
    mkdir -p "$work/out"
    if [ -z "$tgz" ] || ! tar -xzf "$tgz" -C "$work" \
            package/dist/mermaid.min.js package/package.json 2>"$work/tar.log"
    then
        sed 's/^/#   /' "$work/tar.log"
        rm -rf "$work"
        echo "FAIL: the $MERMAID_SPEC tarball has no dist/mermaid.min.js"
        return 2
    fi
    mv "$work/package/dist/mermaid.min.js" "$work/out/"
    sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' \
        "$work/package/package.json" | head -n 1 >"$work/out/VERSION"
    # Publish atomically; a concurrent run may have won the race.
    mv -T "$work/out" "$dir" 2>/dev/null
    rm -rf "$work"
    if [ ! -s "$MERMAID_JS" ]; then
        echo "FAIL: could not store mermaid.js in $dir"
        return 2
    fi
    MERMAID_VERSION=$(cat "$dir/VERSION" 2>/dev/null)
}

# ---------------------------------------------------------------- samples

# Known-bad canaries: each MUST be reported as a failure.
CANARY_MERMAID='flowchart TB
  a(["unclosed shape"]
  a --- b
'
CANARY_DOT_ERROR='digraph canary { a -> ; }
'
CANARY_DOT_WARNING='digraph canary { a [shape=no_such_shape]; }
'
# Known-good samples for --self-test, in the style virt-nest writes.
GOOD_MERMAID='flowchart TB
  subgraph layer["sample"]
    n1(["virbr0 · network<br/>nat"])
    n2[["guest<br/>running"]]
    n3[/"nested 10.0.0.0/24"/]
    n1 --- n2
    n2 -.->|"route"| n3
  end
'
GOOD_DOT='digraph sample {
  node [fontname="Helvetica"];
  subgraph cluster_layer {
    label="sample";
    n1 [label="virbr0 · network", shape=box];
    n2 [label="guest", shape=box3d];
    n1 -> n2;
  }
}
'

# Declared node/edge counts of a diagram source, in the line-per-statement
# style virt-nest writes: "ID[label]" / "ID [attrs];" lines are nodes,
# lines with an edge operator are edges.
mermaid_counts() {
    awk '
        $1 == "subgraph" || $1 == "end" || NR == 1 { next }
        $1 == "classDef" || $1 == "class"         { next }
        /(---|-->|-\.->|-\.-|==>|===|~~~)/        { e++; next }
        /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*[\[\(\{>]/ { n++ }
        END { printf "nodes=%d edges=%d\n", n, e }' "$1"
}
dot_counts() {
    awk '
        /^[ \t]*[A-Za-z_][A-Za-z0-9_]* -(>|-) /  { e++; next }
        /^[ \t]*(node|edge|graph)[ \t]*\[/        { next }
        /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*\[/   { n++ }
        END { printf "nodes=%d edges=%d\n", n, e }' "$1"
}

# ---------------------------------------------------------------- mermaid

# render_mermaid NAME...: render $TMP/mmd/NAME.mmd in one Chromium run;
# leaves one line per diagram in $TMP/mermaid.results:
#   OK NAME svg=BYTES size=WxH nodes=N edges=M   or   FAIL NAME message
render_mermaid() {
    local page=$TMP/page
    mkdir -p "$page"
    cp "$MERMAID_JS" "$page/mermaid.min.js"
    {
        cat <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' file:; style-src 'unsafe-inline'; img-src data:; font-src data:">
<title>pending</title>
<script src="mermaid.min.js"></script>
</head><body>
<pre id="result">not run</pre>
<div id="stage"></div>
<script>
const diagrams = [
EOF
        local name
        for name in "$@"; do
            printf '  {name: "%s", png: %s, b64: "%s"},\n' "$name" \
                "$(case " ${pngs[*]-} " in *" $name "*) echo true ;;
                   *) echo false ;; esac)" \
                "$(base64 -w0 "$TMP/mmd/$name.mmd")"
        done
        cat <<'EOF'
];
function decode(b64) {
  const bin = atob(b64);
  return new TextDecoder().decode(Uint8Array.from(bin, c => c.charCodeAt(0)));
}
// One result per line: newlines in a message travel as a literal "\n".
function oneLine(e) {
  return String((e && e.message) || e).replace(/\n/g, '\\n');
}
async function main() {
  const out = [];
  if (typeof mermaid === 'undefined')
    throw new Error('mermaid.min.js did not load');
  mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
  let i = 0;
  for (const d of diagrams) {
    const text = decode(d.b64);
    try {
      await mermaid.parse(text);               // throws on a syntax error
      const {svg} = await mermaid.render('vn' + (i++), text);
      if (/Syntax error in text/i.test(svg))
        throw new Error('mermaid drew its "Syntax error" picture');
      // Put it in the page, as a Markdown viewer would (mermaid's SVG uses
      // HTML labels, so it is HTML, not strict XML), and look at it there.
      const stage = document.getElementById('stage');
      stage.innerHTML = svg;
      const el = stage.querySelector('svg');
      if (!el) throw new Error('render() returned no <svg>');
      const box = el.getBBox();
      if (!(box.width > 0 && box.height > 0))
        throw new Error('the SVG draws nothing (empty bounding box)');
      // the layout as drawn, for tests/render/geometry.py: each node's and
      // each subgraph's box, y downwards
      const y = r => r.top.toFixed(1) + ' ' + r.bottom.toFixed(1);
      for (const g of el.querySelectorAll('g.node'))
        out.push(`GEOM ${d.name} node ${g.id} ${y(g.getBoundingClientRect())}`);
      for (const g of el.querySelectorAll('g.cluster'))
        out.push(`GEOM ${d.name} cluster ` +
                 `${g.getAttribute('data-id') || g.id} ` +
                 y(g.getBoundingClientRect()));
      if (d.png)
        out.push(`SVG ${d.name} ${btoa(unescape(encodeURIComponent(svg)))}`);
      const nodes = el.querySelectorAll('g.node').length;
      const edges = el.querySelectorAll('path.flowchart-link').length;
      const size = Math.round(box.width) + 'x' + Math.round(box.height);
      stage.innerHTML = '';
      out.push(`OK ${d.name} svg=${svg.length} size=${size} nodes=${nodes} edges=${edges}`);
    } catch (e) {
      out.push(`FAIL ${d.name} ${oneLine(e)}`);
    }
  }
  out.push('DONE');
  return out;
}
main().then(
  out => { document.getElementById('result').textContent = out.join('\n'); },
  e => { document.getElementById('result').textContent = 'FATAL ' + oneLine(e); }
).finally(() => { document.title = 'done'; });
</script>
</body></html>
EOF
    } >"$page/index.html"

    mkdir -p "$TMP/chrome-profile" "$TMP/chrome-home"
    # --virtual-time-budget lets the page's promises settle before the DOM is
    # dumped.  The resolver rule makes every host name unresolvable, and where
    # we may (root), Chromium runs in a network namespace of its own with no
    # network at all: the page is local, and nothing may phone home.
    local nonet=()
    unshare -n true 2>/dev/null && nonet=(unshare -n)
    NONET=("${nonet[@]}")
    HOME=$TMP/chrome-home XDG_CONFIG_HOME=$TMP/chrome-home/.config \
    XDG_CACHE_HOME=$TMP/chrome-home/.cache TMPDIR=$TMP \
    setsid "${nonet[@]}" timeout -k 5 60 "$CHROMIUM" \
        --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update \
        --disable-sync --no-first-run --no-default-browser-check \
        --disable-default-apps --disable-extensions --disable-breakpad \
        --disable-crash-reporter --disable-domain-reliability \
        --disable-client-side-phishing-detection --no-pings \
        --metrics-recording-only --disable-dev-shm-usage \
        --host-resolver-rules='MAP * ~NOTFOUND' \
        --user-data-dir="$TMP/chrome-profile" \
        --virtual-time-budget=60000 \
        --dump-dom "file://$page/index.html" \
        >"$TMP/dom.html" 2>"$TMP/chromium.log" </dev/null &
    CHROME_PID=$!
    wait "$CHROME_PID"
    local rc=$?
    # Anything of that process group still alive (helpers) goes too.
    kill -KILL -- "-$CHROME_PID" 2>/dev/null
    CHROME_PID=

    # The text of <pre id="result">, entities decoded.
    awk -v RS='\0' '{
            i = index($0, "<pre id=\"result\">"); if (!i) exit
            s = substr($0, i + 17); j = index(s, "</pre>")
            if (j) s = substr(s, 1, j - 1)
            print s
        }' "$TMP/dom.html" |
        sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' \
            -e "s/&#39;/'/g" -e 's/&nbsp;/ /g' -e 's/&amp;/\&/g' \
        >"$TMP/mermaid.results"
    if ! grep -qx DONE "$TMP/mermaid.results"; then
        echo "FAIL: the mermaid page did not finish (chromium exit $rc):"
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            echo "    chromium was stopped after 60 s"
        elif grep -qx 'not run' "$TMP/mermaid.results"; then
            echo "    mermaid did not finish within the time budget (hung?)"
        else
            sed 's/^/    /' "$TMP/mermaid.results"
        fi
        # Chromium's complaints about the absent D-Bus are noise here.
        grep -v -e '^$' -e 'ERROR:dbus/' "$TMP/chromium.log" | tail -n 15 |
            sed 's/^/    chromium: /'
        return 1
    fi
    return 0
}

# mermaid_verdict NAME EXPECT(ok|fail): judge one line of mermaid.results.
mermaid_verdict() {
    local name=$1 expect=$2 line want got
    line=$(grep -E "^(OK|FAIL) $name( |\$)" "$TMP/mermaid.results" | head -n 1)
    case $expect:$line in
    ok:OK*)
        want=$(mermaid_counts "$TMP/mmd/$name.mmd")
        got=$(printf '%s\n' "$line" | grep -o 'nodes=[0-9]* edges=[0-9]*')
        if [ "$want" != "$got" ]; then
            echo "FAIL: mermaid $name: rendered $got, source declares $want"
            return 1
        fi
        echo "ok: mermaid $name (${line#OK $name })"
        ;;
    ok:FAIL*)
        echo "FAIL: mermaid $name does not render:"
        printf '%s\n' "${line#FAIL $name }" | sed -e 's/\\n/\n/g' |
            sed 's/^/    /'
        echo "  source:"
        sed 's/^/    | /' "$TMP/mmd/$name.mmd"
        return 1
        ;;
    fail:FAIL*)
        line=${line#FAIL $name }
        echo "ok: mermaid canary $name is rejected (${line##*\\n})"
        ;;
    fail:OK*)
        echo "FAIL: mermaid canary $name rendered; the check cannot see errors"
        return 1
        ;;
    *)
        echo "FAIL: no mermaid result for $name"
        return 1
        ;;
    esac
}

# ---------------------------------------------------------------- dot

# check_dot NAME EXPECT(ok|fail): render $TMP/dot/NAME.dot with dot -Tsvg.
check_dot() {
    local name=$1 expect=$2 src=$TMP/dot/$1.dot rc bad= want got
    timeout 60 dot -Tsvg "$src" -o "$TMP/dot/$name.svg" \
        2>"$TMP/dot/$name.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        bad="dot exit $rc"
    elif [ -s "$TMP/dot/$name.err" ]; then
        bad="dot wrote to stderr"
    elif ! grep -q '<svg' "$TMP/dot/$name.svg"; then
        bad="no SVG written"
    elif command -v xmllint >/dev/null &&
         ! xmllint --noout --nonet "$TMP/dot/$name.svg" 2>>"$TMP/dot/$name.err"
    then
        bad="the SVG is not well-formed"
    fi
    if [ "$expect" = fail ]; then
        if [ -n "$bad" ]; then
            echo "ok: dot canary $name is rejected ($bad: $(head -n 1 "$TMP/dot/$name.err"))"
            return 0
        fi
        echo "FAIL: dot canary $name rendered cleanly; the check cannot see errors"
        return 1
    fi
    if [ -n "$bad" ]; then
        echo "FAIL: dot $name: $bad"
        sed 's/^/    /' "$TMP/dot/$name.err"
        echo "  source:"
        sed 's/^/    | /' "$src"
        return 1
    fi
    want=$(dot_counts "$src")
    got="nodes=$(grep -c 'class="node"' "$TMP/dot/$name.svg") edges=$(grep -c 'class="edge"' "$TMP/dot/$name.svg")"
    if [ "$want" != "$got" ]; then
        echo "FAIL: dot $name: rendered $got, source declares $want"
        return 1
    fi
    echo "ok: dot $name (svg=$(wc -c <"$TMP/dot/$name.svg") $got)"
}

# ---------------------------------------------------------------- nests

# render_inputs: the nests whose pictures get their geometry checked, as
# graphs=(NAME...) and $TMP/args/NAME (the arguments of `virt-nest graph`).
render_inputs() {
    local l0 base n f S=$SRC/xml/examples
    graphs=()
    mkdir -p "$TMP/args" "$TMP/snap"
    for l0 in "$SRC"/xml/examples/*nest-l0.json; do
        [ -e "$l0" ] || continue
        base=${l0%-l0.json}
        n=graph-$(basename "$base")
        f=("$l0")
        for l in 1 2 3 4 5 6 7 8 9; do
            [ -e "$base-l$l.json" ] && f+=("$base-l$l.json")
        done
        printf '%s ' "${f[@]}" >"$TMP/args/$n"
        graphs+=("$n")
    done
    # doctor's verdict drawn: on the seed before the fixes (dies at L0's
    # way out) and with the route only (dies at L1's virbr0), from the
    # bundled snapshots of those states when they are there, else the
    # route-only state made from the fixed seed by dropping virt-nest's
    # exceptions
    local walk=(--from 192.168.122.1 --to 192.168.124.91)
    if [ -e "$S/seed-before-nest-l0.json" ]; then
        printf '%s ' "${walk[@]}" "$S"/seed-before-nest-l[0-9].json \
            >"$TMP/args/graph-doctor-before"
        graphs+=(graph-doctor-before)
    fi
    if [ -e "$S/seed-route-nest-l0.json" ]; then
        printf '%s ' "${walk[@]}" "$S"/seed-route-nest-l[0-9].json \
            >"$TMP/args/graph-doctor-route"
    else
        jq '(.host.firewall[].rules) |= map(select((.comment // "") |
                startswith("virt-nest") | not)) | (.networks[].nest) = null' \
            "$S/seed-nest-l1.json" >"$TMP/snap/norules-l1.json" ||
            die "jq could not strip the seed's exceptions"
        printf '%s ' "${walk[@]}" "$S/seed-nest-l0.json" \
            "$TMP/snap/norules-l1.json" "$S/seed-nest-l2.json" \
            >"$TMP/args/graph-doctor-route"
    fi
    graphs+=(graph-doctor-route)
    # one level deeper: L2 runs a libvirt network of its own (virbr1,
    # 192.168.126.0/24, the next subnet `virt-nest plan --depth 3` hands
    # out after the seed's) with a guest in it, whose snapshot is L3
    if jq -f "$SRC/tests/render/deeper-l2.jq" "$S/seed-nest-l2.json" \
            >"$TMP/snap/deep-l2.json" &&
       jq -f "$SRC/tests/render/deeper-l3.jq" "$S/seed-nest-l2.json" \
            >"$TMP/snap/deep-l3.json"; then
        printf '%s ' "$S/seed-nest-l0.json" "$S/seed-nest-l1.json" \
            "$TMP/snap/deep-l2.json" "$TMP/snap/deep-l3.json" \
            >"$TMP/args/graph-four-levels"
        graphs+=(graph-four-levels)
    else
        die "jq could not make the four-level nest"
    fi
}

# geometry_check FORMAT NAME: tests/render/geometry.py on the source and
# what the renderer drew.
geometry_check() {
    local fmt=$1 name=$2 ext=$1 drawn
    [ "$fmt" = mermaid ] && ext=mmd
    if [ "$fmt" = dot ]; then
        drawn=$TMP/dot/$name.svg
    else
        drawn=$TMP/mmd/$name.boxes
        grep "^GEOM $name " "$TMP/mermaid.results" | cut -d' ' -f3- >"$drawn"
    fi
    if python3 "$SRC/tests/render/geometry.py" "$fmt" "$TMP/$ext/$name.$ext" \
            "$drawn" "$MAX_LINES" >"$TMP/$ext/$name.geometry" 2>&1; then
        echo "ok: $fmt $name geometry: $(tail -n 1 "$TMP/$ext/$name.geometry" |
            sed 's/^ok: //')"
        return 0
    fi
    echo "FAIL: $fmt $name geometry (as $fmt drew it):"
    sed 's/^/    /' "$TMP/$ext/$name.geometry"
    return 1
}

# mermaid_png NAME: the SVG mermaid.js drew for NAME, as a PNG, by
# Chromium's screenshot of a page that holds only it.
mermaid_png() {
    local name=$1 size page=$TMP/png-$1
    mkdir -p "$page"
    size=$(grep -E "^OK $name " "$TMP/mermaid.results" |
           grep -o 'size=[0-9]*x[0-9]*' | cut -d= -f2)
    [ -n "$size" ] || return 1
    {
        printf '<!DOCTYPE html><html><head><meta charset="utf-8">'
        printf '%s' '<meta http-equiv="Content-Security-Policy"' \
            " content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        printf '</head><body style="margin:8px;background:#fff">'
        grep -E "^SVG $name " "$TMP/mermaid.results" | cut -d' ' -f3 |
            base64 -d
        printf '</body></html>\n'
    } >"$page/index.html"
    HOME=$TMP/chrome-home XDG_CONFIG_HOME=$TMP/chrome-home/.config \
    XDG_CACHE_HOME=$TMP/chrome-home/.cache TMPDIR=$TMP \
    setsid "${NONET[@]}" timeout -k 5 60 "$CHROMIUM" \
        --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update \
        --disable-sync --no-first-run --no-default-browser-check \
        --disable-default-apps --disable-extensions --disable-breakpad \
        --disable-crash-reporter --disable-domain-reliability \
        --no-pings --metrics-recording-only --disable-dev-shm-usage \
        --host-resolver-rules='MAP * ~NOTFOUND' \
        --user-data-dir="$TMP/chrome-profile" --hide-scrollbars \
        --window-size="$(( ${size%x*} + 16 )),$(( ${size#*x} + 16 ))" \
        --screenshot="$OUT/$name.mermaid.png" "file://$page/index.html" \
        >>"$TMP/chromium-png.log" 2>&1 </dev/null &
    CHROME_PID=$!
    wait "$CHROME_PID"
    kill -KILL -- "-$CHROME_PID" 2>/dev/null
    CHROME_PID=
    [ -s "$OUT/$name.mermaid.png" ]
}

# ---------------------------------------------------------------- main

mkdir -p "$TMP/mmd" "$TMP/dot"
fail=0
mmd=()      # names of the diagrams to render, $TMP/mmd/NAME.mmd
dots=()     # and $TMP/dot/NAME.dot

# Collect the diagrams to render.
if [ "$MODE" = self ]; then
    printf '%s' "$GOOD_MERMAID" >"$TMP/mmd/good-sample.mmd"
    printf '%s' "$GOOD_DOT" >"$TMP/dot/good-sample.dot"
    mmd=(good-sample)
    dots=(good-sample)
else
    [ -x "$VN" ] || die "$VN is not an executable"
    if [ -z "$OUT" ]; then
        OUT=$TMP/png
    fi
    mkdir -p "$OUT" || die "cannot make $OUT"
    OUT=$(realpath "$OUT")
    rm -f "$OUT"/*.png
    echo "# PNGs of the nests' pictures: $OUT/NAME.dot.png, NAME.mermaid.png"
    layers=()
    for g in "$SRC"/tests/golden/status/*.mermaid \
             "$SRC"/tests/golden/status/*.dot; do
        [ -e "$g" ] || continue
        l=$(basename "${g%.*}")
        case " ${layers[*]} " in *" $l "*) ;; *) layers+=("$l") ;; esac
    done
    [ ${#layers[@]} -gt 0 ] || die "no golden diagrams under $SRC/tests/golden/status"
    for l in "${layers[@]}"; do
        for fmt in mermaid dot; do
            ext=$fmt; [ $fmt = mermaid ] && ext=mmd
            if "$VN" status -c "test://$SRC/xml/examples/$l.xml" --$fmt \
                    >"$TMP/$ext/$l.$ext" 2>"$TMP/$ext/$l.err"; then
                if [ $fmt = mermaid ]; then mmd+=("$l"); else dots+=("$l"); fi
            else
                echo "FAIL: virt-nest status --$fmt on $l exited non-zero:"
                sed 's/^/    /' "$TMP/$ext/$l.err"
                fail=1
            fi
        done
    done
    # the whole nest: `virt-nest graph` on every bundled nest
    # (xml/examples/NAME-l0.json, NAME-l1.json, ...: the seed fixed, and
    # whatever snapshots land there, before the fix and after the route
    # only), on the seed without its exceptions with doctor's walk drawn,
    # and on a nest one level deeper than the seed made from the seed's
    # snapshots (render_inputs below); each of these also gets its
    # geometry checked and its PNGs kept.
    render_inputs
    for g in "${graphs[@]}"; do
        read -r -a args <"$TMP/args/$g"
        for fmt in mermaid dot; do
            ext=$fmt; [ $fmt = mermaid ] && ext=mmd
            if "$VN" graph --$fmt "${args[@]}" >"$TMP/$ext/$g.$ext" \
                    2>"$TMP/$ext/$g.err"; then
                if [ $fmt = mermaid ]; then mmd+=("$g"); else dots+=("$g"); fi
            else
                echo "FAIL: virt-nest graph --$fmt ${args[*]} exited non-zero:"
                sed 's/^/    /' "$TMP/$ext/$g.err"
                fail=1
            fi
        done
    done
    pngs=("${graphs[@]}")
    # A known-bad layout the geometry check must catch: the seed nest with
    # each NAT edge turned back into bridge -> way out, as it was before
    # the uplink went on top (L1's uplink then sits below its bridge).
    if [ -s "$TMP/dot/graph-seed-nest.dot" ]; then
        back='^([[:space:]]*)([A-Za-z0-9_]+) -> ([A-Za-z0-9_]+)'
        back+=' \[(.*), dir=back, arrowtail=normal(.*)\];$'
        sed -E "s/$back/\\1\\3 -> \\2 [\\4\\5];/" \
            "$TMP/dot/graph-seed-nest.dot" >"$TMP/dot/canary-layout.dot"
        dots+=(canary-layout)
    fi
    if [ -s "$TMP/mmd/graph-seed-nest.mmd" ]; then
        up='^([[:space:]]*)([A-Za-z0-9_]+) -\.-\|"↑ ([^"]*)"\| '
        up+='([A-Za-z0-9_]+)$'
        sed -E "s/$up/\\1\\4 -.->|\"\\3\"| \\2/" \
            "$TMP/mmd/graph-seed-nest.mmd" >"$TMP/mmd/canary-layout.mmd"
        mmd+=(canary-layout)
    fi
    # hostile names (tests/hostile.sh): quotes, backslashes, markup,
    # entities, escape sequences; the test driver's node, and the seed
    # nest renamed
    hn=$SRC/tests/data/hostile
    for n in 0 1; do
        jq --slurpfile names "$hn/names-l$n.json" -f "$hn/names.jq" \
            "$SRC/xml/examples/seed-nest-l$n.json" >"$TMP/names-l$n.json" ||
            die "jq could not rename the seed nest"
    done
    for fmt in mermaid dot; do
        ext=$fmt; [ $fmt = mermaid ] && ext=mmd
        for what in status graph; do
            if [ $what = status ]; then
                set -- status -c "test://$hn/names.xml"
            else
                set -- graph "$TMP/names-l0.json" "$TMP/names-l1.json" \
                    "$SRC/xml/examples/seed-nest-l2.json"
            fi
            if "$VN" "$@" --$fmt >"$TMP/$ext/$what-names.$ext" \
                    2>"$TMP/$ext/$what-names.err"; then
                if [ $fmt = mermaid ]; then mmd+=($what-names); else dots+=($what-names); fi
            else
                echo "FAIL: virt-nest $what --$fmt on hostile names exited non-zero:"
                sed 's/^/    /' "$TMP/$ext/$what-names.err"
                fail=1
            fi
        done
    done
fi
printf '%s' "$CANARY_MERMAID" >"$TMP/mmd/canary-syntax.mmd"
printf '%s' "$CANARY_DOT_ERROR" >"$TMP/dot/canary-syntax.dot"
printf '%s' "$CANARY_DOT_WARNING" >"$TMP/dot/canary-warning.dot"

# Each renderer whose tools cannot be had is skipped, the other still runs:
# a failure anywhere fails the run, else a skip makes it exit 77.
skipped=()

# Graphviz.
if need_pkg dot graphviz; then
    echo "# $(dot -V 2>&1)"
    for l in ${dots[@]+"${dots[@]}"}; do
        check_dot "$l" ok || fail=1
    done
    if [ -s "$TMP/dot/canary-layout.dot" ]; then
        if geometry_check dot canary-layout >"$TMP/dot/canary-layout.out"; then
            echo "FAIL: dot geometry canary passed;" \
                 "the check cannot see a bad layout"
            fail=1
        else
            echo "ok: dot geometry canary is caught ($(grep -m1 '^    FAIL' \
                "$TMP/dot/canary-layout.out" | sed 's/^ *FAIL: //'))"
        fi
    fi
    for g in ${graphs[@]+"${graphs[@]}"}; do
        geometry_check dot "$g" || fail=1
        dot -Tpng "$TMP/dot/$g.dot" -o "$OUT/$g.dot.png" 2>/dev/null ||
            { echo "FAIL: dot -Tpng $g"; fail=1; }
    done
    check_dot canary-syntax fail || fail=1
    check_dot canary-warning fail || fail=1
else
    skipped+=(graphviz)
fi

# Mermaid, all diagrams in one Chromium run.
if need_pkg chromium chromium; then
    fetch_mermaid
    rc=$?
else
    rc=1
fi
if [ $rc -eq 0 ]; then
    CHROMIUM=$(command -v chromium)
    echo "# mermaid ${MERMAID_VERSION:-?} ($MERMAID_JS)," \
         "$("$CHROMIUM" --version 2>/dev/null)"
    if render_mermaid ${mmd[@]+"${mmd[@]}"} canary-syntax; then
        for l in ${mmd[@]+"${mmd[@]}"}; do
            mermaid_verdict "$l" ok || fail=1
        done
        if [ -s "$TMP/mmd/canary-layout.mmd" ]; then
            if geometry_check mermaid canary-layout \
                    >"$TMP/mmd/canary-layout.out"; then
                echo "FAIL: mermaid geometry canary passed;" \
                     "the check cannot see a bad layout"
                fail=1
            else
                echo "ok: mermaid geometry canary is caught ($(
                    grep -m1 '^    FAIL' "$TMP/mmd/canary-layout.out" |
                    sed 's/^ *FAIL: //'))"
            fi
        fi
        for g in ${graphs[@]+"${graphs[@]}"}; do
            geometry_check mermaid "$g" || fail=1
            mermaid_png "$g" ||
                { echo "FAIL: no PNG of mermaid's $g"; fail=1; }
        done
        mermaid_verdict canary-syntax fail || fail=1
    else
        fail=1
    fi
elif [ $rc -eq 1 ]; then
    skipped+=(mermaid)
else
    fail=1
fi

if [ $fail -ne 0 ]; then
    echo "render-check: FAILED"
    exit 1
fi
if [ ${#skipped[@]} -gt 0 ]; then
    echo "render-check: skipped (${skipped[*]} unavailable); the rest rendered"
    exit $SKIP
fi
echo "render-check: all diagrams render"
exit 0
