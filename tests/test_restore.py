"""`restore` on a moto server: a versioned tenant bucket whose objects were deleted, overwritten and created
after a point in time is brought back to exactly its state then, never deleting a version.

S3 (and moto) lists `LastModified` to the second, so the scenario leaves a whole second between what
happened before `--to` and what happened after it. moto lists at most 100 versions a page, so the
listing here spans several pages; `benchmarks/restore_benchmark.py` runs thousands of objects.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli.main import main
from tenant_storage.restore import RESTORED_FROM_TAG, Version, parse_time, plan_restore, time_problem
from tests.conftest import PROD_ACCOUNT, QA_ACCOUNT, reset_emulator, use_account

BUCKET = "fusion-rms-xmsqa1"
PER_KIND = 40  # keys of each kind: 240 keys, 400-odd versions and markers, over several pages


def at(second: int) -> datetime.datetime:
    return datetime.datetime(2026, 11, 30, 10, 0, second, tzinfo=datetime.UTC)


class TestThePlan:
    """The pure model: per key, the state at `to` against the current one."""

    def test_each_kind_of_change_since_then_has_its_action(self):
        versions = [
            Version("same", "s1", at(1), True),
            Version("overwritten", "o2", at(9), True),
            Version("overwritten", "o1", at(1), False),
            Version("deleted", "d2", at(9), True, delete_marker=True),
            Version("deleted", "d1", at(1), False, size=7),
            Version("new", "n1", at(9), True, size=3),
            Version("gone-before", "g2", at(2), True, delete_marker=True),
            Version("gone-before", "g1", at(1), False),
        ]
        plan = plan_restore(versions, at(5))
        assert [(c.key, c.action, c.version_id) for c in plan.changes] == [
            ("deleted", "restore-deleted", "d1"),
            ("new", "newer-kept", "n1"),
            ("overwritten", "restore-overwritten", "o1"),
        ]
        assert (plan.keys, plan.unchanged, plan.bytes("restore-deleted")) == (5, 2, 7)
        assert plan_restore(versions, at(5), delete_newer=True).count("newer-deleted") == 1

    def test_a_version_made_in_the_second_of_to_existed_then(self):
        versions = [Version("k", "v2", at(5), True), Version("k", "v1", at(1), False)]
        assert plan_restore(versions, at(5).replace(microsecond=900_000)).changes == []

    def test_versions_of_one_second_are_ordered_as_listed_newest_first(self):
        versions = [
            Version("k", "now", at(9), True),
            Version("k", "late", at(1), False),
            Version("k", "early", at(1), False),
        ]
        [change] = plan_restore(versions, at(5)).changes
        assert (change.version_id, change.current_version_id) == ("late", "now")

    def test_a_version_and_a_delete_marker_of_one_second_are_ambiguous_and_the_version_wins(self):
        versions = [
            Version("k", "now", at(9), True),
            Version("k", "put", at(1), False),
            Version("k", "marker", at(1), False, delete_marker=True),
        ]
        plan = plan_restore(versions, at(5))
        assert [(c.action, c.version_id) for c in plan.changes] == [("restore-overwritten", "put")]
        assert plan.ambiguous == ["k"]

    @pytest.mark.parametrize(
        ("text", "message"),
        [("2026-11-30T10:00:00", "has no zone"), ("yesterday", "is not an ISO 8601 time"), ("", "not an ISO")],
    )
    def test_a_time_needs_a_zone(self, text, message):
        with pytest.raises(ValueError, match=message):
            parse_time(text)

    def test_a_future_time_is_refused_and_one_beyond_the_retention_warned(self):
        now = at(30)
        assert "in the future" in (time_problem(at(31), now, 30)[0] or "")
        assert time_problem(now - datetime.timedelta(days=29), now, 30) == (None, None)
        error, warning = time_problem(now - datetime.timedelta(days=31), now, 30)
        assert error is None
        assert "30 days of noncurrent-version retention" in (warning or "")


def content(kind: str, index: int, phase: int) -> bytes:
    return f"{kind}-{index}-phase{phase}".encode()


def wait_for_next_second() -> datetime.datetime:
    """The start of the next whole second, once it has passed: S3's timestamps fall on either side of it."""
    boundary = int(time.time()) + 1
    time.sleep(max(0.0, boundary - time.time()) + 0.05)
    return datetime.datetime.fromtimestamp(boundary, datetime.UTC)


