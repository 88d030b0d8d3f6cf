"""`preflight` against a moto server holding each case that real AWS refuses and the emulator accepts.

moto serves S3 Control (account-level Block Public Access) at `<account>.<endpoint host>`, as AWS does;
these tests resolve such names to loopback inside this process. moto does not implement
ListServiceSpecificCredentials; the tests answer it with none. moto refuses `DeleteUser` only for a
user's policies (not for a login profile, groups or keys, which AWS also refuses), and fixes its IAM
user quota at 5,000, which one test lowers as an account with most of its quota used would have.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from moto.core.responses import ActionResult
from moto.iam.models import AccountSummary
from moto.iam.responses import IamResponse

from cli.main import main
from tests.conftest import QA_ACCOUNT, replace_in, reset_emulator, use_account, with_settings

LEGACY = {"orgId": "legacyshop", "environment": "qa", "profile": "app-storage", "adopt": True}
# The tags the program gives a tenant's user (components/tenant_storage.py): how preflight knows its own.
STACK_TENANT_TAGS = {"OrgId": "gone", "Environment": "qa", "ManagedBy": "pulumi"}


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> dict[str, Any]:
    """The qa account of a fresh moto server, signed in; S3 Control's account host names resolve to it."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".127.0.0.1"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    # moto does not implement ListServiceSpecificCredentials: here, as in most accounts, there are none.
    monkeypatch.setattr(
        IamResponse,
        "list_service_specific_credentials",
        lambda self: ActionResult({"ServiceSpecificCredentials": []}),
        raising=False,
    )
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    session = boto3.session.Session(region_name="us-east-1")

    def client(service: str, region: str = "us-east-1") -> Any:
        return session.client(service, endpoint_url=moto_server, region_name=region)

    return {"endpoint": moto_server, "client": client}


def with_tenants(project: Path, *tenants: dict[str, Any]) -> Path:
    registry = yaml.safe_load((project / "tenants.yaml").read_text())
    registry["tenants"] += list(tenants)
    (project / "tenants.yaml").write_text(yaml.safe_dump(registry, sort_keys=False))
    return project


def preflight(project: Path, live: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict]]:
    status = main(["preflight", "--stack", "qa", "--format", "json", "--endpoint-url", live["endpoint"]], project)
    captured = capsys.readouterr()
    assert status != 2, captured.err
    return status, json.loads(captured.out)["findings"]


def run_fixes(live: dict[str, Any], finding: dict[str, Any]) -> None:
    """Each fix the finding prints, as the `aws` command a person would run, made through boto3."""
    from botocore import xform_name

    for command in finding["fixes"]:
        service, operation, *arguments = command.split()[1:]
        client = live["client"]({"s3api": "s3"}.get(service, service))
        model = client.meta.service_model.operation_model(
            next(name for name in client.meta.service_model.operation_names if xform_name(name, "-") == operation)
        )
        members = {xform_name(name, "-"): name for name in model.input_shape.members}
        parameters = {members[flag[2:]]: value for flag, value in zip(arguments[::2], arguments[1::2], strict=True)}
        getattr(client, operation.replace("-", "_"))(**parameters)


def checks(findings: list[dict]) -> list[tuple[str | None, str]]:
    return sorted(((f["orgId"], f["check"]) for f in findings), key=str)


def test_an_account_ready_for_the_stack_passes(project, live, capsys):
    live["client"]("s3").create_bucket(Bucket="fusion-rms-legacyshop")
    live["client"]("iam").create_user(UserName="rms_legacyshop")
    status, findings = preflight(with_tenants(project, LEGACY), live, capsys)
    assert (status, findings) == (0, [])


def test_a_deploy_environment_the_program_would_refuse_is_found(project, live, capsys, monkeypatch):
    """The twins of the refused provider settings: the program refuses them at deploy time, preflight says so."""
    live["client"]("s3").create_bucket(Bucket="fusion-rms-legacyshop")
    live["client"]("iam").create_user(UserName="rms_legacyshop")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    status, findings = preflight(with_tenants(project, LEGACY), live, capsys)
    assert status == 1
    assert checks(findings) == [(None, "deploy-environment")] * 2
    assert [f["message"].split(":")[0] for f in findings] == [
        "environment variable AWS_ENDPOINT_URL_STS",
        "environment variable HTTPS_PROXY",
    ]


