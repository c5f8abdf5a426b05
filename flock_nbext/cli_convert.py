"""`flock convert MODEL --out model.onnx`: convert a saved model from the command line.

MODEL is a pickle/joblib file, a LightGBM model text file, an XGBoost JSON/UBJSON model, or an
MLflow model (a `runs:/`, `models:/` or other MLflow URI, or a local directory with an MLmodel
file). MLflow is imported only for the last case.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .errors import ConversionError, FlockError

_MLFLOW_SCHEMES = ("runs:/", "models:/", "mlflow-artifacts:/", "s3://", "gs://", "wasbs://", "abfss://",
                   "dbfs:/", "file:/", "http://", "https://")


def add_convert_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `convert` subcommand to an argparse subparsers object; returns its parser."""
    parser = subparsers.add_parser(
        "convert", help="convert a trained model to the fastest exact ONNX graph",
        description="Convert a trained model to ONNX: build every applicable candidate graph, keep those that "
                    "match the model, time them and write the fastest.")
    _arguments(parser)
    parser.set_defaults(func=run_convert)
    return parser


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL_URI_OR_PATH",
                        help="pickle/joblib file, LightGBM .txt model, XGBoost .json/.ubj model, or MLflow model URI "
                             "or directory")
    parser.add_argument("--out", required=True, help="where to write the ONNX model")
    parser.add_argument("--batch-size", type=int, default=1, help="batch size to choose the fastest graph at")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads (default: all)")
    parser.add_argument("--sample", default=None, help="validation rows: a .npy file or a numeric CSV")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest difference allowed (default 1e-5)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--report", choices=("text", "markdown"), default="text", help="format of the printed report")
    parser.add_argument("--quiet", action="store_true", help="print only the output path")


def run_convert(args: argparse.Namespace) -> int:
    """Run the subcommand; prints the report and returns the exit status (1 on a flock error)."""
    try:
        model = load_model(args.model)
        sample = load_sample(args.sample) if args.sample else None
        from .conversion.api import convert

        result = convert(model, sample=sample, batch_size=args.batch_size, threads=args.threads,
                         tolerance=args.tolerance, rounds=args.rounds, progress=None if not args.quiet else False)
        path = result.save(args.out)
    except FlockError as exc:
        print(f"flock convert: error: {exc}", file=sys.stderr)
        return 1
    if args.quiet:
        print(path)
        return 0
    print(result.report_table(args.report))
    print(f"wrote {path}: candidate {result.candidate}, {os.path.getsize(path):,} bytes; "
          f"{result.speedup['batch1']:.2f}x the original at batch 1"
          + (f", {result.speedup['batchN']:.2f}x at batch {result.speedup['batch_n']:,}"
             if result.speedup["batchN"] is not None else ""))
    return 0


def load_model(location: str) -> Any:
    """The model object saved at a path or MLflow URI; ConversionError naming what failed."""
    if location.startswith(_MLFLOW_SCHEMES) or (
            os.path.isdir(location) and os.path.exists(os.path.join(location, "MLmodel"))):
        from .tracking.model_loading import load_native_model

        return load_native_model(location)
    if os.path.isdir(location):
        raise ConversionError(f"{location} is a folder without an MLmodel file: pass a model file or MLflow model")
    if not os.path.exists(location):
        raise ConversionError(f"model file {location} does not exist")
    lower = location.lower()
    if lower.endswith((".json", ".ubj")):
        return _load_xgboost(location)
    if lower.endswith((".pkl", ".pickle", ".joblib", ".sav")):
        return _load_pickle(location)
    with open(location, "rb") as f:
        head = f.read(64)
    if head.startswith((b"tree\n", b"tree\r\n")):
        return _load_lightgbm(location)
    if head[:1] == b"{":
        return _load_xgboost(location)
    return _load_pickle(location)


def _load_pickle(path: str) -> Any:
    try:
        import joblib

        return joblib.load(path)
    except Exception as exc:
        raise ConversionError(f"cannot load {path} as a pickle/joblib file: {exc}") from exc


def _load_lightgbm(path: str) -> Any:
    import lightgbm

    try:
        return lightgbm.Booster(model_file=path)
    except Exception as exc:
        raise ConversionError(f"cannot load {path} as a LightGBM model: {exc}") from exc


def _load_xgboost(path: str) -> Any:
    import xgboost

    booster = xgboost.Booster()
    try:
        booster.load_model(path)
    except Exception as exc:
        raise ConversionError(f"cannot load {path} as an XGBoost model: {str(exc).splitlines()[0]}") from exc
    return booster


def load_sample(path: str) -> Any:
    """Rows from a .npy file or a numeric CSV (a header line is skipped when it is not numeric)."""
    import numpy as np

    if not os.path.exists(path):
        raise ConversionError(f"sample file {path} does not exist")
    try:
        if path.lower().endswith(".npy"):
            return np.load(path, allow_pickle=False)
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        skip = 0 if _numeric_line(first) else 1
        arr = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ConversionError(f"sample file {path} is not numeric rows: {exc}") from exc
    return arr


def _numeric_line(line: str) -> bool:
    try:
        [float(v) for v in line.strip().split(",") if v.strip() != ""]
        return True
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    """`python -m flock_nbext.cli_convert ...` (the same as `flock convert ...`)."""
    parser = argparse.ArgumentParser(prog="flock convert")
    _arguments(parser)
    return run_convert(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