@pytest.fixture
def live(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Any]:
    reset_emulator(moto_server)

    def client(account: str) -> Any:
        use_account(monkeypatch, moto_server, account)
        return boto3.session.Session().client("s3", endpoint_url=moto_server, region_name="us-east-1")

    return client


def versioned_bucket(live: Callable[[str], Any]) -> Any:
    s3 = live(QA_ACCOUNT)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


@pytest.fixture
def scenario(live: Callable[[str], Any]) -> dict[str, Any]:
    """Before `to`: every kind's keys. After it: overwrites, deletions, new keys, an overwrite then a delete."""
    s3 = versioned_bucket(live)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    kinds = ("same", "overwritten", "deleted", "overwritten-then-deleted", "recreated", "new")
    before = {}
    for kind in kinds[:-1]:
        for index in range(PER_KIND):
            key = f"pub/{kind}/{index:04d}.jpg"
            s3.put_object(
                Bucket=BUCKET,
                Key=key,
                Body=content(kind, index, 0),
                ContentType="image/jpeg",
                Metadata={"shot-by": f"camera-{index}"},
            )
            before[key] = content(kind, index, 0)
    wait_for_next_second()  # a version and a delete marker of one second would be ambiguous (see the model)
    for index in range(PER_KIND):
        s3.delete_object(Bucket=BUCKET, Key=f"pub/recreated/{index:04d}.jpg")
        del before[f"pub/recreated/{index:04d}.jpg"]
    to = wait_for_next_second()
    wait_for_next_second()
    for index in range(PER_KIND):
        s3.put_object(Bucket=BUCKET, Key=f"pub/overwritten/{index:04d}.jpg", Body=b"damaged", ContentType="text/plain")
        s3.delete_object(Bucket=BUCKET, Key=f"pub/deleted/{index:04d}.jpg")
        s3.put_object(Bucket=BUCKET, Key=f"pub/overwritten-then-deleted/{index:04d}.jpg", Body=b"damaged")
        s3.delete_object(Bucket=BUCKET, Key=f"pub/overwritten-then-deleted/{index:04d}.jpg")
        s3.put_object(Bucket=BUCKET, Key=f"pub/recreated/{index:04d}.jpg", Body=b"new again")
        s3.put_object(Bucket=BUCKET, Key=f"pub/new/{index:04d}.jpg", Body=b"new")
    return {"s3": s3, "to": f"{to:%Y-%m-%dT%H:%M:%SZ}", "before": before}


def all_versions(s3: Any) -> set[tuple[str, str]]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET)
    return {
        (entry["Key"], entry["VersionId"])
        for page in pages
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
    }


def current_state(s3: Any) -> dict[str, bytes]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def restore(project: Path, capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any], str]:
    report = project / f"report-{time.monotonic_ns()}.json"
    status = main(["restore", "xmsqa1", "--stack", "qa", "--report", str(report), *arguments], project)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    document = json.loads(report.read_text()) if report.exists() else {}
    return status, document, captured.out + captured.err


def keys_of(document: dict[str, Any]) -> dict[str, str]:
    return {change["key"]: change["action"] for change in document["changes"]}


