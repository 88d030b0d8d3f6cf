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


SWALLOWS = {"AssertionError", "Exception", "BaseException"}


def vacuous(tree: ast.AST) -> list[tuple[int, str]]:
    """Every assertion in `tree` that cannot fail, and every construct that swallows a failed one: a bare
    `except`, an `except AssertionError` (or Exception) that only passes, `contextlib.suppress(AssertionError)`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            found.append((node.lineno, "a bare except catches a failed assertion too"))
        if (
            isinstance(node, ast.ExceptHandler)
            and node.type is not None
            and {_name(caught) for caught in _elements(node.type)} & SWALLOWS
            and all(isinstance(statement, ast.Pass) for statement in node.body)
        ):
            found.append((node.lineno, "an except that only passes swallows a failed assertion"))
        if isinstance(node, ast.Call) and _name(node.func) == "suppress" and {_name(a) for a in node.args} & SWALLOWS:
            found.append((node.lineno, "suppress() swallows a failed assertion"))
        if not isinstance(node, ast.Assert):
            continue
        reason = _always_true(node.test)
        if reason:
            found.append((node.lineno, reason))
    return found


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _elements(node: ast.expr) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def _constant(test: ast.expr) -> bool:
    """Nothing in `test` can vary: no name, call, attribute or subscript; its value is the same on every run."""
    varying = (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Await, ast.NamedExpr, ast.Starred)
    return not any(isinstance(node, varying) for node in ast.walk(test))


def _always_true(test: ast.expr) -> str | None:
    if isinstance(test, ast.Lambda):
        return "asserts a function, which is always true"
    if _constant(test):
        return "asserts an expression that cannot vary"
    if isinstance(test, ast.Tuple | ast.List | ast.Set | ast.Dict) and (
        test.keys if isinstance(test, ast.Dict) else test.elts
    ):
        return "asserts a non-empty collection, which is always true"
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        for operand in test.values:
            if _always_true(operand):
                return "an `or` with an operand that is always true"
    if isinstance(test, ast.Compare):
        sides = [test.left, *test.comparators]
        for op, left, right in zip(test.ops, sides, sides[1:], strict=False):
            if ast.dump(left) == ast.dump(right) and isinstance(op, ast.Eq | ast.Is | ast.GtE | ast.LtE):
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
        "assert not False",
        "assert 1 < 2",
        "assert f'abc'",
        "assert (lambda: 0)",
        "assert x or not None",
        "assert x == x == y",
        "try:\n    check()\nexcept AssertionError:\n    pass",
        "with contextlib.suppress(AssertionError):\n    assert f() == 1",
    ],
)
def test_the_check_refuses_each_kind(source):
    assert vacuous(ast.parse(source)) != []


@pytest.mark.parametrize("source", ["assert x == y", "assert f(x) or g(x)", "assert not False == x", "assert x <= y"])
def test_the_check_keeps_assertions_that_can_fail(source):
    assert vacuous(ast.parse(source)) == []
