"""Issue 3, point 1: the knowledge base is declarative data loaded into a registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flock_nbext.analysis.kb import KnowledgeBase, KnowledgeBaseError, default_kb

KB_DIR = Path(__file__).resolve().parents[2] / "flock_nbext" / "analysis" / "kb"


def test_one_data_file_per_library():
    libraries = {json.loads(p.read_text())["library"] for p in KB_DIR.glob("*.json")}
    assert {"pandas", "numpy", "sklearn", "lightgbm", "xgboost", "catboost", "statsmodels", "torch", "keras",
            "databases"} <= libraries


def test_registry_refuses_duplicates_and_unknown_roles():
    kb = KnowledgeBase()
    kb.register("lib.f", "lib", {"role": "metric"})
    with pytest.raises(KnowledgeBaseError, match="declared twice"):
        kb.register("lib.f", "other", {"role": "metric"})
    with pytest.raises(KnowledgeBaseError, match="unknown role"):
        kb.register("lib.g", "lib", {"role": "frobnicate"})


def test_lookup_through_aliases_and_private_module_paths():
    kb = default_kb()
    assert kb.lookup("tensorflow.keras.models.Sequential").name == "keras.Sequential"
    assert kb.lookup("lightgbm.sklearn.LGBMClassifier").name == "lightgbm.LGBMClassifier"
    assert kb.lookup("sklearn.ensemble._forest.RandomForestClassifier").name == \
        "sklearn.ensemble.RandomForestClassifier"
    assert kb.lookup("pandas.io.sql.read_sql").role == "read"
    assert kb.lookup("nobody.knows.this") is None


def test_generated_sklearn_file_covers_every_estimator_and_metric():
    """The committed sklearn.json matches the installed scikit-learn (regenerate with generate_sklearn)."""
    import inspect

    import sklearn.metrics
    from sklearn.utils import all_estimators

    from flock_nbext.analysis.kb.generate_sklearn import NOT_METRICS, public_name

    kb = default_kb()
    for _, cls in all_estimators():
        entry = kb.lookup(public_name(cls))
        assert entry is not None and entry.role == "estimator", cls
    for name, obj in vars(sklearn.metrics).items():
        if inspect.isfunction(obj) and not name.startswith("_") and name not in NOT_METRICS:
            assert kb.lookup(f"sklearn.metrics.{name}").role == "metric", name
    for name in ("train_test_split", "cross_val_score", "cross_validate", "KFold", "StratifiedKFold",
                 "GridSearchCV", "RandomizedSearchCV"):
        assert kb.lookup(f"sklearn.model_selection.{name}") is not None, name
    assert kb.lookup("sklearn.datasets.load_iris").role == "loader"
    assert kb.lookup("sklearn.pipeline.make_pipeline").get("class") == "sklearn.pipeline.Pipeline"


def test_entries_declare_argument_roles():
    kb = default_kb()
    read_sql = kb.lookup("pandas.read_sql")
    assert (read_sql.role, read_sql.get("kind"), read_sql.get("source"), read_sql.get("con")) == (
        "read", "sql", [0, "sql"], [1, "con"])
    assert kb.lookup("lightgbm.train").get("data") == [1, "train_set"]
    assert kb.lookup("xgboost.DMatrix").get("label") == [1, "label"]
    assert kb.lookup("pyodbc.connect").role == "connect"
    assert kb.lookup("sqlalchemy.text").role == "sql_text"
    assert kb.lookup("torch.optim.Adam").role == "optimizer"


def test_every_role_in_the_data_files_has_a_handler():
    """A role named in a KB file that the analyzer cannot dispatch would silently drop calls."""
    from flock_nbext.analysis.interp import Interpreter

    kb = default_kb()
    roles = {entry.role for entry in kb._entries.values()}
    missing = [role for role in roles if not hasattr(Interpreter, f"role_{role}")]
    assert missing == []
