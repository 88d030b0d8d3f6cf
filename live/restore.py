"""`restore`: bring a tenant's files back to their state at a point in time, never deleting a version.

    tenant-storage restore <orgId> --stack qa --to 2026-11-30T10:00:00Z [--prefix P] [--delete-newer]
                           [--apply] [--report FILE] [--endpoint-url URL]

A dry run by default: it lists every version under the prefix (`ListObjectVersions`, paginated) and
prints what the restore would change. With `--apply`, each key overwritten or deleted since `--to` gets
its version from then copied back on top, server-side: `CopyObject` with the source's metadata, and the
bucket's default encryption (no encryption header is sent). The copy is tagged with the version it
restores, so a second run, or a run resumed after an interruption, changes nothing already done. Keys
created since are listed and kept; `--delete-newer` hides them under delete markers (their versions
stay). A JSON report of every key and its result is written (`--report`, by default
`restore-<orgId>-<time>.json`). Exit status: 0 done (a dry run included), 1 some keys could not be
restored (the report names them) or the bucket is not versioned, 2 could not run.
"""

from __future__ import annotations

import datetime
import json
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from live.aws import Aws, CommandFailed, counted, human_bytes, load_stack, run_command, verify_account
from tenant_storage import naming
from tenant_storage.registry import Tenant
from tenant_storage.restore import (
    ACTION_TEXT,
    ACTIONS,
    MAX_TAGS_PER_OBJECT,
    RESTORED_FROM_TAG,
    KeyChange,
    RestorePlan,
    Version,
    is_restored_copy,
    parse_time,
    plan_restore,
    time_problem,
)
from tenant_storage.stacks import StackSettings

RESTORE_ACCESS = (
    "s3:GetBucketVersioning, s3:ListBucketVersions, s3:GetObjectVersion and s3:GetObjectVersionTagging on the "
    "tenant's bucket and, with --apply, s3:PutObject and s3:PutObjectTagging (s3:DeleteObject with --delete-newer), "
    "and kms:Decrypt and kms:GenerateDataKey on the stack's key for a private bucket"
)
COPY_OBJECT_LIMIT = 5 * 1024**3  # larger objects are copied in parts (S3's CopyObject limit)
KEYS_SHOWN = 10
PROGRESS_EVERY = 1000


@dataclass
class Restore:
    aws: Aws
    bucket: str
    plan: RestorePlan
    warnings: list[str] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)  # key -> "restored" | "delete marker added" | error

    @property
    def s3(self) -> Any:
        return self.aws.client("s3")

    def drop_already_restored(self) -> None:
        """Keys whose current version is this restore's copy from an earlier run: unchanged now."""
        done = {
            change.key
            for change in self.plan.changes
            if change.action == "restore-overwritten"
            and is_restored_copy(self.tags(change.key, change.current_version_id), change)
        }
        self.plan.changes = [change for change in self.plan.changes if change.key not in done]
        self.plan.unchanged += len(done)

    def tags(self, key: str, version_id: str) -> dict[str, str]:
        response = self.s3.get_object_tagging(Bucket=self.bucket, Key=key, VersionId=version_id)
        return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}

    def apply(self, progress: Progress) -> None:
        from botocore.exceptions import ClientError

        for number, change in enumerate(self.plan.changes, 1):
            try:
                if change.restores:
                    self.copy_back(change)
                    self.results[change.key] = "restored"
                elif change.action == "newer-deleted":
                    self.s3.delete_object(Bucket=self.bucket, Key=change.key)
                    self.results[change.key] = "delete marker added"
                else:
                    self.results[change.key] = "kept"
            except ClientError as error:
                if str(error.response.get("Error", {}).get("Code")) in ("AccessDenied", "InvalidAccessKeyId"):
                    raise
                self.results[change.key] = f"failed: {error.response.get('Error', {}).get('Code')}: {error}"
            progress.show(f"restored {number} of {len(self.plan.changes)} keys")

    def copy_back(self, change: KeyChange) -> None:
        source = {"Bucket": self.bucket, "Key": change.key, "VersionId": change.version_id}
        tags = self.tags(change.key, change.version_id)
        marked = len(tags) < MAX_TAGS_PER_OBJECT or RESTORED_FROM_TAG in tags
        if marked:
            tags[RESTORED_FROM_TAG] = change.version_id
        else:
            self.warnings.append(
                f"{change.key}: its version holds {MAX_TAGS_PER_OBJECT} tags, so the copy is not marked as restored; "
                "a later run copies it again (harmless: one more identical version)"
            )
        if change.size <= COPY_OBJECT_LIMIT:
            arguments: dict[str, Any] = {"MetadataDirective": "COPY"}
            if marked:
                arguments |= {"TaggingDirective": "REPLACE", "Tagging": urllib.parse.urlencode(tags)}
            self.s3.copy_object(Bucket=self.bucket, Key=change.key, CopySource=source, **arguments)
            return
        # Multipart: s3transfer keeps the metadata (PRESERVED_METADATA_FIELDS) but not the tags; tag the copy.
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=COPY_OBJECT_LIMIT)
        self.s3.copy(source, self.bucket, change.key, Config=config)
        copied = self.s3.head_object(Bucket=self.bucket, Key=change.key)["VersionId"]
        self.s3.put_object_tagging(
            Bucket=self.bucket,
            Key=change.key,
            VersionId=copied,
            Tagging={"TagSet": [{"Key": key, "Value": value} for key, value in tags.items()]},
        )


