"""What the kernel hooks hand to the tracking layer: plain frozen records, built cheaply on the user's thread.

The hooks fill these from live objects in well under a millisecond: no MLflow calls, no hashing of big
frames. Anything expensive (dataset digests and schemas, signatures, input examples, model files) is
computed later on the recorder thread from the references kept here (`DatasetRecord.data`,
`FitRecord.model`, `FitRecord.X`). The contract is written down in RECORDS.md.

Records compare by identity (`eq=False`): they hold live objects that must not be hashed or compared.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

DatasetKind = Literal["file", "sql", "sklearn_dataset", "other"]
DatasetRole = Literal["training", "evaluation", "source"]


@dataclasses.dataclass(frozen=True, eq=False)
class DatasetRecord:
    """A dataset a model was trained or evaluated on: where it came from and its shape, never its values."""

    name: str
    """Short name: the file stem, `query@database`, or the variable name."""
    kind: DatasetKind = "other"
    source: str | None = None
    """The file path, or the SQL text actually executed (redacted by the tracking layer anyway)."""
    database: str | None = None
    """`server/database` of a SQL source, password-free; None for files."""
    tables: tuple[str, ...] | list[str] = ()
    columns: tuple[str, ...] | list[str] = ()
    schema: list[tuple[str, str]] | None = None
    """(column, dtype string) pairs snapshotted at fit time; None when unknown."""
    n_rows: int | None = None
    digest: str | None = None
    """Content digest if the hook already knows one; else computed on the recorder thread from `data`."""
    role: DatasetRole = "training"
    source_id: str | None = None
    """The lineage id of the data source node (links a SqlReadRecord to later fits)."""
    data: Any = dataclasses.field(default=None, repr=False)
    """Optional live reference (DataFrame/ndarray) for the background digest; never logged or spooled."""


@dataclasses.dataclass(frozen=True, eq=False)
class FitRecord:
    """One executed training site: a fitted model and everything known about how it was trained."""

    model: Any = dataclasses.field(repr=False)
    """The live fitted object (estimator, Booster, nn.Module...)."""
    model_id: str
    """Lineage id of the model node; metrics name models by it."""
    var: str
    """The variable the model is bound to in the notebook (`clf`)."""
    cls: str
    """Public fully-qualified class name (`lightgbm.sklearn.LGBMClassifier`)."""
    cell: int | None = None
    """Code-cell index in the notebook, when known."""
    execution_count: int | None = None
    explicit_params: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The hyperparameters written in the code (`num_leaves=8`)."""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Every resolved hyperparameter, defaults included (`get_params(deep=False)`; Booster: params + options)."""
    features: list[str] | None = None
    label: str | None = None
    X: Any = dataclasses.field(default=None, repr=False)
    """Training features or a bounded head of them, for the signature and input example; None when off."""
    inputs: list[DatasetRecord] = dataclasses.field(default_factory=list)
    lineage: dict[str, Any] | None = None
    """The `flock.lineage/1` ancestry of this model (logged as lineage.json)."""
    code: str | None = None
    """Source of the cells in the model's ancestry (logged under code/)."""
    parent_run_id: str | None = None
    """The user's own active MLflow run (read on the main thread), which then becomes the parent."""
    autolog_run_id: str | None = None
    """The run `mlflow.autolog()` logged this fit into, when the hook saw one (see runs.user_mlflow_state)."""
    cell_sources: dict[str, str] | None = None
    """Optional: cell label -> source, logged one file per cell as code/<label>.py (else `code` as one file)."""


@dataclasses.dataclass(frozen=True, eq=False)
class MetricRecord:
    """A metric call whose result evaluates one or more models (attributed through lineage)."""

    model_ids: list[str]
    name: str
    """Metric name as the user would say it (`precision_score`, `score`)."""
    value: Any = dataclasses.field(repr=False)
    """The live result: a scalar becomes a metric, anything else (matrix, report) an artifact."""
    function: str | None = None
    """Fully-qualified function (`sklearn.metrics.precision_score`)."""
    cell: int | None = None
    execution_count: int | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The metric call's own keyword arguments (`{"average": "macro"}`)."""
    inputs: list[DatasetRecord] = dataclasses.field(default_factory=list)
    """Datasets the metric was computed on (the test CSV): logged as `evaluation` inputs of each model's run."""


@dataclasses.dataclass(frozen=True, eq=False)
class SqlReadRecord:
    """A SQL read, sent as soon as it happens; fills in later inputs that name the same source_id."""

    dataset: DatasetRecord
    cell: int | None = None
    execution_count: int | None = None


Record = FitRecord | MetricRecord | SqlReadRecord

__all__ = ["DatasetRecord", "FitRecord", "MetricRecord", "SqlReadRecord", "Record", "DatasetKind", "DatasetRole"]
