#!/bin/bash
# Every command run by a user without privileges (nobody, by setpriv when
# this runs as root; the caller as it is otherwise) on the bundled examples:
# it works as far as it can without CAP_NET_ADMIN, or fails with exit 1 or
# 2 and one line on stderr per problem, and it never dies by a signal. The
# first case crashed (SIGSEGV) while talk() in src/fw/nftables.c returned
# -1 for the kernel's -EPERM as well as for "error set".
# Usage: unprivileged.sh VIRT_NEST SRCDIR
set -u
VN=$1
X=$2/xml/examples
fail=0

if [ "$(id -u)" -eq 0 ]; then
    command -v setpriv >/dev/null || { echo "SKIP: setpriv is missing"; exit 77; }
    AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    for f in "$VN" "$X/seed-l0.xml"; do
        "${AS[@]}" test -r "$f" || { echo "SKIP: nobody cannot read $f"; exit 77; }
    done
else
    AS=()
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
out=$T/out
err=$T/err

# run WANT ARGS...: run as the unprivileged user; WANT is the exit statuses
# it may end with ("0", "1", "0|1" ...). Never a signal; on failure, every
# stderr line is a message from virt-nest, and there is one.
run() {
    local want=$1; shift
    env -u LIBVIRT_DEFAULT_URI HOME="$T" "${AS[@]}" "$VN" "$@" >"$out" 2>"$err"
    local rc=$?
    if [ $rc -ge 128 ]; then
        echo "FAIL: virt-nest $*: killed by signal $((rc - 128))"; fail=1; return
    fi
    if ! [[ "|$want|" == *"|$rc|"* ]]; then
        echo "FAIL: virt-nest $*: exit $rc, expected $want"
        sed 's/^/  | /' "$err"; fail=1; return
    fi
    if [ $rc -ne 0 ]; then
        if ! [ -s "$err" ] || grep -qv '^virt-nest: ' "$err"; then
            echo "FAIL: virt-nest $*: exit $rc without one clear line:"
            sed 's/^/  | /' "$err"; fail=1; return
        fi
    fi
    echo "ok: virt-nest $* (exit $rc)"
}

L0="test://$X/seed-l0.xml"
SNAP=("$X/seed-nest-l0.json" "$X/seed-nest-l1.json" "$X/seed-nest-l2.json")

# status reads the host as far as it may, and says why the firewall is not
run 0 status -c test:///default --host
grep -q '^Installed: not checked (.*Operation not permitted; run as root with CAP_NET_ADMIN)$' "$out" ||
    { echo "FAIL: status --host as nobody does not say why the firewall was not read:"
      sed 's/^/  | /' "$out"; fail=1; }
run 0 status -c test:///default --host --json
jq -e '.host.firewall_error | type == "string" and test("Operation not permitted")' "$out" >/dev/null ||
    { echo "FAIL: status --host --json as nobody: no host.firewall_error"; fail=1; }
run 0 status -c "$L0"
run 0 status -c "$L0" --host --mermaid
run 0 status -c "$L0" --json
run "0|1" status --host
run 0 graph "${SNAP[@]}"
run 0 graph --json "${SNAP[@]}"
run 0 doctor --from 192.168.122.1 --to 192.168.124.91 "${SNAP[@]}"
run 0 doctor --tcp --from 192.168.124.91 --to 192.168.122.1 --json "${SNAP[@]}"
run "0|1" doctor --from 127.0.0.1 --to 127.0.0.2
run 0 plan -c "$L0" --network default --guest fedora --depth 2 --layer "$X/seed-wsl2.json"
run 1 plan -c "$L0" --network default --guest fedora --output-dir "$T/no/such/dir"
run "0|1" reconcile -c "$L0" --dry-run
run 1 install-hooks --hooks-dir "$T/hooks" --hook "$VN"
run "0|1" uninstall-hooks --hooks-dir "$T/hooks" --keep-installed
# the change log: readable by everybody as the hook writes it (0644); one
# that is not is one line and exit 1
mkdir -m 755 "$T/state"
echo "2026-12-03T13:05:30Z hook[1]: domain 'a': add route x" > "$T/state/changes.log"
chmod 644 "$T/state/changes.log"
VIRT_NEST_STATE_DIR=$T/state run 0 log
grep -qx "2026-12-03T13:05:30Z hook\[1\]: domain 'a': add route x" "$out" ||
    { echo "FAIL: log as nobody does not print the change log"; fail=1; }
VIRT_NEST_STATE_DIR=$T/state run 0 log --json -n 1
if [ ${#AS[@]} -gt 0 ]; then
    chmod 600 "$T/state/changes.log"
    VIRT_NEST_STATE_DIR=$T/state run 1 log
    grep -q "^virt-nest: log: cannot read .*changes.log: permission denied; \
run it as root" "$err" ||
        { echo "FAIL: log of an unreadable change log: $(cat "$err")"; fail=1; }
fi
exit $fail
