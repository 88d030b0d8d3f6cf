"""`audit` against a moto server: clean when the live account is what the stack declares, and every
drift reported with its tenant (exit 1)."""

import datetime
import json

import boto3
import pytest

from cli.main import main
from live.audit import run_audit
from tests.conftest import (
    PROD_ACCOUNT,
    QA_ACCOUNT,
    fixture_project,
    iam_enforced,
    reset_emulator,
    signed_in_as_a_role_refused,
    use_account,
)
from tests.legacy_accounts import make_legacy_tenants

ACCESS_KEY = "aws:iam/accessKey:AccessKey"


@pytest.fixture(autouse=True)
def _reads_over_tls(requests_over_tls):
    """The audit reads over TLS, where the buckets' TLS denies do not apply (moto applies them to every read)."""


def audit(endpoint: str, *args: str) -> int:
    return main(["audit", "--stack", "qa", "--endpoint-url", endpoint, *args], project_dir=fixture_project())


def findings(capsys) -> set[tuple[str, str]]:
    return {(f["orgId"], f["check"]) for f in json.loads(capsys.readouterr().out)["findings"]}


def test_the_declared_state_audits_clean(deployed, capsys):
    assert audit(deployed, "--format", "json") == 0, capsys.readouterr().out
    document = json.loads(capsys.readouterr().out)
    # moto 5 does not implement ListServiceSpecificCredentials: said as not checked, against an emulator only.
    unchecked = document.pop("unchecked")
    assert unchecked
    assert all("service-specific credentials: the endpoint could not answer" in line for line in unchecked)
    assert document == {
        "project": str(fixture_project()),
        "stack": "qa",
        "account": QA_ACCOUNT,
        "findings": [],
        "orphans": [],
        "unreadable": [],
    }


def client(endpoint: str, service: str):
    return boto3.session.Session(region_name="us-east-1").client(service, endpoint_url=endpoint)


def keep_replaced_versions(endpoint: str, days: int, prefix: str) -> None:
    """xmsqa1's lifecycle, replaced by one rule keeping replaced and deleted versions `days` days under `prefix`."""
    client(endpoint, "s3").put_bucket_lifecycle_configuration(
        Bucket="fusion-rms-xmsqa1",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-noncurrent-versions",
                    "Status": "Enabled",
                    "Filter": {"Prefix": prefix},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": days},
                }
            ]
        },
    )


def expire_current_objects_after_a_day(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket="fusion-rms-xmsqa1")["Rules"]
    rules[0]["Expiration"] = {"Days": 1}
    s3.put_bucket_lifecycle_configuration(Bucket="fusion-rms-xmsqa1", LifecycleConfiguration={"Rules": rules})


EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
ANYONE_IN_ACCOUNT = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{QA_ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
LOG_BUCKET = f"fusion-rms--access-logs-{QA_ACCOUNT}-us-east-1"


def stack_key(endpoint: str) -> str:
    kms = client(endpoint, "kms")
    [key] = [
        k["KeyId"]
        for k in kms.list_keys()["Keys"]
        if "tenant-storage qa" in kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["Description"]
    ]
    return key


DRIFTS = {
    "a stray inline policy": (
        lambda e: client(e, "iam").put_user_policy(
            UserName="rms_xmsqa1",
            PolicyName="extra",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            ),
        ),
        ("xmsqa1", "user-policies"),
    ),
    "a removed TLS deny": (
        lambda e: client(e, "s3").put_bucket_policy(
            Bucket="fusion-rms-xmsqa2",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "X",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:DeleteBucket",
                            "Resource": "arn:aws:s3:::fusion-rms-xmsqa2",
                        }
                    ],
                }
            ),
        ),
        ("xmsqa2", "bucket-policy"),
    ),
    "versioning suspended": (
        lambda e: client(e, "s3").put_bucket_versioning(
            Bucket="fusion-rms-xmsqa1", VersioningConfiguration={"Status": "Suspended"}
        ),
        ("xmsqa1", "versioning"),
    ),
    "an extra key": (lambda e: client(e, "iam").create_access_key(UserName="rms_xmsqa2"), ("xmsqa2", "access-keys")),
    "current objects expired by a field added to a declared rule": (
        lambda e: expire_current_objects_after_a_day(e),
        ("xmsqa1", "lifecycle"),
    ),
    "a console password for a tenant user": (
        lambda e: client(e, "iam").create_login_profile(UserName="rms_xmsqa1", Password="Not-a-real-secret-1"),
        ("xmsqa1", "user-credentials"),
    ),
    "the tenant's key made inactive": (
        lambda e: client(e, "iam").update_access_key(
            UserName="rms_xmsqa2",
            AccessKeyId=client(e, "iam").list_access_keys(UserName="rms_xmsqa2")["AccessKeyMetadata"][0]["AccessKeyId"],
            Status="Inactive",
        ),
        ("xmsqa2", "access-keys"),
    ),
    # A media-gallery tenant may write its pub/ marker: bytes that are no text end no audit.
    "a tenant bucket replicated elsewhere": (
        lambda e: client(e, "s3").put_bucket_replication(
            Bucket="fusion-rms-xmsqa2",
            ReplicationConfiguration={
                "Role": f"arn:aws:iam::{QA_ACCOUNT}:role/replication",
                "Rules": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::elsewhere"}, "Prefix": ""}],
            },
        ),
        ("xmsqa2", "bucket"),
    ),
    "CORS rules on a tenant bucket": (
        lambda e: client(e, "s3").put_bucket_cors(
            Bucket="fusion-rms-xmsqa2",
            CORSConfiguration={"CORSRules": [{"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"]}]},
        ),
        ("xmsqa2", "bucket"),
    ),
    "the pub/ marker overwritten with bytes": (
        lambda e: client(e, "s3").put_object(Bucket="fusion-rms-xmsqa1", Key="pub/", Body=b"\xff\xfe\x00"),
        ("xmsqa1", "pub-folder"),
    ),
    "replaced versions kept a week, not 30 days": (
        lambda e: keep_replaced_versions(e, days=7, prefix="pub/"),
        ("xmsqa1", "noncurrent-retention"),
    ),
}


# The stack's shared resources (every media-gallery tenant's user is in that group): made all at once on one
# deployment, each reported on its own.
SHARED_DRIFTS = {
    "everything granted to a profile's group": (
        lambda e: client(e, "iam").put_group_policy(
            GroupName="tenant-storage-qa-media-gallery",
            PolicyName="tenant-bucket-access",
            PolicyDocument=json.dumps(EVERYTHING),
        ),
        ("", "group-policy"),
    ),
    "a policy put on a profile's group by hand": (
        lambda e: client(e, "iam").put_group_policy(
            GroupName="tenant-storage-qa-app-storage", PolicyName="extra", PolicyDocument=json.dumps(EVERYTHING)
        ),
        ("", "group-policies"),
    ),
    "someone else in a profile's group": (
        lambda e: (
            client(e, "iam").create_user(UserName="intruder"),
            client(e, "iam").add_user_to_group(GroupName="tenant-storage-qa-upload-only", UserName="intruder"),
        ),
        ("", "user-groups"),
    ),
    "the key's rotation turned off": (
        lambda e: client(e, "kms").disable_key_rotation(KeyId=stack_key(e)),
        ("", "kms-key"),
    ),
    "the key's policy replaced": (
        lambda e: client(e, "kms").put_key_policy(
            KeyId=stack_key(e), PolicyName="default", Policy=json.dumps(EVERYTHING | {"Statement": [ANYONE_IN_ACCOUNT]})
        ),
        ("", "kms-key"),
    ),
    "the key scheduled for deletion": (
        lambda e: client(e, "kms").schedule_key_deletion(KeyId=stack_key(e), PendingWindowInDays=7),
        ("", "kms-key"),
    ),
    "a grant on the key": (
        lambda e: client(e, "kms").create_grant(
            KeyId=stack_key(e), GranteePrincipal="arn:aws:iam::999999999999:root", Operations=["Decrypt"]
        ),
        ("", "kms-key"),
    ),
    "the log bucket's policy removed": (
        lambda e: client(e, "s3").delete_bucket_policy(Bucket=LOG_BUCKET),
        ("", "bucket-policy"),
    ),
    "the log bucket's versioning suspended": (
        lambda e: client(e, "s3").put_bucket_versioning(
            Bucket=LOG_BUCKET, VersioningConfiguration={"Status": "Suspended"}
        ),
        ("", "versioning"),
    ),
}


