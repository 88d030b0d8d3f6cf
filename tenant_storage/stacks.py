"""Stack settings and the account split: which stack hosts which environments, in which AWS account.

Production-class environments (production, staging) live in the production account; QA, development
and demo never do. The stack files (`Pulumi.<stack>.yaml`) are read together so that an environment
is hosted by exactly one stack and no two stacks share an AWS account.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tenant_storage import naming
from tenant_storage.errors import InvalidInput, Problem
from tenant_storage.registry import Environment, NamingRules, Tenant, TenantRegistry

PROJECT = "tenant-storage"

REGION = "aws:region"
ALLOWED_ACCOUNT_IDS = "aws:allowedAccountIds"
ENVIRONMENTS = f"{PROJECT}:environments"
PROTECT_BUCKETS = f"{PROJECT}:protectBuckets"
BUCKET_PREFIX = f"{PROJECT}:bucketPrefix"
IAM_USER_PREFIX = f"{PROJECT}:iamUserPrefix"
NONCURRENT_VERSION_EXPIRATION_DAYS = f"{PROJECT}:noncurrentVersionExpirationDays"
SHARD = f"{PROJECT}:shard"
CREDENTIAL_STORE = f"{PROJECT}:credentialStore"
CREDENTIAL_STORES = ("none", "secretsmanager", "ssm")

# Every configuration key the program reads; a `tenant-storage:` key outside this list is a typo.
CONFIG_KEYS = (
    REGION,
    ALLOWED_ACCOUNT_IDS,
    ENVIRONMENTS,
    PROTECT_BUCKETS,
    BUCKET_PREFIX,
    IAM_USER_PREFIX,
    NONCURRENT_VERSION_EXPIRATION_DAYS,
    SHARD,
    CREDENTIAL_STORE,
)

DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS = 30
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:root$")
_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`: the stack hosts the tenants of its environments whose orgId hashes here."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def hosts(self, org_id: str) -> bool:
        # crc32, not hash(): stable across processes and machines.
        return zlib.crc32(org_id.encode()) % self.count == self.index


def parse_shard(text: Any) -> Shard | None:
    """`"i/n"` with 0 <= i < n, or None when the text is not that."""
    match = _SHARD.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    index, count = int(match.group(1)), int(match.group(2))
    return Shard(index, count) if 0 <= index < count else None


@dataclass(frozen=True)
class StackSettings:
    stack: str
    region: str
    allowed_account_ids: tuple[str, ...]
    environments: tuple[Environment, ...]
    protect_buckets: bool
    naming: NamingRules
    noncurrent_version_expiration_days: int
    shard: Shard | None = None
    credential_store: str = "none"


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def parse_stack_settings(stack: str, values: Mapping[str, str | None]) -> StackSettings:
    """Settings from Pulumi config values as the engine passes them: strings, objects as JSON text."""
    source = stack_file_name(stack)
    problems: list[Problem] = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(source, message, field=key))

    region = values.get(REGION) or ""
    if not region:
        problem(REGION, "required: the AWS region of this stack's buckets (for example us-east-1)")

    account_ids = _json_list(values.get(ALLOWED_ACCOUNT_IDS), ALLOWED_ACCOUNT_IDS, problem)
    if values.get(ALLOWED_ACCOUNT_IDS) is None or account_ids == []:
        problem(
            ALLOWED_ACCOUNT_IDS,
            "required and non-empty: the AWS account ids this stack may deploy to, as quoted strings",
        )
    for account_id in account_ids or []:
        if not isinstance(account_id, str) or not _ACCOUNT_ID.match(account_id):
            problem(ALLOWED_ACCOUNT_IDS, f"{account_id!r} is not a 12-digit account id written as a quoted string")

    environments = _environments(values.get(ENVIRONMENTS), problem)

    protect_text = (values.get(PROTECT_BUCKETS) or "false").lower()
    if protect_text not in ("true", "false"):
        problem(PROTECT_BUCKETS, f"must be true or false, not {values.get(PROTECT_BUCKETS)!r}")

    days_text = values.get(NONCURRENT_VERSION_EXPIRATION_DAYS)
    days = DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS
    if days_text is not None:
        if days_text.isdigit() and int(days_text) >= 1:
            days = int(days_text)
        else:
            problem(
                NONCURRENT_VERSION_EXPIRATION_DAYS, f"must be a whole number of days, at least 1, not {days_text!r}"
            )

    defaults = NamingRules()
    rules = NamingRules(
        bucket_prefix=values.get(BUCKET_PREFIX) or defaults.bucket_prefix,
        iam_user_prefix=values.get(IAM_USER_PREFIX) or defaults.iam_user_prefix,
    )
    # A prefix follows the orgId alphabet, so that prefix-orgId is a valid bucket name whenever the orgId is.
    if not re.match(naming.ORG_ID_PATTERN, rules.bucket_prefix):
        problem(BUCKET_PREFIX, f"{rules.bucket_prefix!r} must be lowercase letters and digits with single hyphens")
    if not re.match(naming.IAM_USER_NAME_PATTERN, rules.iam_user_prefix):
        problem(IAM_USER_PREFIX, f"{rules.iam_user_prefix!r} may only hold letters, digits and +=,.@_-")

    shard = parse_shard(values.get(SHARD)) if values.get(SHARD) is not None else None
    if values.get(SHARD) is not None and shard is None:
        problem(SHARD, f'must be "<index>/<count>" with 0 <= index < count, not {values.get(SHARD)!r}')

    credential_store = values.get(CREDENTIAL_STORE) or "none"
    if credential_store not in CREDENTIAL_STORES:
        problem(CREDENTIAL_STORE, f"{credential_store!r} is not one of {', '.join(CREDENTIAL_STORES)}")

    if problems:
        raise InvalidInput(problems)
    return StackSettings(
        stack=stack,
        region=region,
        allowed_account_ids=tuple(account_ids or ()),
        environments=environments,
        protect_buckets=protect_text == "true",
        naming=rules,
        noncurrent_version_expiration_days=days,
        shard=shard,
        credential_store=credential_store,
    )


def _json_list(text: str | None, key: str, problem: Callable[[str, str], None]) -> list[Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        problem(key, f"must be a YAML list, not {text!r}")
        return None
    if not isinstance(value, list):
        problem(key, f"must be a YAML list, not {text!r}")
        return None
    return value


def _environments(text: str | None, problem: Callable[[str, str], None]) -> tuple[Environment, ...]:
    names = _json_list(text, ENVIRONMENTS, problem)
    if not names:
        if text is None or names == []:
            problem(ENVIRONMENTS, "required and non-empty: the environments this stack hosts")
        return ()
    known = [member.value for member in Environment]
    unknown = [name for name in names if name not in known]
    for name in unknown:
        problem(ENVIRONMENTS, f"{name!r} is not one of {', '.join(known)}")
    if unknown:
        return ()
    environments = tuple(Environment(name) for name in names)
    production = [env.value for env in environments if env.is_production_class]
    other = [env.value for env in environments if not env.is_production_class]
    if production and other:
        problem(
            ENVIRONMENTS,
            f"mixes production-class environments ({', '.join(production)}) with non-production ones "
            f"({', '.join(other)}); they must live in different stacks and AWS accounts",
        )
    return environments


def caller_problems(settings: StackSettings, account_id: str, arn: str) -> list[Problem]:
    """Refuse the account root and any account this stack is not allowed to deploy to."""
    source = stack_file_name(settings.stack)
    problems = []
    if _ROOT_ARN.match(arn):
        problems.append(
            Problem(source, f"refusing to deploy as the account root ({arn}); use an IAM role or user", field="caller")
        )
    if account_id not in settings.allowed_account_ids:
        problems.append(
            Problem(
                source,
                f"the credentials belong to account {account_id}, which this stack may not deploy to "
                f"(allowed: {', '.join(settings.allowed_account_ids)})",
                field=ALLOWED_ACCOUNT_IDS,
            )
        )
    return problems


def stack_names(project_dir: Path) -> list[str]:
    """The stacks that have a `Pulumi.<stack>.yaml` in `project_dir`, sorted."""
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in project_dir.glob("Pulumi.*.yaml"))


def read_stack_files(project_dir: Path) -> dict[str, dict[str, Any]]:
    """Every stack file's `config:` mapping, by stack name."""
    return {stack: read_stack_file(project_dir / stack_file_name(stack)) for stack in stack_names(project_dir)}


