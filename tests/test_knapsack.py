"""The exact 0-1 knapsack of the tight-instance experiments (bench/knapsack.py, issue 13):
against brute force on small cases and against a dynamic programme over capacity on
mid-size ones. Not part of the toolkit (the placement solver does not use it), tested
because the bounds BENCHMARKS.md reports rest on it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import knapsack  # noqa: E402


def brute(weight, profit, capacity):
    """Every subset: the best value, and the best value with each item forced in."""
    n = weight.size
    sets = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(bool)
    fits = sets @ weight <= capacity
    value = np.where(fits, sets @ profit, -np.inf)
    best = max(float(value.max()), 0.0)
    forced = np.array([value[sets[:, i]].max() for i in range(n)]) if n else np.zeros(0)
    return best, forced


def table(weight, profit, capacity):
    """Best value within every capacity 0..capacity (0-1, one numpy step per item)."""
    best = np.zeros(capacity + 1)
    for w, p in zip(weight.tolist(), profit.tolist(), strict=True):
        if w <= capacity and p > 0:
            best[w:] = np.maximum(best[w:], best[: capacity + 1 - w] + p)
    return best


def dp_forced(weight, profit, capacity):
    """The best value with each item forced in: its profit plus the best of the others
    within the room left, from capacity tables of the items before it and after it."""

    def step(best, w, p):
        if w <= capacity and p > 0:
            best = best.copy()
            best[w:] = np.maximum(best[w:], best[: capacity + 1 - w] + p)
        return best

    n = weight.size
    ahead = [np.zeros(capacity + 1)]
    for i in range(n - 1):
        ahead.append(step(ahead[-1], int(weight[i]), float(profit[i])))
    forced = np.full(n, -np.inf)
    after = np.zeros(capacity + 1)
    for i in range(n - 1, -1, -1):
        room = capacity - int(weight[i])
        if room >= 0:
            forced[i] = profit[i] + np.max(ahead[i][: room + 1] + after[room::-1])
        after = step(after, int(weight[i]), float(profit[i]))
    return forced


def random_case(rng, n, kind):
    weight = rng.integers(1, 30, n)
    if kind == "ties":
        profit = rng.integers(-2, 6, n).astype(float)
    elif kind == "ratio":  # every item the same efficiency: a subset sum
        profit = 2.5 * weight
    else:
        profit = rng.normal(4.0, 4.0, n)
        profit[rng.random(n) < 0.15] = 0.0
    capacity = int(rng.choice([0, rng.integers(1, 60), 10 * 30, rng.integers(0, 150)]))
    return weight, profit, capacity


def check_set(weight, profit, capacity, value, take):
    assert take.dtype == bool and take.shape == weight.shape
    assert weight[take].sum() <= capacity
    assert not take[profit <= 0].any()
    assert profit[take].sum() == pytest.approx(value, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("kind", ["normal", "ties", "ratio"])
def test_solve_equals_brute_force(kind):
    rng = np.random.default_rng(["normal", "ties", "ratio"].index(kind))
    for _ in range(150):
        weight, profit, capacity = random_case(rng, int(rng.integers(0, 15)), kind)
        value, take = knapsack.solve(weight, profit, capacity)
        best, _ = brute(weight, profit, capacity)
        assert value == pytest.approx(best, rel=1e-9, abs=1e-9)
        check_set(weight, profit, capacity, value, take)


def test_edge_cases():
    w = np.array([5, 3, 8], dtype=np.int64)
    p = np.array([4.0, -1.0, 0.0])
    assert knapsack.solve(w, p, 0)[0] == 0.0 and not knapsack.solve(w, p, 0)[1].any()
    value, take = knapsack.solve(w, p, 100)  # all fit: the positive ones only
    assert value == 4.0 and take.tolist() == [True, False, False]
    value, take = knapsack.solve(np.array([7, 2]), np.array([9.0, 1.0]), 6)  # too heavy
    assert value == 1.0 and take.tolist() == [False, True]
    value, take = knapsack.solve(np.zeros(0, dtype=np.int64), np.zeros(0), 10)
    assert value == 0.0 and take.size == 0


def test_ties_break_the_same_way_every_time():
    weight = np.full(12, 4, dtype=np.int64)
    profit = np.full(12, 3.0)
    first = knapsack.solve(weight, profit, 18)
    assert first[0] == 12.0 and first[1].sum() == 4
    for _ in range(3):
        again = knapsack.solve(weight.copy(), profit.copy(), 18)
        assert again[0] == first[0] and np.array_equal(again[1], first[1])
    assert first[1].tolist() == [True] * 4 + [False] * 8  # the lowest indices first


@pytest.mark.parametrize(
    "weight, profit, capacity",
    [
        (np.array([1, -2]), np.array([1.0, 1.0]), 3),
        (np.array([1.5, 2.0]), np.array([1.0, 1.0]), 3),
        (np.array([1, 2]), np.array([1.0, np.nan]), 3),
        (np.array([1, 2]), np.array([1.0]), 3),
        (np.array([1, 2]), np.array([1.0, 2.0]), -1),
    ],
)
def test_bad_input_is_refused(weight, profit, capacity):
    with pytest.raises(ValueError):
        knapsack.solve(weight, profit, capacity)


def mid_case(rng, kind):
    """Mid-size cases like the tight placement instances (weights in 0.1 m²)."""
    n = int(rng.integers(60, 301))
    weight = rng.integers(50, 15_001, n)
    capacity = int(rng.integers(1, 150_001))
    if kind == "tied":  # a relaxation's prices: many items at the park's price exactly
        rate = float(rng.uniform(10, 40))
        profit = rate * weight * np.where(rng.random(n) < 0.3, 1.0, rng.uniform(0.2, 0.99, n))
    elif kind == "correlated":
        profit = weight * 20.0 + rng.uniform(-500, 500, n)
    else:
        profit = rng.uniform(0, 1, n) * weight * 30 - rng.uniform(0, 30_000, n)
    return weight, profit, capacity


@pytest.mark.parametrize("kind", ["random", "tied", "correlated"])
def test_solve_equals_the_capacity_dp(kind):
    rng = np.random.default_rng(10 + ["random", "tied", "correlated"].index(kind))
    for _ in range(4):
        weight, profit, capacity = mid_case(rng, kind)
        value, take = knapsack.solve(weight, profit, capacity)
        best = table(weight, profit, capacity)[-1]
        assert value == pytest.approx(best, rel=1e-6)
        check_set(weight, profit, capacity, value, take)


@pytest.mark.parametrize("kind", ["normal", "ties", "ratio"])
def test_forced_in_equals_brute_force(kind):
    rng = np.random.default_rng(20 + ["normal", "ties", "ratio"].index(kind))
    for _ in range(120):
        weight, profit, capacity = random_case(rng, int(rng.integers(0, 13)), kind)
        _, exact = brute(weight, profit, capacity)
        got = knapsack.forced_in(weight, profit, capacity)
        np.testing.assert_allclose(got, exact, rtol=1e-9, atol=1e-9)


def test_forced_in_above_a_floor_is_exact_and_an_upper_bound_below():
    rng = np.random.default_rng(30)
    for _ in range(200):
        weight, profit, capacity = random_case(rng, int(rng.integers(1, 13)), "normal")
        best, exact = brute(weight, profit, capacity)
        floor = best - float(rng.uniform(0, 8))
        got = knapsack.forced_in(weight, profit, capacity, floor)
        above = exact > floor + 1e-9
        np.testing.assert_allclose(got[above], exact[above], rtol=1e-9, atol=1e-9)
        assert (got[~above] <= floor + 1e-9).all()
        assert (got[~above] >= exact[~above] - 1e-9).all()


@pytest.mark.parametrize("kind", ["random", "tied", "correlated"])
def test_forced_in_equals_the_dp_with_the_item_included(kind):
    """Mid-size cases (capacity kept to 30,000 so that the tables of every prefix fit)."""
    rng = np.random.default_rng(40 + ["random", "tied", "correlated"].index(kind))
    for _ in range(2):
        weight, profit, _ = mid_case(rng, kind)
        weight, profit = weight[:120], profit[:120]
        capacity = int(rng.integers(5_000, 30_001))
        exact = dp_forced(weight, profit, capacity)
        got = knapsack.forced_in(weight, profit, capacity)
        scale = float(profit[profit > 0].sum())
        np.testing.assert_allclose(got, exact, rtol=1e-6, atol=1e-9 * scale)
        best = table(weight, profit, capacity)[-1]
        floor = best * 0.99
        cut = knapsack.forced_in(weight, profit, capacity, floor)
        above = exact > floor + 1e-9 * scale
        np.testing.assert_allclose(cut[above], exact[above], rtol=1e-6)
        assert (cut[~above] <= floor + 1e-9 * scale).all()
        assert (cut[~above] >= exact[~above] - 1e-9 * scale).all()


def test_forced_in_is_the_same_every_time_and_holds_the_optimum():
    rng = np.random.default_rng(50)
    weight, profit, capacity = mid_case(rng, "tied")
    value, take = knapsack.solve(weight, profit, capacity)
    first = knapsack.forced_in(weight, profit, capacity, value * 0.995)
    again = knapsack.forced_in(weight.copy(), profit.copy(), capacity, value * 0.995)
    assert np.array_equal(first, again)
    np.testing.assert_allclose(first[take], value, rtol=1e-12)  # the optimum's own items
    assert (first <= value * (1 + 1e-12)).all()


def test_the_most_efficient_item_can_leave_the_break_solution():
    """The search drops items before the break too, down to the first (position 0)."""
    weight = np.array([10, 6, 6, 3], dtype=np.int64)
    profit = np.array([10.5, 6.0, 6.0, 2.0])  # greedy takes item 0; 1 and 2 fill exactly
    value, take = knapsack.solve(weight, profit, 12)
    assert value == 12.0 and take.tolist() == [False, True, True, False]
