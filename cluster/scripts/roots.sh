#!/bin/sh
# roots: the head as the nodes' root, a ZeroTier moon (zerotier-cluster:roots head),
# so the cluster needs no route to ZeroTier's public roots. ZTC_STEP says what for:
#
#   moon   on the head. ZTC_ROOT_ENDPOINT ("<ipv4>/<port>", how the other nodes
#          reach it). Makes the moon definition once (zerotier-idtool initmoon;
#          its signing key stays in /var/lib/zerotier-cluster/moon, root only),
#          signs it again only when the endpoint changed (genmoon), keeps the
#          signed moon in its own moons.d, and prints "<file name> <base64 of it>"
#          (public: a moon file holds the public identity and endpoints only).
#   orbit  on every other node, before it joins. ZTC_MOON is what the head
#          printed; the file goes into moons.d and zerotier-one restarts to
#          load it. Delete removes it again.
#
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2016,SC2034,SC2153,SC2154,SC2317  # SC2016: inner shells expand their own "$1"

ZT_HOME=/var/lib/zerotier-one
MOON_DIR=$ZTC_STATE_DIR/moon
ORBIT_STATE=$ZTC_STATE_DIR/orbit
MOON_NAME_RE='000000[0-9a-f]{10}\.moon'

roots_check_params() {
    case $ZTC_STEP in
        moon) ztc_check "ZTC_ROOT_ENDPOINT (<ipv4>/<port>)" "$ZTC_ROOT_ENDPOINT" "$ZTC_IPV4_RE/[0-9]{1,5}" ;;
        orbit) ztc_check "ZTC_MOON (<file> <base64>)" "$ZTC_MOON" "$MOON_NAME_RE [A-Za-z0-9+/]+=*" ;;
        *) ztc_die "ZTC_STEP must be moon or orbit, not '$ZTC_STEP'" ;;
    esac
}

# Runs "$@" as root, with umask 077, inside $MOON_DIR (which holds the moon's signing secret).
roots_in_moon_dir() {
    ztc_root sh -c 'cd "$1" && umask 077 && shift && "$@"' sh "$MOON_DIR" "$@"
}

moon_create() {
    command -v zerotier-idtool >/dev/null 2>&1 ||
        ztc_die "zerotier-idtool is not installed on $(uname -n): the install step must succeed first"
    ztc_tmpdir
    _id=$(ztc_root cat "$ZT_HOME/identity.public" 2>/dev/null | cut -d: -f1)
    [ -n "$_id" ] || ztc_die "no ZeroTier identity in $ZT_HOME on $(uname -n): the install step must succeed first"
    _file=000000$_id.moon
    ztc_root mkdir -p "$MOON_DIR"
    ztc_root chmod 700 "$MOON_DIR"
    # The definition holds the moon's signing secret: made once, kept root only, so
    # every later signature comes from the same key the nodes already trust.
    if ! ztc_root grep -q "\"id\": *\"0*$_id\"" "$MOON_DIR/moon.json" 2>/dev/null; then
        ztc_log "defining moon $_id (zerotier-idtool initmoon)"
        roots_in_moon_dir sh -c 'zerotier-idtool initmoon "$1" >moon.json' sh "$ZT_HOME/identity.public" ||
            ztc_die "zerotier-idtool initmoon failed"
        ztc_root rm -f "$MOON_DIR/$_file"
    fi
    _want="\"stableEndpoints\": [\"$ZTC_ROOT_ENDPOINT\"]"
    if ! ztc_root grep -qF "$_want" "$MOON_DIR/moon.json" || ! ztc_root test -s "$MOON_DIR/$_file"; then
        ztc_log "signing moon $_id with stable endpoint $ZTC_ROOT_ENDPOINT (zerotier-idtool genmoon)"
        roots_in_moon_dir sh -c 'sed "s#\"stableEndpoints\": *\[[^]]*\]#$1#" moon.json >moon.json.new && mv -f moon.json.new moon.json' sh "$_want" ||
            ztc_die "could not write $MOON_DIR/moon.json"
        roots_in_moon_dir sh -c 'zerotier-idtool genmoon moon.json >/dev/null' ||
            ztc_die "zerotier-idtool genmoon failed in $MOON_DIR"
        ztc_root test -s "$MOON_DIR/$_file" || ztc_die "zerotier-idtool genmoon wrote no $MOON_DIR/$_file"
    fi
    ztc_root cat "$MOON_DIR/$_file" >"$ZTC_TMP/moon"
    if ztc_sync_file "$ZT_HOME/moons.d/$_file" 644 "$ZTC_TMP/moon"; then
        ztc_restart_zerotier "$ZT_HOME/moons.d/$_file"
    else
        ztc_log "moon $_id at $ZTC_ROOT_ENDPOINT is in place; nothing changed"
    fi
    printf '%s %s\n' "$_file" "$(base64 <"$ZTC_TMP/moon" | tr -d '\n')"
}

