"""`tenant-storage plan`: each stack planned offline under Pulumi's mock monitor, and with --base the changes."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from cli.colour import for_stream
from tenant_storage import ALL_STACKS
from tenant_storage.errors import counted


class Progress:
    """Tenants declared so far, on one rewritten stderr line, only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = ""

    def start(self, label: str) -> None:
        self.label = label
        self.tenants_declared(0)

    def tenants_declared(self, count: int) -> None:
        if self.enabled and (count == 0 or count % 25 == 0):
            # Before the first tenant, the stack alone: "0 tenants declared" read as an empty registry.
            said = f"{self.label}: {counted(count, 'tenant')} declared" if count else f"{self.label}..."
            self.stream.write(f"\r\033[K{said}")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def run_plan(
    project_dir: Path,
    stack: str,
    output_format: str,
    base: str | None,
    detail: bool = False,
    progress: Progress | None = None,
    fail_on: Sequence[str] | None = None,
    incremental: bool = True,
    tenants: Sequence[str] = (),
) -> int:
    from review.diff import diff_plans
    from review.gitbase import GitError, Revisions, changed_paths, materialize_revision, revisions
    from review.incremental import changed_tenants
    from review.moves import find_moves, merge_moves, without_moved
    from review.plan import StackPlan, plan_stack
    from review.program import gate_files
    from review.render import render
    from review.risks import (
        DEFAULT_FAIL_ON,
        Risk,
        account_risks,
        removed_stack_risk,
        stack_risks,
        tooling_risks,
    )
    from tenant_storage.errors import quoted
    from tenant_storage.stacks import read_stack_file, selected_stacks, stack_file_name, stack_names, unknown_stack
    from tenant_storage.yaml_reader import is_regular_file

    progress = progress or Progress()
    stacks = selected_stacks(project_dir, stack)
    if problem := unknown_stack(project_dir, stack, all_allowed=True) or (
        None if stacks else f"no stack: no Pulumi.<stack>.yaml in {project_dir}"
    ):
        print(f"plan: {problem}", file=sys.stderr)
        return 2

    only: frozenset[str] | None = None

    def planned(name: str, directory: Path, label: str) -> StackPlan:
        progress.start(label)
        try:
            return plan_stack(name, directory, on_tenant=progress.tenants_declared, only_tenants=only)
        finally:
            progress.done()

    if base is None:
        plans = [planned(name, project_dir, f"planning stack {name}") for name in stacks]
    diffs = []
    risks: list[Risk] | None = None
    compared: Revisions | None = None

    def allowed_accounts(path: Path) -> tuple[str, ...] | None:
        settings = read_stack_file(path).settings if is_regular_file(path) else None
        return settings.allowed_account_ids if settings else None

    if base is not None:
        risks = []
        with tempfile.TemporaryDirectory(prefix="tenant-storage-base-") as scratch:
            base_dir = Path(scratch)
            try:
                materialize_revision(base, project_dir, base_dir)
                compared = revisions(base, project_dir)
            except GitError as error:
                print(f"plan: cannot read the base revision {quoted(base)}: {error}", file=sys.stderr)
                return 2
            if incremental:
                only = changed_tenants(base_dir, project_dir)
            plans = [planned(name, project_dir, f"planning stack {name}") for name in stacks]
            base_plans = {}
            for head in plans:
                exists = os.path.lexists(base_dir / stack_file_name(head.stack))
                label = f"planning stack {head.stack} at {base}"
                base_plan = planned(head.stack, base_dir, label) if exists else StackPlan(stack=head.stack)
                base_plans[head.stack] = base_plan
                diffs.append(diff_plans(base_plan, head))
            accounts = {plan.stack: allowed_accounts(project_dir / stack_file_name(plan.stack)) for plan in plans}
            moves = find_moves(base_plans, diffs, accounts, {plan.stack: plan for plan in plans})
            diffs = [without_moved(diff, moves) for diff in diffs]
            for head, diff in zip(plans, diffs, strict=True):
                risks += stack_risks(base_plans[head.stack], head, diff)
                risks += account_risks(
                    head.stack, allowed_accounts(base_dir / stack_file_name(head.stack)), accounts[head.stack]
                )
            risks = merge_moves(risks, moves)
            try:
                risks += tooling_risks(gate_files(changed_paths(base, project_dir)))
            except GitError as error:
                print(f"plan: cannot compare the gate's own files with {quoted(base)}: {error}", file=sys.stderr)
                return 2
            if stack == ALL_STACKS:
                for gone in sorted(set(stack_names(base_dir)) - set(stacks)):
                    risks.append(removed_stack_risk(gone, planned(gone, base_dir, f"planning removed stack {gone}")))
    # The verdict is the whole plan's, whatever the text shows.
    refused = any(plan.refused or plan.blocked_by_policy for plan in plans)
    gating = set(DEFAULT_FAIL_ON if fail_on is None else fail_on)
    status = 1 if refused else 3 if risks and any(risk.risk_class in gating for risk in risks) else 0
    hidden_risks = 0
    if tenants and output_format == "text":
        from review.focus import focused_diff, focused_plan, focused_risks, unknown_tenants
        from tenant_storage.errors import InvalidInput
        from tenant_storage.registry import load_registry
        from tenant_storage.stacks import read_stack_files, tenants_for_stack

        try:
            registry = load_registry(project_dir / "tenants.yaml")
        except InvalidInput:
            registry = None  # the plan shows why it is refused; nothing to check the names against
        files = read_stack_files(project_dir)
        # The tenants of the stacks planned: a tenant of another stack has no line here to show.
        declared = [
            tenant.org_id
            for name in stacks
            if registry is not None and (settings := files[name].settings) is not None
            for tenant in tenants_for_stack(registry, settings)
        ]
        if registry is not None and (unknown := unknown_tenants(tenants, declared, diffs)):
            print(f"plan: --tenant (stack {', '.join(stacks)}): {'; '.join(unknown)}", file=sys.stderr)
            return 2
        named = f"tenant{'s' if len(tenants) > 1 else ''} {', '.join(tenants)}"
        print(f"plan: only {named} and the stacks' shared resources are shown", file=sys.stderr)
        plans = [focused_plan(plan, tenants) for plan in plans]
        diffs = [focused_diff(diff, tenants) for diff in diffs]
        shown = focused_risks(risks, tenants)
        hidden_risks = len(risks) - len(shown) if risks and shown is not None else 0
        risks = shown
    rendered = render(
        plans,
        diffs,
        output_format,
        detail=detail,
        risks=risks,
        project=project_dir,
        revisions=compared,
        hidden_risks=hidden_risks,
    )
    sys.stdout.write(for_stream(rendered, sys.stdout) if output_format == "text" else rendered)
    return status
