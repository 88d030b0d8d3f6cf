"""The review tool: `plan` (offline, optionally diffed against a git base) and `validate`.

    python -m offline plan [--stack qa|prod|all] [--format text|markdown|json] [--base <git-ref>]
    python -m offline validate
    python -m offline check-names --stack qa [--endpoint-url URL]   (needs AWS credentials)
    python -m offline credentials <orgId> --stack qa [--label L]    (needs the Pulumi CLI)

Neither needs AWS credentials or the Pulumi CLI. `validate` does not even load the Pulumi SDK.
Exit status 1 when any input is invalid (every problem is printed) or a mandatory rule of the policy
pack is broken, 2 on a usage or git error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None, project_dir: Path = PROJECT_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="what each stack would deploy, under the mock monitor")
    plan.add_argument("--stack", default="all", help="a stack name, or all (default)")
    plan.add_argument("--format", choices=("text", "markdown", "json"), default="text", dest="output_format")
    plan.add_argument("--base", metavar="GIT_REF", help="also plan the inputs at this revision and show the changes")
    commands.add_parser("validate", help="check tenants.yaml and the stack files only; no Pulumi runtime")
    names = commands.add_parser("check-names", help="ask S3 whether each bucket name is ours, free or taken")
    names.add_argument("--stack", required=True)
    names.add_argument("--endpoint-url", help="an S3-compatible endpoint instead of AWS (for example a moto server)")
    credentials = commands.add_parser("credentials", help="a tenant's app variables from the stack outputs")
    credentials.add_argument("org_id", metavar="orgId")
    credentials.add_argument("--stack", required=True)
    credentials.add_argument("--label", help="the access key label (default: the tenant's newest key)")
    options = parser.parse_args(argv)

    if options.command == "validate":
        from offline.validate import run_validate

        return run_validate(project_dir)
    if options.command == "credentials":
        from offline.credentials import run_credentials

        return run_credentials(project_dir, options.stack, options.org_id, options.label)
    if options.command == "check-names":
        from offline.check_names import run_check_names

        return run_check_names(project_dir, options.stack, options.endpoint_url)
    return run_plan(project_dir, options.stack, options.output_format, options.base)


def run_plan(project_dir: Path, stack: str, output_format: str, base: str | None) -> int:
    from offline.diff import diff_plans
    from offline.gitbase import GitError, materialize_base_inputs
    from offline.plan import StackPlan, plan_stack
    from offline.render import render
    from tenant_storage.stacks import stack_file_name, stack_names

    stacks = stack_names(project_dir) if stack == "all" else [stack]
    missing = [] if stack == "all" else [name for name in stacks if not (project_dir / stack_file_name(name)).exists()]
    if missing or not stacks:
        print(f"no stack file {stack_file_name((missing or ['<stack>'])[0])} in {project_dir}", file=sys.stderr)
        return 2
    plans = [plan_stack(name, project_dir) for name in stacks]
    diffs = []
    if base is not None:
        with tempfile.TemporaryDirectory(prefix="tenant-storage-base-") as scratch:
            base_dir = Path(scratch)
            try:
                materialize_base_inputs(base, project_dir, base_dir)
            except GitError as error:
                print(f"cannot read the base revision {base!r}: {error}", file=sys.stderr)
                return 2
            for head in plans:
                exists = (base_dir / stack_file_name(head.stack)).exists()
                base_plan = plan_stack(head.stack, base_dir) if exists else StackPlan(stack=head.stack)
                diffs.append(diff_plans(base_plan, head))
    sys.stdout.write(render(plans, diffs, output_format))
    return 1 if any(plan.refused or plan.blocked_by_policy for plan in plans) else 0
