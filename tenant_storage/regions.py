"""Which AWS partition a region belongs to: ARNs and endpoints differ between partitions.

A bucket ARN is `arn:aws:s3:::name` in the commercial partition but `arn:aws-cn:s3:::name` in China,
and a policy naming the wrong partition grants nothing (or fails to apply). The partition is derived
from the stack's region, so no setting can disagree with it.

The partitions, their regions and DNS suffixes are botocore's own data (`botocore/data/partitions.json`,
the endpoint rules every AWS SDK ships), not a table written here: a partition or region AWS adds
arrives with a botocore upgrade (a reviewed `uv.lock` change), and a region nobody listed is refused.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Partition:
    name: str
    dns_suffix: str


# The partitions this program is written for: those with the public S3, IAM, KMS and STS endpoints it
# calls. The isolated partitions (aws-iso*) are refused rather than guessed.
SUPPORTED_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-eusc")
_REGION_SHAPE = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")


@functools.cache
def _partitions() -> tuple[dict[str, Any], ...]:
    from botocore.loaders import Loader

    return tuple(Loader().load_data("partitions")["partitions"])


@functools.cache
def partition(name: str) -> Partition:
    [found] = [p for p in _partitions() if p["id"] == name]
    return Partition(found["id"], found["outputs"]["dnsSuffix"])


@functools.cache
def regions(name: str) -> frozenset[str]:
    """The regions botocore lists for the partition (its `*-global` pseudo-regions left out)."""
    [found] = [p for p in _partitions() if p["id"] == name]
    return frozenset(region for region in found["regions"] if not region.endswith("-global"))


COMMERCIAL = partition("aws")
CHINA = partition("aws-cn")
GOVCLOUD = partition("aws-us-gov")
EUROPEAN_SOVEREIGN_CLOUD = partition("aws-eusc")


def partition_of(region: str) -> Partition | None:
    """The partition of `region`, or None when it is not a region of a supported partition."""
    for name in SUPPORTED_PARTITIONS:
        if region in regions(name):
            return partition(name)
    return None


def _claimed_by(region: str) -> str | None:
    """The partition whose region pattern `region` has, listed or not."""
    for found in _partitions():
        if re.fullmatch(found["regionRegex"], region):
            return str(found["id"])
    return None


def supported() -> str:
    return "; ".join(f"{name}: {', '.join(sorted(regions(name)))}" for name in SUPPORTED_PARTITIONS)


def region_problem(region: str) -> str | None:
    if not _REGION_SHAPE.fullmatch(region):
        return f"{region!r} is not an AWS region name (for example us-east-1)"
    if partition_of(region) is not None:
        return None
    claimed = _claimed_by(region)
    if claimed is not None and claimed not in SUPPORTED_PARTITIONS:
        return (
            f"{region!r} is a region of the {claimed} partition, which tenant-storage does not support; "
            f"supported: {', '.join(SUPPORTED_PARTITIONS)}"
        )
    return (
        f"{region!r} is not a region botocore knows (a region AWS added since? upgrade botocore with "
        "make lock); for example us-east-1, eu-west-1, cn-north-1, us-gov-west-1 or eusc-de-east-1"
    )


# The regions where S3 has no account regional namespace, as AWS's user guide lists them ("Namespaces for
# general purpose buckets": every Region except these); botocore carries no data on it.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/gpbucketnamespaces.html
WITHOUT_ACCOUNT_REGIONAL_NAMESPACE = {"me-south-1": "Middle East (Bahrain)", "me-central-1": "Middle East (UAE)"}


def account_regional_namespace_problem(region: str) -> str | None:
    """Why buckets of `region` cannot be in the account regional namespace, or None when they can."""
    if region in WITHOUT_ACCOUNT_REGIONAL_NAMESPACE:
        return (
            f"S3 has no account regional namespace in {region} ({WITHOUT_ACCOUNT_REGIONAL_NAMESPACE[region]}); "
            "use global there"
        )
    return None
