"""Fit values into MLflow's limits, redacted: what fits becomes a param/tag/metric, the rest an artifact.

Pure (no mlflow import): the limits are MLflow's documented ones (mlflow/utils/validation.py), copied
here so that turning a record into operations never needs MLflow. Every string passes through
flock_nbext.redaction before it can reach a param, a tag, an artifact or the spool.
"""

from __future__ import annotations

import json
import numbers
import re
from typing import Any

from ..redaction import redact, redact_value

MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_DATASET_NAME = 500
MAX_DATASET_SOURCE = 65535

_BAD_KEY_CHARS = re.compile(r"[^\w\-. /]")


def clean_key(name: Any) -> str:
    """A valid MLflow key: alphanumerics, `_ - . /` and spaces, at most 250 characters."""
    key = _BAD_KEY_CHARS.sub("_", str(name)).strip().strip("/") or "_"
    while ".." in key:
        key = key.replace("..", "._")
    return key[:MAX_KEY]


def as_text(value: Any) -> str:
    """The string MLflow would store for a param value (str(), as autolog does)."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # a user object whose __str__ fails must not stop the record
        return f"<{type(value).__name__}>"


def safe_text(name: str, value: Any) -> str:
    """`value` as text with secrets masked (by its name, and inside the text)."""
    masked = redact_value(name, as_text(value))
    return masked if isinstance(masked, str) else as_text(masked)


def split_params(params: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(params that fit, {artifact path: full text}) with over-long values moved to params/<name>.txt."""
    fitted: dict[str, str] = {}
    overflow: dict[str, str] = {}
    for name, value in params.items():
        key = clean_key(name)
        text = safe_text(str(name), value)
        if len(text) > MAX_PARAM_VALUE:
            path = f"params/{key.replace('/', '_')}.txt"
            overflow[path] = text
            text = f"{text[:200]}... (full value in artifact {path})"
        fitted[key] = text
    return fitted, overflow


def fit_tag(key: str, value: Any) -> tuple[str, str | None]:
    """(tag value, full text if it had to be cut) for one tag."""
    text = safe_text(key, value)
    if len(text) <= MAX_TAG_VALUE:
        return text, None
    return f"{text[:MAX_TAG_VALUE - 60]}... (truncated)", text


def scalar(value: Any) -> float | None:
    """The value as a float when it is a number (Python, numpy or 0-d array); None for anything else."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    shape = getattr(value, "shape", None)
    if shape == () and hasattr(value, "item"):
        try:
            item = value.item()
        except Exception:
            return None
        return scalar(item) if not isinstance(item, bytes | str) else None
    return None


def jsonable(value: Any, _depth: int = 0) -> Any:
    """A JSON-able copy of a metric result (ndarray, DataFrame, dict of numpy scalars...), secrets masked."""
    if _depth > 20:
        return as_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    number = scalar(value)
    if number is not None:
        return number
    if isinstance(value, dict):
        return {as_text(k): jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, _depth + 1) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and hasattr(value, "columns"):
        try:
            return jsonable(to_dict(orient="split"), _depth + 1)
        except Exception:
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return jsonable(tolist(), _depth + 1)
        except Exception:
            pass
    return redact(as_text(value))


def metric_artifact(name: str, value: Any) -> tuple[str, str]:
    """(artifact path, text) for a non-scalar metric result: text stays text, the rest becomes JSON."""
    key = clean_key(name).replace("/", "_")
    if isinstance(value, str):
        return f"metrics/{key}.txt", redact(value)
    return f"metrics/{key}.json", json.dumps(jsonable(value), indent=2, allow_nan=True, default=str)


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


_NOT_SECRET_NAMES = {"key", "keys", "sort_key", "primary_key", "auth"}


def scrub(value: Any, _depth: int = 0) -> Any:
    """A JSON structure (lineage) with secrets masked: in every string, and under secret-looking names."""
    from ..redaction import MASK, is_secret_name

    if _depth > 50:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            name = str(k)
            if isinstance(v, str) and name.lower() not in _NOT_SECRET_NAMES and is_secret_name(name):
                out[k] = MASK
            else:
                out[k] = scrub(v, _depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [scrub(v, _depth + 1) for v in value]
    return value
