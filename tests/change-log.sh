#!/bin/bash
# The change log (issue 12 item 9): what reconcile and the hook change, and
# what the hook refuses, is one line each in $VIRT_NEST_STATE_DIR/
# changes.log (time, who[pid], object, action, what); `virt-nest log`
# prints the last ones (-n, --json), and status's text ends with the last
# few under "Recent changes". The changes are real: the seed's L0 in a
# network namespace of its own (unshare -n) with a bridge virbr0, where
# reconcile adds the route to debian's 192.168.124.0/24 and the qemu hook's
# stopped event deletes it. The same lines reach syslog (ident virt-nest,
# facility daemon): a /dev/log socket of the test's, in a mount namespace.
# Usage: change-log.sh VIRT_NEST VIRT_NEST_HOOK SRCDIR
set -u
VN=$1
HOOK=$2
SRC=$3
fail=0

if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
    echo "SKIP: needs root and unshare -n (a network namespace of its own)"
    exit 77
fi
command -v jq >/dev/null || { echo "SKIP: needs jq"; exit 77; }

T=$(mktemp -d /tmp/vnL-changelog.XXXXXX)
trap 'rm -rf "$T"' EXIT
export VIRT_NEST_STATE_DIR=$T/state
EX=$SRC/xml/examples
G=$SRC/tests/golden/hook
: > "$T/empty.conf"
export VIRT_NEST_CONFIG=$T/empty.conf
ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
check() {  # WHAT COMMAND...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# nothing recorded yet
"$VN" log > "$T/out" 2> "$T/err"
check "log with no change log: exit 0, says so" \
    grep -qx "no changes recorded in $VIRT_NEST_STATE_DIR/changes.log" "$T/out"

# a refused start: one line, "refuse"
read -r _ obj op subop < "$G/qemu-prepare-refused-default-route/args"
${VN_VALGRIND:-} "$HOOK" qemu "$obj" "$op" "$subop" - \
    < "$G/qemu-prepare-refused-default-route/stdin.xml" > /dev/null 2> "$T/err"
check "the refused prepare exits 1" [ $? = 1 ]

# the rest in one namespace: reconcile adds, the hook deletes
XML=$T/debian.xml
sed -n '/<domain /,/<\/domain>/p' "$EX/seed-l0.xml" > "$XML"
unshare -n bash -c '
    set -e
    ip link add virbr0 type bridge
    ip addr add 192.168.122.1/24 dev virbr0
    ip link set virbr0 up
    "$1" reconcile -c "test://$2/seed-l0.xml" > "$3/reconcile.out"
    "$1" status --host -c "test://$2/seed-l0.xml" > "$3/status.out" || true
    "$4" qemu debian stopped end - < "$5" > "$3/hook.out"
    ip route show proto 155 > "$3/routes.left"
' nest "$VN" "$EX" "$T" "$HOOK" "$XML" 2> "$T/err"
check "reconcile, status and the hook in the namespace ran" [ $? = 0 ]
sed 's/^/  # /' "$T/err"
check "reconcile added the route" \
    grep -q "^domain 'debian': add route 192.168.124.0/24 via 192.168.122.191" \
    "$T/reconcile.out"
check "the hook deleted it" [ ! -s "$T/routes.left" ]

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
"$VN" log > "$T/log" 2> "$T/err"
check "log exits 0" [ $? = 0 ]
check "log: stderr empty" [ ! -s "$T/err" ]
sed 's/^/  # /' "$T/log"
check "3 lines, oldest first" [ "$(wc -l < "$T/log")" = 3 ]
check "the refusal: time, hook[pid], the domain, refuse prepare begin" \
    grep -qE "^$TS hook\[[0-9]+\]: domain 'nestguest': refuse prepare begin: \
<nest:route subnet='0\.0\.0\.0/0'>: a default route is never delegated" \
    <(sed -n 1p "$T/log")
R='route 192\.168\.124\.0/24 via 192\.168\.122\.191 dev virbr0 proto 155'
check "reconcile's route" \
    grep -qE "^$TS reconcile\[[0-9]+\]: domain 'debian': add $R$" \
    <(sed -n 2p "$T/log")
check "the hook's deletion" \
    grep -qE "^$TS hook\[[0-9]+\]: domain 'debian': delete $R$" \
    <(sed -n 3p "$T/log")
check "log -n 1: the last line only" \
    [ "$("$VN" log -n 1)" = "$(sed -n 3p "$T/log")" ]
check "log --lines=2: the last two" \
    [ "$("$VN" log --lines=2)" = "$(sed -n 2,3p "$T/log")" ]
"$VN" log --json > "$T/json"
check "log --json: the fields of each change" \
    [ "$(jq -r '.changes[] | [.who, .kind, .name, .action] | join(" ")' \
         "$T/json")" = \
"hook domain nestguest refuse
reconcile domain debian add
hook domain debian delete" ]
check "log --json: pid and time" \
    jq -e '.version == 1 and
           (.changes | all(.pid > 0 and (.time | test("Z$"))))' \
    "$T/json" > /dev/null
check "status's text ends with the recent changes" \
    grep -qE "^  $TS reconcile\[[0-9]+\]: domain 'debian': add route " \
    <(sed -n '/^Recent changes$/,$p' "$T/status.out")
check "log -n x is a usage error" \
    bash -c '"$1" log -n x 2>&1 >/dev/null; [ $? = 2 ]' _ "$VN"

# syslog: ident virt-nest, facility daemon, the pid; a refusal a warning
# (<28>), a change a notice (<29>). /dev/log is a socket of this test's,
# bound over /dev in a mount namespace of its own.
mkdir "$T/dev" && touch "$T/dev/null"
rm -rf "$VIRT_NEST_STATE_DIR"
python3 - "$T/dev/log" "$T/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
with open(sys.argv[2], "w") as out:
    for _ in range(2):
        try:
            msg = s.recv(65536).decode(errors="replace").rstrip("\0")
            out.write(msg + "\n")
            out.flush()
        except socket.timeout:
            break
PY
listener=$!
for _ in $(seq 50); do [ -S "$T/dev/log" ] && break; sleep 0.1; done
unshare -m -n bash -c '
    set -e
    mount --bind /dev/null "$3/dev/null"
    mount --bind "$3/dev" /dev
    "$4" qemu nestguest prepare begin - < "$6" 2> /dev/null && exit 1
    ip link add virbr0 type bridge
    ip addr add 192.168.122.1/24 dev virbr0
    ip link set virbr0 up
    "$1" reconcile -c "test://$2/seed-l0.xml" > /dev/null
' nest "$VN" "$EX" "$T" "$HOOK" "$XML" \
    "$G/qemu-prepare-refused-default-route/stdin.xml" 2> "$T/err"
check "the refusal and reconcile with a /dev/log of the test's" [ $? = 0 ]
sed 's/^/  # /' "$T/err"
wait "$listener"
sed 's/^/  # syslog: /' "$T/syslog"
check "syslog: the refusal, a warning of facility daemon, ident virt-nest" \
    grep -qE "^<28>.* virt-nest\[[0-9]+\]: hook: domain 'nestguest': \
refuse prepare begin: " "$T/syslog"
check "syslog: reconcile's route, a notice of facility daemon" \
    grep -qE "^<29>.* virt-nest\[[0-9]+\]: reconcile: domain 'debian': \
add $R$" "$T/syslog"

# a change the kernel refuses is undone, so no change: neither printed nor
# recorded (virbr0 without 192.168.122.1/24: the next hop is unreachable)
export VIRT_NEST_STATE_DIR=$T/state-refused
unshare -n bash -c '
    ip link add virbr0 type bridge && ip link set virbr0 up &&
    "$1" reconcile -c "test://$2/seed-l0.xml"
' nest "$VN" "$EX" > "$T/out" 2> "$T/err"
check "a route the kernel refuses: reconcile exits 1" [ $? = 1 ]
check "... and prints it as no change" \
    bash -c '! grep -q "add route" "$1" && grep -q "cannot add route" "$2"' \
    _ "$T/out" "$T/err"
check "... and records none" \
    grep -qx "no changes recorded in $VIRT_NEST_STATE_DIR/changes.log" \
    <("$VN" log)

# what reconcile leaves as it is (refused metadata) is recorded as refused
export VIRT_NEST_STATE_DIR=$T/state-bad
unshare -n "$VN" reconcile -c "test://$SRC/tests/data/bad/metadata.xml" \
    > /dev/null 2>&1
check "reconcile of refused metadata exits 1" [ $? = 1 ]
check "... and records the refusals, action refuse" \
    [ "$("$VN" log --json | jq -r '.changes[] | [.who, .kind, .name, .action]
                                   | join(" ")')" = \
"reconcile network noip refuse
reconcile domain refused refuse" ]
check "... with the message and 'left as it is'" \
    grep -qE "^$TS reconcile\[[0-9]+\]: domain 'refused': refuse: \
<nest:route subnet='0\.0\.0\.0/0'>: .*; left as it is$" <("$VN" log)
# lines not of the format (a name with no kind before it, a kind with no
# space): log --json shows them whole as "line", it does not crash
export VIRT_NEST_STATE_DIR=$T/state-odd
mkdir -p "$VIRT_NEST_STATE_DIR"
printf '%s\n' "2026-01-01T00:00:00Z hook[1]: 'x': add route" \
    "2026-01-01T00:00:01Z hook[2]: domain'x': add route" \
    "2026-01-01T00:00:02Z hook[3]: domain 'ok': add route 10.0.0.0/8" \
    > "$VIRT_NEST_STATE_DIR/changes.log"
${VN_VALGRIND:-} "$VN" log --json > "$T/odd.json" 2> "$T/err"
rc=$?
check "log --json of lines not of the format exits 0 (exit $rc)" [ $rc = 0 ]
check "... each shown whole as a line, the good one parsed" [ \
    "$(jq -c '[.changes[] | .line // "\(.kind) \(.name)"]' "$T/odd.json")" = \
    '["2026-01-01T00:00:00Z hook[1]: '"'x'"': add route","2026-01-01T00:00:01Z hook[2]: domain'"'x'"': add route","domain ok"]' ]
exit $fail
