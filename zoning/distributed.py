"""Province scale on dask-geopandas + distributed (issue 20): SPEC §4–§5 per partition.

A *dataset* (``zoning partition``) is a folder:

- ``parcels/*.parquet``: GeoParquet files of plots in the analysis CRS, already read,
  renamed, checked and repaired like ``zoning classify`` does it (one file per county, or
  a county cut along the Hilbert curve into files of ``rows_per_part`` plots). Besides
  the plots' attributes each row carries ``_problem`` (why it cannot be classified, or
  ""), ``_row`` (its position in the province: counties in the order given, rows in file
  order), ``_county`` and ``_src_row`` (its 1-based row in the county's file);
- ``context.gpkg``: the context layers (boundary, township parks, cluster points,
  protected land, towns), small enough to broadcast to every worker;
- ``dataset.json``: CRS, counties, files and rows; ``issues.csv``: what reading found.

:func:`classify_dataset` runs in three phases on a dask cluster (a LocalCluster of
processes with a memory limit per worker by default, or any scheduler by address):

1. per partition: the measures of :mod:`zoning.measures` against the broadcast context
   layers, adjacency pairs and connected components inside the partition, the
   partition's hull;
2. per pair of partitions whose hulls lie within ``adjacency_gap_m``: the pairs of plots
   across the border (the halo: each side's plots within the gap of the other's hull);
   the driver merges local groups into village parks as a graph of (partition, label)
   nodes, names each by its smallest ``parcel_id``, sums its area in province row order
   (the order one process sums in, so ``village_park_mu`` is the same float) and picks
   the linked park of each group;
3. per partition: the village-park facts back onto the plots, the decision table
   (:func:`zoning.rules.decide`), the output file ``OUT/parcels/<file>.parquet`` and the
   village parks lying wholly in the partition (``OUT/village_parks/<file>.parquet``);
   the driver finishes the parks that span partitions from their plots' facts and one
   dissolved piece per partition (``OUT/village_parks/~across.parquet``).

Memory per worker does not grow with the province: a task carries only the context
features near its partition (the township parks are broadcast whole), at most two tasks
per worker are submitted at a time, and phase 1's measures wait for phase 3 in a file of
the output's staging folder, not in the workers' memory.

The answer is the single-process answer plot by plot (class, rule, target, reason,
village park id and mu, every measure) and park by park: tested in
``tests/test_distributed.py``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .errors import LayerError, ZoningError, first_line
from .measures import (
    MEASURE_COLUMNS,
    MEASURED_LAYERS,
    PlotSet,
    adjacency_pairs,
    assemble,
    code_rank,
    layer_measures,
    to_mu,
    village_parks,
)

#: Private columns of a dataset's plots (dropped from the output).
PRIVATE = ["_row", "_county", "_src_row"]
MANIFEST = "dataset.json"
CONTEXT = "context.gpkg"
CONTEXT_NAMES = ("dev_boundary", "township_parks", "cluster_points", "protected", "towns")
#: Default memory limit of each LocalCluster worker.
WORKER_MEMORY = "2GiB"


# ----------------------------------------------------------------------------- partition


def target_crs(counties: list[tuple[str, dict]], config) -> str:
    """The analysis CRS of the whole province (SPEC §2): configured, else the GK CM zone
    nearest the centre of the union of the counties' parcels extents (read from the files'
    headers, not their rows)."""
    import pyogrio

    from . import crs as zcrs
    from .config import check_crs

    if "analysis" in config.crs:
        check_crs({"analysis": config.crs["analysis"]}, "config")
        return str(config.crs["analysis"])
    boxes = []
    for _, sources in counties:
        src = sources["parcels"]
        declared = config.crs.get("parcels")
        try:
            info = (
                pyogrio.read_info(src.path, layer=src.layer)
                if src.path.suffix.lower() not in (".parquet", ".geoparquet")
                else None
            )
            if info is None:
                g = gpd.read_parquet(src.path, columns=["geometry"])
                bounds, crs = g.total_bounds, g.crs
            else:
                bounds, crs = info["total_bounds"], info["crs"]
        except Exception as exc:
            raise LayerError(f"cannot read ({first_line(exc)})", str(src.path), src.layer) from None
        crs = declared or crs
        if crs is None or not np.isfinite(bounds).all():
            raise LayerError(
                "no CRS or no extent to choose the analysis CRS from; set "
                "[crs] analysis in the config",
                str(src.path),
                src.layer,
            )
        try:
            boxes.append(zcrs.lonlat_bounds(tuple(bounds), crs))
        except Exception as exc:
            raise LayerError(
                f"cannot place the extent ({first_line(exc)}); set [crs] analysis in the config",
                str(src.path),
                src.layer,
            ) from None
    b = np.asarray(boxes, dtype=float)
    lon = (b[:, 0].min() + b[:, 2].max()) / 2.0
    return f"EPSG:{zcrs.gk_cm_epsg(lon)}"


def hilbert_parts(parcels: gpd.GeoDataFrame, rows_per_part: int) -> list[np.ndarray]:
    """Positions of the plots cut into runs of ``rows_per_part`` along the Hilbert curve
    of their bounding-box centres (metres; plots without geometry go with the first run);
    each run in row order."""
    n = len(parcels)
    if n <= rows_per_part:
        return [np.arange(n)]
    geoms = parcels.geometry
    present = ~(geoms.isna() | geoms.is_empty).to_numpy()
    key = np.zeros(n, dtype=np.int64)
    key[present] = geoms[present].hilbert_distance(total_bounds=geoms[present].total_bounds)
    order = np.argsort(key, kind="stable")
    k = math.ceil(n / rows_per_part)
    return [np.sort(run) for run in np.array_split(order, k)]


def _safe(name: str) -> str:
    return "".join(c if (c.isalnum() or c in "-_") else "_" for c in name) or "county"


def partition(
    counties: list[tuple[str, dict]],
    out_dir: str | os.PathLike,
    config,
    context: dict | None = None,
    rows_per_part: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write a dataset (see the module doc) from county inputs.

    Parameters
    ----------
    counties
        (county name, layer sources as :func:`zoning.cli.resolve_inputs` gives them) in
        province order; without ``context`` each county brings its own context layers and
        they are put together (ids must stay unique across counties).
    context
        Layer sources of the province's context layers (the parcels of it are not read).
    rows_per_part
        Cut each county into files of at most this many plots along the Hilbert curve
        (default: one file per county).
    """
    from ._io import output_set, write_layers
    from .layers import IssueLog
    from .report import write_csv
    from .styles import for_layers

    say = progress or (lambda msg: None)
    crs = target_crs(counties, config)
    cfg = dataclasses.replace(config, crs={**config.crs, "analysis": crs})
    say(f"analysis CRS {crs}")
    seen: dict[str, str] = {}
    ctx_frames: dict[str, list[gpd.GeoDataFrame]] = {n: [] for n in CONTEXT_NAMES}
    issues, records, offset = [], [], 0
    used_names: set[str] = set()
    with output_set(out_dir) as stage:
        (stage / "parcels").mkdir()
        for county, sources in counties:
            say(f"reading {county}")
            layers = read_parcels(sources["parcels"], cfg, crs)
            p = layers.parcels.reset_index(drop=True)
            ids = p["parcel_id"].astype(str)
            clash = [i for i in ids if i in seen]
            if clash:
                raise LayerError(
                    f"parcel_id also in county {seen[clash[0]]!r}: ids must be "
                    f"unique across the province ({', '.join(clash[:5])})",
                    str(sources["parcels"].path),
                    "parcels",
                )
            seen.update(dict.fromkeys(ids, county))
            p["_row"] = np.arange(offset, offset + len(p), dtype=np.int64)
            p["_county"] = county
            src_rows = layers.issues.source_rows.get("parcels")
            p["_src_row"] = (
                src_rows[np.arange(len(p))] + 1
                if src_rows is not None
                else np.arange(1, len(p) + 1)
            ).astype(np.int64)
            offset += len(p)
            log = layers.issues.frame()
            log.insert(0, "county", county)
            issues.append(log)
            if context is None:
                county_log = IssueLog()
                for name, gdf in load_context(sources, cfg, crs, county_log).items():
                    ctx_frames[name].append(gdf.drop(columns=["_problem"], errors="ignore"))
                issues.append(county_log.frame().assign(county=county))
            base = _safe(county)
            while base in used_names:
                base += "_"
            used_names.add(base)
            runs = hilbert_parts(p, rows_per_part) if rows_per_part else [np.arange(len(p))]
            files = []
            for k, run in enumerate(runs):
                fname = f"{base}.parquet" if len(runs) == 1 else f"{base}.{k:04d}.parquet"
                p.iloc[run].reset_index(drop=True).to_parquet(
                    stage / "parcels" / fname, index=False
                )
                files.append(fname)
            records.append(
                {"county": county, "rows": len(p), "files": files, "inputs": layers.inputs}
            )
        ctx = (
            load_context(context, cfg, crs, IssueLog())
            if context is not None
            else {n: _concat(f, n) for n, f in ctx_frames.items() if f}
        )
        for name in ("dev_boundary", "township_parks", "cluster_points"):
            if ctx.get(name) is None:
                raise LayerError(
                    "required layer not given (by the counties or --context)", None, name
                )
        given = {n: g for n, g in ctx.items() if g is not None}
        write_layers(stage / CONTEXT, given, styles=for_layers(given))
        cols = ["county", "layer", "row", "id", "action", "reason"]
        write_csv(pd.concat([i[cols] for i in issues], ignore_index=True), stage / "issues.csv")
        manifest = {
            "crs": crs,
            "rows": offset,
            "counties": records,
            "parameters_read_with": list(config.sources),
        }
        (stage / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
        )
    say(
        f"done: {offset} plots of {len(counties)} county(ies) in "
        f"{sum(len(r['files']) for r in records)} file(s)"
    )
    return manifest


