"""`make security-scan`'s verdict: every Prowler failure must be accepted by emulator/security_scan_expected.yaml
for its check and role, and every accepted failure must still fail. Prowler itself runs only in the scan (its
own environment); these tests judge findings as it writes them (json-ocsf)."""

from __future__ import annotations

import fnmatch
import json

import pytest

from emulator.security_scan import (
    ACCOUNT_ROLE,
    EXPECTED_FILE,
    KINDS,
    Expected,
    Finding,
    judge,
    load_expected,
    read_findings,
    render,
    roles,
    tally,
)
from tenant_storage.registry import Profile
from tests.conftest import fixture_plan

ACCEPTED = [
    Expected("s3_bucket_public_access", "media-gallery tenant bucket", "by-design", "the pub/ folder"),
    Expected("s3_bucket_object_lock", "* tenant bucket", "not-declared", "not declared"),
    Expected("iam_password_policy_*", ACCOUNT_ROLE, "not-declared", "no passwords"),
]
PRESENT = {"media-gallery tenant bucket", "app-storage tenant bucket", ACCOUNT_ROLE}


def finding(check: str, role: str, status: str = "FAIL") -> Finding:
    return Finding(check, status, f"a {role}", role, "detail")


def every_accepted_failure() -> list[Finding]:
    return [
        finding("s3_bucket_public_access", "media-gallery tenant bucket"),
        finding("s3_bucket_object_lock", "media-gallery tenant bucket"),
        finding("s3_bucket_object_lock", "app-storage tenant bucket"),
        finding("iam_password_policy_symbol", ACCOUNT_ROLE),
        finding("s3_bucket_secure_transport_policy", "app-storage tenant bucket", "PASS"),
    ]


def test_accepted_failures_and_passes_are_clean():
    verdict = judge("qa", every_accepted_failure(), ACCEPTED, PRESENT)
    assert verdict.clean
    assert tally(verdict, ACCEPTED) == {"passed": 1, "by-design": 1, "not-declared": 2, "unexpected": 0, "manual": 0}


def test_a_weakened_setting_is_a_new_failure():
    weakened = [
        *every_accepted_failure()[:-1],
        finding("s3_bucket_secure_transport_policy", "app-storage tenant bucket"),
    ]
    verdict = judge("qa", weakened, ACCEPTED, PRESENT)
    assert [f.check for f in verdict.unexpected] == ["s3_bucket_secure_transport_policy"]
    assert "NEW FAILURE qa: s3_bucket_secure_transport_policy" in render([verdict], ACCEPTED, markdown=False)


def test_a_failure_accepted_for_one_role_is_new_for_another():
    failures = [*every_accepted_failure(), finding("s3_bucket_public_access", "app-storage tenant bucket")]
    assert [f.role for f in judge("qa", failures, ACCEPTED, PRESENT).unexpected] == ["app-storage tenant bucket"]


def test_an_accepted_failure_that_now_passes_must_leave_the_list():
    fixed = [f for f in every_accepted_failure() if f.role != "app-storage tenant bucket"]
    verdict = judge("qa", fixed, ACCEPTED, PRESENT)
    assert [(e.check, e.role) for e in verdict.stale] == [("s3_bucket_object_lock", "app-storage tenant bucket")]
    assert "NOW PASSES qa: s3_bucket_object_lock on the app-storage tenant bucket" in render(
        [verdict], ACCEPTED, markdown=False
    )


def test_an_accepted_failure_is_asked_of_the_roles_the_stack_has_only():
    assert judge("qa", every_accepted_failure(), ACCEPTED, PRESENT).stale == ()
    with_upload_only = judge("qa", every_accepted_failure(), ACCEPTED, PRESENT | {"upload-only tenant bucket"})
    assert [entry.role for entry in with_upload_only.stale] == ["upload-only tenant bucket"]


def test_findings_are_read_from_prowlers_json_ocsf(tmp_path):
    plan = fixture_plan("qa")
    bucket = plan.tenants[0]
    report = tmp_path / "scan.ocsf.json"
    report.write_text(
        json.dumps(
            [
                {
                    "metadata": {"event_code": "s3_bucket_object_lock"},
                    "status": "New",  # OCSF's status says nothing: status_code is the result
                    "status_code": "FAIL",
                    "status_detail": "Object Lock disabled",
                    "resources": [{"uid": f"arn:aws:s3:::{bucket.bucket_name}", "name": bucket.bucket_name}],
                },
                {
                    "metadata": {"event_code": "iam_password_policy_symbol"},
                    "status": "New",
                    "status_code": "FAIL",
                    "status_detail": "no symbol",
                    "resources": [{"uid": f"arn:aws:iam:us-east-1:{plan.account_id}:password-policy", "name": ""}],
                },
            ]
        )
    )
    [lock, password] = read_findings(report, roles(plan))
    assert (lock.check, lock.status, lock.role) == ("s3_bucket_object_lock", "FAIL", f"{bucket.profile} tenant bucket")
    assert password.role == ACCOUNT_ROLE


def test_the_expected_file_gives_every_entry_a_kind_and_a_reason_and_matches_a_role_of_the_plans():
    expected = load_expected(EXPECTED_FILE)
    assert expected
    assert {entry.kind for entry in expected} <= set(KINDS)
    named = {role for stack in ("qa", "prod") for role in roles(fixture_plan(stack)).values()}
    for entry in expected:
        assert entry.reason.strip()
        assert any(fnmatch.fnmatchcase(role, entry.role) for role in named | {ACCOUNT_ROLE}), entry


def test_every_profile_has_its_roles():
    named = set(roles(fixture_plan("qa")).values())
    assert {f"{profile.value} tenant bucket" for profile in Profile} <= named
    assert {f"{profile.value} tenant user" for profile in Profile} <= named
    assert "access-log bucket" in named


def test_an_entry_without_a_reason_is_refused(tmp_path):
    path = tmp_path / "expected.yaml"
    path.write_text("- check: s3_bucket_object_lock\n  roles: [the account]\n  kind: not-declared\n")
    with pytest.raises(ValueError, match="with a reason"):
        load_expected(path)


def test_markdown_is_a_table_for_the_job_summary():
    verdict = judge("qa", every_accepted_failure(), ACCEPTED, PRESENT)
    markdown = render([verdict], ACCEPTED, markdown=True)
    assert (
        "| stack | checks passed | failed by design | not declared by this program | unexpected | manual |" in markdown
    )
    assert "| qa | 1 | 1 | 2 | 0 | 0 |" in markdown


def test_a_pattern_of_checks_cannot_hide_one_that_now_passes():
    findings = [*every_accepted_failure(), finding("iam_password_policy_reuse_24", ACCOUNT_ROLE, "PASS")]
    verdict = judge("qa", findings, ACCEPTED, PRESENT)
    assert [(e.check, e.role) for e in verdict.stale] == [("iam_password_policy_reuse_24", ACCOUNT_ROLE)]


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ("the account", "roles must be a non-empty list"),
        ("[]", "roles must be a non-empty list"),
        ("[media gallery tenant bucket]", "matches no role"),
    ],
)
def test_roles_that_could_never_go_stale_are_refused(tmp_path, roles, message):
    path = tmp_path / "expected.yaml"
    path.write_text(f"- check: s3_bucket_object_lock\n  roles: {roles}\n  kind: not-declared\n  reason: a reason\n")
    with pytest.raises(ValueError, match=message):
        load_expected(path)
