# guest.sh: a real L1 guest in the lab (tests/libvirt/lab.sh): Debian 12's
# kernel and an initramfs with busybox, qemu-guest-agent and virt-nest
# (tests/libvirt/guest-image.sh), booted directly by the lab's libvirtd
# under TCG. Source it after lab.sh, then:
#
#   guest_image BUILDDIR      build (once) or find the image; sets
#                             GUEST_KERNEL and GUEST_INITRD (status 77:
#                             the registry cannot be reached)
#   guest_define LAB NAME MAC NETWORK [CMDLINE...]
#                             define the domain NAME: type qemu (TCG),
#                             256 MiB, 1 vCPU, direct kernel boot of the
#                             image with CMDLINE added to the kernel's
#                             command line (vn.agent=0, vn.noexec=1,
#                             vn.bridge=CIDR: see guest-image.sh), a virtio
#                             NIC with MAC on the lab's NETWORK, the
#                             agent's channel org.qemu.guest_agent.0, the
#                             serial console to a file; GUEST_METADATA, when
#                             set, goes into its <metadata> as it is
#   guest_start LAB NAME      start it (and note when, for the boot time)
#   guest_wait_agent LAB NAME TIMEOUT
#                             poll guest-ping until the agent answers;
#                             prints the seconds since guest_start; status
#                             1 (and the reason) when it has not answered
#                             within TIMEOUT seconds
#   guest_wait_address LAB NAME TIMEOUT
#                             the IPv4 address of the guest's DHCP lease on
#                             the lab's network (virsh domifaddr --source
#                             lease); status 1 when there is none in time
#   guest_agent LAB NAME JSON run one agent command (virsh
#                             qemu-agent-command, 10 s timeout): its reply
#                             on stdout, libvirt's error on stderr
#   guest_exec LAB NAME PATH [ARG...]
#                             run PATH inside through guest-exec and wait
#                             for it (GUEST_EXEC_TIMEOUT seconds, 60, at
#                             most): its stdout on stdout, its stderr on
#                             stderr, its exit code as status (125:
#                             guest-exec itself failed, libvirt's reason
#                             on stderr). Needs jq.
#   guest_console LAB NAME    the serial console's log so far (print it
#                             when something failed)
#   guest_show_console LAB NAME LINES
#                             print its last LINES lines, indented, under
#                             "--- NAME's serial console:"
#   guest_qemus PREFIX        the PIDs of the qemus of guests named
#                             PREFIX[a-z]*-$$ ($$: the test's PID; libvirt
#                             names each guest in qemu's command line,
#                             guest=NAME)
#
# lab_stop destroys the guests with everything else of the lab. The
# image's files are read by the lab's qemu, so BUILDDIR must be readable
# by it (guest-image.sh makes the image world-readable).

# shellcheck source=guest-image.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest-image.sh"

_guest_serial() { echo "$(_lab_dir "$1")/log/qemu/$2-serial.log"; }

guest_define() {
    local lab=$1 name=$2 mac=$3 net=$4
    shift 4
    [ -n "${GUEST_KERNEL:-}" ] && [ -n "${GUEST_INITRD:-}" ] ||
        { echo "guest_define: no image: call guest_image BUILDDIR first" >&2; return 1; }
    local xml
    xml=$(_lab_dir "$lab")/$name.xml
    cat > "$xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <metadata>${GUEST_METADATA:-}</metadata>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST_KERNEL</kernel>
    <initrd>$GUEST_INITRD</initrd>
    <cmdline>console=ttyS0 panic=-1 vn.hostname=$name $*</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='network'>
      <source network='$net'/>
      <mac address='$mac'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/$name-serial.log'/>
    </serial>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
    lab_virsh "$lab" define "$xml" >/dev/null
}

guest_start() {
    local lab=$1 name=$2
    rm -f "$(_guest_serial "$lab" "$name")"
    date +%s.%N > "$(_lab_dir "$lab")/$name.started"
    lab_virsh "$lab" start "$name" >/dev/null
}

guest_agent() {
    local lab=$1 name=$2 json=$3
    lab_virsh "$lab" qemu-agent-command --timeout 10 "$name" "$json"
}

guest_wait_agent() {
    local lab=$1 name=$2 timeout=$3 end err
    end=$(($(date +%s) + timeout))
    while :; do
        if err=$(guest_agent "$lab" "$name" '{"execute":"guest-ping"}' 2>&1 >/dev/null); then
            echo "$(date +%s.%N) $(cat "$(_lab_dir "$lab")/$name.started")" |
                awk '{ printf "%.1f\n", $1 - $2 }'
            return 0
        fi
        [ "$(date +%s)" -ge "$end" ] && break
        sleep 0.5
    done
    echo "guest $name: its agent has not answered in ${timeout} s: $err" >&2
    return 1
}

guest_wait_address() {
    local lab=$1 name=$2 timeout=$3 end a
    end=$(($(date +%s) + timeout))
    while :; do
        a=$(lab_virsh "$lab" domifaddr "$name" --source lease 2>/dev/null |
            awk '$3 == "ipv4" { sub("/.*", "", $4); print $4; exit }')
        [ -n "$a" ] && { echo "$a"; return 0; }
        [ "$(date +%s)" -ge "$end" ] && break
        sleep 0.5
    done
    echo "guest $name: no DHCP lease on its network in ${timeout} s" >&2
    return 1
}

guest_exec() {
    local lab=$1 name=$2 path=$3 cmd reply pid i st code
    shift 3
    local tries=$((${GUEST_EXEC_TIMEOUT:-60} * 2))
    # each argument as the value of an --arg (jq 1.6 reads options among
    # --args, so an argument "--json" would be taken for one)
    local jargs=() list= n=0 a
    for a in "$@"; do
        jargs+=(--arg "a$n" "$a")
        list="$list${list:+,}\$a$n"
        n=$((n + 1))
    done
    cmd=$(jq -nc --arg path "$path" "${jargs[@]}" \
        "{execute: \"guest-exec\", arguments: {path: \$path, arg: [$list], \"capture-output\": true}}") ||
        return 125
    reply=$(guest_agent "$lab" "$name" "$cmd") || return 125
    pid=$(jq -r '.return.pid // empty' <<<"$reply")
    [ -n "$pid" ] || { echo "guest_exec: no pid in $reply" >&2; return 125; }
    for i in $(seq "$tries"); do
        st=$(guest_agent "$lab" "$name" \
            "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}") || return 125
        if [ "$(jq -r .return.exited <<<"$st")" = true ]; then
            jq -r '.return["out-data"] // empty' <<<"$st" | base64 -d
            jq -r '.return["err-data"] // empty' <<<"$st" | base64 -d >&2
            code=$(jq -r '.return.exitcode // empty' <<<"$st")
            [ -n "$code" ] || echo "guest_exec: $path ended by signal $(jq -r '.return.signal' <<<"$st")" >&2
            return "${code:-125}"
        fi
        sleep 0.5
    done
    echo "guest_exec: $path has not exited in ${GUEST_EXEC_TIMEOUT:-60} s" >&2
    return 125
}

guest_console() {
    cat "$(_guest_serial "$1" "$2")" 2>/dev/null
}

guest_show_console() {
    echo "--- $2's serial console:"
    guest_console "$1" "$2" | tail -n "$3" | sed 's/^/    | /'
}

guest_qemus() {
    local p
    for p in /proc/[0-9]*; do
        { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null |
            grep -q "guest=$1[a-z]*-$$" && echo "${p#/proc/}"
    done
}