def county_inputs(paths: list[str | os.PathLike], context_given: bool) -> list[tuple[str, dict]]:
    """(county, layer sources) of ``zoning partition``'s INPUTs, in the order given.

    A file is one county named by the file: a GeoPackage with the SPEC §3 layers, or,
    when the province's context layers are given apart, a file whose only layer is the
    plots (a GeoParquet file, a one-layer GeoPackage or shapefile). A folder of
    GeoParquet files (with the context given apart) is one county per file, named by the
    folder's ``county=VALUE`` part in a hive-partitioned dataset, else by the file; the
    files in path order."""
    from .layers import Source, list_layers
    from .outputs import resolve_inputs

    out: list[tuple[str, dict]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir() and path.suffix.lower() != ".gdb":
            files = sorted(path.rglob("*.parquet"))
            if not files or not context_given:
                raise ZoningError(
                    f"{path}: a folder is read as GeoParquet plots, one file "
                    "per county, with the context layers given by --context"
                    + ("" if files else " (it has no .parquet file)")
                )
            for f in files:
                hive = [
                    part.split("=", 1)[1] for part in f.relative_to(path).parts[:-1] if "=" in part
                ]
                out.append((hive[0] if hive else f.stem, {"parcels": Source(f)}))
            continue
        if path.exists() and len(list_layers(path)) == 1:
            if not context_given:
                raise ZoningError(
                    f"{path}: one layer, read as the county's plots; give the "
                    "province's context layers with --context"
                )
            out.append((path.stem, {"parcels": Source(path)}))
            continue
        out.append(
            (
                path.stem,
                resolve_inputs(str(path), {}, optional=("protected", "towns"))
                if not context_given
                else resolve_inputs(str(path), {}, needs=("parcels",), optional=()),
            )
        )
    names = [c for c, _ in out]
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise ZoningError(
            f"two inputs name the same county ({', '.join(twice)}): give one "
            "file per county, or rename a file"
        )
    return out


def _concat(frames: list[gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame:
    from .layers import ID_FIELDS

    if len(frames) == 1:
        return frames[0]
    out = gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs
    )
    # the same feature given by two counties (a park on their border) counts once
    key = shapely.to_wkb(out.geometry.array, hex=True).astype(object)
    for col in out.columns.drop("geometry"):
        key = key + "\x00" + out[col].astype(str).to_numpy(dtype=object)
    out = out[~pd.Series(key).duplicated().to_numpy()].reset_index(drop=True)
    idf = ID_FIELDS.get(name)
    if idf:
        dup = out[idf].astype(str)
        dup = dup[dup.duplicated()]
        if len(dup):
            raise LayerError(
                f"{idf} not unique across counties ({', '.join(dup[:5])}); give "
                "the province's context layers with --context",
                None,
                name,
            )
    return out


def read_parcels(src, config, crs: str) -> SimpleNamespace:
    """The parcels layer of one county as :func:`zoning.layers.load_layers` reads it
    (renamed, [select.parcels], checked, in ``crs``, repaired; unusable rows kept with
    ``_problem``), without the context layers; ``parcels``, ``issues``, ``inputs``."""
    import pyproj

    from .layers import (
        IssueLog,
        fingerprint,
        prepare_layer,
        read_raw,
        select_rows,
        source_rows_in_errors,
        to_analysis,
    )

    issues = IssueLog()
    gdf = read_raw(src, "parcels", config, issues)
    n_read = len(gdf)
    gdf = select_rows(gdf, "parcels", config, str(src.path), issues)
    with source_rows_in_errors(issues, "parcels"):
        prepared = prepare_layer(gdf, "parcels", str(src.path), config, issues)
        parcels = to_analysis(
            prepared,
            "parcels",
            str(src.path),
            pyproj.CRS.from_user_input(crs),
            issues,
            keep_invalid_rows=True,
        )
    inputs = {
        "parcels": {
            "path": str(src.path),
            "layer": src.layer or "parcels",
            "sha256": fingerprint(src.path),
            "rows": str(n_read),
        }
    }
    return SimpleNamespace(parcels=parcels, issues=issues, inputs=inputs)


def load_context(sources: dict, config, crs: str, issues) -> dict:
    """Context layers from their own files, checked and repaired, in ``crs``."""
    import pyproj

    from .layers import prepare_layer, protected_kind, read_raw, to_analysis

    out = {}
    target = pyproj.CRS.from_user_input(crs)
    for name in CONTEXT_NAMES:
        given = sources.get(name)
        if given is None:
            continue
        srcs = given if isinstance(given, list | tuple) else [given]
        frames = []
        for src in srcs:
            raw = read_raw(src, name, config, issues)
            prepared = prepare_layer(raw, name, str(src.path), config, issues)
            if name == "protected":
                prepared = protected_kind(prepared, src, issues)
            frames.append(
                to_analysis(prepared, name, str(src.path), target, issues, keep_invalid_rows=False)
            )
        out[name] = _concat(frames, name) if len(frames) > 1 else frames[0]
    return out


# ----------------------------------------------------------------------------- context

#: Layers measured through their union (:func:`zoning.measures.union_overlap` dissolves
#: them): a partition gets whole dissolve groups, so its union pieces are the province's.
UNION_LAYERS = ("dev_boundary", "cluster_points", "protected")


def context_index(ctx: dict) -> dict:
    """Per layer, what :func:`context_for` needs to hand a partition only the features
    near it: for the union layers the connected group (parts that intersect, as
    :func:`zoning.measures.dissolve` groups them) of every polygon part and each group's
    bounds; for the towns each feature's bounds. Township parks stay whole (the nearest
    park may be far)."""
    out = {}
    for name in UNION_LAYERS:
        gdf = ctx.get(name)
        if gdf is None:
            continue
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        geoms = np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)
        parts, feat = shapely.get_parts(geoms, return_index=True)
        keep = ~shapely.is_empty(parts) & (shapely.area(parts) > 0)
        parts, feat = parts[keep], feat[keep]
        i, j = shapely.STRtree(parts).query(parts, predicate="intersects")
        graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(len(parts), len(parts)))
        groups, label = connected_components(graph, directed=False)
        b = shapely.bounds(parts)
        gb = np.column_stack(
            [
                np.full(groups, np.inf),
                np.full(groups, np.inf),
                np.full(groups, -np.inf),
                np.full(groups, -np.inf),
            ]
        )
        for k, fn in ((0, np.minimum), (1, np.minimum), (2, np.maximum), (3, np.maximum)):
            fn.at(gb[:, k], label, b[:, k])
        out[name] = {"feat": feat, "label": label, "bounds": gb}
    if ctx.get("towns") is not None:
        out["towns"] = {"bounds": shapely.bounds(np.asarray(ctx["towns"].geometry.array))}
    return out


