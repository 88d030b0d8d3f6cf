"""AWS naming rules for the names tenant-storage derives from an orgId.

Sources: S3 "General purpose bucket naming rules" and IAM "IAM object quotas" (user names).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from tenant_storage.errors import quoted

ORG_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ORG_ID_RULE = (
    "lowercase letters and digits, separated by single hyphens (no dots, underscores or leading/trailing hyphen)"
)

BUCKET_NAME_MIN_LENGTH = 3
BUCKET_NAME_MAX_LENGTH = 63
# Every prefix and suffix S3 reserves, with what it reserves it for: the one place these rules live.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/general-purpose-bucket-naming-rules.html
RESERVED_BUCKET_PREFIXES = {
    "xn--": "internationalized domain names",
    "sthree-": "S3's own use",
    "amzn-s3-demo-": "AWS documentation examples",
}
RESERVED_BUCKET_SUFFIXES = {
    "-s3alias": "access point aliases",
    "--ol-s3": "Object Lambda access point aliases",
    ".mrap": "Multi-Region Access Points",
    "--x-s3": "directory buckets",
    "--table-s3": "table buckets",
    "-an": "the account regional namespace (<name>-<account>-<region>-an)",
}

# S3's bucket namespaces. In the account regional namespace (March 2026) a general purpose bucket named
# `<name>-<account>-<region>-an`, created with `x-amz-bucket-namespace: account-regional`, can only ever be
# created by that account in that region: nobody can take it first. pulumi-aws: Bucket(bucket_namespace=...).
GLOBAL_NAMESPACE = "global"
ACCOUNT_REGIONAL_NAMESPACE = "account-regional"
BUCKET_NAMESPACES = (GLOBAL_NAMESPACE, ACCOUNT_REGIONAL_NAMESPACE)
# Only CreateBucket carries the namespace, and no S3 read API returns it (what the provider's read fills in is
# unconfirmed: catalogue/resource_types.py BUCKET), so the engine must never diff it after the create: an
# imported bucket (state without it) that later declares it is not replaced. Changing the namespace
# changes the name (its -an suffix), which replaces the bucket anyway. Every bucket's ignoreChanges.
NAMESPACE_SET_AT_CREATE_ONLY = ["bucketNamespace"]
ACCOUNT_REGIONAL_SUFFIX = "-an"
ONE_ACCOUNT_RULE = (
    "the account regional namespace names one account in every bucket name: the stack's allowedAccountIds must "
    "hold exactly one account"
)
_ACCOUNT_REGIONAL_NAME = re.compile(
    r"(?P<stem>.+)-(?P<account>[0-9]{12})-(?P<region>[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2})-an"
)

IAM_USER_NAME_MAX_LENGTH = 64
IAM_USERS_PER_ACCOUNT = 5_000  # an IAM quota that cannot be raised
IAM_USER_NAME_PATTERN = r"^[A-Za-z0-9+=,.@_-]+$"

# RandomId(byte_length=4).hex: eight lowercase hex digits, stable for the life of the resource.
RANDOM_SUFFIX_BYTES = 4
RANDOM_SUFFIX_LENGTH = 2 * RANDOM_SUFFIX_BYTES

_BUCKET_CHARACTERS = re.compile(r"^[a-z0-9-]+$")
_ORG_ID = re.compile(ORG_ID_PATTERN)
_IAM_USER_NAME = re.compile(IAM_USER_NAME_PATTERN)


def org_id_problems(org_id: str) -> list[str]:
    if not _ORG_ID.fullmatch(org_id):
        return [f"{quoted(org_id)} is not a valid orgId: use {ORG_ID_RULE}"]
    return []


def bucket_name(prefix: str, org_id: str, suffix: str | None = None) -> str:
    """`<prefix>-<orgId>`, or `<prefix>-<orgId>-<suffix>` when the plain name is taken."""
    return "-".join(part for part in (prefix, org_id, suffix) if part)


def account_regional_bucket_name(stem: str, account_id: str, region: str) -> str:
    """`<stem>-<account>-<region>-an`: the name of `stem` in `account_id`'s namespace in `region`."""
    return f"{stem}-{account_id}-{region}{ACCOUNT_REGIONAL_SUFFIX}"


