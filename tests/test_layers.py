"""The layers point one way: the command line and the web call services only, and services leave SQL text to `store/`.

Read from the source (ast), not by importing: a lazy import inside a command function counts as much as one at the
top, and so does one under `TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import tipfusion

SRC = Path(tipfusion.__file__).parent

# Services that still build SQL text for the driver (`bulk.rows_of`, `exec_driver_sql`), with how many such reads
# each holds: the count may only go down (move the read into a `store/` query module and lower or drop the entry).
SQL_TEXT_LEFT = {
    "link/spark/sources.py": 1,  # Spark's JDBC reader takes SQL text
    "route/jurisdictions.py": 3,  # a GeoPackage (a reference file in SQLite format), not the store
}


def _is_store_or_sqlalchemy(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "sqlalchemy" or parts[:2] == ["tipfusion", "store"]


def store_imports(source: str) -> list[str]:
    """`line: module` for every import of `tipfusion.store…` or `sqlalchemy…` anywhere in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: {a.name}" for a in node.names if _is_store_or_sqlalchemy(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(_is_store_or_sqlalchemy(m) for m in modules):
                found.append(f"{node.lineno}: {node.module}")
    return found


def sql_text_calls(source: str) -> list[str]:
    """`line` of every call of SQLAlchemy's `text()` (imported by name, or as `sqlalchemy.text` / `sa.text`)."""
    tree = ast.parse(source)
    names, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            names |= {a.asname or a.name for a in node.names if a.name == "text"}
            modules |= {a.asname or a.name for a in node.names if a.name in ("sql", "expression")}
        elif isinstance(node, ast.Import):
            modules |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("sqlalchemy")}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        by_name = isinstance(func, ast.Name) and func.id in names
        by_module = isinstance(func, ast.Attribute) and func.attr == "text" and _root(func.value) in modules
        if by_name or by_module:
            found.append(str(node.lineno))
    return found


_SQL = re.compile(
    r"\s*(select\s.*\sfrom\s|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s|with\s+recursive\s)", re.I | re.S
)


def driver_sql_reads(source: str) -> int:
    """SQL handed to the driver as text: `rows_of(conn, sql)` and `conn.exec_driver_sql(sql)` calls, and string
    literals (f-strings too) that hold a statement (`"SELECT … FROM …"`, `"DELETE FROM …"`)."""
    count = 0
    tree = ast.parse(source)
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            count += name in ("rows_of", "exec_driver_sql")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) if isinstance(v, ast.Constant) else "x" for v in node.values)
            count += bool(_SQL.match(text))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            count += bool(_SQL.match(node.value))
    return count


_STORE_CALLS = frozenset({"execute", "in_", "begin", "connect", "rows_in", "insert_rows"})


def manual_chunking(source: str) -> list[str]:
    """`line` of each hand-made slicing of values for the store: a loop over `range(0, len(values), n)` that runs
    a statement or opens a transaction, and an `.in_(values[a:b])`. `store.current.chunked` / `rows_in` do this
    once (sorted, under every driver's parameter limit); a loop of its own has drifted from it before."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.For) and _is_range_over_len(node.iter):
            calls = {_called(n) for body in node.body for n in ast.walk(body) if isinstance(n, ast.Call)}
            if calls & _STORE_CALLS:
                found.append(str(node.lineno))
        elif isinstance(node, ast.Call) and _called(node) == "in_" and any(_is_slice(a) for a in node.args):
            found.append(str(node.lineno))
    return found


def _is_slice(node: ast.expr) -> bool:
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)


def _is_range_over_len(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Call) and _called(node) == "range" and len(node.args) == 3):
        return False
    length = node.args[1]
    return isinstance(length, ast.Call) and _called(length) == "len"


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _root(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _services() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if p.relative_to(SRC).parts[0] != "store"]


def _shell_offenders(shell: str) -> list[str]:
    return [
        f"{path.relative_to(SRC)}:{hit}"
        for path in sorted((SRC / shell).rglob("*.py"))
        for hit in store_imports(path.read_text())
    ]


def test_the_command_line_imports_neither_the_store_nor_sqlalchemy() -> None:
    assert _shell_offenders("cli") == [], "the CLI calls services only (tipfusion.storage for the store as a whole)"


def test_the_web_imports_neither_the_store_nor_sqlalchemy() -> None:
    """The web is a shell over the same services as the CLI (routes included): a page that opened its own
    transaction or read a table would skip the scope checks and audit entries the services write."""
    assert _shell_offenders("web") == [], "the web calls services only (tipfusion.storage for the store as a whole)"


def test_no_service_writes_sql_text_with_sqlalchemy_text() -> None:
    offenders = [f"{path.relative_to(SRC)}:{line}" for path in _services() for line in sql_text_calls(path.read_text())]
    assert offenders == [], "SQL text belongs in a store/ query module that returns typed records"


def test_sql_text_left_in_services_only_shrinks() -> None:
    found = Counter({str(p.relative_to(SRC)): driver_sql_reads(p.read_text()) for p in _services()})
    grown = {name: n for name, n in found.items() if n > SQL_TEXT_LEFT.get(name, 0)}
    assert grown == {}, "a new raw SQL read in a service: put it in a store/ query module"
    stale = {name: n for name, n in SQL_TEXT_LEFT.items() if found[name] < n}
    assert stale == {}, "fewer raw SQL reads than SQL_TEXT_LEFT says: lower the entry so it cannot grow back"


def test_no_service_slices_values_for_the_store_by_hand() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{line}" for path in _services() for line in manual_chunking(path.read_text())
    ]
    assert offenders == [], "slice values for an IN list or a transaction with store.current.chunked / rows_in"


def test_the_checks_see_what_they_look_for() -> None:
    """The checks above must fail on the code they forbid (else an empty list proves nothing)."""
    lazy = "def f():\n    if True:\n        from tipfusion.store.db import where\n"
    assert store_imports(lazy) == ["3: tipfusion.store.db"]
    assert store_imports("from tipfusion import store\nimport sqlalchemy.exc\n") == [
        "1: tipfusion",
        "2: sqlalchemy.exc",
    ]
    assert store_imports("from tipfusion.storage import where\nfrom tipfusion import storage\n") == []
    assert sql_text_calls("from sqlalchemy import text as t\nq = t('SELECT 1')\n") == ["2"]
    assert sql_text_calls("import sqlalchemy as sa\nq = sa.text('SELECT 1')\n") == ["2"]
    assert sql_text_calls("from sqlalchemy import select\nx = node.text('value')\n") == []
    assert driver_sql_reads("rows_of(conn, 'SELECT a FROM t')\nconn.exec_driver_sql('PRAGMA x')\n") == 3
    assert driver_sql_reads("q = f'SELECT a FROM t WHERE {c}'\nhelp = 'Select one of the lists'\n") == 1
    assert driver_sql_reads('def f():\n    """Insert the decision and its audit event."""\n') == 0
    by_hand = "for i in range(0, len(ids), 500):\n    conn.execute(q.where(t.c.id.in_(ids[i : i + 500])))\n"
    assert manual_chunking(by_hand) == ["1", "2"]
    assert manual_chunking("for i in range(0, len(ids), n):\n    with engine.begin() as conn:\n        pass\n") == ["1"]
    assert manual_chunking("for i in range(0, len(digest), 4):\n    out.append(digest[i : i + 4])\n") == []
    assert manual_chunking("for part in chunked(ids):\n    conn.execute(q.where(t.c.id.in_(part)))\n") == []
