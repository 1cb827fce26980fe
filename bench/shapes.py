"""Counties of several shapes for the benchmark (issue 17), seeded and generated.

Shapes (each with every SPEC §3 classification layer, in EPSG:4549):

``tiles``
    The sample county tiled (:mod:`bench.synth`): our own county, copied.
``clusters``
    Dense, partly overlapping village clusters of small rotated plots; the development
    boundary and the protected land are large rounded blobs with many vertices
    (``buffer(resolution=64)`` of random points, unioned); cluster points are small
    blobs at some village centres; township parks are sparse.
``roads``
    Long thin plots strung along a grid of roads, end to end with small gaps (village
    parks become long chains); the development boundary is a corridor along some roads
    and the protected land is ONE huge feature with very many vertices.

Usage: ``python bench/shapes.py OUTDIR [--shapes tiles,clusters,roads] [--sizes 10000,100000]``
writes ``OUTDIR/{shape}_{n}.gpkg`` (kept when it exists, unless ``--force``) and prints
one JSON line per file. Nothing here is committed data: the same seed gives the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402  (bench/synth.py: the sample county tiled)

CRS = "EPSG:4549"
#: Lower-left corner of the generated counties (CM 120E, near Cixi).
X0, Y0 = 440_000.0, 3_300_000.0
SHAPES = ("tiles", "clusters", "roads")
SIZES = (10_000, 100_000, 1_000_000)
INDUSTRIES = np.array(["纺织", "机械", "电器", "塑料", "五金", "食品"], dtype=object)


def rng_for(shape: str, n: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{shape}:{n}".encode()))


def rectangles(cx, cy, length, width, angle) -> np.ndarray:
    """Rotated rectangles (centre, length along ``angle``, width across), vectorised."""
    c, s = np.cos(angle), np.sin(angle)
    hl, hw = length / 2, width / 2
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)], dtype=float)
    dx = corners[:, 0][None, :] * hl[:, None]
    dy = corners[:, 1][None, :] * hw[:, None]
    x = cx[:, None] + dx * c[:, None] - dy * s[:, None]
    y = cy[:, None] + dx * s[:, None] + dy * c[:, None]
    return shapely.polygons(np.stack([x, y], axis=-1))


def blobs(rng, x, y, r_min, r_max, resolution=64) -> np.ndarray:
    """Round blobs: buffers of random points with many vertices (not unioned)."""
    r = rng.uniform(r_min, r_max, len(x))
    return shapely.buffer(shapely.points(x, y), r, quad_segs=resolution)


def unioned(geoms: np.ndarray) -> np.ndarray:
    """The union of ``geoms`` as separate polygons (one row per part)."""
    return shapely.get_parts(shapely.union_all(geoms))


def ids(prefix: str, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Text ids ``prefix0000001`` …; shuffled with ``rng`` so id order is not space order."""
    width = len(str(max(n, 1)))
    out = np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width + 1))
    if rng is not None:
        out = out[rng.permutation(n)]
    return out.astype(object)


