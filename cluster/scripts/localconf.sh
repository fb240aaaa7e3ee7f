#!/bin/sh
# localconf: the stack's entries in ZeroTier's local.conf, beside the operator's own.
#
# Parameters: ZTC_LC_SETTINGS (the entries the plan knows, JSON: settings'
# allowTcpFallbackRelay and interfacePrefixBlacklist, the site's physical
# paths), ZTC_LC_MULTICORE (auto, true or false), ZTC_LC_CONCURRENCY (threads
# with multicore, or empty to choose), ZTC_LC_MIN_CORES (auto turns multicore
# on from this many cores). multicoreEnabled and concurrency are chosen here,
# from the node's own core count; ZeroTier only takes a concurrency from 2 to
# one below the core count (it silently uses 1 or 2 otherwise).
# create/update: every entry of local.conf is read as a leaf (its path of keys
# and its value); the operator's leaves are kept, the stack's added, and a leaf
# the operator set to another value (or a key the stack needs as an object) is
# refused, naming both, with nothing changed. local.conf is written whole and
# atomically, and only when its content changes; zerotier-one restarts only
# then (it reads local.conf when it starts). What the stack added, and the file
# as it was before the first write, are kept in /var/lib/zerotier-cluster/localconf.
# delete: the stack's leaves go; the file as it was before comes back byte for
# byte when nothing else changed in it (or goes, when there was none).
# A full or read-only filesystem fails the step before anything is changed.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2016,SC2034,SC2153,SC2154,SC2317  # SC2016: awk programs

ZTC_STEP=localconf
ZT_HOME=/var/lib/zerotier-one
LC_FILE=$ZT_HOME/local.conf
LC_STATE=$ZTC_STATE_DIR/localconf

