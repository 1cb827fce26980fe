"""Per-plot geometry facts of SPEC §4, vectorised and computed once.

Each function takes arrays of shapely geometries in the analysis CRS (metres) and
returns arrays aligned to the plots. The decision table (:mod:`zoning.rules`) only
reads these numbers, so a rule change never recomputes geometry.

The contract with :mod:`zoning.rules` and :mod:`zoning.classification`: :func:`measure`
returns one row per input plot with :data:`MEASURE_COLUMNS` (SPEC §4 names, written to
the output) and :data:`DECISION_COLUMNS`, read by the decision and the classification
but not written: ``linked_park_m`` (metres from the plot's village park to its linked
township park, NaN when none) and ``village_park_group`` (the village park's integer
label, -1 for a plot that is not usable). Which plots are usable comes in as an explicit
``problem`` mask (:meth:`zoning.layers.Layers.problem`: "" where usable).

'Smallest id' is first in Unicode code-point order (numpy's and Python's string order).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._parallel import _threads, elementwise, query

#: m² per mu is 10000/15; multiplying by 15 then dividing by 10000 keeps whole values exact.
M2_PER_MU = 10000.0 / 15.0

MEASURE_COLUMNS = [
    "area_m2",
    "area_mu",
    "boundary_share",
    "cluster_share",
    "cluster_id",
    "protected_share",
    "nearest_park_id",
    "nearest_park_m",
    "village_park_id",
    "village_park_mu",
    "linked_park_id",
]
#: Measures the decision and the classification read but the output does not carry.
DECISION_COLUMNS = ["linked_park_m", "village_park_group"]


def to_mu(area_m2):
    """m² to mu (1 mu = 10000/15 m²), exact for whole multiples."""
    return np.asarray(area_m2, dtype=float) * 15.0 / 10000.0


def subdivide(geoms: np.ndarray, max_vertices: int = 256) -> np.ndarray:
    """Split polygons into pieces of at most ``max_vertices`` vertices (like ST_Subdivide).

    Pieces of one polygon do not overlap, so summed intersection areas equal the
    intersection with the whole; small pieces make each intersection cheap.
    """
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    done = []
    while len(parts):
        small = shapely.get_num_coordinates(parts) <= max_vertices
        done.append(parts[small])
        big = parts[~small]
        if not len(big):
            break
        b = shapely.bounds(big)
        wide = (b[:, 2] - b[:, 0]) >= (b[:, 3] - b[:, 1])
        mid_x = (b[:, 0] + b[:, 2]) / 2
        mid_y = (b[:, 1] + b[:, 3]) / 2
        first = shapely.box(
            b[:, 0], b[:, 1], np.where(wide, mid_x, b[:, 2]), np.where(wide, b[:, 3], mid_y)
        )
        second = shapely.box(
            np.where(wide, mid_x, b[:, 0]), np.where(wide, b[:, 1], mid_y), b[:, 2], b[:, 3]
        )
        halves = np.concatenate(
            [shapely.intersection(big, first), shapely.intersection(big, second)]
        )
        halves = shapely.get_parts(halves)
        halves = shapely.get_parts(halves)
        keep = (shapely.get_type_id(halves) == shapely.GeometryType.POLYGON) & (
            shapely.area(halves) > 0
        )
        parts = halves[keep]
    return np.concatenate(done) if done else np.empty(0, dtype=object)


def group_union(geoms: np.ndarray, label: np.ndarray, groups: int) -> np.ndarray:
    """Union of the geometries of each group.

    Only geometries that touch or overlap are dissolved (per connected piece of the
    group, :func:`_union_groups`); a group of several separate pieces is the collection
    of their polygons. A group that is one piece is exactly its ``union_all``. Unioning
    separate pieces together only costs: GEOS nodes them all against each other.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return np.full(groups, None, dtype=object)
    tree = shapely.STRtree(geoms)
    i, j = query(tree, geoms, "intersects")
    keep = (i < j) & (label[i] == label[j])
    graph = coo_matrix((np.ones(keep.sum(), dtype=np.int8), (i[keep], j[keep])), shape=(n, n))
    pieces, piece = connected_components(graph, directed=False)
    shapes = _union_groups(geoms, piece, pieces)
    owner = np.zeros(pieces, dtype=np.int64)
    owner[piece] = label
    per_group = np.bincount(owner, minlength=groups)
    out = np.full(groups, None, dtype=object)
    whole = per_group[owner] == 1
    out[owner[whole]] = shapes[whole]
    split = np.flatnonzero(~whole)
    if len(split):
        split = split[np.argsort(owner[split], kind="stable")]
        parts = shapely.get_parts(shapes[split])
        part_owner = np.repeat(owner[split], shapely.get_num_geometries(shapes[split]))
        keys, at = np.unique(part_owner, return_inverse=True)
        out[keys] = shapely.multipolygons(parts, indices=at)
    return out


