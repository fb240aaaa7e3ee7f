"""Throwaway hosts for tests: network namespaces, a cached Debian 12 tree, sshd and systemd.

Everything here needs root. Tests ask for it through ``conftest.needs_root``,
which skips on a laptop and fails under ``CI=true``.
"""
