"""Plans and diffs as text (terminal), Markdown (pull-request summary) or JSON (machines)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from offline.diff import StackDiff
from offline.plan import StackPlan, TenantPlan

MOCKED_SUFFIX_NOTE = "* random suffix mocked offline; the real one is chosen at the first deploy and then kept"


def render(plans: Sequence[StackPlan], diffs: Sequence[StackDiff], output_format: str) -> str:
    if output_format == "json":
        return render_json(plans, diffs)
    if output_format == "markdown":
        return render_markdown(plans, diffs)
    return render_text(plans, diffs)


def render_json(plans: Sequence[StackPlan], diffs: Sequence[StackDiff]) -> str:
    document: dict[str, object] = {"stacks": {plan.stack: plan.to_json() for plan in plans}}
    if diffs:
        document["diff"] = {diff.stack: diff.to_json() for diff in diffs}
    return json.dumps(document, indent=2) + "\n"


def _bucket_cell(tenant: TenantPlan) -> str:
    return tenant.bucket_name + ("*" if tenant.mocked_suffix else "")


def _summary_rows(plan: StackPlan) -> list[tuple[str, ...]]:
    return [
        (t.org_id, _bucket_cell(t), t.profile, t.environment, t.iam_user_name, str(len(t.resource_urns)))
        for t in plan.tenants
    ]


SUMMARY_HEADER = ("orgId", "bucket", "profile", "environment", "IAM user", "resources")


def _diff_lines(diff: StackDiff) -> list[str]:
    """The reviewer's checklist for one stack, one finding a line, worst first."""
    lines = [f"base revision was refused: {error}" for error in diff.base_errors]
    lines += [
        f"DATA LOSS: {change.action} {change.urn}"
        + (f" (changes {', '.join(change.properties)})" if change.properties else "")
        for change in diff.data_loss
    ]
    lines += [
        f"WILL FAIL: {change.action} of protected {change.urn}; `pulumi up` stops here" for change in diff.blocked
    ]
    lines += [f"tenant added: {org_id}" for org_id in diff.tenants_added]
    lines += [f"tenant removed: {org_id}" for org_id in diff.tenants_removed]
    lines += [
        f"tenant changed: {org_id}: " + "; ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in changes.items())
        for org_id, changes in diff.tenants_changed.items()
    ]
    counts = ", ".join(f"{diff.count(action)} to {action}" for action in ("create", "update", "replace", "delete"))
    lines.append(f"resources: {counts}")
    lines += [
        f"  {change.action} {change.urn}" + (f" ({', '.join(change.properties)})" if change.properties else "")
        for change in diff.resources
    ]
    lines += [
        f"{s.policy} policy of {s.org_id}: statement {s.change}: {json.dumps(s.statement, sort_keys=True)}"
        for s in diff.statements
    ]
    return lines


def render_text(plans: Sequence[StackPlan], diffs: Sequence[StackDiff]) -> str:
    diff_by_stack = {diff.stack: diff for diff in diffs}
    out: list[str] = []
    for plan in plans:
        if plan.refused:
            out += [f"stack {plan.stack}: refused, {len(plan.errors)} problems; nothing would be deployed"]
            out += [f"  - {error}" for error in plan.errors] + [""]
            continue
        out.append(f"stack {plan.stack}: {len(plan.tenants)} tenants, {len(plan.resources)} resources")
        rows = [SUMMARY_HEADER, *_summary_rows(plan)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(SUMMARY_HEADER))]
        out += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        if any(tenant.mocked_suffix for tenant in plan.tenants):
            out.append(f"  {MOCKED_SUFFIX_NOTE}")
        out += _violation_lines(plan, "  ")
        if plan.stack in diff_by_stack:
            out += ["", f"  changes against the base revision ({plan.stack}):"]
            out += [f"    {line}" for line in _diff_lines(diff_by_stack[plan.stack])]
        for tenant in plan.tenants:
            out += ["", f"  {tenant.org_id}"]
            out += [f"    {label}: {value}" for label, value in _tenant_facts(tenant)]
            out.append("    IAM user policy:")
            out += [f"      {line}" for line in json.dumps(tenant.user_policy, indent=2).splitlines()]
            out.append("    bucket policy:")
            out += [f"      {line}" for line in json.dumps(tenant.bucket_policy, indent=2).splitlines()]
            out.append("    resources:")
            out += [f"      {urn}" for urn in tenant.resource_urns]
        out.append("")
    return "\n".join(out)


