"""Run the real `__main__.py` under Pulumi's mock monitor, recording what it registers (`mock_runtime/recorder.py`).

In this process when the program is the tool's own (`review/program.py` decides); otherwise in a process of its
own, with that program's code and locked dependencies, so that a revision is always planned with its own program.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mock_runtime import recorder
from mock_runtime.recorder import (
    COMPONENT_TYPE,
    OfflineMocks,
    ProgramRun,
    RecordedError,
    Registration,
    StackOutput,
    TenantCounter,
    exec_main,
    resolve,
    run_from_json,
    run_under_mocks,
)
from tenant_storage.deploy_inputs import REFUSED_ENVIRONMENT
from tenant_storage.regions import COMMERCIAL, partition_of
from tenant_storage.stacks import read_stack_file, stack_file_name

# What callers of the runner take from the recorder, with the runner's own.
__all__ = [
    "COMPONENT_TYPE",
    "PROJECT_DIR",
    "OfflineMocks",
    "ProgramRun",
    "Registration",
    "StackOutput",
    "TenantCounter",
    "load_stack_config",
    "resolve",
    "run_program",
    "run_stack_file",
    "run_under_mocks",
]

PROJECT_DIR = Path(__file__).resolve().parent.parent


def load_stack_config(path: Path) -> dict[str, str]:
    """A stack file's config as the engine hands it to a program (what could be read of it: the program
    itself reads the file again and reports its problems)."""
    return read_stack_file(path).values


def run_program(
    stack: str,
    config: Mapping[str, str],
    mocks: OfflineMocks,
    project_dir: Path = PROJECT_DIR,
    on_tenant: TenantCounter | None = None,
    only_tenants: frozenset[str] | None = None,
    environment: Mapping[str, str] | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> ProgramRun:
    """Run the real `<project_dir>/__main__.py` as stack `stack`.

    With `only_tenants`, the program still validates every input, but declares only those tenants:
    an incremental review plans what changed. This exists only here, in-process: no setting or
    variable of the real program can make a deploy skip tenants. `environment` is the deploy job's
    environment as the program sees it (none by default: the plan is not of the shell it runs in);
    `secret_keys` the settings the engine passes as secrets.
    """
    selection = Selection()

    @contextmanager
    def around() -> Iterator[None]:
        with _declaring_only(only_tenants, selection), _deploying_in(environment or {}):
            yield

    program = exec_main(project_dir, around)
    run = run_under_mocks(stack, config, mocks, program, on_tenant, secret_keys)
    run.stands_for, run.tenants_in_stack = selection.stands_for, selection.tenants_in_stack
    return run


@contextmanager
def _deploying_in(environment: Mapping[str, str]) -> Iterator[None]:
    from components import stack_config

    read = stack_config.deploy_environment
    stack_config.deploy_environment = lambda: environment
    try:
        yield
    finally:
        stack_config.deploy_environment = read


@dataclass
class Selection:
    """What an incremental run declared besides the changed tenants: one unchanged tenant per shape (its
    entry without orgId and bucket name), which stands for every unchanged tenant of that shape, so that
    the whole stack's resources are counted exactly without declaring them all."""

    stands_for: dict[str, int] = field(default_factory=dict)
    tenants_in_stack: int | None = None


def tenant_shape(tenant: Any) -> str:
    """What decides a tenant's resources besides its names: equal shapes, equally many resources."""
    shape = tenant.model_dump(mode="json", exclude={"org_id", "bucket_name"})
    return json.dumps([shape, tenant.bucket_name is None], sort_keys=True)


@contextmanager
def _declaring_only(org_ids: frozenset[str] | None, selection: Selection) -> Iterator[None]:
    if org_ids is None:
        yield
        return
    from tenant_storage import inputs

    load = inputs.load_stack_inputs

    def load_selected(*args: Any, **kwargs: Any) -> inputs.StackInputs:
        loaded = load(*args, **kwargs)  # every input validated, as in a full run
        shapes: dict[str, list[str]] = {}
        for tenant in loaded.tenants:
            if tenant.org_id not in org_ids:
                shapes.setdefault(tenant_shape(tenant), []).append(tenant.org_id)
        # The least orgId, not the first: the same tenant at both revisions, however the file was reordered.
        selection.stands_for = {min(group): len(group) for group in shapes.values()}
        selection.tenants_in_stack = len(loaded.tenants)
        declared = org_ids | selection.stands_for.keys()
        return replace(loaded, tenants=[tenant for tenant in loaded.tenants if tenant.org_id in declared])

    inputs.load_stack_inputs = load_selected
    try:
        yield
    finally:
        inputs.load_stack_inputs = load


