#!/bin/sh
# install: ZeroTier One at the pinned version, enabled and running; prints the node's address.
#
# Parameters: ZTC_ZEROTIER_VERSION (e.g. 1.14.1), ZTC_INSTALLER_URL (ZeroTier's
# clear-signed installer), ZTC_SIGNING_KEY_URL and ZTC_SIGNING_KEY_FINGERPRINT
# (the key that must have signed it), ZTC_UNINSTALL_ON_DESTROY (true|false),
# and ZTC_LOCK_TIMEOUT (seconds to wait for another package manager run, such
# as unattended-upgrades, to release its locks; 600).
# create/update:
#   - pinned version installed and running: nothing to do (pre-baked and
#     air-gapped nodes); installed but stopped: enable and start it;
#   - otherwise: download key and installer into a temporary directory, check
#     the key's fingerprint and the installer's signature, and only then run the
#     installer (it sets up ZeroTier's package repository); then install exactly
#     the pinned version, hold it, enable and start the service. Until the
#     installer runs, a failure changes nothing on the node (beyond installing
#     curl and gnupg when they are missing).
#   The node's identity (/var/lib/zerotier-one/identity.*) is never touched: a
#   node keeps its address and its other networks. The last stdout line is the
#   10-hex-digit ZeroTier address.
# delete: with ZTC_UNINSTALL_ON_DESTROY=true, stop and purge the package but
# keep the identity files (a reinstall comes back with the same address);
# otherwise leave ZeroTier installed.
# Output: the package manager's and the installer's own output goes to
# /var/log/zerotier-cluster/install.log on the node (this run's; the one
# before is install.log.1), the operator gets short progress lines, and a
# failure names the log and shows its last lines.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=install
ZT_HOME=/var/lib/zerotier-one
ZT_PACKAGE=zerotier-one
INSTALL_LOG=/var/log/zerotier-cluster/install.log

install_check_params() {
    ztc_check "ZTC_ZEROTIER_VERSION" "$ZTC_ZEROTIER_VERSION" '[0-9]+\.[0-9]+\.[0-9]+'
    ztc_check "ZTC_INSTALLER_URL" "$ZTC_INSTALLER_URL" 'https?://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+'
    ztc_check "ZTC_SIGNING_KEY_URL" "$ZTC_SIGNING_KEY_URL" 'https?://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+'
    ztc_check "ZTC_SIGNING_KEY_FINGERPRINT (40 hex digits)" "$ZTC_SIGNING_KEY_FINGERPRINT" '[0-9A-F]{40}'
    ztc_check "ZTC_UNINSTALL_ON_DESTROY" "$ZTC_UNINSTALL_ON_DESTROY" 'true|false'
    ztc_check "ZTC_LOCK_TIMEOUT (seconds)" "$ZTC_LOCK_TIMEOUT" '[0-9]{1,5}'
}

# Sets PM to apt, dnf or yum from /etc/os-release.
install_detect_pm() {
    [ -r /etc/os-release ] || ztc_die "/etc/os-release is missing on $(uname -n): cannot tell the distribution"
    _id=$(sed -n 's/^ID=//p' /etc/os-release | tr -d '"')
    _like=$(sed -n 's/^ID_LIKE=//p' /etc/os-release | tr -d '"')
    _pretty=$(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')
    case " $_id $_like " in
        *" debian "* | *" ubuntu "*) PM=apt ;;
        *" rhel "* | *" fedora "* | *" centos "* | *" rocky "* | *" almalinux "*)
            if command -v dnf >/dev/null 2>&1; then PM=dnf; else PM=yum; fi ;;
        *) ztc_die "unsupported distribution ${_pretty:-$_id} (ID=$_id) on $(uname -n): this step installs ZeroTier on Debian/Ubuntu (apt) and RHEL/Rocky/Alma/CentOS/Fedora (dnf/yum)" ;;
    esac
}

# The installed zerotier-one version, or nothing.
install_version() {
    case $PM in
        apt) dpkg-query -W -f '${db:Status-Abbrev}|${Version}\n' "$ZT_PACKAGE" 2>/dev/null |
            sed -n 's/^.i.|//p' ;;
        *) rpm -q --qf '%{VERSION}\n' "$ZT_PACKAGE" 2>/dev/null | grep -E '^[0-9]' || true ;;
    esac
}

