"""The tenant registry: the example file is valid, and every kind of mistake is named precisely."""

import textwrap

import pytest

from tenant_storage.errors import InvalidInput
from tenant_storage.registry import Environment, NamingRules, Profile, load_registry, parse_registry
from tests.conftest import FIXTURE_INPUTS


def problems_in(text: str, rules: NamingRules | None = None) -> list[str]:
    with pytest.raises(InvalidInput) as raised:
        parse_registry(textwrap.dedent(text), "tenants.yaml", rules or NamingRules())
    return [str(problem) for problem in raised.value.problems]


class TestTheFixtureRegistry:
    def test_it_covers_every_environment_profile_and_option(self):
        registry = load_registry(FIXTURE_INPUTS / "tenants.yaml")
        assert {tenant.environment for tenant in registry.tenants} == set(Environment)
        assert {tenant.profile for tenant in registry.tenants} == set(Profile)
        assert any(tenant.random_suffix for tenant in registry.tenants)
        assert any(len(tenant.key_labels) == 2 for tenant in registry.tenants)
        assert "xmsqa1" in {tenant.org_id for tenant in registry.tenants}

    def test_defaults_are_media_gallery_without_suffix(self):
        registry = parse_registry("tenants:\n  - orgId: xmsqa1\n    environment: qa\n", "tenants.yaml", NamingRules())
        assert registry.tenants[0].profile is Profile.MEDIA_GALLERY
        assert registry.tenants[0].random_suffix is False


class TestFieldMistakes:
    def test_a_typo_is_an_unknown_field_with_a_suggestion(self):
        [problem] = problems_in("""
            tenants:
              - orgId: xmsqa1
                environment: qa
                enviroment: qa
        """)
        assert problem.startswith("tenants.yaml:5 tenants[0] (orgId 'xmsqa1') field 'enviroment': unknown field")
        assert "did you mean 'environment'" in problem

    def test_a_missing_required_field_is_named(self):
        [problem] = problems_in("tenants:\n  - orgId: xmsqa1\n")
        assert problem == "tenants.yaml:2 tenants[0] (orgId 'xmsqa1') field 'environment': required field is missing"

    def test_unknown_environment_and_profile_list_the_allowed_values(self):
        problems = problems_in("tenants:\n  - orgId: a\n    environment: prod\n    profile: gallery\n")
        assert "field 'environment': 'prod' is not one of production, staging, qa, development, demo" in problems[0]
        assert "field 'profile': 'gallery' is not one of media-gallery, app-storage, upload-only" in problems[1]

    def test_a_misspelt_value_gets_the_closest_allowed_one(self):
        problems = problems_in("tenants:\n  - orgId: a\n    environment: prodution\n    profile: media_gallery\n")
        assert problems[0].endswith(
            "'prodution' is not one of production, staging, qa, development, demo (did you mean 'production'?)"
        )
        assert problems[1].endswith("(did you mean 'media-gallery'?)")

    def test_an_empty_boolean_is_said_to_be_empty(self):
        [problem] = problems_in("tenants:\n  - orgId: a\n    environment: qa\n    randomSuffix:\n")
        assert problem.endswith("field 'randomSuffix': must be true or false, not empty (null)")

    def test_random_suffix_must_be_a_boolean(self):
        [problem] = problems_in("tenants:\n  - orgId: a\n    environment: qa\n    randomSuffix: 'yes'\n")
        assert "field 'randomSuffix': must be true or false, not the string 'yes'" in problem

    @pytest.mark.parametrize(
        ("written", "read_as"),
        [
            ("no", "boolean false"),
            ("on", "boolean true"),
            ("0123", "number 83"),
            ("0x1F", "number 31"),
            ("12", "number 12"),
        ],
    )
    def test_an_org_id_yaml_reads_as_a_boolean_or_number_must_be_quoted(self, written, read_as):
        [problem] = problems_in(f"tenants:\n  - orgId: {written}\n    environment: qa\n")
        assert (
            f"field 'orgId': must be a string, but YAML reads the unquoted value {written} as the {read_as}" in problem
        )
        assert f'quote it: orgId: "{written}"' in problem

    def test_a_quoted_numeric_org_id_is_accepted(self):
        registry = parse_registry('tenants:\n  - orgId: "0123"\n    environment: qa\n', "tenants.yaml", NamingRules())
        assert registry.tenants[0].org_id == "0123"

    @pytest.mark.parametrize("org_id", ["XMS", "a--b", "a.b", "a_b", "-a"])
    def test_an_org_id_outside_the_alphabet_is_refused(self, org_id):
        [problem] = problems_in(f"tenants:\n  - orgId: '{org_id}'\n    environment: qa\n")
        assert f"field 'orgId': {org_id!r} is not a valid orgId" in problem


