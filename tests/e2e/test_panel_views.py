"""The flock panel's Lineage and Models views in a real JupyterLab, driven in Debian's Chromium.

A notebook loads flock, writes a small CSV, reads it with pandas, fits a LogisticRegression on
named columns and scores it with accuracy_score, then fits a LabelSpreading no converter handles.
After Run All, the lineage graph shows the CSV, the feature and label columns, the model class and
the metric; the Models view lists both models; Convert brings back the conversion report for the
first and the kernel's error for the second. The graph's own layout code is also run in Node on
the lineage of a larger script (two sources, a merge, a split, two models, two metrics).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flock_nbext import __version__

from .conftest import copy_if_requested, write_notebook
from .test_panel_browser import UI_TIMEOUT_MS, wait_for_idle_kernel

REPO_ROOT = Path(__file__).resolve().parents[2]
LIB = REPO_ROOT / "labextension" / "lib"
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


@pytest.mark.browser
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

    # a new cell typed and run by hand: the kernel pushes lineage_updated and the graph follows
    panel.get_by_test_id("flock-tab-lineage").click()
    page.locator(".jp-NotebookPanel .jp-Cell").last.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type("from sklearn.metrics import f1_score; f1 = f1_score(y, clf.predict(X))")
    page.keyboard.press("Shift+Enter")
    expect(metric.filter(has_text="f1_score")).to_contain_text("f1", timeout=UI_TIMEOUT_MS)
    expect(metric).to_have_count(2)
    screenshot = artifacts_dir / "panel_views.png"
    page.screenshot(path=str(screenshot))
    copy_if_requested(screenshot, REPO_ROOT / "docs" / "panel.png")
    assert page.errors == []


LARGER = """\
import pandas as pd
import sqlalchemy as sa
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

engine = sa.create_engine("sqlite:///shop.db")
orders = pd.read_sql("SELECT customer_id, amount, items FROM orders", engine)
customers = pd.read_csv("customers.csv")
df = customers.merge(orders, on="customer_id")
features = ["age", "income", "amount"]
X_train, X_test, y_train, y_test = train_test_split(df[features], df["churned"], test_size=0.2)
rf = RandomForestClassifier(n_estimators=50, max_depth=4).fit(X_train, y_train)
lr = LogisticRegression(C=1.0).fit(X_train, y_train)
acc = accuracy_score(y_test, rf.predict(X_test))
auc = roc_auc_score(y_test, lr.predict_proba(X_test)[:, 1])
"""

LAYOUT_SCRIPT = """\
import { readFileSync } from 'fs';
import { buildGraph } from './graph.js';
import { layout } from './layout.js';
const placed = layout(buildGraph(JSON.parse(readFileSync(0, 'utf8'))));
const name = n => n.title;
console.log(JSON.stringify({
  nodes: placed.nodes.map(({ id, kind, title, lines, x, y, width, height }) => ({ id, kind, title, lines, x, y, width, height })),
  edges: placed.edges.map(e => [name(e.from), name(e.to)]),
  width: placed.width
}));
"""


def run_layout(lineage: dict, tmp_path: Path) -> dict:
    """labextension/lib/{graph,layout}.js (the panel's pure layout code, built by `jlpm build`) in Node."""
    for module in ("graph.js", "layout.js"):
        assert (LIB / module).exists(), f"{LIB / module} is missing: run `jlpm build` in labextension/"
        shutil.copy(LIB / module, tmp_path / module)
    (tmp_path / "package.json").write_text('{"type": "module"}')
    (tmp_path / "run.js").write_text(LAYOUT_SCRIPT)
    done = subprocess.run(["node", "run.js"], cwd=tmp_path, input=json.dumps(lineage), capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_lineage_graph_layout_of_a_larger_script(tmp_path):
    import flock_nbext

    placed = run_layout(flock_nbext.lineage(LARGER), tmp_path)

    by_kind: dict[str, list[dict]] = {}
    for node in placed["nodes"]:
        by_kind.setdefault(node["kind"], []).append(node)
    titles = {kind: sorted(n["title"] for n in nodes) for kind, nodes in by_kind.items()}
    assert titles["source"] == ["customers.csv", "orders"]
    assert titles["model"] == ["LogisticRegression", "RandomForestClassifier"]
    assert titles["metric"] == ["accuracy_score", "roc_auc_score"]
    # the variables a source is read into (orders, customers) are the source nodes themselves
    assert titles["frame"] == ["X_test", "X_train", "df", "y_test", "y_train"]
    [customers] = [n for n in by_kind["source"] if n["title"] == "customers.csv"]
    assert customers["lines"] == ["age", "income", "churned"]  # amount comes from orders
    [rf] = [n for n in by_kind["model"] if n["title"] == "RandomForestClassifier"]
    assert rf["lines"] == ["features:", "  age", "  income", "  amount", "label: churned"]

    edges = {tuple(edge) for edge in placed["edges"]}
    assert {("orders", "df"), ("customers.csv", "df"), ("df", "X_train"), ("X_train", "RandomForestClassifier"),
            ("y_train", "LogisticRegression"), ("RandomForestClassifier", "accuracy_score"),
            ("LogisticRegression", "roc_auc_score")} <= edges
    assert ("df", "RandomForestClassifier") not in edges  # implied by df -> X_train -> rf

    # columns left to right by kind; nodes of one column never overlap
    order = ["source", "frame", "model", "metric"]
    for left, right in zip(order, order[1:], strict=False):
        assert max(n["x"] + n["width"] for n in by_kind[left]) < min(n["x"] for n in by_kind[right])
    columns: dict[float, list[dict]] = {}
    for node in placed["nodes"]:
        columns.setdefault(node["x"], []).append(node)
    for column in columns.values():
        column.sort(key=lambda n: n["y"])
        for upper, lower in zip(column, column[1:], strict=False):
            assert upper["y"] + upper["height"] < lower["y"], (upper["title"], lower["title"])
    assert placed["width"] == max(n["x"] + n["width"] for n in placed["nodes"]) + 8
