"""The query layer knows nothing of HTTP, and all SQL lives behind it.

Both checks read the source with ``ast``, so they see what a module imports and calls, not what it says in prose:

* no module under app/queries/ imports fastapi, starlette or app.problems (the query layer raises
  app.queries.errors, which the REST and MCP surfaces each map once);
* outside app/queries/, no module runs a statement (``.execute``, ``.exec_driver_sql``, ``.scalar``, ``.scalars``
  on a session or connection) nor builds one (``select``, ``text``, … from sqlalchemy or sqlmodel), except the
  modules whose job is to write or define the store: ingest (app/ingest/, app/derive.py, app/aggregates.py,
  app/listcounts.py), the engine and its migrations (app/db.py; migrations/ is outside app/), the tables
  (app/models.py) and the full-text index (app/fulltext/: its tables, ingest's writes to them, and the statements
  app.queries.search runs).

Each check first runs on a sample holding every form it must find, so that finding nothing in app/ means something.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
QUERIES = APP / "queries"

HTTP_MODULES = ("fastapi", "starlette", "app.problems")

#: Modules allowed to hold SQL outside app/queries/, each for the reason in the module docstring.
WRITERS_AND_SCHEMA = ("ingest/", "derive.py", "aggregates.py", "listcounts.py", "db.py", "models.py",
                      "fulltext/")  # fmt: skip
STATEMENT_BUILDERS = {"select", "text", "union", "union_all", "insert", "update", "delete", "exists", "literal_column"}
RUNNERS = {"execute", "exec_driver_sql", "scalar", "scalars", "exec"}


def modules(under: Path) -> list[Path]:
    return sorted(path for path in under.rglob("*.py") if "__pycache__" not in path.parts)


def imported(tree: ast.AST) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, name or None) of every import in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.lineno, node.module, alias.name


def http_imports(source: str) -> list[str]:
    """``line: module`` of every import of fastapi, starlette or app.problems (or anything under them)."""
    found = []
    for line, module, name in imported(ast.parse(source)):
        full = f"{module}.{name}" if name else module
        if any(full == banned or full.startswith(f"{banned}.") for banned in HTTP_MODULES):
            found.append(f"{line}: imports {full}")
    return found


def sql(source: str) -> list[str]:
    """``line: what`` wherever ``source`` builds or runs a statement: imports of builders, calls of runners."""
    tree = ast.parse(source)
    found = [f"{line}: imports {module}.{name}"
             for line, module, name in imported(tree)
             if module.split(".")[0] in ("sqlalchemy", "sqlmodel") and name in STATEMENT_BUILDERS]  # fmt: skip
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS:
            found.append(f"{node.lineno}: calls .{node.func.attr}()")
    return found


def exempt(path: Path) -> bool:
    relative = path.relative_to(APP).as_posix()
    return relative.startswith("queries/") or any(
        relative == allowed or relative.startswith(allowed) for allowed in WRITERS_AND_SCHEMA
    )


def test_no_query_module_imports_http() -> None:
    sample = (
        "import fastapi\nfrom starlette.requests import Request\nfrom app.problems import ApiProblem\n"
        "from app import problems\nimport starlette.responses as r\nfrom app.queries.errors import NotFound\n"
    )
    assert [finding.split(" imports ")[1] for finding in http_imports(sample)] == [
        "fastapi",
        "starlette.requests.Request",
        "app.problems.ApiProblem",
        "app.problems",
        "starlette.responses",
    ]
    checked = modules(QUERIES)
    assert len(checked) >= 10
    found = [
        f"{path.relative_to(ROOT)}:{finding}" for path in checked for finding in http_imports(path.read_text("utf-8"))
    ]
    assert found == []


def test_no_sql_outside_the_query_layer_and_the_store_writers() -> None:
    sample = (
        "from sqlalchemy import select, Engine\nfrom sqlmodel import text\n"
        "def f(session, q):\n    session.execute(q)\n    return session.scalar(q)\n"
    )
    assert sql(sample) == [
        "1: imports sqlalchemy.select",
        "2: imports sqlmodel.text",
        "4: calls .execute()",
        "5: calls .scalar()",
    ]
    found = [f"{path.relative_to(ROOT)}:{finding}"
             for path in modules(APP) if not exempt(path) for finding in sql(path.read_text("utf-8"))]  # fmt: skip
    assert found == []
