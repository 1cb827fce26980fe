"""The placement solver (SPEC §6) on tight instances: the gap it reports is a true bound
(against brute force and an exact ``scipy.optimize.milp``), and the same problem gives
the same placement under CPU load (deterministic work limits, issue 13)."""

from __future__ import annotations

import itertools
import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pytest

from zoning.placement import SAFETY, solve_placement

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from tight import check, plain_milp, tight_instance  # noqa: E402


def brute_force(inst: dict) -> float:
    """The optimum by trying every assignment (park or unplaced) of every mover."""
    table = inst["cost"].toarray()
    allowed = np.zeros(table.shape, dtype=bool)
    allowed[inst["cost"].row, inst["cost"].col] = True
    n, m = table.shape
    best = np.inf
    for choice in itertools.product(range(-1, m), repeat=n):
        park = np.array(choice)
        placed = park >= 0
        if not allowed[np.flatnonzero(placed), park[placed]].all():
            continue
        used = np.bincount(park[placed], weights=inst["area"][placed], minlength=m)
        if (used <= inst["free"] + 1e-9).all():
            best = min(
                best,
                table[np.flatnonzero(placed), park[placed]].sum()
                + inst["unplaced"] * (~placed).sum(),
            )
    return best


def solve(inst: dict, gap: float = 1e-4):
    return solve_placement(inst["cost"], inst["area"], inst["free"], inst["unplaced"], gap, 120.0)


@pytest.mark.parametrize("seed", range(6))
def test_tight_small_cases_match_brute_force(seed):
    inst = tight_instance(seed, movers=(7, 7), parks=(2, 2))
    best = brute_force(inst)
    park, status, gap, objective = solve(inst, 0.0)
    assert objective == pytest.approx(check(inst, park))
    assert status == "optimal within gap"
    assert objective == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 2])
def test_proven_gap_holds_against_the_exact_milp(seed):
    """60–150 movers, free space 40–70 % of demand: the reported gap bounds the truth."""
    inst = tight_instance(seed, movers=(60, 150), parks=(3, 6))
    assert 60 <= inst["area"].size <= 150
    _, best, milp_gap, _, _ = plain_milp(
        inst["cost"], inst["area"], inst["free"], inst["unplaced"], 0.0, 120.0
    )
    assert milp_gap <= 1e-9
    park, status, gap, objective = solve(inst)
    assert status != SAFETY
    assert objective == pytest.approx(check(inst, park))
    assert objective >= best - 1e-6
    assert (objective - best) / objective <= gap + 1e-12


