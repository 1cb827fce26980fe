"""The village-park union (``measures.group_union``) against exact alternatives, on the
plots of a classify run, interleaved rounds (issue 17):

    python bench/union_bench.py OUT/classified.gpkg [--rounds 3] [--threads 1]

The plots of each village park (``village_park_id`` of the ``parcels`` layer) are cut
into touching pieces as ``group_union`` does (STRtree ``intersects``, connected
components); then each round times, on the same pieces:

- ``current``: ``measures._union_groups`` (padded ``union_all(axis=1)``, two threads for
  the big buckets);
- ``pairwise``: a cascaded union done level by level across all pieces at once, level
  k one vectorised ``shapely.union(a, b)`` of elements 2i and 2i+1 of every piece
  (``--threads 2``: each level's call split across two threads);
- ``coverage``: the pieces with no overlapping pair (``relate_pattern 'T********'`` on
  the intersecting pairs) by ``coverage_union_all(axis=1)`` once
  ``coverage_is_valid`` holds for all their plots, the rest as ``current`` does; the
  times of the overlap test and of the validity check are included.

After the first round each alternative's pieces are compared with ``current``'s:
``shapely.equals`` and the same WKB. Prints one line per round and method.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from zoning import measures
from zoning._parallel import query


def pieces_of(gpkg: str):
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    vp = parcels["village_park_id"]
    ok = vp.notna().to_numpy()
    label, _ = pd.factorize(vp[ok])
    geoms = np.asarray(parcels.geometry.array, dtype=object)[ok]
    i, j = query(shapely.STRtree(geoms), geoms, "intersects")
    keep = (i < j) & (label[i] == label[j])
    n = len(geoms)
    graph = coo_matrix((np.ones(keep.sum(), dtype=np.int8), (i[keep], j[keep])), shape=(n, n))
    pieces, piece = connected_components(graph, directed=False)
    return geoms, piece, pieces, i[keep], j[keep]


def union2(a: np.ndarray, b: np.ndarray, threads: int) -> np.ndarray:
    if threads <= 1 or len(a) < 1_000:
        return shapely.union(a, b)
    h = len(a) // 2
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(shapely.union, a[:h], b[:h])
        second = shapely.union(a[h:], b[h:])
        return np.concatenate([first.result(), second])


def pairwise(geoms, piece, pieces, threads: int = 1) -> np.ndarray:
    order = np.argsort(piece, kind="stable")
    g, p = geoms[order], piece[order]
    while len(p):
        starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
        sizes = np.diff(np.r_[starts, len(p)])
        if sizes.max() == 1:
            break
        rank = np.arange(len(p)) - np.repeat(starts, sizes)
        size = np.repeat(sizes, sizes)
        left = (rank % 2 == 0) & (rank + 1 < size)
        at = np.flatnonzero(left)
        g = g.copy()
        g[at] = union2(g[at], g[at + 1], threads)
        keep = rank % 2 == 0
        g, p = g[keep], p[keep]
    out = np.full(pieces, None, dtype=object)
    out[p] = g
    return out


def coverage(geoms, piece, pieces, i, j) -> np.ndarray:
    overlap = np.zeros(pieces, dtype=bool)
    overlap[piece[i[shapely.relate_pattern(geoms[i], geoms[j], "T********")]]] = True
    sizes = np.bincount(piece, minlength=pieces)
    touching = (sizes > 1) & ~overlap
    cov = touching[piece]
    if not cov.any() or not shapely.coverage_is_valid(geoms[cov]):
        return measures._union_groups(geoms, piece, pieces)
    rows = measures._union_rows
    out = np.full(pieces, None, dtype=object)
    try:  # the same padding of pieces into rows, each row one coverage union
        measures._union_rows = lambda grid: shapely.coverage_union_all(grid, axis=1)
        _, at = np.unique(piece[cov], return_inverse=True)
        out[np.flatnonzero(touching)] = measures._union_groups(geoms[cov], at, touching.sum())
    finally:
        measures._union_rows = rows
    _, at = np.unique(piece[~cov], return_inverse=True)
    out[np.unique(piece[~cov])] = measures._union_groups(geoms[~cov], at, (~touching).sum())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gpkg")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    geoms, piece, pieces, i, j = pieces_of(args.gpkg)
    sizes = np.bincount(piece, minlength=pieces)
    print(
        f"{len(geoms)} plots in village parks, {pieces} pieces, {(sizes > 1).sum()} of "
        f"several plots ({sizes[sizes > 1].sum()} plots), largest {sizes.max()}",
        flush=True,
    )
    methods = {
        "current": lambda: measures._union_groups(geoms, piece, pieces),
        "pairwise": lambda: pairwise(geoms, piece, pieces, args.threads),
        "coverage": lambda: coverage(geoms, piece, pieces, i, j),
    }
    ref = None
    for r in range(1, args.rounds + 1):
        for name, run in methods.items():
            t = time.perf_counter()
            out = run()
            dt = time.perf_counter() - t
            line = f"round {r} {name}: {dt:.3f} s"
            if name == "current":
                ref = out
            elif r == 1:
                eq = shapely.equals(out, ref)
                same = shapely.to_wkb(out) == shapely.to_wkb(ref)
                line += f" (not equals: {(~eq).sum()} of {pieces}; other WKB: {(~same).sum()})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
