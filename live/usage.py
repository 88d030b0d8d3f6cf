"""`usage`: what each tenant stores, from S3's free daily storage metrics, and with `--cost` what it costs.

    tenant-storage usage --stack qa|all [--format text|json|csv|markdown] [--cost [--month YYYY-MM]]
                         [--endpoint-url URL]

Read-only. No object is listed: per tenant bucket, CloudWatch's `AWS/S3` `BucketSizeBytes` (one series
per storage class S3 published for it) and `NumberOfObjects`, daily, over the last 33 days. `--cost` adds
each tenant's cost of the month from Cost Explorer grouped by the `OrgId` tag, which counts only once the
tag is an active cost allocation tag in the paying account. With `--stack all`, the stacks of the
caller's account; the others are named, to run there. `--sort bytes|objects|orgId` orders the tenants (largest
first by default). The figures count noncurrent versions too (a note says so). Exit status: 0 done, 1 figures
missing (the tag not active for --cost, or whether it is could not be told; a random-suffix tenant matching
several buckets), 2 could not run.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from live.aws import Aws, CommandFailed, StackContext, human_bytes, load_stack, run_command, verify_account
from tenant_storage import ALL_STACKS, naming
from tenant_storage.accounts import caller_problems
from tenant_storage.errors import counted, quoted
from tenant_storage.stacks import selected_stacks
from tenant_storage.usage import GROWTH_DAYS, UsageReport, daily_series, tag_values, tenant_usage

WINDOW_DAYS = GROWTH_DAYS + 3  # S3 publishes a day's figures the next day: a margin for the oldest one
QUERIES_PER_CALL = 500  # GetMetricData's limit
COST_TAG = "OrgId"
CHART_TENANTS = 20  # a chart of more bars is unreadable; the table has every tenant
USAGE_ACCESS = (
    "cloudwatch:ListMetrics and cloudwatch:GetMetricData, s3:ListAllMyBuckets, and for --cost "
    "ce:GetCostAndUsage and ce:ListCostAllocationTags"
)
ACTIVATE_TAG = (
    f"activate {COST_TAG} as a cost allocation tag in the paying (management) account: Billing and Cost "
    f"Management, Cost allocation tags, or `aws ce update-cost-allocation-tags-status "
    f"--cost-allocation-tags-status TagKey={COST_TAG},Status=Active`; costs are grouped by it from then on "
    "(earlier months only after a backfill: `aws ce start-cost-allocation-tag-backfill`)"
)


def tenant_buckets(aws: Aws, context: StackContext) -> tuple[dict[str, str], dict[str, list[str]]]:
    """orgId -> the tenant's live bucket name (a random suffix is looked up; a tenant without a bucket is left
    out), and orgId -> the buckets of a random-suffix tenant whose pattern matches several, so which is unknown."""
    rules = context.settings.naming
    names = {t.org_id: rules.bucket_name_of(t) for t in context.tenants if not t.random_suffix}
    ambiguous = {}
    for tenant in (t for t in context.tenants if t.random_suffix):
        found = naming.suffixed_buckets(rules.bucket_prefix, tenant.org_id, aws.bucket_names())
        if len(found) == 1:
            names[tenant.org_id] = found[0]
        elif found:
            ambiguous[tenant.org_id] = found
    return names, ambiguous


def storage_metrics(aws: Aws, buckets: Sequence[str], now: datetime.datetime) -> dict[str, dict[str, Any]]:
    """bucket -> {"size": {storage type: {day: bytes}}, "objects": {day: count}} from S3's daily metrics."""
    cloudwatch = aws.client("cloudwatch")
    wanted = set(buckets)
    storage_types: dict[str, list[str]] = {bucket: [] for bucket in buckets}
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace="AWS/S3", MetricName="BucketSizeBytes")
    for metric in (metric for page in pages for metric in page["Metrics"]):
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        if dimensions.get("BucketName") in wanted and "StorageType" in dimensions:
            storage_types[dimensions["BucketName"]].append(dimensions["StorageType"])
    queries: list[tuple[str, str, str | None]] = []  # (id, bucket, storage type; None: the object count)
    for bucket in buckets:
        for storage_type in [*sorted(set(storage_types[bucket])), None]:
            queries.append((f"q{len(queries)}", bucket, storage_type))
    figures: dict[str, dict[str, Any]] = {bucket: {"size": {}, "objects": {}} for bucket in buckets}
    # Whole UTC days: S3 stamps each day's figure at midnight, so each period holds one day's figure.
    midnight = now.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = midnight - datetime.timedelta(days=WINDOW_DAYS), midnight + datetime.timedelta(days=1)
    for offset in range(0, len(queries), QUERIES_PER_CALL):
        batch = queries[offset : offset + QUERIES_PER_CALL]
        by_id = {query_id: (bucket, storage_type) for query_id, bucket, storage_type in batch}
        results = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[_query(query_id, bucket, storage_type) for query_id, bucket, storage_type in batch],
            StartTime=start,
            EndTime=end,
        )
        for result in (result for page in results for result in page["MetricDataResults"]):
            bucket, storage_type = by_id[result["Id"]]
            series = daily_series(list(zip(result["Timestamps"], result["Values"], strict=True)))
            if storage_type is None:
                figures[bucket]["objects"].update(series)
            else:
                figures[bucket]["size"].setdefault(storage_type, {}).update(series)
    return figures


