"""The type checker sees what the mock monitor cannot: a misspelt key in a provider input dictionary.

Under mocks, any property name is accepted, so `"filter": {"prefixes": ""}` would pass every other test
and fail only at `pulumi up`. pulumi-aws types each input dictionary (`*ArgsDict`), and mypy (run by
`make test` over the whole project) refuses a key the provider does not have. This runs mypy on copies
of the components with one key misspelt in each provider input dictionary and expects an error for each.
"""

import ast
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass

import pytest

from mock_runtime.runner import PROJECT_DIR

COMPONENTS = PROJECT_DIR / "components"
# For each component, one key inside each provider input dictionary it writes, and its misspelling.
MISSPELLINGS = {
    "tenant_storage.py": {
        '{"object_ownership": "BucketOwnerEnforced"}': '{"object_ownershp": "BucketOwnerEnforced"}',
        '{"sse_algorithm": "AES256"}': '{"sse_algoritm": "AES256"}',
        '"bucket_key_enabled": True': '"bucket_keys_enabled": True',
        '{"status": "Enabled"}': '{"stauts": "Enabled"}',
        '"noncurrent_version_expiration": {"noncurrent_days"': '"noncurrent_version_expiration": {"noncurrent_dayz"',
        '{"days_after_initiation": ': '{"days_after_iniitation": ',
    },
    "stack_storage.py": {
        '"expiration": {"days": days}': '"expiration": {"day": days}',
        '{"sse_algorithm": "AES256"}': '{"sse_algorithm": "AES256", "kms_key": "x"}',
        'rule={"object_ownership"': 'rule={"object_owner"',
    },
}


@dataclass(frozen=True)
class Probe:
    source: str
    result: str  # mypy's lines about this file


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Probe]:
    """Each component as written and with its keys misspelt, type-checked in one mypy run (one load of
    pulumi-aws's types, which is most of mypy's time)."""
    folder = tmp_path_factory.mktemp("probes")
    sources = {}
    for component, misspellings in MISSPELLINGS.items():
        written = (COMPONENTS / component).read_text()
        misspelt = written
        for right, wrong in misspellings.items():
            assert misspelt.count(right) == 1, f"{right!r} is not in {component} once; update this test"
            misspelt = misspelt.replace(right, wrong)
        sources[f"written_{component}"] = written
        sources[f"misspelt_{component}"] = misspelt
    for name, source in sources.items():
        (folder / name).write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--no-error-summary"]
        + [str(folder / name) for name in sources],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2: mypy itself failed
    return {
        name: Probe(source, "\n".join(line for line in result.stdout.splitlines() if f"{name}:" in line))
        for name, source in sources.items()
    }


@pytest.mark.xdist_group("mypy")
@pytest.mark.parametrize("component", MISSPELLINGS)
def test_a_misspelt_provider_input_key_fails_the_type_check(probes, component):
    misspellings = MISSPELLINGS[component]
    probe = probes[f"misspelt_{component}"]
    error_lines = {int(line) for line in re.findall(rf"misspelt_{re.escape(component)}:(\d+): error", probe.result)}
    lines = probe.source.splitlines()
    misspelt = {n for n, text in enumerate(lines, 1) if any(wrong in text for wrong in misspellings.values())}
    assert len(misspelt) == len(misspellings)
    # mypy names the list item, argument or return value that holds the bad dictionary: at or above the key.
    for line in misspelt:
        assert any(line - 8 <= error <= line for error in error_lines), f"no error for line {line}:\n{probe.result}"


@pytest.mark.xdist_group("mypy")
@pytest.mark.parametrize("component", MISSPELLINGS)
def test_the_component_as_written_type_checks(probes, component):
    assert probes[f"written_{component}"].result == ""


def followed_pulumi_aws_modules() -> set[str]:
    """The pulumi_aws modules mypy's configuration follows (checks), from pyproject.toml."""
    overrides = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    return {
        module.removesuffix(".*")
        for override in overrides
        if override.get("follow_imports") == "normal"
        for module in override["module"]
        if module.startswith("pulumi_aws")
    }


def pulumi_aws_modules_used(source: str) -> set[str]:
    """Every pulumi_aws package and root function the code reaches: `aws.s3.Bucket`, `aws.get_caller_identity()`,
    `import pulumi_aws.iam`, whatever name the package is imported as."""
    tree = ast.parse(source)
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "pulumi_aws"
    }
    used = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("pulumi_aws.")
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            member = node.attr
            used.add(f"pulumi_aws.{member}" if member.islower() else "pulumi_aws")
    return used


def test_every_pulumi_aws_package_the_code_uses_is_type_checked():
    sources = [
        path
        for path in PROJECT_DIR.rglob("*.py")
        if not {".venv", "venv", ".tools"} & set(path.relative_to(PROJECT_DIR).parts)
    ]
    used = set().union(*(pulumi_aws_modules_used(path.read_text()) for path in sources))
    assert {"pulumi_aws.s3", "pulumi_aws.iam"} <= used  # the scan sees the components
    # A package mypy skips is Any to it: a misspelt key in that service's inputs would pass.
    assert used - followed_pulumi_aws_modules() == set(), "add them to the pulumi_aws overrides in pyproject.toml"


def test_the_scan_finds_a_package_used_under_another_name():
    assert pulumi_aws_modules_used("import pulumi_aws as cloud\ncloud.sqs.Queue('q')") == {"pulumi_aws.sqs"}
