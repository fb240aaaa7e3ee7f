#!/bin/sh
# verify: the overlay works from this node: every target answers ping.
#
# Parameters: ZTC_ROLE (this node's role), ZTC_TARGETS ("name ip" lines: the
# head for a compute node, every other node for the head), ZTC_VERIFY_TIMEOUT
# (seconds), ZTC_REQUIRE_DIRECT (true: a target reached only through a relay
# fails the step), ZTC_MTU (the network's MTU: the size probed unfragmented). Pings all targets at once, round after round, until each has
# answered or the time is up (a new ZeroTier path takes a few seconds).
# Failure names every target that never answered. Then, where zerotier-cli
# answers (it needs root: sudo -n), reports each target's path, DIRECT or
# RELAY, and its latency, from `zerotier-cli -j peers`. Changes nothing on the
# node, so it needs no root for the pings. delete: nothing to do.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=verify

verify_check_params() {
    ztc_check "ZTC_ROLE" "$ZTC_ROLE" '[a-z][a-z0-9-]*'
    ztc_check "ZTC_VERIFY_TIMEOUT (seconds)" "$ZTC_VERIFY_TIMEOUT" '[1-9][0-9]{0,4}'
    ztc_check "ZTC_REQUIRE_DIRECT" "$ZTC_REQUIRE_DIRECT" 'true|false'
    ztc_check "ZTC_MTU" "$ZTC_MTU" '[1-9][0-9]{3,4}'
    printf '%s\n' "$ZTC_TARGETS" | while read -r _name _ip _rest; do
        [ -z "$_name" ] && continue
        [ -z "$_rest" ] || ztc_die "ZTC_TARGETS line '$_name $_ip $_rest' has more than a name and an address"
        ztc_check "ZTC_TARGETS name" "$_name" '[A-Za-z0-9][A-Za-z0-9.-]*'
        ztc_check "ZTC_TARGETS address of $_name" "$_ip" "$ZTC_IPV4_RE"
    done || exit 1
}

# One line per peer of `zerotier-cli -j peers`, tab separated:
#   <address> <latency ms, -1 unknown> <tunneled> <active unexpired paths>
# Callbacks for lib.sh's JSON reader.
# shellcheck disable=SC2016  # an awk program, not shell
verify_peers_awk='
function value(v) {
    if (depth == 2 && kind[1] == "a") {
        if (key[2] == "address") addr = v
        else if (key[2] == "latency") lat = v
        else if (key[2] == "tunneled") tun = v
    } else if (depth == 4 && key[2] == "paths") {
        if (key[4] == "active") active = v
        else if (key[4] == "expired") expired = v
    }
}
function opened(c) {
    if (c == "{" && depth == 2 && kind[1] == "a") { addr = ""; lat = -1; tun = "false"; direct = 0 }
    if (c == "{" && depth == 4) { active = ""; expired = "" }
}
function closed(c) {
    if (c != "}") return
    if (depth == 4 && key[2] == "paths" && active == "true" && expired != "true") direct++
    if (depth == 2 && kind[1] == "a" && addr != "") printf "%s\t%s\t%s\t%d\n", addr, lat, tun, direct
}
'

# Why path types cannot be read here, or nothing when they can.
verify_paths_unknowable() {
    command -v zerotier-cli >/dev/null 2>&1 || { echo "zerotier-cli is not installed"; return; }
    command -v ip >/dev/null 2>&1 || { echo "ip (iproute2) is not installed"; return; }
    [ "$ZTC_UID" -eq 0 ] || sudo -n true 2>/dev/null || echo "zerotier-cli needs root and sudo -n asks for a password"
}

# Writes "<name> <ip> DIRECT|RELAY|UNKNOWN <latency ms or -> <why>" lines for the targets in
# $ZTC_TMP/all into $ZTC_TMP/paths. A target's ZeroTier address comes from its
# MAC on the overlay (ip neigh): ZeroTier derives a member's MAC from its
# address XOR bytes of the network ID, and this node's own MAC and address give
# those bytes, so target = its MAC ^ our MAC ^ our address (low 40 bits).
verify_paths() {
    _me=$(ztc_root zerotier-cli info 2>/dev/null | awk '$1 == "200" && $2 == "info" { print $3 }')
    ztc_root zerotier-cli -j peers 2>/dev/null | awk "$verify_peers_awk$ZTC_JSON_AWK" >"$ZTC_TMP/peers"
    : >"$ZTC_TMP/paths"
    while read -r _name _ip; do
        _neigh=$(ip neigh show to "$_ip" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) { if ($i == "dev") d = $(i + 1); if ($i == "lladdr") m = $(i + 1) } } END { print d, m }')
        _dev=${_neigh% *}
        _mac=${_neigh#* }
        _own=$(ip -o link show dev "$_dev" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }')
        if [ -z "$_me" ] || [ -z "$_dev" ] || [ -z "$_mac" ] || [ -z "$_own" ]; then
            printf '%s %s UNKNOWN - no overlay MAC for it\n' "$_name" "$_ip" >>"$ZTC_TMP/paths"
            continue
        fi
        _addr=$(printf '%010x' $(((0x$(printf %s "$_mac" | tr -d :) ^ 0x$(printf %s "$_own" | tr -d :) ^ 0x$_me) & 0xffffffffff)))
        awk -F '\t' -v a="$_addr" -v n="$_name" -v ip="$_ip" '
            $1 == a { found = 1; lat = ($2 >= 0 ? $2 : "-")
                      if ($4 > 0 && $3 != "true") print n, ip, "DIRECT", lat, "-"
                      else print n, ip, "RELAY", lat, ($3 == "true" ? "tunneled-over-TCP" : "no-direct-path") }
            END { if (!found) print n, ip, "UNKNOWN", "-", "not-among-peers-" a }
        ' "$ZTC_TMP/peers" >>"$ZTC_TMP/paths"
    done <"$ZTC_TMP/all"
}

