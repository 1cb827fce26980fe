"""How long one round of per-park knapsack pricing takes on the tight instances (issue 13).

    PYTHONPATH=. .venv/bin/python bench/knapsack_pricing.py --seeds 0,1 [--repeat 5]

An experiment, not part of the toolkit: ``numba`` is *not* a dependency of ``zoning``
(install it by hand to run this). Branch-and-price on the placement problem (SPEC §6)
prices one 0-1 knapsack per park per round (profit u_i − cost_ij, weight the floor area
in 0.1 m², capacity the free space; see bench/tight_knapsack.py). This times one round
at the linear relaxation's prices three ways and checks that they agree:

- ``numpy``: :func:`tight_knapsack.lagrangian` (a Python loop over movers, numpy over
  capacities, a movers × capacity table to recover the sets);
- ``numba``: the same dynamic programme compiled, with the same table;
- ``numba, value only``: compiled, without the table (enough for a bound, not for a
  column).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tight_knapsack  # noqa: E402
from tight import tight_instance  # noqa: E402


def compiled():
    import numba

    @numba.njit
    def with_sets(weight, profit, capacity):
        best = np.zeros(capacity + 1)
        keep = np.zeros((weight.size, capacity + 1), dtype=np.bool_)
        reach = 0
        for i in range(weight.size):
            w = weight[i]
            if w > capacity:
                continue
            reach = min(reach + w, capacity)
            for c in range(reach, w - 1, -1):
                v = best[c - w] + profit[i]
                if v > best[c]:
                    best[c] = v
                    keep[i, c] = True
        take = np.zeros(weight.size, dtype=np.bool_)
        room = capacity
        for i in range(weight.size - 1, -1, -1):
            if keep[i, room]:
                take[i] = True
                room -= weight[i]
        return best[capacity], take

    @numba.njit
    def value_only(weight, profit, capacity):
        best = np.zeros(capacity + 1)
        reach = 0
        for i in range(weight.size):
            w = weight[i]
            if w > capacity:
                continue
            reach = min(reach + w, capacity)
            for c in range(reach, w - 1, -1):
                v = best[c - w] + profit[i]
                if v > best[c]:
                    best[c] = v
        return best[capacity]

    return with_sets, value_only


def measure(seed: int, repeat: int, with_sets, value_only) -> list[float]:
    """Seconds of one pricing round (numpy, numba, numba value only) at the LP prices."""
    import zoning.placement as placement

    inst = tight_instance(seed)
    cost = sp.coo_matrix(inst["cost"])
    cost.sum_duplicates()
    cols = placement._Columns(cost, inst["area"], inst["unplaced"])
    free, n, k = inst["free"], cols.n, cols.k
    prices, _, _ = placement._prices(cols, free, placement._Safety(60.0))
    priced = (
        cols.cost
        + np.where(cols.park >= 0, prices[np.maximum(cols.park, 0)], 0.0) * cols.area[cols.item]
    )
    u = np.full(n, np.inf)
    np.minimum.at(u, cols.item, priced)
    item, park, pair_cost = cols.item[:k], cols.park[:k], cols.cost[:k]
    weight = np.floor(cols.area / tight_knapsack.STEP + 1e-6).astype(np.int64)
    capacity = np.floor(np.maximum(free, 0.0) / tight_knapsack.STEP + 1e-6).astype(np.int64)
    profit = u[item] - pair_cost
    here = [np.flatnonzero((park == j) & (profit > 1e-9)) for j in range(free.size)]
    base = float(np.minimum(u, inst["unplaced"]).sum())

    def numpy_round():
        return tight_knapsack.lagrangian(
            (item, park, pair_cost), cols.area, free, inst["unplaced"], u
        )[:2]

    def compiled_round(sets: bool = True):
        taken = np.zeros(k, dtype=bool)
        total = 0.0
        for j, h in enumerate(here):
            if sets:
                value, take = with_sets(weight[item[h]], profit[h], int(capacity[j]))
                taken[h[take]] = True
            else:
                value = value_only(weight[item[h]], profit[h], int(capacity[j]))
            total += value
        return base - total, taken

    compiled_round(True), compiled_round(False)  # compile first
    seconds, values = [], []
    for run in (numpy_round, compiled_round, lambda: compiled_round(False)):
        t0 = time.perf_counter()
        for _ in range(repeat):
            result = run()
        seconds.append((time.perf_counter() - t0) / repeat)
        values.append(result)
    for value, _ in values[1:]:
        assert abs(value - values[0][0]) <= 1e-6 * abs(values[0][0])
    assert np.array_equal(values[0][1], values[1][1])
    return [free.size, int(capacity.max())] + seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with_sets, value_only = compiled()
    print("| seed | parks | largest capacity (0.1 m²) | numpy s | numba s | numba, value only s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for seed in [int(s) for s in args.seeds.split(",")]:
        parks, largest, *seconds = measure(seed, args.repeat, with_sets, value_only)
        print(
            f"| {seed} | {parks} | {largest:,} | " + " | ".join(f"{s:.3f}" for s in seconds) + " |",
            flush=True,
        )


if __name__ == "__main__":
    main()
