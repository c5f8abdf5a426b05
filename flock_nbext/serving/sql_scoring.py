"""Batch scoring near the data: stream a query's rows through an ONNX model, write predictions to a table.

    flock_nbext.score_sql(model, engine, "SELECT id, f0, f1 FROM customers",
                          out_table="predictions", key="id", batch_size=10_000)

Memory stays bounded by `batch_size` rows: the query is read with server-side cursors, each batch is
scored by ONNX Runtime and appended to `out_table` (created when missing: the key column, then
`prediction`, then `proba_<class>` per class for classifiers). All output is written in one transaction,
so a failure leaves no partial predictions behind.
"""

from __future__ import annotations

import dataclasses
import decimal
import operator
import time
from typing import Any

import numpy as np

from ..errors import DatabaseError, FlockError

IF_EXISTS = ("append", "replace", "fail")


@dataclasses.dataclass(frozen=True)
class ScoringReport:
    """What score_sql did: rows scored, batches, seconds, and the table and columns it wrote."""

    rows: int
    batches: int
    seconds: float
    out_table: str
    columns: list[str]

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def score_sql(model: Any, con: Any, query: str, *, out_table: str, key: str | None = None,
              batch_size: int = 10_000, features: list[str] | None = None, if_exists: str = "append",
              progress: bool = True, threads: int | None = None, prediction_column: str = "prediction",
              proba_prefix: str = "proba_") -> ScoringReport:
    """Score every row of `query` with `model` and write the predictions to `out_table`.

    model: a flock ConversionResult, an onnx.ModelProto, an .onnx path, an MLflow model URI or a trained
        model (converted with flock_nbext.convert). con: SQLAlchemy Engine/Connection/URL or a DBAPI
        connection (sqlite3, psycopg, pyodbc, pymysql). key: a column of the query copied to the output
        to join predictions back. features: the query columns fed to the model, in order (default: all
        but `key`). if_exists: what to do when `out_table` exists: append (columns must match), replace
        or fail.
    """
    from tqdm.auto import tqdm

    from .scoring_model import load_scoring_model
    from .sql_io import open_sql

    if not isinstance(batch_size, int) or batch_size < 1:
        raise FlockError(f"batch_size must be a positive integer, got {batch_size!r}")
    if if_exists not in IF_EXISTS:
        raise FlockError(f"if_exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}")
    scorer = load_scoring_model(model, threads=threads)
    out_columns = scorer.columns(prediction_column, proba_prefix)
    started = time.perf_counter()
    session = open_sql(con)
    ok = False
    try:
        existing = session.table_columns(out_table)
        if existing is not None and if_exists == "fail":
            raise DatabaseError(f"table {out_table} already exists in {session.display} (if_exists='fail')")
        if existing is not None and if_exists == "replace":
            session.execute_ddl(_drop(out_table))
            existing = None
        names, batches = session.stream(query, batch_size)
        key_index, feature_index = _plan_columns(names, key, features, scorer.n_features, session.display, query)
        take = _row_getter(feature_index)
        feature_names = [names[i] for i in feature_index]
        bar = tqdm(total=None, unit="rows", desc=f"score_sql → {out_table}", disable=not progress, leave=False)
        table, n_rows, n_batches = None, 0, 0
        for rows in batches:
            X = _features(rows, feature_index, take, feature_names)
            out = scorer.score(X)
            if key_index is not None:
                out = [_keys(rows, key_index), *out]
            if table is None:
                table = _output_table(out_table, key, out[0] if key else [], out_columns)
                if existing is None:
                    session.execute_ddl(_create(table))
                    table.info["flock_created"] = True
                else:
                    _check_existing(existing, table, session.display)
            session.insert(table, out)
            n_rows += len(rows)
            n_batches += 1
            bar.update(len(rows))
            del rows, X, out
        bar.close()
        if table is None and existing is None:  # an empty result still leaves the table to join against
            session.execute_ddl(_create(_output_table(out_table, key, [], out_columns)))
        ok = True
    finally:
        session.finish(ok)
    return ScoringReport(rows=n_rows, batches=n_batches, seconds=time.perf_counter() - started,
                         out_table=out_table, columns=([key] if key else []) + [c for c, _ in out_columns])


