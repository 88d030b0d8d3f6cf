"""The CI roles: whom each trusts (exactly the subjects the workflows present) and what each may do,
proven in moto with IAM enforced: preview and audit only read, deploy writes only the stack's own names.

moto enforces identity policies, but passes IAM calls to them with the resource `*` (only role calls get
their ARN; moto's access_control.py lists resource support as a TODO). So these tests give each IAM call
the resource AWS authorizes it against (the Service Authorization Reference: a group call on the group,
a user call on the user, a role call on the role), and nothing else changes. moto evaluates no condition
keys for identity policies, so the KMS statements (conditioned on the key's tag and kms:ViaService) are
not exercised here; their documents are checked directly.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.iam.responses import IamResponse

from catalogue.actions import scope_of
from cli.main import main
from live.aws import load_stack
from mock_runtime.runner import PROJECT_DIR
from review.plan import plan_stack
from tenant_storage.ci_roles import (
    NEEDS_NO_PERMISSION,
    ROLES,
    Declared,
    Job,
    OwnedNames,
    Role,
    WorkflowUnreadable,
    declared_inputs,
    permission_policy,
    repository_of_remote,
    role_commands,
    role_documents,
    workflow_jobs,
)
from tests.conftest import QA_ACCOUNT, fixture_project, iam_enforced, make_project, with_settings

REPOSITORY = "my-org/tenant-storage"
WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
SUB = "token.actions.githubusercontent.com:sub"
NO_OP: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}],
}


def settings(stack: str = "qa") -> Any:
    return load_stack(fixture_project(), stack).settings


@functools.cache
def declared(stack: str = "qa", store: str = "none") -> Declared:
    """What the fixture's stack declares (with `store` as its credential store), as the roles are derived from."""
    project = fixture_project()
    if store != "none":
        project = with_settings(project, stack, {"tenant-storage:credentialStore": store})
    return declared_inputs((resource.type, resource.inputs) for resource in plan_stack(stack, project).resources)


def policy(role: Role, stack: str = "qa", store: str = "none", tenants: tuple = ()) -> dict[str, Any]:
    stack_settings = dataclasses.replace(settings(stack), credential_store=store)
    commands = role_commands(workflow_jobs(WORKFLOWS), stack_settings)[role]
    return permission_policy(commands, stack_settings, QA_ACCOUNT, declared(stack, store), tenants)


def documents_of(stack: str = "qa", jobs: list[Job] | None = None) -> dict[Role, dict[str, Any]]:
    jobs = workflow_jobs(WORKFLOWS) if jobs is None else jobs
    account = QA_ACCOUNT if stack == "qa" else "111111111111"
    return role_documents(settings(stack), account, REPOSITORY, jobs, declared(stack))


def trusted(documents: dict[str, Any]) -> list[str]:
    value = documents["trustPolicy"]["Statement"][0]["Condition"]["StringEquals"][SUB]
    return value if isinstance(value, list) else [value]


class TestWhomEachRoleTrusts:
    def test_each_role_trusts_exactly_the_subjects_its_jobs_present(self):
        jobs = workflow_jobs(WORKFLOWS)
        qa = documents_of("qa", jobs)
        prod = documents_of("prod", jobs)
        assert {role: trusted(documents) for role, documents in qa.items()} == {
            "preview": [f"repo:{REPOSITORY}:pull_request"],
            "deploy": [f"repo:{REPOSITORY}:environment:qa"],
            "audit": [f"repo:{REPOSITORY}:ref:refs/heads/main"],
        }
        assert trusted(prod["deploy"]) == [f"repo:{REPOSITORY}:environment:production"]

    def test_the_trust_is_the_accounts_github_provider_for_sts_only(self):
        [statement] = documents_of()["deploy"]["trustPolicy"]["Statement"]
        assert statement["Principal"] == {
            "Federated": f"arn:aws:iam::{QA_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
        }
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"

    def test_a_job_given_an_environment_changes_its_roles_subject(self, tmp_path):
        for path in WORKFLOWS.glob("*.yml"):
            text = path.read_text()
            if path.name == "audit.yml":
                text = text.replace(
                    "    timeout-minutes: 30\n", "    timeout-minutes: 30\n    environment: nightly\n", 1
                )
            (tmp_path / path.name).write_text(text)
        documents = documents_of("qa", workflow_jobs(tmp_path))
        assert trusted(documents["audit"]) == [f"repo:{REPOSITORY}:environment:nightly"]

    def test_the_long_form_of_an_environment_is_read_too(self, tmp_path):
        text = (WORKFLOWS / "audit.yml").read_text()
        text = text.replace(
            "    timeout-minutes: 30\n", "    timeout-minutes: 30\n    environment:\n      name: nightly\n", 1
        )
        (tmp_path / "audit.yml").write_text(text)
        [job] = workflow_jobs(tmp_path)
        assert job.environment == "nightly"

    def test_an_environment_it_cannot_read_is_refused(self, tmp_path):
        text = (WORKFLOWS / "audit.yml").read_text()
        text = text.replace(
            "    timeout-minutes: 30\n", "    timeout-minutes: 30\n    environment: ${{ inputs.x }}\n", 1
        )
        (tmp_path / "audit.yml").write_text(text)
        with pytest.raises(WorkflowUnreadable, match=r"audit\.yml, job audit"):
            workflow_jobs(tmp_path)

    @pytest.mark.parametrize(
        ("url", "repository"),
        [
            ("https://github.com/my-org/tenant-storage.git", "my-org/tenant-storage"),
            ("git@github.com:my-org/tenant-storage.git", "my-org/tenant-storage"),
            ("https://github.com/my-org/tenant-storage\n", "my-org/tenant-storage"),
            ("https://gitlab.com/my-org/tenant-storage.git", None),
        ],
    )
    def test_the_repository_comes_from_a_github_remote(self, url, repository):
        assert repository_of_remote(url) == repository