def test_account_block_public_access_is_named_for_every_media_gallery_tenant(project, live, capsys):
    live["client"]("s3control").put_public_access_block(
        AccountId=QA_ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    status, findings = preflight(project, live, capsys)
    media_gallery = {"xmsqa1", "tradeshow-demo"}
    assert status == 1
    assert checks(findings) == sorted(((org, "account-public-access-block") for org in media_gallery), key=str)
    assert all("BlockPublicPolicy" in f["message"] for f in findings)


ACCOUNT_BLOCKS_EVERYTHING = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("cloudfront", set()),
        # Both ways at once still needs the public statement: the S3 URLs keep working during the switch.
        ("bucket-policy-and-cloudfront", {"xmsqa1", "tradeshow-demo"}),
    ],
)
def test_account_block_public_access_is_no_blocker_for_a_gallery_served_only_through_cloudfront(
    project, live, capsys, setting, named
):
    live["client"]("s3control").put_public_access_block(
        AccountId=QA_ACCOUNT, PublicAccessBlockConfiguration=ACCOUNT_BLOCKS_EVERYTHING
    )
    status, findings = preflight(with_settings(project, "qa", {"tenant-storage:publicAccess": setting}), live, capsys)
    assert {f["orgId"] for f in findings if f["check"] == "account-public-access-block"} == named
    assert status == (1 if named else 0)


def test_one_tenant_moved_to_cloudfront_is_no_longer_named(project, live, capsys):
    live["client"]("s3control").put_public_access_block(
        AccountId=QA_ACCOUNT, PublicAccessBlockConfiguration=ACCOUNT_BLOCKS_EVERYTHING
    )
    replace_in(
        "tenants.yaml",
        "  - orgId: xmsqa1\n    environment: qa\n",
        "  - orgId: xmsqa1\n    environment: qa\n    publicAccess: cloudfront\n",
    )(project)
    status, findings = preflight(project, live, capsys)
    assert (status, checks(findings)) == (1, [("tradeshow-demo", "account-public-access-block")])
    assert "serve its pub/ through CloudFront instead (publicAccess: cloudfront" in findings[0]["message"]


def test_a_bucket_to_adopt_with_acl_grants_is_found_and_its_fix_works(project, live, capsys):
    s3 = live["client"]("s3")
    s3.create_bucket(Bucket="fusion-rms-legacyshop")
    s3.put_bucket_acl(Bucket="fusion-rms-legacyshop", ACL="public-read")
    live["client"]("iam").create_user(UserName="rms_legacyshop")
    project = with_tenants(project, LEGACY)
    status, [finding] = preflight(project, live, capsys)
    assert (status, finding["orgId"], finding["check"]) == (1, "legacyshop", "bucket-acl-grants")
    assert "http://acs.amazonaws.com/groups/global/AllUsers" in finding["message"]
    assert finding["fixes"] == ["aws s3api put-bucket-acl --bucket fusion-rms-legacyshop --acl private"]
    run_fixes(live, finding)
    assert preflight(project, live, capsys) == (0, [])


def test_a_bucket_to_adopt_in_another_region_is_found(project, live, capsys):
    live["client"]("s3", "eu-west-1").create_bucket(
        Bucket="fusion-rms-legacyshop", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    live["client"]("iam").create_user(UserName="rms_legacyshop")
    status, [finding] = preflight(with_tenants(project, LEGACY), live, capsys)
    assert (status, finding["check"]) == (1, "bucket-region")
    assert "is in eu-west-1, the stack in us-east-1" in finding["message"]


def test_a_legacy_user_with_two_keys_is_told_to_delete_the_unused_one_only(project, live, capsys):
    iam = live["client"]("iam")
    iam.create_user(UserName="rms_legacyshop")
    live["client"]("s3").create_bucket(Bucket="fusion-rms-legacyshop")
    used, idle = (iam.create_access_key(UserName="rms_legacyshop")["AccessKey"]["AccessKeyId"] for _ in range(2))
    iam.update_access_key(UserName="rms_legacyshop", AccessKeyId=idle, Status="Inactive")
    project = with_tenants(project, LEGACY)
    status, [finding] = preflight(project, live, capsys)
    assert (status, finding["check"]) == (1, "access-key-limit")
    assert f"{idle} (inactive, never used)" in finding["message"]
    assert finding["fixes"] == [f"aws iam delete-access-key --user-name rms_legacyshop --access-key-id {idle}"]
    run_fixes(live, finding)
    assert preflight(project, live, capsys) == (0, [])
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="rms_legacyshop")["AccessKeyMetadata"]] == [used]
    iam.create_access_key(UserName="rms_legacyshop")  # what the deploy then does


