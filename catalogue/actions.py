"""The AWS API calls the project makes or causes, as IAM actions, and what each action is authorized on.

Three sources, one table each, and the CI roles are derived from them (`tenant_storage/ci_roles.py`):
- the provider's calls per resource type and operation: `ResourceType.calls` (catalogue/resource_types.py,
  read from terraform-provider-aws, file cited per type);
- each command's own calls, by API operation: `COMMAND_OPERATIONS` (a test runs every command against the
  emulator and fails on a call that is not listed here);
- the readers' calls: `catalogue/readers.py` (each reader refuses a call its `operations` do not list).

`OPERATION_ACTIONS` names the IAM action of every API operation in those tables (S3's often differ from the
operation's name: the Service Authorization Reference, "Actions defined by Amazon S3"); `ACTION_SCOPES` says
what each action is authorized on. Both are allowlists: an operation or an action missing from them is refused
where it is used, never granted by guesswork.
"""

from __future__ import annotations

import re
from typing import Literal

Scope = Literal[
    "account",  # Resource "*": the action supports no resource-level permission
    "bucket",  # arn:aws:s3:::<bucket>
    "bucket-tags",  # S3 Control's tagging of a bucket (arn:aws:s3:::<bucket>)
    "managed-policy",  # an IAM managed policy, the account's or AWS's: read only, to see what it grants
    "object",  # arn:aws:s3:::<bucket>/<key>
    "user",
    "group",
    "key",  # a KMS key of the stack
    "key-creation",  # kms:CreateKey, authorized on "*" and scoped by the request's tags
    "secret",
    "parameter",
    # CloudFront (and its key value stores' data plane): Resource "*". CloudFront has no resource policies, so an
    # identity policy reaches only its own account's distributions, and some of its create actions take no ARN.
    "cloudfront",
]

Operation = tuple[str, str]  # (boto3 service name, API operation name)

# Every API operation a command or a reader calls -> the IAM action that authorizes it.
OPERATION_ACTIONS: dict[Operation, str] = {
    ("sts", "GetCallerIdentity"): "sts:GetCallerIdentity",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "GetBucketLocation"): "s3:GetBucketLocation",
    ("s3", "GetBucketAcl"): "s3:GetBucketAcl",
    ("s3", "GetBucketTagging"): "s3:GetBucketTagging",
    ("s3", "GetBucketOwnershipControls"): "s3:GetBucketOwnershipControls",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetBucketVersioning"): "s3:GetBucketVersioning",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetBucketLogging"): "s3:GetBucketLogging",
    ("s3", "GetBucketPolicy"): "s3:GetBucketPolicy",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3", "GetBucketWebsite"): "s3:GetBucketWebsite",
    ("s3", "GetBucketCors"): "s3:GetBucketCORS",
    ("s3", "GetObject"): "s3:GetObject",
    ("s3", "GetObjectTagging"): "s3:GetObjectTagging",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("kms", "ListKeys"): "kms:ListKeys",
    ("kms", "DescribeKey"): "kms:DescribeKey",
    ("kms", "GetKeyPolicy"): "kms:GetKeyPolicy",
    ("kms", "GetKeyRotationStatus"): "kms:GetKeyRotationStatus",
    ("kms", "ListResourceTags"): "kms:ListResourceTags",
    ("kms", "ListGrants"): "kms:ListGrants",
    ("iam", "GetAccountSummary"): "iam:GetAccountSummary",
    ("iam", "GetGroup"): "iam:GetGroup",
    ("iam", "GetGroupPolicy"): "iam:GetGroupPolicy",
    ("iam", "ListGroupPolicies"): "iam:ListGroupPolicies",
    ("iam", "ListAttachedGroupPolicies"): "iam:ListAttachedGroupPolicies",
    ("iam", "GetUser"): "iam:GetUser",
    ("iam", "GetUserPolicy"): "iam:GetUserPolicy",
    ("iam", "GetPolicy"): "iam:GetPolicy",
    ("iam", "GetPolicyVersion"): "iam:GetPolicyVersion",
    ("iam", "ListUsers"): "iam:ListUsers",
    ("iam", "ListUserTags"): "iam:ListUserTags",
    ("iam", "ListUserPolicies"): "iam:ListUserPolicies",
    ("iam", "ListAttachedUserPolicies"): "iam:ListAttachedUserPolicies",
    ("iam", "ListGroupsForUser"): "iam:ListGroupsForUser",
    ("iam", "ListAccessKeys"): "iam:ListAccessKeys",
    ("iam", "GetAccessKeyLastUsed"): "iam:GetAccessKeyLastUsed",
    ("iam", "GetLoginProfile"): "iam:GetLoginProfile",
    ("iam", "ListMFADevices"): "iam:ListMFADevices",
    ("iam", "ListServiceSpecificCredentials"): "iam:ListServiceSpecificCredentials",
    ("iam", "ListSigningCertificates"): "iam:ListSigningCertificates",
    ("iam", "ListSSHPublicKeys"): "iam:ListSSHPublicKeys",
    ("secretsmanager", "DescribeSecret"): "secretsmanager:DescribeSecret",
    ("secretsmanager", "GetSecretValue"): "secretsmanager:GetSecretValue",
    ("ssm", "DescribeParameters"): "ssm:DescribeParameters",
    ("ssm", "GetParameter"): "ssm:GetParameter",
    ("ssm", "ListTagsForResource"): "ssm:ListTagsForResource",
    ("cloudwatch", "ListMetrics"): "cloudwatch:ListMetrics",
    ("cloudwatch", "GetMetricData"): "cloudwatch:GetMetricData",
    ("ce", "GetCostAndUsage"): "ce:GetCostAndUsage",
    ("ce", "ListCostAllocationTags"): "ce:ListCostAllocationTags",
    ("cloudfront", "GetOriginAccessControl"): "cloudfront:GetOriginAccessControl",
    ("cloudfront", "ListOriginAccessControls"): "cloudfront:ListOriginAccessControls",
    ("cloudfront", "DescribeKeyValueStore"): "cloudfront:DescribeKeyValueStore",
    ("cloudfront", "DescribeFunction"): "cloudfront:DescribeFunction",
    ("cloudfront", "GetFunction"): "cloudfront:GetFunction",
    ("cloudfront", "GetCachePolicy"): "cloudfront:GetCachePolicy",
    ("cloudfront", "ListCachePolicies"): "cloudfront:ListCachePolicies",
    ("cloudfront", "GetDistribution"): "cloudfront:GetDistribution",
    ("cloudfront", "ListDistributions"): "cloudfront:ListDistributions",
    ("cloudfront", "ListTagsForResource"): "cloudfront:ListTagsForResource",
    ("cloudfront-keyvaluestore", "DescribeKeyValueStore"): "cloudfront-keyvaluestore:DescribeKeyValueStore",
    ("cloudfront-keyvaluestore", "ListKeys"): "cloudfront-keyvaluestore:ListKeys",
}

