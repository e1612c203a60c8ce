#!/bin/bash
# virt-nest on hosts as they are, in the seed's nest built from network
# namespaces (lib.sh), libvirt 9.0's iptables rules on L0 and L1, the hook
# run as libvirt runs it. One scenario per run:
#
#   hand-route  the seed's own hand fix, 192.168.124.0/24 via
#               192.168.122.191 dev virbr0 (from a wsl.conf command= line),
#               is on L0 before the first start: status names it and the
#               wsl.conf line; qemu prepare and started accept the metadata
#               and adopt the route (proto 155), L0 reaches L2; the stop
#               gives the route its own protocol back (routes byte for byte
#               as before); a different route to the subnet is refused at
#               prepare and at started with one line, nothing changed
#   restore     iptables-persistent: iptables-save with virt-nest's rules in
#               place, a "reboot" (empty ruleset, empty state directory),
#               iptables-restore (virt-nest's comments come back as xtables
#               comment matches); the network start adopts them (3 rules,
#               not 6), status sees them, reconcile has nothing to change,
#               the stop removes them; copies restored on top of a running
#               set are all removed by the stop too
#   docker27, docker28
#               Docker's iptables layout as dockerd 27 / 28 issues it
#               (FORWARD policy DROP, DOCKER-USER, DOCKER-FORWARD in 28):
#               L0 reaches L2; dockerd re-inserting its jumps above
#               virt-nest's rules changes nothing and status says ok (its
#               jumps match none of the nest's traffic); stop restores all
#   ufw         ufw enabled on L1 (forward policy DROP), on a copy of its
#               configuration: L0 reaches L2, status ok, after `ufw reload`
#               too; stop restores all
#   blocked     a table of the user's own on L1 (inet userfw, a forward
#               base chain with policy drop): the packet dies although virt-nest's rules
#               are in place, and status says `blocked`, names the policy,
#               exits 1; without that table, ok
#
# In every scenario status's verdict is checked against the packet.
# Usage: real-hosts.sh BUILDDIR SRCDIR SCENARIO
# Exit: 0 pass, 1 fail, 77 skipped (not root, no namespaces, no nftables).
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
SCENARIO=$3
case $SCENARIO in
hand-route|restore|docker27|docker28|ufw|blocked) ;;
*) echo "usage: $0 BUILDDIR SRCDIR hand-route|restore|docker27|docker28|ufw|blocked" >&2; exit 2 ;;
esac
VN=$BUILD/src/virt-nest
G=$SRC/tests/golden/hook
L0_URI=test://$SRC/xml/examples/seed-l0.xml
L1_URI=test://$SRC/xml/examples/seed-l1.xml

. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$BUILD/hooks/virt-nest-hook"
[ -x "$VN" ] || { echo "FAIL: no $VN (build first)"; exit 1; }
if [ "$SCENARIO" = ufw ] && ! command -v ufw >/dev/null; then
    echo "FAIL: ufw is missing (scripts/dev test installs it)"; exit 1
fi
nest_build
nest_firewall libvirt9 || { echo "FAIL: loading libvirt's rules"; exit 1; }
T=$NEST_TMP
echo "# $SCENARIO; namespaces $(nest_ns L0) $(nest_ns L1) $(nest_ns L2)"
. "$SRC/tests/netns/checks.sh"

# status and reconcile of a layer, with its state and a root of the test's
# own for the boot files; output in $T/status.out, exit status returned
vn_at() {  # LAYER URI ARGS...
    local layer=$1 uri=$2 sd
    shift 2
    sd=$(nest_state_dir "$layer")
    nest_x "$layer" env VIRT_NEST_STATE_DIR="$sd" VIRT_NEST_SYSROOT="$T/root" \
        "$VN" "$@" -c "$uri" > "$T/status.out" 2>&1
}
status_l1() { vn_at L1 "$L1_URI" status --host; }
# status's lines for network default's three exceptions (in $T/exc):
# every one in state WANT
states_are() {  # WANT
    grep -E -- "-s 192\.168\.12[24]\.0/24 -d 192\.168\.12[24]\.0/24" "$T/status.out" > "$T/exc"
    [ "$(wc -l < "$T/exc")" = 3 ] ||
        { echo "  # not 3 exception lines in status:"; sed 's/^/  #   /' "$T/status.out"; return 1; }
    if grep -vq "  $1\b" "$T/exc"; then
        echo "  # status, not all $1:"; sed 's/^/  #   /' "$T/exc"; return 1
    fi
}
count_ours() { nest_x L1 iptables-save | grep -c -- '--comment "virt-nest default '; }
xt_strip() { grep -v '^# \(Generated\|Completed\) ' | sed 's/ \[[0-9]*:[0-9]*\]$//; s/^\(:[A-Z_-]* [A-Z-]*\) \[[0-9]*:[0-9]*\]$/\1/'; }

