"""What flock adds to the user's cells: per-cell latency, and wall time of a training notebook.

1. Latency per typical 30-line cell (median, p99), in-process IPython shell, the same cell re-run
   under the same cell id (as a user re-runs a cell): flock paused vs active, alternating run by run
   (paired samples; `added_paired_*` are medians/p99 of the per-pair differences).
   Three cells: data preparation only (analysis + instrumentation cost), preparation with a small
   fit and a metric (plus the hooks building records), and the preparation cell building its rows
   with a comprehension over range(200) (the analysis' costly case). Target: <= 2 ms added median.
2. Wall time of a notebook whose cells each train for about a second (LightGBM), in real kernels
   through nbclient: plain, with `%load_ext flock`, and with `mlflow.autolog()` instead, interleaved
   in every round; medians and ratios against the plain run of the same rounds. Target: <= 3 %.
   Wall time and the kernel process' CPU time (all its threads, psutil) per training cell; flock
   writes to MLflow only while the kernel is idle, so a Run All's records go out after the last
   cell: the benchmark then runs `%flock flush` and reports that deferred work separately, and the
   overhead with it included.

    python benchmarks/kernel_overhead.py [--quick] [--out benchmarks/results/kernel_overhead.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PREP_CELL = """\
import math
rows = np.arange(600, dtype=float).reshape(200, 3) % 11
frame = pd.DataFrame(rows, columns=["a", "b", "c"])
frame["d"] = frame.a * 2 + frame.b
frame["e"] = frame.c.map(lambda v: v % 3)
frame = frame[frame.a >= 0]
summary = frame.describe()
means = {col: float(frame[col].mean()) for col in frame.columns}
spread = max(means.values()) - min(means.values())
features = ["a", "b", "d", "e"]
label = "target"
frame[label] = (frame.c > 5).astype(int)
X = frame[features]
y = frame[label]
n_train = int(len(frame) * 0.8)
X_train, X_test = X.iloc[:n_train], X.iloc[n_train:]
y_train, y_test = y.iloc[:n_train], y.iloc[n_train:]
scale = math.sqrt(spread) if spread > 0 else 1.0
def normalise(v):
    return v / scale
X_train = X_train.apply(normalise)
X_test = X_test.apply(normalise)
checks = [len(X_train) > 0, len(X_test) > 0, X_train.shape[1] == len(features)]
assert all(checks)
ratio = y_train.mean()
weights = {0: 1.0, 1: float(1 / max(ratio, 1e-3))}
note = f"{len(X_train)} rows, {len(features)} features, ratio {ratio:.2f}"
total = sum(len(v) for v in (X_train, X_test))
"""

FIT_CELL = PREP_CELL.rsplit("\n", 4)[0] + """
clf = DecisionTreeClassifier(max_depth=3, random_state=0)
clf.fit(X_train, y_train)
acc = accuracy_score(y_test, clf.predict(X_test))
note = f"{len(X_train)} rows, accuracy {acc:.2f}"
"""

# The same cell building its rows with a comprehension over range(200): the provenance engine unrolls
# constant comprehensions, which makes this the costly case for the analysis.
COMPREHENSION_CELL = PREP_CELL.replace("rows = np.arange(600, dtype=float).reshape(200, 3) % 11",
                                       "rows = [(i, i * 0.5, (i * 7) % 11) for i in range(200)]")

SETUP = "import numpy as np\nimport pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier\nfrom sklearn.metrics import accuracy_score\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class _Pause:
    """flock loaded but out of the cell's way: its transform_ast wrapper, input capture and cell events
    are taken off the shell (`events.unregister` for the events), so a cell runs exactly as without flock
    while the session's lineage and runs stay. Alternating paused and active runs of the same cell gives
    paired samples that machine load cannot tilt towards one mode (a round of each would)."""

    def __init__(self, shell, ext) -> None:
        self.shell, self.ext = shell, ext
        self.transform_ast = vars(shell)["transform_ast"]  # flock's analysis and instrumentation
        self.events = [(e, getattr(ext, c)) for e, c in (("pre_execute", "_pre_execute"),
                                                         ("pre_run_cell", "_pre_run_cell"),
                                                         ("post_execute", "_post_execute"),
                                                         ("post_run_cell", "_post_run_cell"))]

    def __enter__(self):
        shell, ext = self.shell, self.ext
        del shell.transform_ast
        shell.input_transformers_post.remove(ext._capture_source)
        for event, callback in self.events:
            shell.events.unregister(event, callback)
        ext.idle.clear()  # as while a cell runs: the recorder keeps its MLflow work for later
        session = ext.tracker.session(create=False)
        if session is not None:
            session.cell_started()
        return self

    def __exit__(self, *exc) -> None:
        shell, ext = self.shell, self.ext
        shell.transform_ast = self.transform_ast
        shell.input_transformers_post.append(ext._capture_source)
        for event, callback in self.events:
            shell.events.register(event, callback)
        ext.idle.set()
        session = ext.tracker.session(create=False)
        if session is not None:
            session.cell_finished()


def run_once(shell, cell: str, name: str, pause: _Pause | None) -> tuple[float, float]:
    """One run of the benchmark cell (flock paused when `pause` is given): (wall, thread CPU) seconds."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    if pause is not None:
        with pause:
            result = shell.run_cell(cell, store_history=True, cell_id=f"bench-{name}")
    else:
        result = shell.run_cell(cell, store_history=True, cell_id=f"bench-{name}")
    elapsed, elapsed_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
    if not result.success:
        raise RuntimeError(f"benchmark cell failed: {result.error_in_exec!r}")
    return elapsed, elapsed_cpu


