"""Issue 3, point 8: bad input is marked or refused in one clear line, never a traceback."""

from __future__ import annotations

import json

import pytest

from flock_nbext.analysis import AnalysisError, NotebookLineage, lineage_of
from flock_nbext.errors import FlockError


def notebook(tmp_path, *sources):
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for s in sources]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_syntax_error_cell_is_marked_and_the_others_analysed(tmp_path):
    path = notebook(tmp_path, "import pandas as pd\nfrom sklearn.svm import SVC",
                    "df = pd.read_csv('a.csv'", "df = pd.read_csv('b.csv')\nSVC().fit(df[['x']], df['y'])")
    lineage = lineage_of(str(path))
    assert lineage["unparsable_cells"] == [{"cell": 1, "error": "syntax error at line 1: '(' was never closed"}]
    assert [s["source"] for s in lineage["data_sources"]] == ["b.csv"]
    assert len(lineage["models"]) == 1


def test_incremental_cell_errors_never_raise():
    nb = NotebookLineage()
    facts = nb.add_cell("def broken(:\n    pass")
    assert facts.error.startswith("syntax error") and facts.sites == ()
    assert nb.add_cell("x = 1").error is None
    assert "nesting too deep" in nb.add_cell("x = " + "(" * 5000 + "1" + ")" * 5000).error
    assert "nesting too deep" in nb.add_cell("y = " + " + ".join(["x"] * 30000)).error
    assert nb.add_cell("z = x + 1").error is None
    assert nb.to_json()["unparsable_cells"][0]["cell"] == 0


def test_script_with_a_syntax_error_is_refused(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("import pandas as pd\nif True\n    pass\n")
    with pytest.raises(AnalysisError, match=r"bad\.py: syntax error at line 2"):
        lineage_of(str(path))


def test_deeply_nested_code_is_refused_with_one_line(tmp_path):
    path = tmp_path / "deep.py"
    body = "".join("    " * i + f"if x{i}:\n" for i in range(120)) + "    " * 120 + "pass\n"
    path.write_text("x = [" * 3000 + "]" * 3000 + "\n" + body)
    with pytest.raises(AnalysisError, match="nesting too deep") as info:
        lineage_of(str(path))
    assert "\n" not in str(info.value)


def test_very_large_cell_is_refused(tmp_path):
    path = notebook(tmp_path, "x = 1\n" * 400_000)
    with pytest.raises(AnalysisError, match="cell 0: cell too large"):
        lineage_of(str(path))


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes("df = 'café'\n".encode("latin-1"))
    with pytest.raises(AnalysisError, match="not UTF-8"):
        lineage_of(str(path))


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "top level is not an object"),
    ('{"cells": 3}', "no list of cells"),
    ('{"cells": [{"cell_type": "code", "source": 5}]}', "cell 0 has no text source"),
    ('{"cells": ["x"]}', "cell 0 is not an object"),
])
def test_malformed_notebooks_are_refused(tmp_path, text, message):
    path = tmp_path / "broken.ipynb"
    path.write_text(text)
    with pytest.raises(FlockError, match=message):
        lineage_of(str(path))


def test_magics_and_shell_escapes_are_lines_but_not_analysed(tmp_path):
    path = notebook(tmp_path, "%load_ext flock\n!ls data\nfiles = !ls\nimport pandas as pd",
                    "%%bash\necho hi", "%%time\ndf = pd.read_csv('t.csv')")
    lineage = lineage_of(str(path))
    assert lineage["unparsable_cells"] == []
    assert (lineage["data_sources"][0]["line"], lineage["data_sources"][0]["cell"]) == (8, 2)


def test_a_call_tree_that_fans_out_is_cut_off_quickly():
    """12 levels of functions that each call the next ten times: 10**11 bodies unless cut off."""
    levels = []
    for i in range(12):
        body = "\n".join([f"    f{i + 1}()"] * 10) if i < 11 else "    pass"
        levels.append(f"def f{i}():\n{body}\n")
    source = "\n".join(levels) + "f0()\n"
    nb = NotebookLineage()
    assert nb.add_cell(source).error is None
    assert nb.analysis_errors == []


def test_timed_statements_are_analysed(tmp_path):
    path = notebook(tmp_path, "import pandas as pd\nfrom sklearn.svm import SVC\ndf = pd.read_csv('a.csv')\nclf = SVC()",
                    "%time clf.fit(df[['x']], df['y'])")
    model = lineage_of(str(path))["models"][0]
    assert (model["fit_line"], model["fit_cell"], model["training_data"]["label"]) == (5, 1, "y")


def test_percent_lines_inside_strings_are_not_magics():
    lineage = lineage_of('import pandas as pd\nq = """\nSELECT a FROM t WHERE b LIKE\n%s\n"""\n'
                         'df = pd.read_sql(q, con, params=["x%"])\n')
    assert lineage["data_sources"][0]["source"] == "\nSELECT a FROM t WHERE b LIKE\n%s\n"
