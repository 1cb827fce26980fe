"""Workshop classification and placement speed (issue: household workshops).

    .venv/bin/python bench/workshop_bench.py [--workshops 20000] [--parks 50]
        [--time-limit 60]

Builds a county of N workshops and P micro parks from the sample county: the sample's
workshops and parks plus copies moved by a few hundred metres (seeded), so density and
attributes stay the sample's. Times classify-and-place on loaded layers, and reports the
placement's status and the relative MIP gap reached (deterministic work limits; the
time limit is only the safety stop).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_county.gpkg"


def grow(gdf: gpd.GeoDataFrame, n: int, id_field: str, rng, shift_m: float) -> gpd.GeoDataFrame:
    """``n`` rows: the layer repeated, copies moved by up to ``shift_m`` and renamed."""
    reps = int(np.ceil(n / len(gdf)))
    out = pd.concat([gdf] * reps, ignore_index=True).iloc[:n].copy()
    copy = np.repeat(np.arange(reps), len(gdf))[:n]
    dx, dy = rng.uniform(-shift_m, shift_m, (2, n)) * (copy > 0)
    geoms = np.asarray(out.geometry.array, dtype=object)
    out["geometry"] = [
        shapely.affinity.translate(g, x, y) for g, x, y in zip(geoms, dx, dy, strict=True)
    ]  # setup only, not timed
    out[id_field] = out[id_field].astype(str) + np.where(copy > 0, "-" + copy.astype(str), "")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs)


def main() -> None:
    from zoning import classify, load_config
    from zoning.layers import IssueLog, file_sources
    from zoning.workshops import classify_and_place

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workshops", type=int, default=20_000)
    parser.add_argument("--parks", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=60.0, help="safety stop, s")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    sources = file_sources(SAMPLE)
    config = load_config()
    classified = classify(sources, config=config)
    ws = grow(
        pyogrio.read_dataframe(SAMPLE, layer="workshops"), args.workshops, "workshop_id", rng, 300.0
    )
    mp = grow(
        pyogrio.read_dataframe(SAMPLE, layer="micro_parks"),
        args.parks,
        "micro_park_id",
        rng,
        2000.0,
    )
    config = config.with_table("workshops", time_limit_s=args.time_limit)
    t0 = time.perf_counter()
    result = classify_and_place(
        ws,
        mp,
        classified.parcels,
        classified.layers.protected,
        classified.layers.towns,
        config,
        IssueLog(),
    )
    total = time.perf_counter() - t0
    p = result.placement
    moving = int(result.workshops["class"].isin(["to_park", "demolish"]).sum())
    placed = int((result.workshops["target_micro_park_id"] != "").sum())
    digest = hashlib.sha1(np.ascontiguousarray(p.park).tobytes()).hexdigest()[:12]
    print(
        f"| {len(ws):,} | {len(mp)} | {moving:,} | {p.candidates:,} | {placed:,} | "
        f"{p.seconds:.1f} | {total:.1f} | {p.gap:.1e} | {p.status} | {p.objective:,.0f} | "
        f"{digest} |"
    )


if __name__ == "__main__":
    print(
        "| workshops | parks | moving | candidate pairs | placed | placement s | total s "
        "| gap | status | objective m | sha1 of the placement |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|")
    main()
