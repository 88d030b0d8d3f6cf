"""Every refusal of the real program: a clear error naming file, tenant and field, and no resource at all."""

from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from offline.runtime import ProgramRun
from tests.conftest import PROD_ACCOUNT, QA_ACCOUNT, run_stack


def replace_in(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        text = (project / name).read_text()
        assert old in text, f"{old!r} is not in {name}"
        (project / name).write_text(text.replace(old, new, 1))

    return edit


def write(name: str, text: str) -> Callable[[Path], None]:
    return lambda project: (project / name).write_text(text)


XMSQA1 = "  - orgId: xmsqa1\n    environment: qa\n"

REFUSALS = {
    "unknown field": (
        replace_in("tenants.yaml", XMSQA1, "  - orgId: xmsqa1\n    enviroment: qa\n    environment: qa\n"),
        ["tenants.yaml:6 tenants[0] (orgId 'xmsqa1') field 'enviroment': unknown field (did you mean 'environment'?)"],
    ),
    "missing field": (
        replace_in("tenants.yaml", XMSQA1, "  - orgId: xmsqa1\n"),
        ["tenants[0] (orgId 'xmsqa1') field 'environment': required field is missing"],
    ),
    "wrong type": (
        replace_in("tenants.yaml", "randomSuffix: true", "randomSuffix: 'maybe'"),
        ["(orgId 'tradeshow-demo') field 'randomSuffix': must be true or false"],
    ),
    "yaml boolean org id": (
        replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: no"),
        ["tenants[0] field 'orgId': must be a string", 'quote it: orgId: "no"'],
    ),
    "yaml octal org id": (
        replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: 0123"),
        ["tenants[0] field 'orgId'", "as the number 83", 'quote it: orgId: "0123"'],
    ),
    "duplicate org id": (
        replace_in("tenants.yaml", "orgId: xmsqa2", "orgId: xmsqa1"),
        ["tenants[1] (orgId 'xmsqa1') field 'orgId': duplicate orgId: tenants[0] already uses it"],
    ),
    "duplicate key": (
        replace_in("tenants.yaml", XMSQA1, XMSQA1 + "    environment: production\n"),
        ["tenants[0] (orgId 'xmsqa1') field 'environment': key 'environment' appears twice"],
    ),
    "bucket name too long": (
        replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: " + "x" * 53),
        ["field 'orgId': bucket name 'fusion-rms-xxx", "is 64 characters; S3 allows 3 to 63"],
    ),
    "reserved bucket suffix": (
        replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: xmsqa1-s3alias"),
        ["(orgId 'xmsqa1-s3alias') field 'orgId'", "reserved suffix '-s3alias'"],
    ),
    "unknown environment": (
        replace_in("tenants.yaml", "environment: qa", "environment: prod"),
        ["(orgId 'xmsqa1') field 'environment': 'prod' is not one of"],
    ),
    "unknown profile": (
        replace_in("tenants.yaml", "profile: app-storage", "profile: private"),
        ["(orgId 'xmsqa2') field 'profile': 'private' is not one of"],
    ),
    "empty file": (write("tenants.yaml", ""), ["tenants.yaml: the file is empty"]),
    "tenants not a list": (
        write("tenants.yaml", "tenants: xmsqa1\n"),
        ["tenants.yaml:1 field 'tenants': must be a list of tenants, not a string"],
    ),
    "environment no stack hosts": (
        replace_in("Pulumi.qa.yaml", "    - demo\n", ""),
        ["tenants.yaml tenants[3] (orgId 'tradeshow-demo') field 'environment': no stack hosts environment 'demo'"],
    ),
    "environment hosted twice": (
        replace_in("Pulumi.qa.yaml", "    - demo\n", "    - demo\n    - staging\n"),
        ["field 'tenant-storage:environments': environment 'staging' is also hosted by stack 'prod'"],
    ),
    "mixed environment classes": (
        replace_in("Pulumi.qa.yaml", "    - demo\n", "    - demo\n    - production\n"),
        ["Pulumi.qa.yaml field 'tenant-storage:environments': mixes production-class environments (production)"],
    ),
    "account shared by two stacks": (
        replace_in("Pulumi.qa.yaml", '"222222222222"', '"222222222222"\n    - "111111111111"'),
        ["Pulumi.qa.yaml field 'aws:allowedAccountIds': account 111111111111 is also allowed for stack 'prod'"],
    ),
    "allowed account ids missing": (
        replace_in("Pulumi.qa.yaml", '  aws:allowedAccountIds:\n    - "222222222222"\n', ""),
        ["Pulumi.qa.yaml field 'aws:allowedAccountIds': required and non-empty"],
    ),
    "allowed account ids empty": (
        replace_in("Pulumi.qa.yaml", 'aws:allowedAccountIds:\n    - "222222222222"', "aws:allowedAccountIds: []"),
        ["Pulumi.qa.yaml field 'aws:allowedAccountIds': required and non-empty"],
    ),
    "unknown stack setting": (
        replace_in("Pulumi.qa.yaml", "config:\n", "config:\n  tenant-storage:protectBucket: true\n"),
        ["Pulumi.qa.yaml field 'tenant-storage:protectBucket': unknown setting"],
    ),
}


def assert_refused(run: ProgramRun, fragments: list[str]) -> None:
    assert isinstance(run.error, pulumi.RunError), f"expected a refusal, got {run.error!r}"
    message = str(run.error)
    assert "nothing was deployed" in message
    for fragment in fragments:
        assert fragment in message
    assert run.registrations == [], "a resource was registered despite invalid input"


class TestInvalidInputIsRefusedBeforeAnyResource:
    @pytest.mark.parametrize(("edit", "fragments"), REFUSALS.values(), ids=REFUSALS.keys())
    def test_refusal(self, project, edit, fragments):
        edit(project)
        assert_refused(run_stack("qa", project), fragments)

    def test_every_problem_in_every_file_is_reported_together(self, project):
        replace_in("tenants.yaml", "orgId: xmsqa1", "orgId: no")(project)
        replace_in("tenants.yaml", "profile: app-storage", "profile: private")(project)
        replace_in("Pulumi.qa.yaml", "    - demo\n", "    - demo\n    - production\n")(project)
        run = run_stack("qa", project)
        assert_refused(
            run,
            [
                "4 problems",
                "tenants[0] field 'orgId'",
                "(orgId 'xmsqa2') field 'profile'",
                "Pulumi.qa.yaml field 'tenant-storage:environments': mixes production-class",
                "Pulumi.qa.yaml field 'tenant-storage:environments': environment 'production' is also hosted",
            ],
        )

    def test_the_caller_identity_is_not_even_asked_for_when_the_inputs_are_invalid(self, project):
        write("tenants.yaml", "")(project)
        run = run_stack("qa", project)
        assert_refused(run, ["the file is empty"])
        assert run.mocks.calls == []


class TestTheAccountGuard:
    def test_qa_refuses_the_production_account(self):
        run = run_stack("qa", account_id=PROD_ACCOUNT)
        assert_refused(
            run,
            ["Pulumi.qa.yaml field 'aws:allowedAccountIds': the credentials belong to account 111111111111"],
        )

    def test_prod_refuses_the_qa_account(self):
        assert_refused(run_stack("prod", account_id=QA_ACCOUNT), ["belong to account 222222222222"])

    @pytest.mark.parametrize("stack", ["qa", "prod"])
    def test_the_account_root_is_refused(self, stack):
        account = QA_ACCOUNT if stack == "qa" else PROD_ACCOUNT
        run = run_stack(stack, caller_arn=f"arn:aws:iam::{account}:root")
        assert_refused(run, [f"Pulumi.{stack}.yaml field 'caller': refusing to deploy as the account root"])

    def test_allowed_account_ids_overridden_to_nothing_is_refused(self):
        run = run_stack("qa", config={"aws:allowedAccountIds": None})
        assert_refused(run, ["field 'aws:allowedAccountIds': required and non-empty"])