def _touches(bounds: np.ndarray, box: np.ndarray) -> np.ndarray:
    return (
        (bounds[:, 0] <= box[2])
        & (bounds[:, 2] >= box[0])
        & (bounds[:, 1] <= box[3])
        & (bounds[:, 3] >= box[1])
    )


def context_for(ctx: dict, index: dict, geoms: np.ndarray) -> dict:
    """The context layers a partition's plots need, exactly: every union-layer feature
    with a part in a dissolve group that reaches the plots' bounding box (whole groups,
    features in province order, so the dissolved pieces and their order are those of one
    process), the towns whose bounds reach it, all township parks."""
    if not len(geoms):
        return ctx
    return context_near(ctx, index, np.asarray(shapely.total_bounds(geoms), dtype=float))


def context_near(ctx: dict, index: dict, box: np.ndarray) -> dict:
    """:func:`context_for` of the plots inside ``box`` (minx, miny, maxx, maxy; NaN: no
    plot has a geometry, so no feature is needed)."""
    out = dict(ctx)
    for name, ix in index.items():
        if name == "towns":
            sel = np.flatnonzero(_touches(ix["bounds"], box))
        else:
            near = np.flatnonzero(_touches(ix["bounds"], box))
            sel = np.unique(ix["feat"][np.isin(ix["label"], near)])
        out[name] = ctx[name].iloc[sel]
    return out


