"""Policy documents, written out in full: each profile grants exactly what the provisioning document asks."""

import pytest

from tenant_storage.policies import bucket_policy, public_base_url, user_policy
from tenant_storage.registry import Profile

BUCKET = "fusion-rms-xmsqa1"
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::fusion-rms-xmsqa1", "arn:aws:s3:::fusion-rms-xmsqa1/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
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
    def test_private_profiles_only_deny_insecure_transport(self, profile):
        assert bucket_policy(profile, BUCKET) == {"Version": "2012-10-17", "Statement": [TLS_ONLY]}

    def test_public_base_url_points_at_pub_in_the_region(self):
        assert public_base_url(BUCKET, "us-east-1") == "https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/"
