"""The policy pack as the Pulumi engine runs it, in the environment the deploy workflow builds.

The deploy job's own commands (every `run` step before it signs in to AWS) build the environment
in a scratch copy of the repository. The pack is then started as the CLI's Python language host starts a
local pack (pulumi/pulumi `sdk/python/cmd/pulumi-language-python/main.go`, RunPlugin: the interpreter of
the virtualenv that PulumiPolicy.yaml names, activated, running `-u -m pulumi.policy <engine> <pack>` in
the pack's folder) and spoken to over the analyzer protocol (`pulumi/proto/pulumi/analyzer.proto`) with
the stubs that ship in the pulumi SDK. It judges what the real program registers under the mock monitor,
sent as the engine sends it: in a preview, every value only a deploy knows is unknown.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from mock_runtime.runner import PROJECT_DIR, ProgramRun
from policy.tenant_storage_rules import (
    ACCESS_KEY,
    BUCKET,
    BUCKET_LOGGING,
    BUCKET_POLICY,
    ENCRYPTION,
    GROUP_POLICY,
    PARAMETER,
    RULES,
    USER_POLICIES_EXCLUSIVE,
    USER_POLICY_ATTACHMENT,
    VERSIONING,
)
from review.diff import whole_values
from tests.conftest import run_stack
from tests.test_workflows import pulumi_steps

# Builds the policy pack's environment with uv and runs the pack's engine: `make test` only, on one worker
# (the build is the module's one expensive setup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("policy-pack-engine")]

# pulumi/pulumi sdk/go/common/resource/plugin/rpc.go: how the engine marshals a value unknown in a preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
NOT_THE_PROJECT = {".git", ".venv", "venv", ".tools", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
SCOPES = {
    "resource": analyzer_pb2.PolicyType.Value("POLICY_TYPE_RESOURCE"),
    "stack": analyzer_pb2.PolicyType.Value("POLICY_TYPE_STACK"),
}


def build_steps(workflow: str, job: str) -> list[str]:
    """The job's `run` steps before it signs in to AWS: what builds the environments."""
    steps = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / workflow).read_text())["jobs"][job]["steps"]
    signs_in = next(i for i, step in enumerate(steps) if "configure-aws-credentials" in step.get("uses", ""))
    [(_, _, first_pulumi), *_] = pulumi_steps({"steps": steps})
    assert signs_in < steps.index(first_pulumi)
    return [step["run"] for step in steps[:signs_in] if "run" in step]


def build_like_the_deploy_job(target: Path) -> Path:
    shutil.copytree(PROJECT_DIR, target, ignore=shutil.ignore_patterns(*NOT_THE_PROJECT))
    uv = shutil.which("uv") or str(PROJECT_DIR / ".tools" / "uv" / "bin" / "uv")
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["BYTECODE"] = ""  # a throwaway checkout: its environments run a few processes, not a test suite
    # The workflow installs uv first (astral-sh/setup-uv); here, the uv this checkout already has.
    if Path(uv).exists():
        env["PATH"] = f"{Path(uv).parent}{os.pathsep}{env['PATH']}"
    for command in build_steps("deploy.yml", "non-production"):
        subprocess.run(["bash", "-e", "-c", command], cwd=target, env=env, check=True, capture_output=True)
    return target / "policy"


@dataclass
class Analyzer:
    """A policy pack process, started as the engine starts it, and its gRPC client."""

    stub: analyzer_pb2_grpc.AnalyzerStub
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def engine_address() -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(engine_pb2_grpc.EngineServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_like_the_deploy_job(tmp_path_factory.mktemp("checkout") / "repo")


def start(pack: Path, engine_address: str) -> Analyzer:
    options = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["runtime"]["options"]
    virtualenv = pack / options["virtualenv"]
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env |= {"VIRTUAL_ENV": str(virtualenv), "PATH": f"{virtualenv / 'bin'}{os.pathsep}{env['PATH']}"}
    process = subprocess.Popen(
        [str(virtualenv / "bin" / "python"), "-u", "-m", "pulumi.policy", engine_address, str(pack)],
        cwd=pack,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 120)
    port = process.stdout.readline().decode().strip() if ready else ""
    if not port.isdigit():
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the pack did not start: {port!r} {stderr.decode()[-2000:]}")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return Analyzer(analyzer_pb2_grpc.AnalyzerStub(channel), process)


@pytest.fixture(scope="module")
def analyzer(pack: Path, engine_address: str) -> Iterator[Analyzer]:
    running = start(pack, engine_address)
    yield running
    running.process.kill()
    running.process.communicate()


@dataclass(frozen=True)
class Sent:
    """A resource as the engine describes it to an analyzer."""

    type: str
    urn: str
    name: str
    props: dict[str, Any]
    protect: bool = False
    parent: str = ""
    secret_outputs: tuple[str, ...] = ()

    def options(self) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=self.protect, additionalSecretOutputs=list(self.secret_outputs), parent=self.parent
        )

    def properties(self) -> struct_pb2.Struct:
        return json_format.ParseDict(self.props, struct_pb2.Struct())


