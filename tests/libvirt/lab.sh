# lab.sh: a real libvirtd (Debian 12's libvirt 9.0, or another libvirt
# unpacked beside it) in private network, mount and PID namespaces, for
# virt-nest's end-to-end tests and benchmarks.
# Source it, then:
#
#   lab_start NAME            start a daemon; NAME is its network namespace
#   lab_virsh NAME ARGS...    virsh against it
#   lab_exec NAME CMD...      run CMD inside its namespaces (sees its /run)
#   lab_net NAME CMD...       run CMD in its network namespace only
#   lab_restart NAME          restart the daemon (guests keep running)
#   lab_reload NAME           SIGHUP the daemon
#   lab_version NAME          the lab's `libvirtd --version` (the number)
#   lab_use_backports DIR BACKEND
#                             the next labs run bookworm-backports' libvirt
#                             (fetch-libvirt.sh DIR) with firewall_backend
#                             BACKEND; status 77 when it cannot be had
#   lab_stop NAME             destroy its guests and networks (the stop
#                             hooks fire), stop its processes, remove it
#
# Settings (environment, before lab_start):
#   LAB_ROOT    where lab state goes (a directory per lab)
#   LAB_HOOK    the virt-nest-hook binary to install (empty: no hooks)
#   LAB_VN      the virt-nest binary (install-hooks)
#   LAB_NOOP    1: install /bin/true as the network and qemu hook instead
#               (the floor of libvirt running any hook at all)
#   LAB_LIBVIRT_ROOT
#               a root that libvirt's packages were unpacked into with
#               dpkg -x (tests/libvirt/fetch-libvirt.sh: bookworm-backports'
#               11.3): inside the lab's mount namespace its libvirtd,
#               virtlogd and virsh, its libvirt*.so.0, its drivers
#               (/usr/lib/MULTIARCH/libvirt), its helpers (/usr/lib/libvirt:
#               leaseshelper, iohelper) and its data files (/usr/share/libvirt)
#               are bind-mounted, read-only, over the system's, and its
#               /etc/libvirt is the one the lab copies. Empty: the system's.
#               Clients outside the lab (lab_virsh) stay the system's.
#   LAB_FIREWALL_BACKEND
#               firewall_backend in the lab's network.conf (libvirt >= 10.4:
#               iptables or nftables); empty: libvirt's own choice
#
# Everything a lab starts runs inside its namespaces under tini (PID 1 of
# the lab's PID namespace reaps orphans at once); lab_stop stops exactly
# those processes, by PID. The daemon's /run is a private tmpfs, and
# /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt
# are private copies: nothing of the host is touched.

LAB_ROOT=${LAB_ROOT:-/tmp/virt-nest-labs}

_lab_dir() { echo "$LAB_ROOT/$1"; }
_lab_uri() { echo "qemu:///system?socket=$(_lab_dir "$1")/run/libvirt-sock"; }

lab_virsh() {
    local name=$1; shift
    virsh -q -c "$(_lab_uri "$name")" "$@"
}

_lab_keeper() { cat "$(_lab_dir "$1")/keeper.pid"; }

lab_exec() {
    local name=$1; shift
    nsenter -t "$(_lab_keeper "$name")" -m -n -p "$@"
}

lab_net() {
    local name=$1; shift
    ip netns exec "$name" "$@"
}

_lab_libvirtd_pid() {
    local name=$1 p
    for p in $(ip netns pids "$name" 2>/dev/null); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = libvirtd ] && echo "$p"
    done
}

_lab_wait_up() {
    local name=$1 i
    for i in $(seq 300); do
        lab_virsh "$name" version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "lab $name: libvirtd does not answer; see $(_lab_dir "$name")/log" >&2
    return 1
}

# the commands that put LAB_LIBVIRT_ROOT's libvirt over the system's (in the
# lab's mount namespace; nothing when it is empty)
_lab_libvirt_mounts() {
    local r=${LAB_LIBVIRT_ROOT:-} ma f lib
    [ -n "$r" ] || return 0
    r=$(realpath "$r")
    ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
    for f in usr/sbin/libvirtd usr/sbin/virtlogd usr/bin/virsh; do
        [ -e "$r/$f" ] && echo "mount --bind -o ro $r/$f /$f"
    done
    # the libraries by their real files: libvirt.so.0 is a link to
    # libvirt.so.0.VERSION, on both sides
    for lib in "$r"/usr/lib/"$ma"/libvirt*.so.0; do
        [ -e "$lib" ] || continue
        f=/usr/lib/$ma/$(basename "$lib")
        echo "mount --bind -o ro $(realpath "$lib") $(realpath "$f")"
    done
    for f in usr/lib/$ma/libvirt usr/lib/libvirt usr/share/libvirt; do
        [ -d "$r/$f" ] && echo "mount --bind -o ro $r/$f /$f"
    done
}

