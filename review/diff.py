"""The difference between two plans of one stack: what a reviewer must know before approving.

Which input changes make Pulumi replace a resource, and which resources lose data when deleted or replaced,
come from the catalogue (`catalogue/resource_types.py`). A type it does not know (the plan refuses one, so only
a hand-made plan holds one) is taken at its worst: every change replaces it, and it holds data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from catalogue.resource_types import BUCKET, COMPONENT_TYPES, RESOURCE_TYPES
from review.jsonfields import camel_case, json_fields
from review.plan import ResourcePlan, StackPlan, TenantPlan
from review.retire import Retirement, retirements
from review.values import AS_DEPLOYED, KNOWN_AFTER_DEPLOY, shown
from tenant_storage.naming import ACCOUNT_REGIONAL_NAMESPACE, GLOBAL_NAMESPACE, is_account_regional_name
from tenant_storage.stacks import RETAINED_ACCESS_LOG_BUCKET_NAMESPACE

BUCKET_TYPE = BUCKET.token
TENANT_FIELDS = ("bucket_name", "public_base_url", "profile", "environment", "iam_user_name")

Action = Literal["create", "import", "delete", "replace", "update"]
ACTIONS: tuple[Action, ...] = ("create", "import", "update", "replace", "delete")
PolicyKind = Literal["bucket", "user"]
_POLICIES: tuple[tuple[PolicyKind, str], ...] = (("bucket", "bucket_policy"), ("user", "user_policy"))
# What an unknown value (known only once a deploy has run) reads as at each revision: never equal to anything.
UNKNOWN_AT_BASE = "\0unknown at the base\0"
UNKNOWN_AT_HEAD = "\0unknown at the head\0"


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    org_id: str | None
    action: Action
    properties: list[str] = field(default_factory=list)
    data_loss: bool = False
    blocked_by_protection: bool = False
    # The change depends on a value only a deploy knows (a random suffix, an id): it may happen, or not.
    possible: bool = False
    import_id: str = ""
    # Each changed input's value before and after, as a reviewer may see them (review/values.py `shown`).
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # A deleted resource's retainOnDelete: left in AWS, forgotten by Pulumi (protect is blocked_by_protection).
    retained: bool = False


@dataclass(frozen=True)
class LogBucketMove:
    """The stack's access logs go to another bucket (it moved to another namespace, or was renamed)."""

    old: str
    new: str
    old_urn: str
    kept: bool  # the old bucket stays declared, with its logs
    # The setting that keeps the old bucket, when one can: it was in the other namespace.
    keep_setting: str = ""

    def summary(self, name: Callable[[str], str] = str) -> str:
        """One line for people; `name` formats a bucket name (as code in Markdown)."""
        moved = f"access logs move from {name(self.old)} to {name(self.new)}"
        if self.kept:
            return f"{moved}; {name(self.old)} stays, with its logs and its policy (retained)"
        keep = f"; to keep it, set {name(self.keep_setting)}" if self.keep_setting else ""
        return f"{moved}; {name(self.old)} is deleted with its logs{keep}"


@dataclass(frozen=True)
class StatementChange:
    org_id: str
    policy: PolicyKind
    change: Literal["added", "removed"]
    statement: dict[str, Any]


@dataclass(frozen=True)
class StackDiff:
    stack: str
    base_errors: list[str]
    tenants_added: list[str]
    tenants_removed: list[str]
    tenants_changed: dict[str, dict[str, list[Any]]]
    resources: list[ResourceChange]
    statements: list[StatementChange]
    retirements: list[Retirement] = field(default_factory=list)
    log_bucket_move: LogBucketMove | None = None
    # A log bucket to keep that the base revision did not have: the deploy creates it, empty.
    retained_log_bucket_created: str = ""

    @property
    def base_unreadable(self) -> bool:
        return bool(self.base_errors)

    @property
    def empty(self) -> bool:
        return not (
            self.base_errors or self.tenants_added or self.tenants_removed or self.tenants_changed or self.resources
        )

    def count(self, action: Action) -> int:
        return sum(1 for change in self.resources if change.action == action)

    @property
    def data_loss(self) -> list[ResourceChange]:
        return [change for change in self.resources if change.data_loss]

    @property
    def blocked(self) -> list[ResourceChange]:
        return [change for change in self.resources if change.blocked_by_protection]

    def to_json(self) -> dict[str, Any]:
        return json_fields(self)