# ---------------------------------------------------------------- scenarios

scenario_hand_route() {
    local r
    mkdir -p "$T/root/etc"
    printf '[boot]\ncommand = "sleep 5 && ip route add 192.168.124.0/24 via 192.168.122.191 dev virbr0"\n' \
        > "$T/root/etc/wsl.conf"
    nest_x L0 ip route add 192.168.124.0/24 via 192.168.122.191 dev virbr0
    snap before
    vn_at L0 "$L0_URI" status --host
    check "before the start, status exits 0 with the hand route in place" [ $? = 0 ]
    check "status: the hand route is the one needed, and the start adopts it" \
        grep -q 'route  192.168.124.0/24 via 192.168.122.191 dev virbr0 (reservation)  foreign' "$T/status.out"
    check "status names the wsl.conf line that brings it back at boot, and the fix" \
        grep -q "$T/root/etc/wsl.conf:2: ip route add 192.168.124.0/24 via 192.168.122.191 dev virbr0" "$T/status.out"
    grep -q 'fix: remove `ip route add 192.168.124.0/24 via 192.168.122.191 dev virbr0`' "$T/status.out" ||
        bad "status gives no fix for the wsl.conf line"
    check "qemu prepare accepts the metadata" hook_ok L0 qemu debian prepare begin "$T/l0-dom.xml"
    check "network and qemu started: exit 0, silent" start_l0
    r=$(ip -n "$(nest_ns L0)" route show 192.168.124.0/24)
    check "the hand route is adopted: one route, now proto 155 ($r)" \
        [ "$r" = "192.168.124.0/24 via 192.168.122.191 dev virbr0 proto 155 " ]
    vn_at L0 "$L0_URI" status --host
    check "status: the route is ok, and the line below says it was adopted from the hand route (proto boot)" \
        sh -c "grep -A1 'route  192.168.124.0/24 via 192.168.122.191 dev virbr0 (reservation)  ok' '$T/status.out' |
               grep -q 'adopted: the same route was made by hand (proto boot)'"
    grep -A2 "route  192.168.124.0/24" "$T/status.out" | sed "s/^/  # /"
    check "L1 network started: exit 0, silent" start_l1
    works "with the adopted route"
    check "the stop hooks: exit 0, silent" stop_all
    snap after
    same before after "after the stop, the hand route has its own protocol back: ruleset and routes byte for byte as before"

    # a different route to the subnet stays refused (the guest's network
    # runs, as libvirt requires)
    nest_x L0 ip route replace 192.168.124.0/24 via 192.168.122.50 dev virbr0
    hook_ok L0 network default started begin "$T/l0-net.xml" || bad "L0 network started"
    snap before2
    for op in prepare started; do
        hook L0 qemu debian "$op" begin "$T/l0-dom.xml"
        if [ "$HOOK_RC" != 0 ] && [ "$(wc -l < "$T/err")" = 1 ] && [ ! -s "$T/out" ] &&
           grep -q "virt-nest: domain 'debian': <nest:route subnet='192.168.124.0/24'>: overlaps this host's route 192.168.124.0/24 via 192.168.122.50 dev virbr0 (not virt-nest's" "$T/err"; then
            ok "qemu $op with a different route to the subnet: refused in one line"
        else
            bad "qemu $op with a different route: exit $HOOK_RC, stderr: $(cat "$T/err")"
        fi
    done
    snap after2
    same before2 after2 "the refusals changed nothing"
    hook_ok L0 network default stopped end "$T/l0-net.xml" || bad "L0 network stopped"
}

