#!/bin/sh
# hosts: keeps the cluster's managed block in /etc/hosts.
#
# Parameters: ZTC_HOSTS_TAG (the network name in the markers) and
# ZTC_HOSTS_BLOCK (the whole block, BEGIN and END marker lines included).
# create/update: put the block in place of the block with the same markers
# (or append it), every other line untouched; no write when nothing changes.
# The network name it wrote is recorded in /var/lib/zerotier-cluster/hosts, so
# after the network is renamed the block under the old name goes too.
# delete: remove exactly that block (and a recorded older one).
# /etc/hosts is replaced atomically (through a symlink, if it is one), or
# rewritten in place where it is a bind mount (containers), see ztc_sync_file;
# a full or read-only filesystem fails the step and leaves it as it was.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=hosts
HOSTS_FILE=/etc/hosts
HOSTS_STATE=$ZTC_STATE_DIR/hosts
HOSTS_TAG_RE='[A-Za-z0-9][A-Za-z0-9_.-]*'

hosts_check_params() {
    ztc_check "ZTC_HOSTS_TAG (network name)" "$ZTC_HOSTS_TAG" "$HOSTS_TAG_RE"
    HOSTS_BEGIN="# BEGIN zerotier-cluster $ZTC_HOSTS_TAG"
    HOSTS_END="# END zerotier-cluster $ZTC_HOSTS_TAG"
    _first=$(printf '%s\n' "$ZTC_HOSTS_BLOCK" | sed -n '1p')
    _last=$(printf '%s' "$ZTC_HOSTS_BLOCK" | sed -n '$p')
    case $_first in
        "$HOSTS_BEGIN" | "$HOSTS_BEGIN "*) ;;
        *) ztc_die "ZTC_HOSTS_BLOCK must start with the line '$HOSTS_BEGIN ...', got '$_first'" ;;
    esac
    [ "$_last" = "$HOSTS_END" ] || ztc_die "ZTC_HOSTS_BLOCK must end with the line '$HOSTS_END', got '$_last'"
}

# The markers of a block written under another network name (before a rename),
# from the state file; empty when there is none.
hosts_previous() {
    OLD_BEGIN=
    OLD_END=
    ztc_root test -f "$HOSTS_STATE" || return 0
    _old=$(ztc_root sed -n 's/^tag=//p' "$HOSTS_STATE") || ztc_die "could not read $HOSTS_STATE"
    [ -n "$_old" ] && [ "$_old" != "$ZTC_HOSTS_TAG" ] || return 0
    ztc_check "the network name recorded in $HOSTS_STATE" "$_old" "$HOSTS_TAG_RE"
    OLD_BEGIN="# BEGIN zerotier-cluster $_old"
    OLD_END="# END zerotier-cluster $_old"
    ztc_log "the network was renamed from $_old: its block goes too"
}

# Prints /etc/hosts with the managed block replaced by the file $1 (or dropped
# when $1 is empty), and a block under the previous name (OLD_BEGIN) dropped. A block missing from the file is appended. Exits 3 when a
# BEGIN marker has no END marker: the file is then left for a person to fix;
# any other failure (reading the file, writing the output) exits 1 or 2.
# awk reads the file itself, so a failed read cannot pass as an empty file.
# shellcheck disable=SC2016  # an awk program
hosts_render() {
    ztc_root env HB="$HOSTS_BEGIN" HE="$HOSTS_END" OB="$OLD_BEGIN" OE="$OLD_END" awk -v blockfile="$1" '
        function put_block(  line) {
            if (blockfile == "" || done) return
            while ((getline line < blockfile) > 0) print line
            close(blockfile)
            done = 1
        }
        BEGIN { b = ENVIRON["HB"]; e = ENVIRON["HE"]; ob = ENVIRON["OB"]; oe = ENVIRON["OE"] }
        inside {
            if ($0 == end) inside = 0
            next
        }
        $0 == b || index($0, b " ") == 1 { inside = 1; end = e; put_block(); next }
        ob != "" && ($0 == ob || index($0, ob " ") == 1) { inside = 1; end = oe; next }
        { print }
        END {
            if (inside) exit 3
            put_block()
        }
    ' "$HOSTS_FILE"
}

hosts_apply() {
    # $1: the block file, or empty to remove the block.
    ztc_tmpdir
    ztc_root test -f "$HOSTS_FILE" || ztc_die "$HOSTS_FILE does not exist on $(uname -n)"
    _rc=0
    hosts_render "$1" >"$ZTC_TMP/hosts" || _rc=$?
    case $_rc in
        0) ;;
        3) ztc_die "$HOSTS_FILE has a line '$HOSTS_BEGIN' without the matching '$HOSTS_END'; fix the file by hand (nothing was changed)" ;;
        *) ztc_die "could not read $HOSTS_FILE into the scratch file $ZTC_TMP/hosts ($(ztc_room "$ZTC_TMP")); nothing was changed" ;;
    esac
    ztc_sync_file "$HOSTS_FILE" 644 "$ZTC_TMP/hosts"
}

# Records the network name the block is written under (see hosts_previous).
hosts_record() {
    printf 'tag=%s\n' "$ZTC_HOSTS_TAG" >"$ZTC_TMP/state" || ztc_scratch_failed "$ZTC_TMP/state"
    ztc_sync_file "$HOSTS_STATE" 644 "$ZTC_TMP/state" || :
}

step_create() {
    hosts_check_params
    ztc_require_root
    ztc_tmpdir
    printf '%s\n' "$ZTC_HOSTS_BLOCK" | sed '/^$/d' >"$ZTC_TMP/block" || ztc_scratch_failed "$ZTC_TMP/block"
    _block=$ZTC_TMP/block
    _count=$(($(grep -c . "$_block") - 2))
    hosts_previous
    _written=0
    hosts_apply "$_block" || _written=1
    hosts_record
    if [ "$_written" -eq 0 ]; then
        ztc_log "wrote the $ZTC_HOSTS_TAG block ($_count names) into $HOSTS_FILE"
        echo "hosts: $HOSTS_FILE updated ($_count names)"
    else
        ztc_log "$HOSTS_FILE already has the current $ZTC_HOSTS_TAG block; nothing changed"
        echo "hosts: $HOSTS_FILE unchanged ($_count names)"
    fi
}

step_update() {
    step_create
}

step_delete() {
    hosts_check_params
    ztc_require_root
    hosts_previous
    _removed=0
    hosts_apply "" || _removed=1
    ztc_root rm -f "$HOSTS_STATE" || ztc_die "could not remove $HOSTS_STATE"
    if [ "$_removed" -eq 0 ]; then
        ztc_log "removed the $ZTC_HOSTS_TAG block from $HOSTS_FILE"
        echo "hosts: block removed from $HOSTS_FILE"
    else
        ztc_log "$HOSTS_FILE has no $ZTC_HOSTS_TAG block; nothing to remove"
        echo "hosts: no block in $HOSTS_FILE"
    fi
}

ztc_run "$@"; exit $?
