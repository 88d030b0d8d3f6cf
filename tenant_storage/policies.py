"""IAM and bucket policy documents, as plain JSON-ready dicts.

Tenant users get their permissions only through groups (CIS 1.15 / Security Hub IAM.2): one group per
profile per stack, whose policy names the bucket through the user's own tag,
`${aws:PrincipalTag/TenantBucket}`, which AWS substitutes per caller. So thousands of tenants share
three groups and three small policies (IAM allows 300 groups and 1,500 managed policies per account),
each user reaches only the bucket its tag names, and users cannot change their tags: they hold no IAM
permission. A user is never named in a bucket policy: a fresh user named as a principal fails with
"Invalid principal in policy" (IAM eventual consistency), and a recreated one leaves a stale id behind.
"""

from __future__ import annotations

import json
import re
from typing import Any

from catalogue.resource_types import RESOURCE_TYPES
from tenant_storage.public_access import (
    CLOUDFRONT_SERVICE,
    DEFAULT_PUBLIC_ACCESS,
    PUBLIC_PREFIX,
    PublicAccess,
)
from tenant_storage.regions import COMMERCIAL, Partition
from tenant_storage.registry import Profile

PolicyDocument = dict[str, Any]

OBJECT_READ_WRITE_DELETE = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]

# What each profile's IAM user may do: (actions on the bucket itself, actions on its objects).
_USER_GRANTS: dict[Profile, tuple[list[str], list[str]]] = {
    Profile.MEDIA_GALLERY: (["s3:ListBucket"], OBJECT_READ_WRITE_DELETE),
    Profile.APP_STORAGE: (["s3:ListBucket", "s3:GetBucketLocation"], OBJECT_READ_WRITE_DELETE),
    Profile.UPLOAD_ONLY: ([], ["s3:PutObject"]),
}


def bucket_arn(bucket_name: str, partition: Partition = COMMERCIAL) -> str:
    return f"arn:{partition.name}:s3:::{bucket_name}"


TENANT_BUCKET_TAG = "TenantBucket"
TAGGED_BUCKET = f"${{aws:PrincipalTag/{TENANT_BUCKET_TAG}}}"
MINIMUM_TLS_VERSION = "1.2"
LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"
_PRINCIPAL_TAG = re.compile(r"\$\{aws:PrincipalTag/([^}]+)\}")


def group_policy(
    profile: Profile, partition: Partition = COMMERCIAL, kms_key_arn: str | None = None, region: str = "us-east-1"
) -> PolicyDocument:
    """The profile's actions on the bucket the caller's `TenantBucket` tag names, and nothing else.

    With `kms_key_arn` (private profiles under SSE-KMS), the stack's key too, but only when S3 calls
    KMS on the caller's behalf (`kms:ViaService`): the key cannot be used directly.
    """
    bucket_actions, object_actions = _USER_GRANTS[profile]
    arn = bucket_arn(TAGGED_BUCKET, partition)
    statements: list[dict[str, Any]] = []
    if bucket_actions:
        statements.append({"Sid": "TenantBucket", "Effect": "Allow", "Action": bucket_actions, "Resource": arn})
    statements.append({"Sid": "TenantObjects", "Effect": "Allow", "Action": object_actions, "Resource": f"{arn}/*"})
    if kms_key_arn is not None:
        statements.append(
            {
                "Sid": "TenantBucketKeyThroughS3",
                "Effect": "Allow",
                # GenerateDataKey to write (SSE-KMS), Decrypt to read and to complete multipart uploads.
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.{partition.dns_suffix}"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


# What the account may do to administer the stack's key; none of it reads or writes data. Not kms:CreateGrant
# (`kms:Create*` would hold it): a grant gives its grantee any operation, decrypting included, without this
# policy's conditions. Grants are only for AWS services acting on the account's behalf (KMS_GRANTS_FOR_AWS).
KMS_ADMINISTRATION_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
]


def key_administration_calls(protected: bool) -> list[str]:
    """What the provider calls on the stack's key once it exists (catalogue/resource_types.py), for its deployer."""
    calls = RESOURCE_TYPES["aws:kms/key:Key"].calls
    actions = (calls.create | calls.read | calls.update | calls.delete) - {"kms:CreateKey"}
    return sorted(actions - ({"kms:ScheduleKeyDeletion"} if protected else set()))


KMS_GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
# What S3 asks of the key for an SSE-KMS object (with bucket keys), on the caller's behalf.
KMS_DATA_ACTIONS_THROUGH_S3 = ["kms:Decrypt", "kms:GenerateDataKey"]


def kms_key_policy(
    account_id: str,
    region: str,
    partition: Partition = COMMERCIAL,
    administrator_arn: str = "",
    protected: bool = False,
) -> PolicyDocument:
    """The stack key's own policy (instead of KMS's default, which hands every action to the account).

    The account administers the key (never locked out: it keeps kms:PutKeyPolicy), and its principals may use
    the key for data only through S3 in the stack's region, as far as their IAM policies allow: in practice
    the private profiles' groups (`group_policy`). Nobody may decrypt with it directly, and nobody may give
    themselves a grant (which would carry no condition): grants only for AWS services (kms:GrantIsForAWSResource).

    With `administrator_arn` (the stack's `keyAdministratorArn`, its deploy role), that principal is named too,
    for exactly the calls the provider makes on the key after creating it (the catalogue's): KMS honours a key
    policy's own principal at once, where an IAM policy conditioned on the key's tags may wait up to five minutes
    for a new key's tags ("tag-authorization" in the KMS developer guide), and CreateKey requires the new policy
    to let its caller PutKeyPolicy. A protected key's deletion is never among them.
    """
    account = {"AWS": f"arn:{partition.name}:iam::{account_id}:root"}
    administrator = (
        [
            {
                "Sid": "TheDeployRoleAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": administrator_arn},
                "Action": key_administration_calls(protected),
                "Resource": "*",
            }
        ]
        if administrator_arn
        else []
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            *administrator,
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": account,
                "Action": KMS_ADMINISTRATION_ACTIONS,
                "Resource": "*",
            },
            {
                "Sid": "GrantsOnlyForAwsServices",
                "Effect": "Allow",
                "Principal": account,
                "Action": KMS_GRANT_ACTIONS,
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "DataKeysOnlyThroughS3",
                "Effect": "Allow",
                "Principal": account,
                "Action": KMS_DATA_ACTIONS_THROUGH_S3,
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": f"s3.{region}.{partition.dns_suffix}",
                        "kms:CallerAccount": account_id,
                    }
                },
            },
        ],
    }