scenario_restore() {
    local n
    snap before
    check "start hooks: exit 0, silent" start_all
    works "after the start"
    nest_x L1 iptables-save > "$T/rules.v4"
    grep -v -- '--comment "virt-nest ' "$T/rules.v4" | xt_strip > "$T/libvirt-only"
    # the reboot: nothing in the kernel, nothing in /run
    nest_x L1 nft flush ruleset
    rm -rf "$NEST_STATE_L1" && mkdir "$NEST_STATE_L1"
    nest_x L1 iptables-restore < "$T/rules.v4"
    n=$(nest_x L1 nft list ruleset 2>/dev/null | grep -c 'comment "virt-nest ')
    check "iptables-restore brings virt-nest's rules back as xtables comment matches (nft sees no comment: $n), 3 in iptables-save" \
        [ "$n" = 0 ] && [ "$(count_ours)" = 3 ]
    check "network started after the restore: exit 0, silent" start_l1
    check "the restored rules are adopted: still 3 of virt-nest's, not 6 ($(count_ours))" [ "$(count_ours)" = 3 ]
    works "after the restore and the start"
    status_l1
    check "status: every exception ok" states_are ok
    vn_at L1 "$L1_URI" reconcile
    check "reconcile has nothing to change" grep -q '^nothing to change' "$T/status.out"
    check "network stopped: exit 0, silent" hook_ok L1 network default stopped end "$T/l1-net.xml"
    check "the stop removed the restored rules: none of virt-nest's left" [ "$(count_ours)" = 0 ]
    nest_x L1 iptables-save | xt_strip > "$T/after-stop"
    if cmp -s "$T/libvirt-only" "$T/after-stop"; then ok "iptables-save after the stop: the restored ruleset without virt-nest's rules"
    else bad "iptables-save after the stop differs"; diff -u "$T/libvirt-only" "$T/after-stop" | sed 's/^/  # /'; fi

    # copies restored on top of a running set: the stop removes them all
    check "network started again" start_l1
    { echo '*filter'; grep -- '--comment "virt-nest default \(in\|out\)' "$T/rules.v4"; echo COMMIT
      echo '*nat'; grep -- '--comment "virt-nest default nat' "$T/rules.v4"; echo COMMIT; } |
        nest_x L1 iptables-restore --noflush
    check "a second set restored on top: 6 of virt-nest's rules" [ "$(count_ours)" = 6 ]
    check "network stopped: exit 0, silent" hook_ok L1 network default stopped end "$T/l1-net.xml"
    check "the stop removed every copy ($(count_ours) left)" [ "$(count_ours)" = 0 ]
    nest_x L1 iptables-save | xt_strip > "$T/after-stop2"
    cmp -s "$T/libvirt-only" "$T/after-stop2" && ok "and left libvirt's rules as they were" ||
        { bad "iptables-save after the second stop differs"; diff -u "$T/libvirt-only" "$T/after-stop2" | sed 's/^/  # /'; }

    # orphans: virt-nest's rules of a network this layer no longer has,
    # restored with nothing of virt-nest's to remember them
    { echo '*filter'; grep -- '--comment "virt-nest default \(in\|out\)' "$T/rules.v4"; echo COMMIT; } |
        sed 's/virt-nest default /virt-nest oldnet /' | nest_x L1 iptables-restore --noflush
    status_l1
    check "status lists the orphans as stale, in no ledger" \
        sh -c "[ \$(grep -c 'firewall: virt-nest oldnet .*(in no ledger of virt-nest.s) (stale)' '$T/status.out') = 2 ]"
    check "and names reconcile" grep -q "run 'virt-nest reconcile'" "$T/status.out"
    vn_at L1 "$L1_URI" reconcile
    check "reconcile deletes them" sh -c "[ \$(grep -c 'delete rule \"virt-nest oldnet' '$T/status.out') = 2 ]"
    check "none left" sh -c "! ip netns exec $(nest_ns L1) iptables-save | grep -q 'virt-nest oldnet'"
    # (the layer's own network default needs its exceptions: reconcile
    # installed them, the stop takes them away)
    check "network stopped: exit 0, silent" hook_ok L1 network default stopped end "$T/l1-net.xml"
    nest_x L1 iptables-save | xt_strip > "$T/after-sweep"
    cmp -s "$T/libvirt-only" "$T/after-sweep" && ok "and libvirt's rules are as they were" ||
        { bad "iptables-save after the sweep differs"; diff -u "$T/libvirt-only" "$T/after-sweep" | sed 's/^/  # /'; }
    stop_all >/dev/null
}

