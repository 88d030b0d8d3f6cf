"""The anonymous-request evaluator used by the access matrix, tested on its own."""

import pytest

from tenant_storage.anonymous_access import (
    Decision,
    PolicyRefused,
    PublicAccessBlock,
    anonymous_allowed,
    bucket_policy_decision,
    is_public,
)
from tenant_storage.policies import bucket_policy
from tenant_storage.registry import Profile

ARN = "arn:aws:s3:::fusion-rms-xmsqa1"
GALLERY = bucket_policy(Profile.MEDIA_GALLERY, "fusion-rms-xmsqa1")
PRIVATE = bucket_policy(Profile.APP_STORAGE, "fusion-rms-xmsqa1")
OPEN_POLICY = PublicAccessBlock(block_public_policy=False, restrict_public_buckets=False)
ALLOW_ALL_OBJECTS = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": f"{ARN}/*"}]}


def test_anyone_may_read_pub_over_tls_when_the_block_allows_public_policies():
    assert anonymous_allowed(GALLERY, OPEN_POLICY, "s3:GetObject", f"{ARN}/pub/probe.png")


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", f"{ARN}/private/data.bin"),
        ("s3:GetObject", f"{ARN}/pubx/probe.png"),
        ("s3:PutObject", f"{ARN}/pub/probe.png"),
        ("s3:DeleteObject", f"{ARN}/pub/probe.png"),
        ("s3:ListBucket", ARN),
        ("s3:PutBucketPolicy", ARN),
    ],
)
def test_nothing_else_is_allowed(action, resource):
    assert not anonymous_allowed(GALLERY, OPEN_POLICY, action, resource)


def test_plain_http_is_denied_even_for_pub():
    assert not anonymous_allowed(GALLERY, OPEN_POLICY, "s3:GetObject", f"{ARN}/pub/probe.png", secure_transport=False)


def test_restrict_public_buckets_voids_a_public_policy():
    block = PublicAccessBlock(block_public_policy=False, restrict_public_buckets=True)
    assert not anonymous_allowed(GALLERY, block, "s3:GetObject", f"{ARN}/pub/probe.png")


def test_block_public_policy_means_s3_refuses_a_public_policy():
    with pytest.raises(PolicyRefused):
        anonymous_allowed(GALLERY, PublicAccessBlock(), "s3:GetObject", f"{ARN}/pub/probe.png")


def test_a_private_policy_allows_nothing_and_is_accepted_under_a_full_block():
    assert not is_public(PRIVATE)
    assert not anonymous_allowed(PRIVATE, PublicAccessBlock(), "s3:GetObject", f"{ARN}/pub/probe.png")


def test_no_policy_allows_nothing():
    assert not anonymous_allowed(None, OPEN_POLICY, "s3:GetObject", f"{ARN}/pub/probe.png")


def test_wildcards_match_actions_and_resources():
    assert anonymous_allowed(ALLOW_ALL_OBJECTS, OPEN_POLICY, "s3:DeleteObject", f"{ARN}/a/b")
    assert not anonymous_allowed(ALLOW_ALL_OBJECTS, OPEN_POLICY, "s3:ListBucket", ARN)


def test_an_unmodelled_condition_is_refused_loudly():
    policy = {
        "Statement": [{**ALLOW_ALL_OBJECTS["Statement"][0], "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4"}}}]
    }
    with pytest.raises(ValueError, match="does not model the condition IpAddress aws:SourceIp"):
        anonymous_allowed(policy, OPEN_POLICY, "s3:GetObject", f"{ARN}/x")


def test_callers_in_the_account_are_not_restricted_by_restrict_public_buckets():
    block = PublicAccessBlock(block_public_policy=False, restrict_public_buckets=True)
    decision = bucket_policy_decision(GALLERY, block, "s3:GetObject", f"{ARN}/pub/x", caller_in_bucket_account=True)
    assert decision is Decision.ALLOW


def test_the_tls_deny_is_an_explicit_deny_for_every_caller():
    decision = bucket_policy_decision(PRIVATE, PublicAccessBlock(), "s3:GetObject", f"{ARN}/x", secure_transport=False)
    assert decision is Decision.DENY
    assert bucket_policy_decision(PRIVATE, PublicAccessBlock(), "s3:GetObject", f"{ARN}/x") is Decision.NO_OPINION


@pytest.mark.parametrize("tls_version", [1.0, 1.1])
def test_tls_older_than_1_2_is_denied_even_for_pub(tls_version):
    assert not anonymous_allowed(GALLERY, OPEN_POLICY, "s3:GetObject", f"{ARN}/pub/probe.png", tls_version=tls_version)
    decision = bucket_policy_decision(
        PRIVATE, PublicAccessBlock(), "s3:GetObject", f"{ARN}/x", caller_in_bucket_account=True, tls_version=tls_version
    )
    assert decision is Decision.DENY


def test_tls_1_2_and_newer_are_accepted():
    assert anonymous_allowed(GALLERY, OPEN_POLICY, "s3:GetObject", f"{ARN}/pub/probe.png", tls_version=1.2)
