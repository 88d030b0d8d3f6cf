"""`discover` against a moto server holding tenants made by hand, exactly as the old checklists did."""

import json

import pytest
import yaml

from cli.main import main
from tenant_storage.registry import parse_registry
from tests.conftest import (
    PROD_ACCOUNT,
    QA_ACCOUNT,
    fixture_project,
    reset_emulator,
    signed_in_as_a_role_refused,
    use_account,
)
from tests.legacy_accounts import make_legacy_tenants


@pytest.fixture
def legacy(moto_server, monkeypatch) -> str:
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    make_legacy_tenants(moto_server)
    return moto_server


def discover(endpoint: str, *args: str) -> int:
    return main(["discover", "--stack", "qa", "--endpoint-url", endpoint, *args], project_dir=fixture_project())


def test_it_finds_the_three_tenants_with_their_profiles_and_names(legacy, capsys):
    assert discover(legacy, "--format", "json") == 1
    document = json.loads(capsys.readouterr().out)
    assert document["account"] == QA_ACCOUNT
    entries = {item["entry"]["orgId"]: item["entry"] for item in document["tenants"]}
    assert entries == {
        "oldgallery": {"orgId": "oldgallery", "environment": "qa", "adopt": True},
        "oldapp": {
            "orgId": "oldapp",
            "environment": "qa",
            "profile": "app-storage",
            "adopt": True,
            "bucketName": "fusion-rms-oldapp-2",
        },
        "oldorders": {"orgId": "oldorders", "environment": "qa", "profile": "upload-only", "adopt": True},
    }
    assert all(item["environment_inferred"] for item in document["tenants"])


def test_it_lists_what_it_cannot_pair_with_the_reason(legacy, capsys):
    discover(legacy, "--format", "json")
    unpaired = {(u["kind"], u["name"]) for u in json.loads(capsys.readouterr().out)["unpaired"]}
    assert unpaired == {("bucket", "fusion-rms-lonely"), ("user", "rms_ghost")}


def test_it_says_what_the_first_deploy_will_change(legacy, capsys):
    discover(legacy, "--format", "json")
    changes = {
        item["entry"]["orgId"]: " | ".join(item["changes"]) for item in json.loads(capsys.readouterr().out)["tenants"]
    }
    assert "removes 2 bucket-policy statements naming a user as principal" in changes["oldgallery"]
    assert "turns on versioning" in changes["oldgallery"]
    assert '("Action": "*")' in changes["oldapp"]
    assert "removes the inline policy 'upload' from rms_oldorders" in changes["oldorders"]
    assert "creates a new access key" in changes["oldorders"]
    assert "turns on server access logging" in changes["oldapp"]


def test_the_yaml_is_ready_to_paste_into_tenants_yaml(legacy, capsys):
    discover(legacy)
    text = capsys.readouterr().out
    registry = parse_registry(text, "tenants.yaml")
    assert {tenant.org_id for tenant in registry.tenants} == {"oldgallery", "oldapp", "oldorders"}
    assert all(tenant.adopt for tenant in registry.tenants)
    assert "# verify: no Environment tag" in text
    assert "# cannot pair bucket fusion-rms-lonely" in text
    assert yaml.safe_load(text)["tenants"][0]["adopt"] is True


def test_declared_tenants_are_not_rediscovered(legacy, capsys, project):
    (project / "tenants.yaml").write_text(
        (project / "tenants.yaml").read_text()
        + "  - orgId: oldorders\n    environment: qa\n    profile: upload-only\n    adopt: true\n"
    )
    main(["discover", "--stack", "qa", "--endpoint-url", legacy, "--format", "json"], project_dir=project)
    found = {item["entry"]["orgId"] for item in json.loads(capsys.readouterr().out)["tenants"]}
    assert found == {"oldgallery", "oldapp"}


def test_the_declared_state_has_nothing_to_discover(deployed, capsys):
    assert discover(deployed, "--format", "json") == 0, capsys.readouterr().out
    assert json.loads(capsys.readouterr().out)["tenants"] == []


