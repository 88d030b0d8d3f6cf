"""Every `tenant-storage` command in one place each: its help, its options and its handler, together.

A command is an `add_<command>` function that declares its parser and names its handler
(`set_defaults(handler=...)`). A handler takes the project folder and a frozen dataclass of the command's
options, named in its signature; the parser's destinations are that dataclass's fields
(`options_of`, and tests/test_cli.py holds every command to it), so an option cannot be parsed and dropped,
nor read and never parsed.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from review.risk_classes import ADVISORY, RISK_CLASSES
from tenant_storage import ALL_STACKS
from tenant_storage.usage import SORTS as USAGE_SORTS

Subcommands = Any  # argparse's _SubParsersAction, private in typeshed
Handler = Callable[[Path, Any], int]
INVALID_INPUTS = "an input is invalid (every problem is printed; nothing is asked of AWS)"
LIVE_COULD_NOT_RUN = "could not run: a usage error, no AWS credentials, the wrong account, access denied, throttling"
FORMATTER = argparse.RawDescriptionHelpFormatter


def exit_status(*codes: tuple[int, str]) -> str:
    """A command's own exit statuses, for its --help."""
    return "exit status:\n" + "\n".join(
        textwrap.fill(meaning, 100, initial_indent=f"  {code}  ", subsequent_indent="     ") for code, meaning in codes
    )


def options_type(handler: Handler) -> type:
    """The dataclass of a handler's options: the annotation of its second parameter."""
    hints = typing.get_type_hints(handler)
    return hints[list(hints)[1]]


def options_of(handler: Handler, parsed: argparse.Namespace) -> Any:
    """The handler's options, read from what argparse parsed: every field, by name."""
    kind = options_type(handler)
    return kind(**{field.name: getattr(parsed, field.name) for field in fields(kind)})


def add(commands: Subcommands, name: str, help: str, description: str, handler: Handler) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help, description=description, formatter_class=FORMATTER
    )
    parser.set_defaults(handler=handler)
    return parser


def stack_option(
    parser: argparse.ArgumentParser, help: str, takes_all: bool = False, default: str | None = None
) -> None:
    """The one spelling of --stack; `takes_all` marks a command that accepts `all`, which completion offers."""
    action = parser.add_argument("--stack", required=default is None, default=default, help=help)
    action.takes_all = takes_all  # type: ignore[attr-defined]


def endpoint_url_option(parser: argparse.ArgumentParser) -> None:
    """The one spelling of every live command's --endpoint-url."""
    from emulator.sandbox import ENDPOINT_VARIABLE

    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get(ENDPOINT_VARIABLE),  # set but empty is refused, never read as "AWS itself"
        help=f"an AWS-compatible endpoint instead of AWS, such as the sandbox's (default: ${ENDPOINT_VARIABLE})",
    )


def risk_classes(text: str) -> tuple[str, ...]:
    from tenant_storage.errors import did_you_mean, quoted

    if text == "none":
        return ()
    classes = tuple(part.strip() for part in text.split(",") if part.strip())
    if not classes:
        raise argparse.ArgumentTypeError(f"name at least one risk class, or none; known: {', '.join(RISK_CLASSES)}")
    if "none" in classes:
        raise argparse.ArgumentTypeError("none stands alone: it means that no risk fails the plan")
    unknown = [name for name in classes if name not in RISK_CLASSES]
    if unknown:
        raise argparse.ArgumentTypeError(
            "; ".join(f"unknown risk class {quoted(name)}{did_you_mean(name, RISK_CLASSES)}" for name in unknown)
            + f"; known: {', '.join(RISK_CLASSES)}"
        )
    return classes


# plan ----------------------------------------------------------------------------------------------------------

PLAN_HELP = f"""\
Run the real program for each stack under Pulumi's mock monitor, with the stack's own
Pulumi.<stack>.yaml and the caller mocked as its allowed account: no AWS credentials and no Pulumi
CLI needed. By default a summary per stack (a line per tenant, totals, policy-pack findings); with
--detail also each tenant's exact IAM and bucket policies and resource URNs. JSON and Markdown are
always complete. Nothing secret is ever printed. With --base, that git revision is planned too, with
its own program and inputs (and its own locked dependencies, built with uv when they differ), and the
changes are shown (tenants, resources, DATA LOSS, WILL FAIL, policy statements).

examples:
  tenant-storage plan
  tenant-storage plan --stack qa --detail
  tenant-storage plan --base origin/main --format markdown >> "$GITHUB_STEP_SUMMARY"
  tenant-storage plan --base origin/main --fail-on data-loss,newly-public

{
    exit_status(
        (0, "every stack planned, nothing refused"),
        (1, "an input is invalid (every problem is printed) or a mandatory policy-pack rule is broken"),
        (2, "could not run: a usage error, an unknown stack, a base revision git cannot read"),
        (
            3,
            f"with --base: a risk of a --fail-on class (by default every class but {' and '.join(ADVISORY)})",
        ),
    )
}"""


