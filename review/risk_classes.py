"""The risk classes `plan --base` names, in the order they are reported: one table, from which the default
`--fail-on`, the CLI's help and docs/reference/risk-classes.md (held to it by tests/test_docs.py) are made.
What each class is computed from: review/risks.py, on the model of review/effects.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RiskClass:
    name: str
    # What the deploy would do that makes a risk of this class (the reference table's "the deploy would..." column).
    effect: str
    # What the reviewer does about it.
    action: str
    # Shown, never failing unless asked for: what only widens a tenant's own user, or a setting proven harmless.
    advisory: bool = False


TABLE = (
    RiskClass(
        "base-unreadable",
        (
            "(unknown) the base revision's inputs cannot be planned (invalid, not UTF-8, a symbolic link, too "
            "large), so nothing could be compared. Never treated as an empty base."
        ),
        "Fix the base first (a separate pull request to main), then review this change against it.",
    ),
    RiskClass(
        "data-loss",
        (
            "make stored objects deleted, replaced or unreadable: a tenant bucket, the access-log bucket or the "
            "stack's KMS key deleted or replaced (also by a new `aws:region`: every regional resource is then "
            "replaced); a name only a deploy knows (a random suffix, the account) that may change, shown as a "
            "**possible** replacement; SSE-KMS objects stranded (their key deleted, or a reader losing "
            "`kms:Decrypt`); lifecycle rules that expire current objects sooner or keep deleted versions shorter;"
            " versioning turned off; a tenant moving to another stack."
        ),
        (
            "Ask why. A tenant removal follows the retirement steps printed with it; a move follows the move's "
            "steps; a setting that shortens retention or drops the key is reverted unless the data's owner agreed"
            " in writing."
        ),
    ),
    RiskClass(
        "protection-removed",
        "take `protect` or `retain_on_delete` away from a resource, so that a later change can delete it",
        "Accept only as step 1 of a deliberate retirement.",
    ),
    RiskClass(
        "credentials-revoked",
        (
            "delete or replace the access key a tenant's app uses today (its newest label, the one the credential"
            " store and `credentials` hand out: a one-step rotation, the newest label removed, a new user "
            "prefix), or the stored copy its app reads (a `credentialStore` switch deletes the old store's "
            "secrets)"
        ),
        "Ask for the two-step rotation: add the new label, move the app, then remove the old one.",
    ),
    RiskClass(
        "credentials-exposed",
        (
            "make a tenant's secret access key readable by more principals or in more places: a credential store "
            "turned on or switched (every tenant's secret key lands in a store, which the pull-request preview "
            "role may read: `ci-roles` grants it for the store in use), a secret stored or exported without being"
            " marked secret, a new or changed resource that names a store (a resource policy on a secret), or the"
            " stack's `secretsprovider`, `encryptedkey` or `encryptionsalt` changed (the state's secrets are then"
            " encrypted with another key)"
        ),
        "Confirm who may read the new place, and that the tenants' apps are meant to read their keys there.",
    ),
    RiskClass(
        "newly-public",
        (
            "let anonymous callers do something new on data that exists: a bucket that existed, or an existing "
            'bucket the deploy adopts (whose "before" is unknown, so everything public after counts). A new, '
            'empty bucket public by its profile is "tenant added", not this risk.'
        ),
        "Confirm with the tenant that everything under the public prefix of that bucket may be on the internet.",
    ),
    RiskClass(
        "permissions-widened",
        (
            "let a caller that existed do something new, or let anyone do something new on a bucket that existed "
            "(a profile switch lists only the actions the user did not have), or let a new public reader (a CloudFront "
            "distribution) read objects that were public already"
        ),
        "Check that the tenant's app needs the new actions.",
        advisory=True,
    ),
    RiskClass(
        "public-access-narrowed",
        (
            "take away what anonymous callers or the stack's CloudFront distribution could read of a bucket that "
            "stays: links that way stop working (the last step of a move to `publicAccess: cloudfront` takes the "
            "S3 URLs away; the line says whether CloudFront still serves the same objects)"
        ),
        (
            "Confirm that no app or stored link still uses the old URLs: the access logs show anonymous reads "
            "(docs/public-access.md)."
        ),
    ),
    RiskClass(
        "public-url-changed",
        "change where a tenant's public files are (its `publicBaseUrl`)",
        "Check that the tenant's app is given the new URL; the old one works as long as its access is not narrowed.",
        advisory=True,
    ),
    RiskClass(
        "adopted",
        (
            "import an existing bucket or user, and overwrite its settings: each imported resource is listed with"
            " every setting the deploy writes on it (ownership, public access block, encryption, lifecycle, "
            "policy, tags, group, removed user policies)"
        ),
        (
            "Run `tenant-storage discover`/`audit` against the live account and check that nothing listed breaks "
            "the tenant's app."
        ),
    ),
    RiskClass(
        "stack-removed",
        (
            "destroy or orphan every resource of a stack whose file is deleted or renamed, or remove every tenant of"
            " a stack that declared some (an emptied `tenants:` list, every environment it hosts dropped)"
        ),
        "Never merge by accident; a rename is a new stack plus a removed one.",
    ),
    RiskClass(
        "account-changed",
        "deploy a stack into another AWS account",
        "Confirm the account split in `accounts.yaml` and plan the data's move.",
    ),
    RiskClass(
        "provider-changed",
        (
            "give resources to a provider the program declares itself (`pulumi:providers:aws`, new or changed: "
            "its roles, endpoints or credentials are covered neither by the caller check, made with the default "
            "provider, nor by the allowed provider settings), or ask for a provider plugin other than the SDK "
            "package's (another `version`, a `plugin_download_url`: the engine downloads and runs that binary "
            "with the deploy's credentials)"
        ),
        "Refuse, unless the platform owners designed it.",
    ),
    RiskClass(
        "settings-changed",
        (
            "change a provider setting the deploy accepts but the program does not read "
            "(`aws:forbiddenAccountIds`, `aws:maxRetries`, `aws:retryMode`)"
        ),
        "Nothing, unless the retry settings matter for a large fleet.",
        advisory=True,
    ),
    RiskClass(
        "tooling-changed",
        (
            "(not a deploy effect) edit a tracked file of the gate's own: every file but the inputs, the program "
            "(`__main__.py`, `components/`), the tests, the emulator and the documents (the top's `*.md`, "
            "`docs/`) (`review/program.py`, `NOT_THE_GATE`), so the tool, its dependencies and their settings "
            "(`pyproject.toml`, `uv.lock`, `uv.toml`), the policy pack, the live commands the deploy job runs "
            "(`live/`), `Makefile`, `.ci/`, the workflows, `CODEOWNERS` wherever GitHub reads it, `Pulumi.yaml`, "
            "any file nobody listed, and compiled code anywhere (a committed unchecked-hash `.pyc` is loaded "
            "instead of its source, a `.so` before the `.py` of the same name). A rename counts as its old path "
            "removed and its new one added"
        ),
        "Review the change as code, with the code owners; only then set `accept-risk`.",
    ),
)
RISK_CLASSES = tuple(risk_class.name for risk_class in TABLE)
ADVISORY = tuple(risk_class.name for risk_class in TABLE if risk_class.advisory)
DEFAULT_FAIL_ON = tuple(risk for risk in RISK_CLASSES if risk not in ADVISORY)


def markdown_table() -> str:
    """The table of the classes, for reviewers (docs/reference/risk-classes.md)."""
    rows = [
        "| class | the deploy would... | in the default `--fail-on` | what the reviewer does |",
        "| --- | --- | --- | --- |",
    ]
    for risk_class in TABLE:
        gate = f"no (listed; `--fail-on {risk_class.name}` gates it)" if risk_class.advisory else "yes"
        rows.append(f"| `{risk_class.name}` | {risk_class.effect} | {gate} | {risk_class.action} |")
    return "\n".join(rows)
