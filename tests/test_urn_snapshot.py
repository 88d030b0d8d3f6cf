"""URNs are part of the contract: a changed URN means Pulumi would replace (delete and recreate) a resource.

If this fails after a refactor, do not just update the snapshot: add `aliases=[...]` to the moved
resources so the old URNs map to the new ones, and only then regenerate with
`UPDATE_URN_SNAPSHOTS=1 make test` (new tenants or resources are the legitimate reason to regenerate).
"""

import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("stack", ["qa", "prod"])
def test_the_example_registry_keeps_its_urns(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    urns = "\n".join(sorted(registration.urn for registration in run.registrations)) + "\n"
    snapshot = SNAPSHOTS / f"urns.{stack}.txt"
    if os.environ.get("UPDATE_URN_SNAPSHOTS") == "1":
        snapshot.write_text(urns)
    assert urns == snapshot.read_text(), f"URNs changed for stack {stack}; see this test's docstring"