def is_account_regional_name(name: str) -> bool:
    return _ACCOUNT_REGIONAL_NAME.fullmatch(name) is not None


def namespace_owner(name: str) -> tuple[str, str] | None:
    """The (account, region) whose regional namespace `name` is in, or None for a name of no namespace."""
    match = _ACCOUNT_REGIONAL_NAME.fullmatch(name)
    return (match.group("account"), match.group("region")) if match else None


def tenant_bucket_name(
    prefix: str, org_id: str, namespace: str, account_id: str, region: str, suffix: str | None = None
) -> str:
    """The one rule for a tenant's bucket name: `<prefix>-<orgId>[-<suffix>]`, in the account regional
    namespace `<prefix>-<orgId>-<account>-<region>-an` (never with a suffix: nobody else can take it)."""
    stem = bucket_name(prefix, org_id, suffix)
    if namespace == ACCOUNT_REGIONAL_NAMESPACE:
        return account_regional_bucket_name(stem, account_id, region)
    return stem


def bucket_name_problems(name: str, namespace: str = GLOBAL_NAMESPACE) -> list[str]:
    """Every S3 naming rule `name` breaks. Dots are refused too: they break virtual-host TLS."""
    problems = []
    if not BUCKET_NAME_MIN_LENGTH <= len(name) <= BUCKET_NAME_MAX_LENGTH:
        problems.append(
            f"bucket name {quoted(name)} is {len(name)} characters; S3 allows "
            f"{BUCKET_NAME_MIN_LENGTH} to {BUCKET_NAME_MAX_LENGTH}"
        )
    if not _BUCKET_CHARACTERS.fullmatch(name):
        problems.append(f"bucket name {quoted(name)} may only hold lowercase letters, digits and hyphens")
    if name[:1] == "-" or name[-1:] == "-":
        problems.append(f"bucket name {quoted(name)} must start and end with a letter or digit")
    if _looks_like_ip_address(name):
        problems.append(f"bucket name {quoted(name)} must not look like an IP address")
    problems += [
        f"bucket name {quoted(name)} must not start with {prefix!r}, which S3 reserves for {purpose}"
        for prefix, purpose in RESERVED_BUCKET_PREFIXES.items()
        if name.startswith(prefix)
    ]
    problems += [
        f"bucket name {quoted(name)} must not end with {suffix!r}, which S3 reserves for {purpose}"
        for suffix, purpose in RESERVED_BUCKET_SUFFIXES.items()
        if name.endswith(suffix) and not (suffix == ACCOUNT_REGIONAL_SUFFIX and namespace == ACCOUNT_REGIONAL_NAMESPACE)
    ]
    return problems


def bucket_prefix_problem(prefix: str) -> str | None:
    """What makes every `<prefix>-<orgId>` an invalid bucket name, blamed on the prefix rather than each orgId."""
    reserved = [reserved for reserved in RESERVED_BUCKET_PREFIXES if f"{prefix}-".startswith(reserved)]
    if reserved:
        return f"{quoted(prefix)} would start every bucket name with the reserved prefix {reserved[0]!r}"
    if len(prefix) + 2 > BUCKET_NAME_MAX_LENGTH:
        return f"{quoted(prefix)} leaves no room for an orgId in a {BUCKET_NAME_MAX_LENGTH}-character bucket name"
    return None


def _looks_like_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


# The one rule that keeps the stacks' own names out of every tenant's reach: a name a stack, shard or
# account derives for a resource of its own holds SHARED_NAME_MARK, and no tenant name ever does. Prefixes
# and orgIds cannot hold it (single hyphens only), and a pinned `bucketName` is refused when it does.
SHARED_NAME_MARK = "--"
ACCESS_LOG_PART = "access-logs"


def shared_bucket_name(prefix: str, part: str, *qualifiers: str) -> str:
    """A bucket of the stack itself, never a tenant's: `<prefix>--<part>[-<qualifier>...]`."""
    return f"{prefix}{SHARED_NAME_MARK}" + "-".join((part, *qualifiers))