def test_a_clean_account_exits_0(moto_server, monkeypatch, capsys):
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    assert discover(moto_server) == 0
    assert "tenants: []" in capsys.readouterr().out


def test_the_wrong_account_is_refused_before_anything_is_read(legacy, monkeypatch, capsys):
    use_account(monkeypatch, legacy, PROD_ACCOUNT)
    assert discover(legacy) == 2
    assert f"discover: the credentials are for account {PROD_ACCOUNT}" in capsys.readouterr().err


def test_a_bucket_in_the_account_regional_namespace_is_adopted_with_its_namespace(moto_server, monkeypatch, capsys):
    """Made by hand as `<prefix>-<orgId>-<account>-<region>-an` (moto holds the name without modelling the
    namespace): the entry says bucketNamespace, so the adoption keeps the name and imports it as such."""
    import boto3

    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    session = boto3.session.Session(region_name="us-east-1")
    bucket = f"fusion-rms-newgallery-{QA_ACCOUNT}-us-east-1-an"
    session.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    session.client("s3", endpoint_url=moto_server).put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": "OrgId", "Value": "newgallery"}]}
    )
    session.client("iam", endpoint_url=moto_server).create_user(UserName="rms_newgallery")
    assert discover(moto_server, "--format", "json") == 1
    [item] = json.loads(capsys.readouterr().out)["tenants"]
    assert item["entry"] == {
        "orgId": "newgallery",
        "environment": "qa",
        "profile": "app-storage",
        "adopt": True,
        "bucketNamespace": "account-regional",
    }
    # Pasted, the entry names that very bucket.
    registry = parse_registry(yaml.safe_dump({"tenants": [item["entry"]]}), "tenants.yaml")
    from tenant_storage.stacks import read_stack_files

    rules = read_stack_files(fixture_project())["qa"].settings.naming
    assert rules.bucket_name_of(registry.tenants[0]) == bucket


def test_a_declared_tenant_in_the_account_regional_namespace_is_not_rediscovered(
    moto_server, monkeypatch, project, capsys
):
    import boto3

    from tests.conftest import replace_in

    replace_in(
        "tenants.yaml",
        "    profile: app-storage\n",
        "    profile: app-storage\n    bucketNamespace: account-regional\n",
    )(project)
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    session = boto3.session.Session(region_name="us-east-1")
    session.client("s3", endpoint_url=moto_server).create_bucket(Bucket=f"fusion-rms-xmsqa2-{QA_ACCOUNT}-us-east-1-an")
    session.client("iam", endpoint_url=moto_server).create_user(UserName="rms_xmsqa2")
    assert (
        main(["discover", "--stack", "qa", "--endpoint-url", moto_server, "--format", "json"], project_dir=project) == 0
    )
    assert json.loads(capsys.readouterr().out)["tenants"] == []


