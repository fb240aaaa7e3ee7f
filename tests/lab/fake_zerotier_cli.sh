#!/bin/sh
# TEST STAND-IN for zerotier-cli (ZeroTier One 1.14.1). Not ZeroTier: no daemon,
# no network. It answers from output captured from a real zerotier-one 1.14.1
# (tests/lab/zerotier_samples/, installed beside it in $SAMPLES): each network
# object of `-j listnetworks` is a captured one for the same status, with the
# network ID, status, interface, addresses, name and portError substituted;
# `-j info` is the captured info with address, version and online substituted.
# The scenario is what the test writes into /etc/fake-zerotier/scenario (sh variables):
#   STATUS     status a joined network reaches (OK, ACCESS_DENIED, NOT_FOUND,
#              REQUESTING_CONFIGURATION, PORT_ERROR, ...)      default OK
#   ADDRESSES  assignedAddresses once STATUS is OK (space separated CIDRs)
#   ONLINE     ONLINE / OFFLINE / TUNNELED for `info`           default ONLINE
#   OK_AFTER   seconds after the join before STATUS applies (REQUESTING_CONFIGURATION until then)
#   PORT_ERROR portError value                                  default 0 (-1 with PORT_ERROR)
#   NAME       the network's name once configured
#   PEERS      peers for `-j peers`, space separated ADDRESS/ROLE/LATENCY/LINK entries;
#              LINK is direct (one active preferred UDP path), relay (no path:
#              traffic goes through a root) or tunneled (TCP fallback relay).
#              The shape (keys, order, types) is _peerToJson's in ZeroTierOne
#              1.14's service/OneService.cpp; there is no captured sample yet.
# The "service" runs while /var/lib/zerotier-one/zerotier-one.port exists.
# Joined networks live in networks.d/<nwid>.conf (join time, interface name from
# devicemap at join time, else ZeroTier's own name for the network ID, as the
# real service names the tap when it creates it).
# Every call is appended to /var/log/fake-zerotier-cli.log.
# FAKE_ZT_ROOT (default empty) prefixes every path, so a test can run it without a machine.
set -eu
ROOT=${FAKE_ZT_ROOT:-}
HOME_DIR=$ROOT/var/lib/zerotier-one
SAMPLES=$ROOT/usr/share/zerotier-stand-in
STATUS=OK
ADDRESSES=
ONLINE=ONLINE
OK_AFTER=0
PORT_ERROR=
NAME=
PEERS=
VERSION=1.14.1
# shellcheck disable=SC1091
[ -f "$ROOT/etc/fake-zerotier/scenario" ] && . "$ROOT/etc/fake-zerotier/scenario"
echo "$*" >>"$ROOT/var/log/fake-zerotier-cli.log" 2>/dev/null || true

if [ ! -r "$HOME_DIR/authtoken.secret" ]; then
    echo "zerotier-cli: authtoken.secret not found or readable in $HOME_DIR (try again as root)"
    exit 2
fi
if [ ! -f "$HOME_DIR/zerotier-one.port" ]; then
    printf 'Error connecting to the ZeroTier service: connection failed\n\nPlease check that the service is running and that TCP port 9993 can be contacted via 127.0.0.1.\n'
    exit 1
fi

json=0
if [ "${1:-}" = -j ]; then
    json=1
    shift
fi
address=$(cut -d: -f1 "$HOME_DIR/identity.public")

valid_nwid() {
    printf '%s\n' "$1" | grep -Eqx '[0-9a-f]{16}' || {
        echo "invalid network id"
        exit 2
    }
}

# Sets st, addrs, dev, perr, name for network $1.
network_state() {
    conf=$HOME_DIR/networks.d/$1.conf
    joined=$(sed -n 's/^joined=//p' "$conf")
    dev=$(sed -n 's/^dev=//p' "$conf")
    st=$STATUS
    if [ $(($(date +%s) - joined)) -lt "$OK_AFTER" ]; then
        st=REQUESTING_CONFIGURATION
    fi
    addrs=
    name=
    perr=0
    case $st in
        OK) addrs=$ADDRESSES name=$NAME ;;
        PORT_ERROR) perr=${PORT_ERROR:--1} ;;
    esac
}

