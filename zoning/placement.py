"""Placement of moving workshops into micro parks (SPEC §6): a generalised assignment.

    min  Σ cost[i, j]·x[i, j] + unplaced·y[i]
    s.t. Σ_j x[i, j] + y[i] = 1          every mover is placed once or left unplaced
         Σ_i area[i]·x[i, j] ≤ free[j]   no park gets more than its free space
         x, y ∈ {0, 1}

Solved with HiGHS (``highspy``) in three steps, each with a reason:

1. **Bound and prices.** The linear relaxation is solved by column generation (each mover
   starts with its nearest park and "unplaced"; columns with a negative reduced cost are
   added until none is left). Its capacity prices λ give the Lagrangian bound
   ``L(λ) = Σ_i min(unplaced, min_j cost[i, j] + λ_j·area[i]) − Σ_j λ_j·free[j]``, which is
   a valid lower bound for *any* λ ≥ 0, and a reduced cost for every column. On a tight
   county the relaxation may place more movers than the parks could ever hold (the
   smallest movers first, against the parks' total free space): then a count row is added
   and priced too (ν, see :func:`_lagrangian`).
2. **A good solution fast.** Every mover starts on its best column (parks over capacity
   drop their least sure movers, then room left is filled); the movers whose two best
   columns are closest in reduced cost (the ones the relaxation is unsure about) are then
   solved as an integer program, every other mover keeping its column; then each park in
   turn is refilled as a knapsack from its own movers and the unplaced ones that could
   use it. Both repeat while they improve, within deterministic work limits (nodes,
   rounds; see :data:`WORK`): the wall clock only ever acts as a safety stop.
3. **Proof.** Any solution cheaper than the incumbent ``U`` uses only columns with reduced
   cost ≤ ``U − L`` (a solution's cost is at least ``L`` plus its columns' reduced costs),
   so dropping the other columns keeps every better solution: when the movers that still
   have a choice are few enough, that reduced problem is solved exactly and its bound is
   the problem's. The gap reported is ``(U − bound) / U``.

Only columns that can never be in an optimum are left out before step 1 (see
:func:`zoning.workshops.place`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

from .config import DEFAULTS

_log = logging.getLogger(__name__)

#: Movers solved together in step 2 (and the most step 3 takes on).
NEIGHBOURHOOD = 500
#: Work limits. Every limit that decides the answer counts work (branch-and-bound nodes,
#: rounds), never seconds, so the same problem gives the same placement on any machine and
#: under any load (SPEC §6). Nodes of the step-2 neighbourhood MIP:
NEIGHBOURHOOD_NODES = 800
#: Rounds of step 2 at most (each widens the neighbourhood when it stalls).
ROUNDS = 6
#: Park rounds look at movers within this share of the unplaced penalty in reduced cost,
#: and give each park's knapsack at most this many nodes.
PARK_SLACK = 0.3
PARK_NODES = 50
#: Nodes of the exact solve of step 3.
EXACT_NODES = 2_000
#: Work budget of the integer steps (2 and 3), in branch-and-bound nodes × columns of
#: each sub-problem, less WORK_PER_PAIR per candidate pair: a larger county spends more
#: on its relaxation, so its integer steps get less (calibrated so that 20,000 workshops
#: and 50 parks are placed in about 10 s on a 2-core VM and the sample reaches 1e-4).
WORK = 2_000_000
WORK_PER_PAIR = 1.7
#: A county with few candidate pairs (a few hundred movers, a handful of parks: the tight
#: counties of bench/tight.py) gets up to SMALL_WORK more, tapering linearly to none at
#: SMALL_PAIRS pairs: its nodes are few and its relaxation cheap, and 4× the work found
#: better placements there (BENCHMARKS.md, issue 13) in 17–39 s; larger counties, the
#: sample and 20,000 × 50 keep the budget above (their placements unchanged).
SMALL_WORK = 6_000_000
SMALL_PAIRS = 20_000
#: Status when the wall-clock safety stop fired (the answer may then depend on the machine).
SAFETY = "safety time limit reached"


@contextlib.contextmanager
def _stdout_silenced():
    """HiGHS prints a banner on stdout when its first instance is made; keep it quiet."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _Budget:
    """What is left of the integer steps' work budget (nodes × columns), deterministic."""

    def __init__(self, units: float):
        self.left = float(units)

    def nodes(self, columns: int, limit: int) -> int:
        """Node limit for a sub-problem of ``columns`` columns (0: no budget left)."""
        return int(min(limit, self.left // max(columns, 1)))

    def spend(self, nodes: int, columns: int) -> None:
        self.left -= (nodes + 1) * columns


class _Safety:
    """The wall-clock safety stop: only ever passed to HiGHS as ``time_limit`` and checked
    between steps; when it fires the status says so (it never decides a normal answer)."""

    def __init__(self, seconds: float):
        self.deadline = time.perf_counter() + seconds
        self.fired = False

    def left(self) -> float:
        return max(self.deadline - time.perf_counter(), 0.01)

    def out(self) -> bool:
        self.fired = self.fired or time.perf_counter() >= self.deadline
        return self.fired

    def check(self, h) -> None:
        import highspy

        if h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
            self.fired = True


def _highs(safety: _Safety, nodes: int | None = None):
    import highspy

    with _stdout_silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", safety.left())
    h.setOptionValue("random_seed", 0)
    if nodes is not None:
        h.setOptionValue("mip_max_nodes", int(nodes))
    return h


class _Columns:
    """Columns of the placement problem: pairs (mover, park) then one 'unplaced' per mover."""

    def __init__(self, cost: sp.coo_matrix, area: np.ndarray, unplaced_m: float):
        self.n, self.m = cost.shape
        self.k = len(cost.data)
        self.item = np.r_[cost.row, np.arange(self.n)].astype(np.int64)
        self.park = np.r_[cost.col, np.full(self.n, -1)].astype(np.int64)
        self.cost = np.r_[cost.data, np.full(self.n, unplaced_m)].astype(float)
        self.area = np.asarray(area, dtype=float)

    def add_to(
        self,
        h,
        cols: np.ndarray,
        row_of_item: np.ndarray,
        n_rows: int,
        integer: bool = False,
        count_row: int | None = None,
    ) -> None:
        """Add columns ``cols`` to a HiGHS model whose rows are items then parks (then,
        if ``count_row`` is given, the row counting placed movers)."""
        import highspy

        cols = np.asarray(cols, dtype=np.int64)
        pair = self.park[cols] >= 0
        width = 2 if count_row is None else 3
        count = np.where(pair, width, 1)
        starts = np.r_[0, np.cumsum(count)[:-1]].astype(np.int32)
        index = np.empty(int(count.sum()), dtype=np.int32)
        value = np.ones(index.size)
        index[starts] = row_of_item[self.item[cols]]
        second = starts[pair] + 1
        index[second] = n_rows + self.park[cols[pair]]
        value[second] = self.area[self.item[cols[pair]]]
        if count_row is not None:
            index[second + 1] = count_row
        upper = 1.0 if integer else highspy.kHighsInf
        h.addCols(
            cols.size,
            self.cost[cols],
            np.zeros(cols.size),
            np.full(cols.size, upper),
            index.size,
            starts,
            index,
            value,
        )

    def rows(self, h, n_items: int, free: np.ndarray) -> None:
        import highspy

        none = np.array([], dtype=np.int32)
        h.addRows(n_items, np.ones(n_items), np.ones(n_items), 0, none, none, np.array([]))
        h.addRows(
            self.m,
            np.full(self.m, -highspy.kHighsInf),
            np.maximum(free, 0.0),
            0,
            none,
            none,
            np.array([]),
        )


def _most_placed(cols: _Columns, free: np.ndarray) -> int:
    """How many movers can be placed at most: the smallest ones (of those with a park
    they fit) while their total area fits the parks' total free space. Any placement of
    more movers would need more room than all parks have together."""
    usable = np.zeros(cols.n, dtype=bool)
    usable[cols.item[: cols.k]] = True
    total = np.cumsum(np.sort(cols.area[usable]))
    return int(np.searchsorted(total, np.maximum(free, 0.0).sum() * (1 + 1e-12), side="right"))


def _prices(cols: _Columns, free: np.ndarray, safety: _Safety) -> tuple[np.ndarray, float, float]:
    """Capacity prices λ of the linear relaxation by column generation, the price ν of
    the count row, and L(λ, ν).

    The count row (at most :func:`_most_placed` movers placed) is added only when the
    relaxation places more movers than that (tight counties, where it lifts the bound by
    up to a few 1e-3; elsewhere the relaxation is left as it was and ν = 0).
    """
    n, k = cols.n, cols.k
    h = _highs(safety)
    cols.rows(h, n, free)
    order = np.lexsort((cols.cost[:k], cols.item[:k]))
    first = order[np.r_[True, cols.item[order][1:] != cols.item[order][:-1]]] if k else order
    present = np.zeros(k, dtype=bool)
    present[first] = True
    identity = np.arange(n)
    in_model = np.r_[first, k + identity]  # column of the model → our column
    cols.add_to(h, in_model, identity, n)
    best_bound, best_prices, best_nu = -np.inf, np.zeros(cols.m), 0.0
    most = _most_placed(cols, free)
    count_row = None
    while True:
        h.setOptionValue("time_limit", safety.left())
        h.run()
        safety.check(h)
        dual = np.asarray(h.getSolution().row_dual)
        if dual.size != n + cols.m + (count_row is not None):
            break
        prices = np.maximum(-dual[n : n + cols.m], 0.0)
        nu = max(-float(dual[count_row]), 0.0) if count_row is not None else 0.0
        bound, reduced = _lagrangian(cols, prices, free, nu, most)
        if bound > best_bound:
            best_bound, best_prices, best_nu = bound, prices, nu
        price_rc = (
            cols.cost[:k]
            + prices[cols.park[:k]] * cols.area[cols.item[:k]]
            + nu
            - dual[:n][cols.item[:k]]
        )
        new = np.flatnonzero((price_rc < -1e-6) & ~present)
        if new.size == 0 and count_row is None:
            value = np.asarray(h.getSolution().col_value)
            placed = float(value[(in_model < k)[: value.size]].sum()) if value.size else 0.0
            if placed > most + 1e-6:
                # more movers placed than can ever be: add the count row and go on
                pairs = np.flatnonzero(in_model < k).astype(np.int32)
                h.addRow(-_inf(), float(most), pairs.size, pairs, np.ones(pairs.size))
                count_row = n + cols.m
                continue
        if new.size == 0 or safety.out():
            break
        new = new[np.lexsort((price_rc[new], cols.item[new]))]
        new = new[np.r_[True, cols.item[new][1:] != cols.item[new][:-1]]]  # best per mover
        present[new] = True
        in_model = np.r_[in_model, new]
        cols.add_to(h, new, identity, n, count_row=count_row)
    return best_prices, best_bound, best_nu


def _inf() -> float:
    import highspy

    return highspy.kHighsInf


def _lagrangian(
    cols: _Columns, prices: np.ndarray, free: np.ndarray, nu: float = 0.0, most: int = 0
) -> tuple[float, np.ndarray]:
    """L(λ, ν) and every column's reduced cost (≥ 0, 0 for each mover's best column).

    ``nu`` prices the count row (at most ``most`` movers placed): every placement costs
    ν more and the bound gives back ν·most; valid for any λ ≥ 0, ν ≥ 0.
    """
    priced = cols.cost + np.where(
        cols.park >= 0, prices[np.maximum(cols.park, 0)] * cols.area[cols.item] + nu, 0.0
    )
    best = np.full(cols.n, np.inf)
    np.minimum.at(best, cols.item, priced)
    return float(best.sum() - prices @ np.maximum(free, 0.0) - nu * most), priced - best[cols.item]


def _fit(park: np.ndarray, priority: np.ndarray, area: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Keep placements park by park in ``priority`` order while they fit; unplace the rest."""
    park = park.copy()
    order = np.lexsort((priority, park))
    p = park[order]
    size = np.where(p >= 0, area[order], 0.0)
    total = np.cumsum(size)
    group_start = np.r_[True, p[1:] != p[:-1]] if p.size else np.zeros(0, bool)
    before = np.maximum.accumulate(np.where(group_start, total - size, 0.0))
    over = (p >= 0) & (total - before > np.maximum(free, 0.0)[np.maximum(p, 0)] + 1e-9)
    park[order[over]] = -1
    return park


def _fill(cols: _Columns, park: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Place unplaced movers into the room parks have left, while any fits.

    Each round every unplaced mover asks for its nearest park with room for it, and each
    park takes the smallest askers that fit. Every placement lowers the objective (its
    cost is below the unplaced penalty), so this only ever improves a solution.
    """
    k = cols.k
    pair_item, pair_park = cols.item[:k], cols.park[:k]
    for _ in range(20):
        placed = park >= 0
        left = free - np.bincount(park[placed], weights=cols.area[placed], minlength=cols.m)
        fits = np.flatnonzero(~placed[pair_item] & (cols.area[pair_item] <= left[pair_park] + 1e-9))
        if fits.size == 0:
            break
        fits = fits[np.lexsort((cols.cost[fits], pair_item[fits]))]
        fits = fits[np.r_[True, pair_item[fits][1:] != pair_item[fits][:-1]]]
        asks = np.full(cols.n, -1)
        asks[pair_item[fits]] = pair_park[fits]
        taken = _fit(asks, cols.area, cols.area, left)
        park = np.where(taken >= 0, taken, park)
    return park


def _objective(cols: _Columns, chosen: np.ndarray) -> float:
    return float(cols.cost[chosen].sum())


def _chosen_columns(cols: _Columns, park: np.ndarray, lookup) -> np.ndarray:
    """Column index of each mover's current choice (its 'unplaced' column if -1)."""
    placed = park >= 0
    chosen = cols.k + np.arange(cols.n)
    chosen[placed] = lookup(np.flatnonzero(placed), park[placed])
    return chosen


def _sub_problem(
    cols: _Columns,
    free: np.ndarray,
    within: np.ndarray,
    chosen: np.ndarray,
    gap_abs: float,
    safety: _Safety,
    budget: _Budget,
    limit: int,
):
    """Solve exactly the movers with two or more columns in ``within`` (a column mask).

    Every other mover keeps its current column (``chosen``), which is also the start.
    Returns (chosen columns, kept movers' cost + HiGHS's bound on the rest, whether HiGHS
    closed its gap). The bound holds for the whole problem only when ``within`` holds
    every column of reduced cost up to the incumbent's distance from the lower bound (the
    caller knows).
    """
    import highspy

    within = within.copy()
    within[chosen] = True
    count = np.bincount(cols.item[within], minlength=cols.n)
    free_items = np.flatnonzero(count >= 2)
    fixed = np.ones(cols.n, dtype=bool)
    fixed[free_items] = False
    held = chosen[fixed]
    held_pair = held[cols.park[held] >= 0]
    used = np.bincount(
        cols.park[held_pair], weights=cols.area[cols.item[held_pair]], minlength=cols.m
    )
    room = free - used
    held_cost = float(cols.cost[held].sum())
    if free_items.size == 0:
        return chosen, held_cost, True
    sub = np.flatnonzero(within & ~fixed[cols.item])
    nodes = budget.nodes(sub.size, limit)
    if nodes <= 0:
        return chosen, -np.inf, False
    row = np.full(cols.n, -1)
    row[free_items] = np.arange(free_items.size)
    h = _highs(safety, nodes)
    cols.rows(h, free_items.size, room)
    cols.add_to(h, sub, row, free_items.size, integer=True)
    h.changeColsIntegrality(
        sub.size,
        np.arange(sub.size, dtype=np.int32),
        np.full(sub.size, highspy.HighsVarType.kInteger),
    )
    start = highspy.HighsSolution()
    start.col_value = list(np.isin(sub, chosen).astype(float))
    start.value_valid = True
    h.setSolution(start)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", max(gap_abs, 1e-6))
    t0 = time.perf_counter()
    h.run()
    safety.check(h)
    budget.spend(h.getInfo().mip_node_count, sub.size)
    _log.debug(
        "sub-problem: %d movers, %d columns, node limit %d: %s in %.2f s, %d nodes, "
        "objective %.1f, bound %.1f, budget left %.0f",
        free_items.size,
        sub.size,
        nodes,
        h.modelStatusToString(h.getModelStatus()),
        time.perf_counter() - t0,
        h.getInfo().mip_node_count,
        held_cost + h.getInfo().objective_function_value,
        held_cost + h.getInfo().mip_dual_bound,
        budget.left,
    )
    value = np.asarray(h.getSolution().col_value)
    out = chosen.copy()
    if value.size == sub.size and h.getInfo().primal_solution_status == 2:
        take = sub[value > 0.5]
        out[cols.item[take]] = take
    bound = held_cost + float(h.getInfo().mip_dual_bound)
    proved = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return out, bound, proved


def _park_rounds(
    cols: _Columns,
    free: np.ndarray,
    reduced: np.ndarray,
    prices: np.ndarray,
    chosen: np.ndarray,
    upper: float,
    bound: float,
    target: float,
    safety: _Safety,
    budget: _Budget,
) -> tuple[np.ndarray, float]:
    """Refill one park at a time: its movers and the unplaced movers that could use it
    (reduced cost within :data:`PARK_SLACK` of the unplaced penalty) solved as a knapsack,
    everyone else held. Parks that leave the most priced room go first; one pass."""
    k = cols.k
    placed = cols.park[chosen] >= 0
    used = np.bincount(cols.park[chosen[placed]], weights=cols.area[placed], minlength=cols.m)
    slack = PARK_SLACK * float(cols.cost[k:].max(initial=0.0))
    pair_item, pair_park = cols.item[:k], cols.park[:k]
    loose_in = reduced[k:] <= slack  # placed movers that could come out
    for j in np.argsort(-(prices * (free - used)), kind="stable"):
        if safety.out() or upper - bound <= target or budget.left <= 0:
            break
        here = cols.park[chosen] == j
        out = cols.park[chosen] < 0
        within = np.zeros(cols.item.size, dtype=bool)
        within[:k] = (pair_park == j) & (reduced[:k] <= slack) & (here | out)[pair_item]
        within[k:] = here & loose_in
        new, _, _ = _sub_problem(cols, free, within, chosen, 0.0, safety, budget, PARK_NODES)
        if _objective(cols, new) < upper:
            chosen, upper = new, _objective(cols, new)
    return chosen, upper


def _work(pairs: int) -> float:
    """The integer steps' work budget for a problem of ``pairs`` candidate pairs."""
    return WORK - WORK_PER_PAIR * pairs + SMALL_WORK * max(0.0, 1.0 - pairs / SMALL_PAIRS)


def solve_placement(
    cost: sp.coo_matrix,
    area: np.ndarray,
    free: np.ndarray,
    unplaced_m: float,
    gap: float = DEFAULTS["workshops"].mip_rel_gap,
    time_limit_s: float = DEFAULTS["workshops"].time_limit_s,
) -> tuple[np.ndarray, str, float, float]:
    """Min Σ cost·x + unplaced_m·(unplaced) s.t. each mover in ≤ 1 park, Σ area ≤ free.

    ``cost`` is movers × parks with an entry per allowed pair. Returns (park per mover or
    -1, status, relative gap proven, objective).
    """
    safety = _Safety(time_limit_s)
    cost = sp.coo_matrix(cost)
    cost.sum_duplicates()
    budget = _Budget(_work(cost.nnz))
    free = np.asarray(free, dtype=float)
    cols = _Columns(cost, area, unplaced_m)
    n = cols.n
    if cols.k == 0:
        return (
            np.full(n, -1),
            "optimal (no park has room for any mover)",
            0.0,
            float(unplaced_m * n),
        )
    lookup_matrix = sp.csr_matrix((np.arange(cols.k) + 1, (cost.row, cost.col)), shape=cost.shape)

    def lookup(items, parks):
        return np.asarray(lookup_matrix[items, parks]).ravel() - 1

    prices, bound, nu = _prices(cols, free, safety)
    _log.debug("relaxation: bound %.1f (count price %.1f)", bound, nu)
    _, reduced = _lagrangian(cols, prices, free, nu, _most_placed(cols, free))
    # movers by how sure the relaxation is of them: the reduced cost of their second best
    order = np.lexsort((reduced, cols.item))
    head = np.r_[True, cols.item[order][1:] != cols.item[order][:-1]]
    best = order[head]
    rest = order[~head]
    rest = rest[np.r_[True, cols.item[rest][1:] != cols.item[rest][:-1]]] if rest.size else rest
    second = np.full(n, np.inf)
    second[cols.item[rest]] = reduced[rest]
    # start: every mover on its best column; a park over capacity drops its least sure
    park = _fill(cols, _fit(cols.park[best], -second, cols.area, free), free)
    chosen = _chosen_columns(cols, park, lookup)
    upper = _objective(cols, chosen)
    proved_whole = False
    margins = np.sort(second)
    size = NEIGHBOURHOOD
    for _ in range(ROUNDS):
        target = gap * upper
        if upper - bound <= target or safety.out() or budget.left <= 0:
            break
        exact = upper - bound  # no better solution uses a column beyond this
        if int((second <= exact).sum()) <= size:
            # the reduced problem holds every better solution: solve it, its bound counts
            new, sub_bound, proved = _sub_problem(
                cols, free, reduced <= exact, chosen, target, safety, budget, EXACT_NODES
            )
            if _objective(cols, new) <= upper:
                chosen, upper = new, _objective(cols, new)
            bound = max(bound, min(sub_bound, upper))
            proved_whole = proved
            break
        start = upper
        # the movers the relaxation is least sure of, together
        new, _, proved = _sub_problem(
            cols,
            free,
            reduced <= margins[size - 1],
            chosen,
            target,
            safety,
            budget,
            NEIGHBOURHOOD_NODES,
        )
        if _objective(cols, new) <= upper:
            chosen, upper = new, _objective(cols, new)
        chosen, upper = _park_rounds(
            cols, free, reduced, prices, chosen, upper, bound, target, safety, budget
        )
        if proved or upper >= start:
            size *= 4  # solved it, or stuck: widen and go again
    park = np.where(cols.park[chosen] >= 0, cols.park[chosen], -1)
    # HiGHS works to a feasibility tolerance: re-check every park (float rounding only)
    park = _fill(cols, _fit(park, reduced[chosen], cols.area, free), free)
    chosen = _chosen_columns(cols, park, lookup)
    upper = _objective(cols, chosen)
    reached = max((upper - bound) / upper, 0.0) if upper > 0 else 0.0
    if safety.fired:
        status = SAFETY
    elif reached <= gap or proved_whole:
        status = "optimal within gap"
    else:
        status = "work limit reached"
    return park, status, float(reached), upper
