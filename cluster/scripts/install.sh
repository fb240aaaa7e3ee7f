#!/bin/sh
# install: ZeroTier One at the pinned version, enabled and running; prints the node's address.
#
# Parameters: ZTC_ZEROTIER_VERSION (e.g. 1.14.1), ZTC_INSTALLER_URL (ZeroTier's
# clear-signed installer), ZTC_SIGNING_KEY_URL and ZTC_SIGNING_KEY_FINGERPRINT
# (the key that must have signed it), ZTC_UNINSTALL_ON_DESTROY (true|false).
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
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=install
ZT_HOME=/var/lib/zerotier-one
ZT_PACKAGE=zerotier-one

install_check_params() {
    ztc_check "ZTC_ZEROTIER_VERSION" "$ZTC_ZEROTIER_VERSION" '[0-9]+\.[0-9]+\.[0-9]+'
    ztc_check "ZTC_INSTALLER_URL" "$ZTC_INSTALLER_URL" 'https?://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+'
    ztc_check "ZTC_SIGNING_KEY_URL" "$ZTC_SIGNING_KEY_URL" 'https?://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+'
    ztc_check "ZTC_SIGNING_KEY_FINGERPRINT (40 hex digits)" "$ZTC_SIGNING_KEY_FINGERPRINT" '[0-9A-F]{40}'
    ztc_check "ZTC_UNINSTALL_ON_DESTROY" "$ZTC_UNINSTALL_ON_DESTROY" 'true|false'
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

install_pm() {
    case $PM in
        apt) ztc_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Options::=--force-confold "$@" >&2 ;;
        *) ztc_root "$PM" -q -y "$@" >&2 ;;
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
        ztc_die "could not install$_missing with $PM on $(uname -n); install them, or pre-install zerotier-one $ZTC_ZEROTIER_VERSION"
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
    if ! ztc_root bash "$ZTC_TMP/installer.sh" </dev/null >&2; then
        ztc_die "ZeroTier's installer failed (its output is above)"
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
            install_pm install --allow-downgrades --allow-change-held-packages "$ZT_PACKAGE=$_ver" ||
                ztc_die "apt-get could not install $ZT_PACKAGE=$_ver (output above)"
            ztc_root apt-mark hold "$ZT_PACKAGE" >&2
            ;;
        *)
            # The lock from an earlier pin hides every other version: look past it, then move it.
            install_pm --disableplugin=versionlock install "$ZT_PACKAGE-$_pin" || true
            install_is_pinned "$(install_version)" ||
                install_pm --disableplugin=versionlock downgrade "$ZT_PACKAGE-$_pin" ||
                ztc_die "$PM could not install $ZT_PACKAGE-$_pin (output above)"
            ztc_root "$PM" versionlock delete "$ZT_PACKAGE" >/dev/null 2>&1 || true
            if ztc_root "$PM" versionlock add "$ZT_PACKAGE" >&2 2>/dev/null; then
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
    if ! ztc_root systemctl enable --now zerotier-one >&2 2>"$ZTC_TMP/systemctl.err"; then
        ztc_die "could not start zerotier-one: $(tr '\n' ' ' <"$ZTC_TMP/systemctl.err"). See 'journalctl -u zerotier-one' on $(uname -n)"
    fi
}

# Prints the node's ZeroTier address once the service has its identity.
install_address() {
    _tries=0
    while :; do
        _addr=$(ztc_root cat "$ZT_HOME/identity.public" 2>/dev/null | cut -d: -f1)
        if printf '%s\n' "$_addr" | grep -Eqx '[0-9a-f]{10}'; then
            printf '%s\n' "$_addr"
            return 0
        fi
        _tries=$((_tries + 1))
        [ "$_tries" -lt 30 ] ||
            ztc_die "zerotier-one runs but $ZT_HOME/identity.public holds no address after 30s; see 'journalctl -u zerotier-one' on $(uname -n)"
        sleep 1
    done
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
    install_address
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
    ztc_root mkdir -p "$_keep"
    ztc_root chmod 700 "$_keep"
    for _f in identity.public identity.secret; do
        if ztc_root test -f "$ZT_HOME/$_f"; then
            ztc_root cp -p "$ZT_HOME/$_f" "$_keep/$_f"
        fi
    done
    ztc_log "stopping and uninstalling zerotier-one $_have (the identity in $ZT_HOME stays)"
    ztc_root systemctl disable --now zerotier-one >&2 2>/dev/null || true
    case $PM in
        apt)
            ztc_root apt-mark unhold "$ZT_PACKAGE" >&2
            install_pm purge "$ZT_PACKAGE" || ztc_die "apt-get purge $ZT_PACKAGE failed (output above)"
            ;;
        *)
            ztc_root "$PM" versionlock delete "$ZT_PACKAGE" >/dev/null 2>&1 || true
            install_pm remove "$ZT_PACKAGE" || ztc_die "$PM remove $ZT_PACKAGE failed (output above)"
            ;;
    esac
    for _f in identity.public identity.secret; do
        if ztc_root test -f "$_keep/$_f" && ! ztc_root test -f "$ZT_HOME/$_f"; then
            ztc_root mkdir -p "$ZT_HOME"
            ztc_root cp -p "$_keep/$_f" "$ZT_HOME/$_f"
        fi
    done
    ztc_root rm -rf "$_keep"
    if pgrep -x zerotier-one >/dev/null 2>&1; then
        ztc_die "zerotier-one is still running after the package was removed; stop it by hand"
    fi
    echo "install: zerotier-one uninstalled; identity kept in $ZT_HOME"
}

ztc_run "$@"; exit $?
