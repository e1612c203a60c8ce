#!/bin/bash
# The Debian packages, for real: built by `scripts/dev package` (lintian
# included), installed into a clean Debian root made with debootstrap from
# this machine's configured mirror, used, removed and purged there. One
# line per check:
#
#   build       scripts/dev package builds virt-nest, libvirt-nest0 and
#               libvirt-nest-dev, and lintian reports no error;
#               debian/control's Build-Depends hold scripts/dev's BUILD_PKGS
#   root        debootstrap --variant=minbase; apt resolves the packages'
#               dependencies inside it (apt-get satisfy, the -dev package's
#               and a compiler for a program built against it); then the
#               list of every file of the root is taken
#   install     apt-get install of the three .debs: `virt-nest status -c
#               test:///usr/share/doc/virt-nest/examples/seed-l0.xml` prints
#               what tests/golden/status/seed-l0.text holds, and with
#               --svg an SVG of seed-l0.dot's nodes (libgvc); the drop-ins
#               /etc/libvirt/hooks/{network,qemu}.d/virt-nest are links to
#               /usr/sbin/virt-nest-hook, executable, and run as libvirt
#               runs them; `virt-nest install-hooks` leaves them alone; the
#               units are enabled; a program built with `pkg-config
#               libvirt-nest` prints the routes the seed's L0 needs
#   use         in a network namespace of the test's own (a bridge virbr0,
#               iptables-nft's filter and nat chains), the packaged hooks
#               install a route (qemu started) and forward exceptions
#               (network started) as libvirt would run them; plus a route
#               and a rule that carry virt-nest's tags but no record
#   remove      apt-get remove virt-nest (in that namespace, as its own
#               system: a PID namespace, so the package does not take it
#               for a chroot): the drop-ins, the command, every route and
#               rule of virt-nest's and /run/virt-nest are gone, a rule of
#               somebody else's stays, the configuration stays
#   purge       apt-get purge virt-nest libvirt-nest0 libvirt-nest-dev: the
#               root's file list is the one taken before the install
#
# The root is one, made once, in BUILDDIR/package-root, and removed at the
# end; debootstrap's downloads are kept in BUILDDIR/debootstrap-cache.
# Nothing is mounted outside private mount namespaces (unshare), which take
# their mounts with them.
#
# Usage: package.sh BUILDDIR SRCDIR
# Exit: 0 pass, 1 fail, 77 skipped: not root, or the mirror cannot be
# reached, or this machine cannot make a root (debootstrap cannot create
# devices, unshare cannot make namespaces).
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
ROOT=$BUILD/package-root
CACHE=$BUILD/debootstrap-cache
OUT=$BUILD/package
NS=vn-pkg-$$
T=$(mktemp -d)
fail=0
START=$(date +%s)

ok()   { echo "ok - $*"; }
bad()  { echo "FAIL - $*"; fail=1; }
skip() { echo "SKIP: $*"; exit 77; }
stop() { echo "FAIL: $*"; exit 1; }
check() {  # WHAT CMD...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
step() { echo "# $* ($(($(date +%s) - START)) s)"; }

# mounts under the root: none should be left (they live in private mount
# namespaces); the root is removed only when none is
mounts_under_root() { findmnt -rn -o TARGET | grep -E "^$ROOT(/|$)"; }
remove_root() {
    if [ -d "$ROOT" ]; then
        if [ -n "$(mounts_under_root)" ]; then
            mounts_under_root | sort -r | while read -r m; do umount -l "$m"; done
        fi
        if [ -n "$(mounts_under_root)" ]; then
            echo "FAIL: mounts left under $ROOT; not removing it" >&2
        else
            rm -rf --one-file-system -- "$ROOT"
        fi
    fi
}
cleanup() {
    ip netns del "$NS" 2>/dev/null
    remove_root
    rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, namespaces)"
for t in dpkg-buildpackage dh lintian debootstrap; do
    command -v "$t" >/dev/null ||
        stop "$t is missing: scripts/dev package (or scripts/dev test) installs it"
done
for t in unshare ip nft findmnt; do
    command -v "$t" >/dev/null || stop "$t is missing"
done
unshare --mount --pid --net --fork true 2>/dev/null ||
    skip "unshare cannot make mount, PID and network namespaces here"

# the root runs everything with a clean environment, as its own system: PID
# 1 of a PID namespace, /proc of its own (so ischroot says no), private mounts
ENVI=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8
      DEBIAN_FRONTEND=noninteractive)
