"""Side-by-side timing helpers: medians of many rounds (these machines are shared and noisy)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_op_us(fn: Callable[[], object], rounds: int, number: int) -> list[float]:
    """Per-call microseconds of ``rounds`` rounds of ``number`` calls each."""
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t) / number * 1e6)
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p99(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def interleaved(fns: dict[str, Callable[[], object]], rounds: int, number: int) -> dict[str, list[float]]:
    """Rounds of each function interleaved, so load changes hit every contender alike."""
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            out[name] += per_op_us(fn, 1, number)
    return out


def interleaved_cpu(fns: dict[str, Callable[[], object]], rounds: int, number: int) -> dict[str, list[float]]:
    """Like ``interleaved``, in this thread's CPU time per call: on a shared machine whose load is
    several times its core count, wall time mostly measures the other processes' turns."""
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.thread_time()
            for _ in range(number):
                fn()
            out[name].append((time.thread_time() - t) / number * 1e6)
    return out
