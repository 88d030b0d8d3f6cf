"""`tenant-storage ci-roles`: the roles the workflows assume, for one stack, from its settings and the
workflows themselves. Offline; the documents are built by `tenant_storage/ci_roles.py`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from live.aws import CommandFailed, load_stack, run_command
from tenant_storage.ci_roles import (
    REPOSITORY,
    ROLES,
    Role,
    UnknownCommand,
    WorkflowUnreadable,
    declared_inputs,
    repository_of_remote,
    role_documents,
    workflow_jobs,
)
from tenant_storage.errors import quoted
from tenant_storage.stacks import StackSettings, read_stack_files

SUBJECT = "token.actions.githubusercontent.com:sub"
ROLE_VARIABLES = {"preview": "AWS_PREVIEW_ROLE_ARN", "deploy": "AWS_DEPLOY_ROLE_ARN", "audit": "AWS_AUDIT_ROLE_ARN"}


def _repository(project_dir: Path, given: str | None) -> str:
    if given is not None:
        if not REPOSITORY.fullmatch(given) or given.endswith(".git"):
            raise CommandFailed(f"--repository {quoted(given)} is not OWNER/NAME, for example my-org/tenant-storage")
        return given
    remote = subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", "-C", str(project_dir), "remote", "get-url", "origin"],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    repository = repository_of_remote(remote.stdout) if remote.returncode == 0 else None
    if repository is None:
        raise CommandFailed("no GitHub remote `origin` to take the repository from: pass --repository OWNER/NAME")
    return repository


SEPARATORS = "_-.+=,@"
INLINE_ROLE_POLICIES_LIMIT = 10_240  # IAM: a role's inline policies together, whitespace not counted


def warnings(settings: StackSettings, roles: Mapping[Role, Any], sharing: list[str]) -> list[str]:
    """What the documents cannot enforce themselves, said every time they are printed."""
    found = []
    prefix = settings.naming.iam_user_prefix
    if not prefix or prefix[-1] not in SEPARATORS:
        found.append(
            f"iamUserPrefix {prefix!r} ends without a separator ({SEPARATORS}): the deploy role may change "
            f"every user whose name starts with it (user/{prefix}* matches more than tenants)"
        )
    found += [f"no workflow job assumes the {role} role" for role in ROLES if role not in roles]
    if settings.private_bucket_encryption == "sse-kms" and not settings.key_administrator_arn and "deploy" in roles:
        found.append(
            "set tenant-storage:keyAdministratorArn to the deploy role's ARN before the stack's first deploy: its "
            "KMS key's policy then names the role, which may manage the key at once; otherwise the role's IAM "
            "statements on the key wait for the new key's Purpose tag to count (up to five minutes, KMS "
            "tag-authorization) while the provider calls EnableKeyRotation, GetKeyPolicy and DescribeKey at once, "
            "and they let the role manage any key of the account it tags as the stack's"
        )
    if "deploy" in roles:
        subjects = roles["deploy"]["trustPolicy"]["Statement"][0]["Condition"]["StringEquals"][SUBJECT]
        environments = sorted(
            {subject.rsplit(":", 1)[-1] for subject in ([subjects] if isinstance(subjects, str) else subjects)}
        )
        found.append(
            f"the deploy subject names an environment, not a branch: allow only main to deploy to the GitHub "
            f"environment(s) {', '.join(environments)} (Settings > Environments > Deployment branches)"
        )
    if "preview" in roles:
        found.append(
            "a pull request from a branch of this repository runs its own workflow file with the preview role: "
            "whoever can push a branch can read what it reads"
            + (" (the stored credentials too)" if settings.credential_store != "none" else "")
        )
    for role, documents in roles.items():
        size = len(json.dumps(documents["permissionPolicy"], separators=(",", ":")))
        if size > INLINE_ROLE_POLICIES_LIMIT:
            found.append(
                f"the {role} permission policy is {size} characters, over IAM's {INLINE_ROLE_POLICIES_LIMIT} for a "
                "role's inline policies: split it into managed policies (6,144 each), or rename adopted buckets "
                "to the stack's prefix"
            )
    if sharing:
        suffix = "PROD" if settings.production_class else "QA"
        found.append(
            f"stacks {', '.join(sharing)} use the same repository variables (*_ROLE_ARN_{suffix}): one role then "
            "serves them all and needs every stack's subjects and names; run ci-roles for each and merge, or give "
            "them variables of their own"
        )
    return found


def run_ci_roles(project_dir: Path, stack: str, output_format: str, repository: str | None) -> int:
    def body() -> int:
        context = load_stack(project_dir, stack)
        settings = context.settings
        if len(settings.allowed_account_ids) != 1:
            accounts = ", ".join(settings.allowed_account_ids)
            raise CommandFailed(f"stack {stack!r} allows accounts {accounts}: the roles live in one account")
        [account] = settings.allowed_account_ids
        try:
            jobs = workflow_jobs(project_dir / ".github" / "workflows")
        except WorkflowUnreadable as error:
            raise CommandFailed(str(error)) from error
        if not jobs:
            raise CommandFailed(
                f"no workflow in {project_dir / '.github' / 'workflows'} assumes an AWS role "
                "(aws-actions/configure-aws-credentials with an AWS_PREVIEW|DEPLOY|AUDIT_ROLE variable)"
            )
        owner_name = _repository(project_dir, repository)
        from review.plan import plan_stack

        plan = plan_stack(stack, project_dir)
        if plan.refused:
            raise CommandFailed(
                f"stack {stack!r} cannot be planned, so what its roles need is unknown: {plan.errors[0]}"
            )
        declared = declared_inputs((resource.type, resource.inputs) for resource in plan.resources)
        try:
            roles = role_documents(settings, account, owner_name, jobs, declared, context.tenants)
        except UnknownCommand as error:
            raise CommandFailed(str(error)) from error
        sharing = sorted(
            name
            for name, stack_file in read_stack_files(project_dir).items()
            if name != stack
            and stack_file.settings is not None
            and stack_file.settings.production_class == settings.production_class
        )
        said = warnings(settings, roles, sharing)
        if output_format == "json":
            document = {
                "project": str(project_dir),
                "stack": stack,
                "account": account,
                "repository": owner_name,
                "roles": roles,
            }
            print(json.dumps(document, indent=2))
            for warning in said:
                print(f"ci-roles: {warning}", file=sys.stderr)
            return 0
        suffix = "PROD" if settings.production_class else "QA"
        print(f"stack {stack}: roles in account {account} for {owner_name}")
        for role, documents in roles.items():
            trusted = documents["trustPolicy"]["Statement"][0]["Condition"]["StringEquals"][SUBJECT]
            statements = documents["permissionPolicy"]["Statement"]
            print(f"  {role} (repository variable {ROLE_VARIABLES[role]}_{suffix}):")
            print(f"    trusts {', '.join(trusted) if isinstance(trusted, list) else trusted}")
            print(f"    may: {', '.join(statement['Sid'] for statement in statements)}")
        for warning in said:
            print(f"ci-roles: {warning}", file=sys.stderr)
        print(f"the complete documents: tenant-storage ci-roles --stack {stack} --format json", file=sys.stderr)
        return 0

    return run_command("ci-roles", body)
