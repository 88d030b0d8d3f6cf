"""The GitHub workflows keep their promises: previews for everyone, secrets only where they are safe."""

import re
import tomllib
from pathlib import Path

import yaml

from mock_runtime.runner import PROJECT_DIR

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action)]


PULUMI_COMMAND = re.compile(r"(?:^|\s)pulumi (preview|up)\b(?P<args>[^\n]*)")


def pulumi_steps(job: dict) -> list[tuple[str, str, dict]]:
    """Each step that runs `pulumi preview` or `pulumi up`, through pulumi/actions or the CLI: (command, the
    options as text, the step)."""
    found = []
    for step in job.get("steps", []):
        if step.get("uses", "").startswith("pulumi/actions") and "command" in step.get("with", {}):
            options = step["with"]
            found.append((options["command"], f"--policy-pack {options.get('policyPacks', '')}", step))
        for match in PULUMI_COMMAND.finditer(step.get("run", "")):
            found.append((match.group(1), match.group("args"), step))
    return found


def all_jobs() -> list[dict]:
    return [job for path in WORKFLOWS.glob("*.yml") for job in yaml.safe_load(path.read_text())["jobs"].values()]


class TestPullRequests:
    workflow = load("pull-request.yml")
    jobs = workflow["jobs"]

    def test_every_pull_request_runs_the_readme_test_command(self):
        assert any(step.get("run") == "make test" for step in self.jobs["test"]["steps"])

    def test_new_tenants_get_check_names_with_the_read_only_role(self):
        commands = " ".join(step.get("run", "") for step in self.jobs["preview"]["steps"])
        assert (
            'git diff --quiet "$BASE_REF" -- tenants.yaml || .venv/bin/tenant-storage check-names --stack "$STACK"'
            in commands
        )

    def test_the_real_preview_runs_only_for_same_repository_pull_requests(self):
        job = self.jobs["preview"]
        assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
        assert job["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
        [preview] = steps_using(job, "pulumi/actions")
        assert preview["with"]["command"] == "preview"
        assert preview["with"]["comment-on-pr"] is True
        assert preview["with"]["edit-pr-comment"] is True

    def test_aws_credentials_come_from_oidc(self):
        job = self.jobs["preview"]
        assert job["permissions"]["id-token"] == "write"
        [credentials] = steps_using(job, "aws-actions/configure-aws-credentials")
        assert "role-to-assume" in credentials["with"]

    def test_the_workflow_token_is_read_only_by_default(self):
        assert self.workflow["permissions"] == {"contents": "read"}


class TestTheReviewGate:
    workflow = load("review-gate.yml")
    job = workflow["jobs"]["offline-plan"]

    def test_the_offline_plan_goes_to_the_job_summary_without_secrets(self):
        assert "if" not in self.job, "the offline plan must run for forks too"
        head = steps_using(self.job, "actions/checkout")[0]
        assert head["with"]["fetch-depth"] == 0, "the base branch must be fetched for --base"
        commands = " ".join(step.get("run", "") for step in self.job["steps"])
        assert '--base "$BASE_REF" --format markdown' in commands
        assert '>> "$GITHUB_STEP_SUMMARY"' in commands
        assert "secrets." not in yaml.safe_dump(self.job)

    def test_the_verdict_comes_from_the_base_branchs_tool_on_the_pull_requests_checkout(self):
        head, tool = steps_using(self.job, "actions/checkout")
        assert "ref" not in head["with"]
        assert tool["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
        assert any(step.get("run") == f"make -C {tool['with']['path']} install" for step in self.job["steps"])
        plans = [step["run"] for step in self.job["steps"] if "tenant-storage plan" in step.get("run", "")]
        assert len(plans) == 2
        assert all(f"{tool['with']['path']}/.venv/bin/tenant-storage plan --project . --base" in run for run in plans)

    def test_risks_fail_the_check_unless_the_accept_risk_label_is_set(self):
        [step] = [s for s in self.job["steps"] if "--format markdown" in s.get("run", "")]
        assert (
            step["env"]["FAIL_ON"]
            == "${{ contains(github.event.pull_request.labels.*.name, 'accept-risk') && 'none' || '' }}"
        )
        assert '${FAIL_ON:+--fail-on "$FAIL_ON"}' in step["run"]
        assert {"labeled", "unlabeled"} <= set(self.workflow[True]["pull_request"]["types"])

    def test_the_full_json_plan_is_uploaded_as_an_artifact(self):
        [upload] = steps_using(self.job, "actions/upload-artifact")
        assert upload["with"] == {"name": "plan.json", "path": "plan.json"}

    def test_codeowners_give_every_file_of_the_gate_to_the_platform_owners(self):
        """Fail closed: a catch-all line first, so a file nobody listed (a new tool file, uv.toml) is owned too."""
        import subprocess

        from review.program import gate_files

        rules = [
            line.split()
            for line in (PROJECT_DIR / ".github" / "CODEOWNERS").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert rules[0] == ["*", "@your-org/platform-owners"]
        assert all(pattern == "*" or pattern.startswith("/") for pattern, *_ in rules)

        def owners(path: str) -> list[str]:
            matching = [o for pattern, *o in rules if pattern == "*" or f"/{path}".startswith(pattern)]
            return matching[-1]

        tracked = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "ls-files"], capture_output=True, text=True, check=True
        ).stdout.split()
        for path in [*gate_files(tracked), "uv.toml", "live/new_command.py", "docs/CODEOWNERS"]:
            assert "@your-org/platform-owners" in owners(path), path


class TestDeploy:
    workflow = load("deploy.yml")
    jobs = workflow["jobs"]

    def test_it_deploys_on_push_to_main_only(self):
        assert self.workflow[True] == {"push": {"branches": ["main"]}}  # PyYAML reads the key `on` as True

    def test_every_stack_file_is_deployed_non_production_first_then_production_behind_review(self):
        stacks = " ".join(step.get("run", "") for step in self.jobs["stacks"]["steps"])
        assert "tenant-storage stacks --format json" in stacks
        assert self.jobs["non-production"]["strategy"]["matrix"]["include"] == (
            "${{ fromJSON(needs.stacks.outputs.non-production) }}"
        )
        assert (
            self.jobs["production"]["strategy"]["matrix"]["include"]
            == "${{ fromJSON(needs.stacks.outputs.production) }}"
        )
        assert self.jobs["production"]["needs"] == ["stacks", "non-production"]
        assert self.jobs["production"]["environment"] == "production"

    def test_two_deploys_of_one_stack_never_overlap(self):
        for job in ("non-production", "production"):
            assert self.jobs[job]["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}
            for _command, options, step in pulumi_steps(self.jobs[job]):
                assert '--stack "$STACK"' in options
                assert step["env"]["STACK"] == "${{ matrix.stack }}"

    def test_a_mandatory_violation_stops_the_deploy_before_any_change(self):
        """pulumi/actions runs `up --skip-preview`, where stack policies run after every step: so the job
        previews with the pack first, and `up` may do only what that preview planned."""
        for job in ("non-production", "production"):
            [(first, preview, _), (second, up, _)] = pulumi_steps(self.jobs[job])
            assert (first, second) == ("preview", "up")
            saved = re.search(r'--save-plan "([^"]+)"', preview)
            assert saved is not None
            assert f'--plan "{saved.group(1)}"' in up
            assert "--skip-preview" not in up


def test_no_workflow_uses_long_lived_aws_keys():
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "aws-access-key-id" not in text
        assert "AWS_SECRET_ACCESS_KEY" not in text


def test_pre_commit_runs_ruff_and_validate():
    hooks = {
        hook["id"]: hook
        for repo in yaml.safe_load(Path(PROJECT_DIR / ".pre-commit-config.yaml").read_text())["repos"]
        for hook in repo["hooks"]
    }
    assert {"ruff", "ruff-format", "tenant-storage-validate"} <= hooks.keys()
    assert hooks["tenant-storage-validate"]["entry"] == ".venv/bin/tenant-storage validate"


def locked_version(package: str) -> str:
    lock = tomllib.loads((PROJECT_DIR / "uv.lock").read_text())
    [version] = [p["version"] for p in lock["package"] if p["name"] == package]
    return version


class TestPinnedToolchain:
    def test_every_pulumi_cli_in_the_workflows_is_the_locked_sdk_version(self):
        for path in WORKFLOWS.glob("*.yml"):
            workflow = yaml.safe_load(path.read_text())
            pulumi_steps = [step for job in workflow["jobs"].values() for step in steps_using(job, "pulumi/actions")]
            if pulumi_steps or "PULUMI_VERSION" in workflow.get("env", {}):
                assert workflow["env"]["PULUMI_VERSION"] == locked_version("pulumi"), path.name
            for step in pulumi_steps:
                assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}", path.name

    def test_the_workflows_install_the_uv_the_makefile_bootstraps(self):
        makefile_version = re.search(r"^UV_VERSION := (\S+)$", (PROJECT_DIR / "Makefile").read_text(), re.M)
        assert makefile_version
        for path in WORKFLOWS.glob("*.yml"):
            for job in yaml.safe_load(path.read_text())["jobs"].values():
                for step in steps_using(job, "astral-sh/setup-uv"):
                    assert step["with"]["version"] == makefile_version.group(1), path.name

    def test_the_pulumi_cli_builds_the_locked_environment(self):
        project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
        assert project["runtime"]["options"]["toolchain"] == "uv"

    def test_the_policy_pack_installs_the_locked_pulumi_policy(self):
        requirements = (PROJECT_DIR / "policy" / "requirements.txt").read_text()
        assert f"pulumi-policy=={locked_version('pulumi-policy')} " in requirements
        assert "--hash=sha256:" in requirements

    def test_lock_updates_arrive_as_pull_requests(self):
        updates = yaml.safe_load((PROJECT_DIR / ".github" / "dependabot.yml").read_text())["updates"]
        assert {(u["package-ecosystem"], u["directory"]) for u in updates} >= {("uv", "/"), ("github-actions", "/")}


class TestNightlyAudit:
    workflow = load("audit.yml")

    def test_it_runs_every_night_per_stack_with_a_read_only_role(self):
        assert "schedule" in self.workflow[True]
        job = self.workflow["jobs"]["audit"]
        assert job["strategy"]["matrix"]["stack"] == ["qa", "prod"]
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        [credentials] = steps_using(job, "aws-actions/configure-aws-credentials")
        assert "AUDIT_ROLE" in credentials["with"]["role-to-assume"]

    def test_it_writes_markdown_to_the_job_summary_and_fails_on_findings(self):
        commands = " ".join(step.get("run", "") for step in self.workflow["jobs"]["audit"]["steps"])
        assert '--format markdown | tee -a "$GITHUB_STEP_SUMMARY"; exit "${PIPESTATUS[0]}"' in commands


class TestTheGateIsTheDeploysGate:
    def test_every_preview_and_up_runs_the_policy_pack(self):
        runs = [options for job in all_jobs() for _command, options, _step in pulumi_steps(job)]
        assert len(runs) >= 3
        assert all(re.search(r"--policy-pack policy(\s|$)", options) for options in runs), runs

    def test_every_preview_and_deploy_job_runs_preflight_first(self):
        """What real AWS refuses (account Block Public Access, ACL grants, two keys, DeleteConflict) is
        found before the preview, with the job's own read access."""
        for job in all_jobs():
            runs = pulumi_steps(job)
            if not runs:
                continue
            first = job["steps"].index(runs[0][2])
            commands = [step.get("run", "") for step in job["steps"][:first]]
            assert '.venv/bin/tenant-storage preflight --stack "$STACK"' in commands

    def test_every_job_that_runs_the_pack_builds_its_environment_first(self):
        """The CLI loads a local Python pack with policy/venv's interpreter and never creates it."""
        for job in all_jobs():
            runs = pulumi_steps(job)
            if not runs:
                continue
            first = job["steps"].index(runs[0][2])
            assert "make policy-pack" in [step.get("run", "") for step in job["steps"][:first]]

    def test_the_backend_is_pulumi_cloud_or_self_managed(self):
        for name in ("pull-request.yml", "deploy.yml"):
            workflow = load(name)
            assert workflow["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
            for job in workflow["jobs"].values():
                for _command, _options, step in pulumi_steps(job):
                    assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
                    assert step["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