def access_log_bucket_name(
    prefix: str, account_id: str, region: str, shard_index: int | None = None, namespace: str = GLOBAL_NAMESPACE
) -> str:
    """The stack's access-log bucket: `<prefix>--access-logs-<account>-<region>[-shard<i>]`, in the account
    regional namespace `<prefix>--access-logs[-shard<i>]-<account>-<region>-an` (a name nobody can take first)."""
    shard = (f"shard{shard_index}",) if shard_index is not None else ()
    if namespace == ACCOUNT_REGIONAL_NAMESPACE:
        return account_regional_bucket_name(shared_bucket_name(prefix, ACCESS_LOG_PART, *shard), account_id, region)
    return shared_bucket_name(prefix, ACCESS_LOG_PART, account_id, region, *shard)


def suffixed_bucket_pattern(prefix: str, org_id: str) -> re.Pattern[str]:
    """Every name a tenant with `randomSuffix: true` may have: `<prefix>-<orgId>-<8 hex digits>`."""
    return re.compile(rf"{re.escape(bucket_name(prefix, org_id))}-[0-9a-f]{{{RANDOM_SUFFIX_LENGTH}}}")


def suffixed_buckets(prefix: str, org_id: str, names: Iterable[str]) -> list[str]:
    """Of `names`, those a tenant with `randomSuffix: true` may have, sorted."""
    pattern = suffixed_bucket_pattern(prefix, org_id)
    return sorted(name for name in names if pattern.fullmatch(name))


def is_shared_resource_name(name: str) -> bool:
    """Whether `name` is one the stacks keep for their own resources (the access-log buckets of every
    stack, shard and account today; any later shared resource named by `shared_bucket_name`)."""
    return SHARED_NAME_MARK in name


def reserved_name_problem(name: str) -> str | None:
    """Why a tenant may not have the bucket `name`: it is, or could be, a stack's own."""
    if is_shared_resource_name(name):
        return (
            f"bucket name {quoted(name)} holds {SHARED_NAME_MARK!r}, which only the stacks' own buckets hold "
            f"(such as {access_log_bucket_name('fusion-rms', '111111111111', 'us-east-1')!r}); a tenant "
            "could otherwise adopt another stack's or shard's access logs"
        )
    return None


def iam_user_name(prefix: str, org_id: str) -> str:
    return f"{prefix}{org_id}"


def iam_user_name_problems(name: str) -> list[str]:
    problems = []
    if not 1 <= len(name) <= IAM_USER_NAME_MAX_LENGTH:
        problems.append(
            f"IAM user name {quoted(name)} is {len(name)} characters; IAM allows 1 to {IAM_USER_NAME_MAX_LENGTH}"
        )
    if not _IAM_USER_NAME.fullmatch(name):
        problems.append(f"IAM user name {quoted(name)} may only hold letters, digits and +=,.@_-")
    return problems


# What a name is checked with before its random suffix exists: a placeholder of the suffix's exact length.
SUFFIX_PLACEHOLDER = "0" * RANDOM_SUFFIX_LENGTH


# Child resource names are `<orgId>-<part>`: injective for each resource type, because every part is a
# constant of that type, except access keys, whose part carries the key's label. A label containing
# `access-key` could make `<A>-access-key-<label>` equal another tenant's `<B>-access-key[-<label>]`
# (URNs name the parent's type, not the parent), so labels never contain it (see KEY_LABEL_RULE).
DEFAULT_KEY_LABEL = "initial"
ACCESS_KEY_PART = "access-key"


def group_name(stack: str, profile: str) -> str:
    """One IAM group per profile per stack (stack names are letters, digits and `-_.`, all valid here)."""
    return f"tenant-storage-{stack}-{profile}"


def child_resource_name(org_id: str, part: str) -> str:
    return f"{org_id}-{part}"


def access_key_resource_name(org_id: str, label: str) -> str:
    # The default label keeps the name the single key always had, so its URN never changes.
    if label == DEFAULT_KEY_LABEL:
        return child_resource_name(org_id, ACCESS_KEY_PART)
    return child_resource_name(org_id, f"{ACCESS_KEY_PART}-{label}")
