"""The guard that keeps the users' data out of the tests: every open of the project root's `tenants.yaml`,
`accounts.yaml` or `Pulumi.<stack>.yaml` is recorded, and the test that made it fails (tests/conftest.py).

A Python audit hook sees every open of the process (`open`, `Path.read_text`, `os.open`). The suite puts
this folder first on PYTHONPATH, so a Python process a test starts imports this file as its
`sitecustomize` and records its opens too, in the file `USERS_DATA_LOG` names. Standard library only:
a child may run anywhere.
"""

from __future__ import annotations

import fnmatch
import os
import sys

ROOT = "TENANT_STORAGE_USERS_DATA_ROOT"  # the project root whose data files are guarded
PATTERNS = "TENANT_STORAGE_USERS_DATA_PATTERNS"  # their names, as os.pathsep-separated glob patterns
LOG = "TENANT_STORAGE_USERS_DATA_LOG"  # where a child process appends what it opened

opened: list[str] = []  # this process's opens of the users' data, for the test that made them


def is_users_data(path: object, root: str, patterns: list[str]) -> bool:
    if isinstance(path, int):
        return False  # an open file descriptor: its name was checked when it was opened
    try:
        name = os.fsdecode(path)  # type: ignore[arg-type]
    except TypeError:
        return False
    # Cheap first (the hook sees every open of the process, imports included): a data file's name, or a link.
    if not any(fnmatch.fnmatch(os.path.basename(name), pattern) for pattern in patterns) and not os.path.islink(name):
        return False
    real = os.path.realpath(name)
    return os.path.dirname(real) == root and any(fnmatch.fnmatch(os.path.basename(real), p) for p in patterns)


def install(root: str, patterns: list[str], log: str | None) -> None:
    def hook(event: str, arguments: tuple[object, ...]) -> None:
        if event != "open" or not arguments:
            return
        path, mode = arguments[0], arguments[1] if len(arguments) > 1 else None
        # os.open (mode None) of a relative name is how the standard library walks a tree by folder handle
        # (shutil.rmtree, os.fwalk): the name is relative to that folder, which the event does not carry.
        if mode is None and isinstance(path, str | bytes) and not os.path.isabs(path):
            return
        if is_users_data(path, root, patterns):
            path = os.path.realpath(os.fsdecode(path))  # type: ignore[arg-type]
            if log is None:
                opened.append(path)
            else:
                with open(log, "a", encoding="utf-8") as file:  # not guarded: the log is not users' data
                    file.write(path + "\n")

    sys.addaudithook(hook)


if __name__ == "sitecustomize" and os.environ.get(ROOT) and os.environ.get(LOG):
    install(os.environ[ROOT], os.environ.get(PATTERNS, "").split(os.pathsep), os.environ[LOG])
