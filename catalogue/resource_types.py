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

from dataclasses import dataclass
from typing import Literal

Data = Literal["holds", "unlocks", ""]

# pulumi-aws 7: every regional resource takes `region`, and a change of it replaces the resource.
REGION_INPUT = "region"


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


RESOURCE_TYPES: dict[str, ResourceType] = {
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
        _s3("BucketLifecycleConfiguration", "lifecycle", "rules", owner=True),
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
        ResourceType(
            "aws:secretsmanager/secret:Secret",
            "credential-store",
            frozenset({"name", REGION_INPUT, "tags", "kmsKeyId"}),
            frozenset({"name", "namePrefix"}),
            "internal/service/secretsmanager/secret.go",
            chosen_at_create=frozenset({"id", "arn"}),
        ),
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
    )
}

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
