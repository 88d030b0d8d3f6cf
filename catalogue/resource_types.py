"""Every resource type the program declares, and what each is: the one list every consumer reads.

A type that is not here is refused by the offline plan (so by the review, the replay and `audit`), and an
input the program sets that its entry does not name is refused too: what the catalogue does not know
never passes in silence.

Replacements: the inputs marked `ForceNew` (SDKv2) or `RequiresReplace` (plugin framework) in the
terraform-provider-aws resource that pulumi-aws 7 bridges, file named in each entry's `source`
(hashicorp/terraform-provider-aws, `internal/service/...`), and `region`, which pulumi-aws 7 adds to every
regional resource: "Changing the value of `region` will force resource replacement" (its docs of each
resource's `region` input). The random provider's are in hashicorp/terraform-provider-random
`internal/provider/resource_id.go`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

Data = Literal["holds", "unlocks", ""]

# pulumi-aws 7: every regional resource takes `region`, and a change of it replaces the resource.
REGION_INPUT = "region"


Operation = Literal["create", "read", "update", "delete"]
OPERATIONS: tuple[Operation, ...] = ("create", "read", "update", "delete")


@dataclass(frozen=True)
class Calls:
    """The IAM actions the provider's API calls need, by what the engine asks of a resource: create, read
    (refresh, and import, which is a read by id), update and delete. Read from the type's `source`."""

    create: frozenset[str] = frozenset()
    read: frozenset[str] = frozenset()
    update: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    # Calls the provider makes only when an input is set (not empty): action -> that input.
    only_if: Mapping[str, str] = field(default_factory=dict)

    def needed(self, operations: Iterable[Operation], inputs_set: frozenset[str]) -> set[str]:
        """The actions of `operations` for a resource whose set (non-empty) inputs are `inputs_set`."""
        return {
            action
            for operation in operations
            for action in getattr(self, operation)
            if action not in self.only_if or self.only_if[action] in inputs_set
        }


def _calls(
    create: str, read: str, update: str = "", delete: str = "", only_if: Mapping[str, str] | None = None
) -> Calls:
    """Calls from space-separated action lists; an update or delete re-reads as the provider does."""
    return Calls(
        frozenset(create.split()) | frozenset(read.split()),
        frozenset(read.split()),
        frozenset(update.split()) | frozenset(read.split()) if update else frozenset(),
        frozenset(delete.split()),
        dict(only_if or {}),
    )


def _exclusive_calls(add: str, remove: str, listed: str, names: str) -> Calls:
    """An *Exclusive resource: it adds (without a document) only a listed name or ARN, which the stack may leave
    empty, removes the rest, and its delete only forgets it."""
    return _calls(f"{add} {remove}", listed, f"{add} {remove}", only_if={add: names})


class UnknownResourceType(Exception):
    """The program declares a type (or sets an input) the catalogue has no entry for."""


@dataclass(frozen=True)
class ResourceType:
    token: str
    # What `audit` and the review call it, in the words of the provisioning checklist.
    check: str
    # Every input the program may set; the plan refuses any other.
    inputs: frozenset[str]
    # The inputs whose change makes the provider replace the resource (delete and create it again).
    replace_on: frozenset[str]
    # The provider's source file (hashicorp/terraform-provider-aws unless it says otherwise).
    source: str
    # "holds": data nobody can declare again lives in it (objects, logs); "unlocks": without it that data
    # cannot be read (the key of SSE-KMS objects). Deleting or replacing either loses data.
    data: Data = ""
    regional: bool = True
    # The outputs AWS (or the random provider) chooses when it creates one: an offline plan can only invent
    # them, so a comparison with an account must first find the live ones.
    chosen_at_create: frozenset[str] = frozenset()
    # The provider's calls (filled from PROVIDER_CALLS below, one entry per type or the module does not load).
    calls: Calls = field(default_factory=Calls)
    # Inputs that are also Computed: left out, the provider keeps the value it holds, so dropping one changes
    # nothing (setting one to another value still does).
    kept_when_omitted: frozenset[str] = frozenset()

    @property
    def loses_data_when_replaced(self) -> bool:
        return bool(self.data)

    def forcing(self, changed: list[str]) -> list[str]:
        """Which of the `changed` inputs make the provider replace this resource."""
        return [name for name in changed if name in self.replace_on or (self.regional and name == REGION_INPUT)]


