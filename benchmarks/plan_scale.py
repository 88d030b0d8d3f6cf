"""Scale benchmark of the offline plan against the floor of the SDK and its mock monitor.

    .venv/bin/python benchmarks/plan_scale.py [--sizes 10,100,1000,2000] [--stacks qa,prod] [--public-access MODE]

For each size N it writes a registry with N tenants per stack (profiles and environments mixed),
runs the offline plan of each stack in a fresh Python process, and beside it the floor: the same
number of bare resources (two properties, no parent) registered through the same SDK and mocks with
no program logic; and the typed floor: the same resource classes declared flat with plain inputs, which
is what the SDK itself charges for these types. Wall time covers the run only (not interpreter
start-up or imports); memory is the process's peak resident set size. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURE_INPUTS = PROJECT_DIR / "tests" / "fixtures" / "project"
sys.path.insert(0, str(PROJECT_DIR))

STACK_ENVIRONMENTS = {"qa": ("qa", "development", "demo"), "prod": ("production", "staging")}
PROFILES = ("media-gallery", "app-storage", "upload-only")


def write_registry(path: Path, tenants_per_stack: int, stacks: list[str]) -> None:
    lines = ["tenants:"]
    for stack in stacks:
        environments = STACK_ENVIRONMENTS[stack]
        for index in range(tenants_per_stack):
            lines += [
                f"  - orgId: {stack}-org{index:05d}",
                f"    environment: {environments[index % len(environments)]}",
                f"    profile: {PROFILES[index % len(PROFILES)]}",
            ]
            if index % 10 == 0:
                lines.append("    randomSuffix: true")
    path.write_text("\n".join(lines) + "\n")


def preload_program_modules() -> None:
    """Import what the program imports lazily, so that the timed window holds the run and not imports."""
    import pulumi_aws.iam
    import pulumi_aws.s3  # noqa: F401
    import pulumi_random  # noqa: F401

    import components.tenant_storage  # noqa: F401


def measure_plan(project_dir: Path, stack: str) -> dict[str, float]:
    from review.plan import plan_stack

    preload_program_modules()

    started = time.perf_counter()
    plan = plan_stack(stack, project_dir)
    seconds = time.perf_counter() - started
    assert not plan.refused, plan.errors
    return {"seconds": seconds, "resources": len(plan.resources), "tenants": len(plan.tenants)}


def measure_floor(resource_count: int) -> dict[str, float]:
    import pulumi

    from mock_runtime.runner import OfflineMocks, run_under_mocks

    def program() -> None:
        for index in range(resource_count):
            pulumi.CustomResource("bench:index:Bare", f"bare-{index}", {"alpha": index, "beta": "value"})

    started = time.perf_counter()
    run = run_under_mocks("floor", {}, OfflineMocks("222222222222"), program)
    seconds = time.perf_counter() - started
    assert run.error is None
    assert len(run.registrations) == resource_count
    return {"seconds": seconds, "resources": resource_count}


def measure_typed_floor(tenants: int) -> dict[str, float]:
    """The SDK's own price for this program's resource types: the same classes, flat, plain inputs, no logic."""
    import pulumi
    import pulumi_aws as aws
    import pulumi_random as random

    from mock_runtime.runner import OfflineMocks, run_under_mocks

    preload_program_modules()
    s3, iam = aws.s3, aws.iam

    def program() -> None:
        for index in range(tenants):
            org, bucket, user = f"t{index}", f"fusion-rms-t{index}", f"rms_t{index}"
            pulumi.ComponentResource("bench:index:Tenant", org)
            if index % 10 == 0:
                random.RandomId(f"{org}-suffix", byte_length=4)
            s3.Bucket(f"{org}-bucket", bucket=bucket, tags={"OrgId": org})
            s3.BucketOwnershipControls(f"{org}-own", bucket=bucket, rule={"object_ownership": "BucketOwnerEnforced"})
            s3.BucketPublicAccessBlock(f"{org}-pab", bucket=bucket, block_public_acls=True)
            s3.BucketServerSideEncryptionConfiguration(
                f"{org}-sse",
                bucket=bucket,
                rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            )
            s3.BucketVersioning(f"{org}-ver", bucket=bucket, versioning_configuration={"status": "Enabled"})
            s3.BucketLifecycleConfiguration(f"{org}-lc", bucket=bucket, rules=[{"id": "a", "status": "Enabled"}])
            s3.BucketPolicy(f"{org}-policy", bucket=bucket, policy="{}")
            if index % 3 == 0:
                s3.BucketObjectv2(f"{org}-pub", bucket=bucket, key="pub/", content="")
            s3.BucketLogging(f"{org}-logging", bucket=bucket, target_bucket="logs", target_prefix=f"{org}/")
            iam.User(f"{org}-user", name=user, tags={"TenantBucket": bucket})
            iam.UserPoliciesExclusive(f"{org}-inline", user_name=user, policy_names=[])
            iam.UserPolicyAttachmentsExclusive(f"{org}-attached", user_name=user, policy_arns=[])
            iam.AccessKey(f"{org}-key", user=user)

    started = time.perf_counter()
    run = run_under_mocks("floor", {}, OfflineMocks("222222222222"), program)
    seconds = time.perf_counter() - started
    assert run.error is None
    return {"seconds": seconds, "resources": len(run.registrations)}


def measure_review(repo: Path, full: bool) -> dict[str, float]:
    import contextlib
    import io

    from cli.plan import run_plan

    preload_program_modules()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = run_plan(repo, "all", "json", "HEAD", incremental=not full, fail_on=())
    seconds = time.perf_counter() - started
    assert status == 0, status
    return {"seconds": seconds}


def compare_reviews(size: int) -> None:
    """A one-tenant pull request on 2 x `size` tenants: `plan --base` in full and incremental, side by side."""
    with tempfile.TemporaryDirectory(prefix="tenant-storage-bench-") as scratch:
        repo = Path(scratch)
        for name in ("__main__.py", "Pulumi.yaml"):
            shutil.copy(PROJECT_DIR / name, repo / name)
        for name in ("Pulumi.qa.yaml", "Pulumi.prod.yaml", "accounts.yaml"):
            shutil.copy(FIXTURE_INPUTS / name, repo / name)
        write_registry(repo / "tenants.yaml", size, list(STACK_ENVIRONMENTS))
        for args in (("init", "-q", "-b", "main"), ("add", "."), ("commit", "-q", "-m", "base")):
            subprocess.run(  # noqa: S603 - fixed git arguments
                ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@example.com", *args],  # noqa: S607
                check=True,
                capture_output=True,
            )
        with (repo / "tenants.yaml").open("a") as registry:
            registry.write("  - orgId: newcomer\n    environment: qa\n")
        full = run_child("review", str(repo), "full")
        incremental = run_child("review", str(repo), "incremental")
        print("| plan --base of a one-tenant change | tenants | seconds | MB |")
        print("| --- | ---: | ---: | ---: |")
        print(f"| full | 2 x {size} | {full['seconds']:.2f} | {full['mb']:.0f} |")
        print(f"| incremental | 2 x {size} | {incremental['seconds']:.2f} | {incremental['mb']:.0f} |")
        print(f"\nincremental / full: {incremental['seconds'] / full['seconds']:.1%} of the time")
        print(f"incremental peak memory: {incremental['mb']:.0f} MB (budget: 5 % of the time, 300 MB)")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(*args: str) -> dict[str, float]:
    output = subprocess.run(  # noqa: S603 - this script, with its own arguments
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,2000")
    parser.add_argument("--stacks", default="qa,prod")
    parser.add_argument(
        "--public-access",
        help="the stacks' tenant-storage:publicAccess (cloudfront: every media-gallery tenant in one key list)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument(
        "--review",
        type=int,
        metavar="TENANTS",
        help="instead: time `plan --base` of a one-tenant change on 2 x TENANTS tenants, full and incremental",
    )
    options = parser.parse_args()

    if options.child:
        kind, *rest = options.child
        if kind == "review":
            result = measure_review(Path(rest[0]), rest[1] == "full")
            print(json.dumps({**result, "mb": peak_rss_mb()}))
            return
        if kind == "floor":
            result = measure_floor(int(rest[0]))
        elif kind == "typed-floor":
            result = measure_typed_floor(int(rest[0]))
        else:
            result = measure_plan(Path(rest[0]), rest[1])
        print(json.dumps({**result, "mb": peak_rss_mb()}))
        return

    if options.review:
        compare_reviews(options.review)
        return
    stacks = options.stacks.split(",")
    print(
        "| stack | tenants | resources | seconds | MB | floor s | floor MB | ratio to floor "
        "| typed floor s | ratio to typed floor |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in (int(size) for size in options.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="tenant-storage-bench-") as scratch:
            project = Path(scratch)
            for name in ("__main__.py", "Pulumi.yaml"):
                shutil.copy(PROJECT_DIR / name, project / name)
            # The test fixtures' stacks and accounts: the users' own files are never a benchmark's input.
            for name in ("Pulumi.qa.yaml", "Pulumi.prod.yaml", "accounts.yaml"):
                shutil.copy(FIXTURE_INPUTS / name, project / name)
            if options.public_access:
                for name in ("Pulumi.qa.yaml", "Pulumi.prod.yaml"):
                    text = (
                        (project / name)
                        .read_text()
                        .replace("config:\n", f"config:\n  tenant-storage:publicAccess: {options.public_access}\n", 1)
                    )
                    (project / name).write_text(text)
            write_registry(project / "tenants.yaml", size, list(STACK_ENVIRONMENTS))
            for stack in stacks:
                plan = run_child("plan", str(project), stack)
                floor = run_child("floor", str(int(plan["resources"])))
                typed = run_child("typed-floor", str(size))
                print(
                    f"| {stack} | {size} | {int(plan['resources'])} | {plan['seconds']:.2f} | {plan['mb']:.0f} "
                    f"| {floor['seconds']:.2f} | {floor['mb']:.0f} | {plan['seconds'] / floor['seconds']:.2f}x "
                    f"| {typed['seconds']:.2f} | {plan['seconds'] / typed['seconds']:.2f}x |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
