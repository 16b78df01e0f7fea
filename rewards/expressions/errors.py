"""Expression errors: every problem carries its position and "did you mean" suggestions."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from config.errors import DomainError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an expression, at `offset` (0-based) = `line`:`column` (1-based)."""

    message: str
    offset: int
    line: int
    column: int
    suggestions: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "offset": self.offset,
            "suggestions": list(self.suggestions),
        }

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column})"


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a 0-based offset in `text`."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def problem(text: str, offset: int, message: str, suggestions: Sequence[str] = ()) -> Problem:
    line, column = position(text, offset)
    return Problem(message, offset, line, column, tuple(suggestions))


class ExpressionError(DomainError):
    """An expression that does not parse or does not check; `problems` lists every finding."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        first = self.problems[0] if self.problems else None
        message = str(first) if first else "invalid expression"
        if len(self.problems) > 1:
            message += f" (and {len(self.problems) - 1} more)"
        super().__init__(
            "invalid_expression",
            message,
            details={"errors": [p.as_dict() for p in self.problems]},
        )
