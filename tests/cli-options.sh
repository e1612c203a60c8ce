#!/bin/bash
# The options of every command, as the manual's EXIT STATUS says: a bad
# option, an abbreviated one (getopt_long would take "--keep" for
# "--keep-installed"), a bad value and options that exclude each other are
# usage errors: exit 2, one line on stderr naming the option, nothing on
# stdout; --help is the usage on stdout and exit 0. None of these cases
# gets as far as libvirt or the firewall.
# Usage: cli-options.sh VIRT_NEST SRCDIR
set -u
VN=$1
X=$2/xml/examples
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SNAP=("$X/seed-nest-l0.json" "$X/seed-nest-l1.json" "$X/seed-nest-l2.json")
L0="test://$X/seed-l0.xml"

# usage TEXT ARGS...: exit 2, stdout empty, stderr one line that contains
# TEXT
usage() {
    local text=$1; shift
    # (a timeout: an option taken wrongly could start watch for good)
    timeout 20 env -u LIBVIRT_DEFAULT_URI "$VN" "$@" >"$T/out" 2>"$T/err" </dev/null
    local rc=$?
    if [ $rc -ne 2 ]; then
        echo "FAIL: virt-nest $*: exit $rc, expected 2"; sed 's/^/  | /' "$T/err"; fail=1; return
    fi
    if [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -q '^virt-nest: ' "$T/err" ||
       ! grep -qF -- "$text" "$T/err"; then
        echo "FAIL: virt-nest $*: stderr is not one line with '$text':"
        sed 's/^/  | /' "$T/err"; fail=1; return
    fi
    if [ -s "$T/out" ]; then
        echo "FAIL: virt-nest $*: output on stdout:"; sed 's/^/  | /' "$T/out"; fail=1; return
    fi
    echo "ok: virt-nest $*: $(cat "$T/err")"
}

# help ARGS...: exit 0, "Usage: virt-nest ..." on stdout, stderr empty
help() {
    "$VN" "$@" >"$T/out" 2>"$T/err" </dev/null
    local rc=$?
    if [ $rc -ne 0 ] || ! head -1 "$T/out" | grep -q '^Usage: virt-nest' || [ -s "$T/err" ]; then
        echo "FAIL: virt-nest $*: exit $rc, or no usage on stdout, or stderr:"
        sed 's/^/  | /' "$T/out" "$T/err"; fail=1; return
    fi
    echo "ok: virt-nest $*: usage"
}

help --help
usage "nosuchcommand" nosuchcommand
usage "--bogus" --bogus

help status --help
usage "'--bogus'" status --bogus
usage "did you mean --json?" status --jso
usage "did you mean --leases-dir?" status --leases=/tmp
usage "exclude each other" status --json --mermaid
usage "unexpected argument 'extra'" status extra
usage "give --json" status --walk -c "$L0"
usage "--walk-depth and --walk-timeout go with --walk" status --json --walk-depth 2 -c "$L0"
usage "--walk-depth 0: give the layers to enter, 1 to 16" status --json --walk --walk-depth 0 -c "$L0"
usage "--walk-depth 17" status --json --walk --walk-depth=17 -c "$L0"
usage "--walk-timeout 5s: give seconds per guest" status --json --walk --walk-timeout 5s -c "$L0"
usage "--exit-code is for this layer alone" status --json --walk --exit-code -c "$L0"
usage "did you mean --walk-timeout?" status --json --walk --walk-time 3 -c "$L0"
usage "--color=sometimes: give auto, always or never" status --color=sometimes
usage "did you mean --color?" status --col=always

help plan --help
usage "'--bogus'" plan --bogus
usage "did you mean --network?" plan -c "$L0" --netw default --guest f
usage "did you mean --guest?" plan -c "$L0" --network default --gu=f
usage "--mac zz:zz: not a MAC address" plan -c "$L0" --network default --guest f --mac zz:zz
usage "--depth 0" plan -c "$L0" --network default --guest f --depth 0
usage "--connect-inner only makes sense with --apply" \
    plan -c "$L0" --network default --guest f --connect-inner test:///default

help graph --help
usage "'--bogus'" graph --bogus "${SNAP[@]}"
usage "did you mean --mermaid?" graph --merm "${SNAP[@]}"
usage "exclude each other" graph --json --mermaid "${SNAP[@]}"
usage "--walk collects the snapshots itself; leave out" graph --walk -c "$L0" "${SNAP[@]}"
usage "-c is for --walk" graph -c "$L0" "${SNAP[@]}"
usage "--walk-timeout 0" graph --walk --walk-timeout 0 -c "$L0"

help doctor --help
# the usage names -c, the live layer's connection, as the manual does
grep -qF 'virt-nest doctor [-c URI] --from ADDR --to ADDR' "$T/out" &&
    echo "ok: doctor's usage names -c" ||
    { echo "FAIL: doctor's usage does not name -c"; fail=1; }
usage "'--bogus'" doctor --bogus --from 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"
usage "did you mean --from?" doctor --fr 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"
usage "different families" doctor --from 192.168.122.1 --to ::1 "${SNAP[@]}"
usage "--from and --to are the same address (192.168.122.1)" \
    doctor --from 192.168.122.1 --to 192.168.122.1 "${SNAP[@]}"
usage "--tcp and --udp exclude each other" \
    doctor --tcp --udp --from 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"
usage "--to 192.168.124.300" doctor --from 192.168.122.1 --to 192.168.124.300 "${SNAP[@]}"
usage "--walk collects the snapshots itself; leave" \
    doctor --walk --from 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"
usage "go with --walk" doctor --walk-depth 2 --from 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"
usage "--color=x: give auto, always or never" \
    doctor --color=x --from 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"
usage "--size 5" doctor --size 5 --from 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"

help reconcile --help
usage "'--bogus'" reconcile --bogus
usage "did you mean --dry-run?" reconcile -c "$L0" --dry

help adopt --help
usage "'--bogus'" adopt --bogus debian
usage "did you mean --subnet?" adopt -c "$L0" debian --sub 192.168.124.0/24
usage "--subnet '192.168.124.1/24'" \
    adopt -c "$L0" debian --subnet 192.168.124.1/24
usage "--peer 'nope'" adopt --peer nope --subnet 192.168.124.0/24
usage "name the guest" adopt -c "$L0"
usage "unexpected argument 'extra'" adopt -c "$L0" debian extra
usage "--peer needs the inner network" adopt --peer 192.168.122.0/24
usage "--peer takes no GUEST" \
    adopt --peer 192.168.122.0/24 --subnet 192.168.124.0/24 debian
usage "--network goes with --peer" adopt -c "$L0" debian --network default

help watch --help
usage "'--bogus'" watch --bogus
usage "did you mean --leases-dir?" watch -c "$L0" --leases "$T"

help log --help
usage "'--bogus'" log --bogus
usage "did you mean --lines?" log --lin 3
usage "did you mean --json?" log --js
usage "--lines x: not a number of lines" log -n x
usage "--lines -1: not a number of lines" log --lines=-1
usage "unexpected argument 'extra'" log extra

help install-hooks --help
usage "'--bogus'" install-hooks --bogus
usage "did you mean --hooks-dir?" install-hooks --hooks "$T/hooks" --hook "$VN"

help uninstall-hooks --help
usage "'--bogus'" uninstall-hooks --bogus
usage "did you mean --keep-installed?" uninstall-hooks --hooks-dir "$T/hooks" --keep
usage "exclude each other" uninstall-hooks --hooks-dir "$T/hooks" --keep-installed --purge
exit $fail