in_root() { unshare --mount --pid --fork --root="$ROOT" --mount-proc -- "${ENVI[@]}" "$@"; }
in_root_ns() {
    ip netns exec "$NS" unshare --mount --pid --fork --root="$ROOT" --mount-proc -- \
        "${ENVI[@]}" "$@"
}

# ============================================================ build
step "build: scripts/dev package"
# the same build-dependency list in both places
# shellcheck disable=SC2016
pkgs=$(bash -c 'source <(sed -n "/^BUILD_PKGS=(/,/^)/p" "$1"); echo "${BUILD_PKGS[@]}"' _ "$SRC/scripts/dev")
[ -n "$pkgs" ] || stop "no BUILD_PKGS in scripts/dev"
bdeps=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*: /p' "$SRC/debian/control")
missing=
for p in $pkgs; do
    case $p in gcc) continue ;; esac     # build-essential
    printf '%s\n' "$bdeps" | grep -qE "(^|[ ,])$p( |,|$)" || missing="$missing $p"
done
check "debian/control's Build-Depends hold scripts/dev's BUILD_PKGS" eval '[ -z "$missing" ] || { echo "  # missing:$missing"; false; }'

remove_root
[ ! -e "$ROOT" ] || stop "cannot remove $ROOT, left by an earlier run"
if ! VN_BUILDDIR=$BUILD DEB_BUILD_OPTIONS=nocheck "$SRC/scripts/dev" package > "$T/package.log" 2>&1; then
    tail -n 60 "$T/package.log"
    stop "scripts/dev package failed"
fi
ok "scripts/dev package built the packages, lintian reports no error"
DEB_CLI=$(ls "$OUT"/virt-nest_*.deb)
DEB_LIB=$(ls "$OUT"/libvirt-nest0_*.deb)
DEB_DEV=$(ls "$OUT"/libvirt-nest-dev_*.deb)
for d in "$DEB_CLI" "$DEB_LIB" "$DEB_DEV"; do [ -f "$d" ] || stop "no $d"; done
grep -E '^[EWX]: ' "$OUT/lintian.txt" | sed 's/^/  # lintian: /'

# ============================================================ root
. /etc/os-release
SUITE=${VERSION_CODENAME:-bookworm}
# the configured mirror: where this machine's apt takes SUITE's main from
MIRROR=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(TARGET_OF)' |
         awk -v s="$SUITE" '$2 == s && $3 == "main" && $4 == "deb" { print $1; exit }')
[ -n "$MIRROR" ] || stop "no apt source for $SUITE main on this machine"
step "root: debootstrap --variant=minbase $SUITE from $MIRROR"
mkdir -p "$CACHE"
eval "$(apt-config shell HTTP_PROXY Acquire::http::Proxy HTTPS_PROXY Acquire::https::Proxy)"
if ! http_proxy=${HTTP_PROXY:-${http_proxy:-}} https_proxy=${HTTPS_PROXY:-${https_proxy:-}} \
        debootstrap --variant=minbase --cache-dir="$CACHE" "$SUITE" "$ROOT" "$MIRROR" \
        > "$T/debootstrap.log" 2>&1; then
    tail -n 20 "$T/debootstrap.log"
    if grep -qE "Failed getting release file|Couldn't download|Temporary failure resolving|Could not resolve" "$T/debootstrap.log"; then
        skip "debootstrap cannot reach $MIRROR"
    fi
    if grep -qE "mknod|Operation not permitted" "$T/debootstrap.log"; then
        skip "debootstrap cannot make a root here (no mknod or chroot)"
    fi
    stop "debootstrap failed"
fi
# apt in the root: the Debian sources of this machine, the settings that
# reach its registry; no service starts (policy-rc.d)
apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(TARGET_OF)' |
    awk -v s="$SUITE" '$4 == "deb" && $3 == "main" && ($2 == s || index($2, s "-") == 1) { print "deb " $1 " " $2 " main" }' |
    sort -u > "$ROOT/etc/apt/sources.list"
