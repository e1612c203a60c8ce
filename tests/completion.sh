#!/bin/bash
# The bash completion (completion/virt-nest), driven as bash drives it:
# COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set, the function
# called, COMPREPLY checked. Once in plain bash and once with
# bash-completion's own bash_completion loaded (its _init_completion), when
# it is installed. Besides the cases, the commands and each command's
# options must be those that `virt-nest --help` and `virt-nest CMD --help`
# print, both ways, so that the two never drift apart. Network and guest
# names come from virsh on the libvirt test driver's seed-l0.xml.
# Usage: completion.sh VIRT_NEST SRCDIR
set -u
VN=$1
SRC=$2
COMP=$SRC/completion/virt-nest
EX=$SRC/xml/examples
T=$(mktemp -d /tmp/vnL-completion.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/hooks/network.d" "$T/hooks/qemu.d"
touch "$T/hooks/file"
fail=0

BC=/usr/share/bash-completion/bash_completion
modes=(plain)
if [ -r "$BC" ]; then
    modes+=(bash-completion)
else
    echo "# bash-completion is not installed: plain bash only"
fi

# The checks run in a bash of their own, per mode.
cat > "$T/cases.sh" <<'CASES'
set -u
fail=0
# comp WORD... : EXPECTED...: complete the last WORD (as bash splits the
# line: "--opt=" is --opt, =, and an empty word); COMPREPLY, sorted, must
# be EXPECTED, sorted
comp() {
    local w=() want=() got
    while [ "$1" != : ]; do w+=("$1"); shift; done
    shift
    want=("$@")
    COMP_WORDS=("${w[@]}")
    COMP_CWORD=$((${#w[@]} - 1))
    COMP_LINE=$(IFS=' '; echo "${w[*]}")
    COMP_LINE=${COMP_LINE// = /=}
    COMP_LINE=${COMP_LINE// =/=}
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _virt_nest virt-nest "${w[-1]}" "${w[-2]:-}" 2> "$T/comp.err"
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort)
    if [ "$got" = "$(printf '%s\n' "${want[@]}" | sed '/^$/d' | sort)" ] &&
       [ ! -s "$T/comp.err" ]; then
        echo "ok - $MODE: '${w[*]}' -> ${want[*]:-nothing}"
    else
        echo "FAIL - $MODE: '${w[*]}': got '$(echo $got)', want '${want[*]}'"
        sed 's/^/  # /' "$T/comp.err"
        fail=1
    fi
}
# opts_of WORD...: the options completed after WORD... --
opts_of() {
    COMP_WORDS=("$@" --)
    COMP_CWORD=$#
    COMP_LINE="$* --"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _virt_nest virt-nest -- "${!#}" 2> /dev/null
    printf '%s\n' "${COMPREPLY[@]}" | sort
}

comp virt-nest '' : status plan graph doctor adopt reconcile watch log \
    install-hooks uninstall-hooks help
comp virt-nest st : status
comp virt-nest un : uninstall-hooks
comp virt-nest - : --help --version
comp virt-nest log -- : --lines --json --help
comp virt-nest status --c : --connect --color
comp virt-nest status --color --j : --json
comp virt-nest doctor --color = a : auto always
comp virt-nest status --color = '' : auto always never
comp virt-nest doctor --color = n : never
comp virt-nest uninstall-hooks --p : --purge
comp virt-nest log -n '' :
comp virt-nest reconcile -n --d : --dry-run
comp virt-nest status -c q : qemu:///system qemu:///session
comp virt-nest install-hooks --hooks-dir "$T/ho" : "$T/hooks"
comp virt-nest install-hooks --hooks-dir "$T/hooks/" : \
    "$T/hooks/network.d" "$T/hooks/qemu.d"
comp virt-nest install-hooks --hook "$T/hooks/f" : "$T/hooks/file"
comp virt-nest graph "$EX/seed-nest-" : "$EX/seed-nest-l0.json" \
    "$EX/seed-nest-l1.json" "$EX/seed-nest-l2.json" "$EX/seed-nest-walk.json"
comp virt-nest doctor --from 192.168.122.1 "$EX/seed-nest-l2" : \
    "$EX/seed-nest-l2.json"
comp virt-nest plan --layer "$EX/seed-nest-l1" : "$EX/seed-nest-l1.json"
comp virt-nest doctor --size '' :
comp virt-nest adopt debian --s : --subnet
if command -v virsh > /dev/null; then
    comp virt-nest adopt -c "test://$EX/seed-l0.xml" d : debian
    comp virt-nest plan -c "test://$EX/seed-l0.xml" --network '' : default
    comp virt-nest plan --connect "test://$EX/seed-l1.xml" --guest d : \
        debian-l2
    comp virt-nest plan --connect = "test://$EX/seed-l0.xml" --guest '' : \
        debian
else
    echo "# no virsh: the network and guest names are not checked"
fi

# the same commands and options as the program's --help
cmds=$("$VN" --help | awk '/^Commands:/ { on = 1; next } on && !NF { exit }
                          on { print $1 }')
for c in $cmds; do
    # the option lines of the help: "  -c, --connect URI ...", "      --json"
    # (the part before the description: "--tcp, --udp" is two)
    want=$("$VN" "$c" --help | grep -E '^ +(-[a-z], )?--[a-z]' |
           sed -E 's/^ +//; s/  .*//' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
    got=$(opts_of virt-nest "$c")
    if [ "$got" = "$want" ]; then
        echo "ok - $MODE: $c: the options of '$c --help'"
    else
        echo "FAIL - $MODE: $c: completion and --help differ:"
        diff <(echo "$want") <(echo "$got") | sed 's/^/  # /'
        fail=1
    fi
done
got=$(COMP_WORDS=(virt-nest ''); COMP_CWORD=1; COMP_LINE='virt-nest ';
      COMP_POINT=10; _virt_nest virt-nest '' virt-nest;
      printf '%s\n' "${COMPREPLY[@]}" | grep -vx help | sort)
if [ "$got" = "$(echo "$cmds" | sort)" ]; then
    echo "ok - $MODE: the commands of 'virt-nest --help'"
else
    echo "FAIL - $MODE: the commands differ from 'virt-nest --help':"
    diff <(echo "$cmds" | sort) <(echo "$got") | sed 's/^/  # /'
    fail=1
fi
exit $fail
CASES

for MODE in "${modes[@]}"; do
    if [ "$MODE" = plain ]; then
        pre=":"
    else
        pre="source $BC"
    fi
    env -u LIBVIRT_DEFAULT_URI MODE=$MODE T=$T EX=$EX VN=$VN \
        bash -c "$pre; source '$COMP' && complete -p virt-nest > /dev/null &&
                 source '$T/cases.sh'" || fail=1
done
exit $fail
