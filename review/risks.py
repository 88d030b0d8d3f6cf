"""Risk classes: what a reviewer must see in a change, named, counted, and able to fail the check.

Every class is derived from one model of what the deploy does (`review.effects`), never from a list of
special cases:

- data-loss: stored objects could be deleted, replaced or become unreadable (a bucket, log bucket or
  KMS key deleted or replaced, for certain or possibly; SSE-KMS objects stranded; lifecycle rules that
  expire objects sooner; versioning turned off), or a tenant moves to another stack;
- protection-removed: a resource loses `protect` or `retain_on_delete`;
- credentials-revoked: a tenant is left with no access key that exists today;
- credentials-exposed: a tenant's secret access key becomes readable by more principals or in more places (a
  credential store turned on or changed, a secret stored or exported unmarked, the stack's secrets provider or
  its key changed);
- newly-public: anonymous callers gain an action on data that exists (a bucket that existed, or one the
  deploy adopts); a new, empty bucket public by its profile is "tenant added", not a risk;
- permissions-widened: a caller that existed gains an action, or anyone gains one on a bucket that existed;
- public-access-narrowed: anonymous callers or a CloudFront distribution can no longer read what they could of a
  bucket that stays: links to it stop working;
- public-url-changed: where a tenant's public files are (`publicBaseUrl`) changes;
- adopted: an existing resource is imported, and the deploy overwrites its settings;
- stack-removed: a stack file deleted or renamed: all its resources go;
- account-changed: a stack's allowed accounts change;
- provider-changed: the program declares a provider of its own, or asks for a provider plugin other than its
  SDK package's (another version, a download URL);
- settings-changed: a provider setting the deploy accepts but does not read changes (shown, not failing);
- tooling-changed: the change edits the review gate's own code or configuration (the tool, the workflows,
  Pulumi.yaml, the policy pack, CODEOWNERS): a verdict from this revision's tool is only as good as that edit;
- base-unreadable: the base revision's inputs cannot be planned, so nothing could be compared.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

from policy.tenant_storage_rules import ACCESS_KEY, USER
from review.diff import StackDiff, input_text, tenant_value_masks, whole_values
from review.effects import Effects, compute_effects, subject_of
from review.plan import PROVIDER_TYPE_PREFIX, ResourcePlan, StackPlan
from review.risk_classes import DEFAULT_FAIL_ON as DEFAULT_FAIL_ON
from review.risk_classes import RISK_CLASSES
from tenant_storage.deploy_inputs import ACCEPTED_PROVIDER_SETTINGS
from tenant_storage.errors import counted

MAX_BASE_ERRORS_SHOWN = 3
MAX_FILES_NAMED = 10


@dataclass(frozen=True)
class Risk:
    risk_class: str
    stack: str
    org_id: str | None
    urn: str | None
    message: str
    subject: str = ""  # the bucket, user or other resource, as a reviewer knows it
    possible: bool = False  # depends on a value only a deploy knows: it may happen
    steps: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.risk_class,
            "stack": self.stack or None,
            "orgId": self.org_id,
            "subject": self.subject,
            "urn": self.urn,
            "message": self.message,
            "possible": self.possible,
            "steps": list(self.steps),
        }

    @property
    def line(self) -> str:
        """One line for people: what, on which tenant's bucket or user, and what happens."""
        where = f"{self.subject}" + (f" (tenant {self.org_id})" if self.org_id else "")
        return f"{where}: {self.message}" if where else self.message


def stack_risks(base: StackPlan, head: StackPlan, diff: StackDiff) -> list[Risk]:
    stack = head.stack
    if head.refused and not diff.base_unreadable:
        return []  # the head's own problems are the finding; nothing was compared
    if diff.base_unreadable:
        shown = diff.base_errors[:MAX_BASE_ERRORS_SHOWN]
        more = len(diff.base_errors) - len(shown)
        return [
            Risk(
                "base-unreadable",
                stack,
                None,
                None,
                "the base revision's inputs cannot be planned, so this change could not be compared with it "
                "(every head resource would otherwise look new): "
                + "; ".join(shown)
                + (f"; and {more} more" if more else ""),
                subject=f"stack {stack}",
            )
        ]
    effects = compute_effects(base, head, diff.resources)
    return [
        *_data_risks(stack, effects, diff),
        *_protection_risks(stack, effects),
        *_credential_risks(stack, effects),
        *_exposure_risks(stack, base, head),
        *_access_risks(stack, effects),
        *_public_loss_risks(stack, effects),
        *_url_risks(stack, base, head),
        *_adoption_risks(stack, effects),
        *_settings_risks(stack, base, head),
        *_provider_risks(stack, base, head),
        *_emptied_risks(stack, base, head),
    ]