def _query(query_id: str, bucket: str, storage_type: str | None) -> dict[str, Any]:
    metric = "NumberOfObjects" if storage_type is None else "BucketSizeBytes"
    dimensions = [
        {"Name": "BucketName", "Value": bucket},
        {"Name": "StorageType", "Value": storage_type or "AllStorageTypes"},
    ]
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": "AWS/S3", "MetricName": metric, "Dimensions": dimensions},
            "Period": 86400,
            "Stat": "Average",
        },
        "ReturnData": True,
    }


def previous_month(now: datetime.datetime) -> str:
    first = now.date().replace(day=1)
    return f"{first - datetime.timedelta(days=1):%Y-%m}"


def month_period(month: str, now: datetime.datetime) -> dict[str, str]:
    """Cost Explorer's period of `month` (YYYY-MM, not after the current month: its cost so far)."""
    try:
        start = datetime.date.fromisoformat(f"{month}-01") if len(month) == 7 else None
    except ValueError:
        start = None
    if start is None:
        raise CommandFailed(f"--month {quoted(month)} is not a month: give YYYY-MM, for example {previous_month(now)}")
    if start > now.date():
        raise CommandFailed(f"--month {month} is in the future (now {now:%Y-%m}): it has no cost yet")
    # Cost Explorer's end is exclusive and may be the first day of the next month, even for the current one.
    end = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return {"Start": f"{start:%Y-%m-%d}", "End": f"{end:%Y-%m-%d}"}


def add_costs(aws: Aws, report: UsageReport, month: str, period: dict[str, str]) -> bool:
    """Each tenant's cost of `month` by its OrgId tag; False (and a note with the fix) when the tag is not active."""
    from botocore.exceptions import ClientError

    ce = aws.client("ce")
    report.month = month
    groups = []
    for page in _cost_pages(ce, period):
        for result in page["ResultsByTime"]:
            groups += result.get("Groups", [])
    costs, untagged = tag_values(groups, COST_TAG)
    report.untagged_cost = untagged
    try:
        listed = ce.list_cost_allocation_tags(TagKeys=[COST_TAG])["CostAllocationTags"]
        active: bool | None = any(tag.get("Status") == "Active" for tag in listed)
    except ClientError as error:
        # Without the answer, a tenant's 0.00 may only mean the tag is not active: said, and never a success.
        report.notes.append(
            f"could not tell whether {COST_TAG} is an active cost allocation tag (ListCostAllocationTags: "
            f"{error.response['Error']['Code']}), so a tenant's cost of 0.00 may only mean it is not; check Billing "
            "and Cost Management, Cost allocation tags"
        )
        active = None
    if active is False:
        report.notes.append(
            f"{COST_TAG} is not an active cost allocation tag, so no cost is grouped by tenant: {ACTIVATE_TAG}"
        )
        return False
    report.tenants = [replace(tenant, cost=costs.get(tenant.org_id, 0.0)) for tenant in report.tenants]
    report.notes.append(
        f"costs are {month}'s unblended costs of everything tagged {COST_TAG}=<orgId> (the tenant's bucket: storage, "
        f"requests, data transfer); untagged: {untagged:.2f} USD is the whole account's spend in {month} without "
        f"an {COST_TAG} tag (every service's, this stack's log bucket and KMS key among it), not this stack's alone"
    )
    return active is True


