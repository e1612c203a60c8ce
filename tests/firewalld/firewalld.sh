#!/bin/bash
# firewalld 1.3 (Debian's package, nftables backend) on the nest's middle
# layer: L0, L1, L2 from network namespaces (tests/netns/lib.sh, prefix
# vnf), libvirt 9.0's iptables rules in L1, and in L1's network namespace
# a private system bus (dbus-daemon with a config of the test's own, its
# socket under the test's directory) and firewalld on copies of
# /etc/firewalld and /usr/lib/firewalld (the latter with virt-nest's
# policy, as the package installs it), zones as libvirt sets them (virbr0
# in libvirt, the uplink enp1s0 in public). The hook runs as libvirt runs
# it (empty environment; the private bus where the system bus is looked
# for), the static build handing its network events to
# virt-nest-hook-firewalld.
#
#   - the issue's bug: exceptions in iptables alone (VIRT_NEST_FIREWALL=
#     iptables, what virt-nest did before) do not let L0 reach L2, and
#     status says blocked, naming firewalld's reject
#   - the hooks: L0 <-> L2 by ping and TCP both ways with real addresses,
#     two rich rules in policy virt-nest, status ok
#   - firewall-cmd --reload (libvirt re-adds its rules and its zone, as on
#     firewalld's Reloaded): status says missing, the packet dies;
#     `virt-nest reconcile` (what `virt-nest watch` runs) makes it work
#   - a firewalld restart: the same
#   - firewalld without virt-nest's policy (the package installed, no
#     reload since): the network starts anyway, status says blocked with
#     the fix, reconcile adds the rich rules once the policy is there
#   - the stop: ruleset and firewalld's runtime policy byte for byte as
#     before the start
#
# firewalld and dbus-daemon run only inside L1's namespace, started so
# that $! is their own PID, stopped by PID (and by nest_cleanup on exit).
# Usage: firewalld.sh BUILDDIR SRCDIR
# Exit: 0 pass, 1 fail, 77 skipped (not root, no namespaces or nftables,
# firewalld or dbus-daemon not installed).
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
VN=$BUILD/src/virt-nest
G=$SRC/tests/golden/hook
L1_URI=test://$SRC/xml/examples/seed-l1.xml
NEST_PREFIX=vnf

. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$BUILD/hooks/virt-nest-hook"
for t in firewalld firewall-cmd dbus-daemon; do
    command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
[ -x "$VN" ] && [ -x "$BUILD/hooks/virt-nest-hook-firewalld" ] ||
    { echo "FAIL: build first ($VN, virt-nest-hook-firewalld)"; exit 1; }
# beside the hook, where the hook looks for it first
cp "$BUILD/hooks/virt-nest-hook-firewalld" "$NEST_HOOKS/"
nest_build
nest_firewall libvirt9 || { echo "FAIL: loading libvirt's rules"; exit 1; }
T=$NEST_TMP
N1=$(nest_ns L1)
echo "# firewalld; namespaces $(nest_ns L0) $N1 $(nest_ns L2)"
. "$SRC/tests/netns/checks.sh"
. "$SRC/tests/netns/privbus.sh"

# --- the private bus and firewalld, in L1's namespace only
BUS=$T/system_bus_socket
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$BUS
NEST_SYSTEM_BUS=$BUS
privbus_config "$T/bus.conf" "$BUS"
privbus_firewalld_copy "$T" nftables
cp "$SRC/data/firewalld/virt-nest.xml" "$T/lib-firewalld/policies/"

DBUS_PID= FWD_PID=
ip netns exec "$N1" dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile \
    > "$T/dbus.log" 2>&1 &
DBUS_PID=$!
NEST_PIDS+=("$DBUS_PID")
for i in $(seq 50); do [ -S "$BUS" ] && break; sleep 0.1; done
[ -S "$BUS" ] || { echo "FAIL: dbus-daemon did not start: $(cat "$T/dbus.log")"; exit 1; }

