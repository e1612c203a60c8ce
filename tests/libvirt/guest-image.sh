#!/bin/bash
# guest-image.sh BUILDDIR: a kernel and an initramfs that boot a small L1
# guest under TCG in the lab (tests/libvirt/guest.sh), built from Debian
# 12's own packages and virt-nest's binaries, and never installed.
#
# Run it, and it prints "KERNEL INITRD" on stdout; or source it and call
#
#   guest_image BUILDDIR      sets GUEST_KERNEL and GUEST_INITRD
#
# Status: 0 done, 77 the registry cannot be reached and nothing is cached
# (the reason on stderr), 1 anything else.
#
# What goes in, all downloaded with `apt-get download` through an apt
# configuration of this script's own (its sources.list, lists and cache
# under BUILDDIR/guest-image/apt; the machine's apt state is not touched)
# and unpacked with `dpkg -x`:
#   - the kernel linux-image-amd64 names (GUEST_KERNEL_PKG overrides it),
#     and of its modules virtio_pci, virtio_net, virtio_console, bridge and
#     what they depend on (modinfo -F depends, or the module's .modinfo
#     section where kmod is not installed), in load order;
#   - busybox-static (the shell, udhcpc, ip, brctl; and the cpio that
#     writes the image on this machine);
#   - qemu-guest-agent, with the shared libraries it links: the ones this
#     machine has from its own packages, the rest (libnuma1, liburing2 on
#     a machine without qemu) downloaded;
#   - virt-nest's BUILDDIR/src/virt-nest (/usr/bin/virt-nest) and
#     BUILDDIR/hooks/virt-nest-hook (/usr/sbin/virt-nest-hook), each with
#     the libraries ldd finds for it here;
#   - GUEST_EXTRA: when set, a directory whose tree is copied over the
#     image's root last (an inner layer's XML, a virt-nest.conf).
#
# The guest's /init (busybox sh) mounts proc, sys, dev and run, loads the
# modules, brings eth0 up by DHCP (udhcpc; its script sets the address, the
# default route and resolv.conf), makes the bridge virbr0 with
# 192.168.124.1/24 as an inner libvirt's default network has it (no
# libvirtd runs inside), turns on ip_forward and keeps qemu-ga running on
# /dev/virtio-ports/org.qemu.guest_agent.0. It writes what it does to the
# console ("vn-guest: ..."); guest.sh puts the serial console in a file.
# Kernel command-line switches:
#   vn.agent=0         no qemu-ga (a guest whose agent never answers)
#   vn.noexec=1        qemu-ga with guest-exec and guest-exec-status blocked
#                      (qemu-ga 7.2's --block-rpcs)
#   vn.bridge=CIDR[,CIDR...]
#                      virbr0's addresses instead of 192.168.124.1/24
#                      (vn.bridge=none: no bridge)
#   vn.hostname=NAME   the guest's host name (also sent with its DHCP
#                      request); default vn-guest
#
# The image is built once and kept in BUILDDIR/guest-image/KEY (vmlinuz,
# initrd.img): the key is the hash of every input (the packages' SHA256
# from the signed index, this script, virt-nest's binaries, the host
# libraries copied in, GUEST_EXTRA's tree), so a change to any of them
# builds it again and nothing else does; the three images used last are
# kept (tests with different GUEST_EXTRA do not rebuild each other's). The
# package lists are refreshed when older than GUEST_APT_MAX_AGE minutes
# (360); the downloaded .debs are kept beside them (a kept one's hash is
# checked once). Environment: GUEST_MIRROR (http://deb.debian.org/debian),
# GUEST_SECURITY_MIRROR (http://deb.debian.org/debian-security),
# GUEST_SUITE (bookworm).

_GUEST_IMAGE_SELF=$(realpath "${BASH_SOURCE[0]}")
# shellcheck source=aptlib.sh
. "${_GUEST_IMAGE_SELF%/*}/aptlib.sh"

