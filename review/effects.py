"""What a deploy does to data and access: the one model every risk class of `plan --base` is derived from.

From the base and the head plan of one stack (and the resource changes between them) it computes:

- **data**: which stored objects could be deleted, replaced or become unreadable: a data-holding resource
  (the catalogue's `data` types) deleted or replaced, for certain or possibly (a name only a deploy knows);
  SSE-KMS objects stranded (their key goes away, or a caller who could read them loses `kms:Decrypt`);
  lifecycle rules that expire current objects sooner or keep deleted versions shorter; versioning
  turned off;
- **access**: for every bucket before and after, which caller may do which S3 action on which part of
  it (anonymous callers, every user through its groups, tags and own policies, S3's log delivery for each
  source bucket: a bucket whose server access logging is on, by its `BucketLogging`, and each CloudFront
  distribution the stack declares, by its ARN), evaluated by `tenant_storage.access`. A bucket is identified
  by its resource, not its name, so a grant that moves with a renamed bucket is the same grant. What
  anonymous callers or a distribution may read is public (a distribution serves anyone who asks): a grant to
  one of them is public exposure only where nothing public reached it before, and what the public loses is
  listed too (its links stop working);
- **adoption**: each existing resource the deploy imports, and every setting it will overwrite there;
- **protection**: each resource that stays declared but loses `protect` or `retain_on_delete`;
- **credentials**: for each tenant that stays, the access key its app uses, or the stored copy it reads,
  deleted or replaced.

The stack-level facts (a stack file gone, its allowed accounts changed, a tenant moving between stacks)
come from the stack files, not from one stack's plans: `review/risks.py` says them.

An adopted resource's state before the deploy is unknown: what it allowed, and how long it kept data,
are taken as nothing and forever, so whatever the deploy makes public or expires there is reported.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policy.tenant_storage_rules import (
    ACCESS_KEY,
    BUCKET,
    BUCKET_LOGGING,
    BUCKET_POLICY,
    ENCRYPTION,
    GROUP_POLICY,
    LIFECYCLE,
    PUBLIC_ACCESS_BLOCK,
    USER,
    USER_POLICY,
    VERSIONING,
)
from review.diff import ResourceChange, input_text, whole_values
from review.plan import ResourcePlan, StackPlan
from tenant_storage.access import ANONYMOUS, Caller, allowed
from tenant_storage.anonymous_access import PublicAccessBlock, as_list, is_public
from tenant_storage.policies import LOG_DELIVERY_SERVICE, effective_policy
from tenant_storage.public_access import CLOUDFRONT_SERVICE, distribution_arn
from tenant_storage.regions import COMMERCIAL, partition_of

GROUP_MEMBERSHIP = "aws:iam/groupMembership:GroupMembership"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
FOREVER = float("inf")
_S3_ARN = re.compile(r"arn:aws[a-z-]*:s3:::(?P<bucket>[^/*?]+)(?P<objects>/.*)?")
BUCKET_SCOPE = "the bucket"
ANY_OBJECT = "*"

# What retainOnDelete does to a resource the stack no longer declares.
RETAINED_IN_AWS = "left in AWS with what it holds, forgotten by Pulumi; lost only if deleted by hand"


@dataclass(frozen=True)
class Retention:
    """How long a bucket keeps what is in it: current objects, and versions once overwritten or deleted."""

    current_days: float = FOREVER
    noncurrent_days: float = FOREVER


@dataclass
class BucketState:
    urn: str
    name: str
    org_id: str | None
    policy: dict[str, Any] | None = None
    block: PublicAccessBlock = field(default_factory=PublicAccessBlock)
    kms_key: str | None = None
    retention: Retention = field(default_factory=Retention)
    versioning: str | None = None
    # Where its server access logs go (its BucketLogging's target bucket): only a bucket that logs has S3's
    # log delivery acting for it. The access-log bucket itself logs nowhere.
    logs_to: str | None = None


@dataclass
class UserState:
    urn: str
    name: str
    org_id: str | None
    arn: str
    policy: dict[str, Any] = field(default_factory=lambda: {"Statement": []})


@dataclass
class Revision:
    """What one revision declares, read back from its plan's resources."""

    plan: StackPlan
    buckets: dict[str, BucketState]
    users: dict[str, UserState]
    bucket_urns: dict[str, str]  # bucket name -> URN
    distributions: dict[str, str] = field(default_factory=dict)  # CloudFront distribution URN -> its ARN

    @property
    def log_sources(self) -> set[str]:
        """The buckets (URNs) whose server access logs S3 delivers: the only sources its log delivery acts for."""
        return {urn for urn, bucket in self.buckets.items() if bucket.logs_to is not None}

    @property
    def partition(self) -> str:
        return (partition_of(self.plan.region) or COMMERCIAL).name

    @property
    def kms_via_s3(self) -> str:
        return f"s3.{self.plan.region}.{(partition_of(self.plan.region) or COMMERCIAL).dns_suffix}"

    def bucket_arn(self, name: str) -> str:
        return f"arn:{self.partition}:s3:::{name}"


