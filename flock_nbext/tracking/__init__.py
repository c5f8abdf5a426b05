"""The only package that imports mlflow: run model, recorder thread, spool, datasets, models.

Importing this package is cheap: mlflow is imported on the recorder thread (or inside the functions
that need it), never at `%load_ext` time. The kernel builds records (`tracking.records`) and hands them
to a `TrackingSession` (`tracking.session`).
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "TrackingSession": "flock_nbext.tracking.session",
    "DatasetRecord": "flock_nbext.tracking.records",
    "FitRecord": "flock_nbext.tracking.records",
    "MetricRecord": "flock_nbext.tracking.records",
    "SqlReadRecord": "flock_nbext.tracking.records",
    "user_mlflow_state": "flock_nbext.tracking.runs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flock_nbext.tracking' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY)
