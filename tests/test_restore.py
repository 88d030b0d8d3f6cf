"""`restore` on a moto server: a versioned tenant bucket whose objects were deleted, overwritten and created
after a point in time is brought back to exactly its state then, never deleting a version.

S3 (and moto) lists `LastModified` to the second, so the scenario leaves a whole second between what
happened before `--to` and what happened after it: moto's clock is stepped to the next second (`S3Clock`)
rather than waited for. moto lists at most 100 versions a page, so the listing here spans several pages;
`benchmarks/restore_benchmark.py` runs thousands of objects on the real clock.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from cli.main import main
from live.restore import Restore, render_text, report_document
from tenant_storage.restore import RESTORED_FROM_TAG, Version, parse_time, plan_restore, time_problem
from tests.conftest import PROD_ACCOUNT, QA_ACCOUNT, fixture_project, reset_emulator, use_account

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


class S3Clock:
    """moto's S3 clock (the LastModified of every version and delete marker), set back a minute, so that a
    scenario steps it to the next whole second instead of sleeping for one. It runs at the real rate and
    never passes the real time: the restore, which reads the real clock, sees every version in its past."""

    def __init__(self) -> None:
        self.behind = datetime.timedelta(minutes=1)

    @staticmethod
    def real_now() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def now(self) -> datetime.datetime:
        """As moto's own `utcnow`: naive, in UTC."""
        return (self.real_now() - self.behind).replace(tzinfo=None)

    def next_second(self) -> datetime.datetime:
        """The start of the next whole second of the clock, once it has passed: S3's timestamps fall on either
        side of it."""
        boundary = self.now().replace(microsecond=0, tzinfo=datetime.UTC) + datetime.timedelta(seconds=1)
        self.behind = self.real_now() - boundary - datetime.timedelta(milliseconds=50)
        assert self.behind > datetime.timedelta(0), "the scenario stepped moto's clock past the real time"
        return boundary


@pytest.fixture
def s3_clock() -> Iterator[S3Clock]:
    """moto's S3 clock for the whole test: a patch of its own, which no `monkeypatch.undo()` of the test lifts."""
    import moto.s3.models

    clock = S3Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto.s3.models, "utcnow", clock.now)
        yield clock


class Live:
    """A client of the moto server for an account, and the server's S3 clock."""

    def __init__(self, moto_server: str, monkeypatch: pytest.MonkeyPatch, clock: S3Clock) -> None:
        self.moto_server, self.monkeypatch, self.clock = moto_server, monkeypatch, clock

    def __call__(self, account: str) -> Any:
        use_account(self.monkeypatch, self.moto_server, account)
        return boto3.session.Session().client("s3", endpoint_url=self.moto_server, region_name="us-east-1")

    def next_second(self) -> datetime.datetime:
        return self.clock.next_second()


@pytest.fixture
def live(moto_server: str, monkeypatch: pytest.MonkeyPatch, s3_clock: S3Clock) -> Live:
    reset_emulator(moto_server)
    return Live(moto_server, monkeypatch, s3_clock)


def versioned_bucket(live: Live) -> Any:
    s3 = live(QA_ACCOUNT)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


@pytest.fixture
def scenario(live: Live) -> dict[str, Any]:
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
    live.next_second()  # a version and a delete marker of one second would be ambiguous (see the model)
    for index in range(PER_KIND):
        s3.delete_object(Bucket=BUCKET, Key=f"pub/recreated/{index:04d}.jpg")
        del before[f"pub/recreated/{index:04d}.jpg"]
    to = live.next_second()
    live.next_second()
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
        to = live.next_second()
        live.next_second()
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

    def test_an_object_over_the_copy_limit_is_copied_back_in_parts_with_its_metadata_and_mark(
        self, project, live, moto_server, capsys, monkeypatch
    ):
        """S3's CopyObject stops at 5 GiB; above it the restore copies in parts. Lowered here to 1 MiB, so a
        12 MiB object takes the multipart path (two parts of s3transfer's 8 MiB) on a moto server."""
        monkeypatch.setattr("live.restore.COPY_OBJECT_LIMIT", 1024**2)
        s3 = versioned_bucket(live)
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        original = bytes(range(256)) * (12 * 1024**2 // 256)
        key = "pub/video/launch.mp4"
        s3.put_object(Bucket=BUCKET, Key=key, Body=original, ContentType="video/mp4", Metadata={"shot-by": "camera-1"})
        to = live.next_second()
        live.next_second()
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"damaged", ContentType="text/plain")
        versions_before = all_versions(s3)
        when = f"{to:%Y-%m-%dT%H:%M:%SZ}"

        status, applied, _ = restore(project, capsys, "--to", when, "--apply", "--endpoint-url", moto_server)
        assert status == 0
        assert [(change["key"], change["result"]) for change in applied["changes"]] == [(key, "restored")]
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ETag"].strip('"').endswith("-2")  # a multipart object of two parts, not a CopyObject
        assert (head["ContentType"], head["Metadata"]) == ("video/mp4", {"shot-by": "camera-1"})
        assert head.get("ServerSideEncryption") == "AES256"
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == original
        tags = s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
        assert [tag["Key"] for tag in tags] == [RESTORED_FROM_TAG]
        assert versions_before < all_versions(s3)

        versions_after = all_versions(s3)
        status, again, _ = restore(project, capsys, "--to", when, "--apply", "--endpoint-url", moto_server)
        assert (status, again["changes"]) == (0, [])
        assert all_versions(s3) == versions_after


