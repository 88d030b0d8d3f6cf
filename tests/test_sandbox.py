"""The sandbox: one command starts a local emulator holding a stack's declared state; the day-two commands run
against it from another shell with the variables it prints; Ctrl-C stops it and leaves nothing running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_project

pytestmark = pytest.mark.slow  # a server in a process of its own
TOOL = str(Path(sys.executable).parent / "tenant-storage")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], list[str], Path]]:
    project = make_project(tmp_path / "project")
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    process = subprocess.Popen(
        [TOOL, "sandbox", "--stack", "qa"],
        # As a shell without job control starts a background job: SIGINT ignored. Ctrl-C must still stop it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        cwd=project,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C here stops the server"):
            break
    exports = dict(
        line.strip().removeprefix("export ").split("=", 1) for line in lines if line.strip().startswith("export ")
    )
    try:
        yield process, {**clean, **exports}, lines, project
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run(environment: dict[str, str], project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TOOL, *arguments], cwd=project, env=environment, capture_output=True, text=True, check=False)


def test_the_day_two_commands_run_against_the_sandbox_and_ctrl_c_leaves_nothing_running(sandbox):
    process, environment, lines, project = sandbox
    assert "TENANT_STORAGE_ENDPOINT_URL" in environment, "\n".join(lines) + process.stderr.read()
    endpoint = environment["TENANT_STORAGE_ENDPOINT_URL"]
    assert endpoint.startswith("http://127.0.0.1:")

    audit = run(environment, project, "audit", "--stack", "qa", "--format", "json")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    document = json.loads(audit.stdout)
    assert (document["account"], document["findings"], document["unreadable"]) == ("222222222222", [], [])
    assert f"at {endpoint}" in audit.stderr  # says it is not AWS

    for command in (["check-names"], ["discover"], ["usage"]):
        result = run(environment, project, *command, "--stack", "qa")
        assert result.returncode == 0, (command, result.stdout + result.stderr)

    [suggested] = [line.strip() for line in lines if line.strip().startswith("tenant-storage restore ")]
    report = project / "restore.json"
    restore = run(environment, project, *suggested.split()[1:], "--apply", "--report", str(report))
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert [change["action"] for change in json.loads(report.read_text())["changes"]] == ["restore-overwritten"]

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert "sandbox: stopped; nothing is left running" in process.stderr.read()
    host, port = endpoint.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(2)
        with pytest.raises(ConnectionRefusedError):
            probe.connect((host, int(port)))


def test_a_refused_stack_starts_nothing(tmp_path):
    project = make_project(tmp_path / "project")
    registry = project / "tenants.yaml"
    registry.write_text(registry.read_text().replace("orgId: xmsqa1", "orgId: BAD_ONE", 1))
    result = run(dict(os.environ), project, "sandbox", "--stack", "qa")
    assert result.returncode == 1
    assert "BAD_ONE" in result.stderr
    assert "export" not in result.stdout


def test_a_port_already_taken_is_said_at_once(tmp_path):
    project = make_project(tmp_path / "project")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [TOOL, "sandbox", "--stack", "qa", "--port", str(port)],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"sandbox: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "export" not in result.stdout


def test_what_the_emulator_cannot_hold_is_said_with_its_reason():
    from emulator.sandbox import Sandbox, instructions

    held = Sandbox("http://127.0.0.1:1", {}, [("acme", "fusion-rms-acme")], "2026-12-06T09:00:00Z")
    lacking = Sandbox(
        "http://127.0.0.1:1",
        {},
        [("acme", "fusion-rms-acme")],
        "2026-12-06T09:00:00Z",
        ("pub-cache-policy: moto has no cache policies (CreateCachePolicy answers 404)",),
    )
    assert "Not in the emulator" not in instructions(held, "prod")
    assert (
        "Not in the emulator (moto cannot hold it; audit says `not checked`):\n"
        "  pub-cache-policy: moto has no cache policies (CreateCachePolicy answers 404)\n"
    ) in instructions(lacking, "prod")
