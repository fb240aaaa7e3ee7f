#!/bin/sh
# controller: the network and its members on the head's own ZeroTier controller
# (zerotier-cluster:controller head). Runs on the head; ZTC_STEP says what for:
#
#   network  ZTC_NETWORK_ID (this head's address + 6 digits), ZTC_NETWORK_SETTINGS
#            (the JSON the controller API takes). create/update sets the network
#            (prints its ID); delete removes it.
#   member   ZTC_NETWORK_ID, ZTC_MEMBER (10 hex digits), ZTC_MEMBER_SETTINGS (JSON:
#            authorized, ipAssignments, tags, ...). create/update sets the member
#            (prints "<member> authorized|deauthorized <ip>"); delete deauthorizes
#            and removes it.
#
# The controller's API listens on 127.0.0.1 (port from zerotier-one.port) and
# takes the header X-ZT1-Auth with authtoken.secret. The token is read here, as
# root, into a private temporary file that curl reads the header from: it is
# never on a command line, never printed, and never leaves this host.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZT_HOME=/var/lib/zerotier-one

ctl_check_params() {
    ztc_check "ZTC_NETWORK_ID (16 hex digits)" "$ZTC_NETWORK_ID" '[0-9a-f]{16}'
    case $ZTC_STEP in
        network) ztc_check "ZTC_NETWORK_SETTINGS (a JSON object)" "$ZTC_NETWORK_SETTINGS" '\{.*\}' ;;
        member)
            ztc_check "ZTC_MEMBER (10 hex digits)" "$ZTC_MEMBER" '[0-9a-f]{10}'
            ztc_check "ZTC_MEMBER_SETTINGS (a JSON object)" "$ZTC_MEMBER_SETTINGS" '\{.*\}'
            ;;
        *) ztc_die "ZTC_STEP must be network or member, not '$ZTC_STEP'" ;;
    esac
}

# This head's ZeroTier address: the first field of its public identity.
ctl_address() {
    ztc_root cat "$ZT_HOME/identity.public" 2>/dev/null | cut -d: -f1
}

# Succeeds when zerotier-one is installed here (its home and identity exist).
ctl_installed() {
    ztc_root test -f "$ZT_HOME/identity.public"
}

# Writes the auth header into $ZTC_TMP/auth (mode 600) and sets CTL_URL.
ctl_prepare() {
    ztc_tmpdir
    _port=$(ztc_root cat "$ZT_HOME/zerotier-one.port" 2>/dev/null || :)
    printf '%s\n' "$_port" | grep -Eqx '[0-9]{1,5}' || _port=9993
    CTL_URL="http://127.0.0.1:$_port"
    (
        umask 077
        _token=$(ztc_root cat "$ZT_HOME/authtoken.secret" 2>/dev/null) ||
            ztc_die "cannot read $ZT_HOME/authtoken.secret on $(uname -n): is zerotier-one installed and started? (the install step does both)"
        [ -n "$_token" ] || ztc_die "$ZT_HOME/authtoken.secret on $(uname -n) is empty: restart zerotier-one to recreate it"
        printf 'X-ZT1-Auth: %s\n' "$_token" >"$ZTC_TMP/auth"
    ) || exit 1
    command -v curl >/dev/null 2>&1 ||
        ztc_die "curl is not installed on $(uname -n), and the controller's local API needs it: install curl on the head"
}

# ctl_api METHOD PATH [BODY]: one request; sets CTL_CODE (000 when nothing answered),
# the answer in $ZTC_TMP/answer.
ctl_api() {
    _args=
    if [ -n "${3:-}" ]; then
        printf '%s' "$3" >"$ZTC_TMP/body"
        _args=body
    fi
    CTL_CODE=$(curl -sS -m 30 -o "$ZTC_TMP/answer" -w '%{http_code}' -X "$1" -H "@$ZTC_TMP/auth" \
        ${_args:+-H 'Content-Type: application/json' --data-binary "@$ZTC_TMP/body"} \
        "$CTL_URL$2" 2>"$ZTC_TMP/curl.err") || CTL_CODE=000
}

# Fails with what the controller said, unless CTL_CODE is 200.
ctl_expect_ok() {
    case $CTL_CODE in
        200) return 0 ;;
        000) ztc_die "$1: the controller API on $CTL_URL of $(uname -n) does not answer ($(cat "$ZTC_TMP/curl.err")). Start zerotier-one there ('systemctl start zerotier-one') and run pulumi up again" ;;
        401 | 403) ztc_die "$1: the controller refused the token in $ZT_HOME/authtoken.secret (HTTP $CTL_CODE): restart zerotier-one on $(uname -n) so that it reads the file again" ;;
        *) ztc_die "$1: the controller answered HTTP $CTL_CODE: $(head -c 400 "$ZTC_TMP/answer")" ;;
    esac
}

