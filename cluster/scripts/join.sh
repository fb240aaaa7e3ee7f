#!/bin/sh
# join: makes this node a member of the cluster's ZeroTier network, with its address.
#
# Parameters: ZTC_NETWORK_ID, ZTC_OVERLAY_IP and ZTC_OVERLAY_PREFIX (the address
# the network must assign), ZTC_INTERFACE (interface name to pin through
# devicemap, or empty), ZTC_JOIN_TIMEOUT (seconds to wait for it).
# create/update: pin the interface name when asked, join, then wait until the
# network is OK with the expected address; on timeout, fail with a diagnosis
# and the raw `zerotier-cli info` / `listnetworks`. The joined network is
# recorded in /var/lib/zerotier-cluster/join, so an update to another network
# leaves the old one first and delete leaves only what this program joined.
# Other networks of the node are never touched. Prints "<interface> <ip>/<prefix>".
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP='join'
ZT_HOME=/var/lib/zerotier-one
JOIN_STATE=$ZTC_STATE_DIR/join

join_check_params() {
    ztc_check "ZTC_NETWORK_ID (16 hex digits)" "$ZTC_NETWORK_ID" '[0-9a-f]{16}'
    ztc_check "ZTC_OVERLAY_IP" "$ZTC_OVERLAY_IP" "$ZTC_IPV4_RE"
    ztc_check "ZTC_OVERLAY_PREFIX" "$ZTC_OVERLAY_PREFIX" '([0-9]|[12][0-9]|3[0-2])'
    [ -z "$ZTC_INTERFACE" ] || ztc_check "ZTC_INTERFACE" "$ZTC_INTERFACE" '[A-Za-z][A-Za-z0-9_-]{0,14}'
    ztc_check "ZTC_JOIN_TIMEOUT (seconds)" "$ZTC_JOIN_TIMEOUT" '[1-9][0-9]{0,4}'
}

# --- zerotier-cli, and reading its JSON without python or jq ------------------

zt_cli() {
    ztc_root zerotier-cli "$@"
}

# Succeeds when zerotier-cli is installed and the service answers it.
zt_answers() {
    command -v zerotier-cli >/dev/null 2>&1 && zt_cli info >/dev/null 2>&1
}

zt_require_service() {
    command -v zerotier-cli >/dev/null 2>&1 ||
        ztc_die "zerotier-cli is not installed on $(uname -n): the install step must succeed first (or pre-install zerotier-one)"
    if ! _out=$(zt_cli info 2>&1); then
        ztc_die "the zerotier-one service on $(uname -n) does not answer: $_out. Start it with 'systemctl start zerotier-one' (the install step does this) and check 'journalctl -u zerotier-one'"
    fi
}

# One line per network the node is a member of, tab separated:
#   <nwid> <status> <portDeviceName> <assigned addresses, space separated, or -> <portError>
# read from `zerotier-cli -j listnetworks` (a JSON list of objects). The parser
# follows JSON structure (strings, nesting), so key order, spacing, nested
# objects (dns, routes, multicastSubscriptions) and odd network names do not matter.
# shellcheck disable=SC2016  # an awk program, not shell
zt_networks_awk='
function value(v) {
    if (depth == 2 && kind[1] == "a") {
        k = key[2]
        if (k == "id" || k == "nwid") id = v
        else if (k == "status") status = v
        else if (k == "portDeviceName") dev = v
        else if (k == "portError") perr = v
    } else if (depth == 3 && kind[3] == "a" && kind[1] == "a" && key[2] == "assignedAddresses") {
        addrs = addrs (addrs == "" ? "" : " ") v
    }
}
function opened(c) {
    if (c == "{" && depth == 2 && kind[1] == "a") { id = ""; status = ""; dev = ""; addrs = ""; perr = "" }
}
function closed(c) {
    if (c == "}" && depth == 2 && kind[1] == "a" && id != "")
        printf "%s\t%s\t%s\t%s\t%s\n", id, (status == "" ? "-" : status), (dev == "" ? "-" : dev), (addrs == "" ? "-" : addrs), (perr == "" ? "-" : perr)
}
'