def small_scenario(live: Live, keys: Sequence[str], **put: Any) -> tuple[Any, str]:
    """`keys` written before `to` (with `put`'s arguments) and each overwritten after it."""
    s3 = versioned_bucket(live)
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"then", **put)
    to = live.next_second()
    live.next_second()
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"damaged")
    return s3, f"{to:%Y-%m-%dT%H:%M:%SZ}"


def failing_on_call(monkeypatch: pytest.MonkeyPatch, call: int, error: BaseException) -> None:
    """`copy_back` raises `error` on its `call`th call, as a network failure or Ctrl-C partway would."""
    real = Restore.copy_back
    calls = []

    def copy_back(self: Restore, change: Any) -> None:
        calls.append(change.key)
        if len(calls) == call:
            raise error
        real(self, change)

    monkeypatch.setattr(Restore, "copy_back", copy_back)


class TestWhatARunSays:
    KEYS = ("pub/a.jpg", "pub/b.jpg", "pub/c.jpg")

    @pytest.mark.parametrize(
        ("report", "message"),
        [
            (
                "missing/report.json",
                "--report {project}/missing/report.json: the folder {project}/missing does not exist",
            ),
            ("", "--report is empty: give a file name"),
            (".", "--report {project} is a folder: give a file name"),
        ],
    )
    def test_a_report_that_cannot_be_written_is_refused_before_aws_is_asked(
        self, project, live, moto_server, capsys, report, message
    ):
        live(PROD_ACCOUNT)  # asking AWS anything would meet the wrong-account error first
        path = "" if report == "" else str((project / report).resolve())
        arguments = ["--to", "2026-11-30T10:00:00Z", "--apply", "--report", path, "--endpoint-url", moto_server]
        status = main(["restore", "xmsqa1", "--stack", "qa", *arguments], project)
        err = capsys.readouterr().err
        assert status == 2
        assert err.splitlines() == [f"restore: {message.format(project=project.resolve())}"]

    @pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a file every write to fails")
    def test_a_report_that_fails_to_write_after_the_apply_still_says_what_was_done(
        self, project, live, moto_server, capsys
    ):
        s3, to = small_scenario(live, self.KEYS)
        arguments = ["--to", to, "--apply", "--report", "/dev/full", "--endpoint-url", moto_server]
        status = main(["restore", "xmsqa1", "--stack", "qa", *arguments], project)
        captured = capsys.readouterr()
        assert status == 1
        assert "(restored): 3 keys, 0 as they were then" in captured.out
        assert "restore: could not write the report to /dev/full: No space left on device" in captured.err
        assert current_state(s3) == dict.fromkeys(self.KEYS, b"then")

    @pytest.mark.parametrize(
        ("error", "status", "reason"),
        [
            (KeyboardInterrupt(), 130, "interrupted"),
            (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), 2, "Could not connect to the endpoint URL"),
        ],
    )
    def test_a_run_stopped_partway_reports_what_was_done_and_a_rerun_does_the_rest(
        self, project, live, moto_server, capsys, monkeypatch, error, status, reason
    ):
        s3, to = small_scenario(live, self.KEYS)
        failing_on_call(monkeypatch, 2, error)
        stopped, document, out = restore(project, capsys, "--to", to, "--apply", "--endpoint-url", moto_server)
        assert stopped == status
        assert reason in document["aborted"]
        # The copies under way when it stopped finished (several run at once); the one that stopped is not done.
        results = {change["key"]: change["result"] for change in document["changes"]}
        done = [key for key, result in results.items() if result == "restored"]
        assert sorted(result for result in results.values() if result != "restored") == ["not done"]
        assert f"(stopped after {len(done)} of 3 keys: {document['aborted']}; run it again to resume)" in out
        assert current_state(s3) == {key: b"then" if key in done else b"damaged" for key in self.KEYS}

        monkeypatch.undo()
        use_account(monkeypatch, moto_server, QA_ACCOUNT)
        status, rest, _ = restore(project, capsys, "--to", to, "--apply", "--endpoint-url", moto_server)
        assert (status, [change["key"] for change in rest["changes"]]) == (0, sorted(set(self.KEYS) - set(done)))
        assert current_state(s3) == dict.fromkeys(self.KEYS, b"then")

    def test_an_archived_version_fails_with_what_to_do_and_exit_1(self, project, live, moto_server, capsys):
        s3, to = small_scenario(live, ["pub/archived.jpg"], StorageClass="GLACIER")
        status, document, out = restore(project, capsys, "--to", to, "--apply", "--endpoint-url", moto_server)
        assert status == 1
        assert "(applied: 1 of 1 key failed): 1 key, 0 as they were then" in out
        assert "      pub/archived.jpg  [failed]" in out
        # S3's CopyObject says ObjectNotInActiveTierError; moto refuses the tags before the copy (InvalidObjectState).
        failure = next(line for line in out.splitlines() if line.startswith("  FAILED "))
        assert failure.split(": ")[:2] in (
            ["  FAILED pub/archived.jpg", "ObjectNotInActiveTierError"],
            ["  FAILED pub/archived.jpg", "InvalidObjectState"],
        )
        assert failure.endswith(
            "bring it back first with `aws s3api restore-object --version-id`, then run this restore again)"
        )
        assert document["changes"][0]["result"] == "failed: " + failure.removeprefix("  FAILED pub/archived.jpg: ")
        assert current_state(s3) == {"pub/archived.jpg": b"damaged"}

    def test_a_key_with_control_characters_cannot_rewrite_the_terminal(self):
        # A unit of the text: S3 keeps such a key (listed URL-encoded), but moto's listing fails on it (a 500).
        key = "pub/\x1b[2J\x1b[Hall clear\r.jpg"
        plan = plan_restore([Version(key, "v2", at(5), True), Version(key, "v1", at(1), False)], at(2))
        document = report_document("qa", "xmsqa1", BUCKET, at(2), "", False, Restore(None, BUCKET, plan))
        assert document["changes"][0]["key"] == key  # the report keeps the key exactly
        text = render_text(document)
        assert "      pub/\\x1b[2J\\x1b[Hall clear\\r.jpg\n" in text
        assert "\x1b" not in text
        assert "\r" not in text

    def test_a_prefix_without_keys_is_warned(self, project, live, moto_server, capsys):
        _, to = small_scenario(live, self.KEYS)
        status, document, out = restore(project, capsys, "--to", to, "--prefix", "Pub/", "--endpoint-url", moto_server)
        assert (status, document["keys"]) == (0, 0)
        assert "warning: no key is under the prefix 'Pub/'" in out


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

    @pytest.mark.parametrize(
        ("org_id", "message"),
        [
            ("nobody", "no tenant 'nobody' in stack qa (its tenants: "),
            ("acme", "no tenant 'acme' in stack qa; it is in stack prod"),
        ],
    )
    def test_a_tenant_the_stack_does_not_have_is_named_with_where_it_is(
        self, project, live, moto_server, capsys, org_id, message
    ):
        live(QA_ACCOUNT)
        status = main(
            ["restore", org_id, "--stack", "qa", "--to", "2026-11-30T10:00:00Z", "--endpoint-url", moto_server],
            project,
        )
        assert status == 2
        assert message in capsys.readouterr().err

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

    def test_a_bucket_with_versioning_suspended_is_refused_with_the_command_to_enable_it(
        self, project, live, moto_server, capsys
    ):
        versioned_bucket(live).put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
        status, document, out = restore(project, capsys, "--to", "2026-11-30T10:00:00Z", "--endpoint-url", moto_server)
        assert (status, document) == (1, {})
        assert f"bucket {BUCKET} has versioning suspended" in out
        assert f"aws s3api put-bucket-versioning --bucket {BUCKET} --versioning-configuration Status=Enabled" in out

    def test_a_missing_bucket_asks_whether_the_tenant_is_deployed(self, project, live, moto_server, capsys):
        live(QA_ACCOUNT)
        status, _, out = restore(project, capsys, "--to", "2026-11-30T10:00:00Z", "--endpoint-url", moto_server)
        assert status == 2
        assert f"bucket {BUCKET} does not exist in this account: is tenant xmsqa1 deployed" in out

    @pytest.mark.parametrize("time", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
    def test_a_time_out_of_range_in_utc_is_one_line(self, project, live, moto_server, capsys, time):
        live(QA_ACCOUNT)
        status, _, out = restore(project, capsys, "--to", time, "--endpoint-url", moto_server)
        assert status == 2
        assert out.strip() == f"restore: --to {time!r} is out of range: in UTC it falls outside years 1 to 9999"


def test_a_restore_in_the_declared_state_keeps_every_declared_setting(s3_clock, replayed_qa, capsys):
    """The tenant's bucket as the plan declares it (versioning, lifecycle, encryption, logging, tags), replayed:
    a restore brings a file back and leaves every declared setting as it was."""
    from emulator.replay import policy_lifted, read_back

    endpoint, replayed = replayed_qa
    session = boto3.session.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    with policy_lifted(s3, BUCKET):  # moto refuses object requests under its TLS denies (MOTO_LIMITS)
        s3.put_object(Bucket=BUCKET, Key="pub/logo.png", Body=b"the logo then")
        to = s3_clock.next_second()
        s3_clock.next_second()  # S3 times are whole seconds: a version of the second of --to existed then
        s3.put_object(Bucket=BUCKET, Key="pub/logo.png", Body=b"a logo uploaded by mistake")

        status, applied, out = restore(
            fixture_project(), capsys, "--to", to.isoformat(), "--apply", "--endpoint-url", endpoint
        )
        assert status == 0, out
        assert keys_of(applied) == {"pub/logo.png": "restore-overwritten"}, out
        assert s3.get_object(Bucket=BUCKET, Key="pub/logo.png")["Body"].read() == b"the logo then"
    assert read_back(replayed, session, endpoint) == []


class TestWhatARealAccountWouldDo:
    """What moto is lenient about, held to S3's and s3transfer's own behaviour (issue 31)."""

    @pytest.mark.parametrize("copy_limit", [5 * 1024**3, 1024**2], ids=["CopyObject", "multipart copy"])
    def test_each_version_comes_back_in_its_own_storage_class(
        self, project, live, moto_server, capsys, monkeypatch, copy_limit
    ):
        """CopyObject and the managed copy send no StorageClass unless asked: the copy would be STANDARD."""
        monkeypatch.setattr("live.restore.COPY_OBJECT_LIMIT", copy_limit)
        s3 = versioned_bucket(live)
        body = b"x" * (6 * 1024**2)
        s3.put_object(Bucket=BUCKET, Key="pub/ia.bin", Body=body, StorageClass="STANDARD_IA")
        to = live.next_second()
        live.next_second()
        s3.put_object(Bucket=BUCKET, Key="pub/ia.bin", Body=b"damaged")
        status, document, _ = restore(
            project, capsys, "--to", f"{to:%Y-%m-%dT%H:%M:%SZ}", "--apply", "--endpoint-url", moto_server
        )
        assert status == 0, document
        assert s3.head_object(Bucket=BUCKET, Key="pub/ia.bin").get("StorageClass") == "STANDARD_IA"

    def test_the_multipart_copy_marks_its_own_version_never_an_upload_made_meanwhile(
        self, project, live, moto_server, capsys, monkeypatch
    ):
        """After the parts complete, a tenant's upload lands before the tags would: only the copy is marked
        (s3transfer tags the version CompleteMultipartUpload answers with), so a rerun does not skip the key
        as restored when it is not."""
        from botocore.client import BaseClient

        monkeypatch.setattr("live.restore.COPY_OBJECT_LIMIT", 1024**2)
        s3 = versioned_bucket(live)
        key = "pub/video.mp4"
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"v" * (6 * 1024**2))
        to = live.next_second()
        live.next_second()
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"damaged")
        make_api_call = BaseClient._make_api_call

        def tenant_uploads_right_after_the_copy(client: BaseClient, operation: str, parameters: dict) -> object:
            answer = make_api_call(client, operation, parameters)
            if operation == "CompleteMultipartUpload":
                s3.put_object(Bucket=BUCKET, Key=key, Body=b"the tenant's new upload")
            return answer

        monkeypatch.setattr(BaseClient, "_make_api_call", tenant_uploads_right_after_the_copy)
        status, document, _ = restore(
            project, capsys, "--to", f"{to:%Y-%m-%dT%H:%M:%SZ}", "--apply", "--endpoint-url", moto_server
        )
        monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
        assert status == 0, document
        [upload, copy, *_] = s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
        tags_of = lambda version: s3.get_object_tagging(Bucket=BUCKET, Key=key, VersionId=version["VersionId"])  # noqa: E731
        assert tags_of(upload)["TagSet"] == []
        assert [tag["Key"] for tag in tags_of(copy)["TagSet"]] == [RESTORED_FROM_TAG]

    def test_the_dry_run_and_the_report_say_how_long_the_restore_can_be_undone(
        self, project, live, moto_server, capsys
    ):
        _, to = small_scenario(live, ["pub/a.jpg"])
        status, document, out = restore(project, capsys, "--to", to, "--delete-newer", "--endpoint-url", moto_server)
        assert status == 0
        assert "undo window: the versions this restore replaces stay recoverable for 30 days" in out
        assert any("delete markers keep their versions for 30 days" in line for line in document["undo"])

    def test_the_permissions_it_names_are_the_ones_s3_checks_for_versions(self):
        from live.restore import RESTORE_ACCESS

        for action in ("s3:GetObjectVersion", "s3:GetObjectVersionTagging", "s3:PutObjectVersionTagging"):
            assert action in RESTORE_ACCESS


