"""Speed of ``zoning blocks`` (issue 18, SPEC §11) on an existing classification.

    .venv/bin/python bench/blocks_bench.py [--plots 100000] [--enterprises 20000] [--repeat 3]

Classifies a synthetic county of N plots (bench/synth.py; not timed: the command starts
from a classification), gives its plots' enterprises a copy suffix (``-c003``: the copies of
the sample are different enterprises) and writes E of them (seeded) as three years of
enterprise tables (``zoning.sample_ledger.enterprise_history``, as the demo's), with a
blocks layer for two towns and a scenic layer (``block_layers``). Then times
``outputs.run_blocks`` — the whole ``zoning blocks`` job: read the classification, the
tables and the layers, decide, write the folder — in this process (best of ``--repeat``,
seconds per stage), and the command itself in a fresh process (wall time, Python start
and imports included).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def tables(folder: Path, plots: pd.DataFrame, n: int, seed: int = 18) -> dict:
    """E enterprises of the plots (names as the plots carry them) in three yearly tables,
    a blocks layer and a scenic layer; returns the paths."""
    from zoning.sample_ledger import block_layers, enterprise_history

    rng = np.random.default_rng(seed)
    base = pd.read_csv(
        ROOT / "data" / "enterprises.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    names = pd.Series(plots["enterprise"].dropna().unique())
    names = names[names != ""]
    chosen = np.sort(rng.choice(len(names), size=min(n, len(names)), replace=False))
    figures = base.iloc[rng.integers(0, len(base), len(chosen))].reset_index(drop=True)
    figures["enterprise"] = names.iloc[chosen].to_numpy()
    figures["enterprise_id"] = [f"E{i:06d}" for i in range(len(figures))]
    paths = []
    for year, table in enterprise_history(figures, rng).items():
        path = folder / f"enterprises_{year}.csv"
        table.to_csv(path, index=False, encoding="utf-8-sig")
        paths.append(path)
    blocks, scenic = block_layers(plots, rng)
    out = {
        "enterprises": paths,
        "blocks": folder / "blocks.gpkg",
        "scenic": folder / "scenic.gpkg",
        "n": len(figures),
    }
    blocks.to_file(out["blocks"], layer="blocks", driver="GPKG")
    scenic.to_file(out["scenic"], layer="scenic", driver="GPKG")
    return out


def main() -> None:
    import synth

    from zoning import classify, load_config, write_classification
    from zoning.layers import file_sources
    from zoning.outputs import run_blocks

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plots", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    county = synth.ensure(args.plots, quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result = classify(file_sources(county), config=load_config(ROOT / "bench" / "bench.toml"))
        p = result.parcels
        copy = p["parcel_id"].astype(str).str.extract(r"(-c\d+)$")[0].fillna("")
        p["enterprise"] = (p["enterprise"].astype(object) + copy).where(
            p["enterprise"].notna() & (p["enterprise"] != ""), p["enterprise"]
        )
        write_classification(result, tmp / "cls")
        inputs = tables(tmp, p, args.enterprises)
        config = ROOT / "bench" / "bench.toml"
        runs = []
        for i in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            out = run_blocks(
                tmp / "cls",
                inputs["enterprises"],
                tmp / f"blocks{i}",
                (config,),
                blocks_path=inputs["blocks"],
                scenic_path=inputs["scenic"],
            )
            runs.append((time.perf_counter() - t0, out.timings, out, time.process_time() - c0))
        total, timings, out, cpu = min(runs, key=lambda r: r[0])
        cmd = [
            sys.executable,
            "-m",
            "zoning",
            "blocks",
            str(tmp / "cls"),
            "--config",
            str(config),
            "--blocks",
            str(inputs["blocks"]),
            "--scenic",
            str(inputs["scenic"]),
            "--out",
            str(tmp / "cli"),
            "--quiet",
        ]
        for path in inputs["enterprises"]:
            cmd += ["--enterprises", str(path)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        wall = time.perf_counter() - t0
    print(
        f"zoning blocks: {len(p):,} plots, {inputs['n']:,} enterprises x "
        f"{len(inputs['enterprises'])} years; {len(out.blocks):,} blocks, "
        f"{len(out.freed_sites):,} freed sites"
    )
    print("| stage | s |\n|---|---|")
    for stage, seconds in timings.items():
        print(f"| {stage} | {seconds:.2f} |")
    print(f"| **total (in process, best of {args.repeat})** | **{total:.2f}** |")
    print(f"| CPU time of this process in that run (the forked writer's not counted) | {cpu:.2f} |")
    print(f"| command in a fresh process (wall) | {wall:.2f} |")


if __name__ == "__main__":
    main()
