#!/bin/sh
# probe: sends reachability probes over the overlay, for `python -m cluster status --probe`.
#
# Parameters: ZTC_PROBE_MODE (send | listen | collect), ZTC_PROBES (send: one
# "<id> <tcp|udp|icmp> <overlay IPv4> <port>" per line; listen: one UDP port
# per line), ZTC_PROBE_TIMEOUT (seconds each probe may take), ZTC_PROBE_TAG
# (names the listeners' scratch directory, so collect finds what listen started).
#
# send: every probe at once, in the background, each bounded by the timeout;
# prints "<id> <result>" per probe: open (TCP connected, ICMP answered, UDP
# sent), closed (TCP refused: the packet got through, nothing listens),
# blocked (no answer within the timeout), error <why>. TCP needs curl, ICMP
# ping; UDP a datagram through nc or python3 (without either: error).
# listen: starts one UDP listener per port (nc or python3), each ending by
# itself after 4 x the timeout, and prints "listening <port>" or "error <port> <why>".
# collect: prints "received <port> <yes|no>" per listener and stops them.
# Read-only: nothing is written outside a scratch directory under $TMPDIR
# (or /tmp), removed by collect; no root, no firewall change.
# Composed after the parameters and lib.sh (see cluster/operate/probe.py):
# shellcheck disable=SC2034,SC2153,SC2154

ZTC_STEP=probe
set +e

ztc_check ZTC_PROBE_MODE "$ZTC_PROBE_MODE" 'send|listen|collect'
ztc_check ZTC_PROBE_TIMEOUT "$ZTC_PROBE_TIMEOUT" '[1-9][0-9]?'
ztc_check ZTC_PROBE_TAG "$ZTC_PROBE_TAG" '[a-z0-9]{1,32}'
case $ZTC_PROBES in
*[!0-9a-z.\ '
']*) ztc_die "ZTC_PROBES may hold only probe lines (<id> <protocol> <IPv4> <port>) or ports, got: $ZTC_PROBES" ;;
esac
_pr_dir=${TMPDIR:-/tmp}/ztc-probe-$ZTC_PROBE_TAG

pr_udp_tool() {
    if command -v python3 >/dev/null 2>&1; then
        echo python3
    elif command -v nc >/dev/null 2>&1; then
        echo nc
    fi
}

# One probe; prints its result line.
pr_one() {
    case $2 in
    tcp)
        _po_err=$(curl -sv --connect-timeout "$ZTC_PROBE_TIMEOUT" -m "$ZTC_PROBE_TIMEOUT" \
            -w 'connected=%{time_connect}\n' "telnet://$3:$4" </dev/null 2>&1)
        case $_po_err in
        *'connected=0.000000'*)
            case $_po_err in
            *'Connection refused'*) echo "$1 closed" ;;
            *) echo "$1 blocked" ;;
            esac ;;
        *connected=*) echo "$1 open" ;;
        *) echo "$1 error curl failed" ;;
        esac ;;
    icmp)
        if ping -n -c 1 -W "$ZTC_PROBE_TIMEOUT" "$3" >/dev/null 2>&1; then
            echo "$1 open"
        else
            echo "$1 blocked"
        fi ;;
    udp)
        case $(pr_udp_tool) in
        python3)
            python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"ztc-probe", (sys.argv[1], int(sys.argv[2])))' "$3" "$4" &&
                echo "$1 open" || echo "$1 error send failed" ;;
        nc) printf 'ztc-probe' | nc -u -w 1 "$3" "$4" && echo "$1 open" || echo "$1 error send failed" ;;
        *) echo "$1 error no nc or python3 to send UDP" ;;
        esac ;;
    *) echo "$1 error unknown protocol $2" ;;
    esac
}

case $ZTC_PROBE_MODE in
send)
    _pr_out=$(mktemp -d "${TMPDIR:-/tmp}/ztc-send.XXXXXX") || ztc_die "no scratch directory in ${TMPDIR:-/tmp}"
    _pr_n=0
    while read -r _id _proto _ip _port; do
        [ -n "$_id" ] || continue
        ztc_check "probe id" "$_id" '[0-9]{1,6}'
        ztc_check "probe protocol" "$_proto" 'tcp|udp|icmp'
        ztc_check "probe address" "$_ip" "$ZTC_IPV4_RE"
        ztc_check "probe port" "$_port" '[0-9]{1,5}'
        _pr_n=$((_pr_n + 1))
        pr_one "$_id" "$_proto" "$_ip" "$_port" </dev/null >"$_pr_out/$_pr_n" &
    done <<EOF
$ZTC_PROBES
EOF
    wait
    cat "$_pr_out"/* 2>/dev/null
    rm -rf "$_pr_out"
    ;;
listen)
    mkdir -p "$_pr_dir" || ztc_die "cannot create $_pr_dir"
    _pr_tool=$(pr_udp_tool)
    _pr_life=$((ZTC_PROBE_TIMEOUT * 4))
    for _port in $ZTC_PROBES; do
        ztc_check "listener port" "$_port" '[0-9]{1,5}'
        case $_pr_tool in
        python3)
            python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(float(sys.argv[2]))
print("bound", flush=True)
try:
    s.recvfrom(100)
    print("yes", flush=True)
except OSError:
    pass' "$_port" "$_pr_life" </dev/null >"$_pr_dir/$_port" 2>&1 &
            echo $! >"$_pr_dir/$_port.pid" ;;
        nc)
            timeout "$_pr_life" nc -u -l -W 1 "$_port" </dev/null >"$_pr_dir/$_port.data" 2>/dev/null &
            echo $! >"$_pr_dir/$_port.pid"
            echo bound >"$_pr_dir/$_port" ;;
        *) echo "error $_port no nc or python3 to listen for UDP"; continue ;;
        esac
        sleep 1
        if grep -qx bound "$_pr_dir/$_port" 2>/dev/null; then
            echo "listening $_port"
        else
            echo "error $_port $(head -n 1 "$_pr_dir/$_port" 2>/dev/null)"
        fi
    done
    ;;
collect)
    for _port in $ZTC_PROBES; do
        ztc_check "port to collect" "$_port" '[0-9]{1,5}'
        if grep -qx yes "$_pr_dir/$_port" 2>/dev/null || [ -s "$_pr_dir/$_port.data" ]; then
            echo "received $_port yes"
        else
            echo "received $_port no"
        fi
        [ -f "$_pr_dir/$_port.pid" ] && kill "$(cat "$_pr_dir/$_port.pid")" 2>/dev/null
    done
    rm -rf "$_pr_dir"
    ;;
esac
exit 0
