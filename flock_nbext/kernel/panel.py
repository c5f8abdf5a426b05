"""What the side panel can ask the kernel: the notebook's lineage, its models, and a conversion.

Payloads are described in schemas/comm.schema.json (reply definitions `lineage`, `models`, `convert`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension


def register_panel_handlers(ext: FlockExtension) -> None:
    comm = ext.comm
    comm.register_handler("lineage", lambda _msg: {"lineage": lineage_json(ext)})
    comm.register_handler("models", lambda _msg: {"models": models(ext)})
    comm.register_handler("convert", lambda msg: convert(ext, msg["model"]))


def lineage_json(ext: FlockExtension) -> dict[str, Any]:
    return ext.tracker.lineage.to_json()


def models(ext: FlockExtension) -> list[dict[str, Any]]:
    """Every model of the lineage (a re-run cell's models replace its earlier ones), with the run of its
    latest tracked fit (None until logged)."""
    tracker = ext.tracker
    out: list[dict[str, Any]] = []
    for node in lineage_json(ext).get("models", []) or []:
        if not isinstance(node, dict) or not node.get("id"):
            continue
        model_id = node["id"]
        out.append(_model_row(tracker, model_id, node.get("var") or node.get("name"),
                              node.get("class") or node.get("cls")))
    return out


def _model_row(tracker: Any, model_id: str, var: Any, cls: Any) -> dict[str, Any]:
    record = tracker.fits.get(model_id)
    return {
        "id": model_id,
        "var": var if isinstance(var, str) else (record.var if record else None),
        "class": (record.cls if record else cls if isinstance(cls, str) else None),
        "trained": record is not None,
        "cell": record.cell if record else None,
        "run_id": tracker.run_id_for(model_id, timeout=0.0) if record else None,  # never block the kernel
    }


def convert(ext: FlockExtension, model_id: str) -> dict[str, Any]:
    from .converting import convert_tracked, report_rows

    done = convert_tracked(ext, model_id)
    return {"model": done.model_id or model_id, "candidate": done.result.candidate,
            "speedup": dict(done.result.speedup), "run_id": done.run_id, "logged": done.logged,
            "rows": report_rows(done.result), "table": done.result.report_table("markdown")}
