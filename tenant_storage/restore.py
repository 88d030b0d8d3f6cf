"""Point-in-time restore of a versioned bucket: which object versions bring a prefix back to its state at a time.

Pure: it reads the versions `ListObjectVersions` listed and says, per key, what the restore does. It never
deletes a version. A key whose state at `to` was an object that has since been overwritten or deleted gets
that version copied back on top (a new version, so the restore itself can be undone); a key that did not
exist at `to` but exists now is "newer": kept, or hidden under a delete marker with `delete_newer`.

S3 reports `LastModified` to the second, so `to` is compared at one-second resolution: a version listed at
10:00:00 existed at 10:00:00. Within a key, object versions are listed newest first, which orders versions
of one second; but boto3 returns versions and delete markers as two lists, so a version and a delete marker
of the same second cannot be ordered. Such a key's state then is ambiguous: the restore takes the version
(restoring data can be undone; losing it cannot) and names the key.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from tenant_storage.errors import quoted

# The tag a restored copy carries, naming the version it restores: the next run sees the key as restored.
RESTORED_FROM_TAG = "tenant-storage-restored-from"
MAX_TAGS_PER_OBJECT = 10  # S3's limit

Action = Literal["restore-overwritten", "restore-deleted", "newer-kept", "newer-deleted"]
ACTIONS: tuple[Action, ...] = ("restore-overwritten", "restore-deleted", "newer-kept", "newer-deleted")
ACTION_TEXT: Mapping[Action, str] = {
    "restore-overwritten": "overwritten since then: each gets its version from then copied back on top",
    "restore-deleted": "deleted since then: each gets its version from then copied back on top",
    "newer-kept": "created since then: kept (--delete-newer would hide each under a delete marker)",
    "newer-deleted": "created since then: each hidden under a delete marker (its versions stay)",
}


@dataclass(frozen=True)
class Version:
    """One entry of `ListObjectVersions`: an object version or a delete marker."""

    key: str
    version_id: str
    last_modified: datetime.datetime
    is_latest: bool
    delete_marker: bool = False
    size: int = 0
    # Each version keeps its own storage class (its price); the listing names it (a delete marker has none).
    storage_class: str = "STANDARD"


@dataclass(frozen=True)
class KeyChange:
    key: str
    action: Action
    # The version copied back (restore-*), or the current version hidden (newer-*).
    version_id: str
    size: int
    # The current version: a restore replaces it unless it is already a restored copy of `version_id`.
    current_version_id: str = ""
    # The storage class of the version copied back: its copy keeps it.
    storage_class: str = "STANDARD"

    @property
    def restores(self) -> bool:
        return self.action in ("restore-overwritten", "restore-deleted")


@dataclass
class RestorePlan:
    changes: list[KeyChange] = field(default_factory=list)
    unchanged: int = 0
    keys: int = 0
    # Keys whose last change before `to` was a version and a delete marker within one second.
    ambiguous: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def bytes(self, action: Action) -> int:
        return sum(change.size for change in self.changes if change.action == action)


def parse_time(text: str) -> datetime.datetime:
    """ISO 8601 with a zone (`2026-11-30T10:00:00Z`, `...+01:00`), as an aware UTC datetime; ValueError else."""
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{quoted(text)} is not an ISO 8601 time, for example 2026-11-30T10:00:00Z") from None
    if value.tzinfo is None:
        raise ValueError(f"{quoted(text)} has no zone: add Z for UTC or an offset, for example 2026-11-30T10:00:00Z")
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError(f"{quoted(text)} is out of range: in UTC it falls outside years 1 to 9999") from None


def time_problem(to: datetime.datetime, now: datetime.datetime, retention_days: int) -> tuple[str | None, str | None]:
    """(an error, a warning) about restoring to `to`: a future time is refused; a time older than the bucket
    keeps noncurrent versions may find some versions gone."""
    if to > now:
        return f"{to:%Y-%m-%dT%H:%M:%SZ} is in the future (now {now:%Y-%m-%dT%H:%M:%SZ})", None
    if now - to > datetime.timedelta(days=retention_days):
        return None, (
            f"{to:%Y-%m-%dT%H:%M:%SZ} is more than the stack's {retention_days} days of noncurrent-version "
            "retention ago: versions replaced or deleted before then may be gone, and keys whose versions from "
            "then are gone look newer than they are"
        )
    return None, None


def undo_window(retention_days: int, delete_newer: bool) -> list[str]:
    """How long what the restore supersedes or hides stays recoverable: the stack's lifecycle rule
    `expire-noncurrent-versions` deletes a version for good `noncurrentVersionExpirationDays` after it stops
    being current (S3 user guide, "Lifecycle configuration elements", NoncurrentVersionExpiration)."""
    said = [
        f"undo window: the versions this restore replaces stay recoverable for {retention_days} days "
        "(noncurrentVersionExpirationDays), then the lifecycle deletes them for good"
    ]
    if delete_newer:
        said.append(
            f"undo window: the keys hidden under delete markers keep their versions for {retention_days} days; "
            "remove a delete marker before then to bring its key back"
        )
    return said


def plan_restore(versions: Iterable[Version], to: datetime.datetime, delete_newer: bool = False) -> RestorePlan:
    """What brings each listed key back to its state at `to` (versions listed newest first within a key)."""
    at = to.replace(microsecond=0)
    by_key: dict[str, list[Version]] = {}
    for version in versions:
        by_key.setdefault(version.key, []).append(version)
    plan = RestorePlan(keys=len(by_key))
    for key, listed in by_key.items():
        current = next((version for version in listed if version.is_latest), listed[0])
        then, ambiguous = _state_at(listed, at)
        if ambiguous:
            plan.ambiguous.append(key)
        change = _change(key, current, then, delete_newer)
        if change is None:
            plan.unchanged += 1
        else:
            plan.changes.append(change)
    plan.changes.sort(key=lambda change: change.key)
    plan.ambiguous.sort()
    return plan


def _state_at(listed: list[Version], at: datetime.datetime) -> tuple[Version | None, bool]:
    """The newest version or delete marker of a key made at or before `at` (None: it did not exist), and whether
    a version and a delete marker share that second, so that which came last is unknown."""
    before = [version for version in listed if _second(version) <= at]
    if not before:
        return None, False
    current = next((version for version in before if version.is_latest), None)
    if current is not None:
        return current, False
    last_second = max(_second(version) for version in before)
    tied = [version for version in before if _second(version) == last_second]
    objects = [version for version in tied if not version.delete_marker]  # listed newest first
    if objects:
        return objects[0], len(objects) < len(tied)
    return tied[0], False


def _second(version: Version) -> datetime.datetime:
    return version.last_modified.replace(microsecond=0)


def _change(key: str, current: Version, then: Version | None, delete_newer: bool) -> KeyChange | None:
    existed = then is not None and not then.delete_marker
    if not existed:
        if current.delete_marker:
            return None
        action: Action = "newer-deleted" if delete_newer else "newer-kept"
        return KeyChange(key, action, current.version_id, current.size, current.version_id)
    assert then is not None
    if current.version_id == then.version_id:
        return None
    action = "restore-deleted" if current.delete_marker else "restore-overwritten"
    return KeyChange(
        key,
        action,
        then.version_id,
        then.size,
        "" if current.delete_marker else current.version_id,
        then.storage_class,
    )


def is_restored_copy(current_tags: Mapping[str, str], change: KeyChange) -> bool:
    """Whether the current version is already this restore's copy of `change.version_id` (a run before)."""
    return change.action == "restore-overwritten" and current_tags.get(RESTORED_FROM_TAG) == change.version_id
