"""Zero-downtime rotation: each access key label is its own resource with a stable URN."""

from review.diff import diff_plans
from review.plan import plan_from_run
from tests.conftest import ACCESS_KEY, FIXTURE_INPUTS, replace_in, run_stack

EXAMPLE_REGISTRY = (FIXTURE_INPUTS / "tenants.yaml").read_text()

XMSQA1 = "  - orgId: xmsqa1\n    environment: qa\n"
KEY_URN = "urn:pulumi:qa::tenant-storage::tenant-storage:index:TenantStorage$aws:iam/accessKey:AccessKey::{}"


def with_labels(project, labels: str | None):
    """Deploy (under mocks) the example registry with xmsqa1's `accessKeys` set to `labels`."""
    (project / "tenants.yaml").write_text(EXAMPLE_REGISTRY)
    if labels is not None:
        replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    accessKeys: {labels}\n")(project)
    run = run_stack("qa", project)
    assert run.error is None, run.error
    return run


def key_urns(run):
    return {r.urn for r in run.by_type(ACCESS_KEY) if r.name.startswith("xmsqa1-")}


def other_urns(run):
    return {r.urn for r in run.registrations if r.type != ACCESS_KEY or not r.name.startswith("xmsqa1-")}


def test_the_rotation_procedure_touches_only_the_keys(project):
    before = with_labels(project, None)
    both = with_labels(project, '[initial, "2026-11"]')
    after = with_labels(project, '["2026-11"]')

    initial, rotated = KEY_URN.format("xmsqa1-access-key"), KEY_URN.format("xmsqa1-access-key-2026-11")
    assert key_urns(before) == {initial}
    assert key_urns(both) == {initial, rotated}
    assert key_urns(after) == {rotated}
    assert other_urns(before) == other_urns(both) == other_urns(after)

    adding = diff_plans(plan_from_run(before), plan_from_run(both))
    assert [(change.action, change.urn) for change in adding.resources] == [("create", rotated)]
    removing = diff_plans(plan_from_run(both), plan_from_run(after))
    assert [(change.action, change.urn) for change in removing.resources] == [("delete", initial)]
    assert not removing.data_loss


def test_outputs_expose_every_key_by_label_and_point_apps_at_the_newest(project):
    run = with_labels(project, '[initial, "2026-11"]')
    summary = run.outputs["tenants"].value["xmsqa1"]
    assert set(summary["accessKeyIds"]) == {"initial", "2026-11"}
    assert summary["accessKeyId"] == summary["accessKeyIds"]["2026-11"]
    secrets = run.outputs["secretAccessKeys"]
    assert secrets.secret is True
    assert set(secrets.value["xmsqa1"]) == {"initial", "2026-11"}
    assert secrets.value["xmsqa1"]["initial"] != secrets.value["xmsqa1"]["2026-11"]