def file_box(path: Path) -> np.ndarray:
    """Bounds of a GeoParquet file's geometries, from its ``geo`` metadata (read from the
    geometries when the metadata has none); NaN when it has no geometry."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path).metadata or {}
    try:
        geo = json.loads(meta.get(b"geo", b"{}"))
        bbox = geo["columns"][geo.get("primary_column", "geometry")].get("bbox")
    except (ValueError, KeyError, TypeError):
        bbox = None
    if bbox is None or len(bbox) != 4:
        geoms = gpd.read_parquet(path, columns=["geometry"]).geometry.array
        geoms = np.asarray(geoms, dtype=object)
        geoms = geoms[~shapely.is_missing(geoms)]
        return np.asarray(shapely.total_bounds(geoms) if len(geoms) else [np.nan] * 4, dtype=float)
    return np.asarray(bbox, dtype=float)


# ----------------------------------------------------------------------------- workers


def _plots(part: gpd.GeoDataFrame, tree: bool = True) -> PlotSet:
    if tree:
        return PlotSet.of(part, part["_problem"])
    problem = part["_problem"].fillna("").to_numpy(dtype=object)
    ok = problem == ""
    geoms = np.asarray(part.geometry.array, dtype=object)[ok]
    return PlotSet(
        part.index,
        ok,
        geoms,
        part["parcel_id"].to_numpy(dtype=object)[ok],
        shapely.area(geoms),
        None,
    )


def measure_part(
    part: gpd.GeoDataFrame,
    ctx: dict,
    params: dict,
    index: dict | None = None,
    parks: gpd.GeoDataFrame | None = None,
    spill: str | None = None,
) -> dict:
    """Phase 1 on one partition: every measure that needs no other partition, the local
    village parks (labels), the hull of the partition's plots, and what the driver needs
    to merge groups across partitions. ``parks`` replaces ``ctx``'s township parks (they
    travel apart: every partition needs them whole). With ``spill`` the measures
    (``base``) go to that file instead of staying in the worker's memory until phase 3."""
    import pickle

    if parks is not None:
        ctx = {**ctx, "township_parks": parks}
    part = part.reset_index(drop=True)
    plots = _plots(part)
    if index is not None:
        ctx = context_for(ctx, index, plots.geoms)
    base: dict[str, np.ndarray] = {}
    for name in MEASURED_LAYERS:
        base.update(layer_measures(plots, name, ctx.get(name)))
    pairs = adjacency_pairs(plots.geoms, float(params["adjacency_gap_m"]), plots.tree)
    label, local_id, _ = village_parks(pairs, plots.ids, plots.area)
    groups = int(label.max()) + 1 if len(label) else 0
    first = np.full(groups, -1, dtype=np.int64)
    first[label[::-1]] = np.arange(len(label))[::-1]
    rows = part["_row"].to_numpy(dtype=np.int64)[plots.ok]
    contact = float(params["park_contact_m"])
    close = np.flatnonzero(base["nearest_park_m"] <= contact)
    hull = (
        shapely.convex_hull(shapely.geometrycollections(plots.geoms)) if len(plots.geoms) else None
    )
    out = {
        "base": base,
        "label": label,
        "hull": hull,
        "rows": rows,
        "area": plots.area,
        "group_min_id": local_id[first].astype(str),
        "close_rows": rows[close],
        "close_m": base["nearest_park_m"][close],
        "close_park": base["nearest_park_id"][close].astype(str),
    }
    if spill is not None:
        with open(spill, "wb") as f:
            pickle.dump(base, f, protocol=pickle.HIGHEST_PROTOCOL)
        out["base"] = None
    return out


def cross_pairs(
    a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, hull_a, hull_b, gap_m: float
) -> np.ndarray:
    """Pairs of global rows (smaller first) of plots of ``a`` and ``b`` at distance ≤
    ``gap_m``: each side's halo is its plots within the gap of the other side's hull.
    The distance is taken with the smaller row first, as one process takes it."""
    pa, pb = _plots(a, tree=False), _plots(b, tree=False)
    ra = a["_row"].to_numpy(dtype=np.int64)[pa.ok]
    rb = b["_row"].to_numpy(dtype=np.int64)[pb.ok]
    slack = gap_m * (1 + 1e-9) + 1e-9
    shapely.prepare(hull_a)
    shapely.prepare(hull_b)
    ha = np.flatnonzero(shapely.dwithin(pa.geoms, hull_b, slack))
    hb = np.flatnonzero(shapely.dwithin(pb.geoms, hull_a, slack))
    if not len(ha) or not len(hb):
        return np.empty((0, 2), dtype=np.int64)
    ga, gb = pa.geoms[ha], pb.geoms[hb]
    j, i = shapely.STRtree(gb).query(ga, predicate="dwithin", distance=slack)
    if not len(i):
        return np.empty((0, 2), dtype=np.int64)
    row_i, row_j = ra[ha][j], rb[hb][i]
    first = np.where(row_i < row_j, 0, 1)
    left = np.where(first == 0, ga[j], gb[i])
    right = np.where(first == 0, gb[i], ga[j])
    dist = shapely.distance(left, right)
    keep = dist <= gap_m
    lo, hi = np.minimum(row_i, row_j)[keep], np.maximum(row_i, row_j)[keep]
    return np.column_stack([lo, hi])


def finish_part(
    part: gpd.GeoDataFrame,
    measured: dict,
    groups: dict,
    ctx: dict,
    params: dict,
    lang: str,
    target: str,
    index: dict | None = None,
    parks: gpd.GeoDataFrame | None = None,
    spill: str | None = None,
) -> dict:
    """Phase 3 on one partition: village-park facts onto the plots, the decision table,
    the output file; returns the partition's slim facts for the summary and its issues.
    ``measured`` is phase 1's result (its ``label`` at least; ``base`` read from
    ``spill`` when given)."""
    import pickle

    from .classification import check_official_area, check_towns, plot_attributes
    from .layers import IssueLog
    from .rules import decide

    if parks is not None:
        ctx = {**ctx, "township_parks": parks}
    if spill is not None:
        with open(spill, "rb") as f:
            measured = {**measured, "base": pickle.load(f)}
    part = part.reset_index(drop=True)
    plots = _plots(part, tree=False)
    if index is not None:
        whole = np.asarray(part.geometry.array, dtype=object)
        ctx = context_for(ctx, index, whole[~shapely.is_missing(whole)])
    label = measured["label"]
    values = {
        **measured["base"],
        "village_park_id": groups["vp_id"][label],
        "village_park_mu": groups["vp_mu"][label],
        "linked_park_id": groups["linked"][label],
        "linked_park_m": groups["linked_m"][label],
        "village_park_group": label,
    }
    m = assemble(plots, values)
    log = IssueLog()
    check_official_area(part, m["area_m2"], log)
    check_towns(part, ctx.get("towns"), log)
    private = part[PRIVATE]
    plain = part.drop(columns=PRIVATE)
    public = plain.drop(columns=["_problem"], errors="ignore")  # as Layers.public gives it
    attrs = plot_attributes(
        SimpleNamespace(  # type: ignore[arg-type]  # Layers' 3 members
            parcels=plain, towns=ctx.get("towns"), public=lambda name: public
        ),
        log,
    )
    problem = plain["_problem"] if "_problem" in plain else None
    decision = decide(m, attrs, params, problem, lang)
    out = pd.concat(
        [attrs[["parcel_id"]], decision, m[MEASURE_COLUMNS], attrs.drop(columns=["parcel_id"])],
        axis=1,
    )
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=part.crs)
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]  # as in the GPKG
    out.to_parquet(target, index=False)
    whole, across, pieces = village_park_pieces(
        out, m["village_park_group"].to_numpy(), groups, part["_row"].to_numpy()
    )
    if len(whole):  # beside parcels/ (made by the driver)
        whole.to_parquet(Path(target).parent.parent / VP_FOLDER / Path(target).name, index=False)
    issues = log.frame()
    if len(issues):
        pos = issues["row"].astype("int64").to_numpy() - 1
        issues["row"] = private["_src_row"].to_numpy()[pos]
        issues.insert(0, "county", private["_county"].to_numpy()[pos])
    # what the summaries read, as categories (a few bytes a plot on the driver); a town of
    # None is "" as summarise reads it
    slim = pd.DataFrame(
        {
            "county": pd.Categorical(private["_county"].astype(str)),
            "town": pd.Categorical(out["town"].fillna("").astype(str)),
            "class": pd.Categorical(out["class"].astype(str)),
            "area_m2": out["area_m2"].to_numpy(),
        }
    )
    if "official_area_m2" in out:
        slim["official_area_m2"] = out["official_area_m2"]
    return {
        "slim": slim,
        "issues": issues,
        "rows": len(out),
        "village_parks": len(whole),
        "vp_across": across,
        "vp_pieces": pieces,
    }


