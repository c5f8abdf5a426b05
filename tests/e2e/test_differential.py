"""Semantics preserved: every corpus notebook behaves the same with and without flock.

Each notebook runs twice in fresh real kernels, once plain and once with flock loaded at start;
stdout, stderr, displayed data and errors (name, value, traceback with its line numbers) must be
identical. Corpus notebooks whose data files are absent fail the same way in both runs, which is
still the point: identical behaviour.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from tests.kernel.notebook_runner import ROOT, behaviour, run_notebook

NOTEBOOKS = sorted((ROOT / "tests" / "corpus").rglob("*.ipynb")) + [ROOT / "tests" / "e2e" / "notebooks" /
                                                                    "semantics.ipynb"]


def _run(path: Path, workdir: Path, flock: bool):
    workdir.mkdir()
    for sibling in path.parent.iterdir():  # data files next to the notebook, if any
        if sibling.is_file() and sibling.suffix in (".csv", ".parquet", ".db", ".json", ".txt"):
            shutil.copy(sibling, workdir / sibling.name)
    nb = nbformat.read(path, as_version=4)
    run_notebook(nb, cwd=workdir, flock=flock)
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_behaves_identically_with_flock(path, tmp_path):
    plain = behaviour(_run(path, tmp_path / "plain", flock=False))
    tracked = behaviour(_run(path, tmp_path / "flock", flock=True))
    assert len(plain) == len(tracked)
    for index, (a, b) in enumerate(zip(plain, tracked, strict=True)):
        assert a == b, f"code cell {index} of {path.name} behaves differently with flock"


def test_semantics_notebook_exercises_what_it_claims(tmp_path):
    """The hand-written notebook really hits a syntax error, a user exception and top-level await."""
    nb = _run(NOTEBOOKS[-1], tmp_path / "run", flock=True)
    cells = behaviour(nb)
    errors = [c["error"]["ename"] for c in cells if c["error"]]
    assert errors == ["SyntaxError", "ZeroDivisionError", "InvalidParameterError"]
    zero = next(c["error"] for c in cells if c["error"] and c["error"]["ename"] == "ZeroDivisionError")
    assert any("line 7" in line for line in zero["traceback"]) and any("line 2" in line for line in zero["traceback"])
    assert any(d[2].get("text/plain") == "42" for c in cells for d in c["display"])
    assert "fitting 150" in "".join(c["stdout"] for c in cells)
    assert not any("flock:" in c["stderr"] for c in cells), "flock must not warn on ordinary cells"
