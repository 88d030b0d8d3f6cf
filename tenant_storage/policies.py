"""IAM and bucket policy documents, as plain JSON-ready dicts.

The tenant's user is granted through an identity policy on the user, never by naming the user in the
bucket policy: a fresh user named as a principal fails with "Invalid principal in policy" (IAM eventual
consistency), and a recreated user would leave a stale unique id behind in the bucket policy.
"""

from __future__ import annotations

from typing import Any

from tenant_storage.regions import COMMERCIAL, Partition
from tenant_storage.registry import Profile

PolicyDocument = dict[str, Any]

PUBLIC_PREFIX = "pub/"
OBJECT_READ_WRITE_DELETE = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]

# What each profile's IAM user may do: (actions on the bucket itself, actions on its objects).
_USER_GRANTS: dict[Profile, tuple[list[str], list[str]]] = {
    Profile.MEDIA_GALLERY: (["s3:ListBucket"], OBJECT_READ_WRITE_DELETE),
    Profile.APP_STORAGE: (["s3:ListBucket", "s3:GetBucketLocation"], OBJECT_READ_WRITE_DELETE),
    Profile.UPLOAD_ONLY: ([], ["s3:PutObject"]),
}


def bucket_arn(bucket_name: str, partition: Partition = COMMERCIAL) -> str:
    return f"arn:{partition.name}:s3:::{bucket_name}"


def user_policy(profile: Profile, bucket_name: str, partition: Partition = COMMERCIAL) -> PolicyDocument:
    """Exactly the actions the profile needs, on this tenant's bucket only."""
    bucket_actions, object_actions = _USER_GRANTS[profile]
    arn = bucket_arn(bucket_name, partition)
    statements = []
    if bucket_actions:
        statements.append({"Sid": "TenantBucket", "Effect": "Allow", "Action": bucket_actions, "Resource": arn})
    statements.append({"Sid": "TenantObjects", "Effect": "Allow", "Action": object_actions, "Resource": f"{arn}/*"})
    return {"Version": "2012-10-17", "Statement": statements}


def bucket_policy(profile: Profile, bucket_name: str, partition: Partition = COMMERCIAL) -> PolicyDocument:
    """TLS-only for everyone; for media-gallery, anonymous reads of `pub/` and nothing else."""
    arn = bucket_arn(bucket_name, partition)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if profile.serves_public_folder:
        statements.append(
            {
                "Sid": "PublicReadOfPubFolder",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{arn}/{PUBLIC_PREFIX}*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def public_base_url(bucket_name: str, region: str, partition: Partition = COMMERCIAL) -> str:
    return f"https://{bucket_name}.s3.{region}.{partition.dns_suffix}/{PUBLIC_PREFIX}"