fwcmd() { ip netns exec "$N1" firewall-cmd "$@"; }
# what libvirt does when firewalld (re)appears or reloads: its rules again
# (iptables-restore of its tables: idempotent) and virbr0 in zone libvirt;
# the uplink in public, as NetworkManager puts it
libvirt_readd() {
    sed 's/192\.168\.122\./192.168.124./g' "$SRC/tests/data/rules/libvirt9-nat-122.iptables" |
        nest_x L1 iptables-restore &&
    fwcmd -q --zone=libvirt --change-interface=virbr0 &&
    fwcmd -q --zone=public --change-interface=enp1s0
}
fwd_start() {  # [DEFAULT_CONFIG]
    local i
    ip netns exec "$N1" firewalld --nofork --nopid \
        --system-config "$T/etc-firewalld" --default-config "${1:-$T/lib-firewalld}" \
        --log-target file --log-file "$T/firewalld.log" &
    FWD_PID=$!
    NEST_PIDS+=("$FWD_PID")
    for i in $(seq 150); do
        fwcmd --state >/dev/null 2>&1 && break
        kill -0 "$FWD_PID" 2>/dev/null || break
        sleep 0.2
    done
    fwcmd --state >/dev/null 2>&1 || { echo "FAIL: firewalld did not start"; tail -20 "$T/firewalld.log"; exit 1; }
    libvirt_readd || { echo "FAIL: libvirt's rules and zone after firewalld's start"; exit 1; }
}
fwd_stop() {
    kill "$FWD_PID" && wait "$FWD_PID" 2>/dev/null
    _nest_forget_pid "$FWD_PID"
    FWD_PID=
}

vn_at() {  # ARGS...: the command in L1, output in $T/status.out
    nest_x L1 env VIRT_NEST_STATE_DIR="$NEST_STATE_L1" VIRT_NEST_SYSROOT="$T/root" \
        DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" \
        "$VN" "$@" -c "$L1_URI" > "$T/status.out" 2>&1
}
status_l1() { vn_at status --host; }
# status's lines for network default's two forward exceptions (in $T/exc)
fwd_states_are() {  # WANT
    grep -E -- "accept  -s 192\.168\.12[24]\.0/24 -d 192\.168\.12[24]\.0/24" "$T/status.out" > "$T/exc"
    [ "$(wc -l < "$T/exc")" = 2 ] ||
        { echo "  # not 2 forward exception lines in status:"; sed 's/^/  #   /' "$T/status.out"; return 1; }
    if grep -vq "  $1\b" "$T/exc"; then
        echo "  # status, not all $1:"; sed 's/^/  #   /' "$T/exc"; return 1
    fi
}
policy() { fwcmd --info-policy=virt-nest; }
rich_count() { fwcmd --policy=virt-nest --list-rich-rules | grep -c . ; }
snap_all() {  # NAME: L1's ruleset and firewalld's runtime policies
    snap "$1"
    fwcmd --list-all-policies > "$T/policies.$1"
}

mkdir -p "$T/root/etc"
fwd_start
snap_all before

# --- the issue's bug: the iptables exceptions alone
ip netns exec "$N1" env VIRT_NEST_STATE_DIR="$NEST_STATE_L1" VIRT_NEST_FIREWALL=iptables \
    "$NEST_HOOKS/network" default started begin - < "$T/l1-net.xml" > "$T/out" 2> "$T/err"
check "with iptables exceptions alone (VIRT_NEST_FIREWALL=iptables): the hook exits 0" [ $? = 0 ]
check "L0's route to L2 and L2's way back" start_l0
probe
# (zone libvirt's target ACCEPT lets L2 -> L0 through)
check "and firewalld still stops L0 -> L2 (failed:$BROKEN)" [ "$BROKEN" = " ping tcp-in" ]
nest_x L1 env VIRT_NEST_STATE_DIR="$NEST_STATE_L1" VIRT_NEST_FIREWALL=iptables VIRT_NEST_SYSROOT="$T/root" \
    "$VN" status --host -c "$L1_URI" > "$T/status.out" 2>&1
rc=$?
check "status exits non-zero ($rc)" [ "$rc" != 0 ]
if grep -A1 -E 'accept  -s 192.168.122.0/24 -d 192.168.124.0/24 .*  blocked' "$T/status.out" |
   grep -q 'inet firewalld filter_FWD_public: -j REJECT still stops it'; then
    ok "status says blocked, naming firewalld's reject"
else
    bad "status does not say blocked by firewalld's reject:"; sed 's/^/  #   /' "$T/status.out"
fi
ip netns exec "$N1" env VIRT_NEST_STATE_DIR="$NEST_STATE_L1" VIRT_NEST_FIREWALL=iptables \
    "$NEST_HOOKS/network" default stopped end - < "$T/l1-net.xml"
check "stopped again" [ $? = 0 ]

# --- the hooks, firewalld found by itself
check "L1 network start begin: accepted" hook_ok L1 network default start begin "$T/l1-net.xml"
check "L1 network started: exit 0, silent" start_l1
check "two rich rules in policy virt-nest ($(rich_count))" [ "$(rich_count)" = 2 ]
fwcmd --policy=virt-nest --list-rich-rules | sed 's/^/  # /'
works "with firewalld"
status_l1
check "status: both forward exceptions ok" fwd_states_are ok
vn_at status --host --json
cp "$T/status.out" "$T/status.json"
check "status --json: the exceptions are in firewalld policy virt-nest" \
    grep -q 'firewalld policy virt-nest' "$T/status.json"
