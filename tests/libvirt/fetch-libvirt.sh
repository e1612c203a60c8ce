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
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" || exit 1
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { echo "fetch-libvirt: no $keyring (package debian-archive-keyring)" >&2; exit 1; }
echo "deb [signed-by=$keyring] $MIRROR $SUITE main" > "$APT/sources.list"
opts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
      -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
      -o Dir::State::status=/dev/null
      -o Acquire::Retries=2 -o Acquire::http::Timeout=20)

if ! apt-get -q "${opts[@]}" update > "$APT/update.log" 2>&1 ||
   grep -q '^[EW]: Failed to fetch' "$APT/update.log"; then
    echo "SKIP: libvirt from $SUITE: cannot reach $MIRROR:" >&2
    grep -E '^(E|W|Err):' "$APT/update.log" | head -3 | sed 's/^/  /' >&2
    exit 77
fi
ver=$(apt-cache "${opts[@]}" madison libvirt0 2>/dev/null |
      awk -F' *[|] *' -v s=" $SUITE/" 'index($3, s) { print $2; exit }')
if [ -z "$ver" ]; then
    echo "fetch-libvirt: $SUITE has no libvirt0" >&2
    exit 1
fi

DEBS=$DIR/debs
rm -rf "$DEBS"
mkdir -p "$DEBS" || exit 1
# apt downloads as its sandbox user
id _apt >/dev/null 2>&1 && chown _apt "$DEBS"
args=()
for p in "${PKGS[@]}"; do args+=("$p=$ver"); done
if ! (cd "$DEBS" && apt-get -q "${opts[@]}" download "${args[@]}") > "$APT/download.log" 2>&1; then
    if grep -qE '^(E: Failed to fetch|Err:)' "$APT/download.log"; then
        echo "SKIP: libvirt $ver from $SUITE: cannot download it from $MIRROR:" >&2
        grep -E '^(E|Err):' "$APT/download.log" | head -3 | sed 's/^/  /' >&2
        exit 77
    fi
    echo "fetch-libvirt: apt-get download failed:" >&2
    sed 's/^/  /' "$APT/download.log" >&2
    exit 1
fi

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
