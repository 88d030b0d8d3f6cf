"""`check-names`: ask S3 about every bucket name a stack would create, before `pulumi up` finds out.

    tenant-storage check-names --stack qa [--endpoint-url URL]

Bucket names are global across AWS accounts, so `fusion-rms-<orgId>` may already belong to someone
else. Each name is classified with the standard AWS credential chain:

- ours: listed by ListBuckets for the caller's account; `managed` when it carries the `ManagedBy=pulumi`
  tag every bucket of this program has, else `made by hand`: adopt it (`adopt: true` in its entry);
- free: HeadBucket answers 404;
- taken: it exists (HeadBucket 200, 403 or a redirect to another region) but is not ours. The fix is
  printed as the exact tenants.yaml entry, in the account regional namespace or with `randomSuffix: true`.

A name in S3's account regional namespace (`<prefix>-<orgId>-<account>-<region>-an`) only this account
can create: it is ours or free, and no other account is asked about.

The caller's account is checked first (and printed): it must be one the stack may use. With
`--stack all`, the stacks of the caller's account are checked and the others skipped.
Tenants with `randomSuffix: true` are skipped: their suffix is chosen at the first deploy and then
kept, so no name can be checked in advance. Exit status: 0 all clear, 1 some name is taken,
2 the check could not run (no credentials, throttling, network, access denied to ListBuckets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from live.aws import THROTTLING_CODES
from tenant_storage import ALL_STACKS, naming
from tenant_storage.registry import Profile

Status = Literal["ours", "free", "taken"]


class CheckFailed(Exception):
    """The check could not run; the message says why and what to do."""


@dataclass(frozen=True)
class NameCheck:
    org_id: str
    bucket: str
    status: Status
    detail: str = ""


def classify(
    buckets: Iterable[tuple[str, str]], s3: Any, account_regional: frozenset[str] = frozenset()
) -> list[NameCheck]:
    """(orgId, bucket name) pairs -> their status, using one ListBuckets and a HeadBucket per unowned name.

    A name in `account_regional` (S3's account regional namespace) only this account can create: it is
    ours or free, and no other account is asked about."""
    from botocore.exceptions import ClientError

    ours = _own_bucket_names(s3)
    checks = []
    for org_id, bucket in buckets:
        if bucket in ours:
            checks.append(NameCheck(org_id, bucket, "ours"))
            continue
        if bucket in account_regional:
            checks.append(
                NameCheck(org_id, bucket, "free", "in this account's regional namespace: nobody else can take it")
            )
            continue
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as error:
            status_code = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            _raise_if_throttled(error)
            if status_code == 404:
                checks.append(NameCheck(org_id, bucket, "free"))
                continue
            if status_code in (301, 403):
                region = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
                where = f" (in {region})" if region else ""
                checks.append(NameCheck(org_id, bucket, "taken", f"exists in another account{where}"))
                continue
            raise CheckFailed(f"HeadBucket {bucket}: {error}") from error
        checks.append(NameCheck(org_id, bucket, "taken", "exists and is readable, but is not in this account"))
    return checks


def _own_bucket_names(s3: Any) -> set[str]:
    from botocore.exceptions import ClientError

    try:
        return {bucket["Name"] for page in s3.get_paginator("list_buckets").paginate() for bucket in page["Buckets"]}
    except ClientError as error:
        _raise_if_throttled(error)
        raise CheckFailed(
            f"ListBuckets was refused ({error.response['Error']['Code']}): the check needs s3:ListAllMyBuckets "
            "to tell this account's buckets from other accounts'"
        ) from error


def _raise_if_throttled(error: Any) -> None:
    if error.response.get("Error", {}).get("Code") in THROTTLING_CODES:
        raise CheckFailed(f"AWS is throttling the requests ({error.response['Error']['Code']}); retry in a minute")


def suggested_entry(org_id: str, environment: str, profile: str, namespace: bool = False) -> str:
    """The tenant's tenants.yaml entry with `randomSuffix: true` (or in the account regional namespace)."""
    entry: dict[str, Any] = {"orgId": org_id, "environment": environment}
    if profile != Profile.MEDIA_GALLERY.value:
        entry["profile"] = profile
    if namespace:
        entry["bucketNamespace"] = naming.ACCOUNT_REGIONAL_NAMESPACE
    else:
        entry["randomSuffix"] = True
    return yaml.safe_dump([entry], sort_keys=False).rstrip()


def run_check_names(project_dir: Path, stack: str, endpoint_url: str | None, session: Any = None) -> int:
    from live.aws import Aws, CommandFailed, load_stack, run_command, verify_account
    from review.plan import plan_stack
    from tenant_storage.stacks import selected_stacks, unknown_stack

    aws = Aws(session, endpoint_url)

    def body() -> int:
        if problem := unknown_stack(project_dir, stack, all_allowed=True):
            raise CommandFailed(problem)  # before the credentials: a typo is the first thing to hear about
        stacks = selected_stacks(project_dir, stack)
        contexts = {name: load_stack(project_dir, name) for name in stacks}
        aws.region = next(iter(contexts.values())).settings.region if contexts else None  # STS answers anywhere
        account, _ = aws.caller()
        usable = [name for name in stacks if account in contexts[name].settings.allowed_account_ids]
        for name in stacks:
            if name not in usable and stack == ALL_STACKS:
                print(f"skip stack {name}: the credentials are for account {account}, not one it may use")
        if not usable and stack == ALL_STACKS:
            raise CommandFailed(f"no stack may use account {account}, the credentials' account")
        taken = 0
        for name in usable or stacks:
            verify_account(aws, contexts[name], "check-names")
            taken += _check_stack(plan_stack(name, project_dir), aws, contexts[name])
        return 1 if taken else 0

    return run_command("check-names", body)


def _check_stack(plan: Any, aws: Any, context: Any) -> int:
    """Print each name's status; return how many are taken."""
    from live.aws import CommandFailed

    if plan.refused:
        raise CommandFailed(f"stack {plan.stack}: the inputs are invalid; run `tenant-storage validate`")
    tenants = {tenant.org_id: tenant for tenant in plan.tenants}
    skipped = [tenant for tenant in plan.tenants if tenant.mocked_suffix]
    wanted = [(tenant.org_id, tenant.bucket_name) for tenant in plan.tenants if not tenant.mocked_suffix]
    regional = frozenset(
        tenant.bucket_name for tenant in plan.tenants if tenant.bucket_namespace == naming.ACCOUNT_REGIONAL_NAMESPACE
    )
    s3 = aws.client("s3")
    try:
        checks = classify(wanted, s3, regional)
    except CheckFailed as error:
        raise CommandFailed(str(error)) from error
    adopted = {tenant.org_id for tenant in context.tenants if tenant.adopt}
    for check in checks:
        detail = check.detail
        if check.status == "ours" and is_managed(s3, check.bucket):
            detail = "managed"
        elif check.status == "ours" and check.org_id in adopted:
            detail = "made by hand; its entry has adopt: true, so the next deploy imports it"
        elif check.status == "ours":
            # The tenant is declared, so discover (which lists what no tenant declares) would not list it.
            detail = (
                f"made by hand: the first deploy would fail to create it; add `adopt: true` to tenant "
                f"{check.org_id} in tenants.yaml, then run tenant-storage preflight --stack {context.settings.stack}"
            )
        print(f"{check.status:5}  {check.bucket}  ({check.org_id})" + (f": {detail}" if detail else ""))
    for tenant in skipped:
        print(f"skip   {tenant.org_id}: random suffix, chosen at the first deploy")
    taken = [check for check in checks if check.status == "taken"]
    for check in taken:
        tenant = tenants[check.org_id]
        suffix = f"{suggested_entry(check.org_id, tenant.environment, tenant.profile)}"
        if why_not := namespace_problem(context, check.org_id):
            print(
                f"\n{check.bucket} is taken ({why_not}). In tenants.yaml, give tenant {check.org_id} a random suffix:"
            )
            print(suffix)
            continue
        print(
            f"\n{check.bucket} is taken. In tenants.yaml, move tenant {check.org_id} into this account's regional "
            "namespace, where nobody else can take its name:\n"
            f"{suggested_entry(check.org_id, tenant.environment, tenant.profile, namespace=True)}\n"
            f"or give it a random suffix:\n{suffix}"
        )
    return len(taken)


def namespace_problem(context: Any, org_id: str) -> str | None:
    """Why the tenant cannot move into its stack's account regional namespace (the validator's own verdict on
    the entry check-names would suggest), or None when it can."""
    from tenant_storage.registry import tenant_name_problems

    [tenant] = [tenant for tenant in context.tenants if tenant.org_id == org_id]
    moved = tenant.model_copy(
        update={"bucket_namespace": naming.ACCOUNT_REGIONAL_NAMESPACE, "random_suffix": False, "bucket_name": None}
    )
    problems = tenant_name_problems(moved, 0, {}, "tenants.yaml", context.settings.naming)
    return problems[0].message if problems else None


def is_managed(s3: Any, bucket: str) -> bool:
    """Whether the bucket carries the tag every bucket this program creates has."""
    from botocore.exceptions import ClientError

    try:
        tags = s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchTagSet":
            return False
        raise
    return any(tag["Key"] == "ManagedBy" and tag["Value"] == "pulumi" for tag in tags)
