"""The inputs of another git revision (tenants.yaml and the stack files), beside the current program.

`plan --base` runs today's program on the base revision's inputs, so the diff shows what the pull
request's input changes do. Changes to the program itself are guarded by the URN snapshot tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tenant_storage.errors import quoted
from tenant_storage.yaml_reader import MAX_INPUT_BYTES

PROGRAM_FILES = ("__main__.py", "Pulumi.yaml")
INPUT_FILES = ("tenants.yaml", "accounts.yaml")
SYMLINK_MODE = "120000"


class GitError(Exception):
    pass


def _git(project_dir: Path, *args: str) -> bytes:
    try:
        result = subprocess.run(  # noqa: S603 - fixed git arguments, the ref is passed as one argument
            ["git", "-C", str(project_dir), *args],  # noqa: S607 - git from PATH, as a developer runs it
            capture_output=True,
            check=False,
        )
    except (OSError, ValueError) as error:  # a NUL byte, an argument longer than the system takes, no git
        raise GitError(f"git cannot be run with {quoted(' '.join(args))}: {error}") from None
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip() or "no such revision in this repository"
        raise GitError(f"git {quoted(' '.join(args), 200)}: {reason}")
    return result.stdout


def materialize_base_inputs(ref: str, project_dir: Path, target: Path) -> None:
    """Write the current program files and `ref`'s tenants.yaml, accounts.yaml and Pulumi.<stack>.yaml
    files into `target`, exactly as git stores them: bytes as they are, a symbolic link as a link, a
    folder as a folder. The base is then read by the same strict reader as the head, so whatever the
    reader refuses at the head (a link, a non-UTF-8 byte, an oversized file) it refuses at the base."""
    if not ref.strip():
        raise GitError("it is empty: give a git revision, for example origin/main or HEAD~1")
    try:
        _git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError as error:
        if "expected commit type" not in str(error):
            raise
        raise GitError("it names a git object that is not a commit: give a branch, a tag or a commit id") from None
    target.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        shutil.copy(project_dir / name, target / name)
    listing = _git(project_dir, "ls-tree", "-z", ref, "./")
    for entry in filter(None, listing.split(b"\0")):
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind, object_id = meta.decode().split()
        name = os.fsdecode(raw_name)
        if not (name in INPUT_FILES or _is_stack_file(name)):
            continue
        path = target / name
        if mode == SYMLINK_MODE:
            path.symlink_to(os.fsdecode(_git(project_dir, "cat-file", "blob", object_id)))
        elif kind == "blob":
            _copy_blob(project_dir, object_id, path)
        else:
            path.mkdir()  # a folder or submodule where a file belongs: the reader says it is not a file


def _copy_blob(project_dir: Path, object_id: str, path: Path) -> None:
    """The blob's bytes, but never more than the reader's largest cap and one byte (so it still sees the excess)."""
    with subprocess.Popen(  # noqa: S603 - fixed git arguments
        ["git", "-C", str(project_dir), "cat-file", "blob", object_id],  # noqa: S607 - git from PATH
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as process:
        assert process.stdout is not None
        data = process.stdout.read(MAX_INPUT_BYTES + 1)
        process.kill()
    path.write_bytes(data)


def _is_stack_file(name: str) -> bool:
    return name.startswith("Pulumi.") and name.endswith(".yaml") and name != "Pulumi.yaml"