# ZeroTier's interface name for network $1 (osdep/LinuxEthernetTap.cpp): "zt" and 8
# base32 digits of the low 40 bits of nwid ^ (nwid >> 24).
zt_ifname() {
    _v=$(( 0x$(printf '%s' "$1" | cut -c 7-16) ^ 0x$(printf '%s' "$1" | cut -c 1-10) ))
    _name=zt
    for _shift in 35 30 25 20 15 10 5 0; do
        _i=$(( ((_v >> _shift) & 31) + 1 ))
        _name=$_name$(printf '%s' abcdefghijklmnopqrstuvwxyz234567 | cut -c "$_i")
    done
    printf '%s\n' "$_name"
}

# The captured network object (pretty-printed as zerotier-cli prints it) for status $1.
template() {
    case $1 in
        OK) file=listnetworks-ok.json index=1 ;;
        ACCESS_DENIED) file=listnetworks-denied-notfound.json index=1 ;;
        NOT_FOUND) file=listnetworks-denied-notfound.json index=2 ;;
        *) file=listnetworks-ok.json index=3 ;; # REQUESTING_CONFIGURATION
    esac
    awk -v want="$index" '
        /^ \{$/ { n++ }
        n == want && !done { sub(/^ \},$/, " }"); print }
        n == want && /^ \}/ { done = 1 }
    ' "$SAMPLES/$file"
}

network_json() {
    network_state "$1"
    rev=0
    [ "$st" = OK ] && rev=1
    template "$st" | id=$1 st=$st dev=$dev addrs=$addrs name=$name perr=$perr rev=$rev awk '
        function field(k, v) { print "  \"" k "\": " v "," }
        function str(v) { return "\"" v "\"" }
        skip { if ($0 ~ /^  \],?$/) skip = 0; next }
        /^  "assignedAddresses": / {
            n = split(ENVIRON["addrs"], a, " ")
            if (n == 0) print "  \"assignedAddresses\": [],"
            else {
                print "  \"assignedAddresses\": ["
                for (i = 1; i <= n; i++) printf "   \"%s\"%s\n", a[i], (i < n ? "," : "")
                print "  ],"
            }
            if ($0 ~ /\[$/) skip = 1
            next
        }
        /^  "id": / { field("id", str(ENVIRON["id"])); next }
        /^  "nwid": / { field("nwid", str(ENVIRON["id"])); next }
        /^  "name": / { field("name", str(ENVIRON["name"])); next }
        /^  "status": / { field("status", str(ENVIRON["st"])); next }
        /^  "portDeviceName": / { field("portDeviceName", str(ENVIRON["dev"])); next }
        /^  "portError": / { field("portError", ENVIRON["perr"]); next }
        /^  "netconfRevision": / { field("netconfRevision", ENVIRON["rev"]); next }
        { print }
    '
}

# One peer of `-j peers`: $1 address, $2 role, $3 latency, $4 link.
peer_json() {
    now=$(date +%s)000
    printf ' {\n  "address": "%s",\n  "isBonded": false,\n  "latency": %s,\n' "$1" "$3"
    if [ "$4" = direct ]; then
        printf '  "paths": [\n   {\n    "active": true,\n    "address": "192.0.2.%s/9993",\n' "$(printf '%d' "0x$(printf %s "$1" | cut -c 9-10)")"
        printf '    "expired": false,\n    "lastReceive": %s,\n    "lastSend": %s,\n' "$now" "$now"
        printf '    "localPort": 9993,\n    "localSocket": 94558826494400,\n    "preferred": true,\n    "trustedPathId": 0\n   }\n  ],\n'
    else
        printf '  "paths": [],\n'
    fi
    version=1.14.1
    [ "$2" = LEAF ] || version=-1.-1.-1
    printf '  "role": "%s",\n  "tunneled": %s,\n  "version": "%s",\n' "$2" "$([ "$4" = tunneled ] && echo true || echo false)" "$version"
    printf '  "versionMajor": %s,\n  "versionMinor": %s,\n  "versionRev": %s\n }' \
        "${version%%.*}" "$(echo "$version" | cut -d. -f2)" "${version##*.}"
}

