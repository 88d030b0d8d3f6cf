"""Stack settings: the one reader of `Pulumi.<stack>.yaml` values, and the rules across stack files.

Every setting is parsed by `parse_stack_settings`, whether the Pulumi engine passed it to the program
or a cross-stack check read it from a file, so YAML lists and JSON text mean the same everywhere. The
stack files are read together so that an environment is hosted by exactly one stack (or its shards)
and no two stacks share an AWS account. Which accounts are production-class is not a stack setting:
see `tenant_storage/accounts.py`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tenant_storage import ALL_STACKS, naming
from tenant_storage.deploy_inputs import (
    ALLOWED_ACCOUNT_IDS as ALLOWED_ACCOUNT_IDS,
)
from tenant_storage.deploy_inputs import (
    ENGINE_NAMESPACE,
    PROJECT_NAME,
    SECRETS_PROVIDER_KEYS,
    STACK_CONFIG_KEY,
    engine_setting_problem,
    provider_setting_problem,
    stack_file_key_problem,
)
from tenant_storage.deploy_inputs import (
    REGION as REGION,
)
from tenant_storage.errors import InvalidInput, Problem, did_you_mean, not_one_of, quoted
from tenant_storage.naming import GLOBAL_NAMESPACE
from tenant_storage.public_access import (
    DEFAULT_PUBLIC_ACCESS,
    PUBLIC_ACCESS_MODES,
    PublicAccess,
    cloudfront_name_problem,
    cloudfront_partition_problem,
)
from tenant_storage.regions import (
    COMMERCIAL,
    Partition,
    account_regional_namespace_problem,
    partition_of,
    region_problem,
)
from tenant_storage.registry import Environment, NamingRules, Tenant, TenantRegistry
from tenant_storage.yaml_reader import Mapping as YamlMapping
from tenant_storage.yaml_reader import boolean_spelling_problem, duplicate_key_problems, load_yaml, read_text, yaml_repr

PROJECT = PROJECT_NAME

ENVIRONMENTS = f"{PROJECT}:environments"
PROTECT_BUCKETS = f"{PROJECT}:protectBuckets"
BUCKET_PREFIX = f"{PROJECT}:bucketPrefix"
IAM_USER_PREFIX = f"{PROJECT}:iamUserPrefix"
BUCKET_NAMESPACE = f"{PROJECT}:bucketNamespace"
ACCESS_LOG_BUCKET_NAMESPACE = f"{PROJECT}:accessLogBucketNamespace"
RETAINED_ACCESS_LOG_BUCKET_NAMESPACE = f"{PROJECT}:retainedAccessLogBucketNamespace"
NONCURRENT_VERSION_EXPIRATION_DAYS = f"{PROJECT}:noncurrentVersionExpirationDays"
SHARD = f"{PROJECT}:shard"
CREDENTIAL_STORE = f"{PROJECT}:credentialStore"
CREDENTIAL_STORES = ("none", "secretsmanager", "ssm")
ACCESS_LOG_RETENTION_DAYS = f"{PROJECT}:accessLogRetentionDays"
PRIVATE_BUCKET_ENCRYPTION = f"{PROJECT}:privateBucketEncryption"
PRIVATE_BUCKET_ENCRYPTIONS = ("sse-kms", "sse-s3")
ACCESS_KEY_MAX_AGE_DAYS = f"{PROJECT}:accessKeyMaxAgeDays"
KEY_ADMINISTRATOR_ARN = f"{PROJECT}:keyAdministratorArn"
PUBLIC_ACCESS = f"{PROJECT}:publicAccess"

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
    ACCESS_LOG_RETENTION_DAYS,
    PRIVATE_BUCKET_ENCRYPTION,
    ACCESS_KEY_MAX_AGE_DAYS,
    BUCKET_NAMESPACE,
    ACCESS_LOG_BUCKET_NAMESPACE,
    RETAINED_ACCESS_LOG_BUCKET_NAMESPACE,
    KEY_ADMINISTRATOR_ARN,
    PUBLIC_ACCESS,
)
# The settings whose value is true or false; every other one is a string, a number or a list.
BOOLEAN_SETTINGS = frozenset({PROTECT_BUCKETS})
# The stack's own settings (CONFIG_KEYS also holds the provider's region and allowed accounts).
SETTINGS = CONFIG_KEYS[2:]

_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")

DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS = 30
DEFAULT_ACCESS_LOG_RETENTION_DAYS = 365
DEFAULT_ACCESS_KEY_MAX_AGE_DAYS = 90  # Security Hub IAM.3
MAX_NONCURRENT_VERSION_EXPIRATION_DAYS = 36_500  # a century: anything above is a typo
MAX_SHARDS = 64  # 64 stacks of a few hundred tenants each already exceed IAM's 5,000 users per account
MAX_STACK_FILE_BYTES = 64 * 1024
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
_SHARD = re.compile(r"([0-9]{1,3})/([0-9]{1,3})")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")
# An IAM role (or user) ARN: arn:<partition>:iam::<account>:role/<optional path/>name. IAM names are ASCII
# (re.ASCII: a Cyrillic letter that looks Latin is not a name character).
_PRINCIPAL_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>[0-9]{12}):(?:role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}",
    re.ASCII,
)


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
    """`"i/n"` with 0 <= i < n <= MAX_SHARDS (ASCII digits), or None when the text is not that."""
    match = _SHARD.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    index, count = int(match.group(1)), int(match.group(2))
    return Shard(index, count) if 0 <= index < count <= MAX_SHARDS else None


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
    access_log_retention_days: int = DEFAULT_ACCESS_LOG_RETENTION_DAYS
    private_bucket_encryption: str = "sse-kms"
    access_key_max_age_days: int = DEFAULT_ACCESS_KEY_MAX_AGE_DAYS
    access_log_bucket_namespace: str = GLOBAL_NAMESPACE
    # The namespace of the access-log bucket this stack had before its log bucket moved: that bucket stays
    # declared as it was, with its logs, and receives no new logs.
    retained_access_log_bucket_namespace: str | None = None
    # The principal that deploys the stack (its CI deploy role), named in the stack key's policy as the key's
    # administrator: it may manage the key from the moment it exists, with no IAM policy (and no tag) to wait for.
    key_administrator_arn: str = ""
    # How the media-gallery tenants' pub/ folders are public, unless a tenant says otherwise (publicAccess).
    public_access: PublicAccess = DEFAULT_PUBLIC_ACCESS

    def public_access_of(self, tenant: Tenant) -> PublicAccess | None:
        """How the tenant's pub/ is public: its own publicAccess, else the stack's; None for a private profile."""
        if not tenant.profile.serves_public_folder:
            return None
        return tenant.public_access or self.public_access

    def serves_through_cloudfront(self, tenants: Sequence[Tenant]) -> bool:
        """Whether the stack declares its CloudFront distribution: its setting says so, or a tenant it hosts does."""
        modes = [self.public_access, *(self.public_access_of(tenant) for tenant in tenants)]
        return any(mode is not None and mode.through_cloudfront for mode in modes)

    @property
    def partition(self) -> Partition:
        return partition_of(self.region) or COMMERCIAL

    @property
    def production_class(self) -> bool:
        """Whether the stack hosts production-class environments (it never mixes them with others)."""
        return any(environment.is_production_class for environment in self.environments)

    def hosts(self, tenant: Tenant) -> bool:
        return tenant.environment in self.environments and (self.shard is None or self.shard.hosts(tenant.org_id))

    def protects(self, tenant: Tenant) -> bool:
        """Production-class buckets are always protected; the setting can only add protection elsewhere."""
        return tenant.environment.is_production_class or self.protect_buckets


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def parse_stack_settings(
    stack: str, values: Mapping[str, str | None], key_lines: Mapping[str, int] | None = None
) -> StackSettings:
    """Settings from Pulumi config values as the engine passes them: strings, objects as JSON text.

    This is the only reader of stack settings: the program parses what the engine passed with it, and
    every cross-stack check parses the stack files with it (through `engine_config_values`), so a value
    written as a YAML list and the same list written as JSON text mean the same thing everywhere.
    """
    source = stack_file_name(stack)
    problems: list[Problem] = []
    lines = key_lines or {}

    def problem(key: str, message: str) -> None:
        problems.append(Problem(source, message, line=lines.get(key), field=key))

    region = values.get(REGION) or ""
    if not region:
        problem(REGION, "required: the AWS region of this stack's buckets (for example us-east-1)")
    elif message := region_problem(region):
        problem(REGION, message)

    account_ids = _json_list(values.get(ALLOWED_ACCOUNT_IDS), ALLOWED_ACCOUNT_IDS, problem)
    if values.get(ALLOWED_ACCOUNT_IDS) is None or account_ids == []:
        problem(
            ALLOWED_ACCOUNT_IDS,
            "required and non-empty: the AWS account ids this stack may deploy to, as quoted strings",
        )
    for account_id in account_ids or []:
        if not isinstance(account_id, str) or not ACCOUNT_ID_PATTERN.fullmatch(account_id):
            problem(
                ALLOWED_ACCOUNT_IDS, f"{yaml_repr(account_id)} is not a 12-digit account id written as a quoted string"
            )

    environments = _environments(values.get(ENVIRONMENTS), problem)

    protect_text = values.get(PROTECT_BUCKETS) or "false"
    if protect_text not in ("true", "false"):
        problem(PROTECT_BUCKETS, f"must be true or false, not {yaml_repr(values.get(PROTECT_BUCKETS))}")
    elif protect_text == "false" and values.get(PROTECT_BUCKETS) is not None and _production_class(environments):
        problem(
            PROTECT_BUCKETS,
            "production and staging buckets are always protected and retained; this setting can only add "
            "protection to other stacks, so remove it here",
        )

    def days(key: str, default: int) -> int:
        text = values.get(key)
        if text is None:
            return default
        if _WHOLE_NUMBER.fullmatch(text) and 1 <= int(text) <= MAX_NONCURRENT_VERSION_EXPIRATION_DAYS:
            return int(text)
        problem(
            key,
            f"must be a whole number of days from 1 to {MAX_NONCURRENT_VERSION_EXPIRATION_DAYS}, not {yaml_repr(text)}",
        )
        return default

    noncurrent_days = days(NONCURRENT_VERSION_EXPIRATION_DAYS, DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS)
    log_days = days(ACCESS_LOG_RETENTION_DAYS, DEFAULT_ACCESS_LOG_RETENTION_DAYS)
    key_age_days = days(ACCESS_KEY_MAX_AGE_DAYS, DEFAULT_ACCESS_KEY_MAX_AGE_DAYS)
    private_encryption = values.get(PRIVATE_BUCKET_ENCRYPTION) or "sse-kms"
    if private_encryption not in PRIVATE_BUCKET_ENCRYPTIONS:
        problem(PRIVATE_BUCKET_ENCRYPTION, not_one_of(private_encryption, PRIVATE_BUCKET_ENCRYPTIONS))

    for key in CONFIG_KEYS:
        if values.get(key) == "":
            problem(key, "is empty; remove the setting for its default, or give it a value")
    defaults = NamingRules()

    def namespace_setting(key: str, default: str) -> str:
        namespace = values.get(key) or default
        if namespace not in naming.BUCKET_NAMESPACES:
            problem(key, not_one_of(namespace, naming.BUCKET_NAMESPACES))
            return default
        if namespace == naming.ACCOUNT_REGIONAL_NAMESPACE and values.get(key) is not None:
            if len(account_ids or []) > 1:
                problem(key, naming.ONE_ACCOUNT_RULE)
            elif region and (message := account_regional_namespace_problem(region)):
                problem(key, message)
        return namespace

    namespace = namespace_setting(BUCKET_NAMESPACE, naming.GLOBAL_NAMESPACE)
    # The log bucket follows the stack's namespace unless its own setting says otherwise: an existing stack
    # (global, nothing set) keeps its log bucket; a stack made in the namespace has it there too.
    log_namespace = namespace_setting(ACCESS_LOG_BUCKET_NAMESPACE, namespace)
    retained_namespace = (
        namespace_setting(RETAINED_ACCESS_LOG_BUCKET_NAMESPACE, naming.GLOBAL_NAMESPACE)
        if values.get(RETAINED_ACCESS_LOG_BUCKET_NAMESPACE) is not None
        else None
    )
    if retained_namespace is not None and retained_namespace == log_namespace:
        problem(
            RETAINED_ACCESS_LOG_BUCKET_NAMESPACE,
            f"the access-log bucket is in the {log_namespace} namespace itself: this setting names the namespace "
            "of the log bucket the stack had before a move (kept with its logs); remove it, or set "
            f"{ACCESS_LOG_BUCKET_NAMESPACE} to the namespace the log bucket moves to",
        )
    rules = NamingRules(
        bucket_prefix=values.get(BUCKET_PREFIX) or defaults.bucket_prefix,
        iam_user_prefix=values.get(IAM_USER_PREFIX) or defaults.iam_user_prefix,
        bucket_namespace=namespace,
        account_id=str(account_ids[0]) if account_ids and len(account_ids) == 1 else "",
        region=region,
    )
    # A prefix follows the orgId alphabet, so that prefix-orgId is a valid bucket name whenever the orgId is.
    if not re.fullmatch(naming.ORG_ID_PATTERN, rules.bucket_prefix):
        problem(
            BUCKET_PREFIX, f"{quoted(rules.bucket_prefix)} must be lowercase letters and digits with single hyphens"
        )
    elif message := naming.bucket_prefix_problem(rules.bucket_prefix):
        problem(BUCKET_PREFIX, message)
    if not re.fullmatch(naming.IAM_USER_NAME_PATTERN, rules.iam_user_prefix):
        problem(IAM_USER_PREFIX, f"{quoted(rules.iam_user_prefix)} may only hold letters, digits and +=,.@_-")
    elif len(rules.iam_user_prefix) >= naming.IAM_USER_NAME_MAX_LENGTH:
        problem(
            IAM_USER_PREFIX, f"{quoted(rules.iam_user_prefix)} leaves no room for an orgId in a 64-character user name"
        )

    shard = parse_shard(values.get(SHARD)) if values.get(SHARD) is not None else None
    if values.get(SHARD) is not None and shard is None:
        problem(
            SHARD,
            f'must be "<index>/<count>" with 0 <= index < count <= {MAX_SHARDS}, not {yaml_repr(values.get(SHARD))}',
        )

    if not problems:
        for log_bucket_namespace in dict.fromkeys((log_namespace, retained_namespace)):
            if log_bucket_namespace is None:
                continue
            log_bucket = naming.access_log_bucket_name(
                rules.bucket_prefix, "0" * 12, region, shard.index if shard else None, log_bucket_namespace
            )
            if messages := naming.bucket_name_problems(log_bucket, log_bucket_namespace):
                problem(BUCKET_PREFIX, f"the stack's access-log bucket would break S3's rules: {messages[0]}")

    credential_store = values.get(CREDENTIAL_STORE) or "none"
    if credential_store not in CREDENTIAL_STORES:
        problem(CREDENTIAL_STORE, not_one_of(credential_store, CREDENTIAL_STORES))

    public_text = values.get(PUBLIC_ACCESS) or DEFAULT_PUBLIC_ACCESS.value
    public_access = DEFAULT_PUBLIC_ACCESS
    if public_text not in PUBLIC_ACCESS_MODES:
        problem(PUBLIC_ACCESS, not_one_of(public_text, PUBLIC_ACCESS_MODES))
    else:
        public_access = PublicAccess(public_text)
        if public_access.through_cloudfront and region and partition_of(region) is not None:
            message = cloudfront_partition_problem(partition_of(region) or COMMERCIAL) or cloudfront_name_problem(
                rules.bucket_prefix, shard.index if shard else None
            )
            if message:
                problem(PUBLIC_ACCESS, message)

    administrator = values.get(KEY_ADMINISTRATOR_ARN) or ""
    if administrator and (message := _administrator_problem(administrator, region, account_ids or [])):
        problem(KEY_ADMINISTRATOR_ARN, message)

    if problems:
        raise InvalidInput(problems)
    return StackSettings(
        stack=stack,
        region=region,
        allowed_account_ids=tuple(account_ids or ()),
        environments=environments,
        protect_buckets=protect_text == "true",
        naming=rules,
        noncurrent_version_expiration_days=noncurrent_days,
        shard=shard,
        credential_store=credential_store,
        access_log_retention_days=log_days,
        private_bucket_encryption=private_encryption,
        access_key_max_age_days=key_age_days,
        access_log_bucket_namespace=log_namespace,
        retained_access_log_bucket_namespace=retained_namespace,
        key_administrator_arn=administrator,
        public_access=public_access,
    )


def _administrator_problem(arn: str, region: str, account_ids: list[Any]) -> str | None:
    match = _PRINCIPAL_ARN.fullmatch(arn)
    if match is None:
        return (
            f"{yaml_repr(arn)} is not the ARN of an IAM role or user, for example "
            "arn:aws:iam::111111111111:role/github-deploy (the deploy role, with its path if it has one)"
        )
    partition = partition_of(region) if region else None
    if partition is not None and match.group("partition") != partition.name:
        return f"{arn} is in the partition {match.group('partition')}, the stack's region in {partition.name}"
    if match.group("account") not in account_ids:
        return f"{arn} is of account {match.group('account')}, which aws:allowedAccountIds does not hold"
    return None


def _production_class(environments: tuple[Environment, ...]) -> bool:
    return any(environment.is_production_class for environment in environments)


def _json_list(text: str | None, key: str, problem: Callable[[str, str], None]) -> list[Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        problem(key, f"must be a YAML list, not {yaml_repr(text)}")
        return None
    if not isinstance(value, list):
        problem(key, f"must be a YAML list, not {yaml_repr(text)}")
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
        problem(ENVIRONMENTS, not_one_of(name, known))
    if unknown:
        return ()
    if len(set(names)) != len(names):
        problem(ENVIRONMENTS, f"lists an environment twice: {names}")
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


def unknown_stack(project_dir: Path, stack: str, all_allowed: bool = False) -> str | None:
    """Why `stack` names no stack of `project_dir` (None: it does), with the stacks there and the closest one."""
    names = stack_names(project_dir)
    if stack in names or (all_allowed and stack == ALL_STACKS):
        return None
    listed = ", ".join(names) or f"none (no Pulumi.<stack>.yaml in {project_dir})"
    if stack == ALL_STACKS:
        return f"this command runs on one stack at a time: give one of {listed}"
    return f"no stack {quoted(stack)}{did_you_mean(stack, names)}; the stacks are {listed}"


def selected_stacks(project_dir: Path, stack: str) -> list[str]:
    """The stacks `--stack` names: that one, or every stack of `project_dir` for `all`."""
    return stack_names(project_dir) if stack == ALL_STACKS else [stack]


def stack_names(project_dir: Path) -> list[str]:
    """The stacks that have a `Pulumi.<stack>.yaml` in `project_dir`, sorted (undecodable bytes as escapes)."""
    return sorted(
        _printable(path.name.removeprefix("Pulumi.").removesuffix(".yaml"))
        for path in project_dir.glob("Pulumi.*.yaml")
    )


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def stack_name_problem(stack: str) -> Problem | None:
    if not _STACK_NAME.fullmatch(stack):
        message = "a stack name is 1 to 100 letters, digits, hyphens, underscores and dots"
    elif stack.startswith("-"):
        message = "a stack name must not start with a hyphen: --stack would read it as an option"
    elif stack == ALL_STACKS:
        message = f"{ALL_STACKS!r} is not a stack name: --stack {ALL_STACKS} means every stack; rename the file"
    else:
        return None
    return Problem(stack_file_name(stack), f"is not a valid stack file name: {message}")


@dataclass(frozen=True)
class StackFile:
    """One committed stack file: its values as the engine would pass them, and their one parsed reading."""

    stack: str
    values: dict[str, str]
    key_lines: dict[str, int]
    settings: StackSettings | None
    problems: tuple[Problem, ...]
    # The keys Pulumi writes for the stack's secrets (secretsprovider, encryptedkey, encryptionsalt), as written.
    secrets_provider: dict[str, str] = field(default_factory=dict)


def read_stack_files(project_dir: Path) -> dict[str, StackFile]:
    """Every stack file, read and parsed; never raises (each file carries its own problems)."""
    return {stack: read_stack_file(project_dir / stack_file_name(stack)) for stack in stack_names(project_dir)}


def read_stack_file(path: Path) -> StackFile:
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    if problem := stack_name_problem(stack):
        return StackFile(stack, {}, {}, None, (problem,))
    try:
        document = _stack_document(path)
        config = _config_mapping(document, path.name)
        values = engine_config_values(config, path.name)
    except InvalidInput as error:
        return StackFile(stack, {}, {}, None, error.problems)
    secrets_provider = {key: str(document[key]) for key in SECRETS_PROVIDER_KEYS if key in document}
    key_lines = {str(key): line for key, line in getattr(config, "key_lines", {}).items()}
    unknown = [
        Problem(path.name, message, line=document.key_lines.get(key), field=str(key))
        for key in document
        if (message := stack_file_key_problem(key))
    ]
    unknown += _scalar_problems(config, path.name, key_lines)
    unknown += [
        Problem(path.name, message, line=key_lines.get(key), field=key)
        for key, value in config.items()
        if isinstance(key, str) and (message := setting_problem(key) or _encrypted_problem(value))
    ]
    try:
        settings = parse_stack_settings(stack, values, key_lines)
    except InvalidInput as error:
        return StackFile(stack, values, key_lines, None, (*unknown, *error.problems), secrets_provider)
    return StackFile(stack, values, key_lines, settings, tuple(unknown), secrets_provider)


def _is_encrypted(value: object) -> bool:
    """A `secure:` value anywhere in it, however deep in lists and objects."""
    if isinstance(value, dict):
        return "secure" in value or any(_is_encrypted(item) for item in value.values())
    return isinstance(value, list) and any(_is_encrypted(item) for item in value)


def _encrypted_problem(value: object) -> str | None:
    if not _is_encrypted(value):
        return None
    return (
        "must not be an encrypted secret: no setting this deploy accepts is a secret, and reviewers must be able to "
        "read every one; write the value in plain text, or remove it"
    )


def setting_problem(key: str) -> str | None:
    """Why the setting `key` is refused (None: this program reads it, or it is a provider setting the deploy
    accepts). An allowlist: a misspelt setting would be ignored by everyone and the stack deploy without it, and
    a setting of the provider or the engine can change the deploy in ways no plan shows."""
    namespace, separator, name = key.partition(":")
    if not separator or not namespace or not name:
        return f"a setting name is <namespace>:<name>, such as {ENVIRONMENTS}"
    if namespace == PROJECT and key not in CONFIG_KEYS:
        short = [setting.removeprefix(f"{PROJECT}:") for setting in SETTINGS]
        return f"unknown setting{did_you_mean(name, short)}; known settings are {', '.join(short)}"
    if namespace == "aws":
        return provider_setting_problem(key, aws_provider_settings())
    if namespace == ENGINE_NAMESPACE:
        return engine_setting_problem(key)
    if namespace != PROJECT:
        return (
            f"nothing reads the namespace {quoted(namespace)}: settings are {PROJECT}:<name> or one of the AWS "
            "provider settings the deploy accepts (aws:<name>)"
        )
    return None


@cache
def aws_provider_settings() -> tuple[str, ...]:
    """The AWS provider's setting names, read from the installed pulumi_aws (its config/vars.py) without
    importing it; none when it is not installed (the policy pack's environment), and then no check."""
    spec = importlib.util.find_spec("pulumi_aws")
    folders = spec.submodule_search_locations if spec else None
    if not folders:
        return ()
    source = Path(next(iter(folders))) / "config" / "vars.py"
    text = source.read_text(encoding="utf-8") if source.is_file() else ""
    return tuple(sorted(set(re.findall(r"__config__\.get\w*\('(\w+)'", text))))


def _scalar_problems(config: Mapping[Any, Any], source: str, key_lines: Mapping[str, int]) -> list[Problem]:
    """Values of this program's settings written in YAML 1.1 spellings (`yes`, `010`, `1:00`) that the Pulumi
    engine (YAML 1.2) reads differently: the offline plan must show what a deploy would do."""
    raw_values = getattr(config, "raw_values", {})
    problems = []
    for key in CONFIG_KEYS:
        value, raw = config.get(key), raw_values.get(key)
        if raw is None or key not in config:
            continue
        if value is None:
            problems.append(
                Problem(source, "has no value; remove the setting or give it one", line=key_lines.get(key), field=key)
            )
        elif message := boolean_spelling_problem(value, raw, expects_boolean=key in BOOLEAN_SETTINGS):
            problems.append(Problem(source, message, line=key_lines.get(key), field=key))
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and not re.fullmatch(r"-?(0|[1-9][0-9]*)", raw)
        ):
            problems.append(
                Problem(
                    source,
                    f"write {yaml_repr(raw)} as a plain whole number, or quote it",
                    line=key_lines.get(key),
                    field=key,
                )
            )
    return problems