# What each command calls of its own (the readers' calls of `audit` come from the readers of the types the stack
# declares). A command that calls nothing of AWS (plan, validate, stacks, ci-roles) has an empty entry.
COMMAND_OPERATIONS: dict[str, frozenset[Operation]] = {
    "audit": frozenset(
        {
            ("sts", "GetCallerIdentity"),
            ("s3", "ListBuckets"),
            ("kms", "ListKeys"),
            ("kms", "DescribeKey"),
            ("s3", "GetBucketReplication"),
            ("s3", "GetBucketWebsite"),
            ("s3", "GetBucketCors"),
            ("kms", "ListGrants"),
            ("iam", "ListGroupsForUser"),
            ("iam", "ListAccessKeys"),
            ("iam", "GetAccessKeyLastUsed"),
            ("iam", "ListUsers"),
            ("iam", "GetLoginProfile"),
            ("iam", "ListSSHPublicKeys"),
            ("iam", "ListServiceSpecificCredentials"),
            ("iam", "ListSigningCertificates"),
            ("iam", "ListMFADevices"),
            # The stack's CloudFront resources, found by name (their ids are the deploy's).
            ("cloudfront", "ListOriginAccessControls"),
            ("cloudfront", "DescribeKeyValueStore"),
            ("cloudfront", "ListCachePolicies"),
            ("cloudfront", "ListDistributions"),
        }
    ),
    "usage": frozenset(
        {
            ("sts", "GetCallerIdentity"),
            ("s3", "ListBuckets"),
            ("cloudwatch", "ListMetrics"),
            ("cloudwatch", "GetMetricData"),
            ("ce", "GetCostAndUsage"),
            ("ce", "ListCostAllocationTags"),
        }
    ),
    "check-names": frozenset(
        {("sts", "GetCallerIdentity"), ("s3", "ListBuckets"), ("s3", "HeadBucket"), ("s3", "GetBucketTagging")}
    ),
    "preflight": frozenset(
        {
            ("sts", "GetCallerIdentity"),
            ("s3", "ListBuckets"),
            ("s3", "HeadBucket"),
            ("s3", "GetBucketLocation"),
            ("s3", "GetBucketAcl"),
            ("s3", "GetBucketTagging"),
            ("s3control", "GetPublicAccessBlock"),
            ("iam", "GetAccountSummary"),
            ("iam", "ListUsers"),
            ("iam", "ListUserTags"),
            ("iam", "ListUserPolicies"),
            ("iam", "ListAttachedUserPolicies"),
            ("iam", "ListGroupsForUser"),
            ("iam", "ListAccessKeys"),
            ("iam", "GetAccessKeyLastUsed"),
            ("iam", "GetLoginProfile"),
            ("iam", "ListMFADevices"),
            ("iam", "ListServiceSpecificCredentials"),
            ("iam", "ListSigningCertificates"),
            ("iam", "ListSSHPublicKeys"),
        }
    ),
    # An operator's, by hand, with the audit role: what the accounts hold that no tenant declares, to adopt it.
    "discover": frozenset(
        {
            ("sts", "GetCallerIdentity"),
            ("s3", "ListBuckets"),
            ("s3", "GetBucketTagging"),
            ("s3", "GetBucketPolicy"),
            ("s3", "GetBucketEncryption"),
            ("s3", "GetBucketVersioning"),
            ("s3", "GetBucketLogging"),
            ("s3", "GetPublicAccessBlock"),
            ("s3", "GetBucketLifecycleConfiguration"),
            ("iam", "ListUsers"),
            ("iam", "ListUserTags"),
            ("iam", "ListUserPolicies"),
            ("iam", "GetUserPolicy"),
            ("iam", "ListAttachedUserPolicies"),
            ("iam", "GetPolicy"),
            ("iam", "GetPolicyVersion"),
            ("iam", "ListAccessKeys"),
        }
    ),
    "stacks": frozenset(),
    "validate": frozenset(),
    "plan": frozenset(),
    "ci-roles": frozenset(),
}

