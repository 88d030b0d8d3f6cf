"""The review gate, as a table: each change to the inputs, the risk classes `plan --base` derives from what the
deploy would do, and the exit status a pull-request check acts on.

Every scenario starts from the fixture project committed as the base (some also commit a changed base), edits
the working tree as a user would, and runs `plan --base HEAD --format json`. The classes listed are exactly
the classes found: a class that appears when it should not (a false alarm) fails the scenario as surely as
one that is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from cli.main import main
from review.program import PROJECT_DIR
from tests.conftest import FIXTURE_INPUTS, replace_in

# Each case commits a scratch repository and plans the whole fleet at its base and head: `make test` only.
pytestmark = pytest.mark.slow

Edit = Callable[[Path], None]

XMSQA1 = "  - orgId: xmsqa1\n    environment: qa\n"
XMSQA2 = "  - orgId: xmsqa2\n    environment: qa\n    profile: app-storage\n"
ACME = "  - orgId: acme\n    environment: production\n"
MOCKED_SUFFIX = "593b536b"  # what the offline plan prints for tradeshow-demo's random suffix


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def commit(repo: Path, message: str = "base") -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", message)


def add_tenant(text: str) -> Edit:
    return replace_in("tenants.yaml", XMSQA1, XMSQA1 + text)


def stack_setting(stack: str, key: str, value: object) -> Edit:
    def edit(repo: Path) -> None:
        path = repo / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        if value is None:
            document["config"].pop(key, None)
        else:
            document["config"][key] = value
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    return edit


def in_base(*edits: Edit) -> Edit:
    """Edits committed as the base revision, before the scenario's own edits."""

    def edit(repo: Path) -> None:
        for each in edits:
            each(repo)
        commit(repo, "changed base")

    return edit


def write_bytes(name: str, data: bytes) -> Edit:
    def edit(repo: Path) -> None:
        (repo / name).write_bytes(data)

    return edit


def symlink(name: str) -> Edit:
    """`name` becomes a link to a copy of itself elsewhere: the same text, read through a link."""

    def edit(repo: Path) -> None:
        target = repo.parent / f"elsewhere-{name}"
        target.write_bytes((repo / name).read_bytes())
        (repo / name).unlink()
        os.symlink(target, repo / name)

    return edit


def remove(name: str) -> Edit:
    def edit(repo: Path) -> None:
        (repo / name).unlink()

    return edit


def rename(old: str, new: str) -> Edit:
    def edit(repo: Path) -> None:
        (repo / old).rename(repo / new)

    return edit


def restore(name: str) -> Edit:
    """The fixture's own file again (regular, valid), after a base that broke it."""

    def edit(repo: Path) -> None:
        path = repo / name
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        shutil.copy(FIXTURE_INPUTS / name, path)

    return edit


def whole_program(repo: Path) -> None:
    """The repository holds the whole program, as a real checkout does, committed as the base."""
    from review.program import program_files

    for name in program_files(PROJECT_DIR):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / name, repo / name)
    commit(repo, "the whole program")


def program_change(name: str, old: str, new: str) -> Edit:
    """An edit of the program itself (or of any file of the checkout), on top of the whole program committed as the
    base with that file."""

    def edit(repo: Path) -> None:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / name, repo / name)
        whole_program(repo)
        replace_in(name, old, new)(repo)

    return edit


def committed_bytecode(repo: Path) -> None:
    """A compiled module committed beside its source (git add -f): Python loads an unchecked-hash .pyc as it is."""
    whole_program(repo)
    (repo / "components" / "__pycache__").mkdir(exist_ok=True)
    (repo / "components" / "__pycache__" / "tenant_storage.cpython-311.pyc").write_bytes(b"\xa7\r\r\n\x03\0\0\0")
    git(repo, "add", "-f", "components/__pycache__/tenant_storage.cpython-311.pyc")


def program_behind_a_link(repo: Path) -> None:
    """The component folder moved under docs/ and linked back, and a line added in it."""
    whole_program(repo)
    git(repo, "mv", "components", "docs-components")
    (repo / "components").symlink_to("docs-components")
    replace_in("docs-components/tenant_storage.py", NONCURRENT_RULE, NONCURRENT_RULE + '\n"expiration": {"days": 9},')(
        repo
    )


