#!/bin/sh
# The firewall step: loads the node's nftables ruleset as one checked
# transaction, refuses anything that would cut off this SSH session, and makes
# the ruleset survive reboots through the distribution's nftables service.
#
# Parameters (cluster/firewall.py sets them):
#   ZTC_FW_MODE          enforce (our own table) | integrate (our chain in the operator's table)
#   ZTC_FW_FAMILY        the table's family: inet, or firewall.integrate.family
#   ZTC_FW_TABLE         the table holding our chain and sets
#   ZTC_FW_CHAIN         our chain: input in our own table, firewall.table when integrated
#   ZTC_FW_HOOK_CHAIN    integrate: the operator's chain that jumps to ours (else empty)
#   ZTC_FW_SET_PREFIX    prefix of our set names (empty in our own table)
#   ZTC_FW_INTERFACE     the overlay interface's exact name (pinned by join; never a zt* pattern)
#   ZTC_SSH_PORT         the port sshd listens on, as this node sees it
#   ZTC_SSH_PORT_KEY     the config key to fix when that port is wrong
#   ZTC_SSH_SOURCES_KEY  the config key to fix when this session's address is not admitted
#   ZTC_RULESET          exactly what `nft -f` loads
#
# What it owns on the node, and what delete removes again: our table (or our
# chain, sets and one jump rule), /etc/zerotier-cluster/firewall.nft, one
# marked include block in the distribution's nftables config, the enablement
# of nftables.service if this step enabled it, and its state file.
# shellcheck disable=SC2034,SC2317  # lib.sh (sent before this file) reads ZTC_STEP and its ztc_run calls step_*
ZTC_STEP=firewall
FW_FILE=/etc/zerotier-cluster/firewall.nft
FW_STATE=$ZTC_STATE_DIR/firewall.state
FW_MARK=zerotier-cluster
FW_BEGIN='# BEGIN zerotier-cluster firewall (managed by Pulumi; pulumi destroy removes this block)'
FW_END='# END zerotier-cluster firewall'
FW_SETS='ssh_v4 ssh_v6 members ssh_devices'

# --- helpers ----------------------------------------------------------------

# Checks the parameters that end up inside nft commands, then reads the state.
fw_init() {
    ztc_check ZTC_FW_MODE "$ZTC_FW_MODE" 'enforce|integrate'
    ztc_check ZTC_FW_FAMILY "$ZTC_FW_FAMILY" 'inet|ip|ip6'
    ztc_check ZTC_FW_TABLE "$ZTC_FW_TABLE" '[A-Za-z][A-Za-z0-9_]{0,30}'
    ztc_check ZTC_FW_CHAIN "$ZTC_FW_CHAIN" '[A-Za-z][A-Za-z0-9_]{0,30}'
    ztc_check ZTC_FW_HOOK_CHAIN "$ZTC_FW_HOOK_CHAIN" '([A-Za-z][A-Za-z0-9_]{0,30})?'
    ztc_check ZTC_FW_SET_PREFIX "$ZTC_FW_SET_PREFIX" '([A-Za-z][A-Za-z0-9_]{0,31})?'
    ztc_check ZTC_FW_INTERFACE "$ZTC_FW_INTERFACE" 'zt[a-z0-9_-]{1,13}'
    ztc_check ZTC_SSH_PORT "$ZTC_SSH_PORT" '[0-9]{1,5}'
    # The config keys a refusal names: one line each.
    ztc_check ZTC_SSH_PORT_KEY "$ZTC_SSH_PORT_KEY" '.+'
    ztc_check ZTC_SSH_SOURCES_KEY "$ZTC_SSH_SOURCES_KEY" '.+'
    [ -n "$ZTC_RULESET" ] || ztc_die "ZTC_RULESET is empty: the program sends the node's whole ruleset; run pulumi up again"
    ztc_tmpdir
    # shellcheck disable=SC2153  # ztc_tmpdir (lib.sh) sets it
    _fw_tmp=$ZTC_TMP
    fw_state_load
}

# The state file of the last successful apply (read once), and one value from it.
fw_state_load() {
    _fw_state_text=$(ztc_root cat "$FW_STATE" 2>/dev/null || true)
}

fw_state() {
    printf '%s\n' "$_fw_state_text" | sed -n "s/^$1=//p"
}

fw_exists() {
    ztc_root nft list "$@" >/dev/null 2>&1
}

