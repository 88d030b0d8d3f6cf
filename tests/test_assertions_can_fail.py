"""No vacuous assertion in the suite: every `assert` of every test module must be able to fail.

ruff catches part of this (a tuple asserted, a name compared with itself, two constants compared, a bare
`except`), but not `assert <anything> or True` where the left side calls something, nor `assert True`:
this reads the suite's syntax trees and refuses each of them, wherever they are.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def vacuous(tree: ast.AST) -> list[tuple[int, str]]:
    """Every assertion in `tree` that cannot fail, and every bare `except` (which hides an assertion's failure)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            found.append((node.lineno, "a bare except catches a failed assertion too"))
        if not isinstance(node, ast.Assert):
            continue
        reason = _always_true(node.test)
        if reason:
            found.append((node.lineno, reason))
    return found


def _always_true(test: ast.expr) -> str | None:
    if isinstance(test, ast.Constant) and test.value:
        return f"asserts the constant {test.value!r}"
    if isinstance(test, ast.Tuple | ast.List | ast.Set | ast.Dict) and (
        test.keys if isinstance(test, ast.Dict) else test.elts
    ):
        return "asserts a non-empty collection, which is always true"
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        for operand in test.values:
            if _always_true(operand):
                return "an `or` with an operand that is always true"
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, right = ast.dump(test.left), ast.dump(test.comparators[0])
        if left == right and isinstance(test.ops[0], ast.Eq | ast.Is | ast.GtE | ast.LtE):
            return "compares a value with itself"
    return None


def modules() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


@pytest.mark.parametrize("module", modules(), ids=lambda path: str(path.relative_to(TESTS)))
def test_every_assertion_can_fail(module):
    found = vacuous(ast.parse(module.read_text(encoding="utf-8"), str(module)))
    assert found == [], "\n".join(f"{module.name}:{line}: {reason}" for line, reason in found)


@pytest.mark.parametrize(
    "source",
    [
        "assert f(x) == {'a': 1} or True",
        "assert True",
        "assert 'message'",
        "assert (x, 'why')",
        "assert f(x) == f(x)",
        "assert x is x",
        "try:\n    check()\nexcept:\n    pass",
        "assert x or (y or 1)",
    ],
)
def test_the_check_refuses_each_kind(source):
    assert vacuous(ast.parse(source)) != []


@pytest.mark.parametrize("source", ["assert x == y", "assert f(x) or g(x)", "assert not False == x", "assert x <= y"])
def test_the_check_keeps_assertions_that_can_fail(source):
    assert vacuous(ast.parse(source)) == []