def _emptied_risks(stack: str, base: StackPlan, head: StackPlan) -> list[Risk]:
    """A stack that kept its file but lost every tenant: each removal is its own risk too, and this one says that
    it is all of them (an emptied list, a wrong environment), which one removal among many does not."""
    before = base.tenant_count or len(base.tenants)
    if before == 0 or head.tenant_count or head.tenants:
        return []
    return [
        Risk(
            "stack-removed",
            stack,
            None,
            None,
            f"stack {stack} declares no tenant any more: all {counted(before, 'tenant')} it had would be removed",
            f"stack {stack}",
        )
    ]


def _data_risks(stack: str, effects: Effects, diff: StackDiff) -> list[Risk]:
    move = diff.log_bucket_move
    keep = (
        (f"keep the old access-log bucket and its logs: set {move.keep_setting} in Pulumi.{stack}.yaml",)
        if move and not move.kept and move.keep_setting
        else ()
    )
    return [
        Risk(
            "data-loss",
            stack,
            effect.org_id,
            effect.urn,
            effect.message,
            effect.subject,
            effect.possible,
            steps=keep if move and effect.urn == move.old_urn else (),
        )
        for effect in effects.data
    ]


def _protection_risks(stack: str, effects: Effects) -> list[Risk]:
    return [
        Risk(
            "protection-removed",
            stack,
            loss.org_id,
            loss.urn,
            f"loses {' and '.join(loss.lost)}: a later change can delete it",
            loss.subject,
        )
        for loss in effects.protection
    ]


def _credential_risks(stack: str, effects: Effects) -> list[Risk]:
    return [
        Risk("credentials-revoked", stack, loss.org_id, loss.urn, loss.message, loss.subject)
        for loss in effects.credentials
    ]


@dataclass(frozen=True)
class CredentialPlaces:
    holders: dict[str, ResourcePlan]  # resources holding a copy of a tenant's secret key, or a value derived from one
    readers: dict[str, ResourcePlan]  # resources that name a store: they may decide who reads it


def credential_places(plan: StackPlan, with_readers: bool = True) -> CredentialPlaces:
    """Where a plan keeps tenants' secret keys, in one pass over each resource's inputs.

    A holder holds a value the provider marks secret (an access key's secret), or anything derived from one: the
    engine keeps a value computed from a secret secret, so an input marked secret is one. A reader names a holder
    or what a holder belongs to (a secret's version belongs to its secret), by a value only that produces (its id
    or ARN) or by its name."""
    texts = {r.urn: input_text(r.inputs) for r in plan.resources if r.type not in (ACCESS_KEY, USER)}
    secrets = whole_values(sorted(plan.secret_values))
    holders = {
        urn: plan_resource
        for plan_resource in plan.resources
        if (urn := plan_resource.urn) in texts
        and (SECRET_MARK in texts[urn] or (secrets is not None and secrets.search(texts[urn])))
    }
    if not holders or not with_readers:
        return CredentialPlaces(holders, {})
    by_urn = {r.urn: r for r in plan.resources}
    tokens = whole_values(list(plan.unknowns))
    found = set(tokens.findall("\n".join(texts[urn] for urn in holders))) if tokens is not None else set()
    stores = set(holders) | {producer for token in found if (producer := plan.unknowns[token]) in texts}
    names = [name for urn in stores if isinstance(name := by_urn[urn].inputs.get("name"), str) and name]
    named = whole_values([token for token, producer in plan.unknowns.items() if producer in stores] + names)
    readers = {
        urn: by_urn[urn]
        for urn, text in texts.items()
        if urn not in stores and named is not None and named.search(text)
    }
    return CredentialPlaces(holders, readers)


