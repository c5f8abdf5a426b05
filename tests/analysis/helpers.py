"""Small helpers for notebook-style analysis tests: analyse dedented source, pick items."""

from __future__ import annotations

import textwrap

from flock_nbext.analysis import NotebookLineage, lineage_of


def analyse(source: str) -> dict:
    """lineage_of the dedented source, after checking no statement tripped the analyzer."""
    source = textwrap.dedent(source)
    session = NotebookLineage()
    assert session.add_cell(source).error is None
    session.finish_uncalled_functions()
    assert session.analysis_errors == []
    return lineage_of(source)


def only_model(lineage: dict) -> dict:
    assert len(lineage["models"]) == 1, [m["id"] for m in lineage["models"]]
    return lineage["models"][0]


def model_by_var(lineage: dict, var: str) -> dict:
    found = [m for m in lineage["models"] if m["var"] == var]
    assert found, f"no model {var!r} in {[m['var'] for m in lineage['models']]}"
    return found[-1]


def source_texts(lineage: dict, model: dict) -> list[str]:
    by_id = {s["id"]: s["source"] for s in lineage["data_sources"]}
    return sorted(by_id[s] for s in model["training_data"]["sources"])


def metric_models(lineage: dict, function_suffix: str) -> list[list[str]]:
    """For each metric whose function ends with the suffix: the vars of the models it evaluates."""
    var_of = {m["id"]: m["var"] for m in lineage["models"]}
    return [[var_of.get(mid, mid) for mid in m["models"]]
            for m in lineage["metrics"] if m["function"].endswith(function_suffix)]
