"""TenantStorage: one tenant's bucket, its guard rails, and the IAM user its app signs in with.

Secure by default, one setting per knob, in the spirit of AWS CDK's `Bucket`:
ACLs disabled (BucketOwnerEnforced), public access blocked unless anyone reads `pub/` straight from S3
(the `bucket-policy` way of tenant_storage/public_access.py; served through CloudFront, all four stay on),
SSE-S3 encryption, versioning with noncurrent-version expiry, TLS-only bucket policy, no
`force_destroy`, and protection plus retain-on-delete where the stack asks for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.stack_storage import SharedServices
from tenant_storage import naming, policies
from tenant_storage.naming import GLOBAL_NAMESPACE, access_key_resource_name, child_resource_name
from tenant_storage.public_access import (
    DEFAULT_PUBLIC_ACCESS,
    PUBLIC_PREFIX,
    PublicAccess,
    cloudfront_public_base_url,
    s3_public_base_url,
)
from tenant_storage.regions import COMMERCIAL, Partition
from tenant_storage.registry import DEFAULT_KEY_LABEL, Environment, NamingRules, Profile, Tenant
from tenant_storage.stacks import StackSettings

COMPONENT_TYPE = "tenant-storage:index:TenantStorage"
ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7
CREDENTIALS_PATH = "tenant-storage"


@dataclass(frozen=True)
class TenantStorageArgs:
    org_id: str
    environment: Environment
    profile: Profile
    region: str
    random_suffix: bool = False
    naming: NamingRules = field(default_factory=NamingRules)
    protect_bucket: bool = False
    noncurrent_version_expiration_days: int = 30
    key_labels: tuple[str, ...] = (DEFAULT_KEY_LABEL,)
    credential_store: str = "none"
    partition: Partition = COMMERCIAL
    private_encryption: str = "sse-kms"
    adopt: bool = False
    pinned_bucket_name: str | None = None
    bucket_namespace: str = GLOBAL_NAMESPACE
    # How its pub/ is public, if its profile has one.
    public_access: PublicAccess = DEFAULT_PUBLIC_ACCESS

    @classmethod
    def for_tenant(cls, tenant: Tenant, settings: StackSettings) -> TenantStorageArgs:
        return cls(
            org_id=tenant.org_id,
            environment=tenant.environment,
            profile=tenant.profile,
            region=settings.region,
            random_suffix=tenant.random_suffix,
            naming=settings.naming,
            protect_bucket=settings.protects(tenant),
            noncurrent_version_expiration_days=settings.noncurrent_version_expiration_days,
            key_labels=tenant.key_labels,
            credential_store=settings.credential_store,
            partition=settings.partition,
            private_encryption=settings.private_bucket_encryption,
            adopt=tenant.adopt,
            pinned_bucket_name=tenant.bucket_name,
            bucket_namespace=settings.naming.namespace_of(tenant),
            public_access=settings.public_access_of(tenant) or DEFAULT_PUBLIC_ACCESS,
        )

    @property
    def anonymous_at_s3(self) -> bool:
        return self.profile.serves_public_folder and self.public_access.anonymous_at_s3

    @property
    def served_through_cloudfront(self) -> bool:
        return self.profile.serves_public_folder and self.public_access.through_cloudfront

    @property
    def tags(self) -> dict[str, str]:
        return {"OrgId": self.org_id, "Environment": self.environment.value, "ManagedBy": "pulumi"}

    @property
    def bucket_tags(self) -> dict[str, str]:
        """A private bucket left on SSE-S3 by the stack's choice says so, for auditors and the policy pack."""
        if self.private_encryption == "sse-s3" and not self.profile.serves_public_folder:
            return {**self.tags, "PrivateEncryption": "sse-s3"}
        return self.tags


