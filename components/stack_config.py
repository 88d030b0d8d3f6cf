"""The program's only contact with Pulumi config; parsing and validation live in tenant_storage.stacks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pulumi

from tenant_storage.errors import InvalidInput
from tenant_storage.stacks import CONFIG_KEYS, GUARDED_PROVIDER_KEYS


def read_stack_config() -> dict[str, str | None]:
    """Each key the program reads or guards, as Pulumi passes it (objects as JSON text), None when unset."""
    values: dict[str, str | None] = {}
    for full_key in (*CONFIG_KEYS, *GUARDED_PROVIDER_KEYS):
        namespace, key = full_key.split(":", 1)
        values[full_key] = pulumi.Config(namespace).get(key)
    return values


class InputRefused(pulumi.RunError):
    """A clean Pulumi error (no traceback) that keeps the problems for tools such as the offline plan."""

    def __init__(self, error: InvalidInput) -> None:
        super().__init__(str(error))
        self.problems = error.problems


NOT_UNDER_THE_ENGINE = (
    "__main__.py is the Pulumi program: the Pulumi CLI runs it (pulumi preview --stack <stack>, pulumi up); "
    "offline, run `make plan` or `.venv/bin/tenant-storage plan`"
)


@contextmanager
def refusing_invalid_input() -> Iterator[None]:
    """Report input problems before any resource exists; run by hand (`python __main__.py`, no engine and no
    mocks to register with), say how the program is run instead of failing on a stack named "stack"."""
    if pulumi.runtime.settings.get_monitor() is None:
        print(NOT_UNDER_THE_ENGINE, file=sys.stderr)
        raise SystemExit(2)
    try:
        yield
    except InvalidInput as error:
        raise InputRefused(error) from None