# Can this kernel run the tc filter that libvirt's nftables backend puts on
# every bridge (action csum)? Asked in the lab's network namespace, on a
# bridge of its own that is gone afterwards. Status 0: it can.
_lab_tc_csum_works() {
    local name=$1 br=vnlabcsum0 r=0
    lab_net "$name" ip link add "$br" type bridge || return 0
    lab_net "$name" tc qdisc add dev "$br" root handle 1: htb default 2 &&
        lab_net "$name" tc filter add dev "$br" prio 2 protocol ip parent 1: \
            u32 match ip dport 68 ffff action csum ip and udp 2>/dev/null || r=1
    lab_net "$name" ip link del "$br"
    return $r
}

lab_use_backports() {
    local out rc
    out=$("$(dirname "${BASH_SOURCE[0]}")/fetch-libvirt.sh" "$1")
    rc=$?
    [ $rc = 0 ] || return $rc
    LAB_LIBVIRT_ROOT=${out%% *}
    LAB_LIBVIRT_PKG=${out#* }
    LAB_FIREWALL_BACKEND=$2
}

lab_version() {
    lab_exec "$1" /usr/sbin/libvirtd --version | awk '{ print $NF }'
}

lab_start() {
    local name=$1 dir
    dir=$(_lab_dir "$name")
    for b in /usr/sbin/libvirtd /usr/sbin/virtlogd /usr/bin/virsh /usr/sbin/dnsmasq tini unshare nsenter; do
        command -v "$b" >/dev/null || { echo "lab: missing $b" >&2; return 1; }
    done
    rm -rf "$dir"
    mkdir -p "$dir"/{run,lib,cache,log,bin}
    chmod 755 "$LAB_ROOT" "$dir" "$dir/run" "$dir/lib" "$dir/log"
    local etc=/etc/libvirt
    [ -n "${LAB_LIBVIRT_ROOT:-}" ] && etc=$LAB_LIBVIRT_ROOT/etc/libvirt
    cp -a "$etc" "$dir/etc"
    cp -a /var/lib/libvirt/. "$dir/lib/"
    cp -a /var/cache/libvirt/. "$dir/cache/"
    cp -a /var/log/libvirt/. "$dir/log/" 2>/dev/null || true
    rm -rf "$dir"/etc/hooks
    rm -f "$dir"/etc/qemu/networks/*.xml "$dir"/etc/qemu/networks/autostart/*.xml \
          "$dir"/etc/qemu/*.xml "$dir"/etc/qemu/autostart/*.xml
    # libvirt keeps the first occurrence of a key
    printf '\nsecurity_driver = "none"\n' >> "$dir/etc/qemu.conf"
    printf '\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n' >> "$dir/etc/libvirtd.conf"
    if [ -n "${LAB_FIREWALL_BACKEND:-}" ]; then
        [ -f "$dir/etc/network.conf" ] || {
            echo "lab: this libvirt has no network.conf, so no firewall_backend (libvirt >= 10.4 has)" >&2
            return 1
        }
        printf '\nfirewall_backend = "%s"\n' "$LAB_FIREWALL_BACKEND" >> "$dir/etc/network.conf"
    fi
    # hooks must be there when the daemon starts: it checks for them once
    if [ -n "${LAB_HOOK:-}" ]; then
        "$LAB_VN" install-hooks --hooks-dir "$dir/etc/hooks" --hook "$LAB_HOOK" >/dev/null ||
            return 1
    elif [ "${LAB_NOOP:-0}" = 1 ]; then
        mkdir -p "$dir/etc/hooks/network.d" "$dir/etc/hooks/qemu.d"
        cp /bin/true "$dir/etc/hooks/network.d/noop"
        cp /bin/true "$dir/etc/hooks/qemu.d/noop"
    fi
    ip netns add "$name" || return 1
    ip -n "$name" link set lo up
    local tcmount=
    # (the iptables backend uses iptables' CHECKSUM target instead)
    if [ -n "${LAB_LIBVIRT_ROOT:-}" ] && [ "${LAB_FIREWALL_BACKEND:-}" != iptables ] &&
       ! _lab_tc_csum_works "$name"; then
        cp "$(command -v tc)" "$dir/bin/tc.real"
        sed -e "s#@REAL@#$dir/bin/tc.real#" -e "s#@LOG@#$dir/log/tc-no-csum.log#" \
            "$(dirname "${BASH_SOURCE[0]}")/tc-no-csum" > "$dir/bin/tc"
        chmod 755 "$dir/bin/tc"
        tcmount="mount --bind -o ro $dir/bin/tc $(realpath "$(command -v tc)")"
        echo "note: lab $name: this kernel has no act_csum (CONFIG_NET_ACT_CSUM):" \
             "libvirt's DHCP checksum filter goes on its bridges without its csum action" \
             "(tests/libvirt/tc-no-csum)" >&2
    fi
    cat > "$dir/bin/inner.sh" <<INNER
#!/bin/bash
# inside: network namespace $name, private mounts, PID namespace under tini
set -euo pipefail
mount -t tmpfs -o mode=755 lab-run /run
mkdir -p /run/libvirt /run/lock
mount --bind $dir/run   /run/libvirt
mount --bind $dir/lib   /var/lib/libvirt
mount --bind $dir/cache /var/cache/libvirt
mount --bind $dir/log   /var/log/libvirt
mount --bind $dir/etc   /etc/libvirt
$(_lab_libvirt_mounts)
$tcmount
cd /
/usr/sbin/virtlogd --daemon --pid-file=/run/libvirt/virtlogd.pid
( /usr/sbin/libvirtd --pid-file=/run/libvirt/libvirtd.pid >>/var/log/libvirt/libvirtd.stderr 2>&1 & )
echo \$\$ > $dir/keeper.inner
exec -a lab-keeper sleep infinity
INNER
    chmod 755 "$dir/bin/inner.sh"
    setsid ip netns exec "$name" unshare --mount --propagation private \
        --pid --fork --mount-proc --kill-child \
        tini -g -- "$dir/bin/inner.sh" >"$dir/lab.out" 2>&1 </dev/null &
    local keeper= i p
    for i in $(seq 100); do
        for p in $(ip netns pids "$name" 2>/dev/null); do
            [ "$({ tr '\0' '\n' < /proc/$p/cmdline; } 2>/dev/null | head -n1)" = lab-keeper ] && keeper=$p
        done
        [ -n "$keeper" ] && break
        sleep 0.1
    done
    [ -n "$keeper" ] || { echo "lab $name did not come up:" >&2; cat "$dir/lab.out" >&2; return 1; }
    echo "$keeper" > "$dir/keeper.pid"
    _lab_wait_up "$name"
}

# Restart the daemon the way systemd would: SIGTERM, then start it again.
# Running guests survive, and libvirt fires qemu "reconnect" for them.
lab_restart() {
    local name=$1 dir pid i
    dir=$(_lab_dir "$name")
    pid=$(_lab_libvirtd_pid "$name")
    [ -n "$pid" ] && kill -TERM "$pid"
    for i in $(seq 100); do
        [ -z "$(_lab_libvirtd_pid "$name")" ] && break
        sleep 0.1
    done
    lab_exec "$name" sh -c '( /usr/sbin/libvirtd --pid-file=/run/libvirt/libvirtd.pid >>/var/log/libvirt/libvirtd.stderr 2>&1 & )'
    _lab_wait_up "$name"
}

# SIGHUP: libvirt reloads its firewall rules and looks for hooks again.
lab_reload() {
    local name=$1 pid
    pid=$(_lab_libvirtd_pid "$name")
    [ -n "$pid" ] && kill -HUP "$pid"
    sleep 0.5
    _lab_wait_up "$name"
}

lab_stop() {
    local name=$1 dir p i
    dir=$(_lab_dir "$name")
    ip netns list | awk '{print $1}' | grep -qx "$name" || { rm -rf "$dir"; return 0; }
    if lab_virsh "$name" version >/dev/null 2>&1; then
        for d in $(lab_virsh "$name" list --name); do lab_virsh "$name" destroy "$d" >/dev/null 2>&1; done
        for n in $(lab_virsh "$name" net-list --name); do lab_virsh "$name" net-destroy "$n" >/dev/null 2>&1; done
    fi
    # our processes only: everything in the lab's network namespace
    for p in $(ip netns pids "$name" 2>/dev/null); do
        case "$(cat /proc/$p/comm 2>/dev/null)" in libvirtd|virtlogd) kill -TERM "$p" ;; esac
    done
    for i in $(seq 50); do
        [ -z "$(_lab_libvirtd_pid "$name")" ] && break
        sleep 0.1
    done
    for p in $(ip netns pids "$name" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 30); do [ -z "$(ip netns pids "$name" 2>/dev/null)" ] && break; sleep 0.1; done
    for p in $(ip netns pids "$name" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    for i in $(seq 30); do [ -z "$(ip netns pids "$name" 2>/dev/null)" ] && break; sleep 0.1; done
    ip netns del "$name" 2>/dev/null
    rm -rf "$dir"
}
