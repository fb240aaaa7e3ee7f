#!/bin/sh
# load: the last lines of every step's stdin (composed by cluster/steps.py).
#
# ZTC_PROGRAM is the SHA-256 of the step's program: its shared parameters,
# lib.sh and the step's script, one content-addressed object. It is read from
# the node's store (/var/lib/zerotier-cluster/objects, which only root can
# change), else from the bundle pulumi copied into the login's home, and its
# hash is checked here, in memory, before any of it runs: what runs is exactly
# what was checked. The comment lines of this file are not sent.
# shellcheck disable=SC2034,SC2154  # ZTC_* come from the lines before this file

ZTC_STORE=/var/lib/zerotier-cluster/objects
ZTC_BUNDLE=$HOME/.zerotier-cluster/bundle.tar
ZTC_PROGRAM_TEXT=$({ cat "$ZTC_STORE/$ZTC_PROGRAM" || tar -xOf "$ZTC_BUNDLE" "objects/$ZTC_PROGRAM"; } 2>/dev/null; echo .)
ZTC_PROGRAM_TEXT=${ZTC_PROGRAM_TEXT%.}
if [ "$(printf %s "$ZTC_PROGRAM_TEXT" | sha256sum)" != "$ZTC_PROGRAM  -" ]; then
    echo "zerotier-cluster[$ZTC_NODE]: the program $ZTC_PROGRAM is neither in $ZTC_STORE nor in $ZTC_BUNDLE on $(uname -n), or is damaged; run pulumi up again (it copies the bundle before any step)" >&2
    exit 1
fi
eval "$ZTC_PROGRAM_TEXT"
