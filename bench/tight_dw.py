"""How far the strongest known bound is from the tight instances' best solutions (issue 13).

    PYTHONPATH=. .venv/bin/python bench/tight_dw.py --seeds 0,1,2,3,4 [--rounds 600]
        [--milp-limit 120] [--alpha 0.5]

An experiment, not part of the toolkit. For each tight instance of ``bench/tight.py``:

1. ``zoning``'s placement (:func:`zoning.placement.solve_placement`): its objective, the
   bound it proves (the linear relaxation's, with the count row) and its gap.
2. The **Dantzig–Wolfe bound**: column generation over per-park packings (columns: a park
   and a set of movers that fits it; master: each mover in at most one column, each park
   in at most one; pricing: one exact 0-1 knapsack per park, profit u_i − cost_ij, weight
   the floor area in 0.1 m² — the sample's areas are whole 0.1 m², so this is exact),
   with Wentges smoothing (``--alpha``) and ``zoning``'s solution as the first columns.
   Every round gives a valid bound L(u) = Σ_i min(u_i, unplaced) − Σ_j KP_j(u); the
   restricted master's value is an upper estimate of the bound, so when the two meet the
   bound is the Dantzig–Wolfe bound. Printed: the bound, the master, the rounds and
   seconds, and how many movers the master holds fractionally.
3. **Lagrangian probing** at the best u: the bound with pair (i, j) forced (the park's
   knapsack with the mover taken: an upper bound of it through the table without the
   mover left out, so the fixing is valid); pairs whose forced bound exceeds the best
   objective known less 1e-4 of it are dropped (no solution within 1e-4 of the best
   uses them).
4. **HiGHS on the reduced problem with Lagrangian cuts** — Σ_i (u_i − cost_ij) x_ij ≤
   KP_j(u) for every park j, valid for every integer placement, which lift its root
   relaxation to L(u) — for ``--milp-limit`` seconds: its objective and bound.

The best objective known is the smaller of ``zoning``'s and ``--upper`` (per seed,
``SEED:VALUE,...``; e.g. plain ``milp``'s from bench/tight.py). A proof of 1e-4 needs a
bound within 1e-4 of the optimum; the table shows how far each bound stays below.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import knapsack as fast  # noqa: E402  (bench/knapsack.py)
from tight import tight_instance  # noqa: E402
from tight_knapsack import knapsack  # noqa: E402  (the capacity DP, the reference)

STEP = 0.1


class Instance:
    """Pairs, integer weights and capacities of one tight instance."""

    def __init__(self, inst: dict):
        cost = sp.coo_matrix(inst["cost"])
        cost.sum_duplicates()
        self.raw = inst
        self.n, self.m = cost.shape
        self.item, self.park, self.cost = cost.row, cost.col, cost.data
        self.area = inst["area"]
        self.free = inst["free"]
        self.unplaced = inst["unplaced"]
        self.weight = np.floor(self.area / STEP + 1e-6).astype(np.int64)
        self.capacity = np.floor(np.maximum(self.free, 0) / STEP + 1e-6).astype(np.int64)

    def price(self, u: np.ndarray, dp: bool = False):
        """L(u), each park's knapsack value, its set (pair indices) and value table (the
        tables only with ``dp``: the capacity DP instead of bench/knapsack.py)."""
        profit = u[self.item] - self.cost
        values, sets, tables = np.zeros(self.m), [], []
        for j in range(self.m):
            here = np.flatnonzero((self.park == j) & (profit > 1e-9))
            w, p, c = self.weight[self.item[here]], profit[here], int(self.capacity[j])
            if dp:
                table, take = knapsack(w, p, c)
                values[j] = table[-1]
                tables.append(table)
            else:
                values[j], take = fast.solve(w, p, c)
            sets.append(here[take])
        bound = float(np.minimum(u, self.unplaced).sum() - values.sum())
        return bound, values, sets, tables


def column_generation(
    ins: Instance,
    start_park: np.ndarray,
    u0: np.ndarray,
    rounds: int,
    alpha: float,
    dp: bool = False,
):
    """Stabilised Dantzig–Wolfe column generation. Returns (best bound, its u, master
    value, rounds run, fractional movers in the last master)."""
    import highspy

    n, m, big = ins.n, ins.m, ins.unplaced
    master = highspy.Highs()
    master.setOptionValue("output_flag", False)
    none = np.array([], dtype=np.int32)
    master.addRows(
        n + m, np.full(n + m, -highspy.kHighsInf), np.ones(n + m), 0, none, none, np.array([])
    )
    pair_of = sp.csr_matrix((np.arange(ins.item.size) + 1, (ins.item, ins.park)), shape=(n, m))
    seen: set = set()
    columns: list = []

    def add(j: int, pairs: np.ndarray) -> bool:
        key = (j, tuple(sorted(pairs.tolist())))
        if pairs.size == 0 or key in seen:
            return False
        seen.add(key)
        columns.append((j, pairs))
        index = np.r_[ins.item[pairs], n + j].astype(np.int32)
        master.addCols(
            1,
            np.array([float((ins.cost[pairs] - big).sum())]),
            np.zeros(1),
            np.array([highspy.kHighsInf]),
            index.size,
            np.zeros(1, dtype=np.int32),
            index,
            np.ones(index.size),
        )
        return True

    for j in range(m):
        movers = np.flatnonzero(start_park == j)
        add(j, np.asarray(pair_of[movers, np.full(movers.size, j)]).ravel() - 1)
    best, _, sets, _ = ins.price(u0, dp)
    centre = u0.copy()
    for j in range(m):
        add(j, sets[j])
    value = np.inf
    done = 0
    while done < rounds:
        done += 1
        master.run()
        value = master.getInfo().objective_function_value + big * n
        dual = np.asarray(master.getSolution().row_dual)
        u = big + dual[:n]
        if value - best <= 1e-7 * value:
            break
        added = 0
        for point in (alpha * centre + (1 - alpha) * u, u):
            bound, _, sets, _ = ins.price(point, dp)
            if bound > best:
                best, centre = bound, point.copy()
            for j in range(m):
                rc = (ins.cost[sets[j]] - big - dual[ins.item[sets[j]]]).sum() - dual[n + j]
                if rc < -1e-6:
                    added += add(j, sets[j])
            if added:
                break
        if not added:
            break
    lam = np.asarray(master.getSolution().col_value)
    share = np.zeros((n, m))
    for (j, pairs), weight in zip(columns, lam, strict=True):
        if weight > 1e-9:
            share[ins.item[pairs], j] += weight
    fractional = int(((share > 1e-6) & (share < 1 - 1e-6)).any(axis=1).sum())
    return best, centre, value, done, fractional


def probe(ins: Instance, u: np.ndarray, cutoff: float, dp: bool = False):
    """Pairs kept by Lagrangian probing at u (those whose bound with the pair forced is
    at most ``cutoff``), and the parks' knapsack values.

    The bound with pair (i, j) forced is L(u) + KP_j − (best of park j holding mover i).
    bench/knapsack.py's ``forced_in`` gives the latter exactly above the floor that
    matters and an upper bound below it; with ``dp``, the capacity table at the room left
    by the mover (an upper bound: the table may hold the mover again), so either way
    every pair dropped is rightly dropped.
    """
    bound, values, _, tables = ins.price(u, dp)
    profit = u[ins.item] - ins.cost
    holding = np.empty(ins.item.size)
    for j in range(ins.m):
        here = np.flatnonzero(ins.park == j)
        w, c = ins.weight[ins.item[here]], int(ins.capacity[j])
        if dp:
            room = c - w
            rest = np.where(room >= 0, tables[j][np.maximum(room, 0)], -np.inf)
            holding[here] = profit[here] + rest
        else:
            floor = values[j] - (cutoff - bound)
            holding[here] = fast.forced_in(w, profit[here], c, floor=floor)
    forced = bound + values[ins.park] - holding
    return forced <= cutoff + 1e-6, values, bound


def reduced_milp(ins: Instance, keep: np.ndarray, u: np.ndarray, values: np.ndarray, limit: float):
    """HiGHS on the kept pairs with the Lagrangian cuts: (objective, bound, seconds)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m = ins.n, ins.m
    sel = np.flatnonzero(keep)
    k = sel.size
    cols = np.arange(k)
    one = sp.csr_matrix(
        (np.ones(k + n), (np.r_[ins.item[sel], np.arange(n)], np.arange(k + n))), shape=(n, k + n)
    )
    cap = sp.csr_matrix((ins.area[ins.item[sel]], (ins.park[sel], cols)), shape=(m, k + n))
    cut = sp.csr_matrix((u[ins.item[sel]] - ins.cost[sel], (ins.park[sel], cols)), shape=(m, k + n))
    t0 = time.perf_counter()
    res = milp(
        np.r_[ins.cost[sel], np.full(n, ins.unplaced)],
        integrality=np.ones(k + n),
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(one, 1, 1),
            LinearConstraint(cap, -np.inf, ins.free),
            LinearConstraint(cut, -np.inf, values + 1e-6 * np.abs(values) + 1e-6),
        ],
        options={"mip_rel_gap": 1e-4, "time_limit": limit},
    )
    seconds = time.perf_counter() - t0
    if res.x is None:
        return np.nan, np.nan, seconds
    return float(res.fun), float(res.fun * (1 - res.mip_gap)), seconds


