"""Policy rules over the resources of one stack, as plain Python.

The same rules run three ways: in `pulumi preview --policy-pack policy` (CrossGuard, via
`policy/crossguard.py`), in the offline plan (over the resources registered under the mock monitor),
and in unit tests. Each rule looks at every resource of the stack at once, because most of them
relate a bucket to its sibling settings. Security rules are mandatory, conventions advisory.

Values unknown during a preview (such as a bucket name with a random suffix before the suffix exists)
arrive as None or non-strings; a rule then skips what it cannot decide rather than guessing.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

BUCKET = "aws:s3/bucket:Bucket"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
USER_POLICIES_EXCLUSIVE = "aws:iam/userPoliciesExclusive:UserPoliciesExclusive"
USER_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
USER_GROUP_MEMBERSHIP = "aws:iam/userGroupMembership:UserGroupMembership"
TENANT_KMS_ACTIONS = frozenset({"kms:Decrypt", "kms:GenerateDataKey"})
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
KMS_KEY = "aws:kms/key:Key"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a resource type token
PARAMETER = "aws:ssm/parameter:Parameter"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
# CloudFront's service principal, as origin access control signs (tenant_storage/public_access.py, which the pack's
# own environment cannot import).
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"
# The only principals a bucket policy may allow, besides anyone's reads of pub/ (public-read-of-pub-only): S3's log
# delivery (the access-log bucket) and CloudFront (a gallery's pub/). Any other is refused, never passed unjudged.
LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"
ALLOWED_SERVICES = frozenset({LOG_DELIVERY_SERVICE, CLOUDFRONT_SERVICE})
TAGGED_TYPES = (BUCKET, USER, OBJECT, SECRET, PARAMETER)
PRODUCTION_CLASS = ("production", "staging")
ACCESS_LOGS_PURPOSE = "access-logs"
PRIVATE_ENCRYPTION_TAG = "PrivateEncryption"

Enforcement = Literal["mandatory", "advisory"]
DEFAULT_MAX_KEY_AGE_DAYS = 90
_DATED_KEY = re.compile(r".+-access-key-(?P<year>[0-9]{4})-(?P<month>[0-9]{2})(-(?P<day>[0-9]{2}))?")
_TAGGED_BUCKET_ARN = re.compile(r"arn:aws(-[a-z]+)*:s3:::\$\{aws:PrincipalTag/TenantBucket\}(/\*)?")
_KMS_KEY_ARN = re.compile(r"arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+")


@dataclass(frozen=True)
class RuleOptions:
    """What some rules need beyond the resources: the day it is, and the stack's key-age limit."""

    today: datetime.date = field(default_factory=datetime.date.today)
    max_key_age_days: int = DEFAULT_MAX_KEY_AGE_DAYS


@dataclass(frozen=True)
class ResourceView:
    """What every rule may read of a resource, whichever engine supplied it."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    additional_secret_outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    message: str


class StackResources:
    """A stack's resources, indexed once so that every rule stays linear in the size of the stack."""

    def __init__(self, resources: Sequence[ResourceView], options: RuleOptions | None = None) -> None:
        self.options = options or RuleOptions()
        self.all = list(resources)
        self._by_type: dict[str, list[ResourceView]] = {}
        self._by_type_and_bucket: dict[tuple[str, str], list[ResourceView]] = {}
        self._by_type_and_parent: dict[tuple[str, str], list[ResourceView]] = {}
        for resource in self.all:
            self._by_type.setdefault(resource.type, []).append(resource)
            if bucket := _known(resource.props.get("bucket")):
                self._by_type_and_bucket.setdefault((resource.type, bucket), []).append(resource)
            if resource.parent:
                self._by_type_and_parent.setdefault((resource.type, resource.parent), []).append(resource)

    def of_type(self, resource_type: str) -> list[ResourceView]:
        return self._by_type.get(resource_type, [])

    def siblings(self, resource: ResourceView, resource_type: str) -> list[ResourceView]:
        return self._by_type_and_parent.get((resource_type, resource.parent), []) if resource.parent else []

    def settings_of(self, bucket: ResourceView, resource_type: str) -> list[ResourceView]:
        """The settings resources of `bucket`: those naming it, or, while its name is unknown, its siblings."""
        name = _known(bucket.props.get("bucket"))
        if name:
            return self._by_type_and_bucket.get((resource_type, name), [])
        return self.siblings(bucket, resource_type)


