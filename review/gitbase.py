"""Another git revision of the project, as it is: its program, its dependencies and its inputs.

`plan --base` plans the base revision with its own program (`review/program.py` decides in which process), so
a change of the program is a change in the plan, classified like any other.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import IO

from tenant_storage.errors import quoted
from tenant_storage.yaml_reader import MAX_INPUT_BYTES

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
    blobs: list[tuple[str, Path]] = []
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
            blobs.append((object_id, path))
        else:
            path.mkdir()  # a submodule where a file may belong: the reader says it is not a file
    _write_blobs(project_dir, blobs)


def changed_paths(ref: str, project_dir: Path, pathspecs: tuple[str, ...]) -> list[str]:
    """The files matching `pathspecs` that differ between `ref` and the working tree, new untracked ones
    included, by their path from the repository's top."""
    tracked = _git(project_dir, "diff", "--name-only", "-z", ref, "--", *pathspecs)
    untracked = _git(project_dir, "ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", *pathspecs)
    return sorted({os.fsdecode(name) for name in (tracked + b"\0" + untracked).split(b"\0") if name})


def _write_blobs(project_dir: Path, blobs: list[tuple[str, Path]]) -> None:
    """Every blob through one `git cat-file --batch`, each cut at the reader's cap and one byte."""
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
        for object_id, path in blobs:  # one at a time: neither pipe can fill while the other waits
            process.stdin.write(f"{object_id}\n".encode())
            process.stdin.flush()
            header = process.stdout.readline().split()
            size = int(header[2]) if len(header) == 3 else 0
            kept = min(size, MAX_INPUT_BYTES + 1)
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
