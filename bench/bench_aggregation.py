"""Benchmark of the aggregation core: compiled twins vs pure-Python twins, side by side.

    .venv/bin/python bench/bench_aggregation.py [--quick] [--rounds N]

1. ``aggregate`` of a 1,000-activity window (8 verbs x 10 days, 200 distinct actors, cap 15, group
   keys rendered by the default format). Two modes:
   - ``cold``: every round gets freshly built str objects (their hashes not yet computed), as a read
     that just decoded its rows from storage does; one call is timed per round.
   - ``warm``: the same lists every call (hashes cached), timeit over many calls.
2. ``assemble_groups`` of a 25-group notification page (<= 15 activities each, ~500-byte bodies).
3. ``GroupFormat.render`` of the default format (the write-time cost per timeline entry).

Prints medians in µs and the pure/compiled ratio. The target (issue): compiled >= 5x faster than
pure for the 1,000-activity aggregation.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import timeit
from time import perf_counter

from feedline import _ext
from feedline.aggregation.template import DEFAULT_FORMAT, compile_format
from feedline.models import ids
from feedline.serialization import _activity_py

VERBS = ["like", "follow", "comment", "share", "post", "tag", "pin", "vote"]
DAY_US = 86_400 * 1_000_000
T0 = 1_700_000_000_000_000


def window(n: int = 1000, days: int = 10, actors: int = 200, seed: int = 7):
    """A newest-first window: keys, times, verbs, actors, group keys (default format)."""
    rnd = random.Random(seed)
    times = sorted((T0 + rnd.randrange(days * DAY_US) for _ in range(n)), reverse=True)
    keys = [ids.key_from_time(t, rnd.randbytes(8)) for t in times]
    keys.sort(reverse=True)  # equal times: the lsb orders them
    verbs = [rnd.choice(VERBS) for _ in range(n)]
    actor_ids = [f"user:{rnd.randrange(actors)}" for _ in range(n)]
    fmt = compile_format(DEFAULT_FORMAT)
    group_keys = [fmt.render({"verb": v}, t, "notification", "1") for v, t in zip(verbs, times)]
    return keys, times, verbs, actor_ids, group_keys


def fresh(strings: list[str]) -> list[str]:
    """New str objects with the same text (no cached hash), like strings decoded from rows."""
    return [s.encode().decode() for s in strings]


def body(rnd: random.Random, uuid: str, actor: str, verb: str, time: str) -> bytes:
    extra = {
        "message": "Ça a l'air très bien — " + "".join(rnd.choice("abcdefghij ") for _ in range(150)),
        "image": f"https://cdn.example.com/images/{rnd.randrange(10**9)}.jpg",
        "popularity": rnd.randrange(1000),
        "tags": ["feeds", "stream", "aggregation"],
        "meta": {"client": "ios", "version": "5.4.0", "lang": "fr"},
    }
    return _activity_py.encode_activity(uuid, actor, verb, f"post:{rnd.randrange(10**6)}", "",
                                        f"post:{rnd.randrange(10**6)}", time, extra, None)


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def bench_aggregate_cold(mods: dict, rounds: int) -> dict[str, float]:
    keys, _times, _verbs, actors, gks = window()
    samples: dict[str, list[float]] = {name: [] for name in mods}
    names = list(mods)
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            g, a = fresh(gks), fresh(actors)
            fn = mods[name].aggregate
            t0 = perf_counter()
            fn(keys, g, a, 15)
            samples[name].append(perf_counter() - t0)
    return {name: median_us(s) for name, s in samples.items()}


def bench_warm(calls: dict, repeat: int, number: int) -> dict[str, float]:
    out: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeat):
        for name in (names if r % 2 == 0 else names[::-1]):
            out[name].append(timeit.timeit(calls[name], number=number) / number)
    return {name: median_us(s) for name, s in out.items()}


def report(title: str, medians: dict[str, float]) -> float | None:
    line = "  ".join(f"{name}: {us:9.2f} µs" for name, us in medians.items())
    ratio = medians["py"] / medians["c"] if medians.get("c") else None
    print(f"{title:<44} {line}" + (f"  ratio py/c: {ratio:5.2f}x" if ratio else ""))
    return ratio


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke mode: a few rounds only")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 400, quick 5)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 400)
    repeat, number = (3, 5) if args.quick else (max(rounds // 10, 15), 50)

    group_mods = _ext.twins("feedline.aggregation._group")
    page_mods = _ext.twins("feedline.aggregation._page")
    if "c" not in group_mods or "c" not in page_mods:
        print("compiled twins are not built: run `.venv/bin/pip install -e .`; timing pure only")
    print(f"python {sys.version.split()[0]}; rounds {rounds}; warm: {repeat} x {number} calls")

    gc.disable()
    try:
        # 1. aggregation of 1,000 activities
        keys, times, verbs, actors, gks = window()
        groups = group_mods["py"].aggregate(keys, gks, actors, 15)
        for name, mod in group_mods.items():
            assert mod.aggregate(keys, fresh(gks), fresh(actors), 15) == groups, name
        print(f"window: {len(keys)} activities -> {len(groups)} groups, "
              f"{len(set(actors))} actors, cap 15")
        ratio_cold = report("aggregate 1,000 (cold str hashes)", bench_aggregate_cold(group_mods, rounds))
        ratio_warm = report("aggregate 1,000 (warm)", bench_warm(
            {name: (lambda m=mod: m.aggregate(keys, gks, actors, 15)) for name, mod in group_mods.items()},
            repeat, number))

        # 2. a 25-group notification page
        rnd = random.Random(3)
        uuids = [ids.key_to_uuid(k) for k in keys]
        texts = [ids.format_time(ids.key_time_us(k)) for k in keys]
        bodies = [body(rnd, u, a, v, t) for u, a, v, t in zip(uuids, actors, verbs, texts)]
        origins = [b"null" if i % 3 else b'"user:42"' for i in range(len(keys))]
        page = groups[:25]
        seen = [i % 2 for i in range(len(page))]
        read = [i % 3 == 0 for i in range(len(page))]
        members = sum(len(g[1]) for g in page)
        args_page = (page, bodies, origins, verbs, uuids, texts, seen, read,
                     "/api/v1.0/feed/notification/1/?api_key=k&id_lt=x&limit=25", "1.23ms", 12, 20)
        out = page_mods["py"].assemble_groups(*args_page)
        for name, mod in page_mods.items():
            assert mod.assemble_groups(*args_page) == out, name
        print(f"page: {len(page)} groups, {members} activities, "
              f"avg body {sum(len(bodies[m]) for g in page for m in g[1]) // members} B, {len(out)} B out")
        ratio_page = report("assemble_groups 25-group page", bench_warm(
            {name: (lambda m=mod: m.assemble_groups(*args_page)) for name, mod in page_mods.items()},
            repeat, number * 4))

        # 3. write-time group key rendering
        fmt = compile_format(DEFAULT_FORMAT)
        act = {"id": uuids[0], "actor": actors[0], "verb": verbs[0], "object": "post:1"}
        cond = compile_format('{% if verb == "follow" %}{{ actor }}{% else %}{{ verb }}_'
                              '{{ time.strftime("%Y-%m-%d") }}{% endif %}')
        t = times[0]
        report("render default format", bench_warm({"py": lambda: fmt.render(act, t, "notification", "1")},
                                                   repeat, number * 100))
        report("render if/else format", bench_warm({"py": lambda: cond.render(act, t, "notification", "1")},
                                                   repeat, number * 100))
    finally:
        gc.enable()

    if ratio_cold is not None and args.quick:
        print("(--quick: too few rounds for the ratios to mean much)")
    elif ratio_cold is not None:
        verdict = "met" if min(ratio_cold, ratio_warm) >= 5 else "MISSED"
        print(f"target compiled >= 5x pure for aggregate(1,000): {verdict} "
              f"(cold {ratio_cold:.2f}x, warm {ratio_warm:.2f}x); page {ratio_page:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
