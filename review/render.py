"""Plans and diffs as text (terminal), Markdown (pull-request summary) or JSON (machines)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from review.diff import Action, ResourceChange, StackDiff
from review.effects import RETAINED_IN_AWS
from review.gitbase import Revisions
from review.jsonfields import json_fields
from review.plan import StackPlan, TenantPlan
from review.risks import Risk, summary_counts
from review.values import value_lines
from tenant_storage.errors import counted
from tenant_storage.naming import ACCOUNT_REGIONAL_NAMESPACE
from tenant_storage.yaml_reader import as_written

INCREMENTAL_NOTE = (
    "incremental: the program and every input but tenants.yaml are the same at both revisions, so only the "
    "tenants that changed were planned "
    "(every input was still validated; plan --full plans them all)"
)
# 2: camelCase field names everywhere (orgId, tenantsAdded, dataLoss), risks with subject, possible and steps.
JSON_SCHEMA_VERSION = 2
MOCKED_SUFFIX_NOTE = "* random suffix mocked offline; the real one is chosen at the first deploy and then kept"
# Shown instead of a line ending inside a Markdown value: a real one would end the list item, table row or HTML block.
NEWLINE_MARKER = "\u2424"  # ␤
REGIONAL_NOTE = "^ in S3's account regional namespace: a name only this account can create"

_LINE_ENDING = re.compile(r"\r\n|\r|\n")
_BACKTICK_RUN = re.compile(r"`+")
# Letters and digits joined by single dashes or underscores: an underscore between two of them opens no emphasis,
# and without `.`, `:` or `@` no renderer can turn the word into a link.
_BARE_WORD = re.compile(r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*")


def render(
    plans: Sequence[StackPlan],
    diffs: Sequence[StackDiff],
    output_format: str,
    detail: bool = False,
    risks: Sequence[Risk] | None = None,
    project: Path | None = None,
    revisions: Revisions | None = None,
    hidden_risks: int = 0,
) -> str:
    """JSON and Markdown are always complete (Markdown within its bound, risks included); text is a summary
    unless `detail` asks for everything. With `risks` (a plan against a base revision), each starts with them;
    with `revisions`, the base and head commits head each."""
    if output_format == "json":
        return render_json(plans, diffs, risks, project, revisions)
    if output_format == "markdown":
        return bounded(_markdown_body(plans, diffs, _markdown_risks(risks), revisions))
    heading = f"{revisions.text()}\n\n" if revisions else ""
    return heading + _text_risks(risks, hidden_risks) + render_text(plans, diffs, detail)


def _counts_text(risks: Sequence[Risk]) -> str:
    return ", ".join(f"{count} {name}" for name, count in summary_counts(list(risks)).items())


def _text_risks(risks: Sequence[Risk] | None, hidden: int = 0) -> str:
    """The risks first; `hidden` of other tenants left out by --tenant are counted, never said to be none."""
    if risks is None:
        return ""
    others = f"; {counted(hidden, 'risk')} of other tenants not shown (the exit status is the whole plan's)"
    if not risks:
        return f"risks: none{' of these tenants' + others if hidden else ''}\n\n"
    lines = [f"risks: {_counts_text(risks)}{others if hidden else ''}"]
    for risk in risks:
        line = f"  RISK {risk.risk_class}{' (possible)' if risk.possible else ''}: {risk.line}"
        lines += _folded_risk(line)
        lines += [f"    {n}. {step}" for n, step in enumerate(risk.steps, 1)]
    return "\n".join(lines) + "\n\n"


RISK_LINE = 200  # characters: a longer risk (an adoption's every overwritten setting) gets a line per part


def _folded_risk(line: str) -> list[str]:
    """A risk's line, or, when it is longer than RISK_LINE and made of `;`-separated parts, its first part and
    each further part on a line of its own: a reader scans parts, not a thousand characters."""
    if len(line) <= RISK_LINE or "; " not in line:
        return [line]
    first, *rest = line.split("; ")
    return [f"{first};", *(f"      {part}" for part in rest)]


# The risks come first and may take at most this share of the summary; the summary's bound holds for the whole.
RISKS_SHARE = 0.5


def _markdown_risks(risks: Sequence[Risk] | None, limit: int | None = None) -> str:
    if risks is None:
        return ""
    if not risks:
        return "## Risks\n\nNo risks.\n\n"
    budget = int((limit or MARKDOWN_LIMIT) * RISKS_SHARE)
    out = ["## Risks", "", "| class | count |", "| --- | ---: |"]
    out += [f"| {name} | {count} |" for name, count in summary_counts(list(risks)).items()]
    out.append("")
    used = sum(len(line.encode()) + 1 for line in out)
    for shown, risk in enumerate(risks):
        lines = [
            f"- **{risk.risk_class}**{' (possible)' if risk.possible else ''}: {markdown_code(risk.line)}",
            *(f"  {n}. {markdown_code(step)}" for n, step in enumerate(risk.steps, 1)),
        ]
        size = sum(len(line.encode()) + 1 for line in lines)
        if used + size > budget:
            out += ["", f"**{len(risks) - shown} more risks are not shown here**: every risk is in `plan.json`."]
            break
        out += lines
        used += size
    return "\n".join(out) + "\n\n"


def render_json(
    plans: Sequence[StackPlan],
    diffs: Sequence[StackDiff],
    risks: Sequence[Risk] | None = None,
    project: Path | None = None,
    revisions: Revisions | None = None,
) -> str:
    document: dict[str, object] = {
        "schemaVersion": JSON_SCHEMA_VERSION,
        **({"project": str(project)} if project is not None else {}),
        **({"revisions": json_fields(revisions)} if revisions is not None else {}),
        "stacks": {plan.stack: plan.to_json() for plan in plans},
    }
    if diffs:
        document["diff"] = {diff.stack: diff.to_json() for diff in diffs}
    if risks is not None:
        document["risks"] = [risk.to_json() for risk in risks]
    return json.dumps(document, indent=2) + "\n"


def _bucket_cell(tenant: TenantPlan) -> str:
    regional = tenant.bucket_namespace == ACCOUNT_REGIONAL_NAMESPACE
    return tenant.bucket_name + ("*" if tenant.mocked_suffix else "") + ("^" if regional else "")


def _any_regional(plan: StackPlan) -> bool:
    return any(tenant.bucket_namespace == ACCOUNT_REGIONAL_NAMESPACE for tenant in plan.tenants)


def _summary_rows(plan: StackPlan) -> list[tuple[str, ...]]:
    return [
        (t.org_id, _bucket_cell(t), t.profile, t.environment, t.iam_user_name, str(len(t.resource_urns)))
        for t in plan.tenants
    ]


SUMMARY_HEADER = ("orgId", "bucket", "profile", "environment", "IAM user", "resources")


def tenant_counts(plan: StackPlan, diff: StackDiff) -> str:
    """The whole stack's tenants, changed and unchanged, also when only a part was planned (the resources are
    counted by `plan_line`)."""
    added = set(diff.tenants_added)
    changed = set(diff.tenants_changed) | {c.org_id for c in diff.resources if c.org_id} - added
    changed -= set(diff.tenants_removed)
    tenants = f"{len(added)} added, {len(changed)} changed, {plan.tenant_count - len(added) - len(changed)} unchanged"
    if diff.tenants_removed:
        tenants += f", {len(diff.tenants_removed)} removed"
    return tenants


def _diff_lines(plan: StackPlan, diff: StackDiff, detail: bool = True) -> list[str]:
    """The reviewer's checklist for one stack, one finding a line, worst first; `detail` adds every change."""
    if diff.empty:
        return ["No changes."]
    lines = [f"base revision was refused: {error}" for error in diff.base_errors]
    if diff.base_unreadable:
        return lines
    # Type and name, as every other line names a resource; --detail adds the URN.
    lines += [
        f"DATA LOSS: {'may ' if change.possible else ''}{change.action} {_resource_label(change.urn)}"
        + (f" (changes {', '.join(change.properties)})" if change.properties else "")
        + (f"; retained: {RETAINED_IN_AWS}" if change.action == "delete" and change.retained else "")
        + (f"\n        {change.urn}" if detail else "")
        for change in diff.data_loss
    ]
    lines += [
        f"WILL FAIL: {change.action} of protected {_resource_label(change.urn)}; `pulumi up` stops here"
        for change in diff.blocked
    ]
    if diff.log_bucket_move:
        lines.append(diff.log_bucket_move.summary())
    if diff.retained_log_bucket_created:
        lines.append(
            f"the access-log bucket to keep, {diff.retained_log_bucket_created}, was not the stack's at the base "
            "revision: the deploy creates it, empty; remove retainedAccessLogBucketNamespace unless you mean that"
        )
    lines += [f"tenant added: {org_id}" for org_id in diff.tenants_added]
    lines += [f"tenant removed: {org_id}" for org_id in diff.tenants_removed]
    for retirement in diff.retirements:
        lines.append(f"to retire {retirement.org_id}, deliberately (the tool never deletes tenant data):")
        lines += [f"  {n}. {step}" for n, step in enumerate(retirement.steps(diff.stack), 1)]
    lines += [
        f"tenant changed: {org_id}: "
        + "; ".join(f"{name} {as_written(old)} -> {as_written(new)}" for name, (old, new) in changes.items())
        for org_id, changes in diff.tenants_changed.items()
    ]
    tenants = tenant_counts(plan, diff)
    lines.append(f"tenants: {tenants}")
    # One line a changed resource, as Pulumi marks them (+ create, ~ update, +- replace, - delete, = import), with
    # its type and name (--detail adds the URN), then each changed input's old and new value.
    for change in diff.resources:
        lines.append(
            f"{CHANGE_MARKS[change.action]} {_resource_label(change.urn)}{' (possible)' if change.possible else ''}"
            + (f" ({', '.join(change.properties)})" if change.properties else "")
            + (f"\n        {change.urn}" if detail else "")
        )
        lines += [f"    {line}" for name, (old, new) in change.values.items() for line in value_lines(name, old, new)]
    lines.append(plan_line(f"plan for stack {plan.stack}", [diff], unchanged_resources(plan, diff)))
    if not detail:
        return lines
    lines += [
        f"{STATEMENT_PLACES[s.policy]} of {s.org_id}: statement {s.change}: {json.dumps(s.statement, sort_keys=True)}"
        for s in diff.statements
    ]
    return lines