@dataclass(frozen=True)
class PlanOptions:
    stack: str
    output_format: str
    detail: bool
    base: str | None
    full: bool
    fail_on: tuple[str, ...] | None
    tenant: list[str] | None


def plan(project: Path, options: PlanOptions) -> int:
    from cli.plan import run_plan

    return run_plan(
        project,
        options.stack,
        options.output_format,
        options.base,
        detail=options.detail,
        fail_on=options.fail_on,
        incremental=not options.full,
        tenants=options.tenant or (),
    )


def add_plan(commands: Subcommands) -> None:
    parser = add(commands, "plan", "what each stack would deploy (offline, no credentials)", PLAN_HELP, plan)
    stack_option(parser, f"a stack name, or {ALL_STACKS} (default: {ALL_STACKS})", takes_all=True, default=ALL_STACKS)
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        dest="output_format",
        help="text for people (default), markdown for the pull-request summary, json for machines",
    )
    parser.add_argument(
        "--detail", action="store_true", help="text: also every tenant's policies and resource URNs, every change"
    )
    parser.add_argument(
        "--base", metavar="GIT_REF", help="also plan this git revision, with its own program, and show what changes"
    )
    parser.add_argument(
        "--project",
        dest="project_dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the same as -C DIR: the review gate runs the default branch's tool on a pull request's checkout this "
        "way, so the pull request cannot change the verdict",
    )
    parser.add_argument(
        "--tenant",
        action="append",
        metavar="ORGID",
        help="text: show only these tenants (repeat it for several) and the stacks' shared resources; "
        "JSON and Markdown stay whole",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="with --base: plan every tenant at both revisions, even when only tenants.yaml changed",
    )
    parser.add_argument(
        "--fail-on",
        metavar="CLASSES",
        type=risk_classes,
        help="with --base: exit 3 when a risk of these comma-separated classes is present, or none "
        f"(default: every class but {' and '.join(ADVISORY)}); the classes: {', '.join(RISK_CLASSES)}",
    )


# stacks --------------------------------------------------------------------------------------------------------

STACKS_HELP = f"""\
List every stack file with its class (production-class stacks deploy behind the `production`
environment) and its allowed accounts. JSON is what the workflows build their matrices from.

examples:
  tenant-storage stacks
  tenant-storage stacks --format json

{
    exit_status(
        (0, "listed"),
        (1, "a stack file is invalid (`tenant-storage validate` says why)"),
        (2, "a usage error"),
    )
}"""


@dataclass(frozen=True)
class FormatOptions:
    output_format: str


def stacks(project: Path, options: FormatOptions) -> int:
    from cli.stacks import run_stacks

    return run_stacks(project, options.output_format)


def add_stacks(commands: Subcommands) -> None:
    parser = add(
        commands, "stacks", "the stacks and their class, from Pulumi.*.yaml (for CI matrices)", STACKS_HELP, stacks
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="text, or json for a matrix"
    )


# validate ------------------------------------------------------------------------------------------------------

VALIDATE_HELP = f"""\
Check tenants.yaml, accounts.yaml and every stack file, all problems at once, without loading the
Pulumi SDK (fast enough for editors and pre-commit). It does not check the caller's account, which
needs AWS: `plan` and `pulumi preview` do.

example:
  tenant-storage validate

{
    exit_status(
        (0, "every input is valid"),
        (1, "an input is invalid: every problem is printed"),
        (2, "a usage error"),
    )
}"""


@dataclass(frozen=True)
class NoOptions:
    pass


def validate(project: Path, options: NoOptions) -> int:
    from review.validate import run_validate

    return run_validate(project)


