#!/bin/sh
# seed-nest-walk.sh [DIR]: the seed's nest as `virt-nest status --json
# --host --walk` on L0 (wujing) would print it, made from the three
# snapshots of DIR (default: this script's folder): seed-nest-l0.json
# first, then L1 (guest debian of L0, uplink 52:54:00:fc:38:e0), then L2
# (guest debian-l2 of L1, uplink 52:54:00:5a:1a:8e). Prints the bundle;
# seed-nest-walk.json is its output (tests/cli-walk.sh checks it).
set -eu
D=${1:-$(dirname "$0")}
jq -n --slurpfile l0 "$D/seed-nest-l0.json" \
      --slurpfile l1 "$D/seed-nest-l1.json" \
      --slurpfile l2 "$D/seed-nest-l2.json" '
def uplink($snap; $guest):
  [$snap.guests[] | select(.name == $guest) | .interfaces[0].mac][0];
{
  format: "virt-nest-bundle",
  version: 1,
  layers: [
    { parent: null, snapshot: $l0[0] },
    { parent: 0,
      guest: { name: "debian", mac: uplink($l0[0]; "debian") },
      snapshot: $l1[0] },
    { parent: 1,
      guest: { name: "debian-l2", mac: uplink($l1[0]; "debian-l2") },
      snapshot: $l2[0] }
  ],
  leaves: []
}'
