"""`tenant-storage sandbox`: the stack's declared state in a local AWS emulator, to try the day-two commands.

A moto server on a free loopback port, signed in to the stack's account (through an assumed role, as an
operator is), holding what `pulumi up` of the stack would leave: its offline plan, replayed
(`emulator/replay.py`, the same replay the tests audit). Each tenant bucket also gets a file with two
versions a second apart, so `restore` has something to bring back. It prints the variables to export in
another shell; every live command reads the endpoint from `TENANT_STORAGE_ENDPOINT_URL`. It runs until
Ctrl-C (or SIGTERM) and then stops the server: nothing is left running, nothing is written to disk.

moto answers from memory: no AWS account is touched, no cost is incurred, and what moto does not implement
(ListServiceSpecificCredentials, CloudWatch's daily S3 metrics, Cost Explorer) is said as not checked or
as no figures, exactly as against an emulator in the tests.
"""

from __future__ import annotations

import datetime
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

ENDPOINT_VARIABLE = "TENANT_STORAGE_ENDPOINT_URL"
SAMPLE_KEY = "sandbox/readme.txt"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Sandbox:
    endpoint: str
    credentials: dict[str, str]
    tenants: list[tuple[str, str]]  # (orgId, bucket)
    restore_to: str  # a time between the sample file's two versions
    not_held: tuple[str, ...] = ()  # what of the stack moto cannot hold, each with its reason

    def exports(self) -> list[str]:
        variables = {**self.credentials, ENDPOINT_VARIABLE: self.endpoint}
        return [f"export {name}={value}" for name, value in variables.items()]


# The transport conditions of a bucket policy's denies (TLS only, TLS 1.2 or newer): true of no request made
# over TLS 1.2, as every AWS SDK call to AWS is.
TRANSPORT_CONDITIONS = ({"Bool": {"aws:SecureTransport": "false"}}, {"NumericLessThan": {"s3:TlsVersion": "1.2"}})


def as_over_tls(judged_by_moto: Callable[..., Any]) -> Callable[..., Any]:
    """moto's `FakeBucket.get_permission`, judging a request by the bucket policy without its TLS denies: moto
    judges an object request by the policy without its Conditions, so a TLS-only deny refuses every object request
    (emulator/replay.py MOTO_LIMITS), where against AWS the calls arrive over TLS 1.2 and those denies do not apply.
    Every other statement still judges."""
    import json

    def get_permission(bucket: Any, action: str, resource: str) -> Any:
        if bucket.policy is None:
            return judged_by_moto(bucket, action, resource)
        document = json.loads(bucket.policy)
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        kept = [s for s in statements if not (s["Effect"] == "Deny" and s.get("Condition") in TRANSPORT_CONDITIONS)]
        held, bucket.policy = bucket.policy, json.dumps({**document, "Statement": kept}).encode()
        try:
            return judged_by_moto(bucket, action, resource)
        finally:
            bucket.policy = held

    return get_permission


def start_server(port: int) -> tuple[Callable[[], None], str]:
    """moto's threaded server on loopback (port 0: a free one), judging requests as over TLS 1.2: what stops it
    (and gives moto back its own judgement), and its endpoint."""
    import logging

    from moto.s3.models import FakeBucket
    from moto.server import ThreadedMotoServer

    judged_by_moto = FakeBucket.get_permission
    FakeBucket.get_permission = as_over_tls(judged_by_moto)  # type: ignore[method-assign]

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's request log is not the user's
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)

    def stop() -> None:
        server.stop()
        FakeBucket.get_permission = judged_by_moto  # type: ignore[method-assign]

    try:
        server.start()
    except BaseException:
        FakeBucket.get_permission = judged_by_moto  # type: ignore[method-assign]
        raise
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    # Empty, whatever moto already held in this process: the sandbox is the declared state and nothing else.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)  # noqa: S310 - loopback
    return stop, endpoint