zt_networks() {
    _json=$(zt_cli -j listnetworks 2>&1) || ztc_die "zerotier-cli -j listnetworks failed: $_json"
    printf '%s\n' "$_json" | awk "$zt_networks_awk$ZTC_JSON_AWK"
}

# The zt_networks line of network $1, or nothing.
zt_network() {
    zt_networks | awk -F '\t' -v id="$1" '$1 == id'
}

# This node's ZeroTier address and ONLINE/OFFLINE/TUNNELED, from `zerotier-cli info`
# ("200 info <address> <version> <status>").
zt_info_field() {
    zt_cli info 2>/dev/null | awk -v f="$1" '$1 == "200" && $2 == "info" { print $f }'
}

zt_leave() {
    _out=$(zt_cli leave "$1" 2>&1) || ztc_die "zerotier-cli leave $1 failed: $_out"
}

zt_join() {
    _out=$(zt_cli join "$1" 2>&1) || ztc_die "zerotier-cli join $1 failed: $_out"
    case $_out in
        *"200 join OK"*) ;;
        *) ztc_die "zerotier-cli join $1 answered: $_out" ;;
    esac
}

# --- devicemap and our state ----------------------------------------------------

# Makes devicemap name network $1's interface $2 (no line when $2 is empty),
# keeping every other line. Returns 0 when the file changed.
zt_devicemap() {
    _dm=$ZT_HOME/devicemap
    if ztc_root test -f "$_dm"; then
        ztc_tmpdir
        ztc_root cat "$_dm" >"$ZTC_TMP/devicemap.old" || ztc_scratch_failed "$ZTC_TMP/devicemap.old"
    elif [ -z "$2" ]; then
        return 1
    else
        ztc_tmpdir
        : >"$ZTC_TMP/devicemap.old" || ztc_scratch_failed "$ZTC_TMP/devicemap.old"
    fi
    awk -v id="$1" -v dev="$2" '
        index($0, id "=") == 1 { if (dev != "" && !done) print id "=" dev; done = 1; next }
        { print }
        END { if (dev != "" && !done) print id "=" dev }
    ' "$ZTC_TMP/devicemap.old" >"$ZTC_TMP/devicemap.new" || ztc_scratch_failed "$ZTC_TMP/devicemap.new"
    ztc_sync_file "$_dm" 644 "$ZTC_TMP/devicemap.new"
}

# Sets STATE_NETWORK and STATE_INTERFACE from what the last join recorded.
join_read_state() {
    STATE_NETWORK=
    STATE_INTERFACE=
    [ -f "$JOIN_STATE" ] || return 0
    STATE_NETWORK=$(sed -n 's/^network=\([0-9a-f]\{16\}\)$/\1/p' "$JOIN_STATE")
    STATE_INTERFACE=$(sed -n 's/^interface=\([A-Za-z0-9_-]*\)$/\1/p' "$JOIN_STATE")
}

# --- diagnosis --------------------------------------------------------------------

