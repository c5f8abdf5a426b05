"""Reading what we analyse: .py and .ipynb files, and IPython syntax turned into plain Python.

Magics and shell escapes stay lines (so line numbers hold) but become ``pass``; cell magics that
run another language blank their cell.  Every problem is an AnalysisError with one clear line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import AnalysisError

MAX_FILE_BYTES = 50_000_000
MAX_CELL_CHARS = 2_000_000
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "memit", "debug", "flock"}
_ASSIGN_MAGIC = re.compile(r"^(\s*[\w.,\s\[\]()]+?\s*=\s*)[!%].*$")


def python_of(source: str) -> str:
    """Plain Python with the same number of lines as ``source`` (IPython syntax neutralised)."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].lstrip()[2:].strip() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "\n".join("" for _ in lines)
        lines[0] = ""
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#")
                                                  and re.fullmatch(r"[\w.]+\?\??", stripped)):
            out.append(indent + "pass")
            continue
        match = _ASSIGN_MAGIC.match(line)
        if match and not stripped.startswith("#"):
            out.append(match.group(1) + "None")
            continue
        out.append(line)
    return "\n".join(out)


def read_text(path: Path) -> str:
    """File text as UTF-8 (BOM tolerated), or AnalysisError naming the problem."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such file") from None
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot read ({exc.strerror})") from None
    if path.is_dir():
        raise AnalysisError(f"{path}: is a directory, not a .py or .ipynb file")
    if size > MAX_FILE_BYTES:
        raise AnalysisError(f"{path}: file too large to analyse ({size:,} bytes; limit {MAX_FILE_BYTES:,})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnalysisError(f"{path}: not UTF-8 text (invalid byte at offset {exc.start})") from None


def notebook_cells(text: str, name: str = "notebook") -> list[str]:
    """Sources of the code cells of an .ipynb document, in order."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise AnalysisError(f"{name}: malformed notebook, not valid JSON{where}") from None
    if not isinstance(doc, dict):
        raise AnalysisError(f"{name}: malformed notebook, top level is not an object")
    cells = doc.get("cells")
    if cells is None and isinstance(doc.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in doc["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", [])]
    if not isinstance(cells, list):
        raise AnalysisError(f"{name}: malformed notebook, no list of cells")
    out = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise AnalysisError(f"{name}: malformed notebook, cell {i} is not an object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise AnalysisError(f"{name}: malformed notebook, cell {i} has no text source")
        out.append(source)
    return out
