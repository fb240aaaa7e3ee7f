"""Planning: a validated spec turned into addresses, rulesets, step scripts and the stack's bundle.

Pure and deterministic: the same spec always gives byte-identical plans, and
nothing here imports Pulumi. ``build.build_plan`` is the entry point.
"""
