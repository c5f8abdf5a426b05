"""Run a notebook in a real ipykernel through nbclient, with or without flock, and compare outputs.

Shared by tests/e2e (differential and MLflow tests) and benchmarks/kernel_overhead.py. flock is
loaded at kernel start (`--ext=flock`), not by an added cell, so execution counts and therefore
tracebacks ("Cell In[3], line 2") are the same in both runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment (MLflow store, flock dirs) plus this checkout on the kernel's path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.update(extra or {})
    return env


def run_notebook(nb: Any, *, cwd: str | Path, flock: bool, env: dict[str, str] | None = None,
                 timeout: int = 180, after: list[str] | None = None, on_cell: Any = None,
                 on_kernel: Any = None) -> list[Any]:
    """Execute every cell of `nb` in place (errors allowed); then run each code in `after` (not kept).

    Returns the outputs of the `after` snippets. `on_cell(index, seconds)` is called after each cell;
    `on_kernel(pid)` once the kernel is up (benchmarks read its CPU time).
    """
    import time

    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    km = KernelManager(kernel_name="python3")
    km.shutdown_wait_time = 60
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True, record_timing=False,
                            extra_arguments=["--ext=flock"] if flock else [],
                            resources={"metadata": {"path": str(cwd)}})
    extra_outputs = []
    with client.setup_kernel(env=env or kernel_env()):
        client.wait_for_reply(client.kc.kernel_info())
        if on_kernel is not None:
            on_kernel(getattr(km.provisioner, "pid", None))
        for index, cell in enumerate(nb.cells):
            start = time.perf_counter()
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            if on_cell is not None and cell.cell_type == "code":
                on_cell(index, time.perf_counter() - start)
        for code in after or []:
            nb.cells.append(new_code_cell(code))
            try:
                client.execute_cell(nb.cells[-1], len(nb.cells) - 1, store_history=False)
            finally:
                extra_outputs.append(nb.cells.pop().outputs)
    return extra_outputs


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FILE = re.compile(r"/tmp/ipykernel_\d+/\d+\.py|<ipython-input-[^>]*>")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_TIMING = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?\s*(?:ns|µs|μs|us|ms|s|min)\b")  # %%time may print 1e+03 µs


def normalise(text: str) -> str:
    """What may differ between two runs of the same code: ANSI codes, cell file paths, addresses, timings."""
    text = _ANSI.sub("", text)
    text = _CELL_FILE.sub("<cell>", text)
    text = _ADDRESS.sub("0x?", text)
    return _TIMING.sub("<time>", text)


def cell_behaviour(cell: Any) -> dict[str, Any]:
    """A code cell's observable behaviour: stdout, stderr, displayed data, and its error."""
    out: dict[str, Any] = {"stdout": "", "stderr": "", "display": [], "error": None}
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            out[output["name"]] += normalise(output["text"])
        elif kind in ("display_data", "execute_result"):
            data = {k: normalise(v if isinstance(v, str) else "".join(v)) for k, v in output["data"].items()
                    if k.startswith("text/")}
            out["display"].append((kind, output.get("execution_count"), data))
        elif kind == "error":
            out["error"] = {"ename": output["ename"], "evalue": normalise(output["evalue"]),
                            "traceback": [normalise(line) for line in output["traceback"]]}
    return out


def behaviour(nb: Any) -> list[dict[str, Any]]:
    return [cell_behaviour(cell) for cell in nb.cells if cell.cell_type == "code"]