eval "$(apt-config shell CVU Acquire::Check-Valid-Until CD Acquire::Check-Date)"
{
    [ -n "${HTTP_PROXY:-}" ] && echo "Acquire::http::Proxy \"$HTTP_PROXY\";"
    [ -n "${HTTPS_PROXY:-}" ] && echo "Acquire::https::Proxy \"$HTTPS_PROXY\";"
    [ -n "${CVU:-}" ] && echo "Acquire::Check-Valid-Until \"$CVU\";"
    [ -n "${CD:-}" ] && echo "Acquire::Check-Date \"$CD\";"
} > "$ROOT/etc/apt/apt.conf.d/00host"
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
in_root apt-get update -qq > "$T/apt.log" 2>&1 || { cat "$T/apt.log"; stop "apt-get update in the root"; }
# what the packages need, resolved by apt inside the root: the root before
# the install holds it, so that the purge can be compared with it
deps=$( { for d in "$DEB_CLI" "$DEB_LIB" "$DEB_DEV"; do dpkg-deb -f "$d" Depends | tr ',' '\n'; done
          printf '%s\n' gcc libc6-dev pkg-config; } |
        sed 's/^ *//; s/ *$//' | grep -v '^libvirt-nest0 ' | grep . | sort -u | paste -sd, - | sed 's/,/, /g')
step "root: apt-get satisfy the packages' dependencies"
in_root apt-get satisfy -y -qq --no-install-recommends "$deps" > "$T/apt.log" 2>&1 ||
    { tail -n 30 "$T/apt.log"; stop "apt-get satisfy in the root: $deps"; }
ok "apt resolved the packages' dependencies in a fresh $SUITE root"

# every file of the root, with its type, mode and link target; apt's and
# dpkg's logs, caches and indexes change with any apt run and are not
# virt-nest's
file_list() {
    (cd "$ROOT" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o \
        -printf '%y %m %p -> %l\n') |
        grep -vE '^. [0-9]+ \./(var/log|var/cache/(apt|debconf|ldconfig)|var/lib/apt)(/| )' |
        grep -vE '^. [0-9]+ \./var/lib/dpkg/(status|status-old|available|lock[a-z-]*|triggers/[A-Za-z]+)( |$)' |
        LC_ALL=C sort
}
file_list > "$T/before"

# ============================================================ install
step "install: apt-get install the three packages"
mkdir -p "$ROOT/tmp/vn-debs"
cp "$DEB_CLI" "$DEB_LIB" "$DEB_DEV" "$ROOT/tmp/vn-debs/"
in_root apt-get install -y -qq --no-install-recommends "/tmp/vn-debs/${DEB_CLI##*/}" \
    "/tmp/vn-debs/${DEB_LIB##*/}" "/tmp/vn-debs/${DEB_DEV##*/}" > "$T/apt.log" 2>&1
rc=$?
rm -rf "$ROOT/tmp/vn-debs"
check "apt-get install ./virt-nest_*.deb ./libvirt-nest0_*.deb ./libvirt-nest-dev_*.deb: exit 0" \
    eval '[ $rc -eq 0 ] || { tail -n 30 "$T/apt.log"; false; }'

in_root virt-nest status -c test:///usr/share/doc/virt-nest/examples/seed-l0.xml > "$T/status" 2>&1
rc=$?
sed 's|/usr/share/doc/virt-nest/examples|@SRCDIR@/xml/examples|g' "$T/status" > "$T/status.norm"
check "virt-nest status -c test:///usr/share/doc/virt-nest/examples/seed-l0.xml: exit 0, as tests/golden/status/seed-l0.text" \
    eval '[ $rc -eq 0 ] && diff -u "$SRC/tests/golden/status/seed-l0.text" "$T/status.norm"'
# the bash completion where bash-completion loads it from, and working
BC=/usr/share/bash-completion/completions/virt-nest
out=$(in_root bash -c "source $BC && COMP_WORDS=(virt-nest lo) COMP_CWORD=1 &&
                       _virt_nest virt-nest lo virt-nest &&
                       echo \"\${COMPREPLY[*]}\"" 2>&1)
check "the package's bash completion ($BC) completes 'virt-nest lo' to log" \
    eval '[ "$out" = log ] || { echo "  # $out"; false; }'
# --svg through libgvc: the package pulls in libgvc6 (${shlibs:Depends}),
# which holds dot's layout and the SVG renderer and lists them in config6a
in_root virt-nest status --svg -c test:///usr/share/doc/virt-nest/examples/seed-l0.xml > "$T/status.svg" 2>&1
rc=$?
nodes=$(sed -n -E 's/^[[:space:]]*([A-Za-z0-9_]+) \[.*\];$/\1/p' "$SRC/tests/golden/status/seed-l0.dot" | grep -c -v -E '^(node|edge|graph)$')
check "virt-nest status --svg -c test:///.../seed-l0.xml: exit 0, an SVG with the $nodes nodes of tests/golden/status/seed-l0.dot" \
    eval '[ $rc -eq 0 ] && grep -q "<svg " "$T/status.svg" && [ "$(grep -c "class=\"node\"" "$T/status.svg")" -eq "$nodes" ] || { head -n 5 "$T/status.svg"; false; }'
