"""The per-park knapsack (Lagrangian) bound on tight placement instances (issue 13).

    .venv/bin/python bench/tight_knapsack.py --seed 0 --upper 11939794 [--iterations 100]
        [--milp-limit 120] [--columns 0]
    .venv/bin/python bench/tight_knapsack.py --seed 0 --upper 0 --count

An experiment, not part of the toolkit. Relaxing "each mover at most once" with
multipliers u leaves one 0-1 knapsack per park (profit u_i − cost_ij, weight the floor
area in 0.1 m² — the sample's areas are whole 0.1 m², so the steps are exact — capacity
the free space rounded down): L(u) = Σ_i min(u_i, unplaced) − Σ_j KP_j(u), a valid bound
for any u. u starts from the linear relaxation's prices (zoning.placement) and follows
``--iterations`` subgradient steps (Polyak step towards ``--upper``, a known objective).
Then every pair whose Lagrangian reduced cost (KP_j − profit_ij − KP_j at the capacity
less the mover's area) exceeds upper − L is dropped, and the reduced problem is handed to
plain ``scipy.optimize.milp`` (bench/tight.py). ``--columns N`` instead runs N rounds of
Dantzig–Wolfe column generation (knapsack columns, the subgradient's sets as the first
pool, Wentges smoothing 0.3) and prints the restricted master's value, an upper estimate
of the Dantzig–Wolfe bound.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

STEP = 0.1


def knapsack(weight: np.ndarray, profit: np.ndarray, capacity: int):
    """0-1 knapsack by dynamic programming: best value per capacity, items taken at full.

    ``best[c]`` is the best value within capacity c, for every c (filled up from the
    reach of the items so far, which the first version left at 0: that version's values
    were too low whenever the capacity was not reached by the items' total weight).
    """
    best = np.zeros(capacity + 1)
    keep = np.zeros((weight.size, capacity + 1), dtype=bool)
    reach = 0
    reached = np.zeros(weight.size, dtype=np.int64)
    for i, w in enumerate(weight.tolist()):
        if w > capacity:
            reached[i] = reach
            continue
        # best[c] for c above the old reach is the best at the old reach (no item more
        # fits there yet): without this, the sets not holding item i were lost there.
        before, reach = reach, min(reach + w, capacity)
        best[before + 1 : reach + 1] = best[before]
        reached[i] = reach
        candidate = best[: reach + 1 - w] + profit[i]
        better = candidate > best[w : reach + 1]
        keep[i, w : reach + 1] = better
        best[w : reach + 1] = np.where(better, candidate, best[w : reach + 1])
    best[reach + 1 :] = best[reach]
    take = np.zeros(weight.size, dtype=bool)
    room = capacity
    for i in range(weight.size - 1, -1, -1):
        room = min(room, int(reached[i]))
        if keep[i, room]:
            take[i] = True
            room -= int(weight[i])
    return best, take


def lagrangian(pairs, area, free, unplaced, u):
    """L(u), the pairs the parks' knapsacks take, and each park's value table."""
    item, park, cost = pairs
    weight = np.floor(area / STEP + 1e-6).astype(np.int64)
    capacity = np.floor(np.maximum(free, 0.0) / STEP + 1e-6).astype(np.int64)
    profit = u[item] - cost
    taken = np.zeros(item.size, dtype=bool)
    tables = []
    for j in range(free.size):
        here = np.flatnonzero((park == j) & (profit > 1e-9))
        table, take = knapsack(weight[item[here]], profit[here], int(capacity[j]))
        taken[here[take]] = True
        tables.append(table)
    value = float(np.minimum(u, unplaced).sum() - sum(t[-1] for t in tables))
    return value, taken, tables


def count_bounds(inst: dict, seed: int) -> None:
    """The linear relaxation with Σ placed ≤ N or ≥ N (the count of placed movers bounded)
    for N around the relaxation's count, beside the most movers the parks' total room
    could hold (smallest first). A branch whose value is above a known objective holds no
    better solution."""
    from scipy.optimize import linprog

    import zoning.placement as placement

    cost = sp.coo_matrix(inst["cost"])
    (n, m), k = cost.shape, cost.nnz
    c = np.r_[cost.data, np.full(n, inst["unplaced"])]
    one = sp.coo_matrix(
        (np.ones(k + n), (np.r_[cost.row, np.arange(n)], np.arange(k + n))), shape=(n, k + n)
    )
    cap = sp.coo_matrix((inst["area"][cost.row], (cost.col, np.arange(k))), shape=(m, k + n))
    count = sp.coo_matrix(np.r_[np.ones(k), np.zeros(n)][None])

    def relaxation(extra=None, limit=0.0):
        rows = sp.vstack([cap] + ([extra] if extra is not None else []))
        res = linprog(
            c,
            A_ub=rows,
            b_ub=np.r_[inst["free"], [limit] if extra is not None else []],
            A_eq=one,
            b_eq=np.ones(n),
            bounds=(0, 1),
            method="highs",
        )
        return (float(res.fun), res.x) if res.status == 0 else (np.inf, None)

    value, x = relaxation()
    placed = float(x[:k].sum())
    cols = placement._Columns(cost, inst["area"], inst["unplaced"])
    most = placement._most_placed(cols, inst["free"])
    floor = int(placed)
    print(
        f"seed {seed}: relaxation {value:,.0f}, {placed:.2f} placed, at most {most} "
        f"placeable; count row in zoning.placement: "
        f"{placement._prices(cols, inst['free'], placement._Safety(60.0))[1]:,.0f}"
    )
    for limit in range(floor - 2, floor + 2):
        below, _ = relaxation(count, limit)
        above, _ = relaxation(-count, -(limit + 1))
        print(f"  placed ≤ {limit}: {below:,.0f}   placed ≥ {limit + 1}: {above:,.0f}")


def main() -> None:
    import highspy
    from tight import plain_milp, tight_instance

    import zoning.placement as placement

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--upper", type=float, required=True, help="a known objective")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--milp-limit", type=float, default=120.0)
    parser.add_argument("--columns", type=int, default=0)
    parser.add_argument(
        "--count",
        action="store_true",
        help="print the relaxation with the count of placed movers bounded",
    )
    args = parser.parse_args()
    inst = tight_instance(args.seed)
    if args.count:
        count_bounds(inst, args.seed)
        return
    cost = sp.coo_matrix(inst["cost"])
    cost.sum_duplicates()
    cols = placement._Columns(cost, inst["area"], inst["unplaced"])
    free, n, m, k, upper = inst["free"], cols.n, cols.m, cols.k, args.upper
    t0 = time.perf_counter()
    prices, lp_bound, nu = placement._prices(cols, free, placement._Safety(60.0))
    priced = (
        cols.cost
        + np.where(cols.park >= 0, prices[np.maximum(cols.park, 0)], 0.0) * cols.area[cols.item]
    )
    u = np.full(n, np.inf)
    np.minimum.at(u, cols.item, priced)
    pairs = (cols.item[:k], cols.park[:k], cols.cost[:k])
    best, best_u, theta, stall, pool = -np.inf, u, 1.0, 0, []
    for _ in range(args.iterations):
        value, taken, _ = lagrangian(pairs, cols.area, free, inst["unplaced"], u)
        pool += [(j, np.flatnonzero(taken & (pairs[1] == j))) for j in range(m)]
        if value > best + 1e-6:
            best, best_u, stall = value, u.copy(), 0
        else:
            stall += 1
            if stall >= 8:
                theta, stall = theta / 1.5, 0
        step = 1 - np.bincount(pairs[0][taken], minlength=n) - (u > inst["unplaced"])
        if not step.any():
            break
        u = u + theta * (upper - value) / float(step @ step) * step
    print(
        f"seed {args.seed}: {n} movers, {m} parks, {k} pairs; LP bound {lp_bound:,.0f} "
        f"(gap {(upper - lp_bound) / upper:.1e}); knapsack bound after {args.iterations} "
        f"steps {best:,.0f} (gap {(upper - best) / upper:.1e}), "
        f"{time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    if args.columns:
        master = highspy.Highs()
        master.setOptionValue("output_flag", False)
        none = np.array([], dtype=np.int32)
        master.addRows(n, np.ones(n), np.ones(n), 0, none, none, np.array([]))
        master.addRows(m, np.full(m, -highspy.kHighsInf), np.ones(m), 0, none, none, np.array([]))
        everyone = np.arange(n, dtype=np.int32)
        master.addCols(
            n,
            np.full(n, inst["unplaced"]),
            np.zeros(n),
            np.full(n, highspy.kHighsInf),
            n,
            everyone,
            everyone,
            np.ones(n),
        )
        seen = set()

        def add(j, members):
            if (j, tuple(members)) in seen:
                return False
            seen.add((j, tuple(members)))
            index = np.r_[pairs[0][members], n + j].astype(np.int32)
            master.addCols(
                1,
                np.array([pairs[2][members].sum()]),
                np.zeros(1),
                np.array([highspy.kHighsInf]),
                index.size,
                np.zeros(1, dtype=np.int32),
                index,
                np.ones(index.size),
            )
            return True

        for j, members in pool:
            add(j, members)
        centre = best_u
        for _ in range(args.columns):
            master.run()
            dual = np.asarray(master.getSolution().row_dual)
            smooth = 0.3 * centre + 0.7 * dual[:n]
            value, taken, _ = lagrangian(pairs, cols.area, free, inst["unplaced"], smooth)
            if value > best:
                best, centre = value, smooth
            for j in range(m):
                members = np.flatnonzero(taken & (pairs[1] == j))
                if pairs[2][members].sum() - dual[pairs[0][members]].sum() - dual[n + j] < -1e-6:
                    add(j, members)
        master.run()
        value = master.getInfo().objective_function_value
        print(
            f"column generation, {args.columns} rounds: restricted master {value:,.0f} "
            f"(≥ the Dantzig–Wolfe bound; {(upper - value) / upper:.1e} below upper), "
            f"knapsack bound {best:,.0f}, {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        return
    value, _, tables = lagrangian(pairs, cols.area, free, inst["unplaced"], best_u)
    weight = np.floor(cols.area / STEP + 1e-6).astype(np.int64)
    capacity = np.floor(np.maximum(free, 0.0) / STEP + 1e-6).astype(np.int64)
    reduced = np.empty(k)
    for j in range(m):
        here = np.flatnonzero(pairs[1] == j)
        rest = tables[j][np.maximum(capacity[j] - weight[pairs[0][here]], 0)]
        reduced[here] = tables[j][-1] - (best_u[pairs[0][here]] - pairs[2][here]) - rest
    keep = reduced <= upper - value + 1e-6
    _, lp_reduced = placement._lagrangian(
        cols, prices, free, nu, placement._most_placed(cols, free)
    )
    print(
        f"pairs kept by reduced cost: knapsack bound {int(keep.sum())}, LP bound "
        f"{int((lp_reduced[:k] <= upper - lp_bound).sum())} of {k}",
        flush=True,
    )
    sub = sp.coo_matrix((pairs[2][keep], (pairs[0][keep], pairs[1][keep])), shape=(n, m))
    _, objective, gap, seconds, message = plain_milp(
        sub, cols.area, free, inst["unplaced"], 1e-4, args.milp_limit
    )
    print(
        f"reduced problem to plain milp: objective {objective:,.0f}, its gap {gap:.1e}, "
        f"{seconds:.1f} s ({message}); gap to the knapsack bound "
        f"{(objective - value) / objective:.1e}"
    )


if __name__ == "__main__":
    main()
