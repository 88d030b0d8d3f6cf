"""One command, `tenant-storage`, for people first: help with examples and exit codes, a short summary,
progress on long runs, and make targets that say what they do."""

import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cli.colour import coloured, wants_colour
from cli.main import build_parser, commands_of, main
from cli.plan import Progress, run_plan
from mock_runtime.runner import PROJECT_DIR
from tenant_storage.registry import load_registry
from tenant_storage.stacks import stack_names
from tests.conftest import fixture_project, make_project

SUBCOMMANDS = ("plan", "stacks", "validate", "check-names", "discover", "audit", "credentials")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestHelp:
    def test_the_console_script_lists_every_subcommand_and_the_exit_codes(self):
        script = Path(sys.executable).parent / "tenant-storage"
        result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
        for command in SUBCOMMANDS:
            assert f"    {command}" in result.stdout
        assert "exit status:" in result.stdout
        assert "2  could not run" in result.stdout

    def test_python_dash_m_cli_still_works(self):
        result = subprocess.run(
            [sys.executable, "-m", "cli", "--help"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
        )
        assert "usage: tenant-storage" in result.stdout

    @pytest.mark.parametrize("command", SUBCOMMANDS)
    def test_every_subcommand_explains_itself_with_an_example_and_the_exit_codes(self, command, capsys):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "example" in out
        assert f"tenant-storage {command}" in out
        assert "exit status:" in out

    def test_each_subcommands_help_lists_its_own_exit_statuses_only(self, capsys):
        commands = commands_of(build_parser())
        for command in commands:
            with pytest.raises(SystemExit):
                main([command, "--help"])
            out = capsys.readouterr().out
            block = out[out.index("exit status:") : out.index("\noptions:")]
            # The shared list said `(check-names)`, `(plan --base)`: a status that belongs to another command.
            others = [other for other in commands if other != command and re.search(rf"\({other}[ )]", block)]
            assert others == [], f"{command}'s exit statuses speak of {others}:\n{block}"
            assert ("  3  " in block) == (command == "plan"), block

    def test_every_option_has_help_text(self):
        parser = build_parser()
        for command, subparser in commands_of(parser).items():
            for action in subparser._actions:
                assert action.help, f"{command} {action.option_strings or action.dest} has no help"

    def test_a_usage_error_exits_2(self, capsys):
        with pytest.raises(SystemExit) as raised:
            main(["plan", "--format", "yaml"])
        assert raised.value.code == 2


class TestVersion:
    def test_version_is_the_projects_and_the_changelogs_newest(self, capsys):
        with pytest.raises(SystemExit) as exit_status:
            main(["--version"])
        printed = capsys.readouterr().out.strip()
        declared = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"]
        newest = re.search(r"^## (\S+)", (PROJECT_DIR / "CHANGELOG.md").read_text(), re.MULTILINE)
        assert (exit_status.value.code, printed) == (0, f"tenant-storage {declared}")
        assert newest is not None
        assert newest.group(1) == declared


class TestProgress:
    def test_a_terminal_sees_tenants_counted_on_one_line(self):
        terminal = FakeTerminal()
        progress = Progress(terminal)
        progress.start("planning stack qa")
        for count in range(1, 51):
            progress.tenants_declared(count)
        progress.done()
        # Before the first tenant only the stack: "0 tenants declared" read as an empty registry.
        assert terminal.getvalue().startswith("\r\033[Kplanning stack qa...")
        assert "0 tenants declared" not in terminal.getvalue().replace("50 tenants", "")
        assert "planning stack qa: 50 tenants declared" in terminal.getvalue()
        assert "\n" not in terminal.getvalue()

    def test_a_pipe_or_file_sees_nothing(self):
        stream = io.StringIO()
        progress = Progress(stream)
        progress.start("planning stack qa")
        progress.tenants_declared(25)
        progress.done()
        assert stream.getvalue() == ""

    def test_the_plan_reports_each_stack_it_plans(self, capsys):
        terminal = FakeTerminal()
        assert run_plan(fixture_project(), "all", "text", None, progress=Progress(terminal)) == 0
        assert "planning stack prod..." in terminal.getvalue()
        assert "planning stack qa..." in terminal.getvalue()
        assert "\r" not in capsys.readouterr().out


class TestMake:
    def test_make_help_lists_the_targets(self):
        result = subprocess.run(
            ["make", "--no-print-directory", "help"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
        )
        for target in ("plan", "test", "install", "lock", "typecheck"):
            assert f"make {target} " in result.stdout

    def test_an_old_python_is_refused_at_once_and_nothing_is_installed(self, tmp_path):
        for name in ("Makefile", "pyproject.toml", "uv.lock"):
            shutil.copy(PROJECT_DIR / name, tmp_path / name)
        old_python = tmp_path / "python3.10"
        old_python.write_text(
            '#!/bin/sh\n[ "$1" = "--version" ] && { echo "Python 3.10.12"; exit 0; }\n'
            'exec "$REAL_PYTHON" -c "import sys; sys.exit(1)"\n'
        )
        old_python.chmod(old_python.stat().st_mode | stat.S_IXUSR)
        env = {**os.environ, "REAL_PYTHON": sys.executable, "PATH": f"{tmp_path}:/usr/bin:/bin"}
        result = subprocess.run(
            ["make", "plan", f"PYTHON={old_python}"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode != 0
        assert "tenant-storage needs Python 3.11 or newer" in result.stderr
        assert "Python 3.10.12" in result.stderr
        assert not (tmp_path / ".venv").exists()
        assert not (tmp_path / ".tools").exists()


def test_stacks_lists_each_stack_with_its_class_for_ci_matrices(capsys):
    import json

    assert main(["stacks", "--format", "json"], project_dir=fixture_project()) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"stack": "prod", "productionClass": True, "accounts": ["111111111111"]},
        {"stack": "qa", "productionClass": False, "accounts": ["222222222222"]},
    ]


def test_stacks_refuses_a_stack_file_that_validate_refuses(project, capsys):
    path = project / "Pulumi.qa.yaml"
    path.write_text(path.read_text().replace("config:\n", "config:\n  tenant-storage:protectBucket: true\n", 1))
    assert main(["validate"], project_dir=project) == 1
    capsys.readouterr()
    assert main(["stacks", "--format", "json"], project_dir=project) == 1
    said = capsys.readouterr()
    assert (said.out, said.err) == (
        "",
        "stacks: invalid stack files: Pulumi.qa.yaml; run `tenant-storage validate` for each problem\n",
    )


def counted_registry_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each path the inputs' reader reads the registry from, from now on."""
    from tenant_storage import inputs, registry

    reads: list[Path] = []

    def load_registry(path: Path, *args: Any) -> registry.TenantRegistry:
        reads.append(path)
        return registry.load_registry(path, *args)

    monkeypatch.setattr(inputs, "load_registry", load_registry)
    return reads


@pytest.mark.parametrize("valid", [True, False], ids=["valid inputs", "a registry with a problem"])
def test_validate_reads_each_input_file_once_however_many_stacks_check_it(project, monkeypatch, capsys, valid):
    """A registry of a million entries takes seconds to parse: it is read once, not once per stack."""
    if not valid:
        path = project / "tenants.yaml"
        path.write_text(path.read_text().replace("environment: qa", "environment: qaa", 1))
    reads = counted_registry_reads(monkeypatch)
    assert len(list(project.glob("Pulumi.*.yaml"))) >= 2  # two stacks at least
    assert main(["validate"], project_dir=project) == (0 if valid else 1)
    assert len(reads) == 1
    assert ("qaa" in capsys.readouterr().err) is not valid


def test_validate_without_a_stack_file_says_so_without_reading_the_registry(project, monkeypatch, capsys):
    for path in project.glob("Pulumi.*.yaml"):
        path.unlink()
    reads = counted_registry_reads(monkeypatch)
    assert main(["validate"], project_dir=project) == 1
    assert "no Pulumi.<stack>.yaml stack file" in capsys.readouterr().err
    assert reads == []


@pytest.mark.parametrize("option", [["--full"], ["--fail-on", "none"]])
def test_an_option_of_base_without_base_is_a_usage_error(option, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["plan", *option], project_dir=fixture_project())
    assert exit_status.value.code == 2
    assert f"error: {option[0]} needs --base" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("  tenant-storage:protectBucket: true\n", "unknown setting (did you mean 'protectBuckets'?)"),
        ("  tenant-storage:bucketNamespace: account_regional\n", "(did you mean 'account-regional'?)"),
    ],
)
def test_a_misspelt_setting_or_value_gets_the_closest(project, capsys, line, hint):
    path = project / "Pulumi.qa.yaml"
    path.write_text(path.read_text().replace("config:\n", "config:\n" + line, 1))
    assert main(["validate"], project_dir=project) == 1
    assert hint in capsys.readouterr().err


