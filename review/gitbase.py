"""Another git revision of the project, as it is: its program, its dependencies and its inputs.

`plan --base` plans the base revision with its own program (`review/program.py` decides in which process), so
a change of the program is a change in the plan, classified like any other.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from review.program import is_input
from tenant_storage.errors import printable, quoted
from tenant_storage.yaml_reader import MAX_INPUT_BYTES

SYMLINK_MODE = "120000"
MAX_FILE_BYTES = 256 * 1024 * 1024  # a program file or lock far larger than any is not one


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


def materialize_revision(ref: str, project_dir: Path, target: Path) -> None:
    """Write every file of the project folder at `ref` into `target`, exactly as git stores it: bytes as they
    are, a symbolic link as a link, a submodule as a folder. The inputs are then read by the same strict reader
    as the head's, so whatever it refuses at the head (a link, a non-UTF-8 byte, an oversized file) it refuses at
    the base; a blob is never written past the reader's largest cap and one byte (so it still sees the excess)."""
    if not ref.strip():
        raise GitError("it is empty: give a git revision, for example origin/main or HEAD~1")
    try:
        _git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError as error:
        if "expected commit type" not in str(error):
            raise
        raise GitError("it names a git object that is not a commit: give a branch, a tag or a commit id") from None
    target.mkdir(parents=True, exist_ok=True)
    listing = _git(project_dir, "ls-tree", "-r", "-z", ref, "./")
    blobs: list[tuple[str, Path, int | None]] = []
    for entry in filter(None, listing.split(b"\0")):
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind, object_id = meta.decode().split()
        path = target / os.fsdecode(raw_name)
        if ".." in Path(os.fsdecode(raw_name)).parts:
            continue  # git stores no such path; never write outside the target
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == SYMLINK_MODE:
            path.symlink_to(os.fsdecode(_git(project_dir, "cat-file", "blob", object_id)))
        elif kind == "blob":
            blobs.append((object_id, path, MAX_INPUT_BYTES + 1 if is_input(os.fsdecode(raw_name)) else None))
        else:
            path.mkdir()  # a submodule where a file may belong: the reader says it is not a file
    _write_blobs(project_dir, blobs)


@dataclass(frozen=True)
class Revisions:
    """What a review compares, for its header: the base as given and its commit, the head's commit and whether
    the working tree holds changes no commit has."""

    base: str
    base_commit: str
    head_commit: str
    uncommitted: bool

    def text(self) -> str:
        head = f"{self.head_commit or 'no commit'}{' with uncommitted changes' if self.uncommitted else ''}"
        return f"base {printable(self.base)} ({self.base_commit}) -> head {head}"


def revisions(ref: str, project_dir: Path) -> Revisions:
    """The base `ref` and the head (HEAD and the working tree) of the review, by short commit id."""
    base_commit = _git(project_dir, "rev-parse", "--short", f"{ref}^{{commit}}").decode().strip()
    try:
        head_commit = _git(project_dir, "rev-parse", "--short", "HEAD").decode().strip()
    except GitError:  # a repository without a commit yet
        head_commit = ""
    dirty = bool(_git(project_dir, "status", "--porcelain", "--untracked-files=no", "--", ".").strip())
    return Revisions(ref, base_commit, head_commit, dirty)


def changed_paths(ref: str, project_dir: Path) -> list[str]:
    """Every tracked file (committed, staged or edited) that differs between `ref` and the working tree, by its path
    from the project folder (a path outside it keeps its `../`). Untracked files are left out: no commit holds
    them, so no deploy reads them (and a job's own output, such as plan.json, is not a change)."""
    prefix = _git(project_dir, "rev-parse", "--show-prefix").decode().strip()
    # --no-renames: a file renamed is its old path removed and its new path added, both changes.
    listing = _git(project_dir, "diff", "--name-only", "--no-renames", "-z", ref)
    names = {os.fsdecode(name) for name in listing.split(b"\0") if name}
    up = "../" * prefix.count("/")
    return sorted(name.removeprefix(prefix) if name.startswith(prefix) else up + name for name in names)


def _write_blobs(project_dir: Path, blobs: list[tuple[str, Path, int | None]]) -> None:
    """Every blob through one `git cat-file --batch`. An input is cut at the reader's cap and one byte (the reader
    refuses it, saying so); any other file is written whole, up to MAX_FILE_BYTES."""
    if not blobs:
        return
    with subprocess.Popen(  # noqa: S603 - fixed git arguments
        ["git", "-C", str(project_dir), "cat-file", "--batch"],  # noqa: S607 - git from PATH
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        for object_id, path, cut in blobs:  # one at a time: neither pipe can fill while the other waits
            process.stdin.write(f"{object_id}\n".encode())
            process.stdin.flush()
            header = process.stdout.readline().split()
            size = int(header[2]) if len(header) == 3 else 0
            if cut is None and size > MAX_FILE_BYTES:
                process.kill()
                raise GitError(f"{path.name} is {size:,} bytes at that revision: more than any file the review reads")
            kept = size if cut is None else min(size, cut)
            data = process.stdout.read(kept)
            _skip(process.stdout, size - kept + 1)  # the rest, and the newline after the content
            path.write_bytes(data)
        process.stdin.close()


def _skip(stream: IO[bytes], count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            return
        count -= len(chunk)
