"""The notebook as flock sees it: its lineage, the sites planted in its cells, and the records they make.

One NotebookTracker per extension. On the user's thread it only analyses (once per cell, on the tree
IPython already parsed), plants hooks, and turns hook events into records handed to the tracking
session's queue; MLflow is only ever touched by the session's recorder thread.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from . import live, observe
from .instrument import RECEIVER, PlantedSite, instrument, site_position
from .lineage_view import ModelView, model_view

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension

_FAMILY = {"sql": "read"}
"""Kinds one hook serves: a reader call planted as `read` may turn out to run a query."""

MAX_FITS_PER_SITE = 50
"""Fits of one site in one cell execution that become runs (a loop of 10,000 fits would drown MLflow)."""


@dataclasses.dataclass
class CellContext:
    """The cell being executed: its text as IPython transformed it, and who it is in the notebook."""

    source: str = ""
    raw: str = ""
    cell_id: str | None = None
    index: int | None = None
    execution_count: int | None = None


class NotebookTracker:
    """Lineage + planted sites + runtime datasets of one notebook, feeding one TrackingSession."""

    def __init__(self, extension: FlockExtension) -> None:
        self.extension = extension
        self._lineage: Any = None
        self.sites: dict[int, PlantedSite] = {}
        self._next_site = 1
        self.cell = CellContext()
        self.cell_sources: dict[int, str] = {}
        self._cell_index_of: dict[str, int] = {}
        self.datasets: dict[str, Any] = {}  # lineage source id -> latest DatasetRecord seen at runtime
        self.fits: dict[str, Any] = {}  # model id -> latest FitRecord
        self.training_X: dict[str, Any] = {}  # model id -> the live X of its latest fit (for conversion)
        self._fits_this_cell: Counter[int] = Counter()
        self._session: Any = None
        self._session_key: tuple | None = None
        self._mlflow_before: Any = None
        self._views: dict[str, ModelView] = {}
        self._called_sites: dict[tuple, list[Any]] = {}
        """(defining cell, call position) -> the sites the running cell's analysis found at that call
        in a function another cell defined (CellFacts.elsewhere), in the order the analysis met them."""
        self._called_fired: Counter[tuple] = Counter()
        """Model id -> its view of the lineage as it is now (cleared whenever the lineage changes)."""

    # -- cells ------------------------------------------------------------------------------
    @property
    def lineage(self) -> Any:
        if self._lineage is None:
            from ..analysis import NotebookLineage

            self._lineage = NotebookLineage()
        return self._lineage

    def start_cell(self, raw: str, transformed: str | None, cell_id: str | None, execution_count: int | None) -> None:
        index = None
        if cell_id:
            index = self._cell_index_of.setdefault(cell_id, len(self._cell_index_of))
        elif execution_count is not None:
            index = execution_count - 1
        self.cell = CellContext(source=transformed or raw, raw=raw, cell_id=cell_id, index=index,
                                execution_count=execution_count)
        self._fits_this_cell.clear()
        self._called_sites.clear()
        self._called_fired.clear()
        self._mlflow_before = _user_mlflow()
        if self._session is not None:
            self._session.cell_started()  # the recorder defers heavy work while a cell runs

    def end_cell(self) -> None:
        self._fits_this_cell.clear()
        if self._session is not None:
            self._session.cell_finished()

    def instrument_cell(self, tree: ast.Module, source: str | None) -> ast.Module:
        """Analyse the cell (sharing IPython's tree) and plant hooks at its sites; may raise."""
        cell = self.cell
        if cell.execution_count is None:
            return tree  # a silent execution (frontend polling, variable inspectors): not a notebook cell
        text = source if source is not None else cell.source
        self._views.clear()
        history = self.lineage.store.history
        superseded_from = len(history)
        facts = self.lineage.add_cell(text, execution_count=cell.execution_count, cell_index=cell.index, tree=tree)
        for item in history[superseded_from:]:  # a re-run cell's earlier models: let their data go
            if item["collection"] == "models":
                self.fits.pop(item["item"]["id"], None)
                self.training_X.pop(item["item"]["id"], None)
        if cell.index is not None:
            self.cell_sources[cell.index] = cell.raw or text
        for site in getattr(facts, "elsewhere", ()) or ():
            self._called_sites.setdefault((site.cell, *site_position(site)), []).append(site)
        tree, planted = instrument(tree, getattr(facts, "sites", ()) or (), self._next_site,
                                   getattr(facts, "in_functions", ()) or ())
        for site in planted:
            site.cell = cell.index
            self.sites[site.id] = site
        self._next_site += len(planted)
        return tree

    # -- hook events ------------------------------------------------------------------------
    def warn_once(self, key: str, message: str) -> None:
        self.extension.warn_once(key, message)

    def on_site(self, kind: str, site_id: int, operands: dict, result: Any) -> None:
        if not self.extension.settings.enabled:
            return
        planted = self.sites.get(site_id)
        if planted is None:
            return
        if planted.deferred or planted.cell != self.cell.index:
            planted = self._as_called_here(planted, operands)  # a function another cell defined, or a call
            if planted is None:  # the analysis did not follow, and the receiver is no model
                return
        getattr(self, f"_on_{planted.kind}")(planted, operands, result)

    def _as_called_here(self, planted: PlantedSite, operands: dict) -> PlantedSite | None:
        """The hook in a function body, with what the running cell's analysis found at that call
        (its model, sources, metrics); a fit the analysis did not follow there (`exec`, a callback it
        cannot see) is kept, without lineage, when the live receiver is a model of the knowledge base."""
        key = (planted.cell, *site_position(planted.site))
        family = _FAMILY.get(planted.kind, planted.kind)
        options = [s for s in self._called_sites.get(key, ()) if _FAMILY.get(s.kind, s.kind) == family]
        if not options:
            return self._fit_seen_at_run_time(planted, operands) if planted.kind == "fit" else None
        fired = self._called_fired[key]
        self._called_fired[key] += 1
        site = options[min(fired, len(options) - 1)]  # train(a) then train(b): each call its own model
        return dataclasses.replace(planted, kind=site.kind, site=site, deferred=False)

    def _fit_seen_at_run_time(self, planted: PlantedSite, operands: dict) -> PlantedSite | None:
        receiver = operands.get(RECEIVER)
        if receiver is None or not planted.method:
            return None
        public = self.lineage.model_class(live.class_name(receiver))
        if public is None:
            return None
        var = getattr(planted.site, "receiver", None) or "model"
        site = dataclasses.replace(planted.site, ref=f"model:{var}@run:{planted.id}", var=var,
                                   function=f"{public}.{planted.method}", cell=None)
        return dataclasses.replace(planted, site=site, deferred=False)

    def _on_read(self, planted: PlantedSite, operands: dict, result: Any) -> None:
        seen = observe.file_read(planted, operands, result)
        self._remember_dataset(planted, seen)

    def _on_sql(self, planted: PlantedSite, operands: dict, result: Any) -> None:
        from ..tracking.records import SqlReadRecord

        seen = observe.sql_read(planted, operands, result)
        if seen is None:
            return
        dataset = self._remember_dataset(planted, seen)
        self._feed_lineage(getattr(planted.site, "ref", None), seen)
        self.send(SqlReadRecord(dataset, cell=self.cell.index, execution_count=self.cell.execution_count))

    def _remember_dataset(self, planted: PlantedSite, seen: observe.ReadSeen) -> Any:
        from ..tracking.records import DatasetRecord

        source_id = getattr(planted.site, "ref", None)
        dataset = DatasetRecord(name=seen.name, kind=seen.kind, source=seen.source, database=seen.database,
                                tables=list(seen.tables), columns=list(seen.columns), schema=seen.schema,
                                n_rows=seen.n_rows, role="source", source_id=source_id, data=seen.data)
        if source_id:
            self.datasets[source_id] = dataset
        return dataset

    def _feed_lineage(self, source_id: str | None, seen: observe.ReadSeen) -> None:
        """Tell the lineage graph what a SQL read really read when the code did not say (a built query)."""
        self._views.clear()
        observe_sql = getattr(self.lineage, "observe_sql", None)
        if callable(observe_sql):
            observe_sql(source_id, seen.source, seen.tables, seen.columns, seen.database)
            return
        store = getattr(self.lineage, "store", None)
        record = getattr(store, "sources", {}).get(source_id) if source_id else None
        if not isinstance(record, dict):
            return
        static_guess = record.get("source") != seen.source  # the code built the query: runtime knows better
        if seen.tables and (static_guess or not record.get("tables")):
            record["tables"] = list(seen.tables)
        if seen.columns and (static_guess or record.get("columns") is None):
            record["columns"] = list(seen.columns)

    def _on_fit(self, planted: PlantedSite, operands: dict, result: Any) -> None:
        from ..tracking.records import FitRecord

        self._fits_this_cell[planted.id] += 1
        if self._fits_this_cell[planted.id] > MAX_FITS_PER_SITE:
            self.warn_once("fit-loop", f"only the first {MAX_FITS_PER_SITE} fits of a training call in one "
                                       "cell execution are logged")
            return
        seen = observe.fit(planted, operands, result)
        if seen is None:
            return
        site = planted.site
        model_id = getattr(site, "ref", None) or f"model:{getattr(site, 'var', None) or 'model'}"
        view = self._model_view(model_id)
        settings = self.extension.settings
        parent_run_id, autolog_run_id = self._user_runs(seen.model)
        features, label = self._features_and_label(seen, view)
        inputs = [dataclasses.replace(self.datasets[sid], role="training")
                  for sid in view.source_ids if sid in self.datasets]
        record = FitRecord(
            model=seen.model,
            model_id=model_id,
            var=getattr(site, "var", None) or view.var or "model",
            cls=live.class_name(seen.model),
            cell=self.cell.index,
            execution_count=self.cell.execution_count,
            explicit_params=dict(view.explicit_params),
            params=live.model_params(seen.model, seen.call_kwargs, seen.params_arg),
            features=features,
            label=label,
            X=live.head(seen.X, settings.input_example_rows) if settings.input_example and seen.X is not None
            else None,
            inputs=inputs,
            lineage=view.ancestry,
            code=self._code(view.cells),
            cell_sources={f"cell_{i}": self.cell_sources[i] for i in view.cells if i in self.cell_sources},
            parent_run_id=parent_run_id,
            autolog_run_id=autolog_run_id,
        )
        self.fits[model_id] = record
        self.training_X[model_id] = seen.X
        self.send(record)

    def _user_runs(self, model: Any) -> tuple[str | None, str | None]:
        """(the user's active run, the run mlflow.autolog() logged this fit into), both None without mlflow."""
        after = _user_mlflow()
        if after is None:
            return None, None
        before, self._mlflow_before = self._mlflow_before, after
        autolog_run_id = None
        if after.autolog:
            from ..tracking.models import flavor_of
            from ..tracking.runs import NO_MLFLOW, autolog_run_for

            autolog_run_id = autolog_run_for(before or NO_MLFLOW, after, flavor_of(model))
        return after.active_run_id, autolog_run_id

    def _features_and_label(self, seen: observe.FitSeen, view: ModelView) -> tuple[list[str] | None, str | None]:
        features = observe.column_names(seen.X) if seen.X is not None else None
        label = live.label_name(seen.y) if seen.y is not None else None
        source_columns = next((list(self.datasets[s].columns) for s in view.source_ids
                               if s in self.datasets and self.datasets[s].columns), None)
        if not features:
            features = view.features
            if features is None and view.features_positional and source_columns:
                features = live.resolve_positional(view.features_positional, source_columns)
            if features is None and view.features_all_except is not None and source_columns:
                features = [c for c in source_columns if c not in view.features_all_except]
        if label is None:
            label = view.label
            if label is None and view.label_positional and source_columns:
                resolved = live.resolve_positional(view.label_positional, source_columns)
                label = resolved[0] if resolved and len(resolved) == 1 else None
        return features, label

    def _on_metric(self, planted: PlantedSite, operands: dict, result: Any) -> None:
        from ..tracking.records import MetricRecord

        model_ids = [m for m in (getattr(planted.site, "models", None) or ()) if m]
        if not model_ids:
            return
        extra = {}
        if _METRIC_HAS_INPUTS:  # evaluation datasets: the sources in the metric's own ancestry
            extra["inputs"] = self._evaluation_inputs(getattr(planted.site, "ref", None), model_ids)
        self.send(MetricRecord(model_ids=list(model_ids), name=observe.metric_name(planted), value=result,
                               function=getattr(planted.site, "function", None), cell=self.cell.index,
                               execution_count=self.cell.execution_count,
                               params=observe.metric_params(planted, operands), **extra))

    def _evaluation_inputs(self, metric_id: str | None, model_ids: list[str]) -> list[Any]:
        if not metric_id or not self.datasets:
            return []
        try:
            upstream = self.lineage.sources_upstream(metric_id)
        except Exception:  # a node the analysis does not know
            return []
        training = {sid for m in model_ids for sid in self._model_view(m).source_ids}
        return [dataclasses.replace(self.datasets[sid], role="evaluation")
                for sid in upstream if sid in self.datasets and sid not in training]

    # -- helpers ----------------------------------------------------------------------------
    def _model_view(self, model_id: str) -> ModelView:
        """The model's lineage as the analysis knows it now; computed once per cell (a fit and the
        metrics on it in the same cell share it), again after the lineage changed."""
        view = self._views.get(model_id)
        if view is not None:
            return view
        try:
            ancestry = self.lineage.ancestry(model_id)
        except Exception as exc:  # an id the analysis does not know: log the fit without lineage
            self.warn_once("ancestry", f"no lineage for model {model_id} ({type(exc).__name__}: {exc})")
            ancestry = None
        view = self._views[model_id] = model_view(ancestry, model_id)
        return view

    def _code(self, cells: list[int]) -> str | None:
        parts = [f"# cell {i}\n{self.cell_sources[i]}" for i in cells if i in self.cell_sources]
        if not parts and self.cell.index in self.cell_sources:
            parts = [self.cell_sources[self.cell.index]]
        return "\n\n".join(parts) or None

    # -- the tracking session ---------------------------------------------------------------
    def send(self, record: Any) -> None:
        session = self.session()
        if session is not None:
            session.record(record)

    def session(self, create: bool = True) -> Any:
        settings = self.extension.settings
        key = (settings.tracking_uri, settings.experiment, settings.default_experiment)
        if self._session is not None and self._session_key != key:
            # %flock experiment/tracking-uri: later runs go to the new place; the old session finishes
            # its queue off the user's thread (and at exit through its own atexit hook)
            old, self._session = self._session, None
            threading.Thread(target=old.close, name="flock-close", daemon=True).start()
        if self._session is None and create:
            from ..tracking.session import TrackingSession

            self._session = TrackingSession(settings, notebook_path=self.extension.notebook_path(),
                                            session_id=self.extension.session_id)
            self._session_key = key
            if self.cell.execution_count is not None:  # created by a hook: a cell is running
                self._session.cell_started()
        return self._session

    def close_session(self, timeout: float = 30.0) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close(timeout)

    def run_id_for(self, model_id: str, timeout: float = 2.0) -> str | None:
        """The MLflow run of the model's latest fit; waits up to `timeout` for the recorder (0: never)."""
        session = self.session(create=False)
        return session.run_id_for(model_id, timeout=timeout) if session is not None else None


def _metric_has_inputs() -> bool:
    from ..tracking.records import MetricRecord

    return any(f.name == "inputs" for f in dataclasses.fields(MetricRecord))


_METRIC_HAS_INPUTS = _metric_has_inputs()


def _user_mlflow() -> Any:
    """The user's MLflow state on this (the main) thread; microseconds, never imports mlflow."""
    if "mlflow" not in sys.modules:
        return None
    from ..tracking.runs import user_mlflow_state

    return user_mlflow_state()