def _plan_columns(names: list[str], key: str | None, features: list[str] | None, n_features: int | None,
                  display: str, query: str) -> tuple[int | None, list[int]]:
    lookup = {n: i for i, n in enumerate(names)}
    lower = {n.lower(): i for i, n in enumerate(names)}

    def index(column: str, role: str) -> int:
        found = lookup.get(column, lower.get(column.lower()))
        if found is None:
            raise DatabaseError(f"{role} column {column!r} is not in the query result (columns: "
                                f"{', '.join(names)}) on {display}")
        return found

    key_index = index(key, "key") if key is not None else None
    if features is not None:
        feature_index = [index(f, "feature") for f in features]
    else:
        feature_index = [i for i in range(len(names)) if i != key_index]
    if n_features is not None and len(feature_index) != n_features:
        given = ", ".join(names[i] for i in feature_index)
        raise FlockError(f"the model expects {n_features} features but the query gives {len(feature_index)} "
                         f"({given}{'; key ' + repr(key) + ' excluded' if key else ''})")
    return key_index, feature_index


def _row_getter(indexes: list[int]) -> Any:
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    if indexes == list(range(indexes[0], indexes[-1] + 1)):
        lo, hi = indexes[0], indexes[-1] + 1
        return lambda row: row[lo:hi]
    return operator.itemgetter(*indexes)


def _features(rows: Any, feature_index: list[int], take: Any, names: list[str]) -> np.ndarray:
    try:  # all-numeric rows: one vectorised conversion, then pick the feature columns
        return np.array(rows, dtype=np.float64)[:, feature_index].astype(np.float32)
    except (TypeError, ValueError):
        pass
    picked = [tuple(take(r)) for r in rows]
    try:
        return np.array(picked, dtype=np.float32)
    except (TypeError, ValueError):
        pass
    arr = np.array(picked, dtype=object)
    arr[arr == None] = np.nan  # noqa: E711  (element-wise comparison on an object array)
    try:
        return arr.astype(np.float32)
    except (TypeError, ValueError):
        for j, name in enumerate(names):
            try:
                arr[:, j].astype(np.float32)
            except (TypeError, ValueError):
                raise FlockError(f"feature column {name!r} is not numeric (e.g. {arr[0, j]!r})") from None
        raise


def _keys(rows: Any, index: int) -> list[Any]:
    keys = [r[index] for r in rows]
    if any(isinstance(k, decimal.Decimal) for k in keys[:1]):  # NUMERIC keys: drivers give Decimal
        keys = [float(k) if isinstance(k, decimal.Decimal) else k for k in keys]
    return keys


def _output_table(name: str, key: str | None, keys: list[Any], out_columns: list[tuple[str, str]]) -> Any:
    import sqlalchemy as sa

    columns = []
    if key is not None:
        first = next((k for k in keys if k is not None), None)
        columns.append(sa.Column(key, _sql_type(first)))
    for col, kind in out_columns:
        columns.append(sa.Column(col, {"int": sa.BigInteger(), "str": sa.Unicode(255)}.get(kind, sa.Float(53))))
    return sa.Table(name, sa.MetaData(), *columns)


def _sql_type(value: Any) -> Any:
    import sqlalchemy as sa

    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, int):
        return sa.BigInteger()
    if isinstance(value, float):
        return sa.Float(53)
    return sa.Unicode(255)


def _create(table: Any) -> Any:
    from sqlalchemy.schema import CreateTable

    return CreateTable(table)


def _drop(name: str) -> Any:
    import sqlalchemy as sa
    from sqlalchemy.schema import DropTable

    return DropTable(sa.Table(name, sa.MetaData()))


def _check_existing(existing: list[str], table: Any, display: str) -> None:
    wanted = [c.name for c in table.columns]
    if {c.lower() for c in existing} != {c.lower() for c in wanted}:
        raise DatabaseError(f"table {table.name} in {display} has columns {', '.join(existing)}, not the "
                            f"{', '.join(wanted)} score_sql writes; use if_exists='replace' or another out_table")