def diff_plans(base: StackPlan, head: StackPlan) -> StackDiff:
    if base.refused or head.refused:
        # A revision that cannot be planned is not an empty one: nothing is compared. A refused base is a risk
        # that says why; a refused head is the input error the plan reports (exit 1).
        return StackDiff(head.stack, base.errors, [], [], {}, [], [])
    base_tenants = {tenant.org_id: tenant for tenant in base.tenants}
    head_tenants = {tenant.org_id: tenant for tenant in head.tenants}
    masks = tenant_value_masks(base, head)
    return StackDiff(
        stack=head.stack,
        base_errors=[],
        tenants_added=sorted(head_tenants.keys() - base_tenants.keys()),
        tenants_removed=sorted(base_tenants.keys() - head_tenants.keys()),
        tenants_changed={
            org_id: changes
            for org_id in sorted(base_tenants.keys() & head_tenants.keys())
            if (changes := _tenant_changes(base_tenants[org_id], head_tenants[org_id], masks))
        },
        resources=resource_changes(base, head),
        statements=_statement_changes(base_tenants, head_tenants),
        retirements=retirements(base, head),
        log_bucket_move=_log_bucket_move(base, head),
        retained_log_bucket_created=(
            head.retained_access_log_bucket
            if head.retained_access_log_bucket
            and head.retained_access_log_bucket not in (base.access_log_bucket, base.retained_access_log_bucket)
            else ""
        ),
    )


def _log_bucket_move(base: StackPlan, head: StackPlan) -> LogBucketMove | None:
    old, new = base.access_log_bucket, head.access_log_bucket
    if not (old and new) or old == new:
        return None
    old_urn = next((r.urn for r in base.resources if r.type == BUCKET_TYPE and r.inputs.get("bucket") == old), "")
    old_namespace = ACCOUNT_REGIONAL_NAMESPACE if is_account_regional_name(old) else GLOBAL_NAMESPACE
    moved_namespace = is_account_regional_name(old) != is_account_regional_name(new)
    return LogBucketMove(
        old,
        new,
        old_urn,
        kept=head.retained_access_log_bucket == old,
        keep_setting=f"{RETAINED_ACCESS_LOG_BUCKET_NAMESPACE}: {old_namespace}" if moved_namespace else "",
    )


def _tenant_changes(
    base: TenantPlan, head: TenantPlan, masks: tuple[Callable[[Any], Any], Callable[[Any], Any]]
) -> dict[str, list[Any]]:
    """Changed tenant facts, named as the JSON names them (`bucketName`), a value only a deploy knows masked."""
    before, after = masks
    return {
        camel_case(name): [before(getattr(base, name)), after(getattr(head, name))]
        for name in TENANT_FIELDS
        if getattr(base, name) != getattr(head, name)
    }


def tenant_value_masks(base: StackPlan, head: StackPlan) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """How a tenant's fact reads at the base and at the head: a value AWS chooses at create (a distribution's
    domain in a public URL) is `as deployed` where the base holds it already, `known after deploy` where new."""
    held = chosen_tokens(base)
    held_pattern = whole_values(sorted(held))
    new_pattern = whole_values(sorted(set(chosen_tokens(head)) - set(held)))

    def after(value: Any) -> Any:
        return shown(shown(value, new_pattern, KNOWN_AFTER_DEPLOY), held_pattern, AS_DEPLOYED)

    return (lambda value: shown(value, held_pattern, AS_DEPLOYED)), after


def resource_changes(base: StackPlan, head: StackPlan) -> list[ResourceChange]:
    """What the deploy does to each resource, comparing values only a deploy knows as unknowns.

    A mocked value (a random suffix, an id, an ARN) stands for the real one. It means the same real value
    at both revisions only while the resource producing it stays (neither created, deleted nor replaced);
    otherwise it is unknown, and a comparison involving it may go either way: a name that may change is
    a possible replacement. The account the stack runs in is such a value when its allowed accounts change.
    """
    before = {resource.urn: resource for resource in base.resources}
    after = {resource.urn: resource for resource in head.resources}
    unstable = (before.keys() ^ after.keys()) | ({ACCOUNT} if base.account_id != head.account_id else set())
    while True:
        changes = _changes(before, after, _unknowns(base, unstable), _unknowns(head, unstable))
        replaced = {change.urn for change in changes if change.action == "replace"}
        if replaced <= unstable:
            masks = _Masks.of(base, head, unstable)
            return [replace(change, values=masks.values(change)) for change in changes]
        unstable |= replaced


