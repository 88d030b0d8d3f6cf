"""StackStorage: what one stack shares among its tenants.

- The access-log bucket (Security Hub S3.9): every tenant bucket logs to it under its own prefix. It has
  the guard rails of every bucket (ownership enforced, public access fully blocked, SSE-S3 as AWS's
  server access logging guide documents for a target bucket, versioning, TLS 1.2 only), a retention
  lifecycle, and a policy letting S3's log delivery write logs of this account's tenant buckets only.
- The customer-managed KMS key of the private profiles (S3.17), rotated yearly.
- One IAM group per profile (IAM.2 / CIS 1.15), whose policy grants through the user's `TenantBucket`
  tag, and the groups' memberships. A tenant user gets nothing else: its inline policies and managed
  attachments are managed exclusively, and only once the group grants exist (`TenantStorage.own_grants`).
- When a media-gallery tenant's `pub/` is served through CloudFront (tenant_storage/public_access.py): one
  distribution for the whole stack, its origin access control, the function that routes `/<orgId>/pub/...`
  to the tenant's bucket, the key value store the function looks the bucket up in (owned exclusively: a
  pair nobody declares is removed), and the cache policy that keeps tenants' objects apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from tenant_storage import naming, policies, public_access
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
    # The stack serves pub/ folders through its CloudFront distribution (its setting, or a tenant's, says so).
    cloudfront: bool = False

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
            cloudfront=settings.serves_through_cloudfront(tenants),
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

    @property
    def cloudfront_name(self) -> str:
        return public_access.cloudfront_name(self.bucket_prefix, self.shard_index)


@dataclass(frozen=True)
class SharedServices:
    """What a tenant's resources use of the stack's: where to log, the key of private buckets, and the
    distribution that serves pub/ folders (when the stack has one)."""

    log_bucket: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str] | None
    distribution_arn: pulumi.Output[str] | None = None
    distribution_domain: pulumi.Output[str] | None = None


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
        public = self._public_distribution() if args.cloudfront else None
        distribution = public[0] if public else None
        self._key_value_store: aws.cloudfront.KeyValueStore | None = public[1] if public else None
        self.services = SharedServices(
            log_bucket=log_target,
            kms_key_arn=key.arn if key else None,
            distribution_arn=distribution.arn if distribution else None,
            distribution_domain=distribution.domain_name if distribution else None,
        )
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
        if distribution is not None:
            self.outputs["publicDistributionDomain"] = distribution.domain_name
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

    def serve_public_folders(self, storages: Sequence[TenantStorage]) -> None:
        """List every tenant served through CloudFront in the key value store its function reads: orgId -> the
        bucket's regional domain. The list is the whole allow-list: a pair nobody declares is removed."""
        if self._key_value_store is None:
            return
        served = sorted(
            (storage for storage in storages if storage.args.served_through_cloudfront), key=lambda s: s.args.org_id
        )
        args = self.args
        aws.cloudfront.KeyvaluestoreKeysExclusive(
            "pub-tenant-origins",
            key_value_store_arn=self._key_value_store.arn,
            resource_key_value_pairs=[
                {
                    "key": storage.args.org_id,
                    "value": storage.bucket_name.apply(
                        lambda name: public_access.origin_domain(name, args.region, args.partition)
                    ),
                }
                for storage in served
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _public_distribution(self) -> tuple[aws.cloudfront.Distribution, aws.cloudfront.KeyValueStore]:
        """The stack's one distribution for every pub/ folder it serves, and what it is made of; with the key value
        store its function reads, which `serve_public_folders` fills."""
        args = self.args
        name = args.cloudfront_name
        child = pulumi.ResourceOptions(parent=self)
        access_control = aws.cloudfront.OriginAccessControl(
            "pub-origin-access-control",
            name=name,
            description=f"tenant-storage {args.stack}: CloudFront signs its requests to the tenant buckets",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        store = aws.cloudfront.KeyValueStore(
            "pub-tenants",
            name=name,
            comment=f"tenant-storage {args.stack}: orgId -> the regional domain of its bucket",
            opts=child,
        )
        router = aws.cloudfront.Function(
            "pub-router",
            name=name,
            runtime=public_access.ROUTER_RUNTIME,
            code=public_access.router_code(),
            comment=f"tenant-storage {args.stack}: /<orgId>/pub/<key> to that tenant's bucket",
            key_value_store_associations=[store.arn],
            publish=True,
            opts=child,
        )
        cache_policy = aws.cloudfront.CachePolicy(
            "pub-cache-policy",
            name=name,
            comment=f"tenant-storage {args.stack}: the path and the tenant; no cookie, no query string",
            default_ttl=public_access.DEFAULT_TTL_SECONDS,
            max_ttl=public_access.MAX_TTL_SECONDS,
            min_ttl=0,
            parameters_in_cache_key_and_forwarded_to_origin={
                "cookies_config": {"cookie_behavior": "none"},
                "headers_config": {"header_behavior": "whitelist", "headers": {"items": [public_access.TENANT_HEADER]}},
                "query_strings_config": {"query_string_behavior": "none"},
                "enable_accept_encoding_brotli": True,
                "enable_accept_encoding_gzip": True,
            },
            opts=child,
        )
        # Its one origin is the access-log bucket, which grants CloudFront nothing: a request the function did not
        # route to a tenant's bucket is refused there, never served.
        fallback = public_access.origin_domain(args.log_bucket_name, args.region, args.partition)
        distribution = aws.cloudfront.Distribution(
            "pub-distribution",
            comment=f"tenant-storage {args.stack}: the media gallery's pub/ folders",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            origins=[
                {
                    "origin_id": public_access.FALLBACK_ORIGIN_ID,
                    "domain_name": fallback,
                    "origin_access_control_id": access_control.id,
                }
            ],
            default_cache_behavior={
                "target_origin_id": public_access.FALLBACK_ORIGIN_ID,
                "allowed_methods": ["GET", "HEAD"],
                "cached_methods": ["GET", "HEAD"],
                # The buckets deny every request without TLS: CloudFront reaches S3 with the viewer's protocol.
                "viewer_protocol_policy": "https-only",
                "cache_policy_id": cache_policy.id,
                "compress": True,
                "function_associations": [{"event_type": "viewer-request", "function_arn": router.arn}],
            },
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={"cloudfront_default_certificate": True},
            tags={"Purpose": "public-folders", "AccountClass": args.account_class, "ManagedBy": "pulumi"},
            # Replacing it changes every tenant's public URL and voids every bucket's grant to it.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        return distribution, store

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
