"""The mock monitor's side of an offline plan: run a Pulumi program in-process and record what it registers.

It imports nothing of this project, only the Pulumi SDK, so that it can also run another revision's program with
that revision's own code, in a process of its own (`python -I recorder.py REQUEST RESULT`): the review then plans
the base of a pull request with the base's program, not with the head's (`mock_runtime/runner.py`).

The recording monitor sees what `Mocks.new_resource` cannot: each registration's parent, explicit
dependencies, `protect` and `retainOnDelete`. Mocked provider outputs are deterministic and obviously
fake (no real-looking key material).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import importlib.metadata
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks, set_mocks
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT = "tenant-storage"
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"


def _fake(kind: str, name: str, length: int) -> str:
    return hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()[:length]


class OfflineMocks(Mocks):
    """Provider behaviour just deep enough for the program: names, ARNs, ids, a caller identity."""

    def __init__(self, account_id: str, caller_arn: str | None = None, partition: str = "aws") -> None:
        self.account_id = account_id
        self.partition = partition
        self.caller_arn = caller_arn or f"arn:{partition}:iam::{account_id}:user/offline-plan"
        self.calls: list[MockCallArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "aws:s3/bucket:Bucket":
            name = state["bucket"]
            state.update(arn=f"arn:{self.partition}:s3:::{name}", bucketRegionalDomainName=f"{name}.s3.amazonaws.com")
            return name, state
        if args.typ == "aws:kms/key:Key":
            key_id = f"mock-key-{_fake('kms', args.name, 12)}"
            state.update(arn=f"arn:{self.partition}:kms:us-east-1:{self.account_id}:key/{key_id}", keyId=key_id)
            return key_id, state
        if args.typ == "aws:iam/group:Group":
            state.update(arn=f"arn:{self.partition}:iam::{self.account_id}:group/{state['name']}")
            return state["name"], state
        if args.typ == "aws:iam/user:User":
            name = state["name"]
            state.update(
                arn=f"arn:{self.partition}:iam::{self.account_id}:user/{name}",
                uniqueId=f"AIDAMOCK{_fake('user', name, 12).upper()}",
            )
            return name, state
        if args.typ == "aws:iam/accessKey:AccessKey":
            state.update(secret=f"mock-secret-{_fake('secret', args.name, 24)}", status="Active")
            return f"MOCKKEY{_fake('key', args.name, 13).upper()}", state
        if args.typ.startswith("aws:cloudfront/"):
            return self._cloudfront(args, state)
        if args.typ == "random:index/randomId:RandomId":
            state.update(hex=_fake("random", args.name, 2 * int(state["byteLength"])))
            return state["hex"], state
        return f"{args.name}-id", state

    def _cloudfront(self, args: MockResourceArgs, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CloudFront's ids and ARNs, in its shapes (global: no region in an ARN)."""
        arn = f"arn:{self.partition}:cloudfront::{self.account_id}"
        kind = args.typ.rsplit(":", 1)[-1]
        if kind == "Distribution":
            # Its comment names the stack: two stacks' distributions (shards of one account) differ, as in AWS.
            seed = f"{args.name}:{state.get('comment', '')}"
            distribution_id = f"EMOCK{_fake('distribution', seed, 9).upper()}"
            state.update(
                arn=f"{arn}:distribution/{distribution_id}",
                domainName=f"dmock{_fake('domain', seed, 9)}.cloudfront.net",
                hostedZoneId="Z2FDTNDATAQYW2",
                status="Deployed",
            )
            return distribution_id, state
        if kind == "KeyValueStore":
            store_id = f"mock-{_fake('store', args.name, 8)}"
            state.update(arn=f"{arn}:key-value-store/{store_id}")
            return store_id, state
        if kind == "Function":
            state.update(arn=f"{arn}:function/{state['name']}")
            return str(state["name"]), state
        return f"mock-{kind.lower()}-{_fake(kind, args.name, 8)}", state

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.calls.append(args)
        if args.token == CALLER_IDENTITY:
            return {
                "accountId": self.account_id,
                "arn": self.caller_arn,
                "userId": "AIDAMOCKCALLER",
                "id": self.account_id,
            }
        raise NotImplementedError(f"the offline runtime does not mock the invoke {args.token}")


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    dependencies: tuple[str, ...]
    protect: bool
    retain_on_delete: bool
    inputs: dict[str, Any]
    additional_secret_outputs: tuple[str, ...] = ()
    import_id: str = ""
    ignore_changes: tuple[str, ...] = ()  # inputs whose change the engine ignores after create (or on import)
    id: str = ""  # the (mocked) provider id: what the engine compares an import id with
    # A provider plugin other than the one its SDK package brings (another version, a download URL): "" if none.
    plugin: str = ""