def _exposure_risks(stack: str, base: StackPlan, head: StackPlan) -> list[Risk]:
    risks = []
    changed = sorted(
        key
        for key in base.secrets_provider.keys() | head.secrets_provider.keys()
        if base.secrets_provider.get(key) != head.secrets_provider.get(key)
    )
    if changed:
        risks.append(
            Risk(
                "credentials-exposed",
                stack,
                None,
                None,
                f"{', '.join(changed)} changed in Pulumi.{stack}.yaml: the stack's secrets, every tenant's secret "
                "access key in the state among them, are then encrypted with another key or passphrase, and whoever "
                "can use it reads them",
                f"stack {stack}",
            )
        )
    before = credential_places(base, with_readers=False).holders
    after = credential_places(head)
    risks += [
        Risk(
            "credentials-exposed",
            stack,
            holder.org_id,
            urn,
            "now holds a copy of the tenant's secret access key: whoever may read it reads the key (the pull-request "
            "preview role may read the credential store in use: `tenant-storage ci-roles` lists it)",
            subject_of(holder),
        )
        for urn, holder in sorted(after.holders.items())
        if urn not in before
    ]
    before_inputs = {r.urn: r.inputs for r in base.resources}
    risks += [
        Risk(
            "credentials-exposed",
            stack,
            reader.org_id,
            urn,
            "names a credential store and is new or changed: it may change who reads the tenants' secret access keys",
            subject_of(reader),
        )
        for urn, reader in sorted(after.readers.items())
        if before_inputs.get(urn) != reader.inputs
    ]
    risks += [
        Risk(
            "credentials-exposed",
            stack,
            None,
            None,
            "holds a tenant's secret access key without marking it secret: the state and every output show it in "
            "plain text",
            place,
        )
        for place in sorted(set(head.plain_secrets) - set(base.plain_secrets))
    ]
    return risks


SECRET_MARK = rpc._special_sig_key  # how the SDK marks a secret value among a resource's inputs


def _provider_risks(stack: str, base: StackPlan, head: StackPlan) -> list[Risk]:
    """The program chooses a provider of its own, new or changed: a provider resource (its resources are deployed
    with its settings: assumed roles, endpoints, credentials, which neither the caller check, made with the
    default provider, nor the allowlist of provider settings, read from the stack file, sees), or a plugin other
    than its SDK package's (the engine downloads and runs that binary with the deploy's credentials)."""
    before = {r.urn: r for r in base.resources}
    risks = []
    for resource in head.resources:
        old = before.get(resource.urn)
        if resource.type.startswith(PROVIDER_TYPE_PREFIX) and (old is None or old.inputs != resource.inputs):
            risks.append(
                Risk(
                    "provider-changed",
                    stack,
                    None,
                    resource.urn,
                    "the program declares a provider of its own: the resources it is given are deployed with its "
                    f"settings ({', '.join(sorted(resource.inputs)) or 'none'}), whatever account, roles or endpoints "
                    "they name, and neither the caller check nor the allowed provider settings apply to it",
                    f"provider {resource.type.removeprefix(PROVIDER_TYPE_PREFIX)} {resource.name}",
                )
            )
        elif resource.plugin and (old is None or old.plugin != resource.plugin):
            risks.append(
                Risk(
                    "provider-changed",
                    stack,
                    resource.org_id,
                    resource.urn,
                    f"is declared with a provider plugin other than its SDK package's ({resource.plugin}): the engine "
                    "downloads and runs that binary with the deploy's credentials",
                    subject_of(resource),
                )
            )
    return risks


def _settings_risks(stack: str, base: StackPlan, head: StackPlan) -> list[Risk]:
    return [
        Risk(
            "settings-changed",
            stack,
            None,
            None,
            f"{key}: {base.provider_settings.get(key, 'not set')} -> {head.provider_settings.get(key, 'not set')} "
            f"(accepted: {ACCEPTED_PROVIDER_SETTINGS[key]})",
            f"stack {stack}",
        )
        for key in sorted(base.provider_settings.keys() | head.provider_settings.keys())
        if base.provider_settings.get(key) != head.provider_settings.get(key)
    ]


def tooling_risks(changed: Sequence[str]) -> list[Risk]:
    """The files of the review gate's own code or configuration that the change edits (`review.program.gate_files`)."""
    if not changed:
        return []
    return [
        Risk(
            "tooling-changed",
            "",
            None,
            None,
            "changes the review gate's own code or configuration: a verdict of this revision's tool is only as good "
            "as this edit; review it as code (CODEOWNERS), and gate pull requests with the default branch's tool "
            "(docs/review.md: the review gate)",
            f"{counted(len(changed), 'file')}: {', '.join(changed[:MAX_FILES_NAMED])}"
            + (f" and {len(changed) - MAX_FILES_NAMED} more" if len(changed) > MAX_FILES_NAMED else ""),
        )
    ]


