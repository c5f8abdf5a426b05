"""Cheap snapshots of live objects at a hook: model hyperparameters, frame columns/dtypes/shape.

Everything here runs on the user's thread, so it only reads attributes: no hashing, no copies of
more than a few rows, no MLflow, and no imports of ML libraries (objects are recognised by duck typing).
"""

from __future__ import annotations

import ast
import functools
import os
import sys
from typing import Any

# Hyperparameters that libraries treat as options of a training call rather than of the model.
_TRAIN_OPTIONS = ("num_boost_round", "early_stopping_rounds", "epochs", "batch_size", "nfold")


def class_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def is_model(obj: Any) -> bool:
    """An object a training call produced or fitted: an estimator, a Booster, an nn.Module..."""
    if obj is None or isinstance(obj, (str, bytes, int, float, bool, dict, list, tuple)):
        return False
    if hasattr(obj, "get_params") or hasattr(obj, "predict") or hasattr(obj, "state_dict"):
        return not _is_module_object(obj)
    return False


def _is_module_object(obj: Any) -> bool:
    return type(obj).__name__ == "module"


def model_params(model: Any, call_kwargs: dict[str, Any] | None = None, params_arg: Any = None) -> dict[str, Any]:
    """Every resolved hyperparameter: `get_params(deep=False)` for estimators; for `lgb.train`-style
    Booster training, the params dict merged with the call's options (`num_boost_round`...)."""
    out: dict[str, Any] = {}
    get_params = getattr(model, "get_params", None)
    names = _plain_param_names(type(model))
    if names is not None:  # what BaseEstimator.get_params(deep=False) returns, without its introspection
        try:
            out.update({name: getattr(model, name) for name in names})
        except AttributeError:
            out.clear()
            names = None
    if names is None and callable(get_params):
        try:
            out.update(get_params(deep=False))
        except TypeError:
            out.update(get_params())
    elif isinstance(params_arg, dict):
        out.update(params_arg)
    elif isinstance(getattr(model, "params", None), dict):  # lightgbm.Booster keeps its params
        out.update(model.params)
    for key in _TRAIN_OPTIONS:
        if call_kwargs and key in call_kwargs and _is_plain(call_kwargs[key]):
            out.setdefault(key, call_kwargs[key])
    return {str(k): v for k, v in out.items() if _is_plain(v) or _is_small_repr(v)}


@functools.lru_cache(maxsize=256)
def _plain_param_names(cls: type) -> tuple[str, ...] | None:
    """The parameter names of a scikit-learn estimator class that keeps BaseEstimator's get_params and
    _get_param_names (which inspects the constructor's signature on every call: tens of µs per fit);
    None for anything else, which is asked through its own get_params."""
    get_params = getattr(cls, "get_params", None)
    get_names = getattr(getattr(cls, "_get_param_names", None), "__func__", None)
    if (getattr(get_params, "__qualname__", None) != "BaseEstimator.get_params"
            or getattr(get_params, "__module__", None) != "sklearn.base"
            or getattr(get_names, "__qualname__", None) != "BaseEstimator._get_param_names"):
        return None
    try:
        return tuple(cls._get_param_names())
    except Exception:
        return None


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_small_repr(value: Any) -> bool:
    """Nested estimators, callables, dicts: kept (the tracking layer stringifies), but never frames."""
    return not (hasattr(value, "shape") and hasattr(value, "dtype")) and not hasattr(value, "columns")


def frame_shape(obj: Any) -> tuple[list[str] | None, list[tuple[str, str]] | None, int | None]:
    """Column names, (column, dtype) pairs and row count of a DataFrame/Series/ndarray, cheaply."""
    columns = getattr(obj, "columns", None)
    if columns is not None and hasattr(obj, "dtypes"):
        names = [str(c) for c in columns]
        return names, [(str(c), str(t)) for c, t in zip(columns, obj.dtypes, strict=False)], _len(obj)
    if hasattr(obj, "dtype") and hasattr(obj, "name") and hasattr(obj, "index"):  # Series
        name = None if obj.name is None else str(obj.name)
        return ([name] if name else None), ([(name, str(obj.dtype))] if name else None), _len(obj)
    return None, None, _len(obj) if hasattr(obj, "shape") else None


def _len(obj: Any) -> int | None:
    shape = getattr(obj, "shape", None)
    if shape:
        try:
            return int(shape[0])
        except (TypeError, ValueError, IndexError):
            return None
    return None


def head(obj: Any, rows: int) -> Any:
    """The first `rows` rows of X as an independent copy (the user may mutate X after the fit); with
    pandas' copy-on-write (always on from pandas 3) the slice already is one."""
    try:
        if hasattr(obj, "iloc"):
            return obj.iloc[:rows] if _pandas_copy_on_write() else obj.iloc[:rows].copy()
        if hasattr(obj, "shape") and hasattr(obj, "copy"):
            return obj[:rows].copy()
    except Exception:  # sparse matrices, tensors on devices...: no example rather than a failure
        return None
    return None


def _pandas_copy_on_write() -> bool:
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return False
    if int(str(getattr(pandas, "__version__", "0")).split(".")[0]) >= 3:
        return True
    try:
        return pandas.options.mode.copy_on_write is True
    except AttributeError:
        return False


def label_name(y: Any) -> str | None:
    name = getattr(y, "name", None)
    if hasattr(y, "index") and name is not None:
        return str(name)
    columns = getattr(y, "columns", None)
    if columns is not None and len(columns) == 1:
        return str(columns[0])
    return None


def resolve_positional(text: str, columns: list[str]) -> list[str] | None:
    """Apply a positional column selection recorded by the analysis (`iloc[:, :-1]`, `values[:, 3]`)
    to the source's real columns; None when the text is not a plain index expression."""
    try:
        node = ast.parse(text.strip().lstrip("."), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Subscript):
        return None
    index = node.slice
    if isinstance(index, ast.Tuple):
        if len(index.elts) != 2:
            return None
        index = index.elts[1]
    else:
        return None  # a row selection only: all columns
    try:
        if isinstance(index, ast.Slice):
            parts = [None if p is None else ast.literal_eval(p) for p in (index.lower, index.upper, index.step)]
            return list(columns[slice(*parts)])
        value = ast.literal_eval(index)
    except (ValueError, TypeError, SyntaxError):
        return None
    if isinstance(value, int):
        return [columns[value]] if -len(columns) <= value < len(columns) else None
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return [columns[v] for v in value if -len(columns) <= v < len(columns)]
    return None


def source_path(path: Any) -> str | None:
    """An absolute, user-readable path for a file argument (str or PathLike); None for buffers/URLs kept as is."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        return None
    if "://" in path:
        return path
    return os.path.abspath(os.path.expanduser(path))