def add_validate(commands: Subcommands) -> None:
    add(
        commands,
        "validate",
        "check tenants.yaml, accounts.yaml and the stack files (no Pulumi SDK)",
        VALIDATE_HELP,
        validate,
    )


# check-names ---------------------------------------------------------------------------------------------------

CHECK_NAMES_HELP = f"""\
Ask S3 about every bucket name the stack would create: `ours` (this account's ListBuckets lists it),
`free` (HeadBucket 404) or `taken` (it exists but is not ours; the tenants.yaml entry to paste is
printed, in the account regional namespace or with `randomSuffix: true`). A name in the account regional
namespace only this account can create: it is ours or free. An `ours` bucket is `managed` or
`made by hand` (give its entry `adopt: true`). Tenants with a random suffix are skipped. Uses the standard
AWS credential chain: the caller's account is checked against the stack first; needs s3:ListAllMyBuckets.

examples:
  tenant-storage check-names --stack qa
  tenant-storage check-names --stack all
  tenant-storage check-names --stack qa --endpoint-url http://127.0.0.1:5000

{
    exit_status(
        (0, "every name is ours or free"),
        (1, f"a name is taken (the entry to paste is printed), or {INVALID_INPUTS}"),
        (2, LIVE_COULD_NOT_RUN),
    )
}"""


@dataclass(frozen=True)
class LiveOptions:
    """A live command's: the stack, and the endpoint instead of AWS."""

    stack: str
    endpoint_url: str | None


def check_names(project: Path, options: LiveOptions) -> int:
    from live.check_names import run_check_names

    return run_check_names(project, options.stack, options.endpoint_url)


def add_check_names(commands: Subcommands) -> None:
    parser = add(
        commands,
        "check-names",
        "ask S3 whether each bucket name is ours, free or taken (AWS credentials)",
        CHECK_NAMES_HELP,
        check_names,
    )
    stack_option(parser, f"the stack whose bucket names to check, or {ALL_STACKS}", takes_all=True)
    endpoint_url_option(parser)


# discover ------------------------------------------------------------------------------------------------------

DISCOVER_HELP = f"""\
Find the buckets (named with the stack's prefix or tagged OrgId) and IAM users (named with its user
prefix) of the caller's account that no tenant declares. Pair them, infer each profile from the
grants, and print tenants.yaml entries with `adopt: true` (and `bucketName:` for an unconventional
name), each with what its first deploy will change. Read-only; checks the caller's account first.

examples:
  tenant-storage discover --stack qa
  tenant-storage discover --stack prod --format json

{
    exit_status(
        (0, "nothing undeclared"),
        (1, f"undeclared buckets or users (their entries are printed), or {INVALID_INPUTS}"),
        (2, LIVE_COULD_NOT_RUN),
    )
}"""


@dataclass(frozen=True)
class LiveReportOptions:
    """A live command's that reports in a format of its choice."""

    stack: str
    output_format: str
    endpoint_url: str | None


def discover(project: Path, options: LiveReportOptions) -> int:
    from live.discover import run_discover

    return run_discover(project, options.stack, options.output_format, options.endpoint_url)


def add_discover(commands: Subcommands) -> None:
    parser = add(
        commands,
        "discover",
        "find tenants made by hand in the stack's account and print their entries (AWS credentials)",
        DISCOVER_HELP,
        discover,
    )
    stack_option(parser, "the stack whose account and prefixes to search")
    parser.add_argument(
        "--format",
        choices=("yaml", "json"),
        default="yaml",
        dest="output_format",
        help="yaml to paste, json for machines",
    )
    endpoint_url_option(parser)


# audit ---------------------------------------------------------------------------------------------------------

AUDIT_HELP = f"""\
Compare the live account with what the stack declares, per tenant: the bucket and its settings
(ownership, public access block, encryption, versioning, lifecycle, logging, bucket-policy statements,
tags), the user (its group, no policy of its own), its access keys (undeclared, older than
accessKeyMaxAgeDays: IAM.3, unused for 45 days: IAM.22), and orphans with the stack's prefixes.
Read-only; checks the caller's account first.

examples:
  tenant-storage audit --stack qa
  tenant-storage audit --stack prod --format markdown >> "$GITHUB_STEP_SUMMARY"

{
    exit_status(
        (0, "the account is as declared"),
        (1, f"drift or orphans (each finding names its tenant), or {INVALID_INPUTS}"),
        (2, LIVE_COULD_NOT_RUN),
    )
}"""


