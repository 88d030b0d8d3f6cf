"""tenants.yaml, accounts.yaml and the stack files at the project root are the users' data, not fixtures.

Onboarding a tenant is a one-line pull request; it must never need a test edited. So no test reads
them: tests/conftest.py fails any test that opens one, in the test process or in a Python process it
starts (tests/users_data_guard). These tests prove the guard sees each way in; they take back what it
recorded, so that they themselves pass.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

from mock_runtime.runner import PROJECT_DIR
from tests.conftest import users_data_opened


def try_to_read(path: Path) -> None:
    with contextlib.suppress(OSError):  # the guard sees the attempt, whether or not the file is there
        path.read_text()


def test_reading_the_root_registry_is_seen():
    try_to_read(PROJECT_DIR / "tenants.yaml")
    assert users_data_opened() == [str(PROJECT_DIR / "tenants.yaml")]


def test_a_stack_file_nobody_listed_is_seen_too():
    try_to_read(PROJECT_DIR / "Pulumi.staging-eu.yaml")
    assert users_data_opened() == [str(PROJECT_DIR / "Pulumi.staging-eu.yaml")]


def test_a_relative_path_or_a_link_to_the_data_is_seen(tmp_path, monkeypatch):
    link = tmp_path / "innocent.yaml"
    link.symlink_to(PROJECT_DIR / "accounts.yaml")
    monkeypatch.chdir(PROJECT_DIR)
    try_to_read(Path("accounts.yaml"))
    try_to_read(tmp_path / "tenants.yaml")  # a registry of the same name elsewhere is a test's own
    with contextlib.suppress(OSError):
        link.open().close()
    assert users_data_opened() == [str(PROJECT_DIR / "accounts.yaml")] * 2


def test_a_python_process_a_test_starts_is_seen():
    code = "import contextlib, pathlib, sys\nwith contextlib.suppress(OSError): pathlib.Path(sys.argv[1]).read_bytes()"
    subprocess.run([sys.executable, "-c", code, str(PROJECT_DIR / "Pulumi.qa.yaml")], check=True)
    assert users_data_opened() == [str(PROJECT_DIR / "Pulumi.qa.yaml")]


def test_the_fixture_project_is_not_the_users_data(project):
    for name in ("tenants.yaml", "accounts.yaml", "Pulumi.qa.yaml"):
        (project / name).read_text()
    assert users_data_opened() == []
