"""publicAccess: how a media gallery's pub/ reaches the internet, as the real program declares it under the mocks
(docs/public-access.md). The qa stack of the fixture has two media-gallery tenants (xmsqa1, tradeshow-demo, the
second with a random suffix) and two private ones (xmsqa2, acme-dev)."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from mock_runtime.runner import ProgramRun
from tenant_storage.public_access import CLOUDFRONT_SERVICE, TENANT_HEADER, PublicAccess, distribution_arn
from tests.conftest import BUCKET_POLICY, PUBLIC_ACCESS_BLOCK, QA_ACCOUNT, child, policy_of, run_stack

GALLERIES = ("xmsqa1", "tradeshow-demo")
PRIVATE = ("xmsqa2", "acme-dev")
CLOUDFRONT_TYPES = {
    "aws:cloudfront/originAccessControl:OriginAccessControl",
    "aws:cloudfront/keyValueStore:KeyValueStore",
    "aws:cloudfront/keyvaluestoreKeysExclusive:KeyvaluestoreKeysExclusive",
    "aws:cloudfront/function:Function",
    "aws:cloudfront/cachePolicy:CachePolicy",
    "aws:cloudfront/distribution:Distribution",
}
ALL_FOUR_ON = {
    "blockPublicAcls": True,
    "ignorePublicAcls": True,
    "blockPublicPolicy": True,
    "restrictPublicBuckets": True,
}


@functools.cache
def qa_in(mode: PublicAccess) -> ProgramRun:
    run = run_stack("qa", config={"tenant-storage:publicAccess": mode.value})
    assert run.error is None, run.error
    return run


def one(run: ProgramRun, resource_type: str) -> Any:
    [found] = run.by_type(resource_type)
    return found


def the_distribution(run: ProgramRun) -> tuple[str, str]:
    """Its ARN and domain, as the mocks made them."""
    distribution = one(run, "aws:cloudfront/distribution:Distribution")
    domain = run.outputs["publicDistributionDomain"].value
    return distribution_arn(QA_ACCOUNT, distribution.id), domain


def public_block(run: ProgramRun, org_id: str) -> dict[str, bool]:
    return {name: value for name, value in child(run, org_id, PUBLIC_ACCESS_BLOCK).inputs.items() if name != "bucket"}


def statements(run: ProgramRun, org_id: str) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in policy_of(child(run, org_id, BUCKET_POLICY))["Statement"]}


class TestCloudFront:
    """`cloudfront`: every bucket private, pub/* readable by the stack's distribution only."""

    def test_every_bucket_keeps_all_four_public_access_block_settings_on(self):
        run = qa_in(PublicAccess.CLOUDFRONT)
        for org_id in (*GALLERIES, *PRIVATE):
            assert public_block(run, org_id) == ALL_FOUR_ON, org_id

    def test_a_gallery_lets_exactly_the_stacks_distribution_read_exactly_pub(self):
        run = qa_in(PublicAccess.CLOUDFRONT)
        arn, _ = the_distribution(run)
        for org_id in GALLERIES:
            bucket = child(run, org_id, "aws:s3/bucket:Bucket").inputs["bucket"]
            found = statements(run, org_id)
            assert set(found) == {"DenyInsecureTransport", "DenyOutdatedTls", "CloudFrontReadOfPubFolder"}
            assert found["CloudFrontReadOfPubFolder"] == {
                "Sid": "CloudFrontReadOfPubFolder",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDFRONT_SERVICE},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/pub/*",
                "Condition": {"StringEquals": {"aws:SourceArn": arn}},
            }

    def test_private_profiles_are_untouched(self):
        served, default = qa_in(PublicAccess.CLOUDFRONT), run_stack("qa")
        for org_id in PRIVATE:
            assert statements(served, org_id) == statements(default, org_id)
            assert "publicBaseUrl" not in served.outputs["tenants"].value[org_id]

    def test_the_allow_list_holds_exactly_the_galleries_and_their_buckets_regional_domains(self):
        run = qa_in(PublicAccess.CLOUDFRONT)
        keys = one(run, "aws:cloudfront/keyvaluestoreKeysExclusive:KeyvaluestoreKeysExclusive").inputs
        buckets = {org: child(run, org, "aws:s3/bucket:Bucket").inputs["bucket"] for org in GALLERIES}
        assert keys["resourceKeyValuePairs"] == [
            {"key": org, "value": f"{buckets[org]}.s3.us-east-1.amazonaws.com"} for org in sorted(GALLERIES)
        ]
        store = one(run, "aws:cloudfront/keyValueStore:KeyValueStore")
        assert keys["keyValueStoreArn"] == f"arn:aws:cloudfront::{QA_ACCOUNT}:key-value-store/{store.id}"

    def test_the_distribution_runs_the_router_signs_with_origin_access_control_and_keys_the_cache_on_the_tenant(self):
        run = qa_in(PublicAccess.CLOUDFRONT)
        distribution = one(run, "aws:cloudfront/distribution:Distribution").inputs
        router = one(run, "aws:cloudfront/function:Function")
        control = one(run, "aws:cloudfront/originAccessControl:OriginAccessControl")
        cache = one(run, "aws:cloudfront/cachePolicy:CachePolicy")
        behavior = distribution["defaultCacheBehavior"]
        assert behavior["viewerProtocolPolicy"] == "https-only"
        assert behavior["allowedMethods"] == behavior["cachedMethods"] == ["GET", "HEAD"]
        assert behavior["functionAssociations"] == [
            {"eventType": "viewer-request", "functionArn": f"arn:aws:cloudfront::{QA_ACCOUNT}:function/fusion-rms-pub"}
        ]
        assert behavior["cachePolicyId"] == cache.id
        [origin] = distribution["origins"]
        assert origin["originAccessControlId"] == control.id
        assert control.inputs["signingBehavior"] == "always"
        assert control.inputs["signingProtocol"] == "sigv4"
        headers = cache.inputs["parametersInCacheKeyAndForwardedToOrigin"]["headersConfig"]
        assert headers == {"headerBehavior": "whitelist", "headers": {"items": [TENANT_HEADER]}}
        assert router.inputs["publish"] is True
        assert router.inputs["runtime"] == "cloudfront-js-2.0"

    def test_the_fallback_origin_is_a_bucket_that_grants_cloudfront_nothing(self):
        run = qa_in(PublicAccess.CLOUDFRONT)
        [origin] = one(run, "aws:cloudfront/distribution:Distribution").inputs["origins"]
        log_bucket = run.outputs["accessLogBucket"].value
        assert origin["domainName"] == f"{log_bucket}.s3.us-east-1.amazonaws.com"
        log_policy = next(
            json.loads(r.inputs["policy"]) for r in run.by_type(BUCKET_POLICY) if r.inputs["bucket"] == log_bucket
        )
        assert CLOUDFRONT_SERVICE not in json.dumps(log_policy)

    def test_each_gallerys_public_url_names_the_tenant_on_the_distribution(self):
        run = qa_in(PublicAccess.CLOUDFRONT)
        _, domain = the_distribution(run)
        tenants = run.outputs["tenants"].value
        for org_id in GALLERIES:
            assert tenants[org_id]["publicBaseUrl"] == f"https://{domain}/{org_id}/pub/"
            assert tenants[org_id]["publicAccess"] == "cloudfront"
            assert "s3PublicBaseUrl" not in tenants[org_id]


class TestBothWays:
    """`bucket-policy-and-cloudfront`: the S3 URLs keep working while the apps move to CloudFront's."""

    def test_anyone_and_the_distribution_read_pub_and_the_public_policy_is_allowed(self):
        run = qa_in(PublicAccess.BUCKET_POLICY_AND_CLOUDFRONT)
        for org_id in GALLERIES:
            assert {"PublicReadOfPubFolder", "CloudFrontReadOfPubFolder"} <= set(statements(run, org_id))
            block = public_block(run, org_id)
            assert (block["blockPublicPolicy"], block["restrictPublicBuckets"]) == (False, False)

    def test_both_urls_are_outputs(self):
        run = qa_in(PublicAccess.BUCKET_POLICY_AND_CLOUDFRONT)
        _, domain = the_distribution(run)
        xmsqa1 = run.outputs["tenants"].value["xmsqa1"]
        assert xmsqa1["publicBaseUrl"] == f"https://{domain}/xmsqa1/pub/"
        assert xmsqa1["s3PublicBaseUrl"] == "https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/"


class TestBucketPolicy:
    def test_the_default_declares_no_cloudfront_and_keeps_the_s3_url(self):
        run = run_stack("qa")
        assert CLOUDFRONT_TYPES.isdisjoint(r.type for r in run.registrations)
        assert "publicDistributionDomain" not in run.outputs
        xmsqa1 = run.outputs["tenants"].value["xmsqa1"]
        assert xmsqa1["publicBaseUrl"] == "https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/"

    def test_one_tenant_served_through_cloudfront_brings_the_stacks_distribution_for_it_alone(self, project):
        (project / "tenants.yaml").write_text(
            (project / "tenants.yaml")
            .read_text()
            .replace(
                "  - orgId: xmsqa1\n    environment: qa\n",
                "  - orgId: xmsqa1\n    environment: qa\n    publicAccess: cloudfront\n",
            )
        )
        run = run_stack("qa", project)
        assert run.error is None, run.error
        assert {r.type for r in run.registrations} >= CLOUDFRONT_TYPES
        keys = one(run, "aws:cloudfront/keyvaluestoreKeysExclusive:KeyvaluestoreKeysExclusive").inputs
        assert [pair["key"] for pair in keys["resourceKeyValuePairs"]] == ["xmsqa1"]
        assert public_block(run, "xmsqa1") == ALL_FOUR_ON
        assert public_block(run, "tradeshow-demo")["blockPublicPolicy"] is False


@pytest.mark.parametrize("mode", list(PublicAccess))
def test_no_mode_lets_anyone_read_beyond_pub_or_write_anything(mode):
    """Whatever the mode, no statement of a tenant bucket allows anything but reading pub/*."""
    run = qa_in(mode) if mode is not PublicAccess.BUCKET_POLICY else run_stack("qa")
    for org_id in (*GALLERIES, *PRIVATE):
        for statement in statements(run, org_id).values():
            if statement["Effect"] == "Allow":
                assert statement["Action"] == "s3:GetObject"
                assert str(statement["Resource"]).endswith("/pub/*")


def test_the_plan_never_shows_the_mocks_invented_domain_as_a_url():
    """An offline plan cannot know the distribution's domain: its JSON and --detail say so, never a real-looking
    domain an app could be handed by mistake."""
    from review.plan import plan_from_run

    run = qa_in(PublicAccess.BUCKET_POLICY_AND_CLOUDFRONT)
    _, mocked_domain = the_distribution(run)
    document = plan_from_run(run).to_json()
    urls = {tenant["orgId"]: tenant["publicBaseUrl"] for tenant in document["tenants"]}
    assert urls["xmsqa1"] == "https://(known after deploy)/xmsqa1/pub/"
    assert mocked_domain not in json.dumps(document["tenants"])
    [xmsqa1] = [tenant for tenant in document["tenants"] if tenant["orgId"] == "xmsqa1"]
    assert xmsqa1["s3PublicBaseUrl"] == "https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/"
