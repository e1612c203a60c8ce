#!/bin/bash
# status on metadata the hook refuses or warns about (issue 12 items 5, 6):
# an uplink address outside its network or the host's own address there,
# an IPv6 route on a network without IPv6, namespaces that only look like
# virt-nest's. Each is one problem line on stderr naming the object and the
# fix, exactly the line the hook prints (tests/netns/hook-checks.sh runs the
# hook on the same objects); the good object beside them is still planned.
# Usage: status-checks.sh VIRT_NEST SRCDIR
# VN_REGENERATE=1 rewrites the golden files; review the diff like code.
set -u
VN=$1
SRC=$2
GOLD=$SRC/tests/golden/status
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
. "$SRC/tests/golden-lib.sh"

URI=test://$SRC/tests/data/bad/checks.xml
golden checks.text ${VN_VALGRIND:-} "$VN" status -c "$URI" --no-host
golden checks.json ${VN_VALGRIND:-} "$VN" status -c "$URI" --no-host --json
exit $fail
