"""CrossGuard wiring: each rule as the policy its scope allows. Importing this builds nothing;
`policy/__main__.py` constructs the PolicyPack (which starts the analyzer server and blocks).

A rule that judges one resource becomes a resource-validation policy, which the engine applies before
that resource's step, so `pulumi up` stops before the change is made. A rule that relates resources
becomes a stack-validation policy, which the engine applies after every step of an update: only the
preview before it (the deploy workflow runs one first) can stop such a change in time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

try:  # run by `pulumi preview --policy-pack policy`, with the pack folder as the import root
    from tenant_storage_rules import RULES, ResourceView, Rule, RuleOptions
except ImportError:  # imported from the project (tests, offline plan)
    from policy.tenant_storage_rules import RULES, ResourceView, Rule, RuleOptions

LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
Policy = ResourceValidationPolicy | StackValidationPolicy


def known(value: Any) -> Any:
    """`value` as plain data, with every value unknown during a preview as None.

    CrossGuard hands rules a proxy that raises on any unknown value, and then skips the whole policy for
    the whole stack with an advisory; a rule here decides what it can and skips only what it cannot.
    """
    if isinstance(value, Mapping):
        return {key: _known_item(value, key) for key in list(value.keys())}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_known_item(value, index) for index in range(len(value))]
    return value


def _known_item(container: Any, key: Any) -> Any:
    try:
        return known(container[key])
    except UnknownValueError:
        return None


def view(resource: PolicyResource | ResourceValidationArgs) -> ResourceView:
    """What a rule sees of a resource, from a stack policy's resource or a resource policy's arguments
    (which name the parent only by URN)."""
    parent = getattr(resource, "parent", None)
    return ResourceView(
        type=resource.resource_type,
        urn=resource.urn,
        name=resource.name,
        props=known(resource.props),
        protect=bool(resource.opts.protect),
        parent=parent.urn if parent is not None else resource.opts.parent or None,
        additional_secret_outputs=tuple(resource.opts.additional_secret_outputs or ()),
    )


def _stack_validator(rule: Rule) -> Callable[[StackValidationArgs, Callable[..., None]], None]:
    def validate(args: StackValidationArgs, report_violation: Callable[..., None]) -> None:
        for violation in rule.violations([view(resource) for resource in args.resources]):
            report_violation(violation.message, violation.urn or None)

    return validate


def _resource_validator(rule: Rule) -> Callable[[ResourceValidationArgs, Callable[..., None]], None]:
    assert rule.judge is not None
    judge = rule.judge

    def validate(args: ResourceValidationArgs, report_violation: Callable[..., None]) -> None:
        for message in judge(view(args), RuleOptions()):
            report_violation(message)

    return validate


def policies() -> list[Policy]:
    """Every rule, as a resource policy where it judges one resource and as a stack policy otherwise."""
    return [
        ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            enforcement_level=LEVELS[rule.enforcement],
            validate=_resource_validator(rule),
        )
        if rule.scope == "resource"
        else StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            enforcement_level=LEVELS[rule.enforcement],
            validate=_stack_validator(rule),
        )
        for rule in RULES
    ]
