"""Incremental review: when only tenants.yaml changed, plan only the tenants that changed.

A change to a stack file, to accounts.yaml or to the program can touch every tenant of a stack, so only a
registry-only change qualifies, when both revisions' programs are the tool's own. Both revisions'
registries are still validated whole when their plans run.
"""

from __future__ import annotations

import os
from pathlib import Path

from review.program import is_the_tools_program
from tenant_storage.accounts import ACCOUNTS_FILE
from tenant_storage.errors import InvalidInput
from tenant_storage.inputs import TENANTS_FILE
from tenant_storage.registry import Tenant, load_registry
from tenant_storage.stacks import stack_file_name, stack_names
from tenant_storage.yaml_reader import is_regular_file

SHARED_INPUTS = (ACCOUNTS_FILE,)


def changed_tenants(base_dir: Path, head_dir: Path) -> frozenset[str] | None:
    """The orgIds whose entries differ between the two revisions, or None when a full plan is needed."""
    if not (is_the_tools_program(base_dir) and is_the_tools_program(head_dir)):
        return None  # a revision planned with a program of its own is planned whole
    if stack_names(base_dir) != stack_names(head_dir):
        return None
    for name in (*SHARED_INPUTS, *(stack_file_name(stack) for stack in stack_names(head_dir))):
        if _bytes(base_dir / name) != _bytes(head_dir / name):
            return None
    try:
        base, head = _tenants(base_dir), _tenants(head_dir)
    except InvalidInput:
        return None  # an invalid registry is reported by the full plan, with every problem
    return frozenset(org_id for org_id in base.keys() | head.keys() if base.get(org_id) != head.get(org_id))


def _bytes(path: Path) -> bytes | None:
    """The file's bytes; anything that is not a regular file differs from everything (the full plan refuses it)."""
    if is_regular_file(path):
        return path.read_bytes()
    return None if not os.path.lexists(path) else f"not a regular file: {path}".encode()


def _tenants(project_dir: Path) -> dict[str, Tenant]:
    return {tenant.org_id: tenant for tenant in load_registry(project_dir / TENANTS_FILE).tenants}
