"""NotebookLineage: the provenance graph of one kernel session, grown one executed cell at a time.

State (bindings, records, graph) is kept between cells, so adding a cell costs time in
proportion to that cell.  Re-adding a cell index replaces what its earlier run created; the
superseded items stay listed in ``history`` by execution count.
"""

from __future__ import annotations

import ast

import networkx as nx

from . import export
from .facts import CellFacts
from .interp import Interpreter
from .kb import KnowledgeBase, default_kb
from .records import LineageStore
from .sources import MAX_CELL_CHARS, python_of
from .values import Model

TOO_LARGE, TOO_DEEP, SYNTAX, INTERNAL = "too_large", "too_deep", "syntax", "internal"


def _parse(source: str) -> ast.Module:
    """Plain Python as it is; IPython syntax (magics, shell escapes) only when that does not parse,
    so a ``%s`` line inside a query string is never mistaken for a magic."""
    try:
        return ast.parse(source)
    except SyntaxError:
        transformed = python_of(source)
        if transformed == source:
            raise
        return ast.parse(transformed)


class NotebookLineage:
    """Incremental lineage of a notebook or kernel session (one per session)."""

    def __init__(self, *, kb: KnowledgeBase | None = None, global_lines: bool = False) -> None:
        self._kb = kb or default_kb()
        self._global_lines = global_lines
        self._sources: dict[int, str] = {}
        self._line_counts: dict[int, int] = {}
        self._offsets: dict[int, int] | None = {}
        self._last_index = -1
        self._next_index = 0
        self.unparsable: dict[int, tuple[str, str]] = {}
        self.store = LineageStore(self._label)
        self._interp = Interpreter(self._kb, self.store)
        self.script = False

    # -- positions ------------------------------------------------------------------------------
    def _count_lines(self, index: int, count: int) -> None:
        """Keep line offsets current: appending a cell is O(1), editing an earlier one recomputes."""
        previous = self._line_counts.get(index)
        self._line_counts[index] = count
        if previous == count:
            return
        if self._offsets is not None and previous is None and index > self._last_index:
            last = self._last_index
            self._offsets[index] = (self._offsets[last] + self._line_counts[last]) if last >= 0 else 0
        else:
            self._offsets = None
        self._last_index = max(self._last_index, index)

    def _offset(self, cell) -> int:
        if cell is None or self.script:
            return 0
        if self._offsets is None:
            running, self._offsets = 0, {}
            for index in sorted(self._line_counts):
                self._offsets[index] = running
                running += self._line_counts[index]
        return self._offsets.get(cell, 0)

    def _label(self, pos) -> str:
        cell, line = pos
        if self.script or cell is None or self._global_lines:
            return str(self._offset(cell) + line)
        return f"c{cell}:{line}"

    def _place(self, pos) -> dict:
        cell, line = pos
        if self.script or cell is None:
            return {"line": line}
        return {"line": self._offset(cell) + line, "cell": cell, "cell_line": line}

    # -- cells --------------------------------------------------------------------------------------
    def add_cell(self, source: str, *, execution_count: int | None = None, cell_index: int | None = None,
                 tree: ast.Module | None = None) -> CellFacts:
        """Analyse one executed cell; never raises (an unanalysable cell is marked in ``error``)."""
        index = self._next_index if cell_index is None else cell_index
        self._next_index = max(self._next_index, index + 1)
        if index in self._sources:
            self.store.supersede_cell(index, execution_count)
        self.unparsable.pop(index, None)
        self._sources[index] = source
        self._count_lines(index, source.count("\n") + 1)
        self.store.touched = []
        if tree is None:
            if len(source) > MAX_CELL_CHARS:
                return self._fail(index, TOO_LARGE, f"cell too large to analyse ({len(source):,} characters)")
            try:
                tree = _parse(source)
            except SyntaxError as exc:
                if "too many nested" in exc.msg or "too complex" in exc.msg:
                    return self._fail(index, TOO_DEEP, f"nesting too deep to parse (line {exc.lineno}: {exc.msg})")
                return self._fail(index, SYNTAX, f"syntax error at line {exc.lineno}: {exc.msg}")
            except (RecursionError, MemoryError):
                return self._fail(index, TOO_DEEP, "nesting too deep to parse")
            except ValueError as exc:
                return self._fail(index, SYNTAX, f"cannot parse: {exc}")
        try:
            self._interp.run(tree, index)
        except RecursionError:
            return self._fail(index, TOO_DEEP, "nesting too deep to analyse")
        except Exception as exc:  # an analyzer bug must never break the user's cell
            return self._fail(index, INTERNAL, f"analysis failed ({type(exc).__name__}: {exc})")
        return self._facts(self._interp)

    @property
    def analysis_errors(self) -> list[tuple]:
        """(cell, line, error) of statements skipped because of an analyzer bug (should stay empty)."""
        return list(self._interp.errors)

    def _fail(self, index: int, kind: str, message: str) -> CellFacts:
        self.unparsable[index] = (kind, message)
        return CellFacts(error=message)

    def _facts(self, interp: Interpreter) -> CellFacts:
        seen, models, metrics, sources = set(), [], [], []
        for collection, rid in self.store.touched:
            if (collection, rid) in seen:
                continue
            seen.add((collection, rid))
            if collection == "models" and rid in self.store.models:
                rec = self.store.models[rid]
                if export.model_visible(rec):
                    models.append(export.model_json(rec, self._place))
            elif collection == "metrics" and rid in self.store.metrics:
                metrics.append(export.metric_json(self.store.metrics[rid], self._place))
            elif collection == "sources" and rid in self.store.sources:
                sources.append(export.source_json(self.store.sources[rid], self._place))
        return CellFacts(tuple(interp.sites), None, tuple(models), tuple(metrics), tuple(sources),
                         tuple(interp.function_sites), tuple(interp.sites_elsewhere))

    def finish_uncalled_functions(self) -> None:
        """Analyse functions defined but never called (a whole file is known): their models count."""
        from .calls import Args

        for func in list(self._interp.functions_defined):
            if id(func.node) not in self._interp.functions_called:
                self._interp.cell_key = func.cell
                self._interp.inline_budget = 2000
                try:
                    self._interp.call_function(func, func.node, Args())
                except RecursionError:
                    continue
                except Exception as exc:  # an analyzer bug costs this function, not the file
                    self._interp.errors.append((func.cell, getattr(func.node, "lineno", 0),
                                                f"{type(exc).__name__}: {exc}"))

    def observe_sql(self, source_id: str | None, source: str | None = None, tables=(), columns=(),
                    database: str | None = None) -> None:
        """What a SQL read really read at run time: fills in what the code did not determine.

        A query the code built (a helper's argument, text read from a file) is a guess statically;
        the kernel's runtime hook knows the executed text, so its tables and columns win then.
        """
        rec = self.store.sources.get(source_id) if source_id else None
        if rec is None:
            return
        built = source is not None and rec["source"] != source
        if tables and (built or not rec["tables"]):
            rec["tables"] = list(tables)
        if columns and (built or rec["columns"] is None):
            rec["columns"] = list(columns)

    # -- answers ------------------------------------------------------------------------------------
    def _unparsable_json(self):
        return [{"cell": i, "error": msg} for i, (_, msg) in sorted(self.unparsable.items())]

    def to_json(self, *, file: str | None = None) -> dict:
        """The full lineage JSON (schema flock.lineage/1)."""
        return export.build(self.store, self._place, file=file, unparsable=self._unparsable_json())

    def ancestry(self, model_id: str) -> dict:
        """Lineage JSON restricted to one model: its sources, the transformations, its metrics."""
        graph = self.store.graph
        if model_id not in graph:
            return export.build(self.store, self._place, restrict=set(), history=False)
        keep = nx.ancestors(graph, model_id) | {model_id}
        keep |= {rid for rid, rec in self.store.metrics.items() if model_id in rec["models"]}
        return export.build(self.store, self._place, restrict=keep, history=False)

    def sources_upstream(self, node_id: str) -> list[str]:
        """Ids of the data sources a graph node (model, metric, variable) derives from, in store order.

        The cheap part of ``ancestry``: the kernel asks it for every metric it sees.
        """
        graph = self.store.graph
        if node_id not in graph:
            return []
        upstream = nx.ancestors(graph, node_id)
        return [rid for rid in self.store.sources if rid in upstream]

    def model_class(self, qualname: str) -> str | None:
        """The knowledge base's public name of a model class seen at run time, None if not a model."""
        from .function_sites import model_class

        return model_class(self._kb, qualname)

    def model_for_var(self, var: str) -> dict | None:
        """The model a session variable holds now, as its lineage-JSON dict."""
        binding = self._interp.scope.module().vars.get(var)
        if binding is not None and isinstance(binding.value, Model):
            rec = self.store.models.get(binding.value.id)
            if rec is not None:
                return export.model_json(rec, self._place)
        return None
