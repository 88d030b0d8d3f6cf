"""`validate`: the tenant registry and every stack file, with no Pulumi runtime (for editors and pre-commit)."""

from __future__ import annotations

import sys
from pathlib import Path

from tenant_storage.errors import InvalidInput, Problem, counted
from tenant_storage.inputs import TENANTS_FILE, read_project_inputs, stack_inputs
from tenant_storage.stacks import read_stack_files, stack_names


def validation_problems(project_dir: Path, tenants: dict[str, int] | None = None) -> list[Problem]:
    """Every problem any stack would refuse to deploy with, each reported once; `tenants` gets each valid stack's
    number of tenants."""
    stack_files = read_stack_files(project_dir)
    if not stack_files:
        return [Problem(TENANTS_FILE, f"no Pulumi.<stack>.yaml stack file in {project_dir}")]
    project = read_project_inputs(project_dir, stack_files)
    problems: dict[str, Problem] = {}  # each line once, in the order found
    for stack, stack_file in stack_files.items():
        try:
            inputs = stack_inputs(project, stack, stack_file.values)
        except InvalidInput as error:
            for problem in error.problems:
                problems.setdefault(str(problem), problem)
        else:
            if tenants is not None:
                tenants[stack] = len(inputs.tenants)
    return list(problems.values())


def run_validate(project_dir: Path) -> int:
    tenants: dict[str, int] = {}
    problems = validation_problems(project_dir, tenants)
    for problem in problems:  # to stderr, as every command's errors: stdout is for what succeeded
        print(problem, file=sys.stderr)
    if problems:
        print(f"{counted(len(problems), 'problem')}; nothing would be deployed", file=sys.stderr)
        return 1
    for stack, count in tenants.items():
        if count == 0:
            # Valid, and a deploy of it removes every tenant the stack has: say so before a review has to.
            print(
                f"warning: stack {stack} declares no tenant: a deploy of it deletes every tenant it has now",
                file=sys.stderr,
            )
    print(f"{TENANTS_FILE} and {counted(len(stack_names(project_dir)), 'stack file')} are valid")
    return 0
