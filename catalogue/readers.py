"""How each resource type of the catalogue is read back from AWS, in the provider's spelling of its inputs.

One reader per type, used by the emulator's replay (to prove it made what the plan declares) and by `audit`
(to compare what an account holds with what the stack declares). A reader gets boto3 clients from its
caller (no boto3 import here) and returns the declared input names with the values AWS holds.

Every API call a reader makes is in its `operations` (and in `catalogue/actions.py` OPERATION_ACTIONS, with
the IAM action that authorizes it): a reader that calls anything else is refused, so the audit role, derived
from those lists, can never miss one. What AWS answers
sorts into three, never guessed: the resource or setting does not exist (`RESOURCE_ABSENT`,
`SETTING_ABSENT`: only those codes), or the caller was refused or something else went wrong (`Unreadable`,
naming the action needed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from catalogue.actions import OPERATION_ACTIONS, Operation

DEFAULT_REGION = "us-east-1"

# The codes that mean "no such resource": the only answers read as absent.
RESOURCE_ABSENT = frozenset(
    {
        "NoSuchBucket",
        "NoSuchEntity",
        "NotFoundException",
        "ResourceNotFoundException",
        "ParameterNotFound",
        "NoSuchKey",
        "NoSuchDistribution",
        "NoSuchOriginAccessControl",
        "NoSuchCachePolicy",
        "NoSuchFunctionExists",
        "EntityNotFound",
    }
)
# The codes that mean "the resource exists without this setting": the setting reads as not set.
SETTING_ABSENT = frozenset(
    {
        "NoSuchBucketPolicy",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchLifecycleConfiguration",
        "NoSuchTagSet",
        "NoSuchTagSetError",
        "ReplicationConfigurationNotFoundError",
        "NoSuchWebsiteConfiguration",
        "NoSuchCORSConfiguration",
    }
)


class UnlistedOperation(Exception):
    """A reader called an API operation `OPERATION_ACTIONS` does not list: add it (and the roles follow)."""


class Absent(Exception):
    """The resource does not exist (one of the `RESOURCE_ABSENT` codes)."""


# The codes of a refusal (a missing permission, an SCP, a resource policy): the read needs the action.
REFUSED = frozenset({"AccessDenied", "AccessDeniedException", "403", "Forbidden", "UnauthorizedOperation"})


class Unreadable(Exception):
    """AWS refused the read, or failed otherwise: what the resource holds is not known."""

    def __init__(self, action: str, code: str) -> None:
        self.action, self.code = action, code
        super().__init__(f"{code} on {action}")

    @property
    def reason(self) -> str:
        if self.code in REFUSED:
            return f"needs {self.action} ({self.code})"
        return f"{self.action} failed ({self.code}); run it again, or ask AWS support if it persists"


def error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


@dataclass
class Clients:
    """boto3 clients of one session and endpoint, one per service and region; each refuses a call that
    `OPERATION_ACTIONS` does not list (`allow_writes`: the replay, which applies the plan), and remembers the
    last call made, so a refusal names its action."""

    session: Any
    endpoint_url: str | None
    allow_writes: bool = False
    # How to make a client (a command's own, with its retry settings), instead of the session's plain one.
    factory: Callable[[str, str], Any] | None = None
    made: dict[tuple[str, str], Any] = field(default_factory=dict)
    calls: list[Operation] = field(default_factory=list)

    def __call__(self, service: str, region: str = DEFAULT_REGION) -> Any:
        if (service, region) not in self.made:
            client = (
                self.factory(service, region)
                if self.factory is not None
                else self.session.client(service, region_name=region, endpoint_url=self.endpoint_url)
            )
            client.meta.events.register("before-call", self._called)
            self.made[(service, region)] = client
        return self.made[(service, region)]

    def _called(self, model: Any, **_: Any) -> None:
        call = (model.service_model.service_name, model.name)
        if call not in OPERATION_ACTIONS and not self.allow_writes:
            raise UnlistedOperation(f"{call[0]} {call[1]} is not in catalogue/actions.py OPERATION_ACTIONS")
        self.calls.append(call)

    def action_of_last_call(self) -> str:
        service, operation = self.calls[-1] if self.calls else ("", "")
        return OPERATION_ACTIONS.get((service, operation), f"{service}:{operation}")


def read(
    clients: Clients, token: str, declared: dict[str, Any], real_id: str, *, secrets: bool = True
) -> dict[str, Any]:
    """The inputs of `token`'s resource as AWS holds them (without its `secret_inputs` unless `secrets`).
    Raises `Absent` or `Unreadable`."""
    reader = READERS[token]
    made = len(clients.calls)
    try:
        held = (reader.read if secrets or reader.without_secrets is None else reader.without_secrets)(
            clients, declared, real_id
        )
    except (Absent, Unreadable, UnlistedOperation):
        raise
    except Exception as error:  # botocore's ClientError, without importing botocore here
        code = error_code(error)
        if not code:
            raise
        if code in RESOURCE_ABSENT:
            raise Absent(code) from error
        raise Unreadable(clients.action_of_last_call(), code) from error
    allowed = reader.operations | (reader.secret_operations if secrets else frozenset())
    if unlisted := sorted(set(clients.calls[made:]) - allowed):
        raise UnlistedOperation(f"the reader of {token} called {unlisted}, which its `operations` do not list")
    return held


def absent_setting(call: Callable[[], Any], empty: Any) -> Any:
    """The answer of `call`, or `empty` when AWS says the setting is not there."""
    try:
        return call()
    except Exception as error:
        if error_code(error) in SETTING_ABSENT:
            return empty
        raise


# AWS's spelling of the few names that are not plain PascalCase of the provider's camelCase.
_AWS_NAMES = {"id": "ID", "sseAlgorithm": "SSEAlgorithm", "kmsMasterKeyId": "KMSMasterKeyID"}
_PROVIDER_NAMES = {aws: provider for provider, aws in _AWS_NAMES.items()}


def to_aws(value: Any) -> Any:
    """Provider inputs in the API's spelling: PascalCase names, whole numbers as integers."""
    return _respelt(value, lambda name: _AWS_NAMES.get(name, name[:1].upper() + name[1:]))


