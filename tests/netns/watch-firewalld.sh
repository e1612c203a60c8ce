#!/bin/bash
# virt-nest watch and a real firewalld: its reload and its restart flush
# L1's iptables tables (firewalld 1.3 with FirewallBackend=iptables flushes
# every table, libvirt's and virt-nest's rules with it); libvirt puts its
# own rules back when it hears of it, and fires no hook. watch hears the
# same signals and must put virt-nest's back, above libvirt's.
#
# The seed's nest of tests/netns/lib.sh (namespaces vnw$$-l0, -l1, -l2),
# libvirt 9.0's rules, the hooks run as libvirt runs them; in L1's network
# namespace: a private dbus-daemon (its socket in the test's directory,
# DBUS_SYSTEM_BUS_ADDRESS pointing there), firewalld (the Debian package)
# on a copy of /etc/firewalld, and virt-nest watch with the libvirt test
# driver's URI (the layer's model; no libvirtd here: tests/libvirt/watch.sh
# is the one with a real libvirtd). What libvirt does on firewalld's
# signals is played by the test: it re-inserts libvirt 9.0's rules at the
# chain heads, after watch's first reconcile, so that watch's second,
# settled pass must move virt-nest's back on top.
#
# Usage: watch-firewalld.sh BUILDDIR SRCDIR
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
VN=$BUILD/src/virt-nest
G=$SRC/tests/golden/hook
L1_URI=test://$SRC/xml/examples/seed-l1.xml
LV=$SRC/tests/data/rules/libvirt9-nat-122.iptables
for b in firewalld firewall-cmd dbus-daemon; do
    command -v $b >/dev/null || { echo "SKIP: $b is not installed (scripts/dev test installs it)"; exit 77; }