# Pulumi's marks (`pulumi preview`): + create, ~ update, +- replace, - delete, = import.
CHANGE_MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "import": "="}
# Where a statement of a tenant's lives: a user holds no policy of its own, its profile group's policy is its.
STATEMENT_PLACES = {"user": "the user's permissions (its profile group's policy)", "bucket": "the bucket policy"}


def unchanged_resources(plan: StackPlan, diff: StackDiff) -> int:
    return plan.resource_count - sum(1 for change in diff.resources if change.action != "delete")


def plan_line(label: str, diffs: Sequence[StackDiff], unchanged: int | None = None) -> str:
    """`label: N to add, N to change, N to replace, N to delete, N to import[, N unchanged]`, as Terraform closes
    a plan."""
    words: dict[Action, str] = {
        "create": "add",
        "update": "change",
        "replace": "replace",
        "delete": "delete",
        "import": "import",
    }
    counts = {action: sum((diff.count(action) for diff in diffs), 0) for action in words}
    said = [f"{counts[action]} to {word}" for action, word in words.items()]
    return f"{label}: " + ", ".join(said + ([f"{unchanged} unchanged"] if unchanged is not None else []))


def _field_value(value: object) -> str:
    """A tenant field's value in a code span: a string as it is (the span shows it verbatim), else as YAML."""
    return value if isinstance(value, str) else as_written(value)


