"""No traceback for anything a user can type: every subcommand, and every option of each with values it
must refuse, generated from the parser itself (a new option is covered the day it is added).

Each command line runs in-process against the fixture project, with credentials that sign nothing and
an endpoint where nothing listens, so a command that gets past its arguments fails on AWS, cleanly.
The outcome must be an exit status (argparse's 2, a command's 1 or 2), never an exception.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import build_parser, commands_of, main
from tests.conftest import make_project

# Hundreds of command lines, a few of them planning the fleet: `make test` only.
pytestmark = pytest.mark.slow

UNREACHABLE = "http://127.0.0.1:9"
# Values no option accepts as meaningful: empty, a NUL byte, control characters, a path that cannot be,
# a negative number, an enormous one, and a string of a megabyte.
HOSTILE_VALUES = (
    *("", "\x00", "\x1b[2J\r", "/nonexistent/dir/file", "-1", "9" * 400, "x" * 1_000_000),
    *("http://[::1", "http://127.0.0.1:99999", "http://a b"),  # URLs that look like one (--endpoint-url)
)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    return commands_of(build_parser())


def valid_baseline(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """The least a command line of `name` needs to get past argparse: its positionals and required options."""
    arguments: list[str] = []
    for action in parser._actions:
        if not action.option_strings and action.dest != "help":
            arguments.append("xmsqa1")
        elif action.required:
            value = {"--stack": "qa", "--to": "2026-11-30T10:00:00Z"}.get(action.option_strings[-1], "qa")
            arguments += [action.option_strings[-1], value]
    return arguments


def command_lines() -> Iterator[tuple[str, list[str]]]:
    for name, parser in subcommands().items():
        baseline = [name, *valid_baseline(name, parser)]
        yield f"{name} with nothing", [name]
        yield f"{name} baseline", baseline
        yield f"{name} with an option it does not have", [*baseline, "--bogus"]
        for action in parser._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            option = action.option_strings[-1]
            if action.nargs == 0:  # a flag: given twice, and with a value it does not take
                yield f"{name} {option} twice", [*baseline, option, option]
                yield f"{name} {option}=value", [*baseline, f"{option}=value"]
                continue
            yield f"{name} {option} without its value", [*baseline, option]
            for index, value in enumerate(HOSTILE_VALUES):
                yield f"{name} {option} hostile {index}", [*baseline, f"{option}={value}"]
            for index, value in enumerate(HOSTILE_VALUES[:3]):
                if not action.required:
                    continue
                yield f"{name} positional hostile {index}", [name, value, *baseline[2:]]


CASES = dict(command_lines())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("every-option") / "project")


@pytest.fixture(autouse=True)
def nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials that sign nothing, no Pulumi CLI, and the working folder a scratch one."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)  # the stack's region must do
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    # The sandbox runs until Ctrl-C: here it stops as soon as it is ready (tests/test_sandbox.py runs it whole).
    monkeypatch.setattr("emulator.sandbox.serve_until_stopped", lambda stop: None)


@pytest.mark.parametrize("arguments", CASES.values(), ids=CASES.keys())
def test_every_command_line_ends_in_an_exit_status_not_a_traceback(project, arguments, capsys):
    if "--endpoint-url" in _options_of(arguments[0]) and not any(a.startswith("--endpoint-url") for a in arguments):
        arguments = [*arguments, "--endpoint-url", UNREACHABLE]
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(arguments, project)
        except SystemExit as exit_status:  # argparse's usage errors, --help and --version
            status = exit_status.code
    err = capsys.readouterr().err
    assert status in (0, 1, 2, 3), f"exit {status!r}:\n{err[-3000:]}"
    assert "Traceback" not in err
    if status:  # a refusal says what is wrong, in the program's words
        assert err.strip(), f"exit {status} and nothing said"
        assert "You must specify a region" not in err, err
    if err.startswith("usage: tenant-storage"):  # the usage of the command typed, not the top-level one
        assert err.startswith(f"usage: tenant-storage {arguments[0]} "), err[-3000:]
    assert len(err) < 20_000, f"a value was echoed whole: {len(err):,} characters said"


def _options_of(command: str) -> set[str]:
    parser = subcommands().get(command)
    return {option for action in parser._actions for option in action.option_strings} if parser else set()