def _violation_lines(plan: StackPlan, indent: str) -> list[str]:
    if not plan.violations:
        return [f"{indent}policy pack: no violation"]
    return [f"{indent}policy pack: {len(plan.violations)} violations"] + [
        f"{indent}{v.enforcement.upper()} {v.rule}: {v.message} ({v.urn})" for v in plan.violations
    ]


def _tenant_facts(tenant: TenantPlan) -> list[tuple[str, str]]:
    facts = [("bucket", _bucket_cell(tenant))]
    if tenant.public_base_url:
        facts.append(("public base URL", tenant.public_base_url))
    facts += [("profile", tenant.profile), ("environment", tenant.environment), ("IAM user", tenant.iam_user_name)]
    return facts


def render_markdown(plans: Sequence[StackPlan], diffs: Sequence[StackDiff]) -> str:
    diff_by_stack = {diff.stack: diff for diff in diffs}
    out: list[str] = ["# Offline plan of tenant-storage", ""]
    for plan in plans:
        out += [f"## Stack `{plan.stack}`", ""]
        if plan.refused:
            out += [f"**Refused: {len(plan.errors)} problems; nothing would be deployed.**", ""]
            out += [f"- `{error}`" for error in plan.errors] + [""]
            continue
        diff = diff_by_stack.get(plan.stack)
        if diff is not None:
            out += _markdown_diff(diff)
        out += [f"{len(plan.tenants)} tenants, {len(plan.resources)} resources.", ""]
        out += ["| " + " | ".join(SUMMARY_HEADER) + " |", "|" + " --- |" * len(SUMMARY_HEADER)]
        out += ["| " + " | ".join(f"`{cell}`" if cell else "" for cell in row) + " |" for row in _summary_rows(plan)]
        out.append("")
        if any(tenant.mocked_suffix for tenant in plan.tenants):
            out += ["\\" + MOCKED_SUFFIX_NOTE, ""]
        out += [*_violation_lines(plan, "- "), ""] if plan.violations else []
        for tenant in plan.tenants:
            out += [f"<details><summary><code>{tenant.org_id}</code>: policies and resources</summary>", ""]
            out += [f"- {label}: `{value}`" for label, value in _tenant_facts(tenant)]
            out += ["", "IAM user policy:", "", "```json", json.dumps(tenant.user_policy, indent=2), "```", ""]
            out += ["Bucket policy:", "", "```json", json.dumps(tenant.bucket_policy, indent=2), "```", ""]
            out += ["Resources:", "", "```", *tenant.resource_urns, "```", "", "</details>", ""]
    return "\n".join(out)


def _markdown_diff(diff: StackDiff) -> list[str]:
    out = ["### Changes against the base revision", ""]
    if diff.empty and not diff.base_errors:
        return [*out, "No change.", ""]
    out += [f"> **Base revision was refused:** `{error}`" for error in diff.base_errors]
    out += [
        f"> :warning: **DATA LOSS**: {change.action} `{change.urn}`"
        + (f" (changes {', '.join(change.properties)})" if change.properties else "")
        for change in diff.data_loss
    ]
    out += [
        f"> :no_entry: **Will fail**: {change.action} of protected `{change.urn}`; `pulumi up` stops here"
        for change in diff.blocked
    ]
    out.append("")
    counts = " · ".join(f"{diff.count(action)} to {action}" for action in ("create", "update", "replace", "delete"))
    out += [f"Resources: {counts}.", ""]
    out += [f"- Tenant added: `{org_id}`" for org_id in diff.tenants_added]
    out += [f"- Tenant removed: `{org_id}`" for org_id in diff.tenants_removed]
    out += [
        f"- Tenant changed: `{org_id}`: "
        + "; ".join(f"{name} `{old}` → `{new}`" for name, (old, new) in changes.items())
        for org_id, changes in diff.tenants_changed.items()
    ]
    if diff.resources:
        out += ["", "| action | resource | properties |", "| --- | --- | --- |"]
        out += [
            f"| {change.action} | `{change.urn.rsplit('::', 1)[-1]}` ({change.type}) | {', '.join(change.properties)} |"
            for change in diff.resources
        ]
    if diff.statements:
        out += ["", "Policy statements:", ""]
        out += [
            f"- **{s.change}** in the {s.policy} policy of `{s.org_id}`: `{json.dumps(s.statement, sort_keys=True)}`"
            for s in diff.statements
        ]
    return [*out, ""]
