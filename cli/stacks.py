"""`tenant-storage stacks`: every stack file with its class and accounts (the workflows' matrices)."""

from __future__ import annotations

import sys
from pathlib import Path


def run_stacks(project_dir: Path, output_format: str) -> int:
    import json

    from tenant_storage.errors import printable
    from tenant_storage.stacks import read_stack_files, stack_file_name

    files = read_stack_files(project_dir)
    # A CI matrix built from a stack file validate refuses would deploy what review never passed.
    broken = [name for name, stack_file in files.items() if stack_file.settings is None or stack_file.problems]
    if broken:
        listed = ", ".join(printable(stack_file_name(name)) for name in broken)
        print(f"stacks: invalid stack files: {listed}; run `tenant-storage validate` for each problem", file=sys.stderr)
        return 1
    rows = [
        {
            "stack": name,
            "productionClass": stack_file.settings.production_class,
            "accounts": list(stack_file.settings.allowed_account_ids),
        }
        for name, stack_file in files.items()
        if stack_file.settings is not None
    ]
    if output_format == "json":
        print(json.dumps(rows))
        return 0
    for name, stack_file in files.items():
        settings = stack_file.settings
        assert settings is not None
        kind = "production-class" if settings.production_class else "non-production"
        print(f"{name}: {kind}, accounts {', '.join(settings.allowed_account_ids)}")
    return 0
