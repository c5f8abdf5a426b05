"""Interleaved timing of several prediction functions on the same rows (autotune and benchmarks).

Each round runs every function once in a rotated order, so that drift in machine load (other
processes, frequency scaling) spreads over all of them; the figures are medians over rounds and
calls. Batch-1 latency is measured per call on single rows taken in turn from the sample.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def interleaved(runners: dict[str, Callable[[np.ndarray], Any]], X: np.ndarray, *, batch_n: int, rounds: int = 5,
                round_budget_s: float = 0.03, on_round: Callable[[int], Any] | None = None,
                batch1: bool = True, batchN: bool = True, dtypes: dict[str, Any] | None = None,
                prunable: set[str] | None = None, prune_on: str = "batch1", prune_factor: float | None = None,
                pruned_batchN: str = "skip", skip_batchN: set[str] | None = None) -> dict[str, dict]:
    """{name: {batch1_p50_us, batch1_p99_us, batchN_median_us, batchN_rows_per_s, rounds}} per runner.

    `dtypes` gives a runner its rows in another dtype (converted once, outside the timed calls).
    Runners in `prunable` that warm-up shows cannot win are timed less: on `prune_on` = "batch1"
    (fastest of 5 single-row calls) over `prune_factor` (default 4) times the best prunable
    runner's, or "batchN" (fastest of 3 calls on up to 1,024 rows, scaled to N; default factor 10,
    as small probes are noisy). They get one round of batch-1 calls, and at batch N no timing
    (`pruned_batchN="skip"`: figures None) or a single call ("once"): a slow graph at batch
    10,000 can cost seconds a call. Runners in `skip_batchN` are never run at batch N (a graph
    that would need more memory than the machine has).
    """
    singles32 = [np.ascontiguousarray(X[i:i + 1]) for i in range(min(len(X), 64))]
    big32 = np.ascontiguousarray(np.tile(X, (-(-batch_n // len(X)), 1))[:batch_n])
    inputs = {}
    for n in runners:
        dtype = (dtypes or {}).get(n)
        inputs[n] = (singles32, big32) if dtype is None else (
            [s.astype(dtype) for s in singles32], big32.astype(dtype))
    names = list(runners)
    per_call: dict[str, list[int]] = {n: [] for n in names}
    per_batch: dict[str, list[int]] = {n: [] for n in names}
    k1, warm = {}, {}
    for n in names:  # warm-up on single rows and on a probe batch
        fn, (singles, big) = runners[n], inputs[n]
        # Fastest of a few calls: on a busy machine a call that loses its CPU takes tens of ms,
        # so for "can this runner win?" the minimum says more than a median of three.
        t1 = float(min(_time_calls(fn, singles, 5))) if batch1 else 0
        probe = big[:min(batch_n, 1024)]
        tN = float(min(_time_calls(fn, [probe], 3))) * batch_n / len(probe) if batchN else 0
        if n in (skip_batchN or ()):
            tN = 0.0
        k1[n] = int(np.clip(round_budget_s * 1e9 / max(t1, 1), 3, 400))
        warm[n] = (t1, tN)
    rounds_for = {n: rounds for n in names}
    metric = 0 if prune_on == "batch1" else 1
    contenders = [n for n in names if n in (prunable or ()) and not (metric == 1 and n in (skip_batchN or ()))]
    factor = prune_factor if prune_factor is not None else (4.0 if metric == 0 else 10.0)
    pruned = set()
    if contenders:
        best = min(warm[n][metric] for n in contenders)
        pruned = {n for n in contenders if warm[n][metric] > factor * best}
    for n in pruned:
        rounds_for[n] = 1
        if batchN and pruned_batchN == "once" and n not in (skip_batchN or ()):
            per_batch[n].append(_time_calls(runners[n], [inputs[n][1]], 1)[0])
    kN = {}
    for n in names:
        if batchN and n not in pruned and n not in (skip_batchN or ()):
            tN = _time_calls(runners[n], [inputs[n][1]], 1)[0]  # warm-up at full size
            kN[n] = int(np.clip(round_budget_s * 1e9 / max(tN, 1), 1, 20))
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            if r >= rounds_for[n]:
                continue
            singles, big = inputs[n]
            if batch1:
                per_call[n].extend(_time_calls(runners[n], singles, k1[n]))
            if batchN and n in kN:
                per_batch[n].append(int(np.median(_time_calls(runners[n], [big], kN[n]))))
        if on_round is not None:
            on_round(1)
    out = {}
    for n in names:
        row: dict[str, Any] = {"rounds": rounds_for[n], "pruned": n in pruned}
        if batch1:
            calls = np.asarray(per_call[n], dtype=np.float64) / 1e3
            row["batch1_p50_us"] = round(float(np.median(calls)), 2)
            row["batch1_p99_us"] = round(float(np.percentile(calls, 99)), 2)
            row["batch1_min_us"] = round(float(calls.min()), 2)
        if batchN and per_batch[n]:
            med = float(np.median(per_batch[n])) / 1e3
            row["batchN_median_us"] = round(med, 1)
            row["batchN_rows_per_s"] = round(batch_n / (med / 1e6), 1)
            row["batchN_best_rows_per_s"] = round(batch_n / (min(per_batch[n]) / 1e9), 1)
        elif batchN:
            row["batchN_median_us"] = row["batchN_rows_per_s"] = row["batchN_best_rows_per_s"] = None
        out[n] = row
    return out


def _time_calls(fn: Callable[[np.ndarray], Any], inputs: list[np.ndarray], k: int) -> list[int]:
    clock = time.perf_counter_ns
    times = []
    m = len(inputs)
    for i in range(k):
        x = inputs[i % m]
        t0 = clock()
        fn(x)
        times.append(clock() - t0)
    return times