def effective_policy(document: PolicyDocument, principal_tags: dict[str, str]) -> PolicyDocument:
    """`document` as AWS evaluates it for a caller with `principal_tags`: each `${aws:PrincipalTag/K}`
    replaced by the caller's tag K (the plan shows each tenant's effective permissions this way)."""
    text = _PRINCIPAL_TAG.sub(lambda match: principal_tags.get(match.group(1), match.group(0)), json.dumps(document))
    result: PolicyDocument = json.loads(text)
    return result


def _transport_statements(arn: str) -> list[dict[str, Any]]:
    """Deny plain HTTP (S3.5) and TLS older than 1.2, for every caller and every action."""
    resources = [arn, f"{arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": MINIMUM_TLS_VERSION}},
        },
    ]


def bucket_policy(
    profile: Profile,
    bucket_name: str,
    partition: Partition = COMMERCIAL,
    public_access: PublicAccess = DEFAULT_PUBLIC_ACCESS,
    distribution_arn: str | None = None,
) -> PolicyDocument:
    """TLS 1.2 or newer for everyone; for media-gallery, reads of `pub/` and nothing else: by anyone
    (`bucket-policy`), by the stack's CloudFront distribution only (`cloudfront`), or both during a switch.

    CloudFront's grant names its service principal and is void for any other distribution (`aws:SourceArn`,
    as AWS documents origin access control): S3 counts it as not public, so all four public access block
    settings stay on.
    """
    arn = bucket_arn(bucket_name, partition)
    statements = _transport_statements(arn)
    if profile.serves_public_folder and public_access.anonymous_at_s3:
        statements.append(
            {
                "Sid": "PublicReadOfPubFolder",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{arn}/{PUBLIC_PREFIX}*",
            }
        )
    if profile.serves_public_folder and public_access.through_cloudfront:
        if not distribution_arn:
            raise ValueError("a bucket served through CloudFront needs its distribution's ARN")
        statements.append(
            {
                "Sid": "CloudFrontReadOfPubFolder",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDFRONT_SERVICE},
                "Action": "s3:GetObject",
                "Resource": f"{arn}/{PUBLIC_PREFIX}*",
                "Condition": {"StringEquals": {"aws:SourceArn": distribution_arn}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def access_log_bucket_policy(
    log_bucket: str,
    account_id: str,
    bucket_prefix: str,
    partition: Partition = COMMERCIAL,
    other_buckets: tuple[str, ...] = (),
) -> PolicyDocument:
    """TLS 1.2 only, and S3's log delivery may write logs of this account's tenant buckets, nothing else.

    The tenant buckets are matched by name (`<prefix>-*`) rather than listed: a bucket policy holds at
    most 20 KB, and a stack holds thousands of tenants.
    """
    arn = bucket_arn(log_bucket, partition)
    statements = _transport_statements(arn)
    statements.append(
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": LOG_DELIVERY_SERVICE},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/*",
            "Condition": {
                "ArnLike": {
                    "aws:SourceArn": [bucket_arn(f"{bucket_prefix}-*", partition)]
                    + [bucket_arn(name, partition) for name in other_buckets]
                },
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