def as_sent(run: ProgramRun, preview: bool) -> list[Sent]:
    """The run's custom resources; in a preview, each value that embeds what only a deploy knows is unknown
    as a whole (a policy document built from a key's ARN is unknown, not half-known)."""
    unknown = whole_values(list(run.unknowns)) if preview else None

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if isinstance(value, str) and unknown is not None and unknown.search(value):
            return UNKNOWN
        return value

    # Custom resources and components alike: the engine sends every resource of the stack, and a component
    # is how a rule knows which tenant a resource belongs to. A component's properties are its outputs.
    return [
        Sent(
            r.type,
            r.urn,
            r.name,
            plain(json.loads(json.dumps(r.inputs if r.custom else run.registered_outputs.get(r.urn, {}), default=str))),
            r.protect,
            r.parent,
            r.additional_secret_outputs,
        )
        for r in run.registrations
    ]


@dataclass(frozen=True)
class Verdict:
    before_steps: list[analyzer_pb2.AnalyzeDiagnostic]
    on_the_stack: list[analyzer_pb2.AnalyzeDiagnostic]

    def all(self) -> list[analyzer_pb2.AnalyzeDiagnostic]:
        return [*self.before_steps, *self.on_the_stack]

    def mandatory(self) -> set[str]:
        return {d.policyName for d in self.all() if d.enforcementLevel == MANDATORY}


def analyze(analyzer: Analyzer, stack: str, resources: list[Sent], *, preview: bool) -> Verdict:
    stub = analyzer.stub
    stub.ConfigureStack(
        analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project="tenant-storage", organization="organization", dry_run=preview
        )
    )
    before = [
        diagnostic
        for sent in resources
        for diagnostic in stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=sent.type, properties=sent.properties(), urn=sent.urn, name=sent.name, options=sent.options()
            )
        ).diagnostics
    ]
    stack_request = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=sent.type,
                properties=sent.properties(),
                urn=sent.urn,
                name=sent.name,
                options=sent.options(),
                parent=sent.parent,
            )
            for sent in resources
        ]
    )
    return Verdict(before, list(stub.AnalyzeStack(stack_request).diagnostics))


@pytest.fixture(scope="module")
def qa_with_ssm() -> ProgramRun:
    run = run_stack("qa", config={"tenant-storage:credentialStore": "ssm"})
    assert run.error is None, run.error
    return run


# Breaking one rule: a change to what the engine would send, and the stack it applies to.
Break = Callable[[list[Sent]], list[Sent]]


def tenant_of(sent: Sent) -> str:
    return sent.parent.rsplit("::", 1)[-1]


def first(resources: list[Sent], resource_type: str, org_id: str | None = None) -> Sent:
    return next(r for r in resources if r.type == resource_type and (org_id is None or tenant_of(r) == org_id))


def changed(target: Sent, **changes: Any) -> Break:
    return lambda resources: [replace(r, **changes) if r == target else r for r in resources]


def without(predicate: Callable[[Sent], bool]) -> Break:
    return lambda resources: [r for r in resources if not predicate(r)]


def with_props(resources: list[Sent], target: Sent, props: dict[str, Any]) -> list[Sent]:
    return [replace(r, props={**r.props, **props}) if r == target else r for r in resources]


def policy_document(sent: Sent) -> dict[str, Any]:
    return json.loads(sent.props["policy"])


