#!/bin/bash
# The hook refuses a state directory others could plant files or links in
# (issue 11, point 4): $VIRT_NEST_STATE_DIR, or its network/ or domain/
# folder, writable by group or others, a symbolic link, or (as root)
# somebody else's. The hook then exits 1 with one line on stderr naming the
# directory and the fix, writes nothing there and nothing on stdout; a
# sound directory is used as before. No namespace, no kernel state: the
# network events here only keep the XML, and the qemu event is refused
# before any netlink.
# Usage: hook-state-dir.sh VIRT_NEST_HOOK SRCDIR
set -u
HOOK=$1
SRC=$2
G=$SRC/tests/golden/hook
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/none.conf"  # an empty configuration: the defaults
fail=0
ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }

# a plain network with a reservation: the hook keeps its XML, nothing else
NET=$G/qemu-started-reservation/state/network/default.xml
DOM=$G/qemu-started-reservation/stdin.xml
grep -q '<host ' "$NET" && grep -q 'urn:virt-nest' "$DOM" ||
    { echo "FAIL: the golden hook inputs changed; adapt hook-state-dir.sh"; exit 1; }

run() {  # STATE DRIVER NAME OP SUBOP XML: the hook as run by hand
    VIRT_NEST_STATE_DIR=$1 VIRT_NEST_CONFIG=$T/none.conf \
        ${VN_VALGRIND:-} "$HOOK" "$2" "$3" "$4" "$5" - < "$6" > "$T/out" 2> "$T/err"
}
# WHAT STATE PATTERN DRIVER NAME OP SUBOP XML: refused in one line
refused() {
    local what=$1 s=$2 pat=$3 before
    shift 3
    before=$(find "$s" -printf '%p %m %U\n' 2>/dev/null | sort)
    run "$s" "$@"
    local rc=$?
    if [ $rc = 1 ] && [ ! -s "$T/out" ] && [ "$(wc -l < "$T/err")" = 1 ] &&
       grep -q "^virt-nest: .*state directory .*$pat" "$T/err" &&
       [ "$(find "$s" -printf '%p %m %U\n' 2>/dev/null | sort)" = "$before" ]; then
        ok "$what: refused: $(cat "$T/err")"
    else
        bad "$what: exit $rc, stdout $(wc -c < "$T/out") bytes, stderr:"; sed 's/^/  # /' "$T/err"
        find "$s" -newer "$T/stamp" 2>/dev/null | sed 's/^/  # new: /'
    fi
}
touch "$T/stamp"

# ---- sound: made by the hook itself, or 0755 and ours
run "$T/fresh" network default started begin "$NET"
if [ $? = 0 ] && [ ! -s "$T/err" ] && [ -f "$T/fresh/network/default.xml" ] &&
   [ "$(stat -c %a "$T/fresh")" = 755 ] && [ "$(stat -c %a "$T/fresh/network")" = 755 ]; then
    ok "a missing state directory is made 0755 and used"
else
    bad "a fresh state directory: $(cat "$T/err")"
fi

# ---- writable by others
mkdir -m 0777 "$T/open"
chmod 0777 "$T/open"
refused "state directory 0777" "$T/open" "$T/open is writable by group or others (mode 0777); run 'chmod go-w $T/open'" \
    network default started begin "$NET"
refused "state directory 0777, network stopped" "$T/open" "writable by group or others" \
    network default stopped end "$NET"
refused "state directory 0777, qemu started with metadata" "$T/open" "writable by group or others" \
    qemu nestguest started begin "$DOM"
mkdir -m 0755 "$T/grp" "$T/grp/network"
chmod 0775 "$T/grp/network"
refused "network/ 0775" "$T/grp" "$T/grp/network is writable by group or others (mode 0775)" \
    network default started begin "$NET"
[ -e "$T/grp/network/default.xml" ] && bad "the XML was written into a group-writable network/"

# ---- network/ a link to somewhere else: nothing written there
mkdir -m 0755 "$T/link" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/link/network"
refused "network/ a symbolic link" "$T/link" "$T/link/network is not a directory; remove it" \
    network default started begin "$NET"
if [ -z "$(ls -A "$T/elsewhere")" ]; then ok "nothing written where the link points"
else bad "written through the link: $(ls -A "$T/elsewhere")"; fi

# ---- a link planted at the temporary file's old, predictable name
# (NAME.xml.PID.tmp) for each of the next PIDs: the hook makes its own
# with mkostemp and writes neither through a link nor to its target
mkdir -m 0755 "$T/plant" "$T/plant/network"
echo precious > "$T/target"
python3 -c 'import os, sys
d, t, n = sys.argv[1], sys.argv[2], os.getpid()
for p in range(n + 1, n + 2001):
    os.symlink(t, "%s/default.xml.%d.tmp" % (d, p))' "$T/plant/network" "$T/target"
run "$T/plant" network default started begin "$NET"
if [ $? = 0 ] && [ "$(cat "$T/target")" = precious ] &&
   cmp -s "$NET" "$T/plant/network/default.xml" &&
   [ ! -L "$T/plant/network/default.xml" ] &&
   [ "$(find "$T/plant/network" -type l | wc -l)" = 2000 ] &&
   [ "$(stat -c %a "$T/plant/network/default.xml")" = 644 ]; then
    ok "links at the old temporary names are not followed; the XML is kept, 0644"
else
    bad "planted links: target now '$(cat "$T/target")', $(cat "$T/err")"
fi

# ---- somebody else's (only root can make one)
if [ "$(id -u)" = 0 ]; then
    mkdir -m 0755 "$T/theirs"
    chown 65534:65534 "$T/theirs"
    refused "state directory of uid 65534" "$T/theirs" "$T/theirs belongs to uid 65534, not root; run 'chown root $T/theirs'" \
        network default started begin "$NET"
else
    echo "note - not root: the owner check runs in the root run (CI)"
fi

[ $fail = 0 ] && echo "# PASS" || echo "# FAIL"
exit $fail
