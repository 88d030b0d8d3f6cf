"""The `tenant-storage` command: plan, validate and check every tenant's AWS storage from tenants.yaml.

Also `python -m cli`. Run it from the project folder (the one holding Pulumi.yaml and tenants.yaml).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from cli.colour import for_stream
from review.risk_classes import ADVISORY, RISK_CLASSES
from tenant_storage import ALL_STACKS
from tenant_storage.usage import SORTS as USAGE_SORTS

PROJECT_DIR = Path(__file__).resolve().parent.parent

EXIT_CODES = f"""exit status:
  0  all clear
  1  findings: an input is invalid (every problem is printed), a mandatory policy-pack rule is broken,
     a bucket name is taken (check-names), undeclared resources (discover) or drift (audit)
  2  could not run: a usage or git error, no AWS credentials, throttling, no Pulumi CLI
  3  (plan --base) a risk of a --fail-on class (by default every class but {" and ".join(ADVISORY)})
each command's --help lists its own"""

INVALID_INPUTS = "an input is invalid (every problem is printed; nothing is asked of AWS)"
LIVE_COULD_NOT_RUN = "could not run: a usage error, no AWS credentials, the wrong account, access denied, throttling"


def exit_status(*codes: tuple[int, str]) -> str:
    """A command's own exit statuses, for its --help."""
    import textwrap

    return "exit status:\n" + "\n".join(
        textwrap.fill(meaning, 100, initial_indent=f"  {code}  ", subsequent_indent="     ") for code, meaning in codes
    )


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

COMPLETION_SHELLS = ("bash", "zsh", "fish")
COMPLETION_HELP = f"""\
Print the script that completes tenant-storage's commands, options and their choices in your shell
(argcomplete). Load it from your shell's start-up file.

examples:
  eval "$(tenant-storage completion bash)"       # in ~/.bashrc
  eval "$(tenant-storage completion zsh)"        # in ~/.zshrc
  tenant-storage completion fish | source        # in ~/.config/fish/config.fish

{exit_status((0, "printed"), (2, "a usage error: a shell it does not know"))}"""

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


