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
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tenant-storage tenant registry (tenants.yaml)",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def render_schema() -> str:
    return json.dumps(registry_json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(render_schema(), end="")