def test_a_legacy_key_in_use_is_never_the_fix_when_declaring_fewer_labels_is(project, live, capsys):
    iam = live["client"]("iam")
    iam.create_user(UserName="rms_legacyshop")
    live["client"]("s3").create_bucket(Bucket="fusion-rms-legacyshop")
    iam.create_access_key(UserName="rms_legacyshop")
    status, [finding] = preflight(with_tenants(project, {**LEGACY, "accessKeys": ["2026-11", "2026-12"]}), live, capsys)
    assert (status, finding["check"], finding["fixes"]) == (1, "access-key-limit", [])
    assert "declare one label for now (accessKeys: [2026-11])" in finding["message"]


def retired_user(iam: Any) -> None:
    """A user the stack made for a tenant since removed from tenants.yaml, with grants added by hand."""
    iam.create_user(UserName="rms_gone", Tags=[{"Key": k, "Value": v} for k, v in STACK_TENANT_TAGS.items()])
    iam.put_user_policy(
        UserName="rms_gone",
        PolicyName="by-hand",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
            }
        ),
    )
    managed = iam.create_policy(
        PolicyName="support-read",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="rms_gone", PolicyArn=managed)
    iam.create_login_profile(UserName="rms_gone", Password="Not-a-real-password-1")
    iam.create_group(GroupName="support")
    iam.add_user_to_group(GroupName="support", UserName="rms_gone")


def test_a_retired_user_holding_hand_made_grants_is_found_and_the_fixes_let_it_be_deleted(project, live, capsys):
    iam = live["client"]("iam")
    retired_user(iam)
    with pytest.raises(ClientError, match="DeleteConflict"):
        iam.delete_user(UserName="rms_gone")
    status, [finding] = preflight(project, live, capsys)
    assert (status, finding["orgId"], finding["check"]) == (1, None, "delete-conflict")
    for cause in ("inline policy by-hand", "policy/support-read", "login profile", "group support"):
        assert cause in finding["message"]
    run_fixes(live, finding)
    assert preflight(project, live, capsys) == (0, [])
    iam.delete_user(UserName="rms_gone")  # what the deploy then does


