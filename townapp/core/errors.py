"""Domain errors carry a Chinese message the UI and CLI show as they are."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """A rule of the domain refused the action; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field; ``field`` names the DTO attribute."""

    field: str
    message: str
    severity: str = "error"  # "error" | "warning"


class ValidationFailed(DomainError):
    """Input failed validation; ``problems`` say which field and why."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("；".join(p.message for p in errors) or "输入有误")
        self.problems = problems


class NotFound(DomainError):
    """The record asked for does not exist (any more)."""


class PermissionDenied(DomainError):
    """The acting user's role does not allow the action."""


class Cancelled(Exception):
    """A long job was cancelled by the user; work done so far is rolled back."""


@dataclass
class CheckReport:
    """Result of consistency checks: errors fail ``townapp check``, warnings do not."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
