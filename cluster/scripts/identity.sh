#!/bin/sh
# identity: prints this node's ZeroTier address, the first field of its identity.public.
#
# No parameters. Runs after install, only ever as create: its resource has no update
# and no delete, and its triggers are the node's generation and host, the only
# changes that can give the node another address (see _identity in
# cluster/plan/declarations.py). Its connection is ignored, so a rotated login or key
# leaves its output, the address the node's member authorizes (for the head, the
# network ID), known in a preview. Reading the address from install instead would
# make a version bump show every member and join as changing.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=identity

step_create() {
    ztc_require_root
    ztc_zerotier_address "is zerotier-one installed and running? (the install step does both; see 'journalctl -u zerotier-one')"
}

ztc_run "$@"; exit $?
