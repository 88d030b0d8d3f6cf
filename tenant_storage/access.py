"""Who may do what: one request judged by a bucket policy, a public access block and an identity policy.

`anonymous_access` answers for unsigned requests; this module answers for every caller a review meets:
anonymous callers, IAM users of the bucket's account (through their identity policy, and bucket-policy
statements naming them) and AWS services acting for a source (S3's log delivery for a tenant bucket).
It follows IAM's evaluation for one account: an explicit Deny wins, then any Allow; nothing is an
implicit deny. Conditions are evaluated against the request's context; a key the context lacks does not
match (as in IAM, for operators without `IfExists`), and an operator nobody modelled is refused loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tenant_storage.anonymous_access import PublicAccessBlock, anonymous_allowed, as_list, is_anyone, matches

# A request as this project's callers make it: over TLS 1.3.
SECURE_REQUEST = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


@dataclass(frozen=True)
class Caller:
    kind: Literal["anonymous", "user", "service"]
    arn: str = ""  # a user's ARN
    service: str = ""  # a service principal, such as logging.s3.amazonaws.com
    identity_policy: Mapping[str, Any] | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    def request_context(self) -> dict[str, str]:
        return {**SECURE_REQUEST, **self.context}


ANONYMOUS = Caller("anonymous")


def _condition_holds(conditions: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            value = context.get(key)
            if value is None:
                return False
            wanted = [str(item) for item in as_list(expected)]
            if operator == "Bool":
                holds = value.lower() in [item.lower() for item in wanted]
            elif operator == "NumericLessThan":
                holds = any(float(value) < float(item) for item in wanted)
            elif operator in ("StringEquals", "ArnEquals"):
                holds = value in wanted
            elif operator in ("StringLike", "ArnLike"):
                holds = matches(wanted, value)
            else:
                raise ValueError(f"the access evaluator does not model the condition operator {operator}")
            if not holds:
                return False
    return True


def _names(caller: Caller, principal: Any) -> bool:
    """Whether a resource policy's `Principal` names this caller specifically (not `*`: a public grant is
    anyone's, and is counted once, as the anonymous caller's)."""
    if not isinstance(principal, Mapping):
        return False
    if caller.kind == "user":
        return caller.arn in [str(item) for item in as_list(principal.get("AWS", []))]
    if caller.kind == "service":
        return caller.service in [str(item) for item in as_list(principal.get("Service", []))]
    return False


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    return (
        matches(statement.get("Action", []), action)
        and matches(statement.get("Resource", []), resource)
        and _condition_holds(statement.get("Condition", {}), context)
    )


def allowed(
    caller: Caller,
    action: str,
    resource: str,
    bucket_policy: Mapping[str, Any] | None = None,
    block: PublicAccessBlock | None = None,
) -> bool:
    """Whether `caller` may perform `action` on `resource` (an S3 or KMS ARN) in the bucket's account."""
    if caller.kind == "anonymous":
        return anonymous_allowed(bucket_policy, block or PublicAccessBlock(), action, resource)
    context = caller.request_context()
    resource_statements = [
        statement
        for statement in (bucket_policy or {}).get("Statement", [])
        if (is_anyone(statement.get("Principal")) and statement.get("Effect") == "Deny")
        or _names(caller, statement.get("Principal"))
    ]
    statements = [*resource_statements, *(caller.identity_policy or {}).get("Statement", [])]
    matching = [statement for statement in statements if _applies(statement, action, resource, context)]
    if any(statement.get("Effect") == "Deny" for statement in matching):
        return False
    return any(statement.get("Effect") == "Allow" for statement in matching)
