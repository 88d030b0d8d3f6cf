"""The bad-input suite: hostile registries, stack files, account files, engine config and callers.

Each case runs through the real program under the mock monitor and asserts a clean refusal that names
what is wrong and where (file, line where there is one, tenant and field where they apply), with not
one resource registered. Every case without a live-caller twist also runs through the command line
(`plan` and `validate`): exit status 1, the same message, never a traceback.
"""

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from tests.conftest import (
    PROD_ACCOUNT,
    QA_ACCOUNT,
    assert_refused,
    make_project,
    replace_in,
    run_stack,
    with_settings,
    write_file,
)

XMSQA1 = "  - orgId: xmsqa1\n    environment: qa\n"
TENANTS, QA_FILE, PROD_FILE, ACCOUNTS = "tenants.yaml", "Pulumi.qa.yaml", "Pulumi.prod.yaml", "accounts.yaml"
FULLWIDTH_ACCOUNT = "\uff12" * 12
QA_SETTINGS = '  aws:region: us-east-1\n  aws:allowedAccountIds:\n    - "222222222222"\n'


@dataclass(frozen=True)
class BadInput:
    fragments: tuple[str, ...]
    edit: Callable[[Path], None] | None = None
    stack: str = "qa"
    settings: dict[str, Any] = field(default_factory=dict)  # written into the stack file, as a user would
    run_options: dict[str, Any] = field(default_factory=dict)  # the live caller or the engine's config
    through_cli: bool = True


def org_id(value: str) -> Callable[[Path], None]:
    return replace_in(TENANTS, "orgId: xmsqa1", f"orgId: {value}")


def xmsqa1_field(line: str) -> Callable[[Path], None]:
    return replace_in(TENANTS, XMSQA1, f"{XMSQA1}    {line}\n")


def new_tenant(*lines: str) -> Callable[[Path], None]:
    return replace_in(
        TENANTS, XMSQA1, XMSQA1 + "".join(f"    {line}\n" if i else f"  - {line}\n" for i, line in enumerate(lines))
    )


def write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        (project / name).write_bytes(data)

    return edit


def both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        for one in edits:
            one(project)

    return edit


ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))
    + "tenants: *j\n"
)

