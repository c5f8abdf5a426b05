"""Read what the kernel needs about one model out of its `flock.lineage/1` ancestry JSON.

The analysis owns the format; this is the one place the kernel looks inside it, so a change of the
format is a change here.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class ModelView:
    model_id: str
    ancestry: dict[str, Any] | None = None
    var: str | None = None
    explicit_params: dict[str, Any] = dataclasses.field(default_factory=dict)
    features: list[str] | None = None
    features_positional: str | None = None
    label: str | None = None
    label_positional: str | None = None
    source_ids: list[str] = dataclasses.field(default_factory=list)
    cells: list[int] = dataclasses.field(default_factory=list)


def model_view(ancestry: dict[str, Any] | None, model_id: str) -> ModelView:
    view = ModelView(model_id=model_id, ancestry=ancestry)
    if not isinstance(ancestry, dict):
        return view
    model = next((m for m in ancestry.get("models", []) if isinstance(m, dict) and m.get("id") == model_id), None)
    if model is not None:
        view.var = model.get("var") or model.get("name")
        params = model.get("hyperparameters", model.get("params", {}))
        if isinstance(params, dict):
            view.explicit_params = {k: _param_value(v) for k, v in params.items()}
        view.features, view.features_positional = _columns(model.get("features"))
        label, view.label_positional = _columns(model.get("label"))
        view.label = label[0] if label and len(label) == 1 else None
    view.source_ids = [s["id"] for s in ancestry.get("sources", []) if isinstance(s, dict) and s.get("id")]
    cells = set()
    for group in ("sources", "transforms", "models", "metrics", "cells"):
        for node in ancestry.get(group, []) or []:
            cell = node.get("cell") if isinstance(node, dict) else node if isinstance(node, int) else None
            if isinstance(cell, int):
                cells.add(cell)
    view.cells = sorted(cells)
    return view


def _param_value(value: Any) -> Any:
    """Hyperparameters may be recorded as {"value": 8, "expr": "n_leaves"}; keep the value."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def _columns(spec: Any) -> tuple[list[str] | None, str | None]:
    """(explicit column list, positional selection text) of a lineage features/label entry."""
    if spec is None:
        return None, None
    if isinstance(spec, str):
        return [spec], None
    if isinstance(spec, list):
        return [str(c) for c in spec], None
    if isinstance(spec, dict):
        if isinstance(spec.get("columns"), list):
            return [str(c) for c in spec["columns"]], None
        if isinstance(spec.get("positional"), str):
            return None, spec["positional"]
    return None, None
