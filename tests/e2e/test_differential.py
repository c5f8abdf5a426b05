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


def _run(path: Path, workdir: Path, flock: bool, after: list[str] | None = None):
    workdir.mkdir()
    for sibling in path.parent.iterdir():  # data files next to the notebook, if any
        if sibling.is_file() and sibling.suffix in (".csv", ".parquet", ".db", ".json", ".txt"):
            shutil.copy(sibling, workdir / sibling.name)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["after_outputs"] = run_notebook(nb, cwd=workdir, flock=flock, after=after)
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
    probe = ("from flock_nbext.kernel.extension import extension_of\n"
             "tracker = extension_of(get_ipython()).tracker\n"
             "print(sorted({r.var for r in tracker.fits.values()}), sorted({s.kind for s in tracker.sites.values()}))")
    nb = _run(NOTEBOOKS[-1], tmp_path / "run", flock=True, after=[probe])
    cells = behaviour(nb)
    [printed] = [o["text"] for o in nb.metadata["after_outputs"][0] if o.get("name") == "stdout"]
    # flock really instrumented the notebook: fits in a loop, under %%time and %%capture (the analysis does
    # not treat the user's LogisticRegression subclass `w` as a model)
    assert printed.strip() == "['clf', 'clf2', 'm', 'tree'] ['fit', 'metric', 'read']"
    errors = [c["error"]["ename"] for c in cells if c["error"]]
    assert errors == ["SyntaxError", "ZeroDivisionError", "InvalidParameterError"]
    zero = next(c["error"] for c in cells if c["error"] and c["error"]["ename"] == "ZeroDivisionError")
    assert any("line 7" in line for line in zero["traceback"]) and any("line 2" in line for line in zero["traceback"])
    assert any(d[2].get("text/plain") == "42" for c in cells for d in c["display"])
    assert "fitting 150" in "".join(c["stdout"] for c in cells)
    assert not any("flock:" in c["stderr"] for c in cells), "flock must not warn on ordinary cells"
