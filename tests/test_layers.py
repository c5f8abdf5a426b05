"""DESIGN.md's layering, enforced: pure layers stay pure and imports point one way."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "flock_nbext"

# layer -> layers of ours it may import (besides errors/config/redaction/schemas/_version)
ALLOWED = {
    "analysis": set(),
    "conversion": set(),
    "serving": {"conversion", "tracking"},
    "tracking": {"analysis"},
    "kernel": {"analysis", "conversion", "serving", "tracking"},
    "server": {"analysis", "tracking"},
}
FOUNDATION = {"errors", "config", "redaction", "schemas", "_version"}
FORBIDDEN_IN_PURE = ["IPython", "mlflow", "ipykernel", "jupyter_server", "jupyter_client"]


def _our_imports(path: Path) -> set[str]:
    """Top-level flock_nbext sub-packages that a module imports (absolute or relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(PACKAGE).parts) - 1  # folders below flock_nbext
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("flock_nbext."):
                found.add(node.module.split(".")[1])
            elif node.level > depth:  # climbs to flock_nbext itself
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("flock_nbext."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_one_way(layer):
    folder = PACKAGE / layer
    bad = {}
    for path in sorted(folder.rglob("*.py")):
        wrong = _our_imports(path) - ALLOWED[layer] - FOUNDATION - {layer}
        if wrong:
            bad[str(path.relative_to(PACKAGE))] = sorted(wrong)
    assert bad == {}


@pytest.mark.parametrize("layer", ["analysis", "conversion"])
def test_pure_layers_import_neither_ipython_nor_mlflow(layer):
    """Import every module of the layer in a fresh interpreter and look at sys.modules."""
    modules = [
        "flock_nbext." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted((PACKAGE / layer).rglob("*.py"))
        if "generate" not in p.name
    ]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps([m for m in {FORBIDDEN_IN_PURE!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_import_flock_nbext_is_light():
    code = (
        "import json, sys, flock_nbext\n"
        "heavy = ['mlflow', 'onnx', 'onnxruntime', 'lightgbm', 'torch', 'sklearn', 'pandas', 'IPython', 'numpy']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
