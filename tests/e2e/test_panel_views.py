"""The flock panel's Lineage and Models views in a real JupyterLab, driven in Debian's Chromium.

A notebook loads flock, writes a small CSV, reads it with pandas, fits a LogisticRegression on
named columns and scores it with accuracy_score, then fits a LabelSpreading no converter handles.
After Run All, the lineage graph shows the CSV, the feature and label columns, the model class and
the metric; the Models view lists both models; Convert brings back the conversion report for the
first and the kernel's error for the second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flock_nbext import __version__

from .conftest import copy_if_requested, write_notebook
from .test_panel_browser import UI_TIMEOUT_MS, wait_for_idle_kernel

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
PANEL_WIDTH_PX = 860

WRITE_CSV = """\
import numpy as np
import pandas as pd

rng = np.random.default_rng(0)
n = 120
pd.DataFrame({
    "age": rng.integers(18, 80, n),
    "income": rng.normal(50, 10, n).round(1),
    "visits": rng.integers(0, 20, n),
    "churned": rng.integers(0, 2, n),
}).to_csv("customers.csv", index=False)"""

TRAIN = """\
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

df = pd.read_csv("customers.csv")
X = df[["age", "income", "visits"]]
y = df["churned"]
clf = LogisticRegression(C=0.5, max_iter=200).fit(X, y)
acc = accuracy_score(y, clf.predict(X))
acc"""

# A model no ONNX converter handles: Convert shows the kernel's error.
UNCONVERTIBLE = """\
from sklearn.semi_supervised import LabelSpreading

spread = LabelSpreading().fit(X, y)"""


def run_all_cells(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def widen_left_sidebar(page, width: int) -> None:
    """Drag the splitter between the left sidebar and the notebook to `width` pixels."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(width, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()


def test_lineage_and_models_of_a_trained_model(lab_server, page, artifacts_dir):
    from playwright.sync_api import expect

    write_notebook(
        lab_server.root_dir / "churn.ipynb",
        [("code", "%load_ext flock"), ("code", WRITE_CSV), ("code", TRAIN), ("code", UNCONVERTIBLE)],
    )
    page.goto(f"{lab_server.url}/lab/tree/churn.ipynb")
    expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    wait_for_idle_kernel(lab_server)
    page.locator('.jp-SideBar li[data-id="flock-panel"]').click()
    panel = page.locator("#flock-panel")
    expect(panel.get_by_test_id("flock-lineage-message")).to_have_text(
        "Load flock in this notebook to see its lineage."
    )

    run_all_cells(page)

    expect(panel.get_by_test_id("flock-status")).to_have_text(
        f"flock {__version__} is loaded", timeout=UI_TIMEOUT_MS
    )
    graph = panel.get_by_test_id("flock-lineage-graph")
    source = graph.get_by_test_id("flock-node-source")
    model = graph.get_by_test_id("flock-node-model").filter(has_text="LogisticRegression")
    metric = graph.get_by_test_id("flock-node-metric")
    expect(graph.get_by_test_id("flock-node-model")).to_have_count(2, timeout=UI_TIMEOUT_MS)
    expect(metric).to_contain_text("accuracy_score")
    expect(source).to_contain_text("customers.csv")
    expect(model).to_contain_text("LogisticRegression")
    for column in ("age", "income", "visits", "label: churned"):
        expect(model).to_contain_text(column)
    expect(graph.get_by_test_id("flock-node-frame").filter(has_text=re.compile(r"^X"))).to_have_count(1)
    expect(graph.locator(".jp-FlockGraph-edges path")).not_to_have_count(0)
    lines = panel.get_by_test_id("flock-lineage-list")
    expect(lines).to_contain_text("source customers.csv (csv): columns age, income, visits, churned")
    expect(lines).to_contain_text("features age, income, visits; label churned")
    expect(lines).to_contain_text("metric accuracy_score acc of clf")

    panel.get_by_test_id("flock-tab-models").click()
    cards = panel.get_by_test_id("flock-model")
    expect(cards).to_have_count(2)
    card = cards.filter(has_text="clf")
    expect(card.get_by_test_id("flock-model-class")).to_have_text("LogisticRegression")
    expect(card.get_by_test_id("flock-model-params")).to_have_text("C=0.5, max_iter=200")
    expect(card.get_by_test_id("flock-model-metrics")).to_have_text("accuracy_score (acc)")

    card.get_by_test_id("flock-convert-button").click()
    report = card.get_by_test_id("flock-convert-report")
    error = card.get_by_test_id("flock-convert-error")
    expect(report.or_(error)).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert error.count() == 0, error.inner_text()
    expect(report.get_by_test_id("flock-convert-candidate")).to_have_text(re.compile(r"^chosen: \S+"))
    expect(report).to_contain_text("max diff vs original: ")
    expect(report).to_contain_text(re.compile(r"batch 1: [0-9.]+× (faster|as fast)"))
    expect(card.get_by_test_id("flock-model-run")).to_have_text(re.compile(r"^MLflow run [0-9a-f]{32}$"))
    report.locator("summary").click()

    other = cards.filter(has_text="spread")
    expect(other.get_by_test_id("flock-model-class")).to_have_text("LabelSpreading")
    other.get_by_test_id("flock-convert-button").click()
    expect(other.get_by_test_id("flock-convert-error")).to_contain_text(
        "no converter could build LabelSpreading", timeout=UI_TIMEOUT_MS
    )
    expect(report.locator("tbody tr[data-chosen='true']")).to_have_count(1)
    widen_left_sidebar(page, PANEL_WIDTH_PX)
    page.screenshot(path=str(artifacts_dir / "panel_models.png"))

    panel.get_by_test_id("flock-tab-lineage").click()
    expect(metric).to_be_visible()
    screenshot = artifacts_dir / "panel_views.png"
    page.screenshot(path=str(screenshot))
    copy_if_requested(screenshot, REPO_ROOT / "docs" / "panel.png")
    assert page.errors == []
