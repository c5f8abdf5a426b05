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
    features_all_except: list[str] | None = None
    label: str | None = None
    label_positional: str | None = None
    source_ids: list[str] = dataclasses.field(default_factory=list)
    cells: list[int] = dataclasses.field(default_factory=list)


def model_view(ancestry: dict[str, Any] | None, model_id: str) -> ModelView:
    view = ModelView(model_id=model_id, ancestry=ancestry)
    if not isinstance(ancestry, dict):
        return view
    model = next((m for m in ancestry.get("models", []) if isinstance(m, dict) and m.get("id") == model_id), None)
    training: dict[str, Any] = {}
    if model is not None:
        view.var = model.get("var")
        params = model.get("hyperparameters", {})
        if isinstance(params, dict):
            view.explicit_params = {k: _param_value(v) for k, v in params.items() if not k.startswith("**")}
        training = model.get("training_data") or {}
        view.features, view.features_positional = _columns(training.get("features"))
        spec = training.get("features")
        if isinstance(spec, dict) and isinstance(spec.get("all_except"), list):
            view.features_all_except = [str(c) for c in spec["all_except"]]
        label, view.label_positional = _columns(training.get("label"))
        view.label = label[0] if label and len(label) == 1 else None
    sources = ancestry.get("data_sources", ancestry.get("sources", [])) or []
    training_ids = [s if isinstance(s, str) else s.get("id") for s in training.get("sources", []) or []]
    all_ids = [s["id"] for s in sources if isinstance(s, dict) and s.get("id")]
    # the model's own training sources first, then any other source in its ancestry
    view.source_ids = list(dict.fromkeys([i for i in training_ids if i] + all_ids))
    cells = set()
    for group in ("data_sources", "sources", "models", "metrics"):
        for node in ancestry.get(group, []) or []:
            if isinstance(node, dict):
                for key in ("cell", "fit_cell"):
                    if isinstance(node.get(key), int):
                        cells.add(node[key])
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
