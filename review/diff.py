"""The difference between two plans of one stack: what a reviewer must know before approving.

Which input changes make Pulumi replace a resource comes from the pulumi-aws/pulumi-random schemas
(properties marked "forces new resource"); replacing or deleting a bucket loses its objects.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from review.plan import ResourcePlan, StackPlan, TenantPlan
from review.retire import Retirement, retirements

BUCKET_TYPE = "aws:s3/bucket:Bucket"
_BUCKET_SETTINGS_REPLACE_ON = frozenset({"bucket", "expectedBucketOwner"})
REPLACE_ON_CHANGE: dict[str, frozenset[str]] = {
    BUCKET_TYPE: frozenset({"bucket", "bucketPrefix", "objectLockEnabled", "bucketNamespace"}),
    "aws:s3/bucketObjectv2:BucketObjectv2": frozenset({"bucket", "key"}),
    "aws:iam/userPolicy:UserPolicy": frozenset({"user", "name", "namePrefix"}),
    "aws:iam/accessKey:AccessKey": frozenset({"user", "pgpKey"}),
    "random:index/randomId:RandomId": frozenset({"byteLength", "keepers", "prefix"}),
}
# Resources whose deletion or replacement destroys tenant data.
DATA_TYPES = frozenset({BUCKET_TYPE})
TENANT_FIELDS = ("bucket_name", "public_base_url", "profile", "environment", "iam_user_name")

Action = Literal["create", "delete", "replace", "update"]
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete")
PolicyKind = Literal["bucket", "user"]
_POLICIES: tuple[tuple[PolicyKind, str], ...] = (("bucket", "bucket_policy"), ("user", "user_policy"))


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    org_id: str | None
    action: Action
    properties: list[str] = field(default_factory=list)
    data_loss: bool = False
    blocked_by_protection: bool = False


@dataclass(frozen=True)
class StatementChange:
    org_id: str
    policy: PolicyKind
    change: Literal["added", "removed"]
    statement: dict[str, Any]


@dataclass(frozen=True)
class StackDiff:
    stack: str
    base_errors: list[str]
    tenants_added: list[str]
    tenants_removed: list[str]
    tenants_changed: dict[str, dict[str, list[Any]]]
    resources: list[ResourceChange]
    statements: list[StatementChange]
    retirements: list[Retirement] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.tenants_added or self.tenants_removed or self.tenants_changed or self.resources)

    def count(self, action: Action) -> int:
        return sum(1 for change in self.resources if change.action == action)

    @property
    def data_loss(self) -> list[ResourceChange]:
        return [change for change in self.resources if change.data_loss]

    @property
    def blocked(self) -> list[ResourceChange]:
        return [change for change in self.resources if change.blocked_by_protection]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def diff_plans(base: StackPlan, head: StackPlan) -> StackDiff:
    base_tenants = {tenant.org_id: tenant for tenant in base.tenants}
    head_tenants = {tenant.org_id: tenant for tenant in head.tenants}
    return StackDiff(
        stack=head.stack,
        base_errors=base.errors,
        tenants_added=sorted(head_tenants.keys() - base_tenants.keys()),
        tenants_removed=sorted(base_tenants.keys() - head_tenants.keys()),
        tenants_changed={
            org_id: changes
            for org_id in sorted(base_tenants.keys() & head_tenants.keys())
            if (changes := _tenant_changes(base_tenants[org_id], head_tenants[org_id]))
        },
        resources=_resource_changes(base.resources, head.resources),
        statements=_statement_changes(base_tenants, head_tenants),
        retirements=retirements(base, head),
    )


def _tenant_changes(base: TenantPlan, head: TenantPlan) -> dict[str, list[Any]]:
    return {
        name: [getattr(base, name), getattr(head, name)]
        for name in TENANT_FIELDS
        if getattr(base, name) != getattr(head, name)
    }


def _resource_changes(base: list[ResourcePlan], head: list[ResourcePlan]) -> list[ResourceChange]:
    before = {resource.urn: resource for resource in base}
    after = {resource.urn: resource for resource in head}
    changes = []
    for urn in sorted(before.keys() | after.keys()):
        old, new = before.get(urn), after.get(urn)
        if old is None:
            changes.append(ResourceChange(urn, new.type, new.org_id, "create"))  # type: ignore[union-attr]
            continue
        if new is None:
            changes.append(_destructive(old, "delete", []))
            continue
        changed = sorted(
            key for key in old.inputs.keys() | new.inputs.keys() if old.inputs.get(key) != new.inputs.get(key)
        )
        if not changed:
            continue
        forcing = [key for key in changed if key in REPLACE_ON_CHANGE.get(new.type, _default_replace_on(new.type))]
        if forcing:
            changes.append(_destructive(old, "replace", forcing))
        else:
            changes.append(ResourceChange(urn, new.type, new.org_id, "update", changed))
    return changes


def _default_replace_on(resource_type: str) -> frozenset[str]:
    # Every bucket settings resource (ownership, public access block, encryption, ...) is keyed by its bucket.
    return _BUCKET_SETTINGS_REPLACE_ON if resource_type.startswith("aws:s3/bucket") else frozenset()


def _destructive(old: ResourcePlan, action: Action, properties: list[str]) -> ResourceChange:
    return ResourceChange(
        urn=old.urn,
        type=old.type,
        org_id=old.org_id,
        action=action,
        properties=properties,
        data_loss=old.type in DATA_TYPES,
        blocked_by_protection=old.protect,
    )


def _statement_changes(base: dict[str, TenantPlan], head: dict[str, TenantPlan]) -> list[StatementChange]:
    changes = []
    for org_id in sorted(base.keys() | head.keys()):
        for policy, attribute in _POLICIES:
            old = _statements(base.get(org_id), attribute)
            new = _statements(head.get(org_id), attribute)
            changes += [StatementChange(org_id, policy, "removed", json.loads(s)) for s in sorted(old - new)]
            changes += [StatementChange(org_id, policy, "added", json.loads(s)) for s in sorted(new - old)]
    return changes


def _statements(tenant: TenantPlan | None, attribute: str) -> set[str]:
    if tenant is None:
        return set()
    return {json.dumps(statement, sort_keys=True) for statement in getattr(tenant, attribute)["Statement"]}