class TestRunTheWrongWay:
    def test_a_python_without_the_dependencies_is_told_which_to_use(self):
        # `-S` hides site-packages: the system Python a user may run `python3 -m cli` with.
        result = subprocess.run(
            [sys.executable, "-S", "-m", "cli", "plan"], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1].startswith("tenant-storage: the module ")
        assert "is not installed for " in result.stderr

    def test_the_pulumi_program_run_by_hand_says_how_it_is_run(self, tmp_path):
        project = make_project(tmp_path / "project")
        result = subprocess.run(
            [sys.executable, str(project / "__main__.py")],
            cwd=PROJECT_DIR,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")])},
            capture_output=True,
            text=True,
            check=False,
        )
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.startswith("__main__.py is the Pulumi program: the Pulumi CLI runs it")


class TestCompletion:
    @pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
    def test_each_shell_gets_its_script(self, shell, capsys):
        assert main(["completion", shell]) == 0
        script = capsys.readouterr().out
        assert "tenant-storage" in script
        assert "_ARGCOMPLETE" in script

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("tenant-storage pl", ["plan"]),
            ("tenant-storage audit --format ", ["text", "json", "markdown"]),
            # The project's own stacks, whichever the user has (their names, not their data), and all.
            ("tenant-storage usage --stack ", [*stack_names(PROJECT_DIR), "all"]),
            # all only where the command takes it
            ("tenant-storage audit --stack ", stack_names(PROJECT_DIR)),
            ("tenant-storage plan --base main --fail-on data-loss,newly-", ["data-loss,newly-public"]),
        ],
    )
    def test_the_shell_protocol_completes_commands_choices_and_stacks(self, line, expected):
        # What bash's completion function does: the line in the environment, the answers on file descriptor 8.
        script = Path(sys.executable).parent / "tenant-storage"
        env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE": "1"}
        env["_ARGCOMPLETE_IFS"] = "\n"
        result = subprocess.run(
            ["bash", "-c", f"{script} 8>&1 9>/dev/null"], env=env, cwd=PROJECT_DIR, capture_output=True, text=True
        )
        assert [answer.strip() for answer in result.stdout.splitlines()] == expected, result.stderr

    def test_outside_a_project_no_stack_is_offered(self, tmp_path):
        script = Path(sys.executable).parent / "tenant-storage"
        line = "tenant-storage usage --stack "
        env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE": "1"}
        env["_ARGCOMPLETE_IFS"] = "\n"
        result = subprocess.run(
            ["bash", "-c", f"{script} 8>&1 9>/dev/null"], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert [answer.strip() for answer in result.stdout.splitlines()] == ["all"], result.stderr

    @pytest.mark.parametrize("command", ["restore", "credentials"])
    def test_an_org_id_completes_with_the_registry_tenants(self, command, tmp_path):
        # A project of its own (not the users' registry), so the shell protocol runs through main() itself;
        # in a child, as argcomplete writes to file descriptors 8 and 9.
        project = make_project(tmp_path / "project")
        line = f"tenant-storage {command} ac"
        env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE": "1"}
        env["_ARGCOMPLETE_IFS"] = "\n"
        program = "import sys; from pathlib import Path; from cli.main import main; main(None, Path(sys.argv[1]))"
        result = subprocess.run(
            ["bash", "-c", '"$0" -c "$1" "$2" 8>&1 9>/dev/null', sys.executable, program, str(project)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        declared = [tenant.org_id for tenant in load_registry(project / "tenants.yaml").tenants]
        expected = [org_id for org_id in declared if org_id.startswith("ac")]
        assert expected
        assert result.stdout.split() == expected, result.stderr


class TestColour:
    @pytest.mark.parametrize(
        ("terminal", "environment", "expected"),
        [
            (True, {}, True),
            (True, {"NO_COLOR": "1"}, False),
            (True, {"NO_COLOR": ""}, True),  # no-color.org: an empty value does not count
            (True, {"TERM": "dumb"}, False),
            (False, {}, False),  # piped or redirected
        ],
    )
    def test_colour_only_on_a_terminal_that_wants_it(self, terminal, environment, expected):
        stream = FakeTerminal() if terminal else io.StringIO()
        assert wants_colour(stream, environment) is expected

    def test_colour_marks_the_words_and_changes_no_text(self):
        text = "DATA LOSS: delete urn:x\n  RISK newly-public: bucket b\n  tenant added: acme\nresources: 1 to create"
        shown = coloured(text)
        assert "\033[1;31mDATA LOSS\033[0m" in shown
        assert "\033[33mRISK newly-public\033[0m" in shown
        assert "\033[32m  tenant added\033[0m" in shown
        assert shown.splitlines()[3] == "resources: 1 to create"
        assert re.sub(r"\033\[[0-9;]*m", "", shown) == text
        changes = coloured("    + aws:s3/bucket:Bucket b\n    +- aws:s3/bucket:Bucket c\n    ~ x y\n    = x z")
        assert changes.splitlines() == [
            "\033[32m    + \033[0maws:s3/bucket:Bucket b",
            "\033[31m    +- \033[0maws:s3/bucket:Bucket c",
            "\033[33m    ~ \033[0mx y",
            "\033[33m    = \033[0mx z",
        ]

    def test_plan_is_coloured_on_a_terminal_and_plain_with_no_color(self, project, monkeypatch):
        with (project / "tenants.yaml").open("a") as registry:
            registry.write("  - orgId: BAD\n    environment: qa\n")
        for no_color, expected in ((None, True), ("1", False)):
            terminal = FakeTerminal()
            monkeypatch.setattr(sys, "stdout", terminal)
            if no_color is None:
                monkeypatch.delenv("NO_COLOR", raising=False)
            else:
                monkeypatch.setenv("NO_COLOR", no_color)
            monkeypatch.delenv("TERM", raising=False)
            assert main(["plan", "--stack", "qa"], project_dir=project) == 1
            assert ("\033[31mrefused\033[0m" in terminal.getvalue()) is expected


def tool(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """This checkout's console script, run from `cwd`, as from a second clone or a subfolder."""
    script = Path(sys.executable).parent / "tenant-storage"
    return subprocess.run([str(script), *arguments], cwd=cwd, capture_output=True, text=True, check=False)


class TestTheProjectIsWhereYouStand:
    def test_another_clones_tool_reads_the_clone_you_stand_in(self, tmp_path):
        clone = make_project(tmp_path / "second-clone")
        registry = clone / "tenants.yaml"
        registry.write_text(registry.read_text().replace("orgId: xmsqa1", "orgId: BAD_ONE", 1))
        result = tool("validate", cwd=clone)
        assert result.returncode == 1, result
        assert "BAD_ONE" in result.stdout + result.stderr
        assert f"tenant-storage: project {clone}" in result.stderr

    def test_a_subfolder_finds_the_project_above_it(self, tmp_path):
        clone = make_project(tmp_path / "clone")
        (clone / "docs" / "deep").mkdir(parents=True)
        result = tool("stacks", cwd=clone / "docs" / "deep")
        assert result.returncode == 0, result
        assert f"tenant-storage: project {clone}" in result.stderr

    def test_dash_c_names_the_project_before_or_after_the_command(self, tmp_path):
        clone = make_project(tmp_path / "clone")
        for arguments in (("-C", str(clone), "stacks"), ("stacks", "--project-dir", str(clone))):
            result = tool(*arguments, cwd=tmp_path)
            assert result.returncode == 0, result
            assert f"tenant-storage: project {clone}" in result.stderr

    def test_no_project_is_a_clear_refusal_naming_where_it_looked(self, tmp_path):
        result = tool("validate", cwd=tmp_path)
        assert result.returncode == 2
        assert f"no tenant-storage project here: no Pulumi.yaml in {tmp_path} or any folder above it" in result.stderr
        assert "Traceback" not in result.stderr
        assert tool("-C", str(tmp_path), "validate", cwd=tmp_path).returncode == 2

    def test_the_json_names_the_project(self, tmp_path, capsys):
        clone = make_project(tmp_path / "clone")
        assert main(["plan", "--stack", "qa", "--format", "json"], clone) == 0
        import json

        assert json.loads(capsys.readouterr().out)["project"] == str(clone)


def test_each_commands_options_are_exactly_its_handlers_typed_options():
    """An option parsed and dropped, or read and never parsed, cannot exist: the parser's destinations are the
    fields of the dataclass its handler takes."""
    import dataclasses

    from cli.commands import options_type

    for name, subparser in commands_of(build_parser()).items():
        handler = subparser.get_default("handler")
        destinations = {a.dest for a in subparser._actions if a.dest not in ("help", "project_dir")}
        fields = {field.name for field in dataclasses.fields(options_type(handler))}
        assert destinations == fields, name


class TestValidate:
    def test_problems_go_to_stderr_counted_as_words(self, tmp_path, capsys):
        project = make_project(tmp_path / "project")
        registry = project / "tenants.yaml"
        registry.write_text(registry.read_text().replace("orgId: xmsqa1", "orgId: BAD_ONE", 1))
        assert main(["validate"], project) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert "BAD_ONE" in err
        assert err.endswith("1 problem; nothing would be deployed\n")

    def test_a_stack_with_no_tenant_is_valid_with_a_warning(self, tmp_path, capsys):
        project = make_project(tmp_path / "project")
        (project / "tenants.yaml").write_text("tenants: []\n")
        assert main(["validate"], project) == 0
        out, err = capsys.readouterr()
        assert "are valid" in out
        assert "warning: stack qa declares no tenant: a deploy of it deletes every tenant it has now" in err
        assert "warning: stack prod declares no tenant" in err


class TestNoOtherProjectIsRun:
    def test_the_nearest_pulumi_yaml_of_another_project_is_refused_not_planned(self, tmp_path):
        website = tmp_path / "mono" / "website"
        website.mkdir(parents=True)
        (website / "Pulumi.yaml").write_text("name: website\nruntime: python\n")
        (website / "Pulumi.dev.yaml").write_text("config: {}\n")
        marker = tmp_path / "MARKER"
        (website / "__main__.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
        for arguments in (("plan",), ("-C", str(website), "plan"), ("validate",)):
            result = tool(*arguments, cwd=website)
            assert result.returncode == 2, (arguments, result.stderr)
            assert "is project 'website', not tenant-storage" in result.stderr
        assert not marker.exists()

    def test_a_folder_without_its_program_is_refused_without_a_traceback(self, tmp_path):
        project = make_project(tmp_path / "project")
        (project / "__main__.py").unlink()
        result = tool("plan", "--stack", "qa", cwd=project)
        assert result.returncode == 1
        assert "__main__.py: missing" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr

    def test_a_deleted_current_folder_is_said(self, tmp_path):
        gone = tmp_path / "gone"
        gone.mkdir()
        result = subprocess.run(
            [
                "bash",
                "-c",
                f'cd "{gone}" && rmdir "{gone}" && "{Path(sys.executable).parent / "tenant-storage"}" validate',
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2
        assert "the current folder no longer exists" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_stack_file_named_with_control_characters_is_named_escaped(tmp_path, capsys):
    project = make_project(tmp_path / "project")
    (project / "Pulumi.x\x1b[31mRED.yaml").write_text("config:\n  aws:region: us-east-1\n")
    assert main(["validate"], project) == 1
    err = capsys.readouterr().err
    assert "Pulumi.x\\x1b[31mRED.yaml" in err
    assert "\x1b" not in err