class TestNothingToGrowFrom:
    """No statement of any role lets it grant itself, or anyone, more."""

    ESCALATIONS = (
        "iam:PassRole",
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicy",
        "iam:AttachUserPolicy",
        "iam:AttachGroupPolicy",
        "iam:AttachRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutRolePolicy",
        "iam:CreateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:CreateLoginProfile",
        "sts:AssumeRole",
    )

    @pytest.mark.parametrize("role", ["preview", "deploy", "audit"])
    def test_no_escalating_action_and_no_wildcard_action(self, role):
        statements = policy(role)["Statement"]
        actions = [action for statement in statements for action in statement["Action"]]
        assert set(actions) & set(self.ESCALATIONS) == set()
        assert [action for action in actions if "*" in action] == []

    @staticmethod
    def actions(role: Role, store: str = "none", stack: str = "qa") -> set[str]:
        statements = policy(role, stack, store)["Statement"]
        return {action for statement in statements if statement["Effect"] == "Allow" for action in statement["Action"]}

    SECRETS = frozenset({"secretsmanager:GetSecretValue"})
    # A SecureString under the aws/ssm key: that key's own policy lets SSM decrypt for the account's principals.
    PARAMETERS = frozenset({"ssm:GetParameter"})

    @pytest.mark.parametrize("store", ["none", "secretsmanager", "ssm"])
    def test_the_audit_role_never_reads_a_secret_value(self, store):
        assert self.actions("audit", store) & (self.SECRETS | self.PARAMETERS) == set()

    def test_a_preview_reads_the_values_of_the_store_in_use_only(self):
        """`refresh: always` makes a preview read every resource in state, stored credentials included."""
        assert self.actions("preview", "none") & (self.SECRETS | self.PARAMETERS) == set()
        assert self.actions("preview", "secretsmanager") >= self.SECRETS
        assert self.actions("preview", "secretsmanager") & self.PARAMETERS == set()
        assert self.actions("preview", "ssm") >= self.PARAMETERS
        assert self.actions("preview", "ssm") & self.SECRETS == set()

    def test_the_deploy_reads_and_deletes_what_the_stack_no_longer_declares(self):
        """A switched credential store, a profile's last tenant gone: the deploy deletes what the state still holds."""
        actions = self.actions("deploy", "none")
        assert actions >= self.SECRETS | self.PARAMETERS | {"secretsmanager:DeleteSecret", "ssm:DeleteParameter"}
        assert not actions & {"secretsmanager:CreateSecret", "ssm:PutParameter"}

    def test_the_key_is_created_only_tagged_as_the_stacks_and_its_lockout_check_never_bypassed(self):
        statements = policy("deploy")["Statement"]
        [create] = [s for s in statements if "kms:CreateKey" in s["Action"] and s["Effect"] == "Allow"]
        assert create["Condition"] == {"StringEquals": {"aws:RequestTag/Purpose": "private-tenant-buckets"}}
        [deny] = [s for s in statements if s["Effect"] == "Deny"]
        assert set(deny["Action"]) == {"kms:CreateKey", "kms:PutKeyPolicy"}
        assert deny["Condition"] == {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}
        # Tagging: a key already tagged as the stack's, or (as CreateKey's tags need) only with the stack's tags.
        conditions = [s["Condition"] for s in statements if "kms:TagResource" in s["Action"]]
        assert sorted(conditions, key=json.dumps) == sorted(
            [
                {
                    "StringEquals": {"aws:RequestTag/Purpose": "private-tenant-buckets"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["AccountClass", "ManagedBy", "Purpose"]},
                },
                {"StringEquals": {"aws:ResourceTag/Purpose": "private-tenant-buckets"}},
            ],
            key=json.dumps,
        )

    def test_no_ci_role_of_a_production_class_stack_may_delete_its_key(self):
        assert "kms:ScheduleKeyDeletion" in self.actions("deploy", stack="qa")
        assert "kms:ScheduleKeyDeletion" not in self.actions("deploy", stack="prod")


