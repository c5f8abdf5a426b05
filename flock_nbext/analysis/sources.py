"""Reading what we analyse: .py and .ipynb files, and IPython syntax turned into plain Python.

Magics and shell escapes become the calls IPython itself makes (``get_ipython().run_line_magic``,
``.run_cell_magic``, ``.system``) on the same lines, so line numbers hold and ``%%sql`` queries are
seen; Python cell magics (``%%time``) keep their body.  Every problem is an AnalysisError with
one clear line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import AnalysisError

MAX_FILE_BYTES = 50_000_000
MAX_CELL_CHARS = 2_000_000
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "memit", "debug", "flock"}
_TIMED_LINE = re.compile(r"^%(?:time|timeit|prun|memit)\s+(\S.*)$")
_OPTIONS_WITH_VALUE = {"-n", "-r", "-p", "-T", "-l", "-s", "-D", "-c"}


def _timed_statement(rest: str) -> str:
    """``-n 3 -r 2 clf.fit(X)`` -> ``clf.fit(X)``: the statement after the magic's options."""
    words = rest.split(" ")
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in _OPTIONS_WITH_VALUE and words:
            words.pop(0)
    return " ".join(words).strip()
_ASSIGN_MAGIC = re.compile(r"^(\s*[\w.,\s\[\]()]+?\s*=\s*)[!%].*$")


def _magic_call(text: str) -> str:
    """``%name args`` / ``!cmd`` as the expression IPython turns it into."""
    if text.startswith("!"):
        return f"get_ipython().system({text[1:].strip()!r})"
    name, _, args = text.lstrip("%").partition(" ")
    return f"get_ipython().run_line_magic({name!r}, {args.strip()!r})"


def python_of(source: str) -> str:
    """Plain Python with the same number of lines as ``source`` (IPython syntax as IPython's calls)."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        name, _, args = lines[0].lstrip()[2:].partition(" ")
        if name not in PYTHON_CELL_MAGICS:
            body = "\n".join(lines[1:])
            call = f"get_ipython().run_cell_magic({name!r}, {args.strip()!r}, {body!r})"
            return "\n".join([call] + ["" for _ in lines[1:]])
        lines[0] = ""
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        timed = _TIMED_LINE.match(stripped)
        if timed:  # %time model.fit(X, y): the statement is what runs
            out.append(indent + _timed_statement(timed.group(1)))
            continue
        if stripped.startswith(("%", "!")):
            out.append(indent + _magic_call(stripped))
            continue
        if stripped.endswith("?") and not stripped.startswith("#") and re.fullmatch(r"[\w.]+\?\??", stripped):
            out.append(indent + "pass")
            continue
        match = _ASSIGN_MAGIC.match(line)
        if match and not stripped.startswith("#"):
            rest = line[len(match.group(1)):]
            out.append(match.group(1) + (f"get_ipython().getoutput({rest[1:].strip()!r})" if rest.startswith("!")
                                         else _magic_call(rest)))
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
