"""A tenant that leaves one stack and joins another in the same change: one move, not a retirement and a
creation, because the first deletes what the second expects to find (a bucket name is global)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from review.diff import StackDiff, tenant_value_masks
from review.plan import COMPONENT_TYPE, StackPlan
from review.risks import Move, Risk, move_risks


def find_moves(
    base_plans: Mapping[str, StackPlan],
    diffs: Sequence[StackDiff],
    accounts: Mapping[str, tuple[str, ...] | None],
    head_plans: Mapping[str, StackPlan] | None = None,
) -> list[Move]:
    joined = {org_id: diff.stack for diff in diffs for org_id in diff.tenants_added}
    moves = []
    for diff in diffs:
        base = base_plans[diff.stack]
        for org_id in diff.tenants_removed:
            target = joined.get(org_id)
            if target is None:
                continue
            tenant = next((t for t in base.tenants if t.org_id == org_id), None)
            bucket = tenant.bucket_name if tenant else org_id
            component = next((r.urn for r in base.resources if r.type == COMPONENT_TYPE and r.org_id == org_id), None)
            source_accounts, target_accounts = accounts.get(diff.stack), accounts.get(target)
            same = bool(source_accounts) and set(source_accounts or ()) == set(target_accounts or ())
            suffixed = tenant is not None and tenant.mocked_suffix
            urls = _public_urls(org_id, base, (head_plans or {}).get(target))
            moves.append(Move(org_id, diff.stack, target, bucket, component, same, suffixed, urls))
    return moves


def _public_urls(org_id: str, source: StackPlan, target: StackPlan | None) -> tuple[str, str] | None:
    """Where the tenant's public files were and will be, as a reviewer may see them, when the move changes it (a
    stack of its own serves them through its own distribution)."""
    old = next((t.public_base_url for t in source.tenants if t.org_id == org_id), None)
    new = next((t.public_base_url for t in (target.tenants if target else []) if t.org_id == org_id), None)
    if not (old and new and old != new) or target is None:
        return None
    shown_before, shown_after = tenant_value_masks(source, target)
    return str(shown_before(old)), str(shown_after(new))


def without_moved(diff: StackDiff, moves: Sequence[Move]) -> StackDiff:
    """The source stack's diff without retirement steps for moved tenants: the move says what to do."""
    leaving = {move.org_id for move in moves if move.source == diff.stack}
    if not leaving:
        return diff
    return replace(diff, retirements=[r for r in diff.retirements if r.org_id not in leaving])


def merge_moves(risks: Sequence[Risk], moves: Sequence[Move]) -> list[Risk]:
    """The per-stack data-loss of a moved tenant's old stack is the move's: shown once, with the move's steps."""
    leaving = {(move.source, move.org_id) for move in moves}
    kept = [r for r in risks if not (r.risk_class == "data-loss" and (r.stack, r.org_id) in leaving)]
    return [*kept, *move_risks(moves)]