def audit(project: Path, options: LiveReportOptions) -> int:
    from live.audit import run_audit

    return run_audit(project, options.stack, options.output_format, options.endpoint_url)


def add_audit(commands: Subcommands) -> None:
    parser = add(
        commands, "audit", "compare the live account with what the stack declares (AWS credentials)", AUDIT_HELP, audit
    )
    stack_option(parser, "the stack to audit")
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        dest="output_format",
        help="text for people, json for machines, markdown for a job summary",
    )
    endpoint_url_option(parser)


# preflight -----------------------------------------------------------------------------------------------------

PREFLIGHT_HELP = f"""\
Check the live account for what real AWS refuses and the offline plan cannot see, before the first
deploy and before every adoption or retirement: account-level S3 Block Public Access against the
media-gallery profile, ACL grants and the region of buckets to adopt, legacy users that would pass IAM's
two access keys, users the deploy will delete that hold what DeleteUser refuses (with the commands that
remove it), IAM user headroom, and whether the stack's access-log bucket name is another account's.
Read-only; checks the caller's account first. Each finding names its tenant and its fix.

examples:
  tenant-storage preflight --stack qa
  tenant-storage preflight --stack prod --format json

{
    exit_status(
        (0, "nothing AWS would refuse"),
        (1, f"findings, each with its tenant and its fix, or {INVALID_INPUTS}"),
        (2, LIVE_COULD_NOT_RUN),
    )
}"""


def preflight(project: Path, options: LiveReportOptions) -> int:
    from live.preflight import run_preflight

    return run_preflight(project, options.stack, options.output_format, options.endpoint_url)


def add_preflight(commands: Subcommands) -> None:
    parser = add(
        commands,
        "preflight",
        "will the next deploy succeed in the live account? (AWS credentials, read-only)",
        PREFLIGHT_HELP,
        preflight,
    )
    stack_option(parser, "the stack to check")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="text, or json for machines"
    )
    endpoint_url_option(parser)


# ci-roles ------------------------------------------------------------------------------------------------------

CI_ROLES_HELP = f"""\
Print the roles the workflows assume in the stack's account (preview, deploy, audit): for each, the
OpenID Connect trust policy with exactly the subjects its jobs present (read from .github/workflows)
and a least-privilege permission policy. Preview and audit only read (the preview also the credential
store's secret values, which `refresh: always` reads); deploy writes only the names the stack owns and
nothing that could grant it more. Offline: no AWS credentials. The repository (owner/name) comes from
--repository or the git remote `origin`.

examples:
  tenant-storage ci-roles --stack qa
  tenant-storage ci-roles --stack prod --format json --repository my-org/tenant-storage

{
    exit_status(
        (0, "printed"),
        (1, INVALID_INPUTS),
        (2, "could not run: an unknown stack, a stack of several accounts, no workflow assumes a role"),
    )
}"""


@dataclass(frozen=True)
class CiRolesOptions:
    stack: str
    output_format: str
    repository: str | None


def ci_roles(project: Path, options: CiRolesOptions) -> int:
    from live.ci_roles import run_ci_roles

    return run_ci_roles(project, options.stack, options.output_format, options.repository)


def add_ci_roles(commands: Subcommands) -> None:
    parser = add(
        commands,
        "ci-roles",
        "the CI roles' trust and permission policies for a stack (offline)",
        CI_ROLES_HELP,
        ci_roles,
    )
    stack_option(parser, "the stack whose account the roles live in")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="text, or json documents"
    )
    parser.add_argument("--repository", metavar="OWNER/NAME", help="the GitHub repository (default: git remote origin)")


# restore -------------------------------------------------------------------------------------------------------

RESTORE_HELP = """\
Bring every object of a tenant's bucket under --prefix back to its state at --to (ISO 8601 with a
zone). Nothing is deleted: an object overwritten or deleted since gets its version from then copied
back on top (server-side, metadata kept, the bucket's default encryption), so the restore can itself be
undone; objects created since are listed and kept unless --delete-newer hides them under delete
markers. A dry run unless --apply. Running it again (or after an interruption) changes nothing already
restored. A JSON report of every key is written (--report). Versions older than the stack's
noncurrent-version retention may be gone: a --to before it draws a warning.

examples:
  tenant-storage restore xmsqa1 --stack qa --to 2026-11-30T10:00:00Z
  tenant-storage restore xmsqa1 --stack qa --to 2026-11-30T10:00:00Z --prefix pub/ --apply

exit status:
  0  done (the dry run, or every key restored)
  1  an input is invalid (every problem is printed), some keys could not be restored (the report
     names them), the bucket is not versioned, or the report could not be written (the summary is printed)
  2  could not run, or stopped partway (the report counts what was done; run it again to resume):
     a usage error, no AWS credentials, the wrong account, access denied, throttling
  130  interrupted (Ctrl-C); the report counts what was done"""


