"""How much a per-park knapsack (Lagrangian) bound would add to the placement's bound.

    .venv/bin/python bench/knapsack_bound.py [--workshops 12000] [--parks 19]

Builds the sample county's placement problem (as bench/workshop_bench.py does), solves
the linear relaxation (zoning.placement), and with its mover prices u solves every park's
0-1 knapsack exactly by dynamic programming over 0.1 m² of floor space:
L(u) = Σ u_i − Σ_j KP_j. Prints the relaxation's bound, L(u) and the difference. A small
difference says the relaxation's bound is close to what such a bound can prove, so the
gap left is the search's, not the bound's. An experiment, not part of the toolkit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    import workshop_bench

    import zoning.placement as placement
    import zoning.workshops
    from zoning import classify, load_config
    from zoning.layers import IssueLog, file_sources
    from zoning.workshops import classify_and_place

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workshops", type=int, default=12_000)
    parser.add_argument("--parks", type=int, default=19)
    args = parser.parse_args()
    captured = {}

    def capture(cost, area, free, unplaced_m, gap=1e-4, time_limit_s=30.0):
        captured.update(cost=cost, area=area, free=free, unplaced=unplaced_m)
        return np.full(cost.shape[0], -1), "captured", 0.0, 0.0

    zoning.workshops.solve_placement = capture
    rng = np.random.default_rng(7)
    sources = file_sources(workshop_bench.SAMPLE)
    classified = classify(sources, config=load_config())
    import pyogrio

    ws = workshop_bench.grow(
        pyogrio.read_dataframe(workshop_bench.SAMPLE, layer="workshops"),
        args.workshops,
        "workshop_id",
        rng,
        300.0,
    )
    mp = workshop_bench.grow(
        pyogrio.read_dataframe(workshop_bench.SAMPLE, layer="micro_parks"),
        args.parks,
        "micro_park_id",
        rng,
        2000.0,
    )
    classify_and_place(
        ws,
        mp,
        classified.parcels,
        classified.layers.protected,
        classified.layers.towns,
        load_config(),
        IssueLog(),
    )
    cost, area, free = captured["cost"], captured["area"], captured["free"]
    cols = placement._Columns(cost, area, captured["unplaced"])
    t0 = time.perf_counter()
    prices, bound, _ = placement._prices(cols, free, placement._Safety(600.0))
    print(f"relaxation (column generation): {time.perf_counter() - t0:.1f} s")
    priced = (
        cols.cost
        + np.where(cols.park >= 0, prices[np.maximum(cols.park, 0)], 0.0) * cols.area[cols.item]
    )
    u = np.full(cols.n, np.inf)
    np.minimum.at(u, cols.item, priced)
    units = np.ceil(area * 10 - 1e-9).astype(np.int64)
    k = cols.k
    knapsacks = 0.0
    for j in range(cols.m):  # one exact knapsack per park (an experiment, not a hot path)
        pairs = np.flatnonzero(cols.park[:k] == j)
        profit = u[cols.item[pairs]] - cols.cost[pairs]
        keep = profit > 1e-9
        weight, profit = units[cols.item[pairs[keep]]], profit[keep]
        capacity = int(np.floor(free[j] * 10 + 1e-9))
        best = np.zeros(capacity + 1)
        for w, p in zip(weight.tolist(), profit.tolist(), strict=True):
            if 0 < w <= capacity:
                np.maximum(best[w:], best[:-w] + p, out=best[w:])
        knapsacks += best[-1]
    lagrangian = float(u.sum() - knapsacks)
    print(
        f"movers {cols.n:,}, parks {cols.m}: relaxation bound {bound:,.0f} m, knapsack "
        f"bound {lagrangian:,.0f} m, difference {lagrangian - bound:,.0f} m "
        f"({time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main()
