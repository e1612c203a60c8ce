#!/bin/bash
# virt-nest-hook in the seed's nest, in network namespaces, with libvirt's
# real rulesets: the hooks run as libvirt runs them (argv, a cleared
# environment, XML on stdin), and the nest works, and goes back to exactly
# what it was.
#
# Usage: hook-nest.sh VIRT_NEST VIRT_NEST_HOOK SRCDIR KIND
#   KIND: libvirt9 (libvirt 9.0, iptables-nft), seed (the seed's own
#   rules, straight into FORWARD) or nftables (libvirt's nftables backend)
set -u
VN=$(realpath "$1")
HOOK=$(realpath "$2")
SRC=$3
KIND=$4
X=$SRC/xml/examples
G=$SRC/tests/golden/hook

. "$SRC/tests/nest-lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
nest_build
nest_firewall "$KIND"

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
reach() {  # a ping from L0 to L2
    nsx "$L0" ping -c 1 -W 1 -I 192.168.122.1 192.168.124.91 >/dev/null 2>&1
}
# the hook calls that fix the seed's nest, and undo it
sed 's/192\.168\.122\.50/192.168.122.191/' \
    "$G/qemu-started-reservation/state/network/default.xml" > "$T/l0-default.xml"
GUEST=$G/qemu-started-reservation/stdin.xml
PEERS=$G/network-started-peers/stdin.xml
# a hook never writes to stdout: libvirt takes it as XML for some events
start_all() {
    { run_hook "$L0" "$T/s0" network default started begin "$T/l0-default.xml" &&
      run_hook "$L0" "$T/s0" qemu debian started begin "$GUEST" &&
      run_hook "$L1" "$T/s1" network default started begin "$PEERS"; } >> "$T/stdout"
}
stop_all() {
    { run_hook "$L1" "$T/s1" network default stopped end "$PEERS" &&
      run_hook "$L0" "$T/s0" qemu debian stopped end "$GUEST" &&
      run_hook "$L0" "$T/s0" network default stopped end "$T/l0-default.xml"; } >> "$T/stdout"
}
snapshot() {  # NAME: the state of L0 and L1
    nest_state "$L0" > "$T/$1.l0"
    nest_state "$L1" > "$T/$1.l1"
}
same() {  # A B WHAT
    if cmp -s "$T/$1.l0" "$T/$2.l0" && cmp -s "$T/$1.l1" "$T/$2.l1"; then
        ok "$3"
    else
        bad "$3"
        diff -u "$T/$1.l0" "$T/$2.l0"
        diff -u "$T/$1.l1" "$T/$2.l1"
    fi
}
iptables_lists() {  # in L1: libvirt runs `iptables -S` itself
    if nsx "$L1" iptables -w -S >/dev/null 2>"$T/ipt.err" &&
       nsx "$L1" iptables-save >/dev/null 2>>"$T/ipt.err" &&
       ! grep -qi incompatible "$T/ipt.err" && ! nsx "$L1" iptables-save | grep -qi incompatible; then
        ok "iptables -S and iptables-save still list L1's tables ($1)"
    else
        bad "iptables cannot list L1's tables ($1)"; cat "$T/ipt.err"
    fi
}
tcp_source() {  # a TCP connection from L0 to L2: the source L2 sees
    nsx "$L2" timeout 10 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.168.124.91", 8022)); s.listen(1); print("ready", flush=True)
c, a = s.accept(); c.sendall(a[0].encode()); c.close()' > "$T/server.out" &
    local pid=$! i
    for i in $(seq 50); do grep -q ready "$T/server.out" 2>/dev/null && break; sleep 0.1; done
    nsx "$L0" timeout 5 python3 -c '
import socket
s = socket.create_connection(("192.168.124.91", 8022), timeout=3,
                             source_address=("192.168.122.1", 0))
print(s.recv(64).decode())' 2>/dev/null
    wait "$pid" 2>/dev/null
}

echo "# firewall: $KIND"
snapshot before
reach && bad "L0 reaches L2 before the hooks" || ok "L0 cannot reach L2 before the hooks"

