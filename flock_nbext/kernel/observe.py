"""What a hook sees at one site, turned into plain observations (model, X/y, query, path, value).

Pure functions of the planted site and the live operands/result; the NotebookTracker joins them
with the lineage to make records. Nothing here calls MLflow or hashes data.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from ..redaction import redact
from . import live, sqlsource
from .instrument import RECEIVER, PlantedSite

_EXECUTE_METHODS = {"execute", "executemany", "exec_driver_sql", "scalars", "scalar", "query"}
_QUERY_KEYS = (0, "sql", "query", "statement", "operation", "table_name")
_PATH_KEYS = (0, "filepath_or_buffer", "path", "io", "path_or_buf", "fname", "file")
_READS_ROWS = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(select|with|values|table|pragma|show)\b",
                         re.IGNORECASE | re.DOTALL)


@dataclasses.dataclass
class FitSeen:
    model: Any
    X: Any
    y: Any
    call_kwargs: dict[str, Any]
    params_arg: Any = None


def _first(operands: dict, keys: tuple) -> Any:
    for key in keys:
        if key in operands:
            return operands[key]
    return None


def fit(planted: PlantedSite, operands: dict, result: Any) -> FitSeen | None:
    """The model a training call trained and the X/y it was given; None when no model is recognisable."""
    kwargs = {k: v for k, v in operands.items() if isinstance(k, str) and k != RECEIVER}
    receiver = operands.get(RECEIVER)
    if planted.method and live.is_model(receiver):  # clf.fit(X, y), model.fit(X, y, epochs=3)
        return FitSeen(receiver, _first(operands, (0, "X", "x")), _first(operands, (1, "y")), kwargs)
    # lgb.train(params, train_set) / xgb.train(params, dtrain): a Booster comes back
    train_set = _first(operands, (1, "train_set", "dtrain"))
    if live.is_model(result) and not live.is_model(receiver):
        X = getattr(train_set, "data", None) if train_set is not None else None
        y = getattr(train_set, "label", None) if train_set is not None else None
        if X is None and train_set is not None and hasattr(train_set, "feature_names"):
            X = None  # DMatrix: only names are cheap to read; the recorder has the model
        return FitSeen(result, X, y, kwargs, params_arg=_first(operands, (0, "params")))
    # cross_val_score(clf, X, y) and friends: the estimator is an argument
    for index in range(planted.n_args):
        if live.is_model(operands.get(index)):
            return FitSeen(operands[index], operands.get(index + 1), operands.get(index + 2), kwargs)
    return None


def column_names(obj: Any) -> list[str] | None:
    """The column names of a DataFrame (or a named Series) given to a fit, without building its dtypes."""
    columns = getattr(obj, "columns", None)
    if columns is not None and hasattr(type(obj), "dtypes"):  # on the class: a frame's dtypes is a built Series
        return [str(c) for c in columns]
    if hasattr(obj, "dtype") and hasattr(obj, "name") and hasattr(obj, "index"):  # Series
        return [str(obj.name)] if obj.name is not None else None
    return None


def metric_name(planted: PlantedSite) -> str:
    function = getattr(planted.site, "function", None) or ""
    return planted.method or function.rsplit(".", 1)[-1] or "metric"


def metric_params(planted: PlantedSite, operands: dict) -> dict[str, Any]:
    """The metric call's own keyword options (`average="macro"`), plain values only."""
    out = dict(planted.literal_kwargs)
    for key, value in operands.items():
        if isinstance(key, str) and key != RECEIVER and isinstance(value, (str, int, float, bool)):
            out.setdefault(key, value)
    return {k: v for k, v in out.items() if isinstance(v, (str, int, float, bool)) or v is None}


@dataclasses.dataclass
class ReadSeen:
    name: str
    kind: str
    source: str | None
    database: str | None
    tables: list[str]
    columns: list[str]
    schema: list[tuple[str, str]] | None
    n_rows: int | None
    data: Any


def file_read(planted: PlantedSite, operands: dict, result: Any) -> ReadSeen:
    path = live.source_path(_first(operands, _PATH_KEYS))
    columns, schema, n_rows = live.frame_shape(result)
    name = Path(path).stem if path and "://" not in path else (getattr(planted.site, "var", None) or "data")
    is_frame = columns is not None and hasattr(result, "dtypes")
    return ReadSeen(name=name, kind="file", source=path, database=None, tables=[], columns=columns or [],
                    schema=schema, n_rows=n_rows, data=result if is_frame else None)


def sql_read(planted: PlantedSite, operands: dict, result: Any) -> ReadSeen | None:
    """The query actually executed, where it ran, what it read and returned; None for writes."""
    from ..analysis.sql import parse_query

    text = sqlsource.query_text(_first(operands, _QUERY_KEYS))
    if not text:
        return None
    is_table_name = re.fullmatch(r"[\w.\[\]\"`]+", text.strip()) is not None
    if not is_table_name and not _READS_ROWS.match(text):
        return None  # INSERT/UPDATE/DDL: not a data source
    receiver = operands.get(RECEIVER)
    if planted.method in _EXECUTE_METHODS and receiver is not None and not _is_module(receiver):
        con = receiver
    else:
        con = _first(operands, (1, "con", "connection", "conn", "bind"))
    where = sqlsource.describe(con)
    shape = parse_query(text)
    columns, schema, n_rows = sqlsource.result_columns(result)
    if not columns and shape.columns:
        columns = list(shape.columns)
    tables = list(shape.tables)
    place = where.database or where.server or "database"
    name = f"{tables[0] if len(tables) == 1 else 'query'}@{place}"
    is_frame = hasattr(result, "dtypes") and hasattr(result, "columns")
    return ReadSeen(name=name, kind="sql", source=redact(text), database=where.label, tables=tables,
                    columns=columns, schema=schema, n_rows=n_rows, data=result if is_frame else None)


def _is_module(obj: Any) -> bool:
    return type(obj).__name__ == "module"
