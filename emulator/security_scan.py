"""`make security-scan`: Prowler, the open-source AWS security auditor, judges each stack's declared state.

    .venv/bin/python -m emulator.security_scan --prowler .tools/prowler/bin/prowler [--stack S] [--format F]

For each stack, a moto server on loopback is given the stack's offline plan (`emulator.replay`) in the
stack's own account, and Prowler's S3, IAM and CloudFront checks run against it. Every failed finding is then matched,
by its check and the role of its resource in the plan (a media-gallery tenant's bucket, the access-log
bucket, a tenant's user, the account), with `security_scan_expected.yaml`: the failures this program
accepts, each with its reason, `by-design` or `not-declared`. A failure not listed, or a listed one that no
longer fails, exits 1, so that the list stays exactly true. Prowler runs in its own environment (make
security-scan builds it from emulator/prowler-requirements.txt), never in the project's.

How Prowler reaches moto: AWS_ENDPOINT_URL sends every service there; S3 Control, which prefixes the
account id to the host name, is sent through moto itself as an HTTP proxy (moto answers absolute-URI
requests), so nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from emulator.replay import replay
from emulator.sandbox import session_of, signed_in
from review.plan import StackPlan, plan_stack
from tenant_storage import ALL_STACKS
from tenant_storage.public_access import PublicAccess
from tenant_storage.registry import Profile
from tenant_storage.stacks import selected_stacks

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXPECTED_FILE = Path(__file__).with_name("security_scan_expected.yaml")
SERVICES = ("s3", "iam", "cloudfront")
KINDS = {
    "by-design": "failed by design",
    "not-declared": "not declared by this program",
}
ACCOUNT_ROLE = "the account"
LOG_BUCKET_ROLE = "access-log bucket"
GROUP_ROLE = "profile group"
DISTRIBUTION_ROLE = "CloudFront distribution"
DISTRIBUTION_TYPE = "aws:cloudfront/distribution:Distribution"


def tenant_role(profile: str, what: str, public_access: str | None = None) -> str:
    """A tenant's bucket or user by its profile: `media-gallery tenant bucket`; a bucket nobody reads straight
    from S3, its pub/ served only through CloudFront: `media-gallery (cloudfront) tenant bucket`."""
    private = what == "bucket" and public_access is not None and not PublicAccess(public_access).anonymous_at_s3
    return f"{profile}{f' ({public_access})' if private else ''} tenant {what}"


# Every role a finding can have (see roles()): what an expected failure's role pattern must match.
KNOWN_ROLES = (
    *(tenant_role(profile.value, what) for what in ("bucket", "user") for profile in Profile),
    *(
        tenant_role(Profile.MEDIA_GALLERY.value, "bucket", mode.value)
        for mode in PublicAccess
        if not mode.anonymous_at_s3
    ),
    LOG_BUCKET_ROLE,
    GROUP_ROLE,
    DISTRIBUTION_ROLE,
    ACCOUNT_ROLE,
)


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # PASS, FAIL or MANUAL
    resource: str  # the resource's name (or ARN when it has none)
    role: str  # what the resource is in the plan
    detail: str


@dataclass(frozen=True)
class Expected:
    check: str
    role: str
    kind: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    stack: str
    findings: tuple[Finding, ...]
    unexpected: tuple[Finding, ...]  # failures nobody accepted
    stale: tuple[Expected, ...]  # accepted failures that no longer fail

    @property
    def clean(self) -> bool:
        return not self.unexpected and not self.stale


def roles(plan: StackPlan, real_values: Mapping[str, str] | None = None) -> dict[str, str]:
    """The role of each bucket, user, group and distribution of the plan: what an expected failure is about, for
    any tenant. A distribution is known by its id, which only the replay knows (`real_values`: mocked -> real)."""
    real_values = real_values or {}
    named = {tenant.bucket_name: tenant_role(tenant.profile, "bucket", tenant.public_access) for tenant in plan.tenants}
    named |= {tenant.iam_user_name: tenant_role(tenant.profile, "user") for tenant in plan.tenants}
    for bucket in (plan.access_log_bucket, plan.retained_access_log_bucket):
        if bucket:
            named[bucket] = LOG_BUCKET_ROLE
    for resource in plan.resources:
        if resource.type == "aws:iam/group:Group":
            named[resource.inputs["name"]] = GROUP_ROLE
        elif resource.type == DISTRIBUTION_TYPE:
            named[real_values.get(resource.id, resource.id)] = DISTRIBUTION_ROLE
    return named


def role_of(resource_name: str, resource_uid: str, named: dict[str, str]) -> str:
    """A bucket, user or group of the plan by its role; anything else Prowler reports on (a password policy,
    the account's Block Public Access, roles it looks for) is the account's, which the program does not declare."""
    tail = resource_uid.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return named.get(resource_name) or named.get(tail) or ACCOUNT_ROLE


def read_findings(path: Path, named: dict[str, str]) -> list[Finding]:
    """Prowler's json-ocsf findings: the check (metadata.event_code), the status (status_code; OCSF's `status`
    is always `New`), the resource and the detail."""
    findings = []
    for item in json.loads(path.read_text()):
        resource = (item.get("resources") or [{}])[0]
        uid, name = str(resource.get("uid", "")), str(resource.get("name") or "")
        findings.append(
            Finding(
                check=item["metadata"]["event_code"],
                status=item["status_code"],
                resource=name or uid,
                role=role_of(name, uid, named),
                detail=item.get("status_detail", ""),
            )
        )
    return findings


def load_expected(path: Path = EXPECTED_FILE) -> list[Expected]:
    """The accepted failures, one per check and role pattern."""
    document = yaml.safe_load(path.read_text()) or []
    expected = []
    for entry in document:
        if entry.get("kind") not in KINDS or not entry.get("reason"):
            raise ValueError(
                f"{path.name}: {entry.get('check')}: kind must be one of {', '.join(KINDS)}, with a reason"
            )
        patterns = entry.get("roles")
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
            raise ValueError(f"{path.name}: {entry.get('check')}: roles must be a non-empty list of role patterns")
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(role, pattern) for role in KNOWN_ROLES):
                raise ValueError(
                    f"{path.name}: {entry.get('check')}: the role pattern {pattern!r} matches no role; the roles "
                    f"are {', '.join(KNOWN_ROLES)}"
                )
        expected += [Expected(entry["check"], role, entry["kind"], entry["reason"]) for role in patterns]
    return expected


def accepts(entry: Expected, check: str, role: str) -> bool:
    return fnmatch.fnmatchcase(check, entry.check) and fnmatch.fnmatchcase(role, entry.role)


def judge(stack: str, findings: Sequence[Finding], expected: Sequence[Expected], present: set[str]) -> Verdict:
    """Each failure against the accepted ones; an accepted failure must still fail for every role of this stack
    its pattern names (`* tenant bucket`: every profile's)."""
    unexpected = tuple(
        f for f in findings if f.status == "FAIL" and not any(accepts(e, f.check, f.role) for e in expected)
    )
    failing = {(finding.check, finding.role) for finding in findings if finding.status == "FAIL"}
    reported = {(finding.check, finding.role) for finding in findings}
    stale = []
    for entry in expected:
        for role in sorted(present):
            if not fnmatch.fnmatchcase(role, entry.role):
                continue
            # Every check the entry names that reported on this role must fail there (a pattern of checks
            # cannot hide one that passes), and at least one must.
            named = sorted(check for check, of in reported if of == role and fnmatch.fnmatchcase(check, entry.check))
            passing = [check for check in named if (check, role) not in failing]
            stale += [Expected(check, role, entry.kind, entry.reason) for check in passing]
            if not named:
                stale.append(Expected(entry.check, role, entry.kind, entry.reason))
    return Verdict(stack, tuple(findings), unexpected, tuple(stale))


def scan(stack: str, prowler: Path, project_dir: Path, work: Path, expected: Sequence[Expected]) -> Verdict:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's request log; Prowler's own log is kept
    plan = plan_stack(stack, project_dir)
    if plan.refused:
        raise SystemExit(f"security-scan: stack {stack} is refused:\n  " + "\n  ".join(plan.errors))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        credentials = signed_in(endpoint, plan.account_id, plan.region, "scanner", "security-scan")
        session = session_of(credentials)
        replayed = replay(plan, session, endpoint)
        output = work / stack
        output.mkdir(parents=True, exist_ok=True)
        environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
            **credentials,
            "AWS_DEFAULT_REGION": plan.region,
            "AWS_ENDPOINT_URL": endpoint,
            "HTTP_PROXY": endpoint,
            "http_proxy": endpoint,
            "NO_PROXY": "",
            "no_proxy": "",
        }
        command = [
            str(prowler),
            "aws",
            "--services",
            *SERVICES,
            "--region",
            plan.region,
            "--output-formats",
            "json-ocsf",
            "--output-directory",
            str(output),
            "--output-filename",
            "scan",
            "--no-banner",
            "--no-color",
            "--ignore-exit-code-3",
            "--log-level",
            "ERROR",
            "--log-file",
            str(output / "prowler.log"),
        ]
        result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
        report = output / "scan.ocsf.json"
        if result.returncode != 0 or not report.is_file():
            raise SystemExit(f"security-scan: prowler failed (exit {result.returncode}):\n{result.stdout[-2000:]}")
    finally:
        server.stop()
    named = roles(plan, replayed.real_values)
    findings = read_findings(report, named)
    return judge(stack, findings, expected, set(named.values()) | {ACCOUNT_ROLE})


