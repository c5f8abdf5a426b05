"""Provenance analysis: source text -> data-flow graph -> lineage JSON (schema flock.lineage/1).

Pure: stdlib, networkx and sqlglot only (no IPython, MLflow or ML libraries).  Entry points:
``lineage_of`` for a script, notebook file or source text, and ``NotebookLineage`` for a kernel
session that adds cells as they execute.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AnalysisError
from .facts import CellFacts, Site
from .notebook import SYNTAX, TOO_DEEP, TOO_LARGE, NotebookLineage
from .sources import notebook_cells, read_text

__all__ = ["AnalysisError", "CellFacts", "NotebookLineage", "Site", "lineage_of"]


def _as_path(source_or_path) -> Path | None:
    if isinstance(source_or_path, os.PathLike):
        return Path(source_or_path)
    if isinstance(source_or_path, str) and "\n" not in source_or_path and len(source_or_path) < 4096 \
            and source_or_path.endswith((".py", ".ipynb")):
        try:
            path = Path(source_or_path)
            if path.is_file():
                return path
        except (OSError, ValueError):
            return None
    return None


def lineage_of(source_or_path: str, *, filename: str | None = None) -> dict:
    """Lineage JSON of a .py/.ipynb path, or of source text (a notebook if ``filename`` ends .ipynb).

    Raises AnalysisError (one line) for unreadable files, malformed notebooks, a script that
    does not parse, and cells too large or too deeply nested to analyse.  In a notebook a cell
    with a syntax error is listed under ``unparsable_cells`` and the others are analysed.
    """
    path = _as_path(source_or_path)
    if path is not None:
        text = read_text(path)
        filename = filename or str(path)
    else:
        text = str(source_or_path)
    name = filename or "<source>"
    is_notebook = bool(filename and filename.endswith(".ipynb"))
    lineage = NotebookLineage(global_lines=True)
    if is_notebook:
        cells = notebook_cells(text, name)
    else:
        cells = [text]
        lineage.script = True
    for index, source in enumerate(cells):
        lineage.add_cell(source, cell_index=index)
    for index, (kind, message) in sorted(lineage.unparsable.items()):
        where = f"{name}: cell {index}" if is_notebook else name
        if kind in (TOO_LARGE, TOO_DEEP) or (kind == SYNTAX and not is_notebook):
            raise AnalysisError(f"{where}: {message}")
    lineage.finish_uncalled_functions()
    return lineage.to_json(file=filename)
