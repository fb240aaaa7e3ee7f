"""Deliberate bugs the suite must catch: the node scripts' list and the command that makes each one."""
