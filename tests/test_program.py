"""The real __main__.py, run per stack with that stack's own config file, under the mock monitor."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from mock_runtime.runner import ProgramRun
from tenant_storage.policies import effective_policy
from tests.conftest import (
    ACCESS_KEY,
    BUCKET,
    BUCKET_POLICY,
    COMPONENT,
    ENCRYPTION,
    GROUP,
    GROUP_ATTACHMENTS_EXCLUSIVE,
    GROUP_MEMBERSHIP,
    GROUP_POLICIES_EXCLUSIVE,
    GROUP_POLICY,
    KMS_KEY,
    LIFECYCLE,
    LOGGING,
    OBJECT,
    OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    RANDOM_ID,
    STACK_ACCOUNTS,
    STACK_COMPONENT,
    USER,
    USER_POLICIES_EXCLUSIVE,
    USER_POLICY,
    USER_POLICY_ATTACHMENTS_EXCLUSIVE,
    VERSIONING,
    assert_refused,
    child,
    children,
    deployed_org_ids,
    fixture_project,
    policy_of,
    replace_in,
    run_stack,
    with_settings,
)

QA_TENANTS = {
    "xmsqa1": "media-gallery",
    "xmsqa2": "app-storage",
    "acme-dev": "upload-only",
    "tradeshow-demo": "media-gallery",
}
PROD_TENANTS = {
    "acme": "media-gallery",
    "acme-orders": "upload-only",
    "globex": "app-storage",
    "acme-staging": "media-gallery",
}
TAGS = {"ManagedBy": "pulumi"}


class TestStackRouting:
    def test_qa_deploys_exactly_the_qa_development_and_demo_tenants(self, qa_run):
        assert deployed_org_ids(qa_run) == set(QA_TENANTS)

    def test_prod_deploys_exactly_the_production_and_staging_tenants(self, prod_run):
        assert deployed_org_ids(prod_run) == set(PROD_TENANTS)

    def test_the_caller_identity_is_asked_once(self, stack_run):
        assert [call.token for call in stack_run.mocks.calls] == ["aws:index/getCallerIdentity:getCallerIdentity"]


class TestComponentShape:
    def test_each_tenant_is_one_component_whose_resources_are_its_children(self, stack_run):
        components = [*stack_run.by_type(COMPONENT), *stack_run.by_type(STACK_COMPONENT)]
        assert all(
            component.parent.endswith("::pulumi:pulumi:Stack::tenant-storage-" + stack_run.stack)
            for component in components
        )
        component_urns = {component.urn for component in components}
        assert all(r.parent in component_urns for r in stack_run.registrations if r not in components)

    def test_no_tenant_has_more_than_14_resources(self, stack_run):
        for component in stack_run.by_type(COMPONENT):
            assert len(stack_run.children_of(component.urn)) <= 14, component.name

    def test_each_component_registers_its_outputs(self, stack_run):
        for component in stack_run.by_type(COMPONENT):
            outputs = stack_run.registered_outputs[component.urn]
            assert set(outputs) >= {"bucketName", "bucketArn", "iamUserName", "accessKeyIds", "secretAccessKeys"}


class TestBucket:
    def test_the_bucket_is_named_prefix_dash_org_id(self, qa_run):
        assert child(qa_run, "xmsqa1", BUCKET).inputs["bucket"] == "fusion-rms-xmsqa1"

    def test_a_random_suffix_comes_from_a_random_resource_kept_in_state(self, qa_run):
        suffix = child(qa_run, "tradeshow-demo", RANDOM_ID)
        assert suffix.inputs["byteLength"] == 4
        assert suffix.inputs["keepers"] == {"orgId": "tradeshow-demo"}
        bucket = child(qa_run, "tradeshow-demo", BUCKET)
        assert re.fullmatch(r"fusion-rms-tradeshow-demo-[0-9a-f]{8}", bucket.inputs["bucket"])
        assert suffix.urn in bucket.dependencies
        assert children(qa_run, "xmsqa1", RANDOM_ID) == []

    def test_force_destroy_is_never_set(self, stack_run):
        buckets = stack_run.by_type(BUCKET)
        assert len(buckets) == 4 + 1  # and the access-log bucket
        assert all(not bucket.inputs.get("forceDestroy") for bucket in buckets)

    @pytest.mark.parametrize("resource_type", [BUCKET, USER, OBJECT])
    def test_taggable_resources_carry_org_id_environment_and_managed_by(self, qa_run, resource_type):
        environments = {"xmsqa1": "qa", "xmsqa2": "qa", "acme-dev": "development", "tradeshow-demo": "demo"}
        for registration in tenant_resources(qa_run, resource_type):
            org_id = registration.parent.rsplit("::", 1)[1]
            tags = dict(registration.inputs["tags"])
            if resource_type == USER:
                assert tags.pop("TenantBucket") == child(qa_run, org_id, BUCKET).inputs["bucket"]
            assert tags == {**TAGS, "OrgId": org_id, "Environment": environments[org_id]}


class TestBucketGuardRails:
    def test_acls_are_disabled(self, stack_run):
        for org_id in deployed_org_ids(stack_run):
            assert child(stack_run, org_id, OWNERSHIP).inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}

    def test_media_gallery_read_from_s3_opens_public_policy_while_every_other_bucket_blocks_everything(self, stack_run):
        """Private profiles, and a gallery served only through CloudFront (the fixture's acme-staging), keep all four
        public access block settings on."""
        tenants = QA_TENANTS if stack_run.stack == "qa" else PROD_TENANTS
        summaries = stack_run.outputs["tenants"].value
        served_by_cloudfront = {
            org for org, summary in summaries.items() if summary.get("publicAccess") == "cloudfront"
        }
        assert served_by_cloudfront == ({"acme-staging"} if stack_run.stack == "prod" else set())
        for org_id, profile in tenants.items():
            block = child(stack_run, org_id, PUBLIC_ACCESS_BLOCK).inputs
            public = profile == "media-gallery" and org_id not in served_by_cloudfront
            assert (block["blockPublicAcls"], block["ignorePublicAcls"]) == (True, True)
            assert (block["blockPublicPolicy"], block["restrictPublicBuckets"]) == (not public, not public)

    def test_media_gallery_uses_sse_s3_and_private_profiles_the_stack_key_with_a_bucket_key(self, stack_run):
        tenants = QA_TENANTS if stack_run.stack == "qa" else PROD_TENANTS
        for org_id, profile in tenants.items():
            [rule] = child(stack_run, org_id, ENCRYPTION).inputs["rules"]
            if profile == "media-gallery":
                assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
            else:
                assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
                assert ":kms:" in rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
                assert rule["bucketKeyEnabled"] is True

    def test_the_stack_key_rotates(self, stack_run):
        [key] = stack_run.by_type(KMS_KEY)
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30

    def test_the_stack_key_has_its_own_policy_for_the_callers_account(self, stack_run):
        """Not KMS's default policy (checkov CKV2_AWS_64): the caller's account, the stack's region."""
        from tenant_storage.policies import kms_key_policy

        [key] = stack_run.by_type(KMS_KEY)
        account = STACK_ACCOUNTS[stack_run.stack]
        assert json.loads(key.inputs["policy"]) == kms_key_policy(account, "us-east-1")

    def test_the_key_administrator_setting_names_the_deploy_role_in_the_keys_policy(self):
        role = "arn:aws:iam::222222222222:role/github-deploy"
        run = run_stack("qa", config={"tenant-storage:keyAdministratorArn": role})
        assert run.error is None, run.error
        [key] = run.by_type(KMS_KEY)
        principals = [s["Principal"] for s in json.loads(key.inputs["policy"])["Statement"]]
        assert {"AWS": role} in principals

    def test_a_stack_may_choose_sse_s3_for_private_buckets_and_says_so_on_them(self):
        run = run_stack("qa", config={"tenant-storage:privateBucketEncryption": "sse-s3"})
        assert run.error is None, run.error
        assert run.by_type(KMS_KEY) == []
        [rule] = child(run, "xmsqa2", ENCRYPTION).inputs["rules"]
        assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
        assert child(run, "xmsqa2", BUCKET).inputs["tags"]["PrivateEncryption"] == "sse-s3"
        assert "PrivateEncryption" not in child(run, "xmsqa1", BUCKET).inputs["tags"]

    def test_every_tenant_bucket_logs_to_the_stacks_access_log_bucket_under_its_own_prefix(self, stack_run):
        [log_bucket] = [b for b in stack_run.by_type(BUCKET) if b.inputs["tags"].get("Purpose") == "access-logs"]
        account = STACK_ACCOUNTS[stack_run.stack]
        assert log_bucket.inputs["bucket"] == f"fusion-rms--access-logs-{account}-us-east-1"
        for org_id in deployed_org_ids(stack_run):
            logging = child(stack_run, org_id, LOGGING).inputs
            assert (logging["bucket"], logging["targetBucket"], logging["targetPrefix"]) == (
                child(stack_run, org_id, BUCKET).inputs["bucket"],
                log_bucket.inputs["bucket"],
                f"{org_id}/",
            )

    def test_versioning_is_enabled(self, stack_run):
        for org_id in deployed_org_ids(stack_run):
            assert child(stack_run, org_id, VERSIONING).inputs["versioningConfiguration"] == {"status": "Enabled"}

    def test_lifecycle_expires_noncurrent_versions_after_30_days_and_aborts_uploads_after_7(self, qa_run):
        rules = {rule["id"]: rule for rule in child(qa_run, "xmsqa1", LIFECYCLE).inputs["rules"]}
        assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
        assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
            "daysAfterInitiation": 7
        }
        assert all(rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""} for rule in rules.values())

    def test_the_noncurrent_version_expiry_is_stack_config(self):
        run = run_stack("qa", config={"tenant-storage:noncurrentVersionExpirationDays": "90"})
        rules = {rule["id"]: rule for rule in child(run, "xmsqa1", LIFECYCLE).inputs["rules"]}
        assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}

    def test_the_bucket_prefix_is_stack_config(self):
        run = run_stack("qa", config={"tenant-storage:bucketPrefix": "pos-media"})
        assert child(run, "xmsqa1", BUCKET).inputs["bucket"] == "pos-media-xmsqa1"