def version() -> str:
    """The installed version; from pyproject.toml when the project runs from a checkout without installing."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("tenant-storage")
    except PackageNotFoundError:
        import tomllib

        return str(tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"])


def commands_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser, by name."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


class Parser(argparse.ArgumentParser):
    """argparse, with the closest choice suggested for a mistyped one (a command, a --format) as for names."""

    def _check_value(self, action: argparse.Action, value: object) -> None:
        choices = action.choices
        if choices is not None and isinstance(value, str) and value not in choices:
            from tenant_storage.errors import not_one_of

            raise argparse.ArgumentError(action, not_one_of(value, [str(choice) for choice in choices]))
        super()._check_value(action, value)

    def error(self, message: str) -> NoReturn:
        # argparse quotes what was typed whole: a megabyte typed is not a megabyte said.
        super().error(message if len(message) <= 2000 else message[:2000] + "...")


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="tenant-storage",
        description="Plan, validate and check every tenant's AWS storage, from tenants.yaml.",
        epilog=f"run `tenant-storage <command> --help` for a command's options and examples\n\n{EXIT_CODES}",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"tenant-storage {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    plan = commands.add_parser(
        "plan",
        help="what each stack would deploy (offline, no credentials)",
        description=PLAN_HELP,
        formatter_class=formatter,
    )
    plan.add_argument("--stack", default=ALL_STACKS, help=f"a stack name, or {ALL_STACKS} (default: {ALL_STACKS})")
    plan.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        dest="output_format",
        help="text for people (default), markdown for the pull-request summary, json for machines",
    )
    plan.add_argument(
        "--detail", action="store_true", help="text: also every tenant's policies and resource URNs, every change"
    )
    plan.add_argument(
        "--base", metavar="GIT_REF", help="also plan this git revision, with its own program, and show what changes"
    )
    plan.add_argument(
        "--project",
        metavar="DIR",
        help="plan the project in DIR with this checkout's tool (default: this checkout); the review gate runs the "
        "default branch's tool on a pull request's checkout this way, so the pull request cannot change the verdict",
    )
    plan.add_argument(
        "--full",
        action="store_true",
        help="with --base: plan every tenant at both revisions, even when only tenants.yaml changed",
    )
    plan.add_argument(
        "--fail-on",
        metavar="CLASSES",
        type=_risk_classes,
        help="with --base: exit 3 when a risk of these comma-separated classes is present, or none "
        f"(default: every class but {' and '.join(ADVISORY)}); the classes: {', '.join(RISK_CLASSES)}",
    )

    stacks = commands.add_parser(
        "stacks",
        help="the stacks and their class, from Pulumi.*.yaml (for CI matrices)",
        description=STACKS_HELP,
        formatter_class=formatter,
    )
    stacks.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="text, or json for a matrix"
    )

    commands.add_parser(
        "validate",
        help="check tenants.yaml, accounts.yaml and the stack files (no Pulumi SDK)",
        description=VALIDATE_HELP,
        formatter_class=formatter,
    )

    names = commands.add_parser(
        "check-names",
        help="ask S3 whether each bucket name is ours, free or taken (AWS credentials)",
        description=CHECK_NAMES_HELP,
        formatter_class=formatter,
    )
    names.add_argument("--stack", required=True, help=f"the stack whose bucket names to check, or {ALL_STACKS}")
    _endpoint_url_option(names)

    discover = commands.add_parser(
        "discover",
        help="find tenants made by hand in the stack's account and print their entries (AWS credentials)",
        description=DISCOVER_HELP,
        formatter_class=formatter,
    )
    discover.add_argument("--stack", required=True, help="the stack whose account and prefixes to search")
    discover.add_argument(
        "--format",
        choices=("yaml", "json"),
        default="yaml",
        dest="output_format",
        help="yaml to paste, json for machines",
    )
    _endpoint_url_option(discover)

    audit = commands.add_parser(
        "audit",
        help="compare the live account with what the stack declares (AWS credentials)",
        description=AUDIT_HELP,
        formatter_class=formatter,
    )
    audit.add_argument("--stack", required=True, help="the stack to audit")
    audit.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        dest="output_format",
        help="text for people, json for machines, markdown for a job summary",
    )
    _endpoint_url_option(audit)

    preflight = commands.add_parser(
        "preflight",
        help="will the next deploy succeed in the live account? (AWS credentials, read-only)",
        description=PREFLIGHT_HELP,
        formatter_class=formatter,
    )
    preflight.add_argument("--stack", required=True, help="the stack to check")
    preflight.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="text, or json for machines"
    )
    _endpoint_url_option(preflight)

    ci_roles = commands.add_parser(
        "ci-roles",
        help="the CI roles' trust and permission policies for a stack (offline)",
        description=CI_ROLES_HELP,
        formatter_class=formatter,
    )
    ci_roles.add_argument("--stack", required=True, help="the stack whose account the roles live in")
    ci_roles.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="text, or json documents"
    )
    ci_roles.add_argument(
        "--repository", metavar="OWNER/NAME", help="the GitHub repository (default: git remote origin)"
    )

    restore = commands.add_parser(
        "restore",
        help="bring a tenant's files back to a point in time, never deleting a version (AWS credentials)",
        description=RESTORE_HELP,
        formatter_class=formatter,
    )
    restore.add_argument("org_id", metavar="orgId", help="the tenant whose bucket to restore")
    restore.add_argument("--stack", required=True, help="the stack that deploys the tenant")
    restore.add_argument("--to", required=True, metavar="TIME", help="ISO 8601 with a zone: 2026-11-30T10:00:00Z")
    restore.add_argument("--prefix", default="", help="only the keys under this prefix (default: the whole bucket)")
    restore.add_argument(
        "--delete-newer", action="store_true", help="hide objects created since under delete markers (default: keep)"
    )
    restore.add_argument("--apply", action="store_true", help="restore (default: a dry run that changes nothing)")
    restore.add_argument(
        "--report",
        metavar="FILE",
        help="where to write the JSON report (default: restore-<orgId>-<time>.json)",
    )
    _endpoint_url_option(restore)

    usage = commands.add_parser(
        "usage",
        help="what each tenant stores, and with --cost what it costs (AWS credentials, read-only)",
        description=USAGE_HELP,
        formatter_class=formatter,
    )
    usage.add_argument("--stack", required=True, help=f"a stack, or {ALL_STACKS} (the stacks of the caller's account)")
    usage.add_argument(
        "--format",
        choices=("text", "json", "csv", "markdown"),
        default="text",
        dest="output_format",
        help="text for people, json or csv for machines, markdown (with a chart) for a job summary",
    )
    usage.add_argument("--cost", action="store_true", help="add each tenant's cost from Cost Explorer")
    usage.add_argument("--month", metavar="YYYY-MM", help="the month of --cost (default: the last full month)")
    usage.add_argument(
        "--sort",
        choices=USAGE_SORTS,
        default="bytes",
        help="the order of the tenants: bytes or objects (largest first, tenants without figures last), or orgId",
    )
    _endpoint_url_option(usage)

    completion = commands.add_parser(
        "completion",
        help="the shell completion script for bash, zsh or fish",
        description=COMPLETION_HELP,
        formatter_class=formatter,
    )
    completion.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell to complete in")

    credentials = commands.add_parser(
        "credentials",
        help="a tenant's app variables from the stack outputs (Pulumi CLI)",
        description=CREDENTIALS_HELP,
        formatter_class=formatter,
    )
    credentials.add_argument("org_id", metavar="orgId", help="the tenant's orgId")
    credentials.add_argument("--stack", required=True, help="the stack that deploys the tenant")
    credentials.add_argument("--label", help="the access key label (default: the tenant's newest key)")
    return parser


def _endpoint_url_option(parser: argparse.ArgumentParser) -> None:
    """The one spelling of every live command's --endpoint-url."""
    parser.add_argument("--endpoint-url", help="an AWS-compatible endpoint instead of AWS (for example a moto server)")


