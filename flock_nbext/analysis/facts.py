"""What one analysed cell tells the kernel: the call sites to instrument and the items it added."""

from __future__ import annotations

from dataclasses import dataclass

SITE_KINDS = frozenset({"read", "sql", "fit", "metric", "predict"})


@dataclass(frozen=True)
class Site:
    """A call in the cell's own AST that the kernel may wrap with a runtime hook.

    ``lineno``/``col_offset``/``end_lineno``/``end_col_offset`` are those of the ``ast.Call``;
    ``ref`` is the id of the model, metric or data source it concerns (empty for a call in a
    function body whose model is known only when a later cell calls the function); for metrics
    ``models`` lists the models evaluated. ``cell`` is set when the call is in another cell's code
    (a function defined there, called from the analysed cell): the positions are in that cell.
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
    cell: object = None


@dataclass(frozen=True)
class CellFacts:
    """The result of adding one cell: its sites, its parse error if any, and the items it added.

    ``in_functions``: calls in the bodies of the functions and classes the cell defines that may
    train, evaluate or read when a later cell calls them (``ref`` empty, see function_sites.py).
    ``elsewhere``: the sites this cell's calls reached in functions defined by other cells, with
    this call's models and sources (``cell`` names the defining cell).
    """

    sites: tuple[Site, ...] = ()
    error: str | None = None
    models: tuple[dict, ...] = ()
    metrics: tuple[dict, ...] = ()
    data_sources: tuple[dict, ...] = ()
    in_functions: tuple[Site, ...] = ()
    elsewhere: tuple[Site, ...] = ()