networks() {
    for conf in "$HOME_DIR"/networks.d/*.conf; do
        [ -f "$conf" ] || continue
        basename "$conf" .conf
    done
}

case ${1:-} in
    info)
        if [ $json = 1 ]; then
            online=false
            [ "$ONLINE" = OFFLINE ] || online=true
            address=$address online=$online version=$VERSION clock="$(date +%s)000" awk '
                /^ "address": / { print " \"address\": \"" ENVIRON["address"] "\","; next }
                /^ "clock": / { print " \"clock\": " ENVIRON["clock"] ","; next }
                /^ "online": / { print " \"online\": " ENVIRON["online"] ","; next }
                /^ "publicIdentity": / { sub(/"[0-9a-f]+:/, "\"" ENVIRON["address"] ":") }
                /^ "version": / { print " \"version\": \"" ENVIRON["version"] "\","; next }
                { print }
            ' "$SAMPLES/info-offline.json"
        else
            echo "200 info $address $VERSION $ONLINE"
        fi
        ;;
    join)
        valid_nwid "${2:-}"
        mkdir -p "$HOME_DIR/networks.d"
        if [ ! -f "$HOME_DIR/networks.d/$2.conf" ]; then
            dev=$(sed -n "s/^$2=//p" "$HOME_DIR/devicemap" 2>/dev/null | head -n 1)
            [ -n "$dev" ] || dev=$(zt_ifname "$2")
            printf 'joined=%s\ndev=%s\n' "$(date +%s)" "$dev" >"$HOME_DIR/networks.d/$2.conf"
        fi
        if [ $json = 1 ]; then network_json "$2" | tr -d '\n '; else echo "200 join OK"; fi
        ;;
    leave)
        valid_nwid "${2:-}"
        rm -f "$HOME_DIR/networks.d/$2.conf" "$HOME_DIR/networks.d/$2.local.conf"
        if [ $json = 1 ]; then printf '{}'; else echo "200 leave OK"; fi
        ;;
    listnetworks)
        if [ $json = 1 ]; then
            list=$(networks)
            if [ -z "$list" ]; then
                echo "[]"
            else
                echo "["
                first=1
                for nwid in $list; do
                    [ $first = 1 ] || printf ',\n'
                    first=0
                    network_json "$nwid"
                done
                printf '\n]\n'
            fi
        else
            echo "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>"
            for nwid in $(networks); do
                network_state "$nwid"
                shown=$(printf '%s' "$addrs" | tr ' ' ',')
                mac=$(template "$st" | sed -n 's/^  "mac": "\(.*\)",$/\1/p')
                echo "200 listnetworks $nwid $name $mac $st PRIVATE $dev ${shown:--}"
            done
        fi
        ;;
    peers)
        if [ $json = 1 ]; then
            echo "["
            first=1
            for entry in $PEERS; do
                [ $first = 1 ] || printf ',\n'
                first=0
                # shellcheck disable=SC2046  # ADDRESS/ROLE/LATENCY/LINK: four words
                peer_json $(printf '%s' "$entry" | tr / ' ')
            done
            printf '\n]\n'
        else
            echo "zerotier-cli (test stand-in): only -j peers is scripted" >&2
            exit 1
        fi
        ;;
    *)
        echo "zerotier-cli (test stand-in): unsupported command: $*" >&2
        exit 1
        ;;
esac