moon_delete() {
    _id=$(ztc_root cat "$ZT_HOME/identity.public" 2>/dev/null | cut -d: -f1)
    _file=000000$_id.moon
    if [ -n "$_id" ] && ztc_root test -f "$ZT_HOME/moons.d/$_file"; then
        ztc_root rm -f "$ZT_HOME/moons.d/$_file"
        ztc_log "removed moon $_id from moons.d (its definition stays in $MOON_DIR for a later pulumi up)"
    fi
    echo "moon: removed"
}

orbit_create() {
    ztc_tmpdir
    _file=${ZTC_MOON%% *}
    printf '%s' "${ZTC_MOON#* }" | base64 -d >"$ZTC_TMP/moon" 2>/dev/null || ztc_die "ZTC_MOON is not valid base64"
    _changed=0
    _old=$(sed -nE "s/^moon=($MOON_NAME_RE)\$/\1/p" "$ORBIT_STATE" 2>/dev/null || :)
    if [ -n "$_old" ] && [ "$_old" != "$_file" ] && ztc_root test -f "$ZT_HOME/moons.d/$_old"; then
        ztc_log "removing the moon this program placed before ($_old)"
        ztc_root rm -f "$ZT_HOME/moons.d/$_old"
        _changed=1
    fi
    printf 'moon=%s\n' "$_file" >"$ZTC_TMP/state"
    ztc_sync_file "$ORBIT_STATE" 644 "$ZTC_TMP/state" || :
    if ztc_sync_file "$ZT_HOME/moons.d/$_file" 644 "$ZTC_TMP/moon"; then
        _changed=1
    fi
    if [ "$_changed" = 1 ]; then
        ztc_restart_zerotier "$ZT_HOME/moons.d/$_file"
    else
        ztc_log "moon $_file is in place; nothing changed"
    fi
    echo "orbit: ${_file%.moon}"
}

orbit_delete() {
    _old=$(sed -nE "s/^moon=($MOON_NAME_RE)\$/\1/p" "$ORBIT_STATE" 2>/dev/null || :)
    if [ -n "$_old" ] && ztc_root test -f "$ZT_HOME/moons.d/$_old"; then
        ztc_root rm -f "$ZT_HOME/moons.d/$_old"
        ztc_log "removed moon $_old from moons.d"
        if ztc_root zerotier-cli info >/dev/null 2>&1; then
            ztc_restart_zerotier "the roots without $_old"
        fi
    fi
    ztc_root rm -f "$ORBIT_STATE"
    echo "orbit: removed"
}

step_create() {
    roots_check_params
    ztc_require_root
    case $ZTC_STEP in
        moon) moon_create ;;
        orbit) orbit_create ;;
    esac
}

step_update() {
    step_create
}

step_delete() {
    ztc_require_root
    case $ZTC_STEP in
        moon) moon_delete ;;
        orbit) orbit_delete ;;
        *) ztc_die "ZTC_STEP must be moon or orbit, not '$ZTC_STEP'" ;;
    esac
}

ztc_run "$@"; exit $?