@dataclass(frozen=True)
class _Masks:
    """What a reviewer sees in place of each value only a deploy chooses, built once per stack."""

    held_before: re.Pattern[str] | None  # chosen at an earlier deploy: the state holds it
    made_anew: re.Pattern[str] | None  # chosen by this deploy (its producer is created or replaced)
    held_after: re.Pattern[str] | None

    @classmethod
    def of(cls, base: StackPlan, head: StackPlan, unstable: set[str]) -> _Masks:
        after = chosen_tokens(head)
        return cls(
            whole_values(sorted(chosen_tokens(base))),
            whole_values(sorted(token for token, producer in after.items() if producer in unstable)),
            whole_values(sorted(after)),
        )

    def values(self, change: ResourceChange) -> dict[str, tuple[Any, Any]]:
        return {
            key: (
                shown(old, self.held_before, AS_DEPLOYED),
                shown(shown(new, self.made_anew, KNOWN_AFTER_DEPLOY), self.held_after, AS_DEPLOYED),
            )
            for key, (old, new) in change.values.items()
        }


def chosen_tokens(plan: StackPlan) -> dict[str, str]:
    """The mocked values AWS (or the random provider) chooses at create, by their producer: those of a type with
    outputs chosen at create (catalogue `chosen_at_create`: a key id, an access key, a suffix, a secret's ARN) that
    do not merely end with the name the resource declares (a user's ARN is its name's). A bucket's ARN or a
    group's, made from declared names, is shown as it is: it says which bucket or principal a statement names."""
    resources = {resource.urn: resource for resource in plan.resources}
    chosen = {}
    for token, producer in plan.unknowns.items():
        resource = resources.get(producer)
        entry = RESOURCE_TYPES.get(resource.type) if resource else None
        if resource is None or entry is None or not entry.chosen_at_create:
            continue
        declared = [value for key in ("name", "bucket") if isinstance(value := resource.inputs.get(key), str) and value]
        if not any(token.endswith(name) for name in declared):
            chosen[token] = producer
    return chosen


ACCOUNT = "the caller's account"


def _unknowns(plan: StackPlan, unstable: set[str]) -> re.Pattern[str] | None:
    tokens = [token for token, producer in plan.unknowns.items() if producer in unstable]
    if ACCOUNT in unstable and plan.account_id:
        tokens.append(plan.account_id)
    return whole_values(tokens)


def whole_values(tokens: list[str]) -> re.Pattern[str] | None:
    """A pattern finding any of `tokens` in an input's text (`input_text`), or None for no tokens."""
    if not tokens:
        return None
    alternatives = "|".join(re.escape(token) for token in sorted(tokens, key=len, reverse=True))
    # A whole value only: `arn:aws:s3:::fusion-rms-acme` must not match inside `...:::fusion-rms-acme-staging`.
    return re.compile(f"(?<![A-Za-z0-9_.])(?:{alternatives})(?![A-Za-z0-9_.-])")


def input_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _changes(
    before: dict[str, ResourcePlan],
    after: dict[str, ResourcePlan],
    base_unknowns: re.Pattern[str] | None,
    head_unknowns: re.Pattern[str] | None,
) -> list[ResourceChange]:
    changes = []
    for urn in sorted(before.keys() | after.keys()):
        old, new = before.get(urn), after.get(urn)
        if old is None:
            assert new is not None
            action: Action = "import" if new.import_id else "create"
            changes.append(ResourceChange(urn, new.type, new.org_id, action, import_id=new.import_id))
            continue
        if new is None:
            changes.append(_destructive(old, "delete", []))
            continue
        changed, possible = _changed_inputs(old, new, base_unknowns, head_unknowns)
        entry = RESOURCE_TYPES.get(new.type)
        kept = entry.kept_when_omitted if entry is not None else frozenset()
        # The engine diffs the inputs the new program does not ignore (its ignoreChanges, by top-level name).
        changed = [
            key
            for key in changed
            if key not in new.ignore_changes and not (key in kept and new.inputs.get(key) is None)
        ]
        possible &= set(changed)
        # The engine skips an import whose id is the id it already holds; another id imports (and replaces). The id
        # held may be one only the deploy knew (a random suffix): then it may differ, and the import may happen.
        held = base_unknowns.sub(UNKNOWN_AT_BASE, old.id) if base_unknowns else old.id
        reimport = bool(new.import_id) and new.import_id != held
        if not changed and not reimport:
            continue
        forcing = entry.forcing(changed) if entry is not None else [] if new.type in COMPONENT_TYPES else changed
        values = {key: (old.inputs.get(key), new.inputs.get(key)) for key in changed}
        if forcing:
            # With a new import id this is the engine's import-replacement: the declared resource is adopted.
            imported = new.import_id if reimport else ""
            changes.append(
                replace(_destructive(old, "replace", forcing, bool(set(forcing) & possible), imported), values=values)
            )
        else:
            action = "import" if reimport else "update"
            changes.append(
                ResourceChange(
                    urn,
                    new.type,
                    new.org_id,
                    action,
                    changed,
                    possible=bool(possible),
                    import_id=new.import_id if reimport else "",
                    values=values,
                )
            )
    return changes