# What `restore` needs, by phase: IAM authorizes an S3 call on a version by the version's own action (a read of a
# version's tags is s3:GetObjectVersionTagging, a copy from a version s3:GetObjectVersion, tagging the version a
# multipart copy wrote s3:PutObjectVersionTagging), so these are actions, not operations (Service Authorization
# Reference, "Actions defined by Amazon S3"). Each with the case that needs it, where not every run does. The
# refusal message, docs/restore.md and `ci-roles` (a role whose jobs run `restore`) read this one table.
RESTORE_ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "always": (
        ("s3:ListAllMyBuckets", "a tenant with a random suffix"),
        ("s3:GetBucketVersioning", ""),
        ("s3:ListBucketVersions", ""),
        ("s3:GetObjectVersionTagging", ""),
    ),
    "with --apply": (
        ("s3:GetObjectVersion", ""),
        ("s3:PutObject", ""),
        ("s3:PutObjectTagging", ""),
        ("s3:PutObjectVersionTagging", "a copy over 5 GiB"),
        ("s3:AbortMultipartUpload", "a copy over 5 GiB"),
        ("kms:Decrypt", "a private bucket, on the stack's key"),
        ("kms:GenerateDataKey", "a private bucket, on the stack's key"),
    ),
    "with --delete-newer": (("s3:DeleteObject", ""),),
}


def restore_actions() -> set[str]:
    """Every action of `RESTORE_ACTIONS`, in every phase."""
    return {action for needed in RESTORE_ACTIONS.values() for action, _ in needed}


_ACCOUNT_WIDE = {
    "sts:GetCallerIdentity",
    "s3:ListAllMyBuckets",
    "s3:GetAccountPublicAccessBlock",
    "kms:ListKeys",
    "iam:GetAccountSummary",
    "iam:ListUsers",
    "ssm:DescribeParameters",
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricData",
    "ce:GetCostAndUsage",
    "ce:ListCostAllocationTags",
}
# An S3 action on objects (arn:aws:s3:::<bucket>/<key>): its verb then `Object` (GetObjectVersionTagging,
# PutObject, DeleteObjectVersion, RestoreObject …) or a multipart upload's own; every other S3 action but
# ListAllMyBuckets is on a bucket (the Service Authorization Reference's resource types for S3).
_OBJECT = re.compile(r"s3:(?:[A-Z][a-z]+Object(?:[A-Z]\w*)?|AbortMultipartUpload|ListMultipartUploadParts)")
_BUCKET_TAGS = {"s3:TagResource", "s3:UntagResource", "s3:ListTagsForResource"}
_GROUP = {
    "iam:CreateGroup",
    "iam:GetGroup",
    "iam:UpdateGroup",
    "iam:DeleteGroup",
    "iam:PutGroupPolicy",
    "iam:GetGroupPolicy",
    "iam:DeleteGroupPolicy",
    "iam:ListGroupPolicies",
    "iam:ListAttachedGroupPolicies",
    "iam:AttachGroupPolicy",
    "iam:DetachGroupPolicy",
    "iam:AddUserToGroup",
    "iam:RemoveUserFromGroup",
}


def scope_of(action: str) -> Scope:
    """What `action` is authorized on (the Service Authorization Reference's resource types). Raises KeyError
    for an action of a service this table does not know."""
    service = action.split(":", 1)[0]
    if action in _ACCOUNT_WIDE:
        return "account"
    if service == "s3":
        return "object" if _OBJECT.fullmatch(action) else "bucket-tags" if action in _BUCKET_TAGS else "bucket"
    if service == "kms":
        return "key-creation" if action == "kms:CreateKey" else "key"
    if service == "iam":
        if action in ("iam:GetPolicy", "iam:GetPolicyVersion"):
            return "managed-policy"
        return "group" if action in _GROUP else "user"
    if service == "secretsmanager":
        return "secret"
    if service == "ssm":
        return "parameter"
    if service in ("cloudfront", "cloudfront-keyvaluestore"):
        return "cloudfront"
    raise KeyError(f"{action}: catalogue/actions.py does not say what it is authorized on")


def actions_of(operations: frozenset[Operation] | set[Operation]) -> set[str]:
    """The IAM actions of `operations` (KeyError for an operation `OPERATION_ACTIONS` does not list)."""
    return {OPERATION_ACTIONS[operation] for operation in operations}