# --- the hooks fix the nest
if start_all; then ok "the start hooks succeed"; else bad "a start hook failed"; fi
reach && ok "ping L0 -> L2 after the hooks" || bad "no ping L0 -> L2 after the hooks"
src=$(tcp_source)
[ "$src" = 192.168.122.1 ] &&
    ok "a TCP connection L0 -> L2 arrives with L0's own address ($src)" ||
    bad "TCP L0 -> L2: L2 saw '$src', not 192.168.122.1"
ip -n "$L0" route show proto 155 | grep -q "192.168.124.0/24 via 192.168.122.191 dev virbr0" &&
    ok "L0 has the route, proto virt-nest" || bad "L0's route is missing"
[ "$KIND" = nftables ] || iptables_lists "hooks run"
snapshot started

# --- idempotent
start_all >/dev/null 2>&1
snapshot again
same started again "a second run of every start hook changes nothing"

# --- libvirt reloads its rules
nest_libvirt_reload "$L1"
nest_libvirt_reload "$L0"
if reach; then
    ok "libvirt re-inserting its rules leaves L0 -> L2 working"
else
    echo "# after libvirt's reload, virt-nest's rules are below libvirt's REJECT"
    nsx "$L1" env VIRT_NEST_STATE_DIR="$T/s1" "$VN" status --host -c "test://$X/seed-l1.xml" \
        > "$T/status.out" 2>&1
    grep -q shadowed "$T/status.out" && ok "virt-nest status on L1 calls it shadowed" ||
        { bad "status does not see the shadowing"; cat "$T/status.out"; }
    nsx "$L1" env VIRT_NEST_STATE_DIR="$T/s1" "$VN" reconcile -c "test://$X/seed-l1.xml" \
        > "$T/reconcile.out" 2>&1 || { bad "reconcile failed"; cat "$T/reconcile.out"; }
    reach && ok "virt-nest reconcile on L1 restores L0 -> L2" ||
        bad "no ping L0 -> L2 after reconcile"
fi
[ "$KIND" = nftables ] || iptables_lists "after libvirt's reload"

# --- hostile metadata changes nothing
snapshot pre-hostile
for d in "$G"/refused-* "$G"/network-refused-*; do
    read -r kind obj op subop < "$d/args"
    ns=$L0; st=$T/s0
    [ "$kind" = network ] && { ns=$L1; st=$T/s1; }
    run_hook "$ns" "$st" "$kind" "$obj" "$op" "$subop" "$d/stdin.xml" \
        > "$T/h.out" 2> "$T/h.err"
    rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l < "$T/h.err")" = 1 ] && [ ! -s "$T/h.out" ]; then
        ok "$(basename "$d"): refused in one line: $(cat "$T/h.err")"
    else
        bad "$(basename "$d"): exit $rc, stdout $(wc -c < "$T/h.out") bytes, stderr:"
        cat "$T/h.err"
    fi
done
snapshot post-hostile
same pre-hostile post-hostile "hostile metadata changed no rule and no route"

# --- the stop hooks put everything back
if stop_all; then ok "the stop hooks succeed"; else bad "a stop hook failed"; fi
snapshot stopped
same before stopped "after the stop hooks, rules and routes are as before (byte for byte)"
reach && bad "L0 still reaches L2 after the stop hooks" || ok "L0 -> L2 is closed again"

# --- the state directory lost between start and stop: removal by tag
start_all >/dev/null 2>&1 || bad "start hooks (second time)"
reach || bad "no ping L0 -> L2 (second time)"
rm -rf "$T/s0" "$T/s1"
if stop_all 2>"$T/stop.err"; then ok "the stop hooks succeed without their state"; else
    bad "a stop hook failed without state"; cat "$T/stop.err"; fi
snapshot lost
same before lost "with the state directory lost, the stop hooks still remove exactly virt-nest's"
[ "$KIND" = nftables ] || iptables_lists "at the end"

[ ! -s "$T/stdout" ] && ok "no hook wrote to stdout" ||
    { bad "a hook wrote to stdout:"; cat "$T/stdout"; }

exit $fail
