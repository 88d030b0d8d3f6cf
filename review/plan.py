"""What one stack would deploy, taken from a run of the real program under the mock monitor.

Nothing secret is printed: the rendered plan shows names, policies and URNs from the readable
`tenants` output and the registered inputs, never `secretAccessKeys`; the raw inputs (where the
credential store's values sit, still wrapped as secrets) are kept only for diffing and left out of
every rendering, JSON included.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from catalogue.resource_types import COMPONENT_TYPES, RESOURCE_TYPES
from mock_runtime.runner import PROJECT_DIR, ProgramRun, Registration, TenantCounter, run_stack_file
from policy.tenant_storage_rules import DEFAULT_MAX_KEY_AGE_DAYS, ResourceView, RuleOptions, evaluate
from review.jsonfields import json_fields
from review.program import PlanningError, is_the_tools_program, python_for
from tenant_storage import naming
from tenant_storage.deploy_inputs import ACCEPTED_PROVIDER_SETTINGS
from tenant_storage.policies import effective_policy
from tenant_storage.stacks import ACCESS_KEY_MAX_AGE_DAYS, CONFIG_KEYS, read_stack_file, stack_file_name

COMPONENT_TYPE = "tenant-storage:index:TenantStorage"
RANDOM_ID_TYPE = "random:index/randomId:RandomId"
BUCKET_POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
GROUP_POLICY_TYPE = "aws:iam/groupPolicy:GroupPolicy"
USER_TYPE = "aws:iam/user:User"
DISTRIBUTION_TYPE = "aws:cloudfront/distribution:Distribution"


@dataclass(frozen=True)
class ResourcePlan:
    urn: str
    type: str
    name: str
    org_id: str | None
    protect: bool
    inputs: dict[str, Any]
    retain_on_delete: bool = False
    import_id: str = ""  # the existing resource the deploy adopts (imports), by its id
    ignore_changes: tuple[str, ...] = ()  # inputs the engine does not diff (the resource's ignoreChanges)
    id: str = ""  # the provider id (mocked): the engine skips an import whose id the state already holds
    dependencies: tuple[str, ...] = ()  # the URNs the engine creates first (inputs from them, or dependsOn)
    plugin: str = ""  # a provider plugin other than its SDK package's (another version, a download URL)


@dataclass(frozen=True)
class TenantPlan:
    org_id: str
    bucket_name: str
    public_base_url: str | None
    profile: str
    environment: str
    iam_user_name: str
    user_policy: dict[str, Any]
    bucket_policy: dict[str, Any]
    mocked_suffix: bool
    resource_urns: list[str]
    app_key_id: str = ""  # the (mocked) id of the newest key: the one its app uses, from the store and `credentials`
    bucket_namespace: str = "global"
    public_access: str | None = None  # how its pub/ is public (tenant_storage/public_access.py); None: private
    s3_public_base_url: str | None = None  # the S3 URL still served beside CloudFront's during a switch


@dataclass(frozen=True)
class PolicyViolation:
    rule: str
    enforcement: str
    urn: str
    message: str


@dataclass(frozen=True)
class StackPlan:
    stack: str
    errors: list[str] = field(default_factory=list)
    tenants: list[TenantPlan] = field(default_factory=list)
    resources: list[ResourcePlan] = field(default_factory=list)
    violations: list[PolicyViolation] = field(default_factory=list)
    incremental: bool = False  # only the tenants that changed were declared (the registry was validated whole)
    # The whole stack's size, also when only the changed tenants were declared.
    tenant_count: int = 0
    resource_count: int = 0
    account_id: str = ""  # the caller as mocked: the stack's least allowed account
    region: str = ""
    # Values only a deploy knows (mocked ids, ARNs, random suffixes) -> the URN of the resource producing them.
    unknowns: dict[str, str] = field(default_factory=dict)
    # Where the tenants' access logs go, and the log bucket kept from before a move (the stack's outputs).
    access_log_bucket: str = ""
    retained_access_log_bucket: str = ""
    # The values a deploy would know only as secrets (an access key's secret): compared, never shown.
    secret_values: frozenset[str] = frozenset()
    # Where such a value would be stored or exported without being marked secret (an output, a resource input).
    plain_secrets: tuple[str, ...] = ()
    # The provider settings the deploy accepts that are not this program's own (aws:maxRetries, ...), as written.
    provider_settings: dict[str, str] = field(default_factory=dict)
    # The keys Pulumi writes for the stack's secrets (secretsprovider, encryptedkey, encryptionsalt), as written.
    secrets_provider: dict[str, str] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return bool(self.errors)

    @property
    def blocked_by_policy(self) -> bool:
        """What `pulumi preview --policy-pack policy` would fail on: a mandatory rule broken."""
        return any(violation.enforcement == "mandatory" for violation in self.violations)

    def to_json(self) -> dict[str, Any]:
        """Never the raw inputs (where a credential store's values sit) nor the mocks' invented values."""
        document: dict[str, Any] = json_fields(self, drop=frozenset({"inputs", "unknowns", "secret_values"}))
        for tenant in document["tenants"]:
            tenant["publicBaseUrl"] = self.shown_url(tenant["publicBaseUrl"])
        return document

    def shown_url(self, url: str | None) -> str | None:
        """A tenant's public URL as a reviewer may see it: a CloudFront distribution's domain, which only a deploy
        knows, is `(known after deploy)`, never the mocks' invention, which an app could be handed by mistake."""
        for value in self._distribution_values:
            if url:
                url = url.replace(value, "(known after deploy)")
        return url

    @functools.cached_property
    def _distribution_values(self) -> tuple[str, ...]:
        """What the mocks invented for the stack's distributions (its domain among them): found once per plan."""
        distributions = {r.urn for r in self.resources if r.type == DISTRIBUTION_TYPE}
        return tuple(value for value, producer in self.unknowns.items() if producer in distributions)


def unwrapped(value: Any) -> Any:
    """`value` with every secret the engine marked unwrapped: the plain value a deploy would send."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return unwrapped(value["value"])
        return {name: unwrapped(item) for name, item in value.items()}
    if isinstance(value, list):
        return [unwrapped(item) for item in value]
    return value


PROGRAM_FILE = "__main__.py"


def plan_stack(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    on_tenant: TenantCounter | None = None,
    only_tenants: frozenset[str] | None = None,
) -> StackPlan:
    """The folder's plan, made with its own program: in this process when that is the tool's own, else in a
    process of its own (`review/program.py`); only then can `only_tenants` apply."""
    plan = _planned(stack, project_dir, on_tenant, only_tenants)
    secrets_provider = read_stack_file(project_dir / stack_file_name(stack)).secrets_provider
    return replace(plan, secrets_provider=secrets_provider) if secrets_provider else plan


def _planned(
    stack: str, project_dir: Path, on_tenant: TenantCounter | None, only_tenants: frozenset[str] | None
) -> StackPlan:
    if not (project_dir / PROGRAM_FILE).is_file():
        # Pulumi runs a Python project's __main__.py: without one, no deploy of this folder runs this program.
        return StackPlan(stack=stack, errors=[f"{PROGRAM_FILE}: missing: the folder holds no Pulumi program to plan"])
    if is_the_tools_program(project_dir):
        plan = plan_from_run(run_stack_file(stack, project_dir, on_tenant=on_tenant, only_tenants=only_tenants))
        return plan if only_tenants is None else replace(plan, incremental=True)
    try:
        run = run_stack_file(stack, project_dir, python=python_for(project_dir))
    except PlanningError as error:
        return StackPlan(stack=stack, errors=[f"its own program could not be planned: {error}"])
    try:
        return plan_from_run(run)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, StopIteration) as error:
        return StackPlan(
            stack=stack,
            errors=[f"its own program ran, but this tool cannot read what it declared or exported: {error!r}"],
        )


def plan_from_run(run: ProgramRun) -> StackPlan:
    if run.error is not None:
        problems = getattr(run.error, "problems", None)
        errors = [str(problem) for problem in problems] if problems else [f"the program failed: {run.error!r}"]
        return StackPlan(stack=run.stack, errors=errors)
    if unknown := not_in_the_catalogue(run.registrations):
        return StackPlan(stack=run.stack, errors=unknown)
    components = {registration.urn: registration.name for registration in run.by_type(COMPONENT_TYPE)}
    region = run.config.get("aws:region", "")
    resources = [
        ResourcePlan(
            urn=registration.urn,
            type=registration.type,
            name=registration.name,
            org_id=components.get(registration.parent, components.get(registration.urn)),
            protect=registration.protect,
            retain_on_delete=registration.retain_on_delete,
            inputs=with_provider_region(registration.type, registration.inputs, region),
            import_id=registration.import_id,
            ignore_changes=registration.ignore_changes,
            id=registration.id,
            dependencies=registration.dependencies,
            plugin=registration.plugin,
        )
        for registration in sorted(run.registrations, key=lambda registration: registration.urn)
    ]
    # Tenants declared only to count the unchanged ones of their shape are counted, never shown or diffed.
    sizes = Counter(resource.org_id for resource in resources)
    counted = {org_id: sizes[org_id] for org_id in run.stands_for}
    resources = [resource for resource in resources if resource.org_id not in counted]
    summaries = run.outputs["tenants"].value
    by_tenant: dict[str, list[ResourcePlan]] = {}
    for resource in resources:
        by_tenant.setdefault(resource.org_id or "", []).append(resource)
    group_policies = {r.inputs["group"]: json.loads(r.inputs["policy"]) for r in run.by_type(GROUP_POLICY_TYPE)}
    tenants = [
        _tenant_plan(org_id, summaries[org_id], by_tenant[org_id], group_policies, run.stack)
        for org_id in sorted(components.values())
        if org_id not in counted
    ]
    options = RuleOptions(max_key_age_days=int(run.config.get(ACCESS_KEY_MAX_AGE_DAYS) or DEFAULT_MAX_KEY_AGE_DAYS))
    return StackPlan(
        stack=run.stack,
        tenants=tenants,
        resources=resources,
        violations=policy_violations(run.registrations, options),
        tenant_count=len(tenants) if run.tenants_in_stack is None else run.tenants_in_stack,
        resource_count=len(resources) + sum(counted[org_id] * n for org_id, n in run.stands_for.items()),
        account_id=run.mocks.account_id if run.mocks else "",
        region=region,
        unknowns=run.unknowns,
        secret_values=frozenset(run.secret_unknowns),
        plain_secrets=plain_secrets(run),
        provider_settings={key: value for key, value in run.config.items() if key in OTHER_PROVIDER_SETTINGS},
        access_log_bucket=_output(run, "accessLogBucket"),
        retained_access_log_bucket=_output(run, "retainedAccessLogBucket"),
    )


PROVIDER_TYPE_PREFIX = "pulumi:providers:"


def not_in_the_catalogue(registrations: list[Registration]) -> list[str]:
    """What the program declares that the catalogue does not know: a type, or an input of a known type. What no
    one has said the kind of (what replaces it, whether it holds data, how to read it back, what the CI roles
    need for it) is refused rather than reviewed, audited and granted by guesswork."""
    problems: set[str] = set()
    for registration in registrations:
        if registration.type.startswith(PROVIDER_TYPE_PREFIX):
            continue  # a provider the program declares: provider-changed in the review, whatever it is
        entry = RESOURCE_TYPES.get(registration.type)
        if entry is None and registration.type not in COMPONENT_TYPES:
            problems.add(
                f"the program declares a resource of type {registration.type}, which the catalogue "
                "(catalogue/resource_types.py) does not know: say there what it is first"
            )
        elif entry is not None and (extra := sorted(set(registration.inputs) - entry.inputs)):
            problems.add(
                f"the program sets {', '.join(extra)} on {registration.type}, which its catalogue entry "
                "(catalogue/resource_types.py) does not name: say there what each is first"
            )
        elif entry is None and registration.inputs:
            problems.add(f"the component {registration.type} has inputs of its own, which nothing reads back")
    return sorted(problems)


OTHER_PROVIDER_SETTINGS = frozenset(ACCEPTED_PROVIDER_SETTINGS) - frozenset(CONFIG_KEYS)


def plain_secrets(run: ProgramRun) -> tuple[str, ...]:
    """Where a value the provider marks secret (an access key's secret) would be exported or stored without being
    marked secret: anyone who can read the stack's outputs or the resource's state would read it."""
    if not run.secret_unknowns:
        return ()
    secrets = re.compile("|".join(re.escape(secret) for secret in sorted(run.secret_unknowns, key=len, reverse=True)))
    found = [
        f"output {name}"
        for name, output in run.outputs.items()
        if not output.secret and _holds_plain(output.value, secrets)
    ]
    found += [
        f"{registration.type.rsplit(':', 1)[-1]} {registration.name}"
        for registration in run.registrations
        if registration.custom and _holds_plain(registration.inputs, secrets)
    ]
    return tuple(sorted(found))


def _holds_plain(value: Any, secrets: re.Pattern[str]) -> bool:
    """Whether a secret is somewhere in `value` outside a part marked secret."""
    if isinstance(value, dict):
        if rpc._special_sig_key in value:  # marked secret: the engine encrypts it
            return False
        return any(_holds_plain(item, secrets) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_plain(item, secrets) for item in value)
    return isinstance(value, str) and secrets.search(value) is not None


def _output(run: ProgramRun, name: str) -> str:
    output = run.outputs.get(name)
    return str(output.value) if output is not None else ""


@functools.cache
def is_regional(resource_type: str) -> bool:
    """Whether a pulumi-aws resource type has a `region` input: the SDK's own signature says so. (pulumi-aws 7,
    after terraform-provider-aws 6: it defaults to the provider's region, and changing it replaces the resource.)"""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return False
    try:
        module = importlib.import_module(f"pulumi_aws.{parts[1].split('/')[0]}")
    except ImportError:
        return False
    cls = getattr(module, parts[2], None)
    init = getattr(cls, "_internal_init", None)
    return init is not None and "region" in inspect.signature(init).parameters


def with_provider_region(resource_type: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """The inputs as the provider sees them: a regional resource without its own `region` is in the stack's."""
    if region and "region" not in inputs and is_regional(resource_type):
        return {**inputs, "region": region}
    return inputs


def policy_violations(registrations: list[Registration], options: RuleOptions | None = None) -> list[PolicyViolation]:
    """The policy pack's rules, run on what the program registered (the same rules CrossGuard runs)."""
    views = [
        ResourceView(
            type=r.type,
            urn=r.urn,
            name=r.name,
            props=r.inputs,
            protect=r.protect,
            parent=r.parent or None,
            additional_secret_outputs=r.additional_secret_outputs,
        )
        for r in registrations
    ]
    return [PolicyViolation(rule.name, rule.enforcement, v.urn, v.message) for rule, v in evaluate(views, options)]


def _tenant_plan(
    org_id: str,
    summary: dict[str, Any],
    own: list[ResourcePlan],
    group_policies: dict[str, dict[str, Any]],
    stack: str,
) -> TenantPlan:

    def policy(resource_type: str) -> dict[str, Any]:
        return next(json.loads(r.inputs["policy"]) for r in own if r.type == resource_type)

    # What the user may do is its profile group's policy as AWS evaluates it for this user's tags.
    user_tags = next((r.inputs.get("tags") or {} for r in own if r.type == USER_TYPE), {})
    group_policy = group_policies.get(naming.group_name(stack, summary["profile"]), {"Statement": []})

    return TenantPlan(
        org_id=org_id,
        bucket_name=summary["bucketName"],
        public_base_url=summary.get("publicBaseUrl"),
        profile=summary["profile"],
        environment=summary["environment"],
        iam_user_name=summary["iamUserName"],
        user_policy=effective_policy(group_policy, user_tags),
        bucket_policy=policy(BUCKET_POLICY_TYPE),
        mocked_suffix=any(resource.type == RANDOM_ID_TYPE for resource in own),
        app_key_id=str(summary.get("accessKeyId") or ""),
        bucket_namespace=str(summary.get("bucketNamespace") or "global"),
        public_access=summary.get("publicAccess"),
        s3_public_base_url=summary.get("s3PublicBaseUrl"),
        resource_urns=[resource.urn for resource in own],
    )
