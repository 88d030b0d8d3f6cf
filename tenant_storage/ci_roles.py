"""The three roles the workflows assume, as IAM documents: whom each trusts, and what each may do.

Plain Python, no Pulumi: `tenant-storage ci-roles` prints them, and tests prove them in moto.

Whom: GitHub's OpenID Connect provider presents, as `token.actions.githubusercontent.com:sub`, a subject
made from the job: `repo:OWNER/REPO:environment:NAME` for a job that names an `environment:`,
`repo:OWNER/REPO:pull_request` for a pull-request job without one, and `repo:OWNER/REPO:ref:<ref>` for
a push or scheduled job without one. Each role trusts exactly the subjects of the jobs that assume it.

What, per role: derived, never listed. The commands each role's jobs run are read from the workflows
(`tenant-storage <command>` in a step's `run:`, pulumi/actions' `command:`); each role may make exactly the
calls those commands make for the resource types the stack declares, from the catalogue:
- `pulumi preview` (`refresh: always`: every resource in state is read, secret values included) and `pulumi up`:
  the provider's calls per type and operation (`catalogue/resource_types.py`, cited per type); `up` may also
  read and delete any type of the catalogue, to remove what the stack no longer declares;
- every other command: its own calls (`catalogue/actions.py` COMMAND_OPERATIONS, checked by running each one),
  and for `audit` the readers of the declared types (`catalogue/readers.py`), never a secret's value;
  `restore` the actions of `catalogue/actions.py` RESTORE_ACTIONS, its object actions on every object of the
  stack's buckets (it copies any version of any key back), the only statement beyond the `pub/` markers.
Each action is granted on what it is authorized on (`catalogue/actions.py` scope_of), only for the stack's own
names: buckets with its prefix (in its account: `s3:ResourceAccount`), the declared `pub/` markers, users
with its user prefix, its profile groups, its KMS key (by tag), its credential-store paths. A call made only for
an input the stack leaves empty (an attachment ARN) is not granted; neither is the deletion of a
production-class stack's key. No `iam:PassRole`, no roles, no managed policies, no key policy bypass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from catalogue.actions import COMMAND_OPERATIONS, Scope, actions_of, restore_actions, scope_of
from catalogue.readers import READERS
from catalogue.resource_types import OPERATIONS, RESOURCE_TYPES, Operation
from tenant_storage import naming
from tenant_storage.policies import key_administration_calls
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
    # What the job runs that calls AWS: `tenant-storage <command>` and `pulumi <command>`, from its steps.
    commands: frozenset[str] = frozenset()


class WorkflowUnreadable(Exception):
    """A workflow assumes a role in a way this module cannot turn into a subject; the message says where."""


_ROLE_VARIABLE = re.compile(r"AWS_(PREVIEW|DEPLOY|AUDIT)_ROLE")
# `tenant-storage audit ...`, `.venv/bin/tenant-storage usage`, `pulumi preview ...`: the command is the next word.
_COMMAND = re.compile(r"(?:tenant-storage|\bpulumi)\s+([a-z][a-z-]*)")
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


def _commands(step: dict[str, Any]) -> list[str]:
    """The commands a step runs that call AWS: in its shell (`run:`), or pulumi/actions' `command:` input."""
    found = _COMMAND.findall(str(step.get("run", "")))
    if str(step.get("uses", "")).startswith("pulumi/actions") and _mapping(step.get("with")).get("command"):
        found.append(str(_mapping(step.get("with"))["command"]))
    return found


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
                commands = frozenset(
                    command for each in job.get("steps") or [] if isinstance(each, dict) for command in _commands(each)
                )
                jobs.append(
                    Job(path.name, name, role_name, _environment(job, where), trigger, production_class, commands)
                )
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
    # Managed policies, the account's and AWS's: read only, to see what a user to adopt is granted.
    managed_policies: str
    # The access-log buckets (`<prefix>--access-logs...`, both namespaces): `<prefix>-*` matches them too.
    log_buckets: str = ""

    def pub_folder_markers(self) -> list[str]:
        return [f"{bucket}/{PUBLIC_FOLDER}" for bucket in self.buckets]

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
            managed_policies=f"arn:{partition}:iam::*:policy/*",
            log_buckets=f"arn:{partition}:s3:::{prefix}--access-logs*",
        )


# The types a stack declares, each with the inputs set (not empty) on any resource of it: which provider calls
# a deploy makes depends on both (an exclusive-attachments resource with no ARN never attaches one).
Declared = Mapping[str, frozenset[str]]
# What each `pulumi` command asks of the provider for the resources in the stack.
PULUMI_OPERATIONS: dict[str, tuple[Operation, ...]] = {
    "preview": ("read",),  # `refresh: always`: every resource in state is read, secret values included
    "refresh": ("read",),
    "up": OPERATIONS,
}
# What a deploy may have to remove of a type the stack no longer declares (a switched credential store, a
# profile's last tenant gone): the reads and deletes of every type of the catalogue, on the stack's own names.
REMOVAL: tuple[Operation, ...] = ("read", "delete")
PUBLIC_FOLDER = "pub/"  # the only objects the program declares: each media-gallery bucket's folder marker


