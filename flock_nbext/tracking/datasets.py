"""DatasetRecord -> the JSON of an MLflow dataset input: source, schema, digest, profile — never values.

Runs on the recorder thread. The entity is plain JSON (spoolable); `recorder` turns it into
`mlflow.entities.DatasetInput` when it reaches the store.

Digest choice (documented in RECORDS.md terms): when the hook gives a digest we keep it; otherwise we
hash, on the recorder thread, the first DIGEST_ROWS rows of the live frame/array (pandas
`hash_pandas_object`, or the raw bytes of an ndarray) together with its full shape and column names.
Bounded cost (about a millisecond per 10,000 rows), stable across sessions, and it changes when the
data, its length or its columns change. A frame the user mutates between the fit and the recorder's
turn (a few hundred ms) is hashed as mutated: the shape/columns/dtypes come from the fit-time snapshot.
For files without a live reference, the digest covers the file's size and first megabyte.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..redaction import redact, redact_uri
from .limits import MAX_DATASET_NAME, MAX_DATASET_SOURCE
from .records import DatasetRecord

DIGEST_ROWS = 10_000
FILE_DIGEST_BYTES = 1 << 20

# numpy/pandas dtype string -> MLflow ColSpec type
_MLFLOW_TYPES = {
    "float64": "double", "float32": "float", "float16": "float",
    "int64": "long", "int32": "integer", "int16": "integer", "int8": "integer",
    "uint8": "integer", "uint16": "integer", "uint32": "long", "uint64": "long",
    "Int64": "long", "Int32": "integer", "Float64": "double", "Float32": "float",
    "bool": "boolean", "boolean": "boolean",
    "object": "string", "string": "string", "str": "string", "category": "string",
    "bytes": "binary",
}


def mlflow_type(dtype: str) -> str:
    """MLflow's column type for a dtype string (`datetime64[ns]` -> datetime, unknown -> string)."""
    if dtype.startswith("datetime64"):
        return "datetime"
    return _MLFLOW_TYPES.get(dtype, "string")


def schema_of(record: DatasetRecord) -> list[tuple[str, str]] | None:
    """The (column, dtype) pairs: the fit-time snapshot, else read from the live data, else names only."""
    if record.schema:
        return [(str(n), str(t)) for n, t in record.schema]
    data = record.data
    dtypes = getattr(data, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):
        return [(str(n), str(t)) for n, t in dtypes.items()]
    if data is not None and hasattr(data, "dtype") and getattr(data, "ndim", 0) == 2:
        names = list(record.columns) or [f"x{i}" for i in range(data.shape[1])]
        return [(str(n), str(data.dtype)) for n in names]
    if record.columns:
        return [(str(n), "unknown") for n in record.columns]
    return None


def digest_of(record: DatasetRecord) -> str | None:
    """The record's digest, or one computed from its live data or file (see the module docstring)."""
    if record.digest:
        return record.digest
    data = record.data
    try:
        if data is not None and hasattr(data, "columns") and hasattr(data, "iloc"):
            import pandas as pd

            head = data.iloc[:DIGEST_ROWS]
            hashed = pd.util.hash_pandas_object(head, index=False).to_numpy()
            return _md5([hashed.tobytes(), repr(tuple(data.shape)).encode(), repr(list(map(str, data.columns))).encode()])
        if data is not None and hasattr(data, "tobytes") and hasattr(data, "shape"):
            import numpy as np

            head = np.ascontiguousarray(data[:DIGEST_ROWS])
            return _md5([head.tobytes(), repr(tuple(data.shape)).encode(), str(data.dtype).encode()])
        if record.kind == "file" and record.source and os.path.isfile(record.source):
            size = os.path.getsize(record.source)
            with open(record.source, "rb") as fh:
                return _md5([fh.read(FILE_DIGEST_BYTES), str(size).encode()])
        if record.kind == "sql" and record.source:
            return _md5([record.source.encode(), str(record.database).encode()])
    except Exception:  # a frame we cannot hash still gets logged, without a digest
        return None
    return None


def _md5(parts: list[bytes]) -> str:
    h = hashlib.md5(usedforsecurity=False)
    for part in parts:
        h.update(part)
    return h.hexdigest()[:8]


def n_rows_of(record: DatasetRecord) -> int | None:
    if record.n_rows is not None:
        return int(record.n_rows)
    shape = getattr(record.data, "shape", None)
    if shape:
        return int(shape[0])
    return None


def source_of(record: DatasetRecord) -> tuple[str, dict[str, Any]]:
    """(source_type, source dict): a file path, or the SQL text with its database and tables, redacted."""
    if record.kind == "file":
        path = record.source or record.name
        uri = path if "://" in path else os.path.abspath(path)
        return "local", {"uri": redact_uri(uri) if "://" in uri else uri}
    if record.kind == "sql":
        return "flock_sql", {
            "query": redact(record.source or ""),
            "database": redact_uri(record.database) if record.database else None,
            "tables": [str(t) for t in record.tables],
        }
    if record.kind == "sklearn_dataset":
        return "code", {"function": record.source or record.name}
    return "flock_object", {"name": redact(record.source or record.name)}


def dataset_entity(record: DatasetRecord) -> dict[str, Any]:
    """The JSON form of one dataset input (name, digest, source, schema, profile, context)."""
    source_type, source = source_of(record)
    source_json = json.dumps(source)
    if len(source_json) > MAX_DATASET_SOURCE:
        source["query"] = source.get("query", "")[: MAX_DATASET_SOURCE // 2] + "... (truncated)"
        source_json = json.dumps(source)
    schema = schema_of(record)
    schema_json = (
        json.dumps({"mlflow_colspec": [{"type": mlflow_type(t), "name": n, "required": True} for n, t in schema]})
        if schema
        else None
    )
    rows = n_rows_of(record)
    profile = {"num_rows": rows, "num_columns": len(schema) if schema else len(record.columns) or None}
    if rows is not None and profile["num_columns"]:
        profile["num_elements"] = rows * profile["num_columns"]
    return {
        "name": redact(record.name)[:MAX_DATASET_NAME] or "dataset",
        "digest": digest_of(record) or "unknown",
        "source_type": source_type,
        "source": source_json,
        "schema": schema_json,
        "profile": json.dumps(profile),
        "context": record.role,
    }


def merge_sql_read(record: DatasetRecord, known: dict[str, DatasetRecord]) -> DatasetRecord:
    """Fill a fit's input from the SqlReadRecord of the same lineage source (query, database, tables)."""
    earlier = known.get(record.source_id or "")
    if earlier is None:
        return record
    import dataclasses

    fill = {
        field: getattr(earlier, field)
        for field in ("source", "database", "tables", "columns", "schema", "n_rows", "digest")
        if not getattr(record, field) and getattr(earlier, field)
    }
    if record.kind == "other" and earlier.kind != "other":
        fill["kind"] = earlier.kind
    return dataclasses.replace(record, **fill) if fill else record
