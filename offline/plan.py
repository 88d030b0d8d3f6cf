"""Offline plan: what each stack would deploy, without AWS credentials or the Pulumi CLI.

    python -m offline.plan [--stack qa|prod|all]

Runs the real `__main__.py` per stack under the SDK's mock monitor with that stack's own config file,
the caller mocked as the stack's first allowed account. Prints each tenant's bucket, profile, IAM user
and resource count, or every validation error and exit status 1. Never prints a secret value.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi

from offline.runtime import PROJECT_DIR, ProgramRun, run_stack_file

COMPONENT_TYPE = "tenant-storage:index:TenantStorage"
RANDOM_ID_TYPE = "random:index/randomId:RandomId"
MOCKED_SUFFIX_NOTE = "* random suffix mocked offline; the real one is chosen at the first deploy and then kept"


@dataclass(frozen=True)
class TenantPlan:
    org_id: str
    bucket_name: str
    profile: str
    environment: str
    iam_user_name: str
    resource_count: int
    mocked_suffix: bool


def stack_names(project_dir: Path) -> list[str]:
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in project_dir.glob("Pulumi.*.yaml"))


def tenant_plans(run: ProgramRun) -> list[TenantPlan]:
    summaries = run.outputs["tenants"].value
    plans = []
    for component in run.by_type(COMPONENT_TYPE):
        summary = summaries[component.name]
        plans.append(
            TenantPlan(
                org_id=component.name,
                bucket_name=summary["bucketName"],
                profile=summary["profile"],
                environment=summary["environment"],
                iam_user_name=summary["iamUserName"],
                resource_count=len(run.children_of(component.urn)),
                mocked_suffix=any(child.type == RANDOM_ID_TYPE for child in run.children_of(component.urn)),
            )
        )
    return sorted(plans, key=lambda plan: plan.org_id)


def render_stack(run: ProgramRun) -> str:
    if run.error is not None:
        message = str(run.error) if isinstance(run.error, pulumi.RunError) else repr(run.error)
        return f"stack {run.stack}: refused\n{message}\n"
    plans = tenant_plans(run)
    lines = [f"stack {run.stack}: {len(plans)} tenants, {len(run.registrations)} resources"]
    header = ("orgId", "bucket", "profile", "environment", "IAM user", "resources")
    rows = [header] + [
        (
            p.org_id,
            p.bucket_name + ("*" if p.mocked_suffix else ""),
            p.profile,
            p.environment,
            p.iam_user_name,
            str(p.resource_count),
        )
        for p in plans
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines += [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    if any(p.mocked_suffix for p in plans):
        lines.append(f"  {MOCKED_SUFFIX_NOTE}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, project_dir: Path = PROJECT_DIR) -> int:
    parser = argparse.ArgumentParser(prog="plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="all", help="a stack name, or all (default)")
    options = parser.parse_args(argv)
    stacks = stack_names(project_dir) if options.stack == "all" else [options.stack]
    failed = False
    for stack in stacks:
        if not (project_dir / f"Pulumi.{stack}.yaml").exists():
            print(f"stack {stack}: no Pulumi.{stack}.yaml in {project_dir}", file=sys.stderr)
            failed = True
            continue
        run = run_stack_file(stack, project_dir)
        failed |= run.error is not None
        print(render_stack(run))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
