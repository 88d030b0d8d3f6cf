"""The `tenant-storage` command: plan, validate and check every tenant's AWS storage from tenants.yaml.

Also `python -m cli`. The project is the folder you stand in, or the nearest above it holding Pulumi.yaml
(as git and Pulumi find theirs), or the one `-C DIR` names. Each command lives in cli/commands.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from cli.commands import COMMANDS, options_of
from review.risk_classes import ADVISORY, RISK_CLASSES
from tenant_storage import ALL_STACKS

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = "Pulumi.yaml"
# What runs without a project: the shell's completion script.
NEEDS_NO_PROJECT = frozenset({"completion"})

EXIT_CODES = f"""exit status:
  0  all clear
  1  findings: an input is invalid (every problem is printed), a mandatory policy-pack rule is broken,
     a bucket name is taken (check-names), undeclared resources (discover) or drift (audit)
  2  could not run: a usage or git error, no project here, no AWS credentials, throttling, no Pulumi CLI
  3  (plan --base) a risk of a --fail-on class (by default every class but {" and ".join(ADVISORY)})
each command's --help lists its own"""


def version() -> str:
    """The installed version; from pyproject.toml when the project runs from a checkout without installing."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("tenant-storage")
    except PackageNotFoundError:
        import tomllib

        return str(tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"])


def commands_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser, by name."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


class Parser(argparse.ArgumentParser):
    """argparse, with the closest choice suggested for a mistyped one (a command, a --format) as for names."""

    def _check_value(self, action: argparse.Action, value: object) -> None:
        choices = action.choices
        if choices is not None and isinstance(value, str) and value not in choices:
            from tenant_storage.errors import not_one_of

            raise argparse.ArgumentError(action, not_one_of(value, [str(choice) for choice in choices]))
        super()._check_value(action, value)

    def error(self, message: str) -> NoReturn:
        # argparse quotes what was typed whole: a megabyte typed is not a megabyte said.
        super().error(message if len(message) <= 2000 else message[:2000] + "...")


def project_dir_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-C",
        "--project-dir",
        metavar="DIR",
        default=default,
        help=f"the project (the folder holding {PROJECT_FILE}); default: the current folder or the nearest above it",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tenant-storage",
        description="Plan, validate and check every tenant's AWS storage, from tenants.yaml.",
        epilog=f"run `tenant-storage <command> --help` for a command's options and examples\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tenant-storage {version()}")
    project_dir_option(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>", parser_class=Parser)
    for add_command in COMMANDS:
        add_command(commands)
    for name, subparser in commands_of(parser).items():
        if name not in NEEDS_NO_PROJECT:
            # Also after the command (`tenant-storage plan -C ../other`); SUPPRESS keeps a -C given before it.
            project_dir_option(subparser, default=argparse.SUPPRESS)
    return parser


def find_project(start: Path) -> Path | None:
    """The nearest folder from `start` upwards that holds Pulumi.yaml."""
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def other_project(folder: Path) -> str | None:
    """What the folder's Pulumi.yaml names when it is not this project: planning it would run another program."""
    from tenant_storage.deploy_inputs import PROJECT_NAME
    from tenant_storage.errors import InvalidInput
    from tenant_storage.yaml_reader import load_yaml, read_text

    try:
        document = load_yaml(read_text(folder / PROJECT_FILE, "the project file"), PROJECT_FILE)
    except InvalidInput:
        return None  # validate says what is wrong with it, with its line
    name = document.get("name") if isinstance(document, dict) else None
    return None if name == PROJECT_NAME else repr(name)


def missing_dependency(error: ModuleNotFoundError) -> int:
    """A dependency missing from the Python that runs the command: say which Python, and the one to use."""
    print(
        f"tenant-storage: the module {error.name!r} is not installed for {sys.executable}: run the command from "
        "the project's environment (`make install`, then `.venv/bin/tenant-storage`, or `make plan`)",
        file=sys.stderr,
    )
    return 2


