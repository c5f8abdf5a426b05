"""Build every candidate, keep those that answer like the original, time them, pick the fastest.

Validation compares each graph with the ORIGINAL model on the sample: the largest absolute
difference of the probabilities (classifiers) or of the outputs (others; there the difference
counts relative to max(1, |reference|) so large regression targets are judged at float32 scale),
and, for classifiers, predicted labels wherever the reference's top two probabilities are more
than 2 x tolerance apart. Timing runs in interleaved rounds (every survivor and the original once
per round, the order rotated) and reports medians: batch-1 latency p50/p99 over single rows and
throughput at batch N. The winner is the fastest at the caller's batch size.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import graphs, timing
from .candidates import Candidate
from .reference import CLASSIFIER, OriginalModel
from .runtime import make_session, run
from .sample import Sample

PASSED, FAILED, BUILD_FAILED, SKIPPED = "passed", "failed validation", "build failed", "not applicable"


@dataclasses.dataclass
class Built:
    """A candidate that built and passed validation, with its session."""

    name: str
    kind: str
    model: Any
    session: Any
    row: dict


@dataclasses.dataclass
class Outcome:
    best: Built | None
    rows: list[dict]
    original_timing: dict
    batch_n: int


def autotune(candidates: list[Candidate], original: OriginalModel, sample: Sample, *, batch_size: int,
             threads: int | None, tolerance: float, progress: bool | None = None, rounds: int = 5,
             optimize: Callable[[Any], Any] | None = None) -> Outcome:
    """Validate every candidate against the original on `sample`, time the survivors, pick the fastest."""
    from tqdm.auto import tqdm

    batch_n = batch_size if batch_size > 1 else 1000
    bar = tqdm(total=len(candidates) + rounds, desc="flock convert", unit="step", leave=False,
               delay=0 if progress else 1.0, disable=progress is False)
    try:
        reference = original.outputs(sample.X)
        rows, survivors = [], []
        for cand in candidates:
            bar.set_postfix_str(cand.name[:30], refresh=False)
            built = _build_and_validate(cand, original, sample, reference, threads, tolerance, optimize)
            rows.append(built.row if isinstance(built, Built) else built)
            if isinstance(built, Built):
                survivors.append(built)
            bar.update(1)
        if not survivors:
            return Outcome(None, rows, {}, batch_n)
        too_big = _too_big_at(survivors, batch_n)
        runners = {b.name: _session_runner(b.session) for b in survivors}
        runners[original.native_name] = original.native
        given = sample.kinds == "given"
        timing_rows = sample.X[given] if given.any() else sample.X  # time on the caller's rows when given
        timings = timing.interleaved(runners, timing_rows, batch_n=batch_n, rounds=rounds, on_round=bar.update,
                                     prunable={b.name for b in survivors},
                                     prune_on="batch1" if batch_size == 1 else "batchN", skip_batchN=set(too_big))
        for b in survivors:
            b.row.update(timings[b.name])
            if b.row["pruned"]:
                b.row["reason"] = (f"far slower than the fastest in warm-up ({'4' if batch_size == 1 else '10'}x): "
                                   f"one round at batch 1, not timed at batch {batch_n:,}")
        key = "batch1_p50_us" if batch_size == 1 else "batchN_median_us"
        for name, need in too_big.items():
            row = next(b.row for b in survivors if b.name == name)
            row["reason"] = (f"not run at batch {batch_n:,}: would need about {need / 2**30:.1f} GiB "
                             "(half the available memory is allowed)")
        contenders = [b for b in survivors if not b.row["pruned"] and (batch_size == 1 or b.name not in too_big)]
        best = min(contenders, key=lambda b: b.row[key], default=None)
        if best is not None:
            best.row["chosen"] = True
        return Outcome(best, rows, timings[original.native_name], batch_n)
    finally:
        bar.close()


def _too_big_at(survivors: list[Built], batch_n: int) -> dict[str, int]:
    """{name: bytes} of graphs whose estimated memory at batch N exceeds half the available memory."""
    budget = _available_memory() / 2
    out = {}
    for b in survivors:
        per_row = graphs.bytes_per_row(b.model)
        if per_row and per_row * batch_n > budget:
            out[b.name] = per_row * batch_n
    return out


def _available_memory() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _session_runner(session: Any) -> Callable[[np.ndarray], Any]:
    name = session.get_inputs()[0].name
    return lambda X: session.run(None, {name: X})


def _run_in_chunks(session: Any, X: np.ndarray, chunk: int = 1024) -> dict[str, np.ndarray]:
    """Validation answers, 1,024 rows at a time (wide graphs need memory per row)."""
    parts = [run(session, X[i:i + chunk]) for i in range(0, len(X), chunk)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _row(cand: Candidate, status: str, **extra: Any) -> dict:
    row = {"candidate": cand.name, "kind": cand.kind, "status": status, "max_abs_diff": None,
           "label_mismatches": None, "batch1_p50_us": None, "batch1_p99_us": None, "batchN_rows_per_s": None,
           "batchN_median_us": None, "size_bytes": None, "build_s": None, "rounds": 0, "pruned": False, "chosen": False, "reason": ""}
    row.update(extra)
    return row


def _build_and_validate(cand: Candidate, original: OriginalModel, sample: Sample, reference: dict,
                        threads: int | None, tolerance: float, optimize: Callable | None) -> Built | dict:
    if cand.skip_reason:
        return _row(cand, SKIPPED, reason=cand.skip_reason)
    start = time.perf_counter()
    try:
        model = cand.build()
        if optimize is not None:
            model = optimize(model)
        session = make_session(model, threads=threads)
        outs = _run_in_chunks(session, sample.X)
    except Exception as exc:  # a candidate's failure is reported, never raised: others may still work
        return _row(cand, BUILD_FAILED, reason=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    build_s = time.perf_counter() - start
    size = len(model.SerializeToString())
    diff, mismatches, worst, reason = compare(original, outs, reference, sample, tolerance)
    extra = dict(max_abs_diff=diff, label_mismatches=mismatches, size_bytes=size, build_s=round(build_s, 3))
    if reason:
        return _row(cand, FAILED, reason=reason + (f" (worst on a {worst} row)" if worst else ""), **extra)
    return Built(cand.name, cand.kind, model, session, _row(cand, PASSED, **extra))


def compare(original: OriginalModel, outs: dict, reference: dict, sample: Sample,
            tolerance: float) -> tuple[float, int | None, str | None, str]:
    """(max abs diff, label mismatches, kind of the worst row, reason it fails or "")."""
    key = "probabilities" if original.task == CLASSIFIER else "variable"
    if key not in outs:
        return float("nan"), None, None, f"the graph has no {key!r} output (has {', '.join(outs)})"
    ref = reference[key]
    got = np.asarray(outs[key], dtype=np.float64)
    if got.size != ref.size:
        return float("nan"), None, None, f"output {key!r} has shape {got.shape}, the model answers {ref.shape}"
    got = got.reshape(ref.shape)
    nan_mismatch = np.isnan(got) != np.isnan(ref)
    err = np.where(np.isnan(got) & np.isnan(ref), 0.0, np.abs(got - ref))
    err = np.where(nan_mismatch, np.inf, err)
    per_row = err.max(axis=1) if err.ndim == 2 else err
    scale = 1.0 if original.task == CLASSIFIER else np.maximum(1.0, np.abs(ref)).max(axis=1)
    diff = float(per_row.max()) if per_row.size else 0.0
    worst = str(sample.kinds[int(np.argmax(per_row))]) if per_row.size else None
    reason = ""
    mismatches = None
    if np.any(per_row / scale > tolerance):
        bad = int(np.sum(per_row / scale > tolerance))
        reason = f"max abs diff {diff:.3g} > tolerance {tolerance:g} on {bad} of {len(per_row)} rows"
    if original.task == CLASSIFIER:
        if "label" not in outs:
            return diff, None, worst, reason or "the graph has no 'label' output"
        labels = np.asarray(outs["label"]).reshape(-1)
        top2 = np.sort(ref, axis=1)[:, -2:] if ref.shape[1] > 1 else np.zeros((len(ref), 2))
        clear = (top2[:, 1] - top2[:, 0]) > 2 * tolerance
        mismatches = int(np.sum((labels != np.argmax(ref, axis=1)) & clear))
        if mismatches and not reason:
            reason = f"{mismatches} predicted labels differ from the model's"
    return diff, mismatches, (worst if reason else None), reason
