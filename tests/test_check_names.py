"""`check-names` against a moto server on loopback.

What moto models, found first: buckets of another account can be created (through an assumed role in
account 999999999999), ListBuckets lists only the caller's own buckets, and HeadBucket answers 200 for
any existing bucket (moto neither refuses other accounts' buckets nor honours ExpectedBucketOwner).
So ours/free/taken is decided from ListBuckets plus HeadBucket's 404, which works on moto as on AWS;
the 403 that AWS gives for another account's bucket is exercised by injecting that HTTP response.
"""

from collections.abc import Iterator

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto.server import ThreadedMotoServer

from cli.main import main
from live.check_names import CheckFailed, classify, run_check_names, suggested_entry
from tests.conftest import fixture_project

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def endpoint(moto_server: str, monkeypatch) -> str:
    """A clean emulator holding fusion-rms-xmsqa1 (ours) and fusion-rms-xmsqa2 (another account's)."""
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    boto3.client("s3", endpoint_url=moto_server, **CREDENTIALS).create_bucket(Bucket="fusion-rms-xmsqa1")
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
    assert "ours   fusion-rms-xmsqa1  (xmsqa1)" in out
    assert "taken  fusion-rms-xmsqa2  (xmsqa2): exists and is readable, but is not in this account" in out
    assert "free   fusion-rms-acme-dev  (acme-dev)" in out
    assert "skip   tradeshow-demo: random suffix, chosen at the first deploy" in out
    assert (
        "fusion-rms-xmsqa2 is taken. In tenants.yaml, give tenant xmsqa2 a random suffix:\n"
        "- orgId: xmsqa2\n  environment: qa\n  profile: app-storage\n  randomSuffix: true"
    ) in out


def test_all_clear_exits_0(endpoint, capsys):
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
    assert "check-names: the check could not run" in capsys.readouterr().err


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
    assert main(["check-names", "--stack", "qa", "--endpoint-url", endpoint], project_dir=project) == 0
    assert f"free   f-{long_org}  ({long_org})" in capsys.readouterr().out
