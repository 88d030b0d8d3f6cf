"""The policy pack's rules, called directly on good and bad resources, and on what the program declares."""

import json
from dataclasses import replace

import pytest

from policy.tenant_storage_rules import (
    ACCESS_KEY,
    BUCKET,
    BUCKET_LOGGING,
    BUCKET_POLICY,
    CLOUDFRONT_SERVICE,
    DISTRIBUTION,
    ENCRYPTION,
    GROUP_POLICY,
    LOG_DELIVERY_SERVICE,
    OBJECT,
    OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    RULES,
    USER,
    USER_POLICIES_EXCLUSIVE,
    USER_POLICY,
    USER_POLICY_ATTACHMENTS_EXCLUSIVE,
    VERSIONING,
    ResourceView,
    evaluate,
)
from tenant_storage import policies, public_access
from tenant_storage.policies import bucket_policy, group_policy
from tenant_storage.public_access import PublicAccess
from tenant_storage.registry import Profile

PARENT = "urn:pulumi:qa::tenant-storage::tenant-storage:index:TenantStorage::xmsqa1"
SHARED = "urn:pulumi:qa::tenant-storage::tenant-storage:index:StackStorage::shared"
KEY_ARN = "arn:aws:kms:us-east-1:222222222222:key/mock-key"
NAME = "fusion-rms-xmsqa1"
TAGS = {"OrgId": "xmsqa1", "Environment": "qa", "ManagedBy": "pulumi"}
RULE_BY_NAME = {rule.name: rule for rule in RULES}


def resource(resource_type: str, name: str, props: dict, **options) -> ResourceView:
    return ResourceView(type=resource_type, urn=f"urn:{name}", name=name, props=props, parent=PARENT, **options)


