"""An exact 0-1 knapsack for per-park pricing on the tight placement instances (issue 13).

    max  Σ profit[i]·x[i]   s.t.  Σ weight[i]·x[i] ≤ capacity,  x ∈ {0, 1}

Weights are whole numbers (floor area in 0.1 m²), profits real numbers (metres). The
method, chosen by measurement on the tight placement instances (bench/knapsack_pricing.py):

1. Items that cannot help (profit ≤ 0, heavier than the capacity) are set aside; the
   others are sorted by efficiency profit/weight, ties by index, so the order is the same
   on every machine.
2. The greedy set (items in that order while they fit, then any later item that still
   fits), improved by a few swaps (one item in, the cheapest way out), is the first
   incumbent. The linear bound with one item flipped (left out, or forced in) comes for
   all items at once from prefix sums; an item whose flipped bound is below the
   incumbent keeps its decision in the break solution (Dembo–Hammer reduction), and this
   is applied again whenever the incumbent improves.
3. The items left (the core) are decided outward from the break item, alternately one
   that may come in and one that may go out (Pisinger's minknap), over Pareto states
   (weight, profit): one numpy merge per item, every state dropped whose profit plus the
   linear bound of the items still undecided on its side is not above the incumbent. Each
   state keeps its parent, so the set is read back. Items tied at the break's efficiency
   (at a linear relaxation's prices, all those it places in the park) are a subset sum:
   they are filled exactly from bitsets instead (:class:`_Ties`).

:func:`forced_in` gives, for every item, the best value of a set holding it, exact above
a floor the caller gives (the values Lagrangian probing needs), an upper bound below it.

Values are compared with a tolerance of 1e-9 × the total positive profit; a value is
exact up to that tolerance. Nothing depends on the clock or on hashing, so the answer is
the same on every machine.

An experiment's tool, not part of the toolkit: :mod:`zoning.placement` does not use it
(bench/tight_dw.py and bench/knapsack_pricing.py do; tests/test_knapsack.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Relative tolerance of value comparisons (times the total positive profit).
RTOL = 1e-9
#: A merge of Pareto states goes through an array over their weights when the weights
#: span at most this many times the number of states (it is then cheaper than a search).
DENSE = 2
#: The most bits the subset sums of tied items may hold (one bitset per tied item).
TIE_BITS = 1 << 28
#: The search decides two items per step while it holds at most this many states (fewer
#: numpy calls per item; more states between two prunings).
PAIRED = 2000
#: Rounds of the swap heuristic that improves the greedy start of a search.
SWAPS = 4


@dataclass(frozen=True)
class _Sorted:
    """The useful items in efficiency order, with the prefix sums of the linear bound."""

    index: np.ndarray  # original index of each useful item, in efficiency order
    w: np.ndarray  # int64 weights
    p: np.ndarray  # float64 profits
    W: np.ndarray  # prefix sums of w, W[0] = 0 (size n + 1)
    P: np.ndarray  # prefix sums of p, P[0] = 0
    tol: float

    @classmethod
    def of(cls, weight: np.ndarray, profit: np.ndarray, capacity: int) -> _Sorted:
        useful = np.flatnonzero((profit > 0) & (weight <= capacity))
        w, p = weight[useful], profit[useful]
        order = np.lexsort((useful, -(p / w)))
        w, p = w[order], p[order]
        W = np.concatenate(([0], np.cumsum(w)))
        P = np.concatenate(([0.0], np.cumsum(p)))
        tol = RTOL * max(float(P[-1]), 1.0)
        return cls(useful[order], w, p, W, P, tol)

    def lp(self, room, whole: bool = False) -> np.ndarray:
        """The linear bound at each ``room`` (−inf where it is negative).

        With ``whole``, the items in efficiency order while they fit, without the
        fractional one: the value of a feasible set (a lower bound).
        """
        n = self.w.size
        room = np.asarray(room)
        k = np.minimum(np.searchsorted(self.W, room, side="right") - 1, n)  # 0..k-1 fit
        value = self.P[np.maximum(k, 0)]
        if not whole and n:
            nxt = np.minimum(k, n - 1)
            value = value + np.where(
                k < n, (room - self.W[np.maximum(k, 0)]) * (self.p[nxt] / self.w[nxt]), 0.0
            )
        return np.where(room < 0, -np.inf, value)

    def lp_without(self, room, whole: bool = False) -> np.ndarray:
        """For every item i, :meth:`lp` of the others at ``room[i]``."""
        x = np.asarray(room)
        before = self.W[:-1]  # weight of the items ahead of i
        # Below ``before`` item i is not reached; above it, item i is taken in full by the
        # bound at x + w_i, and taking it out again leaves the others' bound at x.
        return np.where(
            x <= before,
            self.lp(x, whole),
            self.lp(np.where(x <= before, 0, x + self.w), whole) - self.p,
        )

    def without(self, k: int, room: int) -> _Sorted:
        """The items but the one at position ``k`` that fit ``room``, order kept."""
        keep = self.w <= room
        keep[k] = False
        w, p = self.w[keep], self.p[keep]
        W = np.concatenate(([0], np.cumsum(w)))
        P = np.concatenate(([0.0], np.cumsum(p)))
        return _Sorted(self.index[keep], w, p, W, P, self.tol)

    def flipped(self, capacity: int) -> tuple[np.ndarray, np.ndarray]:
        """The linear bound with each item left out, and with each item forced in."""
        out = self.lp_without(np.full(self.w.size, capacity))
        forced = self.p + self.lp_without(capacity - self.w)
        return out, forced


def _validate(weight, profit, capacity) -> tuple[np.ndarray, np.ndarray, int]:
    weight = np.asarray(weight)
    profit = np.asarray(profit, dtype=np.float64)
    if weight.ndim != 1 or profit.shape != weight.shape:
        raise ValueError("weight and profit must be one-dimensional and of the same length")
    if weight.size and not np.issubdtype(weight.dtype, np.integer):
        raise ValueError("weight must be whole numbers")
    weight = weight.astype(np.int64)
    if weight.size and weight.min() < 1:
        raise ValueError("every weight must be at least 1")
    if not np.isfinite(profit).all():
        raise ValueError("every profit must be finite")
    capacity = int(capacity)
    if capacity < 0:
        raise ValueError("capacity must be at least 0")
    return weight, profit, capacity


def _greedy(items: _Sorted, capacity: int, take: np.ndarray | None = None) -> np.ndarray:
    """Greedy in efficiency order, then every later item that still fits (positions).

    Given ``take``, the items not in it are offered to the room it leaves, in order.
    """
    if take is None:
        fit = int(np.searchsorted(items.W, capacity, side="right")) - 1
        take = np.zeros(items.w.size, dtype=bool)
        take[:fit] = True
    else:
        take, fit = take.copy(), 0
    room = capacity - int(items.w[take].sum())
    for k in np.flatnonzero(~take[fit:] & (items.w[fit:] <= room)).tolist():
        if items.w[fit + k] <= room:
            take[fit + k] = True
            room -= int(items.w[fit + k])
    return take


def _swap_in(items: _Sorted, capacity: int, take: np.ndarray) -> np.ndarray:
    """The set improved by its best swap: one item in, what :func:`_swapped` takes out,
    then the room left offered again (a better start for the search)."""
    value = float(items.p[take].sum())
    gain = _swapped(items, take, capacity - items.w)
    k = int(np.argmax(gain))
    if gain[k] <= value + items.tol:
        return take
    held = np.flatnonzero(take)
    over = int(items.w[held].sum()) + int(items.w[k]) - capacity
    better = take.copy()
    better[k] = True
    if over <= 0:
        return _greedy(items, capacity, better)
    heavy = held[items.w[held] >= over]
    one = heavy[np.argmin(items.p[heavy])] if heavy.size else -1
    cum = np.cumsum(items.w[held[::-1]])
    many = held[::-1][: int(np.searchsorted(cum, over, side="left")) + 1]
    if one >= 0 and items.p[one] <= items.p[many].sum():
        better[one] = False
    else:
        better[many] = False
    return _greedy(items, capacity, better)


def _merge_dense(w, p, wk: int, pk: float, lo: int, span: int):
    """:func:`_merge` through an array over the weights (states dense in their span).

    The same states, parents and flips as the merge by search (the state kept at equal
    weight is the old one unless the flipped one is worth strictly more).
    """
    at = w - lo
    old = np.full(span, -np.inf)
    new = np.full(span, -np.inf)
    old[at] = p
    new[at + wk] = p + pk
    flip = new > old
    best = np.where(flip, new, old)
    cells = np.flatnonzero(best > -np.inf)
    value = best[cells]
    keep = np.empty(cells.size, dtype=bool)
    keep[0] = True
    keep[1:] = value[1:] > np.maximum.accumulate(value)[:-1]
    cells, value, flip = cells[keep], value[keep], flip[cells[keep]]
    index = np.zeros(span, dtype=np.int64)
    index[at] = np.arange(w.size)
    parent = index[np.where(flip, cells - wk, cells)]
    return cells + lo, value, parent, flip


def _merge(w, p, wk: int, pk: float, track: bool = True):
    """The Pareto states after deciding one item (add it if ``wk > 0``, drop it if < 0).

    ``w`` is strictly increasing and so is ``p`` (a Pareto list); the two sorted runs
    (the states, and the states with the item flipped) are merged by a stable sort.
    Returns weights, profits, parents and whether the item was flipped, weight up (the
    last two None unless ``track``).
    """
    size = w.size
    if size == 0:
        return w, p, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    lo, span = min(int(w[0]), int(w[0]) + wk), int(w[-1] - w[0]) + abs(wk) + 1
    if span <= DENSE * size:
        return _merge_dense(w, p, wk, pk, lo, span)
    ww = np.concatenate((w, w + wk))
    src = np.argsort(ww, kind="stable")  # two sorted runs: a merge; old first on ties
    ww = ww[src]
    pp = np.concatenate((p, p + pk))[src]
    keep = np.empty(2 * size, dtype=bool)
    keep[0] = True
    # strictly more profit than every lighter state ...
    np.greater(pp[1:], np.maximum.accumulate(pp)[:-1], out=keep[1:])
    # ... and at equal weight (the old state first) the old one goes if the new one stays
    keep[:-1] &= ~((ww[:-1] == ww[1:]) & keep[1:])
    if not track:
        return ww[keep], pp[keep], None, None
    order = src[keep]
    return ww[keep], pp[keep], order % size, order >= size


def _merge_two(w, p, first: tuple[int, float], second: tuple[int, float]):
    """:func:`_merge` of two items at once (four sorted runs: neither, the first, the
    second, both). Returns weights, profits, parents and the run of each state (bit 0:
    the first item flipped, bit 1: the second)."""
    size = w.size
    (wa, pa), (wb, pb) = first, second
    ww = np.concatenate((w, w + wa, w + wb, w + (wa + wb)))
    src = np.argsort(ww, kind="stable")  # four sorted runs merged; the lower run first
    ww = ww[src]
    pp = np.concatenate((p, p + pa, p + pb, p + (pa + pb)))[src]
    keep = np.empty(ww.size, dtype=bool)
    keep[0] = True
    np.greater(pp[1:], np.maximum.accumulate(pp)[:-1], out=keep[1:])
    kept = np.flatnonzero(keep)
    # at equal weight only the last state kept (the most profit) stays
    last = np.append(ww[kept[:-1]] != ww[kept[1:]], True)
    kept = kept[last]
    order = src[kept]
    return ww[kept], pp[kept], order % size, order // size


@dataclass
class _Core:
    """The reduction of a problem against an incumbent (positions in efficiency order).

    Every set worth more than a floor takes the items before the greedy break whose
    bound without them (``out``) is below the floor, and leaves the items after it whose
    bound with them (``forced``) is below the floor; the others form the core.
    """

    out: np.ndarray
    forced: np.ndarray
    split: int  # the break: positions below it are in the greedy (break) solution

    @classmethod
    def of(cls, items: _Sorted, capacity: int) -> _Core:
        out, forced = items.flipped(capacity)
        split = int(np.searchsorted(items.W, capacity, side="right")) - 1
        return cls(out, forced, split)


@dataclass
class _Ties:
    """The items sharing the break item's efficiency, filled as a subset sum.

    At a linear relaxation's prices every item the relaxation places in a park has the
    same efficiency (the park's price), and the bound is reached by a set of them that
    fills the room exactly: Pareto states would all share one bound and grow to the
    capacity. So these items are taken out of the search: ``fill[x]`` is the largest
    total weight of them within x (bitsets held in Python ints, one shift per item), and
    a state of the other items is worth its profit plus ``rate × fill[room left]``.
    """

    pos: np.ndarray  # positions (efficiency order) of the tied items
    w: np.ndarray  # their weights
    rate: float  # their efficiency
    reach: list[int]  # bit c of reach[k]: some of the first k tied items weigh exactly c
    fill: np.ndarray | None

    @classmethod
    def of(cls, items: _Sorted, capacity: int, split: int) -> _Ties:
        eff = items.p / items.w
        pos = np.flatnonzero(np.abs(eff - eff[split]) <= 1e-12 * eff[split])
        if pos.size < 3 or pos.size * (capacity + 1) > TIE_BITS:
            return cls(pos[:0], items.w[:0], 0.0, [1], None)
        mask = (1 << (capacity + 1)) - 1
        reach = [1]
        for wk in items.w[pos].tolist():
            reach.append((reach[-1] | (reach[-1] << wk)) & mask)
        raw = np.frombuffer(reach[-1].to_bytes(capacity // 8 + 1, "little"), dtype=np.uint8)
        bits = np.unpackbits(raw, bitorder="little")[: capacity + 1].astype(bool)
        fill = np.maximum.accumulate(np.where(bits, np.arange(capacity + 1), 0))
        return cls(pos, items.w[pos], float(eff[split]), reach, fill)

    def filled(self, room: np.ndarray) -> np.ndarray:
        """The weight of tied items that fits each room (0 where the room is negative)."""
        if self.fill is None:
            return np.zeros(np.shape(room), dtype=np.int64)
        return self.fill[np.clip(room, 0, self.fill.size - 1)]

    def take(self, room: int) -> np.ndarray:
        """The positions of tied items that fill ``room`` as well as they can."""
        if self.fill is None:
            return self.pos
        target = int(self.fill[max(room, 0)])
        take = []
        for k in range(self.pos.size - 1, -1, -1):
            if not (self.reach[k] >> target) & 1:
                take.append(int(self.pos[k]))
                target -= int(self.w[k])
        return np.array(take, dtype=np.int64)


_NO_TIES = _Ties(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0.0, [1], None)


class _Side:
    """The undecided core items on one side of the break, in the order they are decided.

    After the break the order is efficiency down (they may come in); before it, the
    break outward, efficiency up (they may go out). Prefix sums give the linear
    programme of the items left for many amounts at once.
    """

    def __init__(self, items: _Sorted, pos: np.ndarray, cover: bool) -> None:
        self.items, self.cover = items, cover
        self._set(np.asarray(pos, dtype=np.int64))

    def _set(self, pos: np.ndarray) -> None:
        self.pos, self.at = pos, 0
        self.cw = np.concatenate(([0], np.cumsum(self.items.w[pos])))
        self.cp = np.concatenate(([0.0], np.cumsum(self.items.p[pos])))
        self.rate = self.items.p[pos] / self.items.w[pos]

    def __len__(self) -> int:
        return self.pos.size - self.at

    def pop(self) -> int:
        """The next item to decide."""
        self.at += 1
        return int(self.pos[self.at - 1])

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the items left that ``mask`` (over positions) holds."""
        left = self.pos[self.at :]
        if not mask[left].all():
            self._set(left[mask[left]])

    def lp(self, amount: np.ndarray) -> np.ndarray:
        """The profit the items left gain by filling ``amount`` ≥ 0 (after the break), or
        lose by giving at least ``amount`` (before it; +inf if they cannot)."""
        n, base_w = self.pos.size, self.cw[self.at]
        reach = amount + base_w
        k = np.searchsorted(self.cw, reach, side="right") - 1  # items at..k-1 in full
        if k.size and k.max() >= n:  # amounts beyond the items left
            short = k >= n
            k[short] = n
            reach = np.where(short, self.cw[n], reach)
        nxt = np.minimum(k, n - 1) if n else k
        value = self.cp[k] - self.cp[self.at]
        if n:
            value += (reach - self.cw[k]) * self.rate[nxt]
        if self.cover and amount.size and amount.max() > self.cw[-1] - base_w:
            value[amount > self.cw[-1] - base_w] = np.inf
        return value


class _Front:
    """The undecided core items on both sides of the break."""

    def __init__(self, items: _Sorted, adds: np.ndarray, drops: np.ndarray) -> None:
        self.adds = _Side(items, adds, cover=False)
        self.drops = _Side(items, drops, cover=True)

    def settle(self, core: _Core, incumbent: float, tol: float) -> None:
        """Leave out the items a better incumbent now fixes (the reduction, lazily)."""
        self.adds.keep(core.forced >= incumbent - tol)
        self.drops.keep(core.out >= incumbent - tol)

    def pop(self) -> tuple[int, int]:
        """The next item (position) and the side (+1 comes in, −1 goes out)."""
        if len(self.adds) and (len(self.adds) >= len(self.drops)):
            return self.adds.pop(), 1
        return self.drops.pop(), -1


def _worth(ties: _Ties, front: _Front, w, p, capacity: int):
    """Each state's value (−inf above the capacity) and an upper bound of it.

    A state within the capacity may still fill the room with tied items (their best
    fill, exactly: they are the most efficient left) and the linear programme of the
    items after the break that are left; a state above it must take out at least the
    excess from the items before the break that are left, at the least linear loss.
    """
    room = capacity - w
    under = room >= 0
    value = np.where(under, p, -np.inf)
    bound = np.empty(w.size)
    if under.all():
        if ties.fill is not None:
            filled = ties.filled(room)
            value += ties.rate * filled
            room = room - filled
        bound[:] = value + front.adds.lp(room)
        return value, bound
    if ties.fill is not None:
        filled = np.where(under, ties.filled(room), 0)
        value = np.where(under, value + ties.rate * filled, value)
        room = np.where(under, room - filled, room)
    bound[under] = value[under] + front.adds.lp(room[under])
    bound[~under] = p[~under] - front.drops.lp(-room[~under])
    return value, bound


def _expand(items: _Sorted, capacity: int, incumbent: float):
    """Pareto states grown from the break solution, pruned against an incumbent.

    The core items after the break are tried in (adding them), and the ones before it
    out (dropping them), alternately from the break outward (Pisinger's minknap, one
    numpy merge per item); tied items are filled by :class:`_Ties`. Returns the best set
    (a mask of positions) if one is worth more than ``incumbent``, else None.
    """
    core = _Core.of(items, capacity)
    ties = _Ties.of(items, capacity, core.split)
    free = np.ones(items.w.size, dtype=bool)
    free[ties.pos] = False
    pos = np.flatnonzero(free)
    front = _Front(items, pos[pos >= core.split], pos[pos < core.split][::-1])
    front.settle(core, incumbent, items.tol)
    start = pos[pos < core.split]
    w = np.array([items.w[start].sum()], dtype=np.int64)
    p = np.array([items.p[start].sum()])
    # (parents, flips or runs, item or two items as (first + 1) << 32 | second)
    stages: list[tuple[np.ndarray, np.ndarray, int]] = []
    found: tuple[int, int] | None = None
    while True:
        value, bound = _worth(ties, front, w, p, capacity)
        top = int(np.argmax(value))  # the first (lightest) of the best
        if value[top] > incumbent:
            incumbent, found = float(value[top]), (len(stages), top)
            front.settle(core, incumbent, items.tol)
            value, bound = _worth(ties, front, w, p, capacity)
        alive = np.flatnonzero(bound > incumbent + items.tol)
        if alive.size == 0 or not (len(front.adds) or len(front.drops)):
            break
        if alive.size < w.size:
            w, p = w[alive], p[alive]
            stages.append((alive, np.zeros(alive.size, dtype=np.int64), -1))
        k, sign = front.pop()
        one = (sign * int(items.w[k]), sign * float(items.p[k]))
        if w.size <= PAIRED and (len(front.adds) or len(front.drops)):
            k2, sign2 = front.pop()
            two = (sign2 * int(items.w[k2]), sign2 * float(items.p[k2]))
            w, p, parent, run = _merge_two(w, p, one, two)
            stages.append((parent, run, ((k + 1) << 32) + k2))
        else:
            w, p, parent, flip = _merge(w, p, *one)
            stages.append((parent, flip.astype(np.int64), k))
    if found is None:
        return None
    stage, at = found
    chosen = np.zeros(items.w.size, dtype=bool)
    chosen[start] = True
    for parent, run, k in reversed(stages[:stage]):
        if k >= 1 << 32:  # two items merged at once: bit 0 the first, bit 1 the second
            if run[at] & 1:
                chosen[(k >> 32) - 1] = not chosen[(k >> 32) - 1]
            if run[at] & 2:
                chosen[k & 0xFFFFFFFF] = not chosen[k & 0xFFFFFFFF]
        elif run[at]:
            chosen[k] = not chosen[k]
        at = int(parent[at])
    weight = int(items.w[chosen].sum())
    chosen[ties.take(capacity - weight)] = True
    return chosen


def _solve_sorted(items: _Sorted, capacity: int) -> np.ndarray:
    """The best set (a mask of positions in efficiency order)."""
    chosen = _greedy(items, capacity)
    if int(items.W[-1]) > capacity:
        for _ in range(SWAPS):
            swapped = _swap_in(items, capacity, chosen)
            if swapped is chosen:  # no swap pays
                break
            chosen = swapped
        better = _expand(items, capacity, float(items.p[chosen].sum()))
        if better is not None:
            chosen = better
    return chosen


def solve(weight, profit, capacity) -> tuple[float, np.ndarray]:
    """The best set of items within a capacity (0-1 knapsack), exact.

    Parameters
    ----------
    weight : array of int
        Each item's weight, a whole number ≥ 1 (floor area in 0.1 m²).
    profit : array of float
        Each item's profit; an item with profit ≤ 0 is never taken.
    capacity : int
        The capacity, ≥ 0; an item heavier than it is never taken.

    Returns
    -------
    value : float
        The largest total profit of a set whose total weight is within ``capacity`` (exact
        up to 1e-9 × the total positive profit).
    take : numpy.ndarray of bool
        One such set. Ties are broken the same way on every machine.
    """
    weight, profit, capacity = _validate(weight, profit, capacity)
    items = _Sorted.of(weight, profit, capacity)
    take = np.zeros(weight.size, dtype=bool)
    if items.w.size == 0:
        return 0.0, take
    chosen = _solve_sorted(items, capacity)
    take[items.index[chosen]] = True
    return float(profit[take].sum()), take


def _best_above(items: _Sorted, room: int, floor: float, known: float = -np.inf) -> float:
    """The best value within ``room`` if it is above ``floor``; else ``floor`` or less.

    Whatever is returned is at least the best value (up to the tolerance): an exact value
    above the floor, an upper bound at or below it. ``known`` is the value of some set
    within ``room`` (a start for the search).
    """
    if items.w.size == 0 or room < 0:
        return 0.0 if room >= 0 else -np.inf
    if int(items.W[-1]) <= room:
        return float(items.P[-1])
    bound = float(items.lp(room))
    if bound <= floor:
        return bound
    chosen = _greedy(items, room)
    value = max(float(items.p[chosen].sum()), known)
    if value >= bound - items.tol:
        return value
    better = _expand(items, room, max(value, floor))
    if better is not None:
        return float(items.p[better].sum())
    return value if value >= floor else floor


def _both_ways(items: _Sorted, capacity: int, floor: float) -> np.ndarray:
    """For every core item, the best value of a set holding it, where above ``floor``.

    The core items (the others are fixed against the floor) are decided in the order of
    :func:`_expand`, outward from the break. Pareto states of the decisions before each
    item (forward, pruned by Pisinger's bound against the floor) and after it (backward,
    pruned against the forward states: a state no forward state completes above the
    floor is dropped) are combined per item with one search: the best partner within
    the room left, as both lists are sorted by weight with profit rising. Below the
    floor the values may be too low (−inf where nothing reaches it).
    """
    core = _Core.of(items, capacity)
    pos = np.flatnonzero((core.out >= floor - items.tol) & (core.forced >= floor - items.tol))
    adds = pos[pos >= core.split].tolist()
    drops = pos[pos < core.split][::-1].tolist()
    order: list[int] = []
    while adds or drops:
        if adds and (len(adds) >= len(drops) or not drops):
            order.append(adds.pop(0))
        else:
            order.append(drops.pop(0))
    sign = np.where(np.array(order, dtype=np.int64) >= core.split, 1, -1)
    front = _Front(items, pos[pos >= core.split], pos[pos < core.split][::-1])
    # items of each side decided after each step
    taken = np.zeros((len(order) + 1, 2), dtype=np.int64)
    taken[1:, 0] = np.cumsum(sign > 0)
    taken[1:, 1] = np.cumsum(sign < 0)
    w = np.array([items.W[core.split]], dtype=np.int64)
    p = np.array([items.P[core.split]])
    ahead: list[tuple[np.ndarray, np.ndarray]] = []
    for t, k in enumerate(order):
        ahead.append((w, p))
        if w.size == 0:  # nothing reaches the floor any more
            continue
        w, p = _merge(w, p, int(sign[t] * items.w[k]), float(sign[t] * items.p[k]), False)[:2]
        front.adds.at, front.drops.at = int(taken[t + 1, 0]), int(taken[t + 1, 1])
        _, bound = _worth(_NO_TIES, front, w, p, capacity)
        alive = (bound >= floor - items.tol) & (bound > -np.inf)
        w, p = w[alive], p[alive]
    found = np.full(items.w.size, -np.inf)
    gw, gp = np.zeros(1, dtype=np.int64), np.zeros(1)
    for t in range(len(order) - 1, -1, -1):
        k = order[t]
        fw, fp = ahead[t]
        shift_w, shift_p = (int(items.w[k]), float(items.p[k])) if sign[t] > 0 else (0, 0.0)
        at = np.searchsorted(gw, capacity - fw - shift_w, side="right") - 1
        if (at >= 0).any():
            found[k] = float(np.max((fp + gp[np.maximum(at, 0)])[at >= 0])) + shift_p
        if gw.size == 0:
            break
        gw, gp = _merge(gw, gp, int(sign[t] * items.w[k]), float(sign[t] * items.p[k]), False)[:2]
        at = np.searchsorted(fw, capacity - gw, side="right") - 1
        partner = np.where(at >= 0, fp[np.maximum(at, 0)], -np.inf)
        alive = (partner + gp >= floor - items.tol) & (partner > -np.inf)
        gw, gp = gw[alive], gp[alive]
    return found


def _filled(items: _Sorted, capacity: int, want: np.ndarray) -> tuple[np.ndarray, bool]:
    """For items after the break, a set holding the item filled up with tied items.

    The items more efficient than the break's, the item, and the best fill of the room
    left from the items tied at the break's efficiency (:class:`_Ties`; for a tied item
    in ``want``, from the others, bitsets rebuilt without it): at a linear relaxation's
    prices this usually reaches the linear bound and settles the item. −inf where it
    does not apply; the flag says whether there were tied items.
    """
    lower = np.full(items.w.size, -np.inf)
    if items.w.size == 0 or int(items.W[-1]) <= capacity:
        return lower, False
    split = int(np.searchsorted(items.W, capacity, side="right")) - 1
    ties = _Ties.of(items, capacity, split)
    if ties.fill is None:
        return lower, False
    other = np.ones(items.w.size, dtype=bool)
    other[ties.pos] = False
    ahead = np.flatnonzero(other[:split])
    base = float(items.p[ahead].sum())
    room = capacity - int(items.w[ahead].sum()) - items.w
    after = other & (np.arange(items.w.size) >= split) & (room >= 0)
    lower = np.where(after, base + items.p + ties.rate * ties.filled(room), lower)
    mask = (1 << (capacity + 1)) - 1
    tied_w = ties.w.tolist()
    for j in np.flatnonzero(want[ties.pos] & (room[ties.pos] >= 0)).tolist():
        k = int(ties.pos[j])
        reach = ties.reach[j]
        for wk in tied_w[j + 1 :]:
            reach = (reach | (reach << wk)) & mask
        best = (reach & ((1 << (int(room[k]) + 1)) - 1)).bit_length() - 1
        lower[k] = base + items.p[k] + ties.rate * best
    return lower, True


def _swapped(items: _Sorted, chosen: np.ndarray, room: np.ndarray) -> np.ndarray:
    """For every item, the value of the optimal set with it put in and others taken out.

    Out go either the one item of the set with the least profit among those heavy enough
    to make room, or the set's items from the least efficient up until it fits; the
    better of the two (a feasible set: a lower bound of :func:`forced_in`).
    """
    held = np.flatnonzero(chosen)
    if held.size == 0:
        return np.full(items.w.size, -np.inf)
    best = float(items.p[held].sum())
    over = int(items.w[held].sum()) - room  # weight to take out of the set
    by_weight = held[np.argsort(items.w[held], kind="stable")]
    least = np.minimum.accumulate(items.p[by_weight][::-1])[::-1]
    at = np.searchsorted(items.w[by_weight], over, side="left")
    one = np.where(at < held.size, least[np.minimum(at, held.size - 1)], np.inf)
    by_rate = held[::-1]  # efficiency order reversed: the least efficient first
    cum_w = np.concatenate(([0], np.cumsum(items.w[by_rate])))
    cum_p = np.concatenate(([0.0], np.cumsum(items.p[by_rate])))
    upto = np.minimum(np.searchsorted(cum_w, over, side="left"), held.size)
    many = np.where(over <= cum_w[-1], cum_p[upto], np.inf)
    lost = np.where(over <= 0, 0.0, np.minimum(one, many))
    return np.where(chosen, best, best + items.p - lost)


def forced_in(weight, profit, capacity, floor: float = -np.inf) -> np.ndarray:
    """For every item, the best value of a set that holds it (Lagrangian probing).

    Parameters
    ----------
    weight, profit, capacity
        As for :func:`solve`.
    floor : float, optional
        The values the caller needs exactly are the ones above ``floor`` (for probing:
        the knapsack's value less the gap between the best placement known and the
        bound). Default −inf: every value exact.

    Returns
    -------
    numpy.ndarray of float
        ``value[i]`` is the largest total profit of a set within ``capacity`` that holds
        item i (−inf if item i alone is heavier than the capacity; an item with profit
        ≤ 0 counts too). It is exact (up to 1e-9 × the total positive profit) wherever it
        is above ``floor``; at or below ``floor`` it is an upper bound of the exact value,
        so a caller may drop every item whose value is at or below its floor.

    Notes
    -----
    The items of an optimal set get the optimum. Every other item gets the linear bound
    with it forced in and the value of a few sets holding it (greedy; the optimal set with
    it swapped in; tied items filled around it): where the bound is at or below the floor,
    or bound and set meet, that settles it. The items left in doubt get one sweep over the
    core against the floor (:func:`_both_ways`), or, when items are tied at the break's
    efficiency, a search each (:func:`_best_above`). The closer the floor to the optimum,
    the smaller the core and the cheaper the sweep.
    """
    weight, profit, capacity = _validate(weight, profit, capacity)
    items = _Sorted.of(weight, profit, capacity)
    value = np.full(weight.size, -np.inf)
    chosen = _solve_sorted(items, capacity) if items.w.size else np.zeros(0, dtype=bool)
    best = float(items.p[chosen].sum())
    room = capacity - items.w
    upper = np.minimum(items.p + items.lp_without(room), best)
    lower = np.maximum(items.p + items.lp_without(room, whole=True), _swapped(items, chosen, room))
    doubt = ~chosen & (upper > floor) & (upper - lower > items.tol)
    filled, tied = _filled(items, capacity, doubt)
    lower = np.maximum(lower, filled)
    mine = np.where(chosen, best, np.where(upper - lower <= items.tol, lower, upper))
    doubt &= upper - lower > items.tol
    if tied:  # Pareto states over tied items grow to the capacity: one search per item
        for k in np.flatnonzero(doubt).tolist():
            rest = items.without(k, int(room[k]))
            known = float(lower[k] - items.p[k])
            mine[k] = items.p[k] + _best_above(rest, int(room[k]), floor - float(items.p[k]), known)
    elif doubt.any():
        found = _both_ways(items, capacity, floor)
        # the sweep is exact above the floor; below it, the floor bounds the value
        mine[doubt] = np.where(found[doubt] >= floor, found[doubt], floor)
    value[items.index] = mine
    for i in np.flatnonzero((profit <= 0) & (weight <= capacity)).tolist():
        left = capacity - int(weight[i])
        rest = _Sorted.of(weight, profit, left)
        value[i] = profit[i] + _best_above(rest, left, floor - float(profit[i]))
    return value