def _s3(name: str, check: str, *inputs: str, owner: bool = False) -> ResourceType:
    """A bucket's sub-resource: one bucket setting, keyed by the bucket (and by its expected owner, for the
    resources that take one)."""
    return ResourceType(
        f"aws:s3/{name[0].lower()}{name[1:]}:{name}",
        check,
        frozenset({"bucket", REGION_INPUT, *inputs}),
        frozenset({"bucket", *(("expectedBucketOwner",) if owner else ())}),
        f"internal/service/s3/{_snake(name)}.go",
    )


def _snake(name: str) -> str:
    return "".join(f"_{letter.lower()}" if letter.isupper() else letter for letter in name).lstrip("_")


BUCKET = ResourceType(
    "aws:s3/bucket:Bucket",
    "bucket",
    frozenset({"bucket", REGION_INPUT, "tags", "bucketNamespace"}),
    frozenset({"bucket", "bucketPrefix", "objectLockEnabled", "bucketNamespace"}),
    "internal/service/s3/bucket.go",
    data="holds",
    # bucket_namespace: "(Optional, Forces new resource)" (terraform-provider-aws PR #46917, docs); Computed, as
    # the locked pulumi-aws's non-optional `bucket_namespace` output shows, and filled by the provider's read.
    kept_when_omitted=frozenset({"bucketNamespace"}),
)
KMS_KEY = ResourceType(
    "aws:kms/key:Key",
    "kms-key",
    frozenset({REGION_INPUT, "description", "policy", "enableKeyRotation", "deletionWindowInDays", "tags"}),
    frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"}),
    "internal/service/kms/key.go",
    data="unlocks",
    chosen_at_create=frozenset({"id", "keyId", "arn"}),
)
ACCESS_KEY = ResourceType(
    "aws:iam/accessKey:AccessKey",
    "access-keys",
    frozenset({"user"}),
    frozenset({"user", "pgpKey"}),
    "internal/service/iam/access_key.go",
    regional=False,
    chosen_at_create=frozenset({"id", "secret", "encryptedSecret", "sesSmtpPasswordV4"}),
)

SECRET = ResourceType(
    "aws:secretsmanager/secret:Secret",
    "credential-store",
    frozenset({"name", REGION_INPUT, "tags", "kmsKeyId"}),
    frozenset({"name", "namePrefix"}),
    "internal/service/secretsmanager/secret.go",
    chosen_at_create=frozenset({"id", "arn"}),
)
LIFECYCLE = _s3("BucketLifecycleConfiguration", "lifecycle", "rules", owner=True)


def _iam(
    token: str,
    check: str,
    inputs: tuple[str, ...],
    replace_on: tuple[str, ...],
    file: str,
    chosen: tuple[str, ...] = (),
) -> ResourceType:
    return ResourceType(
        token,
        check,
        frozenset(inputs),
        frozenset(replace_on),
        f"internal/service/iam/{file}.go",
        regional=False,
        chosen_at_create=frozenset(chosen),
    )


def _cloudfront(
    name: str,
    check: str,
    inputs: tuple[str, ...],
    replace_on: tuple[str, ...],
    chosen: tuple[str, ...],
    file: str = "",
    kept: tuple[str, ...] = (),
) -> ResourceType:
    """A CloudFront resource: global (no `region` input in pulumi-aws 7), its file in internal/service/cloudfront."""
    return ResourceType(
        f"aws:cloudfront/{name[0].lower()}{name[1:]}:{name}",
        check,
        frozenset(inputs),
        frozenset(replace_on),
        file or f"internal/service/cloudfront/{_snake(name)}.go",
        regional=False,
        chosen_at_create=frozenset(chosen),
        kept_when_omitted=frozenset(kept),
    )


