"""The AST transformer run on every cell: analyse, then instrument.

It never raises: on any internal error the cell's original tree runs unchanged and a single
warning is shown. It runs inside the shell's `transform_ast` (`attach`) rather than as one of its
`ast_transformers`: IPython re-walks every node of the cell (`ast.fix_missing_locations`,
0.3-0.4 ms for a 30-line cell) whenever one is registered, and flock's nodes carry their
positions already.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension


class CellTransformer(ast.NodeTransformer):
    """Hands each cell's tree to the extension; returns the original tree if anything fails."""

    def __init__(self, extension: FlockExtension) -> None:
        self.extension = extension
        self.attached = True

    def visit(self, node: ast.AST) -> ast.AST:
        ext = self.extension
        if not self.attached or not ext.settings.enabled or not isinstance(node, ast.Module):
            return node
        try:
            return ext.instrument_cell(node) if hasattr(ext, "instrument_cell") else node
        except Exception as exc:  # the user's cell is sacred
            ext.warn_once("instrument", f"instrumentation skipped for a cell ({type(exc).__name__}: {exc})")
            return node


def attach(shell: Any, transformer: CellTransformer) -> Callable[[], None]:
    """Run `transformer` first in `shell.transform_ast`, before any registered AST transformer;
    returns the undo. If something wrapped transform_ast after flock, the undo leaves that in
    place and makes flock's part a pass-through."""
    inner = shell.transform_ast

    def transform_ast(node: ast.AST) -> ast.AST:
        return inner(transformer.visit(node))

    transform_ast.flock_transformer = transformer  # type: ignore[attr-defined]
    had_own = "transform_ast" in vars(shell)
    shell.transform_ast = transform_ast

    def undo() -> None:
        transformer.attached = False
        if vars(shell).get("transform_ast") is transform_ast:
            if had_own:
                shell.transform_ast = inner
            else:
                del shell.transform_ast

    return undo


def attached_transformer(shell: Any) -> CellTransformer | None:
    """The flock transformer running in `shell.transform_ast`, if any."""
    transformer = getattr(vars(shell).get("transform_ast"), "flock_transformer", None)
    return transformer if transformer is not None and transformer.attached else None

