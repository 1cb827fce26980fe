"""Other exact solvers on the tight placement instances, beside plain ``milp`` (issue 13).

    PYTHONPATH=. .venv/bin/python bench/tight_solvers.py --seeds 1,0 --limit 120
        [--solvers milp,scip,scip-reduced,cpsat] [--cpsat-workers 1]

An experiment, not part of the toolkit: SCIP (``pyscipopt``) and OR-Tools CP-SAT
(``ortools``) are *not* dependencies of ``zoning``; install them by hand to run this
(``pip install pyscipopt ortools``). Every solver gets the same instance of
``bench/tight.py`` in the same run, the same relative gap (1e-4) and the same wall-clock
limit, one after the other, and prints its objective (checked against every park's
capacity by :func:`tight.check`), its proven bound and gap, and its seconds:

- ``milp``: :func:`tight.plain_milp` (HiGHS through scipy), the reference.
- ``scip``: the same integer program in SCIP, one thread, random seed shift 0; floor
  areas and free space in whole 0.1 m² (the sample's areas are whole 0.1 m², so exact), so
  SCIP sees the capacity rows as knapsacks and separates its (lifted) cover cuts.
- ``scip-reduced``: ours first (:func:`zoning.placement.solve_placement`), then SCIP on
  the reduced problem of ours' step 3 (every pair whose reduced cost under the
  relaxation's prices exceeds ours' objective less the relaxation's bound dropped: every
  better solution is kept) with ours as the start. The seconds printed are SCIP's alone.
- ``cpsat``: CP-SAT with ``--cpsat-workers`` workers (``interleave_search`` when more than
  one, which keeps it deterministic), distances floored to 0.1 m (so its bound, divided by
  10, is a bound of the true problem; the gap is on the true objective).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tight import check, plain_milp, tight_instance  # noqa: E402

STEP = 10  # 0.1 m² per unit of area; 0.1 m per unit of distance (CP-SAT)


def _rows(item: np.ndarray, park: np.ndarray, n: int, m: int):
    by_item: list[list[int]] = [[] for _ in range(n)]
    by_park: list[list[int]] = [[] for _ in range(m)]
    for t, (i, j) in enumerate(zip(item.tolist(), park.tolist(), strict=True)):
        by_item[i].append(t)
        if j >= 0:
            by_park[j].append(t)
    return by_item, by_park


def scip(
    inst: dict,
    gap: float,
    limit: float,
    keep: np.ndarray | None = None,
    start: np.ndarray | None = None,
):
    """SCIP on the pairs (and 'unplaced' columns) ``keep`` (all when None), from
    ``start`` (park per mover) when given. Returns (park, objective, bound, seconds, status)."""
    from pyscipopt import Model, quicksum

    cost = inst["cost"].tocoo()
    n, m = cost.shape
    item = np.r_[cost.row, np.arange(n)]
    park = np.r_[cost.col, np.full(n, -1)]
    price = np.r_[cost.data, np.full(n, inst["unplaced"])]
    cols = np.arange(item.size) if keep is None else np.flatnonzero(keep)
    item, park, price = item[cols], park[cols], price[cols]
    t0 = time.perf_counter()
    model = Model()
    model.hideOutput()
    model.setParam("limits/time", limit)
    model.setParam("limits/gap", gap)
    model.setParam("parallel/maxnthreads", 1)
    model.setParam("randomization/randomseedshift", 0)
    x = [model.addVar(vtype="B", obj=float(c)) for c in price]
    by_item, by_park = _rows(item, park, n, m)
    weight = np.round(inst["area"] * STEP).astype(np.int64)
    room = np.floor(inst["free"] * STEP + 1e-6).astype(np.int64)
    for i in range(n):
        model.addCons(quicksum(x[t] for t in by_item[i]) == 1)
    for j in range(m):
        if by_park[j]:
            model.addCons(quicksum(int(weight[item[t]]) * x[t] for t in by_park[j]) <= int(room[j]))
    if start is not None:
        sol = model.createSol()
        for t in range(cols.size):
            model.setSolVal(sol, x[t], float(start[item[t]] == park[t]))
        model.addSol(sol)
    model.optimize()
    seconds = time.perf_counter() - t0
    best = model.getBestSol()
    out = np.full(n, -1)
    for t in range(cols.size):
        if park[t] >= 0 and model.getSolVal(best, x[t]) > 0.5:
            out[item[t]] = park[t]
    return out, check(inst, out), model.getDualbound(), seconds, model.getStatus()


def reduced(inst: dict):
    """Ours, then the reduced problem of its step 3: (ours' park, keep mask, seconds)."""
    from zoning import placement as P

    t0 = time.perf_counter()
    park, _, _, upper = P.solve_placement(
        inst["cost"], inst["area"], inst["free"], inst["unplaced"], 1e-4, 600.0
    )
    cols = P._Columns(inst["cost"].tocoo(), inst["area"], inst["unplaced"])
    prices, bound, nu = P._prices(cols, inst["free"], P._Safety(600.0))
    _, red = P._lagrangian(cols, prices, inst["free"], nu, P._most_placed(cols, inst["free"]))
    return park, red <= upper - bound + 1e-6, time.perf_counter() - t0


def cpsat(inst: dict, gap: float, limit: float, workers: int):
    """CP-SAT, distances floored to 0.1 m. Returns (park, objective, bound, seconds, status)."""
    from ortools.sat.python import cp_model

    cost = inst["cost"].tocoo()
    n, m = cost.shape
    t0 = time.perf_counter()
    model = cp_model.CpModel()
    x = [model.NewBoolVar("") for _ in range(cost.nnz)]
    y = [model.NewBoolVar("") for _ in range(n)]
    by_item, by_park = _rows(cost.row, cost.col, n, m)
    weight = np.round(inst["area"] * STEP).astype(np.int64)
    room = np.floor(inst["free"] * STEP + 1e-6).astype(np.int64)
    for i in range(n):
        model.AddExactlyOne([x[t] for t in by_item[i]] + [y[i]])
    for j in range(m):
        model.Add(sum(int(weight[cost.row[t]]) * x[t] for t in by_park[j]) <= int(room[j]))
    scaled = np.floor(cost.data * STEP).astype(np.int64)
    model.Minimize(
        sum(int(c) * v for c, v in zip(scaled.tolist(), x, strict=True))
        + int(inst["unplaced"] * STEP) * sum(y)
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.interleave_search = workers > 1
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.relative_gap_limit = gap * 0.9
    status = solver.Solve(model)
    seconds = time.perf_counter() - t0
    out = np.full(n, -1)
    for t in range(cost.nnz):
        if solver.BooleanValue(x[t]):
            out[cost.row[t]] = cost.col[t]
    return (
        out,
        check(inst, out),
        solver.BestObjectiveBound() / STEP,
        seconds,
        solver.StatusName(status),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,0")
    parser.add_argument("--limit", type=float, default=120.0)
    parser.add_argument("--solvers", default="milp,scip,scip-reduced,cpsat")
    parser.add_argument("--cpsat-workers", type=int, default=1)
    args = parser.parse_args()
    print("| seed | solver | s | objective | bound | gap | status |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for seed in [int(s) for s in args.seeds.split(",")]:
        inst = tight_instance(seed)
        for name in args.solvers.split(","):
            if name == "milp":
                _, obj, mgap, sec, msg = plain_milp(
                    inst["cost"], inst["area"], inst["free"], inst["unplaced"], 1e-4, args.limit
                )
                bound, status = obj * (1 - mgap), msg
            elif name == "scip":
                _, obj, bound, sec, status = scip(inst, 1e-4, args.limit)
            elif name == "scip-reduced":
                start, keep, ours = reduced(inst)
                _, obj, bound, sec, status = scip(inst, 1e-4, args.limit, keep, start)
                status = f"{status} (after ours, {ours:.1f} s; kept {int(keep.sum())} columns)"
            elif name == "cpsat":
                _, obj, bound, sec, status = cpsat(inst, 1e-4, args.limit, args.cpsat_workers)
            else:
                raise SystemExit(f"unknown solver {name}")
            print(
                f"| {seed} | {name} | {sec:.1f} | {obj:,.0f} | {bound:,.0f} | "
                f"{(obj - bound) / obj:.1e} | {status} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