# JSON to one line per leaf: its keys, then its value as JSON, tab separated
# (JSON text holds no raw tab or newline). A list is one leaf, compacted; an
# empty object too. Exits 2 with a reason on stderr when the text is not a JSON
# object.
LC_FLATTEN_AWK='
function fail(why) { if (why_failed == "") why_failed = why " (at byte " pos ")"; pos = n + 1 }
function ws() { while (pos <= n && index(" \t\r\n", substr(t, pos, 1))) pos++ }
function str(   s, c) {
    pos++
    s = ""
    while (pos <= n) {
        c = substr(t, pos, 1)
        if (c == "\\") { s = s substr(t, pos, 2); pos += 2; continue }
        if (c == "\"") { pos++; return s }
        if (c == "\t" || c == "\n" || c == "\r") { fail("a control character in a string"); return s }
        s = s c
        pos++
    }
    fail("an unterminated string")
    return s
}
function compact(   out, c, d) {
    out = ""
    d = 0
    while (pos <= n) {
        c = substr(t, pos, 1)
        if (c == "\"") { out = out "\"" str() "\""; continue }
        pos++
        if (index(" \t\r\n", c)) continue
        out = out c
        if (c == "[" || c == "{") d++
        else if (c == "]" || c == "}") { if (--d == 0) return out }
    }
    fail("an unterminated list")
    return out
}
function scalar(   start) {
    start = pos
    while (pos <= n && substr(t, pos, 1) ~ /[-+.0-9a-zA-Z]/) pos++
    v = substr(t, start, pos - start)
    if (v !~ /^(true|false|null|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$/) fail("an unknown value " substr(v, 1, 20))
    return v
}
function member(prefix,   c, k, count) {
    ws()
    c = substr(t, pos, 1)
    if (c == "{") {
        pos++
        count = 0
        ws()
        if (substr(t, pos, 1) == "}") { pos++; if (prefix != "") print prefix "{}"; return }
        while (pos <= n) {
            ws()
            if (substr(t, pos, 1) != "\"") { fail("a key that is not a string"); return }
            k = str()
            ws()
            if (substr(t, pos, 1) != ":") { fail("no colon after a key"); return }
            pos++
            member(prefix k "\t")
            ws()
            c = substr(t, pos, 1)
            pos++
            if (c == "}") return
            if (c != ",") { fail("no comma or closing brace in an object"); return }
        }
        fail("an unterminated object")
    } else if (prefix == "") {
        fail("the top level is not an object")
    } else if (c == "[") {
        print prefix compact()
    } else if (c == "\"") {
        print prefix "\"" str() "\""
    } else {
        print prefix scalar()
    }
}
{ t = t $0 "\n" }
END {
    n = length(t)
    pos = 1
    ws()
    if (pos <= n) member("")
    ws()
    if (why_failed == "" && pos <= n) fail("text after the end")
    if (why_failed != "") { print why_failed > "/dev/stderr"; exit 2 }
}'

# Sorted leaves back to JSON: nested objects, four spaces a level.
LC_RENDER_AWK='
function ind(d,   s) { s = ""; while (d-- > 0) s = s "    "; return s }
BEGIN { FS = "\t"; depth = 0; printf "{" }
{
    m = NF - 1
    c = 0
    while (c < depth && c < m - 1 && open[c + 1] == $(c + 1)) c++
    while (depth > c) { printf "\n%s}", ind(depth); depth-- }
    for (i = c + 1; i < m; i++) {
        printf "%s\n%s\"%s\": {", (had[depth] ? "," : ""), ind(depth + 1), $i
        had[depth] = 1
        open[++depth] = $i
        had[depth] = 0
    }
    printf "%s\n%s\"%s\": %s", (had[depth] ? "," : ""), ind(depth + 1), $m, $NF
    had[depth] = 1
}
END {
    while (depth > 0) { printf "\n%s}", ind(depth); depth-- }
    printf "%s}\n", (NR ? "\n" : "")
}'

# Merges the stack's leaves (file ours) into the operator's (file base): prints
# the merged leaves (an empty object the stack fills gives way), writes the
# ones the stack adds to file added, exits 3 with every conflict on stderr.
LC_MERGE_AWK='
function path(line) { return substr(line, 1, length(line) - length(value(line)) - 1) }
function value(line,   i) { i = match(line, /\t[^\t]*$/); return substr(line, i + 1) }
function shown(p) { gsub(/\t/, ".", p); return p }
FILENAME == ARGV[1] {
    p = path($0)
    base[p] = value($0)
    q = p
    while (match(q, /\t[^\t]*$/)) { q = substr(q, 1, RSTART - 1); under[q] = p }
    kept[++nbase] = $0
    next
}
{
    p = path($0)
    v = value($0)
    if (p in base) {
        if (base[p] != v) {
            printf "local.conf sets %s to %s, the stack (zerotier-cluster:zerotier) to %s\n", shown(p), base[p], v > "/dev/stderr"
            bad = 1
        }
        next
    }
    if (p in under) {
        printf "local.conf has %s inside %s, where the stack sets a value\n", shown(under[p]), shown(p) > "/dev/stderr"
        bad = 1
        next
    }
    q = p
    while (match(q, /\t[^\t]*$/)) {
        q = substr(q, 1, RSTART - 1)
        if (q in base && base[q] == "{}") {
            dropped[q] = 1
        } else if (q in base) {
            printf "local.conf sets %s to %s, where the stack needs an object for %s\n", shown(q), base[q], shown(p) > "/dev/stderr"
            bad = 1
        }
    }
    print
    print > added
}
END {
    for (i = 1; i <= nbase; i++) if (!(path(kept[i]) in dropped)) print kept[i]
    if (bad) exit 3
}'

lc_check_params() {
    ztc_check "ZTC_LC_MULTICORE" "$ZTC_LC_MULTICORE" 'auto|true|false'
    [ -z "$ZTC_LC_CONCURRENCY" ] || ztc_check "ZTC_LC_CONCURRENCY" "$ZTC_LC_CONCURRENCY" '[1-9][0-9]{0,3}'
    ztc_check "ZTC_LC_MIN_CORES" "$ZTC_LC_MIN_CORES" '[1-9][0-9]{0,3}'
    ztc_check "ZTC_LC_SETTINGS (one line of JSON)" "$ZTC_LC_SETTINGS" '\{.*\}'
}

# Leaves of the JSON file $1 into file $2, sorted; ends the step naming $3 when it is no JSON object.
lc_flatten() {
    _fl_rc=0
    awk "$LC_FLATTEN_AWK" "$1" 2>"$ZTC_TMP/flatten.err" | LC_ALL=C sort -u >"$2" || _fl_rc=$?
    if [ -s "$ZTC_TMP/flatten.err" ]; then
        ztc_die "$3 is not a JSON object: $(head -c 200 "$ZTC_TMP/flatten.err"). Fix it by hand (nothing was changed)"
    fi
    [ "$_fl_rc" -eq 0 ] || ztc_scratch_failed "$2"
}

# The node's cores, and the multicore leaves chosen from them, into file $1.
lc_multicore() {
    _cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
    _on=$ZTC_LC_MULTICORE
    if [ "$_on" = auto ]; then
        if [ "$_cores" -ge "$ZTC_LC_MIN_CORES" ]; then _on=true; else _on=false; fi
    fi
    _conc=
    if [ "$_on" = true ]; then
        _conc=$ZTC_LC_CONCURRENCY
        if [ -n "$_conc" ] && [ "$_conc" -ge "$_cores" ]; then
            ztc_die "zerotier-cluster:zerotier.concurrency is $_conc, but $(uname -n) has $_cores cores, and ZeroTier takes a concurrency from 2 to one below the core count (it would silently use 1 or 2). Lower it, or remove it to let each node choose half its cores"
        fi
        if [ -z "$_conc" ] && [ "$_cores" -ge 3 ]; then
            _conc=$((_cores / 2))
            [ "$_conc" -ge 2 ] || _conc=2
        fi
    fi
    {
        printf 'settings\tmulticoreEnabled\t%s\n' "$_on"
        [ -z "$_conc" ] || printf 'settings\tconcurrency\t%s\n' "$_conc"
    } >"$1" || ztc_scratch_failed "$1"
    LC_CHOSEN="$_cores cores: multicore $([ "$_on" = true ] && echo "on${_conc:+, concurrency $_conc}" || echo off)"
}

# Restarts zerotier-one so it reads local.conf, and waits until it answers
# again; where it is not running yet it reads the file when it starts.
lc_restart() {
    if ! command -v zerotier-cli >/dev/null 2>&1; then
        ztc_log "zerotier-one is not installed; it reads $LC_FILE when it first starts"
        return 1
    fi
    ztc_restart_zerotier "$LC_FILE"
}

# The leaves in local.conf now (file current), and those the operator owns
# (file base): current less what the stack added before.
lc_read_current() {
    : >"$ZTC_TMP/current" || ztc_scratch_failed "$ZTC_TMP/current"
    if ztc_root test -e "$LC_FILE"; then
        ztc_root cat "$LC_FILE" >"$ZTC_TMP/local.conf" || ztc_die "could not read $LC_FILE"
        lc_flatten "$ZTC_TMP/local.conf" "$ZTC_TMP/current" "$LC_FILE"
    fi
    : >"$ZTC_TMP/before"
    if ztc_root test -f "$LC_STATE/added"; then
        ztc_root cat "$LC_STATE/added" >"$ZTC_TMP/before" || ztc_die "could not read $LC_STATE/added"
    fi
    LC_ALL=C comm -23 "$ZTC_TMP/current" "$ZTC_TMP/before" >"$ZTC_TMP/base" || ztc_scratch_failed "$ZTC_TMP/base"
}

step_create() {
    lc_check_params
    ztc_require_root
    ztc_tmpdir
    printf '%s\n' "$ZTC_LC_SETTINGS" >"$ZTC_TMP/settings.json" || ztc_scratch_failed "$ZTC_TMP/settings.json"
    lc_flatten "$ZTC_TMP/settings.json" "$ZTC_TMP/planned" "ZTC_LC_SETTINGS"
    lc_multicore "$ZTC_TMP/multicore"
    LC_ALL=C sort -u "$ZTC_TMP/planned" "$ZTC_TMP/multicore" >"$ZTC_TMP/ours" || ztc_scratch_failed "$ZTC_TMP/ours"
    lc_read_current
    _rc=0
    awk -v added="$ZTC_TMP/added" "$LC_MERGE_AWK" "$ZTC_TMP/base" "$ZTC_TMP/ours" >"$ZTC_TMP/merged" 2>"$ZTC_TMP/conflicts" || _rc=$?
    case $_rc in
        0) ;;
        3) ztc_die "$LC_FILE on $(uname -n) has entries of its own that the stack would change: $(head -c 1500 "$ZTC_TMP/conflicts" | awk '{ printf "%s%s", sep, $0; sep = "; " }'). Keep one of each: remove the entry from local.conf, or change zerotier-cluster:zerotier to match it (nothing was changed)" ;;
        *) ztc_scratch_failed "$ZTC_TMP/merged" ;;
    esac
    : >>"$ZTC_TMP/added" || ztc_scratch_failed "$ZTC_TMP/added"
    LC_ALL=C sort "$ZTC_TMP/merged" | awk "$LC_RENDER_AWK" >"$ZTC_TMP/new.conf" || ztc_scratch_failed "$ZTC_TMP/new.conf"
    LC_ALL=C sort -o "$ZTC_TMP/added" "$ZTC_TMP/added" || ztc_scratch_failed "$ZTC_TMP/added"
    # The state first: should the node stop between the renames, the next run still knows what is the stack's.
    if ! ztc_root test -f "$LC_STATE/added" && ztc_root test -f "$LC_FILE"; then
        ztc_stage_file "$LC_STATE/original" 600 "$ZTC_TMP/local.conf" || :
    fi
    ztc_stage_file "$LC_STATE/added" 600 "$ZTC_TMP/added" || :
    _changed=0
    ztc_stage_file "$LC_FILE" 644 "$ZTC_TMP/new.conf" || _changed=1
    ztc_commit_files
    _kept=$(wc -l <"$ZTC_TMP/base" | tr -d ' ')
    if [ "$_changed" -eq 0 ]; then
        ztc_log "wrote $LC_FILE: $LC_CHOSEN; $_kept entries of its own kept"
        _how=restarted
        lc_restart || _how="not running"
        echo "localconf: $LC_FILE updated ($LC_CHOSEN); zerotier-one $_how"
    else
        ztc_log "$LC_FILE already holds the stack's entries; nothing changed"
        echo "localconf: $LC_FILE unchanged ($LC_CHOSEN)"
    fi
}