COMPONENT_TYPE = "tenant-storage:index:TenantStorage"
# Shorter invented values ("Active") are facts of the mock, not identities a review could mistake.
MIN_UNKNOWN_LENGTH = 8
TenantCounter = Callable[[int], None]


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks, on_tenant: TenantCounter | None = None) -> None:
        super().__init__(mocks)
        self.on_tenant = on_tenant
        self.tenants_declared = 0
        self.registrations: list[Registration] = []
        self.registered_outputs: dict[str, dict[str, Any]] = {}
        # Every value the mocks invented for what only a deploy knows (ids, ARNs, random suffixes), and the
        # URN of the resource that produces it: a review compares such values as unknowns, never as text.
        self.unknowns: dict[str, str] = {}
        # Those of them the provider marks secret (an access key's `secret`): what must never be stored in plain.
        self.secret_unknowns: set[str] = set()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # Like the engine, and unlike MockMonitor: children of the root stack get no `pulumi:pulumi:Stack$` prefix.
        if parent.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type == COMPONENT_TYPE and self.on_tenant is not None:
            self.tenants_declared += 1
            self.on_tenant(self.tenants_declared)
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            if request.custom:
                self._record_unknowns(response.urn, inputs, frozenset(request.additionalSecretOutputs))
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=request.custom,
                    dependencies=tuple(request.dependencies),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    inputs=inputs,
                    additional_secret_outputs=tuple(request.additionalSecretOutputs),
                    import_id=request.importId,
                    ignore_changes=tuple(request.ignoreChanges),
                    id=response.id,
                    plugin=_foreign_plugin(request.type, request.version, request.pluginDownloadURL),
                )
            )
        return response

    def _record_unknowns(self, urn: str, inputs: Mapping[str, Any], secret_outputs: frozenset[str]) -> None:
        registered = self.resources[urn]
        given = {value for value in inputs.values() if isinstance(value, str)}
        for value in (registered.id, *registered.state.values()):
            if isinstance(value, str) and len(value) >= MIN_UNKNOWN_LENGTH and value not in given:
                self.unknowns.setdefault(value, urn)
        for name in secret_outputs:
            value = registered.state.get(name)
            if isinstance(value, str) and len(value) >= MIN_UNKNOWN_LENGTH and value not in given:
                self.secret_unknowns.add(value)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self.registered_outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


@dataclass(frozen=True)
class StackOutput:
    value: Any
    secret: bool


@dataclass
class ProgramRun:
    stack: str
    registrations: list[Registration]
    registered_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, StackOutput] = field(default_factory=dict)
    error: BaseException | None = None
    mocks: OfflineMocks | None = None
    config: Mapping[str, str] = field(default_factory=dict)
    unknowns: dict[str, str] = field(default_factory=dict)
    secret_unknowns: set[str] = field(default_factory=set)
    # With only_tenants: per tenant declared to stand for others of its shape, how many tenants it stands for.
    stands_for: dict[str, int] = field(default_factory=dict)
    tenants_in_stack: int | None = None

    def by_type(self, resource_type: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == resource_type]

    def children_of(self, parent_urn: str) -> list[Registration]:
        return [r for r in self.registrations if r.parent == parent_urn]


def run_under_mocks(
    stack: str,
    config: Mapping[str, str],
    mocks: OfflineMocks,
    program: Callable[[], None],
    on_tenant: TenantCounter | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> ProgramRun:
    """Run `program` as stack `stack` under the mock monitor; return what it registered and exported.

    A program error is returned in `ProgramRun.error`, with whatever was registered before it.
    `on_tenant` hears the count of tenants declared so far, for progress reports.
    """
    monitor = RecordingMonitor(mocks, on_tenant)
    run = ProgramRun(
        stack=stack,
        registrations=monitor.registrations,
        registered_outputs=monitor.registered_outputs,
        mocks=mocks,
        config=dict(config),
        unknowns=monitor.unknowns,
        secret_unknowns=monitor.secret_unknowns,
    )
    # The cyclic collector rescans the whole growing heap of resources and outputs, which made runs
    # superlinear (45% of the time at 1,000 tenants); a run is short, so it collects once at the end.
    collecting = gc.isenabled()
    with _without_source_positions():
        runtime_settings.reset_options(project=PROJECT, stack=stack)
        pulumi.runtime.set_all_config(dict(config), sorted(secret_keys))
        set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)  # registers the root
        gc.disable()
        try:
            _sync_await(run_pulumi_func(program))
            root = runtime_settings.get_root_resource()
            for name, value in getattr(root, "outputs", {}).items():
                run.outputs[name] = resolve(value)
        except Exception as error:  # noqa: BLE001 - reported to the caller, who decides
            run.error = error
        finally:
            if collecting:
                gc.enable()
    return run