def missing_dependency(error: ModuleNotFoundError) -> int:
    """A dependency missing from the Python that runs the command: say which Python, and the one to use."""
    print(
        f"tenant-storage: the module {error.name!r} is not installed for {sys.executable}: run the command from "
        "the project's environment (`make install`, then `.venv/bin/tenant-storage`, or `make plan`)",
        file=sys.stderr,
    )
    return 2


def with_completers(parser: argparse.ArgumentParser, project_dir: Path) -> argparse.ArgumentParser:
    """`parser`, completing --stack with the project's stacks (and all) and an orgId with its tenants."""
    from tenant_storage.stacks import stack_names

    def stacks(**_: object) -> list[str]:
        return [*stack_names(project_dir), ALL_STACKS]

    def org_ids(**_: object) -> list[str]:
        from tenant_storage.errors import InvalidInput
        from tenant_storage.registry import load_registry

        try:
            return [tenant.org_id for tenant in load_registry(project_dir / "tenants.yaml").tenants]
        except InvalidInput:
            return []  # a broken registry completes nothing; `validate` says why

    for subparser in commands_of(parser).values():
        for action in subparser._actions:
            if action.dest in ("stack", "org_id"):
                action.completer = stacks if action.dest == "stack" else org_ids  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None, project_dir: Path = PROJECT_DIR) -> int:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (see `completion`): answer and exit
        import argcomplete

        argcomplete.autocomplete(with_completers(parser, project_dir))
    options, unrecognised = parser.parse_known_args(argv)
    command = commands_of(parser)[options.command]  # a usage error names the command's own usage
    if unrecognised:
        command.error(f"unrecognized arguments: {' '.join(unrecognised)}")
    if options.command == "plan" and options.base is None:
        for needs_base in ("--full", "--fail-on"):
            if getattr(options, needs_base.removeprefix("--").replace("-", "_")) not in (None, False):
                command.error(f"{needs_base} needs --base: it applies to the changes against a base revision")
    if getattr(options, "project", None) is not None:
        from tenant_storage.errors import quoted

        try:
            project_dir = Path(options.project).resolve()
            found = (project_dir / "Pulumi.yaml").is_file()
        except (OSError, ValueError):  # a NUL byte, a name longer than the system takes
            found = False
        if not found:
            command.error(f"--project {quoted(options.project)}: no Pulumi.yaml there; give a tenant-storage checkout")
    try:
        return _run(options, project_dir)
    except ModuleNotFoundError as error:
        if error.name is None or (PROJECT_DIR / error.name.split(".")[0]).exists():
            raise  # one of the project's own modules: a bug, not the environment
        return missing_dependency(error)
    except KeyboardInterrupt:
        # A command with partial work to account for (restore) has said what it did before this.
        print(f"{options.command}: interrupted", file=sys.stderr)
        return 130


