"""StackStorage: what one stack shares among its tenants.

- The access-log bucket (Security Hub S3.9): every tenant bucket logs to it under its own prefix. It has
  the guard rails of every bucket (ownership enforced, public access fully blocked, SSE-S3 as AWS's
  server access logging guide documents for a target bucket, versioning, TLS 1.2 only), a retention
  lifecycle, and a policy letting S3's log delivery write logs of this account's tenant buckets only.
- The customer-managed KMS key of the private profiles (S3.17), rotated yearly.
- One IAM group per profile (IAM.2 / CIS 1.15), whose policy grants through the user's `TenantBucket`
  tag, and the groups' memberships. A tenant user gets nothing else: its inline policies and managed
  attachments are managed exclusively, and only once the group grants exist (`TenantStorage.own_grants`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from tenant_storage import naming, policies
from tenant_storage.regions import COMMERCIAL, Partition
from tenant_storage.registry import Profile, Tenant
from tenant_storage.stacks import StackSettings

if TYPE_CHECKING:
    from components.tenant_storage import TenantStorage

STACK_COMPONENT_TYPE = "tenant-storage:index:StackStorage"
GROUP_POLICY_NAME = "tenant-bucket-access"
ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7
KMS_KEY_DELETION_WINDOW_DAYS = 30
# The stem of the log bucket's resource names, by namespace: global keeps the names every stack deployed.
ACCESS_LOGS_STEM = {naming.GLOBAL_NAMESPACE: "access-logs", naming.ACCOUNT_REGIONAL_NAMESPACE: "access-logs-an"}


@dataclass(frozen=True)
class StackStorageArgs:
    stack: str
    account_id: str
    region: str
    bucket_prefix: str
    shard_index: int | None
    protect: bool
    access_log_retention_days: int
    private_bucket_encryption: str
    account_class: str
    partition: Partition = COMMERCIAL
    log_bucket_namespace: str = naming.GLOBAL_NAMESPACE
    # The log bucket of the stack before its log bucket moved to another namespace: kept as it was declared.
    retained_log_bucket_namespace: str | None = None
    # Adopted buckets whose names do not start with `<prefix>-`: the log delivery must accept them too.
    unconventional_buckets: tuple[str, ...] = ()
    key_administrator_arn: str = ""

    @classmethod
    def for_stack(
        cls, settings: StackSettings, account_id: str, account_class: str, tenants: Sequence[Tenant] = ()
    ) -> StackStorageArgs:
        prefix = f"{settings.naming.bucket_prefix}-"
        return cls(
            unconventional_buckets=tuple(
                sorted(t.bucket_name for t in tenants if t.bucket_name and not t.bucket_name.startswith(prefix))
            ),
            stack=settings.stack,
            account_id=account_id,
            region=settings.region,
            bucket_prefix=settings.naming.bucket_prefix,
            shard_index=settings.shard.index if settings.shard else None,
            protect=settings.production_class or settings.protect_buckets,
            access_log_retention_days=settings.access_log_retention_days,
            private_bucket_encryption=settings.private_bucket_encryption,
            account_class=account_class,
            partition=settings.partition,
            log_bucket_namespace=settings.access_log_bucket_namespace,
            retained_log_bucket_namespace=settings.retained_access_log_bucket_namespace,
            key_administrator_arn=settings.key_administrator_arn,
        )

    @property
    def log_bucket_name(self) -> str:
        return self.log_bucket_name_in(self.log_bucket_namespace)

    def log_bucket_name_in(self, namespace: str) -> str:
        return naming.access_log_bucket_name(
            self.bucket_prefix, self.account_id, self.region, self.shard_index, namespace
        )

    @property
    def tags(self) -> dict[str, str]:
        return {"Purpose": "access-logs", "AccountClass": self.account_class, "ManagedBy": "pulumi"}


@dataclass(frozen=True)
class SharedServices:
    """What a tenant's resources use of the stack's: where to log, and the key of private buckets."""

    log_bucket: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str] | None


class StackStorage(pulumi.ComponentResource):
    def __init__(self, name: str, args: StackStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(STACK_COMPONENT_TYPE, name, None, opts)
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        log_bucket, log_policy = self._access_log_bucket(args.log_bucket_namespace)
        retained = None
        if args.retained_log_bucket_namespace is not None:
            # Declared exactly as before the move, so the deploy changes nothing of it: its logs stay, expiring
            # as its lifecycle always said, and its policy still admits the logs S3 delivers late (a changed
            # logging target takes effect over about an hour) before the tenants' logs go only elsewhere.
            retained, _ = self._access_log_bucket(args.retained_log_bucket_namespace)
        key = None
        if args.private_bucket_encryption == "sse-kms":
            key = aws.kms.Key(
                "private-buckets-key",
                description=f"tenant-storage {args.stack}: SSE-KMS of the private tenant buckets",
                enable_key_rotation=True,
                deletion_window_in_days=KMS_KEY_DELETION_WINDOW_DAYS,
                # Its own policy (checkov CKV2_AWS_64): administered by the account, used for data only via S3.
                policy=json.dumps(
                    policies.kms_key_policy(
                        args.account_id, args.region, args.partition, args.key_administrator_arn, args.protect
                    )
                ),
                tags={"Purpose": "private-tenant-buckets", "AccountClass": args.account_class, "ManagedBy": "pulumi"},
                # Without its key, every object of every private bucket is unreadable.
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
        # Tenants log there only once S3's log delivery may write: the name is handed out after the policy.
        log_target = pulumi.Output.all(log_bucket.bucket, log_policy.id).apply(lambda values: str(values[0]))
        self.services = SharedServices(log_bucket=log_target, kms_key_arn=key.arn if key else None)
        self.groups: dict[Profile, aws.iam.Group] = {}
        self.group_policies: dict[Profile, aws.iam.GroupPolicy] = {}
        for profile in Profile:
            group = aws.iam.Group(
                f"{profile.value}-group", name=naming.group_name(args.stack, profile.value), opts=child
            )
            uses_key = key is not None and not profile.serves_public_folder
            self.groups[profile] = group
            group_policy = aws.iam.GroupPolicy(
                f"{profile.value}-group-policy",
                group=group.name,
                name=GROUP_POLICY_NAME,
                policy=_group_policy(profile, args, key.arn if uses_key and key else None),
                opts=child,
            )
            self.group_policies[profile] = group_policy
            # A group serves every tenant of its profile: a policy put on it or attached by hand is removed.
            aws.iam.GroupPoliciesExclusive(
                f"{profile.value}-group-inline-policies",
                group_name=group.name,
                policy_names=[GROUP_POLICY_NAME],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[group_policy]),
            )
            aws.iam.GroupPolicyAttachmentsExclusive(
                f"{profile.value}-group-policy-attachments", group_name=group.name, policy_arns=[], opts=child
            )
        # Stack outputs too: where the tenants' access logs go, and the log bucket kept from before a move.
        self.outputs: dict[str, pulumi.Output[str]] = {"accessLogBucket": log_bucket.bucket}
        if retained is not None:
            self.outputs["retainedAccessLogBucket"] = retained.bucket
        self.register_outputs(self.outputs)

    def grant(self, storages: Sequence[TenantStorage]) -> None:
        """Put each tenant's user in its profile's group, then let each tenant own its grants exclusively.

        The order keeps a deploy of the migration from the old inline policies without downtime: a user's
        inline policies are removed only after its group, the group's policy and its membership exist.
        """
        for profile in Profile:
            # Sorted: `users` is a set to the provider, so the registry's order must not read as a change.
            members = sorted(
                (storage for storage in storages if storage.args.profile is profile), key=lambda s: s.args.org_id
            )
            membership = aws.iam.GroupMembership(
                f"{profile.value}-group-members",
                group=self.groups[profile].name,
                users=[storage.iam_user_name for storage in members],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for storage in members:
                storage.own_grants(after=[self.group_policies[profile], membership])

    def _access_log_bucket(self, namespace: str) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        """The log bucket of `namespace`, its settings named by the namespace: a stack whose log bucket moves
        declares both, and the global one keeps the names (so the URNs) it always had."""
        args = self.args
        child = pulumi.ResourceOptions(parent=self)
        stem = ACCESS_LOGS_STEM[namespace]
        name = args.log_bucket_name_in(namespace)
        regional = namespace == naming.ACCOUNT_REGIONAL_NAMESPACE
        bucket = aws.s3.Bucket(
            f"{stem}-bucket",
            bucket=name,
            bucket_namespace=naming.ACCOUNT_REGIONAL_NAMESPACE if regional else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                retain_on_delete=args.protect,
                ignore_changes=naming.NAMESPACE_SET_AT_CREATE_ONLY,
            ),
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{stem}-ownership", bucket=bucket.bucket, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        block = aws.s3.BucketPublicAccessBlock(
            f"{stem}-public-access-block",
            bucket=bucket.bucket,
            block_public_acls=True,
            ignore_public_acls=True,
            block_public_policy=True,
            restrict_public_buckets=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ownership]),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{stem}-encryption",
            bucket=bucket.bucket,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{stem}-versioning", bucket=bucket.bucket, versioning_configuration={"status": "Enabled"}, opts=child
        )
        days = args.access_log_retention_days
        aws.s3.BucketLifecycleConfiguration(
            f"{stem}-lifecycle",
            bucket=bucket.bucket,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": days},
                    # An expired log becomes a noncurrent version: gone a day later, so logs live `days`.
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS},
                },
                {
                    "id": "remove-expired-delete-markers",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"expired_object_delete_marker": True},
                },
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        policy = aws.s3.BucketPolicy(
            f"{stem}-bucket-policy",
            bucket=bucket.bucket,
            policy=json.dumps(
                policies.access_log_bucket_policy(
                    name,
                    args.account_id,
                    args.bucket_prefix,
                    args.partition,
                    args.unconventional_buckets,
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block, ownership]),
        )
        return bucket, policy


def _group_policy(profile: Profile, args: StackStorageArgs, key_arn: pulumi.Output[str] | None) -> pulumi.Output[str]:
    def document(arn: Any) -> str:
        return json.dumps(policies.group_policy(profile, args.partition, arn, args.region))

    if key_arn is None:
        return pulumi.Output.from_input(document(None))
    return key_arn.apply(document)