def _relaxation(inst: dict) -> float:
    """The plain linear relaxation's value (no count row), by scipy's HiGHS."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    cost = inst["cost"]
    (n, m), k = cost.shape, cost.nnz
    one = sp.coo_matrix(
        (np.ones(k + n), (np.r_[cost.row, np.arange(n)], np.arange(k + n))), shape=(n, k + n)
    )
    cap = sp.coo_matrix((inst["area"][cost.row], (cost.col, np.arange(k))), shape=(m, k + n))
    res = linprog(
        np.r_[cost.data, np.full(n, inst["unplaced"])],
        A_ub=cap,
        b_ub=inst["free"],
        A_eq=one,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    return float(res.fun)


def test_count_row_lifts_the_bound_and_stays_below_the_optimum():
    """Tight counties: the relaxation places more movers than the parks' total room allows
    for (sorted smallest first); the count row's bound is above the plain relaxation's and
    never above the exact optimum (scipy milp at gap 0)."""
    import scipy.sparse as sp

    from zoning.placement import _Columns, _most_placed, _prices, _Safety

    lifted = 0
    for seed in range(12):
        inst = tight_instance(seed, movers=(7, 7), parks=(2, 2))
        cols = _Columns(sp.coo_matrix(inst["cost"]), inst["area"], inst["unplaced"])
        _, bound, nu = _prices(cols, inst["free"], _Safety(60.0))
        park, best, milp_gap, _, _ = plain_milp(
            inst["cost"], inst["area"], inst["free"], inst["unplaced"], 0.0, 60.0
        )
        assert milp_gap <= 1e-9
        plain = _relaxation(inst)
        assert plain - 1e-6 <= bound <= best + 1e-6
        assert (park >= 0).sum() <= _most_placed(cols, inst["free"])
        lifted += nu > 0 and bound > plain + 1.0
    assert lifted >= 6


def test_lagrangian_with_a_count_price_is_a_bound_for_any_prices():
    import scipy.sparse as sp

    from zoning.placement import _Columns, _lagrangian, _most_placed

    rng = np.random.default_rng(7)
    for seed in range(4):
        inst = tight_instance(seed, movers=(6, 6), parks=(2, 2))
        best = brute_force(inst)
        cols = _Columns(sp.coo_matrix(inst["cost"]), inst["area"], inst["unplaced"])
        most = _most_placed(cols, inst["free"])
        for _ in range(50):
            bound, reduced = _lagrangian(
                cols, rng.uniform(0, 500, 2), inst["free"], float(rng.uniform(0, 100_000)), most
            )
            assert bound <= best + 1e-6
            assert reduced.min() >= -1e-9


def _spin(stop):
    while not stop.is_set():
        sum(range(10_000))


def test_same_placement_under_cpu_load():
    inst = tight_instance(2, movers=(60, 150), parks=(3, 6))
    quiet = solve(inst)
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(2)]
    for process in busy:
        process.start()
    try:
        loaded = solve(inst)
    finally:
        stop.set()
        for process in busy:
            process.join()
    assert SAFETY not in (quiet[1], loaded[1])
    np.testing.assert_array_equal(quiet[0], loaded[0])
    assert quiet[1:] == loaded[1:]


def test_the_sample_gives_byte_identical_workshop_outputs_under_load(tmp_path):
    """Two runs of `zoning workshops` on the sample with the demo's profile, the second
    beside two busy processes: every output file is byte-identical (run.json records the
    command and timings, so it is the one file that differs) and the gap reaches 1e-4."""
    import hashlib
    import json
    import subprocess

    root = Path(__file__).resolve().parents[1]

    def run(out):
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "zoning",
                "workshops",
                str(root / "data" / "sample_county.gpkg"),
                "--config",
                str(root / "data" / "cixi.toml"),
                "--out",
                str(out),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, res.stderr
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir())
            if p.name != "workshop_run.json"
        }

    quiet = run(tmp_path / "a")
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(2)]
    for process in busy:
        process.start()
    try:
        loaded = run(tmp_path / "b")
    finally:
        stop.set()
        for process in busy:
            process.join()
    assert set(quiet) == {
        "workshops.gpkg",
        "workshops.xlsx",
        "workshop_towns.csv",
        "workshop_issues.csv",
        "power_list.csv",
    }
    assert quiet == loaded
    log = json.loads((tmp_path / "b" / "workshop_run.json").read_text(encoding="utf-8"))
    assert log["placement"]["status"] == "optimal within gap", log["placement"]
    assert log["placement"]["mip_gap"] <= 1e-4


def test_small_counties_get_more_work_and_large_ones_the_same():
    """The integer steps' budget: WORK less WORK_PER_PAIR a pair, plus SMALL_WORK tapering
    linearly to nothing at SMALL_PAIRS pairs, so counties from SMALL_PAIRS pairs up (the
    sample: 194,256; 20,000 × 50: 877,750) keep the budget they had, and it never jumps."""
    import zoning.placement as placement

    def before(pairs):
        return placement.WORK - placement.WORK_PER_PAIR * pairs

    small = placement.SMALL_PAIRS
    for pairs in (small, small + 1, 194_256, 877_750):
        assert placement._work(pairs) == before(pairs)
    assert placement._work(0) == placement.WORK + placement.SMALL_WORK
    assert placement._work(2_075) > before(2_075) + 0.85 * placement.SMALL_WORK
    steps = np.diff([placement._work(p) for p in range(0, small + 2_000, 100)])
    assert (steps < 0).all() and np.abs(steps).max() <= 100 * (
        placement.WORK_PER_PAIR + placement.SMALL_WORK / small
    ) + 1e-6
