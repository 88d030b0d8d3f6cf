"""`audit`: does the live account still match what the stack declares?

    tenant-storage audit --stack qa [--format text|json|markdown] [--endpoint-url URL]

Read-only. What is declared comes from the offline plan of the stack (the real program under the mock
monitor); what is live, from S3 and IAM. Per tenant: the bucket exists and is ours; its ownership
controls, public access block, encryption, versioning, lifecycle, logging, bucket-policy statements
and tags match, and no lifecycle rule expires replaced or deleted versions sooner than declared (restore
reaches back that far); the user exists, gets its permissions only through its profile's group (no inline or
attached policy of its own), and its access keys are the declared ones, younger than the stack's
`accessKeyMaxAgeDays` (IAM.3) and used within 45 days (IAM.22). For the account: orphans, buckets and
users with the stack's prefixes that no tenant declares. Exit status: 0 clean, 1 findings, 2 could not run.
"""

from __future__ import annotations

import datetime
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from live.aws import Aws, StackContext, load_stack, run_command, verify_account
from live.discover import declared_names
from policy.tenant_storage_rules import ACCESS_KEY, BUCKET, ENCRYPTION, LIFECYCLE, PUBLIC_ACCESS_BLOCK
from policy.tenant_storage_rules import BUCKET_LOGGING as LOGGING
from review.plan import ResourcePlan, StackPlan, TenantPlan, plan_stack
from tenant_storage import naming
from tenant_storage.yaml_reader import as_written

UNUSED_KEY_DAYS = 45  # Security Hub IAM.22


@dataclass(frozen=True)
class Finding:
    orgId: str  # noqa: N815 - the JSON field name
    check: str
    message: str


def _declared(tenant_resources: list[ResourcePlan], resource_type: str) -> dict[str, Any]:
    return next((r.inputs for r in tenant_resources if r.type == resource_type), {})


def _normalised(statement: dict[str, Any]) -> str:
    """A statement as a comparable string: one-element lists and single values are the same to AWS."""

    def norm(value: Any) -> Any:
        if isinstance(value, list):
            items = sorted((norm(v) for v in value), key=json.dumps)
            return items[0] if len(items) == 1 else items
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return value

    return json.dumps(norm({k: v for k, v in statement.items() if k != "Sid"}), sort_keys=True)


