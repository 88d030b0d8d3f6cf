"""The review tool: `plan` in every format, `plan --base` against a git revision, and `validate`."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from mock_runtime.runner import PROJECT_DIR
from tests.conftest import fixture_project, replace_in

PROD_BUCKET_URN = "urn:pulumi:prod::tenant-storage::tenant-storage:index:TenantStorage$aws:s3/bucket:Bucket::{}-bucket"
QA_BUCKET_URN = "urn:pulumi:qa::tenant-storage::tenant-storage:index:TenantStorage$aws:s3/bucket:Bucket::{}-bucket"


def plan_json(capsys, *args: str, project_dir: Path | None = None) -> tuple[int, dict]:
    project_dir = project_dir or fixture_project()
    status = main(["plan", "--format", "json", *args], project_dir=project_dir)
    return status, json.loads(capsys.readouterr().out)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(project: Path) -> Path:
    """The project copy as a git repository whose HEAD is the committed example registry."""
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".")
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    return project


class TestPlan:
    def test_text_is_a_short_summary_by_default(self, capsys):
        assert main(["plan"], project_dir=fixture_project()) == 0
        out = capsys.readouterr().out
        assert "stack prod: 4 tenants, 85 resources" in out
        assert "stack qa: 4 tenants, 80 resources" in out
        row = next(line.split() for line in out.splitlines() if line.strip().startswith("xmsqa1 "))
        assert row == ["xmsqa1", "fusion-rms-xmsqa1", "media-gallery", "qa", "rms_xmsqa1", "14"]
        assert "PublicReadOfPubFolder" not in out
        assert "urn:pulumi:" not in out
        assert "tenant-storage plan --detail" in out
        # Header, table and notes per stack, the fixture's two key-hygiene advisories, and the hint.
        assert len(out.splitlines()) <= 2 * (3 + 4 + 2) + 2 + 2

    def test_text_with_detail_shows_every_tenant_with_its_policies_and_urns(self, capsys):
        assert main(["plan", "--detail"], project_dir=fixture_project()) == 0
        out = capsys.readouterr().out
        assert "    public base URL: https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/" in out
        assert '"Sid": "PublicReadOfPubFolder"' in out
        assert '"s3:GetBucketLocation"' in out
        assert "      " + QA_BUCKET_URN.format("xmsqa1") in out

    def test_json_holds_the_exact_policy_documents_and_resource_urns(self, capsys):
        status, document = plan_json(capsys, "--stack", "qa")
        assert status == 0
        assert list(document["stacks"]) == ["qa"]
        [upload_only] = [t for t in document["stacks"]["qa"]["tenants"] if t["orgId"] == "acme-dev"]
        assert upload_only["userPolicy"]["Statement"][0] == {
            "Sid": "TenantObjects",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": "arn:aws:s3:::fusion-rms-acme-dev/*",
        }
        assert upload_only["userPolicy"]["Statement"][1]["Sid"] == "TenantBucketKeyThroughS3"
        assert upload_only["publicBaseUrl"] is None
        assert QA_BUCKET_URN.format("acme-dev") in upload_only["resourceUrns"]
        assert len(document["stacks"]["qa"]["resources"]) == 80

    def test_markdown_has_a_summary_table_and_details_per_tenant(self, capsys):
        assert main(["plan", "--stack", "prod", "--format", "markdown"], project_dir=fixture_project()) == 0
        out = capsys.readouterr().out
        assert "## Stack `prod`" in out
        assert "| `acme` | `fusion-rms-acme` | `media-gallery` | `production` | `rms_acme` | `14` |" in out
        assert "<details><summary><code>globex</code>: policies and resources</summary>" in out

    @pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
    def test_no_format_ever_prints_a_secret(self, capsys, output_format):
        main(["plan", "--format", output_format], project_dir=fixture_project())
        assert "mock-secret-" not in capsys.readouterr().out

    def test_invalid_inputs_exit_1_and_list_every_problem(self, project, capsys):
        replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: no")(project)
        replace_in("tenants.yaml", "profile: app-storage", "profile: private")(project)
        status, document = plan_json(capsys, "--stack", "qa", project_dir=project)
        assert status == 1
        errors = document["stacks"]["qa"]["errors"]
        assert len(errors) == 2
        assert errors[0].startswith("tenants.yaml:5 tenants[0] field 'orgId'")
        assert "field 'profile'" in errors[1]

    def test_a_problem_of_an_input_every_stack_reads_is_listed_once(self, project, capsys):
        with (project / "tenants.yaml").open("a") as registry:
            registry.write("  - orgId: BAD\n    environment: qa\n")
        assert main(["plan"], project_dir=project) == 1
        out = capsys.readouterr().out
        assert out.count("'BAD' is not a valid orgId") == 1
        assert (
            "stack qa: refused, 1 problem; nothing would be deployed\n  - and 1 problem listed under stack prod above"
            in out
        )

    def test_an_unknown_stack_is_a_usage_error(self, capsys):
        assert main(["plan", "--stack", "staging"], project_dir=fixture_project()) == 2
        assert capsys.readouterr().err == "plan: no stack 'staging'; the stacks are prod, qa\n"

    def test_a_misspelt_stack_is_given_the_closest(self, capsys):
        assert main(["plan", "--stack", "qaa"], project_dir=fixture_project()) == 2
        assert capsys.readouterr().err == "plan: no stack 'qaa' (did you mean 'qa'?); the stacks are prod, qa\n"

    def test_a_command_of_one_stack_given_all_says_so(self, capsys):
        assert main(["audit", "--stack", "all"], project_dir=fixture_project()) == 2
        assert capsys.readouterr().err == "audit: this command runs on one stack at a time: give one of prod, qa\n"


@pytest.mark.slow  # each commits a scratch repository and plans both revisions: `make test` only
class TestPlanAgainstABaseRevision:
    def test_no_change_is_an_empty_diff(self, repo, capsys):
        status, document = plan_json(capsys, "--base", "HEAD", project_dir=repo)
        assert status == 0
        for diff in document["diff"].values():
            assert (diff["resources"], diff["tenantsAdded"], diff["statements"]) == ([], [], [])
        main(["plan", "--base", "HEAD", "--format", "markdown"], project_dir=repo)
        assert capsys.readouterr().out.count("No changes.") == 2

    def test_the_text_has_a_terraform_style_line_per_changed_resource(self, repo, capsys):
        (repo / "tenants.yaml").write_text(
            (repo / "tenants.yaml").read_text() + "  - orgId: newco\n    environment: qa\n"
        )
        assert main(["plan", "--stack", "qa", "--base", "HEAD"], project_dir=repo) == 0
        lines = capsys.readouterr().out.splitlines()
        assert "    + aws:s3/bucket:Bucket newco-bucket" in lines
        assert "    ~ aws:iam/groupMembership:GroupMembership media-gallery-group-members (users)" in lines
        assert sum(line.startswith("    + ") for line in lines) == 14

    def test_an_adopted_tenant_reads_as_imports_not_creations(self, repo, capsys):
        (repo / "tenants.yaml").write_text(
            (repo / "tenants.yaml").read_text() + "  - orgId: handmade\n    environment: qa\n    adopt: true\n"
        )
        assert main(["plan", "--stack", "qa", "--base", "HEAD", "--fail-on", "none"], project_dir=repo) == 0
        lines = capsys.readouterr().out.splitlines()
        assert "    = aws:s3/bucket:Bucket handmade-bucket" in lines
        assert "    = aws:iam/user:User handmade-user" in lines
        assert "    + aws:s3/bucket:Bucket handmade-bucket" not in lines
        # An adoption overwrites many settings: a line per setting, never one line of a thousand characters.
        adopted = [line for line in lines if "RISK adopted" in line]
        assert adopted
        assert all(len(line) <= 200 for line in adopted), adopted
        assert lines[lines.index(adopted[0]) + 1].startswith("      ")  # the next setting, on a line of its own

    def test_a_revision_git_does_not_have_is_said_with_a_reason(self, repo, capsys):
        assert main(["plan", "--base", "HEAD~100"], project_dir=repo) == 2
        err = capsys.readouterr().err
        assert err.startswith("plan: cannot read the base revision 'HEAD~100': git ")
        assert err.rstrip().endswith("no such revision in this repository")

    @pytest.mark.parametrize(
        ("base", "reason"),
        [
            ("", "it is empty: give a git revision"),
            ("HEAD^{tree}", "it names a git object that is not a commit: give a branch, a tag or a commit id"),
        ],
    )
    def test_a_base_that_is_no_commit_is_said_in_words(self, repo, capsys, base, reason):
        assert main(["plan", "--stack", "qa", "--base", base], project_dir=repo) == 2
        assert capsys.readouterr().err == f"plan: cannot read the base revision {base!r}: {reason}" + (
            ", for example origin/main or HEAD~1\n" if not base else "\n"
        )

    def test_a_changed_field_reads_as_yaml_in_markdown_too(self, repo, capsys):
        registry = repo / "tenants.yaml"
        registry.write_text(registry.read_text().replace("profile: app-storage", "profile: media-gallery", 1))
        main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown"], project_dir=repo)
        out = capsys.readouterr().out
        assert "publicBaseUrl `not set` → `" in out
        assert "`None`" not in out

    def test_every_action_has_its_mark(self):
        from review.diff import ACTIONS
        from review.render import CHANGE_MARKS

        assert set(CHANGE_MARKS) == set(ACTIONS)

    def test_an_added_tenant_creates_its_resources_without_data_loss(self, repo, capsys):
        (repo / "tenants.yaml").write_text(
            (repo / "tenants.yaml").read_text() + "  - orgId: newco\n    environment: qa\n"
        )
        _, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        diff = document["diff"]["qa"]
        assert diff["tenantsAdded"] == ["newco"]
        created = [change for change in diff["resources"] if change["action"] == "create"]
        assert len(created) == 14
        # The only other change: the user joins its profile's group.
        assert [(c["action"], c["urn"].rsplit("::", 1)[1]) for c in diff["resources"] if c["action"] != "create"] == [
            ("update", "media-gallery-group-members")
        ]
        assert not any(change["dataLoss"] for change in diff["resources"])
        assert {(s["orgId"], s["policy"], s["change"]) for s in diff["statements"]} == {
            ("newco", "bucket", "added"),
            ("newco", "user", "added"),
        }

    def test_removing_a_production_tenant_is_data_loss_that_protection_will_stop(self, repo, capsys):
        replace_in(
            "tenants.yaml", "  - orgId: acme-orders\n    environment: production\n    profile: upload-only\n", ""
        )(repo)
        _, document = plan_json(capsys, "--stack", "prod", "--base", "HEAD", project_dir=repo)
        diff = document["diff"]["prod"]
        assert diff["tenantsRemoved"] == ["acme-orders"]
        [bucket] = [change for change in diff["resources"] if change["urn"] == PROD_BUCKET_URN.format("acme-orders")]
        assert (bucket["action"], bucket["dataLoss"], bucket["blockedByProtection"]) == ("delete", True, True)
        main(["plan", "--stack", "prod", "--base", "HEAD"], project_dir=repo)
        out = capsys.readouterr().out
        assert "DATA LOSS: delete aws:s3/bucket:Bucket acme-orders-bucket; retained: left in AWS" in out
        assert "WILL FAIL: delete of protected aws:s3/bucket:Bucket acme-orders-bucket" in out

    def test_the_plan_prints_the_exact_retirement_steps_and_deletes_nothing_itself(self, repo, capsys):
        replace_in(
            "tenants.yaml", "  - orgId: acme-orders\n    environment: production\n    profile: upload-only\n", ""
        )(repo)
        main(["plan", "--stack", "prod", "--base", "HEAD"], project_dir=repo)
        lines = capsys.readouterr().out.splitlines()
        start = next(i for i, line in enumerate(lines) if "to retire acme-orders" in line)
        steps = [line.strip() for line in lines[start + 1 : start + 6]]
        urn = PROD_BUCKET_URN.format("acme-orders")
        assert steps[0] == f"1. pulumi state unprotect --stack prod --yes '{urn}'"
        assert steps[1].startswith("2. tenant-storage preflight --stack prod")
        assert steps[2].startswith("3. pulumi up --stack prod")
        assert "object_versions.delete()" in steps[3]
        assert "fusion-rms-acme-orders" in steps[3]
        assert steps[4] == "5. aws s3api delete-bucket --bucket fusion-rms-acme-orders"

    def test_an_unprotected_tenant_is_emptied_then_deployed_away(self, repo, capsys):
        replace_in("tenants.yaml", "  - orgId: xmsqa2\n    environment: qa\n    profile: app-storage\n", "")(repo)
        main(["plan", "--stack", "qa", "--base", "HEAD"], project_dir=repo)
        out = capsys.readouterr().out
        assert "to retire xmsqa2" in out
        assert "pulumi state unprotect" not in out
        assert "2. tenant-storage preflight --stack qa" in out
        assert "3. pulumi up --stack qa   # deletes the now empty bucket" in out

    def test_a_change_reads_like_a_plan_with_values_marks_and_a_closing_line(self, repo, capsys):
        replace_in("tenants.yaml", "    profile: app-storage\n", "    profile: media-gallery\n")(repo)
        assert main(["plan", "--stack", "qa", "--base", "HEAD"], project_dir=repo) == 3
        out = capsys.readouterr().out
        assert re.match(r"base HEAD \([0-9a-f]+\) -> head [0-9a-f]+ with uncommitted changes\n", out)
        lines = out.splitlines()
        membership = lines.index("    ~ aws:iam/groupMembership:GroupMembership app-storage-group-members (users)")
        assert lines[membership + 1 : membership + 3] == ["        users:", '          - "rms_xmsqa2"']
        assert "        blockPublicPolicy: true -> false" in lines
        # The bucket a statement names is shown: only values a deploy chooses (a key id) are masked.
        assert (
            '          + statement {"Sid": "PublicReadOfPubFolder", "Effect": "Allow", "Principal": "*", '
            '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::fusion-rms-xmsqa2/pub/*"}'
        ) in lines
        # A mocked key id is not shown as if it were the key's: the state holds it.
        assert "mock-key" not in "\n".join(line for line in lines if line.startswith("          - {"))
        assert (
            "    plan for stack qa: 1 to add, 5 to change, 0 to replace, 0 to delete, 0 to import, 75 unchanged"
            in lines
        )
        _, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        [policy] = [c for c in document["diff"]["qa"]["resources"] if c["urn"].endswith("::xmsqa2-public-access-block")]
        assert policy["values"]["blockPublicPolicy"] == [True, False]
        assert document["revisions"]["base"] == "HEAD"

    def test_a_run_over_every_stack_closes_with_one_line_for_all(self, repo, capsys):
        replace_in("tenants.yaml", "    profile: app-storage\n", "    profile: media-gallery\n")(repo)
        main(["plan", "--base", "HEAD"], project_dir=repo)
        out = capsys.readouterr().out
        assert "plan for 2 stacks: 1 to add, 5 to change, 0 to replace, 0 to delete, 0 to import, 160 unchanged" in out

    def test_the_markdown_names_the_base_and_head_commits_and_closes_with_the_plan(self, repo, capsys):
        replace_in("tenants.yaml", "    profile: app-storage\n", "    profile: media-gallery\n")(repo)
        main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown"], project_dir=repo)
        markdown = capsys.readouterr().out
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert f"Base `HEAD` (`{head}`) → head `{head}` with uncommitted changes." in markdown
        assert "**Plan: 1 to add, 5 to change, 0 to replace, 0 to delete, 0 to import, 75 unchanged.**" in markdown
        assert "<details><summary>Changed values</summary>" in markdown
        # A user holds no policy of its own: its statements are its profile group's.
        assert "in the user's permissions (its profile group's policy) of `xmsqa2`" in markdown

    def test_a_tenant_filter_focuses_the_text_and_never_the_verdict(self, repo, capsys):
        replace_in("tenants.yaml", "    profile: app-storage\n", "    profile: media-gallery\n")(repo)
        assert main(["plan", "--stack", "qa", "--base", "HEAD", "--tenant", "xmsqa1", "--detail"], repo) == 3
        out, err = capsys.readouterr()
        assert "tenant changed: xmsqa2" not in out
        assert "xmsqa2-bucket-policy" not in out  # the other tenant's resources
        assert "app-storage-group-members" in out  # the shared ones stay
        # Never "risks: none" while another tenant's risk decides the exit status.
        assert (
            "risks: none of these tenants; 2 risks of other tenants not shown (the exit status is the whole plan's)"
            in out
        )
        assert "plan: only tenant xmsqa1 and the stacks' shared resources are shown" in err
        assert "shared resources of the stack:" in out
        assert main(["plan", "--stack", "qa", "--tenant", "xmsqa"], repo) == 2
        assert "no tenant 'xmsqa' (did you mean" in capsys.readouterr().err
        # A tenant of another stack has no line in this one: said, not shown as nothing.
        assert main(["plan", "--stack", "qa", "--tenant", "acme"], repo) == 2
        assert "plan: --tenant (stack qa): no tenant 'acme'" in capsys.readouterr().err

    def test_a_protected_bucket_removed_is_said_retained_not_lost(self, repo, capsys):
        replace_in(
            "tenants.yaml", "  - orgId: acme-orders\n    environment: production\n    profile: upload-only\n", ""
        )(repo)
        _, document = plan_json(capsys, "--stack", "prod", "--base", "HEAD", project_dir=repo)
        [risk] = [r for r in document["risks"] if r["class"] == "data-loss"]
        assert "removed from the stack; protected: `pulumi up` stops at it until it is unprotected" in risk["message"]
        assert "retained: left in AWS with what it holds" in risk["message"]
        assert "its objects are lost" not in risk["message"]

    def test_emptying_the_registry_of_a_stack_is_one_risk_that_says_all_of_them_go(self, repo, capsys):
        (repo / "tenants.yaml").write_text("tenants: []\n")
        status, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        assert status == 3
        emptied = [r for r in document["risks"] if r["class"] == "stack-removed"]
        assert [r["message"] for r in emptied] == [
            "stack qa declares no tenant any more: all 4 tenants it had would be removed"
        ]

    def test_moving_a_tenant_into_the_account_regional_namespace_renames_so_replaces_its_bucket(self, repo, capsys):
        replace_in(
            "tenants.yaml",
            "    profile: app-storage\n",
            "    profile: app-storage\n    bucketNamespace: account-regional\n",
        )(repo)
        status, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        diff = document["diff"]["qa"]
        [bucket] = [change for change in diff["resources"] if change["urn"] == QA_BUCKET_URN.format("xmsqa2")]
        assert bucket["action"] == "replace"
        # The new name (its -an suffix) replaces the bucket; the namespace itself the engine never diffs.
        assert "bucket" in bucket["properties"]
        assert "bucketNamespace" not in bucket["properties"]
        assert bucket["dataLoss"] is True
        assert diff["tenantsChanged"]["xmsqa2"]["bucketName"] == [
            "fusion-rms-xmsqa2",
            "fusion-rms-xmsqa2-222222222222-us-east-1-an",
        ]
        assert status == 3  # data-loss is a risk class the gate fails on by default

    QA_LOG_BUCKET = "fusion-rms--access-logs-222222222222-us-east-1"
    MOVE_LOGS = "config:\n  tenant-storage:accessLogBucketNamespace: account-regional\n"
    KEEP_OLD_LOGS = "  tenant-storage:retainedAccessLogBucketNamespace: global\n"

    def test_moving_the_log_bucket_with_the_old_one_kept_creates_the_new_and_changes_no_old_resource(
        self, repo, capsys
    ):
        replace_in("Pulumi.qa.yaml", "config:\n", self.MOVE_LOGS + self.KEEP_OLD_LOGS)(repo)
        status, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        diff = document["diff"]["qa"]
        assert diff["logBucketMove"] == {
            "old": self.QA_LOG_BUCKET,
            "new": f"{self.QA_LOG_BUCKET}-an",
            "oldUrn": diff["logBucketMove"]["oldUrn"],
            "kept": True,
            "keepSetting": "tenant-storage:retainedAccessLogBucketNamespace: global",
        }
        actions = {(c["action"], c["urn"].rsplit("::", 1)[1]) for c in diff["resources"]}
        assert {name for action, name in actions if action == "create"} == {
            f"access-logs-an-{part}"
            for part in ("bucket", "ownership", "public-access-block", "encryption", "versioning", "lifecycle")
        } | {"access-logs-an-bucket-policy"}
        assert {action for action, name in actions if not name.startswith("access-logs-an-")} == {"update"}
        assert {name for _, name in actions if not name.startswith("access-logs-an-")} == {
            f"{org_id}-access-logging" for org_id in ("xmsqa1", "xmsqa2", "acme-dev", "tradeshow-demo")
        }
        assert [risk["class"] for risk in document["risks"] if risk["class"] == "data-loss"] == []
        assert status == 0
        main(["plan", "--stack", "qa", "--base", "HEAD"], project_dir=repo)
        assert (
            f"access logs move from {self.QA_LOG_BUCKET} to {self.QA_LOG_BUCKET}-an; {self.QA_LOG_BUCKET} stays, "
            "with its logs and its policy (retained)" in capsys.readouterr().out
        )

    def test_moving_the_log_bucket_without_keeping_the_old_one_is_data_loss_with_the_fix(self, repo, capsys):
        replace_in("Pulumi.qa.yaml", "config:\n", self.MOVE_LOGS)(repo)
        status, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        [risk] = [risk for risk in document["risks"] if risk["class"] == "data-loss"]
        assert risk["subject"] == f"bucket {self.QA_LOG_BUCKET}"
        assert risk["steps"] == [
            "keep the old access-log bucket and its logs: set "
            "tenant-storage:retainedAccessLogBucketNamespace: global in Pulumi.qa.yaml"
        ]
        assert document["diff"]["qa"]["logBucketMove"]["kept"] is False
        assert status == 3
        main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown"], project_dir=repo)
        assert (
            "is deleted with its logs; to keep it, set `tenant-storage:retainedAccessLogBucketNamespace: global`"
            in (capsys.readouterr().out)
        )

    def test_keeping_a_log_bucket_the_base_never_had_says_the_deploy_creates_it(self, repo, capsys):
        replace_in("Pulumi.qa.yaml", "config:\n", "config:\n  tenant-storage:bucketNamespace: account-regional\n")(repo)
        replace_in("tenants.yaml", "    randomSuffix: true\n", "    randomSuffix: true\n    bucketNamespace: global\n")(
            repo
        )
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "a stack in the namespace")
        replace_in("Pulumi.qa.yaml", "config:\n", "config:\n" + self.KEEP_OLD_LOGS)(repo)
        _, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        assert document["diff"]["qa"]["retainedLogBucketCreated"] == self.QA_LOG_BUCKET
        main(["plan", "--stack", "qa", "--base", "HEAD"], project_dir=repo)
        assert f"the access-log bucket to keep, {self.QA_LOG_BUCKET}, was not the stack's" in capsys.readouterr().out

    def test_a_new_bucket_name_is_a_replacement_flagged_as_data_loss(self, repo, capsys):
        replace_in("tenants.yaml", "    profile: app-storage\n", "    profile: app-storage\n    randomSuffix: true\n")(
            repo
        )
        _, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        diff = document["diff"]["qa"]
        [bucket] = [change for change in diff["resources"] if change["urn"] == QA_BUCKET_URN.format("xmsqa2")]
        assert (bucket["action"], bucket["properties"], bucket["dataLoss"]) == ("replace", ["bucket"], True)
        assert bucket["blockedByProtection"] is False
        assert diff["tenantsChanged"]["xmsqa2"]["bucketName"][0] == "fusion-rms-xmsqa2"
        main(["plan", "--stack", "qa", "--base", "HEAD", "--format", "markdown"], project_dir=repo)
        assert "**DATA LOSS**: replace `aws:s3/bucket:Bucket xmsqa2-bucket` (changes bucket)" in capsys.readouterr().out

    def test_a_profile_change_updates_the_policies_and_lists_the_statements(self, repo, capsys):
        replace_in("tenants.yaml", "profile: app-storage", "profile: upload-only")(repo)
        _, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        diff = document["diff"]["qa"]
        assert diff["tenantsChanged"] == {"xmsqa2": {"profile": ["app-storage", "upload-only"]}}
        # The user moves from one profile group to the other; its bucket stays on the stack's key.
        assert {(c["action"], c["urn"].rsplit("::", 1)[1]) for c in diff["resources"]} == {
            ("update", "app-storage-group-members"),
            ("update", "upload-only-group-members"),
        }
        removed = [s["statement"] for s in diff["statements"] if s["change"] == "removed"]
        added = [s["statement"] for s in diff["statements"] if s["change"] == "added"]
        assert [s["Action"] for s in removed] == [
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            ["s3:ListBucket", "s3:GetBucketLocation"],
        ]
        assert [s["Action"] for s in added] == [["s3:PutObject"]]

    def test_a_stack_new_since_the_base_creates_everything(self, repo, capsys):
        git(repo, "rm", "-q", "Pulumi.qa.yaml")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "no qa")
        git(repo, "checkout", "-q", "HEAD~1", "--", "Pulumi.qa.yaml")
        _, document = plan_json(capsys, "--stack", "qa", "--base", "HEAD", project_dir=repo)
        assert len(document["diff"]["qa"]["tenantsAdded"]) == 4

    def test_an_unknown_revision_is_a_usage_error(self, repo, capsys):
        assert main(["plan", "--base", "no-such-branch"], project_dir=repo) == 2
        assert "cannot read the base revision 'no-such-branch'" in capsys.readouterr().err


class TestValidate:
    def test_the_fixture_inputs_are_valid(self, capsys):
        assert main(["validate"], project_dir=fixture_project()) == 0
        assert "tenants.yaml and 2 stack files are valid" in capsys.readouterr().out

    def test_every_problem_is_printed_once_with_exit_1(self, project, capsys):
        replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: no")(project)
        replace_in("Pulumi.qa.yaml", "    - demo\n", "    - demo\n    - production\n")(project)
        assert main(["validate"], project_dir=project) == 1
        lines = capsys.readouterr().err.splitlines()
        assert lines[-1] == "2 problems; nothing would be deployed"
        assert sum("tenants[0] field 'orgId'" in line for line in lines) == 1
        assert sum("mixes production-class" in line for line in lines) == 1

    def test_it_does_not_load_the_pulumi_sdk(self):
        code = (
            "import sys; from pathlib import Path; from cli.main import main; "
            f"main(['validate'], project_dir=Path({str(fixture_project())!r})); assert 'pulumi' not in sys.modules"
        )
        result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


class TestStackFileNames:
    def test_a_stack_file_name_that_is_not_utf8_is_refused_without_a_traceback(self, project, capsys):
        os.close(os.open(os.path.join(os.fsencode(project), b"Pulumi.\xff.yaml"), os.O_CREAT | os.O_WRONLY))
        assert main(["plan"], project_dir=project) == 1
        out = capsys.readouterr().out
        assert "Pulumi.\\xff.yaml: is not a valid stack file name" in out
        assert "stack qa: refused" in out
