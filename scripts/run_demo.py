"""Execute binder/demo.ipynb headless (nbclient, a real kernel) and print the MLflow run it made.

    python scripts/run_demo.py binder/demo.ipynb [--tracking-uri URI] [--out executed.ipynb]

The notebook is executed from a temporary copy (the original stays unexecuted) with the notebook's
own folder as working directory, so its relative data paths resolve. MLflow goes to
$MLFLOW_TRACKING_URI, else ./mlflow.db (what `make lab` shows). The experiment is named after the
notebook's path, as in JupyterLab (the kernel reads it from JPY_SESSION_NAME).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def execute(notebook: Path, env: dict[str, str], timeout: int = 600):
    """Run every cell of a temporary copy of `notebook` in a fresh kernel; returns the executed notebook."""
    import nbformat
    import nbformat.v4
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="flock-demo-") as tmp:
        copy = Path(tmp) / notebook.name
        shutil.copy(notebook, copy)
        nb = nbformat.read(copy, as_version=4)
        # wait for flock's recorder before the kernel goes (shutdown would bound the wait)
        nb.cells.append(nbformat.v4.new_code_cell("%flock flush"))
        km = KernelManager(kernel_name="python3")
        km.shutdown_wait_time = 120  # the kernel flushes its MLflow queue while shutting down
        client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False,
                                resources={"metadata": {"path": str(notebook.parent)}})
        with _environment(env):
            client.execute(env=env)
        flushed = "".join(o.get("text", "") for o in nb.cells.pop().outputs)
        if "everything is logged" not in flushed:
            print(f"warning: {flushed.strip() or 'flock did not confirm the flush'}", file=sys.stderr)
        return nb


class _environment:
    """Environment for the kernel process: os.environ during start (KernelManager reads it)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.saved = env, None

    def __enter__(self):
        self.saved = dict(os.environ)
        os.environ.update(self.env)

    def __exit__(self, *exc):
        os.environ.clear()
        os.environ.update(self.saved)


def find_run(tracking_uri: str, notebook: Path, model_var: str = "clf"):
    """The latest run flock logged for `model_var` in the notebook's experiment."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(str(notebook))
    if experiment is None:
        return None
    runs = client.search_runs([experiment.experiment_id], f"tags.`flock.model.var` = '{model_var}'",
                              order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default=str(ROOT / "binder" / "demo.ipynb"))
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI")
                        or f"sqlite:///{Path.cwd() / 'mlflow.db'}")
    parser.add_argument("--out", help="also write the executed notebook here")
    args = parser.parse_args(argv)

    notebook = Path(args.notebook).resolve()
    env = {
        "MLFLOW_TRACKING_URI": args.tracking_uri,
        "JPY_SESSION_NAME": str(notebook),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    nb = execute(notebook, env)
    if args.out:
        import nbformat

        nbformat.write(nb, args.out)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout" and "Precision" in output.get("text", ""):
                print(output["text"].strip())
    run = find_run(args.tracking_uri, notebook)
    if run is None:
        print(f"no flock run found in {args.tracking_uri} for {notebook}", file=sys.stderr)
        return 1
    precision = {k: v for k, v in run.data.metrics.items() if "precision" in k}
    print(f"MLflow run: runs:/{run.info.run_id}  (experiment {run.info.experiment_id}, tracking {args.tracking_uri})")
    print(f"  params: num_leaves={run.data.params.get('num_leaves')} n_estimators={run.data.params.get('n_estimators')}"
          f" ({len(run.data.params)} in all); metrics: {precision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
