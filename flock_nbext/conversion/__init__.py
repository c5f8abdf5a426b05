"""Model -> ONNX conversion, pure of IPython and MLflow.

Tree ensembles go model -> `frontends.to_ir` -> `ir.TreeEnsemble` -> each applicable strategy in
`backends.REGISTRY` -> ONNX candidates, checked and timed by `autotune`; other models go through
skl2onnx or torch.onnx. `api.convert` is the one call users make. Importing this package loads
no ML library: each frontend and backend imports what it needs when it runs.
"""

from __future__ import annotations

from .frontends import supports, to_ir
from .ir import Tree, TreeEnsemble

__all__ = ["Tree", "TreeEnsemble", "supports", "to_ir"]
