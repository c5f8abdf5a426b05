"""Frontends: translate a trained model of one library into the tree-ensemble IR.

`to_ir(model)` picks the frontend whose library and class names match the model's type (or a
base class of it), without importing any library the model does not come from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import UnsupportedModelError
from ..ir import TreeEnsemble


@dataclass(frozen=True)
class Frontend:
    """Converts models of `library` whose class (or a base class) is named in `model_types`."""

    name: str
    library: str
    model_types: tuple[str, ...]
    convert: Callable[[Any], TreeEnsemble]

    def matches(self, model: Any) -> bool:
        for cls in type(model).__mro__:
            if cls.__module__.split(".")[0] == self.library and cls.__name__ in self.model_types:
                return True
        return False

    def supported(self) -> list[str]:
        return [f"{self.library}.{t}" for t in self.model_types]


class FrontendRegistry:
    """The frontends flock knows, in registration order; a name registers once."""

    def __init__(self) -> None:
        self._frontends: dict[str, Frontend] = {}

    def register(self, frontend: Frontend) -> Frontend:
        if frontend.name in self._frontends:
            raise ValueError(f"a frontend named {frontend.name!r} is already registered")
        self._frontends[frontend.name] = frontend
        return frontend

    def __iter__(self):
        return iter(self._frontends.values())

    def find(self, model: Any) -> Frontend | None:
        return next((f for f in self if f.matches(model)), None)

    def supported_types(self) -> list[str]:
        return [t for f in self for t in f.supported()]

    def to_ir(self, model: Any) -> TreeEnsemble:
        frontend = self.find(model)
        if frontend is None:
            cls = type(model)
            raise UnsupportedModelError(
                f"cannot compile {cls.__module__}.{cls.__qualname__} as a tree ensemble; "
                f"supported: {', '.join(self.supported_types())}")
        return frontend.convert(model)


def _lightgbm(model: Any) -> TreeEnsemble:
    from .lightgbm import convert

    return convert(model)


def _xgboost(model: Any) -> TreeEnsemble:
    from .xgboost import convert

    return convert(model)


def _sklearn(model: Any) -> TreeEnsemble:
    from .sklearn_trees import convert

    return convert(model)


def default_registry() -> FrontendRegistry:
    """A registry with flock's three frontends (LightGBM, XGBoost, scikit-learn trees)."""
    registry = FrontendRegistry()
    registry.register(Frontend("lightgbm", "lightgbm",
                               ("Booster", "LGBMClassifier", "LGBMRegressor", "LGBMRanker"), _lightgbm))
    registry.register(Frontend("xgboost", "xgboost",
                               ("Booster", "XGBClassifier", "XGBRegressor", "XGBRFClassifier",
                                "XGBRFRegressor", "XGBRanker"), _xgboost))
    registry.register(Frontend("sklearn", "sklearn", (
        "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor",
        "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
        "GradientBoostingClassifier", "GradientBoostingRegressor",
        "HistGradientBoostingClassifier", "HistGradientBoostingRegressor"), _sklearn))
    return registry


REGISTRY = default_registry()


def to_ir(model: Any) -> TreeEnsemble:
    """The IR of a trained tree-ensemble model.

    Raises UnsupportedModelError (naming the model and listing supported types) for any other
    model, and ConversionError for an untrained one or a feature flock cannot compile exactly.
    """
    return REGISTRY.to_ir(model)


def supports(model: Any) -> bool:
    """Whether `to_ir` has a frontend for this model's type (fitted or not)."""
    return REGISTRY.find(model) is not None


__all__ = ["REGISTRY", "Frontend", "FrontendRegistry", "default_registry", "supports", "to_ir"]