class Progress:
    """One line rewritten in place on a terminal; silent when stderr is piped."""

    def __init__(self) -> None:
        self.on_terminal = sys.stderr.isatty()
        self.shown = False

    def show(self, text: str) -> None:
        if self.on_terminal:
            print(f"\r{text}", end="", file=sys.stderr, flush=True)
            self.shown = True

    def done(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def tenant_bucket(aws: Aws, settings: StackSettings, tenant: Tenant) -> str:
    """The tenant's live bucket: its declared name, or for a random suffix the one name of that pattern."""
    rules = settings.naming
    if not tenant.random_suffix:
        return rules.bucket_name_of(tenant)
    found = naming.suffixed_buckets(rules.bucket_prefix, tenant.org_id, aws.bucket_names())
    if len(found) != 1:
        pattern = naming.suffixed_bucket_pattern(rules.bucket_prefix, tenant.org_id)
        raise CommandFailed(
            f"tenant {tenant.org_id!r} has a random suffix and {len(found)} buckets in this account match "
            f"{pattern.pattern}: {', '.join(found) or 'none (is it deployed?)'}"
        )
    return found[0]


def list_versions(s3: Any, bucket: str, prefix: str, progress: Progress) -> list[Version]:
    versions: list[Version] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []):
            versions.append(
                Version(
                    entry["Key"], entry["VersionId"], entry["LastModified"], entry["IsLatest"], False, entry["Size"]
                )
            )
        for entry in page.get("DeleteMarkers", []):
            versions.append(Version(entry["Key"], entry["VersionId"], entry["LastModified"], entry["IsLatest"], True))
        progress.show(f"listed {len(versions)} versions")
    return versions


def report_document(
    stack: str, org_id: str, bucket: str, to: datetime.datetime, prefix: str, applied: bool, restore: Restore
) -> dict[str, Any]:
    plan = restore.plan
    return {
        "stack": stack,
        "orgId": org_id,
        "bucket": bucket,
        "to": f"{to:%Y-%m-%dT%H:%M:%SZ}",
        "prefix": prefix,
        "applied": applied,
        "keys": plan.keys,
        "unchanged": plan.unchanged,
        "summary": {action: {"keys": plan.count(action), "bytes": plan.bytes(action)} for action in ACTIONS},
        "changes": [
            {
                "key": change.key,
                "action": change.action,
                "versionId": change.version_id,
                "bytes": change.size,
                **({"result": restore.results.get(change.key, "not done")} if applied else {}),
            }
            for change in plan.changes
        ],
        "warnings": restore.warnings,
    }