def breaks(org_id: str) -> dict[str, Callable[[list[Sent]], list[Sent]]]:
    def same_bucket_twice(resources: list[Sent]) -> list[Sent]:
        other = next(
            r for r in resources if r.type == BUCKET and tenant_of(r) != org_id and r.props["bucket"] != UNKNOWN
        )
        return with_props(resources, first(resources, BUCKET, org_id), {"bucket": other.props["bucket"]})

    def public_bucket_policy(resources: list[Sent]) -> list[Sent]:
        target = first(resources, BUCKET_POLICY, org_id)
        document = policy_document(target)
        document["Statement"].append(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{org_id}/*"}
        )
        return with_props(resources, target, {"policy": json.dumps(document)})

    def old_tls_allowed(resources: list[Sent]) -> list[Sent]:
        target = first(resources, BUCKET_POLICY, org_id)
        document = policy_document(target)
        document["Statement"] = [s for s in document["Statement"] if "NumericLessThan" not in s.get("Condition", {})]
        return with_props(resources, target, {"policy": json.dumps(document)})

    def wide_group_policy(resources: list[Sent]) -> list[Sent]:
        document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        return with_props(resources, first(resources, GROUP_POLICY), {"policy": json.dumps(document)})

    def admin_on_a_user(resources: list[Sent]) -> list[Sent]:
        user = first(resources, ACCESS_KEY, org_id)
        attachment = Sent(
            USER_POLICY_ATTACHMENT,
            f"{user.parent}$aws:iam/userPolicyAttachment:UserPolicyAttachment::admin",
            "admin",
            {"user": "rms_x", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            parent=user.parent,
        )
        return [*resources, attachment]

    def sse_s3(resources: list[Sent]) -> list[Sent]:
        rules = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
        return with_props(resources, first(resources, ENCRYPTION, "xmsqa2"), {"rules": rules})

    def plain_parameter(resources: list[Sent]) -> list[Sent]:
        return with_props(resources, first(resources, PARAMETER, org_id), {"type": "String"})

    def key_secret_in_the_clear(resources: list[Sent]) -> list[Sent]:
        return changed(first(resources, ACCESS_KEY, org_id), secret_outputs=())(resources)

    def unprotected(resources: list[Sent]) -> list[Sent]:
        return changed(first(resources, BUCKET), protect=False)(resources)

    def cloudfront_for_any_distribution(resources: list[Sent]) -> list[Sent]:
        target = first(resources, BUCKET_POLICY, "acme-staging")
        document = policy_document(target)
        for statement in document["Statement"]:
            statement.pop("Condition") if statement.get("Sid") == "CloudFrontReadOfPubFolder" else None
        return with_props(resources, target, {"policy": json.dumps(document)})

    def another_service(resources: list[Sent]) -> list[Sent]:
        target = first(resources, BUCKET_POLICY, org_id)
        document = policy_document(target)
        document["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{org_id}/*",
            }
        )
        return with_props(resources, target, {"policy": json.dumps(document)})

    def private_bucket_behind_cloudfront(resources: list[Sent]) -> list[Sent]:
        target = first(resources, BUCKET_POLICY, "xmsqa2")
        document = policy_document(target)
        document["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::fusion-rms-xmsqa2/pub/*",
                "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudfront::222222222222:distribution/EX"}},
            }
        )
        return with_props(resources, target, {"policy": json.dumps(document)})

    def owned(resource_type: str) -> Break:
        return without(lambda r: r.type == resource_type and tenant_of(r) == org_id)

    return {
        "one-tenant-per-bucket": same_bucket_twice,
        "bucket-guard-rails": owned(VERSIONING),
        "public-read-of-pub-only": public_bucket_policy,
        "bucket-policy-principals-known": another_service,
        "cloudfront-reads-pub-for-one-distribution": cloudfront_for_any_distribution,
        "public-only-through-the-stacks-distribution": private_bucket_behind_cloudfront,
        "user-policy-least-privilege": wide_group_policy,
        "no-user-attached-policies": admin_on_a_user,
        "user-grants-exclusive": owned(USER_POLICIES_EXCLUSIVE),
        "access-logging": owned(BUCKET_LOGGING),
        "private-buckets-sse-kms": sse_s3,
        "tls-1-2-minimum": old_tls_allowed,
        "bucket-policy-requires-tls": old_tls_allowed,
        "access-key-secret-is-secret": key_secret_in_the_clear,
        "credential-parameters-encrypted": plain_parameter,
        "production-buckets-protected": unprotected,
    }


MANDATORY_RULES = {rule.name: rule for rule in RULES if rule.enforcement == "mandatory"}
BROKEN_ON = {"production-buckets-protected": "prod", "cloudfront-reads-pub-for-one-distribution": "prod"}


def test_the_workflow_builds_the_pack_environment_before_any_pulumi_command(pack):
    assert (pack / "venv" / "bin" / "python").exists()


def test_the_pack_describes_each_rule_with_its_level_and_when_the_engine_applies_it(analyzer):
    info = analyzer.stub.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "tenant-storage"
    described = {policy.name: (policy.enforcementLevel, policy.policy_type) for policy in info.policies}
    levels = {"mandatory": MANDATORY, "advisory": analyzer_pb2.EnforcementLevel.Value("ADVISORY")}
    assert described == {rule.name: (levels[rule.enforcement], SCOPES[rule.scope]) for rule in RULES}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("stack", ["qa", "prod"])
def test_the_program_as_declared_passes_every_mandatory_rule(analyzer, qa_with_ssm, prod_run, stack, preview):
    run = qa_with_ssm if stack == "qa" else prod_run
    verdict = analyze(analyzer, stack, as_sent(run, preview), preview=preview)
    assert [(d.policyName, d.message) for d in verdict.all() if d.enforcementLevel == MANDATORY] == []
    # A rule meeting an unknown value decides what it can: CrossGuard never skips it for the whole stack.
    assert [d.message for d in verdict.all() if "can't run policy" in d.message] == []


def test_a_preview_has_unknown_values_to_decide_around(qa_with_ssm):
    sent = as_sent(qa_with_ssm, preview=True)
    suffixed = first(sent, BUCKET, "tradeshow-demo")
    assert suffixed.props["bucket"] == UNKNOWN
    # The private profiles' grants name the stack's KMS key, whose ARN only the deploy knows.
    assert any(r.type == GROUP_POLICY and r.props["policy"] == UNKNOWN for r in sent)


def test_every_mandatory_rule_has_a_stack_that_breaks_it():
    assert set(breaks("xmsqa1")) == set(MANDATORY_RULES)


@pytest.mark.parametrize("rule", sorted(MANDATORY_RULES))
def test_each_mandatory_rule_fires_on_a_stack_that_breaks_it(analyzer, qa_with_ssm, prod_run, rule):
    stack = BROKEN_ON.get(rule, "qa")
    run = qa_with_ssm if stack == "qa" else prod_run
    org_id = "xmsqa1" if stack == "qa" else "acme"
    broken = breaks(org_id)[rule](as_sent(run, preview=False))
    verdict = analyze(analyzer, stack, broken, preview=False)
    # Some breaks break more than one promise (a bucket renamed to another's also leaves its user tagged
    # for a bucket that is not its own); the rule broken is always among those that fire.
    assert rule in verdict.mandatory()
    if MANDATORY_RULES[rule].scope == "resource":
        # Before the resource's step, so `pulumi up` refuses it before the change is made.
        assert rule in {d.policyName for d in verdict.before_steps}
    else:
        assert rule in {d.policyName for d in verdict.on_the_stack}


def test_the_pack_runs_without_the_project_on_its_path(pack):
    """The engine starts the pack in its own folder: it may import only its own files and its environment."""
    imports = {
        match.group(1)
        for path in pack.glob("*.py")
        for match in re.finditer(r"^\s*(?:from|import) ([a-z_]+)", path.read_text(), re.M)
    }
    project_packages = {path.name for path in PROJECT_DIR.iterdir() if (path / "__init__.py").exists()} - {"policy"}
    assert imports & project_packages == set()


def test_a_rule_decides_around_a_name_the_preview_does_not_know(analyzer, qa_with_ssm):
    """A suffixed tenant's bucket name is unknown until deployed: its settings are still checked."""
    sent = as_sent(qa_with_ssm, preview=True)
    broken = without(lambda r: r.type == VERSIONING and tenant_of(r) == "tradeshow-demo")(sent)
    verdict = analyze(analyzer, "qa", broken, preview=True)
    [found] = [d for d in verdict.on_the_stack if d.enforcementLevel == MANDATORY]
    assert (found.policyName, found.urn) == ("bucket-guard-rails", first(sent, BUCKET, "tradeshow-demo").urn)
    assert "does not have versioning enabled" in found.message