def good_tenant() -> list[ResourceView]:
    """A media-gallery tenant as the program declares it, with its profile group's policy."""
    return [
        resource(BUCKET, "bucket", {"bucket": NAME, "tags": TAGS}),
        resource(OWNERSHIP, "ownership", {"bucket": NAME, "rule": {"objectOwnership": "BucketOwnerEnforced"}}),
        resource(
            PUBLIC_ACCESS_BLOCK,
            "pab",
            {"bucket": NAME, "blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": False},
        ),
        resource(BUCKET_LOGGING, "logging", {"bucket": NAME, "targetBucket": "logs", "targetPrefix": "xmsqa1/"}),
        resource(
            ENCRYPTION,
            "sse",
            {"bucket": NAME, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        ),
        resource(VERSIONING, "versioning", {"bucket": NAME, "versioningConfiguration": {"status": "Enabled"}}),
        resource(
            BUCKET_POLICY, "policy", {"bucket": NAME, "policy": json.dumps(bucket_policy(Profile.MEDIA_GALLERY, NAME))}
        ),
        resource(OBJECT, "pub-folder", {"bucket": NAME, "key": "pub/", "content": "", "tags": TAGS}),
        resource(USER, "user", {"name": "rms_xmsqa1", "tags": {**TAGS, "TenantBucket": NAME}}),
        resource(USER_POLICIES_EXCLUSIVE, "inline-policies", {"userName": "rms_xmsqa1", "policyNames": []}),
        resource(USER_POLICY_ATTACHMENTS_EXCLUSIVE, "policy-attachments", {"userName": "rms_xmsqa1", "policyArns": []}),
        resource(ACCESS_KEY, "key", {"user": "rms_xmsqa1"}, additional_secret_outputs=("secret",)),
        replace(
            resource(
                GROUP_POLICY,
                "group-policy",
                {"group": "g", "policy": json.dumps(group_policy(Profile.APP_STORAGE, kms_key_arn=KEY_ARN))},
            ),
            parent=SHARED,
        ),
    ]


def private_tenant(sse: dict) -> list[ResourceView]:
    tenant = replaced(
        good_tenant(),
        "pab",
        props={"bucket": NAME, "blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True},
    )
    policy = json.dumps(bucket_policy(Profile.APP_STORAGE, NAME))
    tenant = replaced(tenant, "policy", props={"bucket": NAME, "policy": policy})
    return replaced(tenant, "sse", props={"bucket": NAME, "rules": [sse]})


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
        "bucket-policy-principals-known": "mandatory",
        "cloudfront-reads-pub-for-one-distribution": "mandatory",
        "public-only-through-the-stacks-distribution": "mandatory",
        "user-policy-least-privilege": "mandatory",
        "no-user-attached-policies": "mandatory",
        "user-grants-exclusive": "mandatory",
        "access-logging": "mandatory",
        "private-buckets-sse-kms": "mandatory",
        "private-buckets-sse-s3-by-choice": "advisory",
        "tls-1-2-minimum": "mandatory",
        "bucket-policy-requires-tls": "mandatory",
        "access-key-hygiene": "advisory",
        "access-key-secret-is-secret": "mandatory",
        "credential-parameters-encrypted": "mandatory",
        "org-id-tags": "advisory",
        "production-buckets-protected": "mandatory",
    }


DISTRIBUTION_ARN = "arn:aws:cloudfront::111111111111:distribution/E2QWRUHEXAMPLE"


def served_through_cloudfront(policy: dict | None = None) -> list[ResourceView]:
    """The good tenant as `publicAccess: cloudfront` declares it: all four blocks on, CloudFront reads pub/*."""
    document = policy or bucket_policy(
        Profile.MEDIA_GALLERY, NAME, public_access=PublicAccess.CLOUDFRONT, distribution_arn=DISTRIBUTION_ARN
    )
    blocks = {"bucket": NAME, **dict.fromkeys(("blockPublicAcls", "ignorePublicAcls"), True)}
    blocks |= {"blockPublicPolicy": True, "restrictPublicBuckets": True}
    tenant = replaced(good_tenant(), "policy", props={"bucket": NAME, "policy": json.dumps(document)})
    return [
        *replaced(tenant, "pab", props=blocks),
        resource(DISTRIBUTION, "pub-distribution", {"arn": DISTRIBUTION_ARN}),
    ]


def cloudfront_statement(**changes: object) -> dict:
    statement = {
        "Sid": "CloudFrontReadOfPubFolder",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT_SERVICE},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{NAME}/pub/*",
        "Condition": {"StringEquals": {"aws:SourceArn": DISTRIBUTION_ARN}},
    }
    return {**statement, **changes}


def with_statement(statement: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": [*bucket_policy(Profile.APP_STORAGE, NAME)["Statement"], statement]}


class TestServedThroughCloudFront:
    """publicAccess: cloudfront: public only through the stack's distribution, for exactly pub/*."""

    def test_the_declared_tenant_breaks_no_rule_and_needs_no_kms(self):
        assert [(rule.name, v.message) for rule, v in evaluate(served_through_cloudfront())] == []

    def test_the_service_principals_are_the_ones_the_program_grants(self):
        assert CLOUDFRONT_SERVICE == public_access.CLOUDFRONT_SERVICE
        assert LOG_DELIVERY_SERVICE == policies.LOG_DELIVERY_SERVICE

    @pytest.mark.parametrize(
        "principal",
        [
            {"Service": "lambda.amazonaws.com"},
            {"Service": [CLOUDFRONT_SERVICE, "lambda.amazonaws.com"]},
            {"AWS": "arn:aws:iam::999999999999:root"},
            {"Service": CLOUDFRONT_SERVICE, "AWS": "arn:aws:iam::999999999999:root"},
            {"Federated": "cognito-identity.amazonaws.com"},
        ],
    )
    def test_a_principal_nobody_listed_is_refused(self, principal):
        resources = served_through_cloudfront(with_statement(cloudfront_statement(Principal=principal)))
        [found] = violations(resources, "bucket-policy-principals-known")
        assert "a principal other than anyone's pub/ reads, S3's log delivery or CloudFront" in found

    def test_not_principal_is_refused(self):
        statement = {key: value for key, value in cloudfront_statement().items() if key != "Principal"}
        resources = served_through_cloudfront(with_statement({**statement, "NotPrincipal": {"AWS": "*"}}))
        assert len(violations(resources, "bucket-policy-principals-known")) == 1

    def test_the_access_log_buckets_delivery_statement_is_known(self):
        name = "fusion-rms--access-logs-222222222222-us-east-1"
        document = policies.access_log_bucket_policy(name, "222222222222", "fusion-rms")
        logs = resource(BUCKET_POLICY, "log-policy", {"bucket": name, "policy": json.dumps(document)})
        assert violations([*good_tenant(), logs], "bucket-policy-principals-known") == []

    @pytest.mark.parametrize(
        ("hostile", "expected"),
        [
            ({"Action": ["s3:GetObject", "s3:ListBucket"]}, "may only s3:GetObject on pub/*"),
            ({"Action": "s3:*"}, "may only s3:GetObject on pub/*"),
            ({"Resource": f"arn:aws:s3:::{NAME}/*"}, "may only s3:GetObject on pub/*"),
            ({"Condition": {}}, "exactly one distribution"),
            ({"Condition": {"StringLike": {"aws:SourceArn": "arn:aws:cloudfront::*:distribution/*"}}}, "exactly one"),
            (
                {"Condition": {"StringEquals": {"aws:SourceArn": [DISTRIBUTION_ARN, DISTRIBUTION_ARN[:-1] + "F"]}}},
                "one",
            ),
            ({"Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}}, "exactly one distribution"),
        ],
    )
    def test_a_wider_cloudfront_statement_is_refused(self, hostile, expected):
        resources = served_through_cloudfront(with_statement(cloudfront_statement(**hostile)))
        [found] = violations(resources, "cloudfront-reads-pub-for-one-distribution")
        assert expected in found

    def test_another_distribution_than_the_stacks_is_refused(self):
        other = "arn:aws:cloudfront::999999999999:distribution/EOTHERTEAM"
        resources = served_through_cloudfront(
            with_statement(cloudfront_statement(Condition={"StringEquals": {"aws:SourceArn": other}}))
        )
        assert violations(resources, "public-only-through-the-stacks-distribution") == [
            f"bucket {NAME} lets CloudFront read it for {other}, a distribution the stack does not declare"
        ]

    def test_a_private_profiles_bucket_served_through_cloudfront_is_refused(self):
        resources = without(served_through_cloudfront(), "pub-folder")
        assert violations(resources, "public-only-through-the-stacks-distribution") == [
            f"bucket {NAME} is served publicly but has no pub/ folder: a private profile's"
        ]

    def test_a_bucket_served_through_cloudfront_is_exempt_from_sse_kms_like_any_public_one(self):
        assert violations(served_through_cloudfront(), "private-buckets-sse-kms") == []
        private = without(served_through_cloudfront(bucket_policy(Profile.APP_STORAGE, NAME)), "pub-folder")
        assert violations(private, "private-buckets-sse-kms") == [
            f"private bucket {NAME} is not encrypted with SSE-KMS and a bucket key"
        ]


class TestBucketNameConvention:
    def test_a_name_without_the_org_id_is_reported(self):
        resources = replaced(good_tenant(), "bucket", props={"bucket": "my-bucket", "tags": TAGS})
        assert violations(resources, "bucket-name-convention") == [
            "bucket 'my-bucket' is not named <prefix>-xmsqa1[-<8 hex digits> | -<account>-<region>-an]"
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
            "Statement": bucket_policy(Profile.MEDIA_GALLERY, NAME)["Statement"][2:],
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
        resources = replaced(good_tenant(), "group-policy", props={"group": "g", "policy": json.dumps(document)})
        assert any(message in found for found in violations(resources, "user-policy-least-privilege"))

    def test_a_group_may_not_name_a_bucket_even_beside_it(self):
        document = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{NAME}/*"}]}
        resources = replaced(
            good_tenant(), "group-policy", props={"group": "g", "policy": json.dumps(document)}, parent=PARENT
        )
        assert violations(resources, "user-policy-least-privilege") == [
            f"policy names 'arn:aws:s3:::{NAME}/*': a grant names a tenant's bucket only through its TenantBucket tag"
        ]

    @pytest.mark.parametrize(
        ("statement", "message"),
        [
            ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}, "only through S3 (kms:ViaService)"),
            (
                {
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
                },
                "use '*': only the stack's KMS key",
            ),
        ],
    )
    def test_the_key_is_usable_only_through_s3(self, statement, message):
        document = {"Statement": [statement]}
        resources = replaced(good_tenant(), "group-policy", props={"group": "g", "policy": json.dumps(document)})
        assert any(message in found for found in violations(resources, "user-policy-least-privilege"))

    def test_a_china_partition_grant_through_the_tag_is_fine_and_one_naming_a_bucket_is_not(self):
        from tenant_storage.policies import effective_policy
        from tenant_storage.regions import CHINA

        tagged = json.dumps(group_policy(Profile.APP_STORAGE, CHINA))
        assert (
            violations(
                replaced(good_tenant(), "group-policy", props={"group": "g", "policy": tagged}),
                "user-policy-least-privilege",
            )
            == []
        )
        # The same grant resolved for one bucket (as a hand-written user policy would be) names it directly.
        named = json.dumps(effective_policy(group_policy(Profile.APP_STORAGE, CHINA), {"TenantBucket": NAME}))
        [found, *_] = violations(
            [*good_tenant(), resource(USER_POLICY, "user-policy", {"user": "u", "policy": named})],
            "user-policy-least-privilege",
        )
        assert f"names 'arn:aws-cn:s3:::{NAME}'" in found


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
            "Bucket bucket of a production-class stack is not protected"
        ]
        protected = replaced(resources, "bucket", protect=True)
        assert violations(protected, "production-buckets-protected") == []


class TestTheProgramAgainstThePack:
    def test_what_the_program_declares_breaks_no_rule_but_asks_to_finish_a_rotation(self, stack_run):
        import datetime

        from policy.tenant_storage_rules import RuleOptions
        from review.plan import policy_violations

        found = policy_violations(stack_run.registrations, RuleOptions(today=datetime.date(2026, 11, 29)))
        assert [v for v in found if v.enforcement == "mandatory"] == []
        # The fixture's acme-dev holds two keys, the older labelled 2026-05: both hygiene advisories.
        assert sorted((v.rule, v.urn.rsplit("::", 1)[-1]) for v in found) == (
            [
                ("access-key-hygiene", "acme-dev-access-key-2026-05"),
                ("access-key-hygiene", "acme-dev-access-key-2026-11"),
            ]
            if stack_run.stack == "qa"
            else []
        )

    def test_the_offline_plan_reports_a_broken_mandatory_rule_and_fails(self, project, capsys, monkeypatch):
        """No input can unprotect a production bucket any more, so the program is broken on purpose here."""
        from cli.main import main
        from tenant_storage.stacks import StackSettings

        monkeypatch.setattr(StackSettings, "protects", lambda _settings, _tenant: False)
        assert main(["plan", "--stack", "prod"], project_dir=project) == 1
        out = capsys.readouterr().out
        assert "policy pack: 4 mandatory findings" in out
        assert (
            "MANDATORY production-buckets-protected: acme: Bucket acme-bucket of a production-class stack "
            "is not protected" in out
        )


class TestCrossGuardWiring:
    def test_a_rule_that_judges_one_resource_runs_before_its_step_and_the_others_on_the_stack(self):
        from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

        from policy.crossguard import policies

        by_name = {policy.name: policy for policy in policies()}
        assert set(by_name) == set(RULE_BY_NAME)
        kinds = {"resource": ResourceValidationPolicy, "stack": StackValidationPolicy}
        for rule in RULES:
            assert isinstance(by_name[rule.name], kinds[rule.scope]), rule.name
        assert isinstance(by_name["user-policy-least-privilege"], ResourceValidationPolicy)
        assert by_name["bucket-guard-rails"].enforcement_level is EnforcementLevel.MANDATORY
        assert by_name["org-id-tags"].enforcement_level is EnforcementLevel.ADVISORY

    def test_a_validation_reports_what_the_rule_finds_on_crossguard_resources(self):
        from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

        from policy.crossguard import policies

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

        args = StackValidationArgs([policy_resource(view) for view in without(good_tenant(), "logging")])
        reports = []
        [logging] = [p for p in policies() if p.name == "access-logging"]
        logging.validate(args, lambda message, urn=None: reports.append((message, urn)))
        assert reports == [(f"bucket {NAME} has no server access logging", "urn:bucket")]


class TestComplianceControls:
    def test_a_policy_attached_to_a_user_is_reported(self):
        document = json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{NAME}/*"}]}
        )
        resources = [*good_tenant(), resource(USER_POLICY, "user-policy", {"user": "rms_xmsqa1", "policy": document})]
        assert violations(resources, "no-user-attached-policies") == [
            "UserPolicy user-policy attaches a policy to a user: grant through a group"
        ]

    @pytest.mark.parametrize("owner", ["inline-policies", "policy-attachments"])
    def test_a_user_without_exclusive_ownership_of_its_grants_is_reported(self, owner):
        [found] = violations(without(good_tenant(), owner), "user-grants-exclusive")
        assert "a grant added by hand would linger" in found

    def test_exclusive_ownership_that_keeps_a_policy_is_reported(self):
        resources = replaced(good_tenant(), "inline-policies", props={"userName": "rms_xmsqa1", "policyNames": ["x"]})
        assert violations(resources, "no-user-attached-policies") == [
            "inline-policies keeps ['x'] on the user: it must keep nothing"
        ]

    def test_a_bucket_without_access_logging_is_reported(self):
        assert violations(without(good_tenant(), "logging"), "access-logging") == [
            f"bucket {NAME} has no server access logging"
        ]

    def test_the_access_log_bucket_itself_needs_no_logging(self):
        name = "fusion-rms--access-logs-222222222222-us-east-1"
        logs = resource(BUCKET, "logs", {"bucket": name, "tags": {"Purpose": "access-logs"}})
        assert violations([*good_tenant(), logs], "access-logging") == []

    def test_a_tenant_bucket_tagged_as_the_log_bucket_is_still_checked(self):
        resources = replaced(
            without(good_tenant(), "logging"),
            "bucket",
            props={"bucket": NAME, "tags": {**TAGS, "Purpose": "access-logs"}},
        )
        assert violations(resources, "access-logging") == [f"bucket {NAME} has no server access logging"]

    def test_a_private_bucket_on_sse_s3_is_reported(self):
        sse_s3 = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
        assert violations(private_tenant(sse_s3), "private-buckets-sse-kms") == [
            f"private bucket {NAME} is not encrypted with SSE-KMS and a bucket key"
        ]

    def test_a_private_bucket_on_sse_kms_with_a_bucket_key_passes(self):
        sse_kms = {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
            "bucketKeyEnabled": True,
        }
        assert violations(private_tenant(sse_kms), "private-buckets-sse-kms") == []

    def test_a_stack_that_chose_sse_s3_gets_an_advisory_instead(self):
        sse_s3 = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
        tenant = replaced(
            private_tenant(sse_s3), "bucket", props={"bucket": NAME, "tags": {**TAGS, "PrivateEncryption": "sse-s3"}}
        )
        assert violations(tenant, "private-buckets-sse-kms") == []
        assert violations(tenant, "private-buckets-sse-s3-by-choice") != []

    def test_a_policy_without_the_tls_1_2_deny_is_reported(self):
        document = bucket_policy(Profile.MEDIA_GALLERY, NAME)
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyOutdatedTls"]
        resources = replaced(good_tenant(), "policy", props={"bucket": NAME, "policy": json.dumps(document)})
        assert violations(resources, "tls-1-2-minimum") == [
            f"bucket {NAME} has no bucket policy denying TLS older than 1.2"
        ]


class TestKeyHygiene:
    def keys(self, *labels: str) -> list[ResourceView]:
        return [resource(ACCESS_KEY, f"xmsqa1-access-key-{label}", {"user": "rms_xmsqa1"}) for label in labels]

    def test_two_keys_on_one_user_ask_to_finish_the_rotation(self):
        [found] = RULE_BY_NAME["access-key-hygiene"].violations(self.keys("a", "b"))
        assert found.message == "2 access keys on one user: finish the rotation by removing the old label"

    def test_a_dated_label_older_than_the_limit_asks_for_rotation(self):
        import datetime

        from policy.tenant_storage_rules import RuleOptions

        options = RuleOptions(today=datetime.date(2026, 11, 29), max_key_age_days=90)
        [found] = RULE_BY_NAME["access-key-hygiene"].violations(self.keys("2026-05"), options)
        assert found.message == "access key xmsqa1-access-key-2026-05 is 212 days old (over 90): rotate it"
        assert RULE_BY_NAME["access-key-hygiene"].violations(self.keys("2026-11-01"), options) == []
        assert RULE_BY_NAME["access-key-hygiene"].violations(self.keys("initial"), options) == []


class TestGrantsCannotReachAroundTheProfiles:
    def test_not_action_is_refused(self):
        statement = {
            "Effect": "Allow",
            "NotAction": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::${aws:PrincipalTag/TenantBucket}",
        }
        resources = replaced(
            good_tenant(), "group-policy", props={"group": "g", "policy": json.dumps({"Statement": [statement]})}
        )
        assert violations(resources, "user-policy-least-privilege") == [
            "policy uses NotAction or NotResource: grant by listing, never by exclusion"
        ]

    @pytest.mark.parametrize(
        "extra",
        [
            (
                "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
                {"group": "g", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            ),
            ("aws:iam/userGroupMembership:UserGroupMembership", {"user": "rms_xmsqa1", "groups": ["admins"]}),
            (
                "aws:iam/policyAttachment:PolicyAttachment",
                {"groups": ["g"], "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            ),
        ],
    )
    def test_other_ways_to_grant_are_refused(self, extra):
        resource_type, props = extra
        found = violations([*good_tenant(), resource(resource_type, "extra", props)], "no-user-attached-policies")
        assert len(found) == 1

    def test_a_user_tagged_for_another_bucket_is_refused(self):
        resources = replaced(
            good_tenant(), "user", props={"name": "rms_xmsqa1", "tags": {**TAGS, "TenantBucket": "fusion-rms-acme"}}
        )
        assert violations(resources, "user-grants-exclusive") == [
            "user user is tagged for bucket 'fusion-rms-acme', which is not its own"
        ]

    def test_extra_kms_actions_are_refused(self):
        statement = {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:CreateGrant"],
            "Resource": KEY_ARN,
            "Condition": {"StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]}},
        }
        resources = replaced(
            good_tenant(), "group-policy", props={"group": "g", "policy": json.dumps({"Statement": [statement]})}
        )
        assert violations(resources, "user-policy-least-privilege") == [
            "policy grants 'kms:CreateGrant': a tenant needs only kms:Decrypt and kms:GenerateDataKey"
        ]


def test_a_bucket_policy_without_its_tls_statements_is_refused_on_its_own_before_its_step():
    """A suffixed tenant's policy is unknown in a preview; at `up` the resource rule judges it alone."""
    document = bucket_policy(Profile.APP_STORAGE, NAME)
    document["Statement"] = [s for s in document["Statement"] if "Condition" not in s]
    policy = resource(BUCKET_POLICY, "policy", {"bucket": NAME, "policy": json.dumps(document)})
    rule = RULE_BY_NAME["bucket-policy-requires-tls"]
    assert rule.scope == "resource"
    assert [v.message for v in rule.violations([policy])] == [
        "the bucket policy does not deny requests without TLS (aws:SecureTransport false)",
        "the bucket policy does not deny TLS older than 1.2 (s3:TlsVersion)",
    ]
    assert rule.violations(good_tenant()) == []