def iam_resource_as_aws_authorizes_it(self: IamResponse) -> str:
    """The resource AWS authorizes an IAM call against, which moto leaves as `*`."""
    params = {key: value[0] if isinstance(value, list) else value for key, value in dict(self.data).items()}
    account = self.current_account
    if "RoleName" in params:
        return f"arn:aws:iam::{account}:role/{params['RoleName']}"
    if "GroupName" in params:
        return f"arn:aws:iam::{account}:group/{params['GroupName']}"
    if "UserName" in params:
        return f"arn:aws:iam::{account}:user/{params['UserName']}"
    if "PolicyArn" in params:
        return str(params["PolicyArn"])
    return "*"


def session_of(credentials: dict[str, str]) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Role], boto3.session.Session]]:
    """The qa account in moto, holding a tenant's bucket, user and group and someone else's, and a way to
    sign in as one of the stack's CI roles."""
    monkeypatch.setattr(IamResponse, "_determine_resource", iam_resource_as_aws_authorizes_it)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        operator_role = f"arn:aws:iam::{QA_ACCOUNT}:role/operator"
        operator = session_of(sts.assume_role(RoleArn=operator_role, RoleSessionName="setup")["Credentials"])
        s3, iam = operator.client("s3"), operator.client("iam")
        iam.create_role(RoleName="operator", AssumeRolePolicyDocument=json.dumps(NO_OP))
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_role_policy(RoleName="operator", PolicyName="all", PolicyDocument=json.dumps(everything))
        for bucket in ("fusion-rms-xmsqa1", "someone-elses-bucket"):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket="fusion-rms-xmsqa1", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="fusion-rms-xmsqa1", Key="pub/", Body=b"")
        for user in ("rms_xmsqa1", "admin"):
            iam.create_user(UserName=user)
        iam.create_group(GroupName="tenant-storage-qa-app-storage")
        iam.create_group(GroupName="administrators")

        def sign_in(role: Role) -> boto3.session.Session:
            documents = documents_of()[role]
            name = f"github-{role}"
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(documents["trustPolicy"]))
            iam.put_role_policy(
                RoleName=name, PolicyName="ci", PolicyDocument=json.dumps(documents["permissionPolicy"])
            )
            # As the job does: a web identity token for the role (moto checks no token and no trust).
            credentials = operator.client("sts").assume_role_with_web_identity(
                RoleArn=f"arn:aws:iam::{QA_ACCOUNT}:role/{name}", RoleSessionName=role, WebIdentityToken="github-oidc"
            )["Credentials"]
            return session_of(credentials)

        sessions = {role: sign_in(role) for role in ROLES}
        with iam_enforced():
            yield sessions.__getitem__


Call = Callable[[Any, Any], Any]

