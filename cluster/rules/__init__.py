"""The ZeroTier network's flow rules: anti-spoofing and role-based access, as one model.

ZeroTier filters every frame twice, on the sender (outbound) and on the
receiver (inbound), with the network's rules: a list of matches, each ending
in an action. This module holds those rules as Python values
(:class:`Rule`, :class:`Match`) and produces from them both forms a
controller takes:

* :meth:`NetworkRules.source`: rule source text, what ZeroTier Central
  compiles (the provider's ``flow_rules``);
* :meth:`NetworkRules.compiled`: ``{"rules", "tags", "capabilities"}``, what
  the controller inside zerotier-one takes (``POST /controller/network/<id>``).

Both come from the same values, and tests hold ``compiled()`` to what
ZeroTier's own rule compiler prints for ``source()``.

The generated policy (docs/firewall.md, "ZeroTier rules"):

1. drop every frame that is not IPv4 or ARP, and every frame whose sender IP
   the controller did not assign to the sender (``chr ipauth``);
2. accept ARP;
3. the operator's ``rules.extra``;
4. every member carries the tag ``role`` (:data:`ROLE_TAG_ID`): ``head``,
   ``compute``, ``device``, or ``other`` (the default: members this program
   does not manage). ``head``, ``compute`` and ``other`` reach each other
   unrestricted (what a node admits is nftables' business); devices with
   ``firewall.devices: ssh`` reach only TCP to the nodes' SSH ports (and get
   its replies) and ICMP to and from nodes; with ``devices: all`` they are
   like members;
5. drop everything else.

Tag matches fail closed: a receiver that does not (yet) know the sender's
tag does not match ``tseq``, so an untagged frame falls to the final drop.

``rules.replace`` swaps 1-5 for the operator's own rules; the ``role`` tag and
the members' tags stay. Operator rules are parsed by
:func:`~.parser.parse_source`, a compiler for the subset of ZeroTier's
language whose match keywords are in :data:`~.keywords.KEYWORDS`; anything
else is refused with the key and the reason. Every rule set must keep ARP,
ping, SSH, Slurm and MPI between every pair of nodes (checked by evaluating
it with ZeroTier's semantics at the nodes' real addresses,
:func:`~.evaluator.cluster_problems`) and stay within ZeroTier's limit of
:data:`~cluster.conventions.MAX_RULE_ENTRIES` entries.

Pure: never imports pulumi. The package, bottom up: :mod:`.frame` (what the
rule engine sees of a frame), :mod:`.keywords` (one table entry per match
keyword: its source words, compiled form, argument parsing and how it
matches a frame), :mod:`.model` (rules as values, both forms), then
:mod:`.policy` (the generated rules), :mod:`.parser` (operator rule source)
and :mod:`.evaluator` (a frame's fate, reachability, the lock-out check).
"""
