# tests/netns/privbus.sh: a private system bus and a copy of firewalld's
# configuration, for tests and benchmarks that run firewalld inside a
# network namespace of their own (never on the machine's bus). Source it
# from bash.
#
#   privbus_config FILE SOCKET   write dbus-daemon's configuration for a
#                                system bus listening on SOCKET (root
#                                only, as the machine's is): start it with
#                                ip netns exec NS dbus-daemon
#                                --config-file=FILE --nofork --nopidfile &
#                                and point DBUS_SYSTEM_BUS_ADDRESS at
#                                unix:path=SOCKET
#   privbus_firewalld_copy DIR BACKEND
#                                copy /etc/firewalld to DIR/etc-firewalld
#                                (FirewallBackend=BACKEND) and
#                                /usr/lib/firewalld to DIR/lib-firewalld,
#                                for firewalld --system-config and
#                                --default-config

privbus_config() {
    cat > "$1" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$2</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
}

privbus_firewalld_copy() {
    cp -a /etc/firewalld "$1/etc-firewalld"
    cp -a /usr/lib/firewalld "$1/lib-firewalld"
    sed -i "s/^FirewallBackend=.*/FirewallBackend=$2/" "$1/etc-firewalld/firewalld.conf"
}
