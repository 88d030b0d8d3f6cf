"""What every command that reads the live account shares: the stack's validated inputs, the caller's
account checked before anything else is asked, and AWS errors turned into one clear line (exit 2).

The commands are read-only towards AWS; they use the standard credential chain, and `--endpoint-url`
points every client (STS, S3, IAM) at an emulator instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalogue.readers import REFUSED
from tenant_storage.accounts import AccountClasses, caller_problems
from tenant_storage.errors import InvalidInput, counted, did_you_mean, printable, quoted
from tenant_storage.inputs import load_stack_inputs
from tenant_storage.registry import Tenant
from tenant_storage.stacks import StackSettings, read_stack_files, stack_names, unknown_stack

# Services with one endpoint in one region, whatever the stack's region (Cost Explorer's is us-east-1).
SERVICE_REGIONS = {"ce": "us-east-1"}
THROTTLING_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
DENIED_CODES = REFUSED  # a refusal: the caller needs a permission (catalogue/readers.py, one list)
# The credentials themselves are not good: every call would fail alike, so a command stops at the first.
CREDENTIAL_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch"}
)


class CommandFailed(Exception):
    """The command could not run; the message says why and what to do (exit status 2, or 1 for invalid inputs:
    a finding about the user's files, as every command reports it)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StackContext:
    settings: StackSettings
    classes: AccountClasses
    tenants: list[Tenant]


def load_stack(project_dir: Path, stack: str) -> StackContext:
    if problem := unknown_stack(project_dir, stack):
        raise CommandFailed(problem)
    files = read_stack_files(project_dir)
    try:
        inputs = load_stack_inputs(project_dir, stack, files[stack].values)
    except InvalidInput as error:
        listed = "".join(f"\n  - {problem}" for problem in error.problems)
        raise CommandFailed(
            f"the inputs are invalid ({counted(len(error.problems), 'problem')}); nothing was asked of AWS:{listed}",
            status=1,
        ) from error
    return StackContext(inputs.settings, inputs.account_classes, inputs.tenants)


def tenant_of(project_dir: Path, stack: str, org_id: str, tenants: list[Tenant]) -> Tenant:
    """The tenant `org_id` of the stack; when the stack has none, the error names the stacks that do."""
    tenant = next((t for t in tenants if t.org_id == org_id), None)
    if tenant is not None:
        return tenant
    elsewhere = []
    for other in (name for name in stack_names(project_dir) if name != stack):
        try:
            if any(t.org_id == org_id for t in load_stack(project_dir, other).tenants):
                elsewhere.append(other)
        except CommandFailed:
            continue  # another stack's invalid inputs are `validate`'s to report, not this command's
    if elsewhere:
        raise CommandFailed(f"no tenant {quoted(org_id)} in stack {stack}; it is in stack {', '.join(elsewhere)}")
    hosted = ", ".join(sorted(t.org_id for t in tenants))
    raise CommandFailed(
        f"no tenant {quoted(org_id)} in stack {stack}{did_you_mean(org_id, [t.org_id for t in tenants])} "
        f"(its tenants: {hosted or 'none'})"
    )


def endpoint_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint botocore accepts (None: it can): an http(s) URL with a host and a valid port."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it (ValueError when out of range or not a number)
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if parts.scheme not in ("http", "https"):
        if parts.scheme and parts.netloc:
            return f"uses {quoted(parts.scheme)}: an endpoint URL is http or https"
        return "is not an http or https URL: give its scheme"
    if not parts.hostname or any(char.isspace() for char in url):
        return "is not a valid URL: give a host without spaces"
    return None


class Aws:
    """Clients of one session, all pointed at `endpoint_url` when one is given."""

    def on_an_emulator(self, check: str, call: Callable[[], Any], unchecked: list[str]) -> Any:
        """`call`, or None when an emulator (--endpoint-url) cannot answer it: the check is then added to
        `unchecked`, as not made. Against AWS every error stands."""
        from botocore.exceptions import EndpointConnectionError
        from botocore.parsers import ResponseParserError

        try:
            return call()
        except (EndpointConnectionError, ResponseParserError) as error:
            if self.endpoint_url is None:
                raise
            unchecked.append(f"{check}: the endpoint could not answer ({type(error).__name__})")
            return None
        except Exception as error:
            # An API the emulator does not have (moto answers 404 for CloudFront's cache policies and key value
            # store data): not a finding about the account. AWS never answers a listing with a bare 404.
            if self.endpoint_url is None or str(getattr(error, "response", {}).get("Error", {}).get("Code")) != "404":
                raise
            unchecked.append(f"{check}: the endpoint does not implement it (404)")
            return None

    def __init__(self, session: Any = None, endpoint_url: str | None = None) -> None:
        if session is None:
            import boto3

            session = boto3.session.Session()
        self.session = session
        # botocore sends every call to AWS_ENDPOINT_URL when it is set: that endpoint is not AWS either, and the
        # header names it (the service-specific AWS_ENDPOINT_URL_<SERVICE> variables are refused by the deploy).
        configured = (
            os.environ.get("AWS_ENDPOINT_URL")
            if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true"  # botocore's own switch
            else None
        )
        self.endpoint_origin = (
            "--endpoint-url (or $TENANT_STORAGE_ENDPOINT_URL)" if endpoint_url is not None else "$AWS_ENDPOINT_URL"
        )
        self.endpoint_url = endpoint_url if endpoint_url is not None else configured or None
        # The stack's region, once a command knows it: clients then need no default region of the caller's.
        self.region: str | None = None
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._caller: tuple[str, str] | None = None
        self._bucket_names: list[str] | None = None

    def client(self, service: str) -> Any:
        if self.endpoint_url is not None and (problem := endpoint_problem(self.endpoint_url)):
            raise CommandFailed(
                f"{self.endpoint_origin} {quoted(self.endpoint_url)} {problem}, for example http://127.0.0.1:5000"
            )
        region = SERVICE_REGIONS.get(service) or self.region or self.session.region_name
        # Keyed by region too: a command that goes through stacks of several regions keeps one session.
        if (service, region) not in self._clients:
            from botocore.config import Config

            # Throttling is retried with backoff before it becomes the one-line error of aws_errors. The
            # caller's own retry settings (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, or the profile's) and a session's
            # client settings take precedence.
            botocore_session = getattr(self.session, "_session", None)
            attempts, mode = _configured_retries(botocore_session)
            config = Config(retries={"mode": mode or "adaptive", "total_max_attempts": attempts or 10})
            if botocore_session is not None and (default := botocore_session.get_default_client_config()):
                config = config.merge(default)
            self._clients[service, region] = self.session.client(
                service, endpoint_url=self.endpoint_url, region_name=region, config=config
            )
        return self._clients[service, region]

    def bucket_names(self) -> list[str]:
        """Every bucket of the caller's account (ListBuckets, paginated), listed once per session."""
        if self._bucket_names is None:
            pages = self.client("s3").get_paginator("list_buckets").paginate()
            self._bucket_names = [bucket["Name"] for page in pages for bucket in page["Buckets"]]
        return self._bucket_names

    def caller(self) -> tuple[str, str]:
        """The caller's account and ARN, asked of STS once per session."""
        if self._caller is None:
            identity = self.client("sts").get_caller_identity()
            self._caller = (str(identity["Account"]), str(identity["Arn"]))
        return self._caller


def _configured_retries(botocore_session: Any) -> tuple[int | None, str | None]:
    """The retry attempts and mode the caller set in the environment or the profile (None: not set)."""
    if botocore_session is None:
        return None, None
    attempts = botocore_session.get_config_variable("max_attempts")
    mode = os.environ.get("AWS_RETRY_MODE") or botocore_session.get_scoped_config().get("retry_mode")
    return (int(attempts) if attempts else None), mode


def verify_account(aws: Aws, context: StackContext, command: str) -> str:
    """The caller's account, once it is one the stack may use; printed, so the reader knows where it ran."""
    aws.region = aws.region or context.settings.region  # no region of the caller's is needed
    account, arn = aws.caller()
    problems = caller_problems(context.settings, context.classes, account, arn)
    if problems:
        raise CommandFailed(
            f"the credentials are for account {account} ({arn}), which stack {context.settings.stack!r} may not "
            "use:\n  " + "\n  ".join(str(problem) for problem in problems)
        )
    where = f" at {aws.endpoint_url}" if aws.endpoint_url else ""  # an emulator (the sandbox) is not AWS
    print(f"{command}: account {account} ({arn}){where}, stack {context.settings.stack}", file=sys.stderr)
    return account


READ_ACCESS = "read access to S3 and IAM (for example the ReadOnlyAccess managed policy)"


@contextmanager
def aws_errors(access: str = READ_ACCESS) -> Iterator[None]:
    """AWS and network errors as CommandFailed, each with what to do about it."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
    from botocore.parsers import ResponseParserError

    try:
        yield
    except NoCredentialsError as error:
        raise CommandFailed(
            "no AWS credentials found (environment, ~/.aws/credentials or config, SSO, or an instance role); "
            "sign in to the stack's account first, for example `aws sso login`"
        ) from error
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code"))
        operation = error.operation_name
        if code in THROTTLING_CODES:
            raise CommandFailed(f"AWS is throttling the requests ({code} on {operation}); retry in a minute") from error
        if code in DENIED_CODES:
            raise CommandFailed(f"access denied to {operation} ({code}): the command needs {access}") from error
        raise CommandFailed(f"{operation} failed: {error}") from error
    except EndpointConnectionError as error:
        raise CommandFailed(f"cannot reach AWS: {error}") from error
    except BotoCoreError as error:
        raise CommandFailed(f"the command could not run: {error}") from error
    except ResponseParserError as error:  # an endpoint that is not AWS (nor an emulator): a web page, a proxy
        said = printable(str(error))[:300]
        raise CommandFailed(f"the endpoint did not answer as AWS does: {said}") from error


def run_command(command: str, body: Callable[[], int], access: str = READ_ACCESS) -> int:
    """Run `body`, turning CommandFailed into a message on stderr and exit status 2."""
    try:
        with aws_errors(access):
            return body()
    except CommandFailed as error:
        print(f"{command}: {error}", file=sys.stderr)
        return error.status


def human_bytes(count: int) -> str:
    """A size (or a change of size) for people, in binary units: `512 B`, `-1.5 GiB`."""
    size = float(abs(count))
    sign = "-" if count < 0 else ""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{sign}{int(size)} B" if unit == "B" else f"{sign}{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
