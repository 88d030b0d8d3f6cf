"""The TenantStorage component on its own, outside the program."""

import pulumi

from components.stack_storage import SharedServices
from components.tenant_storage import TenantStorage, TenantStorageArgs
from tenant_storage.registry import Environment, NamingRules, Profile
from tests.conftest import BUCKET, COMPONENT, ENCRYPTION, LIFECYCLE, LOGGING, OBJECT, USER, child, run_component

KEY_ARN = "arn:aws:kms:us-east-1:222222222222:key/mock"


def services() -> SharedServices:
    """What the stack's shared component hands each tenant; made up here, outside any stack."""
    return SharedServices(
        log_bucket=pulumi.Output.from_input("fusion-rms--access-logs-222222222222-us-east-1"),
        kms_key_arn=pulumi.Output.from_input(KEY_ARN),
    )


def test_it_uses_the_documented_type_token_and_parents_every_child():
    args = TenantStorageArgs(
        org_id="xmsqa1", environment=Environment.QA, profile=Profile.MEDIA_GALLERY, region="eu-west-1"
    )
    run = run_component(lambda: [TenantStorage("xmsqa1", args, services())])
    assert run.error is None
    [component] = run.by_type(COMPONENT)
    assert component.urn == "urn:pulumi:qa::tenant-storage::tenant-storage:index:TenantStorage::xmsqa1"
    # Bucket and its 7 settings (logging included), pub/, user and key; the exclusive grants come with the groups.
    assert len(run.children_of(component.urn)) == len(run.registrations) - 1 == 11
    assert child(run, "xmsqa1", LOGGING).inputs["targetPrefix"] == "xmsqa1/"


def test_its_summary_uses_the_given_region_and_its_secret_is_secret_even_under_mocks():
    args = TenantStorageArgs(
        org_id="xmsqa1", environment=Environment.QA, profile=Profile.MEDIA_GALLERY, region="eu-west-1"
    )
    run = run_component(lambda: [TenantStorage("xmsqa1", args, services())])
    summary = run.outputs["xmsqa1-summary"]
    assert summary.secret is False
    assert summary.value["region"] == "eu-west-1"
    assert summary.value["publicBaseUrl"] == "https://fusion-rms-xmsqa1.s3.eu-west-1.amazonaws.com/pub/"
    assert run.outputs["xmsqa1-secret"].secret is True


def test_naming_settings_and_lifecycle_days_are_honoured():
    args = TenantStorageArgs(
        org_id="shop",
        environment=Environment.PRODUCTION,
        profile=Profile.UPLOAD_ONLY,
        region="us-east-1",
        naming=NamingRules(bucket_prefix="pos", iam_user_prefix="pos-"),
        protect_bucket=True,
        noncurrent_version_expiration_days=7,
    )

    def storages() -> list[TenantStorage]:
        storage = TenantStorage("shop", args, services())
        storage.own_grants(after=[])  # what StackStorage.grant does once the groups exist
        return [storage]

    run = run_component(storages, stack="prod")
    bucket = child(run, "shop", BUCKET)
    assert bucket.inputs["bucket"] == "pos-shop"
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    assert child(run, "shop", USER).inputs["name"] == "pos-shop"
    assert run.by_type(OBJECT) == []
    [encryption] = child(run, "shop", ENCRYPTION).inputs["rules"]
    assert encryption["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
    rules = {rule["id"]: rule for rule in child(run, "shop", LIFECYCLE).inputs["rules"]}
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