@pytest.mark.parametrize(
    "tags",
    [
        {},
        {"ManagedBy": "pulumi"},  # another Pulumi project's user
        {**STACK_TENANT_TAGS, "Environment": "production"},  # another stack's tenant
    ],
    ids=["untagged", "another project", "another stack"],
)
def test_a_user_the_stack_did_not_make_is_never_called_retiring(project, live, capsys, tags):
    iam = live["client"]("iam")
    iam.create_user(UserName="rms_someone", Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    iam.create_login_profile(UserName="rms_someone", Password="Not-a-real-password-1")
    assert preflight(project, live, capsys) == (0, [])


def test_a_tenant_to_adopt_whose_bucket_or_user_is_missing_is_found(project, live, capsys):
    live["client"]("iam").create_user(UserName="rms_legacyshop")
    status, [finding] = preflight(with_tenants(project, LEGACY), live, capsys)
    assert (status, finding["orgId"], finding["check"]) == (1, "legacyshop", "adopt-missing")
    assert finding["message"].startswith("bucket fusion-rms-legacyshop to adopt does not exist in this account")


def test_a_new_tenant_whose_user_or_bucket_was_made_by_hand_is_sent_to_adoption(project, live, capsys):
    live["client"]("iam").create_user(UserName="rms_xmsqa2")
    live["client"]("s3").create_bucket(Bucket="fusion-rms-xmsqa2")
    status, findings = preflight(project, live, capsys)
    assert (status, checks(findings)) == (1, [("xmsqa2", "bucket-exists"), ("xmsqa2", "user-exists")])
    assert all("tenant-storage discover --stack qa" in f["message"] for f in findings)


def test_what_a_plain_emulator_cannot_answer_is_reported_as_not_checked(project, moto_server, monkeypatch, capsys):
    """Without a resolver for `<account>.127.0.0.1`, S3 Control is out of reach: said, not skipped."""
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    status = main(["preflight", "--stack", "qa", "--format", "json", "--endpoint-url", moto_server], project)
    document = json.loads(capsys.readouterr().out)
    assert (status, document["findings"]) == (0, [])
    [unchecked] = document["unchecked"]
    assert unchecked.startswith("account-public-access-block: the endpoint could not answer (EndpointConnectionError")


def test_users_that_do_not_fit_the_quota_are_found(project, live, capsys, monkeypatch):
    original = AccountSummary.__init__

    def nearly_full(self: AccountSummary, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._users_quota = 3

    monkeypatch.setattr(AccountSummary, "__init__", nearly_full)
    reset_emulator(live["endpoint"])
    use_account(monkeypatch, live["endpoint"], QA_ACCOUNT)  # a reset forgets the session too
    status, [finding] = preflight(project, live, capsys)
    assert (status, finding["check"]) == (1, "iam-user-headroom")
    assert "quota of 3" in finding["message"]


def squatter(live: dict[str, Any]) -> Any:
    """An S3 client of another account (999999999999) on the same emulator."""
    other = boto3.client(
        "sts",
        endpoint_url=live["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).assume_role(RoleArn="arn:aws:iam::999999999999:role/squatter", RoleSessionName="squatter")["Credentials"]
    return boto3.client(
        "s3",
        endpoint_url=live["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=other["AccessKeyId"],
        aws_secret_access_key=other["SecretAccessKey"],
        aws_session_token=other["SessionToken"],
    )


def test_a_log_bucket_name_taken_by_another_account_is_found(project, live, capsys):
    squatter(live).create_bucket(Bucket=f"fusion-rms--access-logs-{QA_ACCOUNT}-us-east-1")
    status, [finding] = preflight(project, live, capsys)
    assert (status, finding["check"]) == (1, "log-bucket-name")
    assert "tenant-storage:accessLogBucketNamespace: account-regional in Pulumi.qa.yaml" in finding["message"]


def test_in_the_account_regional_namespace_the_log_bucket_name_cannot_be_squatted(project, live, capsys):
    other = squatter(live)
    other.create_bucket(Bucket=f"fusion-rms--access-logs-{QA_ACCOUNT}-us-east-1")
    # S3 (and moto) refuses a name in the qa account's namespace to anyone else. (moto does not refuse such a
    # name created without the namespace header, which AWS does: `-an` is a reserved suffix.)
    with pytest.raises(ClientError, match="InvalidNamespaceHeader"):
        other.create_bucket(
            Bucket=f"fusion-rms--access-logs-{QA_ACCOUNT}-us-east-1-an", BucketNamespace="account-regional"
        )
    regional = with_settings(project, "qa", {"tenant-storage:accessLogBucketNamespace": "account-regional"})
    status, findings = preflight(regional, live, capsys)
    assert (status, findings) == (0, [])


def test_a_retained_log_bucket_that_is_another_accounts_was_never_the_stacks(project, live, capsys):
    squatter(live).create_bucket(Bucket=f"fusion-rms--access-logs-{QA_ACCOUNT}-us-east-1")
    moved = with_settings(
        project,
        "qa",
        {
            "tenant-storage:accessLogBucketNamespace": "account-regional",
            "tenant-storage:retainedAccessLogBucketNamespace": "global",
        },
    )
    status, [finding] = preflight(moved, live, capsys)
    assert (status, finding["check"]) == (1, "log-bucket-name")
    assert "remove tenant-storage:retainedAccessLogBucketNamespace from Pulumi.qa.yaml" in finding["message"]


@pytest.mark.parametrize("retained", [None, "global"])
def test_a_log_bucket_moved_to_the_namespace_keeps_the_earlier_one_or_is_stopped(project, live, capsys, retained):
    live["client"]("s3").create_bucket(Bucket=f"fusion-rms--access-logs-{QA_ACCOUNT}-us-east-1")
    moved = with_settings(
        project,
        "qa",
        {
            "tenant-storage:accessLogBucketNamespace": "account-regional",
            "tenant-storage:retainedAccessLogBucketNamespace": retained,
        },
    )
    status, findings = preflight(moved, live, capsys)
    if retained:
        assert (status, findings) == (0, [])
    else:
        [finding] = findings
        assert (status, finding["check"]) == (1, "log-bucket-move")
        assert "tenant-storage:retainedAccessLogBucketNamespace: global in Pulumi.qa.yaml" in finding["message"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "nope", "--endpoint-url", "{endpoint}"], "no stack 'nope'; the stacks are prod, qa"),
        (["--stack", "qa", "--endpoint-url", "127.0.0.1:5000"], "is not an http or https URL: give its scheme"),
        (["--stack", "qa", "--endpoint-url", ""], "is not an http or https URL: give its scheme"),
        (["--stack", "qa", "--endpoint-url", "ftp://127.0.0.1"], "uses 'ftp': an endpoint URL is http or https"),
    ],
)
def test_what_it_cannot_do_is_one_line_and_exit_2(project, live, capsys, argv, message):
    argv = [argument.format(endpoint=live["endpoint"]) for argument in argv]
    assert main(["preflight", *argv], project) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_the_declared_state_itself_holds_nothing_aws_would_refuse(live, capsys):
    from emulator.replay import replay
    from tests.conftest import fixture_plan, fixture_project

    replay(fixture_plan("qa"), boto3.session.Session(region_name="us-east-1"), live["endpoint"])
    status, findings = preflight(fixture_project(), live, capsys)
    assert (status, findings) == (0, [])
