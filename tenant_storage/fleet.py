"""Rules over the whole fleet: every tenant hosted by one stack, named under that stack's rules, and no two
tenants ever sharing a bucket or an IAM user, across all stacks, random suffixes included.

A random suffix is unknown before the first deploy, so a suffixed tenant is treated as owning every
name `<prefix>-<orgId>-<8 hex digits>`: a plain name of that shape belongs to it, whoever declares it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tenant_storage import naming
from tenant_storage.errors import Problem
from tenant_storage.registry import TenantRegistry, tenant_name_problems
from tenant_storage.stacks import StackSettings, hosting_stack

_SUFFIXED = re.compile(rf"(.+)-[0-9a-f]{{{naming.RANDOM_SUFFIX_LENGTH}}}")


@dataclass(frozen=True)
class _Claim:
    index: int
    org_id: str
    stack: str

    def __str__(self) -> str:
        return f"tenants[{self.index}] (orgId {self.org_id!r}, stack {self.stack!r})"


def fleet_problems(registry: TenantRegistry, stacks: Mapping[str, StackSettings], source: str) -> list[Problem]:
    """Unhosted tenants, AWS naming rules under each tenant's own stack, and names two tenants could share."""
    problems = []
    bucket_names: dict[str, _Claim] = {}
    suffixed_stems: dict[str, _Claim] = {}
    user_names: dict[tuple[str, str], _Claim] = {}  # (account, name case-folded): IAM names ignore case
    users_per_account: dict[str, int] = {}

    def clash(index: int, org_id: str, message: str, field: str = "orgId") -> None:
        line = registry.key_lines(index).get(field, registry.org_id_line(index))
        problems.append(Problem(source, message, line=line, tenant_index=index, org_id=org_id, field=field))

    hosted = []
    for index, tenant in enumerate(registry.tenants):
        stack = hosting_stack(tenant, stacks)
        if stack is None:
            problems.append(
                Problem(
                    source,
                    f"no stack hosts environment {tenant.environment.value!r} (stacks: {', '.join(stacks) or 'none'})",
                    line=registry.org_id_line(index),
                    tenant_index=index,
                    org_id=tenant.org_id,
                    field="environment",
                )
            )
            continue
        rules = stacks[stack].naming
        name_problems = tenant_name_problems(tenant, index, registry.key_lines(index), source, rules)
        problems += name_problems
        if not name_problems:
            hosted.append((index, tenant, stack, rules))

    for index, tenant, stack, rules in hosted:
        claim = _Claim(index, tenant.org_id, stack)
        # A suffixed tenant is in the global namespace (the two exclude each other): its stem is global too.
        stem = rules.bucket_name_of(tenant)
        claims = suffixed_stems if tenant.random_suffix else bucket_names
        if (other := claims.setdefault(stem, claim)) is not claim:
            clash(
                index,
                tenant.org_id,
                f"bucket name {stem!r}{'-<suffix>' * tenant.random_suffix} is also the bucket of {other}",
                # A name given whole is that field's; a name made from the orgId is the orgId's.
                "bucketName" if tenant.bucket_name else "orgId",
            )
        for account in stacks[stack].allowed_account_ids:
            user = naming.iam_user_name(rules.iam_user_prefix, tenant.org_id)
            if (other := user_names.setdefault((account, user.lower()), claim)) is not claim:
                clash(
                    index,
                    tenant.org_id,
                    f"IAM user {user!r} in account {account} is also the user of {other} (IAM names ignore case)",
                )
            users_per_account[account] = users_per_account.get(account, 0) + 1

    problems += [
        Problem(
            source,
            f"account {account} would hold {count:,} tenant IAM users; IAM allows {naming.IAM_USERS_PER_ACCOUNT:,} "
            "users per account: move tenants to another account",
        )
        for account, count in users_per_account.items()
        if count > naming.IAM_USERS_PER_ACCOUNT
    ]

    for name, claim in bucket_names.items():
        match = _SUFFIXED.fullmatch(name)
        if match and (owner := suffixed_stems.get(match.group(1))) is not None:
            clash(
                claim.index,
                claim.org_id,
                f"bucket name {name!r} is one that {owner} may draw with its random suffix; two tenants must never "
                "be able to share a bucket: choose another orgId",
            )
    return problems
