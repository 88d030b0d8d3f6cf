"""Property-based: the validator never accepts an orgId that makes a name AWS would refuse.

The oracle below restates AWS's rules from the S3 user guide ("General purpose bucket naming rules")
and the IAM user guide (user names) independently of tenant_storage.naming, so that a mistake in one
is caught by the other. It allows dots, as AWS does; the validator is stricter and refuses them.
"""

import json
import operator
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tenant_storage import naming
from tenant_storage.errors import InvalidInput
from tenant_storage.registry import NamingRules, parse_registry

AWS_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
AWS_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3", "-an")


def aws_accepts_bucket_name(name: str) -> bool:
    return (
        3 <= len(name) <= 63
        and re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name) is not None
        and ".." not in name
        and re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name) is None
        and not name.startswith(AWS_RESERVED_PREFIXES)
        and not name.endswith(AWS_RESERVED_SUFFIXES)
    )


def aws_accepts_user_name(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9+=,.@_-]{1,64}", name) is not None


def validator_accepts(org_id: str, random_suffix: bool, rules: NamingRules) -> bool:
    text = (
        f"tenants:\n  - orgId: {json.dumps(org_id)}\n    environment: qa\n"
        f"    randomSuffix: {json.dumps(random_suffix)}\n"
    )
    try:
        parse_registry(text, "tenants.yaml", rules)
    except InvalidInput:
        return False
    return True


plausible_org_ids = st.from_regex(r"[a-z0-9]{1,4}(-[a-z0-9]{1,6}){0,9}", fullmatch=True)
org_ids = st.one_of(
    plausible_org_ids,
    st.text(alphabet="az09-._X ", max_size=70),
    st.builds(operator.add, plausible_org_ids, st.sampled_from(AWS_RESERVED_SUFFIXES)),
)
prefixes = st.sampled_from(["fusion-rms", "f", "amzn-s3-demo", "sthree", "tenant-storage-media-bucket"])
hex_suffixes = st.text(alphabet="0123456789abcdef", min_size=8, max_size=8)


@settings(max_examples=400, deadline=None)
@given(org_id=org_ids, random_suffix=st.booleans(), prefix=prefixes, suffix=hex_suffixes)
@example(org_id="xmsqa1", random_suffix=False, prefix="fusion-rms", suffix="0a1b2c3d")
@example(org_id="shop-s3alias", random_suffix=False, prefix="fusion-rms", suffix="0a1b2c3d")
@example(org_id="shop-an", random_suffix=False, prefix="fusion-rms", suffix="0a1b2c3d")
@example(org_id="x" * 52, random_suffix=False, prefix="fusion-rms", suffix="0a1b2c3d")
@example(org_id="x" * 44, random_suffix=True, prefix="fusion-rms", suffix="0a1b2c3d")
def test_an_accepted_org_id_makes_names_aws_accepts(org_id, random_suffix, prefix, suffix):
    """Equivalently: when AWS would refuse the name, the validator refuses the orgId."""
    rules = NamingRules(bucket_prefix=prefix, iam_user_prefix="rms_")
    bucket = naming.bucket_name(prefix, org_id, suffix if random_suffix else None)
    aws_accepts = aws_accepts_bucket_name(bucket) and aws_accepts_user_name(naming.iam_user_name("rms_", org_id))
    if validator_accepts(org_id, random_suffix, rules):
        assert aws_accepts, f"validator accepted {org_id!r}, AWS would refuse {bucket!r}"
    if not aws_accepts:
        assert not validator_accepts(org_id, random_suffix, rules)


@settings(max_examples=400, deadline=None)
@given(name=st.one_of(st.text(alphabet="ab09-.xns3", max_size=70), st.from_regex(r"[a-z0-9.-]{1,70}", fullmatch=True)))
@example(name="192.168.5.4")
@example(name="xn--abc")
@example(name="abc.mrap")
def test_a_bucket_name_the_rules_pass_is_one_aws_accepts(name):
    if not naming.bucket_name_problems(name):
        assert aws_accepts_bucket_name(name)
    if not aws_accepts_bucket_name(name):
        assert naming.bucket_name_problems(name)


def test_the_strategies_reach_both_outcomes():
    rules = NamingRules()
    assert validator_accepts("xmsqa1", False, rules)
    assert not validator_accepts("x" * 53, False, rules)
    assert aws_accepts_bucket_name("fusion-rms-xmsqa1")
    assert not aws_accepts_bucket_name("fusion-rms-shop-s3alias")
