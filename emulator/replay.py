"""Apply a stack's offline plan to an AWS endpoint: what `pulumi up` would leave in the account.

Every resource the plan declares is made through the AWS API with exactly the inputs the plan declares,
in the plan's order (the engine registers a resource once its inputs are known, so after what it uses).
Each resource type of the catalogue (`catalogue/resource_types.py`) has one way to apply its inputs here
(`APPLY`) and one reader (`catalogue/readers.py`, the one `audit` uses). A type without either, or an input
its catalogue entry does not name, stops the replay: a new resource or setting cannot be left out of "the
declared state" without anyone noticing. What no API reads back is in the readers' `not_held`, each with its
reason.

Values only a deploy knows (a KMS key id, an access key id and secret, a secret's ARN) were invented by
the offline mocks; each is replaced, wherever a later input holds it, by the value the endpoint returned.

Used by the tests (audit, discover, preflight, the access matrix, restore, usage) and by
`make security-scan`, against a moto server or moto in-process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from catalogue.compare import as_declared
from catalogue.readers import DEFAULT_REGION, READERS, Clients, region_of, tag_set, to_aws
from catalogue.readers import read as read_resource
from catalogue.resource_types import COMPONENT_TYPES, RESOURCE_TYPES
from emulator.moto_fidelity import keep_what_aws_keeps
from review.plan import ResourcePlan, StackPlan, unwrapped

# What the emulator cannot hold or read back, by (type, input), each with its reason: the readers' `not_held`.
NOT_HELD: dict[tuple[str, str], str] = {
    (token, name): reason for token, reader in READERS.items() for name, reason in reader.not_held.items()
}

# Where moto 5 behaves unlike AWS with what the replay applies, and what the replay does about it.
MOTO_LIMITS = {
    "bucket policy conditions": "a Deny statement refuses every object request whatever its condition; the "
    "read-back lifts the policy while it reads an object",
    "log bucket policy": "PutBucketLogging fails on a Principal that is not a mapping before the delivery "
    "statement; the replay puts the Allow statements first (statement order means nothing to IAM)",
}


# What moto 5.2.5 (moto/cloudfront) cannot hold of what the plan declares, each with its reason: a whole type (it
# is not applied, and the replay lists it in `Replayed.not_applied`), or one input (applied, never compared).
# Against AWS, `audit` reads all of it.
EMULATOR_LACKS_TYPES: dict[str, str] = {
    "aws:cloudfront/cachePolicy:CachePolicy": "moto has no cache policies (CreateCachePolicy answers 404)",
    "aws:cloudfront/keyvaluestoreKeysExclusive:KeyvaluestoreKeysExclusive": (
        "moto has no cloudfront-keyvaluestore API (the data plane of a key value store: ListKeys, UpdateKeys)"
    ),
}
EMULATOR_LACKS: dict[tuple[str, str], str] = {
    ("aws:cloudfront/function:Function", "publish"): "moto has no PublishFunction (it answers 404)",
}


class ReplayError(Exception):
    """The plan holds what the replay cannot apply: a type or an input it does not know."""


Apply = Callable[[Clients, dict[str, Any]], dict[str, str]]  # returns the real outputs that differ from mocks


@dataclass
class Replayed:
    """What the replay made: each mocked value's real one, and the access keys it created, by user."""

    plan: StackPlan
    real_values: dict[str, str] = field(default_factory=dict)
    access_keys: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # The resources the emulator cannot hold (EMULATOR_LACKS_TYPES), by URN, each with its reason.
    not_applied: dict[str, str] = field(default_factory=dict)

    def inputs_of(self, resource: ResourcePlan) -> dict[str, Any]:
        """`resource`'s inputs with every secret unwrapped and every mocked value replaced by the real one."""
        text = json.dumps(unwrapped(resource.inputs))
        for mocked, real in sorted(self.real_values.items(), key=lambda pair: -len(pair[0])):
            text = text.replace(json.dumps(mocked)[1:-1], json.dumps(real)[1:-1])
        return dict(json.loads(text))