def _union_groups(geoms: np.ndarray, label: np.ndarray, groups: int) -> np.ndarray:
    """Union of the geometries of each group, vectorised: groups of similar size are
    padded into one 2D array and reduced with ``union_all(axis=1)``."""
    out = np.full(groups, None, dtype=object)
    order = np.argsort(label, kind="stable")
    lab = label[order]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]]) if len(lab) else np.empty(0, int)
    sizes = np.diff(np.r_[starts, len(lab)])
    gid = lab[starts]
    single = sizes == 1
    out[gid[single]] = geoms[order[starts[single]]]
    bucket = np.ceil(np.log2(np.maximum(sizes, 1))).astype(int)
    for b in np.unique(bucket[~single]):
        sel = np.flatnonzero((bucket == b) & ~single)
        width = int(sizes[sel].max())
        grid = np.full((len(sel), width), None, dtype=object)
        row = np.repeat(np.arange(len(sel)), sizes[sel])
        col = np.arange(row.size) - np.repeat(np.cumsum(sizes[sel]) - sizes[sel], sizes[sel])
        grid[row, col] = geoms[order[_ranges(starts[sel], sizes[sel])]]
        out[gid[sel]] = _union_rows(grid)
    return out


def _union_rows(grid: np.ndarray) -> np.ndarray:
    """``union_all(grid, axis=1)``, over two or more threads when the rows hold many
    vertices (GEOS releases the GIL): rows are split where the vertex count halves,
    whatever their number, since a few big groups are most of the work."""
    coords = shapely.get_num_coordinates(grid).sum(axis=1)
    k = min(len(grid), _threads(20_000) if coords.sum() > 50_000 else 1)
    if k <= 1:
        return shapely.union_all(grid, axis=1)
    cut = np.searchsorted(np.cumsum(coords), coords.sum() * np.arange(1, k) / k)
    bounds = np.unique(np.r_[0, cut + 1, len(grid)].clip(0, len(grid)))
    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        parts = pool.map(
            lambda lo_hi: shapely.union_all(grid[lo_hi[0] : lo_hi[1]], axis=1),
            zip(bounds[:-1], bounds[1:], strict=True),
        )
        return np.concatenate(list(parts))


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenated ranges start..start+size for every pair, vectorised."""
    offsets = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
    return np.arange(sizes.sum()) + offsets


def widened_boxes(geoms: np.ndarray, by) -> np.ndarray:
    """The bounding box of each geometry widened by ``by`` (a number or one per geometry)."""
    b = shapely.bounds(geoms)
    by = np.asarray(by, dtype=float)
    return shapely.box(b[:, 0] - by, b[:, 1] - by, b[:, 2] + by, b[:, 3] + by)


def dissolve(layer: np.ndarray) -> np.ndarray:
    """Polygons whose interiors do not overlap and whose union is the layer's union.

    Only polygons that intersect others are unioned (per connected group), so a layer of
    many separate patches costs little.
    """
    parts = shapely.get_parts(np.asarray(layer, dtype=object))
    parts = parts[~shapely.is_empty(parts) & (shapely.area(parts) > 0)]
    if len(parts) < 2:
        return parts
    i, j = shapely.STRtree(parts).query(parts, predicate="intersects")
    keep = i < j
    graph = coo_matrix(
        (np.ones(keep.sum(), dtype=np.int8), (i[keep], j[keep])), shape=(len(parts), len(parts))
    )
    groups, label = connected_components(graph, directed=False)
    return shapely.get_parts(_union_groups(parts, label, groups))


def union_overlap(
    geoms: np.ndarray,
    layer: np.ndarray,
    areas: np.ndarray | None = None,
    tree: shapely.STRtree | None = None,
) -> np.ndarray:
    """area(P ∩ ∪layer) for each plot P (m²); overlapping layer parts count once.

    ``tree`` is an STRtree over ``geoms`` (built here if not given): the layer's small
    pieces are the prepared side of every test, and only plots that cross a piece's edge
    are intersected.
    """
    n = len(geoms)
    layer = np.asarray(layer, dtype=object)
    layer = layer[~shapely.is_missing(layer) & ~shapely.is_empty(layer)]
    if n == 0 or len(layer) == 0:
        return np.zeros(n)
    pieces = subdivide(dissolve(layer))
    shapely.prepare(pieces)
    tree = tree if tree is not None else shapely.STRtree(geoms)
    piece_idx, plot_idx = query(tree, pieces, "intersects")
    if areas is None:
        areas = shapely.area(geoms)
    inside = shapely.contains_properly(pieces[piece_idx], geoms[plot_idx])
    part = np.empty(len(plot_idx))
    part[inside] = areas[plot_idx[inside]]
    cut = ~inside
    part[cut] = shapely.area(shapely.intersection(geoms[plot_idx[cut]], pieces[piece_idx[cut]]))
    overlap = np.bincount(plot_idx, weights=part, minlength=n)
    # A plot covered by several pieces sums their parts with ~1e-15 relative rounding:
    # call it covered (not 0.999999999998) so a threshold of 1.0 still holds for it.
    covered = overlap >= areas * (1 - 1e-9)
    overlap[covered] = areas[covered]
    return overlap


def share(overlap: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Overlap / area, clipped to [0, 1] (SPEC §4)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(overlap / areas, 0.0, 1.0)


def code_rank(ids) -> np.ndarray:
    """Rank of each id in Unicode code-point order (0 = smallest)."""
    ids = np.asarray(ids, dtype=str)
    order = np.argsort(ids, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


def largest_overlap(
    geoms: np.ndarray, layer: np.ndarray, layer_ids, tree: shapely.STRtree | None = None
) -> np.ndarray:
    """Id of the layer polygon with the largest overlap with each plot ("" if none).

    Ties: smallest id. Only positive-area overlaps count (touching is not overlapping).
    """
    n = len(geoms)
    out = np.full(n, "", dtype=object)
    if n == 0 or len(layer) == 0:
        return out
    layer = np.asarray(layer, dtype=object)
    tree = tree if tree is not None else shapely.STRtree(geoms)
    poly_idx, plot_idx = query(tree, layer, "intersects")
    if not len(plot_idx):
        return out
    # A plot with a single candidate that holds it inside has that candidate: its overlap
    # is positive and nothing competes, so its value is not needed (towns, clusters).
    count = np.bincount(plot_idx, minlength=n)
    overlap = np.ones(len(plot_idx))
    alone = np.flatnonzero(count[plot_idx] == 1)
    shapely.prepare(layer)
    inside = np.zeros(len(plot_idx), dtype=bool)
    inside[alone] = shapely.contains_properly(layer[poly_idx[alone]], geoms[plot_idx[alone]])
    cut = ~inside
    overlap[cut] = shapely.area(shapely.intersection(geoms[plot_idx[cut]], layer[poly_idx[cut]]))
    rank = code_rank(layer_ids)
    pos = overlap > 0
    plot_idx, poly_idx, overlap = plot_idx[pos], poly_idx[pos], overlap[pos]
    if not len(plot_idx):
        return out
    order = np.lexsort((rank[poly_idx], -overlap, plot_idx))
    plot_sorted = plot_idx[order]
    first = np.r_[True, plot_sorted[1:] != plot_sorted[:-1]]
    out[plot_sorted[first]] = np.asarray(layer_ids, dtype=object)[poly_idx[order][first]]
    return out


def nearest(geoms: np.ndarray, layer: np.ndarray, layer_ids) -> tuple[np.ndarray, np.ndarray]:
    """Nearest layer feature of each plot and its distance (0 where they touch or overlap).

    Ties at the same distance: smallest id. No layer features: ("", NaN).
    Exact and fast: the feature whose bounding-box centre is nearest to the plot's gives
    an upper bound U of the plot's distance; every feature within U of the plot is a
    candidate, and the candidates' exact distances decide.
    """
    n = len(geoms)
    ids_out = np.full(n, "", dtype=object)
    dist_out = np.full(n, np.nan)
    layer = np.asarray(layer, dtype=object)
    if n == 0 or len(layer) == 0:
        return ids_out, dist_out
    tree = shapely.STRtree(layer)
    box = shapely.bounds(geoms)
    centre = np.column_stack([(box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2])
    lbox = shapely.bounds(layer)
    lcentre = np.column_stack([(lbox[:, 0] + lbox[:, 2]) / 2, (lbox[:, 1] + lbox[:, 3]) / 2])
    centre_idx = np.arange(n)
    _, centre_near = cKDTree(lcentre).query(centre, workers=-1)
    bound = elementwise(shapely.distance, geoms, layer[centre_near])
    # a hair of slack so float rounding in the within-distance test never drops the best
    plot_idx, poly_idx = query(tree, widened_boxes(geoms, bound * (1 + 1e-9) + 1e-9), None)
    # the box test lets through features beyond the bound: drop them by box distance
    # (cheap) before the exact distances; the best feature is never beyond the bound
    gap_x = np.maximum(
        0, np.maximum(lbox[poly_idx, 0] - box[plot_idx, 2], box[plot_idx, 0] - lbox[poly_idx, 2])
    )
    gap_y = np.maximum(
        0, np.maximum(lbox[poly_idx, 1] - box[plot_idx, 3], box[plot_idx, 1] - lbox[poly_idx, 3])
    )
    lim = bound[plot_idx] * (1 + 1e-9) + 1e-9
    near = gap_x * gap_x + gap_y * gap_y <= lim * lim
    plot_idx, poly_idx = plot_idx[near], poly_idx[near]
    plot_idx = np.concatenate([plot_idx, centre_idx])
    poly_idx = np.concatenate([poly_idx, centre_near])
    dist = elementwise(shapely.distance, geoms[plot_idx], layer[poly_idx])
    rank = code_rank(layer_ids)
    order = np.lexsort((rank[poly_idx], dist, plot_idx))
    plot_sorted = plot_idx[order]
    first = np.r_[True, plot_sorted[1:] != plot_sorted[:-1]]
    ids_out[plot_sorted[first]] = np.asarray(layer_ids, dtype=object)[poly_idx[order][first]]
    dist_out[plot_sorted[first]] = dist[order][first]
    return ids_out, dist_out


def adjacency_pairs(
    geoms: np.ndarray, gap_m: float, tree: shapely.STRtree | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of plots at distance ≤ ``gap_m`` (touching: 0), with that distance.

    Candidates come from the tree (with a hair of slack) and the exact distance decides,
    so a smaller gap can reuse these pairs by filtering on the distance alone.
    """
    tree = tree if tree is not None else shapely.STRtree(geoms)
    # boxes widened by the gap (a hair of slack) find every pair within it; the one
    # exact distance pass below decides (a dwithin query would compute it twice)
    i, j = query(tree, widened_boxes(geoms, gap_m * (1 + 1e-9) + 1e-9), None)
    keep = i < j
    i, j = i[keep], j[keep]
    dist = elementwise(shapely.distance, geoms[i], geoms[j])
    close = dist <= gap_m
    i, j, dist = i[close], j[close], dist[close]
    order = np.lexsort((j, i))
    return i[order], j[order], dist[order]