# Whether package version $1 is the pinned upstream version (ignoring an epoch
# and a distribution suffix such as -1 or ~bookworm).
install_is_pinned() {
    _v=${1#*:}
    case $_v in
        "$ZTC_ZEROTIER_VERSION" | "$ZTC_ZEROTIER_VERSION"[-~+]*) return 0 ;;
    esac
    return 1
}

install_require_systemd() {
    [ -d /run/systemd/system ] ||
        ztc_die "systemd is not running on $(uname -n): this step manages the zerotier-one service with systemctl; start it with your init system and run again"
}

# --- the install log ------------------------------------------------------------

# Starts this run's log, once, at the first command that writes to it: the
# previous run's log becomes install.log.1, so the node keeps two runs.
# shellcheck disable=SC2016  # a script for the root shell
install_log_start() {
    [ -z "${_log_started:-}" ] || return 0
    ztc_root sh -c 'umask 027
        mkdir -p "${1%/*}" || exit 1
        if [ -f "$1" ]; then mv -f "$1" "$1.1" || exit 1; fi
        printf "%s\n" "$2" >"$1"' sh "$INSTALL_LOG" \
        "zerotier-cluster install on $(uname -n) at $(date -u '+%Y-%m-%dT%H:%M:%SZ'), pinned $ZTC_ZEROTIER_VERSION" ||
        ztc_die "could not start the install log $INSTALL_LOG ($(ztc_room "$(dirname "$INSTALL_LOG")"))"
    _log_started=yes
}

# Runs a command as root with its output appended to the install log, not to
# the operator: Pulumi stores a step's output, and apt alone prints pages. A
# run that floods the log is cut to its last 4 MiB, so the log stays bounded.
# shellcheck disable=SC2016  # a script for the root shell
install_logged() {
    install_log_start
    ztc_root sh -c 'log=$1; shift
        printf "\n$ %s\n" "$*" >>"$log"
        "$@" >>"$log" 2>&1 </dev/null
        rc=$?
        if [ "$(wc -c <"$log")" -gt 8388608 ]; then
            tail -c 4194304 "$log" >"$log.cut" && mv -f "$log.cut" "$log"
        fi
        exit $rc' sh "$INSTALL_LOG" "$@"
}

# Ends the step with $1, the log's place and its last lines (bounded).
install_fail() {
    ztc_die "$1. Its output is in $INSTALL_LOG on $(uname -n); the last lines:
$(ztc_root tail -n 20 "$INSTALL_LOG" 2>/dev/null | cut -c 1-120)"
}

# --- package manager locks ---------------------------------------------------------

# Prints "<pid> <file>" for each lock of the package manager some process
# holds now: apt and dpkg lock files (fcntl locks, found in /proc/locks by
# inode, flock holders too), rpm's database lock, dnf's and yum's pid files.
install_lock_holders() {
    case $PM in
        apt)
            _locks="/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock"
            _pidfiles= ;;
        *)
            _locks=/var/lib/rpm/.rpm.lock
            _pidfiles="/var/lib/dnf/rpmdb_lock.pid /var/cache/dnf/metadata_lock.pid /var/cache/dnf/download_lock.pid /var/run/yum.pid" ;;
    esac
    for _f in $_locks; do
        _di=$(ztc_root stat -c '%d %i' "$_f" 2>/dev/null) || continue
        _dev=${_di% *}
        # As /proc/locks names a file: "<major>:<minor>:<inode>", major and minor in hex.
        _id=$(printf '%02x:%02x:%s' $(((_dev >> 8) & 4095)) $(((_dev & 255) | ((_dev >> 12) & 1048320))) "${_di#* }")
        # "1: POSIX  ADVISORY  WRITE 1234 00:32:1453230 0 EOF"; a waiting "->" line has other fields.
        awk -v id="$_id" -v f="$_f" '$6 == id && $5 > 0 { print $5, f }' /proc/locks
    done
    for _f in $_pidfiles; do
        _pid=$(ztc_root cat "$_f" 2>/dev/null | tr -cd '0-9')
        if [ -n "$_pid" ] && [ -d "/proc/$_pid" ]; then
            echo "$_pid $_f"
        fi
    done
}

