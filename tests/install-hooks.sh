#!/bin/bash
# virt-nest install-hooks / uninstall-hooks in a scratch hooks directory:
# both hooks land in network.d/ and qemu.d/ as executable copies, a file
# that is not virt-nest's is never overwritten or removed, reinstalling
# replaces virt-nest's own copy, and nothing else in the directory changes;
# links to the hook (the Debian package's entries) are virt-nest's and left
# as they are.
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

# the hook by hand: --help is its usage on stdout and exit 0; no
# arguments, a usage error (exit 2, the usage on stderr)
"$HOOK" --help > "$T/out" 2> "$T/err"
check "virt-nest-hook --help: usage on stdout, exit 0" \
    "[ $? -eq 0 ] && [ ! -s '$T/err' ] && \
     head -1 '$T/out' | grep -q '^Usage: virt-nest-hook network|qemu NAME'"
"$HOOK" > "$T/out" 2> "$T/err"
check "virt-nest-hook without arguments: usage on stderr, exit 2" \
    "[ $? -eq 2 ] && [ ! -s '$T/out' ] && grep -q '^Usage: virt-nest-hook' '$T/err'"

# never overwrite what is not ours
printf 'not ours\n' > "$D/network.d/virt-nest"
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$D" --hook "$HOOK" > /dev/null 2> "$T/err"
check "a foreign network.d/virt-nest stops the install" "[ $? -eq 1 ] && grep -qx \"virt-nest: $D/network.d/virt-nest exists and is not virt-nest's hook; move it away to install virt-nest's\" '$T/err'"
check "the foreign file is kept" "[ \"\$(cat '$D/network.d/virt-nest')\" = 'not ours' ]"
check "and qemu.d/virt-nest was not touched either" "cmp -s '$HOOK' '$D/qemu.d/virt-nest'"

# something that is not the hook is refused as a source
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$T/h2" --hook "$VN" > /dev/null 2> "$T/err"
check "the CLI is not taken for the hook" "[ $? -eq 1 ] && grep -q 'is not virt-nest.s hook; pass --hook' '$T/err' && [ ! -e '$T/h2/qemu.d/virt-nest' ]"

# no hook where --hook (or the default) says: one line that says how to get
# it, and nothing created
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$T/h3" \
    --hook "$T/none/virt-nest-hook" > /dev/null 2> "$T/err"
rc=$?
msg="virt-nest: install-hooks: the hook is not installed at"
msg="$msg $T/none/virt-nest-hook: install the virt-nest package, or run"
msg="$msg 'meson install -C build', or pass --hook with the path of a built"
msg="$msg virt-nest-hook (build/hooks/virt-nest-hook)"
check "a hook that is not installed is named, with how to install it" \
    "[ $rc -eq 1 ] && grep -qxF \"\$msg\" '$T/err' && [ ! -e '$T/h3' ]"

# uninstall removes only what is ours
${VN_VALGRIND:-} "$VN" uninstall-hooks --hooks-dir "$D" > "$T/out" 2> "$T/err"
check "uninstall reports the foreign file and fails" "[ $? -eq 1 ] && grep -q 'is not virt-nest.s hook; left in place' '$T/err'"
check "qemu.d/virt-nest removed" "[ ! -e '$D/qemu.d/virt-nest' ]"
check "the foreign network.d/virt-nest kept" "[ -e '$D/network.d/virt-nest' ]"
check "other hooks untouched after uninstall" "[ \"\$(cd '$D' && sha256sum qemu qemu.d/00-other)\" = '$before' ]"
# the Debian package's layout: both entries are links to the hook; they are
# virt-nest's, install-hooks leaves them as they are, uninstall removes them
P=$T/pkg
AHOOK=$(realpath "$HOOK")
AVN=$(realpath "$VN")
mkdir -p "$P/network.d" "$P/qemu.d"
ln -s "$AHOOK" "$P/network.d/virt-nest"
ln -s "$AHOOK" "$P/qemu.d/virt-nest"
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$P" --hook "$HOOK" > "$T/out" 2>&1
check "install-hooks over the package's links exits 0" "[ $? -eq 0 ]"
check "the links stay links to the hook" "[ \"\$(readlink '$P/network.d/virt-nest')\" = '$AHOOK' ] && [ \"\$(readlink '$P/qemu.d/virt-nest')\" = '$AHOOK' ]"
check "and it says so" "grep -qx \"$P/qemu.d/virt-nest links to $AHOOK, virt-nest's hook: left as it is\" '$T/out'"
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$P" \
    --hook "$T/none/virt-nest-hook" > /dev/null 2>&1
check "over the package's links the hook at --hook is not needed" "[ $? -eq 0 ]"
ln -sf "$AVN" "$P/qemu.d/virt-nest"
${VN_VALGRIND:-} "$VN" install-hooks --hooks-dir "$P" --hook "$HOOK" > /dev/null 2> "$T/err"
check "a link to something else is not virt-nest's" "[ $? -eq 1 ] && grep -q 'qemu.d/virt-nest exists and is not virt-nest.s hook' '$T/err' && [ \"\$(readlink '$P/qemu.d/virt-nest')\" = '$AVN' ]"
ln -sf "$AHOOK" "$P/qemu.d/virt-nest"
${VN_VALGRIND:-} "$VN" uninstall-hooks --hooks-dir "$P" --keep-installed > "$T/out" 2>&1
check "uninstall removes the package's links" "[ $? -eq 0 ] && [ ! -e '$P/network.d/virt-nest' ] && [ ! -L '$P/qemu.d/virt-nest' ] && [ -x '$HOOK' ]"

# a second uninstall says that nothing is installed, and succeeds
${VN_VALGRIND:-} "$VN" uninstall-hooks --hooks-dir "$P" --keep-installed \
    > "$T/out" 2> "$T/err"
check "a second uninstall --keep-installed says there is nothing" \
    "[ $? -eq 0 ] && [ ! -s '$T/err' ] && grep -qx 'nothing to uninstall: \
no virt-nest hook in $P/network.d or $P/qemu.d' '$T/out'"
${VN_VALGRIND:-} "$VN" uninstall-hooks --hooks-dir "$P" > "$T/out" 2> "$T/err"
check "a second uninstall says there is nothing, routes and rules too" \
    "[ $? -eq 0 ] && [ ! -s '$T/err' ] && [ \"\$(wc -l < '$T/out')\" = 1 ] &&
     grep -q \"^nothing to uninstall: .*, and no route or rule of virt-nest's \
recorded\$\" '$T/out'"

${VN_VALGRIND:-} "$VN" uninstall-hooks --hooks-dir "$P" --keep-installed --purge > /dev/null 2> "$T/err"
check "--keep-installed with --purge is a usage error" "[ $? -eq 2 ] && grep -qx 'virt-nest: uninstall-hooks: --keep-installed and --purge exclude each other; pass one' '$T/err'"
exit $fail