# Prints the nft commands that remove one placement of our objects, for those
# that exist: mode family table chain hook_chain set_prefix.
fw_removal() {
    if [ "$1" = enforce ]; then
        if fw_exists table "$2" "$3"; then
            printf 'delete table %s %s\n' "$2" "$3"
        fi
        return 0
    fi
    if [ -n "$5" ] && fw_exists chain "$2" "$3" "$5"; then
        ztc_root nft -a list chain "$2" "$3" "$5" |
            sed -n "s/^[[:space:]]*jump $4 comment \"$FW_MARK\" # handle \\([0-9][0-9]*\\)\$/\\1/p" |
            while read -r _handle; do
                printf 'delete rule %s %s %s handle %s\n' "$2" "$3" "$5" "$_handle"
            done
    fi
    if fw_exists chain "$2" "$3" "$4"; then
        printf 'delete chain %s %s %s\n' "$2" "$3" "$4"
    fi
    for _set in $FW_SETS; do
        if fw_exists set "$2" "$3" "$6$_set"; then
            printf 'delete set %s %s %s\n' "$2" "$3" "$6$_set"
        fi
    done
}

fw_removal_current() {
    fw_removal "$ZTC_FW_MODE" "$ZTC_FW_FAMILY" "$ZTC_FW_TABLE" "$ZTC_FW_CHAIN" "$ZTC_FW_HOOK_CHAIN" "$ZTC_FW_SET_PREFIX"
}

fw_removal_previous() {
    [ -n "$(fw_state mode)" ] || return 0
    fw_removal "$(fw_state mode)" "$(fw_state family)" "$(fw_state table)" "$(fw_state chain)" \
        "$(fw_state hook_chain)" "$(fw_state set_prefix)"
}

# Checks a transaction file with nft (against the live ruleset, changing nothing).
fw_check() {
    if ! _out=$(ztc_root nft -c -f "$1" 2>&1); then
        ztc_die "nft rejected the new ruleset, so nothing was applied and the firewall stays as it was:
$_out"
    fi
}

fw_load() {
    _out=$(ztc_root nft -f "$1" 2>&1) || ztc_die "nft could not load the checked ruleset (nothing was applied):
$_out"
}

# Writes the transaction that replaces whatever we own (previous and current
# placement) with the given ruleset, into $_fw_tmp/apply.nft.
fw_transaction() {
    { fw_removal_previous; fw_removal_current; } | awk '!seen[$0]++' >"$_fw_tmp/apply.nft" ||
        ztc_scratch_failed "$_fw_tmp/apply.nft"
    cat "$1" >>"$_fw_tmp/apply.nft" || ztc_scratch_failed "$_fw_tmp/apply.nft"
}

# --- refusing what cannot work -------------------------------------------------

fw_refuse_other_managers() {
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet firewalld.service 2>/dev/null; then
        ztc_die "firewalld is active on $(uname -n). It owns the nftables ruleset and rewrites it on reload, so this program will not add its own. Either stop it (systemctl disable --now firewalld) and run pulumi up again, or keep it, set zerotier-cluster:firewall.mode to off, and open ZeroTier there (firewall-cmd --permanent --add-port=9993/udp; firewall-cmd --reload)"
    fi
    if command -v ufw >/dev/null 2>&1 && ztc_root ufw status 2>/dev/null | grep -q '^Status: active'; then
        ztc_die "ufw is active on $(uname -n). It owns the host firewall, so this program will not add its own. Either disable it (ufw disable) and run pulumi up again, or keep it, set zerotier-cluster:firewall.mode to off, and open ZeroTier there (ufw allow 9993/udp)"
    fi
}

# --- never locking out the SSH session the program uses -------------------------

# Splits $SSH_CONNECTION (read as the login user, before any sudo).
fw_session() {
    # shellcheck disable=SC2086  # split on purpose: client cport server sport
    set -- ${SSH_CONNECTION:-}
    [ $# -eq 4 ] || return 1
    _fw_client=${1%%%*}
    _fw_server=${3%%%*}
    _fw_sport=$4
}

# Whether the session reached this node over the overlay interface.
fw_on_overlay() {
    _ifname=$(ip -o addr show 2>/dev/null | awk -v a="$_fw_server" '{ split($4, p, "/") } p[1] == a { print $2; exit }')
    [ -n "$_ifname" ] && [ "$_ifname" = "$ZTC_FW_INTERFACE" ]
}

# Writes the nft queries that succeed when the new SSH rules admit this session.
fw_queries() {
    _where="$ZTC_FW_FAMILY $ZTC_FW_TABLE"
    case $_fw_client in
        *:*) echo "get element $_where ${ZTC_FW_SET_PREFIX}ssh_v6 { $_fw_client }" ;;
        *)
            echo "get element $_where ${ZTC_FW_SET_PREFIX}ssh_v4 { $_fw_client }"
            if fw_on_overlay; then
                echo "get element $_where ${ZTC_FW_SET_PREFIX}members { $_fw_client }"
                echo "get element $_where ${ZTC_FW_SET_PREFIX}ssh_devices { $_fw_client }"
            fi
            ;;
    esac >"$_fw_tmp/queries" || ztc_scratch_failed "$_fw_tmp/queries"
}