def _resource_label(urn: str) -> str:
    """`aws:s3/bucket:Bucket acme-bucket` from a URN: the resource's type and name, which a reader knows it by."""
    qualified_type, _, name = urn.rpartition("::")
    return f"{qualified_type.rpartition('::')[2].rpartition('$')[2]} {name}"


DETAIL_HINT = "(tenant-storage plan --detail shows each tenant's policies and resource URNs, and every change)"


def render_text(plans: Sequence[StackPlan], diffs: Sequence[StackDiff], detail: bool = True) -> str:
    diff_by_stack = {diff.stack: diff for diff in diffs}
    out: list[str] = []
    said: dict[str, str] = {}  # a problem -> the stack it was listed under: shared inputs are listed once
    for plan in plans:
        if plan.refused:
            out += [f"stack {plan.stack}: refused, {counted(len(plan.errors), 'problem')}; nothing would be deployed"]
            out += [f"  - {error}" for error in plan.errors if error not in said]
            if again := sorted({said[error] for error in plan.errors if error in said}):
                repeated = sum(error in said for error in plan.errors)
                out.append(f"  - and {counted(repeated, 'problem')} listed under stack {', '.join(again)} above")
            said.update((error, plan.stack) for error in plan.errors if error not in said)
            out.append("")
            continue
        out.append(
            f"stack {plan.stack}: {counted(plan.tenant_count, 'tenant')}, {counted(plan.resource_count, 'resource')}"
        )
        if plan.incremental:
            out.append(f"  {INCREMENTAL_NOTE}")
        rows = [SUMMARY_HEADER, *_summary_rows(plan)] if plan.tenants else []
        widths = [max(len(row[column]) for row in rows) for column in range(len(SUMMARY_HEADER))] if rows else []
        out += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        if any(tenant.mocked_suffix for tenant in plan.tenants):
            out.append(f"  {MOCKED_SUFFIX_NOTE}")
        if _any_regional(plan):
            out.append(f"  {REGIONAL_NOTE}")
        out += _violation_lines(plan, "  ", detail)
        if plan.stack in diff_by_stack:
            out += ["", f"  changes against the base revision ({plan.stack}):"]
            out += [f"    {line}" for line in _diff_lines(plan, diff_by_stack[plan.stack], detail)]
        for tenant in plan.tenants if detail else ():
            out += ["", f"  {tenant.org_id}"]
            out += [f"    {label}: {value}" for label, value in _tenant_facts(tenant, plan)]
            out.append("    IAM user permissions (its profile group's policy):")
            out += [f"      {line}" for line in json.dumps(tenant.user_policy, indent=2).splitlines()]
            out.append("    bucket policy:")
            out += [f"      {line}" for line in json.dumps(tenant.bucket_policy, indent=2).splitlines()]
            out.append("    resources:")
            out += [f"      {urn}" for urn in tenant.resource_urns]
        if detail and (shared := [r for r in plan.resources if r.org_id is None]):
            # What the stack holds for every tenant: the access-log bucket, the key, the profile groups.
            out += ["", "  shared resources of the stack:"]
            out += [f"    {_resource_label(resource.urn)}\n      {resource.urn}" for resource in shared]
        out.append("")
    if len(compared := [plan for plan in plans if plan.stack in diff_by_stack]) > 1:
        unchanged = sum(unchanged_resources(plan, diff_by_stack[plan.stack]) for plan in compared)
        out += [plan_line(f"plan for {counted(len(diffs), 'stack')}", diffs, unchanged), ""]
    if not detail and any(not plan.refused for plan in plans):
        out += [DETAIL_HINT, ""]
    return "\n".join(out)


