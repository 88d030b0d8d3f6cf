"""Naming rules: the names derived from an orgId are names AWS accepts."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tenant_storage import naming


class TestBucketNames:
    def test_plain_name_is_prefix_dash_org_id(self):
        assert naming.bucket_name("fusion-rms", "xmsqa1") == "fusion-rms-xmsqa1"

    def test_suffixed_name_appends_the_suffix(self):
        assert naming.bucket_name("fusion-rms", "xmsqa1", "0a1b2c3d") == "fusion-rms-xmsqa1-0a1b2c3d"

    @pytest.mark.parametrize("name", ["abc", "fusion-rms-xmsqa1", "a" * 63, "1-2-3"])
    def test_valid_names_have_no_problems(self, name):
        assert naming.bucket_name_problems(name) == []

    @pytest.mark.parametrize(
        ("name", "fragment"),
        [
            ("ab", "is 2 characters"),
            ("a" * 64, "is 64 characters"),
            ("Fusion-rms", "lowercase letters, digits and hyphens"),
            ("fusion_rms", "lowercase letters, digits and hyphens"),
            ("fusion.rms", "lowercase letters, digits and hyphens"),
            ("-fusion", "start and end with a letter or digit"),
            ("fusion-", "start and end with a letter or digit"),
            ("192.168.5.4", "IP address"),
            ("xn--fusion", "must not start with 'xn--'"),
            ("sthree-fusion", "must not start with 'sthree-'"),
            ("amzn-s3-demo-fusion", "must not start with 'amzn-s3-demo-'"),
            ("fusion-s3alias", "must not end with '-s3alias'"),
            ("fusion--ol-s3", "must not end with '--ol-s3'"),
            ("fusion--x-s3", "must not end with '--x-s3'"),
            ("fusion--table-s3", "must not end with '--table-s3'"),
            ("fusion.mrap", "must not end with '.mrap'"),
            ("fusion-shop-an", "must not end with '-an', which S3 reserves for the account regional namespace"),
        ],
    )
    def test_each_s3_rule_is_enforced(self, name, fragment):
        assert any(fragment in problem for problem in naming.bucket_name_problems(name))

    def test_the_suffix_placeholder_has_the_real_suffix_length(self):
        assert naming.bucket_name("fusion-rms", "x", naming.SUFFIX_PLACEHOLDER) == "fusion-rms-x-" + "0" * 8
        assert naming.bucket_name("fusion-rms", "x", None) == "fusion-rms-x"


class TestOrgIds:
    @pytest.mark.parametrize("org_id", ["xmsqa1", "acme-orders", "a", "0123"])
    def test_lowercase_letters_digits_and_single_hyphens_are_accepted(self, org_id):
        assert naming.org_id_problems(org_id) == []

    @pytest.mark.parametrize("org_id", ["XMS", "a--b", "-a", "a-", "a.b", "a_b", "", "a b"])
    def test_anything_else_is_refused(self, org_id):
        assert naming.org_id_problems(org_id)


class TestIamUserNames:
    def test_user_name_is_prefix_then_org_id(self):
        assert naming.iam_user_name("rms_", "xmsqa1") == "rms_xmsqa1"

    def test_64_characters_is_the_limit(self):
        assert naming.iam_user_name_problems("u" * 64) == []
        assert "is 65 characters" in naming.iam_user_name_problems("u" * 65)[0]

    def test_only_iam_characters_are_allowed(self):
        assert naming.iam_user_name_problems("rms_a+b=c,d.e@f-g") == []
        assert naming.iam_user_name_problems("rms/xmsqa1")


class TestChildResourceNames:
    """URNs name the parent's type, not the parent: two tenants' children of one type need distinct names."""

    # Small alphabets built from the separator and the words of the names, where collisions would hide.
    words = st.sampled_from(["a", "b", "access", "key", "access-key", "0", "x1"])
    org_ids = st.lists(words, min_size=1, max_size=5).map("-".join).filter(lambda o: naming.org_id_problems(o) == [])
    labels = st.one_of(st.just(naming.DEFAULT_KEY_LABEL), org_ids.filter(lambda label: len(label) <= 32))

    @given(org_ids, labels, org_ids, labels)
    @settings(max_examples=1000)
    def test_access_key_names_are_injective_over_valid_labels(self, org_a, label_a, org_b, label_b):
        valid = [label for label in (label_a, label_b) if naming.ACCESS_KEY_PART not in label or label == "initial"]
        assume(len(valid) == 2)
        if (org_a, label_a) != (org_b, label_b):
            assert naming.access_key_resource_name(org_a, label_a) != naming.access_key_resource_name(org_b, label_b)

    def test_without_the_label_rule_they_would_collide(self):
        assert naming.access_key_resource_name("x", "foo-access-key") == naming.access_key_resource_name(
            "x-access-key-foo", naming.DEFAULT_KEY_LABEL
        )
