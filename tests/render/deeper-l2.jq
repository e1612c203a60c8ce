# The seed's L2 (xml/examples/seed-nest-l2.json) one level deeper, as
# `virt-nest plan --depth 3` lays out a level 2: a NAT network default on
# virbr0, 192.168.126.1/24, peers the outer subnets, and guest debian-l3
# (52:54:00:2b:8b:c5, reserved 192.168.126.2) on it through vnet0.
# For render-check.sh: a nest of four levels, from snapshots.
.host.ip_forward = 1
| .host.links += [
    {"ifindex": 10, "name": "virbr0", "kind": "bridge",
     "mac": "52:54:00:26:01:01", "master": null, "mtu": 1500, "up": true,
     "rp_filter": 0, "addresses": ["192.168.126.1/24"]},
    {"ifindex": 11, "name": "vnet0", "kind": "tun",
     "mac": "fe:54:00:2b:8b:c5", "master": "virbr0", "mtu": 1500,
     "up": true, "rp_filter": 0, "addresses": []}]
| .host.routes += [
    {"destination": "192.168.126.0/24", "gateway": null, "dev": "virbr0",
     "protocol": 2, "scope": 253, "type": 1, "metric": 0}]
| .networks = [
    {"name": "default", "uuid": "26012601-0b7d-4c2e-9a41-525400260101",
     "active": true, "persistent": true, "autostart": true,
     "forward": "nat", "bridge": "virbr0",
     "ips": [{"family": "ipv4", "address": "192.168.126.1/24",
              "subnet": "192.168.126.0/24",
              "dhcp_ranges": [{"start": "192.168.126.100",
                               "end": "192.168.126.254"}],
              "reservations": [{"mac": "52:54:00:2b:8b:c5",
                                "name": "debian-l3",
                                "ip": "192.168.126.2"}]}],
     "routes": [],
     "nest": {"peers": ["192.168.122.0/24", "192.168.124.0/24"]}}]
| .guests = [
    {"name": "debian-l3", "uuid": "2b8bc5aa-7c4b-4f21-a5d0-5254002b8bc5",
     "state": "running", "persistent": true,
     "interfaces": [{"type": "network", "mac": "52:54:00:2b:8b:c5",
                     "network": "default", "bridge": "virbr0",
                     "tap": "vnet0", "tap_mac": "fe:54:00:2b:8b:c5",
                     "uplink": false,
                     "addresses": [{"address": "192.168.126.2",
                                    "source": "reservation"}]}],
     "nest": null}]
