"""Problems found in the inputs, reported all at once before any resource is declared."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where it is (file, line, tenant, field) and what is wrong."""

    source: str
    message: str
    line: int | None = None
    tenant_index: int | None = None
    org_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        # A file's name is the user's too (Pulumi.<anything>.yaml): a control character in it is escaped.
        where = printable(self.source) if self.line is None else f"{printable(self.source)}:{self.line}"
        parts = [where]
        if self.tenant_index is not None:
            tenant = f"tenants[{self.tenant_index}]"
            if self.org_id:
                tenant += f" (orgId {self.org_id!r})"
            parts.append(tenant)
        if self.field:
            parts.append(f"field {self.field!r}")
        return " ".join(parts) + f": {self.message}"


class InvalidInput(Exception):
    """Raised with every problem found; the program declares no resource when it is raised."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        # Built when shown, not when raised: a registry of a million bad entries is refused per stack.
        header = f"{counted(len(self.problems), 'problem')} in the tenant-storage inputs; nothing was deployed:"
        return "\n".join([header, *(f"  - {problem}" for problem in self.problems)])


def raise_if_any(problems: Iterable[Problem]) -> None:
    found = list(problems)
    if found:
        raise InvalidInput(found)


def did_you_mean(value: str, known: Sequence[str]) -> str:
    """` (did you mean 'qa'?)` when `value` is close to one of `known` (similar, or one a prefix of the other:
    `production` for `prod`), else nothing: for any name a user types."""
    lowered = value.lower()
    prefixed = [
        name for name in known if value and (lowered.startswith(name.lower()) or name.lower().startswith(lowered))
    ]
    close = difflib.get_close_matches(value, known, n=1) or prefixed[:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def not_one_of(value: str, allowed: Sequence[str]) -> str:
    """The message for a value outside its choices: the choices, and the closest one."""
    return f"{quoted(value)} is not one of {', '.join(allowed)}{did_you_mean(value, allowed)}"


def quoted(value: str, limit: int = 60) -> str:
    """`value` as a message shows what a user typed: quoted, control characters escaped, a long one cut."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def printable(text: str) -> str:
    """`text` safe on a terminal: a control character (a tenant's key, a git ref may hold ESC or CR) escaped, as
    `\\x1b`."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


def counted(number: int, noun: str) -> str:
    """`1 key`, `2 keys`, `1,500 keys`: a count for people, in every message that counts."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