# Runs in a throwaway network namespace: loads the stub and the new ruleset
# there, then answers the queries. Exit 0 admitted, 1 not admitted, 2 no load.
# shellcheck disable=SC2016  # expanded by the inner shell
FW_PROBE='nft -f "$1" 2>/dev/null && nft -f "$2" 2>/dev/null || exit 2
while IFS= read -r q; do nft "$q" >/dev/null 2>&1 && exit 0; done <"$3"
exit 1'

fw_refuse_lockout() {
    ztc_die "refusing to apply the firewall on $(uname -n): this SSH session comes from $_fw_client, which the new ruleset would not admit to SSH (tcp/$ZTC_SSH_PORT)$1. Fix: add $_fw_client (or its network) to $ZTC_SSH_SOURCES_KEY, the sources SSH is admitted from"
}

# Before anything changes: the session's port, and its address against the
# new ruleset's sets, loaded into a throwaway network namespace.
fw_precheck() {
    if ! fw_session; then
        ztc_log "no SSH session (SSH_CONNECTION is unset): skipping the lock-out check"
        return 0
    fi
    if [ "$_fw_sport" != "$ZTC_SSH_PORT" ]; then
        ztc_die "refusing to apply the firewall on $(uname -n): this SSH session reached sshd on port $_fw_sport, but the ruleset admits SSH on port $ZTC_SSH_PORT only, so it could lock the program out. Nothing was changed. Fix: set $ZTC_SSH_PORT_KEY to $_fw_sport (the port sshd listens on, as the node sees it)"
    fi
    fw_queries
    if [ "$ZTC_FW_MODE" = integrate ]; then
        printf 'table %s %s { chain %s { } }\n' "$ZTC_FW_FAMILY" "$ZTC_FW_TABLE" "$ZTC_FW_HOOK_CHAIN" >"$_fw_tmp/stub.nft" ||
            ztc_scratch_failed "$_fw_tmp/stub.nft"
    else
        : >"$_fw_tmp/stub.nft" || ztc_scratch_failed "$_fw_tmp/stub.nft"
    fi
    if ! ztc_root unshare --net -- true 2>/dev/null; then
        ztc_log "cannot create a network namespace here; checking this session against the live ruleset after loading it instead"
        return 0
    fi
    _rc=0
    ztc_root unshare --net -- /bin/sh -c "$FW_PROBE" sh "$_fw_tmp/stub.nft" "$_fw_tmp/ruleset.nft" "$_fw_tmp/queries" || _rc=$?
    case $_rc in
        0) _fw_prechecked=yes ;;
        1) fw_refuse_lockout ". Nothing was changed" ;;
        *) ztc_log "could not load the ruleset in a scratch namespace; checking the live ruleset after loading it instead" ;;
    esac
}

# After loading: the same queries against the live sets. On failure (only
# possible when the pre-check could not run) the previous ruleset is restored.
fw_postcheck() {
    [ -f "$_fw_tmp/queries" ] || return 0
    while IFS= read -r _q; do
        ztc_root nft "$_q" >/dev/null 2>&1 && return 0
    done <"$_fw_tmp/queries"
    if [ "$(fw_state mode)" != "" ] && ztc_root test -f "$FW_FILE"; then
        ztc_root cat "$FW_FILE" >"$_fw_tmp/previous.nft" || ztc_scratch_failed "$_fw_tmp/previous.nft"
    else
        : >"$_fw_tmp/previous.nft" || ztc_scratch_failed "$_fw_tmp/previous.nft"
    fi
    { fw_removal_current; cat "$_fw_tmp/previous.nft"; } >"$_fw_tmp/rollback.nft" || ztc_scratch_failed "$_fw_tmp/rollback.nft"
    if ztc_root nft -f "$_fw_tmp/rollback.nft"; then
        fw_refuse_lockout "; the previous firewall was restored"
    fi
    ztc_die "the new ruleset does not admit this SSH session ($_fw_client) and restoring the previous one failed; fix $ZTC_SSH_SOURCES_KEY and run pulumi up again while this session is still open"
}