class TestRestoreOnAMotoServer:
    def test_the_apply_brings_back_exactly_the_state_then_and_the_dry_run_said_so(
        self, project, scenario, moto_server, capsys
    ):
        s3, to = scenario["s3"], scenario["to"]
        versions_before = all_versions(s3)
        assert len(versions_before) > 300  # more than three of moto's pages

        status, dry, out = restore(project, capsys, "--to", to, "--endpoint-url", moto_server)
        assert status == 0
        assert "dry run, nothing changed" in out
        assert all_versions(s3) == versions_before
        assert {action: dry["summary"][action]["keys"] for action in dry["summary"]} == {
            "restore-overwritten": PER_KIND,
            "restore-deleted": 2 * PER_KIND,
            "newer-kept": 2 * PER_KIND,
            "newer-deleted": 0,
        }
        assert dry["unchanged"] == PER_KIND

        status, applied, out = restore(project, capsys, "--to", to, "--apply", "--endpoint-url", moto_server)
        assert status == 0
        assert keys_of(applied) == keys_of(dry)
        assert {change["result"] for change in applied["changes"]} == {"restored", "kept"}
        now = current_state(s3)
        newer = {key for key, action in keys_of(dry).items() if action == "newer-kept"}
        assert {key: now[key] for key in now if key not in newer} == scenario["before"]
        assert newer <= now.keys()
        assert versions_before < all_versions(s3)  # no version deleted; the restores added some

        restored = "pub/overwritten/0007.jpg"
        head = s3.head_object(Bucket=BUCKET, Key=restored)
        assert (head["ContentType"], head["Metadata"]) == ("image/jpeg", {"shot-by": "camera-7"})
        assert head.get("ServerSideEncryption") == "AES256"
        tags = s3.get_object_tagging(Bucket=BUCKET, Key=restored)["TagSet"]
        assert [tag["Key"] for tag in tags] == [RESTORED_FROM_TAG]

        versions_after = all_versions(s3)
        status, again, out = restore(project, capsys, "--to", to, "--apply", "--endpoint-url", moto_server)
        assert status == 0
        assert [c["action"] for c in again["changes"]] == ["newer-kept"] * len(newer)
        assert all_versions(s3) == versions_after

    def test_delete_newer_only_adds_delete_markers(self, project, live, moto_server, capsys):
        s3 = versioned_bucket(live)
        s3.put_object(Bucket=BUCKET, Key="pub/old.jpg", Body=b"old")
        to = wait_for_next_second()
        wait_for_next_second()
        for index in range(5):
            s3.put_object(Bucket=BUCKET, Key=f"pub/new/{index}.jpg", Body=b"new")
        versions_before = all_versions(s3)
        when = f"{to:%Y-%m-%dT%H:%M:%SZ}"
        status, applied, _ = restore(
            project, capsys, "--to", when, "--delete-newer", "--apply", "--endpoint-url", moto_server
        )
        assert status == 0
        assert keys_of(applied) == {f"pub/new/{index}.jpg": "newer-deleted" for index in range(5)}
        assert current_state(s3) == {"pub/old.jpg": b"old"}
        assert versions_before < all_versions(s3)
        assert {key for key, _ in all_versions(s3) - versions_before} == set(keys_of(applied))

    def test_a_time_beyond_the_retention_is_warned(self, project, live, moto_server, capsys):
        versioned_bucket(live)
        long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=45)
        status, document, out = restore(
            project, capsys, "--to", f"{long_ago:%Y-%m-%dT%H:%M:%SZ}", "--endpoint-url", moto_server
        )
        assert status == 0
        assert "30 days of noncurrent-version retention" in out
        assert document["warnings"]


class TestRefusals:
    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["--to", "2026-11-30T10:00:00"], "--to '2026-11-30T10:00:00' has no zone"),
            (["--to", "2999-01-01T00:00:00Z"], "is in the future"),
        ],
    )
    def test_a_bad_time_is_one_line_and_exit_2(self, project, live, moto_server, capsys, arguments, message):
        live(QA_ACCOUNT)
        status, _, out = restore(project, capsys, *arguments, "--endpoint-url", moto_server)
        assert (status, message in out) == (2, True)

    def test_an_unknown_tenant_is_named(self, project, live, moto_server, capsys):
        live(QA_ACCOUNT)
        status = main(
            ["restore", "nobody", "--stack", "qa", "--to", "2026-11-30T10:00:00Z", "--endpoint-url", moto_server],
            project,
        )
        assert status == 2
        assert "no tenant 'nobody' in stack qa" in capsys.readouterr().err

    def test_the_wrong_account_is_refused_before_any_read(self, project, live, moto_server, capsys):
        live(PROD_ACCOUNT)
        status, document, out = restore(project, capsys, "--to", "2026-11-30T10:00:00Z", "--endpoint-url", moto_server)
        assert (status, document) == (2, {})
        assert "the credentials are for account 111111111111" in out

    def test_an_unversioned_bucket_cannot_be_restored(self, project, live, moto_server, capsys):
        live(QA_ACCOUNT).create_bucket(Bucket=BUCKET)
        status, _, out = restore(project, capsys, "--to", "2026-11-30T10:00:00Z", "--endpoint-url", moto_server)
        assert status == 1
        assert f"bucket {BUCKET} is not versioned" in out