def cell_latency(rounds: int, per_round: int) -> dict:
    """Added latency per cell, in-process: the same cell re-run with flock active and paused, alternating
    run by run (paired), over `rounds` loads of the extension. The timed mode of each pair comes first
    in one pair, second in the next, so neither benefits from the other's warm caches."""
    from IPython.core.interactiveshell import InteractiveShell

    from flock_nbext.kernel.extension import extension_of

    shell = InteractiveShell.instance()
    shell.run_cell(SETUP)
    out = {}
    for name, cell in (("prep_cell", PREP_CELL), ("fit_cell", FIT_CELL), ("comprehension_cell", COMPREHENSION_CELL)):
        assert len(cell.strip().splitlines()) >= 28, "a typical cell of about 30 lines"
        times: dict[str, list[float]] = {"plain": [], "flock": []}
        cpu: dict[str, list[float]] = {"plain": [], "flock": []}  # the user's thread only: robust to load
        warned = []
        fits = 0
        for _ in range(rounds):
            shell.run_line_magic("load_ext", "flock")
            ext = extension_of(shell)
            # the imports again, now that flock follows the session: without them the analysis cannot
            # know what DecisionTreeClassifier is, and the fit cell would plant no hooks
            shell.run_cell(SETUP, store_history=True, cell_id="bench-setup")
            pause = _Pause(shell, ext)

            run_once(shell, cell, name, None)  # the first runs warm caches
            run_once(shell, cell, name, pause)
            for i in range(per_round):
                for mode in (("plain", "flock") if i % 2 else ("flock", "plain")):
                    elapsed, elapsed_cpu = run_once(shell, cell, name, pause if mode == "plain" else None)
                    times[mode].append(elapsed)
                    cpu[mode].append(elapsed_cpu)
            warned.extend(sorted(ext._warned))
            fits += len(ext.tracker.fits)
            session = ext.tracker.session(create=False)
            if session is not None:
                session.flush(60)
            shell.run_line_magic("unload_ext", "flock")
        plain_med, flock_med = statistics.median(times["plain"]), statistics.median(times["flock"])
        added = [f - p for f, p in zip(times["flock"], times["plain"], strict=True)]  # pairs: one of each
        added_cpu = [f - p for f, p in zip(cpu["flock"], cpu["plain"], strict=True)]
        out[name] = {
            "lines": len(cell.strip().splitlines()),
            "runs_per_mode": len(times["plain"]),
            "tracked_models_at_end": fits,  # >0: the fit cell really ran its hooks
            "plain_median_ms": round(plain_med * 1e3, 3),
            "flock_median_ms": round(flock_med * 1e3, 3),
            "added_median_ms": round((flock_med - plain_med) * 1e3, 3),
            "added_paired_median_ms": round(statistics.median(added) * 1e3, 3),
            "plain_p99_ms": round(percentile(times["plain"], 99) * 1e3, 3),
            "flock_p99_ms": round(percentile(times["flock"], 99) * 1e3, 3),
            "added_p99_ms": round((percentile(times["flock"], 99) - percentile(times["plain"], 99)) * 1e3, 3),
            "added_paired_p99_ms": round(percentile(added, 99) * 1e3, 3),
            "plain_thread_cpu_median_ms": round(statistics.median(cpu["plain"]) * 1e3, 3),
            "flock_thread_cpu_median_ms": round(statistics.median(cpu["flock"]) * 1e3, 3),
            "added_thread_cpu_median_ms": round((statistics.median(cpu["flock"]) - statistics.median(cpu["plain"]))
                                                * 1e3, 3),
            "added_thread_cpu_paired_median_ms": round(statistics.median(added_cpu) * 1e3, 3),
            "added_thread_cpu_paired_p99_ms": round(percentile(added_cpu, 99) * 1e3, 3),
            "flock_warnings": warned,
        }
    return out


