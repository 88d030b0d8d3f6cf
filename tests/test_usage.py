"""`usage`: what each tenant stores (S3's daily CloudWatch storage metrics) and costs (Cost Explorer by the
OrgId tag), on a moto server holding metric data for several tenants and Cost Explorer results.

moto keeps what `PutMetricData` sends under `AWS/S3` (AWS itself publishes those, and refuses the
namespace to anyone else), answers `GetCostAndUsage` with results queued through its API, and does not
implement `ListCostAllocationTags`: the command then judges an inactive tag from the figures and says so.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from emulator.replay import replay
from live.usage import render_markdown, render_text, run_usage
from tenant_storage.usage import METRICS_COUNT, TenantUsage, UsageReport, daily_series, tag_values, tenant_usage
from tests.conftest import QA_ACCOUNT, fixture_plan, reset_emulator, use_account

NOW = datetime.datetime(2026, 12, 2, 16, 0, tzinfo=datetime.UTC)
GiB = 1024**3


@functools.cache
def suffixed() -> str:
    """The suffixed tenant's bucket as the replay makes it: with the offline plan's (mocked) suffix."""
    return next(t.bucket_name for t in fixture_plan("qa").tenants if t.org_id == "tradeshow-demo")


def midnight(days_ago: int) -> datetime.datetime:
    return (NOW - datetime.timedelta(days=days_ago)).replace(hour=0)


class TestFigures:
    def test_the_latest_day_per_storage_class_and_the_growth_over_30_days(self):
        size = {
            "StandardStorage": {"2026-11-01": 100, "2026-11-02": 150, "2026-12-01": 400},
            "StandardIAStorage": {"2026-12-01": 50},
        }
        usage = tenant_usage("qa", "t", "b", size, {"2026-12-01": 7})
        assert (usage.bytes, usage.objects, usage.day) == (450, 7, "2026-12-01")
        assert usage.bytes_by_storage_type == {"StandardStorage": 400, "StandardIAStorage": 50}
        assert usage.growth == 450 - 100  # against 2026-11-01, the nearest day at or before 30 days earlier

    def test_a_bucket_younger_than_30_days_has_no_growth_and_one_without_figures_no_day(self):
        assert tenant_usage("qa", "t", "b", {"StandardStorage": {"2026-12-01": 5}}, {}).growth is None
        assert tenant_usage("qa", "t", "b", {}, {}).day == ""

    def test_a_size_without_an_object_count_is_an_unknown_count_and_a_note(self):
        usage = tenant_usage("qa", "t", "b", {"StandardStorage": {"2026-12-01": 5}}, {})
        assert (usage.bytes, usage.objects) == (5, None)
        notes = UsageReport([usage]).all_notes()
        assert notes == ["t: S3 published no object count for 2026-12-01, only the size", METRICS_COUNT]

    def test_only_tenants_that_grew_are_the_largest_growth(self):
        def grown(org_id: str, growth: int) -> TenantUsage:
            return TenantUsage("qa", org_id, org_id, {"StandardStorage": 1}, 1, growth, "2026-12-01")

        report = UsageReport([grown("shrank", -5 * GiB), grown("same", 0), grown("grew", 1), grown("grew-more", 2)])
        assert [tenant.org_id for tenant in report.largest_growth()] == ["grew-more", "grew"]

    def test_one_tenant_and_one_object_are_counted_in_the_singular(self):
        report = UsageReport([TenantUsage("qa", "solo", "b", {"StandardStorage": 2048}, 1, None, "2026-12-01")])
        assert render_text(report).splitlines()[0] == "1 tenant: 2.0 KiB in 1 object"
        assert 'title "The tenant (MiB)"' in render_markdown(report)

    def test_daily_points_become_whole_numbers_per_utc_day(self):
        points = [(datetime.datetime(2026, 12, 1, 0, tzinfo=datetime.UTC), 10.6)]
        assert daily_series(points) == {"2026-12-01": 11}

    def test_cost_groups_by_tag_value_and_the_untagged_rest(self):
        groups = [
            {"Keys": ["OrgId$acme"], "Metrics": {"UnblendedCost": {"Amount": "1.5"}}},
            {"Keys": ["OrgId$"], "Metrics": {"UnblendedCost": {"Amount": "0.25"}}},
        ]
        assert tag_values(groups) == ({"acme": 1.5}, 0.25)


def put_daily(cloudwatch: Any, bucket: str, storage_type: str, metric: str, values: dict[int, float]) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/S3",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "BucketName", "Value": bucket}, {"Name": "StorageType", "Value": storage_type}],
                "Timestamp": midnight(days_ago),
                "Value": value,
            }
            for days_ago, value in values.items()
        ],
    )


@pytest.fixture
def metrics(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The qa account with 35 days of S3 storage metrics for three tenants, and the suffixed tenant's bucket
    deployed that day (no figures yet)."""
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    session = boto3.session.Session(region_name="us-east-1")
    cloudwatch = session.client("cloudwatch", endpoint_url=moto_server)
    days = range(1, 36)
    put_daily(cloudwatch, "fusion-rms-xmsqa1", "StandardStorage", "BucketSizeBytes", {d: (40 - d) * GiB for d in days})
    put_daily(cloudwatch, "fusion-rms-xmsqa1", "AllStorageTypes", "NumberOfObjects", {d: 1000 * (40 - d) for d in days})
    put_daily(cloudwatch, "fusion-rms-xmsqa2", "StandardStorage", "BucketSizeBytes", dict.fromkeys(days, 2 * GiB))
    put_daily(cloudwatch, "fusion-rms-xmsqa2", "StandardIAStorage", "BucketSizeBytes", dict.fromkeys(days, 3 * GiB))
    put_daily(cloudwatch, "fusion-rms-xmsqa2", "AllStorageTypes", "NumberOfObjects", dict.fromkeys(days, 500))
    put_daily(cloudwatch, "fusion-rms-acme-dev", "StandardStorage", "BucketSizeBytes", dict.fromkeys(days, 1024))
    put_daily(cloudwatch, "fusion-rms-acme-dev", "AllStorageTypes", "NumberOfObjects", dict.fromkeys(days, 1))
    # A bucket no tenant of the stack has, with the same metric: never counted.
    put_daily(cloudwatch, "someone-elses", "StandardStorage", "BucketSizeBytes", {1: 9 * GiB})
    replay(fixture_plan("qa"), session, moto_server)  # every tenant's bucket, as declared
    return moto_server


