"""The inputs of another git revision (tenants.yaml and the stack files), beside the current program.

`plan --base` runs today's program on the base revision's inputs, so the diff shows what the pull
request's input changes do. Changes to the program itself are guarded by the URN snapshot tests.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PROGRAM_FILES = ("__main__.py", "Pulumi.yaml")
INPUT_FILES = ("tenants.yaml", "accounts.yaml")


class GitError(Exception):
    pass


def _git(project_dir: Path, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed git arguments, the ref is passed as one argument
        ["git", "-C", str(project_dir), *args],  # noqa: S607 - git from PATH, as a developer runs it
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def materialize_base_inputs(ref: str, project_dir: Path, target: Path) -> None:
    """Write the current program files and `ref`'s tenants.yaml and Pulumi.<stack>.yaml files into `target`."""
    _git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    target.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        shutil.copy(project_dir / name, target / name)
    names = _git(project_dir, "ls-tree", "--name-only", ref, "./").splitlines()
    inputs = [name for name in names if name in INPUT_FILES or _is_stack_file(name)]
    for name in inputs:
        (target / name).write_text(_git(project_dir, "show", f"{ref}:./{name}"), encoding="utf-8")


def _is_stack_file(name: str) -> bool:
    return name.startswith("Pulumi.") and name.endswith(".yaml") and name != "Pulumi.yaml"
