"""The plan's JSON: one naming style, camelCase field names, as `orgId` in tenants.yaml."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any


def camel_case(name: str) -> str:
    """`bucket_name` -> `bucketName`: the one naming style of the JSON, as `orgId` in tenants.yaml."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def json_fields(value: Any, drop: frozenset[str] = frozenset()) -> Any:
    """A dataclass as JSON, its field names in camelCase (the keys of its dicts are data and stay as they are)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            camel_case(item.name): json_fields(getattr(value, item.name), drop)
            for item in fields(value)
            if item.name not in drop
        }
    if isinstance(value, dict):
        return {key: json_fields(item, drop) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_fields(item, drop) for item in value]
    return value
