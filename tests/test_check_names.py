"""`check-names` against a moto server on loopback.

What moto models, found first: buckets of another account can be created (through an assumed role in
account 999999999999), ListBuckets lists only the caller's own buckets, and HeadBucket answers 200 for
any existing bucket (moto neither refuses other accounts' buckets nor honours ExpectedBucketOwner).
So ours/free/taken is decided from ListBuckets plus HeadBucket's 404, which works on moto as on AWS;
the 403 that AWS gives for another account's bucket is exercised by injecting that HTTP response.
"""

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from cli.main import main
from live.check_names import CheckFailed, classify, run_check_names, suggested_entry
from tests.conftest import PROD_ACCOUNT, QA_ACCOUNT, fixture_project, reset_emulator, use_account

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture
def endpoint(moto_server: str, monkeypatch) -> str:
    """A clean emulator, signed in to the QA account, holding fusion-rms-xmsqa1 (ours, made by hand) and
    fusion-rms-xmsqa2 (another account's)."""
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    # A fresh session: boto3's default one keeps the credentials it first found.
    boto3.session.Session().client("s3", endpoint_url=moto_server).create_bucket(Bucket="fusion-rms-xmsqa1")
    sts = boto3.client("sts", endpoint_url=moto_server, **CREDENTIALS)
    role = sts.assume_role(RoleArn="arn:aws:iam::999999999999:role/someone-else", RoleSessionName="squatter")
    other = role["Credentials"]
    boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id=other["AccessKeyId"],
        aws_secret_access_key=other["SecretAccessKey"],
        aws_session_token=other["SessionToken"],
    ).create_bucket(Bucket="fusion-rms-xmsqa2")
    return moto_server


def test_each_name_is_ours_free_or_taken_with_the_fix_for_a_taken_one(endpoint, capsys):
    assert main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=fixture_project()) == 1
    out = capsys.readouterr().out
    assert (
        "ours   fusion-rms-xmsqa1  (xmsqa1): made by hand: the first deploy would fail to create it; add "
        "`adopt: true` to tenant xmsqa1 in tenants.yaml, then run tenant-storage preflight --stack qa"
    ) in out
    assert "taken  fusion-rms-xmsqa2  (xmsqa2): exists and is readable, but is not in this account" in out
    assert "free   fusion-rms-acme-dev  (acme-dev)" in out
    assert "skip   tradeshow-demo: random suffix, chosen at the first deploy" in out
    assert (
        "fusion-rms-xmsqa2 is taken. In tenants.yaml, move tenant xmsqa2 into this account's regional namespace, "
        "where nobody else can take its name:\n"
        "- orgId: xmsqa2\n  environment: qa\n  profile: app-storage\n  bucketNamespace: account-regional\n"
        "or give it a random suffix:\n"
        "- orgId: xmsqa2\n  environment: qa\n  profile: app-storage\n  randomSuffix: true"
    ) in out


def test_a_name_in_the_account_regional_namespace_is_ours_or_free_never_taken(endpoint, project, capsys):
    """Only this account can ever hold a name of its namespace, so the command never asks another about one.
    (moto refuses such a name to another account only when it sends the namespace header; AWS always does.)"""
    from tests.conftest import replace_in

    replace_in(
        "tenants.yaml",
        "    profile: app-storage\n",
        "    profile: app-storage\n    bucketNamespace: account-regional\n",
    )(project)
    assert main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=project) == 0
    out = capsys.readouterr().out
    assert (
        "free   fusion-rms-xmsqa2-222222222222-us-east-1-an  (xmsqa2): in this account's regional namespace: "
        "nobody else can take it"
    ) in out
    boto3.session.Session().client("s3", endpoint_url=endpoint).create_bucket(
        Bucket="fusion-rms-xmsqa2-222222222222-us-east-1-an"
    )
    main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=project)
    assert "ours   fusion-rms-xmsqa2-222222222222-us-east-1-an  (xmsqa2): made by hand" in capsys.readouterr().out


def test_the_buckets_of_the_declared_state_are_ours_and_managed(deployed, capsys):
    assert main(["check-names", "--stack", "qa", "--endpoint-url", deployed], project_dir=fixture_project()) == 0
    out = capsys.readouterr().out
    assert "ours   fusion-rms-xmsqa1  (xmsqa1): managed" in out
    assert "made by hand" not in out


def test_the_callers_account_is_printed_and_a_wrong_one_refused(endpoint, capsys):
    assert main(["check-names", "--stack", "prod", "--endpoint-url", endpoint], project_dir=fixture_project()) == 2
    err = capsys.readouterr().err
    assert f"the credentials are for account {QA_ACCOUNT}" in err
    assert "which stack 'prod' may not use" in err
    assert main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=fixture_project()) == 1
    assert f"check-names: account {QA_ACCOUNT}" in capsys.readouterr().err


def test_all_stacks_checks_those_of_the_callers_account(endpoint, capsys):
    assert main(["check-names", "--stack", "all", "--endpoint-url", endpoint], project_dir=fixture_project()) == 1
    out = capsys.readouterr().out
    assert f"skip stack prod: the credentials are for account {QA_ACCOUNT}" in out
    assert "fusion-rms-xmsqa1" in out