# The stack's CloudFront distribution for pub/ folders, and what it is made of (components/stack_storage.py).
# Read at terraform-provider-aws's cloudfront files: nothing forces a new origin access control or cache policy;
# a key value store and a function are replaced for a new `name`, the key list for another store, a distribution
# only for `staging`.
CLOUDFRONT_TYPES = (
    _cloudfront(
        "OriginAccessControl",
        "cloudfront",
        ("name", "description", "originAccessControlOriginType", "signingBehavior", "signingProtocol"),
        (),
        ("id", "etag"),
    ),
    _cloudfront("KeyValueStore", "cloudfront-tenants", ("name", "comment"), ("name",), ("id", "arn", "etag")),
    _cloudfront(
        "KeyvaluestoreKeysExclusive",
        "cloudfront-tenants",
        ("keyValueStoreArn", "resourceKeyValuePairs"),
        ("keyValueStoreArn",),
        (),
        "internal/service/cloudfrontkeyvaluestore/keys_exclusive.go",
        kept=("maxBatchSize",),
    ),
    _cloudfront(
        "Function",
        "cloudfront",
        ("name", "runtime", "code", "comment", "keyValueStoreAssociations", "publish"),
        ("name",),
        # Its ARN is its name's (arn:<partition>:cloudfront::<account>:function/<name>): nothing to find.
        ("etag", "liveStageEtag"),
    ),
    _cloudfront(
        "CachePolicy",
        "cloudfront",
        ("name", "comment", "defaultTtl", "maxTtl", "minTtl", "parametersInCacheKeyAndForwardedToOrigin"),
        (),
        ("id", "etag"),
    ),
    _cloudfront(
        "Distribution",
        "cloudfront",
        (
            "comment",
            "enabled",
            "isIpv6Enabled",
            "httpVersion",
            "origins",
            "defaultCacheBehavior",
            "restrictions",
            "viewerCertificate",
            "tags",
        ),
        ("staging",),
        ("id", "arn", "domainName", "etag", "hostedZoneId", "callerReference", "status"),
        kept=("continuousDeploymentPolicyId",),
    ),
)

_ENTRIES: dict[str, ResourceType] = {
    entry.token: entry
    for entry in (
        BUCKET,
        _s3("BucketOwnershipControls", "ownership", "rule"),
        _s3(
            "BucketPublicAccessBlock",
            "public-access-block",
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        ),
        _s3("BucketServerSideEncryptionConfiguration", "encryption", "rules", owner=True),
        _s3("BucketVersioning", "versioning", "versioningConfiguration", owner=True),
        LIFECYCLE,
        _s3("BucketLogging", "logging", "targetBucket", "targetPrefix", owner=True),
        _s3("BucketPolicy", "bucket-policy", "policy"),
        ResourceType(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            "pub-folder",
            frozenset({"bucket", REGION_INPUT, "key", "content", "serverSideEncryption", "tags"}),
            frozenset({"bucket", "key"}),
            "internal/service/s3/object.go",
        ),
        KMS_KEY,
        _iam("aws:iam/group:Group", "group", ("name",), (), "group"),
        _iam(
            "aws:iam/groupPolicy:GroupPolicy",
            "group-policy",
            ("group", "name", "policy"),
            ("group", "name", "namePrefix"),
            "group_policy",
        ),
        _iam(
            "aws:iam/groupMembership:GroupMembership",
            "user-groups",
            ("group", "users"),
            ("group", "name"),
            "group_membership",
        ),
        _iam(
            "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive",
            "group-policies",
            ("groupName", "policyNames"),
            ("groupName",),
            "group_policies_exclusive",
        ),
        _iam(
            "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
            "group-policies",
            ("groupName", "policyArns"),
            ("groupName",),
            "group_policy_attachments_exclusive",
        ),
        _iam("aws:iam/user:User", "user", ("name", "tags"), (), "user", chosen=("uniqueId",)),
        _iam(
            "aws:iam/userPoliciesExclusive:UserPoliciesExclusive",
            "user-policies",
            ("userName", "policyNames"),
            ("userName",),
            "user_policies_exclusive",
        ),
        _iam(
            "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
            "user-policies",
            ("userName", "policyArns"),
            ("userName",),
            "user_policy_attachments_exclusive",
        ),
        ACCESS_KEY,
        SECRET,
        ResourceType(
            "aws:secretsmanager/secretVersion:SecretVersion",
            "credential-store",
            frozenset({REGION_INPUT, "secretId", "secretString"}),
            # secret_string is ForceNew in the SDKv2 resource read (a new value is a new version).
            frozenset({"secretId", "secretString", "secretBinary"}),
            "internal/service/secretsmanager/secret_version.go",
            chosen_at_create=frozenset({"id", "versionId"}),
        ),
        ResourceType(
            "aws:ssm/parameter:Parameter",
            "credential-store",
            frozenset({"name", REGION_INPUT, "type", "value", "keyId", "tags"}),
            frozenset({"name", "dataType"}),
            "internal/service/ssm/parameter.go",
        ),
        ResourceType(
            "random:index/randomId:RandomId",
            "bucket",
            frozenset({"byteLength", "keepers"}),
            frozenset({"byteLength", "keepers", "prefix"}),
            "hashicorp/terraform-provider-random internal/provider/resource_id.go",
            regional=False,
            chosen_at_create=frozenset({"id", "hex", "b64Std", "b64Url", "dec"}),
        ),
        *CLOUDFRONT_TYPES,
    )
}

