"""score_sql benchmark: rows/s and memory against the pandas route, on PostgreSQL.

A table of N rows (id + 8 float features, generated server-side) in a throwaway PostgreSQL cluster
is scored by a scikit-learn RandomForestClassifier (50 trees, depth 8, 3 classes) two ways, in
interleaved rounds (order alternates each round; medians; ratio from the same run):

  pandas  pd.read_sql(query) -> model.predict / predict_proba -> DataFrame.to_sql(chunksize=10_000)
  flock   flock_nbext.score_sql(flock_nbext.convert(model), engine, query, batch_size=10_000)

Both write id, prediction and one probability column per class. Memory: each route runs in a fresh
subprocess for several N; resident memory is sampled every 20 ms; the peak growth over the process
before the run (after imports and model loading) is reported per N (the memory curve), with the RSS
timeline of the largest N. Writes benchmarks/results/score_sql.json.

    python benchmarks/score_sql_bench.py            # 1M rows, 3 rounds; memory at 100k/300k/1M
    python benchmarks/score_sql_bench.py --quick    # 1M rows, 1 round; memory at 100k/1M
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "results" / "score_sql.json"
FEATURES = [f"f{i}" for i in range(8)]
BATCH = 10_000


def train_model():
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = rng.random((20_000, 8))
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.7).astype(int)
    return RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0, n_jobs=1).fit(X, y)


def fill_table(url: str, n_rows: int) -> str:
    import sqlalchemy as sa

    table = f"rows_{n_rows}"
    cols = ", ".join(f"random() AS {f}" for f in FEATURES)
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("SELECT setseed(0.25)"))
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(sa.text(f"CREATE TABLE {table} AS SELECT g::bigint AS id, {cols} "
                             f"FROM generate_series(1, {n_rows}) AS g"))
        conn.execute(sa.text(f"ANALYZE {table}"))
    return table


def query_of(table: str) -> str:
    return f"SELECT id, {', '.join(FEATURES)} FROM {table}"


def pandas_route(model, engine, table: str) -> int:
    import pandas as pd

    df = pd.read_sql(query_of(table), engine)
    X = df[FEATURES]
    out = pd.DataFrame({"id": df["id"], "prediction": model.predict(X)})
    proba = model.predict_proba(X)
    for i, label in enumerate(model.classes_):
        out[f"proba_{label}"] = proba[:, i]
    out.to_sql("pandas_out", engine, if_exists="replace", index=False, chunksize=BATCH)
    return len(out)


def flock_route(converted, engine, table: str) -> int:
    from flock_nbext import score_sql

    report = score_sql(converted, engine, query_of(table), out_table="flock_out", key="id", batch_size=BATCH,
                       if_exists="replace", progress=False)
    return report.rows


def agreement(engine) -> float:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return float(conn.execute(sa.text(
            "SELECT AVG(CASE WHEN p.prediction = f.prediction THEN 1.0 ELSE 0.0 END) "
            "FROM pandas_out p JOIN flock_out f ON p.id = f.id")).scalar())


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_child(route: str, url: str, table: str, model_dir: str) -> None:
    """Fresh process: load what the route needs, then sample RSS while it runs."""
    import sqlalchemy as sa

    import flock_nbext.serving.sql_scoring  # noqa: F401
    from flock_nbext.serving.scoring_model import load_scoring_model  # noqa: F401

    engine = sa.create_engine(url)
    with open(os.path.join(model_dir, "model.pkl"), "rb") as fh:
        model = pickle.load(fh)
    if route == "flock":
        import onnx

        runner, subject = flock_route, onnx.load(os.path.join(model_dir, "model.onnx"))
    else:
        import pandas  # noqa: F401

        runner, subject = pandas_route, model
    timeline: list[tuple[float, float]] = []
    stop = threading.Event()
    start = time.perf_counter()
    base = rss_mb()

    def sample() -> None:
        while not stop.wait(0.02):
            timeline.append((round(time.perf_counter() - start, 3), round(rss_mb() - base, 1)))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    rows = runner(subject, engine, table)
    stop.set()
    thread.join()
    seconds = time.perf_counter() - start
    peak = max([g for _, g in timeline] + [rss_mb() - base])
    step = max(1, len(timeline) // 60)
    print(json.dumps({"rows": rows, "seconds": round(seconds, 2), "rss_before_MB": round(base, 1),
                      "peak_growth_MB": round(peak, 1), "timeline_s_MB": timeline[::step]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round; memory at 100k and 1M rows")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-child", nargs=4, metavar=("ROUTE", "URL", "TABLE", "MODEL_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    import sqlalchemy as sa

    import flock_nbext
    from tests.fixtures.postgres import start_postgres, stop_postgres

    rounds = 1 if args.quick else 3
    sizes = [100_000, args.rows] if args.quick else [100_000, 300_000, args.rows]
    workdir = Path(tempfile.mkdtemp(prefix="flock-pg-bench-"))
    os.chmod(workdir, 0o755)
    model_dir = tempfile.mkdtemp(prefix="flock-score-bench-")
    server = start_postgres(workdir)
    try:
        url = server.url(server.create_database("bench"))
        engine = sa.create_engine(url)
        model = train_model()
        converted = flock_nbext.convert(model, batch_size=BATCH, progress=False)
        with open(os.path.join(model_dir, "model.pkl"), "wb") as fh:
            pickle.dump(model, fh)
        converted.save(os.path.join(model_dir, "model.onnx"))
        tables = {n: fill_table(url, n) for n in sorted(set(sizes))}
        big = tables[args.rows]
        times: dict[str, list[float]] = {"pandas": [], "flock": []}
        for r in range(rounds):
            for route in (("pandas", "flock") if r % 2 == 0 else ("flock", "pandas")):
                t0 = time.perf_counter()
                n = pandas_route(model, engine, big) if route == "pandas" else flock_route(converted, engine, big)
                times[route].append(time.perf_counter() - t0)
                assert n == args.rows, (route, n)
        same = agreement(engine)
        med = {k: statistics.median(v) for k, v in times.items()}
        curve: dict[str, dict] = {"pandas": {}, "flock": {}}
        for n in sizes:
            for route in ("pandas", "flock"):
                proc = subprocess.run([sys.executable, __file__, "--memory-child", route, url, tables[n], model_dir],
                                      capture_output=True, text=True, timeout=3600)
                if proc.returncode != 0:
                    raise RuntimeError(f"memory child {route} {n} failed:\n{proc.stderr[-3000:]}")
                child = json.loads(proc.stdout.strip().splitlines()[-1])
                if n != args.rows:
                    child.pop("timeline_s_MB")
                curve[route][str(n)] = child
        result = {
            "benchmark": "score_sql",
            "quick": args.quick,
            "rounds": rounds,
            "rows": args.rows,
            "batch_size": BATCH,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "model": "RandomForestClassifier(n_estimators=50, max_depth=8), 8 features, 3 classes; "
                     f"flock candidate {converted.candidate}",
            "database": "PostgreSQL 15 on loopback (throwaway cluster, fsync=off), psycopg 3 through SQLAlchemy",
            "seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
            "median_seconds": {k: round(v, 2) for k, v in med.items()},
            "rows_per_s": {k: round(args.rows / v) for k, v in med.items()},
            "speedup_flock_vs_pandas": round(med["pandas"] / med["flock"], 2),
            "label_agreement": round(same, 5),
            "memory_curve": curve,
        }
    finally:
        stop_postgres(server)
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(model_dir, ignore_errors=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: result[k] for k in ("rows_per_s", "speedup_flock_vs_pandas", "label_agreement")}
    summary["peak_growth_MB"] = {r: {n: c["peak_growth_MB"] for n, c in v.items()} for r, v in curve.items()}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