#: Columns of the plots :func:`zoning.classification.village_park_layer` reads.
VP_FACTS = ["village_park_id", "area_m2", "linked_park_id", "town", "class", "official_area_m2"]
#: The output's village_parks dataset, and its file of the parks spanning partitions (a
#: name no partition file has: ``_safe`` keeps no ``~``).
VP_FOLDER = "village_parks"
VP_ACROSS = "~across.parquet"


def village_park_pieces(
    out: gpd.GeoDataFrame, group: np.ndarray, groups: dict, rows: np.ndarray
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """A partition's share of the ``village_parks`` layer: its village parks that lie
    wholly in it, as :func:`zoning.classification.village_park_layer` makes them (the
    plots in province row order, so sums are those of one process); for the parks that
    span partitions, their plots' facts (with ``_row``) and one dissolved piece per local
    group, for the driver to finish (:func:`village_parks_across`)."""
    from .classification import village_park_layer
    from .measures import group_union

    ok = group >= 0
    across = np.zeros(len(group), dtype=bool)
    across[ok] = groups["spans"][group[ok]]
    label = np.full(len(group), -1, dtype=np.int64)
    local = ok & ~across
    label[local] = np.unique(group[local], return_inverse=True)[1]
    whole = village_park_layer(out, pd.Series(label, index=out.index))
    sel = np.flatnonzero(across)
    facts = pd.DataFrame(out.iloc[sel][[c for c in VP_FACTS if c in out]])
    facts["_row"] = rows[sel]
    ulab, inv = np.unique(group[sel], return_inverse=True)
    geoms = group_union(np.asarray(out.geometry.array, dtype=object)[sel], inv, len(ulab))
    pieces = gpd.GeoDataFrame(
        {"village_park_id": groups["vp_id"][ulab]}, geometry=gpd.GeoSeries(geoms, crs=out.crs)
    )
    return whole, facts.reset_index(drop=True), pieces


def village_parks_across(
    facts: list[pd.DataFrame], pieces: list[gpd.GeoDataFrame], crs
) -> gpd.GeoDataFrame:
    """The village parks that span partitions, as one process makes them: their plots'
    facts in province row order, their pieces dissolved together."""
    from .classification import village_park_layer
    from .measures import group_union

    f = pd.concat(facts, ignore_index=True).sort_values("_row", kind="stable")
    f = f.drop(columns="_row").reset_index(drop=True)
    ids, label = np.unique(f["village_park_id"].to_numpy(dtype=str), return_inverse=True)
    pc = pd.concat(pieces, ignore_index=True)
    at = np.searchsorted(ids, pc["village_park_id"].to_numpy(dtype=str))
    geoms = group_union(np.asarray(pc.geometry.array, dtype=object), at, len(ids))
    frame = gpd.GeoDataFrame(f, geometry=gpd.GeoSeries([None] * len(f), crs=crs))
    return village_park_layer(frame, pd.Series(label, index=frame.index), geoms)


# ----------------------------------------------------------------------------- driver


def merge_groups(parts: list[dict], cross: np.ndarray, n_rows: int) -> list[dict]:
    """Village parks of the province from local groups and cross-border pairs.

    Nodes are (partition, local label); an edge joins the nodes of a pair of plots
    across a border. Each connected set of nodes is one village park: named by its
    smallest ``parcel_id``, its mu summed over its plots in province row order (as
    :func:`zoning.measures.village_parks` sums over one process's rows), its linked park
    as :func:`zoning.measures.linked_parks` picks it. Returns, per partition, the facts
    of each local label."""
    sizes = np.array([len(p["group_min_id"]) for p in parts], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)]
    n_nodes = int(offsets[-1])
    node_of_row = np.full(n_rows, -1, dtype=np.int64)
    area_of_row = np.zeros(n_rows)
    for k, p in enumerate(parts):
        node_of_row[p["rows"]] = offsets[k] + p["label"]
        area_of_row[p["rows"]] = p["area"]
    a, b = node_of_row[cross[:, 0]], node_of_row[cross[:, 1]]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes))
    _, comp = connected_components(graph, directed=False)
    n_groups = int(comp.max()) + 1 if n_nodes else 0
    node_min = (
        np.concatenate([p["group_min_id"] for p in parts]) if n_nodes else np.empty(0, dtype=str)
    )
    rank = code_rank(node_min)
    best = np.full(n_groups, np.iinfo(np.int64).max)
    np.minimum.at(best, comp, rank)
    by_rank = np.empty(n_nodes, dtype=object)
    by_rank[rank] = node_min.astype(object)
    vp_id = by_rank[best]
    usable = np.flatnonzero(node_of_row >= 0)  # province row order
    grp_of_row = comp[node_of_row[usable]]
    vp_mu = to_mu(np.bincount(grp_of_row, weights=area_of_row[usable], minlength=n_groups))
    linked = np.full(n_groups, "", dtype=object)
    linked_m = np.full(n_groups, np.nan)
    c_rows = np.concatenate([p["close_rows"] for p in parts])
    if len(c_rows):
        # as linked_parks: candidates in row order, sorted by (group, distance, park rank)
        order0 = np.argsort(c_rows, kind="stable")
        c_rows = c_rows[order0]
        c_m = np.concatenate([p["close_m"] for p in parts])[order0]
        c_park = np.concatenate([p["close_park"] for p in parts]).astype(object)[order0]
        c_grp = comp[node_of_row[c_rows]]
        order = np.lexsort((code_rank(c_park), c_m, c_grp))
        g_sorted = c_grp[order]
        first = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
        linked[g_sorted[first]] = c_park[order][first]
        linked_m[g_sorted[first]] = c_m[order][first]
    spans = np.bincount(comp, minlength=n_groups) > 1  # nodes of several partitions
    out = []
    for k in range(len(parts)):
        g = comp[offsets[k] : offsets[k + 1]]
        out.append(
            {
                "vp_id": vp_id[g],
                "vp_mu": vp_mu[g],
                "linked": linked[g],
                "linked_m": linked_m[g],
                "spans": spans[g],
            }
        )
    return out


