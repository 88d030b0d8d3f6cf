"""Benchmark of the test loop: a fresh clone's `make test`, and `make check` once it is warm.

    .venv/bin/python benchmarks/test_loop.py [--repeat-check 2]

Clones this repository's committed HEAD into a temporary folder (as a newcomer or CI would: no
.venv, no caches; uv's own download cache stays, as on any machine that has run uv once), then times
`make test` there (installation, lint, the cold type check, the inputs and the whole suite), then
`make check` after a one-line edit of a module (lint, the incremental type check, the fast tests).
Prints a Markdown table; docs/development.md, "The test loop", quotes the latest run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
EDITED_MODULE = "tenant_storage/naming.py"  # the edit of an inner loop: a rule every command imports


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603 - make
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(
            f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        )
    passed = re.findall(r"(\d+) passed", result.stdout)
    return elapsed, (f"{passed[-1]} tests" if passed else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat-check", type=int, default=2, help="warm `make check` runs to time")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tenant-storage-loop-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(PROJECT_DIR), str(clone)], check=True)  # noqa: S603, S607
        elapsed, tests = timed(["make", "test"], clone)
        rows.append(("fresh clone: `make test`", elapsed, tests))
        module = clone / EDITED_MODULE
        for run in range(1, options.repeat_check + 1):
            module.write_text(module.read_text() + f"\n\n_EDITED_BY_THE_BENCHMARK = {run}\n")
            elapsed, tests = timed(["make", "check"], clone)
            rows.append((f"`make check` after an edit of {EDITED_MODULE} (run {run})", elapsed, tests))
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| run | time | tests |\n| --- | ---: | ---: |")
    for name, elapsed, tests in rows:
        print(f"| {name} | {int(elapsed // 60)}:{elapsed % 60:04.1f} | {tests} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