def replay(plan: StackPlan, session: Any, endpoint_url: str | None = None) -> Replayed:
    """Make every resource of `plan` through `session` (at `endpoint_url`), checking first that every type
    and input is known and that the caller is the plan's account."""
    if plan.refused:
        raise ReplayError(f"stack {plan.stack} is refused: {plan.errors[0]}")
    unknown = sorted(
        {
            f"{r.type} (input {name})"
            for r in plan.resources
            if r.type not in COMPONENT_TYPES
            for name in r.inputs
            if name not in _entry(r).inputs
        }
    )
    if unknown:
        raise ReplayError(f"the catalogue does not know {', '.join(unknown)}: teach catalogue/resource_types.py")
    keep_what_aws_keeps()
    clients = Clients(session, endpoint_url, allow_writes=True)
    account = clients("sts").get_caller_identity()["Account"]
    if plan.account_id and account != plan.account_id:
        raise ReplayError(f"the endpoint's caller is account {account}, the plan is of account {plan.account_id}")
    replayed = Replayed(plan)
    for resource in in_dependency_order([r for r in plan.resources if r.type not in COMPONENT_TYPES]):
        inputs = replayed.inputs_of(resource)
        if resource.type in EMULATOR_LACKS_TYPES:
            replayed.not_applied[resource.urn] = EMULATOR_LACKS_TYPES[resource.type]
            continue
        real = APPLY[_entry(resource).token](clients, inputs)
        if resource.type == ACCESS_KEY:
            replayed.access_keys.setdefault(inputs["user"], []).append(real)
        replayed.real_values.update(_pairs(plan, resource, real))
    return replayed


def in_dependency_order(resources: list[ResourcePlan]) -> list[ResourcePlan]:
    """Each resource after the ones it depends on, as the engine creates them."""
    by_urn = {resource.urn: resource for resource in resources}
    ordered: dict[str, ResourcePlan] = {}

    def visit(resource: ResourcePlan, path: tuple[str, ...]) -> None:
        if resource.urn in ordered:
            return
        if resource.urn in path:
            raise ReplayError(f"a dependency cycle through {resource.urn}")
        for dependency in resource.dependencies:
            if dependency in by_urn:
                visit(by_urn[dependency], (*path, resource.urn))
        ordered[resource.urn] = resource

    for resource in resources:
        visit(resource, ())
    return list(ordered.values())


def read_back(replayed: Replayed, session: Any, endpoint_url: str | None = None) -> list[str]:
    """Every declared input the endpoint does not hold as declared: `<urn> <input>: declared X, read Y`."""
    clients = Clients(session, endpoint_url, allow_writes=True)  # it lifts a bucket policy (MOTO_LIMITS)
    differences = []
    for resource in replayed.plan.resources:
        if resource.type in COMPONENT_TYPES or resource.urn in replayed.not_applied:
            continue
        declared = replayed.inputs_of(resource)
        real_id = replayed.real_values.get(resource.id, resource.id)
        if resource.type == OBJECT:
            with policy_lifted(clients("s3", region_of(declared)), declared["bucket"]):
                held = read_resource(clients, resource.type, declared, real_id)
        else:
            held = read_resource(clients, resource.type, declared, real_id)
        for name, value in declared.items():
            if (resource.type, name) in NOT_HELD or (resource.type, name) in EMULATOR_LACKS:
                continue
            if not as_declared(name, value, held.get(name)):
                differences.append(f"{resource.urn} {name}: declared {value!r}, read {held.get(name)!r}")
    return differences


def _entry(resource: ResourcePlan) -> Any:
    if resource.type not in RESOURCE_TYPES or resource.type not in APPLY or resource.type not in READERS:
        raise ReplayError(
            f"the replay does not know the resource type {resource.type}: teach catalogue/resource_types.py, "
            "catalogue/readers.py and emulator/replay.py"
        )
    return RESOURCE_TYPES[resource.type]


def _pairs(plan: StackPlan, resource: ResourcePlan, real: Mapping[str, str]) -> dict[str, str]:
    """Each value the mocks invented for `resource`, with the real one of the same output."""
    from mock_runtime.runner import invented_pairs

    return invented_pairs(plan.account_id, resource.type, resource.name, unwrapped(resource.inputs), real)