def _stack_document(path: Path) -> YamlMapping:
    document = load_yaml(read_text(path, "a stack file", MAX_STACK_FILE_BYTES), path.name)
    if document is None:
        empty = YamlMapping()
        empty.key_lines, empty.line, empty.duplicate_keys = {}, 1, []
        return empty
    if not isinstance(document, YamlMapping):
        raise InvalidInput([Problem(path.name, "a stack file must hold a mapping with a `config:` mapping")])
    return document


def _config_mapping(document: YamlMapping, source: str) -> YamlMapping:
    problems = duplicate_key_problems(document, source)
    config: Any = document.get(STACK_CONFIG_KEY)
    if config is None:
        config = YamlMapping()
        config.key_lines, config.line = {}, 1
    elif not isinstance(config, YamlMapping):
        problems.append(
            Problem(
                source,
                "must be a mapping of settings",
                line=document.key_lines.get(STACK_CONFIG_KEY),
                field=STACK_CONFIG_KEY,
            )
        )
    else:
        problems += duplicate_key_problems(config, source)
    if problems:
        raise InvalidInput(problems)
    assert isinstance(config, YamlMapping)
    return config


def engine_config_values(config: Mapping[Any, Any], source: str) -> dict[str, str]:
    """Config as the engine hands it to a program: strings, with lists and objects as JSON text.

    Encrypted values (`secure:`) are left out: only the Pulumi CLI could decrypt them, and the reader refuses them.
    """
    values: dict[str, str] = {}
    problems = []
    for key, value in config.items():
        if not isinstance(key, str):
            problems.append(Problem(source, f"setting names are strings, not {yaml_repr(key)}", field=str(key)))
            continue
        if _is_encrypted(value):
            continue  # refused by the reader (`read_stack_file`); only the Pulumi CLI could decrypt it
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, list | dict):
            values[key] = json.dumps(value, default=str)
        elif value is None:
            continue
        else:
            values[key] = str(value)
    if problems:
        raise InvalidInput(problems)
    return values