# Why network $1 is not ready; $2 status, $3 device, $4 addresses, $5 portError.
join_diagnose() {
    _want="$ZTC_OVERLAY_IP/$ZTC_OVERLAY_PREFIX"
    _node=$(zt_info_field 3)
    _online=$(zt_info_field 5)
    case $2 in
        "")
            echo "network $1 is not in 'zerotier-cli listnetworks' although it was joined: the service may have restarted or left it; run the step again" ;;
        ACCESS_DENIED)
            echo "ACCESS_DENIED: the network's controller refuses node $_node. The member $_node is not authorized on network $1: check the Member resource for $_node in this stack (pulumi stack / pulumi up) or authorize $_node in ZeroTier Central" ;;
        NOT_FOUND)
            echo "NOT_FOUND: no controller knows network $1. The network id is wrong, or the network was deleted: check zerotier-cluster:network.networkId (or the stack that creates the network)" ;;
        REQUESTING_CONFIGURATION)
            if [ "$_online" = OFFLINE ]; then
                echo "REQUESTING_CONFIGURATION and node $_node is OFFLINE: it cannot reach any ZeroTier root. UDP 9993 is probably blocked upstream (site firewall, security group, NAT): allow outbound UDP 9993 (and replies) from this node, or give it a route to the internet or to your moon"
            else
                echo "REQUESTING_CONFIGURATION: node $_node is ${_online:-?} but the controller of network $1 (ZeroTier address ${1%??????}) does not answer: the controller is down or unreachable, or the network id is wrong"
            fi ;;
        PORT_ERROR)
            echo "PORT_ERROR (portError $5): zerotier-one could not create the virtual interface${3:+ $3}. Check that /dev/net/tun exists and the tun module is loaded (containers need the tun device passed in), that the interface name is not taken, and see 'journalctl -u zerotier-one'" ;;
        CLIENT_TOO_OLD)
            echo "CLIENT_TOO_OLD: the network needs a newer ZeroTier One than this node runs; raise zerotier-cluster:zerotierVersion" ;;
        AUTHENTICATION_REQUIRED)
            echo "AUTHENTICATION_REQUIRED: the network requires SSO login, which an unattended node cannot do; turn SSO off for this network" ;;
        OK)
            echo "the network is OK but assigns $4 instead of $_want: check the Member's ipAssignments (it must be $ZTC_OVERLAY_IP) and that the network has a route for the cluster's /$ZTC_OVERLAY_PREFIX (the prefix comes from the managed route)" ;;
        *)
            echo "network $1 has status $2" ;;
    esac
}

join_fail() {
    _why=$(join_diagnose "$@")
    _info=$(zt_cli info 2>&1 || true)
    _list=$(zt_cli listnetworks 2>&1 || true)
    ztc_die "network $1 did not become ready with $ZTC_OVERLAY_IP/$ZTC_OVERLAY_PREFIX within ${ZTC_JOIN_TIMEOUT}s on $(uname -n).
Diagnosis: $_why
zerotier-cli info:
$_info
zerotier-cli listnetworks:
$_list"
}

# --- steps ----------------------------------------------------------------------------

step_create() {
    join_check_params
    ztc_require_root
    zt_require_service
    ztc_tmpdir
    _nwid=$ZTC_NETWORK_ID
    _want="$ZTC_OVERLAY_IP/$ZTC_OVERLAY_PREFIX"
    _changed=0
    join_read_state

    # Moved to another network: leave the one this program joined before.
    if [ -n "$STATE_NETWORK" ] && [ "$STATE_NETWORK" != "$_nwid" ]; then
        if [ -n "$(zt_network "$STATE_NETWORK")" ]; then
            ztc_log "leaving network $STATE_NETWORK, which this program joined before (the network is now $_nwid)"
            zt_leave "$STATE_NETWORK"
        fi
        if [ -n "$STATE_INTERFACE" ] && zt_devicemap "$STATE_NETWORK" ""; then
            ztc_log "removed the devicemap line of $STATE_NETWORK"
        fi
        _changed=1
    fi

    _line=$(zt_network "$_nwid")
    _dev=$(printf '%s\n' "$_line" | cut -f3)
    _remap=0
    if zt_devicemap "$_nwid" "$ZTC_INTERFACE"; then
        ztc_log "devicemap now names network $_nwid's interface ${ZTC_INTERFACE:-(default zt name)}"
        _remap=1
    fi
    if [ -n "$_line" ] && [ -n "$ZTC_INTERFACE" ] && [ "$_dev" != "$ZTC_INTERFACE" ]; then
        _remap=1
    fi
    if [ -n "$_line" ] && [ "$_remap" = 1 ]; then
        ztc_log "interface of network $_nwid is $_dev; leaving and rejoining so the name ${ZTC_INTERFACE:-(default)} applies"
        zt_leave "$_nwid"
        _line=
    fi

    # Record before joining: even a join that times out is ours to leave on delete.
    printf 'network=%s\ninterface=%s\n' "$_nwid" "$ZTC_INTERFACE" >"$ZTC_TMP/state" || ztc_scratch_failed "$ZTC_TMP/state"
    if ztc_sync_file "$JOIN_STATE" 644 "$ZTC_TMP/state"; then
        _changed=1
    fi

    if [ -z "$_line" ]; then
        ztc_log "joining network $_nwid"
        zt_join "$_nwid"
        _changed=1
    fi

    _deadline=$(($(ztc_now) + ZTC_JOIN_TIMEOUT))
    _seen=
    while :; do
        _line=$(zt_network "$_nwid")
        _status=$(printf '%s\n' "$_line" | cut -f2)
        _dev=$(printf '%s\n' "$_line" | cut -f3)
        _addrs=$(printf '%s\n' "$_line" | cut -f4)
        _perr=$(printf '%s\n' "$_line" | cut -f5)
        if [ "$_status" = OK ]; then
            case " $_addrs " in
                *" $_want "*) break ;;
            esac
        fi
        if [ "$_status $_addrs" != "$_seen" ]; then
            ztc_log "network $_nwid: status ${_status:-absent}, addresses $_addrs; waiting for OK with $_want"
            _seen="$_status $_addrs"
        fi
        if [ "$(ztc_now)" -ge "$_deadline" ]; then
            join_fail "$_nwid" "$_status" "$_dev" "$_addrs" "$_perr"
        fi
        sleep 2
    done

    if [ "$_changed" = 1 ]; then
        ztc_log "member of network $_nwid on $_dev with $_want"
    else
        ztc_log "already a member of network $_nwid on $_dev with $_want; nothing changed"
    fi
    printf '%s %s\n' "$_dev" "$_want"
}