class TestWhatACopyAsksOfS3:
    """The arguments of each copy, as S3 documents their effect (CopyObject, s3transfer's managed copy)."""

    class Client:
        def __init__(self, tags: int) -> None:
            self.tag_count = tags
            self.sent: dict[str, Any] = {}

        def get_object_tagging(self, **_: Any) -> dict[str, Any]:
            return {"TagSet": [{"Key": f"k{index}", "Value": "v"} for index in range(self.tag_count)]}

        def copy_object(self, **arguments: Any) -> None:
            self.sent = arguments

        def copy(self, source: Any, bucket: str, key: str, ExtraArgs: dict[str, Any], Config: Any) -> None:  # noqa: N803
            self.sent = ExtraArgs

    @staticmethod
    def copy(storage_class: str, size: int, tags: int) -> dict[str, Any]:
        from live.restore import Restore
        from tenant_storage.restore import KeyChange, RestorePlan

        client = TestWhatACopyAsksOfS3.Client(tags)
        aws = type("Aws", (), {"client": lambda self, service: client})()
        change = KeyChange("pub/a.jpg", "restore-overwritten", "v1", size, "v2", storage_class)
        Restore(aws, BUCKET, RestorePlan([change])).copy_back(change)
        return client.sent

    @pytest.mark.parametrize("size", [10, 6 * 1024**3], ids=["CopyObject", "multipart copy"])
    def test_an_archived_version_comes_back_readable_every_other_class_as_it_was(self, size):
        assert self.copy("DEEP_ARCHIVE", size, 0)["StorageClass"] == "STANDARD"
        assert self.copy("GLACIER", size, 0)["StorageClass"] == "STANDARD"
        assert self.copy("GLACIER_IR", size, 0)["StorageClass"] == "GLACIER_IR"

    @pytest.mark.parametrize("size", [10, 6 * 1024**3], ids=["CopyObject", "multipart copy"])
    def test_a_version_with_ten_tags_keeps_them_though_it_cannot_be_marked(self, size):
        assert self.copy("STANDARD", size, 10)["TaggingDirective"] == "COPY"
        assert self.copy("STANDARD", size, 3)["TaggingDirective"] == "REPLACE"


def test_the_benchmarks_moto_lists_the_same_versions_as_moto_does(monkeypatch):
    """benchmarks/moto_linear_listing.py only takes moto's per-page deep copy out: the listing is the same."""
    from moto import mock_aws
    from moto.s3.models import S3Backend

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from moto_linear_listing import shallow_version_listing

    def listing(s3: Any) -> list[tuple[str, str, bool]]:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket="bench", PaginationConfig={"PageSize": 3})
        return [(v["Key"], v["VersionId"], v["IsLatest"]) for page in pages for v in page.get("Versions", [])]

    original = S3Backend.list_object_versions
    monkeypatch.setattr(S3Backend, "list_object_versions", original)  # put back after the test
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        s3.put_bucket_versioning(Bucket="bench", VersioningConfiguration={"Status": "Enabled"})
        for body in (b"1", b"2"):
            for key in ("a", "b", "c", "d"):
                s3.put_object(Bucket="bench", Key=key, Body=body)
        as_released = listing(s3)
        shallow_version_listing()
        assert S3Backend.list_object_versions is not original
        assert listing(s3) == as_released
        assert listing(s3) == as_released  # the stored versions were not changed by a listing
        assert sum(latest for *_, latest in as_released) == 4