def village_parks(
    pairs: tuple[np.ndarray, ...], plot_ids, area_m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Connected groups of linked plots (SPEC §4).

    Returns (group label per plot, village_park_id = smallest parcel_id of the group,
    village_park_mu = the group's total area in mu).
    """
    n = len(area_m2)
    i, j = pairs[0], pairs[1]
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    rank = code_rank(plot_ids)
    groups = label.max() + 1 if n else 0
    min_rank = np.full(groups, np.iinfo(np.int64).max)
    np.minimum.at(min_rank, label, rank)
    by_rank = np.empty(n, dtype=object)
    by_rank[rank] = np.asarray(plot_ids, dtype=object)
    group_id = by_rank[min_rank]
    group_m2 = np.bincount(label, weights=area_m2, minlength=groups)
    return label, group_id[label], to_mu(group_m2)[label]


def linked_parks(
    label: np.ndarray, park_id: np.ndarray, park_m: np.ndarray, contact_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Township park each plot's village park is contiguous with (SPEC §4).

    Among the group's plots with ``nearest_park_m`` ≤ ``contact_m``, the park of the plot
    with the smallest distance (ties: smallest park id). Returns (park id or "", that
    plot's distance or NaN) per plot.
    """
    n = len(label)
    ids_out = np.full(n, "", dtype=object)
    dist_out = np.full(n, np.nan)
    close = np.flatnonzero(park_m <= contact_m)  # NaN (no parks) compares False
    if not len(close):
        return ids_out, dist_out
    cand_park = np.asarray(park_id, dtype=object)[close]
    park_rank = code_rank(cand_park)
    order = np.lexsort((park_rank, park_m[close], label[close]))
    lab_sorted = label[close][order]
    first = np.r_[True, lab_sorted[1:] != lab_sorted[:-1]]
    groups = label.max() + 1
    best_park = np.full(groups, "", dtype=object)
    best_m = np.full(groups, np.nan)
    best_park[lab_sorted[first]] = cand_park[order][first]
    best_m[lab_sorted[first]] = park_m[close][order][first]
    return best_park[label], best_m[label]


@dataclass
class PlotSet:
    """The usable plots of a parcels layer, with what every measure needs (computed once)."""

    index: pd.Index  # the parcels frame's index (all rows)
    ok: np.ndarray  # usable rows (an empty ``problem``)
    geoms: np.ndarray  # usable plot geometries
    ids: np.ndarray  # their parcel_id
    area: np.ndarray  # their area in m²
    tree: shapely.STRtree  # over ``geoms``

    @classmethod
    def of(cls, parcels: pd.DataFrame, problem=None) -> PlotSet:
        """The plots of ``parcels`` whose ``problem`` (aligned to the rows; default none)
        is empty."""
        n = len(parcels)
        problem = (
            np.full(n, "", dtype=object)
            if problem is None
            else pd.Series(problem).fillna("").to_numpy(dtype=object)
        )
        ok = problem == ""
        geoms = np.asarray(parcels.geometry.array, dtype=object)[ok]
        return cls(
            parcels.index,
            ok,
            geoms,
            parcels["parcel_id"].to_numpy(dtype=object)[ok],
            shapely.area(geoms),
            shapely.STRtree(geoms),
        )


def layer_measures(plots: PlotSet, name: str, layer) -> dict[str, np.ndarray]:
    """The SPEC §4 measures that depend on one context layer (None: no such layer)."""
    geoms = (
        np.asarray(layer.geometry.array, dtype=object)
        if layer is not None
        else np.empty(0, dtype=object)
    )
    if name == "dev_boundary":
        return {
            "boundary_share": share(
                union_overlap(plots.geoms, geoms, plots.area, plots.tree), plots.area
            )
        }
    if name == "cluster_points":
        ids = layer["cluster_id"].to_numpy(str) if layer is not None else np.empty(0, str)
        return {
            "cluster_share": share(
                union_overlap(plots.geoms, geoms, plots.area, plots.tree), plots.area
            ),
            "cluster_id": largest_overlap(plots.geoms, geoms, ids, plots.tree),
        }
    if name == "protected":
        return {
            "protected_share": share(
                union_overlap(plots.geoms, geoms, plots.area, plots.tree), plots.area
            )
        }
    if name == "township_parks":
        ids = layer["park_id"].to_numpy(str) if layer is not None else np.empty(0, str)
        park_id, park_m = nearest(plots.geoms, geoms, ids)
        return {"nearest_park_id": park_id, "nearest_park_m": park_m}
    raise ValueError(f"no measures depend on layer {name!r}")


#: Context layers with their own measures, and the timing key of each.
MEASURED_LAYERS = {
    "dev_boundary": "boundary",
    "cluster_points": "cluster",
    "protected": "protected",
    "township_parks": "nearest_park",
}


def group_measures(
    plots: PlotSet, base: dict[str, np.ndarray], pairs: tuple[np.ndarray, ...], contact_m: float
) -> dict[str, np.ndarray]:
    """Village parks and linked parks from adjacency pairs (SPEC §4)."""
    label, vp_id, vp_mu = village_parks(pairs, plots.ids, plots.area)
    linked, linked_m = linked_parks(
        label, base["nearest_park_id"], base["nearest_park_m"], contact_m
    )
    return {
        "village_park_id": vp_id,
        "village_park_mu": vp_mu,
        "linked_park_id": linked,
        "linked_park_m": linked_m,
        "village_park_group": label,
    }


def assemble(plots: PlotSet, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Measures of the usable plots as a frame over every row (NaN / "" elsewhere)."""
    n = len(plots.index)
    full = {"area_m2": plots.area, "area_mu": to_mu(plots.area), **values}
    out = {}
    for col in [*MEASURE_COLUMNS, *DECISION_COLUMNS]:
        v = full[col]
        if col == "village_park_group":
            arr = np.full(n, -1, dtype=np.int64)
        elif v.dtype == object:
            arr = np.full(n, "", dtype=object)
        else:
            arr = np.full(n, np.nan)
        arr[plots.ok] = v
        out[col] = arr
    return pd.DataFrame(out, index=plots.index)


def measure(
    parcels,
    dev_boundary,
    township_parks,
    cluster_points,
    protected,
    params,
    timings: dict | None = None,
    *,
    problem=None,
) -> pd.DataFrame:
    """All SPEC §4 measures for the usable plots; unusable rows get NaN and "".

    Parameters
    ----------
    parcels
        GeoDataFrame in the analysis CRS with ``parcel_id``.
    dev_boundary, township_parks, cluster_points, protected
        Context layers in the same CRS (``protected`` may be None).
    params
        Parameters (``adjacency_gap_m``, ``park_contact_m`` are used here).
    timings
        If given, receives seconds per measure kind.
    problem
        Why each plot cannot be measured, aligned to ``parcels`` ("" where it can; default:
        every plot can), :meth:`zoning.layers.Layers.problem`.

    Returns :data:`MEASURE_COLUMNS` and :data:`DECISION_COLUMNS`, one row per plot.
    """
    t = time.perf_counter
    timings = timings if timings is not None else {}
    t0 = t()
    plots = PlotSet.of(parcels, problem)
    timings["area"] = t() - t0
    layers = {
        "dev_boundary": dev_boundary,
        "cluster_points": cluster_points,
        "protected": protected,
        "township_parks": township_parks,
    }
    base: dict[str, np.ndarray] = {}
    for name, key in MEASURED_LAYERS.items():
        t0 = t()
        base.update(layer_measures(plots, name, layers[name]))
        timings[key] = t() - t0
    t0 = t()
    pairs = adjacency_pairs(plots.geoms, float(params["adjacency_gap_m"]), plots.tree)
    groups = group_measures(plots, base, pairs, float(params["park_contact_m"]))
    timings["village_parks"] = t() - t0
    return assemble(plots, {**base, **groups})
