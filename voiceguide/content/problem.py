"""A problem found in a routine, library or locale file, located to file:line:column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error in a file: where it is (1-based line/column), which field, and what is wrong."""

    path: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order problems by file, then position."""
        return (self.path, self.line, self.column, self.field, self.message)


def format_field(path: tuple[str | int, ...]) -> str:
    """Render a data path as a field name, e.g. ('steps', 2, 'hold_seconds') -> steps[2].hold_seconds."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
