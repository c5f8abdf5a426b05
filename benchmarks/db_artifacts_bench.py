"""Database artifact store benchmark: log and load throughput against MLflow's local file store, and memory.

Through the artifact repository layer MLflow itself calls (log_artifact / download_artifacts), each
backend, MLflow's LocalArtifactRepository (a plain folder: what `./mlruns` artifacts are), flock's
store on SQLite and on PostgreSQL (a throwaway local cluster, started here like the tests do), logs
and loads 1 MB and 100 MB files in interleaved rounds (the backend order rotates each round);
medians, and ratios against the local store from the same run; then the same through MlflowClient
(log_artifact / download_artifacts on a run of an experiment located on each backend). Peak memory for a 500 MB artifact
is measured per backend in a fresh subprocess (ru_maxrss growth over the process after warm-up).
Writes benchmarks/results/db_artifacts.json.

    python benchmarks/db_artifacts_bench.py            # 7 rounds
    python benchmarks/db_artifacts_bench.py --quick    # 3 rounds (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "results" / "db_artifacts.json"
MB = 1024 * 1024
BACKENDS = ("local", "sqlite", "postgresql")


def make_repo(backend: str, base: str, root: str):
    """The artifact repository of `backend` at folder `root`."""
    if backend == "local":
        from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

        return LocalArtifactRepository(os.path.join(base, "local", root))
    from flock_nbext.tracking.db_artifacts import DatabaseArtifactRepository

    return DatabaseArtifactRepository(f"{base}/{root}")


def locations(tmp: Path, pg_url: str) -> dict[str, str]:
    return {"local": str(tmp), "sqlite": f"sqlite:///{tmp / 'artifacts.db'}", "postgresql": pg_url}


def write_file(path: Path, size: int) -> Path:
    """Incompressible bytes, written in 16 MB pieces."""
    with open(path, "wb") as fh:
        left = size
        while left:
            piece = min(left, 16 * MB)
            fh.write(os.urandom(piece))
            left -= piece
    return path


def throughput(rounds: int, sizes: list[int], tmp: Path, places: dict[str, str]) -> dict:
    files = {size: write_file(tmp / f"artifact-{size // MB}MB.bin", size) for size in sizes}
    times: dict[tuple[str, int, str], list[float]] = {}
    for backend in BACKENDS:  # warm-up: engines, schema, imports
        repo = make_repo(backend, places[backend], "warmup")
        repo.log_artifact(str(files[sizes[0]]))
    for r in range(rounds):
        order = BACKENDS[r % 3:] + BACKENDS[:r % 3]
        for backend in order:
            for size, path in files.items():
                repo = make_repo(backend, places[backend], f"round{r}/{size}")
                t0 = time.perf_counter()
                repo.log_artifact(str(path))
                t1 = time.perf_counter()
                dst = tempfile.mkdtemp(dir=tmp)
                repo.download_artifacts(path.name, dst)
                t2 = time.perf_counter()
                times.setdefault((backend, size, "log"), []).append(t1 - t0)
                times.setdefault((backend, size, "load"), []).append(t2 - t1)
                shutil.rmtree(dst)
                repo.delete_artifacts() if backend != "local" else shutil.rmtree(
                    os.path.join(places["local"], "local", f"round{r}"), ignore_errors=True)
    return _summarise(times)


class RssSampler:
    """Samples this process's resident memory every 2 ms (ru_maxrss would keep import-time peaks)."""

    def __init__(self) -> None:
        import threading

        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> float:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def through_mlflow(rounds: int, sizes: list[int], tmp: Path, places: dict[str, str]) -> dict:
    """The same, as a user sees it: MlflowClient.log_artifact / download_artifacts on a run whose
    experiment's artifact location is a local folder, the SQLite store or the PostgreSQL store."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'tracking.db'}")
    client = MlflowClient()
    files = {size: tmp / f"artifact-{size // MB}MB.bin" for size in sizes}
    runs = {}
    for backend in BACKENDS:
        where = str(tmp / "mlflow-local") if backend == "local" else f"{places[backend]}/mlflow"
        exp = client.create_experiment(f"bench-{backend}", artifact_location=where)
        runs[backend] = client.create_run(exp).info.run_id
        client.log_artifact(runs[backend], str(files[sizes[0]]), "warmup")
    times: dict[tuple[str, int, str], list[float]] = {}
    for r in range(rounds):
        for backend in BACKENDS[r % 3:] + BACKENDS[:r % 3]:
            for size, path in files.items():
                folder = f"round{r}-{size}"
                t0 = time.perf_counter()
                client.log_artifact(runs[backend], str(path), folder)
                t1 = time.perf_counter()
                dst = tempfile.mkdtemp(dir=tmp)
                client.download_artifacts(runs[backend], f"{folder}/{path.name}", dst)
                t2 = time.perf_counter()
                times.setdefault((backend, size, "log"), []).append(t1 - t0)
                times.setdefault((backend, size, "load"), []).append(t2 - t1)
                shutil.rmtree(dst)
    return _summarise(times)


def ceilings(rounds: int, sizes: list[int], tmp: Path, pg_url: str) -> dict:
    """What the engines themselves manage, without flock, in the same rounds as a plain file copy.

    local_copy is what MLflow's local store does (shutil.copyfile: sendfile in the kernel, no hash);
    sha256 is the hash flock records and checks; sqlite_raw_* is sqlite3 with flock's pragmas, one
    transaction of 4 MB rows; pg_raw_* is psycopg COPY ... FROM/TO STDIN/STDOUT in binary of 4 MB rows;
    pg_server_only_copy is `INSERT ... SELECT` of the same bytes inside the server (no client, no
    network): the server's own storage cost (TOAST in ~2 kB pieces, plus its WAL) bounds any client.
    """
    import hashlib
    import sqlite3

    import psycopg

    chunk = 4 * MB
    files = {size: tmp / f"artifact-{size // MB}MB.bin" for size in sizes}
    pg = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    pg.execute("CREATE TABLE IF NOT EXISTS bench_raw (id int, seq int, data bytea, PRIMARY KEY (id, seq))")
    pg.execute("CREATE TABLE IF NOT EXISTS bench_raw2 (id int, seq int, data bytea, PRIMARY KEY (id, seq))")
    sq = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    for pragma in ("page_size=65536", "journal_mode=WAL", "synchronous=NORMAL"):
        sq.execute(f"PRAGMA {pragma}")
    sq.execute("CREATE TABLE IF NOT EXISTS raw (id INTEGER, seq INTEGER, data BLOB, PRIMARY KEY (id, seq))")

    def pieces(path: Path):
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                yield data

    def local_copy(path: Path) -> None:
        shutil.copyfile(path, tmp / "copy.bin")

    def sha256(path: Path) -> None:
        digest = hashlib.sha256()
        for data in pieces(path):
            digest.update(data)

    def sqlite_raw_write(path: Path) -> None:
        sq.execute("BEGIN IMMEDIATE")
        for seq, data in enumerate(pieces(path)):
            sq.execute("INSERT INTO raw VALUES (1, ?, ?)", (seq, data))
        sq.execute("COMMIT")

    def sqlite_raw_read(path: Path) -> None:
        with open(tmp / "sq-out.bin", "wb") as out:
            for (data,) in sq.execute("SELECT data FROM raw WHERE id = 1 ORDER BY seq"):
                out.write(data)
        sq.execute("DELETE FROM raw")

    def pg_raw_write(path: Path) -> None:
        with pg.transaction(), pg.cursor().copy("COPY bench_raw FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "int4", "bytea"])
            for seq, data in enumerate(pieces(path)):
                copy.write_row((1, seq, data))

    def pg_server_only_copy(path: Path) -> None:
        pg.execute("INSERT INTO bench_raw2 SELECT * FROM bench_raw")

    def pg_raw_read(path: Path) -> None:
        with open(tmp / "pg-out.bin", "wb") as out, pg.cursor().copy(
                "COPY (SELECT data FROM bench_raw ORDER BY seq) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(["bytea"])
            for (data,) in copy.rows():
                out.write(data)
        pg.execute("TRUNCATE bench_raw, bench_raw2")

    steps = [local_copy, sha256, sqlite_raw_write, sqlite_raw_read, pg_raw_write, pg_server_only_copy, pg_raw_read]
    times: dict[tuple[int, str], list[float]] = {}
    try:
        for _r in range(rounds):
            for size, path in files.items():
                for step in steps:  # the order matters (write, then read and clean), so it does not rotate
                    t0 = time.perf_counter()
                    step(path)
                    times.setdefault((size, step.__name__), []).append(time.perf_counter() - t0)
                    for name in ("copy.bin", "sq-out.bin", "pg-out.bin"):  # untimed: each step writes a new file
                        (tmp / name).unlink(missing_ok=True)
    finally:
        pg.execute("DROP TABLE IF EXISTS bench_raw, bench_raw2")
        pg.close()
        sq.close()
    out: dict = {}
    for (size, name), values in times.items():
        med = statistics.median(values)
        out.setdefault(f"{size // MB}MB", {})[name] = {"median_s": round(med, 4), "MB_per_s": round(size / MB / med, 1)}
    for by_step in out.values():
        base = by_step["local_copy"]["MB_per_s"]
        for entry in by_step.values():
            entry["ratio_vs_local_copy"] = round(entry["MB_per_s"] / base, 3)
    return out


def versus_ceiling(result: dict) -> dict:
    """flock's throughput as a fraction of what its engine does without flock (raw driver, same run)."""
    steps = {("sqlite", "log"): "sqlite_raw_write", ("sqlite", "load"): "sqlite_raw_read",
             ("postgresql", "log"): "pg_raw_write", ("postgresql", "load"): "pg_raw_read"}
    out: dict = {}
    for size, ops in result["throughput"].items():
        for (backend, op), step in steps.items():
            ceiling = result["engine_ceilings"][size][step]["MB_per_s"]
            out.setdefault(size, {})[f"{backend}_{op}"] = round(ops[op][backend]["MB_per_s"] / ceiling, 3)
    return out


