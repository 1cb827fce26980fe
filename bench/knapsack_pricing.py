"""How long one round of per-park knapsack pricing takes on the tight instances (issue 13).

    PYTHONPATH=. .venv/bin/python bench/knapsack_pricing.py --seeds 0,1 [--repeat 5]
        [--perturb 0.02] [--gap 3000]

Branch-and-price on the placement problem (SPEC §6) prices one 0-1 knapsack per park per
round (profit u_i − cost_ij, weight the floor area in 0.1 m², capacity the free space;
see bench/tight_knapsack.py). This times one round at the linear relaxation's prices
(``--perturb P``: each u_i times 1 + uniform(−P, P), seeded, as a column generation's
prices would differ) and checks that the ways agree:

- ``numpy``: :func:`tight_knapsack.lagrangian` (a Python loop over movers, numpy over
  capacities, a movers × capacity table to recover the sets);
- ``numba``: the same dynamic programme compiled, with the same table; ``numba, value
  only``: compiled, without the table (enough for a bound, not for a column). ``numba``
  is *not* a dependency of ``zoning``: these two columns are left empty without it;
- ``solve``: :func:`knapsack.solve` (bench/knapsack.py) (exact, Pareto states from the break);
- ``forced_in``: :func:`knapsack.forced_in` for every pair of the round, exact
  above the floor ``value − gap`` per park (``--gap``, metres: for Lagrangian probing
  the gap between the best placement known and the bound).

Checked on every round: the values of ``solve`` equal the DP's (relative 1e-6), its sets
are within the capacity and reach the value; for each park the two pairs of ``forced_in``
nearest its floor from above and the one just below are checked against the DP run with
the pair's mover put in first (equal above the floor, at least as large below).
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
    """The DP compiled by numba (fill above the reach as in tight_knapsack), or None."""
    try:
        import numba
    except ImportError:
        return None, None

    @numba.njit
    def with_sets(weight, profit, capacity):
        best = np.zeros(capacity + 1)
        keep = np.zeros((weight.size, capacity + 1), dtype=np.bool_)
        reach = 0
        reached = np.zeros(weight.size, dtype=np.int64)
        for i in range(weight.size):
            w = weight[i]
            if w > capacity:
                reached[i] = reach
                continue
            before, reach = reach, min(reach + w, capacity)
            for c in range(before + 1, reach + 1):
                best[c] = best[before]
            reached[i] = reach
            for c in range(reach, w - 1, -1):
                v = best[c - w] + profit[i]
                if v > best[c]:
                    best[c] = v
                    keep[i, c] = True
        for c in range(reach + 1, capacity + 1):
            best[c] = best[reach]
        take = np.zeros(weight.size, dtype=np.bool_)
        room = capacity
        for i in range(weight.size - 1, -1, -1):
            room = min(room, reached[i])
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
            before, reach = reach, min(reach + w, capacity)
            for c in range(before + 1, reach + 1):
                best[c] = best[before]
            for c in range(reach, w - 1, -1):
                v = best[c - w] + profit[i]
                if v > best[c]:
                    best[c] = v
        return best[reach]

    return with_sets, value_only


def dp_value(weight: np.ndarray, profit: np.ndarray, capacity: int) -> float:
    """The best value within the capacity (a value-only DP, one numpy step per item)."""
    best = np.zeros(capacity + 1)
    for w, p in zip(weight.tolist(), profit.tolist(), strict=True):
        if 0 < w <= capacity and p > 0:
            best[w:] = np.maximum(best[w:], best[: capacity + 1 - w] + p)
    return float(best[-1])


def check_forced(weight, profit, capacity: int, floor: float, got: np.ndarray) -> int:
    """The DP with the mover put in first, for the pairs nearest the floor; count checked."""
    above = np.flatnonzero(got > floor)
    below = np.flatnonzero(got <= floor)
    picks = list(above[np.argsort(got[above], kind="stable")][:2])
    picks += list(below[np.argsort(-got[below], kind="stable")][:1])
    for i in picks:
        room = capacity - int(weight[i])
        others = np.arange(weight.size) != i
        exact = profit[i] + dp_value(weight[others], profit[others], room) if room >= 0 else -np.inf
        if got[i] > floor:
            assert abs(got[i] - exact) <= 1e-6 * abs(exact), (i, got[i], exact)
        else:
            assert got[i] >= exact - 1e-6 * abs(exact), (i, got[i], exact)
    return len(picks)


def measure(seed: int, repeat: int, perturb: float, gap: float, with_sets, value_only):
    """Seconds of one pricing round (best of ``repeat``) each way, checked."""
    import knapsack

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
    if perturb:
        u = u * (1 + np.random.default_rng(1000 + seed).uniform(-perturb, perturb, n))
    item, park, pair_cost = cols.item[:k], cols.park[:k], cols.cost[:k]
    weight = np.floor(cols.area / tight_knapsack.STEP + 1e-6).astype(np.int64)
    capacity = np.floor(np.maximum(free, 0.0) / tight_knapsack.STEP + 1e-6).astype(np.int64)
    profit = u[item] - pair_cost
    here = [np.flatnonzero((park == j) & (profit > 1e-9)) for j in range(free.size)]
    base = float(np.minimum(u, inst["unplaced"]).sum())
    parks = [(weight[item[h]], profit[h], int(capacity[j])) for j, h in enumerate(here)]

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

    def solve_round():
        taken = np.zeros(k, dtype=bool)
        total = 0.0
        for h, (w, p, c) in zip(here, parks, strict=True):
            value, take = knapsack.solve(w, p, c)
            assert w[take].sum() <= c and abs(p[take].sum() - value) <= 1e-9 * max(value, 1.0)
            taken[h[take]] = True
            total += value
        return base - total, taken

    values = [knapsack.solve(*one)[0] for one in parks]
    floors = [v - gap for v in values]

    def forced_round():
        return [knapsack.forced_in(*one, f) for one, f in zip(parks, floors, strict=True)]

    runs = [numpy_round, solve_round, forced_round]
    if with_sets is not None:
        compiled_round(True), compiled_round(False)  # compile first
        runs += [compiled_round, lambda: compiled_round(False)]
    seconds, results = [], []
    for run in runs:
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = run()
            best = min(best, time.perf_counter() - t0)
        seconds.append(best)
        results.append(result)
    reference = results[0][0]
    for result in [results[1]] + results[3:]:
        value = result if np.isscalar(result) else result[0]
        assert abs(value - reference) <= 1e-6 * abs(reference), (value, reference)
    if with_sets is not None:
        assert np.array_equal(results[0][1], results[3][1])
    checked = sum(
        check_forced(*one, f, got) for one, f, got in zip(parks, floors, results[2], strict=True)
    )
    above = sum(int((got > f).sum()) for f, got in zip(floors, results[2], strict=True))
    numpy_s, solve_s, forced_s, *numba_s = seconds
    return {
        "parks": free.size,
        "largest": int(capacity.max()),
        "pairs": sum(h.size for h in here),
        "above": above,
        "checked": checked,
        "seconds": [numpy_s, *(numba_s or [np.nan, np.nan]), solve_s, forced_s],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--perturb", type=float, default=0.0)
    parser.add_argument("--gap", type=float, default=3000.0)
    args = parser.parse_args()
    with_sets, value_only = compiled()
    print(
        "| seed | parks | largest capacity (0.1 m²) | numpy s | numba s | numba, value only s "
        "| solve s | forced_in s | pairs above floor / all |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for seed in [int(s) for s in args.seeds.split(",")]:
        row = measure(seed, args.repeat, args.perturb, args.gap, with_sets, value_only)
        cells = ["—" if np.isnan(s) else f"{s:.4f}" for s in row["seconds"]]
        print(
            f"| {seed} | {row['parks']} | {row['largest']:,} | "
            + " | ".join(cells)
            + f" | {row['above']} / {row['pairs']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
