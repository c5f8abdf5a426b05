"""What `convert()` returns: the chosen ONNX graph, the report that chose it, and an ORT-backed predictor."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from ..errors import ConversionError
from . import graphs
from .reference import CLASSIFIER, OriginalModel

_COLUMNS = [  # (row key, header, format)
    ("candidate", "candidate", "{}"),
    ("status", "status", "{}"),
    ("max_abs_diff", "max diff", "{:.2g}"),
    ("batch1_p50_us", "batch-1 p50 µs", "{:.1f}"),
    ("batch1_p99_us", "batch-1 p99 µs", "{:.1f}"),
    ("batchN_rows_per_s", "batch-N rows/s", "{:,.0f}"),
    ("size_bytes", "size KiB", "{}"),
    ("reason", "note", "{}"),
]


class ConversionReport(list):
    """One dict per candidate (and one for the original model), rendered by table()."""

    def __init__(self, rows: list[dict], batch_n: int):
        super().__init__(rows)
        self.batch_n = batch_n

    def table(self, fmt: str = "text") -> str:
        """The report as aligned text (fmt="text") or a Markdown table (fmt="markdown")."""
        if fmt not in ("text", "markdown"):
            raise ConversionError(f"unknown report format {fmt!r}: use 'text' or 'markdown'")
        headers = [h.replace("batch-N", f"batch-{self.batch_n:,}") for _, h, _ in _COLUMNS]
        body = [[_cell(row, key, spec) for key, _, spec in _COLUMNS] for row in self]
        for cells, row in zip(body, self, strict=True):
            if row.get("chosen"):
                cells[0] = f"{cells[0]} *"
        if fmt == "markdown":
            lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in body]
            return "\n".join(lines) + "\n\n\\* chosen\n"
        widths = [max(len(h), *(len(c) for c in col)) for h, col in zip(headers, zip(*body, strict=True), strict=True)]
        fmt_row = "  ".join(f"{{:<{w}}}" for w in widths)
        lines = [fmt_row.format(*headers).rstrip(), fmt_row.format(*("-" * w for w in widths))]
        lines += [fmt_row.format(*cells).rstrip() for cells in body]
        return "\n".join(lines) + "\n* chosen\n"


def _cell(row: dict, key: str, spec: str) -> str:
    value = row.get(key)
    if value is None or value == "":
        return "" if key == "reason" else "-"
    if key == "size_bytes":
        return f"{value / 1024:,.1f}"
    return spec.format(value)


@dataclasses.dataclass
class MlflowParts:
    """Everything the tracking layer logs for a conversion, as plain objects (no MLflow here).

    `onnx_model` is the serving graph (its "label" output carries the original class labels),
    `input_example` a few float32 sample rows without NaN, `output_example` the serving graph's
    answers on them (for `mlflow.models.infer_signature(input_example, output_example)`),
    `report_rows` / `report_markdown` the report, `metrics` and `tags` flat name -> value maps
    whose names already carry the `flock.onnx.` prefix.
    """

    onnx_model: Any
    input_example: np.ndarray
    output_example: dict[str, np.ndarray]
    report_rows: list[dict]
    report_markdown: str
    metrics: dict[str, float]
    tags: dict[str, str]


@dataclasses.dataclass(eq=False)
class ConversionResult:
    """The fastest exact ONNX graph for a model, how it was chosen, and predictions through ONNX Runtime.

    `predict` / `predict_proba` answer with the original model's shapes and class labels; rows
    are given to the graph as float32 (ONNX's input type), and the graph was checked against the
    original on float32 rows, so float64 rows that float32 rounding moves across a split
    threshold can answer as the original would for the rounded value;
    `speedup` holds the original's time divided by the chosen graph's (keys "batch1", "batchN",
    and "batch_n", the N used).
    """

    onnx_model: Any
    candidate: str
    report: ConversionReport
    speedup: dict[str, float]
    n_features: int
    original: OriginalModel = dataclasses.field(repr=False)
    example_rows: np.ndarray = dataclasses.field(repr=False)
    threads: int | None = None
    input_name: str = "X"
    _session: Any = dataclasses.field(default=None, repr=False)

    @property
    def classes(self) -> np.ndarray | None:
        """The original class labels (None for regressors and neural modules)."""
        return self.original.classes

    @property
    def session(self) -> Any:
        """The ONNX Runtime session behind predict(), created on first use."""
        if self._session is None:
            from .runtime import make_session

            self._session = make_session(self.onnx_model, threads=self.threads)
        return self._session

    def _run(self, X: Any) -> dict[str, np.ndarray]:
        from .runtime import run
        from .sample import from_user

        return run(self.session, from_user(X, self.n_features, self.original.name).X)

    def predict(self, X: Any) -> np.ndarray:
        """What the original model's predict(X) answers, computed by the ONNX graph."""
        return self.original.shape_predict(self._run(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities [N, n_classes] (classifiers only)."""
        return self.original.shape_proba(self._run(X))

    def report_table(self, fmt: str = "text") -> str:
        """The report as aligned text or Markdown ("markdown")."""
        return self.report.table(fmt)

    def __repr__(self) -> str:
        return (f"ConversionResult(candidate={self.candidate!r}, speedup={self.speedup}, "
                f"n_features={self.n_features}, input_name={self.input_name!r})")

    def _repr_markdown_(self) -> str:
        """Notebooks show the report table."""
        return f"**flock convert**: `{self.candidate}`\n\n" + self.report.table("markdown")

    def serving_model(self) -> Any:
        """The graph for serving: for classifiers "label" carries the original class labels."""
        if self.original.task == CLASSIFIER:
            return graphs.with_class_labels(self.onnx_model, self.original.classes)
        return self.onnx_model

    def save(self, path: str | os.PathLike, *, class_labels: bool = True) -> str:
        """Write the model to `path` (the serving graph unless class_labels=False); returns the path."""
        import onnx

        path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise ConversionError(f"cannot save to {path}: folder {parent} does not exist")
        onnx.save(self.serving_model() if class_labels else self.onnx_model, path)
        return path

    def to_mlflow_parts(self, n_examples: int = 5) -> MlflowParts:
        """What to log to MLflow for this conversion; see MlflowParts."""
        from .runtime import make_session, run

        rows = self.example_rows[~np.isnan(self.example_rows).any(axis=1)][:n_examples]
        if len(rows) == 0:
            rows = np.nan_to_num(self.example_rows[:n_examples])
        serving = self.serving_model()
        chosen = next(r for r in self.report if r.get("chosen"))
        metrics = {"flock.onnx.speedup_batch1": self.speedup["batch1"],
                   "flock.onnx.speedup_batchN": self.speedup["batchN"],
                   "flock.onnx.max_abs_diff": chosen["max_abs_diff"],
                   "flock.onnx.batch1_p50_us": chosen["batch1_p50_us"],
                   "flock.onnx.batchN_rows_per_s": chosen["batchN_rows_per_s"]}
        metrics = {k: float(v) for k, v in metrics.items() if v is not None}  # None: not measured
        tags = {"flock.onnx.candidate": self.candidate, "flock.onnx.batch_n": str(self.speedup["batch_n"]),
                "flock.onnx.threads": "default" if self.threads is None else str(self.threads)}
        return MlflowParts(onnx_model=serving, input_example=rows.astype(np.float32),
                           output_example=run(make_session(serving), rows), report_rows=[dict(r) for r in self.report],
                           report_markdown=self.report.table("markdown"), metrics=metrics, tags=tags)
