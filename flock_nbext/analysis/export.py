"""Lineage JSON (schema flock.lineage/1) from the store, and its DOT and text renderings."""

from __future__ import annotations

import json
from collections.abc import Callable

SCHEMA = "flock.lineage/1"
_MODEL_EXTRA = ("steps", "estimator", "estimators", "cross_validated")


def model_visible(rec: dict) -> bool:
    """Estimators wrapped by a Pipeline/search and never fitted themselves are not separate models."""
    return rec["_fitted"] or not rec["_absorbed"]


def _public(rec: dict, keys) -> dict:
    return {k: rec[k] for k in keys if k in rec}


def source_json(rec: dict, place: Callable) -> dict:
    out = _public(rec, ("id", "kind", "source", "tables", "columns", "var", "query_file"))
    out.update(place(rec["_pos"]))
    return out


def model_json(rec: dict, place: Callable) -> dict:
    out = _public(rec, ("id", "var", "class"))
    out.update(place(rec["_pos"]))
    fit = place(rec["_fit_pos"]) if rec["_fit_pos"] else None
    out["fit_line"] = fit["line"] if fit else None
    if fit and "cell" in fit:
        out["fit_cell"] = fit["cell"]
        out["fit_cell_line"] = fit["cell_line"]
    out["hyperparameters"] = rec["hyperparameters"]
    out["training_data"] = rec["training_data"]
    for key in _MODEL_EXTRA:
        if key in rec:
            out[key] = rec[key]
    return out


def metric_json(rec: dict, place: Callable) -> dict:
    out = _public(rec, ("id", "function", "var", "model", "models"))
    out.update(place(rec["_pos"]))
    return out


def build(store, place: Callable, *, file: str | None = None, unparsable=(), restrict: set | None = None,
          history: bool = True) -> dict:
    """The full lineage JSON; ``restrict`` limits items and graph to a set of graph nodes."""
    keep = (lambda rid: True) if restrict is None else (lambda rid: rid in restrict)
    graph = store.graph
    # graph order, restricted: a set lookup per node, and only the kept nodes' edges are visited (the
    # graph keeps every re-run's models, so a model's ancestry must not cost the whole session's graph)
    kept = list(graph) if restrict is None else [n for n in graph if n in restrict]
    attrs_of, successors = graph.nodes, graph.adj
    nodes = []
    for node in kept:
        attrs = attrs_of[node]
        item = {"id": node, "kind": attrs.get("kind", "variable"), "label": attrs.get("label", node)}
        if attrs.get("_pos"):
            item.update(place(attrs["_pos"]))
        nodes.append(item)
    edges = [{"source": a, "target": b} for a in kept for b in successors[a] if keep(b)]
    out = {
        "schema": SCHEMA,
        "file": file,
        "data_sources": [source_json(r, place) for r in store.sources.values() if keep(r["id"])],
        "models": [model_json(r, place) for r in store.models.values() if model_visible(r) and keep(r["id"])],
        "metrics": [metric_json(r, place) for r in store.metrics.values() if keep(r["id"])],
        "graph": {"nodes": nodes, "edges": edges},
        "unparsable_cells": list(unparsable),
    }
    if history and store.history:
        out["history"] = [{"collection": h["collection"], "superseded_by_execution": h["superseded_by_execution"],
                           "id": h["item"]["id"]} for h in store.history]
    return out


def to_dot(lineage: dict) -> str:
    """Graphviz DOT of the lineage graph: sources, variables, models and metrics."""
    shapes = {"source": "cylinder", "model": "box3d", "metric": "note", "variable": "ellipse"}
    lines = ["digraph lineage {", "  rankdir=LR;"]
    for node in lineage["graph"]["nodes"]:
        label = node["label"] if node["kind"] == "variable" else f"{node['label']}"
        lines.append(f"  {json.dumps(node['id'])} [label={json.dumps(label)}, shape={shapes.get(node['kind'], 'ellipse')}];")
    for edge in lineage["graph"]["edges"]:
        lines.append(f"  {json.dumps(edge['source'])} -> {json.dumps(edge['target'])};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _features_text(features: dict) -> str:
    if "columns" in features:
        return ", ".join(features["columns"]) or "(none)"
    if "all_except" in features:
        return "all columns" + (f" except {', '.join(features['all_except'])}" if features["all_except"] else "")
    if "positional" in features:
        return f"positional {features['positional']}"
    return f"unknown ({features.get('unknown')})"


def _short(text: str, width: int = 90) -> str:
    """One line: whitespace collapsed, long query texts cut with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def to_text(lineage: dict) -> str:
    """A short human summary: each model with its sources, columns, label, hyperparameters, metrics."""
    sources = {s["id"]: s for s in lineage["data_sources"]}
    out = []
    for s in lineage["data_sources"]:
        tables = f" tables={','.join(s['tables'])}" if s["tables"] else ""
        out.append(f"{s['id']}  {s['kind']:<15} {_short(s['source'])}{tables}  (line {s['line']})")
    for m in lineage["models"]:
        td = m["training_data"]
        label = td["label"] if isinstance(td["label"], str) or td["label"] is None else json.dumps(td["label"])
        out.append(f"{m['id']}  {m['class']}  (line {m['line']}, fitted line {m['fit_line']})")
        srcs = ", ".join(f"{s} {_short(sources[s]['source'], 60)}" if s in sources else s
                         for s in td["sources"]) or "(none found)"
        out.append(f"    trained on: {srcs}")
        out.append(f"    features:   {_features_text(td['features'])}")
        out.append(f"    label:      {label}")
        if m["hyperparameters"]:
            out.append("    hyperparameters: " + ", ".join(f"{k}={v!r}" for k, v in m["hyperparameters"].items()))
        for metric in lineage["metrics"]:
            if metric["model"] == m["id"] or m["id"] in metric.get("models", []):
                out.append(f"    metric: {metric['function']} (line {metric['line']})")
    loose = [x for x in lineage["metrics"] if not x.get("models")]
    for metric in loose:
        out.append(f"{metric['id']}  {metric['function']}  (line {metric['line']}, model not determined)")
    for cell in lineage.get("unparsable_cells", []):
        out.append(f"cell {cell['cell']}: not analysed ({cell['error']})")
    return "\n".join(out) + "\n"