@pytest.fixture
def cost_tag(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """ListCostAllocationTags answered as the Cost Explorer API reference documents it (moto does not implement
    it): `{"CostAllocationTags": [{"TagKey": ..., "Type": "UserDefined", "Status": "Active"|"Inactive"}]}`."""
    from botocore.client import BaseClient

    make_api_call = BaseClient._make_api_call

    def answer(status: str) -> None:
        def call(client: BaseClient, operation: str, parameters: dict) -> Any:
            if operation == "ListCostAllocationTags":
                return {"CostAllocationTags": [{"TagKey": "OrgId", "Type": "UserDefined", "Status": status}]}
            return make_api_call(client, operation, parameters)

        monkeypatch.setattr(BaseClient, "_make_api_call", call)

    return answer


def queue_costs(endpoint: str, groups: list[dict[str, Any]]) -> None:
    """What moto's GetCostAndUsage answers next (its API for results no emulator can compute)."""
    result: dict[str, Any] = {
        "ResultsByTime": [{"TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"}, "Groups": groups}]
    }
    requests.post(
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
        json={"account_id": QA_ACCOUNT, "results": [result]},
        timeout=10,
    )


def usage(
    project: Any, endpoint: str, capsys: pytest.CaptureFixture[str], *, output_format: str = "json", **options: Any
) -> tuple[int, str, str]:
    session = boto3.session.Session(region_name="us-east-1")
    session._session.set_default_client_config(Config(retries={"max_attempts": 1}))
    status = run_usage(
        project,
        options.get("stack", "qa"),
        output_format,
        options.get("cost", False),
        options.get("month"),
        endpoint,
        session=session,
        now=NOW,
        sort=options.get("sort", "bytes"),
    )
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


