"""`discover`: find the tenants made by hand in the stack's account, and write their registry entries.

    tenant-storage discover --stack qa [--format yaml|json] [--endpoint-url URL]

Read-only. Lists the buckets named with the stack's prefix or tagged `OrgId`, and the IAM users named
with its user prefix, that no tenant of tenants.yaml declares; pairs each bucket with its user (the
bucket's `OrgId` tag, the user named as principal in the bucket policy, or the bucket named in the
user's inline or attached policies); infers the profile from the grants; and prints entries with
`adopt: true` (and `bucketName:` where the name does not follow the convention), each with what its
first deploy will change. What cannot be paired is listed with the reason. Exit status: 0 nothing
undeclared, 1 something to adopt or explain, 2 could not run.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalogue.actions import OPERATION_ACTIONS
from catalogue.readers import REFUSED, Unreadable, absent_setting, error_code
from live.aws import CREDENTIAL_CODES, THROTTLING_CODES, Aws, StackContext, load_stack, run_command, verify_account
from tenant_storage import naming
from tenant_storage.access import ANONYMOUS, allowed
from tenant_storage.anonymous_access import Decision, PublicAccessBlock, bucket_policy_decision
from tenant_storage.errors import counted
from tenant_storage.public_access import PUBLIC_PREFIX
from tenant_storage.registry import Profile, load_registry

_USER_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:user/(?:.*/)?(?P<name>[^/]+)")


@dataclass
class LiveBucket:
    name: str
    tags: dict[str, str]
    policy: dict[str, Any] | None
    versioning: str
    encryption: str | None
    logging: bool
    public_access_block: dict[str, bool] | None
    lifecycle: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LiveUser:
    name: str
    tags: dict[str, str]
    inline: dict[str, dict[str, Any]]
    attached: dict[str, dict[str, Any]]  # policy ARN -> default version document
    keys: list[dict[str, Any]]

    def documents(self) -> list[dict[str, Any]]:
        return [*self.inline.values(), *self.attached.values()]


@dataclass
class Discovered:
    entry: dict[str, Any]
    bucket: str
    user: str | None
    environment_inferred: bool
    changes: list[str] = field(default_factory=list)


@dataclass
class Unpaired:
    kind: str
    name: str
    reason: str


def _statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    statements = (document or {}).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_users(statement: dict[str, Any]) -> set[str]:
    principal = statement.get("Principal")
    arns = _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
    return {match["name"] for arn in arns if (match := _USER_ARN.fullmatch(str(arn)))}


def _names_bucket(document: dict[str, Any], bucket: str) -> bool:
    return any(
        str(resource).split(":::", 1)[-1].split("/", 1)[0] == bucket
        for statement in _statements(document)
        for resource in _as_list(statement.get("Resource", []))
    )


def _block_of(bucket: LiveBucket) -> PublicAccessBlock:
    """The bucket's public access block as S3 applies it to requests: a setting not there is off, and
    BlockPublicPolicy, which refuses only the next PutBucketPolicy, never the policy the bucket holds."""
    held = bucket.public_access_block or {}
    return PublicAccessBlock(
        block_public_acls=bool(held.get("BlockPublicAcls")),
        ignore_public_acls=bool(held.get("IgnorePublicAcls")),
        block_public_policy=False,
        restrict_public_buckets=bool(held.get("RestrictPublicBuckets")),
    )


def _public_pub_read(bucket: LiveBucket) -> bool:
    """Whether anyone may read an object under pub/, as S3 decides it (tenant_storage/access.py): the public access
    block and every Deny statement count, not only an Allow that mentions pub/."""
    probe = f"arn:aws:s3:::{bucket.name}/{PUBLIC_PREFIX}any-object"
    return allowed(ANONYMOUS, "s3:GetObject", probe, bucket.policy, _block_of(bucket))


def _refuses_plain_http(bucket: LiveBucket) -> bool:
    """Whether the bucket policy refuses every request made without TLS (S3.5), as S3 evaluates it."""
    resource = f"arn:aws:s3:::{bucket.name}/any-object"
    return bucket.policy is not None and (
        bucket_policy_decision(bucket.policy, _block_of(bucket), "s3:GetObject", resource, secure_transport=False)
        is Decision.DENY
    )


def _user_actions(bucket: LiveBucket, user: LiveUser | None) -> set[str]:
    actions: set[str] = set()
    for statement in _statements(bucket.policy):
        if user and user.name in _principal_users(statement) and statement.get("Effect") == "Allow":
            actions |= {str(action) for action in _as_list(statement.get("Action"))}
    for document in user.documents() if user else []:
        for statement in _statements(document):
            if statement.get("Effect") == "Allow" and _names_bucket({"Statement": [statement]}, bucket.name):
                actions |= {str(action) for action in _as_list(statement.get("Action"))}
    return actions


def infer_profile(bucket: LiveBucket, user: LiveUser | None) -> Profile:
    """Anonymous reads of pub/: media-gallery; a user that may only put objects: upload-only; else app-storage."""
    if _public_pub_read(bucket):
        return Profile.MEDIA_GALLERY
    if _user_actions(bucket, user) == {"s3:PutObject"}:
        return Profile.UPLOAD_ONLY
    return Profile.APP_STORAGE


def first_deploy_changes(bucket: LiveBucket, user: LiveUser | None, profile: Profile) -> list[str]:
    changes = []
    legacy = [s for s in _statements(bucket.policy) if _principal_users(s)]
    if legacy:
        changes.append(f"removes {counted(len(legacy), 'bucket-policy statement')} naming a user as principal")
    if user:
        changes += [f"removes the inline policy {name!r} from {user.name}" for name in user.inline]
        for arn, document in user.attached.items():
            wildcard = any("*" in _as_list(s.get("Action")) for s in _statements(document))
            changes.append(f"detaches {arn} from {user.name}" + (' ("Action": "*")' if wildcard else ""))
        changes.append(f"puts {user.name} in its profile's group and tags it TenantBucket={bucket.name}")
        legacy_keys = [str(key["AccessKeyId"]) for key in user.keys]
        if not legacy_keys:
            changes.append("creates an access key (the user has none)")
        elif len(legacy_keys) == 1:
            changes.append(
                f"creates a new access key; the legacy key {legacy_keys[0]} stays until you delete it (audit flags it)"
            )
        else:
            changes.append(
                f"creates a new access key; the legacy keys {', '.join(legacy_keys)} stay until you delete them "
                "(audit flags them)"
            )
    if bucket.versioning != "Enabled":
        changes.append("turns on versioning")
    wanted = "AES256" if profile.serves_public_folder else "aws:kms"
    if bucket.encryption != wanted:
        changes.append(f"sets default encryption to {'SSE-S3' if wanted == 'AES256' else 'SSE-KMS with the stack key'}")
    if not bucket.logging:
        changes.append("turns on server access logging")
    if not _refuses_plain_http(bucket):
        changes.append("adds the TLS-only and TLS 1.2 denies to the bucket policy")
    block = bucket.public_access_block or {}
    if not (block.get("BlockPublicAcls") and block.get("IgnorePublicAcls")):
        changes.append("blocks public ACLs (public access block)")
    # PutBucketLifecycleConfiguration and PutBucketPolicy replace the whole configuration (S3 API reference):
    # nothing of what the bucket has is merged in.
    if bucket.lifecycle:
        dropped = "; ".join(_rule_summary(rule) for rule in bucket.lifecycle)
        changes.append(f"replaces the whole lifecycle configuration with the declared rules, dropping {dropped}")
    if statements := _statements(bucket.policy):
        changes.append(
            f"replaces the whole bucket policy ({counted(len(statements), 'statement')}) with the declared one"
        )
    return changes


def _rule_summary(rule: dict[str, Any]) -> str:
    """A live lifecycle rule in a few words: its id and what it does, for the settings a first deploy drops."""
    does = []
    if days := (rule.get("Expiration") or {}).get("Days"):
        does.append(f"expires objects after {days} days")
    does += [
        f"moves objects to {t.get('StorageClass')} after {t.get('Days')} days" for t in rule.get("Transitions", [])
    ]
    if days := (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"):
        does.append(f"expires replaced versions after {days} days")
    if days := (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"):
        does.append(f"aborts incomplete uploads after {days} days")
    status = "" if rule.get("Status", "Enabled") == "Enabled" else ", disabled"
    return f"rule {rule.get('ID') or '(no id)'} ({', '.join(does) or 'no action'}{status})"


def read_tags(s3: Any, name: str) -> dict[str, str]:
    """A bucket's tags ({} when it has none): read first, to tell a tenant's bucket before reading the rest."""
    tagging = absent_setting(lambda: s3.get_bucket_tagging(Bucket=name), {})
    return {tag["Key"]: tag["Value"] for tag in tagging.get("TagSet", [])}


def read_bucket(s3: Any, name: str) -> LiveBucket:
    from botocore.exceptions import ClientError

    def optional(call: Any, missing: set[str]) -> Any:
        try:
            return call()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in missing:
                return None
            raise

    tagging = optional(lambda: s3.get_bucket_tagging(Bucket=name), {"NoSuchTagSet"})
    policy = optional(lambda: s3.get_bucket_policy(Bucket=name), {"NoSuchBucketPolicy"})
    encryption = optional(
        lambda: s3.get_bucket_encryption(Bucket=name), {"ServerSideEncryptionConfigurationNotFoundError"}
    )
    block = optional(lambda: s3.get_public_access_block(Bucket=name), {"NoSuchPublicAccessBlockConfiguration"})
    rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    return LiveBucket(
        name=name,
        tags={tag["Key"]: tag["Value"] for tag in (tagging or {}).get("TagSet", [])},
        policy=json.loads(policy["Policy"]) if policy else None,
        versioning=str(s3.get_bucket_versioning(Bucket=name).get("Status", "Off")),
        encryption=rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] if rules else None,
        logging="LoggingEnabled" in s3.get_bucket_logging(Bucket=name),
        public_access_block=(block or {}).get("PublicAccessBlockConfiguration"),
        lifecycle=absent_setting(lambda: s3.get_bucket_lifecycle_configuration(Bucket=name), {}).get("Rules", []),
    )


def read_user(iam: Any, name: str) -> LiveUser:
    inline = {
        policy: _document(iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"])
        for policy in iam.list_user_policies(UserName=name)["PolicyNames"]
    }
    attached = {}
    for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
        attached[policy["PolicyArn"]] = _document(document)
    return LiveUser(
        name=name,
        tags={tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName=name).get("Tags", [])},
        inline=inline,
        attached=attached,
        keys=iam.list_access_keys(UserName=name)["AccessKeyMetadata"],
    )


def _document(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        from urllib.parse import unquote

        result: dict[str, Any] = json.loads(unquote(document))
        return result
    return dict(document)


def declared_names(project_dir: Path, context: StackContext) -> tuple[set[str], list[re.Pattern[str]], set[str]]:
    """Bucket names (and patterns, for random suffixes) and user names the registry declares."""
    rules = context.settings.naming
    registry = load_registry(project_dir / "tenants.yaml")
    fixed, patterns, users = set(), [], set()
    for tenant in registry.tenants:
        users.add(naming.iam_user_name(rules.iam_user_prefix, tenant.org_id))
        if tenant.random_suffix:
            patterns.append(naming.suffixed_bucket_pattern(rules.bucket_prefix, tenant.org_id))
        else:
            fixed.add(rules.bucket_name_of(tenant))
    return fixed, patterns, users


# Answers that would come for every bucket and user alike: the run stops (exit 2) instead of listing each.
STOPPING_CODES = CREDENTIAL_CODES | THROTTLING_CODES


def discover(
    aws: Aws, project_dir: Path, context: StackContext, unchecked: list[str] | None = None
) -> tuple[list[Discovered], list[Unpaired]]:
    from botocore.exceptions import ClientError

    s3, iam = aws.client("s3"), aws.client("iam")
    rules = context.settings.naming
    fixed, patterns, declared_users = declared_names(project_dir, context)
    bucket_prefix = f"{rules.bucket_prefix}-"

    def declared(bucket: str) -> bool:
        return bucket in fixed or any(pattern.fullmatch(bucket) for pattern in patterns)

    names = [b["Name"] for page in s3.get_paginator("list_buckets").paginate() for b in page["Buckets"]]
    buckets, unpaired = {}, []
    unchecked = [] if unchecked is None else unchecked
    for name in names:
        if declared(name) or naming.is_shared_resource_name(name):
            continue
        # By name, then by its tags, before anything else is read: a bucket that is no tenant's (a CloudTrail or
        # Config log bucket, another team's) is read no further, and one that refuses is that bucket's finding.
        ours = name.startswith(bucket_prefix)
        try:
            if not ours and "OrgId" not in read_tags(s3, name):
                continue
            buckets[name] = read_bucket(s3, name)
        except ClientError as error:
            if error_code(error) in STOPPING_CODES:
                raise  # every other read would fail alike: the run cannot go on (exit 2)
            if not ours and error_code(error) in REFUSED:
                # Another team's bucket that keeps its tags from this caller: not a tenant's as far as anyone can
                # tell, said once, and no finding.
                unchecked.append(f"bucket {name}: {_unreadable('s3', error).removeprefix('unreadable: ')}")
                continue
            unpaired.append(Unpaired("bucket", name, _unreadable("s3", error)))
    user_names = [u["UserName"] for page in iam.get_paginator("list_users").paginate() for u in page["Users"]]
    users = {}
    for name in user_names:
        if name.startswith(rules.iam_user_prefix) and name not in declared_users:
            try:
                users[name] = read_user(iam, name)
            except ClientError as error:
                if error_code(error) in STOPPING_CODES:
                    raise
                unpaired.append(Unpaired("user", name, _unreadable("iam", error)))

    found, paired_users = [], set()
    for bucket in buckets.values():
        user = _pair(bucket, users, rules.iam_user_prefix)
        if user is None:
            unpaired.append(Unpaired("bucket", bucket.name, "no user: no OrgId tag, principal or policy names one"))
            continue
        paired_users.add(user.name)
        org_id = bucket.tags.get("OrgId") or user.name.removeprefix(rules.iam_user_prefix)
        profile = infer_profile(bucket, user)
        tagged = bucket.tags.get("Environment")
        hosted = [environment.value for environment in context.settings.environments]
        environment = tagged if tagged in hosted else hosted[0]
        entry: dict[str, Any] = {"orgId": org_id, "environment": environment}
        if profile is not Profile.MEDIA_GALLERY:
            entry["profile"] = profile.value
        entry["adopt"] = True
        by_namespace = {
            namespace: naming.tenant_bucket_name(rules.bucket_prefix, org_id, namespace, rules.account_id, rules.region)
            for namespace in naming.BUCKET_NAMESPACES
        }
        if bucket.name == by_namespace[rules.bucket_namespace]:
            pass  # the stack's own rule names it
        elif bucket.name in by_namespace.values():  # the other namespace's name for this orgId
            entry["bucketNamespace"] = next(ns for ns, name in by_namespace.items() if name == bucket.name)
        else:
            entry["bucketName"] = bucket.name
        found.append(
            Discovered(entry, bucket.name, user.name, tagged not in hosted, first_deploy_changes(bucket, user, profile))
        )
    unreadable = {u.name for u in unpaired if u.kind == "bucket" and u.reason.startswith("unreadable")}

    def no_bucket(user: str) -> str:
        """Why a user has no bucket; its own bucket (by the checklist's name) may be one that refused a read."""
        own = f"{rules.bucket_prefix}-{user.removeprefix(rules.iam_user_prefix)}"
        if candidates := sorted(name for name in unreadable if name == own or name.startswith(f"{own}-")):
            return f"its bucket {candidates[0]} could not be read (listed above), so the two could not be paired"
        return "no bucket: no bucket is tagged with its orgId or named in its policies"

    unpaired += [Unpaired("user", name, no_bucket(name)) for name in users if name not in paired_users]
    return sorted(found, key=lambda d: d.bucket), unpaired


def _unreadable(service: str, error: Exception) -> str:
    """A refusal (or another answer of AWS) on one bucket or user: that one's finding, naming the action."""
    code = error_code(error)
    operation = str(getattr(error, "operation_name", ""))
    action = OPERATION_ACTIONS.get((service, operation), f"{service}:{operation}")
    return f"unreadable: {Unreadable(action, code).reason}"


def _pair(bucket: LiveBucket, users: dict[str, LiveUser], user_prefix: str) -> LiveUser | None:
    if (org_id := bucket.tags.get("OrgId")) and (user := users.get(naming.iam_user_name(user_prefix, org_id))):
        return user
    principals = {name for statement in _statements(bucket.policy) for name in _principal_users(statement)}
    for name in sorted(principals):
        if name in users:
            return users[name]
    return next(
        (user for user in users.values() if any(_names_bucket(doc, bucket.name) for doc in user.documents())), None
    )


def render_yaml(found: list[Discovered], unpaired: list[Unpaired], stack: str, account: str) -> str:
    out = [f"# tenant-storage discover: stack {stack}, account {account}: {counted(len(found), 'tenant')} to adopt"]
    out.append("# Paste the entries into tenants.yaml, review `tenant-storage plan`, then deploy.")
    out.append("tenants:" if found else "tenants: []")
    for item in found:
        lines = yaml.safe_dump([item.entry], sort_keys=False).rstrip().splitlines()
        if item.environment_inferred:
            lines = [
                f"{line}   # verify: no Environment tag" if line.strip().startswith("environment:") else line
                for line in lines
            ]
        out += [f"  {line}" for line in lines]
        out += [f"    # first deploy: {change}" for change in item.changes]
    out += [f"# cannot pair {u.kind} {u.name}: {u.reason}" for u in unpaired]
    return "\n".join(out) + "\n"


def run_discover(
    project_dir: Path, stack: str, output_format: str, endpoint_url: str | None, session: Any = None
) -> int:
    aws = Aws(session, endpoint_url)

    def body() -> int:
        context = load_stack(project_dir, stack)
        account = verify_account(aws, context, "discover")
        unchecked: list[str] = []
        found, unpaired = discover(aws, project_dir, context, unchecked)
        if output_format == "json":
            document = {
                "project": str(project_dir),
                "stack": stack,
                "account": account,
                "tenants": [asdict(item) for item in found],
                "unpaired": [asdict(item) for item in unpaired],
                "unchecked": unchecked,
            }
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            sys.stdout.write(render_yaml(found, unpaired, stack, account))
            sys.stdout.write("".join(f"# not checked: {line}\n" for line in unchecked))
        return 1 if found or unpaired else 0

    return run_command("discover", body)
