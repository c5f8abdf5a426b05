"""analysis/ is pure: importing it and analysing a script loads no ML, notebook or tracking library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ["IPython", "mlflow", "sklearn", "lightgbm", "pandas", "numpy", "torch", "onnx", "onnxruntime",
             "ipykernel", "jupyter_server", "xgboost", "tensorflow", "keras", "sqlalchemy", "catboost"]

SCRIPT = """
import json, sys
from flock_nbext.analysis import NotebookLineage, lineage_of
lineage = lineage_of('''
import pandas as pd, numpy as np, lightgbm as lgb, torch, sqlalchemy as sa
from sklearn.metrics import accuracy_score
df = pd.read_sql(sa.text("SELECT a, y FROM t"), sa.create_engine("sqlite://"))
m = lgb.LGBMClassifier().fit(df[["a"]], df.y)
print(accuracy_score(df.y, m.predict(df[["a"]])))
''')
NotebookLineage().add_cell("import mlflow\\nimport IPython")
print(json.dumps({"models": len(lineage["models"]), "modules": sorted(sys.modules)}))
"""


def test_analysis_imports_no_heavy_or_notebook_library():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["models"] == 1
    loaded = [m for m in FORBIDDEN if m in result["modules"]]
    assert loaded == []


def test_output_does_not_depend_on_hash_seeds():
    """Same source, same lineage JSON byte for byte, whatever PYTHONHASHSEED is (ids are stable)."""
    import os

    script = (
        "import json; from flock_nbext.analysis import lineage_of\n"
        "print(json.dumps(lineage_of('''\n"
        "import pandas as pd, lightgbm as lgb\n"
        "from sklearn.metrics import f1_score\n"
        "df = pd.read_csv('d.csv')\n"
        "params = {'metric': {'l1', 'l2', 'auc'}, 'num_leaves': 8}\n"
        "X = df[[c for c in df.columns if c not in {'id', 'y', 'z'}]]\n"
        "m = lgb.train(params, lgb.Dataset(X, df.y))\n"
        "print(f1_score(df.y, m.predict(X) > 0.5))\n"
        "''')))\n")
    outputs = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                              timeout=120, check=True, env=env)
        outputs.add(done.stdout)
    assert len(outputs) == 1