def _cost_pages(ce: Any, period: dict[str, str]) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        arguments: dict[str, Any] = {
            "TimePeriod": period,
            "Granularity": "MONTHLY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "TAG", "Key": COST_TAG}],
        }
        if token:
            arguments["NextPageToken"] = token
        page = ce.get_cost_and_usage(**arguments)
        pages.append(page)
        token = page.get("NextPageToken")
        if not token:
            return pages


def _growth_text(growth: int | None) -> str:
    if growth is None:
        return "n/a"
    return ("+" if growth > 0 else "") + human_bytes(growth)


def _bytes_text(count: int | None) -> str:
    return "n/a" if count is None else human_bytes(count)


def _objects_text(count: int | None) -> str:
    return "n/a" if count is None else f"{count:,}"


def _rows(report: UsageReport) -> list[list[str]]:
    costs = bool(report.month)
    rows = [["stack", "orgId", "bucket", "bytes", "objects", f"growth {GROWTH_DAYS}d", *(["cost"] if costs else [])]]
    for tenant in report.tenants:
        cost = [f"{tenant.cost:.2f}" if tenant.cost is not None else "n/a"] if costs else []
        rows.append(
            [
                tenant.stack,
                tenant.org_id,
                tenant.bucket,
                _bytes_text(tenant.bytes),
                _objects_text(tenant.objects),
                _growth_text(tenant.growth),
                *cost,
            ]
        )
    return rows


def _headline(report: UsageReport) -> str:
    tenants = counted(len(report.tenants), "tenant")
    measured = report.measured
    if not measured:
        return f"{tenants}: no figures yet (S3 publishes its storage metrics once a day)"
    without = len(report.tenants) - len(measured)
    return f"{tenants}: {human_bytes(report.total_bytes)} in {counted(report.total_objects, 'object')}" + (
        f" ({without} without figures)" if without else ""
    )


def _total_cost(report: UsageReport) -> float:
    return sum(tenant.cost or 0.0 for tenant in report.tenants)


def _cost_text(report: UsageReport) -> str:
    """The month's total, or n/a when no tenant's cost is known (the tag not active): never a zero for unknown."""
    if all(tenant.cost is None for tenant in report.tenants):
        return "n/a"
    return f"{_total_cost(report):.2f} USD"


