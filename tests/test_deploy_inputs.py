"""Every input of a deploy is known, compared or refused: each key Pulumi documents for stack and project files,
each setting of the locked AWS provider (read from its own package), and the environment variables that redirect
AWS calls. Nothing is passed over in silence (tenant_storage/deploy_inputs.py)."""

from __future__ import annotations

import inspect
import re

import pytest

from review.plan import StackPlan
from review.risks import DEFAULT_FAIL_ON, stack_risks
from tenant_storage.deploy_inputs import (
    ACCEPTED_PROJECT_KEYS,
    ACCEPTED_PROVIDER_SETTINGS,
    REFUSED_PROJECT_KEYS,
    SECRETS_PROVIDER_KEYS,
    environment_problems,
    project_file_problems,
    stack_file_key_problem,
)
from tenant_storage.stacks import CONFIG_KEYS, aws_provider_settings, read_stack_file, setting_problem
from tests.conftest import FIXTURE_INPUTS, PROJECT_DIR

# pulumi/pulumi sdk/go/common/workspace/project.go (ProjectStack; Project, with project.json's properties).
PULUMI_STACK_FILE_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment")
PULUMI_PROJECT_KEYS = (
    *("name", "description", "author", "website", "license", "runtime", "main", "config", "stackConfigDir"),
    *("backend", "options", "template", "packages", "plugins", "requiredPulumiVersion"),
)
QA_STACK = (FIXTURE_INPUTS / "Pulumi.qa.yaml").read_text()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_the_documented_keys_include_every_key_the_installed_sdk_writes():
    from pulumi.automation import ProjectSettings, StackSettings

    project = {camel(name) for name in inspect.signature(ProjectSettings.__init__).parameters} - {"self"}
    stack = {name.replace("_", "") for name in inspect.signature(StackSettings.__init__).parameters} - {"self"}
    assert project <= set(PULUMI_PROJECT_KEYS)
    assert stack <= set(PULUMI_STACK_FILE_KEYS)


@pytest.mark.parametrize("key", PULUMI_STACK_FILE_KEYS)
def test_each_stack_file_key_is_accepted_or_refused_with_a_reason(tmp_path, key):
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text(QA_STACK if key == "config" else f"{key}: some-value\n{QA_STACK}")
    problems = [p for p in read_stack_file(path).problems if p.field == key]
    if key == "config" or key in SECRETS_PROVIDER_KEYS:
        assert problems == []
        assert stack_file_key_problem(key) is None
    else:
        assert [(p.line, p.message.split(":")[0]) for p in problems] == [(1, "refused")]


def test_a_stack_file_key_nobody_documents_is_refused_with_its_line(tmp_path):
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text(f"{QA_STACK}stackoverrides: x\n")
    [problem] = read_stack_file(path).problems
    assert (problem.field, problem.line) == ("stackoverrides", QA_STACK.count("\n") + 1)
    assert "Pulumi reads no stack-file key 'stackoverrides'" in problem.message


def test_the_provider_settings_come_from_the_locked_package():
    keys = aws_provider_settings()
    assert len(keys) >= 30
    assert {"sharedCredentialsFiles", "profile", "assumeRoles", "defaultTags", "ignoreTags", "endpoints"} <= set(keys)


@pytest.mark.parametrize("name", aws_provider_settings())
def test_each_provider_setting_is_accepted_or_refused_in_the_stack_file_and_from_the_engine(tmp_path, name):
    key = f"aws:{name}"
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text(QA_STACK + f"  {key}: some-value\n" if key not in QA_STACK else QA_STACK)
    stack_file = read_stack_file(path)
    file_problems = [p for p in stack_file.problems if p.field == key]
    if key in ACCEPTED_PROVIDER_SETTINGS:
        assert setting_problem(key) is None
        assert not [p for p in file_problems if p.message.startswith("refused")]
    else:
        assert str(setting_problem(key)).startswith("refused")
        assert [p.line for p in file_problems] == [QA_STACK.count("\n") + 1]
        # Written as a secret, it is refused as well.
        path.write_text(QA_STACK + f"  {key}:\n    secure: AAABAMockCiphertext\n")
        assert [p.message.split(":")[0] for p in read_stack_file(path).problems if p.field == key] == ["refused"]


