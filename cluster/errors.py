"""Configuration problems, reported all at once and before any resource exists.

Every problem reaches the operator through :func:`safe`: whatever an input
held (terminal escapes such as OSC 52, which writes the reader's clipboard,
C0/C1 controls, bidi overrides, zero-width characters, megabytes of text), a
message shows it escaped and bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How many problems an error lists; the rest are counted, so the output stays bounded.
SHOWN_PROBLEMS = 50
#: The most characters a problem's key, message and fix each show.
KEY_CHARS = 200
MESSAGE_CHARS = 400
FIX_CHARS = 400


def safe(text: object, limit: int = MESSAGE_CHARS) -> str:
    """``text`` as a terminal may show it: every unprintable character escaped visibly, at most ``limit`` long.

    ``str.isprintable`` is false for controls (C0, DEL, C1: ESC starts every
    terminal escape), format characters (bidi overrides, zero-width joiners,
    the BOM), line and paragraph separators and unassigned code points; each
    is written as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``. Only the first
    ``limit`` characters are looked at, so a 3 MB value costs no more than a short one.
    """
    raw = text if isinstance(text, str) else str(text)
    pieces = [_escaped(char) for char in raw[:limit]]
    if len(raw) <= limit and sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    kept, size = [], 0
    for piece in pieces:
        if size + len(piece) > limit - 3:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + "..."


def _escaped(char: str) -> str:
    if char.isprintable():
        return char
    if ord(char) < 0x100:
        return f"\\x{ord(char):02x}"
    if ord(char) < 0x10000:
        return f"\\u{ord(char):04x}"
    return f"\\U{ord(char):08x}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what is wrong, and what to do."""

    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{safe(self.key, KEY_CHARS)}: {safe(self.message)}\n    fix: {safe(self.fix, FIX_CHARS)}"


class ConfigError(ValueError):
    """The stack configuration cannot be turned into a cluster.

    Carries every problem found, so one ``pulumi preview`` shows them all rather
    than one per run. Its text is the only way problems are shown, and it is
    always escaped and bounded (:func:`safe`).
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        # One mistake read by many (a group's variable, by each of its hosts) is listed once.
        self.problems = tuple(dict.fromkeys(problems))
        count = len(self.problems)
        head = f"{count} configuration problem{'s' if count != 1 else ''}:"
        lines = [head, *(f"  {p}" for p in self.problems[:SHOWN_PROBLEMS])]
        if count > SHOWN_PROBLEMS:
            lines.append(f"  ... and {count - SHOWN_PROBLEMS} more (fix these first)")
        super().__init__("\n".join(lines))

    def locations(self) -> list[str]:
        """The config keys (or file paths) of every problem."""
        return [p.key for p in self.problems]