# "pid 1234 (unattended-upgr: /usr/bin/python3 /usr/bin/unattended-upgrade) holds FILE"
install_describe_holder() {
    _cmd=$(ztc_root cat "/proc/$1/cmdline" 2>/dev/null | tr '\0' ' ' | cut -c 1-100 | sed 's/ *$//')
    # The holder may be gone by now: that must not end the step (set -e).
    _comm=$(cat "/proc/$1/comm" 2>/dev/null) || _comm=
    printf 'pid %s (%s%s) holds %s' "$1" "${_comm:-?}" "${_cmd:+: $_cmd}" "$2"
}

# Waits, at most ZTC_LOCK_TIMEOUT seconds, until no other process holds the
# package manager's locks (unattended-upgrades on a fresh node often does),
# saying every 15 s who holds them.
install_wait_for_locks() {
    _lw_start=$(ztc_now)
    _lw_said=
    while :; do
        _holder=$(install_lock_holders | sed -n 1p)
        [ -n "$_holder" ] || return 0
        # shellcheck disable=SC2086  # "pid file"
        _who=$(install_describe_holder $_holder)
        _lw_waited=$(($(ztc_now) - _lw_start))
        if [ "$_lw_waited" -ge "$ZTC_LOCK_TIMEOUT" ]; then
            ztc_die "the package manager on $(uname -n) is still busy after ${ZTC_LOCK_TIMEOUT}s: $_who. Let it finish (or stop it) and run pulumi up again; nothing was changed by this step's package manager calls"
        fi
        if [ -z "$_lw_said" ] || [ $((_lw_waited - _lw_said)) -ge 15 ]; then
            ztc_log "waiting for the package manager: $_who (waited ${_lw_waited}s of at most ${ZTC_LOCK_TIMEOUT}s)"
            _lw_said=$_lw_waited
        fi
        sleep 1
    done
}

# The package manager, once its locks are free, its output in the install log.
# apt-get also waits on its own (DPkg::Lock::Timeout) should another run take
# the lock between our check and its start.
install_pm() {
    install_wait_for_locks
    case $PM in
        apt) install_logged env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=60 \
            -o Dpkg::Options::=--force-confold "$@" ;;
        *) install_logged "$PM" -q -y "$@" ;;
    esac
}

# curl and gpg, which the download and the signature check need.
install_tools() {
    _missing=
    command -v curl >/dev/null 2>&1 || _missing="curl"
    command -v gpg >/dev/null 2>&1 || _missing="$_missing gnupg"
    [ -n "$_missing" ] || return 0
    ztc_log "installing$_missing (needed to download and check the ZeroTier installer)"
    # shellcheck disable=SC2086  # a list of package names
    if ! install_pm install $_missing; then
        [ "$PM" = apt ] && install_pm update && install_pm install $_missing && return 0
        install_fail "could not install$_missing with $PM on $(uname -n); install them, or pre-install zerotier-one $ZTC_ZEROTIER_VERSION"
    fi
}

install_offline_hint() {
    echo "This node needs HTTPS access to install.zerotier.com, download.zerotier.com and the signing key's host (or set zerotier-cluster:installer.url/keyUrl to a reachable mirror), or zerotier-one $ZTC_ZEROTIER_VERSION pre-installed (then this step only starts it). Nothing was changed on $(uname -n)."
}

install_download() {
    # $1 URL, $2 file, $3 what it is
    if ! curl --fail --silent --show-error --location --proto '=http,https' \
        --connect-timeout 20 --max-time 300 --retry 2 -o "$2" "$1" 2>"$ZTC_TMP/curl.err"; then
        ztc_die "could not download $3 from $1: $(tail -n 1 "$ZTC_TMP/curl.err"). $(install_offline_hint)"
    fi
}