def signed_in(
    endpoint: str, account: str, region: str, role_name: str = "operator", session_name: str = "sandbox"
) -> dict[str, str]:
    """Credentials of a role in `account` of the emulator (moto signs nothing, so any key asks), as variables."""
    import boto3

    anyone = {"aws_access_key_id": session_name, "aws_secret_access_key": session_name}
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=region, **anyone)
    role = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role_name}", RoleSessionName=session_name)
    return {
        "AWS_ACCESS_KEY_ID": role["Credentials"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": role["Credentials"]["SecretAccessKey"],
        "AWS_SESSION_TOKEN": role["Credentials"]["SessionToken"],
        "AWS_DEFAULT_REGION": region,
    }


def session_of(credentials: dict[str, str]) -> Any:
    """A boto3 session signed in with `signed_in`'s credentials, in their region."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
        region_name=credentials["AWS_DEFAULT_REGION"],
    )


def fill(project_dir: Path, stack: str, endpoint: str) -> Sandbox:
    """The stack's declared state, replayed into the emulator at `endpoint`, with a sample file per tenant."""

    from emulator.replay import replay
    from review.plan import plan_stack

    plan = plan_stack(stack, project_dir)
    if plan.refused:
        raise SandboxRefused(plan.errors)
    credentials = signed_in(endpoint, plan.account_id, plan.region)
    session = session_of(credentials)
    replayed = replay(plan, session, endpoint)
    buckets = [
        (tenant.org_id, replayed.real_values.get(tenant.bucket_name, tenant.bucket_name)) for tenant in plan.tenants
    ]
    restore_to = _sample_files(session.client("s3", endpoint_url=endpoint), [bucket for _, bucket in buckets])
    not_held = tuple(f"{urn.rsplit('::', 1)[-1]}: {reason}" for urn, reason in replayed.not_applied.items())
    return Sandbox(endpoint, credentials, buckets, restore_to, not_held)


def _sample_files(s3: Any, buckets: list[str]) -> str:
    """Two versions of SAMPLE_KEY in each bucket, in two different seconds (S3 times versions to the second); the
    time between them, for `restore --to`."""
    from emulator.replay import policy_lifted

    def put(body: bytes) -> None:
        for bucket in buckets:
            with policy_lifted(s3, bucket):  # moto judges a TLS-only deny without its condition (MOTO_LIMITS)
                s3.put_object(Bucket=bucket, Key=SAMPLE_KEY, Body=body)

    put(b"version 1: what the tenant had\n")
    to = int(time.time()) + 1  # a second after the first version's, and a second before the second's
    time.sleep(max(0.0, to + 1 - time.time()) + 0.05)
    put(b"version 2: the damage to undo\n")
    return f"{datetime.datetime.fromtimestamp(to, datetime.UTC):%Y-%m-%dT%H:%M:%SZ}"


class SandboxRefused(Exception):
    """The stack's inputs are invalid: nothing to replay."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def instructions(sandbox: Sandbox, stack: str) -> str:
    org_id = sandbox.tenants[0][0] if sandbox.tenants else "<orgId>"
    lines = [
        f"sandbox: stack {stack}'s declared state is in a moto server at {sandbox.endpoint} "
        f"({len(sandbox.tenants)} tenants, each bucket with {SAMPLE_KEY} in two versions)",
        "",
        "In another shell, export these (moto's own credentials, valid only against this server):",
        "",
        *(f"  {line}" for line in sandbox.exports()),
        "",
        *(
            [
                "Not in the emulator (moto cannot hold it; audit says `not checked`):",
                *(f"  {line}" for line in sandbox.not_held),
                "",
            ]
            if sandbox.not_held
            else []
        ),
        "then try, for example:",
        f"  tenant-storage audit --stack {stack}",
        f"  tenant-storage preflight --stack {stack}",
        f"  tenant-storage check-names --stack {stack}",
        f"  tenant-storage discover --stack {stack}",
        f"  tenant-storage usage --stack {stack}",
        f"  tenant-storage restore {org_id} --stack {stack} --to {sandbox.restore_to} --prefix sandbox/",
        "",
        "Ctrl-C here stops the server and forgets everything in it.",
    ]
    return "\n".join(lines) + "\n"


def serve_until_stopped(stop: threading.Event) -> None:
    """Wait for Ctrl-C or SIGTERM (`stop`, set by run_sandbox's handlers), the server answering on its own threads."""
    while not stop.wait(0.5):
        pass


def run_sandbox(project_dir: Path, stack: str, port: int = 0, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from tenant_storage.stacks import unknown_stack

    if problem := unknown_stack(project_dir, stack):
        print(f"sandbox: {problem}", file=sys.stderr)
        return 2
    if problem := port_problem(port):
        print(f"sandbox: cannot listen on {LOOPBACK}:{port}: {problem}", file=sys.stderr)
        return 2
    stop = threading.Event()
    # Both handled here, before anything starts: a shell without job control starts a background job with SIGINT
    # ignored (Python then raises no KeyboardInterrupt), and a stop during the replay must print no exports.
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            stop_server, endpoint = start_server(port)
        except OSError as error:
            print(
                f"sandbox: cannot start the emulator on {LOOPBACK}:{port}: {error.strerror or error}", file=sys.stderr
            )
            return 2
        try:
            return _serve(project_dir, stack, endpoint, stop, out)
        finally:
            stop_server()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def port_problem(port: int) -> str | None:
    """Why `port` cannot be listened on (taken, or not ours to take); None for a free one. moto's server does not
    say so: it waits forever for a socket it never got."""
    if port == 0:
        return None  # the system picks a free one
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError as error:
            return error.strerror or str(error)
    return None


def _serve(project_dir: Path, stack: str, endpoint: str, stop: threading.Event, out: TextIO) -> int:
    try:
        sandbox = fill(project_dir, stack, endpoint)
    except SandboxRefused as error:
        print(f"sandbox: stack {stack} is refused; nothing to replay:", file=sys.stderr)
        for line in error.errors:
            print(f"  - {line}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the emulator refused the replay: one line, never a traceback
        print(f"sandbox: the emulator could not hold stack {stack}'s declared state: {error}", file=sys.stderr)
        return 2
    if stop.is_set():  # stopped while it was loading: no exports for a server that is going away
        print("sandbox: stopped before it was ready; nothing is left running", file=sys.stderr)
        return 0
    out.write(instructions(sandbox, stack))
    out.flush()
    serve_until_stopped(stop)
    print("sandbox: stopped; nothing is left running", file=sys.stderr)
    return 0
