#!/bin/bash
# virt-nest install-hooks / uninstall-hooks in a scratch hooks directory:
# both hooks land in network.d/ and qemu.d/ as executable copies, a file
# that is not virt-nest's is never overwritten or removed, reinstalling
# replaces virt-nest's own copy, and nothing else in the directory changes.
# Usage: install-hooks.sh VIRT_NEST VIRT_NEST_HOOK
set -u
VN=$1
HOOK=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export VIRT_NEST_STATE_DIR=$T/state
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

D=$T/hooks
mkdir -p "$D/qemu.d"
printf '#!/bin/sh\nexit 0\n' > "$D/qemu"           # somebody's single-file hook
printf '#!/bin/sh\nexit 0\n' > "$D/qemu.d/00-other"
chmod +x "$D/qemu" "$D/qemu.d/00-other"
before=$(cd "$D" && sha256sum qemu qemu.d/00-other)

${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$D" --hook "$HOOK" > "$T/out" 2>&1
check "install exits 0" "[ $? -eq 0 ]"
check "network.d/virt-nest is an executable copy" "[ -x '$D/network.d/virt-nest' ] && [ ! -L '$D/network.d/virt-nest' ] && cmp -s '$HOOK' '$D/network.d/virt-nest'"
check "qemu.d/virt-nest is an executable copy" "[ -x '$D/qemu.d/virt-nest' ] && cmp -s '$HOOK' '$D/qemu.d/virt-nest'"
check "the user is told to reload libvirtd" "grep -q 'systemctl reload libvirtd' '$T/out'"
check "no temporary files left" "[ -z \"\$(find '$D' -name '.virt-nest.*')\" ]"
check "other hooks untouched" "[ \"\$(cd '$D' && sha256sum qemu qemu.d/00-other)\" = '$before' ]"

${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$D" --hook "$HOOK" > /dev/null 2>&1
check "reinstalling replaces virt-nest's own copy" "[ $? -eq 0 ]"

# the installed copy works as libvirt would call it
out=$(env -i PATH=/usr/bin:/bin VIRT_NEST_STATE_DIR=$T/state "$D/qemu.d/virt-nest" vm prepare begin - < /dev/null 2>&1)
check "the installed hook runs (an event of no interest: exit 0, silent)" "[ $? -eq 0 ] && [ -z '$out' ]"

# never overwrite what is not ours
printf 'not ours\n' > "$D/network.d/virt-nest"
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$D" --hook "$HOOK" > /dev/null 2> "$T/err"
check "a foreign network.d/virt-nest stops the install" "[ $? -eq 1 ] && grep -qx \"virt-nest: $D/network.d/virt-nest exists and is not virt-nest's hook; move it away to install virt-nest's\" '$T/err'"
check "the foreign file is kept" "[ \"\$(cat '$D/network.d/virt-nest')\" = 'not ours' ]"
check "and qemu.d/virt-nest was not touched either" "cmp -s '$HOOK' '$D/qemu.d/virt-nest'"

# something that is not the hook is refused as a source
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$T/h2" --hook "$VN" > /dev/null 2> "$T/err"
check "the CLI is not taken for the hook" "[ $? -eq 1 ] && grep -q 'is not virt-nest.s hook; pass --hook' '$T/err' && [ ! -e '$T/h2/qemu.d/virt-nest' ]"

# uninstall removes only what is ours
${VN_VALGRIND:-} "$VN" uninstall-hooks --hooks-dir "$D" > "$T/out" 2> "$T/err"
check "uninstall reports the foreign file and fails" "[ $? -eq 1 ] && grep -q 'is not virt-nest.s hook; left in place' '$T/err'"
check "qemu.d/virt-nest removed" "[ ! -e '$D/qemu.d/virt-nest' ]"
check "the foreign network.d/virt-nest kept" "[ -e '$D/network.d/virt-nest' ]"
check "other hooks untouched after uninstall" "[ \"\$(cd '$D' && sha256sum qemu qemu.d/00-other)\" = '$before' ]"
exit $fail