def _summarise(times: dict[tuple[str, int, str], list[float]]) -> dict:
    results: dict = {}
    for (backend, size, operation), values in times.items():
        med = statistics.median(values)
        results.setdefault(f"{size // MB}MB", {}).setdefault(operation, {})[backend] = {
            "median_s": round(med, 4), "MB_per_s": round(size / MB / med, 1), "samples_s": [round(v, 4) for v in values]}
    for by_op in results.values():
        for by_backend in by_op.values():
            base = by_backend["local"]["MB_per_s"]
            for backend in ("sqlite", "postgresql"):
                by_backend[backend]["ratio_vs_local"] = round(by_backend[backend]["MB_per_s"] / base, 3)
    return results


def memory_child(backend: str, place: str, path: str) -> None:
    """In a fresh process: RSS after warm-up, then the peak while logging and loading `path`."""
    import numpy  # noqa: F401  (as MLflow would have it loaded)

    tmp = tempfile.mkdtemp()
    small = Path(tmp) / "small.bin"
    small.write_bytes(b"x" * 1000)
    repo = make_repo(backend, place, "memory")
    repo.log_artifact(str(small))
    repo.download_artifacts("small.bin", tmp)
    base = RssSampler.now()
    with RssSampler() as log_rss:
        repo.log_artifact(path)
    dst = tempfile.mkdtemp()
    with RssSampler() as load_rss:
        repo.download_artifacts(os.path.basename(path), dst)
    ok = os.path.getsize(os.path.join(dst, os.path.basename(path))) == os.path.getsize(path)
    print(json.dumps({"rss_before_MB": round(base, 1), "peak_rss_log_MB": round(log_rss.peak, 1),
                      "peak_rss_load_MB": round(load_rss.peak, 1),
                      "peak_growth_MB": round(max(log_rss.peak, load_rss.peak) - base, 1),
                      "ru_maxrss_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "roundtrip_ok": ok}))


def memory(size: int, tmp: Path, places: dict[str, str]) -> dict:
    path = write_file(tmp / f"big-{size // MB}MB.bin", size)
    out = {}
    for backend in BACKENDS:
        proc = subprocess.run([sys.executable, __file__, "--memory-child", backend, places[backend], str(path)],
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"memory child for {backend} failed:\n{proc.stderr[-3000:]}")
        out[backend] = json.loads(proc.stdout.strip().splitlines()[-1])
    path.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--memory-child", nargs=3, metavar=("BACKEND", "PLACE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    from tests.fixtures.postgres import start_postgres, stop_postgres

    rounds = 3 if args.quick else 7
    workdir = Path(tempfile.mkdtemp(prefix="flock-pg-bench-"))
    os.chmod(workdir, 0o755)
    tmp = Path(tempfile.mkdtemp(prefix="flock-art-bench-"))
    server = start_postgres(workdir)
    try:
        database = server.create_database("bench")
        places = locations(tmp, server.url(database))
        started = time.perf_counter()
        result = {
            "benchmark": "db_artifacts",
            "quick": args.quick,
            "rounds": rounds,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "notes": "throughput: repository layer (log_artifact/download_artifacts); local = MLflow "
                     "LocalArtifactRepository (a file copy by sendfile, no hash); PostgreSQL 15 on loopback with "
                     "fsync=off (throwaway cluster); 4 MB chunks; flock hashes every file (sha256) on write and "
                     "checks it on read. engine_ceilings: the same bytes through sqlite3 / psycopg COPY without "
                     "flock, and inside the PostgreSQL server alone, in the same run: no client of these engines "
                     "can log faster than their ceiling, which is far below 50% of a file copy on this machine.",
            "throughput": throughput(rounds, [1 * MB, 100 * MB], tmp, places),
            "throughput_through_mlflow_client": through_mlflow(rounds, [1 * MB, 100 * MB], tmp, places),
            "engine_ceilings": ceilings(rounds, [1 * MB, 100 * MB], tmp, server.url(database)),
            "memory_500MB": memory(500 * MB, tmp, places),
        }
        result["flock_vs_engine_ceiling"] = versus_ceiling(result)
        result["seconds"] = round(time.perf_counter() - started, 1)
    finally:
        stop_postgres(server)
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    for level in ("throughput", "throughput_through_mlflow_client"):
        for size, ops in result[level].items():
            for op, by_backend in ops.items():
                print(level, size, op, {b: (v["MB_per_s"], v.get("ratio_vs_local")) for b, v in by_backend.items()})
    print("flock / engine ceiling", result["flock_vs_engine_ceiling"])
    for size, steps in result["engine_ceilings"].items():
        print("ceiling", size, {name: (v["MB_per_s"], v["ratio_vs_local_copy"]) for name, v in steps.items()})
    print(json.dumps(result["memory_500MB"], indent=1))


if __name__ == "__main__":
    main()