# Docker's rules for docker0 (172.17.0.0/16), in the order dockerd issues
# them (moby 27.x: its rules straight in FORWARD; 28.x: DOCKER-FORWARD)
docker_rules() {  # 27|28
    local v=$1 ipt="nest_x L1 iptables -w"
    ip -n "$(nest_ns L1)" link add docker0 type bridge &&
    ip -n "$(nest_ns L1)" addr add 172.17.0.1/16 dev docker0 &&
    ip -n "$(nest_ns L1)" link set docker0 up || return 1
    $ipt -t nat -N DOCKER
    $ipt -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
    $ipt -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
    $ipt -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
    $ipt -N DOCKER
    $ipt -N DOCKER-ISOLATION-STAGE-1
    $ipt -N DOCKER-ISOLATION-STAGE-2
    $ipt -N DOCKER-USER
    $ipt -P FORWARD DROP
    if [ "$v" = 27 ]; then
        $ipt -t nat -I DOCKER -i docker0 -j RETURN
        $ipt -I FORWARD -o docker0 -j DOCKER
        $ipt -I FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        $ipt -I FORWARD -i docker0 ! -o docker0 -j ACCEPT
        $ipt -I FORWARD -i docker0 -o docker0 -j ACCEPT
        $ipt -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
        $ipt -A DOCKER-ISOLATION-STAGE-1 -j RETURN
        $ipt -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
        $ipt -A DOCKER-ISOLATION-STAGE-2 -j RETURN
        $ipt -I FORWARD -j DOCKER-ISOLATION-STAGE-1
    else
        $ipt -N DOCKER-FORWARD
        $ipt -N DOCKER-BRIDGE
        $ipt -N DOCKER-CT
        $ipt -A DOCKER ! -i docker0 -o docker0 -j DROP
        $ipt -A DOCKER-BRIDGE -o docker0 -j DOCKER
        $ipt -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        $ipt -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
        $ipt -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
        $ipt -A DOCKER-FORWARD -j DOCKER-CT
        $ipt -A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1
        $ipt -A DOCKER-FORWARD -j DOCKER-BRIDGE
        $ipt -A DOCKER-FORWARD -i docker0 -j ACCEPT
        $ipt -I FORWARD -j DOCKER-FORWARD
    fi
    $ipt -A DOCKER-USER -j RETURN
    $ipt -I FORWARD -j DOCKER-USER
}

# dockerd starting again: its jumps deleted and inserted at the head of
# FORWARD (DOCKER-USER first), above whatever came before
dockerd_restart() {  # 27|28
    local ipt="nest_x L1 iptables -w" j
    if [ "$1" = 27 ]; then j=DOCKER-ISOLATION-STAGE-1; else j=DOCKER-FORWARD; fi
    $ipt -D FORWARD -j "$j" && $ipt -I FORWARD -j "$j" &&
    $ipt -D FORWARD -j DOCKER-USER && $ipt -I FORWARD -j DOCKER-USER
}

scenario_docker() {  # 27|28
    local v=$1
    docker_rules "$v" || { bad "Docker $v's rules did not load"; return; }
    snap before
    if ping_l2; then bad "with Docker $v, L0 reaches L2 before the hooks"; else ok "with Docker $v (FORWARD policy DROP), no ping L0 -> L2 before the hooks"; fi
    check "start hooks: exit 0, silent" start_all
    works "Docker $v, after the start"
    status_l1
    check "status: every exception ok" states_are ok
    dockerd_restart "$v" || bad "dockerd's restart (its jumps re-inserted) failed"
    nest_x L1 iptables -S FORWARD | sed -n 2,3p | grep -q DOCKER-USER ||
        bad "dockerd's jumps are not above virt-nest's rules; the simulation is wrong"
    works "Docker $v, after dockerd re-inserted its jumps above virt-nest's rules"
    status_l1
    check "status after dockerd's restart: every exception still ok (no false 'shadowed')" states_are ok
    check "stop hooks: exit 0, silent" stop_all
    snap after
    same before after "after the stop, ruleset and routes as before, byte for byte"
}

