"""Which code plans a project folder: each revision is planned with its own program.

A folder whose program is the tool's own (every program file the same, byte for byte) is planned in this
process, fast, and incrementally when only tenants.yaml changed. Any other folder, such as the base revision of
a pull request that changes the program, or a pull request's head planned by the base branch's tool, is planned
in a process of its own with the folder's own code (`mock_runtime/recorder.py`), and with its own locked
dependencies when they differ from the tool's (an environment built from its uv.lock with uv, and cached).

What is not the program is listed, so that a file nobody thought of counts as the program: at worst the
revision is planned in its own process when it need not have been.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

INPUT_FILES = ("tenants.yaml", "accounts.yaml")  # and the stack files, Pulumi.<stack>.yaml
# The tool around the program, its tests and documents: no deploy runs them (the folders and files at the top).
NOT_THE_PROGRAM = frozenset(
    {
        "benchmarks",
        "cli",
        "docs",
        "emulator",
        "live",
        "mock_runtime",
        "policy",
        "review",
        "tests",
        "CHANGELOG.md",
        "Makefile",
        "README.md",
        "tenants.schema.json",
    }
)
DEPENDENCY_FILES = ("pyproject.toml", "uv.lock")
# What a change may edit without touching the review gate's verdict or the deploy's pipeline: the inputs and
# the program (both planned, whatever they say), the tests, the emulator and the documents. Every other file is
# the gate's own (the tool, its dependencies and their settings, the policy pack, the live commands the deploy
# job runs, the workflows, CODEOWNERS, Pulumi.yaml, and any file nobody listed): `tooling-changed`.
NOT_THE_GATE = frozenset(
    {"__main__.py", "components", "tests", "benchmarks", "emulator", "README.md", "CHANGELOG.md", "tenants.schema.json"}
)
# Folders that are built, not written: a virtual environment holds a pyvenv.cfg.
SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules"})
ENVIRONMENTS_DIR = PROJECT_DIR / ".tools" / "revision-envs"
UV_TIMEOUT_SECONDS = 900
# Compiled once when built, so that each plan in it does not compile pulumi_aws's modules again in memory.
COMPILE_BYTECODE = True


LINKED = b"\0a link or a special file\0"


class PlanningError(Exception):
    """Why a revision's program cannot be planned here."""


def gate_files(changed: list[str]) -> list[str]:
    """The changed files (paths from the project folder) that are the review gate's own."""
    return [path for path in changed if is_bytecode(path) or not _planned_or_harmless(path.split("/")[0])]


def _planned_or_harmless(top: str) -> bool:
    """An input or the program (planned, whatever it holds; an input where a folder stands is refused), the
    tests or a document."""
    return is_input(top) or top in NOT_THE_GATE


def is_bytecode(path: str) -> bool:
    """Compiled Python a deploy may load instead of its source (an unchecked-hash .pyc is never compared with it)."""
    return "__pycache__" in path.split("/") or path.endswith((".pyc", ".pyo"))


def is_input(name: str) -> bool:
    return name in INPUT_FILES or (name.startswith("Pulumi.") and name.endswith(".yaml") and name != "Pulumi.yaml")


def program_files(project_dir: Path) -> dict[str, bytes]:
    """The folder's program: every file but its inputs and what is not the program, by path, with its bytes."""
    found: dict[str, bytes] = {}
    for folder, folders, files in os.walk(project_dir):
        here = Path(folder)
        top = here == project_dir
        kept = [
            name
            for name in folders
            if not name.startswith(".")
            and name not in SKIPPED_FOLDERS
            and not (top and name in NOT_THE_PROGRAM)
            and not (here / name / "pyvenv.cfg").exists()
        ]
        # A linked folder is not walked, so it is never the tool's: the folder is planned with its own program.
        found |= {str((here / name).relative_to(project_dir)): LINKED for name in kept if (here / name).is_symlink()}
        folders[:] = [name for name in kept if not (here / name).is_symlink()]
        for name in files:
            if name.startswith(".") or (top and (name in NOT_THE_PROGRAM or is_input(name))):
                continue
            path = here / name
            regular = path.is_file() and not path.is_symlink()
            # A link or a special file is never the same as the tool's file: its program is planned as it is.
            found[str(path.relative_to(project_dir))] = path.read_bytes() if regular else LINKED
    return found


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
