"""The lineage store: data sources, models and metrics as records, and the data-flow graph.

Records are plain dicts in lineage-JSON shape plus a few private ``_`` keys (their position as
``(cell, line)``, the cell that made them).  The graph is a networkx DiGraph whose nodes are
variable versions (``X@12``), data sources, models and metrics.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx

Pos = tuple  # (cell index or None, line within that cell)


class LineageStore:
    """Everything found so far; grows one cell at a time and supersedes a re-run cell's items."""

    def __init__(self, label: Callable[[Pos], str]) -> None:
        self.label = label
        self.sources: dict[str, dict] = {}
        self.models: dict[str, dict] = {}
        self.metrics: dict[str, dict] = {}
        self.history: list[dict] = []
        self.graph = nx.DiGraph()
        self._source_count = 0
        self._source_index: dict[tuple, str] = {}
        self._used_ids: dict[str, int] = {}
        self.touched: list[tuple[str, str]] = []  # (collection, id) added or changed by the current cell
        self._by_cell: dict = {}  # cell -> [(collection, id)] it created, so a re-run costs that cell only

    # -- ids ----------------------------------------------------------------------------------
    def _unique(self, base: str) -> str:
        """``base``, or ``base#2``, ``base#3``... when a cell re-run or a loop made it before."""
        n = self._used_ids.get(base, 0) + 1
        self._used_ids[base] = n
        rid = base if n == 1 else f"{base}#{n}"
        while rid in self._used_ids and n > 1:  # "x#2" could itself be a base written by the user
            n += 1
            self._used_ids[base] = n
            rid = f"{base}#{n}"
        if n > 1:
            self._used_ids[rid] = 1
        return rid

    def touch(self, collection: str, rid: str) -> None:
        self.touched.append((collection, rid))

    def _created(self, collection: str, rid: str, cell_key) -> None:
        self._by_cell.setdefault(cell_key, []).append((collection, rid))

    # -- records ------------------------------------------------------------------------------
    def add_source(self, *, kind: str, source: str, tables, columns, var, pos: Pos, cell_key,
                   query_file: str | None = None) -> str:
        """A new data source; reading the same (kind, source) again reuses its record."""
        rid = self._source_index.get((kind, source))
        if rid is not None and rid in self.sources:
            rec = self.sources[rid]
            if columns is not None and rec["columns"] is None:
                rec["columns"] = list(columns)
            return rid
        self._source_count += 1
        rid = self._unique(f"source:{self._source_count}")
        self._source_index[(kind, source)] = rid
        self.sources[rid] = {"id": rid, "kind": kind, "source": source, "tables": list(tables),
                             "columns": None if columns is None else list(columns), "var": var,
                             "_pos": pos, "_cell": cell_key}
        if query_file is not None:
            self.sources[rid]["query_file"] = query_file
        self._created("sources", rid, cell_key)
        self.graph.add_node(rid, kind="source", label=source, _pos=pos)
        self.touch("sources", rid)
        return rid

    def add_model(self, *, var, cls: str, pos: Pos, hyperparameters: dict, cell_key, role: str) -> str:
        rid = self._unique(f"model:{var or cls.rsplit('.', 1)[-1]}@{self.label(pos)}")
        self.models[rid] = {"id": rid, "var": var, "class": cls, "fit_line": None,
                            "hyperparameters": hyperparameters,
                            "training_data": {"sources": [], "features": {"unknown": "model not fitted in the code"},
                                              "label": None},
                            "_pos": pos, "_fit_pos": None, "_cell": cell_key, "_role": role,
                            "_absorbed": False, "_fitted": False}
        self._created("models", rid, cell_key)
        self.graph.add_node(rid, kind="model", label=f"{cls.rsplit('.', 1)[-1]} {var or ''}".strip(), _pos=pos)
        self.touch("models", rid)
        return rid

    def add_metric(self, *, function: str, var, pos: Pos, models, cell_key) -> str:
        short = function.rsplit(".", 1)[-1]
        rid = self._unique(f"metric:{short}@{self.label(pos)}")
        models = list(dict.fromkeys(models))
        self.metrics[rid] = {"id": rid, "function": function, "var": var,
                             "model": models[0] if len(models) == 1 else (models[0] if models else None),
                             "models": models, "_pos": pos, "_cell": cell_key}
        if len(models) > 1:
            self.metrics[rid]["model"] = None
        self._created("metrics", rid, cell_key)
        self.graph.add_node(rid, kind="metric", label=short, _pos=pos)
        for m in models:
            self.graph.add_edge(m, rid)
        self.touch("metrics", rid)
        return rid

    # -- graph --------------------------------------------------------------------------------
    def add_var(self, name: str, pos: Pos, deps) -> str:
        node = f"{name}@{self.label(pos)}"
        self.graph.add_node(node, kind="variable", label=name, _pos=pos)
        for dep in deps:
            if dep != node and dep in self.graph:
                self.graph.add_edge(dep, node)
        return node

    def link(self, deps, target: str) -> None:
        for dep in deps:
            if dep != target and dep in self.graph:
                self.graph.add_edge(dep, target)

    # -- re-executed cells --------------------------------------------------------------------
    def supersede_cell(self, cell_key, execution_count) -> None:
        """Move what an earlier run of ``cell_key`` created into history.

        Its sources, models and metrics also leave the graph: the re-run reuses the cell's variable
        nodes (``clf@c1:26``), which would otherwise keep an edge from every earlier run's model, so a
        model's ancestry would list its superseded predecessors and grow with each re-run.
        """
        for name, rid in self._by_cell.pop(cell_key, ()):
            rec = getattr(self, name).pop(rid, None)
            if rec is not None:
                self.history.append({"collection": name, "superseded_by_execution": execution_count, "item": rec})
                if rid in self.graph:
                    self.graph.remove_node(rid)