step_create() {
    verify_check_params
    command -v ping >/dev/null 2>&1 || ztc_die "ping is not installed on $(uname -n); install it (iputils-ping / iputils) to verify the overlay"
    ztc_tmpdir
    printf '%s\n' "$ZTC_TARGETS" | awk 'NF == 2' >"$ZTC_TMP/pending"
    cp "$ZTC_TMP/pending" "$ZTC_TMP/all"
    _total=$(wc -l <"$ZTC_TMP/pending" | tr -d ' ')
    if [ "$_total" -eq 0 ]; then
        ztc_log "no targets for a $ZTC_ROLE node; nothing to verify"
        echo "verify: no targets"
        return 0
    fi
    ztc_log "pinging $_total target(s) over the overlay for up to ${ZTC_VERIFY_TIMEOUT}s"
    _deadline=$(($(ztc_now) + ZTC_VERIFY_TIMEOUT))
    _round=0
    while :; do
        _round=$((_round + 1))
        # One ping per pending target, all at once; each answer leaves a file.
        _i=0
        while read -r _name _ip; do
            _i=$((_i + 1))
            (ping -n -c 1 -W 1 "$_ip" >/dev/null 2>&1 && : >"$ZTC_TMP/ok.$_i") &
        done <"$ZTC_TMP/pending"
        wait
        _i=0
        : >"$ZTC_TMP/still"
        while read -r _name _ip; do
            _i=$((_i + 1))
            if [ -e "$ZTC_TMP/ok.$_i" ]; then
                ztc_log "$_name ($_ip) answers"
            else
                printf '%s %s\n' "$_name" "$_ip" >>"$ZTC_TMP/still"
            fi
        done <"$ZTC_TMP/pending"
        rm -f "$ZTC_TMP"/ok.*
        mv "$ZTC_TMP/still" "$ZTC_TMP/pending"
        [ -s "$ZTC_TMP/pending" ] || break
        if [ "$(ztc_now)" -ge "$_deadline" ]; then
            _missing=$(awk '{ printf "%s%s (%s)", sep, $1, $2; sep = ", " }' "$ZTC_TMP/pending")
            _n=$(wc -l <"$ZTC_TMP/pending" | tr -d ' ')
            ztc_die "$_n of $_total node(s) did not answer ping over the overlay within ${ZTC_VERIFY_TIMEOUT}s: $_missing. Check on those nodes: 'zerotier-cli listnetworks' shows status OK and the address, the firewall step allows ICMP on the zt interface, and UDP 9993 is open between the nodes"
        fi
        sleep 1
    done
    _names=$(printf '%s\n' "$ZTC_TARGETS" | awk 'NF == 2 { printf "%s%s", sep, $1; sep = " " }')
    echo "verify: $_total/$_total reachable over the overlay from this $ZTC_ROLE node ($_names)"
    verify_mtu
    verify_report_paths "$_deadline"
}

# Whether a ping of $2 bytes (IPv4 and ICMP headers included) reaches $1 and
# comes back without being fragmented: two tries.
# shellcheck disable=SC1010  # "do" is ping's do-not-fragment mode
verify_df() {
    ping -n -c 1 -W 1 -M do -s $(($2 - 28)) "$1" >/dev/null 2>&1 ||
        ping -n -c 1 -W 1 -M do -s $(($2 - 28)) "$1" >/dev/null 2>&1
}

