"""Configuration problems, reported all at once and before any resource exists."""

from __future__ import annotations

from dataclasses import dataclass

#: How many problems an error lists; the rest are counted, so the output stays bounded.
SHOWN_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what is wrong, and what to do."""

    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}\n    fix: {self.fix}"


class ConfigError(ValueError):
    """The stack configuration cannot be turned into a cluster.

    Carries every problem found, so one ``pulumi preview`` shows them all rather
    than one per run.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} configuration problem{'s' if count != 1 else ''}:"
        lines = [head, *(f"  {p}" for p in self.problems[:SHOWN_PROBLEMS])]
        if count > SHOWN_PROBLEMS:
            lines.append(f"  ... and {count - SHOWN_PROBLEMS} more (fix these first)")
        super().__init__("\n".join(lines))

    def locations(self) -> list[str]:
        """The config keys (or file paths) of every problem."""
        return [p.key for p in self.problems]
