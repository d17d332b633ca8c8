"""SQL in storage/ and dashboard/ binds every value as a parameter.

The check reads the source's syntax tree. SQL text built with an f-string, ``%``, ``+`` or
``str.format`` is allowed only in the scopes listed in ALLOWED, each with the reason its pieces
cannot carry outside input and the exact expressions it may insert.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("storage", "dashboard")
# Upper-case keywords, as this code base writes SQL; error messages use them in prose, which is
# why the text passed to an exception is skipped.
SQL_KEYWORD = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|PRAGMA|WHERE|VALUES|UNION)\b")
EXECUTE_METHODS = frozenset(
    {"execute", "executemany", "executescript", "execute_fetchall", "execute_insert"}
)
FETCH_HELPERS = frozenset({"fetch_all", "fetch_one", "_fetch_jobs", "_fetch_value"})
CONNECTION_NAMES = frozenset({"conn", "connection", "db"})


@dataclass(frozen=True)
class Allowed:
    """A scope that may build SQL text: why it is safe, and the expressions it may insert."""

    reason: str
    inserted: frozenset[str]


ALLOWED: dict[tuple[str, str], Allowed] = {
    ("storage/db.py", "Database._configure"): Allowed(
        "PRAGMA takes no bound parameters; the value is an int, formatted with :d",
        frozenset({"self.busy_timeout_ms"}),
    ),
    ("storage/schema.py", "apply_migration"): Allowed(
        "PRAGMA takes no bound parameters; the value is an int, formatted with :d",
        frozenset({"version + 1"}),
    ),
    ("storage/rows.py", "INSERT_JOB_SQL"): Allowed(
        "column names and :name placeholders from the constant tuple _NEW_JOB_COLUMNS",
        frozenset(
            {
                "', '.join(_NEW_JOB_COLUMNS)",
                "', '.join((':' + name for name in _NEW_JOB_COLUMNS))",
            }
        ),
    ),
    ("storage/rows.py", "update_job_sql"): Allowed(
        "column names are checked against the Job fields first; values and allowed statuses "
        "are bound as :name and :allowed_N",
        frozenset({"assignments", "where"}),
    ),
    ("storage/rows.py", "enqueue_sql"): Allowed(
        "column names and :name placeholders from the constant tuple _NEW_JOB_COLUMNS; the "
        "sort key and counts are constant SQL from storage.queries; values are bound",
        frozenset(
            {
                "', '.join(_NEW_JOB_COLUMNS)",
                "', '.join(values)",
                "ENQUEUE_LIMITS",
                "RUNNING_COUNT",
                "queued_before",
            }
        ),
    ),
    ("storage/reads.py", "JobReadsMixin.list_jobs"): Allowed(
        "one ? placeholder per status; the statuses themselves are bound",
        frozenset({"where", "', '.join('?' * len(params))"}),
    ),
    ("storage/reads.py", "JobReadsMixin.queue_page"): Allowed(
        "order_by is one of two constant ORDER BY terms of QueueOrder; limit and offset are bound",
        frozenset({"self._order.order_by"}),
    ),
    ("storage/queries.py", "claim_for_models_sql"): Allowed(
        "order is one of two constant ORDER BY terms; model names are bound as :model_N",
        frozenset(
            {
                "'model IS NULL'",
                "'model = served.column1'",
                "order",
                "null_head",
                "model_head",
                "heads",
                "values",
            }
        ),
    ),
    ("storage/queries.py", "fail_outside_models_sql"): Allowed(
        "model names are bound as :model_N",
        frozenset({"values", "where"}),
    ),
}


@dataclass(frozen=True)
class Built:
    """SQL text built at run time: where, and the expressions inserted into it."""

    path: str
    scope: str
    line: int
    inserted: frozenset[str]

    def describe(self) -> str:
        return f"{self.path}:{self.line} in {self.scope} inserts {sorted(self.inserted)}"


def source_files() -> Iterator[tuple[str, ast.Module]]:
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


def string_constants(tree: ast.Module) -> dict[str, str]:
    """Return the module-level names bound to a string constant."""
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = node.value.value
    return constants


def literal_text(node: ast.expr, constants: dict[str, str]) -> str:
    """Return the constant text that ``node`` contributes to a built string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id, "")
    if isinstance(node, ast.JoinedStr):
        return "".join(literal_text(part, constants) for part in node.values)
    return ""


