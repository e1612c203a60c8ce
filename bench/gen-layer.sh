#!/bin/sh
# gen-layer.sh: a libvirt test-driver node file with many networks and
# guests, for bench/plan-bench.sh.
#
#   gen-layer.sh NETWORKS GUESTS > node.xml
#
# Network i is virbr<i> on 10.x.y.0/24 with a DHCP range and a reservation
# for (up to 90 of) the guests on it; every tenth guest nests a subnet of
# its own (<nest:guest>), every tenth network lets a peer in (<nest:network>).
awk -v nets="$1" -v guests="$2" '
function mac(g) { return sprintf("52:54:%02x:%02x:%02x:%02x", int(g / 16777216) % 256, int(g / 65536) % 256, int(g / 256) % 256, g % 256) }
BEGIN {
    print "<node>"
    for (i = 0; i < nets; i++) {
        a = 10 + int(i / 256); b = i % 256
        meta = ""
        if (i % 10 == 0)
            meta = sprintf("<metadata><nest:network xmlns:nest=\"urn:virt-nest:1\"><nest:peer subnet=\"172.16.%d.0/24\"/></nest:network></metadata>", i % 256)
        hosts = ""
        k = 0
        for (g = i; g < guests && k < 90; g += nets) {
            hosts = hosts sprintf("<host mac=\"%s\" name=\"g%d\" ip=\"%d.%d.0.%d\"/>", mac(g), g, a, b, 2 + k)
            k++
        }
        printf "<network><name>net%d</name>%s<forward mode=\"nat\"/><bridge name=\"virbr%d\"/>", i, meta, i
        printf "<ip address=\"%d.%d.0.1\" netmask=\"255.255.255.0\"><dhcp><range start=\"%d.%d.0.100\" end=\"%d.%d.0.254\"/>%s</dhcp></ip></network>\n", a, b, a, b, a, b, hosts
    }
    for (g = 0; g < guests; g++) {
        meta = ""
        if (g % 10 == 0)
            meta = sprintf("<metadata><nest:guest xmlns:nest=\"urn:virt-nest:1\"><nest:route subnet=\"192.168.%d.0/24\"/></nest:guest></metadata>", int(g / 10) % 256)
        printf "<domain type=\"test\"><name>g%d</name>%s<memory>65536</memory><os><type>hvm</type></os>", g, meta
        printf "<devices><interface type=\"network\"><mac address=\"%s\"/><source network=\"net%d\"/></interface></devices></domain>\n", mac(g), g % nets
    }
    print "</node>"
}'