WRITES_TO_THE_STACKS_NAMES: dict[str, Call] = {
    "create a tenant bucket": lambda s3, iam: s3.create_bucket(Bucket="fusion-rms-newshop"),
    "version a tenant bucket": lambda s3, iam: s3.put_bucket_versioning(
        Bucket="fusion-rms-xmsqa1", VersioningConfiguration={"Status": "Enabled"}
    ),
    "tag a tenant bucket": lambda s3, iam: s3.put_bucket_tagging(
        Bucket="fusion-rms-xmsqa1", Tagging={"TagSet": [{"Key": "OrgId", "Value": "xmsqa1"}]}
    ),
    "write a pub/ marker": lambda s3, iam: s3.put_object(Bucket="fusion-rms-xmsqa1", Key="pub/", Body=b""),
    "create a tenant user": lambda s3, iam: iam.create_user(UserName="rms_newshop"),
    "tag a tenant user": lambda s3, iam: iam.tag_user(UserName="rms_xmsqa1", Tags=[{"Key": "OrgId", "Value": "x"}]),
    "put a profile group's policy": lambda s3, iam: iam.put_group_policy(
        GroupName="tenant-storage-qa-app-storage", PolicyName="tenant-access", PolicyDocument=json.dumps(NO_OP)
    ),
    "add a tenant user to its group": lambda s3, iam: iam.add_user_to_group(
        GroupName="tenant-storage-qa-app-storage", UserName="rms_xmsqa1"
    ),
    "give a tenant user a key": lambda s3, iam: iam.create_access_key(UserName="rms_xmsqa1"),
}
DELETES_OF_THE_STACKS_NAMES: dict[str, Call] = {
    # Deleting a versioned bucket's object deletes each version (terraform-provider-aws deleteAllObjectVersions).
    "delete a pub/ marker's version": lambda s3, iam: s3.delete_object(
        Bucket="fusion-rms-xmsqa1",
        Key="pub/",
        VersionId=s3.list_object_versions(Bucket="fusion-rms-xmsqa1", Prefix="pub/")["Versions"][0]["VersionId"],
    ),
    "delete a tenant user": lambda s3, iam: iam.delete_user(UserName="rms_newshop"),
    "delete a tenant bucket": lambda s3, iam: s3.delete_bucket(Bucket="fusion-rms-newshop"),
}
EVERYTHING_ELSE: dict[str, Call] = {
    "create another bucket": lambda s3, iam: s3.create_bucket(Bucket="another-bucket"),
    "change another bucket's policy": lambda s3, iam: s3.put_bucket_policy(
        Bucket="someone-elses-bucket", Policy=json.dumps(NO_OP)
    ),
    "delete another bucket": lambda s3, iam: s3.delete_bucket(Bucket="someone-elses-bucket"),
    "read a tenant's private object": lambda s3, iam: s3.get_object(Bucket="fusion-rms-xmsqa1", Key="private/a"),
    "create a user outside the prefix": lambda s3, iam: iam.create_user(UserName="intruder"),
    "give another user a key": lambda s3, iam: iam.create_access_key(UserName="admin"),
    "put a policy on a tenant user": lambda s3, iam: iam.put_user_policy(
        UserName="rms_xmsqa1", PolicyName="more", PolicyDocument=json.dumps(NO_OP)
    ),
    "attach a managed policy to a tenant user": lambda s3, iam: iam.attach_user_policy(
        UserName="rms_xmsqa1", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    ),
    "attach a managed policy to itself": lambda s3, iam: iam.attach_role_policy(
        RoleName="github-deploy", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    ),
    "widen its own policy": lambda s3, iam: iam.put_role_policy(
        RoleName="github-deploy", PolicyName="more", PolicyDocument=json.dumps(NO_OP)
    ),
    "create a role": lambda s3, iam: iam.create_role(RoleName="backdoor", AssumeRolePolicyDocument=json.dumps(NO_OP)),
    "create a managed policy": lambda s3, iam: iam.create_policy(PolicyName="more", PolicyDocument=json.dumps(NO_OP)),
    "join another group": lambda s3, iam: iam.add_user_to_group(GroupName="administrators", UserName="rms_xmsqa1"),
    "change another group's policy": lambda s3, iam: iam.put_group_policy(
        GroupName="administrators", PolicyName="more", PolicyDocument=json.dumps(NO_OP)
    ),
}
READS: dict[str, Call] = {
    "list the account's buckets": lambda s3, iam: s3.list_buckets(),
    "read a tenant bucket's versioning": lambda s3, iam: s3.get_bucket_versioning(Bucket="fusion-rms-xmsqa1"),
    "read a tenant user": lambda s3, iam: iam.get_user(UserName="rms_xmsqa1"),
    "list a tenant user's keys": lambda s3, iam: iam.list_access_keys(UserName="rms_xmsqa1"),
    "read a profile group": lambda s3, iam: iam.get_group(GroupName="tenant-storage-qa-app-storage"),
}


def outcome(session: boto3.session.Session, call: Call) -> str:
    try:
        call(session.client("s3"), session.client("iam"))
    except ClientError as error:
        code = str(error.response["Error"]["Code"])
        return "denied" if code in ("AccessDenied", "403") else f"allowed ({code})"
    return "allowed"


@pytest.mark.parametrize("role", ["preview", "audit"])
def test_the_read_roles_read_and_are_refused_every_write(account, role):
    session = account(role)
    assert {name: outcome(session, call) for name, call in READS.items()} == dict.fromkeys(READS, "allowed")
    writes = {**WRITES_TO_THE_STACKS_NAMES, **DELETES_OF_THE_STACKS_NAMES, **EVERYTHING_ELSE}
    assert {name: outcome(session, call) for name, call in writes.items()} == dict.fromkeys(writes, "denied")


def test_the_deploy_role_creates_changes_and_deletes_the_stacks_own_names(account):
    session = account("deploy")
    writes = {**READS, **WRITES_TO_THE_STACKS_NAMES, **DELETES_OF_THE_STACKS_NAMES}
    assert {name: outcome(session, call) for name, call in writes.items()} == dict.fromkeys(writes, "allowed")


