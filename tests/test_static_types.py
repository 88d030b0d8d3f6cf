"""The type checker sees what the mock monitor cannot: a misspelt key in a provider input dictionary.

Under mocks, any property name is accepted, so `"filter": {"prefixes": ""}` would pass every other test
and fail only at `pulumi up`. pulumi-aws types each input dictionary (`*ArgsDict`), and mypy (run by
`make test` over the whole project) refuses a key the provider does not have. This runs mypy on copies
of the components with one key misspelt in each provider input dictionary and expects an error for each.
"""

import re
import subprocess
import sys
from pathlib import Path

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


def mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--no-error-summary", str(path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("component", MISSPELLINGS)
def test_a_misspelt_provider_input_key_fails_the_type_check(tmp_path, component):
    misspellings = MISSPELLINGS[component]
    source = (COMPONENTS / component).read_text()
    for right, wrong in misspellings.items():
        assert source.count(right) == 1, f"{right!r} is not in {component} once; update this test"
        source = source.replace(right, wrong)
    probe = tmp_path / "misspelt_component.py"
    probe.write_text(source)
    result = mypy(probe)
    assert result.returncode == 1, result.stdout + result.stderr
    error_lines = {int(line) for line in re.findall(r"misspelt_component\.py:(\d+): error", result.stdout)}
    lines = source.splitlines()
    misspelt = {n for n, text in enumerate(lines, 1) if any(wrong in text for wrong in misspellings.values())}
    assert len(misspelt) == len(misspellings)
    # mypy names the list item, argument or return value that holds the bad dictionary: at or above the key.
    for line in misspelt:
        assert any(line - 8 <= error <= line for error in error_lines), f"no error for line {line}:\n{result.stdout}"


@pytest.mark.parametrize("component", MISSPELLINGS)
def test_the_component_as_written_type_checks(tmp_path, component):
    probe = tmp_path / "component.py"
    probe.write_text((COMPONENTS / component).read_text())
    result = mypy(probe)
    assert result.returncode == 0, result.stdout + result.stderr
