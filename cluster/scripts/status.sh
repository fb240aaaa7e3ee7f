#!/bin/sh
# status: a read-only look at one node, for `python -m cluster status`.
#
# Parameters: ZTC_FW_MODE (enforce | integrate | off), ZTC_FW_FAMILY,
# ZTC_FW_TABLE, ZTC_FW_CHAIN (where the program's firewall lives), ZTC_HOSTS_TAG
# (the network name in the /etc/hosts markers), ZTC_PROBE (overlay addresses
# to ping once first, so that ZeroTier has a current path to report).
# Prints facts, never judgements: the Python side compares them with the plan,
# so this script stays small and every verdict is tested in one place. Output:
# "key value" lines, and raw zerotier-cli JSON between "@<name> <exit code>"
# and "@end" lines. Writes nothing anywhere (no state, no program store: it
# never calls ztc_run); root only through `sudo -n`, only for zerotier-cli
# (it needs authtoken.secret), nft and reading the firewall file.
# Composed after the parameters and lib.sh (see cluster/status.py); read alone,
# the linter cannot see them:
# shellcheck disable=SC2034,SC2153,SC2154

ZTC_STEP=status
set +e

st_check_params() {
    ztc_check ZTC_FW_MODE "$ZTC_FW_MODE" 'enforce|integrate|off'
    ztc_check ZTC_FW_FAMILY "$ZTC_FW_FAMILY" 'inet|ip|ip6'
    ztc_check "ZTC_FW_TABLE" "$ZTC_FW_TABLE" '[A-Za-z][A-Za-z0-9_]{0,30}'
    ztc_check "ZTC_FW_CHAIN" "$ZTC_FW_CHAIN" '[A-Za-z][A-Za-z0-9_]{0,30}'
    ztc_check "ZTC_HOSTS_TAG (network name)" "$ZTC_HOSTS_TAG" '[A-Za-z0-9][A-Za-z0-9_.-]*'
    ztc_check "ZTC_PROBE" "$ZTC_PROBE" "($ZTC_IPV4_RE( $ZTC_IPV4_RE)*)?"
}

# Root without a password, or nothing: status never prompts.
st_root() {
    if [ "$ZTC_UID" -eq 0 ]; then
        "$@"
    elif [ "$ST_ROOT" = yes ]; then
        sudo -n -- "$@"
    else
        return 126
    fi
}

# Raw output of `zerotier-cli -j $1` between markers, with its exit code.
st_cli() {
    _out=$(st_root zerotier-cli -j "$1" 2>&1)
    _rc=$?
    printf '@%s %s\n%s\n@end\n' "$1" "$_rc" "$_out"
}

st_sha() {
    st_root sha256sum "$1" 2>/dev/null | awk '{ print $1 }'
}

st_check_params
ST_ROOT=no
if [ "$ZTC_UID" -eq 0 ] || sudo -n true 2>/dev/null; then
    ST_ROOT=yes
fi
echo "ztc-status 1"
echo "user $(id -un)"
echo "root $ST_ROOT"

if command -v systemctl >/dev/null 2>&1; then
    echo "service $(systemctl is-active zerotier-one 2>/dev/null | head -n 1)"
else
    echo "service unknown"
fi
if [ -n "$ZTC_PROBE" ] && command -v ping >/dev/null 2>&1; then
    _jobs=
    for _ip in $ZTC_PROBE; do
        ping -n -c 1 -W 2 "$_ip" >/dev/null 2>&1 &
        _jobs="$_jobs $!=$_ip"
    done
    for _job in $_jobs; do
        wait "${_job%%=*}" && echo "ping.${_job#*=} yes" || echo "ping.${_job#*=} no"
    done
fi
if command -v zerotier-cli >/dev/null 2>&1; then
    echo "cli yes"
    echo "clock $(date +%s)"
    st_cli info
    st_cli listnetworks
    st_cli peers
else
    echo "cli no"
fi

# The firewall: the file the step wrote, the table (or chain) in the kernel, the include at boot.
if [ "$ZTC_FW_MODE" != off ]; then
    if ! st_root test -e /etc/zerotier-cluster/firewall.nft 2>/dev/null; then
        _sha=$([ "$ST_ROOT" = yes ] && echo missing || echo unknown)
    else
        _sha=$(st_sha /etc/zerotier-cluster/firewall.nft)
    fi
    echo "firewall.file ${_sha:-unknown}"
    if [ "$ST_ROOT" != yes ] || ! command -v nft >/dev/null 2>&1; then
        echo "firewall.loaded unknown"
    elif [ "$ZTC_FW_MODE" = enforce ]; then
        st_root nft list table "$ZTC_FW_FAMILY" "$ZTC_FW_TABLE" >/dev/null 2>&1 && echo "firewall.loaded yes" || echo "firewall.loaded no"
    else
        st_root nft list chain "$ZTC_FW_FAMILY" "$ZTC_FW_TABLE" "$ZTC_FW_CHAIN" >/dev/null 2>&1 && echo "firewall.loaded yes" || echo "firewall.loaded no"
    fi
    _conf=/etc/nftables.conf
    [ -f /etc/sysconfig/nftables.conf ] && _conf=/etc/sysconfig/nftables.conf
    if st_root grep -q '^# BEGIN zerotier-cluster firewall' "$_conf" 2>/dev/null &&
        st_root grep -qxF 'include "/etc/zerotier-cluster/firewall.nft"' "$_conf" 2>/dev/null; then
        echo "firewall.persisted yes"
    else
        echo "firewall.persisted no $_conf"
    fi
    if command -v systemctl >/dev/null 2>&1; then
        echo "firewall.service $(systemctl is-enabled nftables.service 2>/dev/null | head -n 1)"
    fi
fi

# The hosts block: its hash, and how many blocks carry the network's markers.
_begin="# BEGIN zerotier-cluster $ZTC_HOSTS_TAG"
_end="# END zerotier-cluster $ZTC_HOSTS_TAG"
_block=$(HB="$_begin" HE="$_end" awk '
    BEGIN { b = ENVIRON["HB"]; e = ENVIRON["HE"] }
    $0 == b || index($0, b " ") == 1 { inside = 1; n++ }
    inside && n == 1 { print }
    inside && $0 == e { inside = 0 }
    END { if (inside) print "@unterminated" }
' /etc/hosts 2>/dev/null; echo .)
_block=${_block%.}
_count=$(HB="$_begin" awk 'BEGIN { b = ENVIRON["HB"] } $0 == b || index($0, b " ") == 1 { n++ } END { print n + 0 }' /etc/hosts 2>/dev/null)
echo "hosts.blocks ${_count:-0}"
if [ "${_count:-0}" -gt 0 ]; then
    echo "hosts.block $(printf '%s' "$_block" | sha256sum | awk '{ print $1 }')"
fi
exit 0
