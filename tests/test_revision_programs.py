"""Each revision is planned with its own program: `plan --base` runs the base revision's code, and builds its
environment from its own uv.lock when its dependencies differ from the tool's (review/program.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli.main import main
from review import program
from review.program import PROJECT_DIR, is_the_tools_program, program_files
from tests.test_review_gate import commit, git, replace_in, whole_program

# Each case commits a scratch repository holding the whole program: `make test` only.
pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding the whole program and the fixture inputs, committed."""
    from tests.conftest import make_project

    repo = make_project(tmp_path / "project")
    git(repo, "init", "-q", "-b", "main")
    whole_program(repo)
    return repo


def plan_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    status = main(["plan", "--stack", "qa", "--format", "json", "--base", "HEAD"], project_dir=repo)
    return status, json.loads(capsys.readouterr().out)


def test_a_base_with_other_locked_dependencies_is_planned_in_an_environment_built_from_its_own_lock(
    repo, capsys, monkeypatch, tmp_path
):
    monkeypatch.setattr(program, "ENVIRONMENTS_DIR", tmp_path / "environments")
    monkeypatch.setattr(program, "COMPILE_BYTECODE", False)  # a throwaway environment: 20 s of compiling saved
    pyproject = (repo / "pyproject.toml").read_text()
    (repo / "pyproject.toml").write_text("# the base's own pyproject.toml\n" + pyproject)
    commit(repo, "the base's dependencies")
    (repo / "pyproject.toml").write_text(pyproject)
    status, document = plan_json(repo, capsys)
    # The same deploy at both revisions; the dependencies are the gate's own, so their change is named.
    assert status == 3
    assert [(risk["class"], risk["subject"]) for risk in document["risks"]] == [
        ("tooling-changed", "1 file: pyproject.toml")
    ]
    assert all(plan["errors"] == [] for plan in document["stacks"].values())
    [environment] = (tmp_path / "environments").iterdir()
    assert (environment / ".synced").exists()
    assert (environment / "bin" / "python").exists()


def test_without_uv_the_base_is_unreadable_and_the_reason_is_named(repo, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(program, "ENVIRONMENTS_DIR", tmp_path / "environments")
    monkeypatch.setattr(program, "find_uv", lambda: None)
    replace_in("uv.lock", "version = 1", "version = 1\n")(repo)
    commit(repo, "another lock")
    (repo / "uv.lock").write_bytes((PROJECT_DIR / "uv.lock").read_bytes())
    status, document = plan_json(repo, capsys)
    assert status == 3
    assert {risk["class"] for risk in document["risks"]} == {"base-unreadable", "tooling-changed"}
    assert "uv is not installed to build it: run `make install`" in document["risks"][0]["message"]


def test_a_base_program_that_cannot_run_is_unreadable_with_its_own_error(repo, capsys):
    (repo / "components" / "tenant_storage.py").write_text("def (:\n")
    commit(repo, "a broken program")
    subprocess.run(["git", "-C", str(repo), "checkout", "HEAD~1", "--", "components"], check=True)
    status, document = plan_json(repo, capsys)
    assert status == 3
    messages = [risk["message"] for risk in document["risks"]]
    assert {risk["class"] for risk in document["risks"]} == {"base-unreadable"}
    assert all("SyntaxError" in message for message in messages), messages


def test_what_counts_as_the_program_is_every_file_but_the_inputs(tmp_path):
    """A file the program might read as data counts as much as its code; only built environments are left out."""
    project = tmp_path / "project"
    for name in ("__main__.py", "tenants.yaml", "Pulumi.qa.yaml", "tests/test_x.py", "README.md", "extra/module.py"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x\n")
    (project / "components" / "__pycache__").mkdir(parents=True)
    (project / "components" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"x")
    (project / ".venv").mkdir()
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (project / "linked").symlink_to(project / "extra")
    assert sorted(program_files(project)) == [
        "README.md",
        "__main__.py",
        "components/__pycache__/x.cpython-311.pyc",  # committed bytecode: the deploy would load it
        "extra/module.py",
        "linked",
        "tests/test_x.py",
    ]
    assert not is_the_tools_program(project)
    for name in ("extra/module.py", "tests/test_x.py", "linked", "components/__pycache__/x.cpython-311.pyc"):
        (project / name).unlink()
    for name in ("__main__.py", "README.md"):
        (project / name).write_bytes((PROJECT_DIR / name).read_bytes())
    assert is_the_tools_program(project)


def test_in_a_checkout_only_the_tracked_files_count(repo):
    (repo / "notes.txt").write_text("not added\n")
    assert "notes.txt" not in program_files(repo)
    assert is_the_tools_program(repo)
    subprocess.run(["git", "-C", str(repo), "add", "notes.txt"], check=True)
    assert not is_the_tools_program(repo)


def test_every_file_but_the_inputs_the_program_the_tests_and_the_documents_is_the_gates_own():
    from review.program import gate_files

    changed = [
        *("tenants.yaml", "accounts.yaml", "Pulumi.qa.yaml", "__main__.py", "components/tenant_storage.py"),
        *("tests/test_x.py", "README.md", "emulator/replay.py"),
        *("Pulumi.yaml", "uv.toml", ".python-version", "live/preflight.py", "docs/CODEOWNERS", "cli/main.py"),
        *("components/__pycache__/tenant_storage.cpython-311.pyc", "tenant_storage/stacks.py", ".github/x.yml"),
    ]
    assert gate_files(changed) == changed[8:]


def test_untracked_files_are_no_change_of_the_gate_since_no_deploy_reads_them(repo, capsys):
    """A job's own output (plan.json beside the checkout's files) or a file never added: not in any commit."""
    (repo / "plan.json").write_text("{}\n")
    (repo / "live").mkdir(exist_ok=True)
    (repo / "live" / "scratch.py").write_text("print('not added')\n")
    status, document = plan_json(repo, capsys)
    assert (status, document["risks"]) == (0, [])
    subprocess.run(["git", "-C", str(repo), "add", "live/scratch.py"], check=True)
    status, document = plan_json(repo, capsys)
    assert (status, [(risk["class"], risk["subject"]) for risk in document["risks"]]) == (
        3,
        [("tooling-changed", "1 file: live/scratch.py")],
    )
