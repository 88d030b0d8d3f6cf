"""Whether an input is held as declared, and, when it is not, the difference in the words of AWS and YAML.

The replay asks `as_declared` of every input it applied; `audit` asks `differences` of every input the stack
declares. Both compare what a value means: policy documents statement by statement, tags exactly (an added
tag may grant access through a policy that reads it), a setting field by field where the API may add fields
at their defaults, and unordered lists (rules, names, members) item for item.
"""

from __future__ import annotations

import json
from typing import Any

from catalogue.readers import to_aws


def as_declared(name: str, declared: Any, held: Any) -> bool:
    """A document (a policy, a secret's JSON) and a set of tags are held exactly as declared: nothing added to
    them is a default, and an added Condition or Principal changes what they allow. A setting may also carry
    fields the API adds at their defaults."""
    exact = name == "tags" or _is_document(declared)
    if exact:
        return bool(normalised(held) == normalised(declared))
    return holds(normalised(held), normalised(declared))


def holds(held: Any, declared: Any) -> bool:
    """Whether `held` is what `declared` asks for: every declared field equal, where the API may add fields only
    at their defaults (a bucket key `false`, an empty filter where none was declared): a field held with a value
    (an `Expiration` added to a lifecycle rule, a transition) is a difference; a list item for item, in any
    order."""
    if isinstance(declared, dict):
        return (
            isinstance(held, dict)
            and all(holds(held.get(name), item) for name, item in declared.items())
            and all(value in AT_DEFAULT for name, value in held.items() if name not in declared)
        )
    if isinstance(declared, list):
        if not isinstance(held, list) or len(held) != len(declared):
            return False
        unmatched = list(held)
        for item in declared:
            match = next((candidate for candidate in unmatched if holds(candidate, item)), None)
            if match is None:
                return False
            unmatched.remove(match)
        return True
    return bool(held == declared)


# What an API may answer for a field nobody set.
AT_DEFAULT: tuple[Any, ...] = (None, "", False, [], {})


def normalised(value: Any) -> Any:
    """A value compared for what it means: JSON documents parsed, whole numbers as integers, unordered lists
    (names, rules) sorted."""
    if _is_document(value):
        try:
            return normalised(json.loads(value))
        except json.JSONDecodeError:
            return value
    if isinstance(value, dict):
        return {name: normalised(item) for name, item in value.items()}
    if isinstance(value, list):
        return sorted((normalised(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_document(value: Any) -> bool:
    return isinstance(value, str) and value[:1] == "{"


def differences(name: str, declared: Any, held: Any) -> list[str]:
    """What of the declared `name` the resource does not hold, one line each; [] when it holds it as declared."""
    if _is_document(declared):
        return _statement_differences(declared, held)
    if name == "tags":
        return _tag_differences(declared or {}, held or {})
    if as_declared(name, declared, held):
        return []
    if isinstance(declared, list):
        return _item_differences(name, declared, held if isinstance(held, list) else [])
    if isinstance(declared, dict):
        held_fields = held if isinstance(held, dict) else {}
        return [
            line
            for field_name, value in declared.items()
            for line in differences(f"{name}.{field_name}", value, held_fields.get(field_name))
        ]
    return [f"{spelt(name)} is {worded(held)}, declared {worded(declared)}"]


def spelt(name: str) -> str:
    """A provider input path (`versioningConfiguration.status`) in AWS's spelling (`VersioningConfiguration.Status`)."""
    return ".".join(next(iter(to_aws({part: None}))) for part in name.split("."))


def worded(value: Any) -> str:
    """A value as a person reads it in YAML: on/off, not set, quoted strings, items joined."""
    if value is None or value == [] or value == {}:
        return "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list):
        return ", ".join(worded(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(to_aws(value), sort_keys=True)
    return str(value)


def _tag_differences(declared: dict[str, Any], held: dict[str, Any]) -> list[str]:
    lines = [
        f"tag {key} is {worded(held.get(key))}, declared {worded(value)}"
        for key, value in sorted(declared.items())
        if held.get(key) != value
    ]
    return lines + [f"tag {key} = {worded(held[key])} is not declared" for key in sorted(held.keys() - declared.keys())]


def _item_differences(name: str, declared: list[Any], held: list[Any]) -> list[str]:
    unmatched = list(held)
    missing = []
    for item in declared:
        match = next((candidate for candidate in unmatched if holds(normalised(candidate), normalised(item))), None)
        if match is None:
            missing.append(item)
        else:
            unmatched.remove(match)
    what = spelt(name)
    return [f"{what}: {_item(item)} is missing" for item in missing] + [
        f"{what}: {_item(item)} is not declared" for item in unmatched
    ]


def _item(item: Any) -> str:
    if isinstance(item, dict) and ("id" in item or "ID" in item):
        return f"rule {worded(item.get('id', item.get('ID')))}"
    return worded(item)


def statement_key(statement: dict[str, Any]) -> str:
    """A statement as a comparable string: one-element lists and single values are the same to AWS, and its
    Sid (a label) changes nothing it allows."""

    def norm(value: Any) -> Any:
        if isinstance(value, list):
            items = sorted((norm(v) for v in value), key=json.dumps)
            return items[0] if len(items) == 1 else items
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return value

    return json.dumps(norm({k: v for k, v in statement.items() if k != "Sid"}), sort_keys=True)


def _statements(document: Any) -> set[str]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return {document}
    statements = (document or {}).get("Statement", []) if isinstance(document, dict) else []
    return {statement_key(s) for s in (statements if isinstance(statements, list) else [statements])}


def _statement_differences(declared: str, held: Any) -> list[str]:
    if held is None:
        return ["not set, declared a policy"]
    wanted, present = _statements(declared), _statements(held)
    return [f"declared statement missing: {s}" for s in sorted(wanted - present)] + [
        f"statement not declared: {s}" for s in sorted(present - wanted)
    ]
