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


def _wine(data: Path, rng) -> None:
    import numpy as np

    names = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
             "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"]
    X = rng.normal(size=(240, len(names))).round(4)
    quality = np.clip(np.round(5.6 + X[:, 10] + 0.5 * X[:, 1] + rng.normal(scale=0.6, size=240)), 3, 8).astype(int)
    lines = [";".join(f'"{n}"' for n in names + ["quality"])]
    lines += [";".join(map(str, row)) + f";{q}" for row, q in zip(X.tolist(), quality.tolist(), strict=True)]
    (data / "winequality-red.csv").write_text("\n".join(lines) + "\n")


def _housing(data: Path, rng) -> None:
    names = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"]
    X = rng.uniform(0, 10, size=(150, len(names))).round(3)
    medv = (20 + 2 * X[:, 5] - X[:, 12] + rng.normal(size=150)).round(2)
    rows = [row + [m] for row, m in zip(X.tolist(), medv.tolist(), strict=True)]
    (data / "housing.data").write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
    (data / "housing_named.csv").write_text(",".join(names + ["MEDV"]) + "\n"
                                            + "\n".join(",".join(map(str, r)) for r in rows) + "\n")


# Small synthetic data in the shape some corpus notebooks read, so they run to the end (the others
# fail on their missing files identically with and without flock).
DATA_MAKERS = {"wine_quality_svm.ipynb": _wine, "iloc_loc_positional.ipynb": _housing}


def _without_installs(source: str) -> str:
    """Package installs (`!pip install ...`, `%pip`, `%conda`) would change the test environment:
    they become comments, the same in both runs, so line numbers and behaviour stay comparable."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("!pip", "!conda", "%pip", "%conda", "!python -m pip")):
            lines[i] = line[: len(line) - len(stripped)] + "# (not run in tests) " + stripped
    return "\n".join(lines)


def _run(path: Path, workdir: Path, flock: bool, after: list[str] | None = None):
    import numpy as np

    workdir.mkdir()
    if path.name in DATA_MAKERS:
        (workdir / "data").mkdir()
        DATA_MAKERS[path.name](workdir / "data", np.random.default_rng(7))
    for sibling in path.parent.iterdir():  # data files next to the notebook, if any
        if sibling.is_file() and sibling.suffix in (".csv", ".parquet", ".db", ".json", ".txt"):
            shutil.copy(sibling, workdir / sibling.name)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = _without_installs(cell.source)
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


def test_corpus_notebooks_with_data_really_train(tmp_path):
    """The notebooks given data run without errors and flock tracks their models."""
    probe = ("from flock_nbext.kernel.extension import extension_of\n"
             "print(sorted({r.var for r in extension_of(get_ipython()).tracker.fits.values()}))")
    for name, expected in (("wine_quality_svm.ipynb", "['knn', 'svc']"), ("iloc_loc_positional.ipynb", "['rf', 'svr']")):
        [path] = [p for p in NOTEBOOKS if p.name == name]
        nb = _run(path, tmp_path / name, flock=True, after=[probe])
        errors = [c["error"] for c in behaviour(nb) if c["error"]]
        assert not errors, errors
        printed = "".join(o.get("text", "") for o in nb.metadata["after_outputs"][0])
        assert printed.strip() == expected
