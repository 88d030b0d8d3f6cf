"""Apply a stack's offline plan to an AWS endpoint: what `pulumi up` would leave in the account.

Every resource the plan declares is made through the AWS API with exactly the inputs the plan declares,
in the plan's order (the engine registers a resource once its inputs are known, so after what it uses).
Each resource type has one `Kind`: the inputs it applies, how it applies them and how it reads them back.
A type without a Kind, or an input a Kind does not name, stops the replay: a new resource or setting
cannot be left out of "the declared state" without anyone noticing. What the emulator cannot hold is in
one list, `NOT_HELD`, each entry with its reason.

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

from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

from review.plan import ResourcePlan, StackPlan

DEFAULT_REGION = "us-east-1"

# What the emulator cannot hold or read back, by (type, input): the replay applies what it can and the
# read-back comparison skips these, each for the reason given.
NOT_HELD: dict[tuple[str, str], str] = {
    ("aws:kms/key:Key", "deletionWindowInDays"): "applies only once the key is scheduled for deletion; no API "
    "reads it before",
    ("random:index/randomId:RandomId", "byteLength"): "a value of the Pulumi state only (the random provider), "
    "not of AWS; the bucket names that hold the suffix are compared",
    ("random:index/randomId:RandomId", "keepers"): "a value of the Pulumi state only (the random provider)",
}

# Where moto 5 behaves unlike AWS with what the replay applies, and what the replay does about it.
MOTO_LIMITS = {
    "bucket policy conditions": "a Deny statement refuses every object request whatever its condition; the "
    "read-back lifts the policy while it reads an object",
    "log bucket policy": "PutBucketLogging fails on a Principal that is not a mapping before the delivery "
    "statement; the replay puts the Allow statements first (statement order means nothing to IAM)",
}

# AWS's spelling of the few names that are not plain PascalCase of the provider's camelCase.
_AWS_NAMES = {"id": "ID", "sseAlgorithm": "SSEAlgorithm", "kmsMasterKeyId": "KMSMasterKeyID"}
_PROVIDER_NAMES = {aws: provider for provider, aws in _AWS_NAMES.items()}


class ReplayError(Exception):
    """The plan holds what the replay cannot apply: a type or an input it does not know."""


@dataclass
class Clients:
    """boto3 clients of one session and endpoint, one per service and region."""

    session: Any
    endpoint_url: str | None
    made: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __call__(self, service: str, region: str = DEFAULT_REGION) -> Any:
        if (service, region) not in self.made:
            self.made[(service, region)] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url
            )
        return self.made[(service, region)]


Apply = Callable[[Clients, dict[str, Any]], dict[str, str]]  # returns the real outputs that differ from mocks
Read = Callable[[Clients, dict[str, Any], str], dict[str, Any]]  # the inputs as the API returns them, by real id


@dataclass(frozen=True)
class Kind:
    inputs: frozenset[str]
    apply: Apply
    read: Read


@dataclass
class Replayed:
    """What the replay made: each mocked value's real one, and the access keys it created, by user."""

    plan: StackPlan
    real_values: dict[str, str] = field(default_factory=dict)
    access_keys: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def inputs_of(self, resource: ResourcePlan) -> dict[str, Any]:
        """`resource`'s inputs with every secret unwrapped and every mocked value replaced by the real one."""
        text = json.dumps(_unwrapped(resource.inputs))
        for mocked, real in sorted(self.real_values.items(), key=lambda pair: -len(pair[0])):
            text = text.replace(json.dumps(mocked)[1:-1], json.dumps(real)[1:-1])
        return dict(json.loads(text))


def replay(plan: StackPlan, session: Any, endpoint_url: str | None = None) -> Replayed:
    """Make every resource of `plan` through `session` (at `endpoint_url`), checking first that every type
    and input is known and that the caller is the plan's account."""
    if plan.refused:
        raise ReplayError(f"stack {plan.stack} is refused: {plan.errors[0]}")
    unknown = sorted(
        {f"{r.type} (input {name})" for r in plan.resources for name in r.inputs if name not in _kind(r).inputs}
    )
    if unknown:
        raise ReplayError(f"the replay does not know {', '.join(unknown)}: teach emulator/replay.py")
    clients = Clients(session, endpoint_url)
    account = clients("sts").get_caller_identity()["Account"]
    if plan.account_id and account != plan.account_id:
        raise ReplayError(f"the endpoint's caller is account {account}, the plan is of account {plan.account_id}")
    replayed = Replayed(plan)
    for resource in in_dependency_order(plan.resources):
        inputs = replayed.inputs_of(resource)
        real = _kind(resource).apply(clients, inputs)
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
    clients = Clients(session, endpoint_url)
    differences = []
    for resource in replayed.plan.resources:
        declared = replayed.inputs_of(resource)
        held = _kind(resource).read(clients, declared, replayed.real_values.get(resource.id, resource.id))
        for name, value in declared.items():
            if (resource.type, name) in NOT_HELD:
                continue
            if not _as_declared_by(name, value, held.get(name)):
                differences.append(f"{resource.urn} {name}: declared {value!r}, read {held.get(name)!r}")
    return differences


