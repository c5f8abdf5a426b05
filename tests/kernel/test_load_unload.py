"""Loading, unloading and reloading flock in an IPython shell (no kernel: panel parts inactive)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell

from flock_nbext.kernel.extension import extension_of
from flock_nbext.kernel.transformer import attached_transformer


@pytest.fixture
def shell():
    ip = InteractiveShell.instance()
    before = (list(ip.ast_transformers), set(ip.magics_manager.magics["line"]), vars(ip).get("transform_ast"))
    yield ip
    for name in ("flock", "flock_nbext"):
        if name in ip.extension_manager.loaded:
            ip.run_line_magic("unload_ext", name)
    assert (list(ip.ast_transformers), set(ip.magics_manager.magics["line"]), vars(ip).get("transform_ast")) == before


def _hooks(ip):
    return (
        [t for t in [*ip.ast_transformers, attached_transformer(ip)] if type(t).__module__.startswith("flock_nbext")],
        [name for name in ip.magics_manager.magics["line"] if name.startswith("flock")],
    )


@pytest.mark.parametrize("name", ["flock", "flock_nbext"])
def test_load_adds_hooks_and_unload_removes_every_one(shell, name):
    shell.run_line_magic("load_ext", name)
    transformers, magics = _hooks(shell)
    assert len(transformers) == 1 and "flock" in magics
    assert extension_of(shell) is not None

    shell.run_line_magic("unload_ext", name)
    assert _hooks(shell) == ([], [])
    assert extension_of(shell) is None


class _Doubler(ast.NodeTransformer):
    """A user's own AST transformer: integer literals double."""

    def visit_Constant(self, node):
        return ast.copy_location(ast.Constant(node.value * 2), node) if type(node.value) is int else node


def test_flock_runs_before_the_users_ast_transformers_and_leaves_their_list_alone(shell):
    doubler = _Doubler()
    shell.ast_transformers.append(doubler)
    try:
        shell.run_line_magic("load_ext", "flock")
        assert shell.ast_transformers == [doubler]  # IPython re-walks every cell's tree only for these
        result = shell.run_cell("x = 21\nx")
        assert result.success and result.result == 42 and attached_transformer(shell) is not None
    finally:
        shell.ast_transformers.remove(doubler)


def test_unload_under_a_later_wrapper_leaves_it_working_and_flock_inert(shell):
    shell.run_line_magic("load_ext", "flock")
    flocks = vars(shell)["transform_ast"]
    seen = []

    def later(node):  # another tool wrapping transform_ast after flock
        seen.append(flocks(node))
        return seen[-1]

    shell.transform_ast = later
    try:
        shell.run_line_magic("unload_ext", "flock")
        assert vars(shell)["transform_ast"] is later
        assert flocks.flock_transformer.attached is False
        result = shell.run_cell("from sklearn.tree import DecisionTreeClassifier\n"
                                "m = DecisionTreeClassifier().fit([[0], [1]], [0, 1])\nm.predict([[1]])[0]")
        assert result.success and result.result == 1 and len(seen) == 1
        assert "__flock__" not in ast.unparse(seen[0])  # flock's part passes the cell through
    finally:
        del shell.transform_ast


def test_loading_twice_is_a_no_op(shell):
    shell.run_line_magic("load_ext", "flock")
    first = extension_of(shell)
    shell.run_line_magic("load_ext", "flock_nbext")
    shell.run_line_magic("reload_ext", "flock")
    assert len(_hooks(shell)[0]) == 1
    assert extension_of(shell) is not None
    assert first is not None


def test_reload_after_unload_works_and_cells_still_run(shell):
    shell.run_line_magic("load_ext", "flock")
    shell.run_line_magic("unload_ext", "flock")
    shell.run_line_magic("load_ext", "flock")
    result = shell.run_cell("x = 21 * 2\nx")
    assert result.success and result.result == 42
    assert len(_hooks(shell)[0]) == 1


def test_flock_magic_reports_and_changes_settings(shell, capsys):
    shell.run_line_magic("load_ext", "flock")
    shell.run_line_magic("flock", "status")
    assert "inactive (no kernel)" in capsys.readouterr().out
    shell.run_line_magic("flock", "off")
    assert extension_of(shell).settings.enabled is False
    shell.run_line_magic("flock", "experiment churn-model")
    shell.run_line_magic("flock", "tracking-uri postgresql://bob:hunter2@db:5432/ml")
    out = capsys.readouterr().out
    assert "hunter2" not in out and "bob:***@db" in out
    assert extension_of(shell).settings.experiment == "churn-model"


@pytest.mark.parametrize("line", ["bogus", "experiment", "on now", 'experiment "unterminated'])
def test_flock_magic_bad_input_is_one_clear_line(shell, capsys, line):
    shell.run_line_magic("load_ext", "flock")
    shell.run_line_magic("flock", line)
    out = capsys.readouterr()
    assert out.out.startswith("flock: ") and "usage: %flock" in out.out or "cannot parse" in out.out
    assert "Traceback" not in out.out + out.err


def test_bad_config_file_falls_back_to_defaults_with_a_warning(shell, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[flock\nenabled = maybe")
    monkeypatch.setenv("FLOCK_CONFIG", str(bad))
    shell.run_line_magic("load_ext", "flock")
    assert extension_of(shell).settings.enabled is True
    assert "not valid TOML" in capsys.readouterr().err


def test_load_imports_nothing_heavy_in_a_fresh_interpreter():
    code = (
        "import sys, time, json\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "t = time.perf_counter(); ip.run_line_magic('load_ext', 'flock'); dt = time.perf_counter() - t\n"
        "heavy = ['mlflow', 'onnx', 'onnxruntime', 'lightgbm', 'xgboost', 'torch', 'sklearn', 'pandas', "
        "'sqlalchemy', 'jsonschema']\n"
        "print(json.dumps({'loaded': [m for m in heavy if m in sys.modules], 'seconds': dt}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []


def test_importing_the_shim_in_plain_python_explains_itself():
    out = subprocess.run([sys.executable, "-c", "import flock"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "%load_ext flock" in out.stderr and "Traceback" not in out.stderr


def test_functions_defined_while_loaded_still_work_after_unload(shell):
    shell.run_line_magic("load_ext", "flock")
    defined = shell.run_cell(
        "from sklearn.linear_model import LinearRegression\n"
        "def train(X, y):\n"
        "    model = LinearRegression()\n"
        "    model.fit(X, y)\n"
        "    return model\n"
        "first = train([[0.0], [1.0]], [1.0, 2.0])\n"
    )
    assert defined.success
    assert "__flock__" in shell.user_ns["train"].__code__.co_names  # its body carries hooks
    shell.run_line_magic("unload_ext", "flock")
    result = shell.run_cell("round(float(train([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0]).coef_[0]), 6)")
    assert result.success, result.error_in_exec
    assert result.result == 2.0