def _run(options: argparse.Namespace, project_dir: Path) -> int:
    if options.command == "completion":
        import argcomplete

        sys.stdout.write(argcomplete.shellcode(["tenant-storage"], shell=options.shell))
        return 0
    if options.command == "stacks":
        return run_stacks(project_dir, options.output_format)
    if options.command == "validate":
        from review.validate import run_validate

        return run_validate(project_dir)
    if options.command == "credentials":
        from live.credentials import run_credentials

        return run_credentials(project_dir, options.stack, options.org_id, options.label)
    if options.command == "preflight":
        from live.preflight import run_preflight

        return run_preflight(project_dir, options.stack, options.output_format, options.endpoint_url)
    if options.command == "ci-roles":
        from live.ci_roles import run_ci_roles

        return run_ci_roles(project_dir, options.stack, options.output_format, options.repository)
    if options.command == "audit":
        from live.audit import run_audit

        return run_audit(project_dir, options.stack, options.output_format, options.endpoint_url)
    if options.command == "discover":
        from live.discover import run_discover

        return run_discover(project_dir, options.stack, options.output_format, options.endpoint_url)
    if options.command == "restore":
        from live.restore import run_restore

        return run_restore(
            project_dir,
            options.stack,
            options.org_id,
            options.to,
            options.prefix,
            options.delete_newer,
            options.apply,
            options.report,
            options.endpoint_url,
        )
    if options.command == "usage":
        from live.usage import run_usage

        return run_usage(
            project_dir,
            options.stack,
            options.output_format,
            options.cost,
            options.month,
            options.endpoint_url,
            sort=options.sort,
        )
    if options.command == "check-names":
        from live.check_names import run_check_names

        return run_check_names(project_dir, options.stack, options.endpoint_url)
    return run_plan(
        project_dir,
        options.stack,
        options.output_format,
        options.base,
        detail=options.detail,
        fail_on=options.fail_on,
        incremental=not options.full,
    )


def _risk_classes(text: str) -> tuple[str, ...]:
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


