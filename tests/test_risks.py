"""`plan --base` names every risk a reviewer must see, counts it per class, and fails the check on it.

Each scenario edits the fixture inputs in a git repository whose HEAD is the unchanged fixture, then runs
`plan --base HEAD`: the classes found, and the exit status (3 when a --fail-on class is present).
"""

import json
import re
import subprocess
from pathlib import Path

import pytest

from cli.main import main
from tests.conftest import replace_in, with_settings

# Each test commits a scratch repository and plans both revisions: `make test` only.
pytestmark = pytest.mark.slow

XMSQA1 = "  - orgId: xmsqa1\n    environment: qa\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def commit(repo: Path) -> Path:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    return repo


def risks(repo: Path, capsys, *args: str) -> tuple[int, list[dict]]:
    status = main(["plan", "--format", "json", "--base", "HEAD", *args], project_dir=repo)
    return status, json.loads(capsys.readouterr().out)["risks"]


def classes(found: list[dict]) -> set[str]:
    return {risk["class"] for risk in found}


def test_an_unchanged_registry_has_no_risk_and_exits_0(project, capsys):
    repo = commit(project)
    assert risks(repo, capsys) == (0, [])


def test_a_one_step_key_rotation_revokes_the_apps_only_key(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", XMSQA1, f'{XMSQA1}    accessKeys: ["2026-11"]\n')(repo)
    status, found = risks(repo, capsys, "--stack", "qa")
    assert status == 3
    [revoked] = [r for r in found if r["class"] == "credentials-revoked"]
    assert revoked["orgId"] == "xmsqa1"
    assert revoked["stack"] == "qa"
    assert revoked["urn"].endswith("::xmsqa1-access-key")


def test_a_two_step_rotation_is_not_a_risk(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", XMSQA1, f'{XMSQA1}    accessKeys: [initial, "2026-11"]\n')(repo)
    status, found = risks(repo, capsys, "--stack", "qa")
    assert "credentials-revoked" not in classes(found)
    assert status == 0


def test_a_new_user_prefix_replaces_every_users_keys(project, capsys):
    repo = commit(project)
    changed = with_settings(repo, "qa", {"tenant-storage:iamUserPrefix": "pos_"})
    (repo / "Pulumi.qa.yaml").write_text((changed / "Pulumi.qa.yaml").read_text())
    status, found = risks(repo, capsys, "--stack", "qa")
    assert status == 3
    assert {r["orgId"] for r in found if r["class"] == "credentials-revoked"} == {
        "xmsqa1",
        "xmsqa2",
        "acme-dev",
        "tradeshow-demo",
    }


def test_a_private_bucket_made_public_is_newly_public(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", "profile: app-storage", "profile: media-gallery")(repo)
    status, found = risks(repo, capsys, "--stack", "qa")
    assert status == 3
    [newly_public] = [r for r in found if r["class"] == "newly-public"]
    assert newly_public["subject"] == "bucket fusion-rms-xmsqa2"
    assert newly_public["message"] == "anyone on the internet may now s3:GetObject on objects pub/*"


def test_dropping_protection_is_protection_removed(project, capsys):
    protected = with_settings(project, "qa", {"tenant-storage:protectBuckets": True})
    repo = commit(protected)
    replace_in("Pulumi.qa.yaml", "tenant-storage:protectBuckets: true\n", "")(repo)
    status, found = risks(repo, capsys, "--stack", "qa")
    assert status == 3
    # Every tenant's bucket, and the stack's access-log bucket (no tenant: orgId None).
    assert {r["orgId"] for r in found if r["class"] == "protection-removed"} == {
        "xmsqa1",
        "xmsqa2",
        "acme-dev",
        "tradeshow-demo",
        None,
    }


def test_removing_a_tenant_is_data_loss(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", "  - orgId: xmsqa2\n    environment: qa\n    profile: app-storage\n", "")(repo)
    status, found = risks(repo, capsys, "--stack", "qa")
    assert status == 3
    assert [(r["class"], r["orgId"]) for r in found] == [("data-loss", "xmsqa2")]


def test_renaming_a_stack_file_removes_the_stack(project, capsys):
    repo = commit(project)
    git(repo, "mv", "Pulumi.prod.yaml", "Pulumi.production.yaml")
    status, found = risks(repo, capsys)
    assert status == 3
    [removed] = [r for r in found if r["class"] == "stack-removed"]
    assert removed["stack"] == "prod"
    assert "all 85 resources of stack prod" in removed["message"]


def test_another_account_is_account_changed(project, capsys):
    repo = commit(project)
    replace_in("accounts.yaml", '  - "222222222222"\n', '  - "222222222222"\n  - "333333333333"\n')(repo)
    replace_in("Pulumi.qa.yaml", '"222222222222"', '"333333333333"')(repo)
    status, found = risks(repo, capsys, "--stack", "qa")
    assert status == 3
    [changed] = [r for r in found if r["class"] == "account-changed"]
    assert (changed["subject"], changed["message"]) == ("stack qa", "allowed accounts 222222222222 -> 333333333333")
    # A new account also means a new access-log bucket (its name holds the account): data loss too.
    assert "data-loss" in classes(found)


def test_wider_permissions_are_listed_but_gate_only_on_request(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", "profile: upload-only", "profile: app-storage")(repo)
    status, found = risks(repo, capsys, "--stack", "qa")
    assert "permissions-widened" in classes(found)
    assert status == 0
    status, _ = risks(repo, capsys, "--stack", "qa", "--fail-on", "permissions-widened")
    assert status == 3


def test_fail_on_none_still_lists_every_risk(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", "  - orgId: xmsqa2\n    environment: qa\n    profile: app-storage\n", "")(repo)
    status, found = risks(repo, capsys, "--stack", "qa", "--fail-on", "none")
    assert status == 0
    assert classes(found) == {"data-loss"}


def test_text_and_markdown_start_with_the_counts_per_class(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", "  - orgId: xmsqa2\n    environment: qa\n    profile: app-storage\n", "")(repo)
    assert main(["plan", "--stack", "qa", "--base", "HEAD"], project_dir=repo) == 3
    text = capsys.readouterr().out
    # After the line naming the base and head commits, the counts of the classes that occur, and only those.
    assert re.match(r"base HEAD \([0-9a-f]+\) -> head [0-9a-f]+ with uncommitted changes\n\nrisks: 1 data-loss\n", text)
    main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown"], project_dir=repo)
    markdown = capsys.readouterr().out
    assert re.match(
        r"# Offline plan of tenant-storage\n\n"
        r"Base `HEAD` \(`[0-9a-f]+`\) → head `[0-9a-f]+` with uncommitted changes\.\n\n"
        r"## Risks\n\n\| class \| count \|",
        markdown,
    )
    assert "| data-loss | 1 |" in markdown


@pytest.mark.parametrize(
    ("classes", "said"),
    [
        ("data-gone", "unknown risk class 'data-gone'"),
        ("dataloss", "(did you mean 'data-loss'?)"),
        (" , ", "name at least one risk class, or none"),
        ("none,data-loss", "none stands alone"),
    ],
)
def test_an_unknown_class_is_a_usage_error(project, capsys, classes, said):
    with pytest.raises(SystemExit) as raised:
        main(["plan", "--base", "HEAD", "--fail-on", classes], project_dir=project)
    assert raised.value.code == 2
    assert said in capsys.readouterr().err


def test_a_new_tenants_grants_are_not_a_widening(project, capsys):
    repo = commit(project)
    replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}  - orgId: newco\n    environment: qa\n    profile: app-storage\n")(
        repo
    )
    status, found = risks(repo, capsys, "--stack", "qa", "--fail-on", "permissions-widened")
    assert "permissions-widened" not in classes(found)
    assert status == 0


def test_s3_log_delivery_acts_only_on_the_bucket_its_source_logs_to():
    """The access-log bucket moves (the README's runbook): the tenant bucket's logs go to the new bucket with the
    rights they had in the old one, so nobody gains anything; a new log bucket that lets log delivery do more is a
    gain of exactly that. A bucket that does not log, and the log buckets themselves, have no log delivery."""
    from policy.tenant_storage_rules import BUCKET, BUCKET_LOGGING, BUCKET_POLICY
    from review.diff import ResourceChange
    from review.effects import compute_effects
    from review.plan import ResourcePlan, StackPlan
    from tenant_storage.policies import LOG_DELIVERY_SERVICE, access_log_bucket_policy

    account, old_logs, new_logs = "222222222222", "fusion-rms--access-logs", "fusion-rms--access-logs-an"

    def resource(resource_type: str, name: str, **inputs: str) -> ResourcePlan:
        urn = f"urn:pulumi:qa::tenant-storage::{resource_type}::{name}"
        return ResourcePlan(urn, resource_type, name, None, False, inputs)

    def log_bucket(name: str, *extra: dict) -> list[ResourcePlan]:
        policy = access_log_bucket_policy(name, account, "fusion-rms")
        policy["Statement"] += extra
        return [
            resource(BUCKET, name, bucket=name),
            resource(BUCKET_POLICY, f"{name}-policy", bucket=name, policy=json.dumps(policy)),
        ]

    def revision(logs_to: str, *extra: ResourcePlan) -> StackPlan:
        resources = [
            resource(BUCKET, "acme", bucket="fusion-rms-acme"),
            resource(BUCKET_LOGGING, "acme-logging", bucket="fusion-rms-acme", targetBucket=logs_to),
            resource(BUCKET, "quiet", bucket="fusion-rms-quiet"),  # no BucketLogging: S3 delivers no logs of it
            *log_bucket(old_logs),
            *extra,
        ]
        return StackPlan("qa", resources=resources, account_id=account, region="us-east-1")

    def gains(head: StackPlan) -> list[tuple[str, str, tuple[tuple[str, str], ...], bool]]:
        changes = [ResourceChange(r.urn, r.type, None, "create") for r in head.resources if r.name.startswith(new_logs)]
        changes.append(ResourceChange(resource(BUCKET_LOGGING, "acme-logging").urn, BUCKET_LOGGING, None, "update"))
        effects = compute_effects(revision(old_logs), head, changes)
        return [(gain.caller_name, gain.bucket_name, gain.actions, gain.caller_before) for gain in effects.access]

    assert gains(revision(new_logs, *log_bucket(new_logs))) == []
    reads = {
        "Effect": "Allow",
        "Principal": {"Service": LOG_DELIVERY_SERVICE},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{new_logs}/*",
    }
    assert gains(revision(new_logs, *log_bucket(new_logs, reads))) == [
        ("S3 log delivery for bucket fusion-rms-acme", new_logs, (("s3:GetObject", "*"),), True)
    ]


def test_the_docs_risk_table_is_the_one_table_of_classes():
    """The reviewer's table (docs/reference/risk-classes.md) is review/risk_classes.py's, word for word: the classes in
    the order they are reported, each with its effect, whether the default --fail-on fails on it, and what the
    reviewer does. Drift between the two fails here."""
    from review.risk_classes import DEFAULT_FAIL_ON, RISK_CLASSES, markdown_table
    from tests.conftest import PROJECT_DIR

    table = markdown_table()
    assert table in (PROJECT_DIR / "docs" / "reference" / "risk-classes.md").read_text()
    rows = table.splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == list(RISK_CLASSES)
    assert {row.split("`")[1] for row in rows if " | yes | " in row} == set(DEFAULT_FAIL_ON)