def _one_line(text: str) -> str:
    # NUL is what every CommonMark renderer turns into U+FFFD anyway; doing it here keeps the helpers' output exact.
    return _LINE_ENDING.sub(NEWLINE_MARKER, text).replace("\0", "\ufffd")


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)


def markdown_code(text: str, *, table_cell: bool = False) -> str:
    """`text` as one inline code span that shows it verbatim, line endings as ␤; "" for "" (no span can be empty).

    A code span ends at the first backtick run as long as its opening one, so the fence is one longer than any run in
    the text. Renderers strip one space from each end when both ends have one, so text that starts or ends with a
    backtick (which would merge with the fence) or a space is padded on both sides; all-space text is never stripped.
    GFM splits a table row at every unescaped `|` before it looks for code spans: `table_cell` escapes them, and the
    table parser removes those backslashes again (anywhere else they would be shown).
    """
    content = _one_line(text)
    if not content:
        return ""
    fence = "`" * (_longest_backtick_run(content) + 1)
    if (content[0] in "` " or content[-1] in "` ") and content.strip(" "):
        content = f" {content} "
    span = f"{fence}{content}{fence}"
    return span.replace("|", "\\|") if table_cell else span


def markdown_html(text: str) -> str:
    """`text` as the content of an HTML element in Markdown: no markup, on one line (a blank one ends the block)."""
    return html.escape(_one_line(text))