def town_grid(xmin, ymin, xmax, ymax, per_side: int) -> tuple[gpd.GeoDataFrame, callable]:
    """Towns as a ``per_side`` × ``per_side`` grid; returns the layer and a point → town."""
    sx, sy = (xmax - xmin) / per_side, (ymax - ymin) / per_side
    i, j = np.meshgrid(np.arange(per_side), np.arange(per_side), indexing="ij")
    i, j = i.ravel(), j.ravel()
    names = np.array([f"镇{k:03d}" for k in range(len(i))], dtype=object)
    geoms = shapely.box(xmin + i * sx, ymin + j * sy, xmin + (i + 1) * sx, ymin + (j + 1) * sy)
    towns = gpd.GeoDataFrame({"town": names}, geometry=geoms, crs=CRS)

    def town_of(x, y):
        a = np.clip(((x - xmin) // sx).astype(int), 0, per_side - 1)
        b = np.clip(((y - ymin) // sy).astype(int), 0, per_side - 1)
        return names[a * per_side + b]

    return towns, town_of


def parcels_frame(rng, geoms: np.ndarray, village: np.ndarray, town_of) -> gpd.GeoDataFrame:
    n = len(geoms)
    c = shapely.centroid(geoms)
    x, y = shapely.get_x(c), shapely.get_y(c)
    year = rng.integers(1985, 2025, n).astype(float)
    year[rng.random(n) < 0.1] = np.nan
    return gpd.GeoDataFrame(
        {
            "parcel_id": ids("P", n, rng),
            "town": town_of(x, y),
            "village": np.char.add("村", village.astype(str)).astype(object),
            "industry": INDUSTRIES[rng.integers(0, len(INDUSTRIES), n)],
            "enterprise": np.char.add("企业", np.arange(n).astype(str)).astype(object),
            "eco_friendly": rng.random(n) < 0.15,
            "rural_fusion": rng.random(n) < 0.1,
            "built_year": pd.array(year, dtype="Int64"),
            "land_class": np.where(rng.random(n) < 0.9, "工业用地", "仓储用地").astype(object),
        },
        geometry=geoms,
        crs=CRS,
    )


def context(rng, town_of, boundary, parks, clusters, protected, kind="生态保护红线"):
    """The context layers as frames (ids, names, towns from the feature's centre)."""

    def centre_town(g):
        c = shapely.centroid(g)
        return town_of(shapely.get_x(c), shapely.get_y(c))

    park_ids = ids("TP", len(parks))
    cluster_ids = ids("CP", len(clusters))
    return {
        "dev_boundary": gpd.GeoDataFrame(
            {"GHFQMC": ["城镇开发边界"] * len(boundary)}, geometry=boundary, crs=CRS
        ),
        "township_parks": gpd.GeoDataFrame(
            {
                "park_id": park_ids,
                "name": np.char.add(park_ids.astype(str), "园区").astype(object),
                "town": centre_town(parks),
                "level": ["镇级"] * len(parks),
            },
            geometry=parks,
            crs=CRS,
        ),
        "cluster_points": gpd.GeoDataFrame(
            {
                "cluster_id": cluster_ids,
                "name": np.char.add(cluster_ids.astype(str), "集聚点").astype(object),
                "town": centre_town(clusters),
            },
            geometry=clusters,
            crs=CRS,
        ),
        "protected": gpd.GeoDataFrame(
            {"kind": [kind] * len(protected)}, geometry=protected, crs=CRS
        ),
    }


def build_clusters(n: int) -> dict[str, gpd.GeoDataFrame]:
    """Dense overlapping village clusters, blobby many-vertex layers, sparse parks."""
    rng = rng_for("clusters", n)
    villages = max(2, n // 100)
    side = math.sqrt(villages) * 1600.0
    vx = X0 + rng.uniform(0, side, villages)
    vy = Y0 + rng.uniform(0, side, villages)
    size = rng.integers(30, 171, villages).astype(float)
    size = np.floor(size * n / size.sum()).astype(int)
    size[: n - size.sum()] += 1
    village = np.repeat(np.arange(villages), size)
    spread = rng.uniform(150, 350, villages)[village]
    cx = vx[village] + rng.normal(0, 1, n) * spread
    cy = vy[village] + rng.normal(0, 1, n) * spread
    plots = rectangles(
        cx, cy, rng.uniform(30, 120, n), rng.uniform(25, 80, n), rng.uniform(0, np.pi, n)
    )
    towns, town_of = town_grid(
        X0 - 2000,
        Y0 - 2000,
        X0 + side + 2000,
        Y0 + side + 2000,
        max(2, int(math.sqrt(villages / 25))),
    )
    nb = max(2, villages // 4)
    pick = rng.integers(0, villages, nb)
    boundary = unioned(
        blobs(rng, vx[pick] + rng.normal(0, 800, nb), vy[pick] + rng.normal(0, 800, nb), 600, 2500)
    )
    npr = max(2, villages // 6)
    protected = unioned(
        blobs(rng, X0 + rng.uniform(0, side, npr), Y0 + rng.uniform(0, side, npr), 300, 1500)
    )
    nc = max(2, villages // 3)
    pick = rng.integers(0, villages, nc)
    clusters = blobs(
        rng,
        vx[pick] + rng.normal(0, 300, nc),
        vy[pick] + rng.normal(0, 300, nc),
        150,
        450,
        resolution=16,
    )
    nparks = max(2, villages // 25)
    w, h = rng.uniform(800, 2000, nparks), rng.uniform(800, 2000, nparks)
    px, py = X0 + rng.uniform(0, side, nparks), Y0 + rng.uniform(0, side, nparks)
    parks = shapely.box(px, py, px + w, py + h)
    layers = {"towns": towns, **context(rng, town_of, boundary, parks, clusters, protected)}
    layers["parcels"] = parcels_frame(rng, plots, village, town_of)
    return layers


def build_roads(n: int) -> dict[str, gpd.GeoDataFrame]:
    """Long thin plots end to end along a road grid; one huge protected feature."""
    rng = rng_for("roads", n)
    # ~170 m of road side per plot, two sides, roads 1 km apart in both directions
    roads_per_dir = max(2, math.ceil(math.sqrt(n * 85.0 / 2000.0)))
    side = roads_per_dir * 1000.0
    per_road_side = math.ceil(n / (2 * roads_per_dir * 2))
    # along each road side: plot lengths and gaps (0–35 m; > 20 m breaks the chain)
    lines = 2 * roads_per_dir * 2
    length = rng.uniform(60, 260, (lines, per_road_side))
    gap = rng.choice(
        [0.0, 5.0, 12.0, 19.0, 25.0, 35.0],
        (lines, per_road_side),
        p=[0.15, 0.3, 0.25, 0.1, 0.1, 0.1],
    )
    start = np.cumsum(length + gap, axis=1) - length
    along = (start + length / 2) % side  # wrap around the county
    width = rng.uniform(10, 25, (lines, per_road_side))
    line = np.repeat(np.arange(lines), per_road_side)
    road = line // 2 % roads_per_dir
    vertical = line >= 2 * roads_per_dir
    side_sign = np.where(line % 2 == 0, 1.0, -1.0)
    offset = road * 1000.0 + 500.0 + side_sign * (8.0 + width.ravel() / 2)
    a = along.ravel()
    cx = X0 + np.where(vertical, offset, a)
    cy = Y0 + np.where(vertical, a, offset)
    angle = np.where(vertical, np.pi / 2, 0.0) + rng.normal(0, 0.01, line.size)
    plots = rectangles(cx, cy, length.ravel(), width.ravel(), angle)
    keep = rng.permutation(plots.size)[:n]
    keep.sort()
    plots, line = plots[keep], line[keep]
    towns, town_of = town_grid(X0, Y0, X0 + side, Y0 + side, max(2, roads_per_dir // 6))
    # boundary: corridors 400 m wide along every third road, rounded ends
    rr = np.arange(0, roads_per_dir, 3)
    h_lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([np.full(rr.size, X0), X0 + side * rng.uniform(0.3, 1, rr.size)]),
                np.column_stack([Y0 + rr * 1000.0 + 500.0] * 2),
            ],
            axis=-1,
        )
    )
    boundary = unioned(shapely.buffer(h_lines, 200.0, quad_segs=32))
    # protected: one feature, a wandering band of overlapping blobs unioned (many vertices)
    steps = max(50, n // 200)
    walk = np.cumsum(rng.normal(0, 400, (steps, 2)), axis=0)
    walk = (walk - walk.min(axis=0)) / np.ptp(walk, axis=0).clip(1) * side
    band = blobs(rng, X0 + walk[:, 0], Y0 + walk[:, 1], 150, 700)
    protected = np.array([shapely.union_all(band)], dtype=object)
    nc = max(2, roads_per_dir * 2)
    clusters = shapely.box(
        *(lambda x, y: (x, y, x + rng.uniform(300, 800, nc), y + rng.uniform(300, 800, nc)))(
            X0 + rng.uniform(0, side, nc), Y0 + rng.uniform(0, side, nc)
        )
    )
    nparks = max(2, roads_per_dir // 3)
    px, py = X0 + rng.uniform(0, side, nparks), Y0 + rng.uniform(0, side, nparks)
    parks = blobs(rng, px, py, 400, 1200, resolution=16)
    layers = {
        "towns": towns,
        **context(rng, town_of, boundary, parks, clusters, protected, kind="永久基本农田"),
    }
    layers["parcels"] = parcels_frame(rng, plots, line, town_of)
    return layers


def build_tiles(n: int) -> dict[str, gpd.GeoDataFrame]:
    synth.wait_for_sample()
    return synth.build(n)["layers"]


BUILDERS = {"tiles": build_tiles, "clusters": build_clusters, "roads": build_roads}


def county(out: Path, shape: str, n: int, force: bool = False) -> Path:
    """``out/{shape}_{n}.gpkg``, built when missing (or ``force``), written atomically."""
    path = Path(out) / f"{shape}_{n}.gpkg"
    if path.exists() and not force:
        return path
    synth.write(path, BUILDERS[shape](n))  # atomic: a killed run leaves no cache
    return path


def describe(path: Path) -> dict:
    rows = {
        name: pyogrio.read_info(path, layer=name)["features"]
        for name, _ in pyogrio.list_layers(path)
    }
    return {"path": str(path), "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the GeoPackages (not committed)")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args(argv)
    for shape in args.shapes.split(","):
        if shape not in BUILDERS:
            parser.error(f"unknown shape {shape!r} (one of {', '.join(SHAPES)})")
        for n in (int(s) for s in args.sizes.split(",")):
            t0 = time.perf_counter()
            path = county(args.out, shape, n, args.force)
            print(
                json.dumps(
                    {
                        "shape": shape,
                        "plots": n,
                        **describe(path),
                        "seconds": round(time.perf_counter() - t0, 2),
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