ufw_in_l1() {  # UFW ARGS...: ufw on L1, on the test's copy of its configuration
    nest_x L1 unshare --mount --propagation private sh -c '
        t=$1; shift
        mount --bind "$t/etc-ufw" /etc/ufw && mount --bind "$t/default-ufw" /etc/default/ufw &&
        exec ufw "$@"' ufw-in-l1 "$T" "$@"
}

scenario_ufw() {
    cp -a /etc/ufw "$T/etc-ufw" && cp /etc/default/ufw "$T/default-ufw" ||
        { bad "cannot copy ufw's configuration"; return; }
    grep -q '^DEFAULT_FORWARD_POLICY="DROP"' "$T/default-ufw" ||
        sed -i 's/^DEFAULT_FORWARD_POLICY=.*/DEFAULT_FORWARD_POLICY="DROP"/' "$T/default-ufw"
    ufw_in_l1 --force enable > "$T/ufw.out" 2>&1 || { bad "ufw enable: $(cat "$T/ufw.out")"; return; }
    check "ufw is enabled on L1, forward policy DROP" \
        sh -c "ip netns exec $(nest_ns L1) iptables -S FORWARD | grep -qx -- '-P FORWARD DROP'"
    # ufw's first reload fills chains its enable left empty: from then on
    # its ruleset is the same after every reload
    ufw_in_l1 reload > "$T/ufw.out" 2>&1 || bad "ufw reload: $(cat "$T/ufw.out")"
    snap before
    if ping_l2; then bad "with ufw, L0 reaches L2 before the hooks"; else ok "with ufw, no ping L0 -> L2 before the hooks"; fi
    check "start hooks: exit 0, silent" start_all
    works "ufw, after the start"
    status_l1
    check "status: every exception ok" states_are ok
    ufw_in_l1 reload > "$T/ufw.out" 2>&1 || bad "ufw reload: $(cat "$T/ufw.out")"
    works "ufw, after ufw reload"
    status_l1
    check "status after ufw reload: every exception ok" states_are ok
    check "stop hooks: exit 0, silent" stop_all
    snap after
    same before after "after the stop, ruleset and routes as before, byte for byte"
}

scenario_blocked() {
    nest_x L1 nft -f - <<'EOF'
table inet userfw {
    chain forward_drop {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
    }
}
EOF
    check "start hooks: exit 0, silent" start_all
    if probe; then bad "with the user's own drop policy, L0 reaches L2"; else ok "with the user's own drop policy, L0 does not reach L2:$BROKEN"; fi
    status_l1
    check "status exits 1: an exception is blocked" [ $? = 1 ]
    cp "$T/status.out" "$T/status.blocked"
    check "status: the forward exceptions are blocked, and the line below names the user's policy" \
        sh -c "grep -A1 -E 'accept +-s 192\.168\.122\.0/24 -d 192\.168\.124\.0/24 -o virbr0 +blocked' '$T/status.out' |
               grep -q 'the drop policy of inet userfw forward_drop still stops it'"
    grep -E -- "-s 192\.168\.12[24]\.0/24 -d 192\.168\.12[24]\.0/24 .* ok\b" "$T/status.blocked" |
        grep -v 'no NAT' && bad "status says ok for a blocked forward exception"
    sed 's/^/  # /' "$T/status.blocked"
    nest_x L1 nft delete table inet userfw
    works "without the user's table"
    status_l1
    check "status then exits 0" [ $? = 0 ]
    check "status: every exception ok" states_are ok
    check "stop hooks: exit 0, silent" stop_all
}

case $SCENARIO in
hand-route) scenario_hand_route ;;
restore) scenario_restore ;;
docker27) scenario_docker 27 ;;
docker28) scenario_docker 28 ;;
ufw) scenario_ufw ;;
blocked) scenario_blocked ;;
esac
if [ -s "$T/stdout.all" ]; then bad "a hook wrote to stdout:"; sed 's/^/  # /' "$T/stdout.all"; fi
exit $fail
