"""`tenant-storage ci-roles`: the roles the workflows assume, for one stack, from its settings and the
workflows themselves. Offline; the documents are built by `tenant_storage/ci_roles.py`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from live.aws import CommandFailed, load_stack, run_command
from tenant_storage.ci_roles import WorkflowUnreadable, repository_of_remote, role_documents, workflow_jobs

_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
ROLE_VARIABLES = {"preview": "AWS_PREVIEW_ROLE_ARN", "deploy": "AWS_DEPLOY_ROLE_ARN", "audit": "AWS_AUDIT_ROLE_ARN"}


def _repository(project_dir: Path, given: str | None) -> str:
    if given is not None:
        if not _REPOSITORY.fullmatch(given):
            raise CommandFailed(f"--repository {given!r} is not OWNER/NAME, for example my-org/tenant-storage")
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
        owner_name = _repository(project_dir, repository)
        roles = role_documents(settings, account, owner_name, jobs, context.tenants)
        if output_format == "json":
            document = {"stack": stack, "account": account, "repository": owner_name, "roles": roles}
            print(json.dumps(document, indent=2))
            return 0
        suffix = "PROD" if settings.production_class else "QA"
        print(f"stack {stack}: roles in account {account} for {owner_name}")
        for role, documents in roles.items():
            condition = documents["trustPolicy"]["Statement"][0]["Condition"]["StringEquals"]
            trusted = condition["token.actions.githubusercontent.com:sub"]
            statements = documents["permissionPolicy"]["Statement"]
            print(f"  {role} (repository variable {ROLE_VARIABLES[role]}_{suffix}):")
            print(f"    trusts {', '.join(trusted) if isinstance(trusted, list) else trusted}")
            print(f"    may: {', '.join(statement['Sid'] for statement in statements)}")
        print(f"the complete documents: tenant-storage ci-roles --stack {stack} --format json", file=sys.stderr)
        return 0

    return run_command("ci-roles", body)
