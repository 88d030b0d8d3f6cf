"""The incremental review (only the tenants that changed are planned) says what the full plan says."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import main
from tests.conftest import REGISTRY_EDITS, edit_registry, fixture_project


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def comparable(document: dict) -> dict:
    return {
        stack: {
            "resources": sorted((c["urn"], c["action"], tuple(c["properties"])) for c in diff["resources"]),
            "tenants": (diff["tenantsAdded"], diff["tenantsRemoved"], diff["tenantsChanged"]),
        }
        for stack, diff in document["diff"].items()
    } | {
        "risks": sorted((r["class"], r["stack"], str(r["orgId"]), str(r["urn"])) for r in document["risks"]),
        # The whole stack's size, also when only the changed tenants (and one per shape) were declared.
        "counts": {name: (plan["tenantCount"], plan["resourceCount"]) for name, plan in document["stacks"].items()},
    }


changes = st.lists(
    st.tuples(
        st.sampled_from(REGISTRY_EDITS),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes)
def test_the_incremental_plan_reports_what_the_full_plan_reports(capsys, registry_changes):
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "repo"
        shutil.copytree(fixture_project(), repo)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "add", ".")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "base")
        registry = yaml.safe_load((repo / "tenants.yaml").read_text())
        for change in registry_changes:
            edit_registry(registry, change)
        (repo / "tenants.yaml").write_text(yaml.safe_dump(registry, sort_keys=False))
        capsys.readouterr()
        full_status = main(["plan", "--format", "json", "--base", "HEAD", "--full"], project_dir=repo)
        full = json.loads(capsys.readouterr().out)
        status = main(["plan", "--format", "json", "--base", "HEAD"], project_dir=repo)
        incremental = json.loads(capsys.readouterr().out)
        assert status == full_status
        assert all(plan["incremental"] for plan in incremental["stacks"].values())
        assert comparable(incremental) == comparable(full)