Judge = Callable[[ResourceView, RuleOptions], list[str]]
StackCheck = Callable[[StackResources], list[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    """A rule judges either one resource at a time (`judge`) or the whole stack at once (`check`).

    The scope decides when the engine can apply it: a resource rule runs before that resource's step (a
    CrossGuard resource-validation policy), so `pulumi up` refuses the change before it is made; a stack
    rule, which relates resources to each other, runs only once every step is done. A rule is therefore
    written per resource whenever the resource alone can decide it.
    """

    name: str
    description: str
    enforcement: Enforcement
    check: StackCheck | None = field(default=None, repr=False)
    judge: Judge | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.check is None) == (self.judge is None):
            raise ValueError(f"rule {self.name} needs exactly one of check (stack) and judge (resource)")

    @property
    def scope(self) -> Literal["resource", "stack"]:
        return "resource" if self.judge is not None else "stack"

    def violations(
        self, resources: Sequence[ResourceView] | StackResources, options: RuleOptions | None = None
    ) -> list[Violation]:
        stack = resources if isinstance(resources, StackResources) else StackResources(resources, options)
        if self.judge is not None:
            return [
                Violation(self.name, resource.urn, message)
                for resource in stack.all
                for message in self.judge(resource, stack.options)
            ]
        assert self.check is not None
        return [Violation(self.name, urn, message) for urn, message in self.check(stack)]


def _known(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _policy_document(resource: ResourceView) -> dict[str, Any] | None:
    text = resource.props.get("policy")
    if isinstance(text, Mapping):
        return dict(text)
    known = _known(text)
    if known is None:
        return None
    document = json.loads(known)
    return document if isinstance(document, dict) else None


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _tags(resource: ResourceView) -> Mapping[str, Any]:
    tags = resource.props.get("tags")
    return tags if isinstance(tags, Mapping) else {}


def judge_bucket_name(bucket: ResourceView, _options: RuleOptions) -> list[str]:
    if bucket.type != BUCKET:
        return []
    name, org_id = _known(bucket.props.get("bucket")), _known(_tags(bucket).get("OrgId"))
    if name is None or org_id is None:
        return []
    regional = r"-[0-9]{12}-[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}-an"  # S3's account regional namespace
    if re.fullmatch(rf"[a-z0-9]+(-[a-z0-9]+)*-{re.escape(org_id)}(-[0-9a-f]{{8}}|{regional})?", name):
        return []
    return [f"bucket {name!r} is not named <prefix>-{org_id}[-<8 hex digits> | -<account>-<region>-an]"]


def check_bucket_guard_rails(stack: StackResources) -> list[tuple[str, str]]:
    problems = []
    for bucket in (r for r in stack.of_type(BUCKET)):
        label = _known(bucket.props.get("bucket")) or bucket.name
        ownership = stack.settings_of(bucket, OWNERSHIP)
        if not any((o.props.get("rule") or {}).get("objectOwnership") == "BucketOwnerEnforced" for o in ownership):
            problems.append((bucket.urn, f"bucket {label} has no BucketOwnerEnforced ownership controls (ACLs on)"))
        blocks = stack.settings_of(bucket, PUBLIC_ACCESS_BLOCK)
        if not any(b.props.get("blockPublicAcls") and b.props.get("ignorePublicAcls") for b in blocks):
            problems.append((bucket.urn, f"bucket {label} has no public access block that blocks ACLs"))
        encryption = stack.settings_of(bucket, ENCRYPTION)
        if not any(
            (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            for e in encryption
            for rule in e.props.get("rules") or []
        ):
            problems.append((bucket.urn, f"bucket {label} has no default server-side encryption"))
        versioning = stack.settings_of(bucket, VERSIONING)
        if not any((v.props.get("versioningConfiguration") or {}).get("status") == "Enabled" for v in versioning):
            problems.append((bucket.urn, f"bucket {label} does not have versioning enabled"))
        policies = [_policy_document(p) for p in stack.settings_of(bucket, BUCKET_POLICY)]
        if not any(document is None or _denies_insecure_transport(document) for document in policies):
            problems.append((bucket.urn, f"bucket {label} has no bucket policy denying requests without TLS"))
    return problems


def _denies_insecure_transport(document: Mapping[str, Any]) -> bool:
    return any(
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and "s3:*" in _as_list(statement.get("Action"))
        and str((statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"
        for statement in _statements(document)
    )


def judge_public_statements(policy: ResourceView, _options: RuleOptions) -> list[str]:
    if policy.type != BUCKET_POLICY:
        return []
    problems = []
    for statement in _statements(_policy_document(policy) or {}):
        if statement.get("Effect") != "Allow" or statement.get("Principal") not in ("*", {"AWS": "*"}):
            continue
        actions, targets = _as_list(statement.get("Action")), _as_list(statement.get("Resource"))
        if actions != ["s3:GetObject"] or not all(str(t).endswith("/pub/*") for t in targets):
            problems.append(f"public statement may only allow s3:GetObject on pub/*: {json.dumps(statement)}")
    return problems


def judge_grant(policy: ResourceView, _options: RuleOptions) -> list[str]:
    """Tenant grants: the profile groups' policies (and any user policy, which no-user-attached-policies refuses).

    A group serves many tenants, so a grant names a bucket only through the caller's TenantBucket tag."""
    if policy.type not in (USER_POLICY, GROUP_POLICY):
        return []
    document = _policy_document(policy)
    if document is None:
        return []
    problems = []
    for statement in _statements(document):
        if "NotAction" in statement or "NotResource" in statement:
            problems.append("policy uses NotAction or NotResource: grant by listing, never by exclusion")
            continue
        actions = [str(action) for action in _as_list(statement.get("Action"))]
        problems += [
            f"policy grants {action!r}: no wildcards and no IAM actions"
            for action in actions
            if "*" in action or action.lower().startswith("iam:")
        ]
        if any(action.lower().startswith("kms:") for action in actions):
            problems += _kms_statement_problems(statement)
            continue
        problems += [
            f"policy names {target!r}: a grant names a tenant's bucket only through its TenantBucket tag"
            for target in _as_list(statement.get("Resource"))
            if not _TAGGED_BUCKET_ARN.fullmatch(str(target))
        ]
    return problems


def _kms_statement_problems(statement: Mapping[str, Any]) -> list[str]:
    problems = [
        f"policy lets a tenant use {target!r}: only the stack's KMS key"
        for target in _as_list(statement.get("Resource"))
        if not _KMS_KEY_ARN.fullmatch(str(target))
    ]
    problems += [
        f"policy grants {action!r}: a tenant needs only kms:Decrypt and kms:GenerateDataKey"
        for action in _as_list(statement.get("Action"))
        if str(action).lower().startswith("kms:") and action not in TENANT_KMS_ACTIONS
    ]
    via = (statement.get("Condition") or {}).get("StringEquals", {}).get("kms:ViaService")
    services = [str(value) for value in _as_list(via)] if via is not None else []
    if not services or not all(service.startswith("s3.") for service in services):
        problems.append("policy lets a tenant use the KMS key directly: only through S3 (kms:ViaService)")
    return problems


def judge_user_attachments(resource: ResourceView, _options: RuleOptions) -> list[str]:
    """Security Hub IAM.2 / CIS 1.15: permissions reach users only through the profile groups."""
    kind = resource.type.rsplit(":", 1)[-1]
    if resource.type in (USER_POLICY, USER_POLICY_ATTACHMENT):
        return [f"{kind} {resource.name} attaches a policy to a user: grant through a group"]
    if resource.type == POLICY_ATTACHMENT and (resource.props.get("users") or resource.props.get("groups")):
        return [
            f"PolicyAttachment {resource.name} attaches a policy to users or groups: only the profile policies grant"
        ]
    # A managed policy on a tenant group, or a user put in another group, would reach around the profiles.
    if resource.type in (GROUP_POLICY_ATTACHMENT, USER_GROUP_MEMBERSHIP):
        return [f"{kind} {resource.name} grants outside the profile groups' own policies"]
    for resource_type, listed in EXCLUSIVE_LISTS.items():
        if resource.type == resource_type and resource.props.get(listed):
            return [f"{resource.name} keeps {resource.props.get(listed)!r} on the user: it must keep nothing"]
    return []


EXCLUSIVE_LISTS = {USER_POLICIES_EXCLUSIVE: "policyNames", USER_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns"}


def check_user_grants_exclusive(stack: StackResources) -> list[tuple[str, str]]:
    """Nothing added by hand lingers on a tenant user, and its tag names its own bucket."""
    problems = []
    for user in stack.of_type(USER):
        tagged = _tags(user).get("TenantBucket")
        buckets = {_known(bucket.props.get("bucket")) for bucket in stack.siblings(user, BUCKET)}
        if _known(tagged) and None not in buckets and tagged not in buckets:
            problems.append((user.urn, f"user {user.name} is tagged for bucket {tagged!r}, which is not its own"))
        for resource_type in EXCLUSIVE_LISTS:
            if not stack.siblings(user, resource_type):
                kind = resource_type.rsplit(":", 1)[-1]
                problems.append((user.urn, f"user {user.name} has no {kind}: a grant added by hand would linger"))
    return problems


def check_access_logging(stack: StackResources) -> list[tuple[str, str]]:
    """Security Hub S3.9: every tenant bucket logs its requests (the log bucket itself is the target)."""
    return [
        (bucket.urn, f"bucket {_known(bucket.props.get('bucket')) or bucket.name} has no server access logging")
        for bucket in stack.of_type(BUCKET)
        if not _is_access_log_bucket(bucket)
        and not any(
            logging.props.get("targetBucket") is not None for logging in stack.settings_of(bucket, BUCKET_LOGGING)
        )
    ]


def check_private_buckets_use_kms(stack: StackResources) -> list[tuple[str, str]]:
    """Security Hub S3.17: a bucket whose objects nobody serves publicly (anyone, or a CloudFront distribution) is
    encrypted with the stack's KMS key."""
    problems = []
    for bucket in stack.of_type(BUCKET):
        if (
            _is_access_log_bucket(bucket)
            or _tags(bucket).get(PRIVATE_ENCRYPTION_TAG) == "sse-s3"
            or _is_public(stack, bucket)
        ):
            continue
        rules = [rule for e in stack.settings_of(bucket, ENCRYPTION) for rule in e.props.get("rules") or []]
        if not any(
            (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") == "aws:kms"
            and rule.get("bucketKeyEnabled")
            for rule in rules
        ):
            label = _known(bucket.props.get("bucket")) or bucket.name
            problems.append((bucket.urn, f"private bucket {label} is not encrypted with SSE-KMS and a bucket key"))
    return problems


def judge_sse_s3_opt_out(bucket: ResourceView, _options: RuleOptions) -> list[str]:
    if bucket.type == BUCKET and _tags(bucket).get(PRIVATE_ENCRYPTION_TAG) == "sse-s3":
        return [f"private bucket {bucket.name} uses SSE-S3 by the stack's choice (privateBucketEncryption)"]
    return []


def _is_public(stack: StackResources, bucket: ResourceView) -> bool:
    """A bucket whose public access block lets a public policy through, or whose policy lets CloudFront read it:
    media-gallery's pub/, served straight from S3 or through the stack's distribution."""
    blocks = stack.settings_of(bucket, PUBLIC_ACCESS_BLOCK)
    policies = [_policy_document(policy) for policy in stack.settings_of(bucket, BUCKET_POLICY)]
    if any(block.props.get("blockPublicPolicy") is False for block in blocks):
        return True
    if any(document is not None and _cloudfront_statements(document) for document in policies):
        return True
    # In a preview, a policy naming the distribution is unknown until the deploy: a bucket with the gallery's pub/
    # folder may be served through it, so the rules that depend on it wait for the known policy.
    return None in policies and _has_pub_folder(stack, bucket)


def _has_pub_folder(stack: StackResources, bucket: ResourceView) -> bool:
    return any(_known(marker.props.get("key")) == "pub/" for marker in stack.settings_of(bucket, OBJECT))


def _cloudfront_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        statement
        for statement in _statements(document)
        if statement.get("Effect") == "Allow"
        and isinstance(statement.get("Principal"), Mapping)
        and CLOUDFRONT_SERVICE in _as_list(statement["Principal"].get("Service"))
    ]


_DISTRIBUTION_ARN = re.compile(r"arn:aws:cloudfront::[0-9]{12}:distribution/[A-Z0-9]+")


def judge_allowed_principals(policy: ResourceView, _options: RuleOptions) -> list[str]:
    """A bucket policy allows anyone (judged by public-read-of-pub-only) or one of the known services, nobody else:
    a grant to another service, an account or a role would be access no rule and no review models."""
    if policy.type != BUCKET_POLICY:
        return []
    problems = []
    for statement in _statements(_policy_document(policy) or {}):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or ("NotPrincipal" not in statement and principal in ("*", {"AWS": "*"})):
            continue
        known = (
            isinstance(principal, Mapping)
            and set(principal) == {"Service"}
            and set(_as_list(principal["Service"])) <= ALLOWED_SERVICES
        )
        if "NotPrincipal" in statement or not known:
            problems.append(
                f"bucket policy allows a principal other than anyone's pub/ reads, S3's log delivery or CloudFront: "
                f"{json.dumps(statement)}"
            )
    return problems


def judge_cloudfront_statements(policy: ResourceView, _options: RuleOptions) -> list[str]:
    """CloudFront may read pub/* only (s3:GetObject), and only for one distribution (aws:SourceArn): without that
    condition, any distribution of any account, with origin access control, could read the bucket."""
    if policy.type != BUCKET_POLICY:
        return []
    problems = []
    for statement in _cloudfront_statements(_policy_document(policy) or {}):
        actions, targets = _as_list(statement.get("Action")), _as_list(statement.get("Resource"))
        condition = statement.get("Condition") or {}
        source = condition.get("StringEquals", {}).get("aws:SourceArn") if set(condition) == {"StringEquals"} else None
        if actions != ["s3:GetObject"] or not targets or not all(str(t).endswith("/pub/*") for t in targets):
            problems.append(f"CloudFront may only s3:GetObject on pub/*: {json.dumps(statement)}")
        if not isinstance(source, str) or not (_DISTRIBUTION_ARN.fullmatch(source) or _known(source) is None):
            problems.append(
                f"CloudFront's read must be for exactly one distribution (aws:SourceArn): {json.dumps(statement)}"
            )
    return problems


def check_public_only_through_the_stacks_distribution(stack: StackResources) -> list[tuple[str, str]]:
    """Public reading (anyone, or CloudFront) only of a bucket that has the media gallery's pub/ folder, and CloudFront
    only for a distribution the stack declares: never a private profile's bucket, never another team's distribution."""
    declared = {arn for d in stack.of_type(DISTRIBUTION) if (arn := _known(d.props.get("arn")))}
    problems = []
    for bucket in stack.of_type(BUCKET):
        label = _known(bucket.props.get("bucket")) or bucket.name
        documents = [_policy_document(policy) or {} for policy in stack.settings_of(bucket, BUCKET_POLICY)]
        cloudfront = [statement for document in documents for statement in _cloudfront_statements(document)]
        if not _is_public(stack, bucket):
            continue
        if not _has_pub_folder(stack, bucket):
            problems.append(
                (bucket.urn, f"bucket {label} is served publicly but has no pub/ folder: a private profile's")
            )
        for statement in cloudfront:
            source = (statement.get("Condition") or {}).get("StringEquals", {}).get("aws:SourceArn")
            if declared and _known(source) and source not in declared:
                problems.append(
                    (
                        bucket.urn,
                        f"bucket {label} lets CloudFront read it for {source}, a distribution the stack does not "
                        "declare",
                    )
                )
    return problems


def check_tls_minimum(stack: StackResources) -> list[tuple[str, str]]:
    problems = []
    for bucket in stack.of_type(BUCKET):
        documents = [_policy_document(p) for p in stack.settings_of(bucket, BUCKET_POLICY)]
        if not any(document is None or _denies_old_tls(document) for document in documents):
            label = _known(bucket.props.get("bucket")) or bucket.name
            problems.append((bucket.urn, f"bucket {label} has no bucket policy denying TLS older than 1.2"))
    return problems


def judge_bucket_policy_transport(policy: ResourceView, _options: RuleOptions) -> list[str]:
    """The TLS statements of one bucket policy, judged before its step (the stack rules above also need
    every bucket to have such a policy, which only the whole stack can tell)."""
    document = _policy_document(policy) if policy.type == BUCKET_POLICY else None
    if document is None:
        return []
    problems = []
    if not _denies_insecure_transport(document):
        problems.append("the bucket policy does not deny requests without TLS (aws:SecureTransport false)")
    if not _denies_old_tls(document):
        problems.append("the bucket policy does not deny TLS older than 1.2 (s3:TlsVersion)")
    return problems


def _denies_old_tls(document: Mapping[str, Any]) -> bool:
    return any(
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and "s3:*" in _as_list(statement.get("Action"))
        and str((statement.get("Condition") or {}).get("NumericLessThan", {}).get("s3:TlsVersion")) == "1.2"
        for statement in _statements(document)
    )


def check_key_hygiene(stack: StackResources) -> list[tuple[str, str]]:
    """IAM.3 (keys older than 90 days) and CIS 1.13 (one active key per user): rotate, then finish."""
    problems = []
    tenants: dict[str, list[ResourceView]] = {}
    for key in stack.of_type(ACCESS_KEY):
        tenants.setdefault(key.parent or key.urn, []).append(key)
        match = _DATED_KEY.fullmatch(key.name)
        if match is None:
            continue
        try:
            issued = datetime.date(int(match["year"]), int(match["month"]), int(match["day"] or 1))
        except ValueError:
            continue
        age = (stack.options.today - issued).days
        if age > stack.options.max_key_age_days:
            problems.append(
                (key.urn, f"access key {key.name} is {age} days old (over {stack.options.max_key_age_days}): rotate it")
            )
    problems += [
        (
            max(keys, key=lambda key: key.name).urn,
            f"{len(keys)} access keys on one user: finish the rotation by removing the old label",
        )
        for keys in tenants.values()
        if len(keys) > 1
    ]
    return problems


def judge_access_key_secret(key: ResourceView, _options: RuleOptions) -> list[str]:
    if key.type != ACCESS_KEY:
        return []
    problems = []
    if "secret" not in key.additional_secret_outputs:
        problems.append("the access key's secret is not marked secret (additionalSecretOutputs lacks 'secret')")
    if key.props.get("pgpKey"):
        problems.append("the access key uses pgpKey: its secret would leave Pulumi encrypted for one person instead")
    return problems


def judge_credential_parameter(parameter: ResourceView, _options: RuleOptions) -> list[str]:
    if (
        parameter.type == PARAMETER
        and str(parameter.props.get("name") or "").startswith("/tenant-storage/")
        and parameter.props.get("type") != "SecureString"
    ):
        return [f"SSM parameter {parameter.props.get('name')} holds credentials but is not a SecureString"]
    return []


def judge_org_id_tag(resource: ResourceView, _options: RuleOptions) -> list[str]:
    if (
        resource.type in TAGGED_TYPES
        and not _known(_tags(resource).get("OrgId"))
        and not _is_access_log_bucket(resource)
    ):
        return [f"{resource.type.rsplit(':', 1)[-1]} {resource.name} has no OrgId tag (billing reports group by it)"]
    return []


def _is_access_log_bucket(resource: ResourceView) -> bool:
    """The stack's shared access-log bucket: tagged so, and named so (`<prefix>--access-logs-...`, a name no
    tenant can have), so that tagging a tenant bucket alone exempts nothing."""
    name = _known(resource.props.get("bucket")) or ""
    return (
        resource.type == BUCKET and _tags(resource).get("Purpose") == ACCESS_LOGS_PURPOSE and "--access-logs-" in name
    )


def judge_production_protection(resource: ResourceView, _options: RuleOptions) -> list[str]:
    tags = _tags(resource)
    if (
        resource.type in (BUCKET, KMS_KEY)
        and (tags.get("Environment") in PRODUCTION_CLASS or tags.get("AccountClass") == "productionClass")
        and not resource.protect
    ):
        return [f"{resource.type.rsplit(':', 1)[-1]} {resource.name} of a production-class stack is not protected"]
    return []


def check_one_tenant_per_bucket(stack: StackResources) -> list[tuple[str, str]]:
    """Two tenants' resources configuring one bucket would share (or fight over) one tenant's data.

    The program refuses every registry that could do this, random suffixes included; this rule checks
    the same promise on the names the engine actually resolved, so a preview catches it too.
    """
    owners: dict[str, dict[str, str]] = {}
    for resource in stack.all:
        name = _known(resource.props.get("bucket"))
        if name is None or not resource.type.startswith("aws:s3/"):
            continue
        owner = resource.parent or resource.urn
        owners.setdefault(name, {}).setdefault(owner, resource.urn)
    problems = []
    for name, by_owner in owners.items():
        if len(by_owner) > 1:
            problems += [
                (urn, f"bucket {name} is configured by {len(by_owner)} tenants ({', '.join(sorted(by_owner))})")
                for urn in by_owner.values()
            ]
    buckets: dict[str, list[ResourceView]] = {}
    for bucket in stack.of_type(BUCKET):
        if name := _known(bucket.props.get("bucket")):
            buckets.setdefault(name, []).append(bucket)
    problems += [
        (bucket.urn, f"bucket {name} is declared {len(declared)} times")
        for name, declared in buckets.items()
        if len(declared) > 1
        for bucket in declared
    ]
    return problems


RULES = (
    Rule(
        "one-tenant-per-bucket",
        "No two tenants' resources configure the same bucket, and no bucket is declared twice.",
        "mandatory",
        check_one_tenant_per_bucket,
    ),
    Rule(
        "bucket-name-convention", "Buckets are named <prefix>-<OrgId>[-<suffix>].", "advisory", judge=judge_bucket_name
    ),
    Rule(
        "bucket-guard-rails",
        "Every bucket has BucketOwnerEnforced ownership, a public access block, SSE, versioning and a TLS-only policy.",
        "mandatory",
        check_bucket_guard_rails,
    ),
    Rule(
        "public-read-of-pub-only",
        "A public bucket-policy statement may only allow s3:GetObject on pub/*.",
        "mandatory",
        judge=judge_public_statements,
    ),
    Rule(
        "bucket-policy-principals-known",
        "A bucket policy allows only anyone's reads of pub/, S3's log delivery and CloudFront: no other principal.",
        "mandatory",
        judge=judge_allowed_principals,
    ),
    Rule(
        "cloudfront-reads-pub-for-one-distribution",
        "A bucket policy lets CloudFront only s3:GetObject on pub/*, for exactly one distribution (aws:SourceArn).",
        "mandatory",
        judge=judge_cloudfront_statements,
    ),
    Rule(
        "public-only-through-the-stacks-distribution",
        "Only a media-gallery bucket (with its pub/ folder) is served publicly, and through CloudFront only by a "
        "distribution the stack declares.",
        "mandatory",
        check_public_only_through_the_stacks_distribution,
    ),
    Rule(
        "user-policy-least-privilege",
        "Tenant grants have no wildcard or IAM actions, name only the tenant's own bucket (through its tag) "
        "and use the stack's KMS key only through S3.",
        "mandatory",
        judge=judge_grant,
    ),
    Rule(
        "no-user-attached-policies",
        "IAM.2 / CIS 1.15: no policy is attached to a tenant user or its group, and the exclusive owners of a "
        "user's inline policies and attachments keep nothing.",
        "mandatory",
        judge=judge_user_attachments,
    ),
    Rule(
        "user-grants-exclusive",
        "Each tenant user's inline policies and attachments are managed exclusively (nothing added by hand "
        "lingers), and its TenantBucket tag names its own bucket.",
        "mandatory",
        check_user_grants_exclusive,
    ),
    Rule("access-logging", "S3.9: every tenant bucket has server access logging.", "mandatory", check_access_logging),
    Rule(
        "private-buckets-sse-kms",
        "S3.17: private buckets use SSE-KMS with the stack's key and a bucket key.",
        "mandatory",
        check_private_buckets_use_kms,
    ),
    Rule(
        "private-buckets-sse-s3-by-choice",
        "A stack chose SSE-S3 for its private buckets (privateBucketEncryption: sse-s3).",
        "advisory",
        judge=judge_sse_s3_opt_out,
    ),
    Rule("tls-1-2-minimum", "S3.5: every bucket policy denies TLS older than 1.2.", "mandatory", check_tls_minimum),
    Rule(
        "bucket-policy-requires-tls",
        "S3.5: each bucket policy, before it is applied, denies requests without TLS and TLS older than 1.2.",
        "mandatory",
        judge=judge_bucket_policy_transport,
    ),
    Rule(
        "access-key-hygiene",
        "IAM.3 / CIS 1.13: a dated key label older than the limit (default 90 days), or two keys on one user.",
        "advisory",
        check_key_hygiene,
    ),
    Rule(
        "access-key-secret-is-secret",
        "Access key secrets stay Pulumi secrets.",
        "mandatory",
        judge=judge_access_key_secret,
    ),
    Rule(
        "credential-parameters-encrypted",
        "SSM parameters holding tenant credentials are SecureStrings.",
        "mandatory",
        judge=judge_credential_parameter,
    ),
    Rule(
        "org-id-tags",
        "Buckets, users, objects and credential secrets carry an OrgId tag.",
        "advisory",
        judge=judge_org_id_tag,
    ),
    Rule(
        "production-buckets-protected",
        "Production and staging buckets are protected from deletion.",
        "mandatory",
        judge=judge_production_protection,
    ),
)


def evaluate(resources: Sequence[ResourceView], options: RuleOptions | None = None) -> list[tuple[Rule, Violation]]:
    stack = StackResources(resources, options)
    return [(rule, violation) for rule in RULES for violation in rule.violations(stack)]