def _changed_inputs(
    old: ResourcePlan,
    new: ResourcePlan,
    base_unknowns: re.Pattern[str] | None,
    head_unknowns: re.Pattern[str] | None,
) -> tuple[list[str], set[str]]:
    """The input keys that change, and those of them whose change involves an unknown value."""
    keys = old.inputs.keys() | new.inputs.keys()
    involved_before = base_unknowns is not None and base_unknowns.search(input_text(old.inputs)) is not None
    involved_after = head_unknowns is not None and head_unknowns.search(input_text(new.inputs)) is not None
    if not (involved_before or involved_after):
        return sorted(key for key in keys if old.inputs.get(key) != new.inputs.get(key)), set()
    changed, possible = [], set()
    for key in sorted(keys):
        was, now = input_text(old.inputs.get(key)), input_text(new.inputs.get(key))
        symbolic_was = base_unknowns.sub(UNKNOWN_AT_BASE, was) if base_unknowns else was
        symbolic_now = head_unknowns.sub(UNKNOWN_AT_HEAD, now) if head_unknowns else now
        if symbolic_was != symbolic_now:
            changed.append(key)
            if _could_be_equal(symbolic_was, symbolic_now):
                possible.add(key)
    return changed, possible


def _could_be_equal(was: str, now: str) -> bool:
    """Whether some values of the unknowns in one text could make it the other: then a change may not happen.
    (`"name"` and `"name-<unknown>"` differ whatever the unknown is; `"name-1a2b"` and `"name-<unknown>"` may not.)"""
    has_before, has_after = UNKNOWN_AT_BASE in was, UNKNOWN_AT_HEAD in now
    if has_before and has_after:
        return True
    if not (has_before or has_after):
        return False
    symbolic, literal, marker = (was, now, UNKNOWN_AT_BASE) if has_before else (now, was, UNKNOWN_AT_HEAD)
    pattern = ".+".join(re.escape(part) for part in symbolic.split(marker))
    return re.fullmatch(pattern, literal, re.DOTALL) is not None


def loses_data(resource_type: str) -> bool:
    """Whether deleting or replacing a resource of this type loses data (unknown types: yes)."""
    if resource_type in COMPONENT_TYPES:
        return False  # the program's own grouping: no resource of its own in AWS
    entry = RESOURCE_TYPES.get(resource_type)
    return entry is None or entry.loses_data_when_replaced


def _destructive(
    old: ResourcePlan, action: Action, properties: list[str], possible: bool = False, import_id: str = ""
) -> ResourceChange:
    return ResourceChange(
        urn=old.urn,
        type=old.type,
        org_id=old.org_id,
        action=action,
        properties=properties,
        data_loss=loses_data(old.type),
        blocked_by_protection=old.protect,
        possible=possible,
        import_id=import_id,
        retained=old.retain_on_delete,
    )


def _statement_changes(base: dict[str, TenantPlan], head: dict[str, TenantPlan]) -> list[StatementChange]:
    changes = []
    for org_id in sorted(base.keys() | head.keys()):
        for policy, attribute in _POLICIES:
            old = _statements(base.get(org_id), attribute)
            new = _statements(head.get(org_id), attribute)
            changes += [StatementChange(org_id, policy, "removed", json.loads(s)) for s in sorted(old - new)]
            changes += [StatementChange(org_id, policy, "added", json.loads(s)) for s in sorted(new - old)]
    return changes


def _statements(tenant: TenantPlan | None, attribute: str) -> set[str]:
    if tenant is None:
        return set()
    return {json.dumps(statement, sort_keys=True) for statement in getattr(tenant, attribute)["Statement"]}