def render_text(document: dict[str, Any]) -> str:
    verb = "restored" if document["applied"] else "dry run, nothing changed; --apply to restore"
    out = [
        f"restore of {document['bucket']}/{document['prefix']} to {document['to']} ({verb}): "
        f"{document['keys']} keys, {document['unchanged']} as they were then"
    ]
    for action in ACTIONS:
        summary = document["summary"][action]
        if not summary["keys"]:
            continue
        out.append(f"  {counted(summary['keys'], 'key')} {ACTION_TEXT[action]} ({human_bytes(summary['bytes'])})")
        keys = [change for change in document["changes"] if change["action"] == action]
        for change in keys[:KEYS_SHOWN]:
            result = f"  [{change['result']}]" if "result" in change else ""
            out.append(f"      {change['key']}{result}")
        if len(keys) > KEYS_SHOWN:
            out.append(f"      ... and {len(keys) - KEYS_SHOWN} more (see the report)")
    failed = [change for change in document["changes"] if str(change.get("result", "")).startswith("failed")]
    out += [f"  FAILED {change['key']}: {change['result']}" for change in failed[:KEYS_SHOWN]]
    out += [f"  warning: {warning}" for warning in document["warnings"]]
    return "\n".join(out) + "\n"


def run_restore(
    project_dir: Path,
    stack: str,
    org_id: str,
    to_text: str,
    prefix: str,
    delete_newer: bool,
    apply: bool,
    report: Path | None,
    endpoint_url: str | None,
    session: Any = None,
    now: datetime.datetime | None = None,
) -> int:
    aws = Aws(session, endpoint_url)

    def body() -> int:
        try:
            to = parse_time(to_text)
        except ValueError as bad_time:
            raise CommandFailed(f"--to {bad_time}") from None
        context = load_stack(project_dir, stack)
        tenant = next((t for t in context.tenants if t.org_id == org_id), None)
        if tenant is None:
            hosted = ", ".join(sorted(t.org_id for t in context.tenants))
            raise CommandFailed(f"no tenant {org_id!r} in stack {stack} (its tenants: {hosted})")
        settings = context.settings
        refusal, warning = time_problem(
            to, now or datetime.datetime.now(datetime.UTC), settings.noncurrent_version_expiration_days
        )
        if refusal:
            raise CommandFailed(f"--to {refusal}")
        aws.region = settings.region
        verify_account(aws, context, "restore")
        bucket = tenant_bucket(aws, settings, tenant)
        s3 = aws.client("s3")
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            print(f"restore: bucket {bucket} is not versioned: there is no earlier version to restore", file=sys.stderr)
            return 1
        progress = Progress()
        versions = list_versions(s3, bucket, prefix, progress)
        restore = Restore(aws, bucket, plan_restore(versions, to, delete_newer))
        if warning:
            restore.warnings.append(warning)
        if ambiguous := restore.plan.ambiguous:
            restore.warnings.append(
                f"{counted(len(ambiguous), 'key')} got a version and a delete marker within one second before "
                f"--to (S3 times them to the second), so which came last is unknown; the version is restored: "
                f"{', '.join(ambiguous[:KEYS_SHOWN])}{' ...' if len(ambiguous) > KEYS_SHOWN else ''}"
            )
        restore.drop_already_restored()
        if apply:
            restore.apply(progress)
        progress.done()
        document = report_document(stack, org_id, bucket, to, prefix, apply, restore)
        path = report or Path(f"restore-{org_id}-{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%SZ}.json")
        path.write_text(json.dumps(document, indent=2) + "\n")
        sys.stdout.write(render_text(document))
        print(f"restore: report written to {path}", file=sys.stderr)
        failed = [key for key, result in restore.results.items() if result.startswith("failed")]
        return 1 if failed else 0

    return run_command("restore", body, RESTORE_ACCESS)
