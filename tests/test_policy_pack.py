"""The policy pack's rules, called directly on good and bad resources, and on what the program declares."""

import json
from dataclasses import replace

import pytest

from policy.tenant_storage_rules import (
    ACCESS_KEY,
    BUCKET,
    BUCKET_POLICY,
    ENCRYPTION,
    OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    RULES,
    USER,
    USER_POLICY,
    VERSIONING,
    ResourceView,
    evaluate,
)
from tenant_storage.policies import bucket_policy, user_policy
from tenant_storage.registry import Profile

PARENT = "urn:pulumi:qa::tenant-storage::tenant-storage:index:TenantStorage::xmsqa1"
NAME = "fusion-rms-xmsqa1"
TAGS = {"OrgId": "xmsqa1", "Environment": "qa", "ManagedBy": "pulumi"}
RULE_BY_NAME = {rule.name: rule for rule in RULES}


def resource(resource_type: str, name: str, props: dict, **options) -> ResourceView:
    return ResourceView(type=resource_type, urn=f"urn:{name}", name=name, props=props, parent=PARENT, **options)


def good_tenant() -> list[ResourceView]:
    return [
        resource(BUCKET, "bucket", {"bucket": NAME, "tags": TAGS}),
        resource(OWNERSHIP, "ownership", {"bucket": NAME, "rule": {"objectOwnership": "BucketOwnerEnforced"}}),
        resource(PUBLIC_ACCESS_BLOCK, "pab", {"bucket": NAME, "blockPublicAcls": True, "ignorePublicAcls": True}),
        resource(
            ENCRYPTION,
            "sse",
            {"bucket": NAME, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        ),
        resource(VERSIONING, "versioning", {"bucket": NAME, "versioningConfiguration": {"status": "Enabled"}}),
        resource(
            BUCKET_POLICY, "policy", {"bucket": NAME, "policy": json.dumps(bucket_policy(Profile.MEDIA_GALLERY, NAME))}
        ),
        resource(USER, "user", {"name": "rms_xmsqa1", "tags": TAGS}),
        resource(
            USER_POLICY,
            "user-policy",
            {"user": "rms_xmsqa1", "policy": json.dumps(user_policy(Profile.APP_STORAGE, NAME))},
        ),
        resource(ACCESS_KEY, "key", {"user": "rms_xmsqa1"}, additional_secret_outputs=("secret",)),
    ]


def violations(resources, rule_name):
    return [violation.message for violation in RULE_BY_NAME[rule_name].violations(resources)]


def without(resources, name):
    return [r for r in resources if r.name != name]


def replaced(resources, name, **changes):
    return [replace(r, **changes) if r.name == name else r for r in resources]


def test_a_well_formed_tenant_breaks_no_rule():
    assert evaluate(good_tenant()) == []


def test_security_rules_are_mandatory_and_conventions_advisory():
    levels = {rule.name: rule.enforcement for rule in RULES}
    assert levels == {
        "one-tenant-per-bucket": "mandatory",
        "bucket-name-convention": "advisory",
        "bucket-guard-rails": "mandatory",
        "public-read-of-pub-only": "mandatory",
        "user-policy-least-privilege": "mandatory",
        "access-key-secret-is-secret": "mandatory",
        "credential-parameters-encrypted": "mandatory",
        "org-id-tags": "advisory",
        "production-buckets-protected": "mandatory",
    }


class TestBucketNameConvention:
    def test_a_name_without_the_org_id_is_reported(self):
        resources = replaced(good_tenant(), "bucket", props={"bucket": "my-bucket", "tags": TAGS})
        assert violations(resources, "bucket-name-convention") == [
            "bucket 'my-bucket' is not named <prefix>-xmsqa1[-<8 hex digits>]"
        ]

    def test_a_random_suffix_is_accepted(self):
        resources = replaced(good_tenant(), "bucket", props={"bucket": f"{NAME}-0a1b2c3d", "tags": TAGS})
        assert violations(resources, "bucket-name-convention") == []


class TestBucketGuardRails:
    @pytest.mark.parametrize(
        ("missing", "message"),
        [
            ("ownership", "has no BucketOwnerEnforced ownership controls"),
            ("pab", "has no public access block"),
            ("sse", "has no default server-side encryption"),
            ("versioning", "does not have versioning enabled"),
            ("policy", "has no bucket policy denying requests without TLS"),
        ],
    )
    def test_each_missing_setting_is_reported(self, missing, message):
        [found] = violations(without(good_tenant(), missing), "bucket-guard-rails")
        assert f"bucket {NAME} {message}" in found

    def test_a_policy_without_the_tls_deny_is_reported(self):
        public_only = {
            "Version": "2012-10-17",
            "Statement": bucket_policy(Profile.MEDIA_GALLERY, NAME)["Statement"][1:],
        }
        resources = replaced(good_tenant(), "policy", props={"bucket": NAME, "policy": json.dumps(public_only)})
        assert violations(resources, "bucket-guard-rails") == [
            f"bucket {NAME} has no bucket policy denying requests without TLS"
        ]

    def test_settings_of_another_bucket_do_not_count(self):
        resources = replaced(
            good_tenant(), "versioning", props={"bucket": "other", "versioningConfiguration": {"status": "Enabled"}}
        )
        assert violations(resources, "bucket-guard-rails") == [f"bucket {NAME} does not have versioning enabled"]

    def test_while_the_name_is_unknown_siblings_count(self):
        unknown = [replace(r, props={**r.props, "bucket": None}) for r in good_tenant()]
        assert violations(unknown, "bucket-guard-rails") == []


class TestPublicStatements:
    @pytest.mark.parametrize(
        "statement",
        [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{NAME}/*"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{NAME}/pub/*"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": f"arn:aws:s3:::{NAME}/pub/*"},
        ],
    )
    def test_anything_beyond_reading_pub_is_reported(self, statement):
        document = {"Version": "2012-10-17", "Statement": [statement]}
        resources = replaced(good_tenant(), "policy", props={"bucket": NAME, "policy": json.dumps(document)})
        [found] = violations(resources, "public-read-of-pub-only")
        assert found.startswith("public statement may only allow s3:GetObject on pub/*")


class TestUserPolicies:
    @pytest.mark.parametrize(
        ("statement", "message"),
        [
            ({"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{NAME}/*"}, "grants 's3:*'"),
            (
                {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": f"arn:aws:s3:::{NAME}"},
                "grants 'iam:CreateUser'",
            ),
            (
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::fusion-rms-acme/*"},
                "names 'arn:aws:s3:::fusion-rms-acme/*'",
            ),
            ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "names '*'"),
        ],
    )
    def test_wildcards_iam_actions_and_other_buckets_are_reported(self, statement, message):
        document = {"Version": "2012-10-17", "Statement": [statement]}
        resources = replaced(good_tenant(), "user-policy", props={"user": "rms_xmsqa1", "policy": json.dumps(document)})
        [found] = violations(resources, "user-policy-least-privilege")
        assert message in found

    def test_a_china_partition_arn_of_its_own_bucket_is_fine_and_of_another_is_not(self):
        from tenant_storage.regions import CHINA

        own = json.dumps(user_policy(Profile.APP_STORAGE, NAME, CHINA))
        assert (
            violations(
                replaced(good_tenant(), "user-policy", props={"user": "u", "policy": own}),
                "user-policy-least-privilege",
            )
            == []
        )
        other = json.dumps(user_policy(Profile.APP_STORAGE, "fusion-rms-acme", CHINA))
        [found, *_] = violations(
            replaced(good_tenant(), "user-policy", props={"user": "u", "policy": other}), "user-policy-least-privilege"
        )
        assert "names 'arn:aws-cn:s3:::fusion-rms-acme'" in found


class TestOneTenantPerBucket:
    OTHER = "urn:pulumi:qa::tenant-storage::tenant-storage:index:TenantStorage::globex-16931deb"

    def test_one_tenant_configuring_its_own_bucket_is_fine(self):
        assert violations(good_tenant(), "one-tenant-per-bucket") == []

    def test_another_tenant_configuring_the_same_bucket_is_reported(self):
        intruder = replace(good_tenant()[5], urn="urn:intruder-policy", parent=self.OTHER)
        found = violations([*good_tenant(), intruder], "one-tenant-per-bucket")
        assert found
        assert all(f"bucket {NAME} is configured by 2 tenants" in message for message in found)

    def test_a_bucket_declared_twice_is_reported(self):
        twin = replace(good_tenant()[0], urn="urn:twin", parent=self.OTHER)
        assert "bucket fusion-rms-xmsqa1 is declared 2 times" in violations(
            [*good_tenant(), twin], "one-tenant-per-bucket"
        )


class TestAccessKeys:
    def test_a_key_whose_secret_is_not_secret_is_reported(self):
        resources = replaced(good_tenant(), "key", additional_secret_outputs=())
        assert "not marked secret" in violations(resources, "access-key-secret-is-secret")[0]

    def test_a_pgp_encrypted_key_is_reported(self):
        resources = replaced(good_tenant(), "key", props={"user": "rms_xmsqa1", "pgpKey": "keybase:someone"})
        assert "uses pgpKey" in violations(resources, "access-key-secret-is-secret")[0]


class TestTagsAndProtection:
    def test_a_missing_org_id_tag_is_reported(self):
        resources = replaced(good_tenant(), "user", props={"name": "rms_xmsqa1", "tags": {"ManagedBy": "pulumi"}})
        assert violations(resources, "org-id-tags") == ["User user has no OrgId tag (billing reports group by it)"]

    @pytest.mark.parametrize("environment", ["production", "staging"])
    def test_unprotected_production_class_buckets_are_reported(self, environment):
        tags = {**TAGS, "Environment": environment}
        resources = replaced(good_tenant(), "bucket", props={"bucket": NAME, "tags": tags})
        assert violations(resources, "production-buckets-protected") == [
            f"{environment} bucket bucket is not protected"
        ]
        protected = replaced(resources, "bucket", protect=True)
        assert violations(protected, "production-buckets-protected") == []


class TestTheProgramAgainstThePack:
    def test_what_the_program_declares_breaks_no_rule(self, stack_run):
        from review.plan import policy_violations

        assert policy_violations(stack_run.registrations) == []

    def test_the_offline_plan_reports_a_broken_mandatory_rule_and_fails(self, project, capsys, monkeypatch):
        """No input can unprotect a production bucket any more, so the program is broken on purpose here."""
        from cli.main import main
        from tenant_storage.stacks import StackSettings

        monkeypatch.setattr(StackSettings, "protects", lambda _settings, _tenant: False)
        assert main(["plan", "--stack", "prod"], project_dir=project) == 1
        out = capsys.readouterr().out
        assert "policy pack: 4 violations" in out
        assert "MANDATORY production-buckets-protected: production bucket acme-bucket is not protected" in out


class TestCrossGuardWiring:
    def test_each_rule_becomes_a_stack_policy_with_its_enforcement_level(self):
        from pulumi_policy import EnforcementLevel

        from policy.crossguard import stack_policies

        policies = {policy.name: policy for policy in stack_policies()}
        assert set(policies) == set(RULE_BY_NAME)
        assert policies["bucket-guard-rails"].enforcement_level is EnforcementLevel.MANDATORY
        assert policies["org-id-tags"].enforcement_level is EnforcementLevel.ADVISORY

    def test_a_validation_reports_what_the_rule_finds_on_crossguard_resources(self):
        from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

        from policy.crossguard import stack_policies

        def policy_resource(view: ResourceView, protect: bool = False) -> PolicyResource:
            options = PolicyResourceOptions(
                protect=protect,
                ignore_changes=[],
                delete_before_replace=None,
                aliases=[],
                custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                additional_secret_outputs=list(view.additional_secret_outputs),
            )
            return PolicyResource(view.type, view.props, view.urn, view.name, options, None, None, [], {})

        production_tags = {**TAGS, "Environment": "production"}
        tenant = replaced(good_tenant(), "bucket", props={"bucket": NAME, "tags": production_tags})
        args = StackValidationArgs([policy_resource(view) for view in tenant])
        reports = []
        [protection] = [p for p in stack_policies() if p.name == "production-buckets-protected"]
        protection.validate(args, lambda message, urn=None: reports.append((message, urn)))
        assert reports == [("production bucket bucket is not protected", "urn:bucket")]