PUB_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::legacy-shop/pub/*"}


class TestWhatALiveBucketAllowsIsDecidedAsS3DecidesIt:
    """discover infers a bucket's profile and its first-deploy changes from what S3 would allow
    (tenant_storage/access.py), not from the words in its policy."""

    @staticmethod
    def bucket(statements: list, block: dict | None = None):
        from live.discover import LiveBucket

        policy = {"Version": "2012-10-17", "Statement": statements} if statements else None
        return LiveBucket("legacy-shop", {}, policy, "Enabled", "AES256", True, block)

    def test_an_anonymous_read_of_pub_is_a_media_gallery(self):
        from live.discover import infer_profile

        assert infer_profile(self.bucket([PUB_READ]), None).value == "media-gallery"

    @pytest.mark.parametrize(
        ("statements", "block"),
        [
            # The public access block voids the public statement: nobody reads pub/ today.
            ([PUB_READ], {"RestrictPublicBuckets": True, "BlockPublicPolicy": True}),
            # A Deny for everyone on pub/ wins over the Allow.
            ([PUB_READ, {**PUB_READ, "Effect": "Deny"}], None),
        ],
        ids=["restrict public buckets", "a deny on pub/"],
    )
    def test_a_public_statement_that_s3_does_not_apply_is_no_media_gallery(self, statements, block):
        from live.discover import infer_profile

        assert infer_profile(self.bucket(statements, block), None).value == "app-storage"

    def test_a_policy_that_names_secure_transport_without_denying_plain_http_still_gets_the_tls_denies(self):
        from live.discover import first_deploy_changes
        from tenant_storage.registry import Profile

        allow_tls = {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::legacy-shop/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
        changes = first_deploy_changes(self.bucket([allow_tls]), None, Profile.APP_STORAGE)
        assert "adds the TLS-only and TLS 1.2 denies to the bucket policy" in changes
        deny_plain = {
            **allow_tls,
            "Effect": "Deny",
            "Principal": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        assert "adds the TLS-only and TLS 1.2 denies to the bucket policy" not in first_deploy_changes(
            self.bucket([deny_plain]), None, Profile.APP_STORAGE
        )


def test_a_bucket_that_refuses_a_read_is_that_buckets_finding_and_the_rest_is_found(legacy, monkeypatch, capsys):
    """A log bucket of CloudTrail or Config, or an organisation perimeter policy, refuses the caller: one bucket's
    refusal never ends the run."""
    from tests.conftest import iam_enforced

    deny = {"Effect": "Deny", "Action": "s3:GetBucketPolicy", "Resource": "arn:aws:s3:::fusion-rms-oldapp-2"}
    signed_in_as_a_role_refused(legacy, monkeypatch, deny)
    with iam_enforced():
        status = discover(legacy, "--format", "json")
    document = json.loads(capsys.readouterr().out)
    assert status == 1
    assert {item["entry"]["orgId"] for item in document["tenants"]} == {"oldgallery", "oldorders"}
    reasons = {u["name"]: u["reason"] for u in document["unpaired"]}
    assert reasons["fusion-rms-oldapp-2"] == "unreadable: needs s3:GetBucketPolicy (AccessDenied)"
    assert reasons["rms_oldapp"] == (
        "its bucket fusion-rms-oldapp-2 could not be read (listed above), so the two could not be paired"
    )


def test_the_settings_a_first_deploy_replaces_whole_are_named_with_what_is_dropped(legacy, capsys):
    import boto3

    s3 = boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url=legacy)
    rules = [
        {
            "ID": "archive",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}],
            "Expiration": {"Days": 365},
        }
    ]
    s3.put_bucket_lifecycle_configuration(Bucket="fusion-rms-oldorders", LifecycleConfiguration={"Rules": rules})
    discover(legacy, "--format", "json")
    changes = {
        item["entry"]["orgId"]: " | ".join(item["changes"]) for item in json.loads(capsys.readouterr().out)["tenants"]
    }
    assert (
        "replaces the whole lifecycle configuration with the declared rules, dropping rule archive (expires objects "
        "after 365 days, moves objects to GLACIER after 90 days)"
    ) in changes["oldorders"]
    assert "replaces the whole bucket policy (3 statements) with the declared one" in changes["oldgallery"]


def test_another_teams_bucket_that_keeps_its_tags_from_the_caller_is_not_checked_and_no_finding(
    moto_server, monkeypatch, capsys
):
    """A CloudTrail log bucket refusing GetBucketTagging: not a tenant's as far as anyone can tell."""
    import boto3

    from tests.conftest import iam_enforced

    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    s3 = boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="aws-cloudtrail-logs-otherteam")
    deny = {"Effect": "Deny", "Action": "s3:GetBucketTagging", "Resource": "arn:aws:s3:::aws-cloudtrail-logs-otherteam"}
    signed_in_as_a_role_refused(moto_server, monkeypatch, deny)
    with iam_enforced():
        status = discover(moto_server, "--format", "json")
    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["unpaired"] == []
    assert document["unchecked"] == ["bucket aws-cloudtrail-logs-otherteam: needs s3:GetBucketTagging (AccessDenied)"]
