"""Shared mocks and helpers: run the real program, or one component, under Pulumi's mock monitor."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from mock_runtime.runner import (
    PROJECT_DIR,
    OfflineMocks,
    ProgramRun,
    Registration,
    load_stack_config,
    run_program,
    run_under_mocks,
)
from tenant_storage.accounts import ACCOUNTS_FILE
from tenant_storage.inputs import TENANTS_FILE
from tenant_storage.regions import COMMERCIAL, partition_of
from tenant_storage.stacks import stack_file_name
from tests.users_data_guard import sitecustomize as users_data_guard

PROD_ACCOUNT = "111111111111"
QA_ACCOUNT = "222222222222"
STACK_ACCOUNTS = {"prod": PROD_ACCOUNT, "qa": QA_ACCOUNT}
# The program is the project's own; its inputs are the suite's fixtures, never the users' tenants.yaml,
# accounts.yaml or stack files (adding a tenant there must never fail a test).
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml")
FIXTURE_INPUTS = Path(__file__).parent / "fixtures" / "project"


# The users' data files, by name: any test that opens one at the project root fails (see users_data_guard).
USERS_DATA_PATTERNS = (TENANTS_FILE, ACCOUNTS_FILE, stack_file_name("*"))


def pytest_configure(config: pytest.Config) -> None:
    # The emulator answers at once or not at all: an unreachable endpoint fails fast instead of backing off
    # ten times (the commands' default for AWS; tests/test_live_failures.py proves the default).
    os.environ.setdefault("AWS_MAX_ATTEMPTS", "2")
    log = Path(tempfile.mkdtemp(prefix="tenant-storage-users-data-")) / "opened"
    log.touch()
    os.environ[users_data_guard.ROOT] = str(PROJECT_DIR)
    os.environ[users_data_guard.PATTERNS] = os.pathsep.join(USERS_DATA_PATTERNS)
    os.environ[users_data_guard.LOG] = str(log)
    # Python processes the tests start import the guard as their sitecustomize.
    guard_dir = str(Path(users_data_guard.__file__).parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [guard_dir, os.environ.get("PYTHONPATH")]))
    users_data_guard.install(str(PROJECT_DIR), list(USERS_DATA_PATTERNS), None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow what is slow by what it runs: the emulator (a moto server, or moto in-process where the
    test's module uses moto), or many generated examples (Hypothesis)."""
    for item in items:
        module = getattr(item, "module", None)
        uses_moto = any(getattr(value, "__module__", "").startswith("moto") for value in vars(module).values())
        runs_the_emulator = "moto_server" in getattr(item, "fixturenames", ()) or uses_moto
        generated = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        if runs_the_emulator or generated:
            item.add_marker(pytest.mark.slow)
    # The slow tests first, the quick ones last: the workers finish together instead of one waiting on the other's
    # last long test (longest first is what balances a fixed set of jobs on a few cores). Among them the generated
    # ones first: after the restore tests' moto server has served a worker, its mock runs take six times as long.
    items.sort(
        key=lambda item: (
            item.get_closest_marker("slow") is None,
            not getattr(getattr(item, "obj", None), "is_hypothesis_test", False),
        )
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("slow") is not None:  # the emulator's tests: the fast loop never imports botocore
        share_botocore_models()


class _SearchPaths(list[str]):
    """A shared loader's search paths: every boto3 session appends its own data folder, which is kept once."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def share_botocore_models() -> None:
    """Every botocore session of this test process reads its service models through one loader, so that each
    model's JSON is parsed once per process rather than once per session: a new session's first client cost
    0.1 s, most of an emulator test's time. Sessions share nothing else (credentials, region, clients), and
    within one session botocore already shares its loader the same way."""
    import botocore.loaders
    import botocore.session

    if getattr(botocore.session.create_loader, "shared", False):
        return

    @functools.cache
    def create_loader(search_path_string: str | None = None) -> Any:
        loader = botocore.loaders.create_loader(search_path_string)
        loader._search_paths = _SearchPaths(loader.search_paths)
        return loader

    create_loader.shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = create_loader


def users_data_opened() -> list[str]:
    """The users' data files opened since the last call, by this process or one it started; then forgotten."""
    log = Path(os.environ[users_data_guard.LOG])
    opened = [*users_data_guard.opened, *log.read_text().splitlines()]
    users_data_guard.opened.clear()
    log.write_text("")
    return opened


@pytest.fixture(autouse=True)
def _tests_never_read_the_users_data() -> Iterator[None]:
    users_data_opened()
    yield
    if opened := users_data_opened():
        pytest.fail(
            f"the test opened the users' data ({', '.join(sorted(set(opened)))}): tests run on their own inputs "
            "(tests/fixtures/project, the `project` fixture), so that adding or removing a tenant never breaks them",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _a_clean_deploy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's CA bundle and proxy variables are the machine's, not the case's: a test that needs one sets
    it (preflight and the program refuse them, tenant_storage/deploy_inputs.py)."""
    from tenant_storage.deploy_inputs import REFUSED_ENVIRONMENT

    for name in [name for name in os.environ if REFUSED_ENVIRONMENT.fullmatch(name)]:
        monkeypatch.delenv(name)


def make_project(target: Path, inputs: Path = FIXTURE_INPUTS) -> Path:
    """A project directory: the real program beside a copy of the fixture inputs."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        shutil.copy(PROJECT_DIR / name, target / name)
    for path in inputs.iterdir():
        shutil.copy(path, target / path.name)
    return target


def scratch_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="tenant-storage-test-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def fixture_project() -> Path:
    """The fixture project, built once per test session; tests that edit inputs use `project` instead."""
    return make_project(scratch_dir() / "project")


def with_settings(project_dir: Path, stack: str, settings: Mapping[str, str | None]) -> Path:
    """A copy of `project_dir` whose `Pulumi.<stack>.yaml` has `settings` changed (None removes a key).

    Settings go into the committed file, as a user would put them: the program refuses config that the
    engine passes from anywhere else.
    """
    copy = scratch_dir() / "project"
    shutil.copytree(project_dir, copy)
    path = copy / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    config = document.setdefault("config", {})
    for key, value in settings.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return copy


BUCKET = "aws:s3/bucket:Bucket"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
RANDOM_ID = "random:index/randomId:RandomId"
COMPONENT = "tenant-storage:index:TenantStorage"
STACK_COMPONENT = "tenant-storage:index:StackStorage"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
KMS_KEY = "aws:kms/key:Key"
GROUP = "aws:iam/group:Group"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
GROUP_MEMBERSHIP = "aws:iam/groupMembership:GroupMembership"
GROUP_POLICIES_EXCLUSIVE = "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive"
GROUP_ATTACHMENTS_EXCLUSIVE = "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive"
USER_POLICIES_EXCLUSIVE = "aws:iam/userPoliciesExclusive:UserPoliciesExclusive"
USER_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"


def run_stack(
    stack: str,
    project_dir: Path | None = None,
    *,
    account_id: str | None = None,
    caller_arn: str | None = None,
    config: Mapping[str, str | None] | None = None,
    engine_config: Mapping[str, str | None] | None = None,
    environment: Mapping[str, str] | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> ProgramRun:
    """Run the real __main__.py as the engine would, with the stack's committed config file.

    `config` changes (None removes) settings in a copy of the stack file; `engine_config` changes only
    what the engine passes (as an ESC environment or `--config-file` would), leaving the file alone;
    `secret_keys` are the keys it passes as secrets; `environment` is the deploy job's environment.
    """
    project_dir = project_dir or fixture_project()
    if config:
        project_dir = with_settings(project_dir, stack, config)
    path = project_dir / f"Pulumi.{stack}.yaml"
    values: dict[str, str] = load_stack_config(path) if path.exists() else {}
    for key, value in (engine_config or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    # What the engine's provider returns carries the region's partition (a key's ARN), as in the offline plan.
    partition = (partition_of(values.get("aws:region", "")) or COMMERCIAL).name
    mocks = OfflineMocks(account_id or STACK_ACCOUNTS[stack], caller_arn, partition)
    return run_program(stack, values, mocks, project_dir, environment=environment, secret_keys=secret_keys)


def run_component(storage_factory: object, stack: str = "qa") -> ProgramRun:
    """Declare components with `storage_factory()` (returning them) and export each one's summary and secret."""

    def program() -> None:
        for storage in storage_factory():  # type: ignore[operator]
            pulumi.export(f"{storage.args.org_id}-summary", storage.summary())
            pulumi.export(f"{storage.args.org_id}-secret", storage.secret_access_keys)

    return run_under_mocks(stack, {}, OfflineMocks(STACK_ACCOUNTS[stack]), program)


@pytest.fixture(scope="session")
def qa_run() -> ProgramRun:
    run = run_stack("qa")
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="session")
def prod_run() -> ProgramRun:
    run = run_stack("prod")
    assert run.error is None, run.error
    return run


@pytest.fixture(params=["qa", "prod"])
def stack_run(request: pytest.FixtureRequest) -> ProgramRun:
    return request.getfixturevalue(f"{request.param}_run")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the program and the fixture inputs, for tests that edit the inputs."""
    return make_project(tmp_path / "project")


def child(run: ProgramRun, org_id: str, resource_type: str) -> Registration:
    component = next(r for r in run.by_type(COMPONENT) if r.name == org_id)
    matches = [r for r in run.children_of(component.urn) if r.type == resource_type]
    assert len(matches) == 1, f"{org_id}: {len(matches)} resources of type {resource_type}"
    return matches[0]


def children(run: ProgramRun, org_id: str, resource_type: str) -> list[Registration]:
    component = next(r for r in run.by_type(COMPONENT) if r.name == org_id)
    return [r for r in run.children_of(component.urn) if r.type == resource_type]


def policy_of(registration: Registration) -> dict:
    return json.loads(registration.inputs["policy"])


def deployed_org_ids(run: ProgramRun) -> set[str]:
    return {r.name for r in run.by_type(COMPONENT)}


def replace_in(name: str, old: str, new: str) -> Callable[[Path], None]:
    """An edit of one project file: replace the first `old` (which must be there) with `new`."""

    def edit(project: Path) -> None:
        text = (project / name).read_text()
        assert old in text, f"{old!r} is not in {name}"
        (project / name).write_text(text.replace(old, new, 1))

    return edit


def write_file(name: str, text: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        (project / name).write_text(text)

    return edit


def assert_refused(run: ProgramRun, fragments: list[str] | tuple[str, ...]) -> None:
    """A clean refusal naming every fragment, and not one resource registered."""
    assert isinstance(run.error, pulumi.RunError), f"expected a refusal, got {run.error!r}"
    message = str(run.error)
    assert "nothing was deployed" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} is not in:\n{message}"
    assert run.registrations == [], "a resource was registered despite invalid input"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server on loopback for the session; tests reset it before use."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def requests_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto judges a TLS-only deny without its condition; against AWS the calls arrive over TLS 1.2, where those
    denies do not apply (emulator/sandbox.py `as_over_tls`, which the sandbox runs with too)."""
    from moto.s3.models import FakeBucket

    from emulator.sandbox import as_over_tls

    monkeypatch.setattr(FakeBucket, "get_permission", as_over_tls(FakeBucket.get_permission))


@contextlib.contextmanager
def iam_enforced() -> Iterator[None]:
    """In-process moto judges every request by the caller's identity policies, from the first one on."""
    from moto import settings as moto_settings

    previous = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    try:
        yield
    finally:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = previous


@functools.cache
def fixture_plan(stack: str) -> Any:
    """The offline plan of a stack of the fixture project, made once per session (a StackPlan is frozen)."""
    from review.plan import plan_stack

    return plan_stack(stack, fixture_project())


@pytest.fixture
def replayed_qa(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """The moto server holding what `pulumi up` of the fixture's qa stack would leave (its plan, replayed), and
    the replay (to read it back)."""
    import boto3

    from emulator.replay import replay

    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    session = boto3.session.Session(region_name="us-east-1")
    return moto_server, replay(fixture_plan("qa"), session, moto_server)


@pytest.fixture
def deployed(replayed_qa: tuple[str, Any]) -> str:
    """The moto server holding the fixture's qa stack as declared (`replayed_qa`)."""
    return replayed_qa[0]


def session_in(account: str) -> Any:
    """A session signed in to `account` of in-process moto, through an assumed role, as an operator would."""
    import boto3

    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    role = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="replay")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=role["AccessKeyId"],
        aws_secret_access_key=role["SecretAccessKey"],
        aws_session_token=role["SessionToken"],
        region_name="us-east-1",
    )


def reset_emulator(endpoint: str) -> None:
    import requests

    requests.post(f"{endpoint}/moto-api/reset", timeout=10)


def use_account(monkeypatch: pytest.MonkeyPatch, endpoint: str, account: str) -> dict[str, str]:
    """Sign the process in to `account` of the emulator (through an assumed role), as a user would."""
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    role = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="operator")["Credentials"]
    credentials = {
        "AWS_ACCESS_KEY_ID": role["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": role["SecretAccessKey"],
        "AWS_SESSION_TOKEN": role["SessionToken"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    return credentials


def signed_in_as_a_role_refused(endpoint: str, monkeypatch: pytest.MonkeyPatch, statement: dict[str, Any]) -> None:
    """The process signed in as a role allowed everything but `statement` (a Deny), as a scoped role or an SCP."""
    import boto3

    iam = boto3.session.Session(region_name="us-east-1").client("iam", endpoint_url=endpoint)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="scoped", AssumeRolePolicyDocument=json.dumps(trust))
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, statement]}
    iam.put_role_policy(RoleName="scoped", PolicyName="p", PolicyDocument=json.dumps(policy))
    sts = boto3.session.Session(region_name="us-east-1").client("sts", endpoint_url=endpoint)
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{QA_ACCOUNT}:role/scoped", RoleSessionName="discover")
    for name, key in (("AWS_ACCESS_KEY_ID", "AccessKeyId"), ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey")):
        monkeypatch.setenv(name, credentials["Credentials"][key])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["Credentials"]["SessionToken"])


# Random edits of a registry, as property tests make them: (kind, index, value) picks the tenant and the value.
PROFILES = ["media-gallery", "app-storage", "upload-only"]
QA_ENVIRONMENTS = ["qa", "development", "demo"]
ENVIRONMENTS = [*QA_ENVIRONMENTS, "production", "staging"]
REGISTRY_EDITS = ["add", "remove", "profile", "keys", "suffix", "adopt", "environment"]


def edit_registry(registry: dict, change: tuple[str, int, int]) -> None:
    kind, index, value = change
    tenants = registry["tenants"]
    if not tenants:
        return
    target = tenants[index % len(tenants)]
    taken = {tenant["orgId"] for tenant in tenants}
    # A new orgId of its own: two edits adding "the same" tenant must not make the registry invalid.
    fresh = next(
        str(n) for n in range(index, index + len(taken) + 1) if f"new{n}" not in taken and f"legacy{n}" not in taken
    )
    if kind == "add":
        tenants.append({"orgId": f"new{fresh}", "environment": ENVIRONMENTS[value % 5], "profile": PROFILES[value % 3]})
    elif kind == "remove":
        tenants.remove(target)
    elif kind == "profile":
        target["profile"] = PROFILES[value % 3]
        if target["profile"] != "media-gallery":
            target.pop("publicAccess", None)  # only a media gallery says how its pub/ is public
    elif kind == "keys":
        target["accessKeys"] = ["initial", f"2026-{value % 12 + 1:02d}"]
    elif kind == "suffix" and not target.get("adopt"):
        target["randomSuffix"] = not target.get("randomSuffix", False)
    elif kind == "adopt":
        tenants.append(
            {
                "orgId": f"legacy{fresh}",
                "environment": QA_ENVIRONMENTS[value % 3],
                "profile": PROFILES[value % 3],
                "adopt": True,
                "bucketName": f"legacy-bucket-{fresh}",
            }
        )
    elif kind == "environment":
        target["environment"] = ENVIRONMENTS[value % 5]