@dataclass(frozen=True)
class RestoreOptions:
    org_id: str
    stack: str
    to: str
    prefix: str
    delete_newer: bool
    apply: bool
    report: str | None
    endpoint_url: str | None


def restore(project: Path, options: RestoreOptions) -> int:
    from live.restore import run_restore

    return run_restore(
        project,
        options.stack,
        options.org_id,
        options.to,
        options.prefix,
        options.delete_newer,
        options.apply,
        options.report,
        options.endpoint_url,
    )


def add_restore(commands: Subcommands) -> None:
    parser = add(
        commands,
        "restore",
        "bring a tenant's files back to a point in time, never deleting a version (AWS credentials)",
        RESTORE_HELP,
        restore,
    )
    parser.add_argument("org_id", metavar="orgId", help="the tenant whose bucket to restore")
    stack_option(parser, "the stack that deploys the tenant")
    parser.add_argument("--to", required=True, metavar="TIME", help="ISO 8601 with a zone: 2026-11-30T10:00:00Z")
    parser.add_argument("--prefix", default="", help="only the keys under this prefix (default: the whole bucket)")
    parser.add_argument(
        "--delete-newer", action="store_true", help="hide objects created since under delete markers (default: keep)"
    )
    parser.add_argument("--apply", action="store_true", help="restore (default: a dry run that changes nothing)")
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="where to write the JSON report (default: restore-<orgId>-<time>.json)",
    )
    endpoint_url_option(parser)


# usage ---------------------------------------------------------------------------------------------------------

USAGE_HELP = """\
What each tenant stores: bytes per storage class and objects from S3's free daily storage metrics
(CloudWatch AWS/S3; no object is listed), the totals, and the tenants that grew most over 30 days.
--cost adds each tenant's cost of a month from Cost Explorer, grouped by the OrgId tag (an active cost
allocation tag in the paying account). --stack all covers the stacks of the caller's account.

examples:
  tenant-storage usage --stack qa
  tenant-storage usage --stack all --format markdown >> "$GITHUB_STEP_SUMMARY"
  tenant-storage usage --stack prod --cost --month 2026-11 --format csv

exit status:
  0  done
  1  an input is invalid (every problem is printed), or figures are missing: --cost and OrgId is not
     an active cost allocation tag (the fix is printed), or a random-suffix tenant matches several buckets
  2  could not run: a usage error, no AWS credentials, the wrong account, throttling"""


@dataclass(frozen=True)
class UsageOptions:
    stack: str
    output_format: str
    cost: bool
    month: str | None
    sort: str
    endpoint_url: str | None


def usage(project: Path, options: UsageOptions) -> int:
    from live.usage import run_usage

    return run_usage(
        project,
        options.stack,
        options.output_format,
        options.cost,
        options.month,
        options.endpoint_url,
        sort=options.sort,
    )


def add_usage(commands: Subcommands) -> None:
    parser = add(
        commands,
        "usage",
        "what each tenant stores, and with --cost what it costs (AWS credentials, read-only)",
        USAGE_HELP,
        usage,
    )
    stack_option(parser, f"a stack, or {ALL_STACKS} (the stacks of the caller's account)", takes_all=True)
    parser.add_argument(
        "--format",
        choices=("text", "json", "csv", "markdown"),
        default="text",
        dest="output_format",
        help="text for people, json or csv for machines, markdown (with a chart) for a job summary",
    )
    parser.add_argument("--cost", action="store_true", help="add each tenant's cost from Cost Explorer")
    parser.add_argument("--month", metavar="YYYY-MM", help="the month of --cost (default: the last full month)")
    parser.add_argument(
        "--sort",
        choices=USAGE_SORTS,
        default="bytes",
        help="the order of the tenants: bytes or objects (largest first, tenants without figures last), or orgId",
    )
    endpoint_url_option(parser)


