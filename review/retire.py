"""Retiring a tenant: the exact, deliberate steps the plan prints when a tenant leaves tenants.yaml.

The program never deletes tenant data. A production-class bucket is protected (a deploy that would
delete it fails) and retained (once unprotected, Pulumi forgets it and leaves it in AWS); any bucket
holding objects refuses deletion (no `force_destroy`). So a person empties and deletes the bucket,
on purpose, with the commands below.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from policy.tenant_storage_rules import BUCKET
from review.plan import StackPlan


@dataclass(frozen=True)
class Retirement:
    org_id: str
    bucket_name: str
    bucket_urn: str
    protected: bool

    def steps(self, stack: str) -> list[str]:
        bucket = shlex.quote(self.bucket_name)
        empty = (
            "python3 -c "
            + shlex.quote(f'import boto3; boto3.resource("s3").Bucket("{self.bucket_name}").object_versions.delete()')
            + "   # every version and delete marker: the data is gone after this"
        )
        # A policy, console password, group or key added to the user by hand makes its deletion fail
        # (DeleteConflict): preflight names each one and the command that removes it.
        preflight = (
            f"tenant-storage preflight --stack {shlex.quote(stack)}"
            "   # nothing added by hand blocks the user's deletion"
        )
        if self.protected:
            return [
                f"pulumi state unprotect --stack {shlex.quote(stack)} --yes {shlex.quote(self.bucket_urn)}",
                preflight,
                f"pulumi up --stack {shlex.quote(stack)}   # deletes the user and its keys; the bucket is retained: "
                "left in AWS, forgotten by Pulumi",
                empty,
                f"aws s3api delete-bucket --bucket {bucket}",
            ]
        return [
            empty,
            preflight,
            f"pulumi up --stack {shlex.quote(stack)}   # deletes the now empty bucket, the user and its keys",
        ]


def retirements(base: StackPlan, head: StackPlan) -> list[Retirement]:
    """One per tenant in `base` but not in `head`."""
    kept = {tenant.org_id for tenant in head.tenants}
    buckets = {r.org_id: r for r in base.resources if r.type == BUCKET and r.org_id}
    return [
        Retirement(tenant.org_id, tenant.bucket_name, buckets[tenant.org_id].urn, buckets[tenant.org_id].protect)
        for tenant in base.tenants
        if tenant.org_id not in kept and tenant.org_id in buckets
    ]