def test_all_clear_exits_0(endpoint, capsys, monkeypatch):
    use_account(monkeypatch, endpoint, PROD_ACCOUNT)
    assert main(["check-names", "--stack", "prod", "--endpoint-url", endpoint], project_dir=fixture_project()) == 0
    assert "taken" not in capsys.readouterr().out


def test_a_403_from_another_account_means_taken(endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS)

    def forbidden(request, **_):
        if request.method == "HEAD" and "fusion-rms-acme-dev" in request.url:
            return AWSResponse(request.url, 403, {"x-amz-bucket-region": "eu-west-1"}, _Raw(b""))
        return None

    s3.meta.events.register("before-send.s3.HeadBucket", forbidden)
    [check] = classify([("acme-dev", "fusion-rms-acme-dev")], s3)
    assert (check.status, check.detail) == ("taken", "exists in another account (in eu-west-1)")


def test_throttling_is_a_clear_failure(endpoint):
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 1}),
        **CREDENTIALS,
    )

    def slow_down(request, **_):
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return AWSResponse(request.url, 503, {}, _Raw(body))

    s3.meta.events.register("before-send.s3.ListBuckets", slow_down)
    with pytest.raises(CheckFailed, match=r"AWS is throttling the requests \(SlowDown\); retry in a minute"):
        classify([("xmsqa1", "fusion-rms-xmsqa1")], s3)


def test_access_denied_is_a_clear_failure(endpoint, capsys):
    session = boto3.session.Session(region_name="us-east-1")

    def denied(request, **_):
        body = b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>"
        return AWSResponse(request.url, 403, {}, _Raw(body))

    session.events.register("before-send.sts.GetCallerIdentity", denied)
    assert run_check_names(fixture_project(), "qa", endpoint, session=session) == 2
    assert "check-names: access denied to GetCallerIdentity (AccessDenied)" in capsys.readouterr().err


def test_no_credentials_is_a_clear_failure(endpoint, monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=fixture_project()) == 2
    assert "check-names: no AWS credentials found" in capsys.readouterr().err


def test_an_unreachable_endpoint_is_a_clear_failure(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert run_check_names_to("http://127.0.0.1:9") == 2
    assert "check-names: cannot reach AWS" in capsys.readouterr().err


def run_check_names_to(endpoint_url: str) -> int:
    session = boto3.session.Session(region_name="us-east-1")
    return run_check_names(fixture_project(), "prod", endpoint_url, session=session)


def test_the_suggested_entry_keeps_a_non_default_profile():
    assert (
        suggested_entry("globex", "production", "upload-only")
        == "- orgId: globex\n  environment: production\n  profile: upload-only\n  randomSuffix: true"
    )


class _Raw:
    """The minimal raw stream botocore reads an injected response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_):
        yield self._body


def test_a_stack_with_its_own_bucket_prefix_is_checked_with_it(endpoint, project, capsys):
    """The orgId fits under the stack's short prefix, though not under the default one."""
    long_org = "x" * 55
    (project / "tenants.yaml").write_text(f"tenants:\n  - orgId: {long_org}\n    environment: qa\n")
    stack_file = project / "Pulumi.qa.yaml"
    stack_file.write_text(stack_file.read_text() + "  tenant-storage:bucketPrefix: f\n")
    (project / "Pulumi.prod.yaml").unlink()
    (project / "accounts.yaml").write_text('productionClass: []\nnonProductionClass: ["222222222222"]\n')
    assert main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=project) == 0
    assert f"free   f-{long_org}  ({long_org})" in capsys.readouterr().out


def test_the_namespace_is_offered_only_where_it_works_for_that_tenant(endpoint, project, capsys):
    """In me-south-1 S3 has no account regional namespace: a taken name gets the random suffix alone."""
    from tests.conftest import replace_in

    replace_in("Pulumi.qa.yaml", "aws:region: us-east-1", "aws:region: me-south-1")(project)
    main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=project)
    out = capsys.readouterr().out
    assert "fusion-rms-xmsqa2 is taken (S3 has no account regional namespace in me-south-1" in out
    assert "bucketNamespace" not in out


def test_the_namespace_verdict_is_the_validators_own(project):
    """An orgId too long for the `-an` name is not offered the namespace: the validator would refuse the entry."""
    from live.aws import load_stack
    from live.check_names import namespace_problem
    from tests.conftest import replace_in

    replace_in("tenants.yaml", "orgId: xmsqa2", "orgId: a-very-long-organisation-name-x")(project)
    context = load_stack(project, "qa")
    assert namespace_problem(context, "xmsqa1") is None
    assert "is 68 characters; S3 allows 3 to 63 (in the account regional namespace)" in (
        namespace_problem(context, "a-very-long-organisation-name-x") or ""
    )


def test_an_unknown_stack_is_said_before_the_credentials_are_asked_for(capsys, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    assert run_check_names(fixture_project(), "production", "http://127.0.0.1:9") == 2
    assert (
        capsys.readouterr().err
        == "check-names: no stack 'production' (did you mean 'prod'?); the stacks are prod, qa\n"
    )