def _policy(text: Any) -> dict[str, Any] | None:
    try:
        document = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _retention(rules: Any) -> Retention:
    current, noncurrent = FOREVER, FOREVER
    for rule in rules if isinstance(rules, list) else []:
        if rule.get("status") != "Enabled":
            continue
        days = (rule.get("expiration") or {}).get("days")
        if days:
            current = min(current, float(days))
        kept = (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")
        if kept:
            noncurrent = min(noncurrent, float(kept))
    return Retention(current, noncurrent)


def _kms_key(rules: Any) -> str | None:
    for rule in rules if isinstance(rules, list) else []:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        if default.get("sseAlgorithm") in ("aws:kms", "aws:kms:dsse"):
            return str(default.get("kmsMasterKeyId") or "aws/s3")
    return None


def _block(inputs: Mapping[str, Any]) -> PublicAccessBlock:
    return PublicAccessBlock(
        block_public_acls=bool(inputs.get("blockPublicAcls")),
        ignore_public_acls=bool(inputs.get("ignorePublicAcls")),
        block_public_policy=bool(inputs.get("blockPublicPolicy")),
        restrict_public_buckets=bool(inputs.get("restrictPublicBuckets")),
    )


def read_revision(plan: StackPlan) -> Revision:
    by_type: dict[str, list[ResourcePlan]] = {}
    for resource in plan.resources:
        by_type.setdefault(resource.type, []).append(resource)
    buckets = {
        r.urn: BucketState(r.urn, str(r.inputs.get("bucket", "")), r.org_id)
        for r in by_type.get(BUCKET, [])
        if isinstance(r.inputs.get("bucket"), str)
    }
    revision = Revision(plan, buckets, {}, {bucket.name: urn for urn, bucket in buckets.items()})
    partition = partition_of(plan.region) or COMMERCIAL
    revision.distributions = {
        resource.urn: distribution_arn(plan.account_id, resource.id, partition)
        for resource in by_type.get(DISTRIBUTION, [])
    }

    def bucket_of(resource: ResourcePlan) -> BucketState | None:
        urn = revision.bucket_urns.get(str(resource.inputs.get("bucket")))
        return buckets.get(urn) if urn else None

    for resource in by_type.get(BUCKET_POLICY, []):
        if bucket := bucket_of(resource):
            bucket.policy = _policy(resource.inputs.get("policy"))
    for resource in by_type.get(PUBLIC_ACCESS_BLOCK, []):
        if bucket := bucket_of(resource):
            bucket.block = _block(resource.inputs)
    for resource in by_type.get(ENCRYPTION, []):
        if bucket := bucket_of(resource):
            bucket.kms_key = _kms_key(resource.inputs.get("rules"))
    for resource in by_type.get(LIFECYCLE, []):
        if bucket := bucket_of(resource):
            bucket.retention = _retention(resource.inputs.get("rules"))
    for resource in by_type.get(VERSIONING, []):
        if bucket := bucket_of(resource):
            bucket.versioning = str((resource.inputs.get("versioningConfiguration") or {}).get("status"))
    for resource in by_type.get(BUCKET_LOGGING, []):
        if bucket := bucket_of(resource):
            bucket.logs_to = str(resource.inputs.get("targetBucket", ""))

    for bucket in buckets.values():
        if bucket.policy and bucket.block.block_public_policy and is_public(bucket.policy):
            # S3 refuses this policy (the deploy fails on it, and the policy pack blocks it first): judged as if
            # accepted, where restrict_public_buckets still voids its public statements for anonymous callers.
            bucket.block = dataclasses.replace(bucket.block, block_public_policy=False)

    group_policies: dict[str, list[dict[str, Any]]] = {}
    for resource in by_type.get(GROUP_POLICY, []):
        if document := _policy(resource.inputs.get("policy")):
            group_policies.setdefault(str(resource.inputs.get("group")), []).append(document)
    groups_of: dict[str, list[str]] = {}
    for resource in by_type.get(GROUP_MEMBERSHIP, []):
        for user in resource.inputs.get("users") or []:
            groups_of.setdefault(str(user), []).append(str(resource.inputs.get("group")))
    own_policies: dict[str, list[dict[str, Any]]] = {}
    for resource in by_type.get(USER_POLICY, []):
        if document := _policy(resource.inputs.get("policy")):
            own_policies.setdefault(str(resource.inputs.get("user")), []).append(document)
    for resource in by_type.get(USER, []):
        name = str(resource.inputs.get("name"))
        tags = {str(k): str(v) for k, v in (resource.inputs.get("tags") or {}).items()}
        documents = [doc for group in groups_of.get(name, []) for doc in group_policies.get(group, [])]
        documents += own_policies.get(name, [])
        statements = [s for doc in documents for s in effective_policy(doc, tags).get("Statement", [])]
        revision.users[resource.urn] = UserState(
            resource.urn,
            name,
            resource.org_id,
            f"arn:{revision.partition}:iam::{plan.account_id}:user/{name}",
            {"Version": "2012-10-17", "Statement": statements},
        )
    return revision


# --- access ---------------------------------------------------------------------------------------------


LOG_DELIVERY_CALLER = "log delivery for "
CLOUDFRONT_CALLER = "CloudFront distribution "


def is_public_caller(caller: str) -> bool:
    """Anonymous callers, and a CloudFront distribution, which serves whoever asks: what they read is public."""
    return caller == "anyone" or caller.startswith(CLOUDFRONT_CALLER)


@dataclass(frozen=True)
class Grant:
    """A caller may perform an action on a bucket, or on the objects of a scope (`*`, `pub/*`) in it."""

    caller: str  # "anyone", a user's URN, or "log delivery for <bucket URN>"
    action: str
    bucket: str  # the bucket's URN
    scope: str


def _statements(revision: Revision) -> Iterable[dict[str, Any]]:
    for bucket in revision.buckets.values():
        yield from (bucket.policy or {}).get("Statement", [])
    for user in revision.users.values():
        yield from user.policy.get("Statement", [])


def _universe(revisions: Iterable[Revision]) -> tuple[list[str], dict[str, set[str]]]:
    """Every S3 action any Allow names, and per bucket every object scope any statement names."""
    actions: set[str] = set()
    scopes: dict[str, set[str]] = {}
    for revision in revisions:
        for statement in _statements(revision):
            if statement.get("Effect") == "Allow":
                actions |= {str(a) for a in as_list(statement.get("Action", [])) if str(a).startswith("s3:")}
            for resource in as_list(statement.get("Resource", [])):
                match = _S3_ARN.fullmatch(str(resource))
                if match and match.group("objects") and (urn := revision.bucket_urns.get(match.group("bucket"))):
                    scopes.setdefault(urn, set()).add(match.group("objects")[1:] or ANY_OBJECT)
    return sorted(actions), scopes


def _resource(revision: Revision, bucket: BucketState, scope: str) -> str:
    arn = revision.bucket_arn(bucket.name)
    return arn if scope == BUCKET_SCOPE else f"{arn}/{scope.replace('*', 'x').replace('?', 'x')}"


def _named_buckets(revision: Revision, policy: Mapping[str, Any]) -> set[str]:
    """The buckets (URNs) an identity policy's S3 statements can reach."""
    reached: set[str] = set()
    for statement in policy.get("Statement", []):
        for resource in as_list(statement.get("Resource", [])):
            match = _S3_ARN.fullmatch(str(resource))
            if match and (urn := revision.bucket_urns.get(match.group("bucket"))):
                reached.add(urn)
            elif ":s3:::" in str(resource) or str(resource) == "*":  # a wildcard bucket: every bucket
                reached |= revision.buckets.keys()
    return reached


def grants(
    revision: Revision, callers: Mapping[str, Caller | None], actions: list[str], scopes: dict[str, set[str]]
) -> set[Grant]:
    """Every (caller, action, bucket, scope) this revision allows, for the given callers (None: absent)."""
    found: set[Grant] = set()

    def judge(caller_id: str, caller: Caller, bucket: BucketState) -> None:
        for scope in (BUCKET_SCOPE, ANY_OBJECT, *sorted(scopes.get(bucket.urn, ()))):
            resource = _resource(revision, bucket, scope)
            for action in actions:
                if allowed(caller, action, resource, bucket.policy, bucket.block):
                    found.add(Grant(caller_id, action, bucket.urn, scope))

    named_service = {
        urn
        for urn, bucket in revision.buckets.items()
        for statement in (bucket.policy or {}).get("Statement", [])
        if isinstance(statement.get("Principal"), Mapping) and "Service" in statement["Principal"]
    }
    named_user: dict[str, set[str]] = {}
    for urn, bucket in revision.buckets.items():
        for statement in (bucket.policy or {}).get("Statement", []):
            principal = statement.get("Principal")
            if isinstance(principal, Mapping):
                for arn in as_list(principal.get("AWS", [])):
                    named_user.setdefault(str(arn), set()).add(urn)
    for caller_id, caller in callers.items():
        if caller is None:
            continue
        if caller.kind == "anonymous":
            candidates: Iterable[str] = revision.buckets
        elif caller_id.startswith(CLOUDFRONT_CALLER):
            candidates = named_service
        elif caller.kind == "service":
            candidates = named_service & _log_target(revision, caller_id)
        else:
            candidates = _named_buckets(revision, caller.identity_policy or {}) | named_user.get(caller.arn, set())
        for urn in candidates:
            judge(caller_id, caller, revision.buckets[urn])
    return found


def _log_target(revision: Revision, caller_id: str) -> set[str]:
    """The one bucket S3's log delivery for a source writes to in this revision: the target of the source's
    logging. A policy that would let it into any other bucket lets it nowhere, since S3 delivers nothing there."""
    source = revision.buckets.get(caller_id.removeprefix(LOG_DELIVERY_CALLER))
    target = revision.bucket_urns.get(source.logs_to) if source is not None and source.logs_to else None
    return {target} if target else set()


def _callers(revision: Revision, other: Revision) -> dict[str, Caller | None]:
    """The callers of both revisions, as they are in `revision` (a user absent there has no policy)."""
    callers: dict[str, Caller | None] = {"anyone": ANONYMOUS}
    for urn in revision.users.keys() | other.users.keys():
        user = revision.users.get(urn) or other.users[urn]
        policy = revision.users[urn].policy if urn in revision.users else None
        callers[urn] = Caller("user", arn=user.arn, identity_policy=policy)
    # A distribution signs its requests as CloudFront, for its own ARN (origin access control).
    for urn in revision.distributions.keys() | other.distributions.keys():
        arn = revision.distributions.get(urn) or other.distributions[urn]
        callers[f"{CLOUDFRONT_CALLER}{urn}"] = Caller(
            "service", service=CLOUDFRONT_SERVICE, context={"aws:SourceArn": arn}
        )
    # S3's log delivery acts for a bucket that logs (in either revision), never for one that logs nowhere.
    for urn in revision.log_sources | other.log_sources:
        source = revision.buckets.get(urn) or other.buckets[urn]
        source_revision = revision if urn in revision.buckets else other
        callers[f"{LOG_DELIVERY_CALLER}{urn}"] = Caller(
            "service",
            service=LOG_DELIVERY_SERVICE,
            context={
                "aws:SourceArn": source_revision.bucket_arn(source.name),
                "aws:SourceAccount": revision.plan.account_id,
            },
        )
    return callers


@dataclass(frozen=True)
class AccessGain:
    caller: str
    caller_name: str  # "anyone", "user rms_acme", "S3 log delivery for bucket fusion-rms-acme"
    bucket: str  # URN
    bucket_name: str
    org_id: str | None  # the bucket's tenant
    actions: tuple[tuple[str, str], ...]  # (action, scope)
    bucket_before: bool  # the bucket exists before the deploy
    adopted_bucket: bool  # the deploy adopts it: it holds data, and what it allowed before is unknown
    caller_before: bool  # the caller exists before the deploy (an adopted user's rights before are unknown)
    # A public caller's gain that something public could already read (anyone straight from S3, or a distribution).
    already_public: bool = False

    @property
    def on_data(self) -> bool:
        return self.bucket_before or self.adopted_bucket

    @property
    def public(self) -> bool:
        return is_public_caller(self.caller)


@dataclass(frozen=True)
class PublicLoss:
    """What a public caller (anyone, a distribution) could read of a bucket that stays, and no longer can: the
    links to it stop working, unless another public caller still serves the same (`still_served_by`)."""

    caller: str
    caller_name: str
    bucket: str  # URN
    bucket_name: str
    org_id: str | None
    actions: tuple[tuple[str, str], ...]  # (action, scope)
    still_served_by: tuple[str, ...] = ()  # the other public callers' names that still read all of it


# --- the model ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataEffect:
    urn: str
    org_id: str | None
    subject: str  # "bucket <name>", "KMS key <urn name>"
    message: str
    possible: bool = False


@dataclass(frozen=True)
class Adoption:
    urn: str
    org_id: str | None
    subject: str
    overwritten: tuple[str, ...]


@dataclass(frozen=True)
class ProtectionLoss:
    """A resource that stays declared but loses `protect` or `retain_on_delete`: a later change can delete it."""

    urn: str
    org_id: str | None
    subject: str
    lost: tuple[str, ...]


@dataclass(frozen=True)
class CredentialLoss:
    """What a kept tenant's app authenticates with, gone: the access key it uses, or the stored copy it reads."""

    urn: str | None
    org_id: str
    subject: str
    message: str


@dataclass
class Effects:
    data: list[DataEffect]
    access: list[AccessGain]
    adoptions: list[Adoption]
    protection: list[ProtectionLoss] = field(default_factory=list)
    credentials: list[CredentialLoss] = field(default_factory=list)
    public_losses: list[PublicLoss] = field(default_factory=list)


def _short(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def subject_of(resource: ResourcePlan) -> str:
    """How a reviewer knows a resource: a bucket or user by its name, anything else by its kind and name."""
    if resource.type == BUCKET:
        return f"bucket {resource.inputs.get('bucket')}"
    if resource.type == USER:
        return f"user {resource.inputs.get('name')}"
    name = resource.inputs.get("name")
    return f"{kind_of(resource.type)} {name if isinstance(name, str) else resource.name}"


def kind_of(resource_type: str) -> str:
    """`aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock` -> `public access block`; `aws:kms/key:Key` ->
    `KMS key`: the type's own name, in words, with its service where one word would say too little."""
    words = re.findall(r"[A-Z]+[a-z0-9]*|[a-z0-9]+", resource_type.rsplit(":", 1)[-1])
    if words and words[0].lower() == "bucket" and len(words) > 1:
        words = words[1:]
    kind = " ".join(word if word.isupper() else word.lower() for word in words)
    service = resource_type.split(":")[1].split("/")[0] if resource_type.count(":") >= 2 else ""
    return f"{service.upper()} {kind}" if len(words) == 1 and service not in ("", "s3", "index") else kind


def compute_effects(base: StackPlan, head: StackPlan, changes: list[ResourceChange]) -> Effects:
    before, after = read_revision(base), read_revision(head)
    by_urn = {change.urn: change for change in changes}
    destroyed = {change.urn: change for change in changes if change.action in ("delete", "replace")}
    imported = {change.urn for change in changes if change.import_id}
    head_resources = {resource.urn: resource for resource in head.resources}
    base_resources = {resource.urn: resource for resource in base.resources}

    data: list[DataEffect] = []
    for change in changes:
        if change.data_loss:
            resource = base_resources[change.urn]
            verb = {"delete": "deleted", "replace": "replaced"}[change.action]
            reason = f" (changes {', '.join(change.properties)})" if change.properties else ""
            if change.possible:
                verb = "may be replaced: its name is known only once a deploy has run"
                reason = f" ({', '.join(change.properties)})"
            what = "its objects are lost" if resource.type == BUCKET else "every object encrypted with it is lost"
            if change.action == "delete" and change.retained:
                # retainOnDelete: the deploy leaves it in AWS, whole; only deleting it by hand loses what it holds.
                stops = (
                    "protected: `pulumi up` stops at it until it is unprotected; then "
                    if change.blocked_by_protection
                    else ""
                )
                verb, what = "removed from the stack", f"{stops}retained: {RETAINED_IN_AWS}"
            data.append(
                DataEffect(change.urn, change.org_id, subject_of(resource), f"{verb}{reason}; {what}", change.possible)
            )

    kept = [urn for urn in before.buckets if urn not in destroyed and urn not in imported and urn in after.buckets]
    for urn in kept:
        old, new = before.buckets[urn], after.buckets[urn]
        problems = _retention_losses(old.retention, new.retention)
        if old.versioning == "Enabled" and new.versioning != "Enabled":
            problems.append("versioning is no longer enabled: an overwrite or delete now loses the object for good")
        problems += _stranded(before, after, old, base.unknowns, destroyed)
        data += [DataEffect(urn, old.org_id, f"bucket {new.name}", problem) for problem in problems]
    for urn in imported & after.buckets.keys():
        new = after.buckets[urn]
        data += [
            DataEffect(urn, new.org_id, f"bucket {new.name}", f"{problem} (an adopted bucket: it held data)", True)
            for problem in _retention_losses(Retention(), new.retention)
        ]

    actions, scopes = _universe((before, after))
    # An adopted bucket is another physical bucket than any the URN named before: its "before" is unknown.
    granted_before = {g for g in grants(before, _callers(before, after), actions, scopes) if g.bucket not in imported}
    granted_after = grants(after, _callers(after, before), actions, scopes)
    callers_before = {"anyone"} | {urn for urn in before.users if urn not in imported}
    callers_before |= {f"{CLOUDFRONT_CALLER}{urn}" for urn in before.distributions}
    public_before = {(g.action, g.bucket, g.scope) for g in granted_before if is_public_caller(g.caller)}
    callers_before |= {f"{LOG_DELIVERY_CALLER}{urn}" for urn in before.log_sources}
    # Log delivery acts only on the bucket its source logs to. Moving the logs to another bucket is the logging's
    # own change (its BucketLogging's update), and a bucket that starts logging brings its delivery with it (its
    # BucketLogging's creation): either widens something only where delivery may do more than it could before.
    delivered_before = {
        (grant.caller, grant.action, grant.scope)
        for grant in granted_before
        if grant.caller.startswith(LOG_DELIVERY_CALLER)
    }
    gained: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for grant in granted_after - granted_before:
        if grant.caller.startswith(LOG_DELIVERY_CALLER) and (
            grant.caller not in callers_before or (grant.caller, grant.action, grant.scope) in delivered_before
        ):
            continue
        gained.setdefault((grant.caller, grant.bucket), []).append((grant.action, grant.scope))
    access = [
        AccessGain(
            **_on_a_bucket(caller, bucket, pairs, before, after),
            bucket_before=bucket in before.buckets,
            adopted_bucket=bucket in imported,
            caller_before=caller in callers_before,
            already_public=all((action, bucket, scope) in public_before for action, scope in pairs),
        )
        for (caller, bucket), pairs in sorted(gained.items())
    ]
    kept_buckets = {urn for urn in before.buckets if urn not in destroyed and urn not in imported} & set(after.buckets)
    public_losses = _public_losses(granted_before, granted_after, kept_buckets, before, after)

    adoptions = [
        _adoption(head_resources[urn], head.resources, by_urn) for urn in sorted(imported) if urn in head_resources
    ]
    return Effects(
        data,
        access,
        adoptions,
        _protection_losses(base, head),
        _credential_losses(base, head, set(destroyed)),
        public_losses,
    )


def _public_losses(
    granted_before: set[Grant], granted_after: set[Grant], kept: set[str], before: Revision, after: Revision
) -> list[PublicLoss]:
    lost: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for grant in granted_before - granted_after:
        if is_public_caller(grant.caller) and grant.bucket in kept:
            lost.setdefault((grant.caller, grant.bucket), []).append((grant.action, grant.scope))
    losses = []
    for (caller, bucket), pairs in sorted(lost.items()):
        others = {
            other
            for other in {grant.caller for grant in granted_after if is_public_caller(grant.caller)}
            if all(Grant(other, action, bucket, scope) in granted_after for action, scope in pairs)
        }
        losses.append(
            PublicLoss(
                **_on_a_bucket(caller, bucket, pairs, before, after),
                still_served_by=tuple(sorted(_caller_name(other, before, after) for other in others)),
            )
        )
    return losses


def _on_a_bucket(
    caller: str, bucket: str, pairs: list[tuple[str, str]], before: Revision, after: Revision
) -> dict[str, Any]:
    """What an access gain or loss says of its caller and bucket (as the bucket is after the deploy)."""
    return {
        "caller": caller,
        "caller_name": _caller_name(caller, before, after),
        "bucket": bucket,
        "bucket_name": after.buckets[bucket].name,
        "org_id": after.buckets[bucket].org_id,
        "actions": tuple(sorted(pairs)),
    }


def _protection_losses(base: StackPlan, head: StackPlan) -> list[ProtectionLoss]:
    before = {r.urn: r for r in base.resources}
    losses = []
    for new in head.resources:
        old = before.get(new.urn)
        if old is None:
            continue
        lost = tuple(
            name
            for name, was, now in (
                ("protect", old.protect, new.protect),
                ("retain_on_delete", old.retain_on_delete, new.retain_on_delete),
            )
            if was and not now
        )
        if lost:
            losses.append(ProtectionLoss(new.urn, new.org_id, subject_of(new), lost))
    return losses


def _credential_holders(base: StackPlan, destroyed: set[str]) -> list[ResourcePlan]:
    """Resources that hold a copy of an access key (a secret, a parameter) and that this deploy destroys: found
    by the key's own values in their inputs, whatever the store."""
    keys = {r.urn for r in base.resources if r.type == ACCESS_KEY}
    pattern = whole_values([token for token, producer in base.unknowns.items() if producer in keys])
    if pattern is None:
        return []
    return [
        r
        for r in base.resources
        if r.urn in destroyed and r.type != ACCESS_KEY and pattern.search(input_text(r.inputs))
    ]


def _credential_losses(base: StackPlan, head: StackPlan, destroyed: set[str]) -> list[CredentialLoss]:
    kept = {tenant.org_id for tenant in head.tenants}
    holders: dict[str, list[ResourcePlan]] = {}
    for holder in _credential_holders(base, destroyed):
        if holder.org_id in kept:
            holders.setdefault(holder.org_id, []).append(holder)
    losses = [
        CredentialLoss(
            stored[0].urn,
            org_id,
            subject_of(stored[0]),
            "the credentials its app reads are deleted from "
            + ", ".join(subject_of(holder) for holder in stored)
            + ": an app reading them there loses access (move the app to the new store before the old one goes)",
        )
        for org_id, stored in sorted(holders.items())
    ]
    for tenant in base.tenants:
        if tenant.org_id not in kept:
            continue
        keys = [r for r in base.resources if r.org_id == tenant.org_id and r.type == ACCESS_KEY]
        users = [r.urn for r in base.resources if r.org_id == tenant.org_id and r.type == USER]
        # The key its app uses is the newest label's: the one the credential store and `credentials` hand out.
        in_use = next((key for key in keys if key.id == tenant.app_key_id), keys[-1] if keys else None)
        if (in_use is not None and in_use.urn in destroyed) or any(user in destroyed for user in users):
            losses.append(
                CredentialLoss(
                    in_use.urn if in_use else None,
                    tenant.org_id,
                    f"user {tenant.iam_user_name}",
                    f"the access key its app uses today ({in_use.name if in_use else 'its only key'}, the newest "
                    "label) is deleted or replaced in this deploy; its app loses access (rotate in two steps: add the "
                    "new label, move the app to it, then remove the old label)",
                )
            )
    return losses


def _caller_name(caller: str, before: Revision, after: Revision) -> str:
    if caller == "anyone":
        return "anyone (anonymous callers)"
    if user := after.users.get(caller) or before.users.get(caller):
        return f"user {user.name}"
    if caller.startswith(CLOUDFRONT_CALLER):
        return f"CloudFront distribution {_short(caller.removeprefix(CLOUDFRONT_CALLER))}"
    source = caller.removeprefix(LOG_DELIVERY_CALLER)
    bucket = after.buckets.get(source) or before.buckets.get(source)
    return f"S3 log delivery for bucket {bucket.name if bucket else source}"


def _retention_losses(old: Retention, new: Retention) -> list[str]:
    losses = []
    if new.current_days < old.current_days:
        losses.append(f"current objects now expire after {new.current_days:g} days ({_days(old.current_days)})")
    if new.noncurrent_days < old.noncurrent_days:
        losses.append(
            f"overwritten and deleted versions are now kept {new.noncurrent_days:g} days ({_days(old.noncurrent_days)})"
        )
    return losses


def _days(days: float) -> str:
    return "before: kept forever" if days == FOREVER else f"before: {days:g} days"


def _stranded(
    before: Revision,
    after: Revision,
    bucket: BucketState,
    unknowns: Mapping[str, str],
    destroyed: Mapping[str, ResourceChange],
) -> list[str]:
    """Objects written under the bucket's SSE-KMS key that become unreadable: the key goes, or a caller that
    could read them loses the right to decrypt them (the bucket's new default encryption does not re-encrypt)."""
    key = bucket.kms_key
    if key is None:
        return []
    key_resource = unknowns.get(key)
    if key_resource is not None and key_resource in destroyed:
        action = destroyed[key_resource].action
        return [f"objects written under SSE-KMS with the stack's key become unreadable: the key is {action}d"]
    objects = _resource(before, bucket, ANY_OBJECT)
    renamed = _resource(after, after.buckets[bucket.urn], ANY_OBJECT)
    via = {"kms:ViaService": before.kms_via_s3}
    losing = []
    for urn, user in sorted(before.users.items()):
        reader = Caller("user", arn=user.arn, identity_policy=user.policy, context=via)
        if not (allowed(reader, "s3:GetObject", objects, bucket.policy) and allowed(reader, "kms:Decrypt", key)):
            continue
        now = after.users.get(urn)
        if now is None:
            continue
        still = Caller("user", arn=now.arn, identity_policy=now.policy, context={"kms:ViaService": after.kms_via_s3})
        if allowed(still, "s3:GetObject", renamed, after.buckets[bucket.urn].policy) and not allowed(
            still, "kms:Decrypt", key
        ):
            losing.append(now.name)
    if not losing:
        return []
    return [
        "objects written under SSE-KMS become unreadable to "
        + ", ".join(f"user {name}" for name in losing)
        + ": kms:Decrypt on the stack's key is taken away while reads of the bucket stay"
    ]


def _references(resource: ResourcePlan, names: set[str]) -> bool:
    for key in ("bucket", "user", "userName"):
        if resource.inputs.get(key) in names:
            return True
    return bool(names & {str(user) for user in resource.inputs.get("users") or []})


def _adoption(resource: ResourcePlan, head: list[ResourcePlan], changes: Mapping[str, ResourceChange]) -> Adoption:
    """The imported resource and every setting this deploy writes on it: its own declared inputs, and each
    created or updated resource that configures it."""
    name = str(resource.inputs.get("bucket") or resource.inputs.get("name") or resource.import_id)
    overwritten = [f"its {_describe(resource)}"] if resource.inputs else []
    for other in head:
        if other.urn == resource.urn or other.urn not in changes or changes[other.urn].action == "delete":
            continue
        if _references(other, {name}):
            overwritten.append(f"{kind_of(other.type)}: {_describe(other)}")
    return Adoption(resource.urn, resource.org_id, subject_of(resource), tuple(overwritten))


# What names the configured resource, and the provider's default region: not settings a reviewer weighs.
_REFERENCE_KEYS = frozenset({"bucket", "user", "userName", "name", "region"})


def _setting(value: Any) -> str:
    """A setting as its provider input reads (true, false, 1.5, "" for empty), never Python's True or None."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if value is None or value == "":
        return '""' if value == "" else "null"
    return str(value)


def _describe(resource: ResourcePlan) -> str:
    """The resource's declared inputs on one line: scalars flattened, policies by their statements' ids."""
    parts: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key in sorted(value):
                walk(f"{prefix}.{key}" if prefix else str(key), value[key])
        elif isinstance(value, list):
            if all(not isinstance(item, (Mapping, list)) for item in value):
                parts.append(f"{prefix}=[{', '.join(map(_setting, value))}]")
            else:
                for index, item in enumerate(value):
                    walk(f"{prefix}[{index}]", item)
        elif (document := _policy(value)) and "Statement" in document:
            sids = [str(s.get("Sid", "?")) for s in document["Statement"]]
            parts.append(f"{prefix}=statements {', '.join(sids)}")
        else:
            parts.append(f"{prefix}={_setting(value)}")

    walk("", {key: value for key, value in resource.inputs.items() if key not in _REFERENCE_KEYS})
    return "; ".join(parts) or "(no settings)"
