"""The tenant registry (`tenants.yaml`): its model, a strict YAML reader and whole-file validation.

Every problem in the file is collected and reported together, each naming the file, line, tenant
(index and orgId) and field, so that one review round fixes them all.
"""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from tenant_storage import naming
from tenant_storage.errors import InvalidInput, Problem, did_you_mean, not_one_of
from tenant_storage.public_access import PublicAccess, cloudfront_partition_problem
from tenant_storage.regions import COMMERCIAL, account_regional_namespace_problem, partition_of
from tenant_storage.yaml_reader import (
    Mapping,
    boolean_spelling_problem,
    duplicate_key_problems,
    load_yaml,
    read_text,
    yaml_repr,
    yaml_type,
)


class Environment(StrEnum):
    PRODUCTION = "production"
    STAGING = "staging"
    QA = "qa"
    DEVELOPMENT = "development"
    DEMO = "demo"

    @property
    def is_production_class(self) -> bool:
        """Production-class environments live in the production AWS account; the others never do."""
        return self in (Environment.PRODUCTION, Environment.STAGING)


class Profile(StrEnum):
    MEDIA_GALLERY = "media-gallery"
    APP_STORAGE = "app-storage"
    UPLOAD_ONLY = "upload-only"

    @property
    def serves_public_folder(self) -> bool:
        return self is Profile.MEDIA_GALLERY


DEFAULT_KEY_LABEL = naming.DEFAULT_KEY_LABEL
KEY_LABEL_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"
KEY_LABEL_RULE = f"1 to 32 lowercase letters, digits and inner hyphens, never containing {naming.ACCESS_KEY_PART!r}"
MAX_ACCESS_KEYS = 2  # what IAM allows per user, and what a zero-downtime rotation needs