def declared_inputs(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, frozenset[str]]:
    """From (type, inputs) of each resource a stack declares: per type, the inputs set (not empty) on any."""
    declared: dict[str, set[str]] = {}
    for token, inputs in resources:
        if token in RESOURCE_TYPES:
            declared.setdefault(token, set()).update(name for name, value in inputs.items() if value not in EMPTY)
    return {token: frozenset(names) for token, names in declared.items()}


EMPTY: tuple[Any, ...] = (None, "", [], {})


class UnknownCommand(Exception):
    """A workflow job runs a command whose AWS calls the catalogue does not list."""


def role_actions(commands: frozenset[str], declared: Declared, production_class: bool) -> set[str]:
    """Every IAM action the `commands` of a role's jobs need for a stack declaring `declared`: the provider's
    calls (`catalogue/resource_types.py`), each command's own (`catalogue/actions.py`) and, for `audit`, the
    readers' of the declared types (`catalogue/readers.py`), never one that reads a secret's value."""
    actions: set[str] = set()
    for command in sorted(commands):
        if command in PULUMI_OPERATIONS:
            operations = PULUMI_OPERATIONS[command]
            for token, inputs in declared.items():
                actions |= RESOURCE_TYPES[token].calls.needed(operations, inputs)
            if command == "up":
                for entry in RESOURCE_TYPES.values():
                    actions |= entry.calls.needed(REMOVAL, frozenset())
        elif command == "restore":
            actions |= restore_actions()
        elif command in COMMAND_OPERATIONS:
            actions |= actions_of(COMMAND_OPERATIONS[command])
            if command == "audit":
                actions |= actions_of({call for token in declared for call in READERS[token].operations})
        else:
            raise UnknownCommand(
                f"`{command}`: catalogue/actions.py COMMAND_OPERATIONS (or RESTORE_ACTIONS) does not list the AWS "
                "calls it makes"
            )
    if production_class:
        actions -= PROTECTED_DELETIONS
    return actions - NEEDS_NO_PERMISSION


# A production-class stack's key is protected: no role of its CI may schedule its deletion.
PROTECTED_DELETIONS = frozenset({"kms:ScheduleKeyDeletion"})
NEEDS_NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})  # STS answers it for every caller


def _allow(
    sid: str, actions: set[str] | list[str], resources: str | list[str], condition: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


KEY_TAGGED_AS_THE_STACKS = {"StringEquals": {"aws:ResourceTag/Purpose": KMS_KEY_PURPOSE}}
# The statement of each scope: its Sid, the stack's names it covers, and the condition that keeps it there.
_SIDS: dict[Scope, str] = {
    "account": "ListTheAccount",
    "bucket": "TheStacksBuckets",
    "bucket-tags": "TheStacksBucketsTagsThroughS3Control",
    "managed-policy": "ReadManagedPoliciesAttachedToUsersToAdopt",
    "object": "TheDeclaredPubFolderMarkers",
    "user": "TheStacksUsers",
    "group": "TheStacksProfileGroups",
    "key": "TheStacksKey",
    "key-creation": "CreateOnlyTheStacksKey",
    "secret": "TheStacksCredentialSecrets",
    "parameter": "TheStacksCredentialParameters",
    "cloudfront": "TheAccountsCloudFront",
}


def scoped_statements(
    actions: set[str], names: OwnedNames, account_id: str, every_object: AbstractSet[str] = frozenset()
) -> list[dict[str, Any]]:
    """`actions`, one statement per scope, each on the stack's own names only; the object actions of
    `every_object` on every object of the stack's buckets (a restore's), the others on the `pub/` markers."""
    by_scope: dict[Scope, set[str]] = {}
    for action in actions:
        by_scope.setdefault(scope_of(action), set()).add(action)
    restored = {action for action in every_object & actions if scope_of(action) == "object"}
    if by_scope.get("object", set()) <= restored:
        by_scope.pop("object", None)
    else:
        by_scope["object"] -= restored
    # s3:ResourceAccount: a bucket of one of the stack's names in another account is not the stack's.
    in_account = {"StringEquals": {"s3:ResourceAccount": account_id}}
    resources: dict[Scope, tuple[str | list[str], Mapping[str, Any] | None]] = {
        "account": ("*", None),
        "bucket": (names.buckets, in_account),
        "bucket-tags": (names.buckets, None),
        "managed-policy": (names.managed_policies, None),
        "object": (names.pub_folder_markers(), in_account),
        "user": (names.users, None),
        "group": (names.groups, None),
        "key": (names.kms_keys, KEY_TAGGED_AS_THE_STACKS),
        "key-creation": ("*", {"StringEquals": {"aws:RequestTag/Purpose": KMS_KEY_PURPOSE}}),
        "secret": (names.secrets, None),
        "parameter": (names.parameters, None),
        "cloudfront": ("*", None),
    }
    statements = []
    for scope in _SIDS:
        if scope in by_scope:
            resource, condition = resources[scope]
            statements.append(_allow(_SIDS[scope], by_scope[scope], resource, condition))
    if restored:
        # A restore copies any version of any key back: every object of the stack's buckets, in its account; never
        # the access logs, which `<prefix>-*` also matches (the audit trail of who read what).
        every = [f"{bucket}/*" for bucket in names.buckets]
        statements.append(_allow("RestoreTheStacksBucketsObjects", restored, every, in_account))
        statements.append(
            {
                "Sid": "NeverRestoreOverTheAccessLogs",
                "Effect": "Deny",
                "Action": sorted(restored),
                "Resource": f"{names.log_buckets}/*",
            }
        )
    if "key-creation" in by_scope:
        # KMS authorizes CreateKey's tags as kms:TagResource on every key of the account and region (its developer
        # guide, "Controlling access to tags"): only the stack's tags. That also lets the role tag an existing key
        # as the stack's; without keyAdministratorArn, the tag-conditioned TheStacksKey then applies to that key
        # (ci-roles says so), and a key whose policy does not delegate to IAM is immune.
        statements.append(
            _allow(
                "TagTheNewKeyAsTheStacks",
                ["kms:TagResource"],
                names.kms_keys,
                {
                    "StringEquals": {"aws:RequestTag/Purpose": KMS_KEY_PURPOSE},
                    "ForAllValues:StringEquals": {"aws:TagKeys": list(KMS_KEY_TAG_KEYS)},
                },
            )
        )
        statements.append(
            {
                "Sid": "NeverBypassTheKeyPolicyLockoutCheck",
                "Effect": "Deny",
                "Action": ["kms:CreateKey", "kms:PutKeyPolicy"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}},
            }
        )
    return statements


