"""Backends: compile a tree-ensemble IR into ONNX graphs, one strategy per module.

Each strategy module defines `applicable(ensemble) -> str | None` (None, or why it does not apply)
and `build(ensemble, *, opset) -> onnx.ModelProto`; a variant with the `block_rows` option runs its
strategy's graph a block of rows at a time (`blocking`). The registry imports a module only when its
backend is used, so listing the strategies costs nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from ..ir import TreeEnsemble
from .graph import DEFAULT_OPSET


@dataclass(frozen=True)
class Backend:
    """One compilation strategy; `module` holds its `applicable` and `build`."""

    name: str
    description: str
    module: str
    options: tuple[tuple[str, Any], ...] = ()  # fixed build options of this variant

    def _impl(self):
        return importlib.import_module(self.module, __name__)

    def applicable(self, ensemble: TreeEnsemble) -> str | None:
        """None when this strategy can compile the ensemble, else the reason it cannot."""
        return self._impl().applicable(ensemble, **dict(self.options))

    def build(self, ensemble: TreeEnsemble, *, opset: int = DEFAULT_OPSET, **options: Any):
        """The ONNX ModelProto (graph contract in `backends.graph`)."""
        merged = {**dict(self.options), **options}
        reason = self._impl().applicable(ensemble, **merged)
        if reason is not None:
            from ...errors import ConversionError

            raise ConversionError(f"strategy {self.name} does not apply: {reason}")
        block_rows = merged.pop("block_rows", None)
        model = self._impl().build(ensemble, opset=opset, **merged)
        if block_rows is None:
            return model
        from .blocking import in_row_blocks

        return in_row_blocks(model, block_rows)


class BackendRegistry:
    """The strategies flock tries, in registration order; a name registers once."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}

    def register(self, backend: Backend) -> Backend:
        if backend.name in self._backends:
            raise ValueError(f"a backend named {backend.name!r} is already registered")
        self._backends[backend.name] = backend
        return backend

    def __iter__(self):
        return iter(self._backends.values())

    def __len__(self) -> int:
        return len(self._backends)

    def names(self) -> list[str]:
        return list(self._backends)

    def get(self, name: str) -> Backend:
        try:
            return self._backends[name]
        except KeyError:
            from ...errors import ConversionError

            raise ConversionError(f"no strategy named {name!r}; known: {', '.join(self._backends)}") from None


def default_registry() -> BackendRegistry:
    registry = BackendRegistry()
    registry.register(Backend("tree_ensemble", "ONNX-ML TreeEnsembleRegressor operator, float64 sums",
                              ".tree_ensemble_op"))
    registry.register(Backend("tree_ensemble_f32", "ONNX-ML TreeEnsembleRegressor operator, float32 sums",
                              ".tree_ensemble_op", (("accumulate", "float32"),)))
    registry.register(Backend("gemm", "Hummingbird GEMM: batched matrix products per tree", ".gemm"))
    registry.register(Backend("tree_traversal", "Hummingbird tree traversal: gathers per depth level",
                              ".tree_traversal"))
    registry.register(Backend("perfect_tree_traversal",
                              "Hummingbird perfect tree traversal: trees padded to full depth",
                              ".perfect_tree_traversal"))
    # dense strategies again, a block of rows at a time: their intermediates stay in cache
    registry.register(Backend("gemm_blocked", "GEMM over blocks of rows (ONNX Scan)", ".gemm",
                              (("block_rows", "auto"),)))
    registry.register(Backend("perfect_tree_traversal_blocked",
                              "perfect tree traversal over blocks of rows (ONNX Scan)", ".perfect_tree_traversal",
                              (("block_rows", "auto"),)))
    return registry


REGISTRY = default_registry()

__all__ = ["DEFAULT_OPSET", "REGISTRY", "Backend", "BackendRegistry", "default_registry"]