def read_stack_file(path: Path) -> dict[str, Any]:
    """One stack file's `config:` mapping, as written in YAML."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise InvalidInput([Problem(path.name, f"not valid YAML: {error}")]) from error
    config = document.get("config") if isinstance(document, dict) else None
    return config if isinstance(config, dict) else {}


def engine_config_values(config: Mapping[str, Any], source: str) -> dict[str, str]:
    """Config as the engine hands it to a program: strings, with lists and objects as JSON text."""
    values = {}
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            raise InvalidInput([Problem(source, "encrypted secrets need the Pulumi CLI", field=key)])
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, list | dict):
            values[key] = json.dumps(value)
        else:
            values[key] = str(value)
    return values


def stack_file_problems(stack_files: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """Cross-stack rules: known keys; each environment (or each shard of it) hosted by exactly one stack;
    an AWS account shared only by the shards of one set of environments."""
    problems = [
        Problem(stack_file_name(stack), f"unknown setting; known settings are {', '.join(CONFIG_KEYS[2:])}", field=key)
        for stack, config in stack_files.items()
        for key in config
        if key.startswith(f"{PROJECT}:") and key not in CONFIG_KEYS
    ]
    for environment, stacks in hosting_stacks(stack_files).items():
        problems += _hosting_problems(environment, stacks, stack_files)
    owners: dict[str, str] = {}
    for stack, config in stack_files.items():
        for account_id in _as_list(config.get(ALLOWED_ACCOUNT_IDS)):
            other = owners.setdefault(str(account_id), stack)
            if other != stack and _as_list(stack_files[other].get(ENVIRONMENTS)) != _as_list(config.get(ENVIRONMENTS)):
                problems.append(
                    Problem(
                        stack_file_name(stack),
                        f"account {account_id} is also allowed for stack {other!r}; stacks must use separate accounts "
                        "(only shards of the same environments may share one)",
                        field=ALLOWED_ACCOUNT_IDS,
                    )
                )
    return problems


def _hosting_problems(
    environment: str, stacks: list[str], stack_files: Mapping[str, Mapping[str, Any]]
) -> list[Problem]:
    parsed = [(stack, parse_shard(stack_files[stack].get(SHARD))) for stack in stacks]
    shards = [(stack, shard) for stack, shard in parsed if shard is not None]
    if len(stacks) == 1 and not shards:
        return []
    if len(shards) < len(stacks) or len({shard.count for _, shard in shards}) > 1:
        return [
            Problem(
                stack_file_name(stacks[1]),
                f"environment {environment!r} is also hosted by stack {stacks[0]!r}; each environment belongs to "
                'exactly one stack, or to shards with one count (tenant-storage:shard: "<index>/<count>")',
                field=ENVIRONMENTS,
            )
        ]
    problems = []
    owner: dict[int, str] = {}
    for stack, shard in shards:
        other = owner.setdefault(shard.index, stack)
        if other != stack:
            problems.append(
                Problem(
                    stack_file_name(stack), f"shard {shard} of {environment!r} is also hosted by {other!r}", field=SHARD
                )
            )
    count = shards[0][1].count
    problems += [
        Problem(
            stack_file_name(stacks[0]),
            f"environment {environment!r} is split into {count} shards but no stack hosts shard {index}/{count}; "
            "its tenants would never be deployed",
            field=SHARD,
        )
        for index in range(count)
        if index not in owner
    ]
    return problems


def hosting_stacks(stack_files: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Environment name -> the stacks whose files list it."""
    hosts: dict[str, list[str]] = {}
    for stack, config in stack_files.items():
        for environment in _as_list(config.get(ENVIRONMENTS)):
            hosts.setdefault(str(environment), []).append(stack)
    return hosts


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def unhosted_tenant_problems(
    registry: TenantRegistry, stack_files: Mapping[str, Mapping[str, Any]], source: str
) -> list[Problem]:
    """A tenant whose environment no stack hosts would never be deployed: refuse it instead of skipping it."""
    hosts = hosting_stacks(stack_files)
    return [
        Problem(
            source,
            f"no stack hosts environment {tenant.environment.value!r} (stacks: {', '.join(stack_files) or 'none'})",
            tenant_index=index,
            org_id=tenant.org_id,
            field="environment",
        )
        for index, tenant in enumerate(registry.tenants)
        if tenant.environment.value not in hosts
    ]


def tenants_for_stack(registry: TenantRegistry, settings: StackSettings) -> list[Tenant]:
    return [
        tenant
        for tenant in registry.tenants
        if tenant.environment in settings.environments
        and (settings.shard is None or settings.shard.hosts(tenant.org_id))
    ]