def permission_policy(
    commands: frozenset[str],
    settings: StackSettings,
    account_id: str,
    declared: Declared,
    tenants: Sequence[Tenant] = (),
) -> dict[str, Any]:
    names = OwnedNames.of(settings, account_id, tenants)
    # A protected stack's key (production class, or protectBuckets) may not be scheduled for deletion.
    protected = settings.production_class or settings.protect_buckets
    actions = role_actions(commands, declared, protected)
    if settings.key_administrator_arn and "up" in commands:
        # The key's own policy names the deploy role for these: no IAM statement conditioned on the key's tag,
        # which would let the role manage any key it tags as the stack's (TagTheNewKeyAsTheStacks must allow
        # that tag, for CreateKey).
        actions -= set(key_administration_calls(protected))
    restoring = restore_actions() if "restore" in commands else frozenset()
    return {"Version": "2012-10-17", "Statement": scoped_statements(actions, names, account_id, restoring)}


def role_documents(
    settings: StackSettings,
    account_id: str,
    repository: str,
    jobs: list[Job],
    declared: Declared,
    tenants: Sequence[Tenant] = (),
) -> dict[Role, dict[str, dict[str, Any]]]:
    """Per role with at least one job: its trust policy and its permission policy, complete IAM documents; each
    role may do what its jobs' commands call, for what the stack declares, on the stack's names."""
    by_role = subjects(repository, jobs, settings)
    commands = role_commands(jobs, settings)
    protected = settings.production_class or settings.protect_buckets
    for role in READ_ONLY_ROLES:
        # Derived from each command's actions, never from a list of writing commands: a command nobody listed
        # that writes anything is refused here too.
        writes = {
            command: sorted(a for a in role_actions(frozenset({command}), declared, protected) if not READS.match(a))
            for command in sorted(commands[role])
        }
        if said := [
            f"`{command}`, which writes ({', '.join(actions)})" for command, actions in writes.items() if actions
        ]:
            raise UnknownCommand(
                f"a job of the {role} role runs {'; '.join(said)}: the preview and audit roles only read; run it "
                "from a deploy job, or by hand"
            )
    return {
        role: {
            "trustPolicy": trust_policy(account_id, settings.partition.name, by_role[role]),
            "permissionPolicy": permission_policy(commands[role], settings, account_id, declared, tenants),
        }
        for role in ROLES
        if by_role[role]
    }


# The roles that only read: a command whose actions write is refused there (a restore copies versions back; even a
# dry run, as the role would have to hold what --apply needs).
READ_ONLY_ROLES: tuple[Role, ...] = ("preview", "audit")
# An action that only reads, by its verb (the Service Authorization Reference's Read and List access levels).
READS = re.compile(r"[a-z0-9-]+:(?:Get|List|Describe|Head)[A-Za-z]*")
# What operators run by hand with a role's credentials, beside its jobs' commands.
OPERATOR_COMMANDS: dict[Role, frozenset[str]] = {"audit": frozenset({"discover"})}


def role_commands(jobs: list[Job], settings: StackSettings) -> dict[Role, frozenset[str]]:
    """Per role, the commands its jobs run for this stack, and what operators run with it by hand."""
    found: dict[Role, set[str]] = {role: set() for role in ROLES}
    for job in jobs:
        if job.production_class is None or job.production_class == settings.production_class:
            found[job.role] |= job.commands
    return {
        role: frozenset(commands | (OPERATOR_COMMANDS.get(role, frozenset()) if commands else frozenset()))
        for role, commands in found.items()
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