# sandbox -------------------------------------------------------------------------------------------------------

SANDBOX_HELP = f"""\
Start a local AWS emulator (moto) in the stack's account on a free loopback port, holding what
`pulumi up` of the stack would leave (its offline plan, replayed), with a sample file in two versions in
each tenant bucket. It prints the variables to export in another shell; audit, preflight, check-names,
discover, usage and restore then run against it (they read TENANT_STORAGE_ENDPOINT_URL). Runs until
Ctrl-C, then stops the emulator: nothing is left running. No AWS account, credentials or Pulumi CLI.

examples:
  tenant-storage sandbox --stack qa
  tenant-storage sandbox --stack prod --port 5000

{
    exit_status(
        (0, "stopped with Ctrl-C"),
        (1, INVALID_INPUTS),
        (2, "could not run: an unknown stack, the port is taken"),
    )
}"""


@dataclass(frozen=True)
class SandboxOptions:
    stack: str
    port: int


def sandbox(project: Path, options: SandboxOptions) -> int:
    from emulator.sandbox import run_sandbox

    return run_sandbox(project, options.stack, options.port)


def add_sandbox(commands: Subcommands) -> None:
    parser = add(
        commands,
        "sandbox",
        "a local emulator holding the stack's declared state, to try the day-two commands (offline)",
        SANDBOX_HELP,
        sandbox,
    )
    stack_option(parser, "the stack whose declared state to load")
    parser.add_argument("--port", type=port_number, default=0, help="the loopback port (default: a free one)")


def port_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, not {text[:20]!r}")
    return int(text)


# completion ----------------------------------------------------------------------------------------------------

COMPLETION_SHELLS = ("bash", "zsh", "fish")
COMPLETION_HELP = f"""\
Print the script that completes tenant-storage's commands, options and their choices in your shell
(argcomplete). Load it from your shell's start-up file.

examples:
  eval "$(tenant-storage completion bash)"       # in ~/.bashrc
  eval "$(tenant-storage completion zsh)"        # in ~/.zshrc
  tenant-storage completion fish | source        # in ~/.config/fish/config.fish

{exit_status((0, "printed"), (2, "a usage error: a shell it does not know"))}"""


@dataclass(frozen=True)
class CompletionOptions:
    shell: str


def completion(project: Path, options: CompletionOptions) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["tenant-storage"], shell=options.shell))
    return 0


def add_completion(commands: Subcommands) -> None:
    parser = add(
        commands, "completion", "the shell completion script for bash, zsh or fish", COMPLETION_HELP, completion
    )
    parser.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell to complete in")


# credentials ---------------------------------------------------------------------------------------------------

CREDENTIALS_HELP = f"""\
Print a tenant's app variables (BUCKET_NAME, AWS_KEY, AWS_SECRET, AWS_REGION) as shell assignments,
from `pulumi stack output --show-secrets --json` (needs the Pulumi CLI, logged in to the stack's
backend). Paste them into the password manager, never into a file or chat.

examples:
  tenant-storage credentials xmsqa1 --stack qa
  tenant-storage credentials xmsqa1 --stack qa --label 2026-11

{
    exit_status(
        (0, "printed"),
        (1, INVALID_INPUTS),
        (2, "could not run: an unknown stack or tenant, no Pulumi CLI, not logged in to the backend"),
    )
}"""


@dataclass(frozen=True)
class CredentialsOptions:
    org_id: str
    stack: str
    label: str | None


def credentials(project: Path, options: CredentialsOptions) -> int:
    from live.credentials import run_credentials

    return run_credentials(project, options.stack, options.org_id, options.label)


def add_credentials(commands: Subcommands) -> None:
    parser = add(
        commands,
        "credentials",
        "a tenant's app variables from the stack outputs (Pulumi CLI)",
        CREDENTIALS_HELP,
        credentials,
    )
    parser.add_argument("org_id", metavar="orgId", help="the tenant's orgId")
    stack_option(parser, "the stack that deploys the tenant")
    parser.add_argument("--label", help="the access key label (default: the tenant's newest key)")


# In the order `tenant-storage --help` lists them.
COMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    add_plan,
    add_stacks,
    add_validate,
    add_check_names,
    add_discover,
    add_audit,
    add_preflight,
    add_ci_roles,
    add_restore,
    add_usage,
    add_sandbox,
    add_completion,
    add_credentials,
)
