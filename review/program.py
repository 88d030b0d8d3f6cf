"""Which code plans a project folder: each revision is planned with its own program.

A folder whose program is the tool's own (every program file the same, byte for byte) is planned in this
process, fast, and incrementally when only tenants.yaml changed. Any other folder, such as the base revision of
a pull request that changes the program, or a pull request's head planned by the base branch's tool, is planned
in a process of its own with the folder's own code (`mock_runtime/recorder.py`), and with its own locked
dependencies when they differ from the tool's (an environment built from its uv.lock with uv, and cached).

Every file but the inputs counts, so that a file nobody thought of (one the program reads as data, say) makes
the revision planned with its own program: at worst in its own process when it need not have been.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tenant_storage.accounts import ACCOUNTS_FILE
from tenant_storage.inputs import TENANTS_FILE

PROJECT_DIR = Path(__file__).resolve().parent.parent

INPUT_FILES = (TENANTS_FILE, ACCOUNTS_FILE)  # and the stack files, Pulumi.<stack>.yaml
DEPENDENCY_FILES = ("pyproject.toml", "uv.lock")
# What a change may edit without touching the review gate's verdict or the deploy's pipeline: the inputs and
# the program (both planned, whatever they say), the tests, the emulator and the documents (the top's *.md,
# docs/). Every other file is the gate's own (the tool, its dependencies and their settings, the policy pack,
# the live commands the deploy job runs, the workflows, CODEOWNERS wherever GitHub reads it, Pulumi.yaml,
# compiled code anywhere, and any file nobody listed): `tooling-changed`.
NOT_THE_GATE = frozenset(
    {"__main__.py", "components", "tests", "benchmarks", "emulator", "docs", "tenants.schema.json"}
)
# Code a deploy may load that no review can read: bytecode (an unchecked-hash .pyc is never compared with its
# source) and native extensions (Python imports a .so before a .py of the same name).
COMPILED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib")
ENVIRONMENTS_DIR = PROJECT_DIR / ".tools" / "revision-envs"
UV_TIMEOUT_SECONDS = 900
# Compiled once when built, so that each plan in it does not compile pulumi_aws's modules again in memory.
COMPILE_BYTECODE = True
LINKED = b"\0a link or a special file\0"
SKIPPED_FOLDERS = frozenset({".git"})


class PlanningError(Exception):
    """Why a revision's program cannot be planned here."""


def gate_files(changed: list[str]) -> list[str]:
    """The changed files (paths from the project folder) that are the review gate's own."""
    return [path for path in changed if is_compiled(path) or Path(path).name == "CODEOWNERS" or not _harmless(path)]


def _harmless(path: str) -> bool:
    """An input or the program (planned, whatever it holds; an input where a folder stands is refused), the
    tests, the emulator or a document."""
    top = path.split("/")[0]
    return is_input(top) or top in NOT_THE_GATE or ("/" not in path and path.endswith(".md"))


def is_compiled(path: str) -> bool:
    return "__pycache__" in path.split("/") or path.endswith(COMPILED_SUFFIXES)


def is_input(name: str) -> bool:
    return name in INPUT_FILES or (name.startswith("Pulumi.") and name.endswith(".yaml") and name != "Pulumi.yaml")


def program_files(project_dir: Path) -> dict[str, bytes]:
    """Every file of the folder but its inputs, by path, with its bytes: what a deploy of it could read. In a git
    checkout, the tracked files (no commit holds the others, so no deploy reads them); elsewhere (a revision
    written out from git) every file. A link is never the same as a file (it is planned as it is)."""
    names = _tracked(project_dir)
    if names is None:
        names = [
            str(Path(folder, name).relative_to(project_dir))
            for folder, folders, files in os.walk(project_dir)
            for name in [*files, *_links(Path(folder), folders)]
        ]
    found: dict[str, bytes] = {}
    for name in names:
        path = project_dir / name
        if is_input(name):
            continue  # planned, at each revision
        regular = path.is_file() and not path.is_symlink()
        found[name] = path.read_bytes() if regular else LINKED
    return found


def _links(folder: Path, folders: list[str]) -> list[str]:
    """The linked folders, which are not walked, and the folders that are not the project's files."""
    links = [name for name in folders if (folder / name).is_symlink()]
    folders[:] = [
        name
        for name in folders
        if name not in links and name not in SKIPPED_FOLDERS and not (folder / name / "pyvenv.cfg").exists()
    ]
    return links


def _tracked(project_dir: Path) -> list[str] | None:
    """The files git tracks in the folder, or None when it is not in a git checkout."""
    try:
        listing = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", "-C", str(project_dir), "ls-files", "-z"],  # noqa: S607 - git from PATH
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None  # not in a git checkout (a revision written out), or no git
    return [os.fsdecode(name) for name in listing.split(b"\0") if name]


@functools.cache
def _tool_files() -> dict[str, bytes]:
    return program_files(PROJECT_DIR)


def is_the_tools_program(project_dir: Path) -> bool:
    """Whether planning the folder in this process runs exactly its own program: each of its program files is the
    tool's (a folder that holds only __main__.py and Pulumi.yaml beside its inputs imports the tool's packages)."""
    if project_dir.resolve() == PROJECT_DIR:
        return True
    tool = _tool_files()
    return all(tool.get(name) == data for name, data in program_files(project_dir).items())


def find_uv() -> str | None:
    """uv from PATH, or the one `make install` puts into .tools/ when the machine has none."""
    bootstrapped = PROJECT_DIR / ".tools" / "uv" / "bin" / "uv"
    return shutil.which("uv") or (str(bootstrapped) if bootstrapped.exists() else None)


def python_for(project_dir: Path) -> str:
    """The interpreter that runs the folder's program: this one when its locked dependencies are the tool's (or it
    has none of its own), else one from an environment built from its own uv.lock."""
    own = {name: (project_dir / name).read_bytes() for name in DEPENDENCY_FILES if (project_dir / name).is_file()}
    tools = {name: (PROJECT_DIR / name).read_bytes() for name in DEPENDENCY_FILES if (PROJECT_DIR / name).is_file()}
    if not own or own == tools:
        return sys.executable
    digest = hashlib.sha256(b"\0".join(own.get(name, b"") for name in DEPENDENCY_FILES)).hexdigest()[:16]
    environment = ENVIRONMENTS_DIR / digest
    python = environment / "bin" / "python"
    if (environment / ".synced").exists():
        return str(python)
    uv = find_uv()
    if uv is None:
        raise PlanningError(
            "its uv.lock or pyproject.toml differs from this checkout's, so its program needs an environment of its "
            "own, and uv is not installed to build it: run `make install` (it installs uv into .tools/)"
        )
    try:
        completed = subprocess.run(  # noqa: S603 - uv with fixed arguments
            [
                *(uv, "sync", "--locked", "--no-install-project", "--no-dev", "--quiet"),
                *(("--compile-bytecode",) if COMPILE_BYTECODE else ()),
            ],
            cwd=project_dir,
            env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment), "UV_PYTHON_DOWNLOADS": "never"},
            capture_output=True,
            text=True,
            timeout=UV_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PlanningError(f"uv could not build its environment from its uv.lock: {error}") from None
    if completed.returncode != 0:
        said = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise PlanningError(f"uv could not build its environment from its uv.lock (`uv sync --locked`): {said}")
    (environment / ".synced").touch()
    return str(python)
