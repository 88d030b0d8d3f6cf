"""Adopting tenants made by hand: their bucket and IAM user are imported, never created over.

`adopt: true` marks a tenant whose bucket and user already exist; `bucketName:` pins a bucket that does
not follow `<prefix>-<orgId>`. The program sets the `import_` resource option on exactly those two
resources (by name, the import id of both), so `pulumi up` imports them and then updates them to the
declared settings; everything else is created as for a new tenant, under the same URNs.
"""

import json

from tests.conftest import BUCKET, BUCKET_POLICY, STACK_COMPONENT, USER, child, replace_in, run_stack

XMSQA1 = "  - orgId: xmsqa1\n    environment: qa\n"
LEGACY = (
    "  - orgId: legacyapp\n    environment: qa\n    profile: app-storage\n    adopt: true\n    bucketName: {name}\n"
)


def adopted(project, bucket_name: str = "fusion-rms-legacyapp-2"):
    replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    adopt: true\n{LEGACY.format(name=bucket_name)}")(project)
    run = run_stack("qa", project)
    assert run.error is None, run.error
    return run


def test_an_adopted_tenants_bucket_and_user_are_imported_by_name(project):
    run = adopted(project)
    assert child(run, "xmsqa1", BUCKET).import_id == "fusion-rms-xmsqa1"
    assert child(run, "xmsqa1", USER).import_id == "rms_xmsqa1"
    assert child(run, "legacyapp", BUCKET).import_id == "fusion-rms-legacyapp-2"
    assert child(run, "legacyapp", BUCKET).inputs["bucket"] == "fusion-rms-legacyapp-2"


def test_nothing_else_is_imported_and_other_tenants_are_created(project):
    run = adopted(project)
    imported = {(r.type, r.import_id) for r in run.registrations if r.import_id}
    assert imported == {
        (BUCKET, "fusion-rms-xmsqa1"),
        (USER, "rms_xmsqa1"),
        (BUCKET, "fusion-rms-legacyapp-2"),
        (USER, "rms_legacyapp"),
    }


def test_adoption_keeps_the_urns_a_created_tenant_would_have(project):
    created = run_stack("qa", project)
    run = adopted(project)
    xmsqa1 = {r.urn for r in run.registrations if r.parent.endswith("::xmsqa1") or r.name == "xmsqa1"}
    assert xmsqa1 == {r.urn for r in created.registrations if r.parent.endswith("::xmsqa1") or r.name == "xmsqa1"}


def test_an_adopted_bucket_gets_every_guard_rail_of_a_created_one(project):
    run = adopted(project)
    statements = {
        s["Sid"] for s in __import__("json").loads(child(run, "legacyapp", BUCKET_POLICY).inputs["policy"])["Statement"]
    }
    assert statements == {"DenyInsecureTransport", "DenyOutdatedTls"}


def test_the_log_delivery_accepts_an_adopted_bucket_outside_the_prefix(project):
    run = adopted(project, bucket_name="acme-media-2019")
    [shared] = run.by_type(STACK_COMPONENT)
    [policy] = [r for r in run.children_of(shared.urn) if r.type == BUCKET_POLICY]
    [delivery] = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"]
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == [
        "arn:aws:s3:::fusion-rms-*",
        "arn:aws:s3:::acme-media-2019",
    ]


def test_an_adopted_bucket_in_the_account_regional_namespace_is_imported_by_name_without_a_namespace(project):
    """Only CreateBucket carries the namespace (x-amz-bucket-namespace) and no read API returns it: declared on an
    import, it could differ from what the provider reads back, and a difference in that ForceNew input would
    replace the imported bucket. Left out, the provider keeps what it read (the input is Computed)."""
    replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    adopt: true\n    bucketNamespace: account-regional\n")(project)
    run = run_stack("qa", project)
    assert run.error is None, run.error
    bucket = child(run, "xmsqa1", BUCKET)
    assert bucket.inputs["bucket"].endswith("-an")
    assert bucket.import_id == bucket.inputs["bucket"]
    assert "bucketNamespace" not in bucket.inputs
    # A bucket the stack creates in the namespace still says so: CreateBucket needs it.
    replace_in("tenants.yaml", "    adopt: true\n", "")(project)
    created = child(run_stack("qa", project), "xmsqa1", BUCKET)
    assert created.inputs["bucketNamespace"] == "account-regional"


def test_an_adopted_account_regional_bucket_that_drops_adopt_is_not_replaced(project):
    """After the import the state holds the namespace the provider read, if any; the engine never diffs it
    (every bucket's ignoreChanges), so declaring it again once `adopt: true` goes is no change."""
    from review.diff import diff_plans
    from review.plan import plan_stack

    replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    adopt: true\n    bucketNamespace: account-regional\n")(project)
    adopting = plan_stack("qa", project)
    replace_in("tenants.yaml", "    adopt: true\n", "")(project)
    created = plan_stack("qa", project)
    [bucket] = [r for r in created.resources if r.type == BUCKET and r.org_id == "xmsqa1"]
    assert bucket.inputs["bucketNamespace"] == "account-regional"
    assert bucket.ignore_changes == ("bucketNamespace",)
    changes = [c for c in diff_plans(adopting, created).resources if c.type == BUCKET]
    assert changes == [], changes


def test_every_bucket_ignores_its_namespace_after_create(project):
    run = run_stack("qa", project)
    buckets = run.by_type(BUCKET)
    assert len(buckets) > 1
    assert all(bucket.ignore_changes == ("bucketNamespace",) for bucket in buckets), buckets


def test_dropping_the_namespace_of_a_deployed_bucket_is_no_change_but_another_namespace_replaces_it():
    from review.diff import diff_plans
    from review.plan import ResourcePlan, StackPlan

    def plan(**inputs):
        bucket = ResourcePlan(
            "urn:pulumi:qa::tenant-storage::aws:s3/bucket:Bucket::b", BUCKET, "b", "acme", True, inputs
        )
        return StackPlan("qa", resources=[bucket])

    regional = plan(bucket="b-222222222222-us-east-1-an", bucketNamespace="account-regional")
    assert diff_plans(regional, plan(bucket="b-222222222222-us-east-1-an")).resources == []
    [change] = diff_plans(regional, plan(bucket="b-222222222222-us-east-1-an", bucketNamespace="global")).resources
    assert change.action == "replace"
