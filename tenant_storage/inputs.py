"""Everything the program reads, validated together so that every problem is reported in one run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from tenant_storage.accounts import AccountClasses, load_account_classes, stack_account_problems
from tenant_storage.deploy_inputs import environment_problems, project_file_problems
from tenant_storage.errors import InvalidInput, Problem, raise_if_any
from tenant_storage.fleet import fleet_problems
from tenant_storage.registry import Tenant, TenantRegistry, load_registry
from tenant_storage.stacks import (
    StackFile,
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


@dataclass(frozen=True)
class ProjectInputs:
    """Every input file, read and checked once: whatever does not depend on which stack runs.

    `validate` checks every stack against one reading, so a large registry is parsed once, not once per stack.
    """

    stack_files: Mapping[str, StackFile]
    project_file_problems: list[Problem]  # Pulumi.yaml, and project or stack files the CLI would read instead
    file_problems: list[Problem]  # each stack file's own
    cross_stack_problems: list[Problem]  # only when every stack file could be read
    account_problems: list[Problem]
    registry_problems: list[Problem]
    fleet_problems: list[Problem]  # only when every stack file and the registry could be read
    account_classes: AccountClasses | None
    registry: TenantRegistry | None


def read_project_inputs(project_dir: Path, files: Mapping[str, StackFile] | None = None) -> ProjectInputs:
    """`files`: the stack files, when the caller has read them already."""
    files = read_stack_files(project_dir) if files is None else files
    parsed = {name: stack_file.settings for name, stack_file in files.items() if stack_file.settings is not None}
    every_file_parsed = len(parsed) == len(files)

    classes = None
    account_problems: list[Problem] = []
    try:
        classes = load_account_classes(project_dir)
        account_problems += stack_account_problems(parsed, classes)
    except InvalidInput as error:
        account_problems += error.problems

    registry: TenantRegistry | None = None
    registry_problems: list[Problem] = []
    try:
        registry = load_registry(project_dir / TENANTS_FILE)
    except InvalidInput as error:
        registry_problems += error.problems

    fleet = fleet_problems(registry, parsed, TENANTS_FILE) if registry is not None and every_file_parsed else []
    # Rules across stacks know a stack and a setting, not where it was written: its line in that stack's file.
    lines = {stack_file_name(stack): stack_file.key_lines for stack, stack_file in files.items()}
    account_problems = located(account_problems, lines)
    return ProjectInputs(
        stack_files=files,
        project_file_problems=project_file_problems(project_dir),
        file_problems=[problem for stack_file in files.values() for problem in stack_file.problems],
        cross_stack_problems=located(cross_stack_problems(parsed), lines) if every_file_parsed else [],
        account_problems=account_problems,
        registry_problems=registry_problems,
        fleet_problems=fleet,
        account_classes=classes,
        registry=registry,
    )


def located(problems: list[Problem], key_lines: Mapping[str, Mapping[str, int]]) -> list[Problem]:
    """`problems`, each without a line given the line of its field in its file, where that file has it."""
    return [
        replace(problem, line=key_lines.get(problem.source, {}).get(problem.field))
        if problem.line is None and problem.field is not None
        else problem
        for problem in problems
    ]


def load_stack_inputs(
    project_dir: Path,
    stack: str,
    engine_config: Mapping[str, str | None],
    secret_keys: frozenset[str] = frozenset(),
    environment: Mapping[str, str] | None = None,
) -> StackInputs:
    """This stack's settings and tenants; raise InvalidInput with every problem in every input file.

    `engine_config` is every setting the Pulumi engine passed (`secret_keys` those it passed as secrets); it must be
    exactly the committed stack file, which is what every cross-stack rule reads. `environment` is the deploy's
    environment, when a deploy runs: variables that redirect AWS calls or trust are refused.
    """
    return stack_inputs(read_project_inputs(project_dir), stack, engine_config, secret_keys, environment)


def stack_inputs(
    project: ProjectInputs,
    stack: str,
    engine_config: Mapping[str, str | None],
    secret_keys: frozenset[str] = frozenset(),
    environment: Mapping[str, str] | None = None,
) -> StackInputs:
    """`load_stack_inputs` on inputs already read."""
    problems = [*project.project_file_problems, *project.file_problems]
    committed = project.stack_files.get(stack)
    if committed is None:
        problems.append(Problem(stack_file_name(stack), "missing: every stack is declared by a committed stack file"))
    elif committed.values or committed.settings is not None:
        problems += engine_drift_problems(engine_config, committed, secret_keys)
    problems += environment_problems(environment or {})
    # Without drift the engine passed exactly the committed values, so their one parsed reading is the settings.
    settings = committed.settings if committed is not None else None
    if committed is not None:
        problems += project.cross_stack_problems
    problems += project.account_problems
    problems += project.registry_problems
    if committed is not None:
        problems += project.fleet_problems
    classes, registry = project.account_classes, project.registry

    raise_if_any(problems)
    assert settings is not None
    assert registry is not None
    assert classes is not None
    return StackInputs(settings=settings, tenants=tenants_for_stack(registry, settings), account_classes=classes)
