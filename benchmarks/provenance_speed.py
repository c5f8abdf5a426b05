"""Speed of the provenance engine (issue 3, point 7).

    python benchmarks/provenance_speed.py [--quick] [--output PATH]

Measures, in one process and interleaved rounds:

- a synthetic 200-cell Kaggle-style notebook analysed whole (``lineage_of`` on the .ipynb:
  read, parse, analyse, build the lineage JSON); target <= 1 s;
- the incremental update: ``NotebookLineage.add_cell`` of a typical 30-line cell into a session
  that already holds the 200 cells, with the tree given (the kernel parses once) and with
  parsing included; target <= 5 ms median (p99 reported);
- as a baseline measured in the same run, ``ast.parse`` of the same 30-line cell.

Each timing is taken twice: wall clock (``perf_counter``) and the CPU time of this thread
(``thread_time``).  On a shared machine the wall clock includes time the scheduler gave to other
processes (10 ms slices show up as a second mode); the CPU time is the cost of our code.
Writes medians, p99 and ratios as JSON (default benchmarks/results/provenance_speed.json).
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flock_nbext.analysis import NotebookLineage, lineage_of  # noqa: E402

IMPORTS = """\
import numpy as np
import pandas as pd
import lightgbm as lgb
from sklearn.model_selection import train_test_split, cross_val_score
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score, f1_score
"""


def typical_cell(i: int) -> str:
    """About 30 lines: a read, feature engineering, a split, two models, metrics, EDA noise."""
    return f"""\
DATA_DIR_{i} = "../input/comp{i % 7}"
df_{i} = pd.read_csv(f"{{DATA_DIR_{i}}}/train_{i}.csv")
df_{i} = df_{i}.dropna(subset=["age"]).reset_index(drop=True)
df_{i}["ratio"] = df_{i}["debt"] / (df_{i}["income"] + 1)
df_{i}["log_income"] = np.log1p(df_{i}["income"])
df_{i} = pd.get_dummies(df_{i}, columns=["region"])
print(df_{i}.shape)
df_{i}.describe()
FEATURES_{i} = [c for c in df_{i}.columns if c not in ("id", "target")]
X_{i} = df_{i}[FEATURES_{i}]
y_{i} = df_{i}["target"]
X_tr_{i}, X_va_{i}, y_tr_{i}, y_va_{i} = train_test_split(
    X_{i}, y_{i}, test_size=0.2, random_state={i}, stratify=y_{i}
)
n_leaves_{i} = {8 + i % 24}
params_{i} = dict(num_leaves=n_leaves_{i}, learning_rate=0.05, n_estimators=300)
clf_{i} = lgb.LGBMClassifier(**params_{i})
clf_{i}.fit(X_tr_{i}, y_tr_{i}, eval_set=[(X_va_{i}, y_va_{i})])
p_{i} = clf_{i}.predict_proba(X_va_{i})[:, 1]
auc_{i} = roc_auc_score(y_va_{i}, p_{i})
rf_{i} = RandomForestClassifier(n_estimators=200, max_depth={3 + i % 5}, n_jobs=-1)
rf_{i}.fit(X_tr_{i}, y_tr_{i})
acc_{i} = accuracy_score(y_va_{i}, rf_{i}.predict(X_va_{i}))
f1_{i} = f1_score(y_va_{i}, rf_{i}.predict(X_va_{i}))
scores_{i} = cross_val_score(LogisticRegression(max_iter=500), X_{i}, y_{i}, cv=5)
blend_{i} = 0.5 * p_{i} + 0.5 * rf_{i}.predict_proba(X_va_{i})[:, 1]
print("auc", auc_{i}, "acc", acc_{i}, "f1", f1_{i}, scores_{i}.mean())
print("blend", roc_auc_score(y_va_{i}, blend_{i}))
importances_{i} = pd.Series(clf_{i}.feature_importances_, index=FEATURES_{i})
importances_{i}.sort_values().tail(10)
"""


def small_cell(i: int) -> str:
    return f"df_{i}.head()\nprint(df_{i}.columns.tolist())\n"


def synthetic_notebook(n_cells: int) -> list[str]:
    """n_cells code cells: imports, then typical cells interleaved with small EDA cells."""
    cells = [IMPORTS]
    i = 0
    while len(cells) < n_cells:
        cells.append(typical_cell(i))
        if len(cells) < n_cells:
            cells.append(small_cell(i))
        i += 1
    return cells


def write_ipynb(cells: list[str], path: Path) -> None:
    doc = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                      "source": c} for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(doc))


class Timer:
    """Wall-clock and thread CPU time of repeated calls."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, fn, *args, **kwargs):
        t0, c0 = time.perf_counter(), time.thread_time()
        result = fn(*args, **kwargs)
        self.cpu.append(time.thread_time() - c0)
        self.wall.append(time.perf_counter() - t0)
        return result

    def summary(self) -> dict:
        ms = 1000.0
        return {"wall_median_ms": statistics.median(self.wall) * ms, "wall_p99_ms": percentile(self.wall, 0.99) * ms,
                "cpu_median_ms": statistics.median(self.cpu) * ms, "cpu_p99_ms": percentile(self.cpu, 0.99) * ms,
                "wall_min_ms": min(self.wall) * ms, "n": len(self.wall)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(quick: bool) -> dict:
    n_cells = 200
    rounds = 3 if quick else 7
    increments = 60 if quick else 300
    cells = synthetic_notebook(n_cells)
    cell = typical_cell(10_000)
    assert len(cell.splitlines()) == 30
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.ipynb"
        write_ipynb(cells, path)
        lineage_of(str(path))  # warm-up: lazy imports (sqlglot is not used here), KB load
        whole, whole_cpu = [], []
        parse_only, add_tree, add_parse = Timer(), Timer(), Timer()
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.thread_time()
            lineage = lineage_of(str(path))
            whole.append(time.perf_counter() - t0)
            whole_cpu.append(time.thread_time() - c0)
        session = NotebookLineage()
        for index, source in enumerate(cells):
            session.add_cell(source, cell_index=index)
        # interleave: baseline parse, add with tree (parse excluded), add with parse
        for k in range(increments):
            tree = parse_only.time(ast.parse, cell)
            add_tree.time(session.add_cell, cell, execution_count=1000 + k, cell_index=n_cells, tree=tree)
            add_parse.time(session.add_cell, cell, execution_count=5000 + k, cell_index=n_cells + 1)

    result = {
        "benchmark": "provenance_speed",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": quick,
        "notebook": {"cells": n_cells, "lines": sum(c.count("\n") + 1 for c in cells),
                     "models_found": len(lineage["models"]), "metrics_found": len(lineage["metrics"]),
                     "rounds": rounds, "median_s": statistics.median(whole), "min_s": min(whole),
                     "cpu_median_s": statistics.median(whole_cpu),
                     "target_s": 1.0, "meets_target": statistics.median(whole) <= 1.0},
        "incremental_cell_30_lines": {
            "add_cell_with_tree": add_tree.summary(),
            "add_cell_with_parse": add_parse.summary(),
            "baseline_ast_parse": parse_only.summary(),
            "ratio_cpu_add_with_tree_to_parse": statistics.median(add_tree.cpu) / statistics.median(parse_only.cpu),
            "target_median_ms": 5.0,
            "meets_target_wall": statistics.median(add_parse.wall) * 1000 <= 5.0,
            "meets_target_cpu": statistics.median(add_parse.cpu) * 1000 <= 5.0,
        },
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (CI)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "provenance_speed.json")
    args = parser.parse_args(argv)
    result = run(args.quick)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