class AcrossFields(ValueError):
    """A rule relating fields, blamed on the field named."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


NAMESPACE_WITH_SUFFIX = (
    "randomSuffix and the account regional namespace exclude each other: nobody else can take a name there, so "
    "it never needs a suffix; remove randomSuffix, or set bucketNamespace: global on this tenant to keep its name"
)

KeyLabel = Annotated[str, StringConstraints(strict=True, pattern=KEY_LABEL_PATTERN)]
EMPTY_FIELD = "is empty; remove the field for its default, or give it a value"


class Tenant(BaseModel):
    """One organisation's entry in tenants.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    org_id: str = Field(
        alias="orgId",
        strict=True,
        pattern=naming.ORG_ID_PATTERN,
        description=f"The organisation id: {naming.ORG_ID_RULE}. Quote values YAML could read as numbers or booleans.",
    )
    environment: Environment = Field(description="Where the tenant runs; decides which stack (AWS account) hosts it.")
    profile: Profile = Field(
        default=Profile.MEDIA_GALLERY,
        description="How the tenant's app uses the bucket: media-gallery (public pub/ folder), app-storage "
        "(private), upload-only (the user may only put objects).",
    )
    random_suffix: bool = Field(
        default=False,
        alias="randomSuffix",
        strict=True,
        description="Append a stable random suffix to the bucket name, for when fusion-rms-<orgId> is taken.",
    )
    adopt: bool = Field(
        default=False,
        strict=True,
        description="The tenant's bucket and IAM user already exist (made by hand): import them at the first "
        "deploy instead of creating them; the deploy then brings them to the declared settings.",
    )
    bucket_name: str | None = Field(
        default=None,
        alias="bucketName",
        strict=True,
        description="With adopt: the existing bucket's name, when it does not follow <prefix>-<orgId>.",
    )
    bucket_namespace: Literal["global", "account-regional"] | None = Field(
        default=None,
        alias="bucketNamespace",
        description="The S3 bucket namespace of this tenant's bucket, when it differs from the stack's "
        "bucketNamespace: global, or account-regional (<prefix>-<orgId>-<account>-<region>-an, a name only "
        "the stack's account can create). Changing it renames, so replaces, the bucket.",
    )
    public_access: PublicAccess | None = Field(
        default=None,
        alias="publicAccess",
        description="media-gallery only: how pub/ is public, when it differs from the stack's publicAccess: "
        "bucket-policy (anyone reads pub/* from S3), cloudfront (the bucket stays private; the stack's CloudFront "
        "distribution serves pub/*), or bucket-policy-and-cloudfront (both, while the tenant's app switches URLs).",
    )
    access_keys: list[KeyLabel] | None = Field(
        default=None,
        alias="accessKeys",
        min_length=1,
        max_length=MAX_ACCESS_KEYS,
        description=f"Labels of the IAM user's access keys ({KEY_LABEL_RULE}); one key labelled "
        f"'{DEFAULT_KEY_LABEL}' when absent. List two to rotate: add the new label, deploy, move the app, "
        "remove the old label, deploy.",
    )

    @field_validator("access_keys")
    @classmethod
    def _labels_are_unique(cls, labels: list[str] | None) -> list[str] | None:
        if labels is not None and len(set(labels)) != len(labels):
            raise ValueError(f"duplicate label in {labels}: each access key needs its own label")
        for label in labels or []:
            if naming.ACCESS_KEY_PART in label:
                raise ValueError(
                    f"label {label!r} must not contain {naming.ACCESS_KEY_PART!r}: the key's resource name "
                    f"<orgId>-{naming.ACCESS_KEY_PART}-<label> could then spell another tenant's key"
                )
        return labels

    @model_validator(mode="after")
    def _adoption_is_consistent(self) -> Tenant:
        if self.bucket_name is not None:
            if not self.adopt:
                raise ValueError("bucketName pins the name of an existing bucket: it needs adopt: true")
            if self.random_suffix:
                raise ValueError("bucketName and randomSuffix exclude each other: the pinned name is the whole name")
            if self.bucket_namespace is not None:
                raise ValueError(
                    "bucketName and bucketNamespace exclude each other: the pinned name is the whole name, and "
                    "a name ending -<account>-<region>-an is in the account regional namespace"
                )
            namespace = (
                naming.ACCOUNT_REGIONAL_NAMESPACE
                if naming.is_account_regional_name(self.bucket_name)
                else naming.GLOBAL_NAMESPACE
            )
            if problems := naming.bucket_name_problems(self.bucket_name, namespace):
                raise ValueError(problems[0])
            if reserved := naming.reserved_name_problem(self.bucket_name):
                raise ValueError(reserved)
        if self.random_suffix and self.bucket_namespace == naming.ACCOUNT_REGIONAL_NAMESPACE:
            raise AcrossFields("randomSuffix", NAMESPACE_WITH_SUFFIX)
        if self.public_access is not None and not self.profile.serves_public_folder:
            raise AcrossFields(
                "publicAccess",
                f"only the media-gallery profile has a public folder; {self.profile.value} keeps every object "
                "private, so nothing of it is served publicly: remove publicAccess",
            )
        if self.bucket_name is None and self.adopt and self.random_suffix:
            raise ValueError("an adopted bucket's suffix is not ours to choose: give its whole name with bucketName")
        return self

    @property
    def key_labels(self) -> tuple[str, ...]:
        return tuple(self.access_keys or (DEFAULT_KEY_LABEL,))


