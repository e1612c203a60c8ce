# A snapshot's firewall that no kernel would load: in every table with a
# base chain, a chain LOOP of $k rules that jump to LOOP, and $n jumps to
# it at the head of each base chain (issue 11: with $n = $k, about k^17
# rule evaluations per packet at each hook without a budget).
# Usage: jq --argjson k 3 --argjson n 3 -f selfjump.jq SNAPSHOT.json
def jumps($m): [range($m)] | map({handle: (1000 + .), text: "-j LOOP",
    iif: null, oif: null, source: null, destination: null, protocol: null,
    ct_state: 0, verdict: "jump", target: "LOOP", comment: null,
    opaque: null});
.host.firewall |= (
    ([.[] | select(.hook != null) | {family, table}] | unique) as $tables
    | map(if .hook != null then .rules = jumps($n) + .rules else . end)
    + [$tables[] | . + {chain: "LOOP", hook: null, type: null,
                        priority: 0, policy: null, rules: jumps($k)}])