def test_each_drift_of_the_stacks_shared_resources_is_reported(deployed, capsys):
    for make_drift, _ in SHARED_DRIFTS.values():
        make_drift(deployed)
    assert audit(deployed, "--format", "json") == 1
    found = findings(capsys)
    assert {expected for _, expected in SHARED_DRIFTS.values()} <= found
    document_checks = {check for org, check in found if org == ""}
    assert document_checks == {
        "group-policy",
        "group-policies",
        "user-groups",
        "kms-key",
        "bucket-policy",
        "versioning",
    }


@pytest.mark.parametrize("drift", DRIFTS.values(), ids=DRIFTS.keys())
def test_each_drift_is_reported_with_its_tenant(deployed, capsys, drift):
    make_drift, expected = drift
    make_drift(deployed)
    assert audit(deployed, "--format", "json") == 1
    assert expected in findings(capsys)


def test_an_old_key_is_reported(deployed, capsys):
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=120)
    assert run_audit(fixture_project(), "qa", "json", deployed, now=later) == 1
    messages = [f["message"] for f in json.loads(capsys.readouterr().out)["findings"] if f["check"] == "access-keys"]
    assert any("days old, over 90 (IAM.3)" in m for m in messages)
    assert any("never used, over 45 days (IAM.22)" in m for m in messages)


def test_an_extra_key_is_named_by_its_id_for_the_delete(deployed, capsys):
    extra = client(deployed, "iam").create_access_key(UserName="rms_xmsqa2")["AccessKey"]["AccessKeyId"]
    assert audit(deployed, "--format", "json") == 1
    messages = [f["message"] for f in json.loads(capsys.readouterr().out)["findings"] if f["check"] == "access-keys"]
    assert any("access keys, 1 declared (a legacy key?): " in m and f"{extra} (made " in m for m in messages), messages


def test_drift_is_said_in_the_words_of_s3_and_yaml_not_python(deployed, capsys):
    s3, iam = client(deployed, "s3"), client(deployed, "iam")
    s3.delete_public_access_block(Bucket="fusion-rms-xmsqa2")
    s3.delete_bucket_tagging(Bucket="fusion-rms-xmsqa2")
    iam.remove_user_from_group(GroupName="tenant-storage-qa-app-storage", UserName="rms_xmsqa2")
    iam.untag_user(UserName="rms_xmsqa2", TagKeys=["TenantBucket"])
    assert audit(deployed, "--format", "json") == 1
    messages: dict[str, list[str]] = {}
    for finding in json.loads(capsys.readouterr().out)["findings"]:
        messages.setdefault(finding["check"], []).append(finding["message"])
    assert "fusion-rms-xmsqa2: BlockPublicAcls is not set, declared on" in messages["public-access-block"]
    assert "fusion-rms-xmsqa2: tag OrgId is not set, declared 'xmsqa2'" in messages["tags"]
    assert messages["user-groups"] == [
        "tenant-storage-qa-app-storage: Users: 'rms_xmsqa2' is missing",
        "rms_xmsqa2: groups none, declared tenant-storage-qa-app-storage",
    ]
    assert "rms_xmsqa2: tag TenantBucket is not set, declared 'fusion-rms-xmsqa2'" in messages["tags"]
    for message in (message for found in messages.values() for message in found):
        assert not {"None", "[]", "['", "True", "False"} & set(message.replace(",", " ").split()), message