def moved_into_the_tests(name: str) -> Edit:
    """A gate file renamed into a folder that is not the gate's."""

    def edit(repo: Path) -> None:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / name, repo / name)
        whole_program(repo)
        git(repo, "mv", name, "tests/notes.yml")

    return edit


# A program change is planned in a process of its own at one revision: one stack is enough to see it.
ONE_STACK = ("--stack", "qa")
NONCURRENT_RULE = '"noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_expiration_days},'


def reverse_tenants(repo: Path) -> None:
    registry = yaml.safe_load((repo / "tenants.yaml").read_text())
    registry["tenants"].reverse()
    (repo / "tenants.yaml").write_text(yaml.safe_dump(registry, sort_keys=False))


def folder(name: str) -> Edit:
    def edit(repo: Path) -> None:
        (repo / name).unlink()
        (repo / name).mkdir()
        (repo / name / "keep").write_text("a folder where a file belongs\n")

    return edit


def shards(first: str, second: str) -> Edit:
    """qa's environments split over two shard stacks in qa's account."""

    def edit(repo: Path) -> None:
        qa = yaml.safe_load((repo / "Pulumi.qa.yaml").read_text())
        for name, shard in (("qa", first), ("qa-b", second)):
            document = {"config": {**qa["config"], "tenant-storage:shard": shard}}
            (repo / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))

    return edit


@dataclass(frozen=True)
class Scenario:
    name: str
    edits: tuple[Edit, ...]
    classes: frozenset[str]
    status: int
    args: tuple[str, ...] = ()
    # (class, subject) pairs that must be among the risks, when the subject matters.
    subjects: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    message: str = ""  # a fragment some risk's message must hold


def scenario(
    name: str,
    *edits: Edit,
    classes: set[str],
    status: int,
    args: tuple[str, ...] = (),
    subjects: set[tuple[str, str]] | None = None,
    message: str = "",
) -> Scenario:
    return Scenario(name, edits, frozenset(classes), status, args, frozenset(subjects or ()), message)


