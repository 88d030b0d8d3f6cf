"""The access matrix: what AWS would let each caller do to each tenant's bucket.

The resources the real program declares for the example registry (captured under the mock monitor)
are created in moto, then probed by three callers per tenant: anonymous, the tenant's own IAM user,
and another tenant's user.

Who decides what, and why (checked against moto 5 first):
- Signed requests: moto with IAM authentication on evaluates the caller's identity policies (and
  checks signatures), which is how this project grants its users. Of the bucket policy, moto applies
  only explicit Denies, only to object requests, and ignores their conditions: our TLS-only Deny
  (condition `aws:SecureTransport` false) would deny every object request. So moto gets the bucket
  policy without its conditional statements (every probe is made over TLS, where they do not apply),
  and each S3 probe also asks the separately tested evaluator (`tenant_storage.anonymous_access`) for
  the full policy's verdict: an explicit Deny wins, and an Allow for principal `*` grants any caller,
  as in AWS for callers in the bucket's account.
- Anonymous requests: moto's unsigned-request path is partial (it crashes on a public object and
  answers from object ACLs elsewhere), so anonymous S3 probes are decided by the evaluator alone, from
  the declared bucket policy and public access block. The IAM API has no anonymous access.
- CloudFront (publicAccess cloudfront, or both): its requests are signed by origin access control as the
  service principal `cloudfront.amazonaws.com` for one distribution (`aws:SourceArn`); moto cannot act as a
  service, so the evaluator (`tenant_storage.access`) decides them from the declared bucket policy, for the
  stack's distribution and for another account's.
- Before anything is probed, every declared bucket policy must pass the check AWS applies at
  PutBucketPolicy (no public policy while `block_public_policy` is on).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.replay import replay
from mock_runtime.runner import ProgramRun
from review.plan import plan_from_run
from tenant_storage.access import Caller, allowed
from tenant_storage.anonymous_access import Decision, PublicAccessBlock, bucket_policy_decision, check_policy_accepted
from tenant_storage.policies import effective_policy
from tenant_storage.public_access import CLOUDFRONT_SERVICE, PublicAccess, distribution_arn
from tests.conftest import (
    BUCKET,
    BUCKET_POLICY,
    COMPONENT,
    GROUP_MEMBERSHIP,
    GROUP_POLICY,
    PUBLIC_ACCESS_BLOCK,
    USER,
    child,
    iam_enforced,
    session_in,
)

PUB_OBJECT, PRIVATE_OBJECT = "pub/probe.png", "private/data.bin"


@dataclass
class Tenant:
    org_id: str
    profile: str
    bucket: str
    user: str
    policy: dict[str, Any]
    block: PublicAccessBlock
    public_access: PublicAccess | None = None  # how its pub/ is public; None: a private profile
    key: dict[str, str] | None = None

    @property
    def kind(self) -> str:
        """Its profile, and for a gallery whether anyone reads it straight from S3 or only through CloudFront."""
        if self.public_access is None:
            return self.profile
        return f"{self.profile} ({self.public_access.value})"


@dataclass(frozen=True)
class Probe:
    name: str
    action: str
    object_key: str | None
    call: Callable[[Any, Any, Tenant, Tenant], object]  # (s3, iam, target tenant, caller tenant)


PROBES = [
    Probe("get pub/", "s3:GetObject", PUB_OBJECT, lambda s3, iam, t, c: s3.get_object(Bucket=t.bucket, Key=PUB_OBJECT)),
    Probe(
        "get private",
        "s3:GetObject",
        PRIVATE_OBJECT,
        lambda s3, iam, t, c: s3.get_object(Bucket=t.bucket, Key=PRIVATE_OBJECT),
    ),
    Probe(
        "put",
        "s3:PutObject",
        "uploads/probe.bin",
        lambda s3, iam, t, c: s3.put_object(Bucket=t.bucket, Key="uploads/probe.bin", Body=b"x"),
    ),
    Probe(
        "delete",
        "s3:DeleteObject",
        "uploads/gone.bin",
        lambda s3, iam, t, c: s3.delete_object(Bucket=t.bucket, Key="uploads/gone.bin"),
    ),
    Probe("list", "s3:ListBucket", None, lambda s3, iam, t, c: s3.list_objects_v2(Bucket=t.bucket)),
    Probe("get location", "s3:GetBucketLocation", None, lambda s3, iam, t, c: s3.get_bucket_location(Bucket=t.bucket)),
    Probe(
        "put bucket policy",
        "s3:PutBucketPolicy",
        None,
        lambda s3, iam, t, c: s3.put_bucket_policy(Bucket=t.bucket, Policy=json.dumps(t.policy)),
    ),
    Probe("delete bucket", "s3:DeleteBucket", None, lambda s3, iam, t, c: s3.delete_bucket(Bucket=t.bucket)),
    Probe("create IAM user", "iam:CreateUser", None, lambda s3, iam, t, c: iam.create_user(UserName="intruder")),
    Probe(
        "create access key", "iam:CreateAccessKey", None, lambda s3, iam, t, c: iam.create_access_key(UserName=c.user)
    ),
]

GALLERY = {mode: f"media-gallery ({mode.value})" for mode in PublicAccess}
GALLERY_USER = {"get pub/", "get private", "put", "delete", "list"}
OWN_USER = {
    **dict.fromkeys(GALLERY.values(), GALLERY_USER),
    "app-storage": {"get pub/", "get private", "put", "delete", "list", "get location"},
    "upload-only": {"put"},
}
# pub/ is public by design: another tenant's user gets exactly what an anonymous caller gets, nothing more. Served
# only through CloudFront, nobody reads it straight from S3; the stack's distribution reads pub/ and nothing else.
ANONYMOUS = OTHER_TENANTS_USER = {
    **{kind: {"get pub/"} if mode.anonymous_at_s3 else set() for mode, kind in GALLERY.items()},
    "app-storage": set(),
    "upload-only": set(),
}
STACKS_DISTRIBUTION = {kind: {"get pub/"} if mode.through_cloudfront else set() for mode, kind in GALLERY.items()}
STACKS_DISTRIBUTION |= {"app-storage": set(), "upload-only": set()}
ANOTHER_DISTRIBUTION: dict[str, set[str]] = {kind: set() for kind in OWN_USER}
ANOTHER_ACCOUNTS_DISTRIBUTION_ARN = "arn:aws:cloudfront::999999999999:distribution/EOTHERACCOUNT"
DENIED_CODES = {"AccessDenied", "403"}


def declared_tenants(run: ProgramRun) -> list[Tenant]:
    tenants = []
    for component in run.by_type(COMPONENT):
        org_id = component.name
        block_inputs = child(run, org_id, PUBLIC_ACCESS_BLOCK).inputs
        mode = run.outputs["tenants"].value[org_id].get("publicAccess")
        tenants.append(
            Tenant(
                org_id=org_id,
                profile=run.outputs["tenants"].value[org_id]["profile"],
                bucket=child(run, org_id, BUCKET).inputs["bucket"],
                user=child(run, org_id, USER).inputs["name"],
                policy=json.loads(child(run, org_id, BUCKET_POLICY).inputs["policy"]),
                block=PublicAccessBlock(
                    block_public_acls=block_inputs["blockPublicAcls"],
                    ignore_public_acls=block_inputs["ignorePublicAcls"],
                    block_public_policy=block_inputs["blockPublicPolicy"],
                    restrict_public_buckets=block_inputs["restrictPublicBuckets"],
                ),
                public_access=PublicAccess(mode) if mode else None,
            )
        )
    return sorted(tenants, key=lambda tenant: tenant.org_id)


def without_conditional_statements(policy: dict[str, Any]) -> dict[str, Any]:
    """What moto can be given: it would apply a conditional Deny unconditionally."""
    return {**policy, "Statement": [s for s in policy["Statement"] if "Condition" not in s]}


def create_in_moto(run: ProgramRun, tenants: list[Tenant]) -> None:
    """What the program declared, replayed as the stack's account (emulator/replay.py), then the two things
    moto needs to judge requests as AWS would, and the objects the probes read."""
    plan = plan_from_run(run)
    session = session_in(plan.account_id)
    replayed = replay(plan, session)
    s3, iam = session.client("s3"), session.client("iam")
    for tenant in tenants:
        check_policy_accepted(tenant.policy, tenant.block)  # what S3 checks at PutBucketPolicy
        # moto applies a conditional Deny unconditionally (MOTO_LIMITS): the TLS denies, which no probe here
        # could break, leave the policy moto judges; anonymous_access.py judges the whole policy.
        s3.put_bucket_policy(Bucket=tenant.bucket, Policy=json.dumps(without_conditional_statements(tenant.policy)))
        for key in (PUB_OBJECT, PRIVATE_OBJECT):
            s3.put_object(Bucket=tenant.bucket, Key=key, Body=b"probe")
    # Users get their permissions through their profile's group, whose policy names the bucket as
    # `${aws:PrincipalTag/TenantBucket}`. AWS substitutes that per caller; moto does not (a test below pins
    # this), so the harness does what AWS does: each member moves to its own copy of its group, with the
    # variables replaced by that member's tags. The policy text is the group's, word for word otherwise.
    tags = {r.inputs["name"]: r.inputs["tags"] for r in run.by_type(USER)}
    policies = {r.inputs["group"]: r.inputs["policy"] for r in run.by_type(GROUP_POLICY)}
    for membership in run.by_type(GROUP_MEMBERSHIP):
        group = membership.inputs["group"]
        for user in membership.inputs["users"]:
            per_user_group = f"{group}.{user}"
            iam.remove_user_from_group(GroupName=group, UserName=user)
            iam.create_group(GroupName=per_user_group)
            document = effective_policy(json.loads(policies[group]), tags[user])
            iam.put_group_policy(
                GroupName=per_user_group, PolicyName="tenant-bucket-access", PolicyDocument=json.dumps(document)
            )
            iam.add_user_to_group(GroupName=per_user_group, UserName=user)
    for tenant in tenants:
        newest = replayed.access_keys[tenant.user][-1]  # the key the tenant's app uses
        tenant.key = {"aws_access_key_id": newest["id"], "aws_secret_access_key": newest["secret"]}


def authorized(call: Callable[[], object]) -> bool:
    try:
        call()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in DENIED_CODES:
            return False
        if code == "BucketNotEmpty":  # authorised; S3 refused for another reason
            return True
        raise
    return True


def signed_outcome(probe: Probe, target: Tenant, caller: Tenant) -> bool:
    s3 = boto3.client("s3", region_name="us-east-1", **(caller.key or {}))
    iam = boto3.client("iam", region_name="us-east-1", **(caller.key or {}))
    identity_allows = authorized(lambda: probe.call(s3, iam, target, caller))
    if not probe.action.startswith("s3:"):
        return identity_allows
    resource = f"arn:aws:s3:::{target.bucket}" + (f"/{probe.object_key}" if probe.object_key else "")
    verdict = bucket_policy_decision(target.policy, target.block, probe.action, resource, caller_in_bucket_account=True)
    return verdict is not Decision.DENY and (identity_allows or verdict is Decision.ALLOW)


def cloudfront_outcome(probe: Probe, target: Tenant, arn: str) -> bool:
    """A request CloudFront signs (origin access control) for the distribution `arn`."""
    if not probe.action.startswith("s3:"):
        return False
    resource = f"arn:aws:s3:::{target.bucket}" + (f"/{probe.object_key}" if probe.object_key else "")
    cloudfront = Caller("service", service=CLOUDFRONT_SERVICE, context={"aws:SourceArn": arn})
    return allowed(cloudfront, probe.action, resource, target.policy, target.block)


def the_stacks_distribution(run: ProgramRun) -> str:
    """Its ARN as the bucket policies name it (the mocks' id), or one of no distribution when the stack has none."""
    distributions = run.by_type("aws:cloudfront/distribution:Distribution")
    if not distributions:
        return "arn:aws:cloudfront::000000000000:distribution/NONE"
    return distribution_arn(plan_from_run(run).account_id, distributions[0].id)


def anonymous_outcome(probe: Probe, target: Tenant) -> bool:
    if not probe.action.startswith("s3:"):
        return False
    resource = f"arn:aws:s3:::{target.bucket}" + (f"/{probe.object_key}" if probe.object_key else "")
    return bucket_policy_decision(target.policy, target.block, probe.action, resource) is Decision.ALLOW


@pytest.fixture
def aws_emulator(monkeypatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.mark.parametrize("stack", ["qa", "prod"])
def test_every_caller_gets_exactly_what_its_profile_allows(stack, request, aws_emulator):
    run = request.getfixturevalue(f"{stack}_run")
    tenants = declared_tenants(run)
    assert {tenant.profile for tenant in tenants} == {"media-gallery", "app-storage", "upload-only"}, (
        "the example registry must cover every profile"
    )
    if stack == "prod":
        assert GALLERY[PublicAccess.CLOUDFRONT] in {tenant.kind for tenant in tenants}, (
            "and a gallery behind CloudFront"
        )
    create_in_moto(run, tenants)
    distribution = the_stacks_distribution(run)

    observed, expected = {}, {}
    with iam_enforced():
        for index, target in enumerate(tenants):
            other = tenants[(index + 1) % len(tenants)]
            for caller, outcome, allowed in (
                ("anonymous", lambda p, t=target: anonymous_outcome(p, t), ANONYMOUS),
                ("own user", lambda p, t=target: signed_outcome(p, t, t), OWN_USER),
                (f"user of {other.org_id}", lambda p, t=target, o=other: signed_outcome(p, t, o), OTHER_TENANTS_USER),
                (
                    "the stack's distribution",
                    lambda p, t=target: cloudfront_outcome(p, t, distribution),
                    STACKS_DISTRIBUTION,
                ),
                (
                    "another account's distribution",
                    lambda p, t=target: cloudfront_outcome(p, t, ANOTHER_ACCOUNTS_DISTRIBUTION_ARN),
                    ANOTHER_DISTRIBUTION,
                ),
            ):
                for probe in PROBES:
                    observed[(target.org_id, caller, probe.name)] = outcome(probe)
                    expected[(target.org_id, caller, probe.name)] = probe.name in allowed[target.kind]

    mismatches = {key: observed[key] for key in observed if observed[key] != expected[key]}
    assert not mismatches, "\n".join(f"{k}: observed {'allowed' if v else 'denied'}" for k, v in mismatches.items())
    assert sum(observed.values()) == sum(expected.values()) > 0


def test_what_moto_enforces_matches_the_premise_above(aws_emulator):
    """If moto starts evaluating bucket-policy Allows or conditions, revisit the split in this module."""
    s3, iam = boto3.client("s3"), boto3.client("iam")
    s3.create_bucket(Bucket="premise-bucket")
    s3.put_object(Bucket="premise-bucket", Key="pub/x", Body=b"x")
    anyone = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::premise-bucket/*",
    }
    s3.put_bucket_policy(Bucket="premise-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [anyone]}))
    iam.create_user(UserName="premise-user")
    iam.put_user_policy(
        UserName="premise-user",
        PolicyName="put",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="premise-user")["AccessKey"]
    user_s3 = boto3.client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    with iam_enforced():
        # A bucket-policy Allow for everyone does not grant a signed caller in moto (it would in AWS).
        assert not authorized(lambda: user_s3.get_object(Bucket="premise-bucket", Key="pub/x"))
        assert authorized(lambda: user_s3.put_object(Bucket="premise-bucket", Key="y", Body=b"y"))
    tls_only = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::premise-bucket/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket="premise-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [tls_only]}))
    with iam_enforced():
        # The Deny's condition is ignored: even this TLS request is refused.
        assert not authorized(lambda: user_s3.put_object(Bucket="premise-bucket", Key="y", Body=b"y"))


def test_moto_does_not_substitute_principal_tags_so_the_harness_does(aws_emulator):
    """If moto starts substituting `${aws:PrincipalTag/...}`, the per-member groups above can go."""
    s3, iam = boto3.client("s3"), boto3.client("iam")
    s3.create_bucket(Bucket="tagged-bucket")
    iam.create_user(UserName="tagged-user", Tags=[{"Key": "TenantBucket", "Value": "tagged-bucket"}])
    iam.create_group(GroupName="tagged-group")
    iam.add_user_to_group(GroupName="tagged-group", UserName="tagged-user")
    statement = {
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::${aws:PrincipalTag/TenantBucket}/*",
    }
    iam.put_group_policy(
        GroupName="tagged-group",
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    key = iam.create_access_key(UserName="tagged-user")["AccessKey"]
    user_s3 = boto3.client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    with iam_enforced():
        assert not authorized(lambda: user_s3.put_object(Bucket="tagged-bucket", Key="y", Body=b"y"))
