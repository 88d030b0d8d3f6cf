"""Every command that reads the live account fails cleanly, with exit 2 and a message that says what
to do, when it cannot run: no credentials, the wrong account, throttling, access denied, no network."""

from collections.abc import Iterator

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from live.audit import run_audit
from live.aws import Aws
from live.check_names import run_check_names
from live.discover import run_discover
from live.restore import run_restore
from tests.conftest import PROD_ACCOUNT, QA_ACCOUNT, fixture_project, reset_emulator, use_account


def check_names(endpoint, session):
    return run_check_names(fixture_project(), "qa", endpoint, session=session)


def discover(endpoint, session):
    return run_discover(fixture_project(), "qa", "yaml", endpoint, session=session)


def audit(endpoint, session):
    return run_audit(fixture_project(), "qa", "text", endpoint, session=session)


def restore(endpoint, session):
    # The suffixed tenant: its bucket is looked up first (ListBuckets), as the other commands list buckets.
    return run_restore(
        fixture_project(), "qa", "tradeshow-demo", "2026-11-30T10:00:00Z", "", False, False, None, endpoint, session
    )


COMMANDS = {"check-names": check_names, "discover": discover, "audit": audit, "restore": restore}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_):
        yield self._body


def answering(status: int, code: str, event: str) -> boto3.session.Session:
    """A session whose first call of `event` gets an AWS error response."""
    session = boto3.session.Session(region_name="us-east-1")
    session._session.set_default_client_config(Config(retries={"max_attempts": 1}))

    def respond(request, **_):
        body = f"<ErrorResponse><Error><Code>{code}</Code><Message>m</Message></Error></ErrorResponse>".encode()
        return AWSResponse(request.url, status, {}, _Raw(body))

    session.events.register(event, respond)
    return session


@pytest.fixture
def signed_in(moto_server, monkeypatch) -> str:
    reset_emulator(moto_server)
    use_account(monkeypatch, moto_server, QA_ACCOUNT)
    return moto_server


@pytest.mark.parametrize("command", COMMANDS)
def test_no_credentials(command, moto_server, monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert COMMANDS[command](moto_server, boto3.session.Session(region_name="us-east-1")) == 2
    assert f"{command}: no AWS credentials found" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_the_wrong_account(command, signed_in, monkeypatch, capsys):
    use_account(monkeypatch, signed_in, PROD_ACCOUNT)
    assert COMMANDS[command](signed_in, boto3.session.Session(region_name="us-east-1")) == 2
    assert f"{command}: the credentials are for account {PROD_ACCOUNT}" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_throttling(command, signed_in, capsys):
    session = answering(400, "Throttling", "before-send.sts.GetCallerIdentity")
    assert COMMANDS[command](signed_in, session) == 2
    assert f"{command}: AWS is throttling the requests (Throttling on GetCallerIdentity)" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_access_denied(command, signed_in, capsys):
    session = answering(403, "AccessDenied", "before-send.s3.ListBuckets")
    assert COMMANDS[command](signed_in, session) == 2
    err = capsys.readouterr().err
    # check-names says which permission it needs; the others name the refused call.
    assert (
        "ListBuckets was refused (AccessDenied): the check needs s3:ListAllMyBuckets" in err
        if command == "check-names"
        else f"{command}: access denied to ListBuckets (AccessDenied)" in err
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_no_network(command, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    session = boto3.session.Session(region_name="us-east-1")
    session._session.set_default_client_config(Config(retries={"max_attempts": 1}, connect_timeout=2))
    assert COMMANDS[command]("http://127.0.0.1:9", session) == 2
    assert f"{command}: cannot reach AWS" in capsys.readouterr().err


class TestRetries:
    def test_throttling_is_retried_adaptively_ten_times_by_default(self, monkeypatch):
        monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
        monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        retries = Aws(boto3.session.Session(region_name="us-east-1")).client("s3").meta.config.retries
        assert (retries["mode"], retries["total_max_attempts"]) == ("adaptive", 10)

    def test_the_callers_own_retry_settings_win(self, monkeypatch):
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
        monkeypatch.setenv("AWS_RETRY_MODE", "standard")
        retries = Aws(boto3.session.Session(region_name="us-east-1")).client("s3").meta.config.retries
        assert (retries["mode"], retries["total_max_attempts"]) == ("standard", 3)


@pytest.fixture
def a_web_page() -> Iterator[str]:
    """An endpoint that is not AWS: a web server answering every request with an HTML page."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b"<!doctype html><title>404</title>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = _answer  # noqa: N815 - http.server's names

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("command", COMMANDS)
def test_an_endpoint_that_is_not_aws_is_said_in_one_line(command, a_web_page, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    session = boto3.session.Session(region_name="us-east-1")
    assert COMMANDS[command](a_web_page, session) == 2
    err = capsys.readouterr().err
    assert "the endpoint did not answer as AWS does" in err
    assert "Traceback" not in err


def test_an_empty_endpoint_variable_is_refused_not_read_as_aws(capsys, monkeypatch):
    from cli.main import main

    monkeypatch.setenv("TENANT_STORAGE_ENDPOINT_URL", "")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    assert main(["audit", "--stack", "qa"], fixture_project()) == 2
    assert "--endpoint-url (or $TENANT_STORAGE_ENDPOINT_URL) ''" in capsys.readouterr().err


def test_botocores_own_endpoint_variable_is_named_as_not_aws(deployed, capsys, monkeypatch):
    """AWS_ENDPOINT_URL sends every call elsewhere: the header says where, as for --endpoint-url."""
    from cli.main import main

    monkeypatch.setenv("AWS_ENDPOINT_URL", deployed)
    assert main(["check-names", "--stack", "qa"], fixture_project()) == 0
    assert f") at {deployed}, stack qa" in capsys.readouterr().err


def test_botocores_switch_that_ignores_its_endpoint_variable_is_honoured(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert Aws(boto3.session.Session(region_name="us-east-1")).endpoint_url == "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert Aws(boto3.session.Session(region_name="us-east-1")).endpoint_url is None
