"""tenants.yaml, accounts.yaml and the stack files at the project root are the users' data, not fixtures.

Onboarding a tenant is a one-line pull request; it must never need a test edited. This runs the whole
suite on a copy of the repository whose tenants.yaml has had a tenant removed and another added, as a
platform engineer would, and expects it to pass untouched.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mock_runtime.runner import PROJECT_DIR
from tenant_storage.stacks import read_stack_files

INNER_RUN = "TENANT_STORAGE_INNER_TEST_RUN"


def repository_copy(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "ls-files", "-co", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        source = PROJECT_DIR / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / name)
    return target


def onboard_and_offboard(project: Path) -> None:
    """Remove the first tenant and add a new one in an environment some stack hosts."""
    path = project / "tenants.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    tenants = list(document.get("tenants") or [])
    hosted = [e for file in read_stack_files(project).values() if file.settings for e in file.settings.environments]
    assert hosted, "no stack file of the repository hosts an environment"
    existing = {str(tenant.get("orgId")) for tenant in tenants if isinstance(tenant, dict)}
    new_org = next(f"onboarding-check-{n}" for n in range(len(existing) + 1) if f"onboarding-check-{n}" not in existing)
    document["tenants"] = [*tenants[1:], {"orgId": new_org, "environment": hosted[0].value}]
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.mark.skipif(os.environ.get(INNER_RUN) == "1", reason="this is the inner run")
def test_the_suite_passes_after_a_tenant_is_added_and_another_removed(tmp_path):
    project = repository_copy(tmp_path / "repo")
    onboard_and_offboard(project)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-k", "not bombs and not static_types"],
        cwd=project,
        env={**os.environ, INNER_RUN: "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