# --- persistence ------------------------------------------------------------------

# The config file the distribution's nftables.service loads at boot.
fw_conf_path() {
    if [ -f /etc/sysconfig/nftables.conf ]; then
        echo /etc/sysconfig/nftables.conf
    else
        echo /etc/nftables.conf
    fi
}

# Checks, before anything changes, that the boot-time config still loads once
# it includes the new ruleset (in integrate mode the operator's table must be
# defined there, before our include).
fw_boot_check() {
    _conf=$(fw_state conf)
    [ -n "$_conf" ] || _conf=$(fw_conf_path)
    if ztc_root grep -qxF "$FW_BEGIN" "$_conf" 2>/dev/null; then
        # Already included: the config with the new ruleset in our file's place.
        ztc_root sed "s|^include \"$FW_FILE\"\$|include \"$_fw_tmp/ruleset.nft\"|" "$_conf" >"$_fw_tmp/boot.nft" ||
            ztc_scratch_failed "$_fw_tmp/boot.nft"
    else
        {
            if ztc_root test -f "$_conf"; then printf 'include "%s"\n' "$_conf"; fi
            printf 'include "%s"\n' "$_fw_tmp/ruleset.nft"
        } >"$_fw_tmp/boot.nft" || ztc_scratch_failed "$_fw_tmp/boot.nft"
    fi
    if ! _out=$(ztc_root nft -c -f "$_fw_tmp/boot.nft" 2>&1); then
        _hint=""
        if [ "$ZTC_FW_MODE" = integrate ]; then
            _hint=" In integrate mode, $_conf must define table $ZTC_FW_FAMILY $ZTC_FW_TABLE and its chain $ZTC_FW_HOOK_CHAIN before the include this program adds at its end."
        fi
        ztc_die "$_conf (what nftables.service loads at boot) would fail to load with this ruleset included, so nothing was applied.$_hint
$_out"
    fi
}

# Before anything changes: writes the ruleset file and the boot config with
# our include next to where they belong (ztc_stage_file), so a full or
# read-only /etc fails the step while the live firewall is still untouched.
fw_stage() {
    _conf=$(fw_state conf)
    [ -n "$_conf" ] || _conf=$(fw_conf_path)
    _created=$(fw_state created_conf)
    ztc_stage_file "$FW_FILE" 0644 "$_fw_tmp/ruleset.nft" || :
    if ztc_root test -f "$_conf" && ztc_root grep -qxF "$FW_BEGIN" "$_conf"; then
        return 0
    fi
    if ztc_root test -f "$_conf"; then
        _mode=$(ztc_root stat -L -c %a "$_conf") || ztc_die "could not read the mode of $_conf"
        ztc_root awk 1 "$_conf" >"$_fw_tmp/conf" || ztc_scratch_failed "$_fw_tmp/conf"
    else
        _mode=0755
        _created=yes
        printf '#!/usr/sbin/nft -f\n' >"$_fw_tmp/conf" || ztc_scratch_failed "$_fw_tmp/conf"
    fi
    printf '%s\ninclude "%s"\n%s\n' "$FW_BEGIN" "$FW_FILE" "$FW_END" >>"$_fw_tmp/conf" ||
        ztc_scratch_failed "$_fw_tmp/conf"
    ztc_stage_file "$_conf" "$_mode" "$_fw_tmp/conf" || :
}

# After the ruleset is live: puts the staged files in place, enables
# nftables.service, records what this step owns. Each failure is an error:
# a firewall that does not come back after a reboot is not applied.
fw_persist() {
    ztc_commit_files
    _enabled=$(fw_state enabled_service)
    if [ -z "$_enabled" ]; then
        _enabled=no
        if ! command -v systemctl >/dev/null 2>&1; then
            ztc_log "WARNING: no systemctl here: load $_conf at boot yourself to keep the firewall after a reboot"
        elif [ "$(systemctl is-enabled nftables.service 2>/dev/null)" != enabled ]; then
            if ztc_root systemctl enable nftables.service >/dev/null 2>&1; then
                _enabled=yes
            else
                ztc_log "WARNING: could not enable nftables.service: the firewall will not come back after a reboot"
            fi
        fi
    fi
    printf 'mode=%s\nfamily=%s\ntable=%s\nchain=%s\nhook_chain=%s\nset_prefix=%s\nconf=%s\ncreated_conf=%s\nenabled_service=%s\n' \
        "$ZTC_FW_MODE" "$ZTC_FW_FAMILY" "$ZTC_FW_TABLE" "$ZTC_FW_CHAIN" "$ZTC_FW_HOOK_CHAIN" "$ZTC_FW_SET_PREFIX" \
        "$_conf" "${_created:-no}" "$_enabled" >"$_fw_tmp/state" || ztc_scratch_failed "$_fw_tmp/state"
    # Returns 1 only when the state is unchanged; a failure ends the step.
    ztc_sync_file "$FW_STATE" 0644 "$_fw_tmp/state" || :
}

