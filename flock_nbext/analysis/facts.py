"""What one analysed cell tells the kernel: the call sites to instrument and the items it added."""

from __future__ import annotations

from dataclasses import dataclass

SITE_KINDS = frozenset({"read", "sql", "fit", "metric", "predict"})


@dataclass(frozen=True)
class Site:
    """A call in the cell's own AST that the kernel may wrap with a runtime hook.

    ``lineno``/``col_offset``/``end_lineno``/``end_col_offset`` are those of the ``ast.Call``;
    ``ref`` is the id of the model, metric or data source it concerns; for metrics ``models``
    lists the models evaluated.
    """

    kind: str
    lineno: int
    col_offset: int
    end_lineno: int | None
    end_col_offset: int | None
    ref: str
    var: str | None = None
    function: str = ""
    receiver: str | None = None
    models: tuple[str, ...] = ()


@dataclass(frozen=True)
class CellFacts:
    """The result of adding one cell: its sites, its parse error if any, and the items it added."""

    sites: tuple[Site, ...] = ()
    error: str | None = None
    models: tuple[dict, ...] = ()
    metrics: tuple[dict, ...] = ()
    data_sources: tuple[dict, ...] = ()