step_update() {
    step_create
}

step_delete() {
    ztc_require_root
    if ! ztc_root test -d "$LC_STATE"; then
        echo "localconf: the stack never wrote $LC_FILE here; nothing to remove"
        return 0
    fi
    ztc_tmpdir
    lc_read_current
    _changed=0
    if ztc_root test -f "$LC_STATE/original"; then
        ztc_root cat "$LC_STATE/original" >"$ZTC_TMP/original" || ztc_die "could not read $LC_STATE/original"
        lc_flatten "$ZTC_TMP/original" "$ZTC_TMP/original.leaves" "$LC_STATE/original"
    else
        : >"$ZTC_TMP/original.leaves"
    fi
    if ztc_root test -f "$LC_STATE/original" && cmp -s "$ZTC_TMP/base" "$ZTC_TMP/original.leaves"; then
        ztc_sync_file "$LC_FILE" 644 "$ZTC_TMP/original" || _changed=1
    elif [ -s "$ZTC_TMP/base" ]; then
        awk "$LC_RENDER_AWK" "$ZTC_TMP/base" >"$ZTC_TMP/new.conf" || ztc_scratch_failed "$ZTC_TMP/new.conf"
        ztc_sync_file "$LC_FILE" 644 "$ZTC_TMP/new.conf" || _changed=1
    elif ztc_root test -e "$LC_FILE"; then
        ztc_root rm -f "$LC_FILE" || ztc_die "could not remove $LC_FILE"
    else
        _changed=1
    fi
    ztc_root rm -rf "$LC_STATE" || ztc_die "could not remove $LC_STATE"
    if [ "$_changed" -eq 0 ]; then
        _how=restarted
        lc_restart || _how="not running"
        echo "localconf: the stack's entries removed from $LC_FILE; zerotier-one $_how"
    else
        echo "localconf: $LC_FILE has none of the stack's entries"
    fi
}

ztc_run "$@"; exit $?
