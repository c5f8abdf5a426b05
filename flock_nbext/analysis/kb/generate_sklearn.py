"""Write kb/sklearn.json from the installed scikit-learn (run by hand when sklearn moves).

    .venv/bin/python -m flock_nbext.analysis.kb.generate_sklearn

Every estimator of ``sklearn.utils.all_estimators()`` under its public name with its kind and
constructor parameters, every function of ``sklearn.metrics``, the dataset loaders, splitters
and model-selection helpers.  The analyzer reads the JSON and never imports scikit-learn.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

NOT_METRICS = {"check_scoring", "get_scorer", "get_scorer_names", "make_scorer"}
WRAPPER_PARAMS = ("steps", "estimators", "transformers", "transformer_list", "estimator", "base_estimator")
CV_EVALUATORS = {"cross_val_score": "metric", "cross_validate": "metric", "cross_val_predict": "predict",
                 "learning_curve": "metric", "validation_curve": "metric", "permutation_test_score": "metric"}


def public_name(cls) -> str:
    """``sklearn.ensemble._forest.RandomForestClassifier`` -> ``sklearn.ensemble.RandomForestClassifier``."""
    parts = cls.__module__.split(".")
    for i in range(2, len(parts) + 1):
        module = ".".join(parts[:i])
        try:
            if getattr(importlib.import_module(module), cls.__name__, None) is cls:
                return f"{module}.{cls.__name__}"
        except ImportError:
            continue
    return f"{cls.__module__}.{cls.__name__}"


def estimator_kind(cls) -> str:
    from sklearn.base import ClassifierMixin, ClusterMixin, OutlierMixin, RegressorMixin, TransformerMixin

    for mixin, kind in ((ClassifierMixin, "classifier"), (RegressorMixin, "regressor"),
                        (ClusterMixin, "cluster"), (OutlierMixin, "outlier_detector")):
        if issubclass(cls, mixin):
            return kind
    return "transformer" if issubclass(cls, TransformerMixin) else "other"


def params_of(cls) -> list[str]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def build() -> dict:
    import sklearn
    import sklearn.datasets
    import sklearn.metrics
    import sklearn.model_selection
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.utils import all_estimators

    entries: dict[str, dict] = {}
    classes = [cls for _, cls in all_estimators()]
    classes += [sklearn.model_selection.HalvingGridSearchCV, sklearn.model_selection.HalvingRandomSearchCV]
    for cls in classes:
        params = params_of(cls)
        entry = {"role": "estimator", "type": estimator_kind(cls), "params": params}
        wrapper = next((p for p in WRAPPER_PARAMS if p in params), None)
        if wrapper:
            entry["wrapper"] = wrapper
        if cls.__name__.endswith(("SearchCV",)):
            entry["type"] = "search"
        entries[public_name(cls)] = entry
    entries["sklearn.pipeline.make_pipeline"] = {"role": "estimator", "type": "other", "params": [],
                                                 "wrapper": "make_pipeline", "class": "sklearn.pipeline.Pipeline"}
    entries["sklearn.compose.make_column_transformer"] = {
        "role": "estimator", "type": "transformer", "params": [], "wrapper": "make_column_transformer",
        "class": "sklearn.compose.ColumnTransformer"}
    entries["sklearn.pipeline.make_union"] = {"role": "estimator", "type": "transformer", "params": [],
                                              "wrapper": "make_pipeline", "class": "sklearn.pipeline.FeatureUnion"}
    for name in sorted(dir(sklearn.metrics)):
        obj = getattr(sklearn.metrics, name)
        if name.startswith("_") or not inspect.isfunction(obj) or name in NOT_METRICS:
            continue
        entries[f"sklearn.metrics.{name}"] = {"role": "metric"}
    for name in sorted(dir(sklearn.datasets)):
        if name.startswith(("load_", "fetch_", "make_")) and inspect.isfunction(getattr(sklearn.datasets, name)):
            if name in ("load_svmlight_file", "load_svmlight_files", "load_files"):
                entries[f"sklearn.datasets.{name}"] = {"role": "read", "kind": "other", "source": [0, "f"]}
            else:
                entries[f"sklearn.datasets.{name}"] = {"role": "loader", "kind": "sklearn_dataset"}
    ms = sklearn.model_selection
    for name in sorted(dir(ms)):
        obj = getattr(ms, name)
        if inspect.isclass(obj) and hasattr(obj, "split") and not name.endswith("SearchCV"):
            entries[f"sklearn.model_selection.{name}"] = {"role": "splitter", "params": params_of(obj)}
    entries["sklearn.model_selection.train_test_split"] = {"role": "split"}
    entries["sklearn.base.clone"] = {"role": "same_object"}  # an unfitted copy: the same model until fitted
    for name, produces in CV_EVALUATORS.items():
        entries[f"sklearn.model_selection.{name}"] = {"role": "cv_eval", "produces": produces}
    return {"library": "sklearn", "version": sklearn.__version__,
            "generated_by": "flock_nbext/analysis/kb/generate_sklearn.py",
            "aliases": {"sklearn.grid_search": "sklearn.model_selection",
                        "sklearn.cross_validation": "sklearn.model_selection"},
            "short_names": "sklearn",
            "entries": entries}


def main() -> None:
    out = Path(__file__).with_name("sklearn.json")
    out.write_text(json.dumps(build(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
