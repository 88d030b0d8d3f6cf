"""A tenant that leaves one stack and joins another in the same change: one move, not a retirement and a
creation, because the first deletes what the second expects to find (a bucket name is global)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from review.diff import StackDiff
from review.plan import COMPONENT_TYPE, StackPlan
from review.risks import Move, Risk, move_risks


def find_moves(
    base_plans: Mapping[str, StackPlan],
    diffs: Sequence[StackDiff],
    accounts: Mapping[str, tuple[str, ...] | None],
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
            moves.append(Move(org_id, diff.stack, target, bucket, component, same, suffixed))
    return moves


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
