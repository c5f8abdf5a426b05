"""The AST transformer IPython runs on every cell: analyse, then instrument.

IPython silently drops a transformer that raises, so this one never does: on any internal error
the cell's original tree runs unchanged and a single warning is shown.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension


class CellTransformer(ast.NodeTransformer):
    """Hands each cell's tree to the extension; returns the original tree if anything fails."""

    def __init__(self, extension: FlockExtension) -> None:
        self.extension = extension

    def visit(self, node: ast.AST) -> ast.AST:
        ext = self.extension
        if not ext.settings.enabled or not isinstance(node, ast.Module):
            return node
        try:
            return ext.instrument_cell(node) if hasattr(ext, "instrument_cell") else node
        except Exception as exc:  # the user's cell is sacred
            ext.warn_once("instrument", f"instrumentation skipped for a cell ({type(exc).__name__}: {exc})")
            return node
