"""`credentials`: formatting tested on recorded `pulumi stack output --show-secrets --json` output
(fake values, mid-rotation for xmsqa1), since the Pulumi CLI cannot run here."""

import json
import stat
from pathlib import Path

import pytest

from cli.main import main
from live import credentials
from tests.conftest import fixture_project

RECORDED = json.loads((Path(__file__).parent / "data" / "stack-output.qa.json").read_text())


@pytest.fixture
def recorded_outputs(monkeypatch):
    calls = []

    def fake_fetch(stack, project_dir):
        calls.append(stack)
        return RECORDED

    monkeypatch.setattr(credentials, "fetch_stack_outputs", fake_fetch)
    return calls


def test_it_prints_the_app_variables_of_the_newest_key_with_a_warning(recorded_outputs, capsys):
    assert main(["credentials", "xmsqa1", "--stack", "qa"], project_dir=fixture_project()) == 0
    out, err = capsys.readouterr()
    assert out == (
        "BUCKET_NAME=fusion-rms-xmsqa1\n"
        "AWS_KEY=FAKEKEYID2026NOV\n"
        "AWS_SECRET=recorded-fake-secret-2026-11\n"
        "AWS_REGION=us-east-1\n"
        "PUBLIC_BASE_URL=https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/\n"
    )
    assert err.startswith("WARNING: live credentials follow.")
    assert recorded_outputs == ["qa"]


def test_a_gallery_served_both_ways_gets_its_public_urls(monkeypatch, capsys):
    """publicBaseUrl (CloudFront's, once the stack serves pub/ there) and the S3 one served beside it."""
    outputs = json.loads(json.dumps(RECORDED))
    outputs["tenants"]["xmsqa1"] |= {
        "publicBaseUrl": "https://d111111abcdef8.cloudfront.net/xmsqa1/pub/",
        "s3PublicBaseUrl": "https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/",
    }
    monkeypatch.setattr(credentials, "fetch_stack_outputs", lambda stack, project_dir: outputs)
    assert main(["credentials", "xmsqa1", "--stack", "qa"], project_dir=fixture_project()) == 0
    assert capsys.readouterr().out.endswith(
        "AWS_REGION=us-east-1\n"
        "PUBLIC_BASE_URL=https://d111111abcdef8.cloudfront.net/xmsqa1/pub/\n"
        "S3_PUBLIC_BASE_URL=https://fusion-rms-xmsqa1.s3.us-east-1.amazonaws.com/pub/\n"
    )


def test_a_label_selects_another_key(recorded_outputs, capsys):
    assert main(["credentials", "xmsqa1", "--stack", "qa", "--label", "initial"], project_dir=fixture_project()) == 0
    assert "AWS_KEY=FAKEKEYIDINITIAL\nAWS_SECRET=recorded-fake-secret-initial\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme-dev", "--stack", "qa"], "tenant 'acme-dev' is not deployed in this stack (tenants: xmsqa1, xmsqa2)"),
        (["xmsqa2", "--stack", "qa", "--label", "2026-11"], "tenant 'xmsqa2' has no access key labelled '2026-11'"),
    ],
)
def test_unknown_tenants_and_labels_are_clear_errors(recorded_outputs, capsys, args, message):
    assert main(["credentials", *args], project_dir=fixture_project()) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err


def test_a_tenant_the_stack_does_not_declare_is_named_before_the_backend_is_asked(recorded_outputs, capsys):
    assert main(["credentials", "xmsqa3", "--stack", "qa"], project_dir=fixture_project()) == 2
    assert capsys.readouterr().err.startswith("credentials: no tenant 'xmsqa3' in stack qa (did you mean 'xmsqa")
    assert recorded_outputs == []


def test_values_are_shell_quoted():
    assert credentials.render_variables({"AWS_SECRET": "a b$c"}) == "AWS_SECRET='a b$c'\n"


def test_without_the_pulumi_cli_it_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["credentials", "xmsqa1", "--stack", "qa"], project_dir=fixture_project()) == 2
    assert "credentials: the Pulumi CLI is not installed" in capsys.readouterr().err


def test_a_failing_pulumi_cli_is_reported(monkeypatch, tmp_path, capsys):
    fake = tmp_path / "pulumi"
    fake.write_text("#!/bin/sh\necho 'error: no stack named qa found' >&2\nexit 255\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["credentials", "xmsqa1", "--stack", "qa"], project_dir=fixture_project()) == 2
    assert "error: no stack named qa found" in capsys.readouterr().err