class TestUsageOnAMotoServer:
    def test_json_has_whole_numbers_per_tenant_the_totals_and_the_largest_growth(self, project, metrics, capsys):
        status, out, _ = usage(project, metrics, capsys)
        assert status == 0
        document = json.loads(out)
        tenants = {tenant["orgId"]: tenant for tenant in document["tenants"]}
        assert {k: tenants["xmsqa1"][k] for k in ("bucket", "bytes", "objects", "growth30Days", "day")} == {
            "bucket": "fusion-rms-xmsqa1",
            "bytes": 39 * GiB,
            "objects": 39_000,
            "growth30Days": 30 * GiB,
            "day": "2026-12-01",
        }
        assert tenants["xmsqa2"]["bytesByStorageType"] == {"StandardIAStorage": 3 * GiB, "StandardStorage": 2 * GiB}
        assert (tenants["xmsqa2"]["bytes"], tenants["xmsqa2"]["growth30Days"]) == (5 * GiB, 0)
        assert tenants["tradeshow-demo"] == {  # no figures yet: unknown, not zero
            "stack": "qa",
            "orgId": "tradeshow-demo",
            "bucket": suffixed(),
            "bytes": None,
            "objects": None,
            "bytesByStorageType": None,
            "growth30Days": None,
            "day": "",
        }
        assert document["totals"] == {"bytes": 44 * GiB + 1024, "objects": 39_501}
        assert document["largestGrowth30Days"] == ["xmsqa1"]
        assert any("no figures yet for tradeshow-demo" in note for note in document["notes"])
        measured = [t for t in document["tenants"] if t["day"]]
        assert all(isinstance(t[k], int) for t in measured for k in ("bytes", "objects"))

    def test_text_csv_and_markdown_carry_the_same_figures(self, project, metrics, capsys):
        _, text, _ = usage(project, metrics, capsys, output_format="text")
        assert text.splitlines()[0] == "4 tenants: 44.0 GiB in 39,501 objects (1 without figures)"
        assert "largest growth over 30 days: xmsqa1 (+30.0 GiB)" in text
        _, table, _ = usage(project, metrics, capsys, output_format="csv")
        rows = {row["orgId"]: row for row in csv.DictReader(io.StringIO(table))}
        assert (rows["xmsqa2"]["bytes"], rows["xmsqa2"]["objects"]) == (str(5 * GiB), "500")
        assert [rows["tradeshow-demo"][column] for column in ("bytes", "objects", "growth30Days")] == ["", "", ""]
        _, markdown, _ = usage(project, metrics, capsys, output_format="markdown")
        chart = markdown[markdown.index("```mermaid") : markdown.index("```", markdown.index("```mermaid") + 3)]
        assert 'x-axis ["xmsqa1", "xmsqa2", "acme-dev"]' in chart  # tradeshow-demo has no figures yet
        assert "bar [39936.0, 5120.0, 0.0]" in chart
        assert f"| `tradeshow-demo` | `{suffixed()}` | n/a | n/a | n/a |" in markdown.replace("| `qa` ", "")
        assert "| `xmsqa1` | `fusion-rms-xmsqa1` | 39.0 GiB | 39,000 | +30.0 GiB |" in markdown.replace("| `qa` ", "")

    def test_cost_per_tenant_from_cost_explorer_by_the_orgid_tag(self, project, metrics, capsys, cost_tag):
        cost_tag("Active")
        queue_costs(
            metrics,
            [
                {"Keys": ["OrgId$xmsqa1"], "Metrics": {"UnblendedCost": {"Amount": "12.345", "Unit": "USD"}}},
                {"Keys": ["OrgId$xmsqa2"], "Metrics": {"UnblendedCost": {"Amount": "0.5", "Unit": "USD"}}},
                {"Keys": ["OrgId$"], "Metrics": {"UnblendedCost": {"Amount": "3", "Unit": "USD"}}},
            ],
        )
        status, out, _ = usage(project, metrics, capsys, cost=True, month="2026-11")
        assert status == 0
        document = json.loads(out)
        assert {t["orgId"]: t["cost"] for t in document["tenants"]} == {
            "xmsqa1": 12.35,
            "xmsqa2": 0.5,
            "acme-dev": 0.0,
            "tradeshow-demo": 0.0,
        }
        assert (document["costMonth"], document["totals"]["cost"], document["untaggedCost"]) == ("2026-11", 12.85, 3.0)
        # The untagged figure is the whole account's spend without the tag, and is said to be.
        assert any(
            "3.00 USD is the whole account's spend in 2026-11 without an OrgId tag" in n for n in document["notes"]
        )

    def test_a_cost_run_that_cannot_tell_whether_the_tag_is_active_is_no_success(self, project, metrics, capsys):
        """moto answers ListCostAllocationTags with an error, as an account without Cost Explorer access would."""
        queue_costs(metrics, [{"Keys": ["OrgId$xmsqa1"], "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}}}])
        status, out, _ = usage(project, metrics, capsys, output_format="text", cost=True)
        assert status == 1
        assert "could not tell whether OrgId is an active cost allocation tag" in out

    def test_an_inactive_tag_says_so_with_the_fix_and_exit_1(self, project, metrics, capsys, cost_tag):
        cost_tag("Inactive")
        queue_costs(metrics, [{"Keys": ["OrgId$"], "Metrics": {"UnblendedCost": {"Amount": "15.85", "Unit": "USD"}}}])
        status, out, _ = usage(project, metrics, capsys, output_format="text", cost=True)
        assert status == 1
        assert "OrgId is not an active cost allocation tag" in out
        assert "aws ce update-cost-allocation-tags-status" in out
        assert out.splitlines()[0].endswith("cost in 2026-11: n/a")

    def test_month_without_cost_and_a_malformed_month_are_usage_errors(self, project, metrics, capsys):
        assert usage(project, metrics, capsys, month="2026-11")[0] == 2
        status, _, err = usage(project, metrics, capsys, cost=True, month="November")
        assert status == 2
        assert "--month 'November' is not a month: give YYYY-MM" in err

    @pytest.mark.parametrize(
        ("month", "message"),
        [
            ("", "--month '' is not a month: give YYYY-MM, for example 2026-11"),
            ("2027-01", "--month 2027-01 is in the future (now 2026-12): it has no cost yet"),
            ("9999-12", "--month 9999-12 is in the future (now 2026-12): it has no cost yet"),
            ("2026-1", "--month '2026-1' is not a month: give YYYY-MM, for example 2026-11"),
        ],
    )
    def test_a_month_without_cost_is_refused_before_aws_is_asked(self, project, capsys, month, message):
        # Nothing listens on the endpoint: a question to AWS before the check would fail to connect instead.
        status, out, err = usage(project, "http://127.0.0.1:9", capsys, cost=True, month=month)
        assert (status, out, err) == (2, "", f"usage: {message}\n")

    def test_the_current_month_is_its_cost_so_far(self, project, metrics, capsys, cost_tag):
        cost_tag("Active")
        queue_costs(metrics, [{"Keys": ["OrgId$xmsqa1"], "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}}}])
        status, out, _ = usage(project, metrics, capsys, cost=True, month="2026-12")
        assert (status, json.loads(out)["costMonth"]) == (0, "2026-12")

    def test_a_random_suffix_matching_two_buckets_is_left_out_and_said_with_exit_1(self, project, metrics, capsys):
        other = "fusion-rms-tradeshow-demo-9f8e7d6c"
        boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url=metrics).create_bucket(Bucket=other)
        status, out, _ = usage(project, metrics, capsys)
        document = json.loads(out)
        assert status == 1
        assert "tradeshow-demo" not in {tenant["orgId"] for tenant in document["tenants"]}
        assert (
            f"tradeshow-demo: its random suffix matches 2 buckets ({suffixed()}, {other}), "
            "so which is its own is unknown" in " ".join(document["notes"])
        )

    def test_all_with_an_account_no_stack_uses_is_refused(self, project, metrics, capsys, monkeypatch):
        use_account(monkeypatch, metrics, "333333333333")
        status, out, err = usage(project, metrics, capsys, stack="all")
        assert (status, out) == (2, "")
        assert "usage: the credentials are for account 333333333333" in err
        assert "which none of the stacks uses (prod: 111111111111; qa: 222222222222)" in err

    def test_all_covers_the_stacks_of_the_callers_account_and_names_the_others(self, project, metrics, capsys):
        status, out, _ = usage(project, metrics, capsys, stack="all")
        document = json.loads(out)
        assert status == 0
        assert {t["stack"] for t in document["tenants"]} == {"qa"}
        assert any("stack prod is not in account 222222222222" in note for note in document["notes"])


class TestWhatTheFiguresAre:
    def test_no_figures_at_all_is_said_never_zero(self, project, moto_server, monkeypatch, capsys):
        reset_emulator(moto_server)
        use_account(monkeypatch, moto_server, QA_ACCOUNT)
        replay(fixture_plan("qa"), boto3.session.Session(region_name="us-east-1"), moto_server)
        status, out, _ = usage(project, moto_server, capsys, output_format="text")
        assert status == 0
        assert out.splitlines()[0] == "4 tenants: no figures yet (S3 publishes its storage metrics once a day)"
        assert "0 B" not in out.splitlines()[0]

    @pytest.mark.parametrize(
        ("sort", "order"),
        [
            ("bytes", ["xmsqa1", "xmsqa2", "acme-dev", "tradeshow-demo"]),
            ("objects", ["xmsqa1", "xmsqa2", "acme-dev", "tradeshow-demo"]),
            ("orgId", ["acme-dev", "tradeshow-demo", "xmsqa1", "xmsqa2"]),
        ],
    )
    def test_the_tenants_are_sorted_as_asked_those_without_figures_last(self, project, metrics, capsys, sort, order):
        status, out, _ = usage(project, metrics, capsys, sort=sort)
        assert status == 0
        assert [tenant["orgId"] for tenant in json.loads(out)["tenants"]] == order

    def test_the_figures_are_said_to_count_noncurrent_versions(self, project, metrics, capsys):
        _, out, _ = usage(project, metrics, capsys)
        assert METRICS_COUNT in json.loads(out)["notes"]
