"""Credentials handed to a secret store (stack setting credentialStore), never to files."""

import json

import pytest
from pulumi.runtime import rpc

from cli.main import main
from policy.tenant_storage_rules import PARAMETER, SECRET, ResourceView, evaluate
from tests.conftest import assert_refused, children, deployed_org_ids, run_stack

SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
VARIABLES = ("BUCKET_NAME", "AWS_KEY", "AWS_SECRET", "AWS_REGION")


def run_with_store(store: str):
    run = run_stack("qa", config={"tenant-storage:credentialStore": store})
    assert run.error is None, run.error
    return run


def unwrap_secret(value):
    assert isinstance(value, dict), f"{value!r} is not a secret"
    assert value[rpc._special_sig_key] == rpc._special_secret_sig
    return value["value"]


def test_by_default_no_secret_store_is_used(qa_run):
    assert qa_run.by_type(SECRET) == qa_run.by_type(PARAMETER) == []


def test_secrets_manager_gets_one_json_secret_per_tenant(qa_run):
    run = run_with_store("secretsmanager")
    summaries, secrets = run.outputs["tenants"].value, run.outputs["secretAccessKeys"].value
    for org_id in deployed_org_ids(run):
        [secret] = children(run, org_id, SECRET)
        assert secret.inputs["name"] == f"tenant-storage/{org_id}"
        assert secret.inputs["tags"]["OrgId"] == org_id
        [version] = children(run, org_id, SECRET_VERSION)
        assert json.loads(unwrap_secret(version.inputs["secretString"])) == {
            "BUCKET_NAME": summaries[org_id]["bucketName"],
            "AWS_KEY": summaries[org_id]["accessKeyId"],
            "AWS_SECRET": list(secrets[org_id].values())[-1],  # the newest key's
            "AWS_REGION": "us-east-1",
        }


def test_ssm_gets_four_secure_string_parameters_per_tenant():
    run = run_with_store("ssm")
    for org_id in deployed_org_ids(run):
        parameters = {p.inputs["name"]: p for p in children(run, org_id, PARAMETER)}
        assert set(parameters) == {f"/tenant-storage/{org_id}/{variable}" for variable in VARIABLES}
        for parameter in parameters.values():
            assert parameter.inputs["type"] == "SecureString"
            assert parameter.inputs["tags"]["OrgId"] == org_id
            unwrap_secret(parameter.inputs["value"])
    secrets = run.outputs["secretAccessKeys"].value
    key = children(run, "xmsqa1", PARAMETER)
    [aws_secret] = [p for p in key if p.inputs["name"].endswith("/AWS_SECRET")]
    assert unwrap_secret(aws_secret.inputs["value"]) == secrets["xmsqa1"]["initial"]


@pytest.mark.parametrize("store", ["secretsmanager", "ssm"])
def test_the_stores_break_no_policy_rule(store):
    from review.plan import policy_violations

    found = policy_violations(run_with_store(store).registrations)
    assert [v for v in found if v.enforcement == "mandatory" or v.rule != "access-key-hygiene"] == []


def test_a_plain_string_parameter_breaks_the_policy_pack():
    parameter = ResourceView(
        PARAMETER, "urn:p", "p", {"name": "/tenant-storage/x/AWS_SECRET", "type": "String", "tags": {"OrgId": "x"}}
    )
    [(rule, violation)] = evaluate([parameter])
    assert (rule.name, rule.enforcement) == ("credential-parameters-encrypted", "mandatory")
    assert "is not a SecureString" in violation.message


def test_an_unknown_store_is_refused():
    run = run_stack("qa", config={"tenant-storage:credentialStore": "vault"})
    assert_refused(run, ["Pulumi.qa.yaml:9 field 'tenant-storage:credentialStore': 'vault' is not one of none"])


def test_the_plan_never_prints_a_stored_secret(project, capsys):
    stack_file = project / "Pulumi.qa.yaml"
    stack_file.write_text(stack_file.read_text() + "  tenant-storage:credentialStore: secretsmanager\n")
    for output_format in ("text", "markdown", "json"):
        assert main(["plan", "--stack", "qa", "--format", output_format], project_dir=project) == 0
        assert "mock-secret-" not in capsys.readouterr().out
