"""The type checker sees what the mock monitor cannot: a misspelt key in a provider input dictionary.

Under mocks, any property name is accepted, so `"filter": {"prefixes": ""}` would pass every other test
and fail only at `pulumi up`. pulumi-aws types each input dictionary (`*ArgsDict`), and mypy (run by
`make test` over the whole project) refuses a key the provider does not have. This runs mypy on a copy
of the component with one key misspelt in each provider input dictionary and expects an error for each.
"""

import re
import subprocess
import sys

from mock_runtime.runner import PROJECT_DIR

COMPONENT = PROJECT_DIR / "components" / "tenant_storage.py"
# One key inside each provider input dictionary the component writes, and its misspelling.
MISSPELLINGS = {
    '{"object_ownership": "BucketOwnerEnforced"}': '{"object_ownershp": "BucketOwnerEnforced"}',
    '{"sse_algorithm": ': '{"sse_algoritm": ',
    '{"status": "Enabled"}': '{"stauts": "Enabled"}',
    '"noncurrent_version_expiration": {"noncurrent_days"': '"noncurrent_version_expiration": {"noncurrent_dayz"',
    '{"days_after_initiation": ': '{"days_after_iniitation": ',
}


def mypy(path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--no-error-summary", str(path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_misspelt_provider_input_key_fails_the_type_check(tmp_path):
    source = COMPONENT.read_text()
    for right, wrong in MISSPELLINGS.items():
        assert source.count(right) == 1, f"{right!r} is not in the component once; update this test"
        source = source.replace(right, wrong)
    probe = tmp_path / "misspelt_component.py"
    probe.write_text(source)
    result = mypy(probe)
    assert result.returncode == 1, result.stdout + result.stderr
    error_lines = {int(line) for line in re.findall(r"misspelt_component\.py:(\d+): error", result.stdout)}
    misspelt_lines = {
        n for n, text in enumerate(source.splitlines(), 1) if any(w in text for w in MISSPELLINGS.values())
    }
    # mypy names the list item or argument that holds the bad dictionary: at or just above the misspelt key.
    for line in misspelt_lines:
        assert any(line - 6 <= error <= line for error in error_lines), f"no error for line {line}:\n{result.stdout}"


def test_the_component_as_written_type_checks(tmp_path):
    probe = tmp_path / "component.py"
    probe.write_text(COMPONENT.read_text())
    result = mypy(probe)
    assert result.returncode == 0, result.stdout + result.stderr