# The guest's /init. Written into the image as it stands here.
_guest_image_init() {
    cat <<'INIT'
#!/bin/sh
# virt-nest's test guest (tests/libvirt/guest-image.sh)
export PATH=/usr/sbin:/usr/bin
say() { echo "vn-guest: $*"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 run /run
mount -t tmpfs -o mode=1777 tmp /tmp
mkdir -p /run/lock /var/lib /var/log
exec </dev/console >/dev/console 2>&1

agent=1 noexec=0 bridge=192.168.124.1/24 host=vn-guest
for w in $(cat /proc/cmdline); do
    case $w in
    vn.agent=*) agent=${w#vn.agent=} ;;
    vn.noexec=*) noexec=${w#vn.noexec=} ;;
    vn.bridge=*) bridge=${w#vn.bridge=} ;;
    vn.hostname=*) host=${w#vn.hostname=} ;;
    esac
done
hostname "$host"
say "kernel $(uname -r), agent=$agent noexec=$noexec bridge=$bridge host=$host"

for m in $(cat /etc/vn-guest/modules); do
    insmod "/lib/modules/$(uname -r)/$m" || say "insmod $m failed"
done
ip link set lo up

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -e /sys/class/net/eth0 ]; then
    say "eth0 $(cat /sys/class/net/eth0/address): DHCP"
    udhcpc -i eth0 -s /etc/vn-guest/udhcpc.script -x "hostname:$host" \
        -t 20 -T 1 -A 2 -b -p /run/udhcpc.eth0.pid
else
    say "no eth0: is the domain's interface virtio?"
fi

if [ "$bridge" != none ]; then
    brctl addbr virbr0
    for a in $(echo "$bridge" | tr ',' ' '); do ip addr add "$a" dev virbr0; done
    ip link set virbr0 up
    say "virbr0 $bridge"
fi
echo 1 > /proc/sys/net/ipv4/ip_forward

# udev's name for the agent's port: /dev/virtio-ports/NAME -> /dev/vportNpM
link_ports() {
    local p n
    mkdir -p /dev/virtio-ports
    for p in /sys/class/virtio-ports/vport*; do
        [ -r "$p/name" ] || continue
        n=$(cat "$p/name")
        [ -n "$n" ] && ln -sf "../${p##*/}" "/dev/virtio-ports/$n"
    done
}
port=/dev/virtio-ports/org.qemu.guest_agent.0
if [ "$agent" = 0 ]; then
    say "no agent (vn.agent=0)"
    while :; do sleep 3600; done
fi
i=0
while link_ports && [ ! -e "$port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$port" ] || say "no $port: does the domain have the agent's channel?"
block=
[ "$noexec" = 1 ] && block="-b guest-exec,guest-exec-status"
say "qemu-ga on $port${block:+ ($block)}"
# as systemd's unit would: started again when it exits
while :; do
    qemu-ga -m virtio-serial -p "$port" -t /run $block
    say "qemu-ga exited ($?): again in 1 s"
    sleep 1
done
INIT
}

# udhcpc's script: busybox passes interface, ip, mask (prefix length),
# router and dns in the environment
_guest_image_udhcpc() {
    cat <<'SCRIPT'
#!/bin/sh
case $1 in
deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do
        ip route replace default via "$r" dev "$interface"
        break
    done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "vn-guest: $interface $ip/${mask:-24} router ${router:-none} ($1)" > /dev/console
    ;;
esac
exit 0
SCRIPT
}