def test_the_deploy_role_is_refused_everything_else(account):
    session = account("deploy")
    assert {name: outcome(session, call) for name, call in EVERYTHING_ELSE.items()} == dict.fromkeys(
        EVERYTHING_ELSE, "denied"
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The program, the fixture inputs and the workflows, in a folder that is no git checkout."""
    target = make_project(tmp_path / "project")
    shutil.copytree(WORKFLOWS, target / ".github" / "workflows")
    return target


class TestTheCommand:
    def test_json_has_every_role_as_complete_documents(self, capsys, project):
        assert main(["ci-roles", "--stack", "qa", "--format", "json", "--repository", REPOSITORY], project) == 0
        document = json.loads(capsys.readouterr().out)
        assert (document["stack"], document["account"], document["repository"]) == ("qa", QA_ACCOUNT, REPOSITORY)
        assert set(document["roles"]) == {"preview", "deploy", "audit"}
        for role in document["roles"].values():
            for policy in (role["trustPolicy"], role["permissionPolicy"]):
                assert policy["Version"] == "2012-10-17"
                assert policy["Statement"]
            # IAM's quota for a role's inline policies, whitespace not counted.
            assert len(json.dumps(role["permissionPolicy"], separators=(",", ":"))) <= 10_240

    def test_text_names_each_role_its_subject_and_variable(self, capsys, project):
        assert main(["ci-roles", "--stack", "prod", "--repository", REPOSITORY], project) == 0
        out = capsys.readouterr().out
        assert "deploy (repository variable AWS_DEPLOY_ROLE_ARN_PROD)" in out
        assert f"trusts repo:{REPOSITORY}:environment:production" in out

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--stack", "nope", "--repository", REPOSITORY], "no stack 'nope'; the stacks are prod, qa"),
            (["--stack", "qa", "--repository", "not a repository"], "is not OWNER/NAME"),
            (["--stack", "qa"], "pass --repository OWNER/NAME"),
        ],
    )
    def test_what_it_cannot_do_is_one_line_and_exit_2(self, capsys, project, argv, message):
        assert main(["ci-roles", *argv], project) == 2
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err


def test_the_job_model_reads_every_workflow_that_assumes_a_role():
    jobs = workflow_jobs(WORKFLOWS)
    assert {(job.workflow, job.job, job.role) for job in jobs} == {
        ("pull-request.yml", "preview", "preview"),
        ("deploy.yml", "non-production", "deploy"),
        ("deploy.yml", "production", "deploy"),
        ("audit.yml", "audit", "audit"),
    }
    commands = frozenset({"preflight", "preview", "up"})
    assert Job("deploy.yml", "production", "deploy", "production", "push", True, commands) in jobs


def test_an_adopted_bucket_with_a_name_of_its_own_is_the_deploy_roles_too(tmp_path):
    project = make_project(tmp_path / "project")
    registry = (project / "tenants.yaml").read_text()
    legacy = "  - orgId: legacyshop\n    environment: qa\n    adopt: true\n    bucketName: legacy-media-shop\n"
    (project / "tenants.yaml").write_text(registry + legacy)
    context = load_stack(project, "qa")
    statements = {s["Sid"]: s for s in policy("deploy", tenants=tuple(context.tenants))["Statement"]}
    assert "arn:aws:s3:::legacy-media-shop" in statements["TheStacksBuckets"]["Resource"]
    assert "arn:aws:s3:::legacy-media-shop/pub/" in statements["TheDeclaredPubFolderMarkers"]["Resource"]
    # Only that name: not a prefix of it.
    resources = [
        r for s in statements.values() for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert "arn:aws:s3:::legacy-media-shop" in resources
    assert not any("legacy-media-shop*" in r for r in resources)


def test_what_the_documents_cannot_enforce_is_said_each_time(project, capsys):
    assert main(["ci-roles", "--stack", "prod", "--repository", REPOSITORY], project) == 0
    err = capsys.readouterr().err
    assert "allow only main to deploy to the GitHub environment(s) production" in err
    stack_file = project / "Pulumi.qa.yaml"
    stack_file.write_text(stack_file.read_text() + "  tenant-storage:iamUserPrefix: a\n")
    assert main(["ci-roles", "--stack", "qa", "--format", "json", "--repository", REPOSITORY], project) == 0
    captured = capsys.readouterr()
    assert "iamUserPrefix 'a' ends without a separator" in captured.err
    assert json.loads(captured.out)["stack"] == "qa"


def test_the_key_tags_the_deploy_role_may_set_are_the_ones_the_program_declares(qa_run):
    from tenant_storage.ci_roles import KMS_KEY_PURPOSE, KMS_KEY_TAG_KEYS

    [key] = qa_run.by_type("aws:kms/key:Key")
    assert tuple(sorted(key.inputs["tags"])) == KMS_KEY_TAG_KEYS
    assert key.inputs["tags"]["Purpose"] == KMS_KEY_PURPOSE


class TestWhatItRefusesOrWarns:
    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"jobs: [\n", "not a readable YAML workflow"),
            (b"\xff\xfe not utf-8", "not a readable YAML workflow"),
            (b"- a list\n", "a workflow is a mapping whose jobs are a mapping"),
            (b"jobs:\n  audit: just text\n", "audit.yml, job audit: a job is a mapping whose steps are a list"),
            (b"jobs:\n  audit:\n    steps: [run this]\n", "audit.yml, job audit: a step is a mapping"),
            (
                b"jobs:\n  audit:\n    environment: {url: x}\n    steps:\n"
                b"      - uses: aws-actions/configure-aws-credentials@v4\n"
                b"        with: {role-to-assume: '${{ vars.AWS_AUDIT_ROLE_ARN_QA }}'}\n",
                "environment is a mapping without a name",
            ),
        ],
    )
    def test_a_workflow_it_cannot_read_is_named_in_one_line(self, project, capsys, content, message):
        (project / ".github" / "workflows" / "audit.yml").write_bytes(content)
        assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY], project) == 2
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err

    def test_no_workflow_assuming_a_role_is_refused(self, project, capsys):
        shutil.rmtree(project / ".github")
        assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY], project) == 2
        assert "assumes an AWS role" in capsys.readouterr().err

    def test_a_role_no_job_assumes_is_said(self, project, capsys):
        (project / ".github" / "workflows" / "audit.yml").unlink()
        assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY], project) == 0
        assert "no workflow job assumes the audit role" in capsys.readouterr().err

    @pytest.mark.parametrize("given", ["owner/name.git", "./.", "../..", "a/b/c", "owner/.."])
    def test_a_repository_that_is_not_owner_slash_name_is_refused(self, project, capsys, given):
        assert main(["ci-roles", "--stack", "qa", "--repository", given], project) == 2
        assert "is not OWNER/NAME" in capsys.readouterr().err

    @pytest.mark.parametrize(
        "url",
        ["https://notgithub.com/o/r", "https://gitlab.com/github.com/x/y", "../local/repo", "git@github.com:o/.."],
    )
    def test_a_remote_that_is_not_a_github_repository_gives_none(self, url):
        assert repository_of_remote(url) is None

    def test_stacks_sharing_the_role_variables_and_an_oversized_policy_are_said(self):
        from live.ci_roles import warnings

        documents = documents_of()
        big = {**documents, "deploy": {**documents["deploy"], "permissionPolicy": {"Statement": ["x" * 11_000]}}}
        said = warnings(settings(), big, ["qa-b"])
        assert any("the deploy permission policy is 11018 characters, over IAM's 10240" in w for w in said)
        assert any(w.startswith("stacks qa-b use the same repository variables (*_ROLE_ARN_QA)") for w in said)
        assert any("runs its own workflow file with the preview role" in w for w in said)


class TestEachRoleIsDerivedFromTheCatalogue:
    """Each role may do exactly what its jobs' commands call for what the stack declares: the provider's calls
    per type and operation, each command's own calls, and audit's readers; nothing missing, nothing extra."""

    @staticmethod
    def granted(role: Role, store: str = "none") -> set[str]:
        return {
            action
            for statement in policy(role, store=store)["Statement"]
            if statement["Effect"] == "Allow"
            for action in statement["Action"]
        }

    @pytest.mark.parametrize("store", ["none", "secretsmanager", "ssm"])
    def test_preview_reads_what_refresh_reads_and_what_check_names_and_preflight_call(self, store):
        from catalogue import RESOURCE_TYPES
        from catalogue.actions import COMMAND_OPERATIONS, OPERATION_ACTIONS

        refresh = {a for token in declared("qa", store) for a in RESOURCE_TYPES[token].calls.read}
        own = {OPERATION_ACTIONS[o] for c in ("check-names", "preflight") for o in COMMAND_OPERATIONS[c]}
        assert self.granted("preview", store) == (refresh | own) - {"sts:GetCallerIdentity"}

    def test_audit_reads_what_its_readers_and_usage_call_and_no_secret_value(self):
        from catalogue.actions import COMMAND_OPERATIONS, OPERATION_ACTIONS
        from catalogue.readers import READERS

        readers = {OPERATION_ACTIONS[o] for token in declared("qa", "ssm") for o in READERS[token].operations}
        # The nightly job's commands, and discover, which operators run by hand with the audit role.
        own = {OPERATION_ACTIONS[o] for c in ("audit", "usage", "discover") for o in COMMAND_OPERATIONS[c]}
        assert self.granted("audit", "ssm") == (readers | own) - {"sts:GetCallerIdentity"}
        assert "ssm:GetParameter" not in self.granted("audit", "ssm")

    def test_deploy_makes_what_the_provider_calls_for_the_declared_types_and_removes_any(self):
        from catalogue import RESOURCE_TYPES
        from catalogue.actions import COMMAND_OPERATIONS, OPERATION_ACTIONS

        every = ("create", "read", "update", "delete")
        provider = {
            action
            for token, inputs in declared("qa").items()
            for action in RESOURCE_TYPES[token].calls.needed(every, inputs)
        }
        removal = {a for entry in RESOURCE_TYPES.values() for a in entry.calls.read | entry.calls.delete}
        own = {OPERATION_ACTIONS[o] for o in COMMAND_OPERATIONS["preflight"]}
        assert self.granted("deploy") == (provider | removal | own) - {"sts:GetCallerIdentity"}

    def test_a_stack_served_through_cloudfront_gets_the_providers_cloudfront_calls_and_the_readers_reads(self):
        """The fixture's prod stack serves acme-staging through CloudFront: its roles are derived like the rest."""
        [deploy] = [s for s in policy("deploy", "prod")["Statement"] if s["Sid"] == "TheAccountsCloudFront"]
        # CloudFront has no resource policies: an identity policy reaches its own account's resources only.
        assert deploy["Resource"] == "*"
        assert {
            "cloudfront:CreateDistribution",
            "cloudfront:UpdateDistribution",
            "cloudfront:PublishFunction",
            "cloudfront:CreateOriginAccessControl",
            "cloudfront-keyvaluestore:UpdateKeys",
        } <= set(deploy["Action"])

        def cloudfront(role: Role) -> set[str]:
            return {a for s in policy(role, "prod")["Statement"] for a in s["Action"] if a.startswith("cloudfront")}

        assert cloudfront("preview")
        assert all(
            re.fullmatch(r"cloudfront(-keyvaluestore)?:(Get|List|Describe)\w+", a) for a in cloudfront("preview")
        )
        assert {"cloudfront:ListDistributions", "cloudfront-keyvaluestore:ListKeys"} <= cloudfront("audit")
        assert cloudfront("audit") <= {
            a for a in cloudfront("audit") if re.match(r"cloudfront(-keyvaluestore)?:(Get|List|Describe)", a)
        }

    def test_a_call_made_only_for_an_input_the_stack_leaves_empty_is_not_granted(self):
        """The exclusive-attachment resources declare no ARN: the deploy never attaches a policy to anyone."""
        assert not self.granted("deploy") & {"iam:AttachGroupPolicy", "iam:AttachUserPolicy", "iam:PutUserPolicy"}
        assert {"iam:DetachGroupPolicy", "iam:DetachUserPolicy", "iam:DeleteUserPolicy"} <= self.granted("deploy")

    def test_user_deletion_lists_no_credential_the_program_never_makes(self):
        assert not self.granted("deploy") & {
            "iam:DeleteLoginProfile",
            "iam:DeleteSigningCertificate",
            "iam:DeleteSSHPublicKey",
            "iam:DeactivateMFADevice",
        }

    @pytest.mark.parametrize("role", ROLES)
    def test_s3_statements_hold_only_in_the_stacks_account_and_objects_are_the_declared_markers(self, role):
        for statement in policy(role)["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if statement["Sid"] in ("TheStacksBuckets", "TheDeclaredPubFolderMarkers"):
                assert statement["Condition"] == {"StringEquals": {"s3:ResourceAccount": QA_ACCOUNT}}
            if statement["Sid"] == "TheDeclaredPubFolderMarkers":
                assert all(resource.endswith("/pub/") for resource in resources), resources
        assert not [
            a for s in policy(role)["Statement"] for a in s["Action"] if a.startswith("kms:") and "Decrypt" in a
        ]

    def test_a_job_running_a_command_the_catalogue_does_not_list_is_refused(self, project, capsys):
        workflow = project / ".github" / "workflows" / "audit.yml"
        workflow.write_text(workflow.read_text().replace("tenant-storage usage", "tenant-storage credentials"))
        assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY], project) == 2
        assert "`credentials`: catalogue/actions.py COMMAND_OPERATIONS (or RESTORE_ACTIONS) does not list" in (
            capsys.readouterr().err
        )

    def test_a_role_running_restore_gets_restores_actions_on_every_object_of_the_stacks_buckets_only(self):
        from catalogue.actions import restore_actions

        names = OwnedNames.of(settings(), QA_ACCOUNT)
        document = permission_policy(frozenset({"audit", "restore"}), settings(), QA_ACCOUNT, declared())
        statements = {statement["Sid"]: statement for statement in document["Statement"]}
        every_object = statements["RestoreTheStacksBucketsObjects"]
        assert every_object["Resource"] == [f"{bucket}/*" for bucket in names.buckets]
        assert every_object["Condition"] == {"StringEquals": {"s3:ResourceAccount": QA_ACCOUNT}}
        assert set(every_object["Action"]) == {a for a in restore_actions() if scope_of(a) == "object"}
        assert {"s3:GetObjectVersion", "s3:PutObjectVersionTagging", "s3:DeleteObject"} <= set(every_object["Action"])
        granted = {action for statement in document["Statement"] for action in statement["Action"]}
        assert restore_actions() - NEEDS_NO_PERMISSION <= granted
        assert {"s3:GetBucketVersioning", "s3:ListBucketVersions"} <= set(statements["TheStacksBuckets"]["Action"])

    def test_without_restore_no_statement_reaches_beyond_the_pub_markers(self):
        for commands in ({"audit"}, {"up", "preview"}, {"usage", "discover"}):
            document = permission_policy(frozenset(commands), settings(), QA_ACCOUNT, declared())
            resources = [
                resource
                for statement in document["Statement"]
                for resource in (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
            ]
            assert not [r for r in resources if r.endswith("/*") and ":s3:::" in r], (commands, resources)

    def test_a_deploy_job_that_runs_restore_is_derived_and_a_read_only_role_is_refused_it(self, project, capsys):
        deploy = project / ".github" / "workflows" / "deploy.yml"
        deploy.write_text(deploy.read_text().replace("tenant-storage preflight", "tenant-storage restore"))
        assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY, "--format", "json"], project) == 0
        document = capsys.readouterr().out
        assert "RestoreTheStacksBucketsObjects" in document
        # `<prefix>-*` matches the access-log buckets too: a restore never writes over the audit trail.
        assert "NeverRestoreOverTheAccessLogs" in document
        audit = project / ".github" / "workflows" / "audit.yml"
        audit.write_text(audit.read_text().replace("tenant-storage usage", "tenant-storage restore"))
        assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY], project) == 2
        err = capsys.readouterr().err
        assert "a job of the audit role runs `restore`, which writes (" in err
        assert "s3:PutObject" in err


