#!/bin/sh
# verify: the overlay works from this node: every target answers ping.
#
# Parameters: ZTC_ROLE (this node's role), ZTC_TARGETS ("name ip" lines: the
# head for a compute node, every other node for the head), ZTC_VERIFY_TIMEOUT
# (seconds). Pings all targets at once, round after round, until each has
# answered or the time is up (a new ZeroTier path takes a few seconds).
# Failure names every target that never answered. Changes nothing on the node,
# so it needs no root. delete: nothing to do.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=verify

verify_check_params() {
    ztc_check "ZTC_ROLE" "$ZTC_ROLE" '[a-z][a-z0-9-]*'
    ztc_check "ZTC_VERIFY_TIMEOUT (seconds)" "$ZTC_VERIFY_TIMEOUT" '[1-9][0-9]{0,4}'
    printf '%s\n' "$ZTC_TARGETS" | while read -r _name _ip _rest; do
        [ -z "$_name" ] && continue
        [ -z "$_rest" ] || ztc_die "ZTC_TARGETS line '$_name $_ip $_rest' has more than a name and an address"
        ztc_check "ZTC_TARGETS name" "$_name" '[A-Za-z0-9][A-Za-z0-9.-]*'
        ztc_check "ZTC_TARGETS address of $_name" "$_ip" "$ZTC_IPV4_RE"
    done || exit 1
}

step_create() {
    verify_check_params
    command -v ping >/dev/null 2>&1 || ztc_die "ping is not installed on $(uname -n); install it (iputils-ping / iputils) to verify the overlay"
    ztc_tmpdir
    printf '%s\n' "$ZTC_TARGETS" | awk 'NF == 2' >"$ZTC_TMP/pending"
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
}

step_update() {
    step_create
}

step_delete() {
    ztc_log "nothing to undo for verify"
}

ztc_run "$@"; exit $?
