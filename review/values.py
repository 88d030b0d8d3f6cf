"""How a changed input reads in a review, as `pulumi preview --diff` and `terraform plan` show it: its old and new
values, secrets masked (the engine's secret mark, `pulumi.runtime.rpc`), values only a deploy knows named as such,
long values folded, a policy document as the statements it loses and gains, a list as the items it loses and
gains. review/diff.py keeps the pair of values, review/render.py prints them."""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi.runtime import rpc

SECRET = "[secret]"  # noqa: S105 - the mask shown in place of a secret, not one
# The two sides of a value only a deploy knows (an id, a random suffix): held in the state, chosen by the next one.
AS_DEPLOYED = "(as deployed)"
KNOWN_AFTER_DEPLOY = "(known after deploy)"
NOTHING = "(none)"
FOLD_AT = 160  # characters of one value shown on a line; the rest is counted, never dropped silently


def shown(value: Any, unknowns: re.Pattern[str] | None = None, marker: str = KNOWN_AFTER_DEPLOY) -> Any:
    """`value` as a reviewer may see it: every secret the engine marked is SECRET, every value only a deploy
    knows (`unknowns`, the mocks' inventions) is `marker`."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET
        return {key: shown(item, unknowns, marker) for key, item in value.items()}
    if isinstance(value, list):
        return [shown(item, unknowns, marker) for item in value]
    if isinstance(value, str) and unknowns is not None:
        return unknowns.sub(marker, value)
    return value


def folded(text: str, limit: int = FOLD_AT) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def as_text(value: Any) -> str:
    """One value on one line: a string as it is written in JSON (quoted), anything else as compact JSON; ASCII only,
    so a letter that only looks Latin (a Cyrillic o in an ARN) shows as its escape, and no control character
    reaches the terminal."""
    if value is None:
        return NOTHING
    return folded(json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(", ", ": "), default=str))


def _document(value: Any) -> dict[str, Any] | None:
    """A policy document (a JSON string or a mapping with Statement), or None."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) and "Statement" in value else None


def _statements(document: dict[str, Any] | None) -> list[Any]:
    if document is None:
        return []
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


# A statement's keys in the order a reviewer reads them: who, may or may not, do what, on what, when.
STATEMENT_ORDER = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource")


def statement_text(statement: Any) -> str:
    """A policy statement on one line, whole (never folded: a principal cut off is a grant unseen), its keys in
    STATEMENT_ORDER and then the rest (Condition)."""
    if not isinstance(statement, dict):
        return json.dumps(statement, ensure_ascii=True, default=str)
    ordered = {key: statement[key] for key in STATEMENT_ORDER if key in statement}
    ordered |= {key: statement[key] for key in sorted(statement) if key not in ordered}
    return json.dumps(ordered, ensure_ascii=True, separators=(", ", ": "), default=str)


def value_lines(name: str, before: Any, after: Any) -> list[str]:
    """The lines that show one input's change, each without indentation: `name: old -> new`, or for a policy
    document and a list, one line per statement or item removed (`-`) and added (`+`)."""
    old_document, new_document = _document(before), _document(after)
    if (old_document or before is None) and (new_document or after is None) and (old_document or new_document):
        old, new = _statements(old_document), _statements(new_document)
        lines = [f"  - statement {statement_text(s)}" for s in old if s not in new]
        lines += [f"  + statement {statement_text(s)}" for s in new if s not in old]
        other = {k: v for k, v in (new_document or {}).items() if k != "Statement"}
        if other != {k: v for k, v in (old_document or {}).items() if k != "Statement"}:
            lines.append(f"  ~ {as_text(other)}")
        return [f"{name}:", *lines] if lines else [f"{name}: the same statements, written differently"]
    if isinstance(before, list | type(None)) and isinstance(after, list | type(None)) and (before or after):
        old_items, new_items = before or [], after or []
        lines = [f"  - {as_text(item)}" for item in old_items if item not in new_items]
        lines += [f"  + {as_text(item)}" for item in new_items if item not in old_items]
        return [f"{name}:", *lines] if lines else [f"{name}: the same items, in another order"]
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(before.keys() | after.keys())
        return [
            f"{name}.{key}: {as_text(before.get(key))} -> {as_text(after.get(key))}"
            for key in keys
            if before.get(key) != after.get(key)
        ] or [f"{name}: written differently"]
    return [f"{name}: {as_text(before)} -> {as_text(after)}"]
