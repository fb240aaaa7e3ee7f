"""Operator rules (``rules.extra``, ``rules.replace``): ZeroTier rule source parsed into the model.

A compiler for the subset of ZeroTier's language whose match keywords are in
:data:`~cluster.rules.keywords.KEYWORDS` (each entry reads its own
arguments); anything else is refused with the key, the line and the reason.
Words are split and comments skipped exactly as ZeroTier's compiler does
(``rule-compiler/rule-compiler.js``: only space, tab, CR and LF separate
words; ``#`` starting a word comments out the rest of the line), and what is
accepted is never more than that compiler accepts, so a rule means here what
it means to ZeroTier. Messages quote at most a bounded excerpt of the text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster.conventions import MAX_RULE_ENTRIES
from cluster.errors import Problem
from cluster.rules.keywords import KEYWORDS, RESERVED, shown
from cluster.rules.model import ACTIONS, KEY, Match, Rule, RulesSpec

#: The most problems reported for one rules key; reading stops there.
MAX_PROBLEMS = 10
#: More words than any rule within ZeroTier's limit of entries has (a match is at most 5 words with not, or).
MAX_WORDS = 5 * MAX_RULE_ENTRIES

#: Parts of ZeroTier's language refused in operator rules, and why.
REFUSED: Mapping[str, str] = {
    "tag": "tags are the program's: only the tag 'role' exists, defined by the program",
    "cap": "capabilities are not supported",
    "macro": "macros are not supported: write the rules out",
    "include": "macros are not supported: write the rules out",
    "tee": "tee sends copies of traffic elsewhere; not supported",
    "watch": "watch sends copies of traffic elsewhere; not supported",
    "redirect": "redirect sends traffic elsewhere; not supported",
    "priority": "priority (QoS) is not supported",
}


def parse_rules(value: Any, key: str = KEY) -> tuple[RulesSpec, list[Problem]]:
    """``zerotier-cluster:rules``: ``{extra: <rule source>}`` or ``{replace: <rule source>}``."""
    if value is None:
        return RulesSpec(), []
    if not isinstance(value, Mapping):
        return RulesSpec(), [Problem(key, "must be a mapping", "write `rules: {extra: |\\n  <ZeroTier rules>}`")]
    problems = []
    for name in value:
        if name not in ("extra", "replace"):
            text = str(name)
            near = difflib.get_close_matches(text[:20], ["extra", "replace"], n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            shown_name = text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
            problems.append(Problem(f"{key}.{shown_name}", "is not a known key", f"{hint}use extra or replace"))
    if "extra" in value and "replace" in value:
        problems.append(
            Problem(key, "sets both extra and replace", "use extra to add to the generated rules, or replace alone")
        )
        return RulesSpec(), problems
    spec = RulesSpec()
    for name in ("extra", "replace"):
        if name not in value:
            continue
        where = f"{key}.{name}"
        text = value[name]
        if not isinstance(text, str):
            problems.append(Problem(where, "must be ZeroTier rule source text", "write the rules as a YAML block: `|`"))
            continue
        parsed, found = parse_source(text, where, final=name == "replace")
        problems += found
        if not found and not parsed:
            problems.append(
                Problem(where, "has no rules", f"write at least one rule ending in an action, or remove {name}")
            )
        if found or not parsed:
            continue
        spec = RulesSpec(extra=parsed, origin=where) if name == "extra" else RulesSpec(replace=parsed, origin=where)
    return spec, problems


@dataclass(frozen=True)
class _Token:
    text: str
    line: int


#: A word as ZeroTier's compiler splits them (only space, tab, CR, LF separate), or a comment: a word
#: starting with ``#`` hides the rest of its line (up to CR or LF).
_WORD = re.compile(r"#[^\r\n]*|[^ \t\r\n]+")


def _tokens(text: str) -> Iterator[list[_Token]]:
    """Statements (lists of words), split as ZeroTier's compiler splits them: a word ending in ``;`` ends one."""
    current: list[_Token] = []
    line, seen = 1, 0
    for found in _WORD.finditer(text):
        raw = found.group()
        if raw.startswith("#"):
            continue
        line += text.count("\n", seen, found.start())
        seen = found.start()
        end = raw.endswith(";")
        word = raw[:-1] if end else raw
        if word and len(current) <= MAX_WORDS:
            current.append(_Token(word, line))
        if end and current:
            yield current
            current = []
    if current:
        yield current