def markdown_word(text: str, *, table_cell: bool = False) -> str:
    """A name such as `bucket` or `user-policy` as plain text, as it always read; anything else as a code span."""
    return text if _BARE_WORD.fullmatch(text) else markdown_code(text, table_cell=table_cell)


def _markdown_words(names: Iterable[str], *, table_cell: bool = False) -> str:
    return ", ".join(markdown_word(name, table_cell=table_cell) for name in names)


def _markdown_fenced(info: str, lines: Sequence[str]) -> list[str]:
    """A fenced code block that none of `lines` can close: the fence is longer than any backtick run in them."""
    fence = "`" * max([3, *(_longest_backtick_run(line) + 1 for line in lines)])
    return [fence + info, *lines, fence]


def _markdown_json(document: object) -> list[str]:
    return _markdown_fenced("json", json.dumps(document, indent=2).splitlines())


def _violation_lines(plan: StackPlan, indent: str, detail: bool = True) -> list[str]:
    """One line a finding; the message names the resource, the URN follows with detail."""
    if not plan.violations:
        return [f"{indent}policy pack: no violation"]
    tenants = _tenants_by_urn(plan)
    return [f"{indent}policy pack: {_violation_count(plan)}"] + [
        f"{indent}{v.enforcement.upper()} {v.rule}: {tenants.get(v.urn, '')}{v.message}"
        + (f" ({v.urn})" if detail else "")
        for v in plan.violations
    ]


def _violation_count(plan: StackPlan) -> str:
    """`1 advisory finding`, `2 findings: 1 mandatory, 1 advisory`."""
    kinds = sorted({v.enforcement for v in plan.violations})
    if len(kinds) == 1:
        return counted(len(plan.violations), f"{kinds[0]} finding")
    by_kind = ", ".join(f"{sum(v.enforcement == kind for v in plan.violations)} {kind}" for kind in kinds)
    return f"{counted(len(plan.violations), 'finding')}: {by_kind}"


def _tenants_by_urn(plan: StackPlan) -> dict[str, str]:
    """URN -> `<orgId>: `, so that a finding names its tenant without --detail."""
    return {r.urn: f"{r.org_id}: " for r in plan.resources if r.org_id}


def _tenant_facts(tenant: TenantPlan, plan: StackPlan) -> list[tuple[str, str]]:
    facts = [("bucket", _bucket_cell(tenant))]
    if tenant.public_base_url:
        facts.append(("public base URL", str(plan.shown_url(tenant.public_base_url))))
    if tenant.s3_public_base_url:
        facts.append(("S3 public base URL (while both serve)", tenant.s3_public_base_url))
    facts += [("profile", tenant.profile), ("environment", tenant.environment), ("IAM user", tenant.iam_user_name)]
    return facts


def render_markdown(plans: Sequence[StackPlan], diffs: Sequence[StackDiff]) -> str:
    """The pull-request summary, within its bound."""
    return bounded(_markdown_body(plans, diffs))


