"""The program's only contact with Pulumi config; parsing and validation live in tenant_storage.stacks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pulumi
from pulumi.runtime import config as runtime_config

from tenant_storage.errors import InvalidInput


def read_stack_config() -> dict[str, str | None]:
    """Every setting the Pulumi engine passed, whoever set it (objects as JSON text): the program refuses any that
    the committed stack file does not say, so none can reach the provider unreviewed."""
    passed = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {key: None if value is None else str(value) for key, value in passed.items()}


def read_secret_keys() -> frozenset[str]:
    """The settings the engine passed as secrets (decrypted `secure:` values)."""
    return frozenset(key for key in read_stack_config() if runtime_config.is_config_secret(key))


def deploy_environment() -> Mapping[str, str]:
    """The environment the deploy runs in. The offline plan replaces it: it plans for the deploy job, not for the
    shell it runs in."""
    return os.environ


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
