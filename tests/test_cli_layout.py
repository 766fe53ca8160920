"""The command line's shape (issue 12 §3, §4, §6): one module per command group, `main` only assembles, every
`export` command in `cli/exports.py`, and no CLI module reaches past the services into tables or SQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

import tipfusion.cli
from tipfusion.cli.main import app

CLI = Path(tipfusion.cli.__file__).parent
MODULES = sorted(p for p in CLI.glob("*.py") if p.name != "__init__.py")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _commands(command: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, f"{path} {name}".strip())


def test_each_module_holds_at_most_one_command_group() -> None:
    for path in MODULES:
        groups = [
            node
            for node in ast.walk(_tree(path))
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("typer.Typer", "Typer")
        ]
        assert len(groups) <= 1, f"{path.name} builds {len(groups)} Typer groups: give each its own module"


def test_main_only_assembles() -> None:
    tree = _tree(CLI / "main.py")
    registered = {
        ast.unparse(node.func.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "register"
    }
    modules = {p.stem for p in MODULES} - {"main", "context", "identity", "failures"}
    assert registered == modules, "every command module is registered by main.py, and only there"
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            decorators = {ast.unparse(d) for d in node.decorator_list}
            assert decorators <= {"app.callback()"}, f"main.py defines a command ({node.name}): move it to its group"


def test_every_export_command_lives_in_cli_exports() -> None:
    exported = [
        (path, command)
        for path, command in _commands(typer.main.get_command(app))
        if path.split(" ")[-1:] == ["export"] or path.startswith("export ")
    ]
    assert {p for p, _ in exported} >= {"export", "export reports", "keys export"}
    for path, command in exported:
        callback = command.callback
        if callback is not None:
            assert callback.__module__ == "tipfusion.cli.exports", f"`tipfusion {path}` is defined outside cli/exports"


def test_the_cli_calls_services_never_tables_or_sql() -> None:
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("tipfusion.store.tables"), f"{path.name} imports tables"
                if node.module.startswith("sqlalchemy"):
                    names = {alias.name for alias in node.names}
                    assert names <= {"Engine", "DBAPIError", "OperationalError"}, f"{path.name} imports {names}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in ("execute", "scalars", "scalar"), (
                    f"{path.name}:{node.lineno} runs a query: call the owning service instead"
                )
