#!/bin/sh
# identity: prints this node's ZeroTier address, the first field of its identity.public.
#
# No parameters. Runs after install. Its command's inputs are the node's connection,
# name and generation, so its output (the address the node's member authorizes, and
# for the head the network ID) can only change in a preview when the machine can
# have changed: reimaged, replaced at a new host, or reached another way. Reading
# the address from install instead would make a version bump show every member and
# join as changing. delete: nothing to undo.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=identity

step_create() {
    ztc_require_root
    ztc_zerotier_address "is zerotier-one installed and running? (the install step does both; see 'journalctl -u zerotier-one')"
}

step_update() {
    step_create
}

step_delete() {
    echo "identity: nothing to undo"
}

ztc_run "$@"; exit $?
