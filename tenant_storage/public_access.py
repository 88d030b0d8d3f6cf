"""How a media-gallery tenant's `pub/` folder reaches the internet: the one model every consumer reads.

- `bucket-policy` (the default, the provisioning checklist's way): the bucket policy lets anyone
  `s3:GetObject` on `pub/*`, so two public access block settings are off. An account whose S3 Block
  Public Access is on refuses that policy (`preflight` says so).
- `cloudfront`: every bucket keeps all four public access block settings on. One CloudFront distribution
  per stack serves `https://<distribution>/<orgId>/pub/<key>`: a CloudFront Function looks the orgId up in
  the stack's key value store (orgId -> the bucket's regional domain, an allow-list the stack owns),
  and the request reaches the bucket signed by origin access control (SigV4, as the CloudFront service
  principal). The bucket policy allows that principal `s3:GetObject` on `pub/*` only, and only for the
  stack's distribution (`aws:SourceArn`).
- `bucket-policy-and-cloudfront`: both at once, for the days the apps move to the CloudFront URL
  (docs/public-access.md): the old URLs keep working until the stack moves on to `cloudfront`.

Why one distribution, a function and a key value store, rather than a distribution per tenant (500 per
account), an origin per tenant (100 per distribution) or CloudFront's multi-tenant distributions (a domain
and a certificate per tenant): docs/public-access.md, with AWS's documentation cited.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from tenant_storage.regions import COMMERCIAL, Partition


class PublicAccess(StrEnum):
    BUCKET_POLICY = "bucket-policy"
    BUCKET_POLICY_AND_CLOUDFRONT = "bucket-policy-and-cloudfront"
    CLOUDFRONT = "cloudfront"

    @property
    def anonymous_at_s3(self) -> bool:
        """Anyone may read `pub/*` straight from S3 (the bucket policy's `PublicReadOfPubFolder`)."""
        return self is not PublicAccess.CLOUDFRONT

    @property
    def through_cloudfront(self) -> bool:
        """The stack's distribution serves `pub/*` (the bucket policy's `CloudFrontReadOfPubFolder`)."""
        return self is not PublicAccess.BUCKET_POLICY


PUBLIC_PREFIX = "pub/"
PUBLIC_ACCESS_MODES = tuple(mode.value for mode in PublicAccess)
DEFAULT_PUBLIC_ACCESS = PublicAccess.BUCKET_POLICY

CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"
# CloudFront is a service of the commercial partition: GovCloud has none, and China's (an ICP-filed domain, its
# own service principal and ARNs) is not modelled here. Refused elsewhere rather than guessed.
CLOUDFRONT_PARTITIONS = (COMMERCIAL.name,)
# The function's runtime: 2.0 is the one with key value stores and origin modification (cf.updateRequestOrigin).
ROUTER_RUNTIME = "cloudfront-js-2.0"
ROUTER_CODE_FILE = Path(__file__).with_name("cloudfront_router.js")
# The header the function sets to the orgId, and the cache policy keys on: two tenants' pub/x are two entries.
TENANT_HEADER = "x-tenant"
# How long CloudFront keeps an object it read (a day unless the object says otherwise, a year at most): a replaced
# image shows within a day, or at once under a new key.
DEFAULT_TTL_SECONDS = 86_400
MAX_TTL_SECONDS = 31_536_000
# The distribution's one declared origin, which the function replaces for every request it serves.
FALLBACK_ORIGIN_ID = "unrouted"
# CloudFront's name rules for functions, key value stores, cache policies and origin access controls.
CLOUDFRONT_NAME_MAX_LENGTH = 64


def router_code() -> str:
    return ROUTER_CODE_FILE.read_text(encoding="utf-8")


def cloudfront_partition_problem(partition: Partition) -> str | None:
    if partition.name in CLOUDFRONT_PARTITIONS:
        return None
    return (
        f"the stack's region is in the {partition.name} partition, where tenant-storage does not serve pub/ through "
        f"CloudFront (only in {', '.join(CLOUDFRONT_PARTITIONS)}); keep {DEFAULT_PUBLIC_ACCESS.value}"
    )


def cloudfront_name(bucket_prefix: str, shard_index: int | None) -> str:
    """The name of the stack's function, key value store, cache policy and origin access control: unique in the
    account (a stack has an account to itself; shards of one stack each have their own)."""
    return f"{bucket_prefix}-pub" + (f"-{shard_index}" if shard_index is not None else "")


def cloudfront_name_problem(bucket_prefix: str, shard_index: int | None) -> str | None:
    name = cloudfront_name(bucket_prefix, shard_index)
    if len(name) <= CLOUDFRONT_NAME_MAX_LENGTH:
        return None
    return (
        f"the stack's CloudFront names would be {name!r}, {len(name)} characters; CloudFront allows "
        f"{CLOUDFRONT_NAME_MAX_LENGTH}: shorten the prefix"
    )


def origin_domain(bucket_name: str, region: str, partition: Partition = COMMERCIAL) -> str:
    """The bucket's regional domain: the origin the function sends a tenant's requests to."""
    return f"{bucket_name}.s3.{region}.{partition.dns_suffix}"


def s3_public_base_url(bucket_name: str, region: str, partition: Partition = COMMERCIAL) -> str:
    return f"https://{origin_domain(bucket_name, region, partition)}/{PUBLIC_PREFIX}"


def cloudfront_public_base_url(distribution_domain: str, org_id: str) -> str:
    return f"https://{distribution_domain}/{org_id}/{PUBLIC_PREFIX}"


def distribution_arn(account_id: str, distribution_id: str, partition: Partition = COMMERCIAL) -> str:
    return f"arn:{partition.name}:cloudfront::{account_id}:distribution/{distribution_id}"