# From each type's `source`, at the pulumi-aws 7.51 provider (terraform-provider-aws v6). Waits after a write are
# reads of the same setting. The bucket's tags go through S3 Control first (s3:TagResource with CreateBucket,
# s3:ListTagsForResource/TagResource/UntagResource after), falling back to Get/PutBucketTagging when refused
# (the locked pulumi-aws `s3/bucket.py` docstring; terraform-provider-aws PR #45251). CreateBucket always sends
# `x-amz-acl: private`, which S3 authorizes as s3:PutBucketAcl too.
PROVIDER_CALLS: dict[str, Calls] = {
    "aws:s3/bucket:Bucket": _calls(
        create="s3:CreateBucket s3:PutBucketAcl s3:TagResource s3:PutBucketTagging",
        read="s3:ListBucket s3:GetBucketPolicy s3:GetBucketAcl s3:GetBucketCORS s3:GetBucketWebsite "
        "s3:GetBucketVersioning s3:GetAccelerateConfiguration s3:GetBucketRequestPayment s3:GetBucketLogging "
        "s3:GetLifecycleConfiguration s3:GetReplicationConfiguration s3:GetEncryptionConfiguration "
        "s3:GetBucketObjectLockConfiguration s3:ListTagsForResource s3:GetBucketTagging",
        update="s3:TagResource s3:UntagResource s3:PutBucketTagging",
        delete="s3:DeleteBucket s3:ListBucket",
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _calls(
        "s3:PutBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketOwnershipControls s3:GetBucketOwnershipControls",
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _calls(
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock s3:GetBucketPublicAccessBlock",
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _calls(
        "s3:PutEncryptionConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _calls(
        "s3:PutBucketVersioning", "s3:GetBucketVersioning", "s3:PutBucketVersioning", "s3:PutBucketVersioning"
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _calls(
        "s3:PutLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutLifecycleConfiguration s3:GetLifecycleConfiguration",
    ),
    "aws:s3/bucketLogging:BucketLogging": _calls(
        "s3:PutBucketLogging", "s3:GetBucketLogging", "s3:PutBucketLogging", "s3:PutBucketLogging"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _calls(
        "s3:PutBucketPolicy",
        "s3:GetBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy s3:GetBucketPolicy",
    ),
    # A versioned bucket's object is deleted version by version, delete markers too (`delete.go`).
    "aws:s3/bucketObjectv2:BucketObjectv2": _calls(
        create="s3:PutObject s3:PutObjectTagging",
        read="s3:GetObject s3:GetObjectTagging",
        update="s3:PutObject s3:PutObjectTagging s3:DeleteObjectTagging",
        delete="s3:ListBucketVersions s3:DeleteObjectVersion s3:DeleteObject",
        only_if={"s3:PutObjectTagging": "tags"},
    ),
    # After CreateKey the provider waits on rotation, policy and tags (reads), then reads the key.
    "aws:kms/key:Key": _calls(
        create="kms:CreateKey kms:TagResource kms:EnableKeyRotation",
        read="kms:DescribeKey kms:GetKeyPolicy kms:GetKeyRotationStatus kms:ListResourceTags",
        update="kms:EnableKeyRotation kms:DisableKeyRotation kms:UpdateKeyDescription kms:PutKeyPolicy "
        "kms:TagResource kms:UntagResource",
        delete="kms:ScheduleKeyDeletion kms:DescribeKey",
    ),
    "aws:iam/group:Group": _calls("iam:CreateGroup", "iam:GetGroup", "iam:UpdateGroup", "iam:DeleteGroup"),
    "aws:iam/groupPolicy:GroupPolicy": _calls(
        "iam:PutGroupPolicy", "iam:GetGroupPolicy", "iam:PutGroupPolicy", "iam:DeleteGroupPolicy"
    ),
    "aws:iam/groupMembership:GroupMembership": _calls(
        "iam:AddUserToGroup", "iam:GetGroup", "iam:AddUserToGroup iam:RemoveUserFromGroup", "iam:RemoveUserFromGroup"
    ),
    # The exclusive resources put (without a document) only a listed name, attach only a listed ARN, remove
    # the rest; their delete only forgets them.
    "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive": _exclusive_calls(
        "iam:PutGroupPolicy", "iam:DeleteGroupPolicy", "iam:ListGroupPolicies", "policyNames"
    ),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": _exclusive_calls(
        "iam:AttachGroupPolicy", "iam:DetachGroupPolicy", "iam:ListAttachedGroupPolicies", "policyArns"
    ),
    # Without force_destroy the provider's delete leaves the user's groups and deletes it: nothing else is listed.
    "aws:iam/user:User": _calls(
        "iam:CreateUser iam:TagUser",
        "iam:GetUser",
        "iam:UpdateUser iam:TagUser iam:UntagUser",
        "iam:ListGroupsForUser iam:RemoveUserFromGroup iam:DeleteUser",
        only_if={"iam:TagUser": "tags"},
    ),
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive": _exclusive_calls(
        "iam:PutUserPolicy", "iam:DeleteUserPolicy", "iam:ListUserPolicies", "policyNames"
    ),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": _exclusive_calls(
        "iam:AttachUserPolicy", "iam:DetachUserPolicy", "iam:ListAttachedUserPolicies", "policyArns"
    ),
    "aws:iam/accessKey:AccessKey": _calls(
        "iam:CreateAccessKey iam:UpdateAccessKey",
        "iam:ListAccessKeys iam:GetAccessKeyLastUsed",
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
        only_if={"iam:UpdateAccessKey": "status"},
    ),
    "aws:secretsmanager/secret:Secret": _calls(
        "secretsmanager:CreateSecret secretsmanager:TagResource",
        "secretsmanager:DescribeSecret secretsmanager:GetResourcePolicy",
        "secretsmanager:UpdateSecret secretsmanager:TagResource secretsmanager:UntagResource",
        "secretsmanager:DeleteSecret secretsmanager:DescribeSecret",
        only_if={"secretsmanager:TagResource": "tags"},
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": _calls(
        "secretsmanager:PutSecretValue",
        "secretsmanager:GetSecretValue",
        "secretsmanager:UpdateSecretVersionStage secretsmanager:ListSecretVersionIds",
        "secretsmanager:UpdateSecretVersionStage secretsmanager:GetSecretValue",
    ),
    # A SecureString under the account's aws/ssm key: that AWS managed key's policy lets the account's
    # principals use it through SSM, so no KMS permission is needed of the caller.
    "aws:ssm/parameter:Parameter": _calls(
        "ssm:PutParameter ssm:AddTagsToResource",
        "ssm:GetParameter ssm:DescribeParameters ssm:ListTagsForResource",
        "ssm:PutParameter ssm:AddTagsToResource ssm:RemoveTagsFromResource",
        "ssm:DeleteParameter",
        only_if={"ssm:AddTagsToResource": "tags"},
    ),
    "random:index/randomId:RandomId": Calls(),  # no API: crypto/rand, in the state only
    # CloudFront (internal/service/cloudfront/*.go): an update or delete sends the etag the state holds (If-Match).
    "aws:cloudfront/originAccessControl:OriginAccessControl": _calls(
        "cloudfront:CreateOriginAccessControl",
        "cloudfront:GetOriginAccessControl",
        "cloudfront:UpdateOriginAccessControl",
        "cloudfront:DeleteOriginAccessControl",
    ),
    # Created, then waited for (DescribeKeyValueStore until READY); read by name.
    "aws:cloudfront/keyValueStore:KeyValueStore": _calls(
        "cloudfront:CreateKeyValueStore",
        "cloudfront:DescribeKeyValueStore",
        "cloudfront:UpdateKeyValueStore",
        "cloudfront:DeleteKeyValueStore",
    ),
    # The data plane (cloudfront-keyvaluestore): it lists the store's keys and puts and deletes the difference with
    # UpdateKeys, 50 a call; its delete only forgets the list (framework.WithNoOpDelete), leaving the keys.
    "aws:cloudfront/keyvaluestoreKeysExclusive:KeyvaluestoreKeysExclusive": _calls(
        "cloudfront-keyvaluestore:UpdateKeys",
        "cloudfront-keyvaluestore:DescribeKeyValueStore cloudfront-keyvaluestore:ListKeys",
        "cloudfront-keyvaluestore:UpdateKeys",
    ),
    # `publish` defaults to true: PublishFunction follows every create and update unless it is set false.
    "aws:cloudfront/function:Function": _calls(
        "cloudfront:CreateFunction cloudfront:PublishFunction",
        "cloudfront:DescribeFunction cloudfront:GetFunction",
        "cloudfront:UpdateFunction cloudfront:PublishFunction",
        "cloudfront:DeleteFunction",
    ),
    "aws:cloudfront/cachePolicy:CachePolicy": _calls(
        "cloudfront:CreateCachePolicy",
        "cloudfront:GetCachePolicy",
        "cloudfront:UpdateCachePolicy",
        "cloudfront:DeleteCachePolicy",
    ),
    # CreateDistributionWithTags always (tags or none), then GetDistribution until Deployed; the tags are read
    # after every read. A delete disables it (UpdateDistribution), waits, then deletes it with a fresh etag.
    "aws:cloudfront/distribution:Distribution": _calls(
        create="cloudfront:CreateDistribution cloudfront:TagResource",
        read="cloudfront:GetDistribution cloudfront:ListTagsForResource",
        update="cloudfront:UpdateDistribution cloudfront:TagResource cloudfront:UntagResource",
        delete="cloudfront:GetDistribution cloudfront:UpdateDistribution cloudfront:DeleteDistribution",
    ),
}

RESOURCE_TYPES: dict[str, ResourceType] = {
    token: replace(entry, calls=PROVIDER_CALLS[token]) for token, entry in _ENTRIES.items()
}
if set(PROVIDER_CALLS) != set(_ENTRIES):
    raise UnknownResourceType("every type of the catalogue has its provider calls, and every call list its type")

# The program's own components: no resource of their own in AWS, nothing to read back.
COMPONENT_TYPES = frozenset({"tenant-storage:index:TenantStorage", "tenant-storage:index:StackStorage"})


def resource_type(token: str) -> ResourceType:
    if token not in RESOURCE_TYPES:
        raise UnknownResourceType(
            f"the resource type {token} is not in the catalogue (catalogue/resource_types.py): say what it is "
            "there first (its inputs, what replaces it, whether it holds data, the calls its provider makes)"
        )
    return RESOURCE_TYPES[token]


def unknown_inputs(token: str, inputs: list[str] | set[str] | frozenset[str]) -> list[str]:
    """The inputs the catalogue's entry for `token` does not name."""
    return sorted(set(inputs) - resource_type(token).inputs)