for d in network qemu; do
    f=/etc/libvirt/hooks/$d.d/virt-nest
    check "$f links to /usr/sbin/virt-nest-hook and is executable" \
        eval '[ -L "$ROOT$f" ] && [ "$(readlink "$ROOT$f")" = /usr/sbin/virt-nest-hook ] && in_root test -x "$f"'
done
out=$(in_root sh -c 'cd / && /etc/libvirt/hooks/qemu.d/virt-nest vm prepare begin - < /dev/null' 2>&1)
rc=$?
check "the qemu drop-in runs as libvirt runs it (an event of no interest: exit 0, silent)" eval '[ $rc -eq 0 ] && [ -z "$out" ]'
in_root virt-nest install-hooks > "$T/ih" 2>&1
rc=$?
check "virt-nest install-hooks sees the drop-ins as virt-nest's and leaves them" \
    eval '[ $rc -eq 0 ] && grep -qx "/etc/libvirt/hooks/qemu.d/virt-nest links to /usr/sbin/virt-nest-hook, virt-nest'"'"'s hook: left as it is" "$T/ih" && [ -L "$ROOT/etc/libvirt/hooks/network.d/virt-nest" ] && [ -L "$ROOT/etc/libvirt/hooks/qemu.d/virt-nest" ]' 
check "the units are enabled (virt-nest-watch.service wanted by multi-user.target, virt-nest-leases.path by paths.target)" \
    eval '[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/virt-nest-watch.service" ] && [ -L "$ROOT/etc/systemd/system/paths.target.wants/virt-nest-leases.path" ]'
check "/etc/iproute2/rt_protos.d/virt-nest.conf names protocol 155 virt-nest" \
    grep -qP '^155\tvirt-nest$' "$ROOT/etc/iproute2/rt_protos.d/virt-nest.conf"
cp "$SRC/tests/package/consumer.c" "$ROOT/root/consumer.c"
in_root sh -c 'cd /root && gcc -Wall -Werror -o consumer consumer.c $(pkg-config --cflags --libs libvirt-nest)' > "$T/cc" 2>&1
rc=$?
out=$(in_root /root/consumer test:///usr/share/doc/virt-nest/examples/seed-l0.xml 2>&1)
rm -f "$ROOT/root/consumer.c" "$ROOT/root/consumer"
check "a program built with pkg-config libvirt-nest prints the route L0 needs" \
    eval '[ $rc -eq 0 ] && [ "$out" = "route 192.168.124.0/24 via 192.168.122.191 dev virbr0" ] || { cat "$T/cc"; echo "  # $out"; false; }'

# ============================================================ use
step "use: the packaged hooks in a network namespace"
G=$SRC/tests/golden/hook
sed -e 's/192\.168\.122\.50/192.168.122.191/' -e "s/name='nest-guest'/name='debian'/" \
    "$G/qemu-started-reservation/state/network/default.xml" > "$ROOT/root/l0-net.xml"
sed 's/nestguest/debian/g' "$G/qemu-started-reservation/stdin.xml" > "$ROOT/root/l0-dom.xml"
# a network of the inner layer's kind (peers 192.168.122.0/24), on its own
# bridge and subnet in the same namespace
sed -e 's/virbr0/virbr1/g' -e 's|<name>default</name>|<name>inner</name>|' -e 's/192\.168\.124\./10.0.50./g' \
    "$G/network-started-peers/stdin.xml" > "$ROOT/root/l1-net.xml"
grep -q '<nest:peer subnet="192.168.122.0/24"/>' "$ROOT/root/l1-net.xml" &&
    grep -q '<name>inner</name>' "$ROOT/root/l1-net.xml" &&
    grep -q "<ip address='10.0.50.1' netmask='255.255.255.0'>" "$ROOT/root/l1-net.xml" ||
    stop "the golden hook inputs changed; adapt package.sh"
ip netns add "$NS" || stop "cannot make network namespace $NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add virbr0 type bridge
ip -n "$NS" link add virbr1 type bridge
ip -n "$NS" addr add 192.168.122.1/24 dev virbr0
ip -n "$NS" addr add 10.0.50.1/24 dev virbr1
ip -n "$NS" link set virbr0 up
ip -n "$NS" link set virbr1 up
# iptables-nft's chains, as libvirt 9.0's iptables makes them
ip netns exec "$NS" nft -f - <<'EOF' || stop "nft in $NS"
table ip filter {
    chain FORWARD { type filter hook forward priority filter; policy accept; }
}
table ip nat {
    chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept; }
}
EOF
hook() {  # DRIVER NAME OP XML
    in_root_ns sh -c "cd / && /etc/libvirt/hooks/$1.d/virt-nest $2 $3 begin - < /root/$4"
}
out=$( { hook network default started l0-net.xml && hook qemu debian started l0-dom.xml &&
         hook network inner started l1-net.xml; } 2>&1)