def _markdown_body(
    plans: Sequence[StackPlan],
    diffs: Sequence[StackDiff],
    risks_section: str = "",
    revisions: Revisions | None = None,
) -> str:
    """Every value in the summary comes from the inputs under review, so each one goes through markdown_code,
    markdown_word or markdown_html: a value must not be able to restyle or fake the summary."""
    diff_by_stack = {diff.stack: diff for diff in diffs}
    out: list[str] = ["# Offline plan of tenant-storage", ""]
    if revisions is not None:
        head = markdown_code(revisions.head_commit) if revisions.head_commit else "no commit"
        out += [
            f"Base {markdown_code(revisions.base)} ({markdown_code(revisions.base_commit)}) → head {head}"
            + (" with uncommitted changes" if revisions.uncommitted else "")
            + ".",
            "",
        ]
    out += [risks_section.rstrip("\n"), ""] if risks_section else []
    for plan in plans:
        out += [f"## Stack {markdown_code(plan.stack)}", ""]
        if plan.refused:
            out += [f"**Refused: {counted(len(plan.errors), 'problem')}; nothing would be deployed.**", ""]
            out += [f"- {markdown_code(error)}" for error in plan.errors] + [""]
            continue
        diff = diff_by_stack.get(plan.stack)
        shown = plan.tenants
        if diff is not None:
            out += _markdown_diff(plan, diff)
            # Against a base, only what changes is shown in full: a fleet's summary stays readable.
            changed = set(diff.tenants_added) | set(diff.tenants_changed) | {c.org_id for c in diff.resources}
            shown = [tenant for tenant in plan.tenants if tenant.org_id in changed]
        out += [f"{counted(plan.tenant_count, 'tenant')}, {counted(plan.resource_count, 'resource')}.", ""]
        out += [f"*{INCREMENTAL_NOTE}*", ""] if plan.incremental else []
        rows = [row for row, tenant in zip(_summary_rows(plan), plan.tenants, strict=True) if tenant in shown]
        out += [_markdown_row(SUMMARY_HEADER), "|" + " --- |" * len(SUMMARY_HEADER)] if rows else []
        out += [_markdown_row(markdown_code(cell, table_cell=True) for cell in row) for row in rows]
        out.append("")
        if len(shown) < len(plan.tenants):
            out += [f"{len(plan.tenants) - len(shown)} unchanged tenants are not shown.", ""]
        if any(tenant.mocked_suffix for tenant in plan.tenants):
            out += ["\\" + MOCKED_SUFFIX_NOTE, ""]
        if _any_regional(plan):
            out += ["\\" + REGIONAL_NOTE, ""]
        out += [*_markdown_violation_lines(plan), ""] if plan.violations else []
        for tenant in shown:
            summary = f"<code>{markdown_html(tenant.org_id)}</code>: policies and resources"
            out += [f"<details><summary>{summary}</summary>", ""]
            out += [f"- {label}: {markdown_code(value)}" for label, value in _tenant_facts(tenant, plan)]
            out += ["", "IAM user policy:", "", *_markdown_json(tenant.user_policy), ""]
            out += ["Bucket policy:", "", *_markdown_json(tenant.bucket_policy), ""]
            urns = [_one_line(urn) for urn in tenant.resource_urns]
            out += ["Resources:", "", *_markdown_fenced("", urns), "", "</details>", ""]
    return "\n".join(out)


MARKDOWN_LIMIT = 60 * 1024  # GitHub drops a job summary over 1 MiB; a review needs far less


def bounded(markdown: str, limit: int = MARKDOWN_LIMIT) -> str:
    """`markdown` cut at a line boundary to at most `limit` bytes, with a note that says what was left out."""
    data = markdown.encode()
    if len(data) <= limit:
        return markdown
    note = (
        "\n\n---\n**Truncated**: this summary stops at {shown:,} of {total:,} bytes. The complete plan is "
        "the `plan.json` artifact of this workflow run (`tenant-storage plan --format json`).\n"
    )
    # Room for what closes an open fence and an open <details> after the cut, so the whole stays within `limit`.
    closers = "\n```" + "\n\n</details>"
    budget = limit - len(note.format(shown=limit, total=len(data)).encode()) - len(closers.encode())
    cut = data[:budget].decode(errors="ignore")
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    # A cut inside a fenced block or an open <details> would swallow the note: close them first.
    if cut.count("```") % 2:
        cut += "\n```"
    if cut.count("<details>") > cut.count("</details>"):
        cut += "\n\n</details>"
    return cut + note.format(shown=len(cut.encode()), total=len(data))


