"""The three roles the workflows assume, as IAM documents: whom each trusts, and what each may do.

Plain Python, no Pulumi: `tenant-storage ci-roles` prints them, and tests prove them in moto.

Whom: GitHub's OpenID Connect provider presents, as `token.actions.githubusercontent.com:sub`, a subject
made from the job: `repo:OWNER/REPO:environment:NAME` for a job that names an `environment:`,
`repo:OWNER/REPO:pull_request` for a pull-request job without one, and `repo:OWNER/REPO:ref:<ref>` for
a push or scheduled job without one. Each role trusts exactly the subjects of the jobs that assume it.

What, per role:
- preview (pull requests: `pulumi preview` and `check-names`): read only. With `refresh: always`, a
  preview reads every resource in state, the credential store's secret values included.
- audit (the nightly audit): read only, and never a secret value.
- deploy: the preview's reads, and writes only to the names the stack owns: buckets with its bucket
  prefix, users with its user prefix, its profile groups, its KMS key (by tag), its credential-store
  paths. Nothing that could grant the role itself more: no `iam:PassRole`, no roles, no managed
  policies or policy versions, no policy put on or attached to a user, no key policy bypass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from tenant_storage import naming
from tenant_storage.registry import Profile, Tenant
from tenant_storage.stacks import StackSettings

OIDC_PROVIDER = "token.actions.githubusercontent.com"
OIDC_AUDIENCE = "sts.amazonaws.com"
CREDENTIALS_PATH = "tenant-storage"
KMS_KEY_PURPOSE = "private-tenant-buckets"
KMS_KEY_TAG_KEYS = ("AccountClass", "ManagedBy", "Purpose")  # the key's tags: components/stack_storage.py
Role = Literal["preview", "deploy", "audit"]
ROLES: tuple[Role, ...] = ("preview", "deploy", "audit")


@dataclass(frozen=True)
class Job:
    """A workflow job that assumes one of the roles, as the subject it presents is made."""

    workflow: str
    job: str
    role: Role
    environment: str | None  # the job's `environment:`, with `{stack}` for `${{ matrix.stack }}`
    trigger: Literal["pull_request", "push", "schedule"]
    production_class: bool | None  # which stacks the job deploys (None: every stack)


class WorkflowUnreadable(Exception):
    """A workflow assumes a role in a way this module cannot turn into a subject; the message says where."""


_ROLE_VARIABLE = re.compile(r"AWS_(PREVIEW|DEPLOY|AUDIT)_ROLE")
_MATRIX_STACK = re.compile(r"^\$\{\{\s*matrix\.stack\s*\}\}$")


def _read_workflow(path: Path) -> dict[str, Any]:
    try:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise WorkflowUnreadable(f"{path.name}: not a readable YAML workflow ({type(error).__name__})") from error
    if not isinstance(workflow, dict) or not isinstance(workflow.get("jobs", {}), dict):
        raise WorkflowUnreadable(f"{path.name}: a workflow is a mapping whose jobs are a mapping")
    return workflow


def _environment(job: dict[str, Any], where: str) -> str | None:
    """The job's environment as a subject part: `{stack}` for the stack's own, a literal name, or None."""
    environment = job.get("environment")
    if isinstance(environment, dict):  # the long form: `environment: {name: ..., url: ...}`
        if "name" not in environment:
            raise WorkflowUnreadable(f"{where}: environment is a mapping without a name")
        environment = environment["name"]
    if environment is None:
        return None
    if not isinstance(environment, str) or not environment.strip():
        raise WorkflowUnreadable(f"{where}: environment is neither a name nor a mapping with a name")
    if "${{" in environment:
        if not _MATRIX_STACK.match(environment):
            raise WorkflowUnreadable(f"{where}: environment {environment} is not a stack name or a literal")
        return "{stack}"
    return environment


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def workflow_jobs(workflows: Path) -> list[Job]:
    """Every job of the workflows that assumes an AWS role, with what makes its OIDC subject."""
    jobs = []
    for path in sorted([*workflows.glob("*.yml"), *workflows.glob("*.yaml")]):
        workflow: dict[Any, Any] = _read_workflow(path)
        triggers = workflow.get(True, workflow.get("on")) or {}  # PyYAML reads the key `on` as True
        if isinstance(triggers, str):
            triggers = [triggers]
        trigger: Literal["pull_request", "push", "schedule"] = (
            "pull_request" if "pull_request" in triggers else "push" if "push" in triggers else "schedule"
        )
        for name, job in (workflow.get("jobs") or {}).items():
            where = f"{path.name}, job {name}"
            if not isinstance(job, dict) or not isinstance(job.get("steps", []), list):
                raise WorkflowUnreadable(f"{where}: a job is a mapping whose steps are a list")
            for step in job.get("steps") or []:
                if not isinstance(step, dict):
                    raise WorkflowUnreadable(f"{where}: a step is a mapping")
                if not str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials"):
                    continue
                options = _mapping(step.get("with"))
                role = _ROLE_VARIABLE.search(str(options.get("role-to-assume", "")))
                if role is None:
                    raise WorkflowUnreadable(f"{where}: role-to-assume names no AWS_PREVIEW|DEPLOY|AUDIT_ROLE variable")
                include = str(_mapping(_mapping(job.get("strategy")).get("matrix")).get("include", ""))
                production_class = (
                    False if "outputs.non-production" in include else True if "outputs.production" in include else None
                )
                role_name: Role = role.group(1).lower()  # type: ignore[assignment]
                jobs.append(Job(path.name, name, role_name, _environment(job, where), trigger, production_class))
    return jobs


def subjects(repository: str, jobs: list[Job], settings: StackSettings) -> dict[Role, list[str]]:
    """Per role, the subjects of the jobs that assume it for this stack."""
    found: dict[Role, set[str]] = {role: set() for role in ROLES}
    for job in jobs:
        if job.production_class is None or job.production_class == settings.production_class:
            found[job.role].add(subject(repository, job, settings.stack))
    return {role: sorted(values) for role, values in found.items()}


def subject(repository: str, job: Job, stack: str, default_branch: str = "main") -> str:
    if job.environment is not None:
        return f"repo:{repository}:environment:{job.environment.format(stack=stack)}"
    if job.trigger == "pull_request":
        return f"repo:{repository}:pull_request"
    return f"repo:{repository}:ref:refs/heads/{default_branch}"


def trust_policy(account_id: str, partition: str, subjects: list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsJobsOfThisRepository",
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:{partition}:iam::{account_id}:oidc-provider/{OIDC_PROVIDER}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{OIDC_PROVIDER}:aud": OIDC_AUDIENCE,
                        f"{OIDC_PROVIDER}:sub": sorted(subjects) if len(subjects) > 1 else subjects[0],
                    }
                },
            }
        ],
    }


@dataclass(frozen=True)
class OwnedNames:
    """The ARNs of everything one stack creates, from its settings: the deploy role writes nowhere else."""

    buckets: list[str]
    users: str
    groups: list[str]
    kms_keys: str
    secrets: str
    parameters: str

    def pub_folders(self) -> list[str]:
        return [f"{bucket}/pub/*" for bucket in self.buckets]

    @classmethod
    def of(cls, settings: StackSettings, account_id: str, tenants: Sequence[Tenant] = ()) -> OwnedNames:
        partition, region = settings.partition.name, settings.region
        prefix = settings.naming.bucket_prefix
        # Tenant buckets are <prefix>-<orgId>[-<suffix>], the log bucket <prefix>--access-logs-...: both <prefix>-*.
        # An adopted bucket with a name of its own (bucketName) is named exactly.
        adopted = sorted(
            {t.bucket_name for t in tenants if t.bucket_name and not t.bucket_name.startswith(f"{prefix}-")}
        )
        return cls(
            buckets=[f"arn:{partition}:s3:::{name}" for name in (f"{prefix}-*", *adopted)],
            users=f"arn:{partition}:iam::{account_id}:user/{settings.naming.iam_user_prefix}*",
            groups=[
                f"arn:{partition}:iam::{account_id}:group/{naming.group_name(settings.stack, profile.value)}"
                for profile in Profile
            ],
            kms_keys=f"arn:{partition}:kms:{region}:{account_id}:key/*",
            secrets=f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{CREDENTIALS_PATH}/*",
            parameters=f"arn:{partition}:ssm:{region}:{account_id}:parameter/{CREDENTIALS_PATH}/*",
        )


BUCKET_READS = [
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
    "s3:ListBucketVersions",
]
# The objects the program itself declares are the `pub/` folder markers; a role never reads tenant data.
OBJECT_READS = ["s3:GetObject", "s3:GetObjectTagging"]
IAM_READS = [
    "iam:GetAccessKeyLastUsed",
    "iam:GetGroup",
    "iam:GetGroupPolicy",
    "iam:GetLoginProfile",
    "iam:GetUser",
    "iam:GetUserPolicy",
    "iam:ListAccessKeys",
    "iam:ListAttachedGroupPolicies",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupPolicies",
    "iam:ListGroupsForUser",
    "iam:ListMFADevices",
    "iam:ListSigningCertificates",
    "iam:ListSSHPublicKeys",
    "iam:ListServiceSpecificCredentials",
    "iam:ListUserPolicies",
    "iam:ListUserTags",
]
KMS_READS = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
SECRET_METADATA_READS = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"]
PARAMETER_METADATA_READS = ["ssm:ListTagsForResource"]
# Listing calls that IAM authorizes only on `*` (or on the account's whole path).
ACCOUNT_WIDE_READS = [
    "cloudwatch:GetMetricData",  # usage: S3's daily storage metrics
    "cloudwatch:ListMetrics",
    "iam:GetAccountSummary",
    "iam:ListUsers",
    "iam:ListGroups",
    "kms:ListAliases",
    "kms:ListKeys",
    "s3:GetAccountPublicAccessBlock",
    "s3:ListAllMyBuckets",
    "ssm:DescribeParameters",
]

BUCKET_WRITES = [
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteBucketOwnershipControls",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketLogging",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
]
# A versioned bucket's object is deleted version by version (terraform-provider-aws deleteAllObjectVersions).
OBJECT_WRITES = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject", "s3:PutObjectTagging"]
USER_WRITES = [
    "iam:AddUserToGroup",
    "iam:CreateAccessKey",
    "iam:CreateUser",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:DeleteSigningCertificate",
    "iam:DeleteSSHPublicKey",
    "iam:DeleteServiceSpecificCredential",
    "iam:DeactivateMFADevice",
    "iam:DeleteUser",
    # Only to take away: the exclusive-policy resources remove what was added by hand.
    "iam:DeleteUserPolicy",
    "iam:DetachUserPolicy",
    "iam:RemoveUserFromGroup",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:UpdateAccessKey",
]
GROUP_WRITES = [
    "iam:AddUserToGroup",
    "iam:CreateGroup",
    "iam:DeleteGroup",
    "iam:DeleteGroupPolicy",
    "iam:DetachGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:RemoveUserFromGroup",
]
KMS_WRITES = [
    "kms:EnableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
]
# A production-class stack's key is protected: no role of its CI may schedule its deletion.
KMS_DELETION = ["kms:ScheduleKeyDeletion"]
SECRET_WRITES = [
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
    "secretsmanager:UpdateSecret",
]
PARAMETER_WRITES = ["ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:PutParameter", "ssm:RemoveTagsFromResource"]


def _allow(
    sid: str, actions: list[str], resources: str | list[str], condition: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


KEY_TAGGED_AS_THE_STACKS = {"StringEquals": {"aws:ResourceTag/Purpose": KMS_KEY_PURPOSE}}


def read_statements(
    settings: StackSettings, names: OwnedNames, *, secret_values: Sequence[str]
) -> list[dict[str, Any]]:
    statements = [
        _allow("ListTheAccount", ACCOUNT_WIDE_READS, "*"),
        _allow("ReadTheStacksBuckets", BUCKET_READS, names.buckets),
        _allow("ReadTheDeclaredPubFolders", OBJECT_READS, names.pub_folders()),
        _allow("ReadTheStacksUsersAndGroups", IAM_READS, [names.users, *names.groups]),
        _allow("ReadTheStacksKey", KMS_READS, names.kms_keys, KEY_TAGGED_AS_THE_STACKS),
        _allow(
            "ReadTheCredentialStoresMetadata",
            [*SECRET_METADATA_READS, *PARAMETER_METADATA_READS],
            [names.secrets, names.parameters],
        ),
    ]
    # `refresh: always` reads every resource in state, secret values included: only those of the stores read.
    if "secretsmanager" in secret_values:
        statements.append(_allow("RefreshReadsTheStoredSecrets", ["secretsmanager:GetSecretValue"], names.secrets))
    if "ssm" in secret_values:
        statements.append(
            _allow("RefreshReadsTheStoredParameters", ["ssm:GetParameter", "ssm:GetParameters"], names.parameters)
        )
        statements.append(
            _allow(
                "DecryptSecureStringsThroughSsm",
                ["kms:Decrypt"],
                f"arn:{settings.partition.name}:kms:{settings.region}:*:key/*",
                {"StringEquals": {"kms:ViaService": f"ssm.{settings.region}.{settings.partition.dns_suffix}"}},
            )
        )
    return statements


def write_statements(settings: StackSettings, names: OwnedNames) -> list[dict[str, Any]]:
    via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{settings.region}.{settings.partition.dns_suffix}"}}
    return [
        _allow("WriteTheStacksBuckets", BUCKET_WRITES, names.buckets),
        _allow("WriteTheDeclaredPubFolders", OBJECT_WRITES, names.pub_folders()),
        _allow("ManageTheStacksUsers", USER_WRITES, names.users),
        _allow("ManageTheStacksGroups", GROUP_WRITES, names.groups),
        _allow(
            "CreateOnlyTheStacksKey",
            ["kms:CreateKey"],
            "*",
            {"StringEquals": {"aws:RequestTag/Purpose": KMS_KEY_PURPOSE}},
        ),
        # KMS authorizes CreateKey's tags as kms:TagResource on every key of the account and region (its
        # developer guide, "Controlling access to tags"), so this could also tag another key as the stack's:
        # see the README (a key whose policy does not delegate to IAM is immune).
        _allow(
            "TagTheNewKeyAsTheStacks",
            ["kms:TagResource"],
            names.kms_keys,
            {
                "StringEquals": {"aws:RequestTag/Purpose": KMS_KEY_PURPOSE},
                "ForAllValues:StringEquals": {"aws:TagKeys": list(KMS_KEY_TAG_KEYS)},
            },
        ),
        _allow(
            "ManageTheStacksKey",
            [*KMS_WRITES, *([] if settings.production_class else KMS_DELETION)],
            names.kms_keys,
            KEY_TAGGED_AS_THE_STACKS,
        ),
        {
            "Sid": "NeverBypassTheKeyPolicyLockoutCheck",
            "Effect": "Deny",
            "Action": ["kms:CreateKey", "kms:PutKeyPolicy"],
            "Resource": "*",
            "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}},
        },
        # The pub/ markers of private buckets are written with the stack's key.
        _allow("EncryptTheMarkersThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], names.kms_keys, via_s3),
        _allow("ManageTheCredentialStores", [*SECRET_WRITES, *PARAMETER_WRITES], [names.secrets, names.parameters]),
    ]


def permission_policy(
    role: Role, settings: StackSettings, account_id: str, tenants: Sequence[Tenant] = ()
) -> dict[str, Any]:
    names = OwnedNames.of(settings, account_id, tenants)
    # The deploy refreshes (and, on a credentialStore switch, deletes) either store; a preview only the one
    # in use; the audit never reads a secret.
    stores = {"audit": (), "preview": (settings.credential_store,), "deploy": ("secretsmanager", "ssm")}[role]
    statements = read_statements(settings, names, secret_values=stores)
    if role == "deploy":
        statements += write_statements(settings, names)
    return {"Version": "2012-10-17", "Statement": statements}


def role_documents(
    settings: StackSettings, account_id: str, repository: str, jobs: list[Job], tenants: Sequence[Tenant] = ()
) -> dict[Role, dict[str, dict[str, Any]]]:
    """Per role with at least one job: its trust policy and its permission policy, complete IAM documents."""
    by_role = subjects(repository, jobs, settings)
    return {
        role: {
            "trustPolicy": trust_policy(account_id, settings.partition.name, by_role[role]),
            "permissionPolicy": permission_policy(role, settings, account_id, tenants),
        }
        for role in ROLES
        if by_role[role]
    }


# https://github.com/o/r(.git), ssh://git@github.com/o/r.git, git@github.com:o/r.git: the host exactly github.com.
_GITHUB_REMOTE = re.compile(
    r"^(?:https://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)"
    r"(?P<repository>[A-Za-z0-9-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)
REPOSITORY = re.compile(r"[A-Za-z0-9-]+/(?!\.{1,2}$)[A-Za-z0-9_.-]+")


def repository_of_remote(url: str) -> str | None:
    """`owner/name` of a GitHub remote URL (https, ssh or scp-like), or None."""
    match = _GITHUB_REMOTE.match(url.strip())
    repository = match.group("repository") if match else None
    return repository if repository and REPOSITORY.fullmatch(repository) else None