def with_completers(parser: argparse.ArgumentParser, project_dir: Path | None) -> argparse.ArgumentParser:
    """`parser`, completing --stack with the project's stacks (and all where the command takes it), an orgId with
    its tenants, and --fail-on with the risk classes."""
    from tenant_storage.stacks import stack_names

    def stacks(with_all: bool) -> object:
        def complete(**_: object) -> list[str]:
            names = stack_names(project_dir) if project_dir else []
            return [*names, ALL_STACKS] if with_all else names

        return complete

    def org_ids(**_: object) -> list[str]:
        from tenant_storage.errors import InvalidInput
        from tenant_storage.registry import load_registry

        if project_dir is None:
            return []
        try:
            return [tenant.org_id for tenant in load_registry(project_dir / "tenants.yaml").tenants]
        except InvalidInput:
            return []  # a broken registry completes nothing; `validate` says why

    def classes(prefix: str, **_: object) -> list[str]:
        done, _comma, typed = prefix.rpartition(",")
        lead = f"{done}," if done else ""
        return [f"{lead}{name}" for name in (*RISK_CLASSES, "none") if name.startswith(typed)]

    for subparser in commands_of(parser).values():
        for action in subparser._actions:
            if action.dest == "stack":
                action.completer = stacks(getattr(action, "takes_all", False))  # type: ignore[attr-defined]
            elif action.dest == "org_id":
                action.completer = org_ids  # type: ignore[attr-defined]
            elif action.dest == "fail_on":
                action.completer = classes  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None, project_dir: Path | None = None) -> int:
    """Run a command line. The project is the one -C names, else `project_dir` when given (tests), else the nearest
    folder with Pulumi.yaml from the current one upwards."""
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (see `completion`): answer and exit
        import argcomplete

        try:
            here: Path | None = Path.cwd()
        except FileNotFoundError:  # the folder was deleted under the shell: nothing to complete from
            here = None
        argcomplete.autocomplete(with_completers(parser, project_dir or (find_project(here) if here else None)))
    options, unrecognised = parser.parse_known_args(argv)
    command = commands_of(parser)[options.command]  # a usage error names the command's own usage
    if unrecognised:
        command.error(f"unrecognized arguments: {' '.join(unrecognised)}")
    if options.command == "plan" and options.base is None:
        for needs_base in ("--full", "--fail-on"):
            if getattr(options, needs_base.removeprefix("--").replace("-", "_")) not in (None, False):
                command.error(f"{needs_base} needs --base: it applies to the changes against a base revision")
    try:
        project = _project(options, command, project_dir)
        if project_dir is None and options.command not in NEEDS_NO_PROJECT:
            # Which checkout this is, before anything else: a second clone's tool reads the folder you stand in.
            print(f"tenant-storage: project {project}", file=sys.stderr)
        return int(options.handler(project, options_of(options.handler, options)))
    except ModuleNotFoundError as error:
        if error.name is None or (PROJECT_DIR / error.name.split(".")[0]).exists():
            raise  # one of the project's own modules: a bug, not the environment
        return missing_dependency(error)
    except KeyboardInterrupt:
        # A command with partial work to account for (restore) has said what it did before this.
        print(f"{options.command}: interrupted", file=sys.stderr)
        return 130


def _project(options: argparse.Namespace, command: argparse.ArgumentParser, given: Path | None) -> Path:
    """The project folder the command runs on; a usage error (exit 2) when there is none."""
    from tenant_storage.errors import quoted

    if options.command in NEEDS_NO_PROJECT:
        return given or Path(".")
    named = getattr(options, "project_dir", None)
    if named is not None:
        try:
            folder = Path(named).resolve()
            found = (folder / PROJECT_FILE).is_file()
        except (OSError, ValueError):  # a NUL byte, a name longer than the system takes
            found = False
        if not found:
            command.error(f"-C/--project-dir {quoted(named)}: no {PROJECT_FILE} there; give a tenant-storage checkout")
        if (name := other_project(folder)) is not None:
            command.error(f"-C/--project-dir {quoted(named)}: its {PROJECT_FILE} is project {name}, not tenant-storage")
        return folder
    if given is not None:
        return given
    try:
        here = Path.cwd()
    except FileNotFoundError:  # the folder was deleted under the shell
        command.error("the current folder no longer exists: cd into your checkout, or give -C DIR")
    found_above = find_project(here)
    if found_above is None:
        command.error(
            f"no tenant-storage project here: no {PROJECT_FILE} in {here} or any folder above it; "
            "cd into your checkout, or give -C DIR"
        )
    if (name := other_project(found_above)) is not None:
        command.error(
            f"the nearest {PROJECT_FILE}, in {found_above}, is project {name}, not tenant-storage: "
            "cd into your tenant-storage checkout, or give -C DIR"
        )
    return found_above
