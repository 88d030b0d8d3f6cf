"""Policy documents, written out in full: each profile grants exactly what the provisioning document asks.

Users are granted through their profile's group, whose policy names the bucket through the caller's
`TenantBucket` tag. What a user may do is that policy as AWS evaluates it for the user's tags
(`effective_policy` substitutes `${aws:PrincipalTag/...}` the way AWS does): it is exactly what the
per-user inline policies granted before the move to groups.
"""

import json
from typing import ClassVar

import pytest

from tenant_storage.anonymous_access import PublicAccessBlock, anonymous_allowed, check_policy_accepted
from tenant_storage.policies import (
    access_log_bucket_policy,
    bucket_policy,
    effective_policy,
    group_policy,
)
from tenant_storage.public_access import PublicAccess, s3_public_base_url
from tenant_storage.regions import CHINA
from tenant_storage.registry import Profile


def user_policy(profile: Profile, bucket: str) -> dict:
    return effective_policy(group_policy(profile), {"TenantBucket": bucket, "OrgId": "xmsqa1"})


BUCKET = "fusion-rms-xmsqa1"
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::fusion-rms-xmsqa1", "arn:aws:s3:::fusion-rms-xmsqa1/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
TLS_1_2 = {
    "Sid": "DenyOutdatedTls",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::fusion-rms-xmsqa1", "arn:aws:s3:::fusion-rms-xmsqa1/*"],
    "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
}


class TestUserPolicies:
    def test_media_gallery_user_reads_writes_deletes_objects_and_lists_the_bucket(self):
        assert user_policy(Profile.MEDIA_GALLERY, BUCKET) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TenantBucket",
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket"],
                    "Resource": "arn:aws:s3:::fusion-rms-xmsqa1",
                },
                {
                    "Sid": "TenantObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": "arn:aws:s3:::fusion-rms-xmsqa1/*",
                },
            ],
        }

    def test_app_storage_user_may_also_get_the_bucket_location(self):
        assert user_policy(Profile.APP_STORAGE, BUCKET) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TenantBucket",
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                    "Resource": "arn:aws:s3:::fusion-rms-xmsqa1",
                },
                {
                    "Sid": "TenantObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": "arn:aws:s3:::fusion-rms-xmsqa1/*",
                },
            ],
        }

    def test_upload_only_user_may_only_put_objects(self):
        assert user_policy(Profile.UPLOAD_ONLY, BUCKET) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TenantObjects",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject"],
                    "Resource": "arn:aws:s3:::fusion-rms-xmsqa1/*",
                }
            ],
        }

    @pytest.mark.parametrize("profile", list(Profile))
    def test_no_profile_grants_wildcards_iam_or_other_buckets(self, profile):
        for statement in user_policy(profile, BUCKET)["Statement"]:
            assert statement["Effect"] == "Allow"
            assert all("*" not in action and action.startswith("s3:") for action in statement["Action"])
            assert statement["Resource"] in ("arn:aws:s3:::fusion-rms-xmsqa1", "arn:aws:s3:::fusion-rms-xmsqa1/*")


class TestBucketPolicies:
    def test_media_gallery_is_tls_only_and_public_for_pub_reads_only(self):
        assert bucket_policy(Profile.MEDIA_GALLERY, BUCKET) == {
            "Version": "2012-10-17",
            "Statement": [
                TLS_ONLY,
                TLS_1_2,
                {
                    "Sid": "PublicReadOfPubFolder",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::fusion-rms-xmsqa1/pub/*",
                },
            ],
        }

    @pytest.mark.parametrize("profile", [Profile.APP_STORAGE, Profile.UPLOAD_ONLY])
    def test_private_profiles_only_deny_insecure_transport_and_old_tls(self, profile):
        assert bucket_policy(profile, BUCKET) == {"Version": "2012-10-17", "Statement": [TLS_ONLY, TLS_1_2]}

    def test_public_base_url_points_at_pub_in_the_region(self):
        assert s3_public_base_url(BUCKET, "us-east-1") == "https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/"

    def test_served_through_cloudfront_a_gallery_grants_exactly_one_distribution_pub_reads_and_nothing_public(self):
        arn = "arn:aws:cloudfront::111111111111:distribution/E2QWRUHEXAMPLE"
        document = bucket_policy(
            Profile.MEDIA_GALLERY, BUCKET, public_access=PublicAccess.CLOUDFRONT, distribution_arn=arn
        )
        assert document["Statement"] == [
            TLS_ONLY,
            TLS_1_2,
            {
                "Sid": "CloudFrontReadOfPubFolder",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::fusion-rms-xmsqa1/pub/*",
                "Condition": {"StringEquals": {"aws:SourceArn": arn}},
            },
        ]
        # S3 stores it with all four public access block settings on: a service principal under a fixed
        # aws:SourceArn is not public.
        check_policy_accepted(document, PublicAccessBlock())
        assert not anonymous_allowed(document, PublicAccessBlock(), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/pub/a.png")

    def test_served_both_ways_a_gallery_has_both_statements(self):
        arn = "arn:aws:cloudfront::111111111111:distribution/E2QWRUHEXAMPLE"
        mode = PublicAccess.BUCKET_POLICY_AND_CLOUDFRONT
        document = bucket_policy(Profile.MEDIA_GALLERY, BUCKET, public_access=mode, distribution_arn=arn)
        assert [statement["Sid"] for statement in document["Statement"][2:]] == [
            "PublicReadOfPubFolder",
            "CloudFrontReadOfPubFolder",
        ]

    def test_a_distribution_is_required_to_serve_through_cloudfront(self):
        with pytest.raises(ValueError, match="needs its distribution's ARN"):
            bucket_policy(Profile.MEDIA_GALLERY, BUCKET, public_access=PublicAccess.CLOUDFRONT)

    @pytest.mark.parametrize("mode", list(PublicAccess))
    @pytest.mark.parametrize("profile", [Profile.APP_STORAGE, Profile.UPLOAD_ONLY])
    def test_no_mode_opens_a_private_profile(self, profile, mode):
        arn = "arn:aws:cloudfront::111111111111:distribution/E2QWRUHEXAMPLE"
        document = bucket_policy(profile, BUCKET, public_access=mode, distribution_arn=arn)
        assert document == {"Version": "2012-10-17", "Statement": [TLS_ONLY, TLS_1_2]}


class TestGroupPolicies:
    @pytest.mark.parametrize("profile", list(Profile))
    def test_the_bucket_is_named_only_through_the_callers_tag(self, profile):
        for statement in group_policy(profile)["Statement"]:
            assert statement["Resource"] in (
                "arn:aws:s3:::${aws:PrincipalTag/TenantBucket}",
                "arn:aws:s3:::${aws:PrincipalTag/TenantBucket}/*",
            )

    def test_another_users_tag_reaches_another_bucket_only(self):
        assert user_policy(Profile.APP_STORAGE, "fusion-rms-acme") == effective_policy(
            group_policy(Profile.APP_STORAGE), {"TenantBucket": "fusion-rms-acme"}
        )
        assert "fusion-rms-xmsqa1" not in str(user_policy(Profile.APP_STORAGE, "fusion-rms-acme"))

    def test_private_profiles_may_use_the_stack_key_only_through_s3(self):
        key = "arn:aws:kms:us-east-1:222222222222:key/abc"
        [kms] = [
            s
            for s in group_policy(Profile.UPLOAD_ONLY, kms_key_arn=key)["Statement"]
            if s["Sid"].startswith("Tenant") and "kms:Decrypt" in s["Action"]
        ]
        assert kms == {
            "Sid": "TenantBucketKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key,
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        }

    def test_the_key_condition_follows_the_partition(self):
        statement = group_policy(Profile.APP_STORAGE, CHINA, "arn:aws-cn:kms:cn-north-1:1:key/k", "cn-north-1")[
            "Statement"
        ][-1]
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.cn-north-1.amazonaws.com.cn"}}
        assert group_policy(Profile.APP_STORAGE, CHINA)["Statement"][0]["Resource"].startswith("arn:aws-cn:s3:::")


class TestAccessLogBucketPolicy:
    def test_log_delivery_may_write_logs_of_this_accounts_tenant_buckets_only(self):
        document = access_log_bucket_policy(
            "fusion-rms--access-logs-222222222222-us-east-1", "222222222222", "fusion-rms"
        )
        [delivery] = [s for s in document["Statement"] if s["Effect"] == "Allow"]
        assert delivery == {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::fusion-rms--access-logs-222222222222-us-east-1/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": ["arn:aws:s3:::fusion-rms-*"]},
                "StringEquals": {"aws:SourceAccount": "222222222222"},
            },
        }
        assert {s["Sid"] for s in document["Statement"] if s["Effect"] == "Deny"} == {
            "DenyInsecureTransport",
            "DenyOutdatedTls",
        }


class TestKmsKeyPolicy:
    """The stack key's own policy: the account administers it, and uses it for data only through S3."""

    DATA_ACTIONS: ClassVar[list[str]] = [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
    ]

    def statements(self, region: str = "us-east-1", partition=None) -> dict[str, dict]:
        from tenant_storage.policies import kms_key_policy

        document = (
            kms_key_policy("222222222222", region, partition) if partition else kms_key_policy("222222222222", region)
        )
        return {statement["Sid"]: statement for statement in document["Statement"]}

    def test_the_deploy_role_named_administers_the_key_with_the_providers_calls_and_never_decrypts(self):
        from catalogue import RESOURCE_TYPES
        from tenant_storage.policies import kms_key_policy

        role = "arn:aws:iam::222222222222:role/ci/github-deploy"
        for protected in (False, True):
            document = kms_key_policy("222222222222", "us-east-1", administrator_arn=role, protected=protected)
            [statement] = [s for s in document["Statement"] if s["Principal"] == {"AWS": role}]
            calls = RESOURCE_TYPES["aws:kms/key:Key"].calls
            after_create = (calls.create | calls.read | calls.update | calls.delete) - {"kms:CreateKey"}
            expected = after_create - ({"kms:ScheduleKeyDeletion"} if protected else set())
            assert set(statement["Action"]) == expected
            assert {"kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DescribeKey"} <= expected
            assert not {a for a in statement["Action"] if "Decrypt" in a or "GenerateDataKey" in a or "Grant" in a}
        assert all("Principal" not in s or s["Principal"] != {"AWS": role} for s in self.statements().values())

    def test_nobody_may_give_themselves_a_grant_only_aws_services_may_get_one(self):
        """A grant gives its grantee any operation, decrypting included, without the key policy's conditions."""
        import fnmatch

        for sid, statement in self.statements().items():
            if any(fnmatch.fnmatchcase("kms:CreateGrant", action) for action in statement["Action"]):
                assert statement["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}, sid

    def test_the_account_administers_the_key_and_cannot_lock_itself_out(self):
        import fnmatch

        admin = self.statements()["AccountAdministersTheKey"]
        assert admin["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
        for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation", "kms:DescribeKey"):
            assert any(fnmatch.fnmatchcase(action, pattern) for pattern in admin["Action"]), action

    def test_administration_never_reads_or_writes_data(self):
        import fnmatch

        admin = self.statements()["AccountAdministersTheKey"]
        for action in [*self.DATA_ACTIONS, "kms:ReEncryptFrom", "kms:ReEncryptTo"]:
            assert not any(fnmatch.fnmatchcase(action, pattern) for pattern in admin["Action"]), action

    def test_data_keys_only_through_s3_in_the_stacks_region_and_account(self):
        data = self.statements("eu-west-1")["DataKeysOnlyThroughS3"]
        assert data["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert data["Condition"] == {
            "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:CallerAccount": "222222222222"}
        }

    def test_the_key_serves_exactly_what_the_private_groups_may_ask_of_it(self):
        from tenant_storage.policies import group_policy

        [through_s3] = [
            s
            for s in group_policy(Profile.APP_STORAGE, kms_key_arn="arn:aws:kms:us-east-1:1:key/k")["Statement"]
            if s["Sid"] == "TenantBucketKeyThroughS3"
        ]
        data = self.statements()["DataKeysOnlyThroughS3"]
        assert data["Action"] == through_s3["Action"]
        assert (
            data["Condition"]["StringEquals"]["kms:ViaService"]
            == through_s3["Condition"]["StringEquals"]["kms:ViaService"]
        )

    def test_no_statement_names_anyone(self):
        statements = self.statements("cn-north-1", CHINA).values()
        assert {json.dumps(s["Principal"]) for s in statements} == {'{"AWS": "arn:aws-cn:iam::222222222222:root"}'}