def parse_source(text: str, key: str, *, final: bool) -> tuple[tuple[Rule, ...], list[Problem]]:
    """Rules from ZeroTier rule source (actions in :data:`ACTIONS`, matches in ``KEYWORDS``).

    A rule without matches decides every frame, so nothing after it ever
    applies: it may only be the last rule, and only of rules that end the
    list (``final``, i.e. ``rules.replace``), never in ``rules.extra``.
    Reading stops after :data:`MAX_PROBLEMS` problems, or once the rules
    alone exceed ZeroTier's limit of entries, so no text makes a long message
    or a long wait.
    """
    rules: list[Rule] = []
    problems: list[Problem] = []
    entries = 0
    statements = _tokens(text)
    statement = next(statements, None)
    while statement is not None:
        following = next(statements, None)
        where = f"{key} (line {statement[0].line})"
        if len(problems) == MAX_PROBLEMS:
            problems.append(Problem(where, "and what follows was not read", "fix the problems above first"))
            break
        outcome = _statement(statement, where, final=final, last=following is None)
        if isinstance(outcome, Problem):
            problems.append(outcome)
        else:
            rules.append(outcome)
            entries += outcome.entries
        if entries > MAX_RULE_ENTRIES:
            problems.append(
                Problem(
                    where,
                    f"the rules up to here have {entries} entries; ZeroTier takes at most {MAX_RULE_ENTRIES} in all",
                    "use fewer or shorter rules (every match and every action is an entry)",
                )
            )
            break
        statement = following
    return tuple(rules), problems


def _statement(statement: Sequence[_Token], where: str, *, final: bool, last: bool) -> Rule | Problem:
    """The rule a statement is, or the problem with it."""
    head = statement[0]
    word = head.text
    if word.lower() in REFUSED:
        return Problem(where, f"{shown(word)}: {REFUSED[word.lower()]}", "remove it")
    if word not in ACTIONS:
        fix = "start every rule with accept, drop or break"
        if word.lower() in ACTIONS:
            fix = f"write {word.lower()} in lower case (ZeroTier's compiler reads only that as an action)"
        return Problem(where, f"{shown(word)} is not an action", fix)
    if len(statement) > MAX_WORDS:
        return Problem(
            where,
            f"the rule has more than {MAX_WORDS} words, more than ZeroTier's limit of {MAX_RULE_ENTRIES} entries",
            "split it, or end it with ';'",
        )
    try:
        matches = _parse_matches(statement[1:])
    except ValueError as err:
        return Problem(where, str(err), "see docs/firewall.md, 'ZeroTier rules', for what is accepted")
    if not matches and (not final or not last):
        after = "the rules after it" if final else "the generated rules after rules.extra"
        return Problem(
            where,
            f"'{word};' without matches decides every frame, so {after} would never apply",
            "give it matches (e.g. tseq role device and ipprotocol tcp and dport 443)",
        )
    return Rule(word, matches)  # type: ignore[arg-type]


def _parse_matches(words: Sequence[_Token]) -> tuple[Match, ...]:
    matches: list[Match] = []
    negate = either = False
    i = 0
    while i < len(words):
        text = words[i].text
        word = text.lower()
        i += 1
        if word == "and":
            continue
        if word == "not":
            negate = True
            continue
        if word == "or":
            either = True
            continue
        entry = KEYWORDS.get(word)
        if entry is None:
            near = difflib.get_close_matches(word[:20], list(KEYWORDS), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"{shown(text)} is not a supported match{hint}")
        args = [w.text for w in words[i : i + entry.arity]]
        if len(args) < entry.arity:
            raise ValueError(f"'{word}' needs {entry.arity} argument{'s' if entry.arity > 1 else ''}")
        reserved = [a for a in args if a.lower() in RESERVED]
        if reserved:
            hint = " (write icmp4 or 1)" if reserved[0].lower() == "icmp" else ""
            raise ValueError(f"'{word} {reserved[0]}': {reserved[0]!r} is a reserved word, not a value{hint}")
        i += entry.arity
        try:
            parsed = entry.parse(args)
        except ValueError as err:
            raise ValueError(f"{word}: {err}") from None
        matches.append(Match(word, parsed, negate, either))
        negate = either = False
    if negate or either:
        raise ValueError("'not' or 'or' must come before a match")
    return tuple(matches)
