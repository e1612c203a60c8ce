# The guest debian-l3 inside the L2 of deeper-l2.jq: the seed's L2
# (xml/examples/seed-nest-l2.json) with its uplink ens3 moved to
# debian-l3's MAC and address. For render-check.sh.
.host.hostname = "debian-l3"
| .host.links |= map(if .name == "ens3" then
      .mac = "52:54:00:2b:8b:c5" | .addresses = ["192.168.126.2/24"]
    else . end)
| .host.routes = [
    {"destination": "0.0.0.0/0", "gateway": "192.168.126.1", "dev": "ens3",
     "protocol": 3, "scope": 0, "type": 1, "metric": 100},
    {"destination": "192.168.126.0/24", "gateway": null, "dev": "ens3",
     "protocol": 2, "scope": 253, "type": 1, "metric": 0}]