# Downloads key and installer, checks both, runs the installer.
install_run_installer() {
    install_download "$ZTC_SIGNING_KEY_URL" "$ZTC_TMP/key" "ZeroTier's signing key"
    install_download "$ZTC_INSTALLER_URL" "$ZTC_TMP/installer.asc" "the ZeroTier installer"
    _gpg="gpg --batch --no-tty --no-autostart --homedir $ZTC_TMP/gnupg"
    mkdir -m 700 "$ZTC_TMP/gnupg"
    $_gpg --quiet --import "$ZTC_TMP/key" 2>"$ZTC_TMP/gpg.err" ||
        ztc_die "the file at $ZTC_SIGNING_KEY_URL is not an OpenPGP key: $(tr '\n' ' ' <"$ZTC_TMP/gpg.err"). Nothing was changed."
    _fprs=$($_gpg --with-colons --fingerprint 2>/dev/null |
        awk -F: '$1 == "pub" { want = 1; next } $1 == "fpr" && want { print $10; want = 0 }' | tr '\n' ' ')
    [ "$_fprs" = "$ZTC_SIGNING_KEY_FINGERPRINT " ] ||
        ztc_die "the key at $ZTC_SIGNING_KEY_URL has fingerprint ${_fprs:-none}, not the pinned $ZTC_SIGNING_KEY_FINGERPRINT (zerotier-cluster:installer.keyFingerprint): refusing to run the installer. Nothing was changed."
    if ! $_gpg --status-fd 3 --output "$ZTC_TMP/installer.sh" --decrypt "$ZTC_TMP/installer.asc" \
        3>"$ZTC_TMP/gpg.status" 2>"$ZTC_TMP/gpg.err" ||
        ! grep -q "^\[GNUPG:\] VALIDSIG .* $ZTC_SIGNING_KEY_FINGERPRINT\$" "$ZTC_TMP/gpg.status" ||
        [ ! -s "$ZTC_TMP/installer.sh" ]; then
        ztc_die "the installer from $ZTC_INSTALLER_URL is not validly signed by key $ZTC_SIGNING_KEY_FINGERPRINT: $(tr '\n' ' ' <"$ZTC_TMP/gpg.err"). Refusing to run it; nothing was changed."
    fi
    ztc_log "installer signature verified (key $ZTC_SIGNING_KEY_FINGERPRINT); running it"
    command -v bash >/dev/null 2>&1 || ztc_die "bash is not installed on $(uname -n); ZeroTier's installer needs it"
    install_wait_for_locks
    if ! install_logged bash "$ZTC_TMP/installer.sh"; then
        install_fail "ZeroTier's installer failed"
    fi
}

# Installs exactly the pinned version from the configured repository and holds it there.
install_pinned() {
    _pin=$ZTC_ZEROTIER_VERSION
    case $PM in
        apt)
            _ver=$(apt-cache madison "$ZT_PACKAGE" 2>/dev/null | awk -F'|' -v pin="$_pin" '
                { v = $2; gsub(/ /, "", v); u = v; sub(/^[0-9]+:/, "", u)
                  if (u == pin || index(u, pin "-") == 1 || index(u, pin "~") == 1 || index(u, pin "+") == 1) { print v; exit } }')
            [ -n "$_ver" ] ||
                ztc_die "version $_pin of $ZT_PACKAGE is not offered by the configured apt repositories on $(uname -n) (apt-cache madison $ZT_PACKAGE lists: $(apt-cache madison "$ZT_PACKAGE" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); printf "%s ", $2 }')). Pick an available zerotier-cluster:zerotierVersion"
            ztc_log "installing $ZT_PACKAGE=$_ver"
            install_pm install --allow-downgrades --allow-change-held-packages "$ZT_PACKAGE=$_ver" ||
                install_fail "apt-get could not install $ZT_PACKAGE=$_ver"
            install_wait_for_locks
            install_logged apt-mark hold "$ZT_PACKAGE" || install_fail "apt-mark could not hold $ZT_PACKAGE"
            ;;
        *)
            # The lock from an earlier pin hides every other version: look past it, then move it.
            ztc_log "installing $ZT_PACKAGE-$_pin"
            install_pm --disableplugin=versionlock install "$ZT_PACKAGE-$_pin" || true
            install_is_pinned "$(install_version)" ||
                install_pm --disableplugin=versionlock downgrade "$ZT_PACKAGE-$_pin" ||
                install_fail "$PM could not install $ZT_PACKAGE-$_pin"
            install_logged "$PM" versionlock delete "$ZT_PACKAGE" || true
            if install_logged "$PM" versionlock add "$ZT_PACKAGE"; then
                ztc_log "locked $ZT_PACKAGE at $_pin ($PM versionlock)"
            else
                ztc_log "warning: $PM versionlock is not available; an upgrade may move $ZT_PACKAGE off $_pin (install the versionlock plugin)"
            fi
            ;;
    esac
    _now=$(install_version)
    install_is_pinned "$_now" ||
        ztc_die "after installing, $ZT_PACKAGE is at '${_now:-not installed}', not $_pin"
}

install_start() {
    if ! ztc_root systemctl enable --now zerotier-one >/dev/null 2>"$ZTC_TMP/systemctl.err"; then
        ztc_die "could not start zerotier-one: $(tr '\n' ' ' <"$ZTC_TMP/systemctl.err"). See 'journalctl -u zerotier-one' on $(uname -n)"
    fi
}