# The network must belong to this head: ZeroTier accepts any ID on a POST, but
# nodes only reach a network whose ID starts with its controller's address.
ctl_require_own_network() {
    _address=$(ctl_address)
    [ -n "$_address" ] || ztc_die "no ZeroTier identity in $ZT_HOME on $(uname -n): the install step must succeed first"
    [ "${ZTC_NETWORK_ID%??????}" = "$_address" ] ||
        ztc_die "network $ZTC_NETWORK_ID does not start with this head's ZeroTier address $_address, so no node could reach it. The head's identity changed since pulumi learned it (reimaged, or identity.secret replaced): restore the old identity.secret (README 'Backup and restore') or raise the head's generation and run pulumi up"
}

# A JSON answer's string or boolean field $1 (top level, as the controller writes it).
ctl_field() {
    tr -d '\n' <"$ZTC_TMP/answer" | sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p"
}

network_set() {
    ctl_require_own_network
    ctl_api POST "/controller/network/$ZTC_NETWORK_ID" "$ZTC_NETWORK_SETTINGS"
    ctl_expect_ok "setting network $ZTC_NETWORK_ID"
    [ "$(ctl_field nwid)" = "$ZTC_NETWORK_ID" ] ||
        ztc_die "the controller answered for another network: $(head -c 400 "$ZTC_TMP/answer")"
    ztc_log "network $ZTC_NETWORK_ID ($(ctl_field name)) is set on this head's controller"
    echo "$ZTC_NETWORK_ID"
}

network_delete() {
    ctl_api DELETE "/controller/network/$ZTC_NETWORK_ID"
    if [ "$CTL_CODE" = 404 ]; then
        ztc_log "network $ZTC_NETWORK_ID is not on this controller; nothing to delete"
        echo "network: $ZTC_NETWORK_ID already gone"
        return 0
    fi
    ctl_expect_ok "deleting network $ZTC_NETWORK_ID"
    ztc_log "deleted network $ZTC_NETWORK_ID from this head's controller"
    echo "network: deleted $ZTC_NETWORK_ID"
}

member_set() {
    _path="/controller/network/$ZTC_NETWORK_ID/member/$ZTC_MEMBER"
    ctl_api GET "/controller/network/$ZTC_NETWORK_ID"
    [ "$CTL_CODE" != 404 ] ||
        ztc_die "network $ZTC_NETWORK_ID is not on this head's controller: its network step must run first (pulumi up creates it)"
    ctl_expect_ok "reading network $ZTC_NETWORK_ID"
    ctl_api POST "$_path" "$ZTC_MEMBER_SETTINGS"
    ctl_expect_ok "setting member $ZTC_MEMBER of network $ZTC_NETWORK_ID"
    _auth=$(ctl_field authorized)
    case "$(ctl_field address) $ZTC_MEMBER_SETTINGS" in
        "$ZTC_MEMBER "*"\"authorized\":$_auth"*) ;;
        *) ztc_die "the controller did not take member $ZTC_MEMBER as asked: $(head -c 400 "$ZTC_TMP/answer")" ;;
    esac
    _ip=$(printf '%s' "$ZTC_MEMBER_SETTINGS" | sed -n 's/.*"ipAssignments":\["\([^"]*\)".*/\1/p')
    if [ "$_auth" = true ]; then
        ztc_log "member $ZTC_MEMBER authorized on network $ZTC_NETWORK_ID with $_ip"
        echo "$ZTC_MEMBER authorized $_ip"
    else
        ztc_log "member $ZTC_MEMBER deauthorized on network $ZTC_NETWORK_ID (keeps $_ip, so nobody else takes it)"
        echo "$ZTC_MEMBER deauthorized $_ip"
    fi
}

member_delete() {
    _path="/controller/network/$ZTC_NETWORK_ID/member/$ZTC_MEMBER"
    ctl_api GET "$_path"
    if [ "$CTL_CODE" = 404 ]; then
        ztc_log "member $ZTC_MEMBER is not on network $ZTC_NETWORK_ID; nothing to delete"
        echo "member: $ZTC_MEMBER already gone"
        return 0
    fi
    ctl_expect_ok "reading member $ZTC_MEMBER"
    # Shut it out first: should the delete fail, the member at least has no access.
    ctl_api POST "$_path" '{"authorized":false}'
    ctl_expect_ok "deauthorizing member $ZTC_MEMBER"
    ctl_api DELETE "$_path"
    ctl_expect_ok "deleting member $ZTC_MEMBER"
    ztc_log "deauthorized and deleted member $ZTC_MEMBER of network $ZTC_NETWORK_ID"
    echo "member: deleted $ZTC_MEMBER"
}

step_create() {
    ctl_check_params
    ztc_require_root
    ctl_prepare
    case $ZTC_STEP in
        network) network_set ;;
        member) member_set ;;
    esac
}

step_update() {
    step_create
}

step_delete() {
    ctl_check_params
    ztc_require_root
    if ! ctl_installed; then
        ztc_log "ZeroTier is not installed on $(uname -n) any more, and its controller with it; nothing to delete"
        echo "$ZTC_STEP: controller gone"
        return 0
    fi
    ctl_prepare
    case $ZTC_STEP in
        network) network_delete ;;
        member) member_delete ;;
    esac
}

ztc_run "$@"; exit $?