class TestBucketPolicy:
    def test_media_gallery_denies_plain_http_and_old_tls_and_lets_anyone_read_pub_only(self, qa_run):
        statements = policy_of(child(qa_run, "xmsqa1", BUCKET_POLICY))["Statement"]
        assert statements[0]["Effect"] == "Deny"
        assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statements[1]["Effect"] == "Deny"
        assert statements[1]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
        assert statements[2] == {
            "Sid": "PublicReadOfPubFolder",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::fusion-rms-xmsqa1/pub/*",
        }

    def test_private_profiles_grant_nothing_to_anyone(self, qa_run):
        for org_id in ("xmsqa2", "acme-dev"):
            statements = policy_of(child(qa_run, org_id, BUCKET_POLICY))["Statement"]
            assert [statement["Effect"] for statement in statements] == ["Deny", "Deny"]

    def test_the_policy_names_the_suffixed_bucket(self, qa_run):
        bucket_name = child(qa_run, "tradeshow-demo", BUCKET).inputs["bucket"]
        statements = policy_of(child(qa_run, "tradeshow-demo", BUCKET_POLICY))["Statement"]
        assert statements[2]["Resource"] == f"arn:aws:s3:::{bucket_name}/pub/*"

    def test_the_policy_waits_for_the_public_access_block_and_ownership_controls(self, stack_run):
        for org_id in deployed_org_ids(stack_run):
            dependencies = child(stack_run, org_id, BUCKET_POLICY).dependencies
            assert child(stack_run, org_id, PUBLIC_ACCESS_BLOCK).urn in dependencies
            assert child(stack_run, org_id, OWNERSHIP).urn in dependencies

    def test_the_public_access_block_waits_for_ownership_controls(self, stack_run):
        for org_id in deployed_org_ids(stack_run):
            assert child(stack_run, org_id, OWNERSHIP).urn in child(stack_run, org_id, PUBLIC_ACCESS_BLOCK).dependencies


class TestPubFolder:
    def test_media_gallery_gets_an_empty_pub_folder_object(self, qa_run):
        folder = child(qa_run, "xmsqa1", OBJECT).inputs
        assert (folder["key"], folder["content"], folder["bucket"]) == ("pub/", "", "fusion-rms-xmsqa1")
        assert folder["serverSideEncryption"] == "AES256"

    def test_private_profiles_get_no_objects(self, qa_run):
        assert children(qa_run, "xmsqa2", OBJECT) == []
        assert children(qa_run, "acme-dev", OBJECT) == []


class TestIamUser:
    def test_the_user_is_named_rms_org_id(self, stack_run):
        for org_id in deployed_org_ids(stack_run):
            assert child(stack_run, org_id, USER).inputs["name"] == f"rms_{org_id}"

    @pytest.mark.parametrize(
        ("org_id", "bucket_actions", "object_actions"),
        [
            ("xmsqa1", ["s3:ListBucket"], ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
            ("xmsqa2", ["s3:ListBucket", "s3:GetBucketLocation"], ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
            ("acme-dev", None, ["s3:PutObject"]),
        ],
    )
    def test_the_profile_group_grants_exactly_the_profiles_actions_on_the_users_own_bucket(
        self, qa_run, org_id, bucket_actions, object_actions
    ):
        """What the user may do: its group's policy with `${aws:PrincipalTag/...}` substituted, as AWS does."""
        profile = QA_TENANTS[org_id]
        user = child(qa_run, org_id, USER)
        [group_policy] = [
            p for p in qa_run.by_type(GROUP_POLICY) if p.inputs["group"] == f"tenant-storage-qa-{profile}"
        ]
        [membership] = [
            m for m in qa_run.by_type(GROUP_MEMBERSHIP) if m.inputs["group"] == group_policy.inputs["group"]
        ]
        assert user.inputs["name"] in membership.inputs["users"]
        statements = effective_policy(policy_of(group_policy), user.inputs["tags"])["Statement"]
        expected = [
            {
                "Sid": "TenantObjects",
                "Effect": "Allow",
                "Action": object_actions,
                "Resource": f"arn:aws:s3:::fusion-rms-{org_id}/*",
            }
        ]
        if bucket_actions:
            expected.insert(
                0,
                {
                    "Sid": "TenantBucket",
                    "Effect": "Allow",
                    "Action": bucket_actions,
                    "Resource": f"arn:aws:s3:::fusion-rms-{org_id}",
                },
            )
        s3_statements = [statement for statement in statements if statement["Sid"] != "TenantBucketKeyThroughS3"]
        assert s3_statements == expected
        kms = [statement for statement in statements if statement["Sid"] == "TenantBucketKeyThroughS3"]
        assert len(kms) == (0 if profile == "media-gallery" else 1)

    def test_no_policy_is_attached_to_a_user_and_nothing_attached_by_hand_lingers(self, stack_run):
        assert stack_run.by_type(USER_POLICY) == []
        for org_id in deployed_org_ids(stack_run):
            user = child(stack_run, org_id, USER).inputs["name"]
            assert child(stack_run, org_id, USER_POLICIES_EXCLUSIVE).inputs == {"userName": user, "policyNames": []}
            assert child(stack_run, org_id, USER_POLICY_ATTACHMENTS_EXCLUSIVE).inputs == {
                "userName": user,
                "policyArns": [],
            }

    def test_a_users_grants_are_made_exclusive_only_after_its_group_grants_exist(self, stack_run):
        """Migration without downtime: the old inline policy goes only once the group grants are in place."""
        tenants = QA_TENANTS if stack_run.stack == "qa" else PROD_TENANTS
        for org_id, profile in tenants.items():
            group = f"tenant-storage-{stack_run.stack}-{profile}"
            [group_policy] = [p for p in stack_run.by_type(GROUP_POLICY) if p.inputs["group"] == group]
            [membership] = [m for m in stack_run.by_type(GROUP_MEMBERSHIP) if m.inputs["group"] == group]
            for resource_type in (USER_POLICIES_EXCLUSIVE, USER_POLICY_ATTACHMENTS_EXCLUSIVE):
                dependencies = child(stack_run, org_id, resource_type).dependencies
                assert group_policy.urn in dependencies
                assert membership.urn in dependencies

    def test_private_buckets_move_to_the_stack_key_only_after_their_users_group_grants_exist(self, stack_run):
        tenants = QA_TENANTS if stack_run.stack == "qa" else PROD_TENANTS
        for org_id, profile in tenants.items():
            if profile == "media-gallery":
                continue
            group = f"tenant-storage-{stack_run.stack}-{profile}"
            [membership] = [m for m in stack_run.by_type(GROUP_MEMBERSHIP) if m.inputs["group"] == group]
            assert membership.urn in child(stack_run, org_id, ENCRYPTION).dependencies

    def test_the_groups_own_their_policies_exclusively_too(self, stack_run):
        inline = {r.inputs["groupName"]: r.inputs["policyNames"] for r in stack_run.by_type(GROUP_POLICIES_EXCLUSIVE)}
        attached = {
            r.inputs["groupName"]: r.inputs["policyArns"] for r in stack_run.by_type(GROUP_ATTACHMENTS_EXCLUSIVE)
        }
        groups = {g.inputs["name"] for g in stack_run.by_type(GROUP)}
        assert inline == {group: ["tenant-bucket-access"] for group in groups}
        assert attached == {group: [] for group in groups}

    def test_three_groups_per_stack_whatever_the_number_of_tenants(self, stack_run):
        groups = sorted(g.inputs["name"] for g in stack_run.by_type(GROUP))
        assert groups == [
            f"tenant-storage-{stack_run.stack}-{p}" for p in ("app-storage", "media-gallery", "upload-only")
        ]

    def test_the_bucket_policy_never_names_the_user(self, stack_run):
        for policy in stack_run.by_type(BUCKET_POLICY):
            assert "arn:aws:iam" not in policy.inputs["policy"]


class TestOutputs:
    def test_the_tenants_map_is_readable_without_show_secrets(self, stack_run):
        assert stack_run.outputs["tenants"].secret is False

    def test_the_tenants_map_describes_each_tenant(self, qa_run):
        tenants = qa_run.outputs["tenants"].value
        assert set(tenants) == set(QA_TENANTS)
        xmsqa1 = dict(tenants["xmsqa1"])
        key_id = xmsqa1.pop("accessKeyId")
        assert key_id.startswith("MOCKKEY")
        assert xmsqa1.pop("accessKeyIds") == {"initial": key_id}
        assert xmsqa1 == {
            "bucketName": "fusion-rms-xmsqa1",
            "bucketArn": "arn:aws:s3:::fusion-rms-xmsqa1",
            "region": "us-east-1",
            "publicBaseUrl": "https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/",
            "iamUserName": "rms_xmsqa1",
            "iamUserArn": "arn:aws:iam::222222222222:user/rms_xmsqa1",
            "profile": "media-gallery",
            "environment": "qa",
            "bucketNamespace": "global",
            "publicAccess": "bucket-policy",
        }
        assert "publicBaseUrl" not in tenants["xmsqa2"]
        assert "publicAccess" not in tenants["xmsqa2"]

    def test_each_access_key_secret_is_exported_only_as_a_secret(self, stack_run):
        secrets = stack_run.outputs["secretAccessKeys"]
        assert secrets.secret is True
        assert set(secrets.value) == deployed_org_ids(stack_run)
        assert {org: set(by_label) for org, by_label in secrets.value.items()} == {
            org: set(labels_of(org)) for org in deployed_org_ids(stack_run)
        }
        readable = json.dumps(stack_run.outputs["tenants"].value)
        assert all(secret not in readable for by_label in secrets.value.values() for secret in by_label.values())

    def test_each_user_has_one_access_key_per_label(self, stack_run):
        for org_id in deployed_org_ids(stack_run):
            keys = children(stack_run, org_id, ACCESS_KEY)
            assert len(keys) == len(labels_of(org_id))
            assert {key.inputs["user"] for key in keys} == {f"rms_{org_id}"}

    def test_the_component_keeps_its_secret_output_secret(self, stack_run):
        for component in stack_run.by_type(COMPONENT):
            secrets = stack_run.registered_outputs[component.urn]["secretAccessKeys"]
            assert secrets[rpc._special_sig_key] == rpc._special_secret_sig
            assert set(secrets["value"]) == set(labels_of(component.name))


def labels_of(org_id: str) -> tuple[str, ...]:
    """The fixture registry's access key labels of a tenant."""
    return ("2026-05", "2026-11") if org_id == "acme-dev" else ("initial",)


class TestSecretConfig:
    def test_an_encrypted_provider_credential_is_refused_by_name(self, project):
        """Credentials in the stack file would sign the deploy's calls instead of the job's role: refused, even
        encrypted, and nothing is registered."""
        replace_in("Pulumi.qa.yaml", "config:\n", "config:\n  aws:secretKey:\n    secure: AAABAMockCiphertext\n")(
            project
        )
        assert_refused(
            run_stack("qa", project), ["Pulumi.qa.yaml:3 field 'aws:secretKey': refused: this provider setting"]
        )

    def test_an_accepted_setting_passed_as_a_secret_is_refused(self, project):
        assert_refused(
            run_stack("qa", project, secret_keys=frozenset({"aws:region"})),
            ["Pulumi.qa.yaml:3 field 'aws:region': passed by the Pulumi engine as an encrypted secret"],
        )


class TestPartitions:
    def test_a_china_region_gets_aws_cn_arns_and_china_endpoints(self):
        run = run_stack("qa", config={"aws:region": "cn-north-1"})
        assert run.error is None, run.error
        user_policy = effective_policy(
            policy_of(group_policy_of(run, "media-gallery")), child(run, "xmsqa1", USER).inputs["tags"]
        )
        assert {statement["Resource"].split(":")[1] for statement in user_policy["Statement"]} == {"aws-cn"}
        bucket_policy = policy_of(child(run, "xmsqa1", BUCKET_POLICY))
        assert all(
            arn.startswith("arn:aws-cn:s3:::") for s in bucket_policy["Statement"] for arn in _list(s["Resource"])
        )
        summary = run.outputs["tenants"].value["xmsqa1"]
        assert summary["publicBaseUrl"] == "https://fusion-rms-xmsqa1.s3.cn-north-1.amazonaws.com.cn/pub/"

    def test_govcloud_gets_aws_us_gov_arns(self):
        run = run_stack("qa", config={"aws:region": "us-gov-west-1"})
        assert run.error is None, run.error
        assert policy_of(group_policy_of(run, "app-storage"))["Statement"][0]["Resource"].startswith(
            "arn:aws-us-gov:s3"
        )

    def test_the_european_sovereign_cloud_gets_aws_eusc_arns_and_its_dns_suffix(self):
        """aws-eusc comes from botocore's partition data like every partition: no table here knows it."""
        run = run_stack("qa", config={"aws:region": "eusc-de-east-1"})
        assert run.error is None, run.error
        statements = policy_of(group_policy_of(run, "app-storage"))["Statement"]
        resources = [arn for statement in statements for arn in _list(statement["Resource"])]
        assert {arn.split(":")[1] for arn in resources} == {"aws-eusc"}
        via = {s["Condition"]["StringEquals"]["kms:ViaService"] for s in statements if "Condition" in s}
        assert via == {"s3.eusc-de-east-1.amazonaws.eu"}
        summary = run.outputs["tenants"].value["xmsqa1"]
        assert summary["publicBaseUrl"] == "https://fusion-rms-xmsqa1.s3.eusc-de-east-1.amazonaws.eu/pub/"
        [key] = run.by_type("aws:kms/key:Key")
        assert all(
            principal.startswith("arn:aws-eusc:iam::")
            for statement in json.loads(key.inputs["policy"])["Statement"]
            for principal in _list(statement["Principal"]["AWS"])
        )


def group_policy_of(run, profile: str):
    [policy] = [p for p in run.by_type(GROUP_POLICY) if p.inputs["group"].endswith(f"-{profile}")]
    return policy


def tenant_resources(run, resource_type: str):
    components = {c.urn for c in run.by_type(COMPONENT)}
    return [r for r in run.by_type(resource_type) if r.parent in components]


def _list(value):
    return value if isinstance(value, list) else [value]


class TestDataSafety:
    def test_production_buckets_are_protected_and_retained_on_delete(self, prod_run):
        buckets = prod_run.by_type(BUCKET)
        assert buckets
        assert all(bucket.protect and bucket.retain_on_delete for bucket in buckets)

    def test_qa_buckets_are_neither_protected_nor_retained(self, qa_run):
        assert all(not r.protect and not r.retain_on_delete for r in qa_run.registrations)

    def test_production_protection_does_not_depend_on_the_setting(self):
        run = run_stack("prod", config={"tenant-storage:protectBuckets": None})
        assert run.error is None, run.error
        buckets = run.by_type(BUCKET)
        assert buckets
        assert all(bucket.protect and bucket.retain_on_delete for bucket in buckets)

    def test_the_setting_adds_protection_to_other_stacks(self):
        run = run_stack("qa", config={"tenant-storage:protectBuckets": True})
        assert run.error is None, run.error
        assert all(bucket.protect and bucket.retain_on_delete for bucket in run.by_type(BUCKET))

    def test_protection_is_on_the_buckets_and_the_key_not_inherited_by_everything(self, prod_run):
        protected = {r.type for r in prod_run.registrations if r.protect}
        # The distribution too: replacing it would change every tenant's public URL.
        assert protected == {BUCKET, KMS_KEY, "aws:cloudfront/distribution:Distribution"}
        assert all(r.retain_on_delete for r in prod_run.registrations if r.protect)


class TestAccountRegionalNamespace:
    """S3's account regional namespace: `<prefix>-<orgId>-<account>-<region>-an`, a name only the stack's
    account can create, declared with the Bucket's `bucket_namespace` input (pulumi-aws 7)."""

    @staticmethod
    def regional_run(project: Path) -> ProgramRun:
        # The suffixed demo tenant keeps its global name: a suffix and the namespace exclude each other.
        replace_in("tenants.yaml", "    randomSuffix: true\n", "    randomSuffix: true\n    bucketNamespace: global\n")(
            project
        )
        replace_in("Pulumi.qa.yaml", "config:\n", "config:\n  tenant-storage:bucketNamespace: account-regional\n")(
            project
        )
        run = run_stack("qa", project)
        assert run.error is None, run.error
        return run

    def test_every_profile_gets_a_name_in_the_stacks_account_and_region_with_the_namespace_set(self, project):
        run = self.regional_run(project)
        summaries = run.outputs["tenants"].value
        regional = {"xmsqa1": "media-gallery", "xmsqa2": "app-storage", "acme-dev": "upload-only"}
        for org_id, profile in regional.items():
            bucket = child(run, org_id, BUCKET).inputs
            assert bucket["bucket"] == f"fusion-rms-{org_id}-222222222222-us-east-1-an"
            assert bucket["bucketNamespace"] == "account-regional"
            assert (summaries[org_id]["profile"], summaries[org_id]["bucketNamespace"]) == (profile, "account-regional")
            policy = policy_of(child(run, org_id, BUCKET_POLICY))
            assert f"arn:aws:s3:::fusion-rms-{org_id}-222222222222-us-east-1-an/*" in json.dumps(policy)

    def test_a_tenant_may_keep_the_global_namespace_and_its_inputs_stay_as_they_were(self, project):
        run = self.regional_run(project)
        demo = child(run, "tradeshow-demo", BUCKET).inputs
        assert "bucketNamespace" not in demo
        assert run.outputs["tenants"].value["tradeshow-demo"]["bucketNamespace"] == "global"

    def test_a_global_stack_declares_no_namespace_input_so_nothing_existing_changes(self, qa_run):
        assert all("bucketNamespace" not in bucket.inputs for bucket in qa_run.by_type(BUCKET))

    def test_a_stack_in_the_namespace_has_its_access_log_bucket_there_too(self, project):
        run = self.regional_run(project)
        [log_bucket] = [bucket for bucket in run.by_type(BUCKET) if bucket.parent.endswith("::shared")]
        name = "fusion-rms--access-logs-222222222222-us-east-1-an"
        assert (log_bucket.name, log_bucket.inputs["bucket"]) == ("access-logs-an-bucket", name)
        assert log_bucket.inputs["bucketNamespace"] == "account-regional"
        assert {logging.inputs["targetBucket"] for logging in run.by_type(LOGGING)} == {name}
        assert run.outputs["accessLogBucket"].value == name
        assert "retainedAccessLogBucket" not in run.outputs

    def test_on_a_moto_server_only_the_stacks_account_can_create_the_declared_buckets(
        self, project, moto_server, monkeypatch
    ):
        """Each declared bucket is created as the provider would (its name, with the namespace header when the
        input is set), first by another account, which S3 refuses, then by the stack's. (moto does not refuse a
        `-an` name created without the header, which AWS does; the program never declares one so.)"""
        import boto3
        from botocore.exceptions import ClientError

        from tests.conftest import PROD_ACCOUNT, QA_ACCOUNT, reset_emulator, use_account

        buckets = [bucket.inputs for bucket in self.regional_run(project).by_type(BUCKET)]
        regional = [inputs for inputs in buckets if inputs.get("bucketNamespace") == "account-regional"]
        assert len(regional) == 4  # three tenants and the access-log bucket

        def signed_in(account: str) -> Any:
            use_account(monkeypatch, moto_server, account)
            return boto3.session.Session().client("s3", endpoint_url=moto_server, region_name="us-east-1")

        def create_all(account: str) -> list[str]:
            s3 = signed_in(account)
            refused = []
            for inputs in regional:
                try:
                    s3.create_bucket(Bucket=inputs["bucket"], BucketNamespace=inputs["bucketNamespace"])
                except ClientError as error:
                    refused.append(error.response["Error"]["Code"])
            return refused

        reset_emulator(moto_server)
        assert create_all(PROD_ACCOUNT) == ["InvalidNamespaceHeader"] * 4
        assert create_all(QA_ACCOUNT) == []
        listed = signed_in(QA_ACCOUNT).list_buckets()["Buckets"]
        assert {bucket["Name"] for bucket in listed} == {inputs["bucket"] for inputs in regional}

    def test_a_global_stack_keeps_its_log_bucket_and_its_resource_names(self, qa_run):
        shared = [r for r in qa_run.registrations if r.parent.endswith("::shared") and "access-logs" in r.name]
        assert {r.name for r in shared} == {
            "access-logs-bucket",
            "access-logs-ownership",
            "access-logs-public-access-block",
            "access-logs-encryption",
            "access-logs-versioning",
            "access-logs-lifecycle",
            "access-logs-bucket-policy",
        }
        assert qa_run.outputs["accessLogBucket"].value == "fusion-rms--access-logs-222222222222-us-east-1"


MOVED_LOG_BUCKET = {
    "tenant-storage:accessLogBucketNamespace": "account-regional",
    "tenant-storage:retainedAccessLogBucketNamespace": "global",
}


@pytest.fixture(scope="module")
def moved() -> ProgramRun:
    run = run_stack("qa", with_settings(fixture_project(), "qa", MOVED_LOG_BUCKET))
    assert run.error is None, run.error
    return run


class TestMovingTheAccessLogBucket:
    """An existing stack moves its log bucket into the account regional namespace only when its owner says so,
    and keeps the old bucket, declared exactly as before, with its logs; new logs go to the new bucket."""

    def test_the_old_log_bucket_and_its_settings_stay_exactly_as_they_were(self, moved, qa_run):
        before = {r.urn: r for r in qa_run.registrations if r.parent.endswith("::shared") and "access-logs" in r.name}
        after = {r.urn: r for r in moved.registrations}
        assert len(before) == 7
        for urn, old in before.items():
            assert urn in after, f"{urn} is no longer declared: the deploy would delete it"
            new = after[urn]
            assert (new.inputs, new.protect, new.retain_on_delete) == (old.inputs, old.protect, old.retain_on_delete)

    def test_new_logs_go_to_the_bucket_in_the_namespace(self, moved):
        name = "fusion-rms--access-logs-222222222222-us-east-1-an"
        [new] = [bucket for bucket in moved.by_type(BUCKET) if bucket.name == "access-logs-an-bucket"]
        assert (new.inputs["bucket"], new.inputs["bucketNamespace"]) == (name, "account-regional")
        assert {logging.inputs["targetBucket"] for logging in moved.by_type(LOGGING)} == {name}
        assert moved.outputs["accessLogBucket"].value == name
        assert moved.outputs["retainedAccessLogBucket"].value == "fusion-rms--access-logs-222222222222-us-east-1"

    def test_the_new_bucket_has_every_guard_rail_of_the_old(self, moved):
        def settings_of(stem: str) -> dict[str, dict]:
            return {
                r.type: {key: value for key, value in r.inputs.items() if key != "bucket"}
                for r in moved.registrations
                if r.name.startswith(f"{stem}-") and r.type != BUCKET
            }

        old, new = settings_of("access-logs"), settings_of("access-logs-an")
        old = {t: v for t, v in old.items() if t != BUCKET_POLICY}
        new_policy = policy_of(
            next(r for r in moved.by_type(BUCKET_POLICY) if r.name == "access-logs-an-bucket-policy")
        )
        assert {t: v for t, v in new.items() if t != BUCKET_POLICY} == old
        assert "fusion-rms--access-logs-222222222222-us-east-1-an/*" in json.dumps(new_policy)

    def test_the_policy_pack_accepts_the_moved_stack(self, moved):
        from review.plan import policy_violations

        assert [v for v in policy_violations(moved.registrations) if v.enforcement == "mandatory"] == []


def in_urn_order(run: ProgramRun) -> list[Any]:
    """What a run registered, in an order of its own: the SDK registers asynchronously, in no fixed order, and
    sends dependencies as a set."""
    import dataclasses

    return sorted(
        (dataclasses.replace(each, dependencies=tuple(sorted(each.dependencies))) for each in run.registrations),
        key=lambda each: each.urn,
    )


class TestTheOfflineRunner:
    """The runner skips the SDK's per-resource source positions (a walk of the whole stack), which only the
    engine's diagnostics show: what a run records is the same with or without them."""

    @staticmethod
    def stack_walks_in_a_run(monkeypatch: pytest.MonkeyPatch) -> tuple[ProgramRun, int]:
        import traceback

        from pulumi.runtime import resource as sdk_resource

        walks = 0
        extract_stack = traceback.extract_stack

        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal walks
            walks += 1
            return extract_stack(*args, **kwargs)

        monkeypatch.setattr(sdk_resource.traceback, "extract_stack", counted)
        run = run_stack("qa")
        monkeypatch.undo()
        return run, walks

    def test_a_run_walks_no_stack_and_records_what_a_run_with_source_positions_records(self, monkeypatch):
        import contextlib

        from mock_runtime import recorder

        skipped, walks_skipped = self.stack_walks_in_a_run(monkeypatch)
        monkeypatch.setattr(recorder, "_without_source_positions", contextlib.nullcontext)
        positioned, walks_positioned = self.stack_walks_in_a_run(monkeypatch)
        assert walks_skipped == 0
        assert walks_positioned >= len(positioned.registrations) > 0
        assert in_urn_order(skipped) == in_urn_order(positioned)
        assert skipped.unknowns == positioned.unknowns

    def test_the_sdk_hook_is_restored_after_a_run_even_one_that_fails(self):
        from pulumi.runtime import resource as sdk_resource

        hook = sdk_resource._get_stack_trace
        assert run_stack("qa").error is None
        assert run_stack("qa", config={"tenant-storage:shard": "-1"}).error is not None
        assert sdk_resource._get_stack_trace is hook
