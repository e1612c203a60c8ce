# lab.sh: a real libvirtd (Debian 12's libvirt 9.0) in private network,
# mount and PID namespaces, for virt-nest's end-to-end tests and benchmarks.
# Source it, then:
#
#   lab_start NAME            start a daemon; NAME is its network namespace
#   lab_virsh NAME ARGS...    virsh against it
#   lab_exec NAME CMD...      run CMD inside its namespaces (sees its /run)
#   lab_net NAME CMD...       run CMD in its network namespace only
#   lab_restart NAME          restart the daemon (guests keep running)
#   lab_stop NAME             destroy its guests and networks (the stop
#                             hooks fire), stop its processes, remove it
#
# Settings (environment, before lab_start):
#   LAB_ROOT    where lab state goes (a directory per lab)
#   LAB_HOOK    the virt-nest-hook binary to install (empty: no hooks)
#   LAB_VN      the virt-nest binary (install-hooks)
#   LAB_NOOP    1: install /bin/true as the network and qemu hook instead
#               (the floor of libvirt running any hook at all)
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

lab_start() {
    local name=$1 dir
    dir=$(_lab_dir "$name")
    for b in /usr/sbin/libvirtd /usr/sbin/virtlogd /usr/bin/virsh /usr/sbin/dnsmasq tini unshare nsenter; do
        command -v "$b" >/dev/null || { echo "lab: missing $b" >&2; return 1; }
    done
    rm -rf "$dir"
    mkdir -p "$dir"/{run,lib,cache,log,bin}
    chmod 755 "$LAB_ROOT" "$dir" "$dir/run" "$dir/lib" "$dir/log"
    cp -a /etc/libvirt "$dir/etc"
    cp -a /var/lib/libvirt/. "$dir/lib/"
    cp -a /var/cache/libvirt/. "$dir/cache/"
    cp -a /var/log/libvirt/. "$dir/log/" 2>/dev/null || true
    rm -rf "$dir"/etc/hooks
    rm -f "$dir"/etc/qemu/networks/*.xml "$dir"/etc/qemu/networks/autostart/*.xml \
          "$dir"/etc/qemu/*.xml "$dir"/etc/qemu/autostart/*.xml
    # libvirt keeps the first occurrence of a key
    printf '\nsecurity_driver = "none"\n' >> "$dir/etc/qemu.conf"
    printf '\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n' >> "$dir/etc/libvirtd.conf"
    # hooks must be there when the daemon starts: it checks for them once
    if [ -n "${LAB_HOOK:-}" ]; then
        "$LAB_VN" install-hooks --hooks-dir "$dir/etc/hooks" --hook "$LAB_HOOK" >/dev/null ||
            return 1
    elif [ "${LAB_NOOP:-0}" = 1 ]; then
        mkdir -p "$dir/etc/hooks/network.d" "$dir/etc/hooks/qemu.d"
        cp /bin/true "$dir/etc/hooks/network.d/noop"
        cp /bin/true "$dir/etc/hooks/qemu.d/noop"
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
cd /
/usr/sbin/virtlogd --daemon --pid-file=/run/libvirt/virtlogd.pid
( /usr/sbin/libvirtd --pid-file=/run/libvirt/libvirtd.pid >>/var/log/libvirt/libvirtd.stderr 2>&1 & )
echo \$\$ > $dir/keeper.inner
exec -a lab-keeper sleep infinity
INNER
    chmod 755 "$dir/bin/inner.sh"
    ip netns add "$name" || return 1
    ip -n "$name" link set lo up
    setsid ip netns exec "$name" unshare --mount --propagation private \
        --pid --fork --mount-proc --kill-child \
        tini -g -- "$dir/bin/inner.sh" >"$dir/lab.out" 2>&1 </dev/null &
    local keeper= i p
    for i in $(seq 100); do
        for p in $(ip netns pids "$name" 2>/dev/null); do
            [ "$(tr '\0' '\n' < /proc/$p/cmdline 2>/dev/null | head -n1)" = lab-keeper ] && keeper=$p
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
