"""SQL query text -> the tables it reads and the columns it returns (sqlglot, any dialect).

Tables are reported qualified as written (``dbo.loans``); common table expressions are not
tables.  ``SELECT *`` leaves the columns unknown (None) while the tables stay known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_DIALECTS = (None, "tsql", "postgres", "mysql", "sqlite", "bigquery")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class QueryShape:
    """What a query reads and returns; ``columns`` is None when not determined (``SELECT *``)."""

    tables: tuple[str, ...]
    columns: tuple[str, ...] | None
    parsed: bool = True


def _table_name(table) -> str:
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    return ".".join(parts)


@lru_cache(maxsize=512)
def parse_query(text: str) -> QueryShape:
    """Parse ``text`` with the first dialect that accepts it; unparsable text gives no tables."""
    import sqlglot
    from sqlglot import exp

    text = _PLACEHOLDER.sub("placeholder", text.strip().rstrip(";"))
    if not text:
        return QueryShape((), None, parsed=False)
    bare = re.fullmatch(r"[\w.\[\]\"`]+", text)
    if bare:  # a table name given where a query may be (pd.read_sql("loans", con))
        return QueryShape((re.sub(r"[\[\]\"`]", "", text),), None)
    for dialect in _DIALECTS:
        try:
            tree = sqlglot.parse_one(text, read=dialect)
        except Exception:  # sqlglot raises several unrelated types on bad input
            continue
        if tree is None:
            continue
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        tables = []
        for table in tree.find_all(exp.Table):
            name = _table_name(table)
            if name and name not in ctes and name not in tables:
                tables.append(name)
        columns = None
        if isinstance(tree, exp.Query):
            names = list(tree.named_selects)
            if names and "*" not in names and all(names):
                columns = tuple(names)
        return QueryShape(tuple(sorted(tables, key=lambda t: text.find(t.split(".")[-1]))), columns)
    return QueryShape((), None, parsed=False)