class Progress:
    """Tenants declared so far, on one rewritten stderr line, only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = ""

    def start(self, label: str) -> None:
        self.label = label
        self.tenants_declared(0)

    def tenants_declared(self, count: int) -> None:
        if self.enabled and (count == 0 or count % 25 == 0):
            self.stream.write(f"\r\033[K{self.label}: {count} tenants declared")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def run_plan(
    project_dir: Path,
    stack: str,
    output_format: str,
    base: str | None,
    detail: bool = False,
    progress: Progress | None = None,
    fail_on: Sequence[str] | None = None,
    incremental: bool = True,
) -> int:
    from review.diff import diff_plans
    from review.gitbase import GitError, changed_paths, materialize_revision
    from review.incremental import changed_tenants
    from review.moves import find_moves, merge_moves, without_moved
    from review.plan import StackPlan, plan_stack
    from review.program import gate_files
    from review.render import render
    from review.risks import (
        DEFAULT_FAIL_ON,
        Risk,
        account_risks,
        removed_stack_risk,
        stack_risks,
        tooling_risks,
    )
    from tenant_storage.errors import quoted
    from tenant_storage.stacks import read_stack_file, selected_stacks, stack_file_name, stack_names, unknown_stack
    from tenant_storage.yaml_reader import is_regular_file

    progress = progress or Progress()
    stacks = selected_stacks(project_dir, stack)
    if problem := unknown_stack(project_dir, stack, all_allowed=True) or (
        None if stacks else f"no stack: no Pulumi.<stack>.yaml in {project_dir}"
    ):
        print(f"plan: {problem}", file=sys.stderr)
        return 2

    only: frozenset[str] | None = None

    def planned(name: str, directory: Path, label: str) -> StackPlan:
        progress.start(label)
        try:
            return plan_stack(name, directory, on_tenant=progress.tenants_declared, only_tenants=only)
        finally:
            progress.done()

    if base is None:
        plans = [planned(name, project_dir, f"planning stack {name}") for name in stacks]
    diffs = []
    risks: list[Risk] | None = None

    def allowed_accounts(path: Path) -> tuple[str, ...] | None:
        settings = read_stack_file(path).settings if is_regular_file(path) else None
        return settings.allowed_account_ids if settings else None

    if base is not None:
        risks = []
        with tempfile.TemporaryDirectory(prefix="tenant-storage-base-") as scratch:
            base_dir = Path(scratch)
            try:
                materialize_revision(base, project_dir, base_dir)
            except GitError as error:
                print(f"plan: cannot read the base revision {quoted(base)}: {error}", file=sys.stderr)
                return 2
            if incremental:
                only = changed_tenants(base_dir, project_dir)
            plans = [planned(name, project_dir, f"planning stack {name}") for name in stacks]
            base_plans = {}
            for head in plans:
                exists = os.path.lexists(base_dir / stack_file_name(head.stack))
                label = f"planning stack {head.stack} at {base}"
                base_plan = planned(head.stack, base_dir, label) if exists else StackPlan(stack=head.stack)
                base_plans[head.stack] = base_plan
                diffs.append(diff_plans(base_plan, head))
            accounts = {plan.stack: allowed_accounts(project_dir / stack_file_name(plan.stack)) for plan in plans}
            moves = find_moves(base_plans, diffs, accounts)
            diffs = [without_moved(diff, moves) for diff in diffs]
            for head, diff in zip(plans, diffs, strict=True):
                risks += stack_risks(base_plans[head.stack], head, diff)
                risks += account_risks(
                    head.stack, allowed_accounts(base_dir / stack_file_name(head.stack)), accounts[head.stack]
                )
            risks = merge_moves(risks, moves)
            try:
                risks += tooling_risks(gate_files(changed_paths(base, project_dir)))
            except GitError as error:
                print(f"plan: cannot compare the gate's own files with {quoted(base)}: {error}", file=sys.stderr)
                return 2
            if stack == ALL_STACKS:
                for gone in sorted(set(stack_names(base_dir)) - set(stacks)):
                    risks.append(removed_stack_risk(gone, planned(gone, base_dir, f"planning removed stack {gone}")))
    rendered = render(plans, diffs, output_format, detail=detail, risks=risks)
    sys.stdout.write(for_stream(rendered, sys.stdout) if output_format == "text" else rendered)
    if any(plan.refused or plan.blocked_by_policy for plan in plans):
        return 1
    gating = set(DEFAULT_FAIL_ON if fail_on is None else fail_on)
    return 3 if risks and any(risk.risk_class in gating for risk in risks) else 0


def run_stacks(project_dir: Path, output_format: str) -> int:
    import json

    from tenant_storage.stacks import read_stack_files

    files = read_stack_files(project_dir)
    # A CI matrix built from a stack file validate refuses would deploy what review never passed.
    broken = [name for name, stack_file in files.items() if stack_file.settings is None or stack_file.problems]
    if broken:
        listed = ", ".join(f"Pulumi.{name}.yaml" for name in broken)
        print(f"stacks: invalid stack files: {listed}; run `tenant-storage validate` for each problem", file=sys.stderr)
        return 1
    rows = [
        {
            "stack": name,
            "productionClass": stack_file.settings.production_class,
            "accounts": list(stack_file.settings.allowed_account_ids),
        }
        for name, stack_file in files.items()
        if stack_file.settings is not None
    ]
    if output_format == "json":
        print(json.dumps(rows))
        return 0
    for name, stack_file in files.items():
        settings = stack_file.settings
        assert settings is not None
        kind = "production-class" if settings.production_class else "non-production"
        print(f"{name}: {kind}, accounts {', '.join(settings.allowed_account_ids)}")
    return 0
