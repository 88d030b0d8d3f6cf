"""CrossGuard wiring: each rule as a stack validation policy. Importing this builds nothing;
`policy/__main__.py` constructs the PolicyPack (which starts the analyzer server and blocks)."""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy

try:  # run by `pulumi preview --policy-pack policy`, with the pack folder as the import root
    from tenant_storage_rules import RULES, ResourceView, Rule
except ImportError:  # imported from the project (tests, offline plan)
    from policy.tenant_storage_rules import RULES, ResourceView, Rule

LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def view(resource: PolicyResource) -> ResourceView:
    return ResourceView(
        type=resource.resource_type,
        urn=resource.urn,
        name=resource.name,
        props=resource.props,
        protect=bool(resource.opts.protect),
        parent=resource.parent.urn if resource.parent is not None else None,
        additional_secret_outputs=tuple(resource.opts.additional_secret_outputs or ()),
    )


def _validator(rule: Rule) -> Callable[[StackValidationArgs, Callable[..., None]], None]:
    def validate(args: StackValidationArgs, report_violation: Callable[..., None]) -> None:
        for violation in rule.violations([view(resource) for resource in args.resources]):
            report_violation(violation.message, violation.urn or None)

    return validate


def stack_policies() -> list[StackValidationPolicy]:
    return [
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            enforcement_level=LEVELS[rule.enforcement],
            validate=_validator(rule),
        )
        for rule in RULES
    ]
