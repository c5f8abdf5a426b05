"""Generate the demo's two CSVs: 100 numeric feature columns and a binary label, train and test.

The shape of the seed talk's demo data (`global_{train,test}_x_label_with_mapping.csv`): features
first, the label last. Deterministic (seeded), so every run of the demo trains on the same data.

    python binder/make_data.py --out binder/data [--train-rows 8000 --test-rows 2000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

N_FEATURES = 100
TRAIN_NAME = "global_train_x_label_with_mapping.csv"
TEST_NAME = "global_test_x_label_with_mapping.csv"


def make_frame(rows: int, rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Rows of [f0..f99, label]: the label depends on a sparse linear score plus an interaction."""
    X = rng.normal(size=(rows, N_FEATURES)).astype(np.float64)
    score = X @ weights + 0.8 * X[:, 0] * X[:, 1] + rng.normal(scale=0.5, size=rows)
    label = (score > 0).astype(np.int64)
    return np.column_stack([X.round(5), label])


def write_csv(path: Path, data: np.ndarray) -> None:
    header = ",".join([f"f{i}" for i in range(N_FEATURES)] + ["label"])
    fmt = ["%.5f"] * N_FEATURES + ["%d"]
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt=fmt)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "data"), help="folder for the CSVs")
    parser.add_argument("--train-rows", type=int, default=8000)
    parser.add_argument("--test-rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20191017)
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    weights = np.zeros(N_FEATURES)
    informative = rng.choice(N_FEATURES, size=12, replace=False)
    weights[informative] = rng.normal(scale=1.0, size=12)
    write_csv(out / TRAIN_NAME, make_frame(args.train_rows, rng, weights))
    write_csv(out / TEST_NAME, make_frame(args.test_rows, rng, weights))
    print(f"wrote {out / TRAIN_NAME} ({args.train_rows} rows) and {out / TEST_NAME} ({args.test_rows} rows)")


if __name__ == "__main__":
    main()