def training_notebook(cells: int, rows: int):
    from nbformat.v4 import new_code_cell, new_notebook

    setup = ("import numpy as np\nimport lightgbm as lgb\nrng = np.random.default_rng(0)\n"
             f"X = rng.normal(size=({rows}, 40))\ny = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)\n"
             "Xt = rng.normal(size=(2000, 40))\nyt = (Xt[:, 0] + Xt[:, 1] * Xt[:, 2] > 0).astype(int)\n"
             "from sklearn.metrics import accuracy_score")
    body = [new_code_cell(setup)]
    for i in range(cells):
        body.append(new_code_cell(
            f"model_{i} = lgb.LGBMClassifier(n_estimators=120, num_leaves={15 + i}, n_jobs=1, verbose=-1)\n"
            f"model_{i}.fit(X, y)\nacc_{i} = accuracy_score(yt, model_{i}.predict(Xt))\nprint(round(acc_{i}, 3))"))
    return new_notebook(cells=body, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def notebook_wall_time(rounds: int, cells: int, rows: int) -> dict:
    """Wall time of the training cells: plain, flock, mlflow.autolog(); interleaved rounds, real kernels."""
    import copy

    from nbformat.v4 import new_code_cell

    from tests.kernel.notebook_runner import kernel_env, run_notebook

    modes = ("plain", "flock", "autolog")
    totals: dict[str, list[float]] = {m: [] for m in modes}
    per_cell: dict[str, list[float]] = {m: [] for m in modes}
    cells_by_round: dict[str, list[list[float]]] = {m: [] for m in modes}
    cpu_totals: dict[str, list[float]] = {m: [] for m in modes}  # kernel process CPU (all threads)
    flush_seconds: list[float] = []
    flush_cpu: list[float] = []
    with tempfile.TemporaryDirectory(prefix="flock-bench-") as tmp:
        env = kernel_env({"MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db", "FLOCK_SPOOL_DIR": f"{tmp}/spool",
                          "FLOCK_CONFIG": f"{tmp}/none.toml"})
        # create the store's schema once so no mode pays for it inside the timed cells
        import mlflow

        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        mlflow.MlflowClient().search_experiments()
        base = training_notebook(cells, rows)
        for _ in range(rounds):
            for mode in modes:
                nb = copy.deepcopy(base)
                if mode == "autolog":
                    nb.cells.insert(0, new_code_cell("import mlflow\nmlflow.set_experiment('autolog-bench')\n"
                                                     "mlflow.autolog(silent=True)"))
                first_training = 2 if mode == "autolog" else 1
                seconds: list[float] = []
                cpu_seconds: list[float] = []
                kernel: dict = {}

                def kernel_cpu(kernel=kernel) -> float:
                    times = kernel["process"].cpu_times()
                    return times.user + times.system

                def on_kernel(pid, kernel=kernel):
                    import psutil

                    kernel["process"] = psutil.Process(pid)
                    kernel["cpu"] = kernel_cpu()

                def on_cell(index, elapsed, first=first_training, seconds=seconds, cpu_seconds=cpu_seconds,
                            kernel=kernel):
                    now = kernel_cpu()
                    if index >= first:
                        seconds.append(elapsed)
                        cpu_seconds.append(now - kernel["cpu"])
                    kernel["cpu"] = now

                # flock: the records wait for the kernel to be idle; `%flock flush` right after the last
                # cell makes the recorder do all of it now: its wall and CPU time are what was deferred
                after = (["import os as _o, time as _t\n_s, _c = _t.perf_counter(), sum(_o.times()[:2])\n%flock flush\n"
                          "print(_t.perf_counter() - _s, sum(_o.times()[:2]) - _c)"] if mode == "flock" else None)
                outputs = run_notebook(nb, cwd=tmp, flock=(mode == "flock"), env=env, timeout=600, on_cell=on_cell,
                                       on_kernel=on_kernel, after=after)
                if mode == "flock":
                    printed = "".join(o.get("text", "") for o in outputs[0] if o.get("output_type") == "stream")
                    if "everything is logged" not in printed:
                        raise RuntimeError(f"flock did not deliver everything: {printed!r}")
                    wall, cpu = map(float, printed.strip().splitlines()[-1].split())
                    flush_seconds.append(wall)
                    flush_cpu.append(cpu)
                errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
                if errors:
                    raise RuntimeError(f"{mode} notebook failed: {errors[0]['ename']}: {errors[0]['evalue']}")
                totals[mode].append(sum(seconds))
                cpu_totals[mode].append(sum(cpu_seconds))
                per_cell[mode].extend(seconds)
                cells_by_round[mode].append([round(x, 3) for x in seconds])
    med = {m: statistics.median(totals[m]) for m in modes}
    # after the first training cell: what every further cell pays once MLflow is imported and the runs exist
    later = {m: [sum(r[1:]) for r in cells_by_round[m]] for m in modes}
    later_ratio = {m: [t / p for t, p in zip(later[m], later["plain"], strict=True)] for m in modes}
    ratios = {m: [t / p for t, p in zip(totals[m], totals["plain"], strict=True)] for m in modes}
    cpu_ratios = {m: [t / p for t, p in zip(cpu_totals[m], cpu_totals["plain"], strict=True)] for m in modes}
    return {
        "rounds": rounds,
        "training_cells": cells,
        "median_total_kernel_cpu_seconds": {m: round(statistics.median(cpu_totals[m]), 3) for m in modes},
        "added_percent_kernel_cpu_flock": round((statistics.median(cpu_ratios["flock"]) - 1) * 100, 2),
        "added_percent_kernel_cpu_autolog": round((statistics.median(cpu_ratios["autolog"]) - 1) * 100, 2),
        "flock_deferred_flush_after_notebook": {
            "what": "`%flock flush` right after the last cell: the MLflow work flock kept out of the cells",
            "median_wall_seconds": round(statistics.median(flush_seconds), 3),
            "median_kernel_cpu_seconds": round(statistics.median(flush_cpu), 3),
        },
        "added_percent_flock_including_deferred_flush": round(
            (statistics.median([(t + f) / p for t, f, p in zip(totals["flock"], flush_seconds, totals["plain"],
                                                                strict=True)]) - 1) * 100, 2),
        "rows": rows,
        "median_cell_seconds": {m: round(statistics.median(per_cell[m]), 3) for m in modes},
        "median_total_seconds": {m: round(med[m], 3) for m in modes},
        "added_percent_flock": round((statistics.median(ratios["flock"]) - 1) * 100, 2),
        "added_percent_autolog": round((statistics.median(ratios["autolog"]) - 1) * 100, 2),
        "autolog_over_flock_ratio": round(med["autolog"] / med["flock"], 3),
        "added_percent_flock_after_first_training_cell": round((statistics.median(later_ratio["flock"]) - 1) * 100, 2),
        "added_percent_autolog_after_first_training_cell": round((statistics.median(later_ratio["autolog"]) - 1) * 100,
                                                                 2),
        "autolog_over_flock_ratio_including_deferred_flush": round(
            med["autolog"] / (med["flock"] + statistics.median(flush_seconds)), 3),
        "cell_seconds_by_round": cells_by_round,
        "kernel_cpu_seconds_by_round": {m: [round(t, 3) for t in cpu_totals[m]] for m in modes},
        "totals_seconds": {m: [round(t, 3) for t in totals[m]] for m in modes},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: fewer rounds and cells")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "kernel_overhead.json"))
    parser.add_argument("--skip-notebook", action="store_true", help="only the per-cell latency")
    args = parser.parse_args(argv)

    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tempfile.mkdtemp(prefix='flock-bench-')}/mlflow.db")
    os.environ.setdefault("FLOCK_SPOOL_DIR", tempfile.mkdtemp(prefix="flock-spool-"))
    rounds, per_round = (3, 40) if args.quick else (7, 100)
    result = {
        "benchmark": "kernel_overhead",
        "quick": args.quick,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "targets": {"added_median_ms_per_cell": 2.0, "added_percent_training_notebook": 3.0},
        "cell_latency": cell_latency(rounds, per_round),
    }
    if not args.skip_notebook:
        nb_rounds, cells, rows = (2, 3, 30000) if args.quick else (3, 4, 30000)
        result["training_notebook"] = notebook_wall_time(nb_rounds, cells, rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
