"""URNs are part of the contract: a changed URN means Pulumi would replace (delete and recreate) a resource.

The snapshots cover the fixture registry (every profile, environment and tenant option) in both stacks,
and each credential store. If this fails after a refactor, do not just update the snapshot: add
`aliases=[...]` to the moved resources so the old URNs map to the new ones, and only then regenerate
with `UPDATE_URN_SNAPSHOTS=1 make test` (new fixture tenants or resources are the legitimate reason).
"""

import os
from pathlib import Path

import pytest

from tests.conftest import run_stack

SNAPSHOTS = Path(__file__).parent / "snapshots"
VARIANTS = {
    "qa": ("qa", {}),
    "prod": ("prod", {}),
    "qa.ssm": ("qa", {"tenant-storage:credentialStore": "ssm"}),
    "prod.secretsmanager": ("prod", {"tenant-storage:credentialStore": "secretsmanager"}),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANTS)
def test_the_fixture_registry_keeps_its_urns(variant):
    stack, settings = VARIANTS[variant]
    run = run_stack(stack, config=settings)
    assert run.error is None, run.error
    urns = "\n".join(sorted(registration.urn for registration in run.registrations)) + "\n"
    snapshot = SNAPSHOTS / f"urns.{variant}.txt"
    if os.environ.get("UPDATE_URN_SNAPSHOTS") == "1":
        snapshot.write_text(urns)
    assert urns == snapshot.read_text(), f"URNs changed for {variant}; see this test's docstring"
