"""`credentials`: a tenant's app variables from the deployed stack's outputs, for the password manager.

    tenant-storage credentials <orgId> --stack <stack> [--label <key label>]

A thin wrapper for users who have the Pulumi CLI and access to the stack's backend: it runs
`pulumi stack output --stack <stack> --show-secrets --json` and prints BUCKET_NAME, AWS_KEY,
AWS_SECRET and AWS_REGION (the variables the app server reads) as shell assignments. The key is the
tenant's newest one unless `--label` names another. The output is a live secret: paste it into the
password manager; never into a file, an e-mail or a chat. With `credentialStore` set, the app can
read the same values from Secrets Manager or SSM instead.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from tenant_storage.errors import quoted

WARNING = "WARNING: live credentials follow. Put them in the password manager; never in a file, e-mail or chat."


class CredentialsError(Exception):
    pass


def fetch_stack_outputs(stack: str, project_dir: Path) -> dict[str, Any]:
    command = ["pulumi", "stack", "output", "--stack", stack, "--show-secrets", "--json"]
    try:
        result = subprocess.run(command, cwd=project_dir, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as error:
        raise CredentialsError("the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/)") from error
    if result.returncode != 0:
        raise CredentialsError(f"`{' '.join(command)}` failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def app_variables(outputs: dict[str, Any], org_id: str, label: str | None = None) -> dict[str, str]:
    tenants, secrets = outputs.get("tenants", {}), outputs.get("secretAccessKeys", {})
    if org_id not in tenants:
        raise CredentialsError(
            f"tenant {quoted(org_id)} is not deployed in this stack (tenants: {', '.join(sorted(tenants))})"
        )
    tenant = tenants[org_id]
    key_ids: dict[str, str] = tenant["accessKeyIds"]
    if label is None:
        label = next(name for name, key_id in key_ids.items() if key_id == tenant["accessKeyId"])
    if label not in key_ids:
        raise CredentialsError(
            f"tenant {quoted(org_id)} has no access key labelled {quoted(label)} (labels: {', '.join(key_ids)})"
        )
    variables = {
        "BUCKET_NAME": tenant["bucketName"],
        "AWS_KEY": key_ids[label],
        "AWS_SECRET": secrets[org_id][label],
        "AWS_REGION": tenant["region"],
    }
    # Where its app links its public files (a media gallery's pub/): CloudFront's URL once the stack serves it there,
    # and the S3 one still served beside it while a stack switches (docs/public-access.md).
    for variable, output in (("PUBLIC_BASE_URL", "publicBaseUrl"), ("S3_PUBLIC_BASE_URL", "s3PublicBaseUrl")):
        if tenant.get(output):
            variables[variable] = tenant[output]
    return variables


def render_variables(variables: dict[str, str]) -> str:
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in variables.items())


def run_credentials(project_dir: Path, stack: str, org_id: str, label: str | None) -> int:
    from live.aws import CommandFailed, load_stack, tenant_of

    try:
        # The committed files first: a tenant the stack does not declare is named without asking the backend.
        tenant_of(project_dir, stack, org_id, load_stack(project_dir, stack).tenants)
        variables = app_variables(fetch_stack_outputs(stack, project_dir), org_id, label)
    except CommandFailed as error:
        print(f"credentials: {error}", file=sys.stderr)
        return error.status
    except CredentialsError as error:
        print(f"credentials: {error}", file=sys.stderr)
        return 2
    print(WARNING, file=sys.stderr)
    sys.stdout.write(render_variables(variables))
    return 0
