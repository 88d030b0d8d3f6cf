"""`plan --tenant ORGID`: the text of a plan focused on some tenants, so a reviewer of one new tenant among
thousands reads its lines, not the fleet's. The stack's shared resources and the risks that name no tenant stay:
they can concern every tenant. JSON and Markdown stay whole (the gate and the artifacts read them)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from review.diff import StackDiff
from review.plan import StackPlan
from review.risks import Risk
from tenant_storage.errors import did_you_mean, quoted


def unknown_tenants(org_ids: Collection[str], declared: Collection[str], diffs: Sequence[StackDiff]) -> list[str]:
    """Each of `org_ids` that the registry does not declare (`declared`: every tenant, planned or not) and no diff
    removes, said with the closest one."""
    known = set(declared) | {org_id for diff in diffs for org_id in diff.tenants_removed}
    return [
        f"no tenant {quoted(org_id)}{did_you_mean(org_id, sorted(known))}" for org_id in org_ids if org_id not in known
    ]


def focused_plan(plan: StackPlan, org_ids: Collection[str]) -> StackPlan:
    return replace(plan, tenants=[tenant for tenant in plan.tenants if tenant.org_id in org_ids])


def focused_diff(diff: StackDiff, org_ids: Collection[str]) -> StackDiff:
    return replace(
        diff,
        tenants_added=[org_id for org_id in diff.tenants_added if org_id in org_ids],
        tenants_removed=[org_id for org_id in diff.tenants_removed if org_id in org_ids],
        tenants_changed={org_id: c for org_id, c in diff.tenants_changed.items() if org_id in org_ids},
        resources=[c for c in diff.resources if c.org_id is None or c.org_id in org_ids],
        statements=[s for s in diff.statements if s.org_id in org_ids],
        retirements=[r for r in diff.retirements if r.org_id in org_ids],
    )


def focused_risks(risks: Sequence[Risk] | None, org_ids: Collection[str]) -> list[Risk] | None:
    return None if risks is None else [risk for risk in risks if risk.org_id is None or risk.org_id in org_ids]
