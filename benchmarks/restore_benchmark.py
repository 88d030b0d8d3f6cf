"""Benchmark of `restore` on a moto server: thousands of objects across many listing pages.

    .venv/bin/python benchmarks/restore_benchmark.py [--keys 3000]

A versioned tenant bucket (the fixture's qa tenant xmsqa1) gets `--keys` objects; after a whole second
(S3 times versions to the second) a quarter of them are overwritten, a quarter deleted, and a quarter as
many new ones created. Then it times the dry run, the apply and a second apply of `restore --to` that
second, and checks what the tests check: the state is the one then, no version was deleted, the second
run changed nothing and the dry run listed exactly what the apply did. Prints a Markdown table. moto
answers from memory on loopback: the figures bound the tool's own cost, not S3's latency.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

BUCKET = "fusion-rms-xmsqa1"
QA_ACCOUNT = "222222222222"


def signed_in(endpoint: str) -> Any:
    import boto3

    # The emulator's own stand-in credentials, only to assume the operator role of its qa account.
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's placeholder, not a secret
    )
    role = sts.assume_role(RoleArn=f"arn:aws:iam::{QA_ACCOUNT}:role/operator", RoleSessionName="benchmark")
    credentials = role["Credentials"]
    os.environ |= {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1")


def emulator(as_is: bool) -> list[str]:
    if as_is:
        return [str(Path(sys.executable).parent / "moto_server")]
    return [sys.executable, str(Path(__file__).resolve().parent / "moto_linear_listing.py")]


def next_second() -> datetime.datetime:
    boundary = int(time.time()) + 1
    time.sleep(max(0.0, boundary - time.time()) + 0.05)
    return datetime.datetime.fromtimestamp(boundary, datetime.UTC)


def versions(s3: Any) -> set[tuple[str, str]]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET)
    return {(e["Key"], e["VersionId"]) for p in pages for e in [*p.get("Versions", []), *p.get("DeleteMarkers", [])]}


def main() -> int:
    import logging

    from cli.main import main as cli
    from tests.conftest import make_project

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=3000)
    parser.add_argument(
        "--moto-as-is",
        action="store_true",
        help="run moto unchanged: its listing deep-copies every version per page (see moto_linear_listing.py)",
    )
    arguments = parser.parse_args()
    keys = arguments.keys
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # The emulator in a process of its own, as S3 is another machine: the command's time is not the server's.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - the venv's own moto_server, fixed arguments
        [*emulator(as_is=arguments.moto_as_is), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            time.sleep(0.1)
    project = make_project(Path(tempfile.mkdtemp()) / "project")
    s3 = signed_in(endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    started = time.perf_counter()
    for index in range(keys):
        s3.put_object(Bucket=BUCKET, Key=f"pub/{index:06d}.jpg", Body=f"photo {index}".encode())
    setup = time.perf_counter() - started
    to = next_second()
    next_second()
    quarter = keys // 4
    for index in range(quarter):
        s3.put_object(Bucket=BUCKET, Key=f"pub/{index:06d}.jpg", Body=b"damaged")
        s3.delete_object(Bucket=BUCKET, Key=f"pub/{quarter + index:06d}.jpg")
        s3.put_object(Bucket=BUCKET, Key=f"pub/new-{index:06d}.jpg", Body=b"new")
    before = versions(s3)
    rows, reports = [], {}
    for run, options in (("dry run", []), ("apply", ["--apply"]), ("second apply", ["--apply"])):
        report = project / f"{run}.json"
        started = time.perf_counter()
        status = cli(
            [
                "restore",
                "xmsqa1",
                "--stack",
                "qa",
                "--to",
                f"{to:%Y-%m-%dT%H:%M:%SZ}",
                "--report",
                str(report),
                "--endpoint-url",
                endpoint,
                *options,
            ],
            project,
        )
        elapsed = time.perf_counter() - started
        document = json.loads(report.read_text())
        reports[run] = document
        rows.append((run, status, len(document["changes"]), document["unchanged"], elapsed))
    after = versions(s3)
    state_ok = all(
        s3.get_object(Bucket=BUCKET, Key=f"pub/{index:06d}.jpg")["Body"].read() == f"photo {index}".encode()
        for index in range(0, keys, max(1, keys // 200))
    )
    dry = {(c["key"], c["action"]) for c in reports["dry run"]["changes"]}
    applied = {(c["key"], c["action"]) for c in reports["apply"]["changes"]}
    second = [c["action"] for c in reports["second apply"]["changes"]]
    listing = "as released" if arguments.moto_as_is else "with its listing's deep copy made shallow"
    print(f"restore of {keys} objects ({len(before)} versions and markers before the restore, setup {setup:.1f} s)")
    print(f"moto {version('moto')}, {listing}\n")
    print("| run | exit | keys changed | unchanged | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for run, status, changed, unchanged, elapsed in rows:
        print(f"| {run} | {status} | {changed} | {unchanged} | {elapsed:.1f} |")
    checks = {
        "no version deleted": before <= after,
        "the dry run listed what the apply did": dry == applied,
        "the second run changed nothing": set(second) <= {"newer-kept"},
        "sampled keys hold their content from then": state_ok,
    }
    print()
    for check, passed in checks.items():
        print(f"- {check}: {'yes' if passed else 'NO'}")
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:  # the emulator's development server may not stop on SIGTERM
        server.kill()
        server.wait()
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