@pytest.mark.parametrize("key", sorted(set(ACCEPTED_PROVIDER_SETTINGS) - set(CONFIG_KEYS)))
def test_a_change_to_an_accepted_provider_setting_is_shown_in_the_review(key):
    base, head = StackPlan("qa"), StackPlan("qa", provider_settings={key: "7"})
    [risk] = stack_risks(base, head, diff_of(base, head))
    assert (risk.risk_class, risk.subject) == ("settings-changed", "stack qa")
    assert f"{key}: not set -> 7" in risk.message
    assert risk.risk_class not in DEFAULT_FAIL_ON


def diff_of(base: StackPlan, head: StackPlan):
    from review.diff import diff_plans

    return diff_plans(base, head)


@pytest.mark.parametrize("key", PULUMI_PROJECT_KEYS)
def test_each_project_key_is_accepted_or_refused_with_its_line(tmp_path, key):
    project = tmp_path
    text = (PROJECT_DIR / "Pulumi.yaml").read_text()
    own = re.search(f"^{key}:", text, re.MULTILINE) is not None
    if not own:  # a key the project file does not hold yet
        text += f"{key}: some-value\n"
    (project / "Pulumi.yaml").write_text(text)
    problems = [p for p in project_file_problems(project) if p.field == key]
    assert key in ACCEPTED_PROJECT_KEYS or key in REFUSED_PROJECT_KEYS
    if key in REFUSED_PROJECT_KEYS:
        assert [(p.line, p.message.split(":")[0]) for p in problems] == [(text.count("\n"), "refused")]
    elif own:
        assert problems == []  # the project's own value is the one required


def test_the_projects_own_file_is_valid_and_another_format_beside_it_is_refused(tmp_path):
    (tmp_path / "Pulumi.yaml").write_bytes((PROJECT_DIR / "Pulumi.yaml").read_bytes())
    assert project_file_problems(tmp_path) == []
    for name in ("Pulumi.json", "Pulumi.yml", "Pulumi.prod.json", "Pulumi.prod.yml"):
        (tmp_path / name).write_text("{}\n")
    assert sorted(p.source for p in project_file_problems(tmp_path)) == sorted(
        ["Pulumi.json", "Pulumi.yml", "Pulumi.prod.json", "Pulumi.prod.yml"]
    )


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("AWS_ENDPOINT_URL", True),
        ("AWS_ENDPOINT_URL_STS", True),
        ("aws_endpoint_url_s3", True),
        ("AWS_CA_BUNDLE", True),
        ("SSL_CERT_FILE", True),
        ("SSL_CERT_DIR", True),
        ("HTTPS_PROXY", True),
        ("http_proxy", True),
        ("ALL_PROXY", True),
        ("NO_PROXY", False),
        ("AWS_REGION", False),
        ("AWS_ACCESS_KEY_ID", False),
    ],
)
def test_the_deploy_environment_refuses_what_redirects_calls_or_trust(name, refused):
    assert bool(environment_problems({name: "x"})) == refused
    assert environment_problems({name: ""}) == []


def test_the_allowlists_name_every_accepted_key_with_its_reason():
    for reasons in (ACCEPTED_PROVIDER_SETTINGS, ACCEPTED_PROJECT_KEYS, REFUSED_PROJECT_KEYS):
        assert all(isinstance(reason, str) and len(reason) > 10 for reason in reasons.values())
    assert all(re.fullmatch(r"aws:[A-Za-z]+", key) for key in ACCEPTED_PROVIDER_SETTINGS)
    assert {key.removeprefix("aws:") for key in ACCEPTED_PROVIDER_SETTINGS} <= set(aws_provider_settings())