# --- S3 ---------------------------------------------------------------------------------------------------


def _apply_bucket(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    s3, region = _s3(clients, inputs), region_of(inputs)
    location = {} if region == DEFAULT_REGION else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=inputs["bucket"], **location)
    if inputs.get("tags"):
        s3.put_bucket_tagging(Bucket=inputs["bucket"], Tagging={"TagSet": tag_set(inputs["tags"])})
    return {}


def _bucket_setting(put: str, argument: str, names: tuple[str, ...]) -> Apply:
    """A bucket sub-resource that one Put call of the API applies, its inputs `names` under `argument`."""

    def apply(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
        body = to_aws({name: inputs[name] for name in names if name in inputs})
        getattr(_s3(clients, inputs), put)(Bucket=inputs["bucket"], **{argument: body})
        return {}

    return apply


def _apply_ownership(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    controls = {"Rules": [to_aws(inputs["rule"])]}
    _s3(clients, inputs).put_bucket_ownership_controls(Bucket=inputs["bucket"], OwnershipControls=controls)
    return {}


def _apply_versioning(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    configuration = to_aws(inputs["versioningConfiguration"])
    _s3(clients, inputs).put_bucket_versioning(Bucket=inputs["bucket"], VersioningConfiguration=configuration)
    return {}


def _apply_logging(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    status = {"LoggingEnabled": {"TargetBucket": inputs["targetBucket"], "TargetPrefix": inputs["targetPrefix"]}}
    _s3(clients, inputs).put_bucket_logging(Bucket=inputs["bucket"], BucketLoggingStatus=status)
    return {}


def _apply_bucket_policy(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    # The same policy with its Allow statements first: moto 5, checking a log bucket's policy at PutBucketLogging,
    # reads each Principal as a mapping up to the delivery statement and fails on a TLS deny's `"Principal": "*"`.
    # Statement order means nothing to IAM, and the read-back compares statements as a set.
    document = json.loads(inputs["policy"])
    document["Statement"] = sorted(document["Statement"], key=lambda statement: statement["Effect"] != "Allow")
    _s3(clients, inputs).put_bucket_policy(Bucket=inputs["bucket"], Policy=json.dumps(document))
    return {}


def _apply_object(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    tagging = "&".join(f"{key}={value}" for key, value in (inputs.get("tags") or {}).items())
    _s3(clients, inputs).put_object(
        Bucket=inputs["bucket"],
        Key=inputs["key"],
        Body=inputs.get("content", "").encode(),
        ServerSideEncryption=inputs["serverSideEncryption"],
        Tagging=tagging,
    )
    return {}


@contextmanager
def policy_lifted(s3: Any, bucket: str) -> Iterator[None]:
    """The bucket without its policy while an object is read, then the same policy again: moto 5 refuses every
    object request under a Deny statement whatever its condition (a TLS-only deny refuses HTTPS too), where
    S3 evaluates the condition. `MOTO_LIMITS` lists it."""
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        yield
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)


# --- KMS ----------------------------------------------------------------------------------------------------


def _apply_key(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    kms = clients("kms", region_of(inputs))
    metadata = kms.create_key(
        Description=inputs.get("description", ""), Policy=inputs["policy"], Tags=_key_tags(inputs.get("tags"))
    )["KeyMetadata"]
    if inputs.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return {"id": metadata["KeyId"], "keyId": metadata["KeyId"], "arn": metadata["Arn"]}


def _key_tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"TagKey": key, "TagValue": value} for key, value in (tags or {}).items()]


# --- IAM ----------------------------------------------------------------------------------------------------


def _apply_group(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    clients("iam").create_group(GroupName=inputs["name"])
    return {}


def _apply_group_policy(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    clients("iam").put_group_policy(
        GroupName=inputs["group"], PolicyName=inputs["name"], PolicyDocument=inputs["policy"]
    )
    return {}


def _apply_membership(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    for user in inputs["users"]:
        clients("iam").add_user_to_group(GroupName=inputs["group"], UserName=user)
    return {}


def _exclusive(owner: str, names: str, listed: str, answer: str, remove: str, what: str) -> Apply:
    """An *Exclusive resource: the owner (a user or group) holds these inline policies (or attachments) and no
    other; the replay removes any other, as the provider does, and reads the list back."""
    owner_argument = "GroupName" if owner == "groupName" else "UserName"
    name_of = (lambda item: item) if what == "name" else (lambda item: item["PolicyArn"])

    def held(clients: Clients, inputs: dict[str, Any]) -> list[str]:
        return [name_of(item) for item in getattr(clients("iam"), listed)(**{owner_argument: inputs[owner]})[answer]]

    def apply(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
        for extra in set(held(clients, inputs)) - set(inputs[names]):
            key = "PolicyName" if what == "name" else "PolicyArn"
            getattr(clients("iam"), remove)(**{owner_argument: inputs[owner], key: extra})
        return {}

    return apply


def _apply_user(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    user = clients("iam").create_user(UserName=inputs["name"], Tags=tag_set(inputs.get("tags")))["User"]
    return {"arn": user["Arn"], "uniqueId": user["UserId"]}


def _apply_access_key(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    key = clients("iam").create_access_key(UserName=inputs["user"])["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


# --- Secrets Manager and Systems Manager ---------------------------------------------------------------------


def _apply_secret(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    secrets = clients("secretsmanager", region_of(inputs))
    optional = {"KmsKeyId": inputs["kmsKeyId"]} if inputs.get("kmsKeyId") else {}
    answer = secrets.create_secret(Name=inputs["name"], Tags=tag_set(inputs.get("tags")), **optional)
    return {"id": answer["ARN"], "arn": answer["ARN"]}


def _apply_secret_version(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    secrets = clients("secretsmanager", region_of(inputs))
    answer = secrets.put_secret_value(SecretId=inputs["secretId"], SecretString=inputs["secretString"])
    return {"id": f"{answer['ARN']}|{answer['VersionId']}"}


def _apply_parameter(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    ssm = clients("ssm", region_of(inputs))
    optional = {"KeyId": inputs["keyId"]} if inputs.get("keyId") else {}
    ssm.put_parameter(
        Name=inputs["name"], Type=inputs["type"], Value=inputs["value"], Tags=tag_set(inputs.get("tags")), **optional
    )
    return {}


# --- CloudFront -------------------------------------------------------------------------------------------


def _cloudfront(clients: Clients) -> Any:
    return clients("cloudfront", DEFAULT_REGION)


def _quantity(items: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(items), "Items": items}


def _apply_origin_access_control(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    config = to_aws(inputs)
    control = _cloudfront(clients).create_origin_access_control(OriginAccessControlConfig=config)
    return {"id": control["OriginAccessControl"]["Id"]}


def _apply_key_value_store(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    store = _cloudfront(clients).create_key_value_store(Name=inputs["name"], Comment=inputs.get("comment", ""))
    return {"id": store["KeyValueStore"]["Id"], "arn": store["KeyValueStore"]["ARN"]}


def _apply_function(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    associations = [{"KeyValueStoreARN": arn} for arn in inputs.get("keyValueStoreAssociations") or []]
    config = {
        "Comment": inputs.get("comment", ""),
        "Runtime": inputs["runtime"],
        "KeyValueStoreAssociations": _quantity(associations),
    }
    summary = _cloudfront(clients).create_function(
        Name=inputs["name"], FunctionConfig=config, FunctionCode=inputs["code"].encode()
    )["FunctionSummary"]
    return {"arn": summary["FunctionMetadata"]["FunctionARN"]}


def _apply_distribution(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    behavior = inputs["defaultCacheBehavior"]
    config = {
        "CallerReference": "tenant-storage-replay",
        "Comment": inputs.get("comment", ""),
        "Enabled": inputs["enabled"],
        "IsIPV6Enabled": inputs.get("isIpv6Enabled", False),
        "HttpVersion": inputs.get("httpVersion", "http2"),
        "Origins": _quantity(
            [
                {
                    "Id": origin["originId"],
                    "DomainName": origin["domainName"],
                    "OriginAccessControlId": origin.get("originAccessControlId", ""),
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
                for origin in inputs["origins"]
            ]
        ),
        "DefaultCacheBehavior": {
            "TargetOriginId": behavior["targetOriginId"],
            "ViewerProtocolPolicy": behavior["viewerProtocolPolicy"],
            "CachePolicyId": behavior.get("cachePolicyId", ""),
            "Compress": behavior.get("compress", False),
            "AllowedMethods": {
                **_quantity(behavior["allowedMethods"]),
                "CachedMethods": _quantity(behavior["cachedMethods"]),
            },
            "FunctionAssociations": _quantity(
                [
                    {"FunctionARN": item["functionArn"], "EventType": item["eventType"]}
                    for item in behavior.get("functionAssociations") or []
                ]
            ),
        },
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": inputs["viewerCertificate"].get("cloudfrontDefaultCertificate", False)
        },
        "Restrictions": {
            "GeoRestriction": {
                "RestrictionType": inputs["restrictions"]["geoRestriction"]["restrictionType"],
                "Quantity": 0,
            }
        },
    }
    tags = {"Items": tag_set(inputs.get("tags"))}
    distribution = _cloudfront(clients).create_distribution_with_tags(
        DistributionConfigWithTags={"DistributionConfig": config, "Tags": tags}
    )["Distribution"]
    return {"id": distribution["Id"], "arn": distribution["ARN"], "domainName": distribution["DomainName"]}


def _nothing(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    return {}


ACCESS_KEY = "aws:iam/accessKey:AccessKey"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"

APPLY: dict[str, Apply] = {
    "aws:s3/bucket:Bucket": _apply_bucket,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _apply_ownership,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(
        "put_public_access_block",
        "PublicAccessBlockConfiguration",
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting(
        "put_bucket_encryption", "ServerSideEncryptionConfiguration", ("rules",)
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _apply_versioning,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(
        "put_bucket_lifecycle_configuration", "LifecycleConfiguration", ("rules",)
    ),
    "aws:s3/bucketLogging:BucketLogging": _apply_logging,
    "aws:s3/bucketPolicy:BucketPolicy": _apply_bucket_policy,
    OBJECT: _apply_object,
    "aws:kms/key:Key": _apply_key,
    "aws:iam/group:Group": _apply_group,
    "aws:iam/groupPolicy:GroupPolicy": _apply_group_policy,
    "aws:iam/groupMembership:GroupMembership": _apply_membership,
    "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive": _exclusive(
        "groupName", "policyNames", "list_group_policies", "PolicyNames", "delete_group_policy", "name"
    ),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": _exclusive(
        "groupName", "policyArns", "list_attached_group_policies", "AttachedPolicies", "detach_group_policy", "arn"
    ),
    "aws:iam/user:User": _apply_user,
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive": _exclusive(
        "userName", "policyNames", "list_user_policies", "PolicyNames", "delete_user_policy", "name"
    ),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": _exclusive(
        "userName", "policyArns", "list_attached_user_policies", "AttachedPolicies", "detach_user_policy", "arn"
    ),
    ACCESS_KEY: _apply_access_key,
    "aws:secretsmanager/secret:Secret": _apply_secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _apply_secret_version,
    "aws:ssm/parameter:Parameter": _apply_parameter,
    # Not AWS: the random provider's value lives in the Pulumi state (and in the bucket names that use it).
    "random:index/randomId:RandomId": _nothing,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _apply_origin_access_control,
    "aws:cloudfront/keyValueStore:KeyValueStore": _apply_key_value_store,
    "aws:cloudfront/function:Function": _apply_function,
    "aws:cloudfront/distribution:Distribution": _apply_distribution,
    # Never called: the emulator cannot hold them (EMULATOR_LACKS_TYPES), and the replay says so.
    **dict.fromkeys(EMULATOR_LACKS_TYPES, _nothing),
}


def _s3(clients: Clients, inputs: Mapping[str, Any]) -> Any:
    return clients("s3", region_of(inputs))