# The MTU each target's path carries end to end: the network's (ZTC_MTU) when
# a packet of that size passes unfragmented, else the largest that does
# (halving the gap down to 1280, ZeroTier's least). A difference is flagged.
verify_mtu() {
    _dev=$(ip route get "$(awk 'NR == 1 { print $2 }' "$ZTC_TMP/all")" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }')
    case $_dev in
        zt*) ;;
        *)
            ztc_log "MTU not probed: the overlay is not routed through a ZeroTier interface here (${_dev:-no route})"
            return 0
            ;;
    esac
    # shellcheck disable=SC1010  # "do" is ping's do-not-fragment mode
    if ! ping -n -c 1 -W 1 -M do -s 100 127.0.0.1 >/dev/null 2>&1; then
        ztc_log "MTU not probed: this ping cannot set do-not-fragment (-M do)"
        return 0
    fi
    : >"$ZTC_TMP/short"
    while read -r _name _ip; do
        _lo=0
        _hi=$ZTC_MTU
        verify_df "$_ip" "$_hi" || {
            _hi=$((_hi - 1))
            _lo=1279
            while [ "$_lo" -lt "$_hi" ]; do
                _mid=$(((_lo + _hi + 1) / 2))
                if verify_df "$_ip" "$_mid"; then _lo=$_mid; else _hi=$((_mid - 1)); fi
            done
        }
        [ "$_hi" -eq "$ZTC_MTU" ] || printf '%s (%s) carries %s\n' "$_name" "$_ip" "$([ "$_hi" -ge 1280 ] && echo "$_hi" || echo 'less than 1280')" >>"$ZTC_TMP/short"
    done <"$ZTC_TMP/all"
    _own=$(ip -o link show dev "$_dev" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "mtu") print $(i + 1) }')
    [ -z "$_own" ] || [ "$_own" = "$ZTC_MTU" ] || printf 'the overlay interface %s has %s\n' "$_dev" "$_own" >>"$ZTC_TMP/short"
    if [ -s "$ZTC_TMP/short" ]; then
        echo "verify: MTU MISMATCH: the network's MTU is $ZTC_MTU, but $(awk '{ printf "%s%s", sep, $0; sep = "; " }' "$ZTC_TMP/short")"
        ztc_log "an MTU mismatch drops large packets silently: check network.mtu, and the MTU the controller (Central) gives the network"
    else
        echo "verify: MTU $ZTC_MTU end to end to every target"
    fi
}

# Logs each target's path; with ZTC_REQUIRE_DIRECT, waits (pinging) until every
# path is DIRECT or the deadline $1 passes, then fails naming the others.
verify_report_paths() {
    _why=$(verify_paths_unknowable)
    if [ -n "$_why" ]; then
        [ "$ZTC_REQUIRE_DIRECT" != true ] || ztc_die "verify.requireDirect is set but path types cannot be read on $(uname -n): $_why"
        ztc_log "path types not reported: $_why"
        return 0
    fi
    while :; do
        verify_paths
        awk '$3 != "DIRECT"' "$ZTC_TMP/paths" >"$ZTC_TMP/indirect"
        if [ "$ZTC_REQUIRE_DIRECT" != true ] || [ ! -s "$ZTC_TMP/indirect" ] || [ "$(ztc_now)" -ge "$1" ]; then
            break
        fi
        # A new path starts relayed; traffic makes ZeroTier try a direct one.
        while read -r _name _ip _rest; do ping -n -c 1 -W 1 "$_ip" >/dev/null 2>&1 & done <"$ZTC_TMP/indirect"
        wait
        sleep 1
    done
    while read -r _name _ip _kind _lat _why; do
        ztc_log "$_name ($_ip): $_kind$([ "$_lat" = - ] || echo ", latency ${_lat} ms")$([ "$_why" = - ] || echo " ($_why)" | tr - ' ')"
    done <"$ZTC_TMP/paths"
    echo "verify: paths from this node: $(awk '{ n[$3]++ } END { printf "%d DIRECT, %d RELAY, %d UNKNOWN", n["DIRECT"], n["RELAY"], n["UNKNOWN"] }' "$ZTC_TMP/paths")"
    if [ "$ZTC_REQUIRE_DIRECT" = true ] && [ -s "$ZTC_TMP/indirect" ]; then
        _list=$(awk '{ printf "%s%s (%s)", sep, $1, $3; sep = ", " }' "$ZTC_TMP/indirect")
        ztc_die "verify.requireDirect: no direct ZeroTier path to $_list within ${ZTC_VERIFY_TIMEOUT}s; traffic is relayed through a ZeroTier root (slow for MPI). Usual causes: UDP 9993 blocked between the sites (open it both ways in every firewall and security group on the way), or a symmetric NAT in front of one side (give it a public address, forward UDP 9993 to it, or use a NAT that keeps ports). 'zerotier-cli peers' on both nodes shows the paths"
    fi
}

step_update() {
    step_create
}

step_delete() {
    ztc_log "nothing to undo for verify"
}

ztc_run "$@"; exit $?
