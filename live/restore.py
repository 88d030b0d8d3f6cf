"""`restore`: bring a tenant's files back to their state at a point in time, never deleting a version.

    tenant-storage restore <orgId> --stack qa --to 2026-11-30T10:00:00Z [--prefix P] [--delete-newer]
                           [--apply] [--report FILE] [--endpoint-url URL]

A dry run by default: it lists every version under the prefix (`ListObjectVersions`, paginated) and
prints what the restore would change. With `--apply`, each key overwritten or deleted since `--to` gets
its version from then copied back on top, server-side, `COPIES_AT_ONCE` at a time: `CopyObject` with the
source's metadata and storage class, and the bucket's default encryption (no encryption header is sent).
What the restore supersedes (and, with `--delete-newer`, hides) stays recoverable for the stack's
`noncurrentVersionExpirationDays`: the dry run and the report say so. The copy is tagged with the version it
restores, so a second run, or a run resumed after an interruption, changes nothing already done. Keys
created since are listed and kept; `--delete-newer` hides them under delete markers (their versions
stay). A JSON report of every key and its result is written (`--report`, by default
`restore-<orgId>-<time>.json`). Exit status: 0 done (a dry run included), 1 some keys could not be
restored (the report names them) or the bucket is not versioned, 2 could not run.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from live.aws import (
    CREDENTIAL_CODES,
    DENIED_CODES,
    THROTTLING_CODES,
    Aws,
    CommandFailed,
    human_bytes,
    load_stack,
    printable,
    run_command,
    tenant_of,
    verify_account,
)
from tenant_storage import naming
from tenant_storage.errors import counted, quoted
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
    undo_window,
)
from tenant_storage.stacks import StackSettings


def restore_access() -> str:
    from catalogue.actions import RESTORE_ACTIONS

    phases = "; ".join(
        f"{phase}: {', '.join(f'{action} ({case})' if case else action for action, case in needed)}"
        for phase, needed in RESTORE_ACTIONS.items()
    )
    return f"on the tenant's bucket, {phases}"


RESTORE_ACCESS = restore_access()
COPY_OBJECT_LIMIT = 5 * 1024**3  # larger objects are copied in parts (S3's CopyObject limit)
# Copies under way at once: each is one server-side CopyObject, so a run waits on S3's round trips, not on bytes.
COPIES_AT_ONCE = 8
# Storage classes whose objects cannot be read until restored from the archive: copied back as STANDARD.
ARCHIVED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
KEYS_SHOWN = 10
FAILED = "failed: "  # a key's result when its restore failed, before the error
# Errors that would fail every key alike: the run stops (the report keeps what was done) rather than try each.
STOPPING_CODES = DENIED_CODES | THROTTLING_CODES | CREDENTIAL_CODES | {"NoSuchBucket", "KMS.DisabledException"}
# What to do about an error of one key, where S3's message does not say. CopyObject says an archived source
# with ObjectNotInActiveTierError, GetObject with InvalidObjectState.
ARCHIVED_HINT = (
    " (the version is archived in Glacier Flexible Retrieval or Deep Archive: bring it back first with "
    "`aws s3api restore-object --version-id`, then run this restore again)"
)
FAILURE_HINTS = {
    "ObjectNotInActiveTierError": ARCHIVED_HINT,
    "InvalidObjectState": ARCHIVED_HINT,
    "NoSuchVersion": " (the version is gone since the listing: a lifecycle expiry or a permanent delete)",
}


@dataclass
class Restore:
    aws: Aws
    bucket: str
    plan: RestorePlan
    warnings: list[str] = field(default_factory=list)
    undo: list[str] = field(default_factory=list)  # how long what this restore supersedes stays recoverable
    results: dict[str, str] = field(default_factory=dict)  # key -> "restored" | "delete marker added" | error

    @property
    def s3(self) -> Any:
        return self.aws.client("s3")

    def drop_already_restored(self) -> None:
        """Keys whose current version is this restore's copy from an earlier run: unchanged now. Their tags are read
        `COPIES_AT_ONCE` at a time: one round trip each."""
        from concurrent.futures import ThreadPoolExecutor

        candidates = [change for change in self.plan.changes if change.action == "restore-overwritten"]
        with ThreadPoolExecutor(max_workers=COPIES_AT_ONCE) as pool:
            current_tags = list(pool.map(self.current_tags, candidates))
        done = {
            change.key for change, tags in zip(candidates, current_tags, strict=True) if is_restored_copy(tags, change)
        }
        self.plan.changes = [change for change in self.plan.changes if change.key not in done]
        self.plan.unchanged += len(done)

    def current_tags(self, change: KeyChange) -> dict[str, str]:
        """The current version's tags; one key's own error (the version gone since the listing) leaves it in the
        plan, where the apply meets the error again as that key's result. An error that would stop every key
        stops the run."""
        from botocore.exceptions import ClientError

        try:
            return self.tags(change.key, change.current_version_id)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            if code in STOPPING_CODES:
                raise
            self.warnings.append(f"{change.key}: its current version could not be read ({code}); it is restored again")
            return {}

    def tags(self, key: str, version_id: str) -> dict[str, str]:
        response = self.s3.get_object_tagging(Bucket=self.bucket, Key=key, VersionId=version_id)
        return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}

    def apply(self, progress: Progress) -> None:
        """Restore each change, `COPIES_AT_ONCE` at a time (each copy is server-side: the time is S3's round trips);
        an error of one key is its result, one that stops every key (access, credentials, throttling beyond the
        retries) ends the run once the copies under way have finished, with the results so far kept."""
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        from botocore.exceptions import ClientError

        pending = iter(self.plan.changes)
        running: dict[Future[str], KeyChange] = {}
        stop: BaseException | None = None
        with ThreadPoolExecutor(max_workers=COPIES_AT_ONCE) as pool:
            while True:
                while stop is None and len(running) < COPIES_AT_ONCE and (change := next(pending, None)):
                    running[pool.submit(self.restore_one, change)] = change
                if not running:
                    break
                try:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt as interrupt:  # Ctrl-C: no new copy; those under way finish and are counted
                    stop = stop or interrupt
                    continue
                for future in done:
                    change = running.pop(future)
                    try:
                        self.results[change.key] = future.result()
                    except ClientError as error:
                        code = str(error.response.get("Error", {}).get("Code"))
                        if code in STOPPING_CODES:
                            stop = stop or error
                        else:
                            self.results[change.key] = f"{FAILED}{code}: {error}{FAILURE_HINTS.get(code, '')}"
                    except BaseException as error:  # noqa: BLE001 - Ctrl-C or a lost connection: stop, then raise it
                        stop = stop or error
                progress.show(f"restored {len(self.results)} of {len(self.plan.changes)} keys")
        if stop is not None:
            raise stop

    def restore_one(self, change: KeyChange) -> str:
        if change.restores:
            self.copy_back(change)
            return "restored"
        if change.action == "newer-deleted":
            self.s3.delete_object(Bucket=self.bucket, Key=change.key)
            return "delete marker added"
        return "kept"

    @property
    def failed(self) -> list[str]:
        return [key for key, result in self.results.items() if result.startswith(FAILED)]

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
        # CopyObject and the multipart copy send no storage class unless asked: the copy would be STANDARD. An
        # archived version (brought back with restore-object first) is copied out of the archive: a copy into
        # GLACIER or DEEP_ARCHIVE would be as unreadable to the tenant's app as before.
        storage_class = "STANDARD" if change.storage_class in ARCHIVED_CLASSES else change.storage_class
        arguments: dict[str, Any] = {"MetadataDirective": "COPY", "StorageClass": storage_class}
        if marked:
            arguments |= {"TaggingDirective": "REPLACE", "Tagging": urllib.parse.urlencode(tags)}
        else:
            # The version's own tags: CopyObject copies them unasked, s3transfer's multipart copy only when told.
            arguments["TaggingDirective"] = "COPY"
        if change.size <= COPY_OBJECT_LIMIT:
            # The tags travel with the copy: exactly the version it writes carries them.
            self.s3.copy_object(Bucket=self.bucket, Key=change.key, CopySource=source, **arguments)
            return
        # Multipart: s3transfer keeps the metadata (PRESERVED_METADATA_FIELDS) and, with TaggingDirective, tags the
        # version CompleteMultipartUpload answers with (s3transfer `copies.py` `_apply_tags`, PutObjectTagging with
        # that VersionId, so s3:PutObjectVersionTagging): never a version a tenant wrote meanwhile.
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=COPY_OBJECT_LIMIT)
        self.s3.copy(source, self.bucket, change.key, ExtraArgs=arguments, Config=config)


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
                    entry["Key"],
                    entry["VersionId"],
                    entry["LastModified"],
                    entry["IsLatest"],
                    False,
                    entry["Size"],
                    entry.get("StorageClass") or "STANDARD",
                )
            )
        for entry in page.get("DeleteMarkers", []):
            versions.append(Version(entry["Key"], entry["VersionId"], entry["LastModified"], entry["IsLatest"], True))
        progress.show(f"listed {len(versions)} versions")
    return versions


def report_document(
    stack: str,
    org_id: str,
    bucket: str,
    to: datetime.datetime,
    prefix: str,
    applied: bool,
    restore: Restore,
    aborted: str | None = None,
) -> dict[str, Any]:
    plan = restore.plan
    return {
        "stack": stack,
        "orgId": org_id,
        "bucket": bucket,
        "to": f"{to:%Y-%m-%dT%H:%M:%SZ}",
        "prefix": prefix,
        "applied": applied,
        **({"aborted": aborted} if aborted else {}),
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
        "undo": restore.undo,
        "warnings": restore.warnings,
    }


def render_text(document: dict[str, Any]) -> str:
    changes = document["changes"]
    failed = [change for change in changes if str(change.get("result", "")).startswith(FAILED)]
    done = sum(1 for change in changes if change.get("result", "not done") != "not done")
    if not document["applied"]:
        verb = "dry run, nothing changed; --apply to restore"
    elif aborted := document.get("aborted"):
        verb = f"stopped after {done} of {counted(len(changes), 'key')}: {aborted}; run it again to resume"
    elif failed:
        verb = f"applied: {len(failed)} of {counted(len(changes), 'key')} failed"
    else:
        verb = "restored"
    out = [
        f"restore of {document['bucket']}/{document['prefix']} to {document['to']} ({verb}): "
        f"{counted(document['keys'], 'key')}, {document['unchanged']} as they were then"
    ]
    for action in ACTIONS:
        summary = document["summary"][action]
        if not summary["keys"]:
            continue
        out.append(f"  {counted(summary['keys'], 'key')} {ACTION_TEXT[action]} ({human_bytes(summary['bytes'])})")
        keys = [change for change in changes if change["action"] == action]
        for change in keys[:KEYS_SHOWN]:
            result = change.get("result", "")
            shown = f"  [{'failed' if result.startswith(FAILED) else result}]" if result else ""
            out.append(f"      {change['key']}{shown}")
        out += _more(len(keys))
    for change in failed[:KEYS_SHOWN]:
        out.append(f"  FAILED {change['key']}: {change['result'].removeprefix(FAILED)}")
    out += _more(len(failed))
    if changes:
        out += [f"  {line}" for line in document["undo"]]
    out += [f"  warning: {warning}" for warning in document["warnings"]]
    # Keys are the tenant's: a control character in one must not rewrite the reader's terminal.
    return "\n".join(printable(line) for line in out) + "\n"


def _more(count: int) -> list[str]:
    return [f"      ... and {count - KEYS_SHOWN} more (see the report)"] if count > KEYS_SHOWN else []


def report_problem(path: Path) -> str | None:
    """Why the report cannot be written at `path`, found before anything is asked of AWS."""
    try:
        if path.is_dir():
            return f"--report {path} is a folder: give a file name"
        if not path.parent.is_dir():
            return f"--report {path}: the folder {path.parent} does not exist"
        if not os.access(path if path.exists() else path.parent, os.W_OK):
            return f"--report {path} cannot be written: permission denied"
    except (OSError, ValueError) as error:  # a name too long, a NUL byte
        return f"--report {quoted(str(path))} cannot be a file name: {getattr(error, 'strerror', None) or error}"
    return None


def versioned(s3: Any, bucket: str, org_id: str, stack: str) -> bool:
    """Whether the bucket keeps versions; a missing bucket or versioning not enabled is said with its fix."""
    from botocore.exceptions import ClientError

    try:
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            raise CommandFailed(
                f"bucket {bucket} does not exist in this account: is tenant {org_id} deployed "
                f"(pulumi up --stack {stack})?"
            ) from None
        raise
    if status == "Enabled":
        return True
    enable = f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"
    if status == "Suspended":
        print(
            f"restore: bucket {bucket} has versioning suspended: objects written since then replaced their only "
            f"version, so the bucket cannot be brought back to a point in time; re-enable versioning (the stack "
            f"declares it: pulumi up --stack {stack}, or `{enable}`)",
            file=sys.stderr,
        )
    else:
        print(
            f"restore: bucket {bucket} is not versioned: there is no earlier version to restore "
            f"(the stack declares versioning: pulumi up --stack {stack}, or `{enable}`)",
            file=sys.stderr,
        )
    return False


def run_restore(
    project_dir: Path,
    stack: str,
    org_id: str,
    to_text: str,
    prefix: str,
    delete_newer: bool,
    apply: bool,
    report: str | None,
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
        if report == "":
            raise CommandFailed("--report is empty: give a file name")
        path = Path(report or f"restore-{org_id}-{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%SZ}.json")
        if problem := report_problem(path):
            raise CommandFailed(problem)
        context = load_stack(project_dir, stack)
        tenant = tenant_of(project_dir, stack, org_id, context.tenants)
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
        if not versioned(s3, bucket, org_id, stack):
            return 1
        progress = Progress()
        versions = list_versions(s3, bucket, prefix, progress)
        restore = Restore(aws, bucket, plan_restore(versions, to, delete_newer))
        restore.undo = undo_window(settings.noncurrent_version_expiration_days, delete_newer)
        if warning:
            restore.warnings.append(warning)
        if not versions:
            restore.warnings.append(
                f"no key is under the prefix {quoted(prefix)} "
                "(a prefix is case-sensitive and matches from the key's start)"
                if prefix
                else "the bucket holds no object and no version"
            )
        if ambiguous := restore.plan.ambiguous:
            restore.warnings.append(
                f"{counted(len(ambiguous), 'key')} got a version and a delete marker within one second before "
                f"--to (S3 times them to the second), so which came last is unknown; the version is restored: "
                f"{', '.join(ambiguous[:KEYS_SHOWN])}{' ...' if len(ambiguous) > KEYS_SHOWN else ''}"
            )
        restore.drop_already_restored()

        def finish(aborted: str | None = None) -> bool:
            """Say what was done and write the report; whether the report was written."""
            progress.done()
            document = report_document(stack, org_id, bucket, to, prefix, apply, restore, aborted)
            sys.stdout.write(render_text(document))
            try:
                path.write_text(json.dumps(document, indent=2) + "\n")
            except OSError as error:
                print(f"restore: could not write the report to {path}: {error.strerror or error}", file=sys.stderr)
                return False
            print(f"restore: report written to {path}", file=sys.stderr)
            return True

        if apply:
            try:
                restore.apply(progress)
            except KeyboardInterrupt:
                finish("interrupted")
                raise
            except Exception as error:  # any abort keeps the count of what was done, then is reported as before
                finish(type(error).__name__ if not str(error) else str(error).splitlines()[0])
                raise
        written = finish()
        return 1 if restore.failed or not written else 0

    return run_command("restore", body, RESTORE_ACCESS)
