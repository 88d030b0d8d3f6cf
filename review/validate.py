"""`validate`: the tenant registry and every stack file, with no Pulumi runtime (for editors and pre-commit)."""

from __future__ import annotations

from pathlib import Path

from tenant_storage.errors import InvalidInput, Problem, counted
from tenant_storage.inputs import TENANTS_FILE, read_project_inputs, stack_inputs
from tenant_storage.stacks import read_stack_files, stack_names


def validation_problems(project_dir: Path) -> list[Problem]:
    """Every problem any stack would refuse to deploy with, each reported once."""
    stack_files = read_stack_files(project_dir)
    if not stack_files:
        return [Problem(TENANTS_FILE, f"no Pulumi.<stack>.yaml stack file in {project_dir}")]
    project = read_project_inputs(project_dir, stack_files)
    problems: dict[str, Problem] = {}  # each line once, in the order found
    for stack, stack_file in stack_files.items():
        try:
            stack_inputs(project, stack, stack_file.values)
        except InvalidInput as error:
            for problem in error.problems:
                problems.setdefault(str(problem), problem)
    return list(problems.values())


def run_validate(project_dir: Path) -> int:
    problems = validation_problems(project_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{counted(len(problems), 'problem')}; nothing would be deployed")
        return 1
    print(f"{TENANTS_FILE} and {counted(len(stack_names(project_dir)), 'stack file')} are valid")
    return 0
