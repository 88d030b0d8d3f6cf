"""What each tenant stores and costs: figures from S3's daily storage metrics and Cost Explorer.

Pure: the live command (`live/usage.py`) fetches the series and renders the report; this module turns
the series into per-tenant figures. S3 publishes `BucketSizeBytes` per storage class (the `StorageType` dimension) and
`NumberOfObjects` (`AllStorageTypes`) once a day, free; which storage classes a bucket has is whatever
metrics S3 published for it, so a class nobody listed here is still counted.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GROWTH_DAYS = 30
LARGEST_GROWTH_SHOWN = 5
SORTS = ("bytes", "objects", "orgId")
# What S3's storage metrics count (S3 user guide, "Metrics and dimensions"): more than a tenant sees when it lists.
METRICS_COUNT = (
    "S3's daily figures count more than a tenant's app lists: BucketSizeBytes includes the noncurrent versions "
    "kept for restore (noncurrentVersionExpirationDays), and NumberOfObjects counts noncurrent versions, delete "
    "markers and the parts of unfinished multipart uploads too; S3's metrics do not tell current bytes apart "
    '(S3 user guide, "Metrics and dimensions")'
)


@dataclass(frozen=True)
class TenantUsage:
    stack: str
    org_id: str
    bucket: str
    # storage type (S3's StorageType dimension, for example StandardStorage) -> bytes, the latest day; None: S3
    # published no size for it (a new or empty bucket), which is unknown, not zero
    bytes_by_storage_type: Mapping[str, int] | None
    objects: int | None  # the latest day's object count; None: not published for that day
    growth: int | None  # bytes more (or fewer) than GROWTH_DAYS days before the latest day; None: no such day
    day: str  # the latest day with figures, YYYY-MM-DD ("" when S3 has published none yet)
    cost: float | None = None

    @property
    def bytes(self) -> int | None:
        return None if self.bytes_by_storage_type is None else sum(self.bytes_by_storage_type.values())

    def to_json(self) -> dict[str, Any]:
        by_type = self.bytes_by_storage_type
        document: dict[str, Any] = {
            "stack": self.stack,
            "orgId": self.org_id,
            "bucket": self.bucket,
            "bytes": self.bytes,
            "objects": self.objects,
            "bytesByStorageType": None if by_type is None else dict(sorted(by_type.items())),
            "growth30Days": self.growth,
            "day": self.day,
        }
        if self.cost is not None:
            document["cost"] = round(self.cost, 2)
        return document


def daily_series(points: Sequence[tuple[datetime.datetime, float]]) -> dict[str, int]:
    """Datapoints as whole numbers per UTC day (S3's daily metrics: one a day; the later one wins)."""
    return {f"{when.astimezone(datetime.UTC):%Y-%m-%d}": round(value) for when, value in sorted(points)}


def tenant_usage(
    stack: str,
    org_id: str,
    bucket: str,
    size_by_storage_type: Mapping[str, Mapping[str, int]],
    objects_by_day: Mapping[str, int],
) -> TenantUsage:
    """One tenant's figures from its daily series: the latest day's bytes per storage type and objects, and
    the growth of its total bytes over GROWTH_DAYS days (from the nearest day at or before then)."""
    size_days = {day for series in size_by_storage_type.values() for day in series}
    days = sorted(size_days | set(objects_by_day))
    if not days:
        return TenantUsage(stack, org_id, bucket, None, None, None, "")
    latest = days[-1]

    def total(day: str) -> int:
        return sum(series.get(day, 0) for series in size_by_storage_type.values())

    by_type = (
        {storage_type: series[latest] for storage_type, series in size_by_storage_type.items() if series.get(latest)}
        if latest in size_days
        else None
    )
    then = f"{datetime.date.fromisoformat(latest) - datetime.timedelta(days=GROWTH_DAYS):%Y-%m-%d}"
    earlier = [day for day in sorted(size_days) if day <= then]
    growth = total(latest) - total(earlier[-1]) if earlier and by_type is not None else None
    return TenantUsage(stack, org_id, bucket, by_type, objects_by_day.get(latest), growth, latest)


@dataclass
class UsageReport:
    tenants: list[TenantUsage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the figures leave out, and why
    missing: list[str] = field(default_factory=list)  # tenants whose figures could not be found (exit status 1)
    month: str = ""  # the month of the costs, YYYY-MM, when asked for
    untagged_cost: float | None = None  # cost in the month without an OrgId tag (shared resources, untagged)

    @property
    def total_bytes(self) -> int:
        """The bytes of the tenants with figures (a tenant without is named in a note, not counted as zero)."""
        return sum(tenant.bytes or 0 for tenant in self.tenants)

    @property
    def total_objects(self) -> int:
        return sum(tenant.objects or 0 for tenant in self.tenants)

    @property
    def measured(self) -> list[TenantUsage]:
        """The tenants with figures: the others are unknown, never zero."""
        return [tenant for tenant in self.tenants if tenant.bytes is not None or tenant.objects is not None]

    def sorted_by(self, sort: str) -> None:
        """Largest first by bytes or objects (tenants without figures last), or by orgId."""
        if sort == "orgId":
            self.tenants.sort(key=lambda tenant: tenant.org_id)
            return

        def figure(tenant: TenantUsage) -> int | None:
            return tenant.bytes if sort == "bytes" else tenant.objects

        self.tenants.sort(key=lambda tenant: (figure(tenant) is None, -(figure(tenant) or 0), tenant.org_id))

    def largest_growth(self) -> list[TenantUsage]:
        grown = [tenant for tenant in self.tenants if (tenant.growth or 0) > 0]
        return sorted(grown, key=lambda tenant: (-(tenant.growth or 0), tenant.org_id))[:LARGEST_GROWTH_SHOWN]

    def all_notes(self) -> list[str]:
        """The notes, the tenants left out, and what S3 has not published per tenant."""
        notes = [*self.notes, *self.missing]
        if silent := [t.org_id for t in self.tenants if not t.day]:
            notes.append(
                f"S3 publishes storage metrics once a day: no figures yet for {', '.join(silent)} (a new bucket)"
            )
        for tenant in self.tenants:
            if tenant.day and tenant.bytes is None:
                notes.append(f"{tenant.org_id}: S3 published no size for {tenant.day}, only the object count")
            if tenant.day and tenant.objects is None:
                notes.append(f"{tenant.org_id}: S3 published no object count for {tenant.day}, only the size")
        return notes + ([METRICS_COUNT] if self.measured else [])

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "tenants": [tenant.to_json() for tenant in self.tenants],
            "totals": {"bytes": self.total_bytes, "objects": self.total_objects},
            "largestGrowth30Days": [tenant.org_id for tenant in self.largest_growth()],
            "notes": self.all_notes(),
        }
        if self.month:
            document["costMonth"] = self.month
            known = [t.cost for t in self.tenants if t.cost is not None]
            document["totals"]["cost"] = round(sum(known), 2) if known else None
            document["untaggedCost"] = None if self.untagged_cost is None else round(self.untagged_cost, 2)
        return document


def tag_values(groups: Sequence[Mapping[str, Any]], tag: str = "OrgId") -> tuple[dict[str, float], float]:
    """Cost Explorer's groups by a tag (`Keys: ["OrgId$acme"]`) as {orgId: cost} and the untagged cost (`OrgId$`)."""
    costs: dict[str, float] = {}
    untagged = 0.0
    for group in groups:
        value = str(group["Keys"][0]).removeprefix(f"{tag}$")
        amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
        if value:
            costs[value] = costs.get(value, 0.0) + amount
        else:
            untagged += amount
    return costs, untagged