rc=$?
check "the packaged hooks (network default, qemu debian, network inner started): exit 0, silent" \
    eval '[ $rc -eq 0 ] && [ -z "$out" ] || { echo "  # $out"; false; }'
check "the route is in: 192.168.124.0/24 via 192.168.122.191 dev virbr0 proto 155" \
    eval 'ip -n "$NS" route show proto 155 | grep -q "^192.168.124.0/24 via 192.168.122.191 dev virbr0"'
check "the forward exceptions are in" \
    eval '[ "$(ip netns exec "$NS" nft list chain ip filter FORWARD | grep -c "comment \"virt-nest inner ")" -ge 2 ]'
check "and recorded in the root's /run/virt-nest" eval '[ -f "$ROOT/run/virt-nest/domain/debian.state" ] && [ -f "$ROOT/run/virt-nest/network/inner.state" ]'
ip -n "$NS" route add 10.98.0.0/24 via 192.168.122.191 dev virbr0 proto 155
ip netns exec "$NS" nft insert rule ip filter FORWARD ip daddr 10.95.0.0/24 counter accept comment '"virt-nest stray in 10.94.0.0/24>10.95.0.0/24"'
ip netns exec "$NS" nft insert rule ip filter FORWARD ip daddr 10.96.0.0/24 counter accept comment '"someone else"'
rm -f "$ROOT/root/l0-net.xml" "$ROOT/root/l0-dom.xml" "$ROOT/root/l1-net.xml"

# ============================================================ remove
step "remove: apt-get remove virt-nest"
in_root_ns apt-get remove -y -qq virt-nest > "$T/apt.log" 2>&1
rc=$?
check "apt-get remove virt-nest: exit 0" eval '[ $rc -eq 0 ] || { tail -n 30 "$T/apt.log"; false; }'
check "the drop-ins are gone" \
    eval '[ ! -e "$ROOT/etc/libvirt/hooks/network.d/virt-nest" ] && [ ! -L "$ROOT/etc/libvirt/hooks/network.d/virt-nest" ] && [ ! -L "$ROOT/etc/libvirt/hooks/qemu.d/virt-nest" ]'
check "the command and the hook are gone" eval '[ ! -e "$ROOT/usr/bin/virt-nest" ] && [ ! -e "$ROOT/usr/sbin/virt-nest-hook" ]'
check "no route with protocol 155 is left (the recorded one, the unrecorded one)" \
    eval '[ -z "$(ip -n "$NS" route show proto 155)" ]'
check "no rule with a virt-nest comment is left, recorded or not" \
    eval '! ip netns exec "$NS" nft list ruleset | grep -q "comment \"virt-nest "'
check "somebody else's rule stays" eval 'ip netns exec "$NS" nft list chain ip filter FORWARD | grep -q "comment \"someone else\""'
check "/run/virt-nest is gone" eval '[ ! -e "$ROOT/run/virt-nest" ]'
check "the configuration stays until the purge" \
    eval '[ -f "$ROOT/etc/virt-nest/virt-nest.conf" ] && [ -f "$ROOT/etc/iproute2/rt_protos.d/virt-nest.conf" ]'
ip netns del "$NS"

# ============================================================ purge
step "purge: apt-get purge virt-nest libvirt-nest0 libvirt-nest-dev"
in_root apt-get purge -y -qq virt-nest libvirt-nest0 libvirt-nest-dev > "$T/apt.log" 2>&1
rc=$?
check "apt-get purge: exit 0" eval '[ $rc -eq 0 ] || { tail -n 30 "$T/apt.log"; false; }'
check "dpkg knows none of them any more" \
    eval '[ -z "$(in_root dpkg-query -W -f "\${Package} \${db:Status-Status}\n" virt-nest libvirt-nest0 libvirt-nest-dev 2>/dev/null)" ]'
file_list > "$T/after"
check "the root holds exactly the files it held before the install" \
    eval 'diff -u "$T/before" "$T/after" | sed "s/^/  # /" | head -40; cmp -s "$T/before" "$T/after"'

step "done"
[ $fail = 0 ] && echo "# PASS" || echo "# FAIL"
exit $fail
