"""The bad-input suite: malformed registries and stack settings, run through the real program.

Each case asserts a clean refusal that names what is wrong and where (file, and tenant and field
where they apply), and that not one resource was registered.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROD_ACCOUNT, QA_ACCOUNT, assert_refused, replace_in, run_stack, write_file

XMSQA1 = "  - orgId: xmsqa1\n    environment: qa\n"
TENANTS, QA_FILE, PROD_FILE = "tenants.yaml", "Pulumi.qa.yaml", "Pulumi.prod.yaml"


@dataclass(frozen=True)
class BadInput:
    fragments: tuple[str, ...]
    edit: Callable[[Path], None] | None = None
    stack: str = "qa"
    run_options: dict[str, Any] = field(default_factory=dict)


def org_id(value: str) -> Callable[[Path], None]:
    return replace_in(TENANTS, "orgId: xmsqa1", f"orgId: {value}")


def xmsqa1_field(line: str) -> Callable[[Path], None]:
    return replace_in(TENANTS, XMSQA1, f"{XMSQA1}    {line}\n")


CASES = {
    # The YAML itself
    "broken yaml": BadInput(("tenants.yaml:", "not valid YAML"), write_file(TENANTS, "tenants:\n  - orgId: [xmsqa1\n")),
    "tab indentation": BadInput(("tenants.yaml:", "not valid YAML"), write_file(TENANTS, "tenants:\n\t- orgId: a\n")),
    "empty file": BadInput(("tenants.yaml: the file is empty",), write_file(TENANTS, "")),
    "only a comment": BadInput(("tenants.yaml: the file is empty",), write_file(TENANTS, "# nothing yet\n")),
    "top level is a list": BadInput(
        ("tenants.yaml: the file must hold a mapping with a `tenants:` list, not a list",),
        write_file(TENANTS, "- orgId: xmsqa1\n"),
    ),
    "tenants is a mapping": BadInput(
        ("tenants.yaml:1 field 'tenants': must be a list of tenants, not a mapping",),
        write_file(TENANTS, "tenants:\n  orgId: xmsqa1\n"),
    ),
    "tenants key missing": BadInput(
        ("tenants.yaml:1 field 'tenant': unknown field", "tenants.yaml:1 field 'tenants': required field is missing"),
        write_file(TENANTS, "tenant: []\n"),
    ),
    "a tenant is a string": BadInput(
        ("tenants.yaml tenants[0]: each tenant must be a mapping, not a string",),
        write_file(TENANTS, "tenants:\n  - xmsqa1\n"),
    ),
    # YAML 1.1 reads these unquoted orgIds as something else than a string
    "orgId no": BadInput(("tenants[0] field 'orgId'", "as the boolean false", 'quote it: orgId: "no"'), org_id("no")),
    "orgId yes": BadInput(("tenants[0] field 'orgId'", "as the boolean true"), org_id("yes")),
    "orgId off": BadInput(("tenants[0] field 'orgId'", "as the boolean false"), org_id("off")),
    "orgId octal": BadInput(
        ("tenants[0] field 'orgId'", "as the number 83", 'quote it: orgId: "0123"'), org_id("0123")
    ),
    "orgId hex": BadInput(("tenants[0] field 'orgId'", "as the number 31"), org_id("0x1F")),
    "orgId with underscores": BadInput(("tenants[0] field 'orgId'", "as the number 1000"), org_id("1_000")),
    "orgId null": BadInput(("tenants[0] field 'orgId'", "must be a string"), org_id("~")),
    # Duplicates
    "duplicate key in a tenant": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'environment': key 'environment' appears twice",),
        xmsqa1_field("environment: production"),
    ),
    "duplicate top-level key": BadInput(
        ("field 'tenants': key 'tenants' appears twice",),
        replace_in(TENANTS, "tenants:\n", "tenants: []\ntenants:\n"),
    ),
    "duplicate orgId": BadInput(
        ("tenants[1] (orgId 'xmsqa1') field 'orgId': duplicate orgId: tenants[0] already uses it",),
        replace_in(TENANTS, "orgId: xmsqa2", "orgId: xmsqa1"),
    ),
    # AWS naming rules
    "uppercase orgId": BadInput(
        ("tenants[0] (orgId 'XMSqa1') field 'orgId': 'XMSqa1' is not a valid orgId",), org_id("XMSqa1")
    ),
    "dot in orgId": BadInput(("field 'orgId': 'xms.qa1' is not a valid orgId",), org_id("xms.qa1")),
    "underscore in orgId": BadInput(("field 'orgId': 'xms_qa1' is not a valid orgId",), org_id("xms_qa1")),
    "leading hyphen": BadInput(("field 'orgId': '-xmsqa1' is not a valid orgId",), org_id("'-xmsqa1'")),
    "double hyphen": BadInput(("field 'orgId': 'xms--qa1' is not a valid orgId",), org_id("xms--qa1")),
    "empty orgId": BadInput(("tenants[0] field 'orgId': '' is not a valid orgId",), org_id('""')),
    "bucket name too long": BadInput(
        ("field 'orgId': bucket name", "is 64 characters; S3 allows 3 to 63"), org_id("x" * 53)
    ),
    "too long with the random suffix": BadInput(
        ("(orgId 'tradeshow-demo-", "is 64 characters", "with the 8-character random suffix"),
        replace_in(TENANTS, "orgId: tradeshow-demo", "orgId: tradeshow-demo-" + "x" * 29),
    ),
    "reserved suffix -s3alias": BadInput(
        ("(orgId 'shop-s3alias') field 'orgId'", "reserved suffix '-s3alias'"), org_id("shop-s3alias")
    ),
    "reserved prefix from the bucket prefix": BadInput(
        ("tenants[0] (orgId 'xmsqa1') field 'orgId'", "reserved prefix 'sthree-'"),
        run_options={"config": {"tenant-storage:bucketPrefix": "sthree"}},
    ),
    "IAM user name too long": BadInput(
        ("field 'orgId': IAM user name 'tenant-storage-user-", "is 65 characters; IAM allows 1 to 64"),
        org_id("x" * 45),
        run_options={
            "config": {"tenant-storage:bucketPrefix": "f", "tenant-storage:iamUserPrefix": "tenant-storage-user-"}
        },
    ),
    "huge orgId": BadInput(("field 'orgId'", "is 10011 characters"), org_id("x" * 10_000)),
    "huge environment": BadInput(
        ("field 'environment': 'qqqqq", "is not one of"),
        replace_in(TENANTS, "environment: qa", "environment: " + "q" * 10_000),
    ),
    # Fields
    "unknown field": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'enviroment': unknown field (did you mean 'environment'?)",),
        xmsqa1_field("enviroment: qa"),
    ),
    "missing orgId": BadInput(
        ("tenants[0] field 'orgId': required field is missing",), replace_in(TENANTS, XMSQA1, "  - environment: qa\n")
    ),
    "missing environment": BadInput(
        ("tenants[0] (orgId 'xmsqa1') field 'environment': required field is missing",),
        replace_in(TENANTS, XMSQA1, "  - orgId: xmsqa1\n"),
    ),
    "environment is a list": BadInput(
        ("(orgId 'xmsqa1') field 'environment'",), replace_in(TENANTS, "environment: qa", "environment: [qa]")
    ),
    "randomSuffix is a string": BadInput(
        ("(orgId 'tradeshow-demo') field 'randomSuffix': must be true or false, not the string 'maybe'",),
        replace_in(TENANTS, "randomSuffix: true", "randomSuffix: maybe"),
    ),
    "unknown environment": BadInput(
        ("(orgId 'xmsqa1') field 'environment': 'prod' is not one of",),
        replace_in(TENANTS, "environment: qa", "environment: prod"),
    ),
    "unknown profile": BadInput(
        ("(orgId 'xmsqa2') field 'profile': 'private' is not one of",),
        replace_in(TENANTS, "profile: app-storage", "profile: private"),
    ),
    # Access key labels
    "three access keys": BadInput(
        ("(orgId 'xmsqa1') field 'accessKeys': at most 2 access keys",), xmsqa1_field("accessKeys: [a, b, c]")
    ),
    "duplicate access key labels": BadInput(
        ("(orgId 'xmsqa1') field 'accessKeys': duplicate label",), xmsqa1_field("accessKeys: [a, a]")
    ),
    "bad access key label": BadInput(
        ("(orgId 'xmsqa1') field 'accessKeys': label 'Key_1' must be 1 to 32 lowercase letters",),
        xmsqa1_field("accessKeys: [Key_1]"),
    ),
    "date as access key label": BadInput(
        ("(orgId 'xmsqa1') field 'accessKeys': label 2026-11-27 must be a string (YAML reads it as a date)",),
        xmsqa1_field("accessKeys: [2026-11-27]"),
    ),
    "no access key label": BadInput(
        ("(orgId 'xmsqa1') field 'accessKeys': list at least one",), xmsqa1_field("accessKeys: []")
    ),
    # Environments and stacks
    "environment no stack hosts": BadInput(
        ("tenants.yaml tenants[3] (orgId 'tradeshow-demo') field 'environment': no stack hosts environment 'demo'",),
        replace_in(QA_FILE, "    - demo\n", ""),
    ),
    "environment hosted twice": BadInput(
        ("Pulumi.qa.yaml field 'tenant-storage:environments': environment 'staging' is also hosted by stack 'prod'",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n    - staging\n"),
    ),
    "mixed environment classes": BadInput(
        ("Pulumi.qa.yaml field 'tenant-storage:environments': mixes production-class environments (production)",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n    - production\n"),
    ),
    "unknown environment in a stack": BadInput(
        ("Pulumi.qa.yaml field 'tenant-storage:environments': 'test' is not one of",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n    - test\n"),
    ),
    "no environments": BadInput(
        ("Pulumi.prod.yaml field 'tenant-storage:environments': required and non-empty",),
        stack="prod",
        run_options={"config": {"tenant-storage:environments": None}},
    ),
    "allowedAccountIds missing": BadInput(
        ("Pulumi.qa.yaml field 'aws:allowedAccountIds': required and non-empty",),
        replace_in(QA_FILE, '  aws:allowedAccountIds:\n    - "222222222222"\n', ""),
    ),
    "allowedAccountIds empty": BadInput(
        ("Pulumi.qa.yaml field 'aws:allowedAccountIds': required and non-empty",),
        replace_in(QA_FILE, 'aws:allowedAccountIds:\n    - "222222222222"', "aws:allowedAccountIds: []"),
    ),
    "account id not a string": BadInput(
        ("Pulumi.qa.yaml field 'aws:allowedAccountIds': 222222222222 is not a 12-digit account id", "quoted string"),
        replace_in(QA_FILE, '"222222222222"', "222222222222"),
    ),
    "account shared by two stacks": BadInput(
        ("Pulumi.qa.yaml field 'aws:allowedAccountIds': account 111111111111 is also allowed for stack 'prod'",),
        replace_in(QA_FILE, '"222222222222"', '"222222222222"\n    - "111111111111"'),
    ),
    "region missing": BadInput(
        ("Pulumi.qa.yaml field 'aws:region': required",), replace_in(QA_FILE, "  aws:region: us-east-1\n", "")
    ),
    "unknown setting": BadInput(
        ("Pulumi.prod.yaml field 'tenant-storage:protectBucket': unknown setting",),
        replace_in(PROD_FILE, "tenant-storage:protectBuckets", "tenant-storage:protectBucket"),
    ),
    "protectBuckets not a boolean": BadInput(
        ("Pulumi.prod.yaml field 'tenant-storage:protectBuckets': must be true or false, not 'sometimes'",),
        replace_in(PROD_FILE, "tenant-storage:protectBuckets: true", "tenant-storage:protectBuckets: sometimes"),
        stack="prod",
    ),
    "expiry days zero": BadInput(
        ("Pulumi.qa.yaml field 'tenant-storage:noncurrentVersionExpirationDays': must be a whole number", "at least 1"),
        run_options={"config": {"tenant-storage:noncurrentVersionExpirationDays": "0"}},
    ),
    "bad shard": BadInput(
        ("Pulumi.qa.yaml field 'tenant-storage:shard': must be \"<index>/<count>\"",),
        run_options={"config": {"tenant-storage:shard": "3/2"}},
    ),
    # The caller
    "wrong account": BadInput(
        ("Pulumi.qa.yaml field 'aws:allowedAccountIds': the credentials belong to account 111111111111",),
        run_options={"account_id": PROD_ACCOUNT},
    ),
    "prod with the qa account": BadInput(
        ("Pulumi.prod.yaml field 'aws:allowedAccountIds': the credentials belong to account 222222222222",),
        stack="prod",
        run_options={"account_id": QA_ACCOUNT},
    ),
    "account root": BadInput(
        ("Pulumi.qa.yaml field 'caller': refusing to deploy as the account root",),
        run_options={"caller_arn": f"arn:aws:iam::{QA_ACCOUNT}:root"},
    ),
}


def test_the_suite_is_at_least_thirty_cases_strong():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_by_name_before_any_resource(project, case):
    if case.edit is not None:
        case.edit(project)
    assert_refused(run_stack(case.stack, project, **case.run_options), case.fragments)


def test_every_problem_in_every_file_is_reported_together(project):
    org_id("no")(project)
    replace_in(TENANTS, "profile: app-storage", "profile: private")(project)
    replace_in(QA_FILE, "    - demo\n", "    - demo\n    - production\n")(project)
    assert_refused(
        run_stack("qa", project),
        [
            "4 problems",
            "tenants[0] field 'orgId'",
            "(orgId 'xmsqa2') field 'profile'",
            "Pulumi.qa.yaml field 'tenant-storage:environments': mixes production-class",
            "Pulumi.qa.yaml field 'tenant-storage:environments': environment 'production' is also hosted",
        ],
    )


def test_the_caller_identity_is_not_even_asked_for_when_the_inputs_are_invalid(project):
    write_file(TENANTS, "")(project)
    run = run_stack("qa", project)
    assert_refused(run, ["the file is empty"])
    assert run.mocks.calls == []
