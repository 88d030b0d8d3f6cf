"""Everything the program reads, validated together so that every problem is reported in one run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tenant_storage.errors import InvalidInput, Problem, raise_if_any
from tenant_storage.registry import NamingRules, Tenant, load_registry
from tenant_storage.stacks import (
    StackSettings,
    parse_stack_settings,
    read_stack_files,
    stack_file_problems,
    tenants_for_stack,
    unhosted_tenant_problems,
)

TENANTS_FILE = "tenants.yaml"


@dataclass(frozen=True)
class StackInputs:
    settings: StackSettings
    tenants: list[Tenant]


def load_stack_inputs(project_dir: Path, stack: str, config: Mapping[str, str | None]) -> StackInputs:
    """This stack's settings and tenants; raise InvalidInput with every problem in config, stack files and registry."""
    problems: list[Problem] = []
    settings = None
    try:
        settings = parse_stack_settings(stack, config)
    except InvalidInput as error:
        problems += error.problems
    stack_files = {}
    try:
        stack_files = read_stack_files(project_dir)
        problems += stack_file_problems(stack_files)
    except InvalidInput as error:
        problems += error.problems
    registry = None
    try:
        registry = load_registry(project_dir / TENANTS_FILE, settings.naming if settings else NamingRules())
        problems += unhosted_tenant_problems(registry, stack_files, TENANTS_FILE)
    except InvalidInput as error:
        problems += error.problems
    raise_if_any(problems)
    assert settings is not None
    assert registry is not None
    return StackInputs(settings=settings, tenants=tenants_for_stack(registry, settings))
