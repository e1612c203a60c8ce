#!/bin/bash
# virt-nest watch against a real libvirtd (tests/libvirt/lab.sh), through
# libvirtd restarts: libvirt fires no network hook when it (re)starts, and
# after a flush (what firewall-cmd --reload or a reboot with a saved
# ruleset leaves) it puts back its own rules and not virt-nest's; watch
# must notice the daemon coming back and reconcile.
#
#   lab (libvirtd, the hooks): network nestnet (virbr7, 192.168.150.0/24,
#       peer 10.77.0.0/24), and a link vnwp0 10.77.0.1/24 to
#   P: a namespace at 10.77.0.2, standing for the peer subnet
#   G: a namespace on virbr7 at 192.168.150.50, standing for a guest
# P pings G only through virt-nest's exception: libvirt's FORWARD rules
# reject what enters virbr7 unasked.
#
# Usage: watch.sh BUILDDIR SRCDIR
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
lab_need libvirtd tini dnsmasq iptables ping
LAB_ROOT=$(mktemp -d /tmp/virt-nest-watch.XXXXXX)
L=vnwlv$$
P=vnwp$$
G=vnwg$$
WPID=
WLOG=$LAB_ROOT/watch.log
cleanup() {
    [ -n "$WPID" ] && kill -TERM "$WPID" 2>/dev/null
    lab_stop "$L"
    ip netns del "$P" 2>/dev/null
    ip netns del "$G" 2>/dev/null
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
fwd_rules() { lab_net "$L" iptables -S FORWARD | sed -n 's/^-A FORWARD //p'; }
heads_fwd() {  # virt-nest's two exceptions head FORWARD, libvirt's jumps follow
    fwd_rules | sed -n '1,2p' | grep -c 'virt-nest nestnet ' | grep -qx 2 &&
        fwd_rules | sed -n 3p | grep -q -- '-j LIBVIRT_FW'
}
ping_g() { ip netns exec "$P" ping -c1 -W2 192.168.150.50 >/dev/null 2>&1; }
waitfor() {  # SECONDS CMD: poll CMD every 0.2 s
    local i
    for i in $(seq $(($1 * 5))); do eval "$2" && return 0; sleep 0.2; done
    return 1
}
watch_pid() {  # the real PID of virt-nest watch, in the lab's namespaces
    local p
    for p in $(ip netns pids "$L" 2>/dev/null); do
        [ "$(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)" = "$LAB_VN watch -c $URI " ] && echo "$p"
    done
}
log_lines() { grep -c "$1" "$WLOG"; }

lab_start "$L" || { bad "the lab did not start"; exit 1; }
URI=$(_lab_uri "$L")
ok "libvirtd up in $L with the hooks installed"
lab_virsh "$L" net-define "$XML/net-nest.xml" >/dev/null
lab_virsh "$L" net-start nestnet >/dev/null || bad "net-start nestnet"
check "net-start: the hook's exceptions head FORWARD" heads_fwd

ip netns add "$P"
ip netns add "$G"
ip -n "$P" link set lo up
ip -n "$G" link set lo up
ip link add vnwp0 netns "$L" type veth peer name eth0 netns "$P"
lab_net "$L" ip addr add 10.77.0.1/24 dev vnwp0
lab_net "$L" ip link set vnwp0 up
ip -n "$P" addr add 10.77.0.2/24 dev eth0
ip -n "$P" link set eth0 up
ip -n "$P" route add default via 10.77.0.1
ip link add vnwg0 netns "$L" type veth peer name eth0 netns "$G"
lab_net "$L" ip link set vnwg0 master virbr7 up
ip -n "$G" link set eth0 address 52:54:00:15:00:50
ip -n "$G" addr add 192.168.150.50/24 dev eth0
ip -n "$G" link set eth0 up
ip -n "$G" route add default via 192.168.150.1
waitfor 10 ping_g
check "with the hook's exceptions, P (10.77.0.2) pings G (192.168.150.50)" ping_g

# the control: a flush, then libvirtd's restart, and nobody reconciles
lab_net "$L" iptables -F FORWARD
lab_restart "$L"
check "without watch: after a flush and libvirtd's restart, libvirt's jumps are back" \
    "fwd_rules | grep -q -- '-j LIBVIRT_FW'"
check "without watch: virt-nest's exceptions are not" "! fwd_rules | grep -q 'virt-nest nestnet'"
check "without watch: P cannot ping G" "! ping_g"

# watch: its first reconcile puts them back
lab_exec "$L" "$LAB_VN" watch -c "$URI" > "$WLOG" 2>&1 &
WBG=$!
waitfor 10 '[ -n "$(watch_pid)" ]'
WPID=$(watch_pid)
check "virt-nest watch runs in the lab (PID ${WPID:-none})" "[ -n '$WPID' ]"
check "watch's first reconcile re-installs the exceptions at the head of FORWARD" "waitfor 10 heads_fwd"
check "and P pings G again" ping_g
check "watch logged its start and what it changed" \
    "grep -qx 'watch: reconcile: start' '$WLOG' && grep -q '^watch: network .nestnet.: insert rule \"virt-nest nestnet in 10.77.0.0/24>192.168.150.0/24\"' '$WLOG'"

# the case itself: flush, restart libvirtd; watch reconnects and reconciles
n=$(log_lines '^watch: reconciled:')
lab_net "$L" iptables -F FORWARD
t0=$(date +%s.%N)
lab_restart "$L"
check "libvirtd restart: watch sees the connection close and reconnects" \
    "waitfor 30 \"grep -q '^watch: the connection to .* closed' '$WLOG' && [ \\\$(grep -c '^watch: connected to' '$WLOG') -ge 2 ]\""
check "libvirtd restart: watch reconciles because libvirt is back" \
    "waitfor 30 \"grep -q '^watch: reconcile: libvirt is back' '$WLOG' && [ \\\$(log_lines '^watch: reconciled:') -gt $n ]\""
check "libvirtd restart: virt-nest's exceptions head FORWARD again, above libvirt's jumps" "waitfor 10 heads_fwd"
echo "    watch put them back $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s after the restart began"
check "libvirtd restart: P pings G" ping_g
check "watch is still the same process" "[ '$(watch_pid)' = '$WPID' ]"

# a network that stops and starts: the hook does it, watch's reconcile
# after the events has nothing to add
n=$(log_lines '^watch: reconciled:')
lab_virsh "$L" net-destroy nestnet >/dev/null
lab_virsh "$L" net-start nestnet >/dev/null
lab_net "$L" ip link set vnwg0 master virbr7 up
check "net-destroy, net-start: watch hears both events and reconciles" \
    "waitfor 10 \"grep -q \\\"^watch: reconcile: .*network 'nestnet' st\\\" '$WLOG' && [ \\\$(log_lines '^watch: reconciled:') -gt $n ]\""
check "after both events the exceptions head FORWARD once" \
    "heads_fwd && [ \"\$(fwd_rules | grep -c 'virt-nest nestnet')\" = 2 ]"
check "P pings G" "waitfor 10 ping_g"

# SIGHUP: reconcile now (systemctl reload)
n=$(log_lines '^watch: reconciled:')
lab_net "$L" iptables -D FORWARD 1
kill -HUP "$WPID"
check "SIGHUP: watch reconciles and puts back the rule deleted by hand" \
    "waitfor 10 \"[ \\\$(log_lines '^watch: reconciled:') -gt $n ] && heads_fwd\""
check "SIGHUP: the second, settled reconcile changes nothing" \
    "waitfor 10 \"grep -q '^watch: reconcile: again' '$WLOG'\" && waitfor 5 \"tail -n1 '$WLOG' | grep -qx 'watch: reconciled: nothing to change'\""

# SIGTERM: a clean exit
kill -TERM "$WPID"
check "SIGTERM: watch exits" "waitfor 10 '[ ! -e /proc/$WPID ]'"
WPID=
wait "$WBG"
rc=$?
check "SIGTERM: exit status 0" "[ $rc = 0 ]"
check "and said so" "tail -n1 '$WLOG' | grep -qx 'watch: stopping'"
echo "--- watch's log"
sed 's/^/    | /' "$WLOG"
exit $fail
