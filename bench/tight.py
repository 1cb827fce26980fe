"""Tight placement instances: few parks, free space well below demand (issue 13).

    .venv/bin/python bench/tight.py [--seeds 0,1,2] [--milp-limit 600] [--movers 150,400]
                                    [--parks 5,10]

A seeded generator of hard placement problems (SPEC §6) and a benchmark of
:func:`zoning.placement.solve_placement` against the plain integer program (one binary per
workshop × park plus one per workshop for "unplaced", HiGHS through
``scipy.optimize.milp``) on the same instance in the same run. Each instance has 150–400
moving workshops and 5–10 parks at random points of a county-sized box (60 × 45 km);
the parks' free space is 40–70 % of the movers' floor area; floor areas are drawn from the
sample county's workshops layer, and about 3 % of movers have none (SPEC §6: unplaceable,
left out of the problem, as :func:`zoning.workshops.place` gets them). Costs are straight
distances, the unplaced penalty 100 km, as in :func:`zoning.workshops.place`.
"""

from __future__ import annotations

import argparse
import time
from functools import cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_county.gpkg"
UNPLACED_M = 100_000.0
BOX_M = (60_000.0, 45_000.0)


@cache
def sample_areas() -> np.ndarray:
    """The sample county's workshop floor areas (m², missing ones left out)."""
    import pyogrio

    table = pyogrio.read_dataframe(
        SAMPLE, layer="workshops", read_geometry=False, columns=["floor_area_m2"]
    )
    area = table["floor_area_m2"].to_numpy(dtype=float)
    return np.sort(area[np.isfinite(area)])


def tight_instance(
    seed: int,
    movers: tuple[int, int] = (150, 400),
    parks: tuple[int, int] = (5, 10),
    share: tuple[float, float] = (0.4, 0.7),
) -> dict:
    """One seeded tight instance.

    Returns a dict: ``cost`` (coo movers × parks, an entry per pair where the workshop fits
    the park's free space and costs less than leaving it unplaced), ``area`` (floor area
    per mover, NaN for a few), ``free`` (per park), ``unplaced`` (the penalty), ``share``
    (free space / demand) and ``placeable`` (movers with a floor area: the rows of
    ``cost`` are these movers, in order).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(movers[0], movers[1] + 1))
    m = int(rng.integers(parks[0], parks[1] + 1))
    area = rng.choice(sample_areas(), n)
    area[rng.random(n) < 0.03] = np.nan
    fraction = float(rng.uniform(*share))
    demand = float(np.nansum(area))
    free = (fraction * demand * rng.dirichlet(np.full(m, 3.0))).round(1)
    xy = rng.uniform(0, 1, (n, 2)) * BOX_M
    park_xy = rng.uniform(0, 1, (m, 2)) * BOX_M
    placeable = np.flatnonzero(np.isfinite(area))
    dist = np.hypot(*(xy[placeable, None, :] - park_xy[None, :, :]).transpose(2, 0, 1))
    fits = (area[placeable, None] <= free[None, :]) & (dist < UNPLACED_M)
    w, p = np.nonzero(fits)
    cost = sp.coo_matrix((dist[w, p], (w, p)), shape=(placeable.size, m))
    return {
        "cost": cost,
        "area": area[placeable],
        "free": free,
        "unplaced": UNPLACED_M,
        "share": fraction,
        "placeable": placeable,
        "movers": n,
    }


def plain_milp(
    cost: sp.coo_matrix,
    area: np.ndarray,
    free: np.ndarray,
    unplaced: float,
    gap: float = 1e-4,
    time_limit: float = 600.0,
):
    """The integer program written out for ``scipy.optimize.milp`` (HiGHS), as a user
    would: one binary per allowed pair and one per mover for 'unplaced'.

    Returns (park per mover or -1, objective, proven relative gap, seconds, message).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    cost = sp.coo_matrix(cost)
    n, m = cost.shape
    k = cost.nnz
    t0 = time.perf_counter()
    one = sp.coo_matrix(
        (np.ones(k + n), (np.r_[cost.row, np.arange(n)], np.arange(k + n))), shape=(n, k + n)
    )
    cap = sp.coo_matrix((area[cost.row], (cost.col, np.arange(k))), shape=(m, k + n))
    res = milp(
        np.r_[cost.data, np.full(n, unplaced)],
        integrality=np.ones(k + n),
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(one.tocsr(), 1, 1),
            LinearConstraint(cap.tocsr(), -np.inf, free),
        ],
        options={"mip_rel_gap": gap, "time_limit": time_limit},
    )
    seconds = time.perf_counter() - t0
    park = np.full(n, -1)
    if res.x is None:
        return park, np.nan, np.inf, seconds, res.message
    take = np.flatnonzero(res.x[:k] > 0.5)
    park[cost.row[take]] = cost.col[take]
    return park, float(res.fun), float(res.mip_gap), seconds, res.message


def check(inst: dict, park: np.ndarray) -> float:
    """Objective of ``park``, after checking every park's capacity and every pair."""
    cost, area, free = inst["cost"], inst["area"], inst["free"]
    placed = park >= 0
    used = np.bincount(park[placed], weights=area[placed], minlength=free.size)
    assert (used <= free + 1e-6).all(), "a park is over capacity"
    table = cost.toarray()
    pairs = table[np.flatnonzero(placed), park[placed]]
    assert (pairs > 0).all(), "a placement outside the allowed pairs"
    return float(pairs.sum() + inst["unplaced"] * (~placed).sum())


def main() -> None:
    from zoning.placement import solve_placement

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--milp-limit", type=float, default=600.0)
    parser.add_argument("--no-milp", action="store_true")
    parser.add_argument("--limit", type=float, default=600.0, help="our safety limit, s")
    parser.add_argument("--movers", default="150,400", help="range of movers, LO,HI")
    parser.add_argument("--parks", default="5,10", help="range of parks, LO,HI")
    args = parser.parse_args()
    movers = tuple(int(v) for v in args.movers.split(","))
    parks = tuple(int(v) for v in args.parks.split(","))
    print(
        "| seed | movers | placeable | parks | free/demand | ours s | ours objective | "
        "ours gap | ours status | milp s | milp objective | milp gap | speed-up |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for seed in [int(s) for s in args.seeds.split(",")]:
        inst = tight_instance(seed, movers=movers, parks=parks)
        t0 = time.perf_counter()
        park, status, gap, objective = solve_placement(
            inst["cost"], inst["area"], inst["free"], inst["unplaced"], 1e-4, args.limit
        )
        ours = time.perf_counter() - t0
        assert abs(check(inst, park) - objective) <= 1e-6 * objective
        row = (
            f"| {seed} | {inst['movers']} | {inst['area'].size} | {inst['free'].size} | "
            f"{inst['share']:.2f} | {ours:.2f} | {objective:,.0f} | {gap:.1e} | {status} |"
        )
        if args.no_milp:
            print(row + " | | | |", flush=True)
            continue
        mpark, mobj, mgap, msec, _ = plain_milp(
            inst["cost"], inst["area"], inst["free"], inst["unplaced"], 1e-4, args.milp_limit
        )
        if np.isfinite(mobj):
            check(inst, mpark)
        proved = mgap <= 1e-4
        # a speed-up only means something when ours reached the gap too
        speed = "—" if gap > 1e-4 else f"{msec / ours:.1f}×" if proved else f"> {msec / ours:.1f}×"
        print(
            row + f" {msec:.1f}{'' if proved else ' (limit)'} | {mobj:,.0f} | {mgap:.1e} | "
            f"{speed} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