def _grants_text(actions: Sequence[tuple[str, str]]) -> str:
    by_scope: dict[str, list[str]] = {}
    for action, scope in actions:
        by_scope.setdefault(scope, []).append(action)
    return "; ".join(
        f"{', '.join(sorted(names))} on {scope if scope == 'the bucket' else 'objects ' + scope}"
        for scope, names in sorted(by_scope.items())
    )


def _access_risks(stack: str, effects: Effects) -> list[Risk]:
    risks = []
    for gain in effects.access:
        if gain.public and not gain.on_data:
            continue  # a new, empty bucket public by its profile: the tenant's creation, not a risk
        if gain.public and not gain.already_public:
            note = " (an adopted bucket: what it allowed before is unknown, so all of it counts)"
            through = "" if gain.caller == "anyone" else f", through {gain.caller_name},"
            risks.append(
                Risk(
                    "newly-public",
                    stack,
                    gain.org_id,
                    gain.bucket,
                    f"anyone on the internet may now{through} {_grants_text(gain.actions)}"
                    + (note if gain.adopted_bucket else ""),
                    f"bucket {gain.bucket_name}",
                )
            )
        elif gain.public:
            how = _route(gain.caller, gain.caller_name)
            risks.append(
                Risk(
                    "permissions-widened",
                    stack,
                    gain.org_id,
                    gain.bucket,
                    f"a new reader: anyone on the internet may now {_grants_text(gain.actions)} {how}; "
                    "nothing newly public: the same objects were public before",
                    f"bucket {gain.bucket_name}",
                )
            )
        elif gain.bucket_before or gain.caller_before:
            risks.append(
                Risk(
                    "permissions-widened",
                    stack,
                    gain.org_id,
                    gain.bucket,
                    f"{gain.caller_name} may now {_grants_text(gain.actions)}",
                    f"bucket {gain.bucket_name}",
                )
            )
    return risks


def _route(caller: str, caller_name: str) -> str:
    """How a public caller reaches a bucket: anyone straight from S3, or through a CloudFront distribution."""
    return "straight from S3" if caller == "anyone" else f"through {caller_name}"


def _public_loss_risks(stack: str, effects: Effects) -> list[Risk]:
    risks = []
    for loss in effects.public_losses:
        how = _route(loss.caller, loss.caller_name)
        still = (
            f"; still served through {', '.join(loss.still_served_by)}"
            if loss.still_served_by
            else "; nothing public serves them any more"
        )
        risks.append(
            Risk(
                "public-access-narrowed",
                stack,
                loss.org_id,
                loss.bucket,
                f"anyone on the internet may no longer {_grants_text(loss.actions)} {how}: links that way stop "
                f"working{still}",
                f"bucket {loss.bucket_name}",
            )
        )
    return risks


def _url_risks(stack: str, base: StackPlan, head: StackPlan) -> list[Risk]:
    before = {tenant.org_id: tenant.public_base_url for tenant in base.tenants}
    shown_before, shown_after = tenant_value_masks(base, head)
    risks = []
    for tenant in head.tenants:
        old, new = before.get(tenant.org_id), tenant.public_base_url
        if old and new and old != new:
            risks.append(
                Risk(
                    "public-url-changed",
                    stack,
                    tenant.org_id,
                    None,
                    f"its public files move from {shown_before(old)} to {shown_after(new)}: hand its app the "
                    "new publicBaseUrl (`tenant-storage credentials`)",
                    f"bucket {tenant.bucket_name}",
                )
            )
    return risks


def _adoption_risks(stack: str, effects: Effects) -> list[Risk]:
    return [
        Risk(
            "adopted",
            stack,
            adoption.org_id,
            adoption.urn,
            "exists already and is imported; this deploy overwrites "
            + ("; ".join(adoption.overwritten) if adoption.overwritten else "nothing on it"),
            adoption.subject,
        )
        for adoption in effects.adoptions
    ]


