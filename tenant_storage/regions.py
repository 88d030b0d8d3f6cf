"""Which AWS partition a region belongs to: ARNs and endpoints differ between partitions.

A bucket ARN is `arn:aws:s3:::name` in the commercial partition but `arn:aws-cn:s3:::name` in China,
and a policy naming the wrong partition grants nothing (or fails to apply). The partition is derived
from the stack's region, so no setting can disagree with it; regions of partitions this program has
not been written for (the ISO and sovereign clouds) are refused instead of guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Partition:
    name: str
    dns_suffix: str


COMMERCIAL = Partition("aws", "amazonaws.com")
CHINA = Partition("aws-cn", "amazonaws.com.cn")
GOVCLOUD = Partition("aws-us-gov", "amazonaws.com")

_REGION_SHAPE = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")
# Every region name so far is <area>-<direction>-<n>; a made-up word (us-fake-9) is refused.
_DIRECTION = r"(east|west|north|south|central|northeast|northwest|southeast|southwest)"
_PARTITIONS = (
    (re.compile(rf"us-gov-{_DIRECTION}-[0-9]{{1,2}}"), GOVCLOUD),
    (re.compile(rf"cn-{_DIRECTION}-[0-9]{{1,2}}"), CHINA),
    (re.compile(rf"(af|ap|ca|eu|il|me|mx|sa|us)-{_DIRECTION}-[0-9]{{1,2}}"), COMMERCIAL),
)
SUPPORTED = "commercial regions such as us-east-1, China (cn-*) and GovCloud (us-gov-*)"


def partition_of(region: str) -> Partition | None:
    """The partition of `region`, or None when it is not a region of a supported partition."""
    for pattern, partition in _PARTITIONS:
        if pattern.fullmatch(region):
            return partition
    return None


def region_problem(region: str) -> str | None:
    if not _REGION_SHAPE.fullmatch(region):
        return f"{region!r} is not an AWS region name (for example us-east-1)"
    if partition_of(region) is None:
        return f"{region!r} is not a region of a partition tenant-storage supports; supported: {SUPPORTED}"
    return None