class TenantStorage(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    iam_user_name: pulumi.Output[str]
    iam_user_arn: pulumi.Output[str]
    access_key_ids: dict[str, pulumi.Output[str]]
    secret_access_keys: dict[str, pulumi.Output[str]]
    public_base_url: pulumi.Output[str] | None
    s3_public_base_url: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: TenantStorageArgs,
        services: SharedServices,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.args = args
        org, profile = args.org_id, args.profile
        child = pulumi.ResourceOptions(parent=self)

        # Only a bucket this stack creates in the account regional namespace says so: a global bucket keeps the inputs
        # it always had, and an adopted one exists already. Only CreateBucket carries the namespace
        # (x-amz-bucket-namespace) and no read API returns it, so declared on an import it could only differ from
        # what the provider reads back, a replacement of an imported bucket; left out, the provider keeps its own
        # (the input is Optional and Computed, catalogue/resource_types.py).
        regional = args.bucket_namespace == naming.ACCOUNT_REGIONAL_NAMESPACE and not args.adopt
        bucket = aws.s3.Bucket(
            child_resource_name(org, "bucket"),
            bucket=self._declared_bucket_name(),
            bucket_namespace=naming.ACCOUNT_REGIONAL_NAMESPACE if regional else None,
            tags=args.bucket_tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect_bucket,
                retain_on_delete=args.protect_bucket,
                # An adopted bucket exists: import it (by name), and the deploy updates it to these settings.
                import_=self._bucket_name() if args.adopt else None,
                ignore_changes=naming.NAMESPACE_SET_AT_CREATE_ONLY,
            ),
        )
        ownership = aws.s3.BucketOwnershipControls(
            child_resource_name(org, "ownership"),
            bucket=bucket.bucket,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        # Serialised after ownership: concurrent configuration calls on one bucket can fail with 409 OperationAborted.
        public_access_block = aws.s3.BucketPublicAccessBlock(
            child_resource_name(org, "public-access-block"),
            bucket=bucket.bucket,
            block_public_acls=True,
            ignore_public_acls=True,
            block_public_policy=not args.anonymous_at_s3,
            restrict_public_buckets=not args.anonymous_at_s3,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ownership]),
        )
        self._bucket = bucket
        # The move to SSE-KMS waits for the group grants (`own_grants`): before them, the user could not
        # use the key, and uploads would fail during the migration from per-user policies.
        self._kms_key_arn = None if profile.serves_public_folder else services.kms_key_arn
        encryption = self._encryption([]) if self._kms_key_arn is None else None
        aws.s3.BucketLogging(
            child_resource_name(org, "access-logging"),
            bucket=bucket.bucket,
            target_bucket=services.log_bucket,
            target_prefix=f"{org}/",
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            child_resource_name(org, "versioning"),
            bucket=bucket.bucket,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            child_resource_name(org, "lifecycle"),
            bucket=bucket.bucket,
            rules=[
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_expiration_days},
                },
                {
                    "id": "abort-incomplete-multipart-uploads",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS},
                },
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        # AWS rejects a public policy until the public access block allows it.
        aws.s3.BucketPolicy(
            child_resource_name(org, "bucket-policy"),
            bucket=bucket.bucket,
            policy=self._bucket_policy(bucket, services),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block, ownership]),
        )
        if profile.serves_public_folder:
            aws.s3.BucketObjectv2(
                child_resource_name(org, "pub-folder"),
                bucket=bucket.bucket,
                key=PUBLIC_PREFIX,
                content="",
                server_side_encryption="AES256",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[ownership, *([encryption] if encryption else [])]),
            )

        # The tag is what the profile group's policy grants on; the user holds no IAM right to change it.
        user_tags: dict[str, pulumi.Input[str]] = {**args.tags, policies.TENANT_BUCKET_TAG: bucket.bucket}
        user_name = naming.iam_user_name(args.naming.iam_user_prefix, org)
        user = aws.iam.User(
            child_resource_name(org, "user"),
            name=user_name,
            tags=user_tags,
            opts=pulumi.ResourceOptions(parent=self, import_=user_name if args.adopt else None),
        )
        # One resource per label, so that adding or removing a label creates or deletes only that key.
        access_keys = {
            label: aws.iam.AccessKey(access_key_resource_name(org, label), user=user.name, opts=child)
            for label in args.key_labels
        }

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.iam_user_name = user.name
        self.iam_user_arn = user.arn
        self.access_key_ids = {label: key.id for label, key in access_keys.items()}
        # The provider marks `secret` secret, but a mock or an older provider may not: never rely on it.
        self.secret_access_keys = {label: pulumi.Output.secret(key.secret) for label, key in access_keys.items()}
        self._store_credentials()
        self.public_base_url, self.s3_public_base_url = self._public_base_urls(services)
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "iamUserName": self.iam_user_name,
                "iamUserArn": self.iam_user_arn,
                "accessKeyIds": self.access_key_ids,
                "secretAccessKeys": self.secret_access_keys,
            }
        )

    def _bucket_policy(self, bucket: aws.s3.Bucket, services: SharedServices) -> pulumi.Output[str]:
        args = self.args
        distribution: pulumi.Input[str] = ""
        if args.served_through_cloudfront:
            if services.distribution_arn is None:
                raise ValueError(f"tenant {args.org_id} is served through CloudFront, and the stack declares none")
            distribution = services.distribution_arn
        return pulumi.Output.all(bucket.bucket, distribution).apply(
            lambda values: _json(
                policies.bucket_policy(args.profile, values[0], args.partition, args.public_access, values[1] or None)
            )
        )

    def _public_base_urls(
        self, services: SharedServices
    ) -> tuple[pulumi.Output[str] | None, pulumi.Output[str] | None]:
        """Where the app finds its public files (CloudFront's URL once the stack serves it there), and the S3 URL
        that keeps working beside it while the stack serves both."""
        args = self.args
        s3 = (
            self.bucket_name.apply(lambda name: s3_public_base_url(name, args.region, args.partition))
            if args.anonymous_at_s3
            else None
        )
        if not args.served_through_cloudfront or services.distribution_domain is None:
            return s3, None
        cloudfront = services.distribution_domain.apply(lambda domain: cloudfront_public_base_url(domain, args.org_id))
        return cloudfront, s3

    def own_grants(self, after: Sequence[pulumi.Resource]) -> None:
        """Own the user's policies exclusively: a policy put on it or attached by hand is removed.

        Ordered `after` the group grants, so that replacing the old inline policy never leaves the user
        without permissions, even for a moment.
        """
        org = self.args.org_id
        options = pulumi.ResourceOptions(parent=self, depends_on=list(after))
        aws.iam.UserPoliciesExclusive(
            child_resource_name(org, "inline-policies"), user_name=self.iam_user_name, policy_names=[], opts=options
        )
        aws.iam.UserPolicyAttachmentsExclusive(
            child_resource_name(org, "policy-attachments"), user_name=self.iam_user_name, policy_arns=[], opts=options
        )
        if self._kms_key_arn is not None:
            self._encryption(after)

    def _encryption(self, after: Sequence[pulumi.Resource]) -> aws.s3.BucketServerSideEncryptionConfiguration:
        return aws.s3.BucketServerSideEncryptionConfiguration(
            child_resource_name(self.args.org_id, "encryption"),
            bucket=self._bucket.bucket,
            rules=[_encryption_rule(self._kms_key_arn)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )

    def app_environment(self) -> dict[str, pulumi.Input[str]]:
        """The variables the tenant's app server reads, for the newest key."""
        label = self.newest_key_label
        return {
            "BUCKET_NAME": self.bucket_name,
            "AWS_KEY": self.access_key_ids[label],
            "AWS_SECRET": self.secret_access_keys[label],
            "AWS_REGION": self.args.region,
        }

    def _store_credentials(self) -> None:
        """Hand the credentials to a secret store, so that nobody copies them into files or chat."""
        args, org = self.args, self.args.org_id
        child = pulumi.ResourceOptions(parent=self)
        if args.credential_store == "secretsmanager":
            secret = aws.secretsmanager.Secret(
                child_resource_name(org, "credentials"), name=f"{CREDENTIALS_PATH}/{org}", tags=args.tags, opts=child
            )
            aws.secretsmanager.SecretVersion(
                child_resource_name(org, "credentials-version"),
                secret_id=secret.id,
                secret_string=self._secret_json(self.app_environment()),
                opts=child,
            )
        elif args.credential_store == "ssm":
            for variable, value in self.app_environment().items():
                aws.ssm.Parameter(
                    child_resource_name(org, f"credentials-{variable.lower().replace('_', '-')}"),
                    name=f"/{CREDENTIALS_PATH}/{org}/{variable}",
                    type="SecureString",
                    value=pulumi.Output.secret(value),
                    tags=args.tags,
                    opts=child,
                )

    @staticmethod
    def _secret_json(values: dict[str, pulumi.Input[str]]) -> pulumi.Output[str]:
        document: pulumi.Output[str] = pulumi.Output.json_dumps(values)
        return pulumi.Output.secret(document)

    def _bucket_name(self) -> str:
        """The bucket's name when it is known before the deploy (no random suffix)."""
        args = self.args
        return args.pinned_bucket_name or self._tenant_bucket_name()

    def _tenant_bucket_name(self, suffix: str | None = None) -> str:
        rules = self.args.naming
        return naming.tenant_bucket_name(
            rules.bucket_prefix, self.args.org_id, self.args.bucket_namespace, rules.account_id, rules.region, suffix
        )

    def _declared_bucket_name(self) -> pulumi.Input[str]:
        args = self.args
        if not args.random_suffix:
            return self._bucket_name()
        # A random resource, not random.random(): the suffix is chosen once and kept in state.
        suffix = random.RandomId(
            child_resource_name(args.org_id, "bucket-suffix"),
            byte_length=naming.RANDOM_SUFFIX_BYTES,
            keepers={"orgId": args.org_id},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return suffix.hex.apply(self._tenant_bucket_name)

    @property
    def newest_key_label(self) -> str:
        """The last label listed: the key an app should be using once a rotation is under way."""
        return self.args.key_labels[-1]

    def summary(self) -> dict[str, Any]:
        """What the `tenants` stack output shows for this tenant: nothing secret."""
        summary: dict[str, Any] = {
            "bucketName": self.bucket_name,
            "bucketArn": self.bucket_arn,
            "region": self.args.region,
            "iamUserName": self.iam_user_name,
            "iamUserArn": self.iam_user_arn,
            "accessKeyId": self.access_key_ids[self.newest_key_label],
            "accessKeyIds": self.access_key_ids,
            "profile": self.args.profile.value,
            "environment": self.args.environment.value,
            "bucketNamespace": self.args.bucket_namespace,
        }
        if self.public_base_url is not None:
            summary["publicBaseUrl"] = self.public_base_url
            summary["publicAccess"] = self.args.public_access.value
        if self.s3_public_base_url is not None:
            # Served both ways (bucket-policy-and-cloudfront): the S3 URL works until the stack moves to cloudfront.
            summary["s3PublicBaseUrl"] = self.s3_public_base_url
        return summary


def _encryption_rule(
    kms_key_arn: pulumi.Output[str] | None,
) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgsDict:
    if kms_key_arn is None:
        # SSE-S3 for media-gallery: anonymous readers of pub/ cannot use a KMS key.
        return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    # SSE-KMS with the stack's key for private buckets; a bucket key spares a KMS call per object.
    return {
        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn},
        "bucket_key_enabled": True,
    }


def _json(document: dict[str, Any]) -> str:
    # Compact: json's C encoder does not handle indent, and AWS normalises policy documents anyway.
    return json.dumps(document)
