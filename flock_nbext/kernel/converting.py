"""Convert a tracked model to ONNX from the kernel (`%flock_convert`, the panel's Convert button).

Finds the live model by variable name or lineage id, validates on (a bounded slice of) the rows it
was trained on, and hands the result to the tracking session, which logs it to the model's run.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..errors import FlockError

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension

MAX_SAMPLE_ROWS = 2000
"""Training rows used for validation: enough to reach most leaves, few enough to stay quick."""


@dataclasses.dataclass
class Converted:
    model_id: str | None
    var: str | None
    result: Any
    run_id: str | None
    logged: bool


def resolve(ext: FlockExtension, name: str) -> tuple[str | None, str | None, Any]:
    """(model id, variable, live model) for a variable name or a model id."""
    tracker = ext.tracker
    if name in tracker.fits:
        record = tracker.fits[name]
        live = ext.shell.user_ns.get(record.var)
        return name, record.var, live if live is record.model else record.model
    try:
        model_id = (tracker.lineage.model_for_var(name) or {}).get("id")
    except Exception:  # no lineage yet, or a name the analysis does not know
        model_id = None
    if name in ext.shell.user_ns:
        return model_id, name, ext.shell.user_ns[name]
    if model_id in tracker.fits:
        return model_id, name, tracker.fits[model_id].model
    raise FlockError(f"no model named {name!r} in this notebook: give the variable of a trained model")


def training_sample(ext: FlockExtension, model_id: str | None) -> Any:
    """Numeric training rows seen at the model's fit, at most MAX_SAMPLE_ROWS, or None."""
    X = ext.tracker.training_X.get(model_id) if model_id else None
    if X is None:
        return None
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and any(getattr(d, "kind", "O") not in "biuf" for d in dtypes):
        return None
    if getattr(X, "ndim", 2) != 2 or getattr(getattr(X, "dtype", None), "kind", "f") not in "biuf":
        return None
    return X.iloc[:MAX_SAMPLE_ROWS] if hasattr(X, "iloc") else X[:MAX_SAMPLE_ROWS]


def convert_tracked(ext: FlockExtension, name: str, *, batch_size: int = 1, threads: int | None = None,
                    tolerance: float | None = None) -> Converted:
    """Convert, then log to the model's run when flock tracked its training."""
    import flock_nbext

    model_id, var, model = resolve(ext, name)
    options: dict[str, Any] = {"progress": False}
    if tolerance is not None:
        options["tolerance"] = tolerance
    result = flock_nbext.convert(model, sample=training_sample(ext, model_id), batch_size=batch_size,
                                 threads=threads, **options)
    logged, run_id = False, None
    if model_id is not None and model_id in ext.tracker.fits:
        session = ext.tracker.session()
        session.log_onnx(model_id, result)
        logged = True
        run_id = session.run_id_for(model_id)
    return Converted(model_id, var, result, run_id, logged)


def report_rows(result: Any) -> list[dict[str, Any]]:
    """The report as JSON-safe rows for the panel."""
    rows = []
    for row in result.report:
        rows.append({k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in row.items()})
    return rows