def neighbours(hulls: list, gap_m: float) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of partitions whose hulls lie within ``gap_m``."""
    idx = [k for k, h in enumerate(hulls) if h is not None]
    if len(idx) < 2:
        return []
    geoms = np.asarray([hulls[k] for k in idx], dtype=object)
    i, j = shapely.STRtree(geoms).query(
        geoms, predicate="dwithin", distance=gap_m * (1 + 1e-9) + 1e-9
    )
    keep = i < j
    return [(idx[a], idx[b]) for a, b in zip(i[keep], j[keep], strict=True)]


def read_manifest(dataset: Path) -> dict:
    """The manifest of a partitioned dataset (its CRS, rows and counties)."""
    path = dataset / MANIFEST
    if not path.exists():
        raise ZoningError(
            f"{dataset}: not a partitioned dataset (no {MANIFEST}); make one with zoning partition"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ZoningError(f"{path}: cannot read ({first_line(exc)})") from None


def dataset_files(dataset: Path, manifest: dict) -> list[tuple[Path, str]]:
    """(file, county) of every partition, each checked to be a readable GeoParquet with
    the dataset's private columns (a bad partition is one line naming it)."""
    import pyarrow.parquet as pq

    files = []
    for rec in manifest["counties"]:
        for name in rec["files"]:
            path = dataset / "parcels" / name
            try:
                names = pq.read_schema(path).names
            except Exception as exc:
                raise LayerError(
                    f"partition cannot be read ({first_line(exc)})", str(path)
                ) from None
            missing = [c for c in [*PRIVATE, "_problem", "parcel_id", "geometry"] if c not in names]
            if missing:
                raise LayerError(
                    f"partition lacks column(s) {missing}; remake the dataset "
                    "with zoning partition",
                    str(path),
                )
            files.append((path, rec["county"]))
    return files


@dataclasses.dataclass
class Engine:
    """Where the work runs: a scheduler address, or a LocalCluster made (and closed) here."""

    scheduler: str | None = None
    workers: int | None = None
    memory_limit: str = WORKER_MEMORY

    def client(self):
        """A dask client for this engine and the local cluster it started, if any."""
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                return Client(self.scheduler, timeout="20s"), None
            except (OSError, TimeoutError) as exc:
                raise ZoningError(
                    f"no dask scheduler at {self.scheduler} ({first_line(exc)})"
                ) from None
        cluster = LocalCluster(
            n_workers=self.workers or 2,
            threads_per_worker=1,
            processes=True,
            memory_limit=self.memory_limit,
            dashboard_address=None,
        )
        return Client(cluster), cluster


def _gather(client, futures, what: str, names: list[str]):
    """Results of ``futures``; the first failure becomes one line naming the partition."""
    from distributed import wait

    wait(futures)
    for fut, name in zip(futures, names, strict=True):
        if fut.status == "error":
            exc = fut.exception()
            if type(exc).__name__ == "KilledWorker":
                raise ZoningError(
                    f"{what} of {name}: the worker running it died "
                    f"repeatedly ({first_line(exc)}); give workers more "
                    "memory (--worker-memory) or smaller partitions"
                )
            if isinstance(exc, ZoningError):
                raise ZoningError(f"{what} of {name}: {exc}")
            raise ZoningError(f"{what} of {name} failed: {type(exc).__name__}: {first_line(exc)}")
        if fut.status == "cancelled":
            raise ZoningError(
                f"{what} of {name} was cancelled (the scheduler or a worker went away)"
            )
    return client.gather(futures)


def _window(
    client, submit: Callable[[int], object], n: int, window: int, what: str, names: list[str]
) -> list:
    """Results of ``submit(k)`` for k in 0..n-1, at most ``window`` tasks submitted at a
    time (so their inputs are not all held at once); the first failure becomes one line
    naming the partition and the tasks still running are cancelled."""
    from distributed import as_completed

    results: list = [None] * n
    running: dict = {}
    pending = iter(range(n))
    queue = as_completed()

    def more():
        k = next(pending, None)
        if k is not None:
            fut = submit(k)
            running[fut] = k
            queue.add(fut)

    for _ in range(min(window, n)):
        more()
    try:
        for fut in queue:
            k = running.pop(fut)
            results[k] = _gather(client, [fut], what, [names[k]])[0]
            fut.release()
            more()
    except BaseException:
        client.cancel(list(running))
        raise
    return results


