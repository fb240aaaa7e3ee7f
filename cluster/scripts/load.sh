#!/bin/sh
# load: the last lines of every step's stdin (composed by cluster/steps.py).
#
# ZTC_PROGRAM is the SHA-256 of the step's program: its shared parameters,
# lib.sh and the step's script, one content-addressed object. It is read from
# the node's store (/var/lib/zerotier-cluster/objects, which only root can
# change), else from the bundle pulumi copied into the login's home
# (~/.zerotier-cluster/bundle.tar), and its hash is checked here, in memory,
# before any of it runs: what runs is exactly what was checked. Every command
# stores its stdin twice in Pulumi's state, so this file is kept short, and
# its comment lines are not sent.
# shellcheck disable=SC2034,SC2154  # ZTC_* come from the lines before this file

ZTC_TEXT=$({ cat "/var/lib/zerotier-cluster/objects/$ZTC_PROGRAM" || tar -xOf ~/.zerotier-cluster/bundle.tar "objects/$ZTC_PROGRAM"; } 2>/dev/null; echo .)
ZTC_TEXT=${ZTC_TEXT%.}
[ "$(printf %s "$ZTC_TEXT" | sha256sum)" = "$ZTC_PROGRAM  -" ] || {
    echo "zerotier-cluster[$ZTC_NODE]: program $ZTC_PROGRAM missing or damaged on $(uname -n): run pulumi up again" >&2
    exit 1
}
eval "$ZTC_TEXT"