def _kind(resource: ResourcePlan) -> Kind:
    if resource.type.startswith("tenant-storage:"):
        return COMPONENT
    if resource.type not in KINDS:
        raise ReplayError(f"the replay does not know the resource type {resource.type}: teach emulator/replay.py")
    return KINDS[resource.type]


def _pairs(plan: StackPlan, resource: ResourcePlan, real: Mapping[str, str]) -> dict[str, str]:
    """Each value the mocks invented for `resource`, with the real one of the same output."""
    from pulumi.runtime.mocks import MockResourceArgs

    from mock_runtime.runner import OfflineMocks

    mocks = OfflineMocks(plan.account_id or "0" * 12)
    inputs = {name: value for name, value in _unwrapped(resource.inputs).items() if name != "region"}
    mocked_id, mocked = mocks.new_resource(MockResourceArgs(resource.type, resource.name, inputs, custom=True))
    mocked = {**mocked, "id": mocked_id}
    return {
        str(mocked[name]): value
        for name, value in real.items()
        if isinstance(mocked.get(name), str) and mocked[name] and mocked[name] != value
    }


def _unwrapped(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_special_sig_key) == _special_secret_sig:  # how the engine marks a secret value
            return _unwrapped(value["value"])
        return {name: _unwrapped(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    return value


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


def _as_declared_by(name: str, declared: Any, held: Any) -> bool:
    """A document (a policy, a secret's JSON) and a set of tags are held exactly as declared: nothing added to
    them is a default, and an added Condition or Principal changes what they allow. A setting may also carry
    fields the API adds at their defaults."""
    exact = name == "tags" or (isinstance(declared, str) and declared[:1] == "{")
    if exact:
        return bool(_normalised(held) == _normalised(declared))
    return holds(_normalised(held), _normalised(declared))


def holds(held: Any, declared: Any) -> bool:
    """Whether `held` is what `declared` asks for: every declared field equal, where the API may add fields at
    their defaults (a bucket key `false` where none was declared); a list item for item, in any order."""
    if isinstance(declared, dict):
        return isinstance(held, dict) and all(holds(held.get(name), item) for name, item in declared.items())
    if isinstance(declared, list):
        if not isinstance(held, list) or len(held) != len(declared):
            return False
        unmatched = list(held)
        for item in declared:
            match = next((candidate for candidate in unmatched if holds(candidate, item)), None)
            if match is None:
                return False
            unmatched.remove(match)
        return True
    return bool(held == declared)


def _normalised(value: Any) -> Any:
    """A value compared for what it means: JSON documents parsed, whole numbers as integers, unordered lists
    (names, rules) sorted."""
    if isinstance(value, str) and value[:1] == "{":
        try:
            return _normalised(json.loads(value))
        except json.JSONDecodeError:
            return value
    if isinstance(value, dict):
        return {name: _normalised(item) for name, item in value.items()}
    if isinstance(value, list):
        return sorted((_normalised(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _tag_set(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in (tags or {}).items()]


def _tags(tag_set: list[dict[str, str]]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def _s3(clients: Clients, inputs: Mapping[str, Any]) -> Any:
    return clients("s3", inputs.get("region") or DEFAULT_REGION)


def _client_error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


# --- S3 ---------------------------------------------------------------------------------------------------


def _apply_bucket(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    s3, region = _s3(clients, inputs), inputs.get("region") or DEFAULT_REGION
    location = {} if region == DEFAULT_REGION else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=inputs["bucket"], **location)
    if inputs.get("tags"):
        s3.put_bucket_tagging(Bucket=inputs["bucket"], Tagging={"TagSet": _tag_set(inputs["tags"])})
    return {}


def _read_bucket(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    s3 = _s3(clients, inputs)
    location = s3.get_bucket_location(Bucket=inputs["bucket"])["LocationConstraint"] or DEFAULT_REGION
    try:
        tags = _tags(s3.get_bucket_tagging(Bucket=inputs["bucket"])["TagSet"])
    except Exception as error:  # botocore's ClientError, without importing botocore here
        if _client_error_code(error) != "NoSuchTagSet":
            raise
        tags = {}
    return {"bucket": inputs["bucket"], "region": location, "tags": tags or None}


def _bucket_setting(put: str, get: str, argument: str, answer: str, names: tuple[str, ...]) -> Kind:
    """A bucket sub-resource that is one Put/Get pair of the API, its inputs `names` under `argument`."""

    def apply(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
        body = to_aws({name: inputs[name] for name in names if name in inputs})
        getattr(_s3(clients, inputs), put)(Bucket=inputs["bucket"], **{argument: body})
        return {}

    def read(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
        held = from_aws(getattr(_s3(clients, inputs), get)(Bucket=inputs["bucket"]).get(answer, {}))
        if isinstance(held, list):  # the answer is the one input itself (a lifecycle's Rules)
            held = {names[0]: held}
        return {"bucket": inputs["bucket"], "region": inputs.get("region"), **held}

    return Kind(frozenset({"bucket", "region", *names}), apply, read)


def _apply_ownership(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    controls = {"Rules": [to_aws(inputs["rule"])]}
    _s3(clients, inputs).put_bucket_ownership_controls(Bucket=inputs["bucket"], OwnershipControls=controls)
    return {}


def _read_ownership(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    [rule] = _s3(clients, inputs).get_bucket_ownership_controls(Bucket=inputs["bucket"])["OwnershipControls"]["Rules"]
    return {"bucket": inputs["bucket"], "region": inputs.get("region"), "rule": from_aws(rule)}


def _apply_versioning(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    configuration = to_aws(inputs["versioningConfiguration"])
    _s3(clients, inputs).put_bucket_versioning(Bucket=inputs["bucket"], VersioningConfiguration=configuration)
    return {}


def _read_versioning(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = _s3(clients, inputs).get_bucket_versioning(Bucket=inputs["bucket"])
    held = {"status": answer.get("Status")} | ({"mfaDelete": answer["MFADelete"]} if "MFADelete" in answer else {})
    return {"bucket": inputs["bucket"], "region": inputs.get("region"), "versioningConfiguration": held}


def _apply_logging(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    status = {"LoggingEnabled": {"TargetBucket": inputs["targetBucket"], "TargetPrefix": inputs["targetPrefix"]}}
    _s3(clients, inputs).put_bucket_logging(Bucket=inputs["bucket"], BucketLoggingStatus=status)
    return {}


def _read_logging(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    enabled = _s3(clients, inputs).get_bucket_logging(Bucket=inputs["bucket"]).get("LoggingEnabled", {})
    return {
        "bucket": inputs["bucket"],
        "region": inputs.get("region"),
        "targetBucket": enabled.get("TargetBucket"),
        "targetPrefix": enabled.get("TargetPrefix"),
    }


def _apply_bucket_policy(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    # The same policy with its Allow statements first: moto 5, checking a log bucket's policy at PutBucketLogging,
    # reads each Principal as a mapping up to the delivery statement and fails on a TLS deny's `"Principal": "*"`.
    # Statement order means nothing to IAM, and the read-back compares statements as a set.
    document = json.loads(inputs["policy"])
    document["Statement"] = sorted(document["Statement"], key=lambda statement: statement["Effect"] != "Allow")
    _s3(clients, inputs).put_bucket_policy(Bucket=inputs["bucket"], Policy=json.dumps(document))
    return {}


def _read_bucket_policy(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    policy = _s3(clients, inputs).get_bucket_policy(Bucket=inputs["bucket"])["Policy"]
    return {"bucket": inputs["bucket"], "region": inputs.get("region"), "policy": policy}


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


def _read_object(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    s3 = _s3(clients, inputs)
    with policy_lifted(s3, inputs["bucket"]):
        answer = s3.get_object(Bucket=inputs["bucket"], Key=inputs["key"])
        tags = _tags(s3.get_object_tagging(Bucket=inputs["bucket"], Key=inputs["key"])["TagSet"])
    return {
        "bucket": inputs["bucket"],
        "region": inputs.get("region"),
        "key": inputs["key"],
        "content": answer["Body"].read().decode(),
        "serverSideEncryption": answer.get("ServerSideEncryption"),
        "tags": tags,
    }


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
    kms = clients("kms", inputs.get("region") or DEFAULT_REGION)
    metadata = kms.create_key(
        Description=inputs.get("description", ""), Policy=inputs["policy"], Tags=_key_tags(inputs.get("tags"))
    )["KeyMetadata"]
    if inputs.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return {"id": metadata["KeyId"], "keyId": metadata["KeyId"], "arn": metadata["Arn"]}


def _key_tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"TagKey": key, "TagValue": value} for key, value in (tags or {}).items()]


def _read_key(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    kms = clients("kms", inputs.get("region") or DEFAULT_REGION)
    key_id = real_id
    tags = {tag["TagKey"]: tag["TagValue"] for tag in kms.list_resource_tags(KeyId=key_id).get("Tags", [])}
    return {
        "region": inputs.get("region"),
        "description": kms.describe_key(KeyId=key_id)["KeyMetadata"].get("Description"),
        "policy": kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"],
        "enableKeyRotation": kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
        "tags": tags or None,
    }


# --- IAM ----------------------------------------------------------------------------------------------------


def _apply_group(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    clients("iam").create_group(GroupName=inputs["name"])
    return {}


def _read_group(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    return {"name": clients("iam").get_group(GroupName=inputs["name"])["Group"]["GroupName"]}


def _apply_group_policy(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    clients("iam").put_group_policy(
        GroupName=inputs["group"], PolicyName=inputs["name"], PolicyDocument=inputs["policy"]
    )
    return {}


def _read_group_policy(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = clients("iam").get_group_policy(GroupName=inputs["group"], PolicyName=inputs["name"])
    document = answer["PolicyDocument"]
    return {
        "group": answer["GroupName"],
        "name": answer["PolicyName"],
        "policy": document if isinstance(document, str) else json.dumps(document),
    }


def _apply_membership(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    for user in inputs["users"]:
        clients("iam").add_user_to_group(GroupName=inputs["group"], UserName=user)
    return {}


def _read_membership(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    users = clients("iam").get_group(GroupName=inputs["group"])["Users"]
    return {"group": inputs["group"], "users": [user["UserName"] for user in users]}


def _exclusive(owner: str, names: str, listed: str, answer: str, remove: str, what: str) -> Kind:
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

    def read(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
        return {owner: inputs[owner], names: held(clients, inputs)}

    return Kind(frozenset({owner, names}), apply, read)


def _apply_user(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    user = clients("iam").create_user(UserName=inputs["name"], Tags=_tag_set(inputs.get("tags")))["User"]
    return {"arn": user["Arn"], "uniqueId": user["UserId"]}


def _read_user(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    iam = clients("iam")
    user = iam.get_user(UserName=inputs["name"])["User"]
    return {"name": user["UserName"], "tags": _tags(iam.list_user_tags(UserName=inputs["name"])["Tags"]) or None}


def _apply_access_key(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    key = clients("iam").create_access_key(UserName=inputs["user"])["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def _read_access_key(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    keys = clients("iam").list_access_keys(UserName=inputs["user"])["AccessKeyMetadata"]
    # The key the replay made, still active: another key of the same user is not this resource.
    held = any(key["AccessKeyId"] == real_id and key["Status"] == "Active" for key in keys)
    return {"user": inputs["user"] if held else None}


# --- Secrets Manager and Systems Manager ---------------------------------------------------------------------


def _apply_secret(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    secrets = clients("secretsmanager", inputs.get("region") or DEFAULT_REGION)
    optional = {"KmsKeyId": inputs["kmsKeyId"]} if inputs.get("kmsKeyId") else {}
    answer = secrets.create_secret(Name=inputs["name"], Tags=_tag_set(inputs.get("tags")), **optional)
    return {"id": answer["ARN"], "arn": answer["ARN"]}


def _read_secret(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    answer = clients("secretsmanager", inputs.get("region") or DEFAULT_REGION).describe_secret(SecretId=inputs["name"])
    held = {"name": answer["Name"], "region": inputs.get("region"), "tags": _tags(answer.get("Tags", [])) or None}
    return held | ({"kmsKeyId": answer["KmsKeyId"]} if "KmsKeyId" in answer else {})


def _apply_secret_version(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    secrets = clients("secretsmanager", inputs.get("region") or DEFAULT_REGION)
    answer = secrets.put_secret_value(SecretId=inputs["secretId"], SecretString=inputs["secretString"])
    return {"id": f"{answer['ARN']}|{answer['VersionId']}"}


def _read_secret_version(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    secrets = clients("secretsmanager", inputs.get("region") or DEFAULT_REGION)
    answer = secrets.get_secret_value(SecretId=inputs["secretId"])
    return {"region": inputs.get("region"), "secretId": answer["ARN"], "secretString": answer["SecretString"]}


def _apply_parameter(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    ssm = clients("ssm", inputs.get("region") or DEFAULT_REGION)
    optional = {"KeyId": inputs["keyId"]} if inputs.get("keyId") else {}
    ssm.put_parameter(
        Name=inputs["name"], Type=inputs["type"], Value=inputs["value"], Tags=_tag_set(inputs.get("tags")), **optional
    )
    return {}


def _read_parameter(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    ssm = clients("ssm", inputs.get("region") or DEFAULT_REGION)
    parameter = ssm.get_parameter(Name=inputs["name"], WithDecryption=True)["Parameter"]
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=inputs["name"])["TagList"]
    return {
        "name": parameter["Name"],
        "type": parameter["Type"],
        "value": parameter["Value"],
        "region": inputs.get("region"),
        "tags": _tags(tags) or None,
    } | ({"keyId": inputs["keyId"]} if "keyId" in inputs else {})


def _nothing(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    return {}


def _as_declared(clients: Clients, inputs: dict[str, Any], real_id: str) -> dict[str, Any]:
    return dict(inputs)


ACCESS_KEY = "aws:iam/accessKey:AccessKey"
COMPONENT = Kind(frozenset(), _nothing, _as_declared)  # a ComponentResource: no resource of its own in AWS

KINDS: dict[str, Kind] = {
    "aws:s3/bucket:Bucket": Kind(frozenset({"bucket", "region", "tags"}), _apply_bucket, _read_bucket),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Kind(
        frozenset({"bucket", "region", "rule"}), _apply_ownership, _read_ownership
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(
        "put_public_access_block",
        "get_public_access_block",
        "PublicAccessBlockConfiguration",
        "PublicAccessBlockConfiguration",
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting(
        "put_bucket_encryption",
        "get_bucket_encryption",
        "ServerSideEncryptionConfiguration",
        "ServerSideEncryptionConfiguration",
        ("rules",),
    ),
    "aws:s3/bucketVersioning:BucketVersioning": Kind(
        frozenset({"bucket", "region", "versioningConfiguration"}), _apply_versioning, _read_versioning
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(
        "put_bucket_lifecycle_configuration",
        "get_bucket_lifecycle_configuration",
        "LifecycleConfiguration",
        "Rules",
        ("rules",),
    ),
    "aws:s3/bucketLogging:BucketLogging": Kind(
        frozenset({"bucket", "region", "targetBucket", "targetPrefix"}), _apply_logging, _read_logging
    ),
    "aws:s3/bucketPolicy:BucketPolicy": Kind(
        frozenset({"bucket", "region", "policy"}), _apply_bucket_policy, _read_bucket_policy
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": Kind(
        frozenset({"bucket", "region", "key", "content", "serverSideEncryption", "tags"}), _apply_object, _read_object
    ),
    "aws:kms/key:Key": Kind(
        frozenset({"region", "description", "policy", "enableKeyRotation", "deletionWindowInDays", "tags"}),
        _apply_key,
        _read_key,
    ),
    "aws:iam/group:Group": Kind(frozenset({"name"}), _apply_group, _read_group),
    "aws:iam/groupPolicy:GroupPolicy": Kind(
        frozenset({"group", "name", "policy"}), _apply_group_policy, _read_group_policy
    ),
    "aws:iam/groupMembership:GroupMembership": Kind(frozenset({"group", "users"}), _apply_membership, _read_membership),
    "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive": _exclusive(
        "groupName", "policyNames", "list_group_policies", "PolicyNames", "delete_group_policy", "name"
    ),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": _exclusive(
        "groupName", "policyArns", "list_attached_group_policies", "AttachedPolicies", "detach_group_policy", "arn"
    ),
    "aws:iam/user:User": Kind(frozenset({"name", "tags"}), _apply_user, _read_user),
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive": _exclusive(
        "userName", "policyNames", "list_user_policies", "PolicyNames", "delete_user_policy", "name"
    ),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": _exclusive(
        "userName", "policyArns", "list_attached_user_policies", "AttachedPolicies", "detach_user_policy", "arn"
    ),
    ACCESS_KEY: Kind(frozenset({"user"}), _apply_access_key, _read_access_key),
    "aws:secretsmanager/secret:Secret": Kind(
        frozenset({"name", "region", "tags", "kmsKeyId"}), _apply_secret, _read_secret
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": Kind(
        frozenset({"region", "secretId", "secretString"}), _apply_secret_version, _read_secret_version
    ),
    "aws:ssm/parameter:Parameter": Kind(
        frozenset({"name", "region", "type", "value", "keyId", "tags"}), _apply_parameter, _read_parameter
    ),
    # Not AWS: the random provider's value lives in the Pulumi state (and in the bucket names that use it).
    "random:index/randomId:RandomId": Kind(frozenset({"byteLength", "keepers"}), _nothing, _as_declared),
}