def engine_drift_problems(
    engine: Mapping[str, str | None], committed: StackFile, secret_keys: frozenset[str] = frozenset()
) -> list[Problem]:
    """Settings the engine passed that the committed stack file does not say, word for word.

    Stack config can also come from ESC environments, Pulumi.yaml or `--config-file`; every setting is read only
    from the reviewed `Pulumi.<stack>.yaml`, so any other value, and any setting the file lacks, is refused.
    """
    source = stack_file_name(committed.stack)
    problems = []
    for key in sorted({*engine, *committed.values}):
        passed, written = engine.get(key), committed.values.get(key)
        if _normalised(passed) == _normalised(written):
            continue
        refused = setting_problem(key) if written is None else None
        problems.append(
            Problem(
                source,
                f"the Pulumi engine passed {_shown(passed)} but the committed file says {_shown(written)}; every "
                "setting is read only from the reviewed stack file, not from ESC environments, Pulumi.yaml or "
                "--config-file: change the file instead" + (f" ({refused})" if refused else ""),
                line=committed.key_lines.get(key),
                field=key,
            )
        )
    problems += [
        Problem(
            source,
            "passed by the Pulumi engine as an encrypted secret: no setting this deploy accepts is a secret, and "
            "reviewers must be able to read every one",
            line=committed.key_lines.get(key),
            field=key,
        )
        for key in sorted(secret_keys)
    ]
    return problems


