"""flock-nbext: automatic MLflow tracking, provenance and one-call ONNX for notebooks.

`%load_ext flock` (or `%load_ext flock_nbext`) in IPython or Jupyter is all it takes.
This module imports nothing heavy: every public function imports its layer on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import FlockError

if TYPE_CHECKING:  # pragma: no cover
    from .conversion.api import ConversionResult

__all__ = [
    "FlockError",
    "__version__",
    "convert",
    "lineage",
    "load_ipython_extension",
    "score_sql",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    """Called by `%load_ext flock_nbext`: install flock's hooks into this IPython shell."""
    from .kernel.extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Called by `%unload_ext flock_nbext`: remove every hook that loading added."""
    from .kernel.extension import unload

    unload(ipython)


def convert(model: Any, sample: Any = None, batch_size: int = 1, threads: int | None = None,
            **options: Any) -> ConversionResult:
    """Convert a trained model to the fastest exact ONNX graph; see `conversion.api.convert`."""
    from .conversion.api import convert as _convert

    return _convert(model, sample=sample, batch_size=batch_size, threads=threads, **options)


def lineage(source: str, *, filename: str | None = None) -> dict:
    """Lineage JSON (schema flock.lineage/1) of Python source text or a .py/.ipynb path."""
    from .analysis import lineage_of

    return lineage_of(source, filename=filename)


def score_sql(model: Any, con: Any, query: str, *, out_table: str, key: str | None = None,
              batch_size: int = 10_000, **options: Any) -> Any:
    """Score a SQL query's rows in batches with an ONNX model and write predictions to a table."""
    from .serving.sql_scoring import score_sql as _score_sql

    return _score_sql(model, con, query, out_table=out_table, key=key, batch_size=batch_size, **options)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "flock-nbext"}]
