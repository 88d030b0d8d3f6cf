"""Everything the program reads, validated together so that every problem is reported in one run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tenant_storage.accounts import AccountClasses, load_account_classes, stack_account_problems
from tenant_storage.errors import InvalidInput, Problem, raise_if_any
from tenant_storage.fleet import fleet_problems
from tenant_storage.registry import Tenant, TenantRegistry, load_registry
from tenant_storage.stacks import (
    GUARDED_MESSAGE,
    GUARDED_PROVIDER_KEYS,
    StackSettings,
    cross_stack_problems,
    engine_drift_problems,
    read_stack_files,
    stack_file_name,
    tenants_for_stack,
)

TENANTS_FILE = "tenants.yaml"


@dataclass(frozen=True)
class StackInputs:
    settings: StackSettings
    tenants: list[Tenant]
    account_classes: AccountClasses


def load_stack_inputs(project_dir: Path, stack: str, engine_config: Mapping[str, str | None]) -> StackInputs:
    """This stack's settings and tenants; raise InvalidInput with every problem in every input file.

    `engine_config` is what the Pulumi engine passed; it must agree with the committed stack file,
    which is what every cross-stack rule reads.
    """
    problems: list[Problem] = []
    files = read_stack_files(project_dir)
    for stack_file in files.values():
        problems += stack_file.problems
    committed = files.get(stack)
    if committed is None:
        problems.append(Problem(stack_file_name(stack), "missing: every stack is declared by a committed stack file"))
    elif committed.values or committed.settings is not None:
        problems += engine_drift_problems(engine_config, committed)
    problems += [
        Problem(stack_file_name(stack), f"passed by the Pulumi engine: {GUARDED_MESSAGE}", field=key)
        for key in GUARDED_PROVIDER_KEYS
        if engine_config.get(key) is not None and (committed is None or key not in committed.values)
    ]
    # Without drift the engine passed exactly the committed values, so their one parsed reading is the settings.
    settings = committed.settings if committed is not None else None

    parsed = {name: stack_file.settings for name, stack_file in files.items() if stack_file.settings is not None}
    all_parsed = len(parsed) == len(files) and committed is not None
    if all_parsed:
        problems += cross_stack_problems(parsed)

    classes = None
    try:
        classes = load_account_classes(project_dir)
        problems += stack_account_problems(parsed, classes)
    except InvalidInput as error:
        problems += error.problems

    registry: TenantRegistry | None = None
    try:
        registry = load_registry(project_dir / TENANTS_FILE)
    except InvalidInput as error:
        problems += error.problems
    if registry is not None and all_parsed:
        problems += fleet_problems(registry, parsed, TENANTS_FILE)

    raise_if_any(problems)
    assert settings is not None
    assert registry is not None
    assert classes is not None
    return StackInputs(settings=settings, tenants=tenants_for_stack(registry, settings), account_classes=classes)