def test_an_undeployed_suffixed_tenant_is_named_by_its_pattern_not_the_offline_placeholder(deployed, capsys):
    s3 = client(deployed, "s3")
    [suffixed] = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("fusion-rms-tradeshow-demo-")]
    s3.delete_bucket_policy(Bucket=suffixed)  # moto refuses object requests under its TLS denies (MOTO_LIMITS)
    for version in s3.list_object_versions(Bucket=suffixed).get("Versions", []):  # its pub/ folder
        s3.delete_object(Bucket=suffixed, Key=version["Key"], VersionId=version["VersionId"])
    s3.delete_bucket(Bucket=suffixed)
    assert audit(deployed, "--format", "json") == 1
    messages = [f["message"] for f in json.loads(capsys.readouterr().out)["findings"] if f["check"] == "bucket"]
    assert messages == ["no bucket fusion-rms-tradeshow-demo-<8 hex digits> in this account (not deployed yet?)"]


def test_orphans_and_missing_tenants_are_reported(moto_server, monkeypatch, capsys):
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    make_legacy_tenants(moto_server)
    assert audit(moto_server, "--format", "json") == 1
    document = json.loads(capsys.readouterr().out)
    assert "bucket fusion-rms-lonely" in document["orphans"]
    assert "user rms_ghost" in document["orphans"]
    assert ("xmsqa1", "bucket") in {(f["orgId"], f["check"]) for f in document["findings"]}


def test_markdown_for_the_nightly_job_summary(deployed, capsys):
    client(deployed, "s3").put_bucket_versioning(
        Bucket="fusion-rms-xmsqa1", VersioningConfiguration={"Status": "Suspended"}
    )
    assert audit(deployed, "--format", "markdown") == 1
    out = capsys.readouterr().out
    assert out.startswith("## Audit of stack `qa` in account `222222222222`")
    assert "| `xmsqa1` | versioning |" in out


def test_the_wrong_account_is_refused(deployed, monkeypatch, capsys):
    use_account(monkeypatch, deployed, PROD_ACCOUNT)
    assert audit(deployed) == 2
    assert f"audit: the credentials are for account {PROD_ACCOUNT}" in capsys.readouterr().err


def test_versions_kept_as_long_as_declared_or_longer_are_no_finding(deployed, capsys):
    for days in (30, 90):
        keep_replaced_versions(deployed, days=days, prefix="")
        audit(deployed, "--format", "json")
        assert not {check for _, check in findings(capsys)} & {"noncurrent-retention"}


def test_a_refused_read_is_unreadable_and_names_the_action_it_needs(deployed, monkeypatch, capsys):
    """An AccessDenied (a missing permission, an SCP, a bucket policy) says nothing about the resource: it is never
    reported as "not configured", and the audit does not pass as clean (exit 2)."""
    deny = {"Effect": "Deny", "Action": ["s3:GetBucketPolicy", "iam:GetGroupPolicy"], "Resource": "*"}
    signed_in_as_a_role_refused(deployed, monkeypatch, deny)
    with iam_enforced():
        status = audit(deployed, "--format", "json")
    document = json.loads(capsys.readouterr().out)
    assert status == 2
    assert document["findings"] == []
    refused = {(u["check"], u["action"]) for u in document["unreadable"]}
    assert refused == {("bucket-policy", "s3:GetBucketPolicy"), ("group-policy", "iam:GetGroupPolicy")}
    assert all("could not read, needs " in u["message"] for u in document["unreadable"])


def test_a_second_bucket_of_a_suffixed_tenants_pattern_is_an_orphan_not_the_tenants(deployed, capsys):
    """The tenant's bucket is the one its user's TenantBucket tag names, whichever sorts first."""
    s3 = client(deployed, "s3")
    [real] = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("fusion-rms-tradeshow-demo-")]
    s3.create_bucket(Bucket="fusion-rms-tradeshow-demo-00000000")
    assert audit(deployed, "--format", "json") == 1
    document = json.loads(capsys.readouterr().out)
    assert document["orphans"] == ["bucket fusion-rms-tradeshow-demo-00000000"]
    assert [f for f in document["findings"] if f["orgId"] == "tradeshow-demo"] == [], real


