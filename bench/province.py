"""A synthetic province on ``classify --engine dask``, compared plot by plot with one process.

The province tiles the sample county (``bench/synth.py``: copies 20 km apart, ids
suffixed ``-cNNN``); ``--copies-per-county`` consecutive copies make one county, written
as its own GeoParquet file of plots, the context layers of all copies in one GeoPackage.
``zoning partition`` (the API) turns them into a dataset, each county cut into files of
``--rows-per-part`` plots along the Hilbert curve (the cuts go through village parks);
the dask engine classifies it on a LocalCluster of ``--workers`` processes with
``--worker-memory`` each, while the worker processes' resident memory is sampled every
0.5 s. Unless ``--no-single``, the same layers are classified in this process
(``classify_layers``) and every column of every plot is compared (floats bit for bit),
and every village park (shapes as point sets).

Usage: ``python bench/province.py --plots 2000000 --workers 2 --worker-memory 3GiB``.
Inputs and outputs go to ``bench/_data/province_{plots}/`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import synth  # noqa: E402

from zoning.config import load_config  # noqa: E402
from zoning.layers import Source  # noqa: E402

CONTEXT = ("towns", "dev_boundary", "township_parks", "cluster_points", "protected")


def write_inputs(n: int, per_county: int, folder: Path) -> tuple[list, dict, dict]:
    """County parquet files and one context GeoPackage; returns (counties, context
    sources, the layers in memory)."""
    built = synth.build(n)
    layers, info = built["layers"], built["info"]
    folder.mkdir(parents=True, exist_ok=True)
    parcels = layers["parcels"]
    copy = np.arange(len(parcels)) // info["sample_plots"]
    county = copy // per_county
    counties = []
    for k in range(int(county.max()) + 1):
        path = folder / f"county{k:03d}.parquet"
        parcels[county == k].to_parquet(path, index=False)
        counties.append((f"county{k:03d}", {"parcels": Source(path)}))
    ctx = folder / "context.gpkg"
    ctx.unlink(missing_ok=True)
    for name in CONTEXT:
        pyogrio.write_dataframe(layers[name], ctx, layer=name, driver="GPKG", promote_to_multi=True)
    return counties, {name: Source(ctx, name) for name in CONTEXT}, layers


class MemoryWatch:
    """Peak resident memory of each worker process (sampled every ``every`` s)."""

    def __init__(self, client, every: float = 0.5):
        self.client, self.every, self.peak = client, every, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        import psutil

        def rss():
            return psutil.Process().memory_info().rss

        while not self.stop.is_set():
            try:
                for w, v in self.client.run(rss).items():
                    self.peak[w] = max(self.peak.get(w, 0), v)
            except Exception:  # noqa: BLE001 - a worker restarting: sample again
                pass
            self.stop.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def compare(single: pd.DataFrame, folder: Path) -> dict:
    """Columns that differ between one process and the dask output (by parcel_id)."""
    import geopandas as gpd

    dk = gpd.read_parquet(folder / "parcels")
    out = {
        "rows_single": len(single),
        "rows_dask": len(dk),
        "same_columns": list(dk.columns) == list(single.columns),
        "differ": {},
    }
    a = single.set_index("parcel_id")
    b = dk.set_index("parcel_id").loc[a.index]
    for col in a.columns.drop("geometry"):
        x, y = a[col], b[col]
        if x.dtype.kind == "f":
            same = (x.to_numpy() == y.to_numpy()) | (x.isna().to_numpy() & y.isna().to_numpy())
        else:
            same = (x.astype(str).to_numpy() == y.astype(str).to_numpy()) | (
                x.isna().to_numpy() & y.isna().to_numpy()
            )  # None and NaN: both missing
        if not same.all():
            out["differ"][col] = int((~same).sum())
    geo = shapely.equals(a.geometry.array, b.geometry.array) | (
        shapely.is_missing(a.geometry.array) & shapely.is_missing(b.geometry.array)
    )
    if not geo.all():
        out["differ"]["geometry"] = int((~geo).sum())
    return out


def compare_parks(single: pd.DataFrame, folder: Path) -> dict:
    """Columns of the village_parks layer that differ (by village_park_id); shapes compared
    as point sets (``shapely.equals``)."""
    import geopandas as gpd

    dk = gpd.read_parquet(folder / "village_parks")
    out = {
        "rows_single": len(single),
        "rows_dask": len(dk),
        "same_columns": list(dk.columns) == list(single.columns),
        "differ": {},
    }
    a = single.set_index("village_park_id")
    b = dk.set_index("village_park_id").loc[a.index]
    for col in a.columns.drop("geometry"):
        x, y = a[col].to_numpy(), b[col].to_numpy()
        same = (x == y) | (pd.isna(x) & pd.isna(y))
        if not same.all():
            out["differ"][col] = int((~same).sum())
    geo = shapely.equals(a.geometry.array, b.geometry.array)
    if not geo.all():
        out["differ"]["geometry"] = int((~geo).sum())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plots", type=int, default=2_000_000)
    parser.add_argument("--copies-per-county", type=int, default=10)
    parser.add_argument("--rows-per-part", type=int, default=25_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="3GiB")
    parser.add_argument("--no-single", action="store_true")
    parser.add_argument(
        "--by-county", action="store_true", help="also the county folders (classify --by county)"
    )
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    from zoning.distributed import Engine, classify_dataset, partition

    folder = synth.DATA / f"province_{args.plots}"
    config = load_config(ROOT / "bench" / "bench.toml")
    facts = {
        "plots": args.plots,
        "copies_per_county": args.copies_per_county,
        "rows_per_part": args.rows_per_part,
        "workers": args.workers,
        "worker_memory": args.worker_memory,
    }
    t0 = time.perf_counter()
    counties, context, layers = write_inputs(args.plots, args.copies_per_county, folder / "in")
    facts["counties"] = len(counties)
    facts["build_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    shutil.rmtree(folder / "dataset", ignore_errors=True)
    partition(counties, folder / "dataset", config, context, args.rows_per_part)
    facts["partition_s"] = round(time.perf_counter() - t0, 1)
    facts["files"] = len(list((folder / "dataset" / "parcels").glob("*.parquet")))
    print(json.dumps(facts), flush=True)
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=args.worker_memory,
        dashboard_address=None,
    )
    client = Client(cluster)
    try:
        with MemoryWatch(client) as watch:
            t0 = time.perf_counter()
            info = classify_dataset(
                folder / "dataset",
                folder / "out_dask",
                config,
                Engine(scheduler=cluster.scheduler_address),
                by="county" if args.by_county else None,
            )
            facts["dask_s"] = round(time.perf_counter() - t0, 1)
        facts["dask_timings_s"] = info["timings_s"]
        facts["cross_border_pairs"] = info["cross_border_pairs"]
        facts["peak_rss_mib_per_worker"] = sorted(round(v / 2**20) for v in watch.peak.values())
        import resource

        # the driver is this process, which also holds the province's input layers
        facts["driver_and_inputs_peak_rss_mib"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    finally:
        client.close()
        cluster.close()
    print(json.dumps(facts), flush=True)
    if not args.no_single:
        import resource

        from zoning.classification import classify_layers
        from zoning.layers import frames_to_layers

        t0 = time.perf_counter()
        lay = frames_to_layers(
            layers["parcels"],
            layers["dev_boundary"],
            layers["township_parks"],
            layers["cluster_points"],
            layers["protected"],
            layers["towns"],
            config,
        )
        result = classify_layers(lay, config)
        facts["single_s"] = round(time.perf_counter() - t0, 1)
        facts["single_peak_rss_mib"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        single = result.parcels
        single = single[[c for c in single.columns if c != "geometry"] + ["geometry"]]
        facts["compare"] = compare(single, folder / "out_dask")
        facts["compare_village_parks"] = compare_parks(result.village_parks, folder / "out_dask")
    facts["plots_per_s_dask"] = math.floor(args.plots / facts["dask_s"])
    print(json.dumps(facts, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