class TestDuplicates:
    def test_duplicate_org_ids_point_at_the_first_use(self):
        [problem] = problems_in("tenants:\n  - orgId: a\n    environment: qa\n  - orgId: a\n    environment: demo\n")
        assert (
            problem
            == "tenants.yaml:4 tenants[1] (orgId 'a') field 'orgId': duplicate orgId: tenants[0] already uses it"
        )

    def test_a_duplicate_key_in_one_tenant_is_not_silently_dropped(self):
        [problem] = problems_in("tenants:\n  - orgId: a\n    environment: qa\n    environment: production\n")
        assert problem.startswith(
            "tenants.yaml:4 tenants[0] (orgId 'a') field 'environment': key 'environment' appears"
        )
        assert "lines 3 and 4" in problem

    def test_a_duplicate_top_level_key_is_refused(self):
        [problem] = problems_in("tenants: []\ntenants:\n  - orgId: a\n    environment: qa\n")
        assert "field 'tenants': key 'tenants' appears twice" in problem


class TestAwsNamingLimits:
    def test_the_longest_org_id_that_fits_is_accepted_and_one_more_is_refused(self):
        longest = "a" * (63 - len("fusion-rms-"))
        parse_registry(f"tenants:\n  - orgId: {longest}\n    environment: qa\n", "tenants.yaml", NamingRules())
        [problem] = problems_in(f"tenants:\n  - orgId: {longest}a\n    environment: qa\n")
        assert "field 'orgId': bucket name 'fusion-rms-aaa" in problem
        assert "is 64 characters" in problem

    def test_the_random_suffix_counts_toward_the_length(self):
        org_id = "a" * (63 - len("fusion-rms-") - 8)
        [problem] = problems_in(f"tenants:\n  - orgId: {org_id}\n    environment: qa\n    randomSuffix: true\n")
        assert "is 64 characters" in problem
        assert "with the 8-character random suffix" in problem

    def test_reserved_suffixes_are_refused(self):
        [problem] = problems_in("tenants:\n  - orgId: shop-s3alias\n    environment: qa\n")
        assert "must not end with '-s3alias', which S3 reserves for access point aliases" in problem

    def test_the_account_regional_namespace_suffix_is_refused_with_its_rule(self):
        [problem] = problems_in("tenants:\n  - orgId: shop-an\n    environment: qa\n")
        assert "'fusion-rms-shop-an' must not end with '-an', which S3 reserves for the account regional" in problem

    def test_iam_user_name_length_depends_on_the_configured_prefix(self):
        rules = NamingRules(bucket_prefix="f", iam_user_prefix="tenant-storage-user-")
        [problem] = problems_in(f"tenants:\n  - orgId: {'a' * 45}\n    environment: qa\n", rules)
        assert "IAM user name 'tenant-storage-user-aaa" in problem
        assert "is 65 characters" in problem


class TestFileShape:
    def test_an_empty_file_is_refused(self):
        assert problems_in("") == ["tenants.yaml: the file is empty; it must hold a mapping with a `tenants:` list"]

    def test_tenants_must_be_a_list(self):
        [problem] = problems_in("tenants:\n  orgId: a\n")
        assert problem == "tenants.yaml:1 field 'tenants': must be a list of tenants, not a mapping"

    def test_a_tenant_must_be_a_mapping(self):
        [problem] = problems_in("tenants:\n  - xmsqa1\n")
        assert problem == "tenants.yaml tenants[0]: each tenant must be a mapping, not a string"

    def test_broken_yaml_names_the_line(self):
        [problem] = problems_in("tenants:\n  - orgId: [a\n")
        assert problem.startswith("tenants.yaml:3: not valid YAML")

    def test_every_problem_is_reported_in_file_order_not_just_the_first(self):
        problems = problems_in("""
            tenants:
              - orgId: no
                environment: qa
              - orgId: b
                enviroment: qa
              - orgId: b
                environment: mars
        """)
        assert len(problems) == 5
        assert [p.split(": ")[0] for p in problems] == [
            "tenants.yaml:3 tenants[0] field 'orgId'",
            "tenants.yaml:5 tenants[1] (orgId 'b') field 'environment'",
            "tenants.yaml:6 tenants[1] (orgId 'b') field 'enviroment'",
            "tenants.yaml:7 tenants[2] (orgId 'b') field 'orgId'",
            "tenants.yaml:8 tenants[2] (orgId 'b') field 'environment'",
        ]