def from_aws(value: Any) -> Any:
    """An API answer in the provider's spelling: camelCase names."""
    return _respelt(value, lambda name: _PROVIDER_NAMES.get(name, name[:1].lower() + name[1:]))


def _respelt(value: Any, spelt: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {spelt(name): _respelt(item, spelt) for name, item in value.items()}
    if isinstance(value, list):
        return [_respelt(item, spelt) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def tag_set(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in (tags or {}).items()]


def tags_of(tag_set: list[dict[str, str]]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def region_of(inputs: Mapping[str, Any]) -> str:
    return str(inputs.get("region") or DEFAULT_REGION)


def _s3(clients: Clients, inputs: Mapping[str, Any]) -> Any:
    return clients("s3", region_of(inputs))


Read = Callable[[Clients, dict[str, Any], str], dict[str, Any]]  # the inputs as the API returns them, by real id


@dataclass(frozen=True)
class Reader:
    read: Read
    # Every API call the reader makes (with or without secrets): the audit role is derived from these.
    operations: frozenset[Operation]
    # Inputs no API reads back (a value of the Pulumi state only, a setting applied only later), each with its
    # reason: every comparison skips them and says why.
    not_held: Mapping[str, str] = field(default_factory=dict)
    # For a type that holds a secret value: how to read it without the value (the audit never reads one), and
    # the inputs that leaves out.
    without_secrets: Read | None = None
    secret_inputs: frozenset[str] = frozenset()
    # The calls that read a secret's value: never made without secrets, never in the audit role.
    secret_operations: frozenset[Operation] = frozenset()


# --- S3 ---------------------------------------------------------------------------------------------------


def _read_bucket(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    s3 = _s3(clients, inputs)
    location = s3.get_bucket_location(Bucket=inputs["bucket"])["LocationConstraint"] or DEFAULT_REGION
    tags = tags_of(absent_setting(lambda: s3.get_bucket_tagging(Bucket=inputs["bucket"])["TagSet"], []))
    return {"bucket": inputs["bucket"], "region": location, "tags": tags or None}


def _setting(get: str, answer: str, operation: str, list_input: str = "") -> Reader:
    """A bucket sub-resource that one Get call of the API reads, its inputs in the answer's `answer` (or, when
    that is a list, the list is the one input `list_input`)."""

    def read(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
        s3 = _s3(clients, inputs)
        held = from_aws(absent_setting(lambda: getattr(s3, get)(Bucket=inputs["bucket"]), {}).get(answer, {}))
        if isinstance(held, list):  # the answer is the one input itself (a lifecycle's Rules)
            held = {list_input: held}
        return {"bucket": inputs["bucket"], "region": inputs.get("region"), **held}

    return Reader(read, frozenset({("s3", operation)}))


def _read_ownership(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    s3 = _s3(clients, inputs)
    controls = absent_setting(lambda: s3.get_bucket_ownership_controls(Bucket=inputs["bucket"]), {})
    rules = controls.get("OwnershipControls", {}).get("Rules", [])
    return {"bucket": inputs["bucket"], "region": inputs.get("region"), "rule": from_aws(rules[0]) if rules else None}


def _read_versioning(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = _s3(clients, inputs).get_bucket_versioning(Bucket=inputs["bucket"])
    held = {"status": answer.get("Status")} | ({"mfaDelete": answer["MFADelete"]} if "MFADelete" in answer else {})
    return {"bucket": inputs["bucket"], "region": inputs.get("region"), "versioningConfiguration": held}


def _read_logging(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    enabled = _s3(clients, inputs).get_bucket_logging(Bucket=inputs["bucket"]).get("LoggingEnabled", {})
    return {
        "bucket": inputs["bucket"],
        "region": inputs.get("region"),
        "targetBucket": enabled.get("TargetBucket"),
        "targetPrefix": enabled.get("TargetPrefix"),
    }


def _read_bucket_policy(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    s3 = _s3(clients, inputs)
    policy = absent_setting(lambda: s3.get_bucket_policy(Bucket=inputs["bucket"])["Policy"], None)
    return {"bucket": inputs["bucket"], "region": inputs.get("region"), "policy": policy}


def _read_object(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    s3 = _s3(clients, inputs)
    answer = s3.get_object(Bucket=inputs["bucket"], Key=inputs["key"])
    tags = tags_of(s3.get_object_tagging(Bucket=inputs["bucket"], Key=inputs["key"])["TagSet"])
    # As much as the declared content and one byte more: a tenant may write anything there, of any size.
    declared = str(inputs.get("content", ""))
    content = answer["Body"].read(len(declared.encode()) + 1).decode(errors="replace")
    answer["Body"].close()
    return {
        "bucket": inputs["bucket"],
        "region": inputs.get("region"),
        "key": inputs["key"],
        "content": content,
        "serverSideEncryption": answer.get("ServerSideEncryption"),
        "tags": tags,
    }


# --- KMS ----------------------------------------------------------------------------------------------------


def _read_key(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    kms = clients("kms", region_of(inputs))
    tags = {tag["TagKey"]: tag["TagValue"] for tag in kms.list_resource_tags(KeyId=real_id).get("Tags", [])}
    return {
        "region": inputs.get("region"),
        "description": kms.describe_key(KeyId=real_id)["KeyMetadata"].get("Description"),
        "policy": kms.get_key_policy(KeyId=real_id, PolicyName="default")["Policy"],
        "enableKeyRotation": kms.get_key_rotation_status(KeyId=real_id)["KeyRotationEnabled"],
        "tags": tags or None,
    }


# --- IAM ----------------------------------------------------------------------------------------------------


def _read_group(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    return {"name": clients("iam").get_group(GroupName=inputs["name"])["Group"]["GroupName"]}


def _read_group_policy(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = clients("iam").get_group_policy(GroupName=inputs["group"], PolicyName=inputs["name"])
    document = answer["PolicyDocument"]
    return {
        "group": answer["GroupName"],
        "name": answer["PolicyName"],
        "policy": document if isinstance(document, str) else json.dumps(document),
    }


def _read_membership(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    pages = clients("iam").get_paginator("get_group").paginate(GroupName=inputs["group"])
    return {"group": inputs["group"], "users": [user["UserName"] for page in pages for user in page["Users"]]}


def exclusive(owner: str, names: str, listed: str, answer: str, what: str) -> Reader:
    operation = ("iam", "".join(part.capitalize() for part in listed.split("_")))
    """An *Exclusive resource: the owner (a user or group) holds these inline policies (or attachments) and no
    other; read as the list the owner holds."""
    owner_argument = "GroupName" if owner == "groupName" else "UserName"
    name_of = (lambda item: item) if what == "name" else (lambda item: item["PolicyArn"])

    def read(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
        pages = clients("iam").get_paginator(listed).paginate(**{owner_argument: inputs[owner]})
        return {owner: inputs[owner], names: [name_of(item) for page in pages for item in page[answer]]}

    return Reader(read, frozenset({operation}))


def _read_user(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    iam = clients("iam")
    user = iam.get_user(UserName=inputs["name"])["User"]
    return {"name": user["UserName"], "tags": tags_of(iam.list_user_tags(UserName=inputs["name"])["Tags"]) or None}


def _read_access_key(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    keys = clients("iam").list_access_keys(UserName=inputs["user"])["AccessKeyMetadata"]
    # The key made by the deploy, still active: another key of the same user is not this resource.
    held = any(key["AccessKeyId"] == real_id and key["Status"] == "Active" for key in keys)
    return {"user": inputs["user"] if held else None}


# --- Secrets Manager and Systems Manager ---------------------------------------------------------------------


def _read_secret(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = clients("secretsmanager", region_of(inputs)).describe_secret(SecretId=inputs["name"])
    held = {"name": answer["Name"], "region": inputs.get("region"), "tags": tags_of(answer.get("Tags", [])) or None}
    return held | ({"kmsKeyId": answer["KmsKeyId"]} if "KmsKeyId" in answer else {})


def _read_secret_version(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = clients("secretsmanager", region_of(inputs)).get_secret_value(SecretId=inputs["secretId"])
    return {"region": inputs.get("region"), "secretId": answer["ARN"], "secretString": answer["SecretString"]}


def _read_secret_version_metadata(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = clients("secretsmanager", region_of(inputs)).describe_secret(SecretId=inputs["secretId"])
    current = any("AWSCURRENT" in stages for stages in answer.get("VersionIdsToStages", {}).values())
    return {"region": inputs.get("region"), "secretId": answer["ARN"] if current else None}


def _read_parameter_metadata(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    ssm = clients("ssm", region_of(inputs))
    found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [inputs["name"]]}])["Parameters"]
    if not found:
        raise Absent("ParameterNotFound")
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=inputs["name"])["TagList"]
    held = {"name": found[0]["Name"], "type": found[0]["Type"], "region": inputs.get("region")}
    return held | {"tags": tags_of(tags) or None} | ({"keyId": found[0]["KeyId"]} if "KeyId" in found[0] else {})


def _read_parameter(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    ssm = clients("ssm", region_of(inputs))
    parameter = ssm.get_parameter(Name=inputs["name"], WithDecryption=True)["Parameter"]
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=inputs["name"])["TagList"]
    return {
        "name": parameter["Name"],
        "type": parameter["Type"],
        "value": parameter["Value"],
        "region": inputs.get("region"),
        "tags": tags_of(tags) or None,
    } | ({"keyId": inputs["keyId"]} if "keyId" in inputs else {})


# --- CloudFront -------------------------------------------------------------------------------------------
# A global service, whose API answers in us-east-1. Each reader returns the inputs in the provider's shape
# (components/stack_storage.py declares them), from the API's: lists as their `Items`.


def _cloudfront(clients: Clients) -> Any:
    return clients("cloudfront", DEFAULT_REGION)


def _items(value: Mapping[str, Any] | None) -> list[Any]:
    return list((value or {}).get("Items") or [])


def _read_origin_access_control(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    control = _cloudfront(clients).get_origin_access_control(Id=real_id)["OriginAccessControl"]
    return dict(from_aws(control["OriginAccessControlConfig"]))


def _read_key_value_store(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    store = _cloudfront(clients).describe_key_value_store(Name=inputs["name"])["KeyValueStore"]
    return {"name": store["Name"], "comment": store.get("Comment")}


def _read_key_value_pairs(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    store = clients("cloudfront-keyvaluestore", DEFAULT_REGION)
    arn = inputs["keyValueStoreArn"]
    store.describe_key_value_store(KvsARN=arn)
    pairs = [
        {"key": item["Key"], "value": item["Value"]}
        for page in store.get_paginator("list_keys").paginate(KvsARN=arn)
        for item in page.get("Items", [])
    ]
    return {"keyValueStoreArn": arn, "resourceKeyValuePairs": pairs}


def _read_function(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    cloudfront, name = _cloudfront(clients), inputs["name"]
    config = cloudfront.describe_function(Name=name, Stage="DEVELOPMENT")["FunctionSummary"]["FunctionConfig"]
    code = cloudfront.get_function(Name=name, Stage="DEVELOPMENT")["FunctionCode"].read().decode()
    # Published: the LIVE stage, which viewers run, holds the code declared (an unpublished edit shows here).
    live = cloudfront.get_function(Name=name, Stage="LIVE")["FunctionCode"].read().decode()
    return {
        "name": name,
        "runtime": config.get("Runtime"),
        "comment": config.get("Comment"),
        "code": code,
        "keyValueStoreAssociations": [
            item["KeyValueStoreARN"] for item in _items(config.get("KeyValueStoreAssociations"))
        ],
        "publish": live == code,
    }


_CACHE_TTLS = {"DefaultTTL": "defaultTtl", "MaxTTL": "maxTtl", "MinTTL": "minTtl"}


def _read_cache_policy(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    config = _cloudfront(clients).get_cache_policy(Id=real_id)["CachePolicy"]["CachePolicyConfig"]
    parameters = config.get("ParametersInCacheKeyAndForwardedToOrigin", {})
    held: dict[str, Any] = {"name": config["Name"], "comment": config.get("Comment")}
    held |= {provider: config.get(api) for api, provider in _CACHE_TTLS.items()}
    key: dict[str, Any] = {
        "enableAcceptEncodingGzip": parameters.get("EnableAcceptEncodingGzip"),
        "enableAcceptEncodingBrotli": parameters.get("EnableAcceptEncodingBrotli"),
    }
    for part, behavior, listed in (
        ("Cookies", "CookieBehavior", "cookies"),
        ("Headers", "HeaderBehavior", "headers"),
        ("QueryStrings", "QueryStringBehavior", "queryStrings"),
    ):
        answer = parameters.get(f"{part}Config", {})
        given = {behavior[:1].lower() + behavior[1:]: answer.get(behavior)}
        if _items(answer.get(part)):
            given[listed] = {"items": _items(answer.get(part))}
        key[f"{part[:1].lower()}{part[1:]}Config"] = given
    return held | {"parametersInCacheKeyAndForwardedToOrigin": key}


def _read_distribution(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    cloudfront = _cloudfront(clients)
    distribution = cloudfront.get_distribution(Id=real_id)["Distribution"]
    config = distribution["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    methods = behavior.get("AllowedMethods", {})
    tags = tags_of(_items(cloudfront.list_tags_for_resource(Resource=distribution["ARN"]).get("Tags")))
    certificate = config.get("ViewerCertificate", {})
    return {
        "comment": config.get("Comment"),
        "enabled": config.get("Enabled"),
        "isIpv6Enabled": config.get("IsIPV6Enabled"),
        "httpVersion": config.get("HttpVersion"),
        "origins": [
            {
                "originId": origin["Id"],
                "domainName": origin["DomainName"],
                "originAccessControlId": origin.get("OriginAccessControlId"),
            }
            for origin in _items(config.get("Origins"))
        ],
        "defaultCacheBehavior": {
            "targetOriginId": behavior.get("TargetOriginId"),
            "allowedMethods": _items(methods),
            "cachedMethods": _items(methods.get("CachedMethods")),
            "viewerProtocolPolicy": behavior.get("ViewerProtocolPolicy"),
            "cachePolicyId": behavior.get("CachePolicyId"),
            "compress": behavior.get("Compress"),
            "functionAssociations": [
                {"eventType": item["EventType"], "functionArn": item["FunctionARN"]}
                for item in _items(behavior.get("FunctionAssociations"))
            ],
        },
        "restrictions": {
            "geoRestriction": {
                "restrictionType": config.get("Restrictions", {}).get("GeoRestriction", {}).get("RestrictionType")
            }
        },
        "viewerCertificate": {"cloudfrontDefaultCertificate": certificate.get("CloudFrontDefaultCertificate")},
        "tags": tags or None,
    }


def _cloudfront_ops(*names: str) -> frozenset[Operation]:
    return frozenset(("cloudfront", name) for name in names)


def _as_declared(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    return dict(inputs)


_STATE_ONLY = "a value of the Pulumi state only (the random provider); the bucket names that hold it are compared"


def _s3_ops(*names: str) -> frozenset[Operation]:
    return frozenset(("s3", name) for name in names)


def _iam_ops(*names: str) -> frozenset[Operation]:
    return frozenset(("iam", name) for name in names)


READERS: dict[str, Reader] = {
    "aws:s3/bucket:Bucket": Reader(
        _read_bucket,
        _s3_ops("GetBucketLocation", "GetBucketTagging"),
        {"bucketNamespace": "only CreateBucket carries it (x-amz-bucket-namespace); no read API returns it"},
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Reader(
        _read_ownership, _s3_ops("GetBucketOwnershipControls")
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _setting(
        "get_public_access_block", "PublicAccessBlockConfiguration", "GetPublicAccessBlock"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _setting(
        "get_bucket_encryption", "ServerSideEncryptionConfiguration", "GetBucketEncryption"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": Reader(_read_versioning, _s3_ops("GetBucketVersioning")),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _setting(
        "get_bucket_lifecycle_configuration", "Rules", "GetBucketLifecycleConfiguration", list_input="rules"
    ),
    "aws:s3/bucketLogging:BucketLogging": Reader(_read_logging, _s3_ops("GetBucketLogging")),
    "aws:s3/bucketPolicy:BucketPolicy": Reader(_read_bucket_policy, _s3_ops("GetBucketPolicy")),
    "aws:s3/bucketObjectv2:BucketObjectv2": Reader(_read_object, _s3_ops("GetObject", "GetObjectTagging")),
    "aws:kms/key:Key": Reader(
        _read_key,
        frozenset(
            ("kms", name) for name in ("DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags")
        ),
        {"deletionWindowInDays": "applies only once the key is scheduled for deletion; no API reads it"},
    ),
    "aws:iam/group:Group": Reader(_read_group, _iam_ops("GetGroup")),
    "aws:iam/groupPolicy:GroupPolicy": Reader(_read_group_policy, _iam_ops("GetGroupPolicy")),
    "aws:iam/groupMembership:GroupMembership": Reader(_read_membership, _iam_ops("GetGroup")),
    "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive": exclusive(
        "groupName", "policyNames", "list_group_policies", "PolicyNames", "name"
    ),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": exclusive(
        "groupName", "policyArns", "list_attached_group_policies", "AttachedPolicies", "arn"
    ),
    "aws:iam/user:User": Reader(_read_user, _iam_ops("GetUser", "ListUserTags")),
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive": exclusive(
        "userName", "policyNames", "list_user_policies", "PolicyNames", "name"
    ),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": exclusive(
        "userName", "policyArns", "list_attached_user_policies", "AttachedPolicies", "arn"
    ),
    "aws:iam/accessKey:AccessKey": Reader(_read_access_key, _iam_ops("ListAccessKeys")),
    "aws:secretsmanager/secret:Secret": Reader(_read_secret, frozenset({("secretsmanager", "DescribeSecret")})),
    "aws:secretsmanager/secretVersion:SecretVersion": Reader(
        _read_secret_version,
        frozenset({("secretsmanager", "DescribeSecret")}),
        without_secrets=_read_secret_version_metadata,
        secret_inputs=frozenset({"secretString"}),
        secret_operations=frozenset({("secretsmanager", "GetSecretValue")}),
    ),
    "aws:ssm/parameter:Parameter": Reader(
        _read_parameter,
        frozenset({("ssm", "DescribeParameters"), ("ssm", "ListTagsForResource")}),
        without_secrets=_read_parameter_metadata,
        secret_inputs=frozenset({"value"}),
        secret_operations=frozenset({("ssm", "GetParameter")}),
    ),
    "random:index/randomId:RandomId": Reader(
        _as_declared, frozenset(), {"byteLength": _STATE_ONLY, "keepers": _STATE_ONLY}
    ),
    "aws:cloudfront/originAccessControl:OriginAccessControl": Reader(
        _read_origin_access_control, _cloudfront_ops("GetOriginAccessControl")
    ),
    "aws:cloudfront/keyValueStore:KeyValueStore": Reader(
        _read_key_value_store, _cloudfront_ops("DescribeKeyValueStore")
    ),
    "aws:cloudfront/keyvaluestoreKeysExclusive:KeyvaluestoreKeysExclusive": Reader(
        _read_key_value_pairs,
        frozenset({("cloudfront-keyvaluestore", "DescribeKeyValueStore"), ("cloudfront-keyvaluestore", "ListKeys")}),
    ),
    "aws:cloudfront/function:Function": Reader(_read_function, _cloudfront_ops("DescribeFunction", "GetFunction")),
    "aws:cloudfront/cachePolicy:CachePolicy": Reader(_read_cache_policy, _cloudfront_ops("GetCachePolicy")),
    "aws:cloudfront/distribution:Distribution": Reader(
        _read_distribution, _cloudfront_ops("GetDistribution", "ListTagsForResource")
    ),
}
