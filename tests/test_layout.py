"""The layout rules of the README's architecture section, checked on the source and the tests: no module over 600
lines, and a reason (a `# Long:` comment right above it or its decorators) for every function over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
FOLDERS = ("jobs", "flows", "schemas", "expectations", "benchmarks", "synthetic", "tests")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(path for folder in FOLDERS for path in (REPOSITORY / folder).rglob("*.py"))


def long_functions_without_a_reason(source: str) -> list[str]:
    """The functions over 60 lines with no `# Long:` comment right above them (nested ones share their parent's)."""
    lines = source.splitlines()
    found: list[str] = []

    def has_reason(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        at = min([decorator.lineno for decorator in node.decorator_list] + [node.lineno]) - 2
        while at >= 0 and lines[at].lstrip().startswith("#"):
            if lines[at].lstrip().startswith("# Long:"):
                return True
            at -= 1
        return False

    def visit(node: ast.AST, explained: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                assert child.end_lineno is not None
                reason = explained or has_reason(child)
                if child.end_lineno - child.lineno + 1 > MAX_FUNCTION_LINES and not reason:
                    found.append(f"{child.name} (line {child.lineno})")
                visit(child, reason)
            else:
                visit(child, explained)

    visit(ast.parse(source), False)
    return found


def test_a_long_function_needs_a_reason_right_above_it_and_its_nested_functions_share_it():
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    bare = f"def bare():\n{body}"
    nested = "".join(f"        y{i} = {i}\n" for i in range(60))
    reason = "# Long: one story in order.\n# More of the reason.\n"
    explained = f"{reason}@decorator\ndef told():\n    def inner():\n{nested}"
    assert long_functions_without_a_reason(bare) == ["bare (line 1)"]
    assert long_functions_without_a_reason(explained) == []
    assert long_functions_without_a_reason("def short():\n    return 1\n") == []
    # A reason further up, past code, is not this function's.
    assert long_functions_without_a_reason(f"# Long: another's.\nx = 1\n{bare}") == ["bare (line 3)"]


@pytest.mark.parametrize("module", _modules(), ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_modules_are_short_and_their_long_functions_say_why(module: Path):
    source = module.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    assert long_functions_without_a_reason(source) == []
