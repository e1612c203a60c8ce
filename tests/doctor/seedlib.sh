# seedlib.sh: the seed's nest in namespaces (tests/netns/lib.sh) as
# seed-nest.sh and legacy-nest.sh snapshot and ask it. Source it after
# nest_init/nest_build, with VN, SRC and X (xml/examples) set; it sets
# L0, L1 and L2 (nest_ns), sources tests/golden-lib.sh, and defines
#
#   nsx NS CMD...         CMD in namespace NS
#   seed_rp_filter        rp_filter as the seed's layers have it: strict
#                         (1) on L1 only, on all, default and every link (a
#                         namespace's defaults follow the machine's, and
#                         snapshots record it)
#   strip_nest XML        XML without its <metadata> blocks that hold nest:
#                         elements
#   snap NS HOSTNAME XML OUT
#                         `virt-nest status --json --host` in NS under
#                         HOSTNAME, with test://XML for libvirt, into OUT
#                         (stderr OUT.err); exit 1 (problems reported, a
#                         route not installed) is fine, more is FAIL
#   vn ARGS...            virt-nest (under VN_VALGRIND)
#   live NS HOSTNAME ARGS...
#                         virt-nest on the live layer in NS under HOSTNAME
#   doctor ARGS...        the manual's doctor (192.168.122.1 to
#                         192.168.124.91) on l0.json l1.json l2.json of the
#                         current directory
#   hook_ok LAYER KIND NAME OP SUBOP XML
#                         the hook as libvirt runs it (nest_hook); FAIL when
#                         it fails
L0=$(nest_ns L0); L1=$(nest_ns L1); L2=$(nest_ns L2)
. "$SRC/tests/golden-lib.sh"

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

seed_rp_filter() {
    local ns v l
    for ns in "$L0" "$L1" "$L2"; do
        v=0; [ "$ns" = "$L1" ] && v=1
        nsx "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=$v \
            net.ipv4.conf.default.rp_filter=$v
        for l in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' |
                   cut -d@ -f1); do
            nsx "$ns" sysctl -qw "net.ipv4.conf.$l.rp_filter=$v"
        done
    done
}

strip_nest() {
    awk '/<metadata>/ { buf = $0; keep = 1; next }
         keep { buf = buf "\n" $0
                if (/<\/metadata>/) { keep = 0; if (buf !~ /nest:/) print buf }
                next }
         { print }' "$1"
}

snap() {
    nsx "$1" unshare --uts sh -c 'hostname "$1"; shift; exec "$@"' sh "$2" \
        ${VN_VALGRIND:-} "$VN" status --json --host -c "test://$3" \
        > "$4" 2> "$4.err"
    local rc=$?
    [ $rc -le 1 ] ||
        { echo "FAIL: snapshot in $1: exit $rc"; cat "$4.err"; fail=1; }
}

vn() { ${VN_VALGRIND:-} "$VN" "$@"; }

live() {
    local ns=$1 host=$2; shift 2
    nsx "$ns" unshare --uts sh -c 'hostname "$1"; shift; exec "$@"' sh \
        "$host" ${VN_VALGRIND:-} "$VN" "$@"
}

doctor() {
    vn doctor --from 192.168.122.1 --to 192.168.124.91 "$@" \
        l0.json l1.json l2.json
}

hook_ok() {
    nest_hook "$@" || { echo "FAIL: hook $2 $3 $4 $5 in $1"; fail=1; }
}