def main() -> None:
    from zoning.placement import _Columns, _prices, _Safety, solve_placement

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--milp-limit", type=float, default=120.0)
    parser.add_argument("--upper", default="", help="best objectives known, SEED:VALUE,...")
    parser.add_argument(
        "--dp", action="store_true", help="price by the capacity DP (the slow reference)"
    )
    args = parser.parse_args()
    known = {int(s): float(v) for s, v in (p.split(":") for p in args.upper.split(",") if p)}
    print(
        "| seed | ours objective | ours bound | best known | DW bound | DW rounds (s) | "
        "master | fractional movers | best − DW | pairs kept | reduced HiGHS objective | "
        "its bound | s |"
    )
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|")
    for seed in [int(s) for s in args.seeds.split(",")]:
        inst = tight_instance(seed)
        ins = Instance(inst)
        park, _, gap, ours = solve_placement(
            inst["cost"], inst["area"], inst["free"], inst["unplaced"], 1e-4, 600.0
        )
        upper = min(ours, known.get(seed, np.inf))
        cost = sp.coo_matrix(inst["cost"])
        cost.sum_duplicates()
        cols = _Columns(cost, inst["area"], inst["unplaced"])
        prices, _, _ = _prices(cols, inst["free"], _Safety(600.0))
        k = cols.k
        priced = cols.cost[:k] + prices[cols.park[:k]] * cols.area[cols.item[:k]]
        u0 = np.full(ins.n, inst["unplaced"])
        np.minimum.at(u0, cols.item[:k], priced)
        t0 = time.perf_counter()
        bound, u, master, rounds, fractional = column_generation(
            ins, park, u0, args.rounds, args.alpha, args.dp
        )
        seconds = time.perf_counter() - t0
        if bound >= upper * (1 - 1e-4):  # the bound alone proves the best known to 1e-4
            tail = "— | bound proves 1e-4 | | |"
        else:
            keep, values, _ = probe(ins, u, upper * (1 - 1e-4), args.dp)
            obj, sub_bound, sub_s = reduced_milp(ins, keep, u, values, args.milp_limit)
            tail = (
                f"{int(keep.sum())} of {keep.size} | {obj:,.0f} | {sub_bound:,.0f} | {sub_s:.1f} |"
            )
        print(
            f"| {seed} | {ours:,.0f} | {ours * (1 - gap):,.0f} | {upper:,.0f} | {bound:,.0f} | "
            f"{rounds} ({seconds:.1f}) | {master:,.0f} | {fractional} | "
            f"{(upper - bound) / upper:.1e} | {tail}",
            flush=True,
        )


if __name__ == "__main__":
    main()
