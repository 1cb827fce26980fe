"""Synthetic counties of N village industrial plots at Cixi's density.

The bundled sample county (``data/sample_county.gpkg``, SPEC §3 layers in EPSG:4549) is
tiled into a grid of translated copies; copy ``c`` is shifted by
``(col * (width + MARGIN_M), row * (height + MARGIN_M))`` where width × height is the
bounding box of all its layers. Ids (``parcel_id``, ``park_id``, ``cluster_id``) and town
names (``town``, in every layer that has it) get the suffix ``-cNNN`` so they stay
unique. The parcels are then cut to exactly N (the last copy is partial; its context
layers are kept whole).

The margin (20 km) is larger than any plot's distance to its nearest township park in the
sample (≈ 15 km), so every whole copy classifies exactly like the sample itself: a cheap
consistency check at scale. Far-east copies leave GK zone CM 120E; the layers stay in
EPSG:4549 and ``bench/bench.toml`` pins that analysis CRS.

Usage: ``python bench/synth.py N [N ...] [--force]``; writes ``bench/_data/county_{N}.gpkg``
(cached: rebuilt only when missing or when the sample it was built from has changed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_county.gpkg"
DATA = ROOT / "bench" / "_data"
#: Layers copied from the sample (SPEC §3, classification inputs), in write order.
LAYERS = ("towns", "dev_boundary", "township_parks", "cluster_points", "protected", "parcels")
#: Columns suffixed per copy so they stay unique (and consistent across layers).
SUFFIXED = ("parcel_id", "park_id", "cluster_id", "town")
MARGIN_M = 20_000.0
SIZES = (10_000, 100_000, 1_000_000)


def county_path(n: int) -> Path:
    return DATA / f"county_{n}.gpkg"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_for_sample(path: Path = SAMPLE, timeout_s: float = 1800.0, poll_s: float = 15.0) -> Path:
    """Wait until the sample county exists and has every layer (it may be being written)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if path.exists():
            try:
                names = {str(name) for name, _ in pyogrio.list_layers(path)}
                if set(LAYERS) <= names:
                    return path
            except Exception:  # half-written file: try again
                pass
        if time.monotonic() > deadline:
            raise SystemExit(
                f"{path}: sample county not found (or incomplete) after "
                f"{timeout_s:.0f} s; generate it with `make sample`"
            )
        print(f"waiting for {path} ...", file=sys.stderr, flush=True)
        time.sleep(poll_s)


def read_sample(path: Path = SAMPLE) -> dict[str, pd.DataFrame]:
    return {name: pyogrio.read_dataframe(path, layer=name, use_arrow=True) for name in LAYERS}


def grid_shape(copies: int) -> tuple[int, int]:
    """(columns, rows) of the smallest near-square grid holding ``copies`` copies."""
    cols = math.ceil(math.sqrt(copies))
    return cols, math.ceil(copies / cols)


def tile_layer(gdf, copies: int, offsets: np.ndarray, width: int):
    """``copies`` translated copies of a layer, ids suffixed; vectorised over features."""
    n = len(gdf)
    take = np.tile(np.arange(n), copies)
    copy_of_row = np.repeat(np.arange(copies), n)
    out = gdf.iloc[take].reset_index(drop=True)
    geoms = np.asarray(out.geometry.array, dtype=object)
    counts = shapely.get_num_coordinates(geoms)
    shift = np.repeat(offsets[copy_of_row], counts, axis=0)
    out[out.geometry.name] = shapely.transform(geoms, lambda xy: xy + shift)
    suffix = pd.Series(np.char.add("-c", np.char.zfill(np.arange(copies).astype(str), width)))
    suffix = suffix.iloc[copy_of_row].reset_index(drop=True)
    for col in SUFFIXED:
        if col in out:
            text = out[col].astype(object)
            out[col] = (text.astype(str) + suffix).where(text.notna(), None)
    return out


def build(n: int, sample: Path = SAMPLE, margin_m: float = MARGIN_M) -> dict:
    """All layers of a county of exactly ``n`` plots, plus a description of the tiling."""
    src = read_sample(sample)
    per_copy = len(src["parcels"])
    copies = max(1, math.ceil(n / per_copy))
    cols, rows = grid_shape(copies)
    bounds = np.array([pyogrio.read_info(sample, layer=name)["total_bounds"] for name in LAYERS])
    xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
    xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
    step = np.array([xmax - xmin + margin_m, ymax - ymin + margin_m])
    c = np.arange(copies)
    offsets = np.column_stack([c % cols, c // cols]) * step
    width = len(str(copies - 1))
    layers = {name: tile_layer(gdf, copies, offsets, width) for name, gdf in src.items()}
    layers["parcels"] = layers["parcels"].iloc[:n].reset_index(drop=True)
    info = {
        "plots": n,
        "copies": copies,
        "grid": [cols, rows],
        "margin_m": margin_m,
        "sample_plots": per_copy,
        "sample": str(sample),
        "sample_sha256": sha256(sample),
        "rows": {name: len(gdf) for name, gdf in layers.items()},
    }
    return {"layers": layers, "info": info}


def write(path: Path, layers: dict) -> None:
    """Write the layers into one GeoPackage; atomically, so a killed run leaves no cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.gpkg")
    try:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(
                gdf, tmp, layer=name, driver="GPKG", use_arrow=True, promote_to_multi=True
            )
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def ensure(n: int, force: bool = False, sample: Path = SAMPLE, quiet: bool = False) -> Path:
    """``bench/_data/county_{n}.gpkg``, built if missing, stale or ``force``."""
    path = county_path(n)
    meta = path.with_suffix(".json")
    wait_for_sample(sample)
    if path.exists() and not force and meta.exists():
        try:
            if json.loads(meta.read_text())["sample_sha256"] == sha256(sample):
                return path
        except (ValueError, KeyError):
            pass
        if not quiet:
            print(f"{path}: the sample county changed, rebuilding", file=sys.stderr)
    t0 = time.perf_counter()
    built = build(n, sample)
    write(path, built["layers"])
    info = built["info"] | {"seconds": round(time.perf_counter() - t0, 2)}
    meta.write_text(json.dumps(info, indent=2) + "\n")
    if not quiet:
        print(
            f"wrote {path} ({info['copies']} copies, grid {info['grid'][0]}x{info['grid'][1]},"
            f" {info['seconds']} s)",
            file=sys.stderr,
        )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    args = parser.parse_args(argv)
    for n in args.sizes:  # one JSON line per county (bench/run.py reads them)
        path = ensure(n, args.force, args.sample)
        print(
            json.dumps(
                {"path": str(path), **json.loads(path.with_suffix(".json").read_text())},
                ensure_ascii=False,
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