def inserted_expressions(node: ast.expr) -> frozenset[str] | None:
    """Return what a string-building expression inserts, or None if it builds no string."""
    if isinstance(node, ast.JoinedStr):
        parts = [part.value for part in node.values if isinstance(part, ast.FormattedValue)]
        return frozenset(ast.unparse(part) for part in parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        sides = [node.left, node.right]
        return frozenset(ast.unparse(side) for side in sides if not isinstance(side, ast.Constant))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            values = [*node.args, *(keyword.value for keyword in node.keywords)]
            return frozenset(ast.unparse(value) for value in values)
    return None


def template_of(node: ast.expr) -> ast.expr:
    """Return the part of a string-building expression that contains its constant text."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.value
    if isinstance(node, ast.BinOp):
        return node.left if isinstance(node.left, ast.Constant | ast.Name) else node.right
    return node


class SqlFinder(ast.NodeVisitor):
    """Collects SQL text built at run time, and execute calls given anything but a name or text."""

    def __init__(self, path: str, constants: dict[str, str]) -> None:
        self.path = path
        self.constants = constants
        self.scopes: list[str] = []
        self.built: list[Built] = []
        self.in_message = 0

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._in_scope(node.name, node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_scope(node.name, node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in_scope(node.name, node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if not self.scopes and isinstance(node.targets[0], ast.Name):
            self._in_scope(node.targets[0].id, node)
        else:
            self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self._in_message(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        name = node.func.id if isinstance(node.func, ast.Name) else name
        if name == "__init__" or name.endswith("Error"):
            self._in_message(node)
            return
        if name in EXECUTE_METHODS | FETCH_HELPERS:
            self._check_execute(node)
        self._check_built(node)
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._check_built(node)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self._check_built(node)
        self.generic_visit(node)

    def _in_scope(self, name: str, node: ast.AST) -> None:
        self.scopes.append(name)
        self.generic_visit(node)
        self.scopes.pop()

    def _in_message(self, node: ast.AST) -> None:
        self.in_message += 1
        self.generic_visit(node)
        self.in_message -= 1

    def _check_execute(self, node: ast.Call) -> None:
        arguments = list(node.args)
        while arguments and isinstance(arguments[0], ast.Name):
            if arguments[0].id not in CONNECTION_NAMES:
                break
            arguments.pop(0)
        if arguments and inserted_expressions(arguments[0]) is not None:
            self._record(arguments[0], inserted_expressions(arguments[0]) or frozenset())

    def _check_built(self, node: ast.expr) -> None:
        inserted = inserted_expressions(node)
        if inserted is None or self.in_message:
            return
        if SQL_KEYWORD.search(literal_text(template_of(node), self.constants)):
            self._record(node, inserted)

    def _record(self, node: ast.expr, inserted: frozenset[str]) -> None:
        scope = ".".join(self.scopes) or "<module>"
        self.built.append(Built(self.path, scope, node.lineno, inserted))


def built_sql() -> list[Built]:
    found: set[Built] = set()
    for path, tree in source_files():
        finder = SqlFinder(path, string_constants(tree))
        finder.visit(tree)
        found.update(finder.built)
    return sorted(found, key=lambda built: (built.path, built.line))


def test_sql_built_only_in_allowed_scopes() -> None:
    unexpected = [
        built.describe() for built in built_sql() if (built.path, built.scope) not in ALLOWED
    ]

    assert unexpected == [], "bind these values as parameters:\n" + "\n".join(unexpected)


def test_sql_built_inserts_only_allowed_expressions() -> None:
    for built in built_sql():
        allowed = ALLOWED.get((built.path, built.scope))
        if allowed is not None:
            extra = built.inserted - allowed.inserted
            assert extra == set(), f"{built.describe()}; allowed: {allowed.reason}"


def test_sql_finder_flags_interpolated_value() -> None:
    source = (
        "async def find(conn, name):\n"
        "    await conn.execute(f\"SELECT * FROM jobs WHERE name = '{name}'\")\n"
        "    await conn.execute('DELETE FROM jobs WHERE id = %s' % name)\n"
        "    await fetch_all(conn, 'SELECT ' + name)\n"
        "    raise ValueError(f'UPDATE failed for {name}')\n"
    )
    finder = SqlFinder("example.py", {})

    finder.visit(ast.parse(source))

    lines = sorted({built.line for built in finder.built})
    assert lines == [2, 3, 4]
    assert all(built.inserted == {"name"} for built in finder.built)