class Auditor:
    def __init__(self, aws: Aws, context: StackContext, plan: StackPlan, now: datetime.datetime) -> None:
        self.aws, self.context, self.plan, self.now = aws, context, plan, now
        self.s3, self.iam = aws.client("s3"), aws.client("iam")
        self.findings: list[Finding] = []
        self.live_buckets = set(aws.bucket_names())

    def finding(self, org_id: str, check: str, message: str) -> None:
        self.findings.append(Finding(org_id, check, message))

    def audit(self) -> list[Finding]:
        by_tenant: dict[str, list[ResourcePlan]] = {}
        for resource in self.plan.resources:
            by_tenant.setdefault(resource.org_id or "", []).append(resource)
        for tenant in self.plan.tenants:
            self.audit_tenant(tenant, by_tenant.get(tenant.org_id, []))
        return self.findings

    def bucket_of(self, tenant: TenantPlan) -> str | None:
        if not tenant.mocked_suffix:
            return tenant.bucket_name if tenant.bucket_name in self.live_buckets else None
        found = naming.suffixed_buckets(self.context.settings.naming.bucket_prefix, tenant.org_id, self.live_buckets)
        return found[0] if found else None

    def audit_tenant(self, tenant: TenantPlan, resources: list[ResourcePlan]) -> None:
        org = tenant.org_id
        bucket = self.bucket_of(tenant)
        if bucket is None and tenant.mocked_suffix:
            # The offline plan's suffix is a placeholder: name the pattern the deploy's name will have.
            suffix = f"<{naming.RANDOM_SUFFIX_LENGTH} hex digits>"
            pattern = naming.bucket_name(self.context.settings.naming.bucket_prefix, org, suffix)
            self.finding(org, "bucket", f"no bucket {pattern} in this account (not deployed yet?)")
        elif bucket is None:
            self.finding(org, "bucket", f"bucket {tenant.bucket_name} does not exist in this account")
        else:
            self.audit_bucket(org, bucket, tenant, resources)
        self.audit_user(org, tenant, resources, bucket)

    def audit_bucket(self, org: str, bucket: str, tenant: TenantPlan, resources: list[ResourcePlan]) -> None:
        s3 = self.s3
        try:
            rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        except self._client_error():
            rules = []
        if [rule.get("ObjectOwnership") for rule in rules] != ["BucketOwnerEnforced"]:
            self.finding(org, "ownership", f"{bucket}: ACLs are not disabled (BucketOwnerEnforced)")

        declared_block = _declared(resources, PUBLIC_ACCESS_BLOCK)
        try:
            live_block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except self._client_error():
            live_block = {}
        for key in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"):
            wanted = declared_block.get(key[0].lower() + key[1:])
            if wanted is not None and bool(live_block.get(key)) != bool(wanted):
                live_value = "on" if live_block.get(key) else "off" if key in live_block else "not set"
                declared = "on" if wanted else "off"
                self.finding(org, "public-access-block", f"{bucket}: {key} is {live_value}, declared {declared}")

        declared_rule = (_declared(resources, ENCRYPTION).get("rules") or [{}])[0]
        wanted_algorithm = (declared_rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
        try:
            live_rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except self._client_error():
            live_rules = [{}]
        live_algorithm = (live_rules[0].get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
        if wanted_algorithm and live_algorithm != wanted_algorithm:
            self.finding(
                org,
                "encryption",
                f"{bucket}: default encryption is {live_algorithm or 'not set'}, declared {wanted_algorithm}",
            )

        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            self.finding(org, "versioning", f"{bucket}: versioning is not enabled")

        declared_rules = _declared(resources, LIFECYCLE).get("rules", [])
        try:
            live_rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        except self._client_error():
            live_rules = []
        if missing := sorted({rule["id"] for rule in declared_rules} - {rule["ID"] for rule in live_rules}):
            self.finding(org, "lifecycle", f"{bucket}: lifecycle rules missing: {', '.join(missing)}")
        self.audit_noncurrent_retention(org, bucket, declared_rules, live_rules)

        declared_logging = _declared(resources, LOGGING)
        live_logging = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled") or {}
        if live_logging.get("TargetBucket") != declared_logging.get("targetBucket") or live_logging.get(
            "TargetPrefix"
        ) != declared_logging.get("targetPrefix"):
            self.finding(org, "logging", f"{bucket}: server access logging does not go to the stack's log bucket")

        try:
            live_policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except self._client_error():
            live_policy = {"Statement": []}
        declared_policy = json.loads(json.dumps(tenant.bucket_policy).replace(tenant.bucket_name, bucket))
        live_statements = {_normalised(s) for s in _as_list(live_policy.get("Statement"))}
        declared_statements = {_normalised(s) for s in declared_policy["Statement"]}
        for statement in sorted(declared_statements - live_statements):
            self.finding(org, "bucket-policy", f"{bucket}: declared statement missing: {statement}")
        for statement in sorted(live_statements - declared_statements):
            self.finding(org, "bucket-policy", f"{bucket}: statement not declared: {statement}")

        try:
            tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
        except self._client_error():
            tags = {}
        for key, value in (_declared(resources, BUCKET).get("tags") or {}).items():
            if tags.get(key) != value:
                self.finding(org, "tags", f"{bucket}: tag {key} is {as_written(tags.get(key))}, declared {value!r}")

    def audit_noncurrent_retention(
        self, org: str, bucket: str, declared_rules: list[dict[str, Any]], live_rules: list[dict[str, Any]]
    ) -> None:
        """`restore` reaches back as far as replaced and deleted versions are kept: a live rule (any rule, on any
        prefix) that expires them sooner than the stack declares shortens that."""
        declared = [
            int(days)
            for rule in declared_rules
            if (days := (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")) is not None
        ]
        live = [
            (int(days), rule.get("ID", ""))
            for rule in live_rules
            if rule.get("Status") == "Enabled"
            and (days := (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")) is not None
        ]
        if declared and live and min(live)[0] < min(declared):
            days, rule_id = min(live)
            self.finding(
                org,
                "noncurrent-retention",
                f"{bucket}: lifecycle rule {rule_id or '(no id)'} expires replaced and deleted versions after {days} "
                f"days, the stack declares {min(declared)}: restore reaches back only {days} days",
            )

    def audit_user(self, org: str, tenant: TenantPlan, resources: list[ResourcePlan], bucket: str | None) -> None:
        iam, user = self.iam, tenant.iam_user_name
        try:
            iam.get_user(UserName=user)
        except self._client_error():
            self.finding(org, "user", f"IAM user {user} does not exist")
            return
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user).get("Tags", [])}
        if bucket and tags.get("TenantBucket") != bucket:
            tagged = as_written(tags.get("TenantBucket"))
            self.finding(org, "user", f"{user}: tag TenantBucket is {tagged}, not {bucket!r}")
        groups = sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"])
        wanted = [naming.group_name(self.context.settings.stack, tenant.profile)]
        if groups != wanted:
            self.finding(
                org, "user-groups", f"{user}: groups {', '.join(groups) or 'none'}, declared {', '.join(wanted)}"
            )
        for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
            self.finding(org, "user-policies", f"{user}: inline policy {name!r} granted by hand (IAM.2)")
        for attached in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
            self.finding(org, "user-policies", f"{user}: policy {attached['PolicyArn']} attached by hand (IAM.2)")
        self.audit_keys(org, user, len([r for r in resources if r.type == ACCESS_KEY]))

    def audit_keys(self, org: str, user: str, declared: int) -> None:
        keys = self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        if len(keys) > declared:
            # Offline the declared keys' ids are unknown (IAM makes them at the deploy): name every key, oldest
            # first, so the one to delete (aws iam delete-access-key --user-name ... --access-key-id ...) is there.
            listed = ", ".join(
                f"{key['AccessKeyId']} (made {key['CreateDate']:%Y-%m-%d})"
                for key in sorted(keys, key=lambda key: key["CreateDate"])
            )
            self.finding(
                org, "access-keys", f"{user}: {len(keys)} access keys, {declared} declared (a legacy key?): {listed}"
            )
        limit = self.context.settings.access_key_max_age_days
        for key in keys:
            key_id, created = key["AccessKeyId"], key["CreateDate"]
            age = (self.now - created).days
            if age > limit:
                self.finding(org, "access-keys", f"{user}: key {key_id} is {age} days old, over {limit} (IAM.3)")
            used = self.iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"].get("LastUsedDate")
            idle = (self.now - (used or created)).days
            if idle > UNUSED_KEY_DAYS:
                state = "never used" if used is None else f"unused for {idle} days"
                self.finding(org, "access-keys", f"{user}: key {key_id} {state}, over {UNUSED_KEY_DAYS} days (IAM.22)")

    def orphans(self, project_dir: Path) -> list[str]:
        rules = self.context.settings.naming
        fixed, patterns, users = declared_names(project_dir, self.context)
        buckets = sorted(
            name
            for name in self.live_buckets
            if name.startswith(f"{rules.bucket_prefix}-")
            and not naming.is_shared_resource_name(name)
            and name not in fixed
            and not any(p.fullmatch(name) for p in patterns)
        )
        live_users = [u["UserName"] for page in self.iam.get_paginator("list_users").paginate() for u in page["Users"]]
        return [f"bucket {name}" for name in buckets] + [
            f"user {name}"
            for name in sorted(live_users)
            if name.startswith(rules.iam_user_prefix) and name not in users
        ]

    @staticmethod
    def _client_error() -> type[Exception]:
        from botocore.exceptions import ClientError

        return ClientError


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def render(document: dict[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(document, indent=2, default=str) + "\n"
    findings, orphans = document["findings"], document["orphans"]
    if output_format == "markdown":
        from review.render import markdown_code

        out = [
            f"## Audit of stack {markdown_code(document['stack'])} in account {markdown_code(document['account'])}",
            "",
        ]
        out.append(f"{len(findings)} findings, {len(orphans)} orphans." if findings or orphans else "Clean.")
        out += ["", "| orgId | check | finding |", "| --- | --- | --- |"] if findings else []
        for f in findings:
            org, message = markdown_code(f["orgId"], table_cell=True), markdown_code(f["message"], table_cell=True)
            out.append(f"| {org} | {f['check']} | {message} |")
        out += ["", *[f"- orphan: {markdown_code(orphan)}" for orphan in orphans]] if orphans else []
        return "\n".join(out) + "\n"
    counts = f"{len(findings)} findings, {len(orphans)} orphans"
    out = [f"audit of stack {document['stack']} in account {document['account']}: {counts}"]
    out += [f"  {f['orgId']}: {f['check']}: {f['message']}" for f in findings]
    out += [f"  orphan: {orphan} (no tenant declares it; adopt it with discover, or remove it)" for orphan in orphans]
    return "\n".join(out) + "\n"


def run_audit(
    project_dir: Path,
    stack: str,
    output_format: str,
    endpoint_url: str | None,
    session: Any = None,
    now: datetime.datetime | None = None,
) -> int:
    aws = Aws(session, endpoint_url)

    def body() -> int:
        context = load_stack(project_dir, stack)
        account = verify_account(aws, context, "audit")
        plan = plan_stack(stack, project_dir)
        auditor = Auditor(aws, context, plan, now or datetime.datetime.now(datetime.UTC))
        findings = auditor.audit()
        orphans = auditor.orphans(project_dir)
        document = {
            "stack": stack,
            "account": account,
            "findings": [asdict(finding) for finding in findings],
            "orphans": orphans,
        }
        sys.stdout.write(render(document, output_format))
        return 1 if findings or orphans else 0

    return run_command("audit", body)
