# Renames objects of a snapshot to hostile names, the way an inner layer's
# user could: every string equal to a key of $names becomes its value
# (links with their masters and routes, networks with their guests'
# interfaces, chains with their jumps, guests), and virt-nest's rule
# comments follow their network's new name, escaped as layerplan.c's
# comment_name() does (%XX but for letters, digits and -_.:+@,=[]~^).
# Usage: jq --slurpfile names names-l1.json -f names.jq SNAPSHOT.json
def comment_name: @uri | gsub("%3A"; ":") | gsub("%2B"; "+") | gsub("%40"; "@")
    | gsub("%2C"; ",") | gsub("%3D"; "=") | gsub("%5B"; "[") | gsub("%5D"; "]")
    | gsub("%5E"; "^");
($names[0]) as $n
| walk(if type == "string" then . as $s | ($n[$s] // $s) else . end)
| walk(if type == "object" and (.comment | type) == "string" then
         .comment |= (. as $c | reduce ($n | to_entries[]) as $e ($c;
             if startswith("virt-nest " + $e.key + " ")
             then "virt-nest " + ($e.value | comment_name)
                  + ltrimstr("virt-nest " + $e.key)
             else . end))
       else . end)