@contextmanager
def _without_source_positions() -> Iterator[None]:
    """The SDK walks the whole Python stack for every resource and turns each frame into a file URI
    (pulumi/runtime/resource.py, `_get_stack_trace`), to send the engine a source position for its
    diagnostics. No monitor here reads it (MockMonitor.RegisterResource ignores `stackTrace` and
    `sourcePosition`), and it was a third of a plan's time, more under a deep caller such as pytest."""
    walk = runtime_resource._get_stack_trace
    runtime_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        runtime_resource._get_stack_trace = walk


def resolve(value: object) -> StackOutput:
    """An output's value and secrecy, once every registration it depends on has completed."""
    output = pulumi.Output.from_input(value)
    return StackOutput(value=_sync_await(output.future()), secret=bool(_sync_await(output.is_secret())))


def exec_main(project_dir: Path, around: Callable[[], Any] | None = None) -> Callable[[], None]:
    """A program that runs `<project_dir>/__main__.py` as the language host does, its folder first on sys.path;
    `around`, when given, makes a context manager the run happens in."""
    main_path = project_dir / "__main__.py"
    # exec rather than runpy: the SDK records a stack trace per resource, so every frame above costs.
    code = compile(main_path.read_text(encoding="utf-8"), str(main_path), "exec")

    def program() -> None:
        sys.path.insert(0, str(project_dir))
        try:
            with around() if around is not None else _nothing():
                exec(code, {"__name__": "__main__", "__file__": str(main_path)})  # noqa: S102 - the project's program
        finally:
            sys.path.remove(str(project_dir))

    return program


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _foreign_plugin(resource_type: str, version: str, download_url: str) -> str:
    """The plugin a registration asks for when it is not its own SDK package's: the engine would download and run
    that binary, with the deploy's credentials. An SDK package sends its own version and no URL."""
    if download_url or (version and version != _sdk_version(resource_type.split(":")[0])):
        return f"version {version or 'unset'}" + (f" from {download_url}" if download_url else "")
    return ""


@functools.cache
def _sdk_version(package: str) -> str:
    """The installed version of the SDK package of a resource type's package (pulumi_aws for aws), "" if none."""
    try:
        return importlib.metadata.version(f"pulumi_{package}")
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return ""


class RecordedError(Exception):
    """A program's error as another process recorded it: its message, and its input problems as text."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems

    def __repr__(self) -> str:
        return str(self)


def run_to_json(run: ProgramRun) -> dict[str, Any]:
    error = run.error
    return {
        "stack": run.stack,
        "registrations": [dataclasses.asdict(registration) for registration in run.registrations],
        "registeredOutputs": run.registered_outputs,
        "outputs": {name: dataclasses.asdict(output) for name, output in run.outputs.items()},
        "error": None
        if error is None
        else {"message": repr(error), "problems": [str(problem) for problem in getattr(error, "problems", ())]},
        "accountId": run.mocks.account_id if run.mocks else "",
        "config": dict(run.config),
        "unknowns": run.unknowns,
        "secretUnknowns": sorted(run.secret_unknowns),
    }


def run_from_json(document: Mapping[str, Any]) -> ProgramRun:
    error = document["error"]
    return ProgramRun(
        stack=document["stack"],
        registrations=[
            Registration(
                **{
                    **item,
                    "dependencies": tuple(item["dependencies"]),
                    "additional_secret_outputs": tuple(item["additional_secret_outputs"]),
                }
            )
            for item in document["registrations"]
        ],
        registered_outputs=document["registeredOutputs"],
        outputs={name: StackOutput(**output) for name, output in document["outputs"].items()},
        error=None if error is None else RecordedError(error["message"], error["problems"]),
        mocks=OfflineMocks(document["accountId"]),
        config=document["config"],
        unknowns=document["unknowns"],
        secret_unknowns=set(document.get("secretUnknowns", ())),
    )


def main(arguments: list[str]) -> int:
    """REQUEST (JSON: projectDir, stack, config, secretKeys, accountId, callerArn, partition) -> RESULT (JSON)."""
    request_path, result_path = arguments
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    mocks = OfflineMocks(request["accountId"], request.get("callerArn"), request["partition"])
    run = run_under_mocks(
        request["stack"],
        request["config"],
        mocks,
        exec_main(Path(request["projectDir"])),
        secret_keys=frozenset(request.get("secretKeys", ())),
    )
    Path(result_path).write_text(json.dumps(run_to_json(run), default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
