"""The project's error types for bad plans.

Every problem found in a plan becomes a :class:`PlanIssue`: the file, line and
column it points at, what is wrong and how to fix it. Loading collects as many
issues as it can and raises them together as one :class:`PlanError`, so a user
sees every mistake at once. Nothing here prints; the command line turns a
``PlanError`` into ``FILE:LINE:COL: error: ...`` lines.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """A position in a plan file (1-based line and column)."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class PlanIssue:
    """One problem in a plan, with where it is and how to fix it."""

    mark: Mark
    message: str
    hint: str = ""

    def render(self) -> str:
        text = f"{self.mark}: error: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class GovnetError(Exception):
    """Base of every error govnet raises on purpose."""


class PlanError(GovnetError):
    """A plan could not be loaded; carries every issue found."""

    def __init__(self, issues: list[PlanIssue] | PlanIssue):
        if isinstance(issues, PlanIssue):
            issues = [issues]
        self.issues: list[PlanIssue] = sorted(set(issues), key=lambda i: (i.mark, i.message))
        super().__init__("\n".join(i.render() for i in self.issues))


class SelectorError(GovnetError):
    """A command-line selector (node, site, domain, role) matched nothing or was malformed."""


class IssueCollector:
    """Accumulates issues while a plan is checked, then raises them all at once."""

    def __init__(self) -> None:
        self.issues: list[PlanIssue] = []

    def add(self, mark: Mark, message: str, hint: str = "") -> None:
        self.issues.append(PlanIssue(mark, message, hint))

    def extend(self, issues: list[PlanIssue]) -> None:
        self.issues.extend(issues)

    def raise_if_any(self) -> None:
        if self.issues:
            raise PlanError(self.issues)

    def __bool__(self) -> bool:
        return bool(self.issues)