CASES = {
    # The YAML itself
    "broken yaml": BadInput(("tenants.yaml:3: not valid YAML",), write_file(TENANTS, "tenants:\n  - orgId: [xmsqa1\n")),
    "tab indentation": BadInput(("tenants.yaml:2: not valid YAML",), write_file(TENANTS, "tenants:\n\t- orgId: a\n")),
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
    "not UTF-8": BadInput(
        ("tenants.yaml:2: is not UTF-8 text (byte 0xe9); save it as UTF-8",),
        write_bytes(TENANTS, b"tenants:\n  - orgId: caf\xe9\n    environment: qa\n"),
    ),
    "larger than 4 MiB": BadInput(
        ("tenants.yaml: is larger than 4,194,304 bytes",), write_file(TENANTS, "tenants:\n" + "#" * 5_000_000 + "\n")
    ),
    "alias bomb": BadInput(
        ("tenants.yaml:1: anchor &a is not allowed", "tenants.yaml:11: alias *j is not allowed"),
        write_file(TENANTS, ALIAS_BOMB),
    ),
    "anchor and alias": BadInput(
        ("tenants.yaml:6: anchor &qa is not allowed", "tenants.yaml:8: alias *qa is not allowed"),
        both(
            replace_in(TENANTS, "environment: qa", "environment: &qa qa"),
            replace_in(TENANTS, "environment: qa\n    profile", "environment: *qa\n    profile"),
        ),
    ),
    "merge key": BadInput(
        ("tenants.yaml:7: merge keys (<<) are not allowed",), xmsqa1_field("<<: {profile: app-storage}")
    ),
    "binary tag": BadInput(("tenants.yaml:5: tag !!binary is not allowed",), org_id("!!binary eG1zcWEx")),
    "set tag": BadInput(("tenants.yaml:7: tag !!set is not allowed",), xmsqa1_field("accessKeys: !!set {a, b}")),
    "python tag": BadInput(
        ("tenants.yaml:5: tag !!python/object/apply:os.system is not allowed",),
        org_id("!!python/object/apply:os.system [echo]"),
    ),
    "custom tag": BadInput(
        ("tenants.yaml:6: tag !env is not allowed",), replace_in(TENANTS, "environment: qa", "environment: !env qa")
    ),
    # Issue 32: every problem at once, on the right field, one reading of booleans
    "an unknown top-level key beside a bad orgId": BadInput(
        (
            "tenants.yaml:6 tenants[0] (orgId 'XMS_BAD') field 'orgId': 'XMS_BAD' is not a valid orgId",
            "tenants.yaml:4 field 'tenant': unknown field (did you mean 'tenants'?)",
        ),
        both(org_id("XMS_BAD"), replace_in(TENANTS, "tenants:\n", "tenant: []\ntenants:\n")),
    ),
    "a bucketName that is another tenant's bucket": BadInput(
        (
            "tenants.yaml:9 tenants[1] (orgId 'xmsqa2') field 'bucketName': bucket name 'fusion-rms-xmsqa1' is "
            "also the bucket of tenants[0]",
        ),
        replace_in(
            TENANTS,
            "  - orgId: xmsqa2\n    environment: qa\n",
            "  - orgId: xmsqa2\n    environment: qa\n    bucketName: fusion-rms-xmsqa1\n    adopt: true\n",
        ),
    ),
    "a tab before a tenant": BadInput(
        ("tenants.yaml:5: not valid YAML: a tab at column 1: YAML indents with spaces only",),
        replace_in(TENANTS, "  - orgId: xmsqa1", "\t- orgId: xmsqa1"),
    ),
    "a YAML 1.1 boolean where a string setting is meant": BadInput(
        (
            "Pulumi.qa.yaml:3 field 'tenant-storage:bucketPrefix': YAML 1.1 reads 'on' as a boolean and Pulumi "
            '(YAML 1.2) as a string: quote it, "on"',
        ),
        replace_in(QA_FILE, "config:\n", "config:\n  tenant-storage:bucketPrefix: on\n"),
    ),
    "randomSuffix yes": BadInput(
        ("tenants.yaml:16 tenants[3] (orgId 'tradeshow-demo') field 'randomSuffix': write 'yes' as true or false",),
        replace_in(
            TENANTS, "    environment: demo\n    randomSuffix: true", "    environment: demo\n    randomSuffix: yes"
        ),
    ),
    # YAML 1.1 reads these unquoted orgIds as something else than a string
    "orgId no": BadInput(
        ("tenants.yaml:5 tenants[0] field 'orgId'", "as the boolean false", 'quote it: orgId: "no"'), org_id("no")
    ),
    "orgId off": BadInput(("tenants.yaml:5 tenants[0] field 'orgId'", "as the boolean false"), org_id("off")),
    "orgId octal": BadInput(
        ("tenants.yaml:5 tenants[0] field 'orgId'", "as the number 83", 'quote it: orgId: "0123"'), org_id("0123")
    ),
    "orgId hex": BadInput(("tenants.yaml:5 tenants[0] field 'orgId'", "as the number 31"), org_id("0x1F")),
    "orgId with underscores": BadInput(
        ("tenants.yaml:5 tenants[0] field 'orgId'", "as the number 1000"), org_id("1_000")
    ),
    "orgId null": BadInput(("tenants.yaml:5 tenants[0] field 'orgId'", "must be a string"), org_id("~")),
    "orgId with a trailing newline": BadInput(
        ("tenants.yaml:5 tenants[0] (orgId 'xmsqa1\\n') field 'orgId': 'xmsqa1\\n' is not a valid orgId",),
        org_id('"xmsqa1\\n"'),
    ),
    "orgId with fullwidth digits": BadInput(
        ("tenants.yaml:5 tenants[0] (orgId 'xms\uff11') field 'orgId': 'xms\uff11' is not a valid orgId",),
        org_id("xms\uff11"),
    ),
    # Field names: only the documented ones
    "python field name org_id": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'org_id': unknown field (did you mean 'orgId'?)",),
        xmsqa1_field("org_id: xmsqa2"),
    ),
    "python field name random_suffix": BadInput(
        (
            "tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'random_suffix': unknown field "
            "(did you mean 'randomSuffix'?)",
        ),
        xmsqa1_field("random_suffix: true"),
    ),
    "unknown field": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'enviroment': unknown field (did you mean 'environment'?)",),
        xmsqa1_field("enviroment: qa"),
    ),
    # Duplicates
    "duplicate key in a tenant": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'environment': key 'environment' appears twice",),
        xmsqa1_field("environment: production"),
    ),
    "duplicate top-level key": BadInput(
        ("tenants.yaml:5 field 'tenants': key 'tenants' appears twice",),
        replace_in(TENANTS, "tenants:\n", "tenants: []\ntenants:\n"),
    ),
    "duplicate orgId": BadInput(
        ("tenants.yaml:7 tenants[1] (orgId 'xmsqa1') field 'orgId': duplicate orgId: tenants[0] already uses it",),
        replace_in(TENANTS, "orgId: xmsqa2", "orgId: xmsqa1"),
    ),
    # AWS naming rules
    "uppercase orgId": BadInput(
        ("tenants.yaml:5 tenants[0] (orgId 'XMSqa1') field 'orgId': 'XMSqa1' is not a valid orgId",), org_id("XMSqa1")
    ),
    "dot in orgId": BadInput(("tenants.yaml:5 tenants[0] (orgId 'xms.qa1') field 'orgId'",), org_id("xms.qa1")),
    "double hyphen": BadInput(("field 'orgId': 'xms--qa1' is not a valid orgId",), org_id("xms--qa1")),
    "empty orgId": BadInput(("tenants.yaml:5 tenants[0] field 'orgId': '' is not a valid orgId",), org_id('""')),
    "bucket name too long": BadInput(
        ("tenants.yaml:5 tenants[0]", "field 'orgId': bucket name", "is 64 characters; S3 allows 3 to 63"),
        org_id("x" * 53),
    ),
    "too long with the random suffix": BadInput(
        (
            "tenants.yaml:14 tenants[3] (orgId 'tradeshow-demo-",
            "is 64 characters",
            "with the 8-character random suffix",
        ),
        replace_in(TENANTS, "orgId: tradeshow-demo", "orgId: tradeshow-demo-" + "x" * 29),
    ),
    "reserved suffix -s3alias": BadInput(
        ("tenants.yaml:5 tenants[0] (orgId 'shop-s3alias') field 'orgId'", "must not end with '-s3alias'"),
        org_id("shop-s3alias"),
    ),
    "reserved suffix -an (the account regional namespace)": BadInput(
        ("tenants.yaml:5 tenants[0] (orgId 'shop-an') field 'orgId'", "which S3 reserves for the account regional"),
        org_id("shop-an"),
    ),
    "reserved prefix from the bucket prefix": BadInput(
        (
            "Pulumi.qa.yaml:9 field 'tenant-storage:bucketPrefix': 'sthree' would start every bucket name with the "
            "reserved prefix 'sthree-'",
        ),
        settings={"tenant-storage:bucketPrefix": "sthree"},
    ),
    "bucket prefix with a trailing newline": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:bucketPrefix': 'fusion\\n' must be lowercase letters",),
        settings={"tenant-storage:bucketPrefix": "fusion\n"},
    ),
    "IAM user name too long": BadInput(
        ("tenants.yaml:5 tenants[0]", "field 'orgId': IAM user name 'tenant-storage-user-", "is 65 characters"),
        org_id("x" * 45),
        settings={"tenant-storage:bucketPrefix": "fus", "tenant-storage:iamUserPrefix": "tenant-storage-user-"},
    ),
    "huge orgId": BadInput(("tenants.yaml:5 tenants[0]", "is 10011 characters"), org_id("x" * 10_000)),
    "huge environment": BadInput(
        ("tenants.yaml:6 tenants[0] (orgId 'xmsqa1') field 'environment': 'qqqqq", "is not one of"),
        replace_in(TENANTS, "environment: qa", "environment: " + "q" * 10_000),
    ),
    # One bucket, one tenant; one name, one resource
    "an orgId spelling another tenant's suffixed bucket": BadInput(
        (
            "tenants[0] (orgId 'globex-16931deb') field 'orgId': bucket name 'fusion-rms-globex-16931deb' is one that "
            "tenants[6] (orgId 'globex', stack 'prod') may draw with its random suffix",
        ),
        org_id("globex-16931deb"),
    ),
    "two stacks' prefixes spelling one bucket": BadInput(
        (
            "tenants.yaml:17 tenants[4] (orgId 'acme') field 'orgId': bucket name 'fusion-rms-acme' is also the "
            "bucket of tenants[0] (orgId 'rms-acme', stack 'qa')",
        ),
        org_id("rms-acme"),
        settings={"tenant-storage:bucketPrefix": "fusion"},
    ),
    "a key label spelling another tenant's key": BadInput(
        (
            "tenants.yaml:9 tenants[1] (orgId 'xmsqa1-access-key-foo') field 'accessKeys': label 'foo-access-key' "
            "must not contain 'access-key'",
        ),
        both(
            xmsqa1_field("accessKeys: [initial, foo-access-key]"),
            new_tenant("orgId: xmsqa1-access-key-foo", "environment: qa"),
        ),
    ),
    # S3's account regional namespace
    "randomSuffix in an account regional stack": BadInput(
        (
            "tenants.yaml:16 tenants[3] (orgId 'tradeshow-demo') field 'randomSuffix': randomSuffix and the account "
            "regional namespace exclude each other",
            "(the stack's bucketNamespace is account-regional)",
        ),
        settings={"tenant-storage:bucketNamespace": "account-regional"},
    ),
    "randomSuffix with the tenant's own account regional namespace": BadInput(
        (
            "tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'randomSuffix': randomSuffix and the account regional "
            "namespace exclude each other",
        ),
        xmsqa1_field("randomSuffix: true\n    bucketNamespace: account-regional"),
    ),
    "bucketName with bucketNamespace": BadInput(
        ("tenants.yaml:8 tenants[0] (orgId 'xmsqa1') field 'bucketName': bucketName and bucketNamespace exclude",),
        xmsqa1_field("adopt: true\n    bucketName: old-media\n    bucketNamespace: global"),
    ),
    "an unknown bucketNamespace": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'bucketNamespace'",),
        xmsqa1_field("bucketNamespace: regional"),
    ),
    # publicAccess (docs/public-access.md)
    "a private profile served through CloudFront": BadInput(
        (
            "tenants.yaml:10 tenants[1] (orgId 'xmsqa2') field 'publicAccess': only the media-gallery profile has a "
            "public folder; app-storage keeps every object private",
        ),
        replace_in(TENANTS, "    profile: app-storage\n", "    profile: app-storage\n    publicAccess: cloudfront\n"),
    ),
    "an empty publicAccess": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'publicAccess': is empty; remove the field",),
        xmsqa1_field("publicAccess:"),
    ),
    "an empty bucketNamespace on a private profile": BadInput(
        ("tenants.yaml:10 tenants[1] (orgId 'xmsqa2') field 'bucketNamespace': is empty",),
        replace_in(TENANTS, "    profile: app-storage\n", "    profile: app-storage\n    bucketNamespace:\n"),
    ),
    "an unknown publicAccess": BadInput(
        (
            "tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'publicAccess': 'cdn' is not one of bucket-policy, "
            "bucket-policy-and-cloudfront, cloudfront",
        ),
        xmsqa1_field("publicAccess: cdn"),
    ),
    "an unknown stack publicAccess": BadInput(
        (
            "Pulumi.qa.yaml:9 field 'tenant-storage:publicAccess': 'cloud-front' is not one of bucket-policy, "
            "bucket-policy-and-cloudfront, cloudfront (did you mean 'cloudfront'?)",
        ),
        settings={"tenant-storage:publicAccess": "cloud-front"},
    ),
    "a stack served through CloudFront outside the commercial partition": BadInput(
        (
            "field 'tenant-storage:publicAccess': the stack's region is in the aws-us-gov partition, where "
            "tenant-storage does not serve pub/ through CloudFront (only in aws); keep bucket-policy",
        ),
        settings={"aws:region": "us-gov-west-1", "tenant-storage:publicAccess": "cloudfront"},
    ),
    "a tenant served through CloudFront outside the commercial partition": BadInput(
        (
            "tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'publicAccess': the stack's region is in the aws-cn "
            "partition",
        ),
        xmsqa1_field("publicAccess: bucket-policy-and-cloudfront"),
        settings={"aws:region": "cn-north-1"},
    ),
    "a prefix too long for the stack's CloudFront names": BadInput(
        ("field 'tenant-storage:publicAccess': the stack's CloudFront names would be", "CloudFront allows 64"),
        settings={"tenant-storage:bucketPrefix": "p" * 61, "tenant-storage:publicAccess": "cloudfront"},
    ),
    "an unknown stack bucketNamespace": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:bucketNamespace': 'regional' is not one of global, account-regional",),
        settings={"tenant-storage:bucketNamespace": "regional"},
    ),
    "the account regional namespace with two accounts": BadInput(
        ("field 'tenant-storage:bucketNamespace': the account regional namespace names one account",),
        replace_in(QA_FILE, '    - "222222222222"\n', '    - "222222222222"\n    - "333333333333"\n'),
        settings={"tenant-storage:bucketNamespace": "account-regional"},
    ),
    "an orgId too long for the account regional namespace": BadInput(
        (
            "tenants.yaml:5 tenants[0] (orgId 'xmsqa1" + "x" * 21 + "') field 'orgId'",
            "is 64 characters; S3 allows 3 to 63 (in the account regional namespace)",
        ),
        org_id("xmsqa1" + "x" * 21),
        settings={"tenant-storage:bucketNamespace": "account-regional"},
    ),
    "the account regional namespace where S3 has none": BadInput(
        (
            "field 'tenant-storage:bucketNamespace': S3 has no account regional namespace in me-south-1 "
            "(Middle East (Bahrain)); use global there",
        ),
        replace_in(QA_FILE, "aws:region: us-east-1", "aws:region: me-south-1"),
        settings={"tenant-storage:bucketNamespace": "account-regional"},
    ),
    "a tenant in the account regional namespace where S3 has none": BadInput(
        (
            "tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'bucketNamespace': S3 has no account regional "
            "namespace in me-central-1",
        ),
        both(
            replace_in(QA_FILE, "aws:region: us-east-1", "aws:region: me-central-1"),
            xmsqa1_field("bucketNamespace: account-regional"),
        ),
    ),
    "a tenant in the namespace of a stack of two accounts": BadInput(
        (
            "tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'bucketNamespace': the account regional namespace "
            "names one account",
        ),
        both(
            replace_in(QA_FILE, '    - "222222222222"\n', '    - "222222222222"\n    - "333333333333"\n'),
            xmsqa1_field("bucketNamespace: account-regional"),
        ),
    ),
    "an adopted name in another account's namespace": BadInput(
        (
            "tenants.yaml:8 tenants[0] (orgId 'xmsqa1') field 'bucketName': 'legacy-xmsqa1-999999999999-eu-west-1-an' "
            "is in the regional namespace of account 999999999999 in eu-west-1, not this stack's (222222222222 in "
            "us-east-1)",
        ),
        xmsqa1_field("adopt: true\n    bucketName: legacy-xmsqa1-999999999999-eu-west-1-an"),
    ),
    "an unknown accessLogBucketNamespace": BadInput(
        ("field 'tenant-storage:accessLogBucketNamespace': 'an' is not one of global, account-regional",),
        settings={"tenant-storage:accessLogBucketNamespace": "an"},
    ),
    "the log bucket in the account regional namespace with two accounts": BadInput(
        ("field 'tenant-storage:accessLogBucketNamespace': the account regional namespace names one account",),
        replace_in(QA_FILE, '    - "222222222222"\n', '    - "222222222222"\n    - "333333333333"\n'),
        settings={"tenant-storage:accessLogBucketNamespace": "account-regional"},
    ),
    "a retained log bucket in the namespace the log bucket is in": BadInput(
        (
            "field 'tenant-storage:retainedAccessLogBucketNamespace': the access-log bucket is in the global "
            "namespace itself",
        ),
        settings={"tenant-storage:retainedAccessLogBucketNamespace": "global"},
    ),
    "a bucket prefix too long for the log bucket in the namespace": BadInput(
        (
            "field 'tenant-storage:bucketPrefix': the stack's access-log bucket would break S3's rules: bucket name",
            "is 64 characters",
        ),
        settings={
            "tenant-storage:bucketPrefix": "f" * 25,
            "tenant-storage:accessLogBucketNamespace": "account-regional",
        },
    ),
    # Adoption
    "bucketName without adopt": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'bucketName': bucketName pins the name of an existing",),
        xmsqa1_field("bucketName: old-media"),
    ),
    "adopting a random suffix": BadInput(
        ("tenants.yaml:17 tenants[3] (orgId 'tradeshow-demo') field 'adopt': an adopted bucket's suffix is not ours",),
        replace_in(
            TENANTS, "randomSuffix: true\n  - orgId: acme\n", "randomSuffix: true\n    adopt: true\n  - orgId: acme\n"
        ),
    ),
    "a pinned name another tenant has": BadInput(
        ("bucket name 'fusion-rms-xmsqa2' is also the bucket of",),
        xmsqa1_field("adopt: true\n    bucketName: fusion-rms-xmsqa2"),
    ),
    "a pinned name in the stacks' own namespace (a sibling shard's access-log bucket)": BadInput(
        (
            "tenants.yaml:8 tenants[0] (orgId 'xmsqa1') field 'bucketName': bucket name "
            "'fusion-rms--access-logs-222222222222-us-east-1-shard1' holds '--', which only the stacks' own buckets",
        ),
        xmsqa1_field("adopt: true\n    bucketName: fusion-rms--access-logs-222222222222-us-east-1-shard1"),
    ),
    "a registry that is a symbolic link": BadInput(
        ("tenants.yaml: is a symbolic link; the tenant registry must be a regular file",),
        lambda project: _link(project),
    ),
    # Access key labels
    "three access keys": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'accessKeys': at most 2 access keys",),
        xmsqa1_field("accessKeys: [a, b, c]"),
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
    # Environments and stacks
    "environment no stack hosts": BadInput(
        ("tenants.yaml:14 tenants[3] (orgId 'tradeshow-demo') field 'environment': no stack hosts environment 'demo'",),
        replace_in(QA_FILE, "    - demo\n", ""),
    ),
    "environment hosted twice": BadInput(
        (
            "Pulumi.staging.yaml:4 field 'tenant-storage:environments': environment 'staging' is also hosted by "
            "stack 'prod'",
        ),
        write_file(
            "Pulumi.staging.yaml",
            'config:\n  aws:region: us-east-1\n  aws:allowedAccountIds: ["111111111111"]\n'
            "  tenant-storage:environments: [staging]\n",
        ),
    ),
    "mixed environment classes": BadInput(
        ("Pulumi.qa.yaml:6 field 'tenant-storage:environments': mixes production-class environments (production)",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n    - production\n"),
    ),
    "unknown environment in a stack": BadInput(
        ("Pulumi.qa.yaml:6 field 'tenant-storage:environments': 'test' is not one of",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n    - test\n"),
    ),
    "no environments": BadInput(
        ("Pulumi.prod.yaml field 'tenant-storage:environments': required and non-empty",),
        stack="prod",
        settings={"tenant-storage:environments": None},
    ),
    "allowedAccountIds missing": BadInput(
        ("Pulumi.qa.yaml field 'aws:allowedAccountIds': required and non-empty",),
        replace_in(QA_FILE, '  aws:allowedAccountIds:\n    - "222222222222"\n', ""),
    ),
    "allowedAccountIds empty": BadInput(
        ("Pulumi.qa.yaml:4 field 'aws:allowedAccountIds': required and non-empty",),
        replace_in(QA_FILE, 'aws:allowedAccountIds:\n    - "222222222222"', "aws:allowedAccountIds: []"),
    ),
    "account id not a string": BadInput(
        ("Pulumi.qa.yaml:4 field 'aws:allowedAccountIds': 222222222222 is not a 12-digit account id", "quoted string"),
        replace_in(QA_FILE, '"222222222222"', "222222222222"),
    ),
    "account id in fullwidth digits": BadInput(
        (f"Pulumi.qa.yaml:4 field 'aws:allowedAccountIds': '{FULLWIDTH_ACCOUNT}' is not a 12-digit account id",),
        replace_in(QA_FILE, '"222222222222"', f'"{FULLWIDTH_ACCOUNT}"'),
    ),
    "account shared by two stacks": BadInput(
        ("Pulumi.qa.yaml:4 field 'aws:allowedAccountIds': account 111111111111 is also allowed for stack 'prod'",),
        replace_in(QA_FILE, '"222222222222"', '"222222222222"\n    - "111111111111"'),
    ),
    "region missing": BadInput(
        ("Pulumi.qa.yaml field 'aws:region': required",), replace_in(QA_FILE, "  aws:region: us-east-1\n", "")
    ),
    "region of an unsupported partition": BadInput(
        (
            "Pulumi.qa.yaml:3 field 'aws:region': 'us-iso-east-1' is a region of the aws-iso partition, which "
            "tenant-storage does not support",
        ),
        replace_in(QA_FILE, "aws:region: us-east-1", "aws:region: us-iso-east-1"),
    ),
    "not a region": BadInput(
        ("Pulumi.qa.yaml:3 field 'aws:region': 'moon' is not an AWS region name",),
        replace_in(QA_FILE, "aws:region: us-east-1", "aws:region: moon"),
    ),
    "a made-up region": BadInput(
        ("Pulumi.qa.yaml:3 field 'aws:region': 'us-fake-9' is not a region botocore knows",),
        replace_in(QA_FILE, "aws:region: us-east-1", "aws:region: us-fake-9"),
    ),
    "an empty bucket prefix": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:bucketPrefix': is empty; remove the setting for its default",),
        settings={"tenant-storage:bucketPrefix": ""},
    ),
    "a setting without a value": BadInput(
        ("Pulumi.prod.yaml:10 field 'tenant-storage:protectBuckets': has no value",),
        replace_in(PROD_FILE, "tenant-storage:protectBuckets: true", "tenant-storage:protectBuckets: ~"),
        stack="prod",
    ),
    "a misspelt provider setting": BadInput(
        ("Pulumi.qa.yaml:9 field 'aws:regoin': the AWS provider has no setting 'regoin' (did you mean 'region'?)",),
        settings={"aws:regoin": "us-east-1"},
    ),
    "a setting nothing reads": BadInput(
        ("Pulumi.qa.yaml:9 field 'foo:bar': nothing reads the namespace 'foo'",), settings={"foo:bar": "1"}
    ),
    "a setting without a namespace": BadInput(
        ("Pulumi.qa.yaml:9 field 'shard': a setting name is <namespace>:<name>",), settings={"shard": "0/2"}
    ),
    "an unknown encrypted setting": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:shrd': unknown setting (did you mean 'shard'?)",),
        settings={"tenant-storage:shrd": {"secure": "AAABAdGVzdA=="}},
    ),
    "a negative shard": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:shard': must be \"<index>/<count>\" with 0 <= index < count",),
        settings={"tenant-storage:shard": -1},
    ),
    "a list for a bucket name": BadInput(
        ("tenants.yaml:7 tenants[0] (orgId 'xmsqa1') field 'bucketName': must be a string, not the list ['a', 'b']",),
        xmsqa1_field("bucketName: [a, b]"),
    ),
    "a mapping for an environment": BadInput(
        ("field 'environment': must be one of production, staging, qa, development, demo, not the mapping {'qa': 1}",),
        replace_in(TENANTS, "environment: qa", "environment: {qa: 1}"),
    ),
    "a number for a bucket namespace": BadInput(
        ("field 'bucketNamespace': must be one of global, account-regional, not the number 7",),
        xmsqa1_field("bucketNamespace: 7"),
    ),
    "a huge value": BadInput(
        ("field 'profile': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not one of",),
        xmsqa1_field("profile: " + "x" * 100_000),
    ),
    "a YAML 1.1 boolean in a stack file": BadInput(
        ("Pulumi.prod.yaml:10 field 'tenant-storage:protectBuckets': write 'yes' as true or false",),
        replace_in(PROD_FILE, "tenant-storage:protectBuckets: true", "tenant-storage:protectBuckets: yes"),
        stack="prod",
    ),
    "a sexagesimal number in a stack file": BadInput(
        ("Pulumi.qa.yaml:10 field 'tenant-storage:noncurrentVersionExpirationDays': write '1:00' as a plain whole",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  tenant-storage:noncurrentVersionExpirationDays: 1:00\n"),
    ),
    "an STS endpoint override in a stack file": BadInput(
        ("Pulumi.qa.yaml:10 field 'aws:endpoints': refused: this provider setting can change whose credentials",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:endpoints:\n    - sts: http://127.0.0.1:9\n"),
    ),
    "an STS endpoint override from the engine": BadInput(
        (
            "Pulumi.qa.yaml field 'aws:endpoints': the Pulumi engine passed",
            "but the committed file says nothing",
            "(refused: this provider setting can change whose credentials sign the AWS calls",
        ),
        run_options={"engine_config": {"aws:endpoints": '[{"sts": "http://127.0.0.1:9"}]'}},
        through_cli=False,
    ),
    # Every input of a deploy is known, compared or refused (issue 29): an allowlist, not a list of the bad.
    "a credentials file and a profile that win over the job's own credentials": BadInput(
        (
            "Pulumi.qa.yaml:10 field 'aws:sharedCredentialsFiles': refused: this provider setting",
            "Pulumi.qa.yaml:12 field 'aws:profile': refused: this provider setting",
        ),
        replace_in(
            QA_FILE, "    - demo\n", "    - demo\n  aws:sharedCredentialsFiles:\n    - ./creds\n  aws:profile: x\n"
        ),
    ),
    "roles to assume": BadInput(
        ("field 'aws:assumeRoles': refused",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:assumeRoles:\n    - roleArn: arn:aws:iam::1:role/x\n"),
    ),
    "default tags that every tenant user would carry as principal tags": BadInput(
        ("field 'aws:defaultTags': refused",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:defaultTags:\n    tags:\n      TenantBucket: '*'\n"),
    ),
    "ignored tags that the group policy relies on": BadInput(
        ("field 'aws:ignoreTags': refused",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:ignoreTags:\n    keys: [TenantBucket]\n"),
    ),
    "another instance metadata endpoint": BadInput(
        ("field 'aws:ec2MetadataServiceEndpoint': refused",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:ec2MetadataServiceEndpoint: http://127.0.0.1:9\n"),
    ),
    "a refused provider setting written as a secret": BadInput(
        ("Pulumi.qa.yaml:10 field 'aws:endpoints': refused: this provider setting",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:endpoints:\n    secure: AAABAMockCiphertext\n"),
    ),
    "an accepted provider setting written as a secret": BadInput(
        ("Pulumi.qa.yaml:10 field 'aws:maxRetries': must not be an encrypted secret",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:maxRetries:\n    secure: AAABAMockCiphertext\n"),
    ),
    "a secret nested in an accepted provider setting": BadInput(
        ("Pulumi.qa.yaml:10 field 'aws:forbiddenAccountIds': must not be an encrypted secret",),
        replace_in(
            QA_FILE, "    - demo\n", "    - demo\n  aws:forbiddenAccountIds:\n    - secure: AAABAMockCiphertext\n"
        ),
    ),
    "an engine setting": BadInput(
        ("field 'pulumi:disable-default-providers': refused: the engine setting",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  pulumi:disable-default-providers: [aws]\n"),
    ),
    "an ESC environment imported by the stack file": BadInput(
        ("Pulumi.qa.yaml:10 field 'environment': refused: a Pulumi ESC import",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\nenvironment:\n  - tenant-storage/prod-overrides\n"),
    ),
    "a stack-file key Pulumi does not read": BadInput(
        ("Pulumi.qa.yaml:10 field 'secretsprovder': Pulumi reads no stack-file key 'secretsprovder' (did you mean",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\nsecretsprovder: awskms://alias/x\n"),
    ),
    "a provider credential from the engine (an ESC environment)": BadInput(
        ("Pulumi.qa.yaml field 'aws:profile': the Pulumi engine passed 'prod' but the committed file says nothing",),
        run_options={"engine_config": {"aws:profile": "prod"}},
        through_cli=False,
    ),
    "an STS endpoint in the deploy's environment": BadInput(
        ("environment variable AWS_ENDPOINT_URL_STS: refused: it can send the AWS calls elsewhere",),
        run_options={"environment": {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9", "NO_PROXY": "x"}},
        through_cli=False,
    ),
    "a proxy and a CA bundle in the deploy's environment": BadInput(
        ("environment variable AWS_CA_BUNDLE: refused", "environment variable https_proxy: refused"),
        run_options={"environment": {"https_proxy": "http://127.0.0.1:9", "AWS_CA_BUNDLE": "attacker-ca.pem"}},
        through_cli=False,
    ),
    "project-level settings in Pulumi.yaml": BadInput(
        ("Pulumi.yaml:12 field 'config': refused: project-level settings reach every stack",),
        replace_in("Pulumi.yaml", "  refresh: always\n", "  refresh: always\nconfig:\n  aws:profile: prod\n"),
    ),
    "stack files read from another folder": BadInput(
        ("Pulumi.yaml:12 field 'stackConfigDir': refused: the Pulumi CLI would read stack files from another folder",),
        replace_in("Pulumi.yaml", "  refresh: always\n", "  refresh: always\nstackConfigDir: elsewhere\n"),
    ),
    "refresh turned off": BadInput(
        ("Pulumi.yaml:8 field 'options': must be exactly refresh: always", "it says {refresh: never}"),
        replace_in("Pulumi.yaml", "  refresh: always\n", "  refresh: never\n"),
    ),
    "another entry point": BadInput(
        ("Pulumi.yaml:12 field 'main': refused: the program is __main__.py",),
        replace_in("Pulumi.yaml", "  refresh: always\n", "  refresh: always\nmain: elsewhere/\n"),
    ),
    "the runtime without the uv toolchain": BadInput(
        ("Pulumi.yaml:3 field 'runtime': must be python with the uv toolchain",),
        replace_in("Pulumi.yaml", "    toolchain: uv\n", "    toolchain: pip\n    virtualenv: /opt/elsewhere\n"),
    ),
    "a Pulumi.json that the CLI reads before Pulumi.yaml": BadInput(
        ("Pulumi.json: the Pulumi CLI would read this file",),
        write_file("Pulumi.json", '{"name": "tenant-storage", "runtime": "python"}\n'),
    ),
    "a quoted region from the engine": BadInput(
        ("Pulumi.qa.yaml:3 field 'aws:region': the Pulumi engine passed '\"us-east-1\"'",),
        run_options={"engine_config": {"aws:region": '"us-east-1"'}},
        through_cli=False,
    ),
    "a stack file name that is not a stack name": BadInput(
        ("Pulumi.qa b.yaml: is not a valid stack file name",),
        write_file("Pulumi.qa b.yaml", "config: {}\n"),
    ),
    "nesting a thousand levels deep": BadInput(
        ("tenants.yaml:7: nests deeper than 16 levels",), xmsqa1_field("x: " + "{a: " * 1000 + "1" + "}" * 1000)
    ),
    "nesting in a stack file": BadInput(
        ("Pulumi.qa.yaml:10: nests deeper than 16 levels",),
        replace_in(QA_FILE, "    - demo\n", "    - demo\n  aws:foo: " + "[" * 990 + "]" * 990 + "\n"),
    ),
    "two shards' user prefixes spelling one IAM user": BadInput(
        (
            "tenants.yaml:3 tenants[1] (orgId 'btenant1') field 'orgId': IAM user 'rms_btenant1' in account "
            "222222222222 is also the user of tenants[0] (orgId 'tenant1', stack 'qa-b') (IAM names ignore case)",
        ),
        both(
            write_file(
                TENANTS,
                "tenants:\n  - {orgId: tenant1, environment: qa}\n  - {orgId: btenant1, environment: qa}\n"
                "  - {orgId: acme, environment: production}\n",
            ),
            replace_in(QA_FILE, "    - demo\n", '    - demo\n  tenant-storage:shard: "0/2"\n'),
            write_file(
                "Pulumi.qa-b.yaml",
                'config:\n  aws:region: us-east-1\n  aws:allowedAccountIds: ["222222222222"]\n'
                '  tenant-storage:environments: [qa, development, demo]\n  tenant-storage:shard: "1/2"\n'
                "  tenant-storage:iamUserPrefix: rms_B\n",
            ),
        ),
    ),
    "more tenants than IAM allows users in one account": BadInput(
        ("tenants.yaml: account 222222222222 would hold 5,001 tenant IAM users; IAM allows 5,000",),
        write_file(TENANTS, "tenants:\n" + "".join(f"  - {{orgId: t{n}, environment: qa}}\n" for n in range(5001))),
    ),
    "unknown setting": BadInput(
        ("Pulumi.prod.yaml:10 field 'tenant-storage:protectBucket': unknown setting",),
        replace_in(PROD_FILE, "tenant-storage:protectBuckets", "tenant-storage:protectBucket"),
    ),
    "protectBuckets not a boolean": BadInput(
        ("Pulumi.prod.yaml:10 field 'tenant-storage:protectBuckets': must be true or false, not 'sometimes'",),
        replace_in(PROD_FILE, "tenant-storage:protectBuckets: true", "tenant-storage:protectBuckets: sometimes"),
        stack="prod",
    ),
    "protectBuckets false in production": BadInput(
        (
            "Pulumi.prod.yaml:10 field 'tenant-storage:protectBuckets': production and staging buckets are always "
            "protected",
        ),
        replace_in(PROD_FILE, "tenant-storage:protectBuckets: true", "tenant-storage:protectBuckets: false"),
        stack="prod",
    ),
    "a key administrator that is not an IAM principal's ARN": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:keyAdministratorArn': 'github-deploy' is not the ARN of an IAM role",),
        settings={"tenant-storage:keyAdministratorArn": "github-deploy"},
    ),
    "a key administrator of another account": BadInput(
        (
            "Pulumi.qa.yaml:9 field 'tenant-storage:keyAdministratorArn': arn:aws:iam::111111111111:role/deploy is "
            "of account 111111111111, which aws:allowedAccountIds does not hold",
        ),
        settings={"tenant-storage:keyAdministratorArn": "arn:aws:iam::111111111111:role/deploy"},
    ),
    "a key administrator of another partition": BadInput(
        ("field 'tenant-storage:keyAdministratorArn': arn:aws-cn:iam::222222222222:role/deploy is in the partition",),
        settings={"tenant-storage:keyAdministratorArn": "arn:aws-cn:iam::222222222222:role/deploy"},
    ),
    "expiry days zero": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:noncurrentVersionExpirationDays': must be a whole number",),
        settings={"tenant-storage:noncurrentVersionExpirationDays": 0},
    ),
    "expiry days superscript two": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:noncurrentVersionExpirationDays': must be a whole number", "'²'"),
        settings={"tenant-storage:noncurrentVersionExpirationDays": "²"},
    ),
    "expiry days of a trillion": BadInput(
        (
            "Pulumi.qa.yaml:9 field 'tenant-storage:noncurrentVersionExpirationDays': must be a whole number of days "
            "from 1 to 36500",
        ),
        settings={"tenant-storage:noncurrentVersionExpirationDays": 10**12},
    ),
    "an unknown private bucket encryption": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:privateBucketEncryption': 'none' is not one of sse-kms, sse-s3",),
        settings={"tenant-storage:privateBucketEncryption": "none"},
    ),
    "access logs kept zero days": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:accessLogRetentionDays': must be a whole number of days",),
        settings={"tenant-storage:accessLogRetentionDays": 0},
    ),
    "a prefix too long for the access-log bucket": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:bucketPrefix': the stack's access-log bucket would break S3's rules",),
        settings={"tenant-storage:bucketPrefix": "p" * 30},
    ),
    "bad shard": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:shard': must be \"<index>/<count>\"",),
        settings={"tenant-storage:shard": "3/2"},
    ),
    "a million shards": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:shard': must be \"<index>/<count>\" with 0 <= index < count <= 64",),
        settings={"tenant-storage:shard": "0/1000000"},
    ),
    "a hundred billion shards": BadInput(
        ("Pulumi.qa.yaml:9 field 'tenant-storage:shard'",), settings={"tenant-storage:shard": "0/100000000000"}
    ),
    "an encrypted setting": BadInput(
        ("Pulumi.qa.yaml:3 field 'tenant-storage:bucketPrefix': must not be an encrypted secret",),
        replace_in(
            QA_FILE, "  aws:region", "  tenant-storage:bucketPrefix:\n    secure: AAABAMockCiphertext\n  aws:region"
        ),
    ),
    "a broken third stack file": BadInput(
        ("Pulumi.demo.yaml:3: not valid YAML",), write_file("Pulumi.demo.yaml", "config:\n  aws:region: [us-east-1\n")
    ),
    "a stack file named all": BadInput(
        ("Pulumi.all.yaml: is not a valid stack file name: 'all' is not a stack name: --stack all means every stack",),
        write_file("Pulumi.all.yaml", "config:\n  aws:region: us-east-1\n"),
    ),
    "a stack file named like an option": BadInput(
        ("Pulumi.-x.yaml: is not a valid stack file name: a stack name must not start with a hyphen",),
        write_file("Pulumi.-x.yaml", "config:\n  aws:region: us-east-1\n"),
    ),
    "a third stack file that is a list": BadInput(
        ("Pulumi.demo.yaml: a stack file must hold a mapping with a `config:` mapping",),
        write_file("Pulumi.demo.yaml", "- config\n"),
    ),
    "a third stack file that is not UTF-8": BadInput(
        ("Pulumi.demo.yaml:1: is not UTF-8 text",), write_bytes("Pulumi.demo.yaml", b"config: \xff\n")
    ),
    # The account split: JSON text, engine config and accounts.yaml
    "JSON text moving production into the QA account": BadInput(
        (
            "Pulumi.prod.yaml:6 field 'tenant-storage:environments': environment 'production' is also hosted by "
            "stack 'evil'",
            "Pulumi.evil.yaml:3 field 'aws:allowedAccountIds': account 222222222222 is a nonProductionClass account in "
            "accounts.yaml, but this stack hosts production, which need a productionClass account",
        ),
        write_file(
            "Pulumi.evil.yaml",
            "config:\n  aws:region: us-east-1\n  aws:allowedAccountIds: '[\"222222222222\"]'\n"
            "  tenant-storage:environments: '[\"production\"]'\n",
        ),
    ),
    "QA stack allowed into the production account": BadInput(
        (
            "Pulumi.qa.yaml:4 field 'aws:allowedAccountIds': account 111111111111 is a productionClass account in "
            "accounts.yaml, but this stack hosts qa, development, demo",
        ),
        both(
            replace_in(QA_FILE, '"222222222222"', '"111111111111"'),
            replace_in(PROD_FILE, '"111111111111"', '"333333333333"'),
            write_file(
                ACCOUNTS, 'productionClass: ["111111111111", "333333333333"]\nnonProductionClass: ["222222222222"]\n'
            ),
        ),
    ),
    "engine config from elsewhere": BadInput(
        (
            "Pulumi.qa.yaml:6 field 'tenant-storage:environments': the Pulumi engine passed '[\"production\"]' but the "
            "committed file says",
            "not from ESC environments, Pulumi.yaml or --config-file",
        ),
        run_options={"engine_config": {"tenant-storage:environments": '["production"]'}},
        through_cli=False,
    ),
    "engine config for a stack without a file": BadInput(
        ("Pulumi.other.yaml: missing: every stack is declared by a committed stack file",),
        stack="other",
        run_options={"account_id": QA_ACCOUNT, "engine_config": {"aws:region": "us-east-1"}},
        through_cli=False,
    ),
    "accounts.yaml missing": BadInput(("accounts.yaml: missing",), lambda project: os.remove(project / ACCOUNTS)),
    "an account in both classes": BadInput(
        ("accounts.yaml:2 field 'nonProductionClass': account 111111111111 is in both classes",),
        write_file(
            ACCOUNTS, 'productionClass: ["111111111111"]\nnonProductionClass: ["222222222222", "111111111111"]\n'
        ),
    ),
    "a misspelt class in accounts.yaml": BadInput(
        ("accounts.yaml:1 field 'productionClas': unknown key (did you mean 'productionClass'?)",),
        write_file(ACCOUNTS, 'productionClas: ["111111111111"]\nnonProductionClass: ["222222222222"]\n'),
    ),
    "an unquoted account in accounts.yaml": BadInput(
        ("accounts.yaml:1 field 'productionClass': 111111111111 is not a 12-digit account id written as a quoted",),
        write_file(ACCOUNTS, 'productionClass: [111111111111]\nnonProductionClass: ["222222222222"]\n'),
    ),
    # The caller
    "wrong account": BadInput(
        (
            "Pulumi.qa.yaml field 'aws:allowedAccountIds': the credentials belong to account 111111111111",
            "accounts.yaml field 'nonProductionClass': the credentials belong to account 111111111111, which is a "
            "productionClass account",
        ),
        run_options={"account_id": PROD_ACCOUNT},
        through_cli=False,
    ),
    "prod with the qa account": BadInput(
        ("Pulumi.prod.yaml field 'aws:allowedAccountIds': the credentials belong to account 222222222222",),
        stack="prod",
        run_options={"account_id": QA_ACCOUNT},
        through_cli=False,
    ),
    "a caller account in neither class": BadInput(
        (
            "Pulumi.qa.yaml:4 field 'aws:allowedAccountIds': account 222222222222 is in neither class in "
            "accounts.yaml, but this stack hosts qa, development, demo, which need a nonProductionClass account",
        ),
        write_file(ACCOUNTS, 'productionClass: ["111111111111"]\nnonProductionClass: []\n'),
    ),
    "account root": BadInput(
        ("Pulumi.qa.yaml field 'caller': refusing to deploy as the account root",),
        run_options={"caller_arn": f"arn:aws:iam::{QA_ACCOUNT}:root"},
        through_cli=False,
    ),
}


def _link(project: Path) -> None:
    """tenants.yaml becomes a link to a valid registry elsewhere: valid text, read through a link."""
    target = project.parent / "elsewhere.yaml"
    target.write_bytes((project / TENANTS).read_bytes())
    (project / TENANTS).unlink()
    (project / TENANTS).symlink_to(target)


def prepare(project: Path, case: BadInput) -> Path:
    if case.edit is not None:
        case.edit(project)
    return with_settings(project, case.stack, case.settings) if case.settings else project


def test_the_suite_is_at_least_forty_cases_strong():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_by_name_before_any_resource(project, case):
    project = prepare(project, case)
    assert_refused(run_stack(case.stack, project, **case.run_options), case.fragments)


CLI_CASES = {name: case for name, case in CASES.items() if case.through_cli}


@pytest.mark.parametrize("case", CLI_CASES.values(), ids=CLI_CASES.keys())
def test_the_command_line_refuses_it_with_exit_1_and_no_traceback(project, case, capsys):
    project = prepare(project, case)
    assert main(["plan", "--stack", case.stack], project_dir=project) == 1
    plan = capsys.readouterr()
    assert main(["validate"], project_dir=project) == 1
    validate = capsys.readouterr()
    for output in (plan, validate):
        assert "Traceback" not in output.out + output.err
    caller_independent = [fragment for fragment in case.fragments if "credentials belong" not in fragment]
    for fragment in caller_independent:
        assert fragment in plan.out, f"{fragment!r} is not in the plan:\n{plan.out}"


LIVE_COMMANDS = {
    "audit": [],
    "discover": [],
    "preflight": [],
    "check-names": [],
    "usage": [],
    "ci-roles": ["--repository", "my-org/tenant-storage"],
    "restore": ["xmsqa2", "--to", "2026-11-30T10:00:00Z"],
    "credentials": ["xmsqa2"],
    "sandbox": [],
}


def test_every_command_that_reads_a_stack_is_listed_here():
    from cli.main import build_parser, commands_of

    takes_a_stack = {
        name
        for name, parser in commands_of(build_parser()).items()
        if any("--stack" in action.option_strings for action in parser._actions)
    }
    assert takes_a_stack - {"plan"} == set(LIVE_COMMANDS)


@pytest.mark.parametrize("command", LIVE_COMMANDS)
def test_a_command_on_invalid_inputs_prints_every_problem_and_exits_1(project, command, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no Pulumi CLI: credentials must not get that far
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    org_id("BAD")(project)
    arguments = [command, *LIVE_COMMANDS[command], "--stack", "qa"]
    assert main(arguments, project_dir=project) == 1
    err = capsys.readouterr().err
    assert "tenants.yaml:5 tenants[0] (orgId 'BAD') field 'orgId': 'BAD' is not a valid orgId" in err, err
    assert "Traceback" not in err


def test_every_problem_in_every_file_is_reported_together(project):
    org_id("no")(project)
    replace_in(TENANTS, "profile: app-storage", "profile: private")(project)
    replace_in(QA_FILE, "    - demo\n", "    - demo\n    - production\n")(project)
    assert_refused(
        run_stack("qa", project),
        [
            "3 problems",
            "tenants.yaml:5 tenants[0] field 'orgId'",
            "tenants.yaml:9 tenants[1] (orgId 'xmsqa2') field 'profile'",
            "Pulumi.qa.yaml:6 field 'tenant-storage:environments': mixes production-class",
        ],
    )


def test_the_caller_identity_is_not_even_asked_for_when_the_inputs_are_invalid(project):
    write_file(TENANTS, "")(project)
    run = run_stack("qa", project)
    assert_refused(run, ["the file is empty"])
    assert run.mocks.calls == []


BOMBS = {
    "alias bomb": ALIAS_BOMB,
    "deep nesting": "tenants: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "a million tenants of one character": "tenants:\n" + "- a\n" * 1_000_000,
}


def _limit_memory() -> None:
    limit = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.slow  # a process per bomb, one of them a 4 MiB registry: `make test` only
@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_bombs_are_refused_within_bounded_memory(tmp_path, text):
    """`validate` in a process capped at 2 GiB of address space: an expanding bomb would be killed."""
    project = make_project(tmp_path / "project")
    (project / TENANTS).write_text(text)
    command = [
        sys.executable,
        "-c",
        f"from pathlib import Path; from cli.main import main; "
        f"raise SystemExit(main(['validate'], project_dir=Path({str(project)!r})))",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "tenants.yaml" in result.stderr