def run_stack_file(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    caller_arn: str | None = None,
    account_id: str | None = None,
    on_tenant: TenantCounter | None = None,
    only_tenants: frozenset[str] | None = None,
    python: str | None = None,
) -> ProgramRun:
    """Run a stack with its own `Pulumi.<stack>.yaml`, the caller mocked as its least allowed account. With
    `python`, in a process of that interpreter, with the folder's own code (`only_tenants` does not apply)."""
    config = load_stack_config(project_dir / stack_file_name(stack))
    if account_id is None:
        try:
            allowed = json.loads(config.get("aws:allowedAccountIds", "[]"))
        except json.JSONDecodeError:
            allowed = None
        # The least, not the first: reordering the list changes nothing the deploy does.
        account_id = min(str(account) for account in allowed) if isinstance(allowed, list) and allowed else "0" * 12
    partition = partition_of(config.get("aws:region", "")) or COMMERCIAL
    mocks = OfflineMocks(account_id, caller_arn, partition.name)
    if python is not None:
        return run_in_own_process(stack, config, mocks, project_dir, python)
    return run_program(stack, config, mocks, project_dir, on_tenant, only_tenants)


# A plan of thousands of tenants takes a few minutes (docs/scale.md); a program that runs for longer is stopped.
RUN_TIMEOUT_SECONDS = 900


def run_in_own_process(
    stack: str, config: Mapping[str, str], mocks: OfflineMocks, project_dir: Path, python: str
) -> ProgramRun:
    """Run `<project_dir>/__main__.py` in a fresh `python -I` process that imports the folder's own packages:
    the recorder imports nothing of this project, and whatever the program imports comes from its folder."""
    request: dict[str, Any] = {
        "projectDir": str(project_dir.resolve()),
        "stack": stack,
        "config": dict(config),
        "accountId": mocks.account_id,
        "callerArn": mocks.caller_arn,
        "partition": mocks.partition,
    }
    # The deploy job's environment, not this shell's: nothing that redirects AWS calls, no search path of ours.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not REFUSED_ENVIRONMENT.fullmatch(name) and not name.startswith("PYTHON")
    }
    with tempfile.TemporaryDirectory(prefix="tenant-storage-run-") as scratch:
        request_path, result_path = Path(scratch) / "request.json", Path(scratch) / "result.json"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        try:
            completed = subprocess.run(  # noqa: S603 - the interpreter that runs the folder's program, fixed arguments
                # -I: no search path but the folder's own; -B: nothing written into the revision's folder (bytecode
                # committed there is loaded, as the deploy would load it: it is the gate's `tooling-changed`).
                [python, "-I", "-B", recorder.__file__, str(request_path), str(result_path)],
                cwd=project_dir,
                env=environment,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            message = f"its program did not finish within {RUN_TIMEOUT_SECONDS} s, and was stopped"
            return ProgramRun(stack, [], error=RecordedError(message, []))
        except OSError as error:
            return ProgramRun(stack, [], error=RecordedError(f"its program could not be run: {error}", []))
        if completed.returncode != 0 or not result_path.exists():
            said = (completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"])[-1]
            return ProgramRun(stack, [], error=RecordedError(f"its program could not be run: {said}", []))
        return run_from_json(json.loads(result_path.read_text(encoding="utf-8")))


def invented_pairs(
    account_id: str, resource_type: str, name: str, inputs: Mapping[str, Any], real: Mapping[str, str]
) -> dict[str, str]:
    """Each value the offline mocks invent for a resource (an id, an ARN, a domain), with the real value of the same
    output in `real`: what the replay and `audit` put in place of the mocks' inventions."""
    from pulumi.runtime.mocks import MockResourceArgs

    mocks = OfflineMocks(account_id or "0" * 12)
    given = {key: value for key, value in inputs.items() if key != "region"}
    mocked_id, mocked = mocks.new_resource(MockResourceArgs(resource_type, name, given, custom=True))
    mocked = {**mocked, "id": mocked_id}
    return {
        str(mocked[output]): value
        for output, value in real.items()
        if isinstance(mocked.get(output), str) and mocked[output] and mocked[output] != value
    }