def account_risks(
    stack: str, base_accounts: tuple[str, ...] | None, head_accounts: tuple[str, ...] | None
) -> list[Risk]:
    if base_accounts is None or head_accounts is None or set(base_accounts) == set(head_accounts):
        return []
    return [
        Risk(
            "account-changed",
            stack,
            None,
            None,
            f"allowed accounts {', '.join(base_accounts)} -> {', '.join(head_accounts)}",
            f"stack {stack}",
        )
    ]


def removed_stack_risk(stack: str, base: StackPlan) -> Risk:
    if base.refused:
        return Risk(
            "stack-removed",
            stack,
            None,
            None,
            f"Pulumi.{stack}.yaml is gone; its base inputs cannot be planned, so what it held is unknown",
            f"stack {stack}",
        )
    return Risk(
        "stack-removed",
        stack,
        None,
        None,
        f"Pulumi.{stack}.yaml is gone: all {base.resource_count or len(base.resources)} resources of stack {stack} "
        f"({base.tenant_count or len(base.tenants)} tenants) would be destroyed by `pulumi destroy`, or orphaned",
        f"stack {stack}",
    )


@dataclass(frozen=True)
class Move:
    org_id: str
    source: str
    target: str
    bucket_name: str
    component_urn: str | None  # the tenant's component in the source stack
    same_accounts: bool
    suffixed: bool = False  # a random suffix: the new stack draws a new name
    public_urls: tuple[str, str] | None = None  # its publicBaseUrl before and after, when the move changes it


def move_risks(moves: Sequence[Move]) -> list[Risk]:
    """A tenant that leaves one stack and joins another is one change: data-loss, with how to do it safely."""
    risks = []
    for move in moves:
        source, target = shlex.quote(move.source), shlex.quote(move.target)
        if move.same_accounts:
            message = (
                f"moves from stack {move.source} to stack {move.target} in the same account: deployed as it is, "
                f"{move.source} deletes the bucket (or fails to: it is not empty) and {move.target} creates it "
                "again, empty. Move its state first (pulumi state move takes the component's children with it):"
            )
            steps: tuple[str, ...] = (
                f"pulumi state move --source {source} --dest {target} --yes "
                f"{shlex.quote(move.component_urn or move.org_id)}   # before this change is deployed",
                f"pulumi up --stack {target}   # the moved tenant joins this stack's groups and log bucket",
                f"pulumi up --stack {source}   # the old stack lets go of its group membership",
            )
        else:
            create = (
                f"{move.target} draws a new random suffix, so it creates a new, empty bucket"
                if move.suffixed
                else f"creating {move.bucket_name} in {move.target} fails while {move.source}'s account still holds it"
            )
            message = (
                f"moves from stack {move.source} to stack {move.target}, another AWS account: this cannot be done "
                f"in one change. A bucket cannot change accounts and its name is global: {create}, and removing "
                f"it from {move.source} loses its objects. Revert this change, then:"
            )
            steps = (
                f"aws s3 sync s3://{move.bucket_name} ./{move.org_id}-backup   # copy the data out, as the old account",
                f"retire {move.org_id} from {move.source}: remove its entry and follow the steps plan --base prints",
                "add it back with its new environment (the same name once S3 has released it, or randomSuffix: true "
                f"for a new name at once), deploy {move.target}, then aws s3 sync ./{move.org_id}-backup "
                "s3://<its new bucket>",
                f"hand the new access key to the tenant's app: "
                f"tenant-storage credentials {move.org_id} --stack {target}",
            )
        risks.append(
            Risk(
                "data-loss",
                move.target,
                move.org_id,
                move.component_urn,
                message,
                f"bucket {move.bucket_name}",
                steps=steps,
            )
        )
        if move.public_urls:
            old, new = move.public_urls
            risks.append(
                Risk(
                    "public-url-changed",
                    move.target,
                    move.org_id,
                    None,
                    f"its public files move from {old} (stack {move.source}) to {new} (stack {move.target}'s): "
                    f"hand its app the new publicBaseUrl (`tenant-storage credentials {move.org_id} --stack "
                    f"{target}`)",
                    f"bucket {move.bucket_name}",
                )
            )
    return risks


def summary_counts(risks: list[Risk]) -> dict[str, int]:
    """The classes that occur, with their counts, in the order of RISK_CLASSES."""
    counts = {risk_class: sum(1 for r in risks if r.risk_class == risk_class) for risk_class in RISK_CLASSES}
    return {risk_class: count for risk_class, count in counts.items() if count}