def _normalised(value: str | None) -> Any:
    """Lists and objects compared as JSON (their spacing may differ); every other value as the exact text."""
    if value is None or not value.lstrip().startswith(("[", "{")):
        return value
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError):
        return value


def _shown(value: str | None) -> str:
    return "nothing" if value is None else repr(value)


def cross_stack_problems(stacks: Mapping[str, StackSettings]) -> list[Problem]:
    """Each environment (or each shard of it) hosted by exactly one stack; an AWS account shared only by
    the shards of one set of environments."""
    problems = []
    for environment, hosts in hosting_stacks(stacks).items():
        problems += _hosting_problems(environment, hosts, stacks)
    owners: dict[str, str] = {}
    for stack, settings in stacks.items():
        for account_id in settings.allowed_account_ids:
            other = owners.setdefault(account_id, stack)
            if other != stack and set(stacks[other].environments) != set(settings.environments):
                problems.append(
                    Problem(
                        stack_file_name(stack),
                        f"account {account_id} is also allowed for stack {other!r}; stacks must use separate accounts "
                        "(only shards of the same environments may share one)",
                        field=ALLOWED_ACCOUNT_IDS,
                    )
                )
    return problems


def _hosting_problems(environment: Environment, hosts: list[str], stacks: Mapping[str, StackSettings]) -> list[Problem]:
    shards = [(stack, shard) for stack in hosts if (shard := stacks[stack].shard) is not None]
    if len(hosts) == 1 and not shards:
        return []
    if len(shards) < len(hosts) or len({shard.count for _, shard in shards}) > 1:
        return [
            Problem(
                stack_file_name(hosts[1]),
                f"environment {environment.value!r} is also hosted by stack {hosts[0]!r}; each environment belongs "
                'to exactly one stack, or to shards with one count (tenant-storage:shard: "<index>/<count>")',
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
                    stack_file_name(stack),
                    f"shard {shard} of {environment.value!r} is also hosted by {other!r}",
                    field=SHARD,
                )
            )
    count = shards[0][1].count
    missing = [index for index in range(count) if index not in owner]
    if missing:
        problems.append(
            Problem(
                stack_file_name(hosts[0]),
                f"environment {environment.value!r} is split into {count} shards but no stack hosts shard"
                f"{'s' if len(missing) > 1 else ''} {', '.join(f'{index}/{count}' for index in missing)}; "
                "its tenants would never be deployed",
                field=SHARD,
            )
        )
    return problems


def hosting_stacks(stacks: Mapping[str, StackSettings]) -> dict[Environment, list[str]]:
    """Environment -> the stacks that host it (all its shards)."""
    hosts: dict[Environment, list[str]] = {}
    for stack, settings in stacks.items():
        for environment in settings.environments:
            hosts.setdefault(environment, []).append(stack)
    return hosts


def hosting_stack(tenant: Tenant, stacks: Mapping[str, StackSettings]) -> str | None:
    """The one stack that deploys `tenant`, once the cross-stack rules hold."""
    return next((stack for stack, settings in stacks.items() if settings.hosts(tenant)), None)


def tenants_for_stack(registry: TenantRegistry, settings: StackSettings) -> list[Tenant]:
    return [tenant for tenant in registry.tenants if settings.hosts(tenant)]