done
NEST_ID=vnw$$
. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$BUILD/hooks/virt-nest-hook"
[ -x "$VN" ] || { echo "FAIL: no $VN (build first)"; exit 1; }
T=$NEST_TMP
BUS_PID='' FWD_PID='' WPID=''
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
stop_pid() {  # PID: TERM, wait up to 5 s, then KILL
    local i
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    for i in $(seq 50); do [ -e "/proc/$1" ] || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
}
cleanup() {
    stop_pid "$WPID"
    stop_pid "$FWD_PID"
    stop_pid "$BUS_PID"
    nest_cleanup
}
trap cleanup EXIT
nest_build
nest_firewall libvirt9 || { echo "FAIL: loading libvirt's rules"; exit 1; }
N1=$(nest_ns L1)
. "$SRC/tests/netns/checks.sh"
. "$SRC/tests/netns/privbus.sh"
WLOG=$T/watch.log
check() {  # WHAT CMD... (checks.sh's), or WHAT 'SHELL TEXT'
    local what=$1; shift
    if [ $# = 1 ]; then eval "$1"; else "$@"; fi && ok "$what" || bad "$what"
}
waitfor() {  # SECONDS CMD: poll CMD every 0.2 s
    local i
    for i in $(seq $(($1 * 5))); do eval "$2" && return 0; sleep 0.2; done
    return 1
}
ours() { nest_x L1 iptables-save | grep -- '--comment "virt-nest ' | sort; }
heads() {  # virt-nest's exceptions head FORWARD, its NAT exemption nat POSTROUTING
    nest_x L1 iptables -w -S FORWARD | sed -n '2,3p' | grep -c 'virt-nest default ' | grep -qx 2 &&
        nest_x L1 iptables -w -t nat -S POSTROUTING | sed -n 2p | grep -q 'virt-nest default nat'
}
libvirt_back() {  # what libvirt 9.0 does on firewalld's signals: its rules, at the heads
    sed -e 's/192\.168\.122\./192.168.124./g' \
        -e 's/^-A \(INPUT\|FORWARD\|OUTPUT\|POSTROUTING\) -j LIBVIRT_/-I \1 1 -j LIBVIRT_/' "$LV" |
        nest_x L1 iptables-restore -w --noflush
}
start_firewalld() {
    ip netns exec "$N1" firewalld --nofork --nopid --system-config "$T/etc-firewalld" \
        --log-target file --log-file "$T/firewalld.log" >> "$T/firewalld.out" 2>&1 &
    FWD_PID=$!
    waitfor 30 'nest_x L1 firewall-cmd --state >/dev/null 2>&1'
}
reconciles() { grep -c '^watch: reconciled:' "$WLOG"; }
watch_pid() {
    local p
    for p in $(ip netns pids "$N1" 2>/dev/null); do
        [ "$(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)" = "$VN watch -c $L1_URI " ] && echo "$p"
    done
}
# after EVENT: watch reconciled for REASON, and once more (settled), after
# libvirt's rules came back above virt-nest's
after_event() {  # WHAT REASON N (reconciles before)
    check "$1: watch reconciles ($2)" \
        waitfor 10 "grep -q '^watch: reconcile: .*$2' '$WLOG' && [ \$(reconciles) -gt $3 ]"
    libvirt_back || bad "$1: libvirt's rules could not be put back"
    check "$1: and again once libvirt's rules are back (the settled pass)" \
        waitfor 15 "grep -q '^watch: reconcile: again' '$WLOG' && [ \$(grep -c '^watch: reconcile: again' '$WLOG') -gt $AGAIN ]"
    AGAIN=$(grep -c '^watch: reconcile: again' "$WLOG")
    check "$1: virt-nest's rules head FORWARD and nat POSTROUTING again" waitfor 5 heads
    check "$1: virt-nest's rules are those the hooks installed" "[ \"\$(ours)\" = \"\$OURS\" ]"
    works "$1"
}

# the hooks, before any firewalld
start_all || bad "the start hooks"
OURS=$(ours)
check "the hooks installed virt-nest's 3 rules in L1" "[ \"\$(grep -c . <<< \"\$OURS\")\" = 3 ]"
works "the hooks"

# the bus and firewalld, in L1's network namespace
privbus_firewalld_copy "$T" iptables
privbus_config "$T/bus.conf" "$T/bus"
ip netns exec "$N1" dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile > "$T/bus.log" 2>&1 &
BUS_PID=$!
waitfor 10 "[ -S '$T/bus' ]" || { bad "dbus-daemon did not start: $(cat "$T/bus.log")"; exit 1; }
start_firewalld || { bad "firewalld did not start: $(tail -5 "$T/firewalld.log" "$T/firewalld.out")"; exit 1; }
ok "firewalld $(nest_x L1 firewall-cmd --version) runs in $N1 (PID $FWD_PID), on a private bus"
check "firewalld's start flushed L1's tables: virt-nest's rules are gone" "[ -z \"\$(ours)\" ]"
libvirt_back
check "without watch: libvirt's rules are back, and L0 cannot ping L2" "! ping_l2"

# watch
nest_in L1 env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$VN" watch -c "$L1_URI" > "$WLOG" 2>&1 &
WBG=$!
waitfor 10 '[ -n "$(watch_pid)" ]'
WPID=$(watch_pid)
check "virt-nest watch runs in L1 (PID ${WPID:-none})" "[ -n '$WPID' ]"
check "watch's first reconcile puts virt-nest's rules back at the heads" \
    waitfor 10 "[ \$(reconciles) -ge 1 ] && heads"
check "watch found firewalld on the bus" waitfor 10 "grep -q '^watch: firewalld is running (state RUNNING)' '$WLOG'"
check "virt-nest's rules are those the hooks installed" "[ \"\$(ours)\" = \"\$OURS\" ]"
works "watch's first reconcile"
# its start gave a settled pass too (firewalld was found running)
waitfor 10 "grep -q '^watch: reconcile: again' '$WLOG'"
AGAIN=$(grep -c '^watch: reconcile: again' "$WLOG")

# firewall-cmd --reload
n=$(reconciles)
out=$(nest_x L1 firewall-cmd --reload 2>&1)
check "firewall-cmd --reload: $out" "[ '$out' = success ]"
after_event "firewall-cmd --reload" "firewalld reloaded" "$n"

# firewalld restarts: stop (it flushes), start again (it flushes again)
n=$(reconciles)
stop_pid "$FWD_PID"
check "firewalld stopped: watch saw it go" waitfor 10 "grep -q '^watch: firewalld is not running' '$WLOG'"
start_firewalld || { bad "firewalld did not start again"; exit 1; }
ok "firewalld restarted (PID $FWD_PID)"
after_event "firewalld restart" "firewalld started" "$n"
check "watch is still the same process" "[ '$(watch_pid)' = '$WPID' ]"

# SIGTERM
stop_pid "$WPID"
wait "$WBG"
rc=$?
WPID=
check "SIGTERM: watch exits 0" "[ $rc = 0 ]"
check "and said so" "tail -n1 '$WLOG' | grep -qx 'watch: stopping'"
stop_pid "$FWD_PID"; FWD_PID=
stop_pid "$BUS_PID"; BUS_PID=
echo "--- watch's log"
sed 's/^/    | /' "$WLOG"
exit $fail
