"""Policy rules over the resources of one stack, as plain Python.

The same rules run three ways: in `pulumi preview --policy-pack policy` (CrossGuard, via
`policy/crossguard.py`), in the offline plan (over the resources registered under the mock monitor),
and in unit tests. Each rule looks at every resource of the stack at once, because most of them
relate a bucket to its sibling settings. Security rules are mandatory, conventions advisory.

Values unknown during a preview (such as a bucket name with a random suffix before the suffix exists)
arrive as None or non-strings; a rule then skips what it cannot decide rather than guessing.
"""

from __future__ import annotations

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
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a resource type token
PARAMETER = "aws:ssm/parameter:Parameter"
TAGGED_TYPES = (BUCKET, USER, OBJECT, SECRET, PARAMETER)
PRODUCTION_CLASS = ("production", "staging")

Enforcement = Literal["mandatory", "advisory"]
# A bucket or its objects, in any partition (arn:aws, arn:aws-cn, arn:aws-us-gov).
_BUCKET_ARN = re.compile(r"arn:aws(-[a-z]+)*:s3:::(?P<bucket>[a-z0-9.-]+)(/\*)?")


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

    def __init__(self, resources: Sequence[ResourceView]) -> None:
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


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    enforcement: Enforcement
    check: Callable[[StackResources], list[tuple[str, str]]] = field(repr=False)

    def violations(self, resources: Sequence[ResourceView] | StackResources) -> list[Violation]:
        stack = resources if isinstance(resources, StackResources) else StackResources(resources)
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


def check_bucket_names(stack: StackResources) -> list[tuple[str, str]]:
    problems = []
    for bucket in (r for r in stack.of_type(BUCKET)):
        name, org_id = _known(bucket.props.get("bucket")), _known(_tags(bucket).get("OrgId"))
        if name is None or org_id is None:
            continue
        if not re.fullmatch(rf"[a-z0-9]+(-[a-z0-9]+)*-{re.escape(org_id)}(-[0-9a-f]{{8}})?", name):
            problems.append((bucket.urn, f"bucket {name!r} is not named <prefix>-{org_id}[-<8 hex digits>]"))
    return problems


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


def check_public_statements(stack: StackResources) -> list[tuple[str, str]]:
    problems = []
    for policy in (r for r in stack.of_type(BUCKET_POLICY)):
        document = _policy_document(policy)
        for statement in _statements(document or {}):
            if statement.get("Effect") != "Allow" or statement.get("Principal") not in ("*", {"AWS": "*"}):
                continue
            actions, targets = _as_list(statement.get("Action")), _as_list(statement.get("Resource"))
            if actions != ["s3:GetObject"] or not all(str(t).endswith("/pub/*") for t in targets):
                problems.append(
                    (policy.urn, f"public statement may only allow s3:GetObject on pub/*: {json.dumps(statement)}")
                )
    return problems


def check_user_policies(stack: StackResources) -> list[tuple[str, str]]:
    problems = []
    for policy in (r for r in stack.of_type(USER_POLICY)):
        document = _policy_document(policy)
        if document is None:
            continue
        own = {_known(bucket.props.get("bucket")) for bucket in stack.siblings(policy, BUCKET)} - {None}
        for statement in _statements(document):
            for action in _as_list(statement.get("Action")):
                if "*" in str(action) or str(action).lower().startswith("iam:"):
                    problems.append((policy.urn, f"user policy grants {action!r}: no wildcards and no IAM actions"))
            for target in _as_list(statement.get("Resource")):
                match = _BUCKET_ARN.fullmatch(str(target))
                if match is None or match.group("bucket") not in own:
                    problems.append((policy.urn, f"user policy names {target!r}, which is not its own bucket"))
    return problems


def check_access_key_secrets(stack: StackResources) -> list[tuple[str, str]]:
    return [
        (key.urn, "the access key's secret is not marked secret (additionalSecretOutputs lacks 'secret')")
        for key in stack.of_type(ACCESS_KEY)
        if "secret" not in key.additional_secret_outputs
    ] + [
        (key.urn, "the access key uses pgpKey: its secret would leave Pulumi encrypted for one person instead")
        for key in stack.of_type(ACCESS_KEY)
        if key.props.get("pgpKey")
    ]


def check_credential_parameters(stack: StackResources) -> list[tuple[str, str]]:
    return [
        (parameter.urn, f"SSM parameter {parameter.props.get('name')} holds credentials but is not a SecureString")
        for parameter in stack.of_type(PARAMETER)
        if str(parameter.props.get("name", "")).startswith("/tenant-storage/")
        and parameter.props.get("type") != "SecureString"
    ]


def check_org_id_tags(stack: StackResources) -> list[tuple[str, str]]:
    return [
        (r.urn, f"{r.type.rsplit(':', 1)[-1]} {r.name} has no OrgId tag (billing reports group by it)")
        for resource_type in TAGGED_TYPES
        for r in stack.of_type(resource_type)
        if not _known(_tags(r).get("OrgId"))
    ]


def check_production_protection(stack: StackResources) -> list[tuple[str, str]]:
    return [
        (bucket.urn, f"{_tags(bucket).get('Environment')} bucket {bucket.name} is not protected")
        for bucket in stack.of_type(BUCKET)
        if _tags(bucket).get("Environment") in PRODUCTION_CLASS and not bucket.protect
    ]


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
    Rule("bucket-name-convention", "Buckets are named <prefix>-<OrgId>[-<suffix>].", "advisory", check_bucket_names),
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
        check_public_statements,
    ),
    Rule(
        "user-policy-least-privilege",
        "IAM user policies have no wildcard or IAM actions and name only their own bucket.",
        "mandatory",
        check_user_policies,
    ),
    Rule(
        "access-key-secret-is-secret", "Access key secrets stay Pulumi secrets.", "mandatory", check_access_key_secrets
    ),
    Rule(
        "credential-parameters-encrypted",
        "SSM parameters holding tenant credentials are SecureStrings.",
        "mandatory",
        check_credential_parameters,
    ),
    Rule(
        "org-id-tags",
        "Buckets, users, objects and credential secrets carry an OrgId tag.",
        "advisory",
        check_org_id_tags,
    ),
    Rule(
        "production-buckets-protected",
        "Production and staging buckets are protected from deletion.",
        "mandatory",
        check_production_protection,
    ),
)


def evaluate(resources: Sequence[ResourceView]) -> list[tuple[Rule, Violation]]:
    stack = StackResources(resources)
    return [(rule, violation) for rule in RULES for violation in rule.violations(stack)]
