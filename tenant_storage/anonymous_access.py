"""What AWS decides for an anonymous (unsigned) S3 request, from the bucket policy and public access block.

The AWS emulator (moto) evaluates identity policies for signed requests but not bucket policies, and it
cannot see an anonymous request through its IAM checks at all. This small evaluator follows the S3
documentation for the part this project relies on:

- ACLs play no part: ownership is BucketOwnerEnforced, so S3 ignores them.
- With `block_public_policy`, S3 refuses to store a public bucket policy (PutBucketPolicy fails).
- With `restrict_public_buckets`, a public bucket policy grants nothing to anonymous callers.
- Otherwise an explicit Deny wins, then an Allow; no matching Allow is an implicit deny.
- Matched: principal `*` (or `{"AWS": "*"}`), action and resource with `*`/`?` wildcards, and the one
  condition this project writes, `Bool` on `aws:SecureTransport`. Any other condition key is refused
  loudly rather than guessed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class PublicAccessBlock:
    block_public_acls: bool = True
    ignore_public_acls: bool = True
    block_public_policy: bool = True
    restrict_public_buckets: bool = True


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no opinion"


class PolicyRefused(Exception):
    """S3 would not have stored this bucket policy."""


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_anyone(principal: Any) -> bool:
    return principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS", [])))


def matches(patterns: Any, value: str) -> bool:
    """Whether `value` matches one of the policy's patterns (`*` and `?` wildcards, case-sensitive)."""
    return any(fnmatch.fnmatchcase(value, str(pattern)) for pattern in as_list(patterns))


@dataclass(frozen=True)
class Transport:
    """How the request arrived: over TLS or not, and which TLS version."""

    secure: bool = True
    tls_version: float = 1.3


def _conditions_hold(conditions: Mapping[str, Any], transport: Transport) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            if (operator, key) == ("Bool", "aws:SecureTransport"):
                if str(transport.secure).lower() not in [str(value).lower() for value in as_list(expected)]:
                    return False
            elif (operator, key) == ("NumericLessThan", "s3:TlsVersion"):
                # A plain-HTTP request has no TLS version, so the key is absent and the test does not match.
                if not transport.secure or not any(transport.tls_version < float(v) for v in as_list(expected)):
                    return False
            else:
                raise ValueError(f"the evaluator does not model the condition {operator} {key}")
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, transport: Transport) -> bool:
    return (
        is_anyone(statement.get("Principal"))
        and matches(statement.get("Action", []), action)
        and matches(statement.get("Resource", []), resource)
        and _conditions_hold(statement.get("Condition", {}), transport)
    )


def is_public(policy: Mapping[str, Any]) -> bool:
    """A policy is public when it allows anyone without a narrowing condition (S3's definition, simplified)."""
    return any(
        statement["Effect"] == "Allow" and is_anyone(statement.get("Principal")) and not statement.get("Condition")
        for statement in policy.get("Statement", [])
    )


def check_policy_accepted(policy: Mapping[str, Any], block: PublicAccessBlock) -> None:
    if block.block_public_policy and is_public(policy):
        raise PolicyRefused("block_public_policy is on and the bucket policy is public")


def bucket_policy_decision(
    policy: Mapping[str, Any] | None,
    block: PublicAccessBlock,
    action: str,
    resource: str,
    secure_transport: bool = True,
    caller_in_bucket_account: bool = False,
    tls_version: float = 1.3,
) -> Decision:
    """The bucket policy's verdict on a request. Statements for principal `*` apply to every caller; for a
    caller in the bucket owner's account, `restrict_public_buckets` does not void them (S3 documents that
    it limits public policies to the owner's account and AWS services)."""
    if policy is None:
        return Decision.NO_OPINION
    check_policy_accepted(policy, block)
    if block.restrict_public_buckets and is_public(policy) and not caller_in_bucket_account:
        return Decision.NO_OPINION
    transport = Transport(secure_transport, tls_version)
    statements = [s for s in policy.get("Statement", []) if _applies(s, action, resource, transport)]
    if any(statement["Effect"] == "Deny" for statement in statements):
        return Decision.DENY
    if any(statement["Effect"] == "Allow" for statement in statements):
        return Decision.ALLOW
    return Decision.NO_OPINION


def anonymous_allowed(
    policy: Mapping[str, Any] | None,
    block: PublicAccessBlock,
    action: str,
    resource: str,
    secure_transport: bool = True,
    tls_version: float = 1.3,
) -> bool:
    """Whether S3 lets an unsigned request perform `action` on `resource` (an S3 ARN)."""
    decision = bucket_policy_decision(policy, block, action, resource, secure_transport, tls_version=tls_version)
    return decision is Decision.ALLOW