def render_text(report: UsageReport) -> str:
    rows = _rows(report)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    out = [_headline(report) + (f"; cost in {report.month}: {_cost_text(report)}" if report.month else "")]
    out += [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    if grown := report.largest_growth():
        out.append(
            f"largest growth over {GROWTH_DAYS} days: "
            + ", ".join(f"{t.org_id} ({_growth_text(t.growth)})" for t in grown)
        )
    out += [f"note: {note}" for note in report.all_notes()]
    return "\n".join(out) + "\n"


def render_json(report: UsageReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"


def render_csv(report: UsageReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    costs = bool(report.month)
    writer.writerow(["stack", "orgId", "bucket", "bytes", "objects", "growth30Days", *(["cost"] if costs else [])])
    for tenant in report.tenants:
        cost = [f"{tenant.cost:.2f}" if tenant.cost is not None else ""] if costs else []
        figures = ["" if figure is None else str(figure) for figure in (tenant.bytes, tenant.objects, tenant.growth)]
        writer.writerow([tenant.stack, tenant.org_id, tenant.bucket, *figures, *cost])
    return buffer.getvalue()


def render_markdown(report: UsageReport) -> str:
    from review.render import markdown_code

    out = ["## Storage per tenant", ""]
    out.append(f"{_headline(report)}" + (f", **{_cost_text(report)}** in {report.month}" if report.month else "") + ".")
    measured = [tenant for tenant in report.tenants if tenant.bytes is not None]
    largest = sorted(measured, key=lambda tenant: (-(tenant.bytes or 0), tenant.org_id))[:CHART_TENANTS]
    if largest:
        # Mermaid's xychart: GitHub draws it from the text, no image service involved.
        labels = ", ".join(json.dumps(tenant.org_id) for tenant in largest)
        values = ", ".join(f"{(tenant.bytes or 0) / 1024**2:.1f}" for tenant in largest)
        title = "The tenant" if len(largest) == 1 else f"Largest {len(largest)} tenants"
        out += [
            "",
            "```mermaid",
            "xychart-beta",
            f'    title "{title} (MiB)"',
            f"    x-axis [{labels}]",
            '    y-axis "MiB"',
            f"    bar [{values}]",
            "```",
        ]
    rows = _rows(report)
    out += ["", "| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
    out += [
        "| " + " | ".join(markdown_code(cell, table_cell=True) if i < 3 else cell for i, cell in enumerate(row)) + " |"
        for row in rows[1:]
    ]
    if grown := report.largest_growth():
        out += [
            "",
            f"Largest growth over {GROWTH_DAYS} days: "
            + ", ".join(f"{markdown_code(t.org_id)} ({_growth_text(t.growth)})" for t in grown)
            + ".",
        ]
    notes = report.all_notes()
    out += ["", *[f"> {note}" for note in notes]] if notes else []
    return "\n".join(out) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "csv": render_csv, "markdown": render_markdown}


def run_usage(
    project_dir: Path,
    stack: str,
    output_format: str,
    cost: bool,
    month: str | None,
    endpoint_url: str | None,
    session: Any = None,
    now: datetime.datetime | None = None,
    sort: str = "bytes",
) -> int:
    def body() -> int:
        moment = now or datetime.datetime.now(datetime.UTC)
        if month is not None and not cost:
            raise CommandFailed("--month needs --cost")
        cost_month = previous_month(moment) if month is None else month
        period = month_period(cost_month, moment) if cost else None
        names = selected_stacks(project_dir, stack)
        contexts = [load_stack(project_dir, name) for name in names]
        report = UsageReport()
        aws = Aws(session, endpoint_url)
        aws.region = contexts[0].settings.region if contexts else None  # STS answers in any region
        account, arn = aws.caller()
        if stack == ALL_STACKS:
            here = [not caller_problems(c.settings, c.classes, account, arn) for c in contexts]
            if not any(here):
                used = "; ".join(f"{c.settings.stack}: {', '.join(c.settings.allowed_account_ids)}" for c in contexts)
                raise CommandFailed(
                    f"the credentials are for account {account} ({arn}), which none of the stacks uses ({used}); "
                    "sign in to one of those accounts"
                )
            for context in (c for c, is_here in zip(contexts, here, strict=True) if not is_here):
                report.notes.append(
                    f"stack {context.settings.stack} is not in account {account}: sign in to its account and run "
                    f"tenant-storage usage --stack {context.settings.stack}"
                )
            contexts = [c for c, is_here in zip(contexts, here, strict=True) if is_here]
        for context in contexts:
            aws.region = context.settings.region
            verify_account(aws, context, "usage")
            buckets, ambiguous = tenant_buckets(aws, context)
            figures = storage_metrics(aws, sorted(set(buckets.values())), moment)
            for tenant in context.tenants:
                bucket = buckets.get(tenant.org_id)
                if tenant.org_id in ambiguous:
                    report.missing.append(
                        f"{tenant.org_id}: its random suffix matches {len(ambiguous[tenant.org_id])} buckets "
                        f"({', '.join(ambiguous[tenant.org_id])}), so which is its own is unknown; left out "
                        "(`tenant-storage audit` names the one the stack manages)"
                    )
                elif bucket is None:
                    report.notes.append(f"{tenant.org_id}: no bucket in this account (not deployed yet?)")
                else:
                    series = figures[bucket]
                    report.tenants.append(
                        tenant_usage(context.settings.stack, tenant.org_id, bucket, series["size"], series["objects"])
                    )
        complete = add_costs(aws, report, cost_month, period) if period else True
        report.sorted_by(sort)
        rendered = RENDERERS[output_format](report)
        if output_format == "json":  # the project the report is of, as every command's JSON names it
            rendered = json.dumps({"project": str(project_dir), **json.loads(rendered)}, indent=2) + "\n"
        sys.stdout.write(rendered)
        return 0 if complete and not report.missing else 1

    return run_command("usage", body, USAGE_ACCESS)