_guest_image_build() {
    set -u
    local build=$1
    local dir=$build/guest-image
    local mirror=${GUEST_MIRROR:-http://deb.debian.org/debian}
    local secmirror=${GUEST_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
    local suite=${GUEST_SUITE:-bookworm}
    local maxage=${GUEST_APT_MAX_AGE:-360}
    local vn=$build/src/virt-nest hook=$build/hooks/virt-nest-hook
    local f

    for f in "$vn" "$hook"; do
        [ -x "$f" ] || { echo "guest-image: no $f: build virt-nest first" >&2; return 1; }
    done
    mkdir -p "$dir" || return 1
    exec 8> "$dir/lock"
    flock 8 || return 1

    # apt of our own
    local apt=$dir/apt keyring=$APT_KEYRING
    apt_own "$apt" guest-image || return 1
    mkdir -p "$apt/debs" || return 1
    {
        echo "deb [signed-by=$keyring] $mirror $suite main"
        echo "deb [signed-by=$keyring] $mirror $suite-updates main"
        echo "deb [signed-by=$keyring] $secmirror $suite-security main"
    } > "$apt/sources.list.new"
    local fresh=
    cmp -s "$apt/sources.list.new" "$apt/sources.list" || fresh=1
    mv "$apt/sources.list.new" "$apt/sources.list"
    if [ -n "$fresh" ] || [ ! -f "$apt/updated" ] ||
       [ -n "$(find "$apt/updated" -mmin +"$maxage")" ]; then
        if apt_update "$apt"; then
            touch "$apt/updated"
        elif [ -f "$apt/updated" ] && [ -z "$fresh" ]; then
            echo "note: guest-image: cannot refresh the package lists; using those of $(date -r "$apt/updated" -u +%FT%TZ)" >&2
        else
            echo "SKIP: guest image: cannot reach $mirror:" >&2
            apt_reasons "$apt/update.log"
            return 77
        fi
    fi

    # the packages: name version sha256 file (as apt-get download names
    # it), one a line
    local kpkg=${GUEST_KERNEL_PKG:-}
    if [ -z "$kpkg" ]; then
        kpkg=$(apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 2>/dev/null |
               awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
        [ -n "$kpkg" ] ||
            { echo "guest-image: apt-cache depends linux-image-amd64 names no kernel" >&2; return 1; }
    fi
    local pkgs=("$kpkg" busybox-static qemu-guest-agent) p
    # qemu-ga's libraries that this machine's packages do not bring
    for p in $(apt-cache "${APT_OPTS[@]}" depends qemu-guest-agent 2>/dev/null |
               awk '$1 == "Depends:" && $2 !~ /^</ { print $2 }'); do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
            pkgs+=("$p")
    done
    local manifest=$apt/manifest
    : > "$manifest"
    for p in "${pkgs[@]}"; do
        apt-cache "${APT_OPTS[@]}" show --no-all-versions "$p" 2>/dev/null |
            awk -v p="$p" '/^Version:/ { v = $2 } /^SHA256:/ { s = $2 }
                           /^Architecture:/ { a = $2 }
                           END { if (s == "") exit 1
                                 f = v; gsub(":", "%3a", f)
                                 print p, v, s, p "_" f "_" a ".deb" }' \
            >> "$manifest" ||
            { echo "guest-image: the package index has no $p" >&2; return 1; }
    done
    # download what is not here with its hash
    local name ver sum file stamp want=()
    while read -r name ver sum file; do
        f=$apt/debs/${file##*/}
        # (a file checked once is known by its hash, size and time)
        if [ -f "$f" ]; then
            stamp="$sum $(stat -c '%s %Y' "$f") ${f##*/}"
            grep -qxF "$stamp" "$apt/verified" 2>/dev/null && continue
            if [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$sum" ]; then
                echo "$stamp" >> "$apt/verified"
                continue
            fi
        fi
        rm -f "$f"
        want+=("$name=$ver")
    done < "$manifest"
    if [ ${#want[@]} -gt 0 ]; then
        apt_download "$apt" "$apt/debs" guest-image \
            "guest image: cannot download ${want[*]} from $mirror" \
            "${want[@]}" || return $?
    fi
    # only the current ones stay
    for f in "$apt/debs"/*.deb; do
        [ -e "$f" ] || continue
        grep -q " ${f##*/}\$" "$manifest" || rm -f "$f"
    done

    # the host's libraries each binary needs (qemu-ga's found with its
    # downloaded ones beside); "PATH FILE" per line, PATH as ldd names it
    local ma tmp
    ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
    tmp=$(mktemp -d "$dir/build.XXXXXX") || return 1
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    local root=$tmp/pkgs
    mkdir -p "$root"
    # all but the kernel now (small); the kernel only when the image is built
    _guest_unpack() {  # FILE
        dpkg -x "$apt/debs/$1" "$root" ||
            { echo "guest-image: dpkg -x $1 failed" >&2; return 1; }
    }
    while read -r name ver sum file; do
        [ "$name" = "$kpkg" ] || _guest_unpack "$file" || return 1
    done < "$manifest"
    _guest_libs() {  # BINARY [LD_LIBRARY_PATH]: the libraries' paths, one a line
        local out
        out=$(LD_LIBRARY_PATH=${2:-} ldd "$1" 2>&1) || { [[ $out = *"not a dynamic"* ]] && return 0; echo "$out" >&2; return 1; }
        if grep -q 'not found' <<<"$out"; then
            echo "guest-image: $1 needs libraries this machine does not have:" >&2
            grep 'not found' <<<"$out" | sed 's/^/  /' >&2
            return 1
        fi
        awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
    }
    local ga=$root/usr/sbin/qemu-ga libs
    libs=$( {
        _guest_libs "$ga" "$root/usr/lib/$ma:$root/lib/$ma" &&
        _guest_libs "$vn" && _guest_libs "$hook"
    } ) || return 1
    libs=$(sort -u <<<"$libs")

    # the key: every input's hash
    local key
    key=$( {
        cut -d' ' -f1,3 "$manifest"
        sha256sum "$_GUEST_IMAGE_SELF" "$vn" "$hook" | cut -d' ' -f1
        for f in $libs; do echo "${f#"$root"} $(sha256sum < "$f" | cut -d' ' -f1)"; done
        if [ -n "${GUEST_EXTRA:-}" ]; then
            (cd "$GUEST_EXTRA" && find . -type f -print0 | LC_ALL=C sort -z |
                xargs -0r sha256sum && find . -print0 | LC_ALL=C sort -z |
                xargs -0r stat -c '%n %a %F')
        fi
    } | sha256sum | cut -d' ' -f1 )
    # one image per key: the newest three are kept
    local out=$dir/$key
    if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
        touch "$out"
        echo "$key"
        return 0
    fi
    echo "note: guest-image: building the guest image ($kpkg, key ${key:0:12})" >&2

    _guest_unpack "$(awk -v k="$kpkg" '$1 == k { print $4 }' "$manifest")" || return 1
    # the modules, in load order: each after what it depends on
    local kver
    kver=$(ls "$root/lib/modules")
    [ "$(wc -w <<<"$kver")" = 1 ] ||
        { echo "guest-image: $kpkg has not one module tree: $kver" >&2; return 1; }
    local mdir=$root/lib/modules/$kver order=() seen=" "
    _guest_mod_deps() {  # FILE
        if command -v modinfo >/dev/null; then
            modinfo -F depends "$1"
        else
            case $1 in
            *.xz) xz -dc "$1" ;;
            *.zst) zstd -dc "$1" ;;
            *) cat "$1" ;;
            esac | tr '\0' '\n' | sed -n 's/^depends=//p'
        fi | tr ',' '\n' | sed '/^$/d'
    }
    _guest_mod_add() {  # NAME
        local n=$1 f d
        case $seen in *" $n "*) return 0 ;; esac
        seen="$seen$n "
        f=$(find "$mdir/kernel" \( -name "$n.ko" -o -name "$n.ko.*" \
                -o -name "${n//_/-}.ko" -o -name "${n//_/-}.ko.*" \) | head -n1)
        [ -n "$f" ] || { echo "guest-image: $kpkg has no module $n" >&2; return 1; }
        for d in $(_guest_mod_deps "$f"); do _guest_mod_add "$d" || return 1; done
        order+=("${f#"$mdir"/}")
    }
    for p in virtio_pci virtio_net virtio_console bridge; do _guest_mod_add "$p" || return 1; done

    local st=$tmp/root
    mkdir -p "$st"/usr/{bin,sbin,lib/"$ma",lib64} "$st"/{dev,proc,sys,run,tmp,etc,var,root} \
        "$st/etc/vn-guest" || return 1
    # merged /usr, as Debian 12: the paths ldd names exist as they are
    ln -s usr/bin "$st/bin" && ln -s usr/sbin "$st/sbin" && ln -s usr/lib "$st/lib" &&
        ln -s usr/lib64 "$st/lib64" && ln -s ../run "$st/var/run" || return 1
    mkdir -p "$st/usr/lib/modules/$kver"
    for f in $libs; do
        case $f in
        "$root"/*) g=${f#"$root"} ;;
        *) g=$f ;;
        esac
        mkdir -p "$st$(dirname "$g")"
        cp -L "$f" "$st$g" || return 1
    done
    # the kernel
    cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz" || return 1
    local m
    for m in "${order[@]}"; do
        mkdir -p "$st/usr/lib/modules/$kver/$(dirname "$m")"
        case $m in
        *.xz) xz -dc "$mdir/$m" > "$st/usr/lib/modules/$kver/${m%.xz}"; m=${m%.xz} ;;
        *.zst) zstd -qdc "$mdir/$m" > "$st/usr/lib/modules/$kver/${m%.zst}"; m=${m%.zst} ;;
        *) cp "$mdir/$m" "$st/usr/lib/modules/$kver/$m" ;;
        esac || return 1
        echo "$m" >> "$st/etc/vn-guest/modules"
    done
    # busybox and its applets
    local bb=$root/bin/busybox a
    [ -x "$bb" ] || bb=$root/usr/bin/busybox
    cp "$bb" "$st/usr/bin/busybox" || return 1
    for a in $("$bb" --list); do
        [ "$a" = busybox ] && continue
        [ -e "$st/usr/bin/$a" ] || ln -s busybox "$st/usr/bin/$a"
    done
    # the agent and virt-nest (stripped copies: the image stays small)
    cp "$ga" "$st/usr/sbin/qemu-ga" || return 1
    cp "$vn" "$st/usr/bin/virt-nest" || return 1
    cp "$hook" "$st/usr/sbin/virt-nest-hook" || return 1
    strip --strip-unneeded "$st/usr/bin/virt-nest" "$st/usr/sbin/virt-nest-hook" 2>/dev/null || true
    # the rest of /
    _guest_image_init > "$st/init"
    _guest_image_udhcpc > "$st/etc/vn-guest/udhcpc.script"
    chmod 755 "$st/init" "$st/etc/vn-guest/udhcpc.script"
    echo "root:x:0:0:root:/root:/bin/sh" > "$st/etc/passwd"
    echo "root:x:0:" > "$st/etc/group"
    : > "$st/etc/resolv.conf"
    printf '127.0.0.1 localhost\n' > "$st/etc/hosts"
    echo "$key" > "$st/etc/vn-guest/key"
    if [ -n "${GUEST_EXTRA:-}" ]; then
        cp -a "$GUEST_EXTRA/." "$st/" || return 1
    fi
    (cd "$st" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null) |
        gzip -6 > "$tmp/initrd.img" || return 1
    chmod 644 "$tmp/vmlinuz" "$tmp/initrd.img"
    chmod 755 "$dir"
    rm -rf "$out" "$tmp/pkgs" "$st"
    mkdir -m 755 "$tmp/out" && mv "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/out/" &&
        mv "$tmp/out" "$out" || return 1
    (cd "$dir" && ls -1td [0-9a-f]*[0-9a-f] 2>/dev/null | awk 'length($0) == 64' |
        tail -n +4 | xargs -r rm -rf)
    echo "$key"
}

guest_image() {
    local build rc key
    build=$(realpath "${1:?usage: guest_image BUILDDIR}") || return 1
    key=$(_guest_image_build "$build")
    rc=$?
    [ $rc = 0 ] || return $rc
    GUEST_KERNEL=$build/guest-image/$key/vmlinuz
    GUEST_INITRD=$build/guest-image/$key/initrd.img
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    guest_image "${1:?usage: guest-image.sh BUILDDIR}" || exit $?
    echo "$GUEST_KERNEL $GUEST_INITRD"
fi