def test_an_sse_kms_stack_without_a_key_administrator_is_told_to_name_the_deploy_role(project, capsys):
    assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY], project) == 0
    assert "set tenant-storage:keyAdministratorArn to the deploy role's ARN" in capsys.readouterr().err
    stack_file = project / "Pulumi.qa.yaml"
    role = f"arn:aws:iam::{QA_ACCOUNT}:role/github-deploy"
    stack_file.write_text(stack_file.read_text() + f"  tenant-storage:keyAdministratorArn: {role}\n")
    assert main(["ci-roles", "--stack", "qa", "--repository", REPOSITORY], project) == 0
    assert "keyAdministratorArn" not in capsys.readouterr().err


def test_with_a_key_administrator_the_deploy_role_holds_no_statement_on_keys_by_tag():
    """Its tag-conditioned key statements would let it manage any key it tags as the stack's; the key's own
    policy names it instead."""
    role = f"arn:aws:iam::{QA_ACCOUNT}:role/github-deploy"
    stack_settings = dataclasses.replace(settings(), key_administrator_arn=role)
    commands = role_commands(workflow_jobs(WORKFLOWS), stack_settings)["deploy"]
    statements = permission_policy(commands, stack_settings, QA_ACCOUNT, declared())["Statement"]
    assert [s["Sid"] for s in statements if "aws:ResourceTag/Purpose" in json.dumps(s.get("Condition", {}))] == []
    assert "TheStacksKey" in [s["Sid"] for s in policy("deploy")["Statement"]]


def test_the_bucket_tags_the_provider_writes_through_s3_control_are_granted():
    """The locked pulumi-aws bucket sends tags with CreateBucket (s3:TagResource) and reads and writes them through
    S3 Control (s3:ListTagsForResource, s3:TagResource, s3:UntagResource); refresh reads them too."""
    deploy = {a for s in policy("deploy")["Statement"] for a in s["Action"]}
    preview = {a for s in policy("preview")["Statement"] for a in s["Action"]}
    assert {"s3:TagResource", "s3:UntagResource", "s3:ListTagsForResource", "s3:PutBucketAcl"} <= deploy
    assert "s3:ListTagsForResource" in preview
    assert not {"s3:TagResource", "s3:UntagResource"} & preview
