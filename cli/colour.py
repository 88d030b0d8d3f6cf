"""Colour for people at a terminal, and only there: never when the output is piped or redirected, when
NO_COLOR is set to anything (https://no-color.org), or on a terminal that says it is dumb.

The text is the same with and without colour: colour only marks the words a reviewer must not miss.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TextIO

RESET = "\033[0m"
RED_BOLD, RED, YELLOW, GREEN = "\033[1;31m", "\033[31m", "\033[33m", "\033[32m"
# What each marker means for the reader: lost data and a failing deploy in bold red, broken rules in red,
# risks and advisories in yellow, what is added in green.
MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(DATA LOSS|WILL FAIL)\b"), RED_BOLD),
    (re.compile(r"\bRISK data-loss\b"), RED_BOLD),
    (re.compile(r"\b(MANDATORY|refused)\b"), RED),
    (re.compile(r"\b(RISK [a-z-]+|ADVISORY)\b"), YELLOW),
    (re.compile(r"^(\s*tenant added)\b"), GREEN),
    # A resource's change line, as Terraform colours it.
    (re.compile(r"^\s+(\+-|-) (?=\S)"), RED),
    (re.compile(r"^\s+\+ (?=\S)"), GREEN),
    (re.compile(r"^\s+(~|=) (?=\S)"), YELLOW),
)


def wants_colour(stream: TextIO, environment: Mapping[str, str] = os.environ) -> bool:
    if "NO_COLOR" in environment and environment["NO_COLOR"] != "":
        return False
    if environment.get("TERM") == "dumb":
        return False
    return stream.isatty()


def coloured(text: str) -> str:
    """`text` with each marker coloured, the first marker that matches a span winning."""
    out = []
    for line in text.split("\n"):
        for pattern, colour in MARKERS:
            if match := pattern.search(line):
                line = f"{line[: match.start()]}{colour}{match.group(0)}{RESET}{line[match.end() :]}"
                break
        out.append(line)
    return "\n".join(out)


def for_stream(text: str, stream: TextIO) -> str:
    return coloured(text) if wants_colour(stream) else text