def _markdown_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _markdown_violation_lines(plan: StackPlan) -> list[str]:
    tenants = _tenants_by_urn(plan)
    return [f"- policy pack: {_violation_count(plan)}"] + [
        f"- {markdown_word(v.enforcement.upper())} {markdown_word(v.rule)}: "
        f"{markdown_code(tenants.get(v.urn, '') + v.message)}"
        f" ({markdown_code(v.urn)})"
        for v in plan.violations
    ]


def _markdown_diff(plan: StackPlan, diff: StackDiff) -> list[str]:
    out = ["### Changes against the base revision", ""]
    if diff.empty:
        return [*out, "No changes.", ""]
    out += [f"> **Base revision was refused:** {markdown_code(error)}" for error in diff.base_errors]
    if diff.base_unreadable:
        return [*out, ""]
    out += [
        f"> :warning: **DATA LOSS**: {'may ' if change.possible else ''}{markdown_word(change.action)} "
        f"{markdown_code(_resource_label(change.urn))}"
        + (f" (changes {_markdown_words(change.properties)})" if change.properties else "")
        + (f"; retained: {RETAINED_IN_AWS}" if change.action == "delete" and change.retained else "")
        for change in diff.data_loss
    ]
    out += [
        f"> :no_entry: **Will fail**: {markdown_word(change.action)} of protected "
        f"{markdown_code(_resource_label(change.urn))}; `pulumi up` stops here"
        for change in diff.blocked
    ]
    if diff.log_bucket_move:
        summary = diff.log_bucket_move.summary(markdown_code)
        out.append(f"> **{summary[:1].upper()}{summary[1:]}**")
    out.append("")
    tenants = tenant_counts(plan, diff)
    out += [f"Tenants: {tenants}.", ""]
    out += [f"- Tenant added: {markdown_code(org_id)}" for org_id in diff.tenants_added]
    out += [f"- Tenant removed: {markdown_code(org_id)}" for org_id in diff.tenants_removed]
    for retirement in diff.retirements:
        out.append(f"- To retire {markdown_code(retirement.org_id)} deliberately (the tool never deletes tenant data):")
        out += [f"  {n}. {markdown_code(step)}" for n, step in enumerate(retirement.steps(diff.stack), 1)]
    out += [
        f"- Tenant changed: {markdown_code(org_id)}: "
        + "; ".join(
            f"{markdown_word(name)} {markdown_code(_field_value(old))} → {markdown_code(_field_value(new))}"
            for name, (old, new) in changes.items()
        )
        for org_id, changes in diff.tenants_changed.items()
    ]
    if diff.resources:
        out += ["", "| action | resource | properties |", "| --- | --- | --- |"]
        out += [_markdown_resource_row(change) for change in diff.resources]
        valued = [change for change in diff.resources if change.values]
        if valued:
            lines = [
                line
                for change in valued
                for line in (
                    f"{CHANGE_MARKS[change.action]} {_resource_label(change.urn)}",
                    *(f"    {v}" for name, (old, new) in change.values.items() for v in value_lines(name, old, new)),
                )
            ]
            out += ["", "<details><summary>Changed values</summary>", ""]
            out += [*_markdown_fenced("diff", [_one_line(line) for line in lines]), "", "</details>"]
        out += ["", f"**{plan_line('Plan', [diff], unchanged_resources(plan, diff))}.**"]
    if diff.statements:
        out += ["", "Policy statements:", ""]
        out += [
            f"- **{markdown_word(s.change)}** in {STATEMENT_PLACES[s.policy]} of {markdown_code(s.org_id)}:"
            f" {markdown_code(json.dumps(s.statement, sort_keys=True))}"
            for s in diff.statements
        ]
    return [*out, ""]


def _markdown_resource_row(change: ResourceChange) -> str:
    name = markdown_code(change.urn.rsplit("::", 1)[-1], table_cell=True)
    resource_type = markdown_code(change.type, table_cell=True)
    properties = _markdown_words(change.properties, table_cell=True)
    return f"| {markdown_word(change.action, table_cell=True)} | {name} ({resource_type}) | {properties} |"
