"""`flock lineage` through a real subprocess: formats, schema validity, one-line errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from flock_nbext.schemas import load_schema

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"

SCRIPT = """\
import pandas as pd
import lightgbm as lgb
from sklearn.metrics import precision_score
n_leaves = 8
df = pd.read_sql("SELECT a, b, label FROM dbo.loans", con)
clf = lgb.LGBMClassifier(num_leaves=n_leaves)
clf.fit(df[["a", "b"]], df["label"])
print(precision_score(df["label"], clf.predict(df[["a", "b"]])))
"""


def flock_lineage(*args: str) -> subprocess.CompletedProcess:
    python = str(PYTHON) if PYTHON.exists() else sys.executable
    return subprocess.run([python, "-m", "flock_nbext.cli", "lineage", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_json_output_validates_against_the_schema(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    result = flock_lineage(str(script))
    assert result.returncode == 0, result.stderr
    lineage = json.loads(result.stdout)
    jsonschema.validate(lineage, load_schema("lineage"))
    model = lineage["models"][0]
    assert (model["class"], model["hyperparameters"]) == ("lightgbm.LGBMClassifier", {"num_leaves": 8})
    assert lineage["data_sources"][0]["tables"] == ["dbo.loans"]
    assert model["training_data"] == {"sources": ["source:1"], "features": {"columns": ["a", "b"]},
                                      "label": "label"}
    assert lineage["metrics"][0]["model"] == model["id"]


def test_dot_and_text_formats(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    dot = flock_lineage(str(script), "--format", "dot")
    assert dot.returncode == 0 and dot.stdout.startswith("digraph lineage {") and "->" in dot.stdout
    text = flock_lineage(str(script), "--format", "text")
    assert text.returncode == 0
    assert "lightgbm.LGBMClassifier" in text.stdout and "features:   a, b" in text.stdout


def test_notebook_with_an_unparsable_cell_still_reports_the_rest(tmp_path):
    nb = write_notebook(tmp_path / "nb.ipynb", "import pandas as pd\nfrom sklearn.svm import SVC", "x = (",
                        "df = pd.read_csv('t.csv')\nSVC().fit(df[['a']], df['b'])")
    result = flock_lineage(str(nb))
    assert result.returncode == 0
    lineage = json.loads(result.stdout)
    jsonschema.validate(lineage, load_schema("lineage"))
    assert lineage["unparsable_cells"][0]["cell"] == 1 and len(lineage["models"]) == 1
    assert result.stderr.count("\n") == 1 and "cell 1 not analysed" in result.stderr


@pytest.mark.parametrize("name, content, message", [
    ("missing.py", None, "no such file"),
    ("latin.py", "s = 'caf\xe9'\n".encode("latin-1"), "not UTF-8"),
    ("broken.ipynb", b'{"cells": [', "malformed notebook"),
    ("bad.py", b"def f(:\n", "syntax error at line 1"),
    ("deep.py", ("x = " + "[" * 2000 + "]" * 2000 + "\n").encode(), "nesting too deep"),
    ("huge.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": "x = 1\n" * 400_000}]}).encode(),
     "cell too large"),
    ("notes.txt", b"hello", "expected a .py or .ipynb file"),
])
def test_bad_input_is_one_line_on_stderr_and_a_non_zero_exit(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = flock_lineage(str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("flock lineage: error: ") and message in result.stderr


def test_usage_errors_exit_with_argparse_status():
    result = subprocess.run([sys.executable, "-m", "flock_nbext.cli"], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 2 and "lineage" in result.stderr
