"""Risk classes: what a reviewer must see in a change, named, counted, and able to fail the check.

- data-loss: a bucket deleted or replaced;
- protection-removed: a resource loses `protect` or `retain_on_delete`;
- credentials-revoked: a tenant is left with no access key that exists today (its user replaced, or
  every current key deleted or replaced);
- newly-public: a public principal added to a bucket policy, or a public access block setting loosened;
- permissions-widened: a tenant's effective permissions grow (a statement added to its user policy);
- stack-removed: a stack file deleted or renamed: all its resources go;
- account-changed: a stack's allowed accounts change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from policy.tenant_storage_rules import ACCESS_KEY, PUBLIC_ACCESS_BLOCK, USER
from review.diff import StackDiff
from review.plan import StackPlan

RISK_CLASSES = (
    "data-loss",
    "protection-removed",
    "credentials-revoked",
    "newly-public",
    "permissions-widened",
    "stack-removed",
    "account-changed",
)
DEFAULT_FAIL_ON = tuple(risk for risk in RISK_CLASSES if risk != "permissions-widened")
BLOCK_SETTINGS = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")


@dataclass(frozen=True)
class Risk:
    risk_class: str
    stack: str
    org_id: str | None
    urn: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.risk_class,
            "stack": self.stack,
            "orgId": self.org_id,
            "urn": self.urn,
            "message": self.message,
        }


def stack_risks(base: StackPlan, head: StackPlan, diff: StackDiff) -> list[Risk]:
    stack = head.stack
    risks = [
        Risk(
            "data-loss", stack, change.org_id, change.urn, f"{change.action} of bucket {change.urn.rsplit('::', 1)[-1]}"
        )
        for change in diff.data_loss
    ]
    before = {r.urn: r for r in base.resources}
    after = {r.urn: r for r in head.resources}
    for urn in sorted(before.keys() & after.keys()):
        old, new = before[urn], after[urn]
        lost = [
            name
            for name, was, now in (
                ("protect", old.protect, new.protect),
                ("retain_on_delete", old.retain_on_delete, new.retain_on_delete),
            )
            if was and not now
        ]
        if lost:
            risks.append(Risk("protection-removed", stack, new.org_id, urn, f"{new.name} loses {' and '.join(lost)}"))
        if new.type == PUBLIC_ACCESS_BLOCK:
            loosened = [key for key in BLOCK_SETTINGS if old.inputs.get(key) and not new.inputs.get(key)]
            if loosened:
                risks.append(
                    Risk("newly-public", stack, new.org_id, urn, f"{new.name}: {', '.join(loosened)} turned off")
                )
    replaced_or_deleted = {change.urn for change in diff.resources if change.action in ("delete", "replace")}
    kept_tenants = {tenant.org_id for tenant in head.tenants}
    for tenant in base.tenants:
        if tenant.org_id not in kept_tenants:
            continue
        keys = [r.urn for r in base.resources if r.org_id == tenant.org_id and r.type == ACCESS_KEY]
        user = [r.urn for r in base.resources if r.org_id == tenant.org_id and r.type == USER]
        if (keys and all(key in replaced_or_deleted for key in keys)) or any(u in replaced_or_deleted for u in user):
            risks.append(
                Risk(
                    "credentials-revoked",
                    stack,
                    tenant.org_id,
                    keys[0] if keys else None,
                    f"{tenant.org_id}: every access key it has today is deleted or replaced in this deploy; "
                    "its app loses access (rotate in two steps: add the new label, then remove the old)",
                )
            )
    existing = {tenant.org_id for tenant in base.tenants}
    for change in diff.statements:
        statement = change.statement
        if change.change != "added" or statement.get("Effect") != "Allow":
            continue
        if change.org_id not in existing:
            continue  # a new tenant's grants are its creation, reviewed as "tenant added", not a widening
        if change.policy == "bucket" and statement.get("Principal") in ("*", {"AWS": "*"}):
            risks.append(
                Risk(
                    "newly-public",
                    stack,
                    change.org_id,
                    None,
                    f"{change.org_id}: public statement added: {json.dumps(statement, sort_keys=True)}",
                )
            )
        elif change.policy == "user":
            risks.append(
                Risk(
                    "permissions-widened",
                    stack,
                    change.org_id,
                    None,
                    f"{change.org_id}: user may now {json.dumps(statement, sort_keys=True)}",
                )
            )
    return risks


def account_risks(
    stack: str, base_accounts: tuple[str, ...] | None, head_accounts: tuple[str, ...] | None
) -> list[Risk]:
    if base_accounts is None or head_accounts is None or set(base_accounts) == set(head_accounts):
        return []
    return [
        Risk(
            "account-changed",
            stack,
            None,
            None,
            f"stack {stack}: allowed accounts {', '.join(base_accounts)} -> {', '.join(head_accounts)}",
        )
    ]


def removed_stack_risk(stack: str, base: StackPlan) -> Risk:
    return Risk(
        "stack-removed",
        stack,
        None,
        None,
        f"stack file Pulumi.{stack}.yaml is gone: all {len(base.resources)} resources of stack {stack} "
        f"({len(base.tenants)} tenants) would be destroyed by `pulumi destroy`, or orphaned",
    )


def summary_counts(risks: list[Risk]) -> dict[str, int]:
    return {risk_class: sum(1 for r in risks if r.risk_class == risk_class) for risk_class in RISK_CLASSES}