# --- actions ------------------------------------------------------------------------

step_create() {
    ztc_require_root
    command -v nft >/dev/null 2>&1 || ztc_die "nft is not installed on $(uname -n); install the nftables package (apt-get install nftables / dnf install nftables)"
    fw_refuse_other_managers
    fw_init
    printf '%s' "$ZTC_RULESET" >"$_fw_tmp/ruleset.nft" || ztc_scratch_failed "$_fw_tmp/ruleset.nft"
    fw_transaction "$_fw_tmp/ruleset.nft"
    fw_check "$_fw_tmp/apply.nft"
    fw_precheck
    fw_boot_check
    fw_stage
    fw_load "$_fw_tmp/apply.nft"
    fw_postcheck
    fw_persist
    if [ "$ZTC_FW_MODE" = enforce ]; then
        echo "table $ZTC_FW_FAMILY $ZTC_FW_TABLE"
    else
        echo "chain $ZTC_FW_FAMILY $ZTC_FW_TABLE $ZTC_FW_CHAIN"
    fi
}

step_update() { step_create; }

# Whether root can change directory $1 (not on a read-only filesystem); else ends the step.
fw_require_writable() {
    ztc_root test -w "$1" ||
        ztc_die "could not remove the firewall's files: $1 is not writable (read-only?), so nothing was changed; the firewall stays applied and persistent"
}

step_delete() {
    ztc_require_root
    fw_init
    # Before anything changes, the boot config without our block is staged and
    # every file to remove is checked, so a full or read-only /etc fails the
    # step while the firewall is still whole: applied and coming back at boot.
    _conf=$(fw_state conf)
    [ -n "$_conf" ] || _conf=$(fw_conf_path)
    _drop_conf=no
    if ztc_root grep -qxF "$FW_BEGIN" "$_conf" 2>/dev/null; then
        # shellcheck disable=SC2016  # an awk program
        ztc_root awk -v b="$FW_BEGIN" -v e="$FW_END" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' "$_conf" >"$_fw_tmp/conf" ||
            ztc_scratch_failed "$_fw_tmp/conf"
        if [ "$(fw_state created_conf)" = yes ] && [ "$(cat "$_fw_tmp/conf")" = '#!/usr/sbin/nft -f' ]; then
            _drop_conf=yes
            fw_require_writable "$(dirname "$_conf")"
        else
            _mode=$(ztc_root stat -L -c %a "$_conf") || ztc_die "could not read the mode of $_conf"
            # Returns 1 only when unchanged; a failure ends the step.
            ztc_stage_file "$_conf" "$_mode" "$_fw_tmp/conf" || :
        fi
    fi
    for _f in "$FW_FILE" "$FW_STATE"; do
        if ztc_root test -e "$_f"; then fw_require_writable "$(dirname "$_f")"; fi
    done
    if command -v nft >/dev/null 2>&1; then
        { fw_removal_previous; fw_removal_current; } | awk '!seen[$0]++' >"$_fw_tmp/remove.nft" ||
            ztc_scratch_failed "$_fw_tmp/remove.nft"
        if [ -s "$_fw_tmp/remove.nft" ]; then
            _out=$(ztc_root nft -f "$_fw_tmp/remove.nft" 2>&1) || ztc_die "could not remove the firewall: $_out"
        fi
    fi
    if [ "$_drop_conf" = yes ]; then
        ztc_root rm -f "$_conf" || ztc_die "could not remove $_conf, which this program created"
    fi
    ztc_commit_files
    if [ "$(fw_state enabled_service)" = yes ]; then
        ztc_root systemctl disable nftables.service >/dev/null 2>&1 ||
            ztc_log "WARNING: could not disable nftables.service, which this program had enabled"
    fi
    ztc_root rm -f "$FW_FILE" "$FW_STATE" || ztc_die "could not remove $FW_FILE and $FW_STATE"
    ztc_root rmdir "$(dirname "$FW_FILE")" 2>/dev/null || true
}

ztc_run "$@"; exit $?