SCENARIOS = [
    scenario("nothing changes", classes=set(), status=0),
    scenario("a tenant is added", add_tenant("  - orgId: newco\n    environment: qa\n"), classes=set(), status=0),
    scenario(
        "a new media-gallery tenant's empty public bucket is its creation, not newly public",
        add_tenant("  - orgId: newpics\n    environment: demo\n    profile: media-gallery\n"),
        classes=set(),
        status=0,
    ),
    scenario(
        "a QA tenant is removed",
        replace_in("tenants.yaml", XMSQA2, ""),
        classes={"data-loss"},
        status=3,
        subjects={("data-loss", "bucket fusion-rms-xmsqa2")},
    ),
    scenario(
        "a protected production tenant is removed",
        replace_in("tenants.yaml", ACME, ""),
        classes={"data-loss"},
        status=3,
        subjects={("data-loss", "bucket fusion-rms-acme")},
    ),
    scenario(
        "a one-step key rotation",
        replace_in("tenants.yaml", XMSQA1, f'{XMSQA1}    accessKeys: ["2026-11"]\n'),
        classes={"credentials-revoked"},
        status=3,
        subjects={("credentials-revoked", "user rms_xmsqa1")},
    ),
    scenario(
        "a two-step key rotation",
        replace_in("tenants.yaml", XMSQA1, f'{XMSQA1}    accessKeys: [initial, "2026-11"]\n'),
        classes=set(),
        status=0,
    ),
    scenario(
        "the newest key removed: the one its app uses (the store and `credentials` hand it out)",
        replace_in("tenants.yaml", 'accessKeys: ["2026-05", "2026-11"]', 'accessKeys: ["2026-05"]'),
        classes={"credentials-revoked"},
        status=3,
        message="acme-dev-access-key-2026-11, the newest label",
    ),
    scenario(
        "the oldest key removed, the last step of a rotation",
        replace_in("tenants.yaml", 'accessKeys: ["2026-05", "2026-11"]', 'accessKeys: ["2026-11"]'),
        classes=set(),
        status=0,
    ),
    scenario("the registry reordered", reverse_tenants, classes=set(), status=0),
    scenario(
        "a new IAM user prefix replaces every user",
        stack_setting("qa", "tenant-storage:iamUserPrefix", "pos_"),
        classes={"credentials-revoked"},
        status=3,
    ),
    scenario(
        "a private bucket made public strands its SSE-KMS objects and opens pub/",
        replace_in("tenants.yaml", "profile: app-storage", "profile: media-gallery"),
        classes={"data-loss", "newly-public"},
        status=3,
        subjects={("newly-public", "bucket fusion-rms-xmsqa2"), ("data-loss", "bucket fusion-rms-xmsqa2")},
        message="kms:Decrypt",
    ),
    scenario(
        "upload-only made app-storage widens its user's rights only",
        replace_in("tenants.yaml", "profile: upload-only", "profile: app-storage"),
        classes={"permissions-widened"},
        status=0,
        message="user rms_acme-dev may now s3:DeleteObject, s3:GetObject on objects *",
    ),
    scenario(
        "permissions-widened gates on request",
        replace_in("tenants.yaml", "profile: upload-only", "profile: app-storage"),
        classes={"permissions-widened"},
        status=3,
        args=("--fail-on", "permissions-widened"),
    ),
    scenario(
        "a profile switch lists only what the user did not have (media-gallery to app-storage), and what the public "
        "loses: its links stop working",
        replace_in(
            "tenants.yaml", "    profile: media-gallery\n    publicAccess: cloudfront\n", "    profile: app-storage\n"
        ),
        classes={"permissions-widened", "public-access-narrowed"},
        status=3,
        message="user rms_acme-staging may now s3:GetBucketLocation on the bucket",
    ),
    # publicAccess (docs/public-access.md): the move to CloudFront in two steps, and in one.
    scenario(
        "pub/ served both ways: CloudFront is a new reader of what was public, and the URLs move",
        stack_setting("qa", "tenant-storage:publicAccess", "bucket-policy-and-cloudfront"),
        classes={"permissions-widened", "public-url-changed"},
        status=0,
        subjects={
            ("permissions-widened", "bucket fusion-rms-xmsqa1"),
            ("public-url-changed", "bucket fusion-rms-xmsqa1"),
        },
        message="through CloudFront distribution pub-distribution; nothing newly public",
    ),
    scenario(
        "S3 closed once CloudFront serves pub/: the S3 links stop working, CloudFront still serves them",
        in_base(stack_setting("qa", "tenant-storage:publicAccess", "bucket-policy-and-cloudfront")),
        stack_setting("qa", "tenant-storage:publicAccess", "cloudfront"),
        classes={"public-access-narrowed"},
        status=3,
        message="straight from S3: links that way stop working; still served through CloudFront distribution",
    ),
    scenario(
        "straight from bucket-policy to cloudfront: narrowed, a new reader and new URLs at once",
        stack_setting("qa", "tenant-storage:publicAccess", "cloudfront"),
        classes={"public-access-narrowed", "permissions-widened", "public-url-changed"},
        status=3,
    ),
    scenario(
        "a private bucket made media-gallery behind CloudFront: public, through the distribution, for the first time",
        in_base(stack_setting("qa", "tenant-storage:publicAccess", "cloudfront")),
        replace_in("tenants.yaml", "profile: upload-only", "profile: media-gallery"),
        classes={"newly-public", "permissions-widened"},
        status=3,
        message="anyone on the internet may now, through CloudFront distribution pub-distribution, s3:GetObject",
    ),
    scenario(
        "upload-only made media-gallery: public and wider",
        replace_in("tenants.yaml", "profile: upload-only", "profile: media-gallery"),
        classes={"newly-public", "permissions-widened"},
        status=3,
    ),
    scenario(
        "dropping protectBuckets",
        in_base(stack_setting("qa", "tenant-storage:protectBuckets", True)),
        stack_setting("qa", "tenant-storage:protectBuckets", None),
        classes={"protection-removed"},
        status=3,
    ),
    scenario(
        "privateBucketEncryption sse-s3 deletes the key and takes kms:Decrypt away",
        stack_setting("qa", "tenant-storage:privateBucketEncryption", "sse-s3"),
        classes={"data-loss"},
        status=3,
        subjects={("data-loss", "KMS key private-buckets-key"), ("data-loss", "bucket fusion-rms-xmsqa2")},
        message="the key is deleted",
    ),
    scenario(
        "privateBucketEncryption sse-s3 in production too, although the key's deletion would fail",
        stack_setting("prod", "tenant-storage:privateBucketEncryption", "sse-s3"),
        classes={"data-loss"},
        status=3,
        subjects={("data-loss", "bucket fusion-rms-acme-orders")},
    ),
    scenario(
        "deleted versions kept a shorter time",
        stack_setting("qa", "tenant-storage:noncurrentVersionExpirationDays", 7),
        classes={"data-loss"},
        status=3,
        message="kept 7 days (before: 30 days)",
    ),
    scenario(
        "deleted versions kept longer",
        stack_setting("qa", "tenant-storage:noncurrentVersionExpirationDays", 90),
        classes=set(),
        status=0,
    ),
    scenario(
        "access logs kept a shorter time",
        stack_setting("qa", "tenant-storage:accessLogRetentionDays", 30),
        classes={"data-loss"},
        status=3,
        message="current objects now expire after 30 days (before: 365 days)",
    ),
    scenario(
        "a new tenant adopts an existing bucket with the default profile",
        add_tenant("  - orgId: legacy\n    environment: qa\n    adopt: true\n    bucketName: old-legacy-media\n"),
        # Its logs start going to the stack's log bucket: the delivery comes with its BucketLogging, no widening.
        classes={"adopted", "newly-public", "data-loss"},
        status=3,
        subjects={
            ("newly-public", "bucket old-legacy-media"),
            ("adopted", "bucket old-legacy-media"),
            ("adopted", "user rms_legacy"),
        },
        message="public access block: blockPublicAcls=true; blockPublicPolicy=false",
    ),
    scenario(
        "a new tenant adopts an existing private bucket",
        add_tenant(
            "  - orgId: legacy\n    environment: qa\n    profile: app-storage\n    adopt: true\n"
            "    bucketName: fusion-rms-legacy\n"
        ),
        classes={"adopted", "data-loss"},
        status=3,
    ),
    scenario(
        "the mocked random suffix pasted as the adopted bucket's name",
        replace_in(
            "tenants.yaml",
            "    randomSuffix: true\n",
            f"    adopt: true\n    bucketName: fusion-rms-tradeshow-demo-{MOCKED_SUFFIX}\n",
        ),
        # The real suffix differs, so the pasted name is another bucket: adopted, its "before" unknown.
        classes={"data-loss", "adopted", "newly-public", "permissions-widened"},
        status=3,
        subjects={("data-loss", f"bucket fusion-rms-tradeshow-demo-{MOCKED_SUFFIX}")},
        message="may be replaced: its name is known only once a deploy has run",
    ),
    scenario(
        "an existing tenant marked adopt: the engine already holds the import ids, so nothing happens",
        replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    adopt: true\n"),
        classes=set(),
        status=0,
    ),
    scenario(
        "a random suffix added renames, so replaces, the bucket; the grants move with it",
        replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    randomSuffix: true\n"),
        classes={"data-loss", "public-url-changed"},
        status=3,
    ),
    scenario(
        "a new bucket prefix renames every bucket; no grant is new",
        stack_setting("qa", "tenant-storage:bucketPrefix", "pos-media"),
        classes={"data-loss", "public-url-changed"},
        status=3,
    ),
    scenario(
        "a tenant moves to another environment of the same stack",
        replace_in("tenants.yaml", XMSQA1, "  - orgId: xmsqa1\n    environment: demo\n"),
        classes=set(),
        status=0,
    ),
    scenario(
        "a tenant moves from QA to production, another account",
        replace_in("tenants.yaml", XMSQA2, XMSQA2.replace("environment: qa", "environment: production")),
        classes={"data-loss"},
        status=3,
        message="cannot be done in one change",
    ),
    scenario(
        "tenants move between two shard stacks of one account",
        in_base(shards("0/2", "1/2")),
        shards("1/2", "0/2"),
        classes={"data-loss"},
        status=3,
        message="pulumi state move --source",
    ),
    scenario(
        "tenants served through CloudFront move between two shard stacks: each gets the other shard's distribution",
        in_base(stack_setting("qa", "tenant-storage:publicAccess", "cloudfront"), shards("0/2", "1/2")),
        shards("1/2", "0/2"),
        classes={"data-loss", "public-url-changed"},
        status=3,
        message="(stack qa-b's): hand its app the new publicBaseUrl",
    ),
    scenario(
        "a base registry the reader refuses (an unknown field)",
        in_base(replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    org_id: x\n")),
        restore("tenants.yaml"),
        replace_in("tenants.yaml", XMSQA2, ""),
        classes={"base-unreadable"},
        status=3,
        message="unknown field",
    ),
    scenario(
        "a base registry with a non-UTF-8 byte",
        in_base(write_bytes("tenants.yaml", b"tenants:\n  - orgId: caf\xe9\n    environment: qa\n")),
        restore("tenants.yaml"),
        classes={"base-unreadable"},
        status=3,
        message="is not UTF-8 text (byte 0xe9)",
    ),
    scenario(
        "a base registry that is a symbolic link",
        in_base(symlink("tenants.yaml")),
        restore("tenants.yaml"),
        classes={"base-unreadable"},
        status=3,
        message="is a symbolic link",
    ),
    scenario(
        "a base stack file that is a symbolic link",
        in_base(symlink("Pulumi.qa.yaml")),
        restore("Pulumi.qa.yaml"),
        classes={"base-unreadable"},
        status=3,
    ),
    scenario(
        "a stack file renamed",
        rename("Pulumi.prod.yaml", "Pulumi.production.yaml"),
        classes={"stack-removed"},
        status=3,
        subjects={("stack-removed", "stack prod")},
    ),
    scenario(
        "a stack's account changed",
        replace_in("accounts.yaml", '  - "222222222222"\n', '  - "222222222222"\n  - "333333333333"\n'),
        replace_in("Pulumi.qa.yaml", '"222222222222"', '"333333333333"'),
        classes={"account-changed", "data-loss"},
        status=3,
    ),
    scenario(
        "the credential store switched: the secrets apps read are deleted",
        in_base(stack_setting("qa", "tenant-storage:credentialStore", "secretsmanager")),
        stack_setting("qa", "tenant-storage:credentialStore", "ssm"),
        # The keys also move into a new store, readable by whoever may read it.
        classes={"credentials-revoked", "credentials-exposed"},
        status=3,
        message="the credentials its app reads are deleted from secret version",
        subjects={("credentials-exposed", "SSM parameter /tenant-storage/xmsqa1/AWS_SECRET")},
    ),
    scenario(
        "a new region replaces every regional resource: buckets, the log bucket and the key",
        replace_in("Pulumi.qa.yaml", "us-east-1", "eu-west-1"),
        classes={"data-loss", "public-url-changed"},
        status=3,
        subjects={("data-loss", "bucket fusion-rms-xmsqa1"), ("data-loss", "KMS key private-buckets-key")},
        message="replaced (changes region)",
    ),
    scenario(
        "allowed accounts reordered: the deploy is the same",
        in_base(
            replace_in("accounts.yaml", '  - "222222222222"\n', '  - "222222222222"\n  - "444444444444"\n'),
            replace_in("Pulumi.qa.yaml", '    - "222222222222"\n', '    - "222222222222"\n    - "444444444444"\n'),
        ),
        replace_in(
            "Pulumi.qa.yaml",
            '    - "222222222222"\n    - "444444444444"\n',
            '    - "444444444444"\n    - "222222222222"\n',
        ),
        classes=set(),
        status=0,
    ),
    scenario(
        "an invalid head is an input error, not the loss of every bucket",
        replace_in("tenants.yaml", "profile: upload-only", "profile: upload_only"),
        classes=set(),
        status=1,
    ),
    scenario(
        "a base with a folder where the registry belongs",
        in_base(folder("tenants.yaml")),
        restore("tenants.yaml"),
        classes={"base-unreadable"},
        status=3,
        message="is not a regular file",
    ),
    scenario(
        "an existing public tenant adopts another, existing bucket: public there for the first time",
        replace_in("tenants.yaml", XMSQA1, f"{XMSQA1}    adopt: true\n    bucketName: legacy-xmsqa1\n"),
        classes={"data-loss", "adopted", "newly-public", "permissions-widened", "public-url-changed"},
        status=3,
        subjects={("newly-public", "bucket legacy-xmsqa1"), ("adopted", "bucket legacy-xmsqa1")},
    ),
    scenario(
        "two adopted tenants swap their buckets: each user reaches the other's data",
        in_base(
            add_tenant(
                "  - orgId: lega\n    environment: qa\n    profile: app-storage\n    adopt: true\n"
                "    bucketName: legacy-a\n  - orgId: legb\n    environment: qa\n    profile: app-storage\n"
                "    adopt: true\n    bucketName: legacy-b\n"
            )
        ),
        replace_in("tenants.yaml", "bucketName: legacy-a", "bucketName: legacy-x"),
        replace_in("tenants.yaml", "bucketName: legacy-b", "bucketName: legacy-a"),
        replace_in("tenants.yaml", "bucketName: legacy-x", "bucketName: legacy-b"),
        classes={"data-loss", "adopted", "permissions-widened"},
        status=3,
        message="user rms_lega may now",
    ),
    scenario(
        "a program change: one line in the lifecycle rule expires every tenant's current objects",
        program_change(
            "components/tenant_storage.py", NONCURRENT_RULE, NONCURRENT_RULE + '\n"expiration": {"days": 400},'
        ),
        classes={"data-loss"},
        status=3,
        args=ONE_STACK,
        subjects={("data-loss", "bucket fusion-rms-xmsqa1")},
        message="current objects now expire after 400 days",
    ),
    scenario(
        "a program change that declares the same resources is no change",
        program_change("components/tenant_storage.py", "from __future__", "# a comment\nfrom __future__"),
        classes=set(),
        status=0,
        args=ONE_STACK,
    ),
    # Everything outside what the gate used to compare (issue 29): each fails with a named risk or is refused.
    scenario(
        "a credential store turned on in production: every tenant's secret key in a store the preview role reads",
        stack_setting("prod", "tenant-storage:credentialStore", "secretsmanager"),
        classes={"credentials-exposed"},
        status=3,
        subjects={("credentials-exposed", "secret version acme-credentials-version")},
        message="now holds a copy of the tenant's secret access key",
    ),
    scenario(
        "a secret output made plain",
        program_change(
            "__main__.py",
            "pulumi.Output.secret({s.args.org_id: s.secret_access_keys for s in storages})",
            "pulumi.Output.unsecret(pulumi.Output.from_input({s.args.org_id: s.secret_access_keys for s in storages}))",
        ),
        classes={"credentials-exposed"},
        status=3,
        args=ONE_STACK,
        subjects={("credentials-exposed", "output secretAccessKeys")},
    ),
    scenario(
        # A type the gate's catalogue does not know (what replaces it, whether it exposes the key) is not judged
        # by guesswork: the head is refused until the catalogue, reviewed as the gate's code, describes it.
        "a program change declaring a resource type the gate's catalogue does not know is refused",
        in_base(stack_setting("qa", "tenant-storage:credentialStore", "secretsmanager")),
        program_change(
            "components/tenant_storage.py",
            '        elif args.credential_store == "ssm":',
            "            aws.secretsmanager.SecretPolicy(child_resource_name(org, 'credentials-policy'), "
            'secret_arn=secret.id, policy=\'{"Statement": [{"Effect": "Allow", "Principal": "*", '
            '"Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}\', opts=child)\n'
            '        elif args.credential_store == "ssm":',
        ),
        classes=set(),
        status=1,
        args=ONE_STACK,
    ),
    scenario(
        "the stack's secrets provider changed",
        in_base(replace_in("Pulumi.qa.yaml", "config:\n", "secretsprovider: passphrase\nconfig:\n")),
        replace_in("Pulumi.qa.yaml", "secretsprovider: passphrase", "secretsprovider: awskms://alias/elsewhere"),
        classes={"credentials-exposed"},
        status=3,
        args=ONE_STACK,
        message="secretsprovider changed in Pulumi.qa.yaml",
    ),
    scenario(
        "an accepted provider setting that is not the program's is shown",
        stack_setting("qa", "aws:maxRetries", 5),
        classes={"settings-changed"},
        status=0,
        args=ONE_STACK,
        message="aws:maxRetries: not set -> 5",
    ),
    scenario(
        "a credentials file and a profile in the production stack file are refused",
        stack_setting("prod", "aws:sharedCredentialsFiles", ["./ci-credentials"]),
        stack_setting("prod", "aws:profile", "deploy"),
        classes=set(),
        status=1,
    ),
    scenario(
        "an ESC environment imported by a stack file is refused",
        replace_in("Pulumi.prod.yaml", "config:\n", "environment:\n  - tenant-storage/prod-overrides\nconfig:\n"),
        classes=set(),
        status=1,
    ),
    scenario(
        "refresh: never in Pulumi.yaml is refused, and names the gate's own file",
        replace_in("Pulumi.yaml", "refresh: always", "refresh: never"),
        classes={"tooling-changed"},
        status=1,
        args=ONE_STACK,
    ),
    scenario(
        "a harmless edit of Pulumi.yaml still changes what guards the deploy",
        replace_in("Pulumi.yaml", "description: ", "description: Edited. "),
        classes={"tooling-changed"},
        status=3,
        args=ONE_STACK,
        subjects={("tooling-changed", "1 file: Pulumi.yaml")},
    ),
    scenario(
        "the gate's own code: markdown made to pass whatever it finds",
        program_change("cli/plan.py", "    return status\n", "    return 0\n"),
        classes={"tooling-changed"},
        status=3,
        args=ONE_STACK,
        subjects={("tooling-changed", "1 file: cli/plan.py")},
    ),
    scenario(
        "the pull-request workflow made to accept every risk",
        program_change(".github/workflows/review-gate.yml", "FAIL_ON: ${{", "FAIL_ON: none # ${{"),
        classes={"tooling-changed"},
        status=3,
        args=ONE_STACK,
        subjects={("tooling-changed", "1 file: .github/workflows/review-gate.yml")},
    ),
    scenario(
        "compiled bytecode committed beside the program, which the deploy would load instead of its source",
        committed_bytecode,
        classes={"tooling-changed"},
        status=3,
        args=ONE_STACK,
        subjects={("tooling-changed", "1 file: components/__pycache__/tenant_storage.cpython-311.pyc")},
    ),
    scenario(
        "the program moved behind a symbolic link and changed there",
        program_behind_a_link,
        classes={"data-loss", "tooling-changed"},
        status=3,
        args=ONE_STACK,
        message="current objects now expire after 9 days",
    ),
    scenario(
        "the program declares an AWS provider of its own",
        program_change(
            "__main__.py",
            "shared = StackStorage(",
            'elsewhere = aws.Provider("elsewhere", region="us-east-1", assume_roles=[{"role_arn": "x"}])\n'
            "shared = StackStorage(",
        ),
        classes={"provider-changed"},
        status=3,
        args=ONE_STACK,
        subjects={("provider-changed", "provider aws elsewhere")},
        message="the program declares a provider of its own",
    ),
    scenario(
        "the program asks for a provider plugin from elsewhere",
        in_base(stack_setting("qa", "tenant-storage:credentialStore", "secretsmanager")),
        program_change(
            "components/tenant_storage.py",
            "        child = pulumi.ResourceOptions(parent=self)\n        if args.credential_store",
            "        child = pulumi.ResourceOptions(parent=self, version='7.99.0', "
            "plugin_download_url='https://example.invalid/plugins/')\n        if args.credential_store",
        ),
        classes={"provider-changed"},
        status=3,
        args=ONE_STACK,
        message="version 7.99.0 from https://example.invalid/plugins/",
    ),
    scenario(
        "a program change: each key encoded into a plain parameter",
        program_change(
            "components/tenant_storage.py",
            "        self._store_credentials()\n",
            "        self._store_credentials()\n"
            "        aws.ssm.Parameter(child_resource_name(self.args.org_id, 'leak'), "
            "name=f'/leak/{self.args.org_id}', type='String', "
            "value=pulumi.Output.all(*self.secret_access_keys.values()).apply("
            "lambda keys: __import__('base64').b64encode(' '.join(keys).encode()).decode()), "
            "opts=pulumi.ResourceOptions(parent=self))\n",
        ),
        classes={"credentials-exposed"},
        status=3,
        args=ONE_STACK,
        subjects={("credentials-exposed", "SSM parameter /leak/xmsqa1")},
    ),
    scenario(
        "the gate's workflow renamed into the tests",
        moved_into_the_tests(".github/workflows/review-gate.yml"),
        classes={"tooling-changed"},
        status=3,
        args=ONE_STACK,
        subjects={("tooling-changed", "1 file: .github/workflows/review-gate.yml")},
    ),
    scenario(
        "fail-on none lists every risk and passes",
        replace_in("tenants.yaml", XMSQA2, ""),
        classes={"data-loss"},
        status=0,
        args=("--fail-on", "none"),
    ),
    scenario(
        "the access-log bucket moves to the account regional namespace, the old one kept (the README's runbook)",
        stack_setting("qa", "tenant-storage:accessLogBucketNamespace", "account-regional"),
        stack_setting("qa", "tenant-storage:retainedAccessLogBucketNamespace", "global"),
        # Each tenant's logs now go to the new bucket (its BucketLogging's update), with the rights they had in the
        # old one: no caller gains anything, and the log buckets themselves log nowhere.
        classes=set(),
        status=0,
        args=ONE_STACK,
    ),
]


@pytest.fixture(scope="module")
def committed_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import make_project

    repo = make_project(tmp_path_factory.mktemp("gate") / "project")
    git(repo, "init", "-q", "-b", "main")
    commit(repo)
    return repo


def run_scenario(source: Path, target: Path, case: Scenario, capsys: pytest.CaptureFixture[str]) -> tuple[int, list]:
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    for edit in case.edits:
        edit(target)
    capsys.readouterr()
    status = main(["plan", "--format", "json", "--base", "HEAD", *case.args], project_dir=target)
    return status, json.loads(capsys.readouterr().out)["risks"]


@pytest.mark.parametrize("case", SCENARIOS, ids=[case.name for case in SCENARIOS])
def test_each_change_gets_exactly_its_risk_classes_and_exit_status(case, committed_fixture, tmp_path, capsys):
    status, risks = run_scenario(committed_fixture, tmp_path / "project", case, capsys)
    assert {risk["class"] for risk in risks} == case.classes, json.dumps(risks, indent=1)
    assert status == case.status
    found = {(risk["class"], risk["subject"]) for risk in risks}
    assert case.subjects <= found, found
    said = " ".join(" ".join([risk["message"], *risk["steps"]]) for risk in risks)
    assert case.message in said, json.dumps(risks, indent=1)


def test_a_reordered_registry_is_no_change_at_all(committed_fixture, tmp_path, capsys):
    """The provider keeps a group's users as a set: the registry's order is not a change, not even an update."""
    repo = tmp_path / "project"
    subprocess.run(["cp", "-a", str(committed_fixture), str(repo)], check=True)
    reverse_tenants(repo)
    capsys.readouterr()
    assert main(["plan", "--base", "HEAD"], project_dir=repo) == 0
    out = capsys.readouterr().out
    assert "\n\nrisks: none\n" in out
    assert out.count("No changes.") == 2


def test_the_table_covers_every_risk_class():
    from review.risk_classes import RISK_CLASSES

    assert set(RISK_CLASSES) == {risk_class for case in SCENARIOS for risk_class in case.classes}
    assert len(SCENARIOS) >= 30


def test_a_log_bucket_move_shows_only_what_the_runbook_promises(committed_fixture, tmp_path, capsys):
    """The README's runbook (step 2): the move, the new log bucket and its settings created, each BucketLogging
    updated, nothing else: no log delivery for either log bucket (they log nowhere), no caller widened."""
    [case] = [case for case in SCENARIOS if case.name.startswith("the access-log bucket moves")]
    target = tmp_path / "project"
    status, risks = run_scenario(committed_fixture, target, case, capsys)
    assert (status, risks) == (0, [])
    assert main(["plan", "--stack", "qa", "--base", "HEAD"], project_dir=target) == 0
    text = capsys.readouterr().out
    assert "access logs move from fusion-rms--access-logs-222222222222-us-east-1 to " in text
    assert "log delivery" not in text


EXIT_STATUS_CASES = {
    status_case.name: status_case
    for status in (0, 1, 3)
    for status_case in [next(case for case in SCENARIOS if case.status == status and not case.args)]
} | {case.name: case for case in SCENARIOS if "none" in case.args}


@pytest.mark.parametrize("case", EXIT_STATUS_CASES.values(), ids=EXIT_STATUS_CASES.keys())
def test_the_markdown_run_exits_as_the_json_run_does(case, committed_fixture, tmp_path, capsys):
    """The Markdown run (the one CI gates on) decides exactly as the JSON run does (text shares its code path)."""
    repo = tmp_path / "project"
    status, _ = run_scenario(committed_fixture, repo, case, capsys)
    assert main(["plan", "--format", "markdown", "--base", "HEAD", *case.args], project_dir=repo) == status