def tally(verdict: Verdict, expected: Sequence[Expected]) -> dict[str, int]:
    """Checks by outcome: passed (every finding PASS), each accepted kind (its failures all accepted as that
    kind), unexpected (a failure nobody accepted) and manual (Prowler leaves it to a person)."""
    by_check: dict[str, list[Finding]] = {}
    for finding in verdict.findings:
        by_check.setdefault(finding.check, []).append(finding)
    counts = dict.fromkeys(["passed", *KINDS, "unexpected", "manual"], 0)
    for findings in by_check.values():
        failures = [finding for finding in findings if finding.status == "FAIL"]
        kinds = [next((e.kind for e in expected if accepts(e, f.check, f.role)), None) for f in failures]
        if None in kinds:
            counts["unexpected"] += 1
        elif failures:
            counts[str(min(kind for kind in kinds if kind))] += 1
        elif all(finding.status == "PASS" for finding in findings):
            counts["passed"] += 1
        else:
            counts["manual"] += 1
    return counts


def render(verdicts: Sequence[Verdict], expected: Sequence[Expected], markdown: bool) -> str:
    rows = [(verdict.stack, tally(verdict, expected)) for verdict in verdicts]
    headers = ["stack", "checks passed", *KINDS.values(), "unexpected", "manual"]
    lines = []
    if markdown:
        lines += ["## Prowler S3, IAM and CloudFront checks against the declared state", ""]
        lines += ["| " + " | ".join(headers) + " |", "| --- |" + " ---: |" * (len(headers) - 1)]
        lines += ["| " + " | ".join([stack, *map(str, counts.values())]) + " |" for stack, counts in rows]
    else:
        for stack, counts in rows:
            lines.append(
                f"{stack}: "
                + ", ".join(f"{count} {name}" for name, count in zip(headers[1:], counts.values(), strict=True))
            )
    for verdict in verdicts:
        for finding in verdict.unexpected:
            lines.append(
                f"NEW FAILURE {verdict.stack}: {finding.check} on {finding.resource} ({finding.role}): {finding.detail}"
            )
        for entry in verdict.stale:
            lines.append(
                f"NOW PASSES {verdict.stack}: {entry.check} on the {entry.role}: remove it from {EXPECTED_FILE.name}"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="security-scan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--prowler", type=Path, required=True, help="the prowler executable (its own environment)")
    parser.add_argument("--stack", default=ALL_STACKS, help=f"a stack name, or {ALL_STACKS} (default)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    options = parser.parse_args(argv)
    stacks = selected_stacks(PROJECT_DIR, options.stack)
    expected = load_expected()
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="security-scan-") as work:
        for stack in stacks:
            started = time.monotonic()
            print(f"security-scan: {stack}: replaying its plan and running Prowler...", file=sys.stderr)
            verdicts.append(scan(stack, options.prowler, PROJECT_DIR, Path(work), expected))
            print(f"security-scan: {stack}: done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    sys.stdout.write(render(verdicts, expected, options.format == "markdown"))
    return 0 if all(verdict.clean for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