def classify_dataset(
    dataset: str | os.PathLike,
    out_dir: str | os.PathLike,
    config,
    engine: Engine | None = None,
    lang: str = "zh",
    context: dict | None = None,
    progress: Callable[[str], None] | None = None,
    run_info: dict | None = None,
    by: str | None = None,
) -> dict:
    """Classify a partitioned dataset on dask (SPEC §4–§5) and write ``out_dir``:
    ``parcels/`` (GeoParquet, one file per partition, the columns of the single-process
    ``parcels`` layer), ``village_parks/`` (GeoParquet: per partition its village parks
    that lie wholly in it, ``~across.parquet`` those that span partitions; together the
    single-process ``village_parks`` layer), ``summary.csv`` / ``summary.xlsx`` (by
    town, as one process writes it), ``summary_by_county.csv`` / ``.xlsx``,
    ``summary_by_county_town.csv`` (each county's towns and its total), ``issues.csv``
    (with the county) and ``run.json``; with ``by="county"`` also
    ``counties/<county>/``, each a classification folder as
    :func:`zoning.outputs.write_classification` writes it (:func:`county_folder`).
    Nothing is moved into ``out_dir`` unless every partition succeeded.
    Returns the run facts (rows, classes, timings)."""
    import dask
    import dask_geopandas

    from ._io import output_set
    from .layers import IssueLog
    from .report import summarise, write_csv, write_run_log, write_summary_xlsx

    say = progress or (lambda msg: None)
    engine = engine or Engine()
    dataset = Path(dataset)
    manifest = read_manifest(dataset)
    files = dataset_files(dataset, manifest)
    names = [f"{p.parent.name}/{p.name}" for p, _ in files]
    params = dict(config.parameters)
    gap = float(params["adjacency_gap_m"])
    ctx_issues = IssueLog()
    ctx = _read_context(dataset, manifest, config, context, ctx_issues)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # one dask-geopandas frame per file: read together, dask orders the paths its own
    # way, and partition k must be file k (its name, its context)
    parts = []
    for (path, _), name in zip(files, names, strict=True):
        ddf = dask_geopandas.read_parquet(str(path))
        if ddf.npartitions != 1:
            raise ZoningError(
                f"{name}: read as {ddf.npartitions} partitions; remake the "
                "dataset with zoning partition"
            )
        parts.append(ddf.to_delayed()[0])
    index = context_index(ctx)
    boxes = [file_box(p) for p, _ in files]
    client, cluster = engine.client()
    try:
        n_workers = len(client.scheduler_info()["workers"])
        say(
            f"dask: {len(files)} partition(s) on {n_workers} worker(s) at "
            f"{client.scheduler.address}"
        )
        # the township parks whole on every worker (the nearest park may be far); the
        # other context layers cut per partition and put in its task (so a task redone
        # after a worker died still has them), a few tasks at a time: a worker holds the
        # context of the partitions it works on, not the province's
        parks_f = client.scatter(ctx["township_parks"], broadcast=True)
        window = 2 * max(n_workers, 1)

        def near_box(box):
            part_ctx = context_near(ctx, index, box)
            part_ctx.pop("township_parks")
            return part_ctx

        def near(k):
            return near_box(boxes[k])

        with output_set(out_dir) as stage:
            work = stage / "_work"  # phase 1's measures until phase 3; removed below
            work.mkdir()
            spill = [str(work / f"{k:05d}.measures.pkl") for k in range(len(files))]
            summaries = _window(
                client,
                lambda k: client.compute(
                    dask.delayed(measure_part, pure=False)(
                        parts[k], near(k), params, None, parks_f, spill[k]
                    )
                ),
                len(files),
                window,
                "measures",
                names,
            )
            timings["measures"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            hulls = [s["hull"] for s in summaries]
            pairs = neighbours(hulls, gap)
            say(f"measured; {len(pairs)} pair(s) of neighbouring partitions")
            cross_f = client.compute(
                [
                    dask.delayed(cross_pairs, pure=True)(
                        parts[i], parts[j], hulls[i], hulls[j], gap
                    )
                    for i, j in pairs
                ]
            )
            cross = _gather(client, cross_f, "halo", [f"{names[i]} + {names[j]}" for i, j in pairs])
            cross = np.concatenate(cross) if cross else np.empty((0, 2), dtype=np.int64)
            groups = merge_groups(summaries, cross, int(manifest["rows"]))
            labels = [{"label": s["label"]} for s in summaries]
            del summaries, cross_f
            timings["village_parks"] = time.perf_counter() - t0
            say(f"{len(cross)} plot pair(s) across partition borders merged")
            t0 = time.perf_counter()
            (stage / "parcels").mkdir()
            (stage / VP_FOLDER).mkdir()
            results = _window(
                client,
                lambda k: client.compute(
                    dask.delayed(finish_part, pure=False)(
                        parts[k],
                        labels[k],
                        groups[k],
                        near(k),
                        params,
                        lang,
                        str(stage / "parcels" / files[k][0].name),
                        None,
                        parks_f,
                        spill[k],
                    )
                ),
                len(files),
                window,
                "decision",
                names,
            )
            shutil.rmtree(work)
            timings["decide_write"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            across = [r["vp_across"] for r in results if len(r["vp_across"])]
            n_parks = sum(r["village_parks"] for r in results)
            if across:
                vp = village_parks_across(
                    across, [r["vp_pieces"] for r in results], manifest["crs"]
                )
                vp.to_parquet(stage / VP_FOLDER / VP_ACROSS, index=False)
                n_parks += len(vp)
            for r in results:
                del r["vp_across"], r["vp_pieces"]
            timings["village_parks_across"] = time.perf_counter() - t0
            slim = _concat_slim([r["slim"] for r in results])
            summary = summarise(slim)
            write_csv(summary, stage / "summary.csv")
            cut = write_summary_xlsx(summary, stage / "summary.xlsx")
            by_county = summarise(slim.assign(town=slim["county"]))
            write_csv(by_county.rename(columns={"town": "county"}), stage / "summary_by_county.csv")
            cut = pd.concat(
                [
                    cut,
                    write_summary_xlsx(
                        by_county,
                        stage / "summary_by_county.xlsx",
                        "村级工业用地分类汇总（分县）",
                        area_label="县（市、区）",
                    ),
                ],
                ignore_index=True,
            )
            # by county and town: two counties may each have a town of the same name
            by_town = [summarise(g).assign(county=c) for c, g in slim.groupby("county", sort=False)]
            by_town = pd.concat(by_town, ignore_index=True)
            write_csv(
                by_town[["county", *by_town.columns[:-1]]], stage / "summary_by_county_town.csv"
            )
            read_issues = (
                pd.read_csv(dataset / "issues.csv", dtype=str, keep_default_na=False)
                if (dataset / "issues.csv").exists()
                else pd.DataFrame()
            )
            issues = pd.concat(
                [read_issues, ctx_issues.frame(), *[r["issues"] for r in results], cut],
                ignore_index=True,
            )
            write_csv(issues, stage / "issues.csv")
            classes = slim["class"].value_counts().to_dict()
            info = dict(run_info or {})
            info.update(
                {
                    "engine": "dask",
                    "scheduler": client.scheduler.address,
                    "workers": n_workers,
                    "worker_memory_limit": None if engine.scheduler else engine.memory_limit,
                    "dataset": str(dataset),
                    "analysis_crs": manifest["crs"],
                    "parameters": params,
                    "config_files": list(config.sources),
                    "partitions": len(files),
                    "partition_pairs": len(pairs),
                    "cross_border_pairs": int(len(cross)),
                    "rows": {
                        "parcels_in": int(manifest["rows"]),
                        "parcels_out": len(slim),
                        "village_parks": n_parks,
                        "issues": len(issues),
                    },
                    "classes": classes,
                    "timings_s": {k: round(v, 3) for k, v in timings.items()},
                }
            )
            if len(slim) != int(manifest["rows"]):
                raise ZoningError(f"{dataset}: {manifest['rows']} plots in, {len(slim)} out")
            if by == "county":
                t0 = time.perf_counter()
                say(f"writing {len(manifest['counties'])} county folder(s)")
                (stage / "counties").mkdir()
                recs = manifest["counties"]
                folders = _window(
                    client,
                    lambda k: client.submit(
                        county_folder,
                        recs[k],
                        str(stage),
                        str(dataset),
                        near_box(_county_box(recs[k], files, boxes)),
                        parks_f,
                        config,
                        issues[issues["county"].astype(str) == recs[k]["county"]]
                        if "county" in issues
                        else issues.iloc[:0],
                        {
                            "engine": "dask",
                            "county": recs[k]["county"],
                            "province": "../../run.json",
                        },
                        pure=False,
                    ),
                    len(recs),
                    window,
                    "county folder",
                    [r["county"] for r in recs],
                )
                info["counties"] = dict(zip([r["county"] for r in recs], folders, strict=True))
                info["timings_s"]["counties"] = round(time.perf_counter() - t0, 3)
            write_run_log(stage / "run.json", info)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    say(
        "done: "
        + ", ".join(f"{k} {v}" for k, v in classes.items())
        + f"; {len(issues)} issue(s) in issues.csv"
    )
    return info


def _county_box(rec: dict, files: list[tuple[Path, str]], boxes: list) -> np.ndarray:
    """Bounds of a county's partition files (NaN where they have no geometry)."""
    mine = [b for (path, _), b in zip(files, boxes, strict=True) if path.name in rec["files"]]
    b = np.asarray(mine, dtype=float).reshape(-1, 4)
    if np.isnan(b).all():
        return np.full(4, np.nan)
    return np.r_[np.nanmin(b[:, :2], axis=0), np.nanmax(b[:, 2:], axis=0)]


def county_folder(
    rec: dict,
    stage: str,
    dataset: str,
    ctx: dict,
    parks: gpd.GeoDataFrame,
    config,
    issues: pd.DataFrame,
    run_info: dict,
) -> str:
    """Write ``counties/<county>/`` of a dask output (``stage``): the county's plots in
    its input order, the village parks with a plot in it (whole, also those that reach
    into another county), the context layers near it (whole dissolve groups; the
    township parks within reach of its plots' nearest-park distance, so every nearest
    park is there) and its issues, through :func:`zoning.outputs.write_classification`
    (the files of a one-process ``classify`` folder). Returns the folder's name."""
    import pyproj

    from .outputs import CONTEXT_LAYERS, ClassifiedFolder, write_classification

    stage_dir, src = Path(stage), Path(dataset) / "parcels"
    names = rec["files"]
    plots = pd.concat(
        [gpd.read_parquet(stage_dir / "parcels" / n) for n in names], ignore_index=True
    )
    rows = np.concatenate(
        [pd.read_parquet(src / n, columns=["_row"])["_row"].to_numpy() for n in names]
    )
    plots = plots.iloc[np.argsort(rows, kind="stable")].reset_index(drop=True)
    vp_files = [stage_dir / VP_FOLDER / n for n in names if (stage_dir / VP_FOLDER / n).exists()]
    vp = [gpd.read_parquet(f) for f in vp_files]
    across = stage_dir / VP_FOLDER / VP_ACROSS
    if across.exists():
        a = gpd.read_parquet(across)
        vp.append(a[a["village_park_id"].isin(set(plots["village_park_id"]))])
    if vp:
        vp = pd.concat(vp, ignore_index=True).sort_values("village_park_id", kind="stable")
        vp = vp.reset_index(drop=True)
    else:  # a county of unusable plots only
        vp = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=plots.crs))
    geoms = np.asarray(plots.geometry.array, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    reach = np.nanmax(plots["nearest_park_m"].to_numpy(dtype=float), initial=-1.0)
    if len(geoms) and reach >= 0:
        box = np.asarray(shapely.total_bounds(geoms)) + np.r_[-reach, -reach, reach, reach]
        pb = shapely.bounds(np.asarray(parks.geometry.array, dtype=object))
        parks = parks[_touches(pb, box)]
    else:
        parks = parks.iloc[:0]
    layers = {**ctx, "township_parks": parks}
    folder = Path(names[0]).name.split(".")[0]  # the county's file name, unique
    # no parents: if the run failed and its staging folder is gone, write nothing
    (stage_dir / "counties" / folder).mkdir(exist_ok=True)

    context = {
        name: layers[name].drop(columns=["_problem"], errors="ignore")
        for name in CONTEXT_LAYERS
        if layers.get(name) is not None
    }
    result = ClassifiedFolder(
        parcels=plots,
        village_parks=vp,
        context=context,
        config=config,
        issues=issues.reset_index(drop=True),
        crs=pyproj.CRS.from_user_input(plots.crs).to_string(),
        inputs=rec.get("inputs") or {},
        selection={},
        timings={},
    )
    write_classification(result, stage_dir / "counties" / folder, run_info)
    return folder


def _concat_slim(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The partitions' slim facts as one frame; its text columns hold each distinct
    string once (object arrays of shared strings: 8 bytes a plot, not a string each)."""
    from pandas.api.types import union_categoricals

    out = {}
    for col in frames[0].columns:
        if isinstance(frames[0][col].dtype, pd.CategoricalDtype):
            out[col] = np.asarray(union_categoricals([f[col] for f in frames]), dtype=object)
        else:
            out[col] = np.concatenate([f[col].to_numpy() for f in frames])
    return pd.DataFrame(out)


def _read_context(dataset: Path, manifest: dict, config, context: dict | None, issues) -> dict:
    """The dataset's context layers, or those given (each replaces the dataset's)."""
    from .layers import Source, list_layers

    path = dataset / CONTEXT
    have = list_layers(path) if path.exists() else []
    given = {n: Source(path, n) for n in CONTEXT_NAMES if n in have}
    given.update({n: s for n, s in (context or {}).items() if s is not None})
    ctx = {}
    for name, src in given.items():
        if src.path == path:
            gdf = gpd.read_file(path, layer=name, engine="pyogrio")
            ctx[name] = gdf
        else:
            ctx.update(load_context({name: src}, config, manifest["crs"], issues))
    for name in ("dev_boundary", "township_parks", "cluster_points"):
        if name not in ctx:
            raise LayerError(
                "required layer not in the dataset's context.gpkg nor given", str(path), name
            )
    ctx = {
        n: (g.set_crs(manifest["crs"], allow_override=True) if g.crs is None else g)
        for n, g in ctx.items()
    }
    ctx = {n: g.astype({c: str for c in _id_cols(n) if c in g}) for n, g in ctx.items()}
    return ctx


def _id_cols(name: str) -> list[str]:
    from .layers import ID_FIELDS

    idf = ID_FIELDS.get(name)
    return [idf] if idf else ([] if name != "towns" else ["town"])
