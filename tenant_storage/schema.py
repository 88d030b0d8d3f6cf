"""The JSON Schema of tenants.yaml, generated from the same model that validates it.

    python -m tenant_storage.schema > tenants.schema.json

Editors with the YAML language server pick it up from the `# yaml-language-server: $schema=` line in
tenants.yaml. The schema covers the shape (fields, types, enums, the orgId alphabet); the rules that
depend on stack settings (name lengths, hosting stacks) and duplicates are left to `validate`.
"""

from __future__ import annotations

import json
from typing import Any

from tenant_storage.registry import TenantRegistry

SCHEMA_FILE = "tenants.schema.json"


def registry_json_schema() -> dict[str, Any]:
    schema = TenantRegistry.model_json_schema(by_alias=True)
    for definition in schema.get("$defs", {}).values():
        for name, field in definition.get("properties", {}).items():
            definition["properties"][name] = _never_null(field)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tenant-storage tenant registry (tenants.yaml)",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def _never_null(field: dict[str, Any]) -> dict[str, Any]:
    """An optional field is left out for its default; written empty (null) it is refused (`registry.py`), so the
    schema admits no null either."""
    choices = [choice for choice in field.get("anyOf", []) if choice != {"type": "null"}]
    if len(choices) == len(field.get("anyOf", [])):
        return field
    rest = {key: value for key, value in field.items() if key != "anyOf" and not (key == "default" and value is None)}
    return {**(choices[0] if len(choices) == 1 else {"anyOf": choices}), **rest}


def render_schema() -> str:
    return json.dumps(registry_json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(render_schema(), end="")