step_create() {
    install_check_params
    install_detect_pm
    ztc_require_root
    install_require_systemd
    ztc_tmpdir
    _have=$(install_version)
    if [ -n "$_have" ] && install_is_pinned "$_have"; then
        if ztc_root systemctl is-active --quiet zerotier-one; then
            if ztc_root systemctl is-enabled --quiet zerotier-one 2>/dev/null; then
                ztc_log "zerotier-one $_have is installed and running; nothing to do"
            else
                ztc_log "zerotier-one $_have is running but not enabled at boot; enabling it"
                install_start
            fi
        else
            ztc_log "zerotier-one $_have is installed but not running; enabling and starting it"
            install_start
        fi
    else
        if [ -n "$_have" ]; then
            ztc_log "zerotier-one $_have is installed; the pinned version is $ZTC_ZEROTIER_VERSION"
        else
            ztc_log "zerotier-one is not installed; installing $ZTC_ZEROTIER_VERSION"
        fi
        install_tools
        install_run_installer
        install_pinned
        install_start
        ztc_log "zerotier-one $(install_version) is installed, held and running"
    fi
    ztc_zerotier_address "zerotier-one runs but has no identity yet; see 'journalctl -u zerotier-one'"
}

step_update() {
    step_create
}

step_delete() {
    install_check_params
    if [ "$ZTC_UNINSTALL_ON_DESTROY" != true ]; then
        ztc_log "ZeroTier stays installed (zerotier-cluster:uninstallOnDestroy is false)"
        echo "install: ZeroTier stays installed"
        return 0
    fi
    install_detect_pm
    ztc_require_root
    _have=$(install_version)
    if [ -z "$_have" ]; then
        ztc_log "zerotier-one is not installed; nothing to uninstall"
        echo "install: not installed"
        return 0
    fi
    # Keep the identity whatever the package's removal scripts do with the home directory.
    _keep=$ZTC_STATE_DIR/identity.keep
    if ! { ztc_root mkdir -p -m 700 "$_keep" && ztc_root chmod 700 "$_keep"; }; then
        ztc_die "could not create $_keep to keep the identity in ($(ztc_room "$_keep")); nothing was uninstalled"
    fi
    for _f in identity.public identity.secret; do
        if ztc_root test -f "$ZT_HOME/$_f"; then
            if ! { ztc_root cp -p "$ZT_HOME/$_f" "$_keep/$_f" && ztc_root cmp -s "$ZT_HOME/$_f" "$_keep/$_f"; }; then
                ztc_die "could not keep a copy of $ZT_HOME/$_f in $_keep ($(ztc_room "$_keep")); nothing was uninstalled"
            fi
        fi
    done
    ztc_log "stopping and uninstalling zerotier-one $_have (the identity in $ZT_HOME stays)"
    ztc_root systemctl disable --now zerotier-one >/dev/null 2>&1 || true
    case $PM in
        apt)
            install_wait_for_locks
            install_logged apt-mark unhold "$ZT_PACKAGE" || install_fail "apt-mark could not unhold $ZT_PACKAGE"
            install_pm purge "$ZT_PACKAGE" || install_fail "apt-get purge $ZT_PACKAGE failed"
            ;;
        *)
            install_logged "$PM" versionlock delete "$ZT_PACKAGE" || true
            install_pm remove "$ZT_PACKAGE" || install_fail "$PM remove $ZT_PACKAGE failed"
            ;;
    esac
    for _f in identity.public identity.secret; do
        if ztc_root test -f "$_keep/$_f" && ! ztc_root test -f "$ZT_HOME/$_f"; then
            if ! { ztc_root mkdir -p "$ZT_HOME" && ztc_root cp -p "$_keep/$_f" "$ZT_HOME/$_f"; }; then
                ztc_die "zerotier-one is uninstalled but its identity could not be put back in $ZT_HOME ($(ztc_room "$ZT_HOME")); it is kept in $_keep: copy it back by hand"
            fi
        fi
    done
    ztc_root rm -rf "$_keep"
    if pgrep -x zerotier-one >/dev/null 2>&1; then
        ztc_die "zerotier-one is still running after the package was removed; stop it by hand"
    fi
    echo "install: zerotier-one uninstalled; identity kept in $ZT_HOME"
}

ztc_run "$@"; exit $?