# every rule of firewalld's table decoded: nothing the evaluator skipped
check "status evaluated every rule of table inet firewalld (nothing opaque)" \
    sh -c "! grep -q 'could not be evaluated' '$T/status.json'"
cp "$T/status.json" /tmp/fwx/status.json 2>/dev/null

# --- firewall-cmd --reload
fwcmd -q --reload && libvirt_readd
check "after firewall-cmd --reload: no rich rule left ($(rich_count))" [ "$(rich_count)" = 0 ]
probe
check "and the traffic dies (failed:$BROKEN)" [ -n "$BROKEN" ]
status_l1
check "status says missing, not ok" fwd_states_are missing
check "and names firewalld policy virt-nest" grep -q 'not in ip filter FORWARD, firewalld policy virt-nest' "$T/status.out"
vn_at reconcile
check "virt-nest reconcile: exit 0" [ $? = 0 ] || sed 's/^/  #   /' "$T/status.out"
check "it re-adds the rich rules ($(rich_count))" [ "$(rich_count)" = 2 ]
works "after the reload and reconcile"
status_l1
check "status: ok again" fwd_states_are ok

# --- a firewalld restart
fwd_stop
fwd_start
check "after a firewalld restart: no rich rule ($(rich_count))" [ "$(rich_count)" = 0 ]
status_l1
check "status says missing" fwd_states_are missing
vn_at reconcile
check "reconcile: exit 0" [ $? = 0 ] || sed 's/^/  #   /' "$T/status.out"
works "after the restart and reconcile"

# --- firewalld without virt-nest's policy
check "network stopped: exit 0, silent" hook_ok L1 network default stopped end "$T/l1-net.xml"
fwd_stop
cp -a "$T/lib-firewalld" "$T/lib-firewalld-nopolicy"
rm "$T/lib-firewalld-nopolicy/policies/virt-nest.xml"
fwd_start "$T/lib-firewalld-nopolicy"
fwcmd --list-all-policies > "$T/policies.nopolicy"
hook L1 network default start begin "$T/l1-net.xml"
check "without the policy, network start begin accepts: a start is never refused for the firewall's sake (exit $HOOK_RC)" \
    [ "$HOOK_RC" = 0 ]
check "L1 network started: exit 0, silent" start_l1
fwcmd --list-all-policies > "$T/policies.nopolicy-started"
check "firewalld's runtime policies untouched" cmp -s "$T/policies.nopolicy" "$T/policies.nopolicy-started"
probe
check "firewalld still stops L0 -> L2 (failed:$BROKEN)" [ "$BROKEN" = " ping tcp-in" ]
status_l1
if grep -A1 -E 'accept  -s 192.168.122.0/24 -d 192.168.124.0/24 .*  blocked' "$T/status.out" |
   grep -q "inet firewalld filter_FWD_public: -j REJECT still stops it: firewalld runs without virt-nest's policy 'virt-nest': install /usr/lib/firewalld/policies/virt-nest.xml (package virt-nest) and run 'firewall-cmd --reload'"; then
    ok "status: blocked by firewalld's reject, with the fix on the same line"
else
    bad "status does not say blocked with the fix:"; sed 's/^/  #   /' "$T/status.out"
fi
# the user installs the policy and reloads firewalld (a restart here, on
# the configuration with the policy); reconcile, as watch does on it
fwd_stop
fwd_start
vn_at reconcile
check "with the policy installed, reconcile: exit 0" [ $? = 0 ] || sed 's/^/  #   /' "$T/status.out"
check "it adds the rich rules ($(rich_count))" [ "$(rich_count)" = 2 ]
works "once the policy is there"
check "network stopped: exit 0, silent" hook_ok L1 network default stopped end "$T/l1-net.xml"
fwd_stop
fwd_start

# --- the stop leaves everything as it was
check "L1 network started: exit 0, silent" start_l1
works "once more"
check "the stop hooks: exit 0, silent" stop_all
check "no rich rule left ($(rich_count))" [ "$(rich_count)" = 0 ]
snap_all after
same before after "after the stop: ruleset and routes byte for byte as before the start"
if cmp -s "$T/policies.before" "$T/policies.after"; then
    ok "firewalld's runtime policies as before"
else
    bad "firewalld's runtime policies changed"; diff -u "$T/policies.before" "$T/policies.after" | sed 's/^/  # /'
fi
[ -s "$T/stdout.all" ] && bad "a hook wrote stdout: $(cat "$T/stdout.all")"

fwd_stop
kill "$DBUS_PID" && wait "$DBUS_PID" 2>/dev/null
_nest_forget_pid "$DBUS_PID"
exit $fail