step_update() {
    step_create
}

step_delete() {
    ztc_require_root
    join_read_state
    _nwid=$STATE_NETWORK
    if [ -z "$_nwid" ] && printf '%s\n' "${ZTC_NETWORK_ID:-}" | grep -Eqx '[0-9a-f]{16}'; then
        _nwid=$ZTC_NETWORK_ID
    fi
    if [ -z "$_nwid" ]; then
        ztc_log "no network recorded in $JOIN_STATE; nothing to leave"
        echo "leave: nothing to leave"
        return 0
    fi
    if ! command -v zerotier-cli >/dev/null 2>&1; then
        ztc_log "ZeroTier is not installed on $(uname -n); nothing to leave"
        _result="leave: ZeroTier not installed"
    elif ! zt_answers; then
        if ztc_root test -e "$ZT_HOME/networks.d/$_nwid.conf"; then
            ztc_log "zerotier-one is not running; removing network $_nwid from $ZT_HOME/networks.d so it is not rejoined at start"
            ztc_root rm -f "$ZT_HOME/networks.d/$_nwid.conf" "$ZT_HOME/networks.d/$_nwid.local.conf" ||
                ztc_die "could not remove network $_nwid from $ZT_HOME/networks.d"
            _result="leave: left $_nwid"
        else
            ztc_log "zerotier-one is not running and is not a member of $_nwid; nothing to leave"
            _result="leave: not a member of $_nwid"
        fi
    elif [ -n "$(zt_network "$_nwid")" ]; then
        ztc_log "leaving network $_nwid"
        zt_leave "$_nwid"
        _result="leave: left $_nwid"
    else
        ztc_log "not a member of network $_nwid; nothing to leave"
        _result="leave: not a member of $_nwid"
    fi
    if [ -n "$STATE_INTERFACE" ] && ztc_root test -f "$ZT_HOME/devicemap" && zt_devicemap "$_nwid" ""; then
        ztc_log "removed the devicemap line of $_nwid"
    fi
    if [ -f "$JOIN_STATE" ]; then
        ztc_root rm -f "$JOIN_STATE" || ztc_die "could not remove $JOIN_STATE"
    fi
    echo "$_result"
}

ztc_run "$@"; exit $?
