# aptlib.sh: an apt of a script's own, for downloads only (the machine's
# apt state is not touched), as guest-image.sh and fetch-libvirt.sh use
# it. Source it, then:
#
#   apt_own APTDIR WHO    check for Debian's archive keyring (APT_KEYRING)
#                         and make APTDIR's lists and cache; set APT_OPTS,
#                         apt-get's and apt-cache's options for the
#                         sources.list in APTDIR (written by the caller,
#                         signed-by=$APT_KEYRING), its lists and its cache,
#                         with no dpkg status; status 1 (the reason, WHO
#                         first, on stderr) without the keyring
#   apt_update APTDIR     apt-get update, its log in APTDIR/update.log;
#                         status 1 when it failed or a list was not fetched
#   apt_download APTDIR DEBS WHO WHAT PKG=VER...
#                         apt-get download the packages into DEBS (as apt's
#                         sandbox user _apt when there is one), the log in
#                         APTDIR/download.log; status 77 when they cannot
#                         be fetched ("SKIP: WHAT:" and apt's first errors
#                         on stderr), 1 when apt failed otherwise
#   apt_reasons LOG       apt's first three errors and warnings in LOG,
#                         indented, on stderr

APT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

apt_own() {
    [ -r "$APT_KEYRING" ] || {
        echo "$2: no $APT_KEYRING (package debian-archive-keyring)" >&2
        return 1
    }
    mkdir -p "$1/lists/partial" "$1/cache/archives/partial" || return 1
    APT_OPTS=(-o "Dir::Etc::SourceList=$1/sources.list"
              -o Dir::Etc::SourceParts=/dev/null
              -o Dir::Etc::Preferences=/dev/null
              -o Dir::Etc::PreferencesParts=/dev/null
              -o "Dir::State::Lists=$1/lists" -o "Dir::Cache=$1/cache"
              -o Dir::State::status=/dev/null
              -o Acquire::Retries=2 -o Acquire::http::Timeout=20)
}

apt_update() {
    apt-get -q "${APT_OPTS[@]}" update > "$1/update.log" 2>&1 &&
        ! grep -q '^[EW]: Failed to fetch' "$1/update.log"
}

apt_reasons() {
    grep -E '^(E|W|Err):' "$1" | head -3 | sed 's/^/  /' >&2
}

apt_download() {
    local apt=$1 debs=$2 who=$3 what=$4
    shift 4
    id _apt >/dev/null 2>&1 && chown _apt "$debs"
    (cd "$debs" && apt-get -q "${APT_OPTS[@]}" download "$@") \
        > "$apt/download.log" 2>&1 && return 0
    if grep -qE '^(E: Failed to fetch|Err:)' "$apt/download.log"; then
        echo "SKIP: $what:" >&2
        grep -E '^(E|Err):' "$apt/download.log" | head -3 |
            sed 's/^/  /' >&2
        return 77
    fi
    echo "$who: apt-get download failed:" >&2
    sed 's/^/  /' "$apt/download.log" >&2
    return 1
}
