"""Reading config: stack files, inventories and values, validated into a :class:`~cluster.spec.ClusterSpec`.

Every problem names its config key and its fix, all of them at once, before
anything is declared. Cross-field checks (``checks``) plan addresses and
evaluate the network's rules to refuse a config that cannot work.
"""
