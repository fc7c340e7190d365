"""Problems found in a stack file, each naming the file, the field and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    field: str  # e.g. courtcloud:sites[0].zones[2].cidr
    message: str
    fix: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}\n    fix: {self.fix}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
        }


class ModelError(Exception):
    """The model could not be loaded; `problems` says every reason found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the site model:\n"
            + "\n".join(str(p) for p in problems)
        )