@pytest.fixture
def deployed_prod(moto_server, monkeypatch):
    """The fixture's prod stack as declared, acme-staging's pub/ served through the stack's CloudFront distribution."""
    from emulator.replay import replay
    from tests.conftest import fixture_plan

    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, PROD_ACCOUNT)
    replay(fixture_plan("prod"), boto3.session.Session(region_name="us-east-1"), moto_server)
    return moto_server


def audit_prod(endpoint: str, capsys) -> tuple[int, dict]:
    status = main(
        ["audit", "--stack", "prod", "--endpoint-url", endpoint, "--format", "json"], project_dir=fixture_project()
    )
    return status, json.loads(capsys.readouterr().out)


class TestCloudFront:
    """The audit finds the stack's CloudFront resources by name (their ids are the deploy's) and compares them, and
    each bucket policy's grant to the distribution, with what the account holds."""

    def test_the_declared_distribution_and_grants_audit_clean_and_moto_s_gaps_are_not_checked(
        self, deployed_prod, capsys
    ):
        status, document = audit_prod(deployed_prod, capsys)
        assert (status, document["findings"], document["unreadable"]) == (0, [], [])
        gaps = [line for line in document["unchecked"] if "service-specific credentials" not in line]
        # moto 5.2.5 has no cache policies and no key value store data plane (emulator/replay.py EMULATOR_LACKS_TYPES).
        assert gaps == [
            "cache policy 'fusion-rms-pub': the endpoint does not implement it (404)",
            "pub-distribution: defaultCacheBehavior names what the endpoint could not look up",
            "pub-tenant-origins: the endpoint could not answer cloudfront-keyvaluestore:DescribeKeyValueStore "
            "(EndpointConnectionError)",
        ]

    def test_a_grant_widened_to_any_distribution_is_found(self, deployed_prod, capsys):
        s3 = client(deployed_prod, "s3")
        bucket = "fusion-rms-acme-staging"
        document = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        for statement in document["Statement"]:
            if statement.get("Sid") == "CloudFrontReadOfPubFolder":
                del statement["Condition"]
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
        status, found = audit_prod(deployed_prod, capsys)
        assert status == 1
        assert {(f["orgId"], f["check"]) for f in found["findings"]} == {("acme-staging", "bucket-policy")}

    def test_a_missing_origin_access_control_is_found(self, deployed_prod, capsys):
        cloudfront = client(deployed_prod, "cloudfront")
        [control] = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"]
        etag = cloudfront.get_origin_access_control(Id=control["Id"])["ETag"]
        cloudfront.delete_origin_access_control(Id=control["Id"], IfMatch=etag)
        status, found = audit_prod(deployed_prod, capsys)
        assert status == 1
        messages = [f["message"] for f in found["findings"]]
        assert "no origin access control 'fusion-rms-pub' in this account (not deployed yet?)" in messages

    def test_a_distribution_changed_behind_the_stack_is_found_though_moto_lacks_its_cache_policy(
        self, deployed_prod, capsys
    ):
        cloudfront = client(deployed_prod, "cloudfront")
        [listed] = cloudfront.list_distributions()["DistributionList"]["Items"]
        answer = cloudfront.get_distribution_config(Id=listed["Id"])
        config = answer["DistributionConfig"]
        config["Enabled"] = False
        config["Origins"]["Items"][0]["DomainName"] = "somebody-elses-bucket.s3.us-east-1.amazonaws.com"
        cloudfront.update_distribution(Id=listed["Id"], IfMatch=answer["ETag"], DistributionConfig=config)
        status, found = audit_prod(deployed_prod, capsys)
        assert status == 1
        about = [f["message"] for f in found["findings"] if f["check"] == "cloudfront"]
        assert "pub-distribution: Enabled is off, declared on" in about
        assert any("Origins" in message and "somebody-elses-bucket" in message for message in about), about
