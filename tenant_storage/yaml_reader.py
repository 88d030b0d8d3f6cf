"""A strict YAML reader for the project's input files (tenants.yaml, accounts.yaml, Pulumi.<stack>.yaml).

The inputs are reviewed data, not programs, so the reader accepts only what a reviewer can read at a
glance: UTF-8 text of bounded size, plain mappings, lists and scalars, no anchors, aliases or merge
keys (an alias bomb of a few hundred bytes expands to gigabytes), no tags beyond YAML's core types
(`!!binary`, `!!set` or `!!python/...` would smuggle in values no field expects), and no key twice.
Every structural problem is found in one pass over the parser's events, before anything is built.
"""

from __future__ import annotations

import datetime
import os
import stat
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from tenant_storage.errors import InvalidInput, Problem, quoted

# 5,000 tenants of about 100 bytes each fit in half a megabyte; anything far larger is not a registry.
MAX_INPUT_BYTES = 4 * 1024 * 1024

CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
) | frozenset({"!"})
MERGE_KEY = "<<"
# The deepest an input needs is about five levels; far deeper nesting only exhausts the parser's stack.
MAX_DEPTH = 16

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Parser: type[Any] = getattr(yaml, "CLoader", yaml.Loader)


class Mapping(dict[Hashable, Any]):
    """A YAML mapping that remembers where its keys were and how its scalar values were written."""

    line: int
    key_lines: dict[Hashable, int]
    raw_values: dict[Hashable, str]
    duplicate_keys: list[tuple[Hashable, int, int]]


class _StrictLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader (libyaml's parser when available) that records duplicate keys instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Mapping:
        mapping = Mapping()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines, mapping.raw_values, mapping.duplicate_keys = {}, {}, []
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
            if key in mapping:
                mapping.duplicate_keys.append((key, mapping.key_lines[key], line))
            mapping[key] = self.construct_object(value_node, deep=deep)
            mapping.key_lines[key] = line
            if isinstance(value_node, yaml.ScalarNode):
                mapping.raw_values[key] = value_node.value
        return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping)


def boolean_spelling_problem(value: Any, raw: str | None, expects_boolean: bool = True) -> str | None:
    """What is wrong with a boolean not written `true` or `false`: PyYAML (YAML 1.1) reads `yes`, `on` or `True` as
    one, the Pulumi engine (YAML 1.2) `yes` and `on` as strings. Every input file reads booleans by this one rule;
    where a string is expected, the word was meant as one and is to be quoted."""
    if isinstance(value, bool) and raw is not None and raw not in ("true", "false"):
        if expects_boolean:
            return f"write {quoted(raw)} as true or false"
        return f'YAML 1.1 reads {quoted(raw)} as a boolean and Pulumi (YAML 1.2) as a string: quote it, "{raw}"'
    return None


def is_regular_file(path: Path) -> bool:
    """What the reader accepts as an input: a regular file, never a symbolic link (nor a folder)."""
    return path.is_file() and not path.is_symlink()


def read_text(path: Path, what: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The file's text, or InvalidInput naming the file when it is missing, not a regular file (a symbolic
    link could make the reviewed file say something other than what is read), too large or not UTF-8."""
    source = path.name
    try:
        # O_NOFOLLOW: the link itself is refused, never the file it points to read in its place.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        if path.is_symlink():
            raise InvalidInput([Problem(source, f"is a symbolic link; {what} must be a regular file")]) from error
        raise InvalidInput([Problem(source, f"cannot read {what}: {error.strerror}")]) from error
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise InvalidInput([Problem(source, f"is not a regular file (a folder?); {what} must be one")])
    with os.fdopen(descriptor, "rb") as stream:
        try:
            data = stream.read(max_bytes + 1)
        except OSError as error:
            raise InvalidInput([Problem(source, f"cannot read {what}: {error.strerror}")]) from error
    if len(data) > max_bytes:
        raise InvalidInput([Problem(source, f"is larger than {max_bytes:,} bytes; {what} is never that large")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidInput(
            [Problem(source, f"is not UTF-8 text (byte 0x{data[error.start]:02x}); save it as UTF-8", line=line)]
        ) from error


def load_yaml(text: str, source: str) -> Any:
    """Parse `text` strictly; raise InvalidInput with every structural problem (file and line)."""
    problems = _structural_problems(text, source)
    if problems:
        raise InvalidInput(problems)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise InvalidInput([_yaml_error_problem(error, source, text)]) from error


def _structural_problems(text: str, source: str) -> list[Problem]:
    problems: list[Problem] = []
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Parser):
            mark: Any = event.start_mark
            line = mark.line + 1
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return [*problems, Problem(source, f"nests deeper than {MAX_DEPTH} levels", line=line)]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.AliasEvent):
                problems.append(
                    Problem(source, f"alias *{event.anchor} is not allowed; write the value out", line=line)
                )
                continue
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                problems.append(Problem(source, f"anchor &{anchor} is not allowed; write the value out", line=line))
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in CORE_TAGS:
                problems.append(
                    Problem(
                        source,
                        f"tag {_short_tag(tag)} is not allowed; only plain strings, numbers, booleans, "
                        "lists and mappings",
                        line=line,
                    )
                )
            if isinstance(event, yaml.ScalarEvent) and event.value == MERGE_KEY and event.implicit[0]:
                problems.append(Problem(source, "merge keys (<<) are not allowed; write every field out", line=line))
    except yaml.YAMLError as error:
        return [_yaml_error_problem(error, source, text)]
    return problems


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _yaml_error_problem(error: yaml.YAMLError, source: str, text: str) -> Problem:
    mark: Any = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(error, "problem", None) or str(error)
    lines = text.splitlines()
    column = mark.column if mark is not None else None
    if line is not None and column is not None and line <= len(lines) and lines[line - 1][column : column + 1] == "\t":
        # PyYAML names a tab as "a character that cannot start any token": say what it is and what to do.
        reason = f"a tab at column {column + 1}: YAML indents with spaces only; replace the tab with spaces"
    return Problem(source, f"not valid YAML: {reason}", line=line)


def duplicate_key_problems(
    mapping: Mapping, source: str, tenant_index: int | None = None, org_id: str | None = None
) -> list[Problem]:
    return [
        Problem(
            source,
            f"key {str(key)!r} appears twice (lines {first} and {again}); YAML would silently keep the last value",
            line=again,
            tenant_index=tenant_index,
            org_id=org_id,
            field=str(key),
        )
        for key, first, again in mapping.duplicate_keys
    ]


def yaml_repr(value: Any, limit: int = 80) -> str:
    """A value as a user wrote it, or would: `true`, `null`, `2026-11-30`, `'acme'`, `[a, b]`, `{a: 1}` (never
    Python's), cut to about `limit` characters so a huge value is named, not echoed."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return quoted(value, limit=min(limit, 60))
    if isinstance(value, list | tuple):
        shown = "[" + ", ".join(yaml_repr(item, limit) for item in value[:limit]) + "]"
    elif isinstance(value, dict):
        pairs = list(value.items())[:limit]
        shown = "{" + ", ".join(f"{yaml_repr(key, limit)}: {yaml_repr(item, limit)}" for key, item in pairs) + "}"
    else:
        shown = repr(value)
    if len(shown) <= limit:
        return shown
    closing = {"[": "]", "{": "}"}.get(shown[0], "")
    return shown[: limit - 3 - len(closing)] + "..." + closing


def as_written(value: Any) -> str:
    """A setting's value in a message about a change or a drift: `not set` for none, else as YAML writes it."""
    return "not set" if value is None else yaml_repr(value)


def yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime.date):
        return "date"
    return type(value).__name__
