"""Configuration problems, reported all at once and before any resource exists."""

from __future__ import annotations

from dataclasses import dataclass


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
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))

    def locations(self) -> list[str]:
        """The config keys (or file paths) of every problem."""
        return [p.key for p in self.problems]