class TenantRegistry(BaseModel):
    """The whole tenants.yaml file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenants: list[Tenant] = Field(description="Every tenant of every environment; each stack deploys its own.")
    _key_lines: tuple[dict[Any, int], ...] = PrivateAttr(default=())

    def key_lines(self, index: int) -> dict[Any, int]:
        """The line of each field of tenants[index] in the file it was read from, when it was read from one."""
        return self._key_lines[index] if index < len(self._key_lines) else {}

    def org_id_line(self, index: int) -> int | None:
        return self.key_lines(index).get("orgId")


@dataclass(frozen=True)
class NamingRules:
    """The stack settings that turn an orgId into AWS names."""

    bucket_prefix: str = "fusion-rms"
    iam_user_prefix: str = "rms_"
    bucket_namespace: str = naming.GLOBAL_NAMESPACE
    # The stack's one account and its region: a name in the account regional namespace carries both.
    account_id: str = ""
    region: str = ""

    def namespace_of(self, tenant: Tenant) -> str:
        """The tenant's own bucketNamespace, else the stack's; a pinned (adopted) name carries its own."""
        if tenant.bucket_name is not None:
            regional = naming.is_account_regional_name(tenant.bucket_name)
            return naming.ACCOUNT_REGIONAL_NAMESPACE if regional else naming.GLOBAL_NAMESPACE
        return tenant.bucket_namespace or self.bucket_namespace

    def bucket_name_of(self, tenant: Tenant, suffix: str | None = None) -> str:
        if tenant.bucket_name is not None:
            return tenant.bucket_name
        return naming.tenant_bucket_name(
            self.bucket_prefix, tenant.org_id, self.namespace_of(tenant), self.account_id, self.region, suffix
        )


_TENANT_FIELDS = [field.alias or name for name, field in Tenant.model_fields.items()]
_BOOLEAN_FIELDS = [field.alias or name for name, field in Tenant.model_fields.items() if field.annotation is bool]
# The optional fields, whose type admits None: an empty one would pass as "not given" (the others refuse it).
_NULLABLE_FIELDS = [
    field.alias or name for name, field in Tenant.model_fields.items() if type(None) in get_args(field.annotation)
]


def load_registry(path: Path, rules: NamingRules | None = None) -> TenantRegistry:
    """Read and validate the whole file; raise InvalidInput listing every problem found.

    With `rules`, every tenant's AWS names are checked under them; without, that is left to the caller,
    which knows each tenant's hosting stack (`tenant_storage.fleet`).
    """
    return parse_registry(read_text(path, "the tenant registry"), path.name, rules)


def parse_registry(text: str, source: str, rules: NamingRules | None = None) -> TenantRegistry:
    document = load_yaml(text, source)
    problems = _document_problems(document, source)
    # A key beside `tenants` hides nothing: the tenants are still read, every problem said at once.
    if not (isinstance(document, Mapping) and isinstance(document.get("tenants"), list)):
        raise InvalidInput(problems)
    items = document["tenants"]
    tenants: list[Tenant | None] = []
    for index, item in enumerate(items):
        tenant, item_problems = _parse_tenant(item, index, source)
        tenants.append(tenant)
        problems += item_problems
    problems += _duplicate_org_id_problems(items, source)
    if rules is not None:
        problems += [
            problem
            for index, tenant in enumerate(tenants)
            if tenant is not None
            for problem in tenant_name_problems(tenant, index, items[index].key_lines, source, rules)
        ]
    if problems:
        raise InvalidInput(sorted(problems, key=lambda problem: problem.line or 0))
    registry = TenantRegistry(tenants=[tenant for tenant in tenants if tenant is not None])
    registry._key_lines = tuple(dict(item.key_lines) for item in items)
    return registry


def _document_problems(document: Any, source: str) -> list[Problem]:
    if document is None:
        return [Problem(source, "the file is empty; it must hold a mapping with a `tenants:` list")]
    if not isinstance(document, Mapping):
        return [Problem(source, f"the file must hold a mapping with a `tenants:` list, not a {yaml_type(document)}")]
    problems = duplicate_key_problems(document, source)
    problems += [
        Problem(source, _unknown_field_message(str(key), ["tenants"]), line=document.key_lines.get(key), field=str(key))
        for key in document
        if key != "tenants"
    ]
    if "tenants" not in document:
        problems.append(Problem(source, "required field is missing", line=document.line, field="tenants"))
    elif not isinstance(document["tenants"], list):
        problems.append(
            Problem(
                source,
                f"must be a list of tenants, not a {yaml_type(document['tenants'])}",
                line=document.key_lines["tenants"],
                field="tenants",
            )
        )
    return problems


def _parse_tenant(item: Any, index: int, source: str) -> tuple[Tenant | None, list[Problem]]:
    if not isinstance(item, Mapping):
        return None, [Problem(source, f"each tenant must be a mapping, not a {yaml_type(item)}", tenant_index=index)]
    org_id = item.get("orgId") if isinstance(item.get("orgId"), str) else None
    problems = duplicate_key_problems(item, source, tenant_index=index, org_id=org_id)
    # Only the documented names: the model also knows its Python names (org_id), which would let a
    # second spelling of a field slip past the duplicate-key and duplicate-orgId checks.
    unknown = [key for key in item if key not in _TENANT_FIELDS]
    problems += [
        Problem(
            source,
            _unknown_field_message(str(key), _TENANT_FIELDS),
            line=item.key_lines.get(key, item.line),
            tenant_index=index,
            org_id=org_id,
            field=str(key),
        )
        for key in unknown
    ]
    spelled = [
        Problem(source, message, line=item.key_lines.get(key, item.line), tenant_index=index, org_id=org_id, field=key)
        for key in _BOOLEAN_FIELDS
        if key in item and (message := boolean_spelling_problem(item[key], item.raw_values.get(key)))
    ]
    # A field written with no value (`publicAccess:`) is a value forgotten, never the default, whatever the field.
    spelled += [
        Problem(
            source, EMPTY_FIELD, line=item.key_lines.get(key, item.line), tenant_index=index, org_id=org_id, field=key
        )
        for key in _NULLABLE_FIELDS
        if key in item and item[key] is None
    ]
    problems += spelled
    try:
        tenant = Tenant.model_validate({key: value for key, value in item.items() if key in _TENANT_FIELDS})
        return (None if unknown or spelled else tenant), problems
    except ValidationError as error:
        for detail in error.errors():
            # Rules across fields have no location: the rule names its field, else bucketName, else adopt.
            cause = (detail.get("ctx") or {}).get("error")
            field = (
                str(detail["loc"][0])
                if detail["loc"]
                else cause.field
                if isinstance(cause, AcrossFields)
                else ("bucketName" if "bucketName" in item else "adopt")
            )
            problems.append(
                Problem(
                    source,
                    _field_message(detail, item),
                    line=item.key_lines.get(field, item.line),
                    tenant_index=index,
                    org_id=org_id,
                    field=field,
                )
            )
        return None, problems


def _field_message(detail: Any, item: Mapping) -> str:
    kind, field, value = detail["type"], str(detail["loc"][0]) if detail["loc"] else "", detail.get("input")
    if not detail["loc"] and kind == "value_error":
        return str(detail["ctx"]["error"])
    if kind == "extra_forbidden":
        return _unknown_field_message(field, _TENANT_FIELDS)
    if kind == "missing":
        return "required field is missing"
    if field == "orgId" and kind == "string_type":
        raw = item.raw_values.get(field)
        if raw is None:
            return f"must be a string, not a {yaml_type(value)}"
        return (
            f"must be a string, but YAML reads the unquoted value {raw} as the "
            f'{yaml_type(value)} {yaml_repr(value)}; quote it: orgId: "{raw}"'
        )
    if field == "accessKeys":
        return _access_keys_message(kind, detail, value)
    if kind == "string_pattern_mismatch":
        return naming.org_id_problems(value)[0]
    if kind in ("enum", "literal_error"):
        allowed = _choices(field)
        return (
            not_one_of(value, allowed)
            if isinstance(value, str)
            else f"must be one of {', '.join(allowed)}, not {_described(value)}"
        )
    if kind.endswith("_type"):
        expected = kind.removesuffix("_type")
        return f"must be {_EXPECTED.get(expected, 'a ' + expected)}, not {_described(value)}"
    return str(detail["msg"])


# pydantic's name of a type, in the words of a YAML file.
_EXPECTED = {"bool": "true or false", "string": "a string", "list": "a list", "int": "a whole number"}


def _described(value: Any) -> str:
    return "empty (null)" if value is None else f"the {yaml_type(value)} {yaml_repr(value)}"


def _choices(field: str) -> list[str]:
    """The values a field allows, read from its type (an enum or a Literal), so a new choice is named too."""
    annotation = next(info.annotation for name, info in Tenant.model_fields.items() if (info.alias or name) == field)
    pending, choices = [annotation], []
    while pending:
        current = pending.pop(0)
        if isinstance(current, type) and issubclass(current, StrEnum):
            choices += [member.value for member in current]
        elif get_origin(current) is Literal:
            choices += [str(choice) for choice in get_args(current)]
        else:
            pending += get_args(current)
    return choices


def _access_keys_message(kind: str, detail: Any, value: Any) -> str:
    if kind == "too_long":
        return f"at most {MAX_ACCESS_KEYS} access keys: IAM allows two per user, enough to rotate without downtime"
    if kind == "too_short":
        return "list at least one access key label, or leave the field out for one key"
    if kind == "value_error":
        return str(detail["ctx"]["error"])
    if kind == "string_pattern_mismatch":
        return f"label {value!r} must be {KEY_LABEL_RULE}"
    if kind == "string_type":
        return f"label {yaml_repr(value)} must be a string (YAML reads it as a {yaml_type(value)}); quote it"
    return f"must be a list of labels, not a {yaml_type(value)}"


def _unknown_field_message(field: str, known: list[str]) -> str:
    return f"unknown field{did_you_mean(field, known)}; known fields are {', '.join(known)}"


def _duplicate_org_id_problems(items: list[Any], source: str) -> list[Problem]:
    first_index: dict[str, int] = {}
    problems = []
    for index, item in enumerate(items):
        org_id = item.get("orgId") if isinstance(item, Mapping) else None
        if not isinstance(org_id, str):
            continue
        if org_id in first_index:
            problems.append(
                Problem(
                    source,
                    f"duplicate orgId: tenants[{first_index[org_id]}] already uses it",
                    line=item.key_lines["orgId"],
                    tenant_index=index,
                    org_id=org_id,
                    field="orgId",
                )
            )
        else:
            first_index[org_id] = index
    return problems


def tenant_name_problems(
    tenant: Tenant, index: int, key_lines: abc.Mapping[Any, int], source: str, rules: NamingRules
) -> list[Problem]:
    """Every AWS naming rule the tenant's bucket and IAM user names break under `rules`."""

    def problem(field: str, message: str) -> Problem:
        line = key_lines.get(field, key_lines.get("orgId"))
        return Problem(source, message, line=line, tenant_index=index, org_id=tenant.org_id, field=field)

    cloudfront = tenant.public_access is not None and tenant.public_access.through_cloudfront
    if cloudfront and (message := cloudfront_partition_problem(partition_of(rules.region) or COMMERCIAL)):
        return [problem("publicAccess", message)]
    namespace = rules.namespace_of(tenant)
    if tenant.random_suffix and namespace == naming.ACCOUNT_REGIONAL_NAMESPACE:
        # The stack's namespace, not the tenant's own field (the model refuses that pair itself).
        return [problem("randomSuffix", f"{NAMESPACE_WITH_SUFFIX} (the stack's bucketNamespace is {namespace})")]
    if tenant.bucket_namespace == naming.ACCOUNT_REGIONAL_NAMESPACE and (
        message := account_regional_namespace_problem(rules.region)
    ):
        return [problem("bucketNamespace", message)]
    if namespace == naming.ACCOUNT_REGIONAL_NAMESPACE and tenant.bucket_name is None and not rules.account_id:
        return [problem("bucketNamespace", naming.ONE_ACCOUNT_RULE)]
    owner = naming.namespace_owner(tenant.bucket_name) if tenant.bucket_name else None
    if owner is not None and rules.account_id and owner != (rules.account_id, rules.region):
        return [
            problem(
                "bucketName",
                f"{tenant.bucket_name!r} is in the regional namespace of account {owner[0]} in {owner[1]}, not this "
                f"stack's ({rules.account_id} in {rules.region}): a stack adopts only its own account's buckets",
            )
        ]
    placeholder = naming.SUFFIX_PLACEHOLDER if tenant.random_suffix else None
    messages = naming.bucket_name_problems(rules.bucket_name_of(tenant, placeholder), namespace)
    messages += naming.iam_user_name_problems(naming.iam_user_name(rules.iam_user_prefix, tenant.org_id))
    if tenant.random_suffix:
        messages = [
            f"{message} (with the {naming.RANDOM_SUFFIX_LENGTH}-character random suffix)" for message in messages
        ]
    elif namespace == naming.ACCOUNT_REGIONAL_NAMESPACE and tenant.bucket_name is None:
        messages = [f"{message} (in the account regional namespace)" for message in messages]
    return [problem("orgId", message) for message in messages]
