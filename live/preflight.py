"""`preflight`: will the next deploy of this stack succeed in the live account?

    tenant-storage preflight --stack qa [--format text|json] [--endpoint-url URL]

Read-only; run it before the first deploy and before every adoption or retirement. Each check is a
refusal of real AWS that the emulator and the offline plan never meet, reported with the tenant and
the fix (exit status 1):

- `account-public-access-block`: account-level S3 Block Public Access refuses (BlockPublicPolicy) or
  voids (RestrictPublicBuckets) the public `pub/` statement of a media-gallery bucket that anyone reads
  straight from S3 (`publicAccess` bucket-policy, or both); one served only through CloudFront needs none;
- `bucket-acl-grants`: a bucket to adopt that grants anyone but its owner through its ACL fails
  BucketOwnerEnforced (`InvalidBucketAclWithObjectOwnership`);
- `bucket-region`: a bucket to adopt outside the stack's region cannot send its access logs to the
  stack's log bucket (server access logs go only to a bucket of the same region and account);
- `access-key-limit`: a user the stack did not make already holds keys, and with the declared ones it
  would pass IAM's limit of two;
- `delete-conflict`: a user the deploy will delete (no tenant declares it any more) holds what
  `DeleteUser` refuses (`DeleteConflict`): inline or attached policies, a login profile, MFA devices,
  signing certificates, SSH keys, service credentials, other groups, keys made by hand;
- `iam-user-headroom`: the users to create do not fit under the account's IAM user quota;
- `log-bucket-name`: the stack's access-log bucket name belongs to another account (only a global name
  can: the fix is the account regional namespace);
- `log-bucket-move`: the stack's log bucket moved to another namespace while the earlier one still exists
  and is not kept (`retainedAccessLogBucketNamespace`): the deploy would delete it with its logs.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from live.aws import Aws, StackContext, load_stack, run_command, verify_account
from live.check_names import is_managed
from tenant_storage import naming
from tenant_storage.deploy_inputs import environment_problems
from tenant_storage.errors import counted
from tenant_storage.registry import Profile, Tenant
from tenant_storage.stacks import ACCESS_LOG_BUCKET_NAMESPACE, RETAINED_ACCESS_LOG_BUCKET_NAMESPACE

MANAGED_TAG = ("ManagedBy", "pulumi")
ACCESS_KEYS_PER_USER = 2  # IAM's limit, which cannot be raised


@dataclass(frozen=True)
class Fix:
    """One AWS call that removes a cause of a failure: shown as the `aws` command a person runs."""

    service: str
    operation: str  # the boto3 method name
    parameters: dict[str, str]

    def command(self) -> str:
        """The AWS CLI's own spelling: each name through botocore's `xform_name`, as the CLI makes it."""
        from botocore import xform_name

        arguments = " ".join(
            f"--{xform_name(name, '-')} {shlex.quote(value)}" for name, value in self.parameters.items()
        )
        return f"aws {self.service} {self.operation.replace('_', '-')} {arguments}"


@dataclass(frozen=True)
class Finding:
    orgId: str | None  # noqa: N815 - the JSON field name
    check: str
    message: str
    fixes: list[Fix] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "orgId": self.orgId,
            "check": self.check,
            "message": self.message,
            "fixes": [fix.command() for fix in self.fixes],
        }


class Preflight:
    def __init__(self, aws: Aws, context: StackContext, account: str, project_dir: Path) -> None:
        from botocore.exceptions import ClientError

        self.aws, self.context, self.account, self.project_dir = aws, context, account, project_dir
        self.settings = context.settings
        self.s3, self.iam = aws.client("s3"), aws.client("iam")
        self.client_error = ClientError
        self.findings: list[Finding] = []
        # What an emulator could not answer: said, never silently skipped (real AWS answers every call).
        self.unchecked: list[str] = []
        self.live_buckets = set(aws.bucket_names())
        self.live_users = {
            user["UserName"] for page in self.iam.get_paginator("list_users").paginate() for user in page["Users"]
        }

    def check(self, environment: Mapping[str, str] | None = None) -> list[Finding]:
        self.deploy_environment(os.environ if environment is None else environment)
        self.account_public_access_block()
        for tenant in self.context.tenants:
            self.tenant(tenant)
        self.retiring_users()
        self.user_headroom()
        self.log_bucket_names()
        return self.findings

    def _error_code(self, error: Exception) -> str:
        return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))

    def user_name(self, tenant: Tenant) -> str:
        return naming.iam_user_name(self.settings.naming.iam_user_prefix, tenant.org_id)

    def bucket_name(self, tenant: Tenant) -> str | None:
        if tenant.random_suffix:
            return None  # drawn at the first deploy: nothing exists yet
        return self.settings.naming.bucket_name_of(tenant)

    def on_an_emulator(self, check: str, call: Callable[[], Any]) -> Any:
        return self.aws.on_an_emulator(check, call, self.unchecked)

    def deploy_environment(self, environment: Mapping[str, str]) -> None:
        """What the program refuses at deploy time in this environment (a deploy run from here would stop)."""
        self.findings += [
            Finding(None, "deploy-environment", f"{problem.source}: {problem.message}")
            for problem in environment_problems(environment)
        ]

    def account_public_access_block(self) -> None:
        # Only a bucket anyone reads straight from S3 has a public statement: CloudFront's grant is not public.
        public = [
            t for t in self.context.tenants if (mode := self.settings.public_access_of(t)) and mode.anonymous_at_s3
        ]
        if not public:
            return
        s3control = self.aws.client("s3control")
        try:
            # S3 Control puts the account id in the host name (<account>.s3-control...), also for an endpoint.
            block = self.on_an_emulator(
                "account-public-access-block", lambda: s3control.get_public_access_block(AccountId=self.account)
            )
        except self.client_error as error:
            if self._error_code(error) == "NoSuchPublicAccessBlockConfiguration":
                return
            raise
        if block is None:
            return
        settings = block["PublicAccessBlockConfiguration"]
        effects = {
            "BlockPublicPolicy": "refuses its public pub/ statement (PutBucketPolicy fails with AccessDenied)",
            "RestrictPublicBuckets": "keeps its pub/ folder private although the policy allows it",
        }
        found = [f"{setting} on, which {effect}" for setting, effect in effects.items() if settings.get(setting)]
        for tenant in public if found else []:
            self.findings.append(
                Finding(
                    tenant.org_id,
                    "account-public-access-block",
                    f"the account's S3 Block Public Access has {' and '.join(found)}: serve its pub/ through "
                    "CloudFront instead (publicAccess: cloudfront, docs/public-access.md), or have both turned off "
                    "for this account (ask whoever owns the account's guardrails, often an organisation policy)",
                )
            )

    def tenant(self, tenant: Tenant) -> None:
        bucket, user = self.bucket_name(tenant), self.user_name(tenant)
        if tenant.adopt:
            missing = [f"bucket {bucket}"] if bucket is not None and bucket not in self.live_buckets else []
            missing += [f"user {user}"] if user not in self.live_users else []
            if missing:
                self.findings.append(
                    Finding(
                        tenant.org_id,
                        "adopt-missing",
                        f"{' and '.join(missing)} to adopt {'do' if len(missing) > 1 else 'does'} not exist in this "
                        "account: the import fails; fix bucketName, or remove adopt: true to create them anew",
                    )
                )
            if bucket is not None and bucket in self.live_buckets:
                self.adopted_bucket(tenant, bucket)
            if user in self.live_users and not self.is_the_stacks(user):
                self.access_key_limit(tenant, user)
            return
        if user in self.live_users and not self.is_the_stacks(user):
            self.findings.append(
                Finding(
                    tenant.org_id,
                    "user-exists",
                    f"user {user} exists and the stack did not make it: creating it fails (EntityAlreadyExists); "
                    "adopt the tenant (adopt: true; `tenant-storage discover --stack "
                    f"{self.settings.stack}` prints the entry) or give the stack another iamUserPrefix",
                )
            )
        if bucket is not None and bucket in self.live_buckets and not is_managed(self.s3, bucket):
            self.findings.append(
                Finding(
                    tenant.org_id,
                    "bucket-exists",
                    f"bucket {bucket} exists in this account and the stack did not make it: creating it fails "
                    "(BucketAlreadyOwnedByYou); adopt the tenant (adopt: true; `tenant-storage discover --stack "
                    f"{self.settings.stack}` prints the entry)",
                )
            )

    def adopted_bucket(self, tenant: Tenant, bucket: str) -> None:
        acl = self.s3.get_bucket_acl(Bucket=bucket)
        owner = acl.get("Owner", {}).get("ID")
        others = [
            grant
            for grant in acl.get("Grants", [])
            if grant.get("Grantee", {}).get("ID") != owner or grant.get("Grantee", {}).get("Type") != "CanonicalUser"
        ]
        if others:
            grantees = sorted(
                {
                    str(g["Grantee"].get("URI") or g["Grantee"].get("ID") or g["Grantee"].get("EmailAddress"))
                    for g in others
                }
            )
            self.findings.append(
                Finding(
                    tenant.org_id,
                    "bucket-acl-grants",
                    f"bucket {bucket} grants {', '.join(grantees)} through its ACL: BucketOwnerEnforced fails "
                    "on it (InvalidBucketAclWithObjectOwnership); reset the ACL to the owner alone first (move "
                    "any grant that is still needed into the tenant's profile)",
                    [Fix("s3api", "put_bucket_acl", {"Bucket": bucket, "ACL": "private"})],
                )
            )
        region = self.s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        if region != self.settings.region:
            self.findings.append(
                Finding(
                    tenant.org_id,
                    "bucket-region",
                    f"bucket {bucket} is in {region}, the stack in {self.settings.region}: its access logs can "
                    "only go to a bucket of its own region; adopt it in a stack of that region",
                )
            )

    def is_the_stacks(self, user: str) -> bool:
        return self.user_tags(user).get(MANAGED_TAG[0]) == MANAGED_TAG[1]

    def access_key_limit(self, tenant: Tenant, user: str) -> None:
        """The declared keys are created beside the legacy ones; IAM refuses a third (LimitExceeded)."""
        keys = self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        labels = tenant.access_keys or [naming.DEFAULT_KEY_LABEL]
        if len(keys) + len(labels) <= ACCESS_KEYS_PER_USER:
            return
        last_used = {
            key["AccessKeyId"]: self.iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
            .get("AccessKeyLastUsed", {})
            .get("LastUsedDate")
            for key in keys
        }
        described = ", ".join(f"{key['AccessKeyId']} ({_key_use(key, last_used[key['AccessKeyId']])})" for key in keys)
        steps = []
        if len(labels) > 1:
            steps.append(f"declare one label for now (accessKeys: [{labels[0]}]) and add the next once the app moved")
        fixes = []
        if len(keys) + 1 > ACCESS_KEYS_PER_USER:
            # The least used goes first: inactive, then never used, then the longest unused.
            spare = sorted(keys, key=lambda key: _key_order(key, last_used[key["AccessKeyId"]]))
            spare = spare[: len(keys) + 1 - ACCESS_KEYS_PER_USER]
            ids = ", ".join(key["AccessKeyId"] for key in spare)
            steps.append(f"delete {ids} once you are sure no app uses it (the app keeps its other key meanwhile)")
            fixes = [
                Fix("iam", "delete_access_key", {"UserName": user, "AccessKeyId": key["AccessKeyId"]}) for key in spare
            ]
        self.findings.append(
            Finding(
                tenant.org_id,
                "access-key-limit",
                f"user {user} already has {counted(len(keys), 'access key')} ({described}) and "
                f"{counted(len(labels), 'label')} declared: IAM "
                f"allows {ACCESS_KEYS_PER_USER} per user, so the declared key cannot be created (LimitExceeded); "
                + "; ".join(steps),
                fixes,
            )
        )

    def retiring_users(self) -> None:
        """Users the next deploy deletes: tagged as a tenant of this stack's environments by this program,
        and declared by no tenant any more. (Inferred from the tags: the stack's state needs the Pulumi CLI.)"""
        from live.discover import declared_names

        _, _, declared = declared_names(self.project_dir, self.context)
        prefix = self.settings.naming.iam_user_prefix
        environments = {environment.value for environment in self.settings.environments}
        for user in sorted(self.live_users):
            if not user.startswith(prefix) or user in declared:
                continue
            tags = self.user_tags(user)
            if (
                tags.get(MANAGED_TAG[0]) == MANAGED_TAG[1]
                and tags.get("OrgId")
                and tags.get("Environment") in environments
            ):
                self.delete_conflicts(user)

    def user_tags(self, user: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.iam.list_user_tags(UserName=user).get("Tags", [])}

    def delete_conflicts(self, user: str) -> None:
        iam, fixes, causes = self.iam, [], []
        for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
            causes.append(f"inline policy {name}")
            fixes.append(Fix("iam", "delete_user_policy", {"UserName": user, "PolicyName": name}))
        for policy in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
            causes.append(f"attached policy {policy['PolicyArn']}")
            fixes.append(Fix("iam", "detach_user_policy", {"UserName": user, "PolicyArn": policy["PolicyArn"]}))
        try:
            iam.get_login_profile(UserName=user)
            causes.append("a console password (login profile)")
            fixes.append(Fix("iam", "delete_login_profile", {"UserName": user}))
        except self.client_error as error:
            if self._error_code(error) != "NoSuchEntity":
                raise
        for device in iam.list_mfa_devices(UserName=user)["MFADevices"]:
            causes.append(f"MFA device {device['SerialNumber']}")
            fixes.append(
                Fix("iam", "deactivate_mfa_device", {"UserName": user, "SerialNumber": device["SerialNumber"]})
            )
        for certificate in iam.list_signing_certificates(UserName=user)["Certificates"]:
            causes.append(f"signing certificate {certificate['CertificateId']}")
            fixes.append(
                Fix(
                    "iam",
                    "delete_signing_certificate",
                    {"UserName": user, "CertificateId": certificate["CertificateId"]},
                )
            )
        for ssh_key in iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"]:
            causes.append(f"SSH key {ssh_key['SSHPublicKeyId']}")
            fixes.append(
                Fix("iam", "delete_ssh_public_key", {"UserName": user, "SSHPublicKeyId": ssh_key["SSHPublicKeyId"]})
            )
        listed = self.on_an_emulator(
            "delete-conflict (service-specific credentials)",
            lambda: iam.list_service_specific_credentials(UserName=user),
        )
        for credential in (listed or {}).get("ServiceSpecificCredentials", []):
            causes.append(f"{credential['ServiceName']} credential {credential['ServiceSpecificCredentialId']}")
            fixes.append(
                Fix(
                    "iam",
                    "delete_service_specific_credential",
                    {"UserName": user, "ServiceSpecificCredentialId": credential["ServiceSpecificCredentialId"]},
                )
            )
        # The deploy removes the user from its groups itself, but its role may change only the stack's groups.
        groups = {naming.group_name(self.settings.stack, profile.value) for profile in Profile}
        for group in iam.list_groups_for_user(UserName=user)["Groups"]:
            if group["GroupName"] not in groups:
                causes.append(f"membership of group {group['GroupName']} (not the stack's: its role may not change it)")
                fixes.append(Fix("iam", "remove_user_from_group", {"UserName": user, "GroupName": group["GroupName"]}))
        if causes:
            self.findings.append(
                Finding(
                    None,
                    "delete-conflict",
                    f"user {user} (tagged as this stack's tenant, which no entry declares any more: the deploy "
                    f"deletes it) holds {', '.join(causes)}, which "
                    "the deletion cannot remove (DeleteConflict, or AccessDenied for another group); remove them "
                    "first. The stack deletes the keys it made itself; delete any key made by hand too",
                    fixes,
                )
            )

    def user_headroom(self) -> None:
        to_create = [t for t in self.context.tenants if self.user_name(t) not in self.live_users]
        summary = self.iam.get_account_summary()["SummaryMap"]
        users, quota = int(summary.get("Users", 0)), int(summary.get("UsersQuota", naming.IAM_USERS_PER_ACCOUNT))
        print(f"preflight: {users} of {quota} IAM users in use, {len(to_create)} to create", file=sys.stderr)
        if users + len(to_create) > quota:
            self.findings.append(
                Finding(
                    None,
                    "iam-user-headroom",
                    f"the account has {users} IAM users of its quota of {quota}; the {len(to_create)} users to "
                    "create do not fit: move tenants to a stack in another account (a shard)",
                )
            )

    def log_bucket_names(self) -> None:
        settings = self.settings
        shard = settings.shard.index if settings.shard else None

        def name_in(namespace: str) -> str:
            return naming.access_log_bucket_name(
                settings.naming.bucket_prefix, self.account, settings.region, shard, namespace
            )

        name = name_in(settings.access_log_bucket_namespace)
        # In the account regional namespace nobody else can hold the name: only a global one can be squatted.
        if settings.access_log_bucket_namespace == naming.GLOBAL_NAMESPACE and self.held_elsewhere(name):
            self.findings.append(
                Finding(
                    None,
                    "log-bucket-name",
                    f"the stack's access-log bucket name {name} belongs to another account: the deploy cannot create "
                    f"it; set {ACCESS_LOG_BUCKET_NAMESPACE}: {naming.ACCOUNT_REGIONAL_NAMESPACE} in "
                    f"Pulumi.{settings.stack}.yaml (a name only this account can create), or change its bucketPrefix",
                )
            )
        retained = settings.retained_access_log_bucket_namespace
        if retained == naming.GLOBAL_NAMESPACE and self.held_elsewhere(previous := name_in(retained)):
            self.findings.append(
                Finding(
                    None,
                    "log-bucket-name",
                    f"the retained access-log bucket {previous} belongs to another account, so it was never this "
                    f"stack's: remove {RETAINED_ACCESS_LOG_BUCKET_NAMESPACE} from Pulumi.{settings.stack}.yaml",
                )
            )
        others = [
            namespace for namespace in naming.BUCKET_NAMESPACES if namespace != settings.access_log_bucket_namespace
        ]
        for namespace in others:
            previous = name_in(namespace)
            if previous in self.live_buckets and namespace != settings.retained_access_log_bucket_namespace:
                self.findings.append(
                    Finding(
                        None,
                        "log-bucket-move",
                        f"the stack's access logs go to {name} now, and its earlier access-log bucket {previous} "
                        f"still exists: a deploy would delete it with its logs (or fail on it); keep it with "
                        f"{RETAINED_ACCESS_LOG_BUCKET_NAMESPACE}: {namespace} in Pulumi.{settings.stack}.yaml",
                    )
                )

    def held_elsewhere(self, name: str) -> bool:
        """Whether bucket `name` exists in another account (S3 answers 403 to a name it holds for someone else)."""
        if name in self.live_buckets:
            return False
        try:
            self.s3.head_bucket(Bucket=name)
        except self.client_error as error:
            if self._error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                return False
            if self._error_code(error) not in ("403", "AccessDenied", "Forbidden"):
                raise
        return True


def _key_use(key: dict[str, Any], used: Any) -> str:
    state = "inactive, " if key.get("Status") == "Inactive" else ""
    return f"{state}last used {used:%Y-%m-%d}" if used else f"{state}never used"


def _key_order(key: dict[str, Any], used: Any) -> tuple[int, str]:
    return (0 if key.get("Status") == "Inactive" else 1 if used is None else 2, str(used or ""))


def render(document: dict[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(document, indent=2) + "\n"
    findings = document["findings"]
    count = len(findings)
    out = [
        f"preflight of stack {document['stack']} in account {document['account']}: "
        + (f"{count} finding{'s' if count != 1 else ''}" if count else "ready to deploy")
    ]
    for finding in findings:
        out.append(f"  {finding['orgId'] or 'stack'}: {finding['check']}: {finding['message']}")
        out += [f"      {command}" for command in finding.get("fixes", [])]
    out += [f"  not checked: {reason}" for reason in document.get("unchecked", [])]
    return "\n".join(out) + "\n"


def run_preflight(
    project_dir: Path, stack: str, output_format: str, endpoint_url: str | None, session: Any = None
) -> int:
    aws = Aws(session, endpoint_url)

    def body() -> int:
        context = load_stack(project_dir, stack)
        aws.region = context.settings.region
        account = verify_account(aws, context, "preflight")
        checker = Preflight(aws, context, account, project_dir)
        findings = checker.check()
        document = {
            "project": str(project_dir),
            "stack": stack,
            "account": account,
            "findings": [f.to_json() for f in findings],
            "unchecked": checker.unchecked,
        }
        sys.stdout.write(render(document, output_format))
        return 1 if findings else 0

    return run_command("preflight", body)
