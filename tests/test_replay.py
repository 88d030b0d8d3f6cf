"""The replay: a stack's offline plan made in the emulator, every resource with the inputs the plan declares,
and read back through the AWS API, so that "the declared state" of every other test is the plan's."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws

from catalogue import RESOURCE_TYPES
from catalogue.readers import READERS
from emulator.replay import (
    APPLY,
    EMULATOR_LACKS,
    EMULATOR_LACKS_TYPES,
    NOT_HELD,
    ReplayError,
    in_dependency_order,
    read_back,
    replay,
)
from review.plan import StackPlan, plan_stack
from tenant_storage.registry import Profile
from tests.conftest import (
    ACCESS_KEY,
    BUCKET,
    BUCKET_POLICY,
    GROUP_MEMBERSHIP,
    PROD_ACCOUNT,
    PUBLIC_ACCESS_BLOCK,
    QA_ACCOUNT,
    USER,
    VERSIONING,
    fixture_project,
    session_in,
    with_settings,
)

ACCOUNTS = {"qa": QA_ACCOUNT, "prod": PROD_ACCOUNT}
# Every stack of the fixture, and every setting that adds resources of its own (the credential stores).
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "qa": ("qa", {}),
    "prod": ("prod", {}),
    "qa with Secrets Manager": ("qa", {"tenant-storage:credentialStore": "secretsmanager"}),
    "qa with Parameter Store": ("qa", {"tenant-storage:credentialStore": "ssm"}),
    "qa with SSE-S3 everywhere": ("qa", {"tenant-storage:privateBucketEncryption": "sse-s3"}),
    "qa served through CloudFront": ("qa", {"tenant-storage:publicAccess": "cloudfront"}),
    "qa served both ways": ("qa", {"tenant-storage:publicAccess": "bucket-policy-and-cloudfront"}),
}


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def planned(variant: str) -> StackPlan:
    stack, settings = VARIANTS[variant]
    return plan_stack(stack, with_settings(fixture_project(), stack, settings) if settings else fixture_project())


@pytest.fixture(scope="module")
def plans() -> dict[str, StackPlan]:
    return {variant: planned(variant) for variant in VARIANTS}


class TestEveryDeclaredResourceIsHeldAsDeclared:
    def test_the_fixture_covers_every_profile_and_every_resource_type(self, plans):
        profiles = {tenant.profile for plan in plans.values() for tenant in plan.tenants}
        assert profiles == {profile.value for profile in Profile}
        declared_types = {resource.type for plan in plans.values() for resource in plan.resources}
        assert set(RESOURCE_TYPES) <= declared_types, "a type no plan declares is a type no test reads back"
        assert set(APPLY) == set(READERS) == set(RESOURCE_TYPES)

    @pytest.mark.parametrize("variant", VARIANTS)
    def test_the_replay_reads_back_exactly_the_plan(self, plans, variant, emulator):
        plan = plans[variant]
        session = session_in(ACCOUNTS[plan.stack])
        replayed = replay(plan, session)
        assert read_back(replayed, session) == []
        # Nothing invented by the offline mocks is left in what was applied.
        applied = json.dumps([replayed.inputs_of(resource) for resource in plan.resources])
        assert replayed.real_values
        assert not [mocked for mocked in replayed.real_values if mocked in applied]

    def test_what_the_emulator_cannot_hold_is_named_with_a_reason(self):
        for (resource_type, name), reason in (NOT_HELD | EMULATOR_LACKS).items():
            assert name in RESOURCE_TYPES[resource_type].inputs
            assert len(reason) > 20
        for resource_type, reason in EMULATOR_LACKS_TYPES.items():
            assert resource_type in RESOURCE_TYPES
            assert len(reason) > 20

    def test_a_type_the_emulator_cannot_hold_is_listed_as_not_applied_never_skipped_in_silence(self, plans, emulator):
        plan = plans["qa served through CloudFront"]
        replayed = replay(plan, session_in(ACCOUNTS[plan.stack]))
        lacking = {r.urn: EMULATOR_LACKS_TYPES[r.type] for r in plan.resources if r.type in EMULATOR_LACKS_TYPES}
        assert len(lacking) == len(EMULATOR_LACKS_TYPES)
        assert replayed.not_applied == lacking


def narrowed_denies(policy: str) -> dict:
    """The policy with each Deny applying only to one other account: an added condition turns it off."""
    document = json.loads(policy)
    for statement in document["Statement"]:
        if statement["Effect"] == "Deny":
            statement["Condition"]["StringEquals"] = {"aws:PrincipalAccount": "999999999999"}
    return document


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def weaken(session: Any, plan: StackPlan, resource_type: str, change: Callable[[Any, Any, dict], object]) -> str:
    resource = next(r for r in plan.resources if r.type == resource_type)
    change(session.client("s3"), session.client("iam"), resource.inputs)
    return resource.urn


WEAKENINGS: dict[str, tuple[str, Callable[[Any, Any, dict], object], str]] = {
    "versioning suspended": (
        VERSIONING,
        lambda s3, iam, i: s3.put_bucket_versioning(
            Bucket=i["bucket"], VersioningConfiguration={"Status": "Suspended"}
        ),
        "versioningConfiguration",
    ),
    "public policies allowed": (
        PUBLIC_ACCESS_BLOCK,
        lambda s3, iam, i: s3.put_public_access_block(
            Bucket=i["bucket"],
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            },
        ),
        "blockPublicPolicy",
    ),
    "a tag removed": (BUCKET, lambda s3, iam, i: s3.delete_bucket_tagging(Bucket=i["bucket"]), "tags"),
    "a user left the group": (
        GROUP_MEMBERSHIP,
        lambda s3, iam, i: iam.remove_user_from_group(GroupName=i["group"], UserName=i["users"][0]),
        "users",
    ),
    "a TLS deny made conditional on the account": (
        BUCKET_POLICY,
        lambda s3, iam, i: s3.put_bucket_policy(Bucket=i["bucket"], Policy=json.dumps(narrowed_denies(i["policy"]))),
        "policy",
    ),
    "a tag added": (
        BUCKET,
        lambda s3, iam, i: s3.put_bucket_tagging(
            Bucket=i["bucket"], Tagging={"TagSet": [*tag_set(i["tags"]), {"Key": "Public", "Value": "yes"}]}
        ),
        "tags",
    ),
    "the access key deactivated": (
        ACCESS_KEY,
        lambda s3, iam, i: [
            iam.update_access_key(UserName=i["user"], AccessKeyId=key["AccessKeyId"], Status="Inactive")
            for key in iam.list_access_keys(UserName=i["user"])["AccessKeyMetadata"][:1]
        ],
        "user",
    ),
    "a tag on the user changed": (
        USER,
        lambda s3, iam, i: iam.tag_user(UserName=i["name"], Tags=[{"Key": "OrgId", "Value": "someone-else"}]),
        "tags",
    ),
}


@pytest.mark.parametrize("weakening", WEAKENINGS)
def test_a_setting_changed_behind_the_plan_is_found(plans, weakening, emulator):
    plan = plans["qa"]
    resource_type, change, field = WEAKENINGS[weakening]
    session = session_in(QA_ACCOUNT)
    replayed = replay(plan, session)
    urn = weaken(session, plan, resource_type, change)
    differences = read_back(replayed, session)
    assert [difference.split(":", 3)[-1] for difference in differences if difference.startswith(f"{urn} {field}")]
    assert len(differences) == 1, differences


class TestTheReplayRefusesWhatItDoesNotKnow:
    def test_an_unknown_resource_type(self, plans, emulator):
        plan = plans["qa"]
        stranger = dataclasses.replace(plan.resources[0], type="aws:s3/bucketAcl:BucketAcl", urn="urn:x")
        with pytest.raises(ReplayError, match="does not know the resource type aws:s3/bucketAcl:BucketAcl"):
            replay(dataclasses.replace(plan, resources=[*plan.resources, stranger]), session_in(QA_ACCOUNT))

    def test_an_unknown_input(self, plans, emulator):
        plan = plans["qa"]
        bucket = next(r for r in plan.resources if r.type == BUCKET)
        widened = dataclasses.replace(bucket, inputs={**bucket.inputs, "objectLockEnabled": True})
        resources = [widened if r is bucket else r for r in plan.resources]
        with pytest.raises(ReplayError, match=r"aws:s3/bucket:Bucket \(input objectLockEnabled\)"):
            replay(dataclasses.replace(plan, resources=resources), session_in(QA_ACCOUNT))

    def test_another_account(self, plans, emulator):
        with pytest.raises(ReplayError, match=f"the plan is of account {QA_ACCOUNT}"):
            replay(plans["qa"], session_in(PROD_ACCOUNT))


def test_each_resource_comes_after_what_it_depends_on(plans):
    for plan in plans.values():
        seen: set[str] = set()
        for resource in in_dependency_order(plan.resources):
            assert set(resource.dependencies) & {r.urn for r in plan.resources} <= seen, resource.urn
            seen.add(resource.urn)
        assert len(seen) == len(plan.resources)
