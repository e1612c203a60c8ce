#!/bin/bash
# fetch-libvirt.sh DIR: the libvirt of Debian 12's bookworm-backports
# (11.3.0-2~bpo12+1 today), unpacked into DIR/root for the lab
# (tests/libvirt/lab.sh LAB_LIBVIRT_ROOT) and never installed.
#
# The backports source is used for these downloads only, through an apt
# configuration of this script's own: a sources.list of its own, the
# package lists in DIR/apt/lists and the cache in DIR/apt/cache, so the
# machine's apt state is not touched. `apt-get download` fetches the
# packages (verified against the signed Release file as any apt download),
# `dpkg -x` unpacks them. The daemon's packages run with Debian 12's own
# libraries. A second run finds DIR/root complete and downloads nothing.
#
# Prints the root's path and the version on stdout ("ROOT VERSION").
# Exit: 0 done, 77 the registry cannot be reached (the reason on stderr),
# 1 anything else.
#
# Environment: VN_BPO_MIRROR (default http://deb.debian.org/debian),
# VN_BPO_SUITE (default bookworm-backports).
set -u
# shellcheck source=aptlib.sh
. "$(dirname "$0")/aptlib.sh"
DIR=${1:?usage: fetch-libvirt.sh DIR}
MIRROR=${VN_BPO_MIRROR:-http://deb.debian.org/debian}
SUITE=${VN_BPO_SUITE:-bookworm-backports}
# what the lab's libvirtd needs: the daemon and its library, the qemu and
# network drivers, virtlogd, the helpers (iohelper in daemon-common,
# leaseshelper in driver-network), the data files (libvirt-common), and
# virsh (net-metadata, which virsh 9.0 lacks)
PKGS=(libvirt0 libvirt-common libvirt-daemon libvirt-daemon-common
      libvirt-daemon-log libvirt-daemon-driver-qemu
      libvirt-daemon-driver-network libvirt-clients)

mkdir -p "$DIR" || exit 1
DIR=$(realpath "$DIR")
ROOT=$DIR/root
exec 9> "$DIR/lock"
flock 9 || exit 1
if [ -f "$ROOT/.complete" ]; then
    echo "$ROOT $(cat "$ROOT/.complete")"
    exit 0
fi

APT=$DIR/apt
apt_own "$APT" fetch-libvirt || exit 1
echo "deb [signed-by=$APT_KEYRING] $MIRROR $SUITE main" > "$APT/sources.list"

if ! apt_update "$APT"; then
    echo "SKIP: libvirt from $SUITE: cannot reach $MIRROR:" >&2
    apt_reasons "$APT/update.log"
    exit 77
fi
ver=$(apt-cache "${APT_OPTS[@]}" madison libvirt0 2>/dev/null |
      awk -F' *[|] *' -v s=" $SUITE/" 'index($3, s) { print $2; exit }')
if [ -z "$ver" ]; then
    echo "fetch-libvirt: $SUITE has no libvirt0" >&2
    exit 1
fi

DEBS=$DIR/debs
rm -rf "$DEBS"
mkdir -p "$DEBS" || exit 1
args=()
for p in "${PKGS[@]}"; do args+=("$p=$ver"); done
apt_download "$APT" "$DEBS" fetch-libvirt \
    "libvirt $ver from $SUITE: cannot download it from $MIRROR" "${args[@]}"
rc=$?
[ $rc = 0 ] || exit $rc

rm -rf "$ROOT.tmp"
mkdir -p "$ROOT.tmp" || exit 1
for d in "$DEBS"/*.deb; do
    dpkg -x "$d" "$ROOT.tmp" || { echo "fetch-libvirt: dpkg -x $d failed" >&2; exit 1; }
done
# it must run with this machine's libraries
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
out=$(LD_LIBRARY_PATH=$ROOT.tmp/usr/lib/$multiarch "$ROOT.tmp/usr/sbin/libvirtd" --version 2>&1)
case $out in
*" ${ver%%-*}") ;;
*) echo "fetch-libvirt: the unpacked libvirtd does not run here: $out" >&2
   LD_LIBRARY_PATH=$ROOT.tmp/usr/lib/$multiarch ldd "$ROOT.tmp/usr/sbin/libvirtd" | grep 'not found' >&2
   exit 1 ;;
esac
echo "$ver" > "$ROOT.tmp/.complete"
rm -rf "$ROOT"
mv "$ROOT.tmp" "$ROOT" || exit 1
rm -rf "$DEBS"
echo "$ROOT $ver"
